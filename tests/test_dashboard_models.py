"""The real Voilà dashboard in Debian's Chromium, AWS mode (moto + the local Bedrock endpoint):
a new user's live default, and the one-click switch from a dead model to a live one."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.support.bedrock import BedrockEndpoint, Reply
from tests.support.browser import (
    GENERATE,
    PROMPT,
    THUMBS,
    ServedApp,
    artifact_path,
    assert_no_traceback,
    open_dashboard,
    store_ids,
    thumb_ids,
)

pytestmark = pytest.mark.browser
expect.set_options(timeout=20_000)

NOVA = "amazon.nova-canvas-v1:0"
CORE = "stability.stable-image-core-v1:1"
USE_LIVE = ".gk-use-live-model"
#: The model picker's chosen option (ipywidgets' <select> values are indices, not ids).
CHOSEN = ".gk-model select option:checked"


def test_new_user_default_is_live_and_said_in_the_header(
    aws_app: ServedApp, dash_page: Page, bedrock: BedrockEndpoint
) -> None:
    page = dash_page
    open_dashboard(page, aws_app)
    expect(page.locator(".gk-model-note")).to_have_text(
        "Amazon Nova Canvas reached end of life on 2026-09-30; using Stable Image Core (us-west-2)"
    )
    expect(page.locator(CHOSEN)).to_have_text("Stable Image Core (us-west-2)")
    first_line = aws_app.log_text().splitlines()[0]
    assert "using Stable Image Core (us-west-2)" in first_line
    page.fill(PROMPT, "a first picture, first click")
    page.click(GENERATE)
    expect(page.locator(THUMBS).first.locator("figcaption")).to_have_text(
        "a first picture, first click", timeout=45_000
    )
    assert [r.model_id for r in bedrock.requests] == [CORE]
    expect(page.locator(".gk-error")).to_be_hidden()
    expect(page.locator(USE_LIVE)).to_be_hidden()


def test_one_click_from_a_dead_model_to_the_live_one(
    nova_canvas: str, aws_app: ServedApp, dash_page: Page, bedrock: BedrockEndpoint
) -> None:
    page = dash_page
    open_dashboard(page, aws_app)
    # BEDROCK_MODEL_ID wins; this account's listing still has it (Legacy).
    expect(page.locator(CHOSEN)).to_have_text("Amazon Nova Canvas (us-east-1) · Legacy")
    bedrock.script(Reply.end_of_life())
    page.select_option(".gk-style select", label="Photorealism")
    prompt = "a lantern on a jetty at dusk"
    page.fill(PROMPT, prompt)
    page.click(GENERATE)

    error = page.locator(".gk-error")
    expect(error).to_contain_text("has reached the end of its life", timeout=45_000)
    expect(error).to_contain_text(f"--model {CORE}")
    button = page.locator(USE_LIVE)
    expect(button).to_be_visible()
    expect(button).to_contain_text("Use Stable Image Core and try again")
    expect(page.locator(GENERATE)).to_be_enabled()
    assert [r.model_id for r in bedrock.requests] == [NOVA]  # nothing sent twice unasked
    assert_no_traceback(page)
    page.screenshot(path=str(artifact_path("one-click-offer")))

    button.click()
    expect(page.locator(THUMBS).first.locator("figcaption")).to_have_text(prompt, timeout=45_000)
    status = page.locator(".gk-status")
    expect(status).to_contain_text("Saved 1 image")
    expect(status).to_contain_text(
        "Switched to Stable Image Core; dropped style PHOTOREALISM, cfg scale 6.5."
    )
    expect(page.locator(CHOSEN)).to_have_text("Stable Image Core (us-west-2)")
    expect(error).to_be_hidden()
    expect(button).to_be_hidden()
    assert [r.model_id for r in bedrock.requests] == [NOVA, CORE]
    assert bedrock.requests[1].body["prompt"] == prompt
    stored = store_ids(aws_app.gallery())
    assert thumb_ids(page) == stored
    assert aws_app.gallery().get(stored[0]).model_id == CORE
    assert bedrock.violations == []
