"""The team views in the real dashboard (Voilà in Chromium, AWS mode on moto + the local Bedrock
endpoint): the cost in the status line, who made an image in the lightbox, the duplicate notice
with "Generate again", and the Spend view (screenshotted: test-artifacts/team-*.png)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import (
    GENERATE,
    LIGHTBOX,
    PROMPT,
    ROOT,
    THUMBS,
    ServedApp,
    artifact_path,
    assert_no_traceback,
    open_dashboard,
)

pytestmark = pytest.mark.browser
DOCS = ROOT / "docs"
expect.set_options(timeout=20_000)


@pytest.fixture
def as_dana(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GALLERY_USER", "dana")


def test_cost_who_duplicates_and_spend(as_dana: None, aws_app: ServedApp, dash_page: Page) -> None:
    page = dash_page
    open_dashboard(page, aws_app)
    page.fill(PROMPT, "A brass telescope on a ship's deck")
    page.locator(".gk-random-seed input").uncheck()
    page.fill(".gk-seed input", "321")
    page.click(GENERATE)
    expect(page.locator(THUMBS)).to_have_count(1, timeout=45_000)
    expect(page.locator(".gk-status")).to_contain_text("spent $0.04")

    # The same request with the same seed: no call; the notice offers both ways on.
    page.click(GENERATE)
    notice = page.locator(".gk-duplicate")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("by dana")
    expect(page.locator(THUMBS)).to_have_count(1)
    page.screenshot(path=str(artifact_path("team-duplicate")))
    page.locator(".gk-show-duplicate").click()
    expect(page.locator(f"{LIGHTBOX} .gk-made-by")).to_have_text("Made by dana · $0.04")
    page.keyboard.press("Escape")
    page.locator(".gk-generate-again").click()
    expect(page.locator(THUMBS)).to_have_count(2, timeout=45_000)
    expect(notice).to_be_hidden()

    # The Spend view: today's total, the chart, the top user.
    page.locator(".gk-spend-toggle").click()
    spend = page.locator(".gk-spend")
    expect(spend.locator(".gk-spend-chart svg")).to_be_visible()
    expect(spend.locator(".gk-spend-totals")).to_contain_text("$0.08")
    expect(spend.locator(".gk-spend-top")).to_contain_text("dana")
    spend.screenshot(path=str(artifact_path("team-spend")))
    spend.screenshot(path=str(DOCS / "spend.png"))  # the README's picture
    page.screenshot(path=str(artifact_path("team-spend-page")))
    assert_no_traceback(page)
