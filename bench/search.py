"""Search: a warm server's query time in the service against a linear scan, then through S3.

    uv run python -m bench.search            # 1,000 / 100,000 / 1,000,000 summaries
    uv run python -m bench.search --quick    # 1,000 / 100,000 (< 1 minute)

What it measures: this machine's search index (``gallery_kit.search.local_index``, SQLite FTS5)
filled with synthetic summaries of N images, then p50 over 20 runs of each query form (words,
a prefix while typing, a phrase, an exclusion, a filter), the first page of 24 plus the exact
match count. The baseline, measured in the same run on the same summaries, is a linear scan in
Python with the same matching rules (``Query.matches``): what any design without an index pays.
Then, through S3 (``bench/search_s3.py``, moto with a 20 ms round trip) at 1,000 and 100,000
images: a cold server's first page of matches with the shared catalog, against the whole index
listing, the naive gallery (every metadata object) and the old bounded scan; polls; and the
peak memory of a fresh process opening a 1,000,000-row catalog. Not measured yet: the
dashboard's time from a keystroke to the page's thumbnails.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._chart import GK, Bar, panel, stack
from bench._common import BenchRun, emit_json, save_chart
from bench.search_s3 import kernel_memory, measure_s3
from gallery_kit.records import ImageSummary, created_at_of, new_image_id
from gallery_kit.search.local_index import LocalIndex
from gallery_kit.search.query import Query, parse

WORDS = (
    "lighthouse",
    "fox",
    "harbour",
    "rain",
    "snow",
    "cat",
    "kite",
    "boat",
    "forest",
    "city",
    "night",
    "dusk",
    "dawn",
    "river",
    "castle",
    "dragon",
    "robot",
    "garden",
    "street",
    "market",
    "lantern",
    "mountain",
    "desert",
    "ocean",
    "bridge",
    "tower",
    "meadow",
)
QUERIES = {
    "word": "lighthouse",
    "two words": "lighthouse fox",
    "typing (prefix)": "lantern ligh",
    "phrase": '"harbour rain"',
    "exclusion": "castle -dragon",
    "rare word": "n4242",
}
RUNS = 20
TARGET_MS = 50.0
#: The ways of a cold server's first search in the chart: label, figures, colour, bar text.
COLD_WAYS: list[tuple[str, str, tuple[int, int, int], Any]] = [
    (
        "gallery_kit, shared catalog",
        "cold_with_catalog",
        GK,
        lambda w: f"{w['seconds']:.2f} s, {w['requests']} requests",
    ),
    (
        "index keys only (first server ever)",
        "cold_index_keys_only",
        (120, 120, 200),
        lambda w: f"{w['seconds']:.1f} s, {w['requests']} requests",
    ),
    (
        "naive: every metadata object (est.)",
        "naive_estimate",
        (170, 170, 170),
        lambda w: f"{w['seconds']:.1f} s, {w['requests']:,} requests",
    ),
    (
        "old bounded scan (newest 264 only)",
        "bounded_scan",
        (200, 170, 120),
        lambda w: f"{w['seconds']:.2f} s, finds only the newest 264",
    ),
]


def summaries(n: int, seed: int = 1) -> list[ImageSummary]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        ImageSummary(
            new_image_id(start + timedelta(seconds=i)),
            " ".join(rng.choice(WORDS) for _ in range(10)) + f" n{i}",
            rng.choice(("stability.stable-image-core-v1:1", "amazon.nova-canvas-v1:0")),
            seed=i,
        )
        for i in range(n)
    ]


def p50_ms(fn: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def scan(rows: list[ImageSummary], query: Query) -> tuple[list[str], int]:
    hits = [
        s.id
        for s in rows
        if query.matches(
            prompt=s.prompt,
            model_id=s.model_id,
            operation="generated",
            created_at=created_at_of(s.id),
            seed=s.seed,
        )
    ]
    return sorted(hits)[:24], len(hits)


def measure(n: int, folder: Path, runs: int, scan_runs: int) -> dict[str, Any]:
    rows = summaries(n)
    index = LocalIndex(folder / f"index-{n}.sqlite")
    began = time.perf_counter()
    for start in range(0, n, 1000):
        index.add(rows[start : start + 1000])
    fill_s = time.perf_counter() - began
    out: dict[str, Any] = {"images": n, "fill_s": round(fill_s, 2), "queries": {}}
    for label, text in QUERIES.items():
        query = parse(text)
        ids, total = index.search(query, limit=24)
        expected = scan(rows, query)
        assert (ids, total) == expected, f"index and scan disagree on {text!r}"
        indexed = p50_ms(lambda q=query: index.search(q, limit=24), runs)
        scanned = p50_ms(lambda q=query: scan(rows, q), scan_runs)
        out["queries"][label] = {
            "matches": total,
            "index_ms": round(indexed, 2),
            "scan_ms": round(scanned, 1),
            "speedup": round(scanned / indexed, 1) if indexed else None,
        }
        print(
            f"  {n:>9,} images  {label:16} {total:>8,} matches  index {indexed:7.2f} ms  "
            f"scan {scanned:9.1f} ms  ({scanned / indexed:,.0f}x)",
            flush=True,
        )
    out["file_mb"] = round((folder / f"index-{n}.sqlite").stat().st_size / 1e6, 1)
    index.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k and 100k only (< 1 min)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for the test suite")
    parser.add_argument("--out-dir", type=Path, help="where the chart goes (default bench/out)")
    args = parser.parse_args()
    run = BenchRun()
    sizes = [200, 2_000] if args.smoke else [1_000, 100_000] + ([] if args.quick else [1_000_000])
    runs = 3 if args.smoke else RUNS
    s3_sizes = [300] if args.smoke else [1_000] if args.quick else [1_000, 100_000]
    catalog_rows = 2_000 if args.smoke else 100_000 if args.quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="gk-bench-search-") as tmp:
        results = [
            measure(n, Path(tmp), runs, 1 if n >= 1_000_000 else min(runs, 5)) for n in sizes
        ]
        # Through S3 (moto, 20 ms round trip): see bench/search_s3.py.
        s3 = [measure_s3(n, Path(tmp) / f"s3-{n}") for n in s3_sizes]
        memory = kernel_memory(catalog_rows, Path(tmp))
    worst = {r["images"]: max(q["index_ms"] for q in r["queries"].values()) for r in results}
    panels = [
        panel(
            f"{r['images']:,} images: first page + count, p50 (ms, log scale)",
            [
                bar
                for label, q in r["queries"].items()
                for bar in (
                    Bar(f"{label}: index", q["index_ms"], f"{q['index_ms']:.2f} ms"),
                    Bar(f"{label}: scan", q["scan_ms"], f"{q['scan_ms']:.0f} ms", (170, 170, 170)),
                )
            ],
            log=True,
            target=TARGET_MS,
            target_text=f"target {TARGET_MS:.0f} ms",
        )
        for r in results
    ]
    panels += [
        panel(
            f"{r['images']:,} images in S3: a cold server's first page of matches (s, log scale)",
            [
                Bar(label, r[key]["seconds"], text(r[key]), colour)
                for label, key, colour, text in COLD_WAYS
            ],
            log=True,
            target=3.0,
            target_text="target 3 s (100k)",
        )
        for r in s3
    ]
    closing = run.finish()
    chart = stack("Search: this machine's index, and through S3", panels, closing["machine"])
    save_chart(chart, "search", write_docs=not (args.smoke or args.quick), out_dir=args.out_dir)
    emit_json(
        {
            "bench": "search",
            "results": results,
            "worst_index_ms": worst,
            "s3": s3,
            "kernel_memory": memory,
            "targets": {
                **{
                    f"warm word query <= {TARGET_MS:.0f} ms at {r['images']:,}": (
                        r["queries"]["word"]["index_ms"] <= TARGET_MS
                    )
                    for r in results
                },
                **{
                    f"every warm query <= {TARGET_MS:.0f} ms at {n:,}": ms <= TARGET_MS
                    for n, ms in worst.items()
                },
                **{
                    f"cold at {r['images']:,}: <= 3 s, <= 25 requests, <= 15 MB": (
                        r["cold_with_catalog"]["seconds"] <= 3
                        and r["cold_with_catalog"]["requests"] <= 25
                        and r["cold_with_catalog"]["mb"] <= 15
                    )
                    for r in s3
                },
                "poll <= 1 request": all(
                    r["poll_nothing_changed"]["requests_per_poll"] <= 1 for r in s3
                ),
                f"kernel memory <= 500 MB with {catalog_rows:,} rows": memory["peak_rss_mb"] <= 500,
            },
            **closing,
        }
    )


if __name__ == "__main__":
    main()
