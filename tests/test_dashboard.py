"""The Voilà dashboard in a real browser: ``gallery-kit serve`` driven by Debian's Chromium.

Offline tests share one served app per module (each test opens a fresh page, which starts a
fresh kernel); tests that need an exact store (paging, the README screenshot) or AWS mode get
a server of their own. Waits are on ``gk-*`` elements, never on fixed sleeps.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import uuid

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.bedrock import Reply
from tests.support.browser import (
    DOCS_SCREENSHOT,
    GENERATE,
    LIGHTBOX,
    PROMPT,
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
# The page answers through a kernel on a possibly loaded 2-core box: wait up to 20 s by default.
expect.set_options(timeout=20_000)


#: Records, in the page, every state the Generate button and the status line pass through
#: (offline generation can be over before a poll from the test would see it).
_RECORD_BUSY = """() => {
  const rec = { disabled: false, busyLabel: false, spinner: false, status: [] };
  window.__gkRec = rec;
  const button = document.querySelector('.gk-generate');
  const status = document.querySelector('.gk-status');
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.attributeName === 'disabled' && r.oldValue === null) rec.disabled = true;
      for (const n of r.addedNodes) {
        if ((n.textContent || '').includes('Generating')) rec.busyLabel = true;
      }
    }
    if (button.disabled) rec.disabled = true;
  }).observe(button, { attributes: true, attributeOldValue: true, childList: true,
                        subtree: true, characterData: true });
  new MutationObserver((records) => {
    for (const r of records) {
      for (const n of r.addedNodes) {
        rec.status.push(n.textContent || '');
        if (n.nodeType === 1 && (n.matches('.gk-spinner') || n.querySelector('.gk-spinner'))) {
          rec.spinner = true;
        }
      }
    }
  }).observe(status, { childList: true, subtree: true, characterData: true });
}"""


def _generate(page: Page, prompt: str) -> None:
    page.fill(PROMPT, prompt)
    page.evaluate(_RECORD_BUSY)
    page.click(GENERATE)


def _first_caption(page: Page) -> Locator:
    return page.locator(THUMBS).first.locator("figcaption")


def _open_lightbox(page: Page, image_id: str) -> None:
    page.locator(f'{THUMBS}[data-id="{image_id}"]').click()
    expect(page.locator(f'{LIGHTBOX} .gk-lightbox-panel[data-id="{image_id}"]')).to_be_visible()


def _setting(page: Page, label: str) -> str:
    row = page.locator(f"{LIGHTBOX} .gk-detail-settings tr").filter(
        has=page.locator("th", has_text=re.compile(f"^{re.escape(label)}$"))
    )
    return row.locator("td").inner_text()


# --------------------------------------------------------------------------------------------
# Offline mode, one shared server
# --------------------------------------------------------------------------------------------


def test_generate_shows_progress_then_the_new_thumbnail_first(
    offline_app: ServedApp, dash_page: Page
) -> None:
    page = dash_page
    open_dashboard(page, offline_app)
    before = store_ids(offline_app.gallery())
    prompt = f"A red fox in fresh snow, test {uuid.uuid4().hex[:8]}"

    _generate(page, prompt)

    expect(_first_caption(page)).to_have_text(prompt)
    expect(page.locator(GENERATE)).to_be_enabled()
    expect(page.locator(".gk-status")).to_contain_text(re.compile(r"Saved 1 image in .* \(seed"))
    rec = page.evaluate("window.__gkRec")
    assert rec["disabled"], "the Generate button was never disabled while generating"
    assert rec["busyLabel"], "the button never said Generating…"
    assert rec["spinner"], f"no progress spinner in .gk-status: {rec['status']}"
    assert any("Generating 1 placeholder (offline)… " in s for s in rec["status"]), rec["status"]

    # The first tile is the image just stored, with the seed the status line reports.
    status_seed = int(re.search(r"seed (\d+)", page.inner_text(".gk-status")).group(1))  # type: ignore[union-attr]
    after = store_ids(offline_app.gallery())
    (new_id,) = set(after) - set(before)
    assert thumb_ids(page)[0] == new_id == after[0]
    record = offline_app.gallery().get(new_id)
    assert (record.prompt, record.seed) == (prompt, status_seed)
    expect(page.locator(".gk-error")).to_be_hidden()
    assert_no_traceback(page)


def test_lightbox_reuse_download_and_delete(offline_app: ServedApp, dash_page: Page) -> None:
    page = dash_page
    gallery = offline_app.gallery()
    long_prompt = (
        "A lighthouse on a basalt cliff at dusk, waves breaking below, gulls circling the lamp, "
        "painted in loose watercolour washes"
    )
    (record,) = seed_images(gallery, [long_prompt], seed=4242, negative_prompt="text, watermark")
    open_dashboard(page, offline_app)
    assert thumb_ids(page)[0] == record.id
    caption = _first_caption(page).inner_text()
    assert caption.endswith("…")
    assert long_prompt.startswith(caption[:-1])

    # Open: the full prompt and every setting, the seed as `gallery-kit show --json` has it.
    page.locator(THUMBS).first.click()
    box = page.locator(LIGHTBOX)
    expect(box.locator(f'.gk-lightbox-panel[data-id="{record.id}"]')).to_be_visible()
    expect(box.locator(".gk-detail-prompt")).to_have_text(long_prompt)
    expect(box.locator(".gk-detail-negative")).to_have_text("text, watermark")
    shown = offline_app.cli("show", record.id, "--json")
    assert shown.returncode == 0, shown.stderr
    seed = json.loads(shown.stdout)["seed"]
    assert seed == 4242
    assert _setting(page, "Seed") == str(seed)
    assert _setting(page, "Size") == "512×512"
    assert _setting(page, "Id") == record.id
    page.wait_for_function(
        "() => { const i = document.querySelector('.gk-lightbox-image img');"
        " return i && i.complete && i.naturalWidth === 512; }"
    )

    # Download: the original bytes under a gallery-<id>.png name.
    link = box.locator(".gk-download")
    assert link.get_attribute("download") == f"gallery-{record.id}.png"
    href = link.get_attribute("href") or ""
    assert href.startswith("data:image/png;base64,")
    original = gallery.read_original(record)
    assert base64.b64decode(href.split(",", 1)[1]) == original
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == f"gallery-{record.id}.png"
    assert download.path().read_bytes() == original

    # "Use these settings" fills the panel, seed included, and closes the lightbox.
    box.locator(".gk-reuse").click()
    expect(box).to_be_hidden()
    expect(page.locator(PROMPT)).to_have_value(long_prompt)
    expect(page.locator(".gk-negative-prompt textarea")).to_have_value("text, watermark")
    expect(page.locator(".gk-seed input")).to_have_value("4242")
    expect(page.locator(".gk-seed input")).to_be_enabled()
    expect(page.locator(".gk-random-seed input")).not_to_be_checked()
    expect(page.locator(".gk-status")).to_contain_text(f"Settings of {record.id} loaded")
    # …and generating with them is the same request: the image made before is offered, not
    # paid for again; "Generate again" makes the same (deterministic placeholder) image anew.
    page.click(GENERATE)
    expect(page.locator(".gk-duplicate")).to_contain_text("Made on")
    page.locator(".gk-generate-again").click()
    expect(page.locator(".gk-status")).to_contain_text(re.compile(r"Saved 1 image .*\(seed 4242\)"))
    expect(page.locator(THUMBS).first).not_to_have_attribute("data-id", record.id)
    again = gallery.get(thumb_ids(page)[0])
    assert again.id != record.id
    assert (again.seed, again.prompt) == (4242, long_prompt)
    assert gallery.read_original(again) == original

    # Delete moves it to the trash at once (no dialog: an Undo is offered instead), and the
    # lightbox goes on to the next image.
    _open_lightbox(page, record.id)
    box.locator(".gk-delete").click()
    expect(page.locator(f'{THUMBS}[data-id="{record.id}"]')).to_have_count(0)
    expect(page.locator(".gk-undo")).to_contain_text("Moved 1 image to the trash")
    expect(box.locator(".gk-lightbox-panel")).not_to_have_attribute("data-id", record.id)
    assert record.id not in store_ids(offline_app.gallery())
    assert record.id in [t.record.id for t in offline_app.gallery().trash_bin.items()]
    # Undo puts it back, everywhere.
    page.locator(".gk-undo .gk-undo-button").click()
    expect(page.locator(f'{THUMBS}[data-id="{record.id}"]')).to_have_count(1)
    assert record.id in store_ids(offline_app.gallery())
    assert again.id in thumb_ids(page)
    box.locator(".gk-close").click()
    expect(box).to_be_hidden()


def test_filter_narrows_the_grid_by_prompt_text(offline_app: ServedApp, dash_page: Page) -> None:
    page = dash_page
    tag = uuid.uuid4().hex[:6]
    prompts = {
        f"aardvark{tag}": [f"An aardvark{tag} at dawn", f"Two aardvark{tag}s asleep"],
        f"quokka{tag}": [f"A quokka{tag} smiling", f"Quokka{tag} selfie", f"quokka{tag} family"],
        f"narwhal{tag}": [f"A narwhal{tag} under the ice"],
    }
    records = seed_images(offline_app.gallery(), [p for ps in prompts.values() for p in ps])
    ids_of = {word: {r.id for r in records if word in r.prompt.casefold()} for word in prompts}
    open_dashboard(page, offline_app)
    field = page.locator(".gk-filter input")
    thumbs = page.locator(THUMBS)

    for word, expected in ids_of.items():
        field.fill(word.upper() if word.startswith("quokka") else word)  # case-insensitive
        expect(thumbs).to_have_count(len(expected))
        assert set(thumb_ids(page)) == expected
        noun = "image matches" if len(expected) == 1 else "images match"
        expect(page.locator(".gk-search-count")).to_have_text(f"{len(expected)} {noun}")
        for caption in thumbs.locator("figcaption").all_inner_texts():
            assert word in caption.casefold()

    field.fill(f"no-such-animal-{tag}")
    expect(thumbs).to_have_count(0)
    expect(page.locator(".gk-empty")).to_contain_text(f"No image matches “no-such-animal-{tag}”")

    field.fill("")
    expect(page.locator(".gk-search-count")).to_have_text("")
    expect(thumbs.first).to_be_visible()
    page.wait_for_function(
        "n => document.querySelectorAll('.gk-grid .gk-thumb').length >= n", arg=len(records)
    )
    assert {r.id for r in records} <= set(thumb_ids(page))


def test_prompts_are_shown_as_text_never_as_html(offline_app: ServedApp, dash_page: Page) -> None:
    page = dash_page
    evil = ['<img src=x onerror="window.__xss=1">', "<script>window.__xss=2</script>"]
    records = seed_images(offline_app.gallery(), evil, negative_prompt="<b>bold</b> & <i>")
    by_prompt = {r.prompt: r for r in records}
    open_dashboard(page, offline_app)

    for prompt in evil:
        record = by_prompt[prompt]
        tile = page.locator(f'{THUMBS}[data-id="{record.id}"]')
        expect(tile.locator("figcaption")).to_have_text(prompt)
        _open_lightbox(page, record.id)
        expect(page.locator(f"{LIGHTBOX} .gk-detail-prompt")).to_have_text(prompt)
        expect(page.locator(f"{LIGHTBOX} .gk-detail-negative")).to_have_text("<b>bold</b> & <i>")
        page.keyboard.press("Escape")
        expect(page.locator(LIGHTBOX)).to_be_hidden()

    # The filter echoes what was typed in the "no match" line: as text too.
    page.fill(".gk-filter input", '<img src=x onerror="window.__xss=3">zz')
    expect(page.locator(".gk-empty")).to_contain_text('<img src=x onerror="window.__xss=3">zz')

    # A broken image of our own makes sure any onerror handler would have run by now.
    page.evaluate(
        "() => { const i = document.createElement('img');"
        " i.onerror = () => { window.__probe = 1; }; i.src = 'x'; document.body.append(i); }"
    )
    page.wait_for_function("() => window.__probe === 1")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator('.gk-app img[src="x"], .gk-lightbox img[src="x"]').count() == 0
    assert page.locator("b, i", has_text="bold").count() == 0
    assert page.evaluate("() => [...document.scripts].every(s => !s.textContent.includes('__xss'))")


def test_invalid_input_is_explained_and_nothing_is_generated(
    offline_app: ServedApp, dash_page: Page
) -> None:
    page = dash_page
    open_dashboard(page, offline_app)
    banner = page.locator(".gk-offline-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Offline mode")
    expect(banner).to_contain_text("placeholders")
    expect(banner).to_contain_text("S3_BUCKET_NAME")
    expect(page.locator(".gk-cost")).to_have_text("")  # nothing is paid for offline

    before_store = store_ids(offline_app.gallery())
    before_grid = thumb_ids(page)
    error = page.locator(".gk-error")
    for blank in ("", "   \n  "):
        page.fill(PROMPT, blank)
        page.click(GENERATE)
        expect(error).to_be_visible()
        expect(error).to_contain_text("The prompt is empty; describe the image you want")

    # The default model is the live one: Stable Image Core, which takes 10,000 characters.
    page.fill(PROMPT, "x" * 10_001)
    expect(page.locator("span.gk-charcount.gk-over")).to_have_text("10001 / 10000")
    page.click(GENERATE)
    expect(error).to_contain_text("10001 characters; 10000 is the limit")

    # A valid prompt clears the message (and proves the kernel handled the clicks before it).
    page.fill(PROMPT, "A valid prompt after the errors")
    page.click(GENERATE)
    expect(error).to_be_hidden()
    expect(_first_caption(page)).to_have_text("A valid prompt after the errors")
    after_store = store_ids(offline_app.gallery())
    assert len(after_store) == len(before_store) + 1
    assert thumb_ids(page)[1:] == before_grid
    assert_no_traceback(page)


def test_images_from_another_process_appear_without_reload(
    offline_app: ServedApp, dash_page: Page
) -> None:
    page = dash_page
    open_dashboard(page, offline_app)
    page.evaluate("() => { window.__sameDocument = true; }")
    prompt = f"Written by another process {uuid.uuid4().hex[:8]}"
    made = offline_app.cli(
        "generate", prompt, "--width", "512", "--height", "512", "--count", "2", "--json"
    )
    assert made.returncode == 0, made.stderr
    new_ids = [json.loads(line)["id"] for line in made.stdout.splitlines()]
    # The page asks every 5 s (~10 s is the promise); 15 s leaves slack for a loaded CI box.
    expect(page.locator(f'{THUMBS}[data-id="{new_ids[0]}"]')).to_have_count(1, timeout=15_000)
    expect(page.locator(f'{THUMBS}[data-id="{new_ids[1]}"]')).to_have_count(1)
    assert thumb_ids(page)[:2] == new_ids
    assert page.evaluate("window.__sameDocument") is True


# --------------------------------------------------------------------------------------------
# Offline mode, a server of the test's own
# --------------------------------------------------------------------------------------------


def test_paging_through_sixty_images(fresh_offline_app: ServedApp, dash_page: Page) -> None:
    page = dash_page
    gallery = fresh_offline_app.gallery()
    seed_images(gallery, [f"Seeded batch {i:02d}" for i in range(12)], count=5)
    expected = store_ids(gallery)
    assert len(expected) == 60
    open_dashboard(page, fresh_offline_app)
    thumbs = page.locator(THUMBS)
    more = page.locator(".gk-load-more")

    expect(thumbs).to_have_count(24)
    assert thumb_ids(page) == expected[:24]
    assert thumbs.first.locator("figcaption").inner_text() == "Seeded batch 11"
    for shown in (48, 60):
        expect(more).to_be_visible()
        expect(more).to_be_enabled()
        more.click()
        expect(thumbs).to_have_count(shown)
        assert thumb_ids(page) == expected[:shown]
    expect(more).to_be_hidden()


def test_readme_screenshot(fresh_offline_app: ServedApp, dash_page: Page) -> None:
    page = dash_page
    prompts = [
        "A lighthouse on a cliff at sunset, watercolour",
        "A red fox curled up in fresh snow",
        "Isometric cosy reading nook with plants",
        "A bowl of ramen, steam rising, studio light",
        "Mountain lake at dawn, mist over the water",
        "A vintage robot watering a bonsai tree",
        "Paper-cut city skyline at night",
        "A hummingbird drinking from a hibiscus flower",
        "Origami cranes flying over a pond",
        "A snail racing a tortoise, children's book style",
    ]
    seed_images(fresh_offline_app.gallery(), prompts, size=1024)
    open_dashboard(page, fresh_offline_app)
    expect(page.locator(THUMBS)).to_have_count(len(prompts))
    page.wait_for_function(
        "() => [...document.querySelectorAll('.gk-grid .gk-thumb img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    expect(page.locator(LIGHTBOX)).to_be_hidden()
    expect(page.locator(".gk-error")).to_be_hidden()
    page.fill(PROMPT, "A cosy cabin in a snowy forest, warm light in the windows")
    expect(page.locator("span.gk-charcount")).to_have_text("57 / 10000")
    # Show where a user's images go by default rather than this test's temporary folder.
    page.evaluate(
        """([tmp, shown]) => {
          for (const code of document.querySelectorAll('.gk-app code')) {
            code.textContent = code.textContent.split(tmp).join(shown);
          }
        }""",
        [str(fresh_offline_app.data_dir.resolve()), "~/.local/share/gallery-kit"],
    )
    page.mouse.move(0, 0)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.evaluate("() => document.fonts.ready")
    assert page.gk_page_errors == []  # type: ignore[attr-defined]
    DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS_SCREENSHOT))
    shutil.copyfile(DOCS_SCREENSHOT, artifact_path("dashboard-readme"))


# --------------------------------------------------------------------------------------------
# AWS mode: moto S3 + the local Bedrock endpoint
# --------------------------------------------------------------------------------------------


def test_aws_mode_thumbnails_presigned_originals_and_a_content_filter_message(
    aws_app: ServedApp, dash_page: Page, moto_server: str, bedrock: object
) -> None:
    page = dash_page
    open_dashboard(page, aws_app)
    expect(page.locator(".gk-offline-banner")).to_be_hidden()
    expect(page.locator(".gk-cost")).to_contain_text("$0.04")
    prompt = f"A paper boat on a puddle, test {uuid.uuid4().hex[:6]}"
    bedrock.script(Reply.delay(3.0))  # type: ignore[attr-defined]

    _generate(page, prompt)

    # While the model works: the button is disabled, the elapsed time ticks, and the rest of
    # the page still answers (the call runs off the kernel's message loop).
    expect(page.locator(GENERATE)).to_be_disabled()
    expect(page.locator(".gk-status")).to_contain_text(
        re.compile(r"Generating 1 image with Stable Image Core… [1-9]\d* s")
    )
    page.fill(".gk-filter input", "zzz")
    expect(page.locator(".gk-empty")).to_contain_text("No image matches “zzz”")
    expect(page.locator(GENERATE)).to_be_disabled()
    page.fill(".gk-filter input", "")

    expect(_first_caption(page)).to_have_text(prompt, timeout=45_000)
    expect(page.locator(".gk-status")).to_contain_text("Saved 1 image")
    assert page.evaluate("window.__gkRec")["disabled"]
    # Thumbnails come from the kernel (fetched from S3 24 at once) as bytes: blob: URLs.
    page.wait_for_function(
        "() => { const i = document.querySelector('.gk-grid .gk-thumb img');"
        " return i && i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0; }"
    )
    # The full-size image comes straight from S3 by presigned URL, never through the kernel.
    page.locator(THUMBS).first.click()
    full = page.locator(f"{LIGHTBOX} .gk-lightbox-image img")
    expect(full).to_be_visible()
    assert (full.get_attribute("src") or "").startswith(f"{moto_server}/")
    page.wait_for_function(
        "() => { const i = document.querySelector('.gk-lightbox-image img');"
        " return i && i.complete && i.naturalWidth === 1024; }"
    )
    page.keyboard.press("Escape")
    expect(page.locator(LIGHTBOX)).to_be_hidden()
    stored = store_ids(aws_app.gallery())
    assert len(stored) == 1
    assert thumb_ids(page) == stored
    assert aws_app.gallery().get(stored[0]).prompt == prompt
    assert bedrock.violations == []  # type: ignore[attr-defined]

    # The model's content filter blocks the next prompt: a readable message, no traceback.
    bedrock.always(Reply.filtered_all())  # type: ignore[attr-defined]
    _generate(page, "A perfectly harmless kitten")

    error = page.locator(".gk-error")
    expect(error).to_be_visible(timeout=45_000)
    expect(error).to_contain_text("Stable Image Core blocked the image: Filter reason: prompt")
    expect(error).to_contain_text("Rephrase the prompt")
    expect(page.locator(".gk-status")).to_have_text("Generation failed.")
    expect(page.locator(GENERATE)).to_be_enabled()
    assert thumb_ids(page) == stored
    assert store_ids(aws_app.gallery()) == stored
    assert_no_traceback(page)
