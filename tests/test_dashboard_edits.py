"""Iterating on an image from the lightbox, in the real Voilà page: every operation offline,
and on an Active model family (Stability) against the local Bedrock endpoint, lineage included."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import (
    LIGHTBOX,
    ServedApp,
    assert_no_traceback,
    open_dashboard,
    seed_images,
    start_app,
)

pytestmark = pytest.mark.browser
expect.set_options(timeout=30_000)


def _panel(page: Page) -> Any:
    return page.locator(f"{LIGHTBOX} .gk-lightbox-panel")


def _open(page: Page, image_id: str) -> None:
    page.locator(f'.gk-grid .gk-thumb[data-id="{image_id}"]').click()
    expect(_panel(page)).to_have_attribute("data-id", image_id)


def _run(page: Page, op: str, **fields: str) -> str:
    """Click the operation, fill its form, run it; return the new image's id (it opens)."""
    before = _panel(page).get_attribute("data-id")
    page.locator(f"{LIGHTBOX} .gk-op-{op}").click()
    for name, value in fields.items():
        page.locator(f"{LIGHTBOX} .gk-op-form .gk-op-{name}").fill(value)
    page.locator(f"{LIGHTBOX} .gk-op-run").click()
    expect(_panel(page)).not_to_have_attribute("data-id", before or "")
    new_id = _panel(page).get_attribute("data-id")
    assert new_id
    made_from = page.locator(f"{LIGHTBOX} .gk-lineage-link", has_text="made from")
    expect(made_from).to_have_attribute("data-id", before or "")
    return new_id


def _back_to_parent(page: Page, parent_id: str) -> None:
    page.locator(f"{LIGHTBOX} .gk-lineage-link", has_text="made from").click()
    expect(_panel(page)).to_have_attribute("data-id", parent_id)


def _walk_all_operations(
    page: Page, app: ServedApp, parent_id: str, *, exact_sizes: bool
) -> dict[str, str]:
    _open(page, parent_id)
    made = {"vary": _run(page, "vary", similarity="0.8")}
    # Walk back to the parent through the lineage and on from there.
    _back_to_parent(page, parent_id)
    expect(page.locator(f"{LIGHTBOX} .gk-lineage-link", has_text="variation")).to_have_attribute(
        "data-id", made["vary"]
    )
    made["remove-background"] = _run(page, "remove-background")
    expect(page.locator(f"{LIGHTBOX} .gk-lightbox-image.gk-checker")).to_be_visible()
    _back_to_parent(page, parent_id)
    made["edit"] = _run(page, "edit", **{"mask_prompt": "the sky", "prompt": "a stormy sky"})
    _back_to_parent(page, parent_id)
    made["extend"] = _run(page, "extend", width="512", height="320")
    _back_to_parent(page, parent_id)
    made["upscale"] = _run(page, "upscale")
    assert_no_traceback(page)

    gallery = app.gallery()
    for operation, image_id in made.items():
        record = gallery.get(image_id)
        assert (record.parent_id, record.operation) == (parent_id, operation)
    assert {c.id for c in gallery.children(parent_id)} == set(made.values())
    assert gallery.get(made["extend"]).extra["canvas"] == [512, 320]
    if exact_sizes:  # the local endpoint answers with small stand-in images
        assert gallery.get(made["extend"]).width == 512
        assert gallery.get(made["upscale"]).width > gallery.get(parent_id).width
    return made


def test_every_operation_offline(fresh_offline_app: ServedApp, dash_page: Page) -> None:
    parent = seed_images(fresh_offline_app.gallery(), ["a harbour at noon"], size=320)[0]
    open_dashboard(dash_page, fresh_offline_app)
    _walk_all_operations(dash_page, fresh_offline_app, parent.id, exact_sizes=True)
    # Every result is in the grid, newest first, labelled with its operation.
    expect(dash_page.locator(".gk-grid .gk-thumb")).to_have_count(6)
    expect(dash_page.locator(".gk-grid .gk-thumb").first).to_contain_text("upscale")


@pytest.fixture
def stability_app(
    chromium_executable: str,
    bucket: str,
    bedrock: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ServedApp]:
    """AWS mode on an Active model family: Stable Image Core in us-west-2."""
    bedrock.small_images = True
    monkeypatch.setenv("S3_BUCKET_NAME", bucket)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", bedrock.url)
    monkeypatch.setenv("GALLERY_GENERATOR", "bedrock")
    monkeypatch.setenv("BEDROCK_MODEL_ID", "stability.stable-image-core-v1:1")
    app = start_app(os.environ, tmp_path / "serve")
    try:
        yield app
    finally:
        app.stop()


def test_every_operation_on_stability(
    stability_app: ServedApp, dash_page: Page, bedrock: Any
) -> None:
    parent = seed_images(stability_app.gallery(), ["a harbour at noon"], size=1024)[0]
    open_dashboard(dash_page, stability_app)
    _walk_all_operations(dash_page, stability_app, parent.id, exact_sizes=False)
    called = [r.model_id for r in bedrock.requests if "/invoke" in r.path]
    assert set(called) >= {
        "stability.stable-image-core-v1:1",
        "stability.sd3-5-large-v1:0",
        "us.stability.stable-image-remove-background-v1:0",
        "us.stability.stable-image-search-replace-v1:0",
        "us.stability.stable-outpaint-v1:0",
        "us.stability.stable-fast-upscale-v1:0",
    }
    assert bedrock.violations == []
