"""What gallery_kit adds around one model call: decode, thumbnail, outbox, uploads, metadata.

    uv run python -m bench.generate_path            # 7/5/5 runs per case (~1 minute)
    uv run python -m bench.generate_path --quick    # fewer runs (< 1 minute)

``Gallery.from_settings()`` in AWS mode, exactly as the dashboard and CLI build it, against:

* the local Bedrock endpoint of the test suite (``tests/support/bedrock/``, real HTTP, SigV4,
  schema-checked), answering at once with pre-generated realistic PNGs (~1.6 MB at 1024x1024,
  ~6.5 MB at 2048x2032): a subclass serves them from memory instead of drawing images, and times
  its own handling of each request (reading the request, JSON-encoding the answer, writing it);
* moto S3 (its own process), every S3 request paying a simulated 20 ms round trip (``--rtt-ms``).

Overhead = wall time of ``Gallery.generate()`` minus the endpoint's own handling time. It
includes everything gallery_kit does: validation, signing, reading and JSON/base64-decoding the
answer, sniffing, the WebP thumbnail, the durable outbox write (fsync), the uploads of original +
thumbnail, the metadata object, the outbox clean-up.

Cases: 1 and 5 images of 1024x1024, and 1 of 2048x2032 (Nova Canvas' largest square-ish size:
its pixel count must stay under 4,194,304, so 2048x2048 itself is refused). Uploads of several
images are shown overlapped by the start/end times of every PutObject of a 5-image run.
"""

from __future__ import annotations

import argparse
import base64
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/generate_path.py` works too
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _chart
from bench._common import (
    CLEAN_PREFIXES,
    RTT_S,
    BenchRun,
    Meter,
    S3Server,
    aws_env,
    emit_json,
    fmt_bytes,
    machine,
    median,
    patched_environ,
    realistic_png,
    save_chart,
)
from tests.support.bedrock import BedrockEndpoint

MODEL_ID = "amazon.nova-canvas-v1:0"
BUCKET = "gk-bench-generate"
TARGET_MS = 150.0
PROMPT = "A lighthouse on a basalt cliff at dusk, long exposure, waves breaking, cinematic light"


@dataclass(frozen=True)
class Case:
    name: str
    width: int
    height: int
    count: int


CASES = [
    Case("1 x 1024x1024", 1024, 1024, 1),
    Case("5 x 1024x1024", 1024, 1024, 5),
    Case("1 x 2048x2032", 2048, 2032, 1),
]


class InstantEndpoint(BedrockEndpoint):
    """The test suite's endpoint, answering with pre-made images and timing itself."""

    def __init__(self, images: dict[tuple[int, int], list[str]]) -> None:
        super().__init__()
        self._images = images
        self.handling_s: list[float] = []

    def _image(self, plan: Any, index: int) -> str:
        choices = self._images[(plan.width, plan.height)]
        return choices[index % len(choices)]

    def _handle(self, h: Any) -> None:
        start = time.perf_counter()
        try:
            super()._handle(h)
        finally:
            self.handling_s.append(time.perf_counter() - start)


@dataclass
class Run:
    wall_s: float
    endpoint_s: float
    outbox_s: float
    store_put_s: float
    puts: list[tuple[str, float, float]] = field(default_factory=list)

    @property
    def overhead_s(self) -> float:
        return self.wall_s - self.endpoint_s


class Timed:
    """Wraps methods of one object (not its class) to add up the time spent in them."""

    def __init__(self, obj: Any, *names: str) -> None:
        self.total = dict.fromkeys(names, 0.0)
        for name in names:
            setattr(obj, name, self._wrap(name, getattr(obj, name)))

    def _wrap(self, name: str, fn: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.total[name] += time.perf_counter() - start

        return timed

    def reset(self) -> None:
        for name in self.total:
            self.total[name] = 0.0


def make_images(
    cases: list[Case], distinct: int
) -> tuple[dict[tuple[int, int], list[str]], dict[tuple[int, int], list[bytes]]]:
    """Base64 PNGs per size (made in parallel), and their byte sizes."""
    sizes = sorted({(c.width, c.height) for c in cases})
    jobs = [(w, h, seed) for w, h in sizes for seed in range(distinct if w <= 1024 else 1)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        pngs = list(pool.map(lambda j: realistic_png(*j), jobs))
    images: dict[tuple[int, int], list[str]] = {}
    raw: dict[tuple[int, int], list[bytes]] = {}
    for (w, h, _seed), png in zip(jobs, pngs, strict=True):
        images.setdefault((w, h), []).append(base64.b64encode(png).decode("ascii"))
        raw.setdefault((w, h), []).append(png)
    return images, raw


def thumbnail_ms(raw: dict[tuple[int, int], list[bytes]], runs: int) -> dict[str, float]:
    from gallery_kit.imaging import make_thumbnail

    out = {}
    for (w, h), pngs in raw.items():
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            make_thumbnail(pngs[0])
            times.append(time.perf_counter() - start)
        out[f"{w}x{h}"] = round(median(times) * 1000, 1)
    return out


def one_run(
    gallery: Any, endpoint: InstantEndpoint, s3: Meter, outbox: Timed, store: Timed, case: Case
) -> Run:
    from gallery_kit.bedrock.families import GenerationRequest

    request = GenerationRequest(
        prompt=PROMPT, width=case.width, height=case.height, count=case.count, model_id=MODEL_ID
    )
    endpoint.handling_s.clear()
    s3.reset()
    outbox.reset()
    store.reset()
    start = time.perf_counter()
    result = gallery.generate(request)
    wall = time.perf_counter() - start
    if len(result.records) != case.count or result.pending or result.warnings:
        raise RuntimeError(f"generate went wrong: {result.warnings} {result.pending}")
    puts = [
        (c.path.rsplit("/", 2)[-2], c.start - start, c.end - start)
        for c in s3.calls
        if c.operation == "PutObject"
    ]
    return Run(
        wall_s=wall,
        endpoint_s=sum(endpoint.handling_s),
        outbox_s=outbox.total["add"] + outbox.total["remove"],
        store_put_s=sum(store.total.values()),
        puts=puts,
    )


def overlap(puts: list[tuple[str, float, float]]) -> tuple[float, float, float]:
    """(sum of PutObject durations, span from first start to last end, their ratio)."""
    total = sum(end - begin for _kind, begin, end in puts)
    span = max(end for *_x, end in puts) - min(begin for _k, begin, _e in puts)
    return total, span, (total / span if span else 0.0)


def chart(cases: list[Case], runs: list[Run], footer: str) -> Any:
    bars = []
    for case, run in zip(cases, runs, strict=True):
        per_image = run.overhead_s * 1000 / case.count
        bars.append(_chart.Bar(case.name, per_image, f"{per_image:.0f} ms per image", _chart.GK))
    return _chart.stack(
        "Overhead gallery_kit adds per image (S3 round trip 20 ms)",
        [
            _chart.panel(
                "Decode + thumbnail + outbox + uploads + metadata, per image",
                bars,
                target=TARGET_MS,
                target_text=f"target {TARGET_MS:.0f} ms (1024x1024)",
            )
        ],
        footer,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (< 1 min)")
    parser.add_argument("--smoke", action="store_true", help="one run each, for the test suite")
    parser.add_argument("--runs", type=int, help="runs per case (median)")
    parser.add_argument("--rtt-ms", type=float, default=RTT_S * 1000)
    parser.add_argument("--profile", action="store_true", help="cProfile one 1-image run")
    parser.add_argument("--write-docs", action="store_true", help="also write docs/bench-*.png")
    parser.add_argument("--out-dir", type=Path, help="where the chart goes (default bench/out)")
    args = parser.parse_args(argv)

    bench_run = BenchRun()
    if args.runs:
        runs_per_case = [args.runs] * 3
    else:
        runs_per_case = [1, 1, 1] if args.smoke else [3, 2, 2] if args.quick else [7, 5, 5]
    print(
        f"generate_path: Gallery.generate() against an instant local Bedrock endpoint and moto "
        f"S3 ({args.rtt_ms:g} ms round trip per S3 request); {machine()}; {bench_run.when}",
        flush=True,
    )
    images, raw = make_images(CASES, 2 if args.smoke else 5)
    sizes = {f"{w}x{h}": fmt_bytes(len(p[0])) for (w, h), p in raw.items()}
    print(f"  model PNGs (pre-generated): {sizes}")
    thumbs = thumbnail_ms(raw, 1 if args.smoke else 5)
    print(f"  make_thumbnail alone (median): {thumbs} ms")

    results: list[Run] = []
    with (
        S3Server([{"name": BUCKET, "images": 0}]) as server,
        InstantEndpoint(images) as endpoint,
        tempfile.TemporaryDirectory(prefix="gk-bench-") as data_dir,
    ):
        env = {
            **aws_env(server.url, endpoint.url),
            "S3_BUCKET_NAME": BUCKET,
            "S3_REGION": "us-east-1",
            "BEDROCK_REGION": "us-east-1",
            "GALLERY_GENERATOR": "bedrock",
            "GALLERY_DATA_DIR": data_dir,
        }
        with patched_environ(env, CLEAN_PREFIXES):
            from gallery_kit.bedrock.families import get_model
            from gallery_kit.gallery import Gallery

            gallery = Gallery.from_settings()
            s3 = Meter(rtt_s=args.rtt_ms / 1000)
            s3.attach(gallery.store.client)
            gallery.generator.client_for(get_model(MODEL_ID))
            outbox_timer = Timed(gallery.outbox, "add", "remove")
            store_timer = Timed(gallery.store, "put_original", "put_unlisted", "publish")

            def run(case: Case) -> Run:
                return one_run(gallery, endpoint, s3, outbox_timer, store_timer, case)

            run(CASES[0])  # warm-up: clients, connections, imports
            if args.profile:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                profiler.enable()
                run(CASES[0])
                profiler.disable()
                print("  cProfile of one 1 x 1024x1024 run (main thread; uploads run in a pool):")
                pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(18)
            for case, n in zip(CASES, runs_per_case, strict=True):
                case_runs = [run(case) for _ in range(n)]
                results.append(
                    Run(
                        wall_s=median(r.wall_s for r in case_runs),
                        endpoint_s=median(r.endpoint_s for r in case_runs),
                        outbox_s=median(r.outbox_s for r in case_runs),
                        store_put_s=median(r.store_put_s for r in case_runs),
                        puts=case_runs[-1].puts,
                    )
                )
            if endpoint.violations:
                raise RuntimeError(f"the endpoint saw invalid requests: {endpoint.violations}")

    print(
        f"\n  {'case':<15} {'wall':>8} {'endpoint':>9} {'overhead':>9} {'per image':>10}   "
        "(outbox write+remove, store writes summed over images)"
    )
    for case, r in zip(CASES, results, strict=True):
        print(
            f"  {case.name:<15} {r.wall_s * 1000:>6.0f} ms {r.endpoint_s * 1000:>6.0f} ms "
            f"{r.overhead_s * 1000:>6.0f} ms {r.overhead_s * 1000 / case.count:>7.0f} ms   "
            f"(outbox {r.outbox_s * 1000:.0f} ms, store writes {r.store_put_s * 1000:.0f} ms)"
        )

    single, five = results[0], results[1]
    total, span, factor = overlap(five.puts)
    print(
        f"\n  uploads of one 5-image run ({len(five.puts)} PutObject calls, ms after "
        "generate() started):"
    )
    for kind in ("images", "thumbs", "meta", "index"):
        spans = sorted((b, e) for k, b, e in five.puts if k == kind)
        text = "  ".join(f"{b * 1000:.0f}-{e * 1000:.0f}" for b, e in spans)
        print(f"    {kind:<7} {text}")
    print(
        f"  sum of PutObject durations {total * 1000:.0f} ms over a span of {span * 1000:.0f} ms: "
        f"{factor:.1f} uploads in flight on average"
    )
    five_vs_singles = five.overhead_s / (5 * single.overhead_s)
    print(
        f"  5 images cost {five.overhead_s * 1000:.0f} ms of overhead vs 5 x "
        f"{single.overhead_s * 1000:.0f} = {5 * single.overhead_s * 1000:.0f} ms for five "
        f"one-image calls ({five_vs_singles:.2f}x)"
    )
    per_image_1024 = max(single.overhead_s, five.overhead_s / 5) * 1000
    targets = {
        "under_150_ms_per_1024_image": per_image_1024 < TARGET_MS,
        "uploads_overlapped": factor >= 2.0,
    }
    for name, ok in targets.items():
        print(f"  target {name}: {'PASS' if ok else 'FAIL'}")

    footer = f"gallery_kit bench/generate_path.py · {machine()} · {bench_run.when}"
    image = chart(CASES, results, footer)
    paths = save_chart(image, "generate_path", write_docs=args.write_docs, out_dir=args.out_dir)
    for path in paths:
        print(f"  chart: {path}")
    facts = bench_run.finish()
    emit_json(
        {
            "bench": "generate_path",
            "rtt_ms": args.rtt_ms,
            "cases": [c.name for c in CASES],
            "images": [c.count for c in CASES],
            "wall_ms": [round(r.wall_s * 1000, 1) for r in results],
            "endpoint_ms": [round(r.endpoint_s * 1000, 1) for r in results],
            "overhead_ms": [round(r.overhead_s * 1000, 1) for r in results],
            "overhead_per_image_ms": [
                round(r.overhead_s * 1000 / c.count, 1) for c, r in zip(CASES, results, strict=True)
            ],
            "outbox_ms": [round(r.outbox_s * 1000, 1) for r in results],
            "thumbnail_ms": thumbs,
            "png_bytes": {f"{w}x{h}": len(p[0]) for (w, h), p in raw.items()},
            "uploads_in_flight": round(factor, 2),
            "five_vs_five_singles": round(five_vs_singles, 2),
            "runs": runs_per_case,
            "targets": targets,
            **facts,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
