"""A team's gallery in AWS mode, over real HTTP: moto's S3 and STS, the local Bedrock endpoint.
Who made an image (STS), what it cost and the spend read back (bounded S3 requests), both
budgets (two servers racing for the daily one), and duplicates found with one S3 request."""

from __future__ import annotations

import dataclasses
import getpass
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from gallery_kit.bedrock.families import GenerationRequest
from gallery_kit.errors import BudgetExceeded
from gallery_kit.gallery import Gallery
from gallery_kit.settings import load_settings
from gallery_kit.team import sts
from gallery_kit.team.spend import Spend
from tests.support.bedrock import BedrockEndpoint, Reply
from tests.support.cli_runner import gk, one_line_error

CORE = "stability.stable-image-core-v1:1"
REQUEST = GenerationRequest("a lighthouse at dusk", model_id=CORE)


@pytest.fixture(autouse=True)
def aws_team(
    bucket: str, bedrock: BedrockEndpoint, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """AWS mode on Stable Image Core ($0.04 an image), STS answered by moto."""
    monkeypatch.setenv("BEDROCK_MODEL_ID", CORE)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_server)
    sts.forget()
    yield
    sts.forget()


def server(tmp_path: Path, name: str = "a") -> Gallery:
    """One server of the gallery: its own data folder (outbox, search index), the same bucket."""
    settings = dataclasses.replace(load_settings(), data_dir=tmp_path / f"server-{name}")
    return Gallery.from_settings(settings)


def s3_requests(gallery: Gallery) -> list[str]:
    """Every request the gallery's S3 client sends from now on (its operation names)."""
    sent: list[str] = []

    def count(model: Any, **_: Any) -> None:
        sent.append(model.name)

    gallery.store.client.meta.events.register("before-call.s3", count)  # type: ignore[attr-defined]  # S3Store
    return sent


def model_calls(bedrock: BedrockEndpoint) -> int:
    return len(bedrock.requests)


# --- who ------------------------------------------------------------------------------------


def test_identity_in_aws_mode_sources_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No GALLERY_USER, no hub: the caller's identity (moto answers user/moto).
    assert server(tmp_path).generate(REQUEST).records[0].created_by == "moto"
    # Once per process: a broken STS endpoint later changes nothing until asked afresh.
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
    assert server(tmp_path, "b").created_by == "moto"
    sts.forget()
    # STS unreachable: quietly the OS user.
    assert server(tmp_path, "c").created_by == getpass.getuser()

    # An assumed role (e.g. IAM Identity Center): its session name.
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", str(boto3.client("s3").meta.endpoint_url))
    role = boto3.client("sts").assume_role(
        RoleArn="arn:aws:iam::123456789012:role/painter", RoleSessionName="alice@example.com"
    )["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", role["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", role["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", role["SessionToken"])
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    sts.forget()
    assert server(tmp_path, "d").generate(REQUEST).records[0].created_by == "alice@example.com"

    # The settings win over AWS, and STS is not asked for them.
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
    sts.forget()
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-ann")
    assert server(tmp_path, "e").created_by == "hub-ann"
    monkeypatch.setenv("GALLERY_USER", "zoe")
    gallery = server(tmp_path, "f")
    assert gallery.generate(REQUEST).records[0].created_by == "zoe"
    assert not sts._asked  # that STS was never asked is the point
    assert gallery.search(by="alice@example.com").total == 1
    assert gallery.search(by="moto").total == 1


# --- what it cost, read back --------------------------------------------------------------


def test_spend_sums_against_the_records_in_bounded_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GALLERY_USER", "ann")
    ann = server(tmp_path, "ann")
    made = ann.generate(REQUEST.with_(count=3)).records
    monkeypatch.setenv("GALLERY_USER", "bob")
    bob = server(tmp_path, "bob")
    made += bob.generate(REQUEST).records
    assert {r.cost_usd for r in made} == {0.04}
    assert {r.cost_is_estimate for r in made} == {False}
    assert ann.session_spend_usd == pytest.approx(0.12)
    assert bob.session_spend_usd == pytest.approx(0.04)

    stored = [ann.get(r.id) for r in made]
    total = sum(r.cost_usd for r in stored)
    by_user = {row.key: (row.images, row.cost_usd) for row in ann.spend(by="user")}
    assert by_user == {"ann": (3, pytest.approx(0.12)), "bob": (1, pytest.approx(0.04))}
    (by_model,) = ann.spend(by="model")
    assert (by_model.key, by_model.images, by_model.cost_usd) == (CORE, 4, pytest.approx(total))

    sent = s3_requests(ann)
    (today,) = ann.spend(since=made[0].created_at[:10], by="day")
    assert sent == ["ListObjectsV2"]  # one day: one LIST, not a GET per image
    assert today.images == 4
    sent.clear()
    summary = ann.spend_summary()
    days = (summary.today - Spend.first_day(summary.today)).days + 1
    assert sent == ["ListObjectsV2"] * days  # one LIST a day, whatever the number of images
    assert summary.today_total.cost_usd == pytest.approx(total)
    assert [u.key for u in summary.top_users()] == ["ann", "bob"]
    assert summary.by_day("model")[summary.today.isoformat()] == {CORE: pytest.approx(total)}


# --- budgets --------------------------------------------------------------------------------


def test_two_servers_racing_for_the_daily_budget_overshoot_by_at_most_one_in_flight(
    tmp_path: Path, bedrock: BedrockEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GALLERY_DAILY_BUDGET_USD", "0.20")  # five images of $0.04
    bedrock.always(Reply.delay(0.15))  # the calls overlap
    servers = [server(tmp_path, "a"), server(tmp_path, "b")]
    refusals: list[BudgetExceeded] = []
    start = threading.Barrier(len(servers))

    def keep_generating(gallery: Gallery) -> None:
        start.wait()
        for _ in range(10):
            try:
                gallery.generate(REQUEST)
            except BudgetExceeded as exc:
                refusals.append(exc)
                return

    threads = [threading.Thread(target=keep_generating, args=(g,)) for g in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(refusals) == 2  # each server stopped itself
    spent = servers[0].spent_today_micros()
    calls = model_calls(bedrock)
    # Within the budget, or past it by the one request the other server had in flight.
    assert 200_000 - 40_000 < spent <= 200_000 + 40_000
    assert spent == calls * 40_000  # the ledger holds every paid call, none lost
    records = servers[0].search(limit=100).records
    assert sum(round(r.cost_usd * 1e6) for r in records) == spent
    assert "GALLERY_DAILY_BUDGET_USD" in str(refusals[0])

    # Refused before anything is sent.
    with pytest.raises(BudgetExceeded, match=r"is spent today \(UTC\)"):
        server(tmp_path, "c").generate(REQUEST)
    assert model_calls(bedrock) == calls


def test_the_session_budget_is_one_gallery_objects_spend(
    tmp_path: Path, bedrock: BedrockEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GALLERY_SESSION_BUDGET_USD", "0.10")
    session = server(tmp_path)
    session.generate(REQUEST)
    session.generate(REQUEST)
    assert session.session_spend_usd == pytest.approx(0.08)
    with pytest.raises(BudgetExceeded) as refused:
        session.generate(REQUEST)
    assert str(refused.value) == (
        "This session's budget (GALLERY_SESSION_BUDGET_USD) is $0.10: $0.08 is spent in it and "
        "this request would cost $0.04; nothing was sent. Raise GALLERY_SESSION_BUDGET_USD, or "
        "start a new session."
    )
    assert model_calls(bedrock) == 2
    with pytest.raises(BudgetExceeded):  # three images at once: $0.12
        server(tmp_path, "new").generate(REQUEST.with_(count=3))
    server(tmp_path, "new").generate(REQUEST)  # a new session starts at $0
    assert model_calls(bedrock) == 3


def test_cli_budget_refusal_exits_2_and_sends_nothing_but_a_duplicate_is_free(
    tmp_path: Path, bedrock: BedrockEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GALLERY_DAILY_BUDGET_USD", "0.05")
    monkeypatch.setenv("GALLERY_USER", "ann")
    first = gk("generate", "a fox", "--seed", "3", "--json", cwd=tmp_path)
    assert first.code == 0, first.stderr
    assert (first.row["created_by"], first.row["cost_usd"]) == ("ann", 0.04)
    refused = gk("generate", "a fox", "--json", cwd=tmp_path)
    assert refused.code == 2
    assert refused.stdout == ""
    assert "GALLERY_DAILY_BUDGET_USD" in one_line_error(refused)
    assert model_calls(bedrock) == 1
    same = gk("generate", "a fox", "--seed", "3", "--json", cwd=tmp_path)
    assert same.code == 0
    assert same.rows == first.rows
    assert "use --again to generate again" in same.stderr
    again = gk("generate", "a fox", "--seed", "3", "--again", cwd=tmp_path)
    assert again.code == 2  # --again is a paid call: the budget applies
    assert model_calls(bedrock) == 1
    spend = gk("spend", "--by", "user", "--json", cwd=tmp_path)
    assert spend.rows == [{"key": "ann", "images": 1, "cost_usd": 0.04}]


# --- no paying twice ------------------------------------------------------------------------


def test_a_duplicate_is_found_with_one_s3_request_and_no_model_call(
    tmp_path: Path, bedrock: BedrockEndpoint
) -> None:
    fixed = REQUEST.with_(seed=42, count=2)
    made = server(tmp_path, "a").generate(fixed).records
    other = server(tmp_path, "b")
    sent = s3_requests(other)
    found = other.find_duplicate(fixed)
    assert sent == ["GetObject"]
    assert found is not None
    assert found.ids == [r.id for r in made]
    assert found.created_by == made[0].created_by
    sent.clear()
    assert other.find_duplicate(fixed.with_(seed=None)) is None
    assert sent == []  # a random seed is never looked up
    calls = model_calls(bedrock)
    result = other.generate(fixed)
    assert result.duplicate is not None
    assert model_calls(bedrock) == calls
    assert other.session_spend_usd == 0
    other.purge([made[0].id])
    assert other.find_duplicate(fixed) is None
    assert other.generate(fixed).duplicate is None
    assert model_calls(bedrock) == calls + 2  # Stability: one call per image
