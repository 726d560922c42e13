"""Curation in the real dashboard (Voilà in Chromium): stars by click and by the `f` key, boards
from the picker, multi-select with shift-click, the trash with Undo, compare, keyboard culling,
and the ZIP downloaded and checked byte for byte. Each view is screenshotted into
test-artifacts/ (curation-*.png)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from playwright.sync_api import Locator, Page, expect

from gallery_kit.curation import Curator
from gallery_kit.export import file_name
from tests.support.browser import (
    LIGHTBOX,
    THUMBS,
    ServedApp,
    artifact_path,
    assert_no_traceback,
    open_dashboard,
    seed_images,
    store_ids,
    thumb_ids,
)

pytestmark = pytest.mark.browser
expect.set_options(timeout=20_000)

PICKER = ".gk-board-picker"
BAR = ".gk-selection-bar"


def tile(page: Page, image_id: str) -> Locator:
    return page.locator(f'{THUMBS}[data-id="{image_id}"]')


def view_button(page: Page, label: str) -> Locator:
    return page.locator(f"{PICKER} .gk-view", has_text=label)


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(artifact_path(f"curation-{name}")), full_page=False)


def test_stars_boards_multiselect_trash_and_undo(
    fresh_offline_app: ServedApp, dash_page: Page
) -> None:
    page = dash_page
    app = fresh_offline_app
    gallery = app.gallery()
    seed_images(gallery, [f"A paper boat number {i}, watercolour" for i in range(6)])
    open_dashboard(page, app)
    ids = thumb_ids(page)  # newest first
    assert len(ids) == 6
    expect(page.locator(PICKER)).to_contain_text("All images")
    expect(view_button(page, "All images")).to_have_attribute("aria-pressed", "true")

    # A star by click, and one by the `f` key on the focused tile.
    star = page.locator(f'{THUMBS}[data-id="{ids[0]}"] .gk-star')
    star.click()
    expect(star).to_have_attribute("aria-pressed", "true")
    page.locator(f'{THUMBS}[data-id="{ids[1]}"]').focus()
    page.keyboard.press("f")
    expect(page.locator(f'{THUMBS}[data-id="{ids[1]}"] .gk-star')).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(view_button(page, "Favourites")).to_contain_text("2")
    assert Curator(gallery.store).favorites() == sorted(ids[:2])

    # A board from the picker; its name is text, never markup.
    page.locator(".gk-new-board").click()
    page.locator(".gk-board-form .gk-board-name").fill("Boats <b>& co</b>")
    page.keyboard.press("Enter")
    expect(view_button(page, "Boats <b>& co</b>")).to_contain_text("0")
    assert page.locator(f"{PICKER} b").count() == 0

    # Multi-select: a checkbox, then shift-click on another selects the range.
    page.locator(f'{THUMBS}[data-id="{ids[1]}"]').hover()
    page.locator(f'{THUMBS}[data-id="{ids[1]}"] .gk-select').click()
    page.locator(f'{THUMBS}[data-id="{ids[4]}"] .gk-select').click(modifiers=["Shift"])
    expect(page.locator(f"{BAR} .gk-selection-count")).to_have_text("4 selected")
    expect(page.locator(f"{THUMBS}.gk-selected")).to_have_count(4)
    shot(page, "selection")
    bar_options = page.locator(f"{BAR} .gk-sel-board option").all_inner_texts()
    assert "Boats <b>& co</b>" in bar_options
    page.locator(f"{BAR} .gk-sel-board").select_option(label="Boats <b>& co</b>")
    expect(view_button(page, "Boats <b>& co</b>")).to_contain_text("4")
    assert Curator(gallery.store).board_images("Boats <b>& co</b>") == sorted(ids[1:5])
    page.keyboard.press("Escape")
    expect(page.locator(BAR)).to_be_hidden()

    # The board's view shows its four; Ctrl+A selects all shown there.
    view_button(page, "Boats").click()
    expect(page.locator(THUMBS)).to_have_count(4)
    assert thumb_ids(page) == ids[1:5]
    shot(page, "board")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+a")
    expect(page.locator(f"{BAR} .gk-selection-count")).to_have_text("4 selected")
    page.keyboard.press("Escape")

    # Move to trash from the selection bar; Undo brings them back.
    view_button(page, "All images").click()
    expect(page.locator(THUMBS)).to_have_count(6)
    tile(page, ids[2]).locator(".gk-select").click(force=True)
    tile(page, ids[3]).locator(".gk-select").click(force=True)
    expect(page.locator(f"{BAR} .gk-selection-count")).to_have_text("2 selected")
    page.locator(f"{BAR} .gk-sel-trash").click()
    expect(page.locator(THUMBS)).to_have_count(4)
    expect(page.locator(".gk-undo")).to_contain_text("Moved 2 images to the trash")
    shot(page, "undo")
    assert set(ids[2:4]).isdisjoint(store_ids(gallery))
    page.locator(".gk-undo .gk-undo-button").click()
    expect(page.locator(THUMBS)).to_have_count(6)
    assert set(ids[2:4]) <= set(store_ids(gallery))

    # Trash again, then the Trash view restores one.
    tile(page, ids[5]).locator(".gk-select").click(force=True)
    page.locator(f"{BAR} .gk-sel-trash").click()
    expect(page.locator(THUMBS)).to_have_count(5)
    view_button(page, "Trash").click()
    expect(page.locator(".gk-trash-view")).to_be_visible()
    expect(page.locator(THUMBS)).to_have_count(1)
    shot(page, "trash")
    tile(page, ids[5]).locator(".gk-select").click(force=True)
    page.locator(f"{BAR} .gk-sel-restore").click()
    expect(page.locator(THUMBS)).to_have_count(0)
    view_button(page, "All images").click()
    expect(page.locator(THUMBS)).to_have_count(6)
    assert page.gk_page_errors == []  # type: ignore[attr-defined]
    assert_no_traceback(page)


def test_keyboard_culling_and_compare(fresh_offline_app: ServedApp, dash_page: Page) -> None:
    page = dash_page
    app = fresh_offline_app
    gallery = app.gallery()
    seed_images(gallery, ["A lighthouse at dusk"], seed=11)
    seed_images(gallery, ["A lighthouse at dawn"], seed=12, size=768)
    seed_images(gallery, ["A lighthouse in fog"], seed=13)
    seed_images(gallery, ["A lighthouse in a storm"], seed=14)
    open_dashboard(page, app)
    ids = thumb_ids(page)

    # Grid keys: arrows move the focus, Space selects, Enter opens.
    page.locator(f'{THUMBS}[data-id="{ids[0]}"]').focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.id") == ids[1]
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    expect(page.locator(f"{BAR} .gk-selection-count")).to_have_text("2 selected")

    # Compare the two: same scale, settings in rows, differences marked; ←/→ step.
    page.locator(f"{BAR} .gk-sel-compare").click()
    compare = page.locator(".gk-compare")
    expect(compare.locator(".gk-compare-item")).to_have_count(2)
    seed_row = compare.locator("tr", has=page.locator("th", has_text="Seed"))
    expect(seed_row).to_have_class("gk-diff")
    expect(seed_row.locator("td.gk-diff")).to_have_count(2)
    size_row = compare.locator("tr", has=page.locator("th", has_text="Size"))
    expect(size_row).to_have_class("gk-diff")
    widths = page.eval_on_selector_all(
        ".gk-compare-item img", "imgs => imgs.map(i => i.getBoundingClientRect().width)"
    )
    # One scale: the 768-px image (dawn, the second) is shown 1.5 times as wide as the 512-px.
    assert abs(widths[1] / widths[0] - 768 / 512) < 0.05, widths
    expect(compare.locator(".gk-compare-item").first).to_have_class("gk-compare-item gk-current")
    page.keyboard.press("ArrowRight")
    expect(compare.locator(".gk-compare-item").nth(1)).to_have_class("gk-compare-item gk-current")
    shot(page, "compare")
    page.keyboard.press("Escape")
    expect(compare).to_be_hidden()
    page.keyboard.press("Escape")  # clears the selection
    expect(page.locator(BAR)).to_be_hidden()

    # The lightbox: f stars, ←/→ step, Delete trashes (Undo offered) and shows the next.
    page.locator(f'{THUMBS}[data-id="{ids[0]}"]').focus()
    page.keyboard.press("Enter")
    box = page.locator(LIGHTBOX)
    expect(box.locator(f'.gk-lightbox-panel[data-id="{ids[0]}"]')).to_be_visible()
    page.keyboard.press("f")
    expect(box.locator(".gk-star")).to_have_attribute("aria-pressed", "true")
    shot(page, "lightbox-star")
    page.keyboard.press("ArrowRight")
    expect(box.locator(f'.gk-lightbox-panel[data-id="{ids[1]}"]')).to_be_visible()
    page.keyboard.press("Delete")
    expect(box.locator(f'.gk-lightbox-panel[data-id="{ids[2]}"]')).to_be_visible()
    expect(page.locator(".gk-undo")).to_contain_text("Moved 1 image to the trash")
    assert ids[1] not in store_ids(gallery)
    page.keyboard.press("b")  # the board chooser takes the focus
    assert page.evaluate("document.activeElement.className") == "gk-lightbox-board"
    page.keyboard.press("Escape")
    expect(box).to_be_hidden()
    assert Curator(gallery.store).favorites() == [ids[0]]
    assert page.gk_page_errors == []  # type: ignore[attr-defined]
    assert_no_traceback(page)


def test_zip_download_from_s3_is_byte_for_byte(aws_app: ServedApp, dash_page: Page) -> None:
    page = dash_page
    gallery = aws_app.gallery()
    made = seed_images(gallery, ["A teapot", "A kettle", "A samovar"], size=320)
    open_dashboard(page, aws_app)
    expect(page.locator(THUMBS)).to_have_count(3)
    for record in made[:2]:
        tile(page, record.id).locator(".gk-select").click(force=True)
    expect(page.locator(f"{BAR} .gk-selection-count")).to_have_text("2 selected")
    with page.expect_download(timeout=60_000) as info:
        page.locator(f"{BAR} .gk-sel-zip").click()
    expect(page.locator(".gk-export")).to_contain_text("ZIP ready: 2 images")
    shot(page, "zip-ready")
    data = info.value.path().read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for record in made[:2]:
            assert zf.read(file_name(record)) == gallery.read_original(record)
        rows = [json.loads(x) for x in zf.read("manifest.jsonl").decode().splitlines()]
        assert sorted(r["id"] for r in rows) == sorted(r.id for r in made[:2])
        assert zf.read("manifest.csv").decode().startswith("id,")
    # The file came from S3 (a presigned link), not through the kernel's websocket.
    link = page.locator(".gk-export .gk-export-link").get_attribute("href") or ""
    assert link.startswith("http")
    assert "X-Amz-Signature" in link
    assert_no_traceback(page)


def test_zip_download_offline_is_handed_out_by_the_server(
    fresh_offline_app: ServedApp, dash_page: Page
) -> None:
    page = dash_page
    gallery = fresh_offline_app.gallery()
    made = seed_images(gallery, ["A kite", "A balloon"], size=320)
    open_dashboard(page, fresh_offline_app)
    expect(page.locator(THUMBS)).to_have_count(2)
    with page.expect_download(timeout=60_000) as info:
        page.locator(f"{PICKER} .gk-export-view").click()  # everything shown
    expect(page.locator(".gk-export")).to_contain_text("ZIP ready: 2 images")
    download = info.value
    assert download.suggested_filename.startswith("gallery-2-images-")
    with zipfile.ZipFile(io.BytesIO(download.path().read_bytes())) as zf:
        for record in made:
            assert zf.read(file_name(record)) == gallery.read_original(record)
    # Only an export's own name is handed out.
    link = page.locator(".gk-export .gk-export-link").get_attribute("href") or ""
    assert link.startswith("gallery-kit/exports/")
    base = f"{fresh_offline_app.url}gallery-kit/exports/"
    assert page.request.get(base + "20261201-000000-AAAAAAAAAAAAAAAA.zip").status == 404
    assert page.request.get(base + "..%2F..%2Fmeta%2Fx.json").status in (403, 404)
    assert_no_traceback(page)
