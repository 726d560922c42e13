"""Dashboard first paint in headless Chromium, vs. a bare Voilà notebook; many visitors; memory.

    uv run python -m bench.dashboard            # 1,000 and 20,000 images, 5 runs each (~6 min)
    uv run python -m bench.dashboard --quick    # 200 and 2,000 images, 2 runs each
    uv run python -m bench.dashboard --smoke    # tiny, for tests/test_bench_smoke.py

* ``gallery-kit serve`` (Voilà behind gallery_kit's gate, with its ready kernels; AWS mode)
  against moto S3, one server per gallery size, each with a bucket of seeded images (Bedrock is
  not needed to browse); a bare notebook with one ``ipywidgets.Button`` served by plain Voilà
  (``python -m voila``, no ready kernels) with the same flags
  (``gallery_kit.cli.serve.voila_flags``) - the baseline, in the same run.
* Debian's Chromium through Playwright. Each run opens the page in a fresh browser context (no
  cache) and measures, with the page's own clock (``performance.now()``, from navigation
  start), the moment the first 24 ``.gk-grid .gk-thumb img`` are fully loaded (``complete &&
  naturalWidth > 0``) - or, for the bare notebook, the moment its button is visible. Runs
  alternate; one warm-up run of each is not counted; medians are compared.
  **Warm**: a server that has served pages before, visitors a few seconds apart (its ready
  kernels refilled). **Thumbnail cache empty**: the same, with the server's thumbnail cache
  (shared by its kernels) emptied just before. **Fresh**: the server stopped and started
  again, the page opened as soon as its port answers (its ready kernels still starting).
* **Visitors at once**: 20 browser sessions (fresh contexts) open the gallery within 10 s,
  evenly; each one's time to its first 24 thumbnails (its own clock), p50, p95, failures, and
  the resident memory of the server's kernels afterwards.
* Search: on a warm server, a word typed into the search box until the first page of
  matching thumbnails has loaded (page clock), over eleven words.
* Memory: one more gallery page view, then "Load more" is clicked until it hides (every image
  listed); the kernel's resident memory (VmRSS, and its peak VmHWM) is read from ``/proc``.

No simulated network delay here: S3, Voilà and the browser are all on 127.0.0.1.
Every process started (moto, the Voilà process groups and their kernels, Chromium) is stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/dashboard.py` works too
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _chart
from bench._common import (
    CLEAN_PREFIXES,
    OUT_DIR,
    BenchRun,
    S3Server,
    aws_env,
    emit_json,
    machine,
    median,
    save_chart,
)
from tests.support.browser import CHROMIUM_ARGS  # the browser tests' flags, one list

CHROMIUM = "/usr/bin/chromium"
BUCKET = "gk-bench-dashboard"
PAGE = 24
RSS_TARGET_MB = 300.0
#: The search issue: results within 300 ms of the last keystroke on a warm server.
SEARCH_TARGET_S = 0.3
#: A first paint not reached in this long counts as a failed run (reported, not timed).
RUN_TIMEOUT_S = 60.0
#: "Load more" disabled this long with nothing loading counts as stuck.
STUCK_S = 15.0
#: Tall enough that the first 24 thumbnails are within Chromium's lazy-loading distance.
VIEWPORT = {"width": 1400, "height": 1600}

BARE_NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "bare",
            "metadata": {},
            "outputs": [],
            "source": ["import ipywidgets as w\n", "\n", 'w.Button(description="Click me")'],
        }
    ],
    "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}

# Truthy (the page's clock, in ms) once the first n thumbnails are loaded; an error shown by the
# app ends the wait too.
GALLERY_READY = """(n) => {
  const error = document.querySelector('.gk-error');
  if (error && error.textContent.trim() && getComputedStyle(error).display !== 'none') {
    return {error: error.textContent.trim()};
  }
  const imgs = Array.from(document.querySelectorAll('.gk-grid .gk-thumb img')).slice(0, n);
  if (imgs.length < n) return false;
  return imgs.every((i) => i.complete && i.naturalWidth > 0) ? performance.now() : false;
}"""
BARE_READY = """() => {
  const b = document.querySelector('.widget-button');
  return b && b.getBoundingClientRect().width > 0 ? performance.now() : false;
}"""
# Clicks "Load more" when it is shown and idle; says what it found.
CLICK_MORE = """() => {
  const more = document.querySelector('.gk-load-more');
  if (!more) return 'missing';
  if (more.hidden) return 'hidden';
  if (more.disabled) return 'busy';
  more.click();
  return 'clicked';
}"""
# The stuck state (see page_through): the button says "Loading…" although the kernel is idle.
FORCE_CLICK_MORE = """() => {
  const more = document.querySelector('.gk-load-more');
  if (!more || more.hidden) return false;
  more.disabled = false;
  more.click();
  return true;
}"""
GRID_GREW = """(n) => {
  const more = document.querySelector('.gk-load-more');
  const count = document.querySelectorAll('.gk-grid .gk-thumb').length;
  return (count > n || !more || more.hidden) && (!more || more.hidden || !more.disabled);
}"""


# --------------------------------------------------------------------------------------------
# Processes (read from /proc: psutil is not a dependency)
# --------------------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may contain spaces: split after the last ")".
    return text[text.rindex(")") + 2 :].split()


def children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def descendants(pid: int) -> list[int]:
    tree = children_map()
    found, pending = [], [pid]
    while pending:
        for child in tree.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def kernels_under(pid: int) -> set[int]:
    return {p for p in descendants(pid) if "ipykernel" in cmdline(p)}


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of a process, in MB (10^6 bytes)."""
    values = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024 / 1e6
    return values


def start_time(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[19]) if fields else 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Voila:
    """One Voilà server in its own process group; its kernels are tracked and stopped too."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log: Path):
        self.name, self.argv, self.env, self.port, self.log_path = name, argv, env, port, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.kernels: set[int] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def launch(self) -> Voila:
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        return self

    def wait_ready(self, timeout: float = 90) -> Voila:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: Voilà exited at start:\n{self.log_tail()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                return self
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: Voilà did not listen in {timeout} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 25) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def track(self) -> set[int]:
        if self.proc is not None:
            self.kernels |= kernels_under(self.proc.pid)
        return self.kernels

    def terminate(self) -> None:
        """Ask the serve command and Voilà (one process group) to exit."""
        if self.proc is not None:
            self.kernels |= kernels_under(self.proc.pid)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)

    def stop(self) -> None:
        self.terminate()
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        # Kernels run in sessions of their own (jupyter_client starts them so): Voilà shuts them
        # down on exit; end any left, by pid, checking the pid is still that kernel.
        deadline = time.monotonic() + 5
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in list(self.kernels):
                if "ipykernel" in cmdline(pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, sig)
            while time.monotonic() < deadline and any(
                "ipykernel" in cmdline(p) for p in self.kernels
            ):
                time.sleep(0.1)
            deadline = time.monotonic() + 5


# --------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------


PAGE_STATE = """() => {
  const imgs = Array.from(document.querySelectorAll('.gk-grid .gk-thumb img'));
  const text = (sel) => { const n = document.querySelector(sel); return n ? n.textContent : null; };
  return {
    thumbs: imgs.length,
    loaded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length,
    broken: imgs.filter((i) => i.complete && i.naturalWidth === 0).map((i) => i.src.slice(0, 160)),
    loading: imgs.filter((i) => !i.complete).length,
    status: text('.gk-status'), error: text('.gk-error'), warning: text('.gk-warning'),
    widgets: document.querySelectorAll('.jupyter-widgets').length,
    text: document.body.innerText.slice(0, 400),
  };
}"""


def open_and_time(
    browser: Any, url: str, ready: str, arg: Any = None, timeout_s: float = 120
) -> tuple[float, Any, Any]:
    """Open ``url`` in a fresh context; seconds from navigation start until ``ready``.

    On a timeout, says what the page showed (thumbnails loaded or broken, failed requests,
    console errors) and saves a screenshot to bench/out/dashboard-timeout.png."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    events: list[str] = []
    page.on("requestfailed", lambda r: events.append(f"request failed: {r.url[:160]} {r.failure}"))
    page.on(
        "console",
        lambda m: events.append(f"console {m.type}: {m.text[:300]}") if m.type == "error" else None,
    )
    try:
        page.goto(url, wait_until="commit", timeout=90_000)
        handle = page.wait_for_function(ready, arg=arg, timeout=timeout_s * 1000)
        value = handle.json_value()
    except Exception as exc:
        with contextlib.suppress(Exception):
            state = page.evaluate(PAGE_STATE)
            OUT_DIR.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(OUT_DIR / "dashboard-timeout.png"), full_page=True)
            print(f"  page state at failure ({url}): {json.dumps(state)}", file=sys.stderr)
        for event in events[-20:]:
            print(f"  {event}", file=sys.stderr)
        context.close()
        raise RuntimeError(f"{url}: {type(exc).__name__}: {str(exc).splitlines()[0]}") from exc
    if isinstance(value, dict):
        context.close()
        raise RuntimeError(f"the dashboard shows an error: {value.get('error')}")
    return float(value) / 1000, context, page


def close(context: Any) -> None:
    """Close the tabs as a browser does (Voilà's unload beacon frees their kernels), then the
    context."""
    pages = list(context.pages)
    for page in pages:
        with contextlib.suppress(Exception):
            page.close(run_before_unload=True)
    if pages:
        time.sleep(0.2)  # the beacon leaves
    context.close()


def timed_run(browser: Any, server: Voila, ready: str, arg: Any = None) -> float | None:
    """Seconds to first paint, or None when the page never got there (diagnosed on stderr)."""
    try:
        seconds, context, _page = open_and_time(
            browser, server.url, ready, arg, timeout_s=RUN_TIMEOUT_S
        )
    except RuntimeError as exc:
        print(f"  FAILED RUN ({server.name}): {exc}", flush=True)
        return None
    finally:
        server.track()
    close(context)
    return seconds


#: One word of each seeded prompt (bench/_s3server.PROMPTS): each search shows other tiles.
SEARCH_WORDS = (
    "watercolour",
    "clockmaker",
    "bookshop",
    "fox",
    "mars",
    "dew",
    "whale",
    "seoul",
    "teapot",
    "astronaut",
    "turtle",
    "lighthouse",
)
#: Milliseconds from the page's clock at typing until the first tiles all match the word and
#: their thumbnails have loaded.
SEARCH_SHOWN = """([word, want, t0]) => {
  const figs = [...document.querySelectorAll('.gk-grid .gk-thumb')].slice(0, want);
  if (figs.length < want) return false;
  if (!figs.every(f => (f.title || '').toLowerCase().includes(word))) return false;
  const imgs = figs.map(f => f.querySelector('img'));
  if (!imgs.every(i => i && i.complete && i.naturalWidth > 0)) return false;
  return performance.now() - t0;
}"""


def search_timing(browser: Any, gallery: Voila, first: int, images: int) -> list[float]:
    """A warm server's search in the dashboard: seconds from typing a word into the search box
    (one fill: the last keystroke) to the first page of matching thumbnails, per word. The
    first search of the page (the server's index catching up) is not counted."""
    want = max(1, min(PAGE, images // len(SEARCH_WORDS)))
    _seconds, context, page = open_and_time(browser, gallery.url, GALLERY_READY, first)
    times: list[float] = []
    try:
        for n, word in enumerate(SEARCH_WORDS):
            t0 = page.evaluate("performance.now()")
            page.fill(".gk-filter input", word)
            handle = page.wait_for_function(SEARCH_SHOWN, arg=[word, want, t0], timeout=60_000)
            if n:
                times.append(float(handle.json_value()) / 1000)
    finally:
        gallery.track()
        close(context)
    return times


def page_through(browser: Any, gallery: Voila, first: int, images: int) -> dict[str, Any]:
    """Open the gallery, click "Load more" until it hides, and read the kernel's memory."""
    assert gallery.proc is not None
    before = kernels_under(gallery.proc.pid)
    seconds, context, page = open_and_time(browser, gallery.url, GALLERY_READY, first)
    try:
        gallery.track()
        # The page's own kernel (with ready kernels it is not the newest one): by its id.
        found = re.search(r'"kernelId": "([0-9a-f-]{36})"', page.content())
        kid = found.group(1) if found else "-"
        mine = [p for p in kernels_under(gallery.proc.pid) if kid in cmdline(p)]
        new = kernels_under(gallery.proc.pid) - before
        if not mine and not new:
            raise RuntimeError("could not find the page's kernel under the Voilà process")
        kernel = mine[0] if mine else max(new, key=start_time)
        at_first_page = memory_mb(kernel)
        clicks = stuck = 0
        started = time.perf_counter()
        hidden_since: float | None = None
        busy_since: float | None = None
        while True:
            count = page.locator(".gk-grid .gk-thumb").count()
            state = page.evaluate(CLICK_MORE)
            if state == "clicked":
                hidden_since = busy_since = None
                clicks += 1
                page.wait_for_function(GRID_GREW, arg=count, timeout=120_000)
            elif state == "hidden":
                # Hidden for good once the kernel has nothing more to list (confirm it stays so).
                hidden_since = hidden_since or time.perf_counter()
                if time.perf_counter() - hidden_since > 0.5:
                    break
                page.wait_for_timeout(100)
            elif state == "busy" and busy_since and time.perf_counter() - busy_since > STUCK_S:
                # "Loading…" with nothing loading: the page missed the kernel's loading=False.
                # A user is stuck here; the bench notes it and clicks anyway to go on.
                stuck += 1
                print(
                    f"  WARNING: Load more stayed disabled ('Loading…') for {STUCK_S:.0f} s "
                    f"with {count} images shown and no request pending; clicking it anyway",
                    flush=True,
                )
                busy_since = None
                if page.evaluate(FORCE_CLICK_MORE):
                    clicks += 1
                    page.wait_for_function(GRID_GREW, arg=count, timeout=120_000)
            else:
                busy_since = busy_since or time.perf_counter()
                page.wait_for_timeout(100)
            if clicks > images // PAGE + 5 + stuck or time.perf_counter() - started > 600:
                raise RuntimeError(f"Load more never hid ({clicks} clicks, {count} shown)")
        paging_s = time.perf_counter() - started
        shown = page.locator(".gk-grid .gk-thumb").count()
        time.sleep(1.0)  # let the last publish settle
        after = memory_mb(kernel)
    finally:
        context.close()
    return {
        "first_paint_s": seconds,
        "kernel_pid": kernel,
        "rss_first_page_mb": at_first_page.get("VmRSS", 0.0),
        "rss_after_paging_mb": after.get("VmRSS", 0.0),
        "hwm_mb": after.get("VmHWM", 0.0),
        "clicks": clicks,
        "stuck": stuck,
        "shown": shown,
        "paging_s": paging_s,
    }


def chart(bare: float, gallery: float, cold: float, target: float, rss: float, footer: str) -> Any:
    return _chart.stack(
        "Dashboard in headless Chromium",
        [
            _chart.panel(
                "Time to first paint (median)",
                [
                    _chart.Bar("bare Voila + 1 button", bare, f"{bare:.2f} s", _chart.BARE),
                    _chart.Bar("gallery: 24 thumbnails", gallery, f"{gallery:.2f} s", _chart.GK),
                    _chart.Bar("… server cache empty", cold, f"{cold:.2f} s", _chart.GK),
                ],
                target=target,
                target_text=f"target {target:.2f} s",
            ),
            _chart.panel(
                "Kernel memory after paging through every image",
                [_chart.Bar("kernel RSS", rss, f"{rss:.0f} MB", _chart.GK)],
                target=RSS_TARGET_MB,
                target_text=f"target {RSS_TARGET_MB:.0f} MB",
            ),
        ],
        footer,
    )


def serve_argv(port: int) -> list[str]:
    script = Path(sys.executable).with_name("gallery-kit")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "gallery_kit.cli.main"]
    return [*head, "serve", "--host", "127.0.0.1", "--port", str(port)]


def bare_argv(notebook: Path, port: int) -> list[str]:
    """Plain Voilà (no gate, no ready kernels) with the flags gallery-kit serve gives its own."""
    from gallery_kit.cli.serve import voila_flags

    return [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        *voila_flags(host="127.0.0.1", port=port),
        "--MappingKernelManager.cull_idle_timeout=600",
        "--MappingKernelManager.cull_interval=60",
    ]


def wait_pool(server: Voila, pause_s: float) -> None:
    """Let a warm server's ready kernels refill (visitors a few seconds apart)."""
    time.sleep(pause_s)
    server.track()


def fresh_runs(
    browser: Any, server: Voila, runs: int, first: int, clear: Path | None = None
) -> list[float]:
    """A server's first page view, ``runs`` times: stop it, start it, open it at once."""
    times: list[float] = []
    for _ in range(runs):
        server.stop()
        if clear is not None:
            shutil.rmtree(clear, ignore_errors=True)
        server.launch().wait_ready()
        seconds = timed_run(browser, server, GALLERY_READY, first)
        if seconds is not None:
            times.append(seconds)
    return times


def visitors_run(browser: Any, server: Voila, first: int, n: int) -> dict[str, Any]:
    """``n`` browser sessions opening the gallery within 10 s (issue 15: twenty at once)."""
    from bench._visitors import many_visitors, percentile

    assert server.proc is not None
    before = kernels_under(server.proc.pid)
    result = many_visitors(
        browser, server.url, GALLERY_READY, first, n=n, within_s=10.0, viewport=VIEWPORT
    )
    server.track()
    served = [t for t in result["times"] if t is not None]
    new = kernels_under(server.proc.pid) - before
    rss = sorted(memory_mb(p).get("VmRSS", 0.0) for p in new | before)
    return {
        "visitors": n,
        "times_s": [None if t is None else round(t, 2) for t in result["times"]],
        "p50_s": round(percentile(served, 0.5), 2),
        "p95_s": round(percentile(served, 0.95), 2),
        "failures": n - len(served),
        "statuses": sorted(set(result["statuses"])),
        "kernels": len(rss),
        "kernel_rss_median_mb": round(median(rss), 1) if rss else 0.0,
        "kernel_rss_total_mb": round(sum(rss), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 and 2,000 images, 2 runs")
    parser.add_argument("--smoke", action="store_true", help="tiny run, for the test suite")
    parser.add_argument("--images", type=int, nargs="+", help="images in the buckets")
    parser.add_argument("--runs", type=int, help="timed runs of each page (median)")
    parser.add_argument("--visitors", type=int, help="browser sessions at once (default 20)")
    parser.add_argument("--write-docs", action="store_true", help="also write docs/bench-*.png")
    parser.add_argument("--out-dir", type=Path, help="where the chart goes (default bench/out)")
    args = parser.parse_args(argv)

    if not Path(CHROMIUM).exists():
        print(
            f"dashboard: {CHROMIUM} is missing; install Debian's Chromium: "
            "sudo apt-get install chromium",
            file=sys.stderr,
        )
        return 2
    from playwright.sync_api import sync_playwright

    bench_run = BenchRun()
    sizes = args.images or ([48] if args.smoke else [200, 2000] if args.quick else [1000, 20000])
    images = sizes[0]
    runs = args.runs or (1 if args.smoke else 2 if args.quick else 5)
    crowd = args.visitors or (3 if args.smoke else 20)
    warmup = not args.smoke
    pause = 0.5 if args.smoke else 6.0
    first = min(PAGE, images)
    print(
        f"dashboard: {', '.join(f'{n:,}' for n in sizes)} images in moto S3; {runs} timed runs "
        f"each (+{int(warmup)} warm-up); {crowd} visitors at once; {machine()}; {bench_run.when}",
        flush=True,
    )

    bare_times: list[float] = []
    warm: dict[int, list[float]] = {n: [] for n in sizes}
    cold_times: list[float] = []
    failed = {"bare": 0, "gallery": 0, "cold": 0}

    def record(times: list[float], name: str, seconds: float | None) -> None:
        if seconds is None:
            failed[name] += 1
            if failed[name] > max(1, runs // 2) * len(sizes):
                raise RuntimeError(f"{failed[name]} {name} page views never finished")
        else:
            times.append(seconds)

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gk-bench-dash-")))
        server = stack.enter_context(
            S3Server(
                [{"name": f"{BUCKET}-{n}", "images": n, "real_thumbs": True} for n in sizes],
                distinct_images=1 if args.smoke else 6,
            )
        )
        print(f"  moto S3 at {server.url}: seeded in {server.info['seed_s']:.1f} s", flush=True)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(CLEAN_PREFIXES)}
        env = {
            **base_env,
            **aws_env(server.url),
            "S3_REGION": "us-east-1",
            "GALLERY_GENERATOR": "bedrock",
            "GALLERY_ENV_FILE": "",
            "GALLERY_PAGE_RATE": "0",  # every visitor here is 127.0.0.1
        }
        bare_dir = tmp / "bare"
        bare_dir.mkdir()
        (bare_dir / "bare.ipynb").write_text(json.dumps(BARE_NOTEBOOK), encoding="utf-8")
        bare_port = free_port()
        bare = Voila(
            "bare", bare_argv(bare_dir / "bare.ipynb", bare_port), env, bare_port, tmp / "bare.log"
        )
        galleries: dict[int, Voila] = {}
        for n in sizes:
            port = free_port()
            galleries[n] = Voila(
                f"gallery-{n}",
                serve_argv(port),
                {**env, "S3_BUCKET_NAME": f"{BUCKET}-{n}", "GALLERY_DATA_DIR": str(tmp / f"d{n}")},
                port,
                tmp / f"gk-{n}.log",
            )
        stack.callback(bare.stop)
        for g in galleries.values():
            stack.callback(g.stop)
        stack.callback(bare.terminate)  # all shut down side by side
        for g in galleries.values():
            g.launch()
        bare.launch()
        for g in galleries.values():
            g.wait_ready()
        bare.wait_ready()
        gallery = galleries[images]
        print(f"  Voilà: bare + {len(sizes)} galleries listening after {bench_run.seconds():.1f} s")

        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        try:
            wait_pool(gallery, pause)
            if warmup:
                timed_run(browser, bare, BARE_READY)
                for g in galleries.values():
                    timed_run(browser, g, GALLERY_READY, first)
            for i in range(runs):
                b = timed_run(browser, bare, BARE_READY)
                record(bare_times, "bare", b)
                line = [f"bare {'failed' if b is None else f'{b:.2f} s'}"]
                for n, g in galleries.items():
                    wait_pool(g, pause)
                    t = timed_run(browser, g, GALLERY_READY, first)
                    record(warm[n], "gallery", t)
                    line.append(f"{n:,} {'failed' if t is None else f'{t:.2f} s'}")
                if not args.smoke:
                    # The server's thumbnail cache (shared by its kernels) empty.
                    wait_pool(gallery, pause)
                    shutil.rmtree(tmp / f"d{images}" / "thumbnails", ignore_errors=True)
                    c = timed_run(browser, gallery, GALLERY_READY, first)
                    record(cold_times, "cold", c)
                    line.append(f"thumbnail cache empty {'failed' if c is None else f'{c:.2f} s'}")
                print(f"  run {i + 1}: " + ", ".join(line), flush=True)
            wait_pool(gallery, 3 * pause)
            crowd_figures = visitors_run(browser, gallery, first, crowd)
            print(f"  {crowd} visitors within 10 s: {json.dumps(crowd_figures)}", flush=True)
            fresh = {n: fresh_runs(browser, g, runs, min(PAGE, n)) for n, g in galleries.items()}
            print(f"  fresh servers: {json.dumps(fresh)}", flush=True)
            wait_pool(gallery, pause)
            searches = search_timing(browser, gallery, first, images)
            bare_kernels = bare.track()
            bare_rss = median(memory_mb(p).get("VmRSS", 0.0) for p in bare_kernels)
            memory = page_through(browser, gallery, first, images)
            if args.smoke and not warm[images]:
                warm[images].append(memory["first_paint_s"])
            measured = time.perf_counter()
        except Exception:
            print(f"--- gallery Voilà log:\n{gallery.log_tail()}", file=sys.stderr)
            raise

    print(f"  everything stopped in {time.perf_counter() - measured:.1f} s", flush=True)
    bare_median = median(bare_times)
    warm_median = {n: median(t) for n, t in warm.items()}
    fresh_median = {n: median(t) for n, t in fresh.items()}
    gallery_median = warm_median[images]
    cold_median = median(cold_times) if cold_times else gallery_median
    target = 1.5 * bare_median + 0.5
    targets = {
        "warm_open_at_most_1.0s": max(warm_median.values()) <= 1.0,
        "warm_open_at_most_0.35x_bare": max(warm_median.values()) <= 0.35 * bare_median,
        "fresh_server_at_most_1.3x_bare": max(fresh_median.values()) <= 1.3 * bare_median,
        "visitors_all_served": crowd_figures["failures"] == 0,
        "visitors_p95_at_most_5s": crowd_figures["p95_s"] <= 5.0,
        "kernel_rss_under_300_MB": memory["rss_after_paging_mb"] < RSS_TARGET_MB,
        "paged_through_every_image": memory["shown"] == images,
        "search_to_thumbnails_within_300_ms": median(searches) <= SEARCH_TARGET_S,
    }
    for n in sizes:
        print(
            f"\n  {n:,} images: warm open {warm_median[n]:.2f} s "
            f"({warm_median[n] / bare_median:.2f}x bare {bare_median:.2f} s), fresh server "
            f"{fresh_median[n]:.2f} s ({fresh_median[n] / bare_median:.2f}x bare)"
        )
    print(
        f"  thumbnail cache empty: {cold_median:.2f} s; {crowd} visitors: p50 "
        f"{crowd_figures['p50_s']} s, p95 {crowd_figures['p95_s']} s, "
        f"{crowd_figures['failures']} failed, kernel RSS median "
        f"{crowd_figures['kernel_rss_median_mb']} MB"
    )
    print(
        f"  paging: {memory['clicks']} clicks of Load more in {memory['paging_s']:.1f} s showed "
        f"{memory['shown']:,} images; kernel RSS {memory['rss_first_page_mb']:.0f} MB after the "
        f"first page, {memory['rss_after_paging_mb']:.0f} MB after paging (peak "
        f"{memory['hwm_mb']:.0f} MB); a bare notebook's kernel: {bare_rss:.0f} MB"
    )
    print(
        f"  search (warm server): typing a word to its first {PAGE} thumbnails, median "
        f"{median(searches) * 1000:.0f} ms over {len(searches)} words (max "
        f"{max(searches) * 1000:.0f} ms); target {SEARCH_TARGET_S * 1000:.0f} ms"
    )
    if any(failed.values()) or memory["stuck"]:
        print(
            f"  NOTE: page views that never reached first paint: {failed}; times Load more "
            f"stayed stuck on 'Loading…': {memory['stuck']}"
        )
    for name, ok in targets.items():
        print(f"  target {name}: {'PASS' if ok else 'FAIL'}")
    footer = f"gallery_kit bench/dashboard.py · {images:,} images · {machine()} · {bench_run.when}"
    image = chart(
        bare_median, gallery_median, cold_median, target, memory["rss_after_paging_mb"], footer
    )
    paths = save_chart(image, "dashboard", write_docs=args.write_docs, out_dir=args.out_dir)
    for path in paths:
        print(f"  chart: {path}")
    facts = bench_run.finish()
    emit_json(
        {
            "bench": "dashboard",
            "images": images,
            "sizes": sizes,
            "runs": runs,
            "bare_s": [round(t, 3) for t in bare_times],
            "gallery_s": [round(t, 3) for t in warm[images]],
            "bare_median_s": round(bare_median, 3),
            "gallery_median_s": round(gallery_median, 3),
            "warm_s": {str(n): [round(t, 3) for t in ts] for n, ts in warm.items()},
            "warm_median_s": {str(n): round(t, 3) for n, t in warm_median.items()},
            "warm_ratio_vs_bare": {
                str(n): round(t / bare_median, 2) for n, t in warm_median.items()
            },
            "fresh_s": {str(n): [round(t, 3) for t in ts] for n, ts in fresh.items()},
            "fresh_median_s": {str(n): round(t, 3) for n, t in fresh_median.items()},
            "fresh_ratio_vs_bare": {
                str(n): round(t / bare_median, 2) for n, t in fresh_median.items()
            },
            "target_s": round(target, 3),
            "ratio_vs_bare": round(gallery_median / bare_median, 2),
            "cold_s": [round(t, 3) for t in cold_times],
            "cold_median_s": round(cold_median, 3),
            "visitors": crowd_figures,
            "kernel_rss_first_page_mb": round(memory["rss_first_page_mb"], 1),
            "kernel_rss_after_paging_mb": round(memory["rss_after_paging_mb"], 1),
            "kernel_peak_rss_mb": round(memory["hwm_mb"], 1),
            "bare_kernel_rss_mb": round(bare_rss, 1),
            "load_more_clicks": memory["clicks"],
            "load_more_stuck": memory["stuck"],
            "failed_runs": failed,
            "images_shown": memory["shown"],
            "paging_s": round(memory["paging_s"], 2),
            "search_to_thumbnails_s": [round(t, 3) for t in searches],
            "search_to_thumbnails_median_s": round(median(searches), 3),
            "targets": targets,
            **facts,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
