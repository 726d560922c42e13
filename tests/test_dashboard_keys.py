"""The real dashboard in Chromium, in AWS mode on moto and on s3rver (a second, filesystem-backed
S3 implementation): a 1,024-character prompt and one in Korean with emoji generate, list, are
found by the filter and show whole in the lightbox."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import (
    GENERATE,
    LIGHTBOX,
    PROMPT,
    THUMBS,
    ServedApp,
    artifact_path,
    assert_no_traceback,
    open_dashboard,
    store_ids,
)

pytestmark = [pytest.mark.browser, pytest.mark.every_s3]
expect.set_options(timeout=20_000)

ENGLISH = ("Lanterns over a harbour at dusk, fishing boats, gulls, soft rain, " * 16)[:1024]
KOREAN = ("비 오는 항구의 등불과 갈매기 🏮🌧️🐦 " * 40)[:1024].strip()


def test_long_prompts_on_this_store(
    s3_impl: str, aws_app: ServedApp, dash_page: Page, bedrock: object
) -> None:
    page = dash_page
    open_dashboard(page, aws_app)
    for made, prompt in enumerate((ENGLISH, KOREAN), start=1):
        page.fill(PROMPT, prompt)
        page.click(GENERATE)
        expect(page.locator(THUMBS)).to_have_count(made, timeout=45_000)
        expect(page.locator(".gk-status")).to_contain_text("Saved 1 image")
        expect(page.locator(".gk-error")).to_be_hidden()
    stored = store_ids(aws_app.gallery())
    assert len(stored) == 2
    expect(page.locator(THUMBS)).to_have_count(2)

    # The filter finds each by a word from its caption.
    page.fill(".gk-filter input", "갈매기")
    expect(page.locator(THUMBS)).to_have_count(1)
    expect(page.locator(THUMBS).first.locator("figcaption")).to_contain_text("갈매기")
    page.locator(THUMBS).first.click()
    expect(page.locator(f"{LIGHTBOX} .gk-detail-prompt")).to_have_text(KOREAN)
    page.screenshot(path=str(artifact_path(f"long-prompts-{s3_impl}")))
    page.keyboard.press("Escape")
    expect(page.locator(LIGHTBOX)).to_be_hidden()
    page.fill(".gk-filter input", "harbour")
    expect(page.locator(THUMBS)).to_have_count(1)
    expect(page.locator(THUMBS).first.locator("figcaption")).to_contain_text("Lanterns")
    page.locator(THUMBS).first.click()
    expect(page.locator(f"{LIGHTBOX} .gk-detail-prompt")).to_have_text(ENGLISH)
    assert aws_app.gallery().pending() == []  # nothing left waiting in the outbox
    assert_no_traceback(page)
