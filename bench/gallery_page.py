"""Gallery page cost at any bucket size: gallery_kit's S3Store vs. the naive gallery.

    uv run python -m bench.gallery_page            # 1,000 and 20,000 images (~1-2 minutes)
    uv run python -m bench.gallery_page --quick    # 200 and 2,000 images (< 1 minute)

For each bucket size, the first page of 24 and the next page are loaded by:

* gallery_kit: the dashboard's own code, ``Feed.load_more()`` then ``Feed.thumbnails()`` (one
  ListObjectsV2 of the index, whose keys carry each tile's caption, then the page's 24 thumbnails
  fetched at once by the kernel, which sends them over the widget's websocket), in a fresh
  kernel each run (empty caches);
* the naive gallery (what the original guide's design does): list every key with the paginator,
  sort newest first, download each original of the page (8 at a time — generous: the peers do it
  one by one), make thumbnails in memory with Pillow. A Streamlit-style app reruns on every
  interaction, so the next page lists everything again.

Every S3 request of both pays a simulated 20 ms round trip (``--rtt-ms``). Requests and body
bytes are counted by botocore event hooks on each client (see ``bench._common.Meter``).

At the largest size the bench also times design variants (``WHAT_IFS``): the design before the
index, and thumbnails loaded by the browser through presigned URLs (fetched with urllib, 6 at a
time like a browser's per-host connection limit, each paying the same round trip).

The bucket is seeded in gallery_kit's real layout; the originals and thumbnails of the first two
pages are realistic (~1.6 MB PNGs, ~12 KB WebP thumbnails made by gallery_kit), the rest are
small since nobody downloads them. Ends with one JSON line of figures.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/gallery_page.py` works too
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _chart
from bench._common import (
    CLEAN_PREFIXES,
    RTT_S,
    BenchRun,
    Meter,
    S3Server,
    aws_env,
    browser_fetch,
    emit_json,
    fmt_bytes,
    machine,
    median,
    patched_environ,
    save_chart,
)

PAGE = 24
NAIVE_WORKERS = 8
ONE_MB = 1_000_000


@dataclass
class Cost:
    requests: int
    bytes: int
    seconds: float
    #: gallery_kit: time listing the page, then fetching its thumbnails (both in the kernel).
    #: naive: time listing and time downloading + thumbnailing.
    part1_s: float = 0.0
    part2_s: float = 0.0
    thumbnail_bytes: int = 0
    listed: int = 0
    #: Requests the S3 server saw and the CPU it used (moto's own cost), and this process's CPU.
    server_requests: int = 0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0


class Probe:
    """Server requests and CPU, and this process's CPU, around one measurement."""

    def __init__(self, server: S3Server) -> None:
        self.server = server

    def __enter__(self) -> Probe:
        self.before = self.server.stats()
        self.cpu = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        after = self.server.stats()
        self.client_cpu_s = time.process_time() - self.cpu
        self.server_requests = int(after["requests"] - self.before["requests"])
        self.server_cpu_s = after["cpu_s"] - self.before["cpu_s"]

    def fill(self, cost: Cost) -> Cost:
        cost.server_requests = self.server_requests
        cost.server_cpu_s = self.server_cpu_s
        cost.client_cpu_s = self.client_cpu_s
        return cost


def s3_client(rtt_s: float) -> tuple[Any, Meter]:
    """gallery_kit's own S3 client (its config), with the bench's meter and round trip."""
    from gallery_kit.stores.s3_client import s3_client as gk_client

    client = gk_client("us-east-1")
    meter = Meter(rtt_s=rtt_s)
    return meter.attach(client), meter


def warm(client: Any, bucket: str) -> None:
    """Open the client's first connection before timing (a dashboard's client is long-lived)."""
    client.list_objects_v2(Bucket=bucket, MaxKeys=1)


class KernelGallery:
    """The dashboard's own code path with no widget: ``Feed.load_more()`` (one LIST of the
    index) and ``Feed.thumbnails()`` (the page's thumbnails: this machine's thumbnail cache,
    then S3 for the rest, all at once), over a Gallery whose S3Store uses the bench's metered
    client. A fresh one is a new dashboard kernel; ``data_dir`` is the server's
    GALLERY_DATA_DIR, shared by its kernels."""

    def __init__(self, bucket: str, client: Any, data_dir: Path) -> None:
        from gallery_kit.gallery import Gallery
        from gallery_kit.offline.generator import OfflineGenerator
        from gallery_kit.stores.outbox import Outbox
        from gallery_kit.stores.s3 import S3Store
        from gallery_kit.stores.thumbcache import ThumbnailCache
        from gallery_kit.ui.feed import Feed

        self.store = S3Store(bucket, client=client)
        gallery = Gallery(
            OfflineGenerator(),
            self.store,
            Outbox(data_dir / "outbox"),
            thumb_cache=ThumbnailCache(data_dir / "thumbnails"),
        )
        gallery.warm()  # as the dashboard does when it starts
        self.feed = Feed(gallery)
        self.feed.reset()
        self.shown = 0

    def next_page(self) -> list[str]:
        """Load the next page (what the app publishes as tiles); the new tiles' ids."""
        self.feed.load_more()
        ids = [item.id for item in self.feed.visible()[self.shown :]]
        self.shown += len(ids)
        return ids

    def thumbnails(self, ids: list[str]) -> int:
        """What the app then sends to the page: the thumbnails' bytes."""
        return sum(len(data) for _, data in self.feed.thumbnails(ids))

    def close(self) -> None:
        self.store.close()


def gallery_kit_page(server: S3Server, meter: Meter, kernel: KernelGallery) -> Cost:
    meter.reset()
    with Probe(server) as probe:
        start = time.perf_counter()
        ids = kernel.next_page()
        listed = time.perf_counter() - start
        thumb_bytes = kernel.thumbnails(ids)
        total = time.perf_counter() - start
    if len(ids) != PAGE or thumb_bytes == 0:
        raise RuntimeError(f"unexpected page: {len(ids)} tiles, {thumb_bytes} thumbnail bytes")
    cost = Cost(
        requests=meter.requests,
        bytes=meter.bytes,
        seconds=total,
        part1_s=listed,
        part2_s=total - listed,
        thumbnail_bytes=thumb_bytes,
    )
    return probe.fill(cost)


WHAT_IFS = {
    "before": "the design before the index (2026-11-25 morning): LIST of the metadata, 24 "
    "metadata GETs, then the browser loads the thumbnails by presigned URL, 6 at a time",
    "presigned": "the index LIST, then the browser loads the thumbnails by presigned URL, 6 at a "
    "time (a browser's HTTP/1.1 connections per host)",
    "metadata": "the index LIST, then 24 metadata GETs and 24 thumbnail GETs in the kernel, "
    "together (full records instead of the summaries)",
}


def what_if_page(
    server: S3Server, client: Any, meter: Meter, bucket: str, rtt_s: float, variant: str
) -> Cost:
    """A first page done differently, with gallery_kit's store and key layout (bench only)."""
    from gallery_kit.records import META_DIR, id_from_meta_key, meta_key, thumbnail_key
    from gallery_kit.stores.s3 import S3Store

    store = S3Store(bucket, client=client)
    meter.reset()
    browser_bytes = browser_requests = 0
    with Probe(server) as probe:
        start = time.perf_counter()
        if variant == "before":
            listing = client.list_objects_v2(Bucket=bucket, Prefix=META_DIR, MaxKeys=PAGE)
            ids = [i for i in (id_from_meta_key("", o["Key"]) for o in listing["Contents"]) if i]
            with ThreadPoolExecutor(max_workers=16) as pool:
                list(pool.map(lambda i: store.read_object(meta_key("", i)), ids))
            urls = [store.url_for(thumbnail_key("", i)) for i in ids]
        else:
            ids = [i.id for i in store.listing(limit=PAGE).summaries]
            urls = [store.url_for(thumbnail_key("", i)) for i in ids]
        if variant == "metadata":
            with ThreadPoolExecutor(max_workers=2 * PAGE) as pool:
                thumbs = pool.map(lambda i: store.read_object(thumbnail_key("", i)), ids)
                list(pool.map(lambda i: store.read_object(meta_key("", i)), ids))
                list(thumbs)
        else:
            fetched = browser_fetch([u for u in urls if u], rtt_s=rtt_s)
            browser_bytes, browser_requests = fetched.bytes, fetched.requests
        total = time.perf_counter() - start
    store.close()
    if len(ids) != PAGE:
        raise RuntimeError(f"what-if {variant}: {len(ids)} images")
    cost = Cost(
        requests=meter.requests + browser_requests,
        bytes=meter.bytes + browser_bytes,
        seconds=total,
        thumbnail_bytes=browser_bytes,
    )
    return probe.fill(cost)


def naive_thumbnail(data: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((256, 256))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=85)
        return out.getvalue()


def naive_page(
    server: S3Server,
    client: Any,
    meter: Meter,
    bucket: str,
    page_index: int,
    workers: int = NAIVE_WORKERS,
) -> Cost:
    """List every key, sort newest first, download each original of the page, thumbnail it."""
    from gallery_kit.records import IMAGES_DIR

    def show(key: str) -> int:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        return len(naive_thumbnail(body))

    meter.reset()
    with Probe(server) as probe:
        start = time.perf_counter()
        keys: list[str] = []
        for listing in client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=IMAGES_DIR
        ):
            keys.extend(o["Key"] for o in listing.get("Contents", []))
        # The keys start with an inverted timestamp: ascending order is newest first (sorting
        # by LastModified instead would cost the same: everything is listed either way).
        keys.sort()
        listed = time.perf_counter() - start
        chosen = keys[page_index * PAGE : (page_index + 1) * PAGE]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(show, chosen))
        total = time.perf_counter() - start
    return probe.fill(
        Cost(
            requests=meter.requests,
            bytes=meter.bytes,
            seconds=total,
            part1_s=listed,
            part2_s=total - listed,
            listed=len(keys),
        )
    )


def measure_size(
    server: S3Server,
    bucket: str,
    runs: int,
    naive_runs: int,
    rtt_s: float,
    what_ifs: tuple[str, ...] = (),
    naive_workers: int = NAIVE_WORKERS,
) -> dict[str, Cost]:
    """Median wall time over ``runs``; requests and bytes are the same in every run."""
    client, meter = s3_client(rtt_s)
    warm(client, bucket)
    firsts: list[Cost] = []
    nexts: list[Cost] = []
    visitors: list[Cost] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="gk-bench-server-") as data_dir:
            # A dashboard server's first page view: a new kernel, nothing cached anywhere.
            kernel = KernelGallery(bucket, client, Path(data_dir))
            firsts.append(gallery_kit_page(server, meter, kernel))
            nexts.append(gallery_kit_page(server, meter, kernel))
            kernel.close()
            # The next visitor: Voilà starts another kernel; the server's disk has the thumbnails.
            kernel = KernelGallery(bucket, client, Path(data_dir))
            visitors.append(gallery_kit_page(server, meter, kernel))
            kernel.close()
    results = {
        "first": _median_cost(firsts),
        "next": _median_cost(nexts),
        "visitor": _median_cost(visitors),
    }

    import boto3

    for variant in what_ifs:
        costs = [what_if_page(server, client, meter, bucket, rtt_s, variant) for _ in range(runs)]
        results[variant] = _median_cost(costs)

    naive_client = boto3.client("s3")
    naive_meter = Meter(rtt_s=rtt_s)
    naive_meter.attach(naive_client)
    warm(naive_client, bucket)
    naive_firsts = [
        naive_page(server, naive_client, naive_meter, bucket, 0, naive_workers)
        for _ in range(naive_runs)
    ]
    naive_nexts = [
        naive_page(server, naive_client, naive_meter, bucket, 1, naive_workers)
        for _ in range(naive_runs)
    ]
    results["naive_first"] = _median_cost(naive_firsts)
    results["naive_next"] = _median_cost(naive_nexts)
    return results


def _median_cost(costs: list[Cost]) -> Cost:
    last = costs[-1]
    return Cost(
        requests=last.requests,
        bytes=last.bytes,
        seconds=median(c.seconds for c in costs),
        part1_s=median(c.part1_s for c in costs),
        part2_s=median(c.part2_s for c in costs),
        thumbnail_bytes=last.thumbnail_bytes,
        listed=last.listed,
        server_requests=last.server_requests,
        server_cpu_s=median(c.server_cpu_s for c in costs),
        client_cpu_s=median(c.client_cpu_s for c in costs),
    )


def chart(sizes: list[int], results: list[dict[str, Cost]], footer: str) -> Any:
    byte_bars, time_bars = [], []
    for n, r in zip(sizes, results, strict=True):
        for name, cost, colour in (
            (f"gallery_kit, {n:,} images", r["first"], _chart.GK),
            (f"naive, {n:,} images", r["naive_first"], _chart.NAIVE),
        ):
            byte_bars.append(_chart.Bar(name, cost.bytes, fmt_bytes(cost.bytes), colour))
            time_bars.append(_chart.Bar(name, cost.seconds, f"{cost.seconds:.2f} s", colour))
    visitor = results[-1]["visitor"]
    name = f"gallery_kit, {sizes[-1]:,}, next visitor"
    byte_bars.append(_chart.Bar(name, visitor.bytes, fmt_bytes(visitor.bytes), _chart.GK))
    time_bars.append(_chart.Bar(name, visitor.seconds, f"{visitor.seconds:.2f} s", _chart.GK))
    return _chart.stack(
        "First gallery page of 24 (S3 round trip 20 ms)",
        [
            _chart.panel("Bytes transferred (log scale)", byte_bars, log=True, tick=fmt_bytes),
            _chart.panel("Wall time (log scale)", time_bars, log=True, tick=lambda v: f"{v:g} s"),
        ],
        footer,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 and 2,000 images (< 1 min)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for the test suite")
    parser.add_argument("--sizes", type=int, nargs=2, metavar="N", help="bucket sizes")
    parser.add_argument("--runs", type=int, help="runs per measurement (median)")
    parser.add_argument("--rtt-ms", type=float, default=RTT_S * 1000)
    parser.add_argument(
        "--moto-list",
        action="store_true",
        help="keep moto's own O(bucket) ListObjectsV2 instead of the S3-like sorted index",
    )
    parser.add_argument(
        "--naive-workers",
        type=int,
        default=NAIVE_WORKERS,
        help="parallel downloads of the naive gallery (1 = one by one, as the guide does)",
    )
    parser.add_argument(
        "--no-what-if", action="store_true", help="skip the bench-only design variants"
    )
    parser.add_argument("--write-docs", action="store_true", help="also write docs/bench-*.png")
    parser.add_argument("--out-dir", type=Path, help="where the chart goes (default bench/out)")
    args = parser.parse_args(argv)

    bench_run = BenchRun()
    if args.sizes:
        sizes = list(args.sizes)
    elif args.smoke:
        sizes = [60, 120]
    elif args.quick:
        sizes = [200, 2000]
    else:
        sizes = [1000, 20000]
    runs = args.runs or (1 if args.smoke else 3 if args.quick else 5)
    naive_runs = 1 if args.smoke else 2 if args.quick else 3
    rtt_s = args.rtt_ms / 1000

    buckets = [{"name": f"gk-bench-{n:08d}", "images": n, "realistic": 2 * PAGE} for n in sizes]
    print(
        f"gallery_page: buckets of {', '.join(f'{n:,}' for n in sizes)} images; "
        f"{args.rtt_ms:g} ms round trip per S3 request; {machine()}; {bench_run.when}",
        flush=True,
    )
    with S3Server(
        buckets, fast_list=not args.moto_list, distinct_images=2 if args.smoke else 6
    ) as server:
        print(
            f"  moto S3 at {server.url}: seeded in {server.info['seed_s']:.1f} s "
            f"(+{server.info['images_s']:.1f} s making images); original "
            f"{fmt_bytes(server.info['original_bytes'])}, thumbnail "
            f"{fmt_bytes(server.info['thumbnail_bytes'])}; listing: "
            f"{'sorted index (like S3)' if server.info['fast_list'] else 'moto O(bucket)'}",
            flush=True,
        )
        results = []
        with patched_environ(aws_env(server.url), CLEAN_PREFIXES):
            for n in sizes:
                what_ifs = tuple(WHAT_IFS) if n == sizes[-1] and not args.no_what_if else ()
                bucket = f"gk-bench-{n:08d}"
                results.append(
                    measure_size(
                        server, bucket, runs, naive_runs, rtt_s, what_ifs, args.naive_workers
                    )
                )

    print(f"\n  {'images':>7}  {'gallery':<12} {'page':<5} {'requests':>8} {'bytes':>10}  wall")
    for n, r in zip(sizes, results, strict=True):
        for label, key in (
            ("gallery_kit", "first"),
            ("gallery_kit", "next"),
            ("naive", "naive_first"),
            ("naive", "naive_next"),
        ):
            c = r[key]
            detail = (
                f"(listing {c.part1_s * 1000:.0f} ms + thumbnails "
                f"{c.part2_s * 1000:.0f} ms; thumbnails {fmt_bytes(c.thumbnail_bytes)})"
                if label == "gallery_kit"
                else f"(listing {c.listed:,} keys {c.part1_s:.2f} s + originals {c.part2_s:.2f} s)"
            )
            page = "first" if key.endswith("first") else "next"
            print(
                f"  {n:>7,}  {label:<12} {page:<5} {c.requests:>8,} {fmt_bytes(c.bytes):>10}  "
                f"{c.seconds * 1000:,.0f} ms {detail}"
            )
            print(
                f"  {'':>7}  {'':<12} {'':<5} {'':>8} {'':>10}  "
                f"[server saw {c.server_requests} requests, moto CPU "
                f"{c.server_cpu_s * 1000:,.0f} ms, bench CPU {c.client_cpu_s * 1000:,.0f} ms]"
            )

    print(
        "\n  the next visitor's page view (Voilà starts a new kernel; the thumbnails are in the "
        "server's disk cache):"
    )
    for n, r in zip(sizes, results, strict=True):
        c = r["visitor"]
        print(
            f"  {n:>7,}  {'gallery_kit':<12} {'first':<5} {c.requests:>8,} "
            f"{fmt_bytes(c.bytes):>10}  {c.seconds * 1000:,.0f} ms (listing "
            f"{c.part1_s * 1000:.0f} ms + thumbnails from disk {c.part2_s * 1000:.0f} ms)"
        )

    big, small = results[-1], results[0]
    speedup = big["naive_first"].seconds / big["first"].seconds
    visitor_speedup = big["naive_first"].seconds / big["visitor"].seconds
    bytes_ratio = big["naive_first"].bytes / big["first"].bytes
    next_speedup = big["naive_next"].seconds / big["next"].seconds
    next_bytes_ratio = big["naive_next"].bytes / big["next"].bytes
    same = all(
        small[k].requests == big[k].requests and small[k].bytes == big[k].bytes
        for k in ("first", "next")
    )
    under_1mb = all(r[k].bytes < ONE_MB for r in results for k in ("first", "next"))
    targets = {
        "same_requests_and_bytes_at_every_size": same,
        "speedup_at_least_50x": speedup >= 50,
        "bytes_ratio_at_least_50x": bytes_ratio >= 50,
        "page_under_1_MB": under_1mb,
    }
    print(
        f"\n  at {sizes[-1]:,} images, first page: {speedup:.0f}x faster and {bytes_ratio:.0f}x "
        f"fewer bytes than naive; next page: {next_speedup:.0f}x faster, {next_bytes_ratio:.0f}x "
        "fewer bytes"
    )
    print(
        f"  the next visitor's first page: {visitor_speedup:.0f}x faster, "
        f"{big['naive_first'].bytes / big['visitor'].bytes:,.0f}x fewer bytes"
    )
    for name, ok in targets.items():
        print(f"  target {name}: {'PASS' if ok else 'FAIL'}")
    what_if_figures = {}
    if any(k in big for k in WHAT_IFS):
        print(
            f"\n  what-if at {sizes[-1]:,} images: the first page done differently, by the bench "
            "with gallery_kit's store and layout (not gallery_kit code):"
        )
        base = big["first"]
        ratio = big["naive_first"].seconds / base.seconds
        print(
            f"    {base.seconds * 1000:>5.0f} ms  {ratio:>4.0f}x  as built ({base.requests} "
            f"requests, {fmt_bytes(base.bytes)}, moto CPU {base.server_cpu_s * 1000:.0f} ms)"
        )
        for key, text in WHAT_IFS.items():
            c = big[key]
            ratio = big["naive_first"].seconds / c.seconds
            what_if_figures[key] = {
                "wall_s": round(c.seconds, 4),
                "requests": c.requests,
                "bytes": c.bytes,
                "speedup_vs_naive": round(ratio, 1),
                "server_cpu_s": round(c.server_cpu_s, 4),
            }
            print(
                f"    {c.seconds * 1000:>5.0f} ms  {ratio:>4.0f}x  {text} ({c.requests} requests, "
                f"{fmt_bytes(c.bytes)}, moto CPU {c.server_cpu_s * 1000:.0f} ms)"
            )

    footer = f"gallery_kit bench/gallery_page.py · {machine()} · {bench_run.when}"
    image = chart(sizes, results, footer)
    paths = save_chart(image, "gallery_page", write_docs=args.write_docs, out_dir=args.out_dir)
    for path in paths:
        print(f"  chart: {path}")
    facts = bench_run.finish()

    def column(key: str, attr: str) -> list[Any]:
        values = [getattr(r[key], attr) for r in results]
        return [round(v, 4) if isinstance(v, float) else v for v in values]

    emit_json(
        {
            "bench": "gallery_page",
            "images": sizes,
            "rtt_ms": args.rtt_ms,
            "page_size": PAGE,
            "requests": column("first", "requests"),
            "bytes": column("first", "bytes"),
            "wall_s": column("first", "seconds"),
            "thumbnail_bytes": column("first", "thumbnail_bytes"),
            "next_requests": column("next", "requests"),
            "next_bytes": column("next", "bytes"),
            "next_wall_s": column("next", "seconds"),
            "naive_requests": column("naive_first", "requests"),
            "naive_bytes": column("naive_first", "bytes"),
            "naive_wall_s": column("naive_first", "seconds"),
            "naive_next_requests": column("naive_next", "requests"),
            "naive_next_bytes": column("naive_next", "bytes"),
            "naive_next_wall_s": column("naive_next", "seconds"),
            "visitor_requests": column("visitor", "requests"),
            "visitor_bytes": column("visitor", "bytes"),
            "visitor_wall_s": column("visitor", "seconds"),
            "speedup_vs_naive": round(speedup, 1),
            "visitor_speedup_vs_naive": round(visitor_speedup, 1),
            "bytes_ratio_vs_naive": round(bytes_ratio, 1),
            "next_speedup_vs_naive": round(next_speedup, 1),
            "next_bytes_ratio_vs_naive": round(next_bytes_ratio, 1),
            "targets": targets,
            "what_if": what_if_figures,
            "server_cpu_s": column("first", "server_cpu_s"),
            "naive_server_cpu_s": column("naive_first", "server_cpu_s"),
            "listing": "sorted-index" if not args.moto_list else "moto",
            "naive_workers": args.naive_workers,
            "runs": runs,
            **facts,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
