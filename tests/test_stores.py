"""LocalStore and S3Store (moto over real HTTP) through one contract; then the outbox."""

from __future__ import annotations

import io
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from PIL import Image

from gallery_kit.errors import GalleryError, ImageNotFound, StorageError
from gallery_kit.imaging import make_thumbnail
from gallery_kit.records import (
    ImageRecord,
    ImageSummary,
    index_key,
    meta_key,
    new_image_id,
    now_iso,
    original_key,
    record_to_json,
    thumbnail_key,
)
from gallery_kit.stores.base import ImageStore
from gallery_kit.stores.local import LocalStore
from gallery_kit.stores.outbox import Outbox
from gallery_kit.stores.s3 import S3Store

# Against moto and s3rver, a second S3 implementation (conftest: --s3).
pytestmark = pytest.mark.every_s3

T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


def png(colour: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@dataclass
class StoreCase:
    store: ImageStore
    prefix: str
    #: Write an object the way another tool would (bypassing the store).
    raw_put: Callable[[str, bytes], None]


def make_record(
    prefix: str, when: datetime, prompt: str = "a cat", **changes: object
) -> ImageRecord:
    image_id = new_image_id(when)
    fields: dict[str, object] = {
        "id": image_id,
        "prompt": prompt,
        "model_id": "offline",
        "width": 64,
        "height": 48,
        "created_at": now_iso(when),
        "content_type": "image/png",
        "byte_size": 0,
        "original_key": original_key(prefix, image_id, "image/png"),
        "thumbnail_key": thumbnail_key(prefix, image_id),
        "seed": 1,
    }
    fields.update(changes)
    return ImageRecord(**fields)  # type: ignore[arg-type]  # test data


def put_new(case: StoreCase, when: datetime, prompt: str = "a cat") -> tuple[ImageRecord, bytes]:
    original = png((len(prompt) * 7 % 256, 90, 150))
    record = make_record(case.prefix, when, prompt, byte_size=len(original))
    case.store.put(record, original, make_thumbnail(original).data)
    return record, original


@pytest.fixture(params=["local", "s3"])
def case(request: pytest.FixtureRequest, tmp_path: Path, s3_impl: str) -> Iterator[StoreCase]:
    if request.param == "local":
        root = tmp_path / "store"
        store = LocalStore(root)

        def local_put(key: str, data: bytes) -> None:
            path = root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

        yield StoreCase(store, "", local_put)
        return
    yield from _s3_case(request.getfixturevalue("bucket"))


def _s3_case(bucket: str) -> Iterator[StoreCase]:
    s3 = S3Store(bucket, prefix="team-a/", region="us-east-1")
    raw = boto3.client("s3", region_name="us-east-1")

    def s3_put(key: str, data: bytes) -> None:
        raw.put_object(Bucket=bucket, Key=key, Body=data)

    try:
        yield StoreCase(s3, "team-a/", s3_put)
    finally:
        s3.close()


@pytest.fixture
def s3_case(bucket: str) -> Iterator[StoreCase]:
    yield from _s3_case(bucket)


def test_put_get_and_read_back_unchanged(case: StoreCase) -> None:
    record, original = put_new(case, T0, "서울 야경 🌃")
    assert case.store.exists(record.id)
    got = case.store.get(record.id)
    assert got == record
    assert got.prompt == "서울 야경 🌃"
    assert case.store.read_original(got) == original
    thumb = case.store.read_thumbnail(got)
    assert thumb[:4] == b"RIFF"
    assert thumb[8:12] == b"WEBP"


def test_page_is_newest_first_with_a_stable_cursor(case: StoreCase) -> None:
    records = [put_new(case, T0 + timedelta(minutes=m), f"image {m}")[0] for m in range(5)]
    newest_first = [r.id for r in reversed(records)]

    first = case.store.page(limit=2)
    assert [r.id for r in first.records] == newest_first[:2]
    assert first.next_cursor is not None
    assert first.problems == []

    # A new image arrives while someone pages: it must not shift the pages already handed out.
    newer, _ = put_new(case, T0 + timedelta(hours=1), "arrived later")

    second = case.store.page(cursor=first.next_cursor, limit=2)
    assert [r.id for r in second.records] == newest_first[2:4]
    third = case.store.page(cursor=second.next_cursor, limit=2)
    assert [r.id for r in third.records] == newest_first[4:]
    assert third.next_cursor is None

    fresh = case.store.page(limit=10)
    assert [r.id for r in fresh.records] == [newer.id, *newest_first]
    assert fresh.next_cursor is None


def test_page_of_exactly_limit_has_no_next_cursor(case: StoreCase) -> None:
    for m in range(3):
        put_new(case, T0 + timedelta(minutes=m))
    page = case.store.page(limit=3)
    assert len(page.records) == 3
    assert page.next_cursor is None


def test_empty_gallery(case: StoreCase) -> None:
    page = case.store.page()
    assert page.records == []
    assert page.next_cursor is None
    assert page.problems == []
    assert case.store.foreign_objects() == []


def test_get_unknown_or_malformed_id_is_image_not_found(case: StoreCase) -> None:
    with pytest.raises(ImageNotFound) as caught:
        case.store.get(new_image_id(T0))
    assert "gallery-kit list" in str(caught.value)
    with pytest.raises(ImageNotFound):
        case.store.get("../../etc/passwd")
    assert not case.store.exists("../../etc/passwd")
    assert not case.store.exists(new_image_id(T0))


def test_delete_removes_all_three(case: StoreCase) -> None:
    keep, _ = put_new(case, T0, "keep")
    gone, _ = put_new(case, T0 + timedelta(seconds=1), "gone")
    case.store.delete(gone.id)
    assert not case.store.exists(gone.id)
    with pytest.raises(ImageNotFound):
        case.store.get(gone.id)
    with pytest.raises(ImageNotFound):
        case.store.read_original(gone)
    with pytest.raises(ImageNotFound):
        case.store.read_thumbnail(gone)
    assert [r.id for r in case.store.page().records] == [keep.id]
    assert [i.id for i in case.store.listing().summaries] == [keep.id]
    with pytest.raises(ImageNotFound):
        case.store.delete(gone.id)


@pytest.mark.parametrize("summary", ["readable", "unreadable"])
def test_metadata_that_is_not_json_is_a_problem_not_a_failure(
    case: StoreCase, summary: str
) -> None:
    good, _ = put_new(case, T0)
    broken = make_record(case.prefix, T0 + timedelta(minutes=1), "broken")
    broken_key = meta_key(case.prefix, broken.id)
    case.raw_put(broken_key, b"{this is not json")
    if isinstance(case.store, S3Store):  # listed by an index key another tool wrote
        key = index_key(case.prefix, broken) if summary == "readable" else ""
        case.raw_put(key or f"{case.prefix}gallery-kit/index/{broken.id}.%%%", b"")
    page = case.store.page()
    assert [r.id for r in page.records] == [good.id]
    (problem,) = page.problems
    assert broken_key in problem
    assert "JSON" in problem
    listing = case.store.listing()
    if isinstance(case.store, S3Store) and summary == "readable":
        # The grid shows the tile from its summary; opening it reports the problem.
        assert [i.id for i in listing.summaries] == [broken.id, good.id]
        assert listing.problems == []
    else:
        assert [i.id for i in listing.summaries] == [good.id]
        assert listing.problems == page.problems


def test_listing_carries_what_a_tile_shows_and_pages_like_page(case: StoreCase) -> None:
    prompts = ["서울 야경 🌃", "x" * 1024, "plain"]
    records = [put_new(case, T0 + timedelta(minutes=m), p)[0] for m, p in enumerate(prompts)]
    first = case.store.listing(limit=2)
    rest = case.store.listing(cursor=first.next_cursor, limit=2)
    assert rest.next_cursor is None
    got = first.summaries + rest.summaries
    assert [i.id for i in got] == [r.id for r in reversed(records)]
    assert [i.id for i in got] == [r.id for r in case.store.page(limit=5).records]
    by_id = {i.id: i for i in got}
    assert by_id[records[0].id].prompt == "서울 야경 🌃"
    assert by_id[records[2].id] == ImageSummary.of(records[2])
    long = by_id[records[1].id]
    assert records[1].prompt.startswith(long.prompt)
    # S3 keys hold 1,024 bytes: there the prompt is shortened (the metadata keeps it whole).
    assert long.shortened == isinstance(case.store, S3Store)
    assert case.store.get(records[1].id).prompt == "x" * 1024


def test_read_thumbnails_leaves_out_what_is_missing(case: StoreCase) -> None:
    records = [put_new(case, T0 + timedelta(minutes=m), f"p{m}")[0] for m in range(3)]
    unknown = new_image_id(T0 + timedelta(hours=2))
    got = case.store.read_thumbnails([r.id for r in records] + [unknown])
    assert list(got) == [r.id for r in records]
    for record in records:
        assert got[record.id] == case.store.read_thumbnail(record)


def test_s3_listing_is_one_request_and_reads_no_object(bucket: str) -> None:
    store = S3Store(bucket, region="us-east-1")
    case = StoreCase(store, "", lambda _k, _d: None)
    for m in range(30):
        put_new(case, T0 + timedelta(minutes=m), f"image {m}")
    calls: list[str] = []
    store.client.meta.events.register("before-call.s3", lambda model, **_: calls.append(model.name))
    fresh = S3Store(bucket, client=store.client)  # nothing cached
    listing = fresh.listing(limit=24)
    assert len(listing.summaries) == 24
    assert calls == ["ListObjectsV2"]
    calls.clear()
    fresh.listing(cursor=listing.next_cursor, limit=24)
    assert calls == ["ListObjectsV2"]
    fresh.close()
    store.close()


def test_s3_reindex_lists_older_images_and_drops_orphans(s3_case: StoreCase) -> None:
    case = s3_case
    listed, _ = put_new(case, T0, "stored by this version")
    # Stored by a version before the index: metadata, original and thumbnail, no index key.
    older = make_record(case.prefix, T0 + timedelta(minutes=1), "stored by an older version")
    case.raw_put(older.original_key, png())
    case.raw_put(older.thumbnail_key, make_thumbnail(png()).data)
    case.raw_put(meta_key(case.prefix, older.id), record_to_json(older))
    orphan = make_record(case.prefix, T0 + timedelta(minutes=2), "metadata deleted by hand")
    case.raw_put(index_key(case.prefix, orphan), b"")
    assert [i.id for i in case.store.listing().summaries] == [orphan.id, listed.id]

    report = case.store.reindex()
    assert (report.added, report.removed, report.problems) == ([older.id], [orphan.id], [])
    assert [i.id for i in case.store.listing().summaries] == [older.id, listed.id]
    again = case.store.reindex()
    assert (again.added, again.removed) == ([], [])


def test_s3_delete_unlists_an_image_whose_metadata_is_gone(s3_case: StoreCase) -> None:
    case = s3_case
    orphan = make_record(case.prefix, T0, "metadata deleted by hand")
    case.raw_put(index_key(case.prefix, orphan), b"")
    case.store.delete(orphan.id)
    assert case.store.listing().summaries == []
    with pytest.raises(ImageNotFound):
        case.store.delete(orphan.id)


def test_foreign_images_are_found_and_our_folder_is_skipped(case: StoreCase) -> None:
    put_new(case, T0)
    p = case.prefix
    case.raw_put(p + "streamlit/cat.png", png())
    case.raw_put(p + "dog.JPG", b"\xff\xd8\xff not really")
    case.raw_put(p + "notes.txt", b"hello")
    case.raw_put(p + "gallery-kit/images/stray.png", png())  # inside our folder: ours
    found = sorted(o.key for o in case.store.foreign_objects())
    assert found == [p + "dog.JPG", p + "streamlit/cat.png"]
    cat = next(o for o in case.store.foreign_objects() if o.key.endswith("cat.png"))
    assert cat.size == len(png())
    assert cat.last_modified.tzinfo is not None
    assert case.store.read_object(cat.key) == png()


def test_s3_store_skips_objects_outside_its_prefix(bucket: str) -> None:
    raw = boto3.client("s3", region_name="us-east-1")
    raw.put_object(Bucket=bucket, Key="team-b/photo.png", Body=png())
    raw.put_object(Bucket=bucket, Key="team-a/photo.png", Body=png())
    store = S3Store(bucket, prefix="team-a/")
    try:
        assert [o.key for o in store.foreign_objects()] == ["team-a/photo.png"]
        for key in ("team-b/photo.png", "team-a/../team-b/photo.png", ""):
            with pytest.raises(StorageError) as caught:
                store.read_object(key)
            assert "outside" in str(caught.value)
        with pytest.raises(StorageError):
            store.url_for("team-b/photo.png")
    finally:
        store.close()


def test_s3_store_refuses_records_whose_keys_escape_the_prefix(bucket: str) -> None:
    store = S3Store(bucket, prefix="team-a/")
    try:
        record = make_record("team-a/", T0, original_key="team-b/overwrite.png")
        with pytest.raises(StorageError):
            store.put(record, png(), b"thumb")
        with pytest.raises(StorageError):
            store.read_original(record)
        listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=bucket)
        assert not any(o["Key"].startswith("team-b/") for o in listed.get("Contents", []))
        assert store.page().records == []  # no metadata written for a refused image
    finally:
        store.close()


@pytest.mark.parametrize(
    "key", ["../outside.png", "gallery-kit/../../outside.png", "/etc/passwd", "."]
)
def test_local_store_refuses_keys_that_escape_its_folder(tmp_path: Path, key: str) -> None:
    root = tmp_path / "store"
    store = LocalStore(root)
    (tmp_path / "outside.png").write_bytes(png())
    with pytest.raises(StorageError) as caught:
        store.read_object(key)
    assert "outside" in str(caught.value)
    record = make_record("", T0, original_key=key)
    with pytest.raises(StorageError):
        store.put(record, b"overwritten?", b"thumb")
    assert (tmp_path / "outside.png").read_bytes() == png()
    assert store.page().records == []


def test_local_store_in_an_unwritable_place_says_which_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StorageError) as caught:
        LocalStore(blocker / "store")
    assert "GALLERY_DATA_DIR" in str(caught.value)


def test_presigned_url_fetches_the_thumbnail(case: StoreCase) -> None:
    record, _ = put_new(case, T0)
    url = case.store.url_for(record.thumbnail_key)
    if isinstance(case.store, LocalStore):
        assert url is None  # bytes go through the kernel instead
        return
    assert url is not None
    assert "X-Amz-Signature" in url  # SigV4
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - moto on 127.0.0.1
        assert response.read() == case.store.read_thumbnail(record)


def test_uri_names_the_location(case: StoreCase) -> None:
    record, _ = put_new(case, T0)
    uri = case.store.uri(record.original_key)
    if isinstance(case.store, S3Store):
        assert uri == f"s3://{case.store.bucket}/{record.original_key}"
    else:
        assert Path(uri).read_bytes() == case.store.read_original(record)


def test_s3_errors_name_the_bucket_and_the_fix(s3_endpoint: str) -> None:
    store = S3Store("no-such-bucket-here")
    try:
        with pytest.raises(StorageError) as caught:
            store.page()
        assert "no-such-bucket-here" in str(caught.value)
        assert "S3_BUCKET_NAME" in str(caught.value)
    finally:
        store.close()


# --- the outbox -------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unreachable_s3_store() -> S3Store:
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{closed_port()}",
        config=Config(connect_timeout=1, retries={"total_max_attempts": 1}),
    )
    return S3Store("gallery-kit-test", client=client)


class RefusingStore(LocalStore):
    """A real local store that refuses some ids, as a flaky backend would."""

    def __init__(self, root: Path, refuse: set[str]) -> None:
        super().__init__(root)
        self.refuse = refuse

    def put(self, record: ImageRecord, original: bytes, thumbnail: bytes) -> None:
        if record.id in self.refuse:
            raise StorageError(f"refused {record.id}")
        super().put(record, original, thumbnail)


def _outbox_with(tmp_path: Path, n: int) -> tuple[Outbox, list[tuple[ImageRecord, bytes]]]:
    outbox = Outbox(tmp_path / "outbox")
    items = []
    for i in range(n):
        original = png((i * 60, 10, 10))
        record = make_record("", T0 + timedelta(minutes=i), f"waiting {i}", byte_size=len(original))
        outbox.add(record, original, make_thumbnail(original).data)
        items.append((record, original))
    return outbox, items


def test_outbox_keeps_records_and_bytes(tmp_path: Path) -> None:
    outbox, items = _outbox_with(tmp_path, 3)
    assert outbox.ids() == sorted(r.id for r, _ in items)
    assert [r.id for r in outbox.records()] == [r.id for r, _ in reversed(items)]
    record, original = items[0]
    assert outbox.has(record.id)
    assert outbox.get(record.id) == record
    assert outbox.read_original(record.id) == original
    assert not outbox.has("../escape")
    # A folder without meta.json is an unfinished write: ignored.
    (outbox.root / new_image_id(T0)).mkdir()
    assert len(outbox.ids()) == 3


def test_outbox_flush_uploads_and_empties(tmp_path: Path) -> None:
    outbox, items = _outbox_with(tmp_path, 2)
    store = LocalStore(tmp_path / "store")
    report = outbox.flush(store)
    assert sorted(report.uploaded) == sorted(r.id for r, _ in items)
    assert report.failed == []
    assert outbox.ids() == []
    for record, original in items:
        assert store.read_original(store.get(record.id)) == original


def test_outbox_flush_keeps_what_fails(tmp_path: Path) -> None:
    outbox, items = _outbox_with(tmp_path, 3)
    refused = items[1][0].id
    report = outbox.flush(RefusingStore(tmp_path / "store", {refused}))
    assert sorted(report.uploaded) == sorted(r.id for r, _ in items if r.id != refused)
    assert [i for i, _ in report.failed] == [refused]
    assert f"refused {refused}" in report.failed[0][1]
    assert outbox.ids() == [refused]
    assert outbox.read_original(refused) == items[1][1]


def test_outbox_flush_to_unreachable_s3_keeps_everything(tmp_path: Path) -> None:
    outbox, items = _outbox_with(tmp_path, 2)
    store = unreachable_s3_store()
    try:
        report = outbox.flush(store)
    finally:
        store.close()
    assert report.uploaded == []
    assert len(report.failed) == 2
    assert all("S3_REGION" in reason or "network" in reason for _, reason in report.failed)
    assert sorted(outbox.ids()) == sorted(r.id for r, _ in items)
    # And once a store is reachable, everything goes.
    assert len(outbox.flush(LocalStore(tmp_path / "store")).uploaded) == 2


def test_outbox_refuses_a_malformed_id(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    with pytest.raises(GalleryError):
        outbox.add(make_record("", T0, id="../../escape"), b"x", b"y")
    assert not (tmp_path / "escape").exists()


def test_s3_warm_starts_every_worker_before_the_first_page(s3_case: StoreCase) -> None:
    store = s3_case.store
    assert isinstance(store, S3Store)
    ours = lambda: [t for t in threading.enumerate() if t.name.startswith("gk-s3")]  # noqa: E731
    before = len(ours())
    put_new(s3_case, T0, "warm")  # starts a few of the store's threads
    store.warm()
    store.warm()  # once is enough
    deadline = time.monotonic() + 10
    while len(ours()) < before + 32 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(ours()) == before + 32
    assert [i.prompt for i in store.listing().summaries] == ["warm"]
