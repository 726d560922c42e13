"""Search through S3: a cold server, a warm server's polls, kernel memory with a big catalog.

    uv run python -m bench.search_s3            # 100,000 images in moto; 1,000,000 catalog rows
    uv run python -m bench.search_s3 --quick    # 1,000 images; 100,000 catalog rows

Over moto (``bench._common.S3Server``, seeded with gallery_kit's real layout) with a simulated
20 ms round trip on every request (``Meter``). Measured in the same run:

- **cold, with the catalog**: a server with an empty local index runs its first search, to the
  first page of matching tiles: the manifest, the Parquet segments, one LIST
  (search/sync.py). Requests, bytes, seconds. Then that page's thumbnails, as any page.
- **cold, index keys only** (the catalog's own first writer, and the first part's way): the whole
  listing, 1,000 keys a LIST.
- **naive** (what the original app does): the whole listing, then every metadata object. Its
  GETs are timed over the first 2,000 images (32 at a time, as gallery_kit's pool) and scaled
  to the gallery: printed as an estimate.
- **bounded scan** (the Filter box before search): the newest 11 pages of 24, 264 images: it
  cannot find anything older.
- **polls**: requests and time of a poll when nothing changed, and how long another server's new
  image takes to be found.
- **memory**: a fresh Python process (a kernel) opens a gallery whose catalog holds N rows
  written straight into the catalog format (a local folder store), runs a search, reports its
  peak RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from bench._chart import Bar, panel, stack
from bench._common import REGION, REPO, BenchRun, Meter, S3Server, aws_env, emit_json, save_chart
from bench._common import patched_environ as env_of
from gallery_kit.gallery import Gallery
from gallery_kit.offline.generator import OfflineGenerator
from gallery_kit.records import ImageRecord, ImageSummary, meta_key, new_image_id, now_iso
from gallery_kit.search.catalog import MANIFEST_KEY, Manifest, Segment, encode_segment, segment_key
from gallery_kit.search.catalog import tile as tile_rows
from gallery_kit.search.searcher import Filters
from gallery_kit.stores.outbox import Outbox
from gallery_kit.stores.s3 import S3Store

BUCKET = "gallery"
NAIVE_SAMPLE = 2_000
WORDS = ("lighthouse", "fox", "harbour", "rain", "kite", "castle", "robot", "garden", "bridge")


def metered_gallery(url: str, folder: Path, meter: Meter) -> Gallery:
    client = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=url,
        config=Config(max_pool_connections=32, retries={"mode": "standard"}),
    )
    meter.attach(client)
    return Gallery(OfflineGenerator(), S3Store(BUCKET, client=client), Outbox(folder / "outbox"))


def timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def cost(meter: Meter, seconds: float, **extra: Any) -> dict[str, Any]:
    return {
        "seconds": round(seconds, 3),
        "requests": meter.requests,
        "mb": round(meter.bytes / 1e6, 2),
        **extra,
    }


def measure_s3(images: int, tmp: Path) -> dict[str, Any]:
    with (
        S3Server([{"name": BUCKET, "images": images}]) as server,
        env_of(aws_env(server.url), ("AWS_",)),
    ):
        out: dict[str, Any] = {"images": images}
        # The first server ever: no catalog, so the whole listing; then it writes the catalog.
        meter = Meter()
        first = metered_gallery(server.url, tmp / "first", meter)
        first._searcher._compact = False  # its catalog write is measured below, not behind
        (_, _, total), took = timed(lambda: first.search_summaries(Filters("lighthouse")))
        out["cold_index_keys_only"] = cost(meter, took, matches=total)
        print("  cold, index keys only:", out["cold_index_keys_only"], flush=True)
        meter.reset()
        report, took = timed(lambda: first.compact_catalog())
        out["writing_the_catalog"] = cost(meter, took, segments=len(report.written))
        cold_dir = tmp / "cold"

        meter = Meter()
        cold = metered_gallery(server.url, cold_dir, meter)
        (tiles, _, total), took = timed(lambda: cold.search_summaries(Filters("lighthouse")))
        out["cold_with_catalog"] = cost(meter, took, matches=total)
        assert total == out["cold_index_keys_only"]["matches"], "the two ways disagree"
        # Then the page's thumbnails, as any page of the gallery (24 GETs side by side).
        meter.reset()
        _, took = timed(lambda: cold.store.read_thumbnails([t.id for t in tiles]))
        out["then_the_thumbnails"] = cost(meter, took)
        print("  cold, with the catalog:", out["cold_with_catalog"], flush=True)

        # Warm: a word query's first page in the service, p50 of 20 (the index is local).
        times = []
        for i in range(20):
            _, took = timed(lambda i=i: cold.search_summaries(Filters(WORDS[i % len(WORDS)])))
            times.append(took)
        out["warm_first_page_ms_p50"] = round(sorted(times)[10] * 1000, 2)

        meter.reset()
        for _ in range(5):
            cold.refresh_search()
        out["poll_nothing_changed"] = {"requests_per_poll": meter.requests / 5}

        # Another server's new image: found by this one's next poll.
        first.store.put(_record("a new lighthouse from another server"), b"png", b"webp")
        start = time.perf_counter()
        while cold.search("another server").total == 0:
            time.sleep(0.1)
        out["another_servers_image_found_s"] = round(time.perf_counter() - start, 2)

        # Baselines.
        meter = Meter()
        bounded = metered_gallery(server.url, tmp / "bounded", meter)
        _, took = timed(lambda: _bounded_scan(bounded))
        out["bounded_scan"] = cost(meter, took, covers_images=min(images, 11 * 24))
        meter = Meter()
        naive = metered_gallery(server.url, tmp / "naive", meter)
        out["naive_estimate"] = _naive(naive, meter, images)
        print("  all of S3:", json.dumps(out), flush=True)
        for g in (first, cold, bounded, naive):
            g.store.close()  # type: ignore[attr-defined]
        return out


def _record(prompt: str) -> ImageRecord:
    now = datetime.now(UTC)
    image_id = new_image_id(now)
    return ImageRecord(
        id=image_id,
        prompt=prompt,
        model_id="offline",
        width=8,
        height=8,
        created_at=now_iso(now),
        content_type="image/png",
        byte_size=3,
        original_key=f"gallery-kit/images/{image_id}.png",
        thumbnail_key=f"gallery-kit/thumbs/{image_id}.webp",
    )


def _bounded_scan(gallery: Gallery) -> None:
    cursor = None
    for _ in range(11):
        listing = gallery.store.listing(cursor=cursor, limit=24)
        cursor = listing.next_cursor
        if cursor is None:
            return


def _naive(gallery: Gallery, meter: Meter, images: int) -> dict[str, Any]:
    """List every index key, GET every metadata object (timed on a sample, then scaled)."""
    store = gallery.store
    ids: list[str] = []
    start = time.perf_counter()
    cursor = None
    while True:
        listing = store.listing(cursor=cursor, limit=1000)
        ids += [s.id for s in listing.summaries]
        cursor = listing.next_cursor
        if cursor is None:
            break
    list_s = time.perf_counter() - start
    list_requests, list_bytes = meter.requests, meter.bytes
    sample = ids[:NAIVE_SAMPLE]
    meter.reset()
    client: Any = store.client  # type: ignore[attr-defined]
    start = time.perf_counter()
    with ThreadPoolExecutor(32) as pool:
        list(
            pool.map(
                lambda i: client.get_object(Bucket=BUCKET, Key=meta_key("", i))["Body"].read(),
                sample,
            )
        )
    scale = images / max(1, len(sample))
    get_s = (time.perf_counter() - start) * scale
    return {
        "seconds": round(list_s + get_s, 1),
        "requests": list_requests + round(meter.requests * scale),
        "mb": round((list_bytes + meter.bytes * scale) / 1e6, 1),
        "scaled_from": len(sample),
    }


# --- memory: a kernel with a big catalog -------------------------------------------------------


def write_catalog(folder: Path, rows: int) -> None:
    """``rows`` summaries straight into the catalog format, in a local folder store."""
    base = datetime.now(UTC) - timedelta(days=1)
    summaries = [
        ImageSummary(
            new_image_id(base - timedelta(seconds=i), f"{i:010x}"),
            f"{WORDS[i % 9]} {WORDS[(i * 7) % 9]} number {i} in the {('rain', 'sun')[i % 2]}",
            "stability.stable-image-core-v1:1",
            seed=i,
        )
        for i in range(rows)
    ]
    segments = []
    for start, before, part in tile_rows(summaries[0].id, None, summaries):
        key = segment_key(start)
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode_segment(part))
        segments.append(Segment(key, len(part), start, before))
    manifest = Manifest(segments, summaries[0].id, "", base.isoformat())
    (folder / MANIFEST_KEY).write_bytes(manifest.to_json())


def kernel_memory(rows: int, tmp: Path) -> dict[str, Any]:
    store = tmp / f"store-{rows}"
    write_catalog(store, rows)
    child = subprocess.run(
        [sys.executable, "-m", "bench.search_s3", "--kernel", str(store)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp)},
    )
    return {"rows": rows, **json.loads(child.stdout.strip().splitlines()[-1])}


def kernel(store_folder: str) -> None:
    """The child: open the gallery (cold: the catalog), search, report peak RSS."""
    from gallery_kit.stores.local import LocalStore

    folder = Path(store_folder)
    gallery = Gallery(OfflineGenerator(), LocalStore(folder), Outbox(folder.parent / "outbox"))
    start = time.perf_counter()
    page = gallery.search("lighthouse")
    took = time.perf_counter() - start
    # VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts at its parent's RSS at fork.
    status = Path("/proc/self/status").read_text()
    peak_mb = (
        int(next(ln for ln in status.splitlines() if ln.startswith("VmHWM")).split()[1]) / 1024
    )
    print(
        json.dumps({"peak_rss_mb": round(peak_mb), "cold_s": round(took, 2), "matches": page.total})
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 images, 100,000 rows")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for the test suite")
    parser.add_argument("--out-dir", type=Path, help="where the chart goes (default bench/out)")
    parser.add_argument("--kernel", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.kernel:
        kernel(args.kernel)
        return
    run = BenchRun()
    images = 300 if args.smoke else 1_000 if args.quick else 100_000
    rows = 2_000 if args.smoke else 100_000 if args.quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="gk-bench-search-s3-") as tmp:
        s3 = measure_s3(images, Path(tmp))
        memory = kernel_memory(rows, Path(tmp))
    ways = [
        ("cold, catalog", s3["cold_with_catalog"]),
        ("cold, index keys only", s3["cold_index_keys_only"]),
        ("naive (estimate)", s3["naive_estimate"]),
    ]
    panels = [
        panel(
            f"{images:,} images: a cold server's first search (s, log scale)",
            [Bar(label, max(w["seconds"], 1e-3), f"{w['seconds']:.2f} s") for label, w in ways],
            log=True,
            target=3.0,
            target_text="target 3 s",
        ),
        panel(
            f"{images:,} images: S3 requests (log scale)",
            [Bar(label, max(w["requests"], 1), f"{w['requests']:,}") for label, w in ways],
            log=True,
            target=25,
            target_text="target 25",
        ),
    ]
    closing = run.finish()
    chart = stack("Search through S3 (moto, 20 ms round trip)", panels, closing["machine"])
    # (The README's chart comes from bench/search.py, which runs this part too.)
    save_chart(chart, "search_s3", write_docs=False, out_dir=args.out_dir)
    cold = s3["cold_with_catalog"]
    emit_json(
        {
            "bench": "search_s3",
            **s3,
            "kernel_memory": memory,
            "targets": {
                "cold first results <= 3 s": cold["seconds"] <= 3,
                "cold <= 25 requests": cold["requests"] <= 25,
                "cold <= 15 MB": cold["mb"] <= 15,
                "poll <= 1 request": s3["poll_nothing_changed"]["requests_per_poll"] <= 1,
                "kernel memory <= 500 MB": memory["peak_rss_mb"] <= 500,
            },
            **closing,
        }
    )


if __name__ == "__main__":
    main()
