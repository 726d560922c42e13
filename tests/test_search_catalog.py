"""The shared search catalog in S3 (moto): Parquet segments + manifest + change markers.

Each "server" is a Gallery with its own data folder (its own SQLite index) on the same bucket.
S3 requests are counted by a boto3 event hook on each server's own client: real HTTP sends.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pyarrow.fs
import pyarrow.parquet as pq
import pytest

from gallery_kit.errors import GalleryError
from gallery_kit.gallery import Gallery
from gallery_kit.offline.generator import OfflineGenerator
from gallery_kit.records import ImageRecord
from gallery_kit.search.catalog import MANIFEST_KEY, SEGMENTS_DIR, Manifest, decode_segment
from gallery_kit.search.sync import CatalogSync
from gallery_kit.stores.outbox import Outbox
from gallery_kit.stores.s3 import S3Store
from tests.support.faults import FaultyProxy
from tests.support.images import record_made_at
from tests.support.waiting import within

T0 = datetime(2026, 10, 1, tzinfo=UTC)


class Servers:
    """Galleries on one bucket, each with its own folder, S3 client and request count."""

    def __init__(
        self, bucket: str, root: Path, endpoint: str | None = None, page_size: int = 1000
    ) -> None:
        self.bucket, self.root, self.endpoint = bucket, root, endpoint
        self.page_size = page_size
        self.made: list[Gallery] = []
        self.sent: dict[int, int] = {}

    def new(self, name: str) -> Gallery:
        client = boto3.client("s3", region_name="us-east-1", endpoint_url=self.endpoint)
        store = S3Store(self.bucket, client=client)
        gallery = Gallery(OfflineGenerator(), store, Outbox(self.root / name / "outbox"))
        gallery._searcher.sync.page_size = self.page_size
        self.sent[id(gallery)] = 0

        def count(**_kwargs: Any) -> None:
            self.sent[id(gallery)] += 1

        client.meta.events.register("before-send.s3", count)
        self.made.append(gallery)
        return gallery

    def requests(self, gallery: Gallery) -> int:
        return self.sent[id(gallery)]

    def close(self) -> None:
        for g in self.made:
            g.store.close()  # type: ignore[attr-defined]


@pytest.fixture
def servers(bucket: str, tmp_path: Path) -> Iterator[Servers]:
    s = Servers(bucket, tmp_path)
    yield s
    s.close()


def put_many(gallery: Gallery, prompts: list[str], start: datetime = T0) -> list[ImageRecord]:
    """Images a minute apart from ``start`` (settled: older than any compaction's window)."""
    out = []
    for i, prompt in enumerate(prompts):
        r = record_made_at(prompt, start + timedelta(minutes=i), seed=i)
        gallery.store.put(r, b"png", b"webp")
        out.append(r)
    return out


def manifest_of(bucket: str) -> Manifest:
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=bucket, Key=MANIFEST_KEY)
    return Manifest.from_json(body["Body"].read())


def segment_keys(bucket: str) -> list[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    found = s3.list_objects_v2(Bucket=bucket, Prefix=SEGMENTS_DIR).get("Contents", [])
    return sorted(o["Key"] for o in found)


def ids_found(gallery: Gallery, query: str = "") -> list[str]:
    page = gallery.search(query, limit=1000)
    return [r.id for r in page.records]


def test_a_cold_server_reads_the_catalog_in_a_handful_of_requests(servers: Servers) -> None:
    writer = servers.new("writer")
    made = put_many(writer, [f"kite number {i}" for i in range(60)])
    report = writer.compact_catalog()
    assert report.won
    assert report.rows == 60
    manifest = manifest_of(servers.bucket)
    assert manifest.rows == 60
    assert len(manifest.segments) == 1
    # Newer than the watermark: only in the index keys, read by the cold server's one LIST.
    newer = put_many(writer, ["a kite today"], start=datetime.now(UTC))

    cold = servers.new("cold")
    refreshed = cold.refresh_search()
    assert refreshed.cold
    # The manifest, one segment, one LIST of the changes and the newest keys.
    assert servers.requests(cold) == 3
    assert refreshed.catalog_bytes < 20_000
    assert sorted(ids_found(cold, "kite")) == sorted(r.id for r in made + newer)


def test_nothing_changed_costs_one_list_per_poll(servers: Servers) -> None:
    writer = servers.new("writer")
    put_many(writer, ["a"] * 5)
    writer.compact_catalog()
    reader = servers.new("reader")
    reader.refresh_search()
    before = servers.requests(reader)
    for _ in range(3):
        reader.refresh_search()
    assert servers.requests(reader) - before == 3


def test_deleted_on_one_server_disappears_on_the_others(servers: Servers) -> None:
    writer = servers.new("writer")
    made = put_many(writer, [f"fox {i}" for i in range(10)])
    writer.compact_catalog()
    warm = servers.new("warm")
    assert len(ids_found(warm, "fox")) == 10
    gone = made[3].id
    writer.delete(gone)

    page, took = within(10, lambda: warm.search("fox", limit=100), lambda p: p.total == 9)
    assert gone not in [r.id for r in page.records]
    assert page.total == 9
    print(f"\na deletion was seen by another server's search after {took:.2f} s")
    # A server that starts now reads it from the change marker (the segment still has it)...
    assert gone not in ids_found(servers.new("cold-1"), "fox")
    # ...and after the next compaction the segment itself no longer holds it.
    assert writer.compact_catalog().replaced
    rows = [
        s.id
        for seg in manifest_of(servers.bucket).segments
        for s in decode_segment(read(servers.bucket, seg.key))
    ]
    assert gone not in rows
    assert len(rows) == 9
    assert len(ids_found(servers.new("cold-2"), "fox")) == 9


def read(bucket: str, key: str) -> bytes:
    s3 = boto3.client("s3", region_name="us-east-1")
    data: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return data


def test_an_image_listed_late_is_found_by_warm_and_cold_servers(
    bucket: str, tmp_path: Path
) -> None:
    # Two keys a LIST: the late image lies well past what a poll reads of the index keys.
    servers = Servers(bucket, tmp_path, page_size=2)
    try:
        writer = servers.new("writer")
        put_many(writer, [f"owl {i}" for i in range(5)])
        writer.compact_catalog()
        warm = servers.new("warm")
        assert len(ids_found(warm, "owl")) == 5
        # An image whose upload waited (an outbox flush): its id is older than the watermark.
        late = record_made_at("owl that waited", T0 + timedelta(minutes=2, seconds=30))
        servers.new("flusher").store.put(late, b"png", b"webp")

        page, _ = within(10, lambda: warm.search("waited"), lambda p: p.total == 1)
        assert [r.id for r in page.records] == [late.id]
        assert ids_found(servers.new("cold"), "waited") == [late.id]
        writer.compact_catalog()
        assert ids_found(servers.new("cold-after"), "waited") == [late.id]
    finally:
        servers.close()


def test_four_writers_and_a_compactor_at_once_lose_and_duplicate_nothing(
    servers: Servers,
) -> None:
    writers = [servers.new(f"writer-{n}") for n in range(4)]
    compactor = servers.new("compactor")
    put_many(compactor, [f"old {i}" for i in range(20)])
    compactor.compact_catalog()
    stop = threading.Event()

    def write(g: Gallery, n: int) -> None:
        put_many(g, [f"writer {n} image {i} kite" for i in range(10)], T0 + timedelta(days=n + 1))

    def compact() -> None:
        while not stop.is_set():
            compactor.compact_catalog()

    threads = [threading.Thread(target=write, args=(g, n)) for n, g in enumerate(writers)]
    background = threading.Thread(target=compact)
    background.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    background.join()
    compactor.compact_catalog()
    for name in ("cold", "warm"):
        reader = servers.new(name)
        ids = ids_found(reader, "kite")
        assert len(ids) == 40
        assert len(set(ids)) == 40
    rows = [
        s.id
        for seg in manifest_of(servers.bucket).segments
        for s in decode_segment(read(servers.bucket, seg.key))
    ]
    assert len(rows) == len(set(rows)) == 60  # the catalog itself holds each image once


def test_two_compactors_at_once_one_manifest_wins_and_no_segment_is_left(
    servers: Servers,
) -> None:
    a, b = servers.new("a"), servers.new("b")
    put_many(a, [f"heron {i}" for i in range(30)])
    a.compact_catalog()
    put_many(a, [f"egret {i}" for i in range(30)], T0 + timedelta(days=1))
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def run(g: Gallery) -> None:
        g.refresh_search()
        barrier.wait()
        results.append(g.compact_catalog())

    threads = [threading.Thread(target=run, args=(g,)) for g in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert any(r.won for r in results)
    named = {s.key for s in manifest_of(servers.bucket).segments}
    assert set(segment_keys(servers.bucket)) == named  # the loser removed its own
    assert len(ids_found(servers.new("cold"))) == 60


def test_a_crash_mid_compaction_leaves_a_readable_catalog(
    bucket: str, s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FaultyProxy(s3_endpoint) as proxy:
        servers = Servers(bucket, tmp_path, endpoint=proxy.url)
        try:
            writer = servers.new("writer")
            put_many(writer, [f"crane {i}" for i in range(20)])
            writer.compact_catalog()
            before = manifest_of(bucket)
            put_many(writer, [f"crane later {i}" for i in range(20)], T0 + timedelta(days=1))
            # The new segments are written; the manifest PUT fails (the process dies there).
            proxy.fail_keys = MANIFEST_KEY
            with pytest.raises(GalleryError):
                writer.compact_catalog()
            proxy.fail_keys = None
            assert manifest_of(bucket) == before  # the old manifest, and all it names
            assert {s.key for s in before.segments} <= set(segment_keys(bucket))
            assert len(segment_keys(bucket)) > len(before.segments)  # the crash's leftover
            assert len(ids_found(servers.new("cold"), "crane")) == 40

            # The next compaction, an hour later, finishes the job and removes the leftover.
            later = servers.new("later")
            later.refresh_search()
            sync: CatalogSync = later._searcher.sync
            sync._clock = lambda: datetime.now(UTC) + timedelta(hours=2)
            assert sync.compact().won
            assert set(segment_keys(bucket)) == {s.key for s in manifest_of(bucket).segments}
            assert len(ids_found(servers.new("cold-2"), "crane")) == 40
        finally:
            servers.close()


def test_a_broken_manifest_falls_back_to_the_index_keys(servers: Servers) -> None:
    writer = servers.new("writer")
    put_many(writer, [f"moth {i}" for i in range(7)])
    writer.compact_catalog()
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=servers.bucket, Key=MANIFEST_KEY, Body=b"{not json")
    assert len(ids_found(servers.new("cold"), "moth")) == 7
    assert writer.compact_catalog(full=True).won  # and the next compaction writes it anew
    assert manifest_of(servers.bucket).rows == 7


def test_reindex_writes_the_catalog_anew_from_the_index_keys(servers: Servers) -> None:
    writer = servers.new("writer")
    put_many(writer, [f"wren {i}" for i in range(8)])
    writer.compact_catalog()
    for key in segment_keys(servers.bucket):  # the catalog lost entirely
        boto3.client("s3", region_name="us-east-1").delete_object(Bucket=servers.bucket, Key=key)
    writer.reindex()
    manifest = manifest_of(servers.bucket)
    assert manifest.rows == 8
    assert len(ids_found(servers.new("cold"), "wren")) == 8


def test_the_segments_read_in_one_line_of_pyarrow(servers: Servers, s3_endpoint: str) -> None:
    writer = servers.new("writer")
    put_many(writer, ["a lighthouse", "a fox", "a lighthouse keeper"])
    writer.compact_catalog()
    s3 = pyarrow.fs.S3FileSystem(
        endpoint_override=s3_endpoint,
        region="us-east-1",
        access_key=os.environ["AWS_ACCESS_KEY_ID"],
        secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    )
    # The README's line (there: s3fs defaults; here: moto's endpoint).
    table = pq.read_table(f"{servers.bucket}/gallery-kit/catalog/segments/", filesystem=s3)
    assert table.num_rows == 3
    assert set(table.column_names) >= {"id", "created_at", "prompt", "model_id", "seed"}
    assert sorted(table.column("prompt").to_pylist())[0] == "a fox"
    manifest = json.loads(read(servers.bucket, MANIFEST_KEY))
    assert manifest["rows"] == 3


def test_kernels_of_one_server_starting_at_once_share_its_index(servers: Servers) -> None:
    # Voilà gives each visitor a kernel; they share this machine's index file.
    writer = servers.new("writer")
    made = put_many(writer, [f"gull {i}" for i in range(300)])
    writer.compact_catalog()
    kernels = [servers.new("server") for _ in range(4)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(kernels))

    def start(g: Gallery) -> None:
        barrier.wait()
        try:
            g.search("gull")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(g,)) for g in kernels]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for g in kernels:
        ids = ids_found(g, "gull")
        assert sorted(ids) == sorted(r.id for r in made)
