"""The thumbnail cache on this machine's disk, alone and as the gallery uses it in AWS mode."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gallery_kit import Gallery, GenerationRequest, load_settings
from gallery_kit.imaging import make_thumbnail
from gallery_kit.records import new_image_id
from gallery_kit.stores.thumbcache import ThumbnailCache
from tests.support.bedrock import BedrockEndpoint
from tests.support.images import png


def webp(seed: int) -> bytes:
    return make_thumbnail(png(64 + seed, 48, (seed * 40 % 256, 90, 150))).data


def test_round_trip_and_foreign_names_ignored(tmp_path: Path) -> None:
    cache = ThumbnailCache(tmp_path / "cache")
    image_id = new_image_id()
    assert cache.get(image_id) is None
    cache.put(image_id, webp(1))
    assert cache.get(image_id) == webp(1)
    cache.put("../../etc/passwd", webp(1))  # never a path outside the folder
    cache.put("not-an-id", webp(1))
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [f"{image_id}.thumb"]
    cache.discard(image_id)
    assert cache.get(image_id) is None


def test_a_torn_file_is_a_miss_and_is_removed(tmp_path: Path) -> None:
    cache = ThumbnailCache(tmp_path)
    image_id = new_image_id()
    data = webp(2)
    (tmp_path / f"{image_id}.thumb").write_bytes(data[: len(data) // 2])  # as a crash leaves it
    assert cache.get(image_id) is None
    assert not (tmp_path / f"{image_id}.thumb").exists()
    (tmp_path / f"{image_id}.thumb").write_bytes(b"")
    assert cache.get(image_id) is None
    cache.put(image_id, data[:-1])  # a torn download is not kept either
    assert cache.get(image_id) is None


def test_trim_removes_the_least_recently_used(tmp_path: Path) -> None:
    data = webp(3)
    cache = ThumbnailCache(tmp_path, max_bytes=len(data) * 10)
    ids = [new_image_id() for _ in range(14)]
    for age, image_id in enumerate(ids):
        cache.put(image_id, data)
        # The first write starts a trim in the background: let it end before the ages are
        # set (on a loaded machine it ran after them, and trimmed ids[0]).
        for thread in threading.enumerate():
            if thread.name == "gk-thumb-trim":
                thread.join()
        os.utime(tmp_path / f"{image_id}.thumb", (1_000_000 + age, 1_000_000 + age))
    assert cache.get(ids[0]) == data  # used now: the newest of all
    cache.trim()
    kept = {p.name.removesuffix(".thumb") for p in tmp_path.iterdir()}
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) <= len(data) * 9
    assert {ids[0], ids[-1]} <= kept
    assert not {ids[1], ids[2]} & kept  # the oldest went first


def folder_bytes(folder: Path) -> int:
    total = 0
    for path in folder.iterdir():
        with contextlib.suppress(FileNotFoundError):  # the trim may remove it meanwhile
            total += path.stat().st_size
    return total


def test_a_kernels_first_write_trims_a_full_folder_in_the_background(tmp_path: Path) -> None:
    data = webp(5)
    for _ in range(20):  # what other kernels of this server left
        (tmp_path / f"{new_image_id()}.thumb").write_bytes(data)
    cache = ThumbnailCache(tmp_path, max_bytes=len(data) * 10)
    newest = new_image_id()
    cache.put(newest, data)
    deadline = time.monotonic() + 10
    while folder_bytes(tmp_path) > len(data) * 9:
        assert time.monotonic() < deadline, "the folder was never trimmed"
        time.sleep(0.02)
    assert cache.get(newest) == data


def test_an_unwritable_folder_costs_nothing_but_the_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    cache = ThumbnailCache(blocker / "cache")  # a folder that cannot be made
    image_id = new_image_id()
    cache.put(image_id, webp(4))
    assert cache.get(image_id) is None
    cache.trim()


@pytest.fixture
def aws(bucket: str, bedrock: BedrockEndpoint) -> Iterator[Gallery]:
    bedrock.small_images = True
    gallery = Gallery.from_settings(load_settings())
    try:
        yield gallery
    finally:
        gallery.close()


def s3_requests(gallery: Gallery) -> list[str]:
    """Every HTTP request the gallery's S3 client sends (API calls and presigned GETs alike
    go through its HTTP session), passed on unchanged."""
    urls: list[str] = []
    session = gallery.store.client._endpoint.http_session  # type: ignore[attr-defined]
    send = session.send

    def counted(request: Any) -> Any:
        urls.append(request.url)
        return send(request)

    session.send = counted
    return urls


def test_a_new_kernel_shows_thumbnails_this_machine_has_seen_without_s3(aws: Gallery) -> None:
    made = aws.generate(GenerationRequest("a lighthouse", count=3, width=512, height=512))
    ids = [r.id for r in made.records]
    first = Gallery.from_settings(load_settings())  # a kernel: fetches from S3, keeps copies
    asked = s3_requests(first)
    thumbs = first.thumbnails(ids)
    assert thumbs == {r.id: aws.read_thumbnail(r) for r in made.records}
    assert len(asked) == 3
    first.close()

    second = Gallery.from_settings(load_settings())  # the next page view's kernel
    asked = s3_requests(second)
    assert second.thumbnails(ids) == thumbs
    assert asked == []
    second.delete(ids[0])  # gone for everyone: its copy here goes too
    assert second.thumb_cache is not None
    assert second.thumb_cache.get(ids[0]) is None
    second.close()


def test_offline_mode_keeps_no_second_copy() -> None:
    gallery = Gallery.from_settings(load_settings())
    assert gallery.thumb_cache is None  # the folder store is on this disk already
