"""The dashboard's curation driven from Python, offline and on S3 (moto): stars, boards and the
picker, "Generate into", the trash with Undo, compare, the ZIP download (checked byte for byte)
and two sessions curating the same images at once. The browser tests drive the same app
through Voilà (tests/test_dashboard_curation.py)."""

from __future__ import annotations

import io
import json
import threading
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gallery_kit import Gallery, load_settings
from gallery_kit.curation import Curator
from gallery_kit.export import file_name
from gallery_kit.stores.s3_exports import PART_BYTES, S3ExportUpload
from gallery_kit.ui.app import GalleryApp
from gallery_kit.ui.routes import route
from tests.test_app import generate, page_messages, wait_for

__all__ = ["page_messages"]  # the fixture, used by name


@pytest.fixture(params=["offline", "s3"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "s3":
        request.getfixturevalue("bucket")
        monkeypatch.setenv("GALLERY_GENERATOR", "offline")  # S3 for real, no model needed
    return str(request.param)


def new_app(gallery: Gallery) -> GalleryApp:
    app = GalleryApp(gallery, poll_ms=0)
    wait_for(lambda: not app.grid.loading and (app.grid.items or app.grid.empty_text != "Loading…"))
    wait_for(lambda: app.grid.views)
    return app


@pytest.fixture
def gallery(mode: str) -> Gallery:
    return Gallery.from_settings(load_settings())


@pytest.fixture
def app(gallery: Gallery) -> Iterator[GalleryApp]:
    app = new_app(gallery)
    yield app
    app.close()


def shown(app: GalleryApp) -> list[str]:
    return [item["id"] for item in app.grid.items]


def view(app: GalleryApp, key: str) -> None:
    route(app, {"type": "view", "key": key})
    wait_for(lambda: app.grid.view == key and not app.grid.loading)


def board_key(app: GalleryApp, name: str) -> str:
    wait_for(lambda: any(v["label"] == name for v in app.grid.views))
    return next(str(v["key"]) for v in app.grid.views if v["label"] == name)


def count_of(app: GalleryApp, key: str) -> object:
    return next(v["count"] for v in app.grid.views if v["key"] == key)


def test_stars_boards_generate_into_and_the_picker(app: GalleryApp, gallery: Gallery) -> None:
    generate(app, "a red fox")
    generate(app, "a grey heron")
    generate(app, "a green frog")
    frog, heron, fox = shown(app)
    assert [v["label"] for v in app.grid.views] == ["All images", "Favourites", "Trash"]

    route(app, {"type": "favorite", "ids": [fox, "../../etc/passwd"], "on": True})
    wait_for(lambda: [i["id"] for i in app.grid.items if i["favorite"]] == [fox])
    assert Curator(gallery.store).favorites() == [fox]  # the bad id was dropped
    assert count_of(app, "favorites") == 1

    route(app, {"type": "board_create", "name": "Water birds & <frogs>", "ids": [heron, frog]})
    cats = board_key(app, "Water birds & <frogs>")
    assert count_of(app, cats) == 2
    assert app.panel.into.options[1] == ("Water birds & <frogs>", cats.removeprefix("board:"))

    # "Generate into": the new image joins the board, and shows in its view.
    view(app, cats)
    assert shown(app) == [frog, heron]
    app.panel.into.value = cats.removeprefix("board:")
    generate(app, "a white egret")
    egret = shown(app)[0]
    assert shown(app) == [egret, frog, heron]
    assert Curator(gallery.store).board_images("Water birds & <frogs>") == sorted(
        [egret, frog, heron]
    )
    wait_for(lambda: count_of(app, cats) == 3)

    view(app, "favorites")
    assert shown(app) == [fox]
    view(app, "all")
    assert shown(app) == [egret, frog, heron, fox]

    # The lightbox tells the star and the boards; the search works within a board.
    route(app, {"type": "open", "id": heron})
    wait_for(lambda: app.grid.detail.get("id") == heron)
    assert app.grid.detail["favorite"] is False
    assert app.grid.detail["boards"] == ["Water birds & <frogs>"]
    route(app, {"type": "favorite", "ids": [heron], "on": True})
    wait_for(lambda: app.grid.detail.get("favorite") is True)
    view(app, cats)
    app.search.text.value = "heron"
    wait_for(lambda: shown(app) == [heron])

    route(app, {"type": "board_remove", "board": cats, "ids": [heron]})
    wait_for(lambda: shown(app) == [])
    route(app, {"type": "board_rename", "board": cats, "name": "Ponds"})
    wait_for(lambda: any(v["label"] == "Ponds" for v in app.grid.views))
    route(app, {"type": "board_delete", "board": cats})
    wait_for(lambda: app.grid.view == "all" and len(app.grid.views) == 3)
    assert Curator(gallery.store).boards() == []
    assert len(gallery.page().records) == 4  # the images stay


def test_trash_with_undo_and_the_trash_view(app: GalleryApp, gallery: Gallery) -> None:
    for prompt in ("one", "two", "three"):
        generate(app, prompt)
    three, two, one = shown(app)
    route(app, {"type": "open", "id": two})
    wait_for(lambda: app.grid.detail.get("id") == two)

    # Delete in the lightbox: to the trash, the next image opens, an Undo is offered.
    route(app, {"type": "trash", "ids": [two]})
    wait_for(lambda: shown(app) == [three, one])
    wait_for(lambda: app.grid.detail.get("id") == one)
    assert app.grid.toast["undo"] == [two]
    assert "Moved 1 image to the trash" in app.grid.toast["text"]
    assert [r.id for r in gallery.page().records] == [three, one]
    assert count_of(app, "trash") == 1

    route(app, {"type": "restore", "ids": app.grid.toast["undo"]})  # Undo
    wait_for(lambda: shown(app) == [three, two, one])
    assert count_of(app, "trash") == 0

    route(app, {"type": "trash", "ids": [three, one]})
    wait_for(lambda: shown(app) == [two])
    view(app, "trash")
    assert shown(app) == [three, one]
    assert app.search.count.value == "2 images in the trash"
    route(app, {"type": "restore", "ids": [one]})
    wait_for(lambda: shown(app) == [three])
    route(app, {"type": "empty_trash"})
    wait_for(lambda: shown(app) == [])
    assert [r.id for r in gallery.page().records] == [two, one]
    assert gallery.trash_bin.items() == []


def test_compare_marks_what_differs(app: GalleryApp) -> None:
    generate(app, "a lighthouse", random_seed=False, seed=7)
    generate(app, "a lighthouse", random_seed=False, seed=8)
    ids = shown(app)
    route(app, {"type": "compare", "ids": ids[:1]})  # one is refused, in the page
    wait_for(lambda: "2 to 4 images" in app.error.value)
    route(app, {"type": "compare", "ids": ids})
    wait_for(lambda: app.grid.compare)
    rows = {row["label"]: row for row in app.grid.compare["rows"]}
    assert rows["Seed"] == {"label": "Seed", "values": ["8", "7"], "differ": True}
    assert rows["Prompt"]["differ"] is False
    assert [i["id"] for i in app.grid.compare["items"]] == ids
    assert all(i["src"] for i in app.grid.compare["items"])


def _download(app: GalleryApp, gallery: Gallery, mode: str) -> bytes:
    wait_for(lambda: app.grid.download.get("state") in ("ready", "failed"), timeout=30)
    download = app.grid.download
    assert download["state"] == "ready", download
    if mode == "s3":
        assert download["url"].startswith("http")  # a presigned GET, straight from S3
        with urllib.request.urlopen(download["url"]) as answer:  # noqa: S310 - moto, loopback
            return bytes(answer.read())
    name = download["url"].removeprefix("gallery-kit/exports/").split("?")[0]
    path = gallery.store.export_path(name)  # type: ignore[attr-defined]
    assert path is not None
    return Path(path).read_bytes()


def test_zip_download_is_byte_for_byte(app: GalleryApp, gallery: Gallery, mode: str) -> None:
    generate(app, "a teapot", count=2)
    generate(app, "a kettle", count=1)
    kettle, teapot, _other = shown(app)
    route(app, {"type": "favorite", "ids": [kettle], "on": True})
    route(app, {"type": "export", "ids": [kettle, teapot]})
    data = _download(app, gallery, mode)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = sorted(zf.namelist())
        for image_id in (kettle, teapot):
            record = gallery.get(image_id)
            assert zf.read(file_name(record)) == gallery.read_original(record)
        rows = [json.loads(line) for line in zf.read("manifest.jsonl").decode().splitlines()]
        assert "manifest.csv" in names
    assert len(names) == 4
    assert {r["id"]: r["favorite"] for r in rows} == {kettle: True, teapot: False}

    # Without ids: everything the view and search match, not only the loaded pages.
    app.search.text.value = "teapot"
    wait_for(lambda: len(shown(app)) == 2)
    route(app, {"type": "export"})
    wait_for(lambda: app.grid.download.get("total") == 2)
    with zipfile.ZipFile(io.BytesIO(_download(app, gallery, mode))) as zf:
        assert len([n for n in zf.namelist() if not n.startswith("manifest")]) == 2


def test_a_multipart_export_is_the_bytes_written(bucket: str) -> None:
    """Past one part (8 MiB) the ZIP goes up as a multipart upload; aborting leaves nothing."""
    import boto3

    client = boto3.client("s3", region_name="us-east-1")
    upload = S3ExportUpload(client, bucket, "gallery-kit/exports/big.zip", "big.zip")
    chunks = [bytes([i]) * (PART_BYTES // 3 + 17) for i in range(8)]
    for chunk in chunks:
        upload.write(chunk)
    with urllib.request.urlopen(upload.commit()) as answer:  # noqa: S310 - moto, loopback
        assert answer.read() == b"".join(chunks)
    assert len(upload._parts) == 3  # 2 full parts and the rest

    gone = S3ExportUpload(client, bucket, "gallery-kit/exports/gone.zip", "gone.zip")
    gone.write(b"x" * (PART_BYTES + 1))
    gone.abort()
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["gallery-kit/exports/big.zip"]


def test_two_sessions_curating_the_same_images_at_once(gallery: Gallery) -> None:
    """Two dashboards (two kernels) star and board the same images at the same moment; nothing
    is lost, and each sees the other's changes at its next poll."""
    first = new_app(gallery)
    second = new_app(Gallery.from_settings(load_settings()))
    try:
        for i in range(6):
            generate(first, f"image {i}")
        ids = shown(first)
        route(first, {"type": "board_create", "name": "Picks"})
        key = board_key(first, "Picks")
        second.poll()
        wait_for(lambda: any(v["key"] == key for v in second.grid.views))

        start = threading.Barrier(2)

        def curate(app: GalleryApp, mine: list[str]) -> None:
            start.wait()
            for image_id in mine:
                app.curate.favorite([image_id], True)
                app.curate.add(key, [image_id])

        threads = [
            threading.Thread(target=curate, args=(first, ids[0::2])),
            threading.Thread(target=curate, args=(second, ids[1::2])),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        curator = Curator(gallery.store)
        assert curator.favorites() == sorted(ids)
        assert curator.board_images("Picks") == sorted(ids)
        for app in (first, second):
            app.poll()
            wait_for(lambda app=app: all(i["favorite"] for i in app.grid.items))  # type: ignore[misc]
            assert count_of(app, key) == 6
    finally:
        first.close()
        second.close()
