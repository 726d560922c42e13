"""GalleryApp driven from Python: the widget logic without a browser (the browser tests drive
the same app through Voilà)."""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterator
from typing import Any

import comm
import pytest
from comm.base_comm import BaseComm

from gallery_kit import Gallery, GenerationRequest, load_settings
from gallery_kit.ui.app import GalleryApp
from gallery_kit.ui.messages import error_page
from gallery_kit.ui.routes import route
from tests.support.bedrock import Reply

CORE = "stability.stable-image-core-v1:1"


def wait_for(condition: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture(autouse=True)
def page_messages(monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict[str, object], list[bytes]]]:
    """What the widgets send to the page: a comm that keeps its messages (no kernel here)."""
    sent: list[tuple[dict[str, object], list[bytes]]] = []

    class PageComm(BaseComm):
        def publish_msg(
            self,
            msg_type: str,
            data: object = None,
            metadata: object = None,
            buffers: object = None,
            **keys: object,
        ) -> None:
            if isinstance(data, dict):
                sent.append((data, [bytes(b) for b in buffers or []]))  # type: ignore[attr-defined]

    monkeypatch.setattr(comm, "create_comm", PageComm)
    return sent


def thumbnails_sent(sent: list[tuple[dict[str, object], list[bytes]]]) -> dict[str, bytes]:
    """Thumbnail bytes by id, as the grid's "thumbs" messages delivered them."""
    found: dict[str, bytes] = {}
    for data, buffers in sent:
        content = data.get("content")
        custom = data.get("method") == "custom" and isinstance(content, dict)
        if custom and content.get("type") == "thumbs":  # type: ignore[union-attr]
            found.update(zip(content["ids"], buffers, strict=True))
    return found


@pytest.fixture
def gallery() -> Gallery:
    return Gallery.from_settings(load_settings())


@pytest.fixture
def app(gallery: Gallery) -> Iterator[GalleryApp]:
    app = GalleryApp(gallery, poll_ms=0)
    wait_for(lambda: not app.grid.loading and app.grid.empty_text != "Loading…")
    yield app
    app.close()


def send(app: GalleryApp, **msg: object) -> None:
    route(app, msg)


def generate(app: GalleryApp, prompt: str, **settings: object) -> None:
    app.panel.prompt.value = prompt
    for name, value in settings.items():
        getattr(app.panel, name).value = value
    future = app.on_generate()
    assert future is not None, app.error.value
    future.result(timeout=30)


def test_offline_banner_and_empty_state(app: GalleryApp) -> None:
    assert app.banner.layout.display == "block"
    assert "placeholders" in app.banner.value
    assert app.grid.items == []
    assert "No images yet" in app.grid.empty_text


def test_generate_puts_new_images_first_and_reenables_button(
    app: GalleryApp, gallery: Gallery, page_messages: list[tuple[dict[str, object], list[bytes]]]
) -> None:
    generate(app, "first picture")
    generate(app, "second picture", count=2)
    captions = [item["caption"] for item in app.grid.items]
    assert captions == ["second picture", "second picture", "first picture"]
    ids = [item["id"] for item in app.grid.items]
    wait_for(lambda: set(ids) <= thumbnails_sent(page_messages).keys())
    for image_id in ids:
        thumb = thumbnails_sent(page_messages)[image_id]
        assert (thumb[:4], thumb[8:12]) == (b"RIFF", b"WEBP")
        assert thumb == gallery.read_thumbnail(gallery.get(image_id))
    assert all("src" not in item for item in app.grid.items)  # bytes never ride in the state
    assert not app.panel.generate.disabled
    assert "Saved 2 images" in app.status.value
    assert app.error.layout.display == "none"


def test_invalid_prompt_shows_error_and_sends_nothing(app: GalleryApp, gallery: Gallery) -> None:
    app.panel.prompt.value = "   "
    assert app.on_generate() is None
    assert app.error.layout.display == "block"
    assert "prompt is empty" in app.error.value
    assert gallery.page().records == []


def test_error_text_is_escaped(app: GalleryApp) -> None:
    app.panel.prompt.value = "x"
    app.panel.size.value = "Custom…"
    app.panel.width.value = 100
    assert app.on_generate() is None
    assert "width 100 is outside" in app.error.value
    app.show_error("<script>alert(1)</script>")
    assert "<script>" not in app.error.value
    assert "&lt;script&gt;" in app.error.value


def test_lightbox_reuse_and_delete(app: GalleryApp, gallery: Gallery) -> None:
    app.panel.negative.value = "blur"
    generate(app, "a heron <b>bold</b>", random_seed=False, seed=1234)
    image_id = app.grid.items[0]["id"]
    send(app, type="open", id=image_id)
    wait_for(lambda: app.grid.detail.get("id") == image_id)
    detail = app.grid.detail
    assert detail["prompt"] == "a heron <b>bold</b>"  # text; the browser sets textContent
    assert detail["seed"] == 1234
    assert ["Seed", 1234] in detail["settings"]
    assert detail["src"].startswith("data:image/png;base64,")
    assert detail["filename"] == f"gallery-{image_id}.png"

    app.panel.prompt.value = "something else"
    app.panel.random_seed.value = True
    send(app, type="reuse", id=image_id)
    wait_for(lambda: app.panel.prompt.value == "a heron <b>bold</b>")
    assert app.panel.seed.value == 1234
    assert app.panel.random_seed.value is False
    assert app.panel.negative.value == "blur"
    assert app.grid.detail == {}

    # Delete moves it to the trash (restorable), with an Undo offered.
    send(app, type="delete", id=image_id)
    wait_for(lambda: all(item["id"] != image_id for item in app.grid.items))
    assert gallery.page().records == []
    assert [t.record.id for t in gallery.trash_bin.items()] == [image_id]
    assert app.grid.toast["undo"] == [image_id]


def test_thumbnails_travel_once_and_again_only_when_the_page_asks(
    gallery: Gallery, page_messages: list[tuple[dict[str, object], list[bytes]]]
) -> None:
    for _ in range(6):
        gallery.generate(GenerationRequest("a pear", count=5, width=320, height=320))
    app = GalleryApp(gallery, poll_ms=0)
    try:
        wait_for(lambda: len(app.grid.items) == 24)
        first = [item["id"] for item in app.grid.items]
        wait_for(lambda: thumbnails_sent(page_messages).keys() == set(first))
        # "Load more": only the new page's thumbnails go; the state carries no image bytes.
        page_messages.clear()
        send(app, type="load_more")
        wait_for(lambda: len(app.grid.items) == 30)
        more = [item["id"] for item in app.grid.items][24:]
        wait_for(lambda: thumbnails_sent(page_messages).keys() == set(more))
        assert all(not buffers for data, buffers in page_messages if data.get("method") == "update")
        # A new view of the widget (a reload, a second output area) gets all of them again.
        page_messages.clear()
        send(app, type="ready")
        wait_for(lambda: thumbnails_sent(page_messages).keys() == set(first + more))
        # The page could not show one: that one is read again from the store, alone.
        page_messages.clear()
        send(app, type="thumb_error", id=more[0])
        wait_for(lambda: more[0] in thumbnails_sent(page_messages))
        assert thumbnails_sent(page_messages).keys() == {more[0]}
    finally:
        app.close()


def test_paging_filter_and_poll(gallery: Gallery) -> None:
    for word in ("apple", "pear", "plum"):
        for _ in range(4):
            gallery.generate(
                GenerationRequest(f"{word} still life", count=5, width=320, height=320)
            )
    app = GalleryApp(gallery, poll_ms=0)
    try:
        wait_for(lambda: len(app.grid.items) == 24)
        assert app.grid.has_more
        ids = [item["id"] for item in app.grid.items]
        assert ids == sorted(ids)  # newest first
        send(app, type="load_more")
        wait_for(lambda: len(app.grid.items) == 48)
        assert app.grid.has_more
        send(app, type="load_more")
        wait_for(lambda: len(app.grid.items) == 60)
        assert not app.grid.has_more

        # The search box searches the whole gallery, and says how many match.
        app.apply_filter("PEAR")
        assert {item["caption"] for item in app.grid.items} == {"pear still life"}
        assert len(app.grid.items) == 20
        assert app.search.count.value == "20 images match"
        app.apply_filter("no such fruit")
        assert app.grid.items == []
        assert "No image matches" in app.grid.empty_text
        assert app.search.count.value == "0 images match"
        # Cleared: the live feed again, from its newest page.
        app.apply_filter("")
        assert len(app.grid.items) == 24
        assert app.grid.has_more
        assert app.search.count.value == ""
        send(app, type="load_more")
        wait_for(lambda: len(app.grid.items) == 48)
        send(app, type="load_more")
        wait_for(lambda: len(app.grid.items) == 60)

        # Another user of the same store adds an image: the next poll shows it first.
        other = Gallery.from_settings(load_settings())
        new = other.generate(
            GenerationRequest("quince from a colleague", width=320, height=320)
        ).records[0]
        send(app, type="poll")
        wait_for(lambda: app.grid.items[0]["id"] == new.id)
        assert len(app.grid.items) == 61
    finally:
        app.close()


def test_rate_limit_per_session(gallery: Gallery) -> None:
    now = [1000.0]
    app = GalleryApp(gallery, poll_ms=0, rate_limit_per_minute=2, clock=lambda: now[0])
    try:
        generate(app, "one")
        generate(app, "two")
        app.panel.prompt.value = "three"
        assert app.on_generate() is None
        assert "2 generations per minute" in app.error.value
        now[0] += 61
        generate(app, "three")
        assert app.grid.items[0]["caption"] == "three"
    finally:
        app.close()


def test_bad_ids_from_the_browser_are_ignored(app: GalleryApp) -> None:
    send(app, type="open", id="../../etc/passwd")
    send(app, type="delete", id="../x")
    time.sleep(0.2)
    assert app.grid.detail == {}
    assert app.error.layout.display == "none"


def test_broken_setting_shows_an_error_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GALLERY_GENERATOR", "dalle")
    widget = GalleryApp.from_settings()
    assert not isinstance(widget, GalleryApp)
    text = html.unescape(widget.children[1].value)
    assert "GALLERY_GENERATOR" in text
    assert "'bedrock' or 'offline'" in text
    assert error_page("<b>").children[1].value == "&lt;b&gt;"


def test_pending_images_show_and_upload_later(bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """S3 really fails (the bucket is gone), then comes back: the image waits, then uploads."""
    import boto3

    monkeypatch.setenv("GALLERY_GENERATOR", "offline")
    gallery = Gallery.from_settings(load_settings())
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.delete_bucket(Bucket=bucket)
    app = GalleryApp(gallery, poll_ms=0)
    try:
        wait_for(lambda: not app.grid.loading)
        generate(app, "kept safe")
        assert app.grid.items[0]["pending"] is True
        assert "will upload when the store is back" in app.warning.value
        assert "does not exist" in app.warning.value
        s3.create_bucket(Bucket=bucket)
        app._last_outbox_try = 0.0
        send(app, type="poll")
        wait_for(lambda: app.grid.items[0]["pending"] is False)
        assert [r.prompt for r in gallery.page().records] == ["kept safe"]
        assert gallery.outbox.ids() == []
    finally:
        app.close()


def test_lightbox_operations_and_lineage(app: GalleryApp, gallery: Gallery) -> None:
    app.panel.size.value = "Custom…"
    app.panel.width.value, app.panel.height.value = 320, 320
    generate(app, "a teapot on a table")
    parent_id = app.grid.items[0]["id"]
    send(app, type="open", id=parent_id)
    wait_for(lambda: app.grid.detail.get("id") == parent_id)
    ops = {op["name"]: op for op in app.grid.detail["operations"]}
    assert list(ops) == ["vary", "remove-background", "edit", "extend", "upscale"]
    assert all(op["disabled"] is None for op in ops.values())  # offline: all stand-ins
    assert [f["value"] for f in ops["extend"]["fields"][:2]] == [480, 320]

    send(
        app, type="operation", id=parent_id, name="vary", params={"prompt": "", "similarity": "0.8"}
    )
    wait_for(lambda: app.grid.detail.get("id") not in (None, parent_id))
    child = gallery.get(app.grid.detail["id"])
    assert (child.parent_id, child.operation) == (parent_id, "vary")
    assert app.grid.items[0]["id"] == child.id
    assert app.grid.items[0]["badge"] == "variation"
    assert app.grid.detail["lineage"][0] == {
        "relation": "made from",
        "id": parent_id,
        "label": "a teapot on a table",
    }

    send(app, type="operation", id=child.id, name="remove-background", params={})
    wait_for(lambda: app.grid.detail.get("id") not in (None, child.id))
    cutout = app.grid.detail
    assert cutout["transparent"] is True
    assert app.grid.items[0]["transparent"] is True

    send(app, type="open", id=parent_id)
    wait_for(lambda: app.grid.detail.get("id") == parent_id)
    assert [link["id"] for link in app.grid.detail["lineage"]] == [child.id]
    assert app.grid.detail["lineage"][0]["relation"] == "made into (variation)"

    # Bad input from the form: a readable message in the lightbox, nothing made.
    count = len(app.grid.items)
    send(
        app,
        type="operation",
        id=parent_id,
        name="extend",
        params={"width": "wide", "height": "320"},
    )
    wait_for(lambda: "not a number" in app.grid.detail.get("message", ""))
    send(
        app,
        type="operation",
        id=parent_id,
        name="edit",
        params={"mask_prompt": "", "prompt": "a kettle"},
    )
    wait_for(lambda: "mask" in app.grid.detail.get("message", "").lower())
    assert len(app.grid.items) == count
    assert app.error.layout.display == "block"


def test_model_picker_marks_what_bedrock_lists(
    bedrock: object, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS mode: ListFoundationModels (the local endpoint) says Titan and Nova Canvas are gone;
    the picker says so and Generate with one names a model that works instead of calling
    Bedrock."""
    monkeypatch.setenv("GALLERY_GENERATOR", "bedrock")
    app = GalleryApp(Gallery.from_settings(load_settings()), poll_ms=0)
    try:
        wait_for(lambda: bool(app.panel.model_states))
        labels = dict((v, k) for k, v in app.panel.model.options)
        assert labels["amazon.nova-canvas-v1:0"].endswith("· end of life (unavailable)")
        assert "unavailable" in labels["amazon.titan-image-generator-v2:0"]
        assert "unavailable" not in labels["stability.stable-image-core-v1:1"]
        app.panel.model.value = "amazon.titan-image-generator-v2:0"
        app.panel.prompt.value = "a lantern"
        assert app.on_generate() is None
        assert "BEDROCK_MODEL_ID=stability.stable-image-core-v1:1" in app.error.value
        invokes = [r for r in bedrock.requests if "/invoke" in r.path]  # type: ignore[attr-defined]
        assert invokes == []
    finally:
        app.close()


def test_model_picker_falls_back_quietly_without_permission(
    bedrock: object, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.bedrock import Reply

    bedrock.foundation_models_reply = Reply.access_denied()  # type: ignore[attr-defined]
    monkeypatch.setenv("GALLERY_GENERATOR", "bedrock")
    app = GalleryApp(Gallery.from_settings(load_settings()), poll_ms=0)
    try:
        wait_for(lambda: bool(app.panel.model_states))
        labels = dict((v, k) for k, v in app.panel.model.options)
        # The built-in table for today: past 2026-09-30, Nova Canvas is gone.
        assert labels["amazon.nova-canvas-v1:0"].endswith("· end of life (unavailable)")
        assert app.panel.model.value == "stability.stable-image-core-v1:1"
        assert app.error.layout.display == "none"
    finally:
        app.close()


# --- a dead model is one click away from a live one ---------------------------------------------


def _aws_app(monkeypatch: pytest.MonkeyPatch) -> GalleryApp:
    monkeypatch.setenv("GALLERY_GENERATOR", "bedrock")
    app = GalleryApp(Gallery.from_settings(load_settings()), poll_ms=0)
    wait_for(lambda: bool(app.panel.model_states))
    return app


def test_a_new_user_gets_the_live_default_and_the_header_says_why(
    bedrock: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _aws_app(monkeypatch)
    try:
        assert app.panel.model.value == "stability.stable-image-core-v1:1"
        wait_for(lambda: "gk-model-note" in app.header.value)
        assert (
            "Amazon Nova Canvas reached end of life on 2026-09-30; using Stable Image Core "
            "(us-west-2)"
        ) in html.unescape(app.header.value)
        generate(app, "a first picture")
        (sent,) = bedrock.requests
        assert sent.model_id == "stability.stable-image-core-v1:1"
        assert app.use_live.layout.display == "none"
    finally:
        app.close()


def test_end_of_life_answer_offers_one_click_to_the_live_model(
    nova_canvas: str, bedrock: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _aws_app(monkeypatch)
    try:
        assert app.panel.model.value == nova_canvas  # BEDROCK_MODEL_ID wins
        bedrock.script(Reply.end_of_life())
        app.panel.style.value = "PHOTOREALISM"
        generate(app, "a lantern at dusk")
        assert "end of its life" in app.error.value
        assert app.use_live.layout.display != "none"
        assert "Stable Image Core" in app.use_live.description
        assert len(bedrock.requests) == 1  # nothing is sent again without the click
        time.sleep(0.3)
        assert len(bedrock.requests) == 1

        future = app.use_live_model()
        assert future is not None
        future.result(timeout=30)
        assert [r.model_id for r in bedrock.requests] == [nova_canvas, CORE]
        assert bedrock.requests[1].body["prompt"] == "a lantern at dusk"
        assert app.panel.model.value == CORE
        status = html.unescape(app.status.value)
        assert "Saved 1 image" in status
        assert "Switched to Stable Image Core; dropped style PHOTOREALISM, cfg scale 6.5." in status
        assert app.error.layout.display == "none"
        assert app.use_live.layout.display == "none"
        assert app.use_live_model() is None  # the offer is gone once used
        assert len(bedrock.requests) == 2
    finally:
        app.close()


def test_a_dead_model_in_the_picker_is_refused_with_the_button(
    bedrock: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _aws_app(monkeypatch)
    try:
        app.panel.model.value = "amazon.nova-canvas-v1:0"
        app.panel.prompt.value = "a lantern"
        assert app.on_generate() is None
        assert "nothing was sent" in app.error.value
        assert f"--model {CORE}" in app.error.value
        assert app.use_live.layout.display != "none"
        assert bedrock.requests == []
        future = app.use_live_model()
        assert future is not None
        future.result(timeout=30)
        assert [r.model_id for r in bedrock.requests] == [CORE]
    finally:
        app.close()


def test_nova_omni_hides_what_it_lacks(gallery: Gallery) -> None:
    app = GalleryApp(gallery, poll_ms=0)
    try:
        app.panel.model.value = "us.amazon.nova-2-omni-v1:0"
        panel = app.panel
        assert panel.negative.layout.display == "none"
        assert panel.seed.layout.display == "none"
        assert panel.random_seed.layout.display == "none"
        assert panel.quality.layout.display == "none"
        assert panel.advanced.layout.display == "none"
        assert panel.size.description == "Aspect"
        assert "estimate" in panel.cost.value or not panel.show_cost
        request = panel.request()
        assert (request.seed, request.negative_prompt, request.cfg_scale) == (None, None, None)
        app.panel.model.value = CORE
        assert panel.negative.layout.display == "flex"
        assert panel.seed.layout.display == "flex"
    finally:
        app.close()


def test_the_page_is_sent_only_what_changed(
    gallery: Gallery, page_messages: list[tuple[dict[str, object], list[bytes]]]
) -> None:
    """ "Load more" sends the new page's tiles alone, never the whole list again; a star sends
    the one tile; anything else the whole list (and the page's "ready" asks for all of it)."""
    for _ in range(6):
        gallery.generate(GenerationRequest("a plum", count=5, width=320, height=320))
    app = GalleryApp(gallery, poll_ms=0)
    try:
        wait_for(lambda: len(app.grid.items) == 24)

        def item_messages() -> list[dict[str, Any]]:
            found = []
            for data, _buffers in page_messages:
                content = data.get("content")
                if isinstance(content, dict) and content.get("type") == "items":
                    found.append(content)
            return found

        page_messages.clear()
        send(app, type="load_more")
        wait_for(lambda: len(app.grid.items) == 30)
        (added,) = item_messages()
        assert added["op"] == "append"
        assert [i["id"] for i in added["items"]] == [i["id"] for i in app.grid.items[24:]]

        page_messages.clear()
        send(app, type="favorite", ids=[app.grid.items[3]["id"]], on=True)
        wait_for(lambda: app.grid.items[3]["favorite"])
        (starred,) = item_messages()
        assert starred == {"type": "items", "op": "update", "items": [app.grid.items[3]]}

        page_messages.clear()
        send(app, type="ready")
        wait_for(lambda: item_messages())
        assert item_messages()[0]["op"] == "replace"
        assert item_messages()[0]["items"] == app.grid.items
    finally:
        app.close()


def test_items_change_is_the_smallest_message() -> None:
    from gallery_kit.ui.grid import items_change

    a, b, c, d = ({"id": x} for x in "abcd")
    assert items_change([a, b], [a, b, c]) == {"op": "append", "items": [c]}
    assert items_change([b, c], [a, b, c]) == {"op": "prepend", "items": [a]}
    starred = {"id": "b", "favorite": True}
    assert items_change([a, b], [a, starred]) == {"op": "update", "items": [starred]}
    assert items_change([a, b, c], [a, c]) == {"op": "remove", "ids": ["b"]}
    assert items_change([a, b], [d, a]) == {"op": "replace", "items": [d, a]}
    assert items_change([], [a]) == {"op": "append", "items": [a]}
