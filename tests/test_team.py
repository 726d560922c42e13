"""A team's gallery, the pure parts and offline: who made an image, what it cost, the spend
ledger and its sums, budget settings, and no paying twice (fixed vs random seed, --again).
AWS mode (moto's S3 and STS, the local Bedrock endpoint) is in test_team_aws.py."""

from __future__ import annotations

import getpass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from gallery_kit.bedrock.families import GenerationRequest, get_model
from gallery_kit.errors import BudgetExceeded, ConfigError, InvalidRequest
from gallery_kit.gallery import Gallery
from gallery_kit.records import MAX_SEGMENT_BYTES, new_image_id
from gallery_kit.settings import load_settings
from gallery_kit.team.budgets import SessionMeter, check_daily, check_session
from gallery_kit.team.costs import estimate
from gallery_kit.team.dedupe import request_hash
from gallery_kit.team.identity import MAX_NAME, clean_name, name_from_arn, resolve_user
from gallery_kit.team.ledger import LedgerEntry, entry_from_key, entry_key
from gallery_kit.team.spend import Spend, rows
from tests.support.cli_runner import RECORD_FIELDS, gk, one_line_error

CORE = "stability.stable-image-core-v1:1"
OMNI = "us.amazon.nova-2-omni-v1:0"


# --- who: the pure order and the ARN ------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "name"),
    [
        ("arn:aws:sts::123456789012:assumed-role/painter/alice@example.com", "alice@example.com"),
        (
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_1a2b/bob",
            "bob",
        ),
        ("arn:aws:iam::123456789012:user/studio/carol", "carol"),
        ("arn:aws:sts::123456789012:federated-user/dave", "dave"),
        ("arn:aws:iam::123456789012:root", "root"),
        ("arn:aws:s3:::bucket", None),
        ("not an arn", None),
    ],
)
def test_a_readable_name_out_of_the_callers_arn(arn: str, name: str | None) -> None:
    assert name_from_arn(arn) == name


def test_identity_sources_in_order() -> None:
    asked: list[str] = []

    def aws() -> str | None:
        asked.append("aws")
        return "from-aws"

    def pick(user: str | None, hub: str | None, aws_name: object = aws) -> str:
        return resolve_user(
            gallery_user=user, hub_user=hub, aws_name=aws_name, fallback=lambda: "os-user"
        )  # type: ignore[arg-type]  # aws_name: the callable or None, as parametrised here

    assert pick("zoe", "hub-user") == "zoe"
    assert pick(None, "hub-user") == "hub-user"
    assert pick("  ", "") == "from-aws"
    assert asked == ["aws"]  # asked only when both settings are empty
    assert pick(None, None, aws_name=lambda: None) == "os-user"  # AWS failed: quietly on
    assert pick(None, None, aws_name=None) == "os-user"  # offline: AWS is never asked
    assert clean_name("a\x00b\n" + "x" * 100) == ("ab" + "x" * 100)[:MAX_NAME]


def test_offline_records_say_who_made_them_in_that_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def made_by() -> str:
        gallery = Gallery.from_settings(load_settings())
        return (
            gallery.generate(GenerationRequest("a fox", width=320, height=320))
            .records[0]
            .created_by
        )

    assert made_by() == getpass.getuser()
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-ann")
    assert made_by() == "hub-ann"
    monkeypatch.setenv("GALLERY_USER", "zoe")
    assert made_by() == "zoe"
    gallery = Gallery.from_settings(load_settings())
    assert [r.created_by for r in gallery.search("fox", by="ZOE").records] == ["zoe"]
    assert gallery.search("fox", by="hub-ann").total == 1
    assert gallery.search("fox", by="nobody").total == 0


# --- what it costs --------------------------------------------------------------------------


def test_the_estimate_is_the_price_table_and_nothing_offline() -> None:
    core = estimate(get_model(CORE), 1024, 1024, "standard", 3, offline=False)
    assert (core.per_image, core.total, core.is_estimate) == (0.04, 0.12, False)
    assert estimate(get_model(OMNI), 1024, 1024, None, 1, offline=False).is_estimate
    assert estimate(get_model(CORE), 1024, 1024, None, 3, offline=True).total == 0
    nova = get_model("amazon.nova-canvas-v1:0")
    assert estimate(nova, 2048, 1024, "premium", 2, offline=False).total == 0.16


# --- the ledger and the sums ----------------------------------------------------------------


def _entry(when: datetime, user: str = "ann", model: str = CORE, n: int = 1) -> LedgerEntry:
    return LedgerEntry(new_image_id(when), user, model, n, 40_000 * n)


def test_a_ledger_key_holds_its_figures_and_stays_within_the_part_limit() -> None:
    entry = LedgerEntry(new_image_id(), "정" * MAX_NAME, OMNI, 3, 120_000, is_estimate=True)
    key = entry_key(entry)
    assert key.startswith(f"gallery-kit/ledger/{entry.day.isoformat()}/{entry.id}.")
    assert all(len(part.encode()) <= MAX_SEGMENT_BYTES for part in key.split("/"))
    assert entry_from_key(key) == entry
    assert entry_from_key("gallery-kit/ledger/2026-12-01/not-an-id.e30") is None
    assert entry_from_key(f"gallery-kit/ledger/2026-12-01/{entry.id}.bm90IGpzb24") is None


def test_spend_sums_by_day_user_and_model_and_the_summary() -> None:
    today = date(2026, 12, 3)  # a Thursday
    noon = datetime(2026, 12, 3, 12, tzinfo=UTC)
    entries = [
        _entry(noon, "ann", n=2),
        _entry(noon - timedelta(days=1), "bob", "amazon.nova-canvas-v1:0"),
        _entry(noon - timedelta(days=3), "ann"),  # Monday: this week
        _entry(noon - timedelta(days=4), "bob"),  # last month, last week
        _entry(noon - timedelta(days=40), "carl"),  # out of the chart
    ]
    by_day = rows(entries, "day")
    assert [(r.key, r.images, r.cost_usd) for r in by_day][-3:] == [
        ("2026-11-30", 1, 0.04),
        ("2026-12-02", 1, 0.04),
        ("2026-12-03", 2, 0.08),
    ]
    assert [(r.key, r.images) for r in rows(entries, "user")] == [
        ("ann", 3),
        ("bob", 2),
        ("carl", 1),
    ]
    assert rows(entries, "model")[0].key == CORE
    spend = Spend(today, entries)
    assert (spend.today_total.images, spend.today_total.cost_usd) == (2, 0.08)
    assert spend.week_total.images == 4
    assert spend.month_total.images == 3
    chart = spend.by_day("user")
    assert len(chart) == 30
    assert list(chart)[-1] == "2026-12-03"
    assert chart["2026-12-03"] == {"ann": 0.08}
    assert chart["2026-12-01"] == {}
    assert [u.key for u in spend.top_users()] == ["ann", "bob"]
    assert Spend.first_day(today) == date(2026, 11, 4)


# --- budgets ---------------------------------------------------------------------------------


def test_a_budget_refusal_names_the_budget_the_spend_the_cost_and_the_setting() -> None:
    check_daily(1.0, 960_000, 40_000)  # exactly the budget: allowed
    with pytest.raises(BudgetExceeded) as daily:
        check_daily(1.0, 960_000, 80_000)
    assert str(daily.value) == (
        "The daily budget (GALLERY_DAILY_BUDGET_USD) is $1.00: $0.96 is spent today (UTC) and "
        "this request would cost $0.08; nothing was sent. Raise GALLERY_DAILY_BUDGET_USD, or "
        "wait for 00:00 UTC."
    )
    with pytest.raises(BudgetExceeded, match=r"GALLERY_SESSION_BUDGET_USD\) is \$0.10: \$0.08"):
        check_session(0.10, 80_000, 40_000)
    assert daily.value.exit_code == 2
    assert isinstance(daily.value, InvalidRequest)
    meter = SessionMeter()
    # The first is still in flight when the second asks.
    with meter.paying(0.10, 80_000), pytest.raises(BudgetExceeded), meter.paying(0.10, 40_000):
        pass
    meter.add(80_000)
    assert meter.spent_micros == 80_000
    assert meter.in_flight_micros == 0


@pytest.mark.parametrize("name", ["GALLERY_DAILY_BUDGET_USD", "GALLERY_SESSION_BUDGET_USD"])
@pytest.mark.parametrize("value", ["lots", "-1", "nan", "inf"])
def test_a_bad_budget_is_one_line_naming_the_setting(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({name: value, "GALLERY_ENV_FILE": ""})
    assert str(caught.value).startswith(f"{name}={value!r} is not an amount of US dollars")
    assert "\n" not in str(caught.value)


def test_budgets_read_as_dollars() -> None:
    s = load_settings(
        {
            "GALLERY_DAILY_BUDGET_USD": "$12.50",
            "GALLERY_SESSION_BUDGET_USD": "0",
            "GALLERY_ENV_FILE": "",
        }
    )
    assert (s.daily_budget_usd, s.session_budget_usd) == (12.5, 0.0)


# --- no paying twice -------------------------------------------------------------------------


def test_a_request_hash_needs_a_fixed_seed_and_every_setting_counts() -> None:
    base = GenerationRequest("a fox", seed=7, cfg_scale=6.5)
    assert request_hash(CORE, base.with_(seed=None)) is None
    digest = request_hash(CORE, base)
    assert digest == request_hash(CORE, GenerationRequest("a fox", seed=7, cfg_scale=6.5))
    changed = [
        base.with_(prompt="a cat"),
        base.with_(negative_prompt="blur"),
        base.with_(style="PHOTOREALISM"),
        base.with_(width=512),
        base.with_(quality="premium"),
        base.with_(cfg_scale=7.0),
        base.with_(count=2),
        base.with_(seed=8),
    ]
    assert len({request_hash(CORE, r) for r in changed} | {digest}) == len(changed) + 1
    assert request_hash("amazon.nova-canvas-v1:0", base) != digest


def test_offline_duplicates_fixed_seed_random_seed_again_and_trash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GALLERY_USER", "ann")
    gallery = Gallery.from_settings(load_settings())
    fixed = GenerationRequest("a lighthouse", width=320, height=320, count=2, seed=11)
    assert gallery.find_duplicate(fixed) is None
    first = gallery.generate(fixed)
    assert first.duplicate is None
    assert len(first.records) == 2

    monkeypatch.setenv("GALLERY_USER", "bob")  # another user, another session
    other = Gallery.from_settings(load_settings())
    found = other.find_duplicate(fixed)
    assert found is not None
    assert found.ids == [r.id for r in first.records]
    assert found.made == f"Made on {first.records[0].created_at[:10]} by ann"
    again = other.generate(fixed)
    assert again.duplicate is not None
    assert [r.id for r in again.records] == found.ids
    assert len(other.page(limit=100).records) == 2  # nothing new was made

    random_seed = fixed.with_(seed=None)
    assert other.find_duplicate(random_seed) is None
    one, two = other.generate(random_seed), other.generate(random_seed)
    assert one.duplicate is None
    assert two.duplicate is None
    assert len(other.page(limit=100).records) == 6

    forced = other.generate(fixed, again=True)
    assert forced.duplicate is None
    assert forced.records[0].created_by == "bob"
    found = other.find_duplicate(fixed)
    assert found is not None
    assert found.ids == [r.id for r in forced.records]

    other.trash([forced.records[1].id])  # no longer all listed: not a duplicate
    assert other.find_duplicate(fixed) is None
    assert other.generate(fixed).duplicate is None
    assert other.find_duplicate(fixed) is not None
    assert [e.images for e in other.spend_entries()] == [2, 2, 2, 2, 2]


def test_offline_spend_counts_images_at_no_cost() -> None:
    gallery = Gallery.from_settings(load_settings())
    for count in (1, 3):
        gallery.generate(GenerationRequest("a fox", width=320, height=320, count=count))
    (row,) = gallery.spend(by="user")
    assert (row.key, row.images, row.cost_usd) == (getpass.getuser(), 4, 0.0)
    assert gallery.session_spend_usd == 0.0
    summary = gallery.spend_summary()
    assert summary.today_total.images == 4


# --- the command line, offline ---------------------------------------------------------------


def test_cli_duplicate_prints_the_existing_records_and_again_makes_new_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GALLERY_USER", "ann")
    args = ("generate", "a red fox", "--seed", "5", "--count", "2", "--width", "320",
            "--height", "320")  # fmt: skip
    first = gk(*args, "--json", cwd=tmp_path)
    assert first.code == 0
    assert first.stderr == ""
    for row in first.rows:
        assert row.keys() >= RECORD_FIELDS | {"created_by", "cost_usd"}
        assert (row["created_by"], row["cost_usd"]) == ("ann", 0)
        assert isinstance(row["cost_usd"], float)

    again = gk(*args, "--json", cwd=tmp_path)
    assert again.code == 0
    assert again.rows == first.rows
    day = first.rows[0]["created_at"][:10]
    assert one_line_error_free(again.stderr) == (
        f"Made on {day} by ann — use --again to generate again"
    )
    human = gk(*args, cwd=tmp_path)
    assert human.code == 0
    assert first.rows[0]["id"] in human.stdout

    forced = gk(*args, "--again", "--json", cwd=tmp_path)
    assert forced.code == 0
    assert forced.stderr == ""
    assert {r["id"] for r in forced.rows}.isdisjoint({r["id"] for r in first.rows})

    spend = gk("spend", "--json", cwd=tmp_path)
    assert spend.code == 0
    assert spend.rows == [{"key": day, "images": 4, "cost_usd": 0.0}]
    by_user = gk("spend", "--by", "user", "--since", day, "--until", day, "--json", cwd=tmp_path)
    assert by_user.rows == [{"key": "ann", "images": 4, "cost_usd": 0.0}]
    made_by = gk("search", "fox", "--by", "ann", "--count", cwd=tmp_path)
    assert made_by.stdout.strip() == "4"


def one_line_error_free(stderr: str) -> str:
    """The single note line on stderr (not an error: no ``gallery-kit:`` prefix)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_cli_spend_refuses_bad_input_with_exit_2(tmp_path: Path) -> None:
    assert gk("spend", "--by", "week", cwd=tmp_path).code == 2
    bad = gk("spend", "--since", "yesterday", cwd=tmp_path)
    assert bad.code == 2
    assert "--since 'yesterday' is not a date" in one_line_error(bad)
    swapped = gk("spend", "--since", "2026-12-02", "--until", "2026-12-01", cwd=tmp_path)
    assert swapped.code == 2


def test_cli_bad_budget_setting_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GALLERY_SESSION_BUDGET_USD", "ten")
    run = gk("generate", "a fox", cwd=tmp_path)
    assert run.code == 2
    assert "GALLERY_SESSION_BUDGET_USD='ten' is not an amount" in one_line_error(run)


def test_a_seed_the_gallery_drew_is_never_a_duplicate() -> None:
    """The dashboard prepares a request (drawing its random seed) before generating it."""
    gallery = Gallery.from_settings(load_settings())
    _spec, prepared = gallery.prepare(GenerationRequest("a fox", width=320, height=320))
    assert prepared.seed is not None
    assert prepared.seed_drawn
    assert request_hash(CORE, prepared) is None
    first, second = gallery.generate(prepared), gallery.generate(prepared)
    assert first.duplicate is None
    assert second.duplicate is None
    assert gallery.find_duplicate(prepared) is None
    # The same seed typed in (or "Use these settings" of a record) is a fixed seed.
    typed = prepared.with_(seed_drawn=False)
    assert typed == prepared
    assert gallery.generate(typed).duplicate is None
    assert gallery.generate(typed).duplicate is not None
