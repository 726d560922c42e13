"""A reload storm against ``gallery-kit serve``, with real visitors before, during and after.

    uv run python -m bench.storm                  # 200 GETs in 10 s + 3 real visitors (~3 min)
    uv run python -m bench.storm --quick          # 60 GETs in 5 s, connect timeout 15 s
    uv run python -m bench.storm --max-sessions 8 # the session bound reached, too

Loopback only, bounded, stops itself. ``gallery-kit serve`` (AWS mode, moto S3 with seeded
images, the settings' defaults unless asked) is opened by 3 real visitors in headless Chromium
(unloaded), then a storm of plain GETs (a ``curl`` loop: no JavaScript, no websocket) comes from
``--storm-addresses`` other loopback addresses (127.0.1.x) while 3 real visitors open the page,
then 3 more open it once the storm's kernels are gone. A visitor answered 503 or 429 waits its
``Retry-After`` and reloads, as a person would; its time runs from the first request to its
first 24 thumbnails loaded. Kernels and the resident memory of the server's whole process tree
(server + kernels) are sampled every 0.25 s. One JSON line at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _chart
from bench._common import CLEAN_PREFIXES, BenchRun, S3Server, aws_env, emit_json, save_chart
from bench.dashboard import (
    CHROMIUM,
    GALLERY_READY,
    VIEWPORT,
    Voila,
    descendants,
    free_port,
    kernels_under,
    memory_mb,
    serve_argv,
)
from tests.support.browser import CHROMIUM_ARGS

BUCKET = "gk-bench-storm"
PAGE = 24


def tree_rss_mb(pid: int) -> float:
    return sum(memory_mb(p).get("VmRSS", 0.0) for p in [pid, *descendants(pid)])


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class Sampler:
    """Kernels and tree memory every 0.25 s, in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.kernels, self.rss = pid, [0], [0.0]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.kernels.append(len(kernels_under(self.pid)))
            self.rss.append(tree_rss_mb(self.pid))
            self._stop.wait(0.25)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def storm(port: int, total: int, seconds: float, addresses: int) -> Counter[int]:
    """``total`` GETs of the page spread evenly over ``seconds``, each read to its end."""
    codes: Counter[int] = Counter()
    lock = threading.Lock()
    began = time.monotonic()

    def one(n: int) -> None:
        time.sleep(max(0.0, began + n * seconds / total - time.monotonic()))
        source = f"127.0.1.{1 + n % addresses}"
        conn = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=120, source_address=(source, 0)
        )
        try:
            conn.request("GET", "/")
            response = conn.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = 0
        finally:
            conn.close()
        with lock:
            codes[status] += 1

    with ThreadPoolExecutor(32) as pool:
        list(pool.map(one, range(total)))
    return codes


def visit(browser: Any, url: str, codes: Counter[int], limit_s: float = 240) -> float | None:
    """Seconds from the first request to the first 24 thumbnails, reloading after a 503/429."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < limit_s:
            response = page.goto(url, wait_until="commit", timeout=120_000)
            status = response.status if response else 0
            codes[status] += 1
            if status in (429, 503):
                assert response is not None
                page.wait_for_timeout(1000 * float(response.headers.get("retry-after", "5")))
                continue
            page.wait_for_function(GALLERY_READY, arg=PAGE, timeout=120_000, polling=50)
            return time.perf_counter() - started
        return None
    except Exception as exc:
        print(f"  visitor failed: {type(exc).__name__}: {str(exc).splitlines()[0]}", flush=True)
        return None
    finally:
        # Closing the tab sends Voilà's shutdown beacon, as a real browser does.
        with contextlib.suppress(Exception):
            page.close(run_before_unload=True)
            page.wait_for_timeout(300)
        context.close()


def settle(server: Voila, want: int, limit_s: float) -> float:
    """Wait until the server runs ``want`` kernels (its ready pool); seconds waited."""
    assert server.proc is not None
    began = time.monotonic()
    while time.monotonic() - began < limit_s:
        if len(kernels_under(server.proc.pid)) <= want:
            time.sleep(1.0)  # the last shutdown's memory returned
            break
        time.sleep(0.5)
    return time.monotonic() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--gets", type=int, help="storm GETs (default 200)")
    parser.add_argument("--seconds", type=float, help="storm length (default 10)")
    parser.add_argument("--storm-addresses", type=int, default=1)
    parser.add_argument("--max-sessions", type=int, help="GALLERY_MAX_SESSIONS (default: unset)")
    parser.add_argument("--connect-seconds", type=float, help="no-connect timeout (default 60)")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--out-dir", type=Path)
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"storm: {CHROMIUM} is missing: sudo apt-get install chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    small = args.quick or args.smoke
    gets = args.gets or (20 if args.smoke else 60 if args.quick else 200)
    seconds = args.seconds or (3.0 if args.smoke else 5.0 if args.quick else 10.0)
    connect_s = args.connect_seconds or (10.0 if args.smoke else 15.0 if small else 60.0)
    visitors = 1 if args.smoke else 3
    bench_run = BenchRun()
    print(f"storm: {gets} GETs in {seconds:.0f} s + {visitors} real visitors; {bench_run.when}")

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gk-bench-storm-")))
        s3 = stack.enter_context(
            S3Server([{"name": BUCKET, "images": 48 if small else 200, "real_thumbs": True}])
        )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(CLEAN_PREFIXES)},
            **aws_env(s3.url),
            "S3_BUCKET_NAME": BUCKET,
            "S3_REGION": "us-east-1",
            "GALLERY_DATA_DIR": str(tmp / "data"),
            "GALLERY_GENERATOR": "bedrock",
            "GALLERY_ENV_FILE": "",
            "GALLERY_KIT_CONNECT_SECONDS": str(connect_s),
        }
        if args.max_sessions:
            env["GALLERY_MAX_SESSIONS"] = str(args.max_sessions)
        port = free_port()
        server = Voila("gallery", serve_argv(port), env, port, tmp / "serve.log")
        stack.callback(server.stop)
        server.launch().wait_ready()
        assert server.proc is not None
        pool = 2
        settle(server, pool, 60)
        bound_line = next(
            (ln for ln in server.log_path.read_text().splitlines() if "at most" in ln), ""
        )
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        codes_real: Counter[int] = Counter()

        def visitors_now() -> list[float | None]:
            return [visit(browser, server.url, codes_real) for _ in range(visitors)]

        try:
            visit(browser, server.url, Counter())  # warm-up (Chromium's own start)
            settle(server, pool, 30)
            unloaded = visitors_now()
            settle(server, pool, 30)
            start_mb = tree_rss_mb(server.proc.pid)
            with Sampler(server.proc.pid) as sampler:
                with ThreadPoolExecutor(1) as background:
                    storming = background.submit(storm, port, gets, seconds, args.storm_addresses)
                    time.sleep(min(2.0, seconds / 4))
                    during = visitors_now()
                    storm_codes = storming.result()
                waited = settle(server, pool, connect_s + 60)
                after = visitors_now()
                settle(server, pool, 30)
            final_mb = tree_rss_mb(server.proc.pid)
        except Exception:
            print(f"--- server log:\n{server.log_tail(40)}", file=sys.stderr)
            raise

    base = [t for t in unloaded if t is not None]
    served = [t for t in during + after if t is not None]
    ratio = p95(served) / p95(base) if base and served else float("nan")
    figures = {
        "bench": "storm",
        "gets": gets,
        "storm_seconds": seconds,
        "storm_addresses": args.storm_addresses,
        "limits": bound_line.removeprefix("gallery-kit: "),
        "connect_timeout_s": connect_s,
        "peak_kernels": max(sampler.kernels),
        "start_memory_mb": round(start_mb, 1),
        "peak_memory_mb": round(max(sampler.rss), 1),
        "final_memory_mb": round(final_mb, 1),
        "storm_codes": {str(k): v for k, v in sorted(storm_codes.items())},
        "visitor_codes": {str(k): v for k, v in sorted(codes_real.items())},
        "unloaded_s": [None if t is None else round(t, 2) for t in unloaded],
        "during_s": [None if t is None else round(t, 2) for t in during],
        "after_s": [None if t is None else round(t, 2) for t in after],
        "storm_kernels_gone_after_s": round(waited, 1),
        "p95_ratio_vs_unloaded": round(ratio, 2),
        "targets": {
            "final_memory_within_10pct": abs(final_mb - start_mb) <= 0.1 * start_mb,
            "all_visitors_served": None not in during + after,
            "p95_within_1.5x_unloaded": ratio <= 1.5,
        },
    }
    print(
        f"  peak kernels {figures['peak_kernels']} ({figures['limits']}); memory "
        f"{start_mb:.0f} → peak {max(sampler.rss):.0f} → final {final_mb:.0f} MB; storm codes "
        f"{figures['storm_codes']}; visitors unloaded {figures['unloaded_s']}, during "
        f"{figures['during_s']}, after {figures['after_s']} s"
    )
    slowest = {
        "unloaded": max(base, default=0.0),
        "during the storm": max((t for t in during if t is not None), default=0.0),
        "after the storm": max((t for t in after if t is not None), default=0.0),
    }
    image = _chart.stack(
        "Reload storm: real visitors, open → 24 thumbnails (slowest of each group)",
        [
            _chart.panel(
                f"{gets} GETs in {seconds:.0f} s; peak {figures['peak_kernels']} kernels",
                [
                    _chart.Bar(name, t, f"{t:.2f} s", _chart.BARE if i == 0 else _chart.GK)
                    for i, (name, t) in enumerate(slowest.items())
                ],
            )
        ],
        f"gallery_kit bench/storm.py · {bench_run.when}",
    )
    save_chart(image, "storm", write_docs=args.write_docs, out_dir=args.out_dir)
    emit_json({**figures, **bench_run.finish()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
