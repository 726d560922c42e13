"""The dashboard follows JupyterLab's light and dark themes (Voilà's ``?theme=dark``) and stays
usable 390 px wide: text of our own is readable on its background in both themes (WCAG's 4.5:1
for the captions, the status line, the picker, the selection bar and the toast), and nothing
is wider than a phone's screen. Screenshots: test-artifacts/theme-*.png."""

from __future__ import annotations

from dataclasses import replace

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import (
    THUMBS,
    VIEWPORT,
    ServedApp,
    artifact_path,
    open_dashboard,
    seed_images,
)

pytestmark = pytest.mark.browser
expect.set_options(timeout=20_000)

#: The contrast of an element's text on the first opaque background behind it.
_CONTRAST = """(sel) => {
  const node = document.querySelector(sel);
  if (!node) return null;
  const rgb = (s) => {
    const m = s.match(/[\\d.]+/g).map(Number);
    return m.length > 3 ? m : [...m, 1];
  };
  const lum = ([r, g, b]) => {
    const f = (c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let bg = null;
  for (let n = node; n && n.nodeType === 1; n = n.parentElement) {
    const c = rgb(getComputedStyle(n).backgroundColor);
    if (c[3] > 0.5) { bg = c; break; }
  }
  bg = bg || [255, 255, 255, 1];
  const fg = rgb(getComputedStyle(node).color);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return { ratio: (a + 0.05) / (b + 0.05), fg: getComputedStyle(node).color, bg: String(bg) };
}"""

CHECKED = [
    ".gk-caption",
    ".gk-status",
    ".gk-board-picker .gk-view",
    ".gk-board-picker .gk-view[aria-pressed='true']",
    ".gk-selection-bar .gk-selection-count",
    ".gk-undo .gk-undo-text",
    ".gk-search-count",
]


def _exercise(page: Page) -> None:
    """Bring up the status line, the selection bar and the toast."""
    first = page.locator(THUMBS).first
    first.locator(".gk-star").click(force=True)
    expect(page.locator(".gk-status")).to_contain_text("Starred 1 image")
    page.locator(f"{THUMBS} .gk-select").nth(1).click(force=True)
    page.locator(f"{THUMBS} .gk-select").nth(2).click(force=True)
    expect(page.locator(".gk-selection-bar")).to_be_visible()
    page.locator(".gk-selection-bar .gk-sel-trash").click()
    expect(page.locator(".gk-undo")).to_be_visible()
    expect(page.locator(THUMBS)).to_have_count(4)
    page.locator(".gk-filter input").fill("lantern")
    expect(page.locator(".gk-search-count")).to_contain_text("4 images match")
    page.locator(f"{THUMBS} .gk-select").first.click(force=True)
    expect(page.locator(".gk-selection-bar")).to_be_visible()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_is_readable_in_both_themes(
    theme: str, fresh_offline_app: ServedApp, chromium: Browser
) -> None:
    seed_images(fresh_offline_app.gallery(), [f"A paper lantern {i}" for i in range(6)])
    context = chromium.new_context(
        viewport={"width": VIEWPORT["width"], "height": VIEWPORT["height"]}
    )
    page = context.new_page()
    try:
        app = replace(fresh_offline_app, url=f"{fresh_offline_app.url}?theme={theme}")
        open_dashboard(page, app)
        dark = page.evaluate("document.body.dataset.jpThemeLight") == "false"
        assert dark == (theme == "dark")
        _exercise(page)
        page.screenshot(path=str(artifact_path(f"theme-{theme}")))
        for sel in CHECKED:
            found = page.evaluate(_CONTRAST, sel)
            assert found is not None, f"{sel} is not on the page"
            assert found["ratio"] >= 4.5, f"{theme}: {sel} is hard to read: {found}"
    finally:
        context.close()


def test_usable_on_a_phone(fresh_offline_app: ServedApp, chromium: Browser) -> None:
    seed_images(fresh_offline_app.gallery(), [f"A kite over dunes {i}" for i in range(5)])
    context = chromium.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    page = context.new_page()
    try:
        open_dashboard(page, fresh_offline_app)
        # Nothing wider than the screen; tiles in two columns; the star and checkbox shown.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width} px wide on a 390-px screen"
        lefts = page.eval_on_selector_all(
            THUMBS, "ns => ns.map(n => n.getBoundingClientRect().left)"
        )
        assert len(set(lefts[:4])) == 2
        expect(page.locator(THUMBS).first.locator(".gk-star")).to_be_visible()
        page.locator(THUMBS).first.locator(".gk-select").click()
        expect(page.locator(".gk-selection-bar")).to_be_visible()
        bar = page.locator(".gk-selection-bar").bounding_box()
        assert bar is not None
        assert bar["x"] >= 0
        assert bar["x"] + bar["width"] <= 391
        page.screenshot(path=str(artifact_path("theme-phone")), full_page=True)
        page.locator(".gk-selection-bar .gk-sel-clear").click()
        page.locator(THUMBS).first.click()
        box = page.locator(".gk-lightbox-panel").bounding_box()
        assert box is not None
        assert box["width"] <= 390
        page.screenshot(path=str(artifact_path("theme-phone-lightbox")))
    finally:
        context.close()
