"""A new AWS user's first Generate works: lifecycle by date, a live default, and the message a
dead model gets. The AWS path runs over real HTTP: moto's S3, and the local endpoint serving
both InvokeModel and the control plane's ListFoundationModels (AWS_ENDPOINT_URL_BEDROCK)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from gallery_kit.bedrock.families import MODELS, GenerationRequest
from gallery_kit.bedrock.lifecycle import ModelCatalog
from gallery_kit.bedrock.runtime import BedrockGenerator
from gallery_kit.cli.serve import banner
from gallery_kit.errors import GenerationError, ModelUnavailable
from gallery_kit.gallery import Gallery
from gallery_kit.settings import load_settings
from gallery_kit.stores.local import LocalStore
from gallery_kit.stores.outbox import Outbox
from tests.support.bedrock import MESSAGES, BedrockEndpoint, Reply, foundation_model
from tests.support.cli_runner import gk, one_line_error

NOVA = "amazon.nova-canvas-v1:0"
TITAN = "amazon.titan-image-generator-v2:0"
CORE = "stability.stable-image-core-v1:1"
ULTRA = "stability.stable-image-ultra-v1:1"
SD35 = "stability.sd3-5-large-v1:0"
OMNI = "us.amazon.nova-2-omni-v1:0"
TODAY = date(2026, 12, 1)
BEFORE_EOL = date(2026, 5, 1)
DAY = timedelta(days=1)


def at(day: date) -> ModelCatalog:
    """The built-in table on ``day`` (no network)."""
    return ModelCatalog(offline=True, clock=lambda: day)


# --- lifecycle by date --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_id", "day", "status"),
    [
        (NOVA, date(2026, 3, 30) - DAY, "active"),
        (NOVA, date(2026, 3, 30), "legacy"),
        (NOVA, date(2026, 9, 30) - DAY, "legacy"),
        (NOVA, date(2026, 9, 30), "end-of-life"),
        (NOVA, TODAY, "end-of-life"),
        (TITAN, date(2026, 6, 30) - DAY, "active"),
        (TITAN, date(2026, 6, 30), "end-of-life"),
        (CORE, TODAY, "active"),
        (OMNI, TODAY, "preview"),
    ],
)
def test_status_follows_the_dates(model_id: str, day: date, status: str) -> None:
    assert MODELS[model_id].status_on(day) == status
    assert at(day).state(model_id).status == status


def test_the_default_by_the_built_in_table_follows_the_date() -> None:
    assert at(date(2026, 9, 30) - DAY).default_choice().model_id == NOVA
    choice = at(date(2026, 9, 30)).default_choice()
    assert (choice.model_id, choice.region) == (CORE, "us-west-2")
    assert choice.reason == (
        "Amazon Nova Canvas reached end of life on 2026-09-30; using Stable Image Core (us-west-2)"
    )
    assert at(BEFORE_EOL).builtin_default().model_id == NOVA
    assert at(TODAY).builtin_default().model_id == CORE


def test_preview_is_never_the_default_nor_suggested() -> None:
    catalog = at(TODAY)
    assert catalog.state(OMNI).usable
    alternative = catalog.live_alternative(NOVA)
    assert alternative is not None
    assert alternative.model_id == CORE
    after_core = catalog.live_alternative(CORE)
    assert after_core is not None
    assert after_core.model_id == ULTRA


# --- the default, asked of Bedrock --------------------------------------------------------------


def test_the_listing_decides_where_it_is_allowed(bedrock: BedrockEndpoint) -> None:
    # Today's listing: Nova Canvas is gone from us-east-1.
    choice = ModelCatalog().default_choice()
    assert (choice.model_id, choice.region) == (CORE, "us-west-2")
    assert "reached end of life on 2026-09-30" in choice.reason
    # An account that may still call it (listed as LEGACY): Nova Canvas stays the default.
    bedrock.foundation_models["us-east-1"] = [foundation_model(NOVA, "LEGACY", region="us-east-1")]
    listed = ModelCatalog().default_choice()
    assert (listed.model_id, listed.region) == (NOVA, "us-east-1")
    assert listed.reason == "Using Amazon Nova Canvas (Legacy in us-east-1)"
    assert {r.region for r in bedrock.control_requests} == {"us-east-1", "us-west-2"}


def test_without_the_permission_the_table_for_today_decides(bedrock: BedrockEndpoint) -> None:
    bedrock.foundation_models_reply = Reply.error("AccessDeniedException", MESSAGES["list_denied"])
    assert ModelCatalog(clock=lambda: BEFORE_EOL).default_choice().model_id == NOVA
    assert ModelCatalog().default_choice().model_id == CORE


def test_the_next_live_model_in_order(bedrock: BedrockEndpoint) -> None:
    bedrock.foundation_models["us-west-2"] = [foundation_model(SD35)]
    choice = ModelCatalog().default_choice()
    assert choice.model_id == SD35
    bedrock.foundation_models["us-west-2"] = [foundation_model(ULTRA), foundation_model(SD35)]
    assert ModelCatalog().default_choice().model_id == ULTRA


def test_nothing_live_says_so_and_names_the_region_setting(bedrock: BedrockEndpoint) -> None:
    choice = ModelCatalog(region="eu-west-1").default_choice()
    assert choice.model_id == CORE
    assert "BEDROCK_REGION=eu-west-1" in choice.reason
    assert "no other image model is listed as live" in choice.reason


def test_an_explicit_model_wins_even_a_dead_one(bedrock: BedrockEndpoint) -> None:
    choice = ModelCatalog().default_choice(NOVA)
    assert choice.explicit
    assert choice.model_id == NOVA
    assert "set by BEDROCK_MODEL_ID" in choice.reason
    assert "Stable Image Core (us-west-2) works instead" in choice.reason


def test_serve_says_which_model_and_why(bedrock: BedrockEndpoint, bucket: str) -> None:
    line = banner(load_settings(), host="127.0.0.1", port=8866)
    assert line.count("\n") == 0
    assert "http://127.0.0.1:8866/" in line
    assert (
        "Amazon Nova Canvas reached end of life on 2026-09-30; using Stable Image Core (us-west-2)"
    ) in line


# --- the command line ---------------------------------------------------------------------------


def test_generate_with_no_model_setting_uses_the_live_default(
    tmp_path: Path, bucket: str, bedrock: BedrockEndpoint
) -> None:
    run = gk("generate", "a lighthouse at dusk", "--json", cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert run.row["model_id"] == CORE
    (sent,) = bedrock.requests
    assert (sent.model_id, sent.region) == (CORE, "us-west-2")
    assert bedrock.violations == []


def test_models_json_marks_exactly_one_default(
    tmp_path: Path, bucket: str, bedrock: BedrockEndpoint
) -> None:
    run = gk("models", "--json", cwd=tmp_path)
    assert run.code == 0, run.stderr
    rows = {row["model_id"]: row for row in run.rows}
    assert [m for m, row in rows.items() if row["default"]] == [CORE]
    assert rows[NOVA]["status"] == "end-of-life"
    assert rows[OMNI]["status"] == "preview"
    assert {row["status"] for row in rows.values()} <= {
        "active",
        "legacy",
        "end-of-life",
        "preview",
        "unavailable",
    }
    for field in ("name", "family", "region", "end_of_life", "price_per_image_usd", "notes"):
        assert all(field in row for row in rows.values())


def test_models_offline_uses_the_table_for_today(tmp_path: Path) -> None:
    run = gk("models", "--json", cwd=tmp_path)
    rows = {row["model_id"]: row for row in run.rows}
    assert rows[NOVA]["status"] == "end-of-life"
    assert [m for m, row in rows.items() if row["default"]] == [CORE]
    human = gk("models", cwd=tmp_path)
    assert human.stdout.splitlines()[0].startswith(f"default: {CORE} - Amazon Nova Canvas")


def test_an_explicit_dead_model_is_sent_and_the_message_names_the_flag(
    tmp_path: Path, bucket: str, bedrock: BedrockEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEDROCK_MODEL_ID", NOVA)
    bedrock.always(Reply.end_of_life())
    run = gk("generate", "a cat", "--width", "512", "--height", "512", cwd=tmp_path)
    assert run.code == 1
    line = one_line_error(run)
    assert "end of its life" in line
    assert f"--model {CORE}" in line
    assert len(bedrock.requests) == 1


# --- the error names the live model, and carries it for the one-click switch -------------------


def _gallery(tmp_path: Path, catalog: ModelCatalog, region: str | None = None) -> Gallery:
    return Gallery(
        BedrockGenerator(region=region, catalog=catalog, sleep=lambda _s: None),
        LocalStore(tmp_path / "store"),
        Outbox(tmp_path / "outbox"),
        catalog=catalog,
    )


@pytest.mark.parametrize(
    "reply",
    [Reply.end_of_life(), Reply.legacy(), Reply.marketplace_denied(), Reply.invalid_model_id()],
    ids=["end-of-life", "legacy", "marketplace", "wrong-region"],
)
def test_dead_model_errors_suggest_the_live_model(
    reply: Reply, tmp_path: Path, bedrock: BedrockEndpoint
) -> None:
    bedrock.always(reply)
    gallery = _gallery(tmp_path, ModelCatalog())
    with pytest.raises(GenerationError) as caught:
        gallery.generate(GenerationRequest("a cat", model_id=NOVA, width=512, height=512))
    assert caught.value.suggested_model_id == CORE
    assert f"--model {CORE}" in str(caught.value)
    assert "BEDROCK_REGION" not in str(caught.value).split("or set")[-1]


def test_a_region_setting_that_would_misroute_the_live_model_is_named(
    tmp_path: Path, bedrock: BedrockEndpoint
) -> None:
    bedrock.always(Reply.end_of_life())
    bedrock.foundation_models["us-east-1"] = [foundation_model(CORE, region="us-east-1")]
    catalog = ModelCatalog(region="us-east-1")
    gallery = _gallery(tmp_path, catalog, region="us-east-1")
    with pytest.raises(ModelUnavailable) as caught:
        gallery.generate(GenerationRequest("a cat", model_id=NOVA, width=512, height=512))
    # Core is listed in us-east-1 here, so the region setting may stay.
    assert f"--model {CORE}, or set BEDROCK_MODEL_ID={CORE}." in str(caught.value)
    bedrock.foundation_models["us-east-1"] = []
    catalog.refresh()
    with pytest.raises(ModelUnavailable) as again:
        gallery.generate(GenerationRequest("a cat", model_id=NOVA, width=512, height=512))
    assert again.value.suggested_model_id == CORE
    assert "BEDROCK_REGION=us-west-2 (or leave it unset)" in str(again.value)
