"""The served dashboard's bounds (issue 16): sessions, page rate, no kernel for nobody.

Pure rules first (``gallery_kit.server.limits``, the pages, the in-flight markers), then a real
``gallery-kit serve`` with small limits, driven over plain HTTP and the kernel websocket (as a
``curl`` or a page would). Kernels are counted as the server's ``ipykernel`` processes.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gallery_kit.errors import ConfigError
from gallery_kit.inflight import KERNEL_ID_VAR, in_flight, is_in_flight
from gallery_kit.server.limits import (
    Budget,
    PageRate,
    available_memory_bytes,
    default_max_sessions,
    retry_after_header,
)
from gallery_kit.server.pages import busy_page, slow_down_page
from gallery_kit.settings import load_settings
from tests.support.browser import ServedApp, _descendants, start_app

# --- pure rules ------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_page_rate_allows_a_burst_then_asks_to_wait_per_address() -> None:
    clock = Clock()
    rate = PageRate(3, clock)
    assert [rate.allow("10.0.0.1") for _ in range(3)] == [None, None, None]
    wait = rate.allow("10.0.0.1")
    assert wait is not None
    assert wait == pytest.approx(20.0)  # one page every 20 s at 3 a minute
    assert retry_after_header(wait) == "20"
    assert rate.allow("10.0.0.2") is None  # another address has its own bucket
    clock.now += 20
    assert rate.allow("10.0.0.1") is None
    assert rate.allow("10.0.0.1") is not None


def test_a_client_that_opened_half_its_pages_is_heavy() -> None:
    clock = Clock()
    rate = PageRate(4, clock)
    rate.allow("a")
    assert rate.recent("a") == pytest.approx(1.0)
    assert not rate.heavy("a")
    rate.allow("a")
    assert rate.heavy("a")
    assert rate.recent("new") == 0.0
    clock.now += 60
    assert not rate.heavy("a")  # a minute later it is a new visitor again


def test_kernel_starts_wait_in_priority_order() -> None:
    from gallery_kit.server.starts import StartQueue

    async def scenario() -> list[str]:
        queue, order = StartQueue(1), []
        await queue.acquire(0)  # one start running

        async def start(name: str, priority: float) -> None:
            async with queue.slot(priority):
                order.append(name)

        waiting = [
            asyncio.create_task(start("storm", 15)),
            asyncio.create_task(start("pool refill", 10)),
            asyncio.create_task(start("new visitor", 1)),
        ]
        cancelled = asyncio.create_task(start("gave up", 0))
        await asyncio.sleep(0)
        assert queue.waiting == 4
        cancelled.cancel()
        await asyncio.sleep(0)
        queue.release()
        await asyncio.gather(*waiting)
        assert (queue.running, queue.waiting) == (0, 0)
        return order

    assert asyncio.run(scenario()) == ["new visitor", "pool refill", "storm"]


def test_heavy_starts_leave_a_slot_for_new_visitors() -> None:
    from gallery_kit.server.starts import StartQueue

    async def scenario() -> tuple[int, int, bool]:
        queue = StartQueue(2)
        await queue.acquire(100, heavy=True)  # a reload loop's start
        second = asyncio.create_task(queue.acquire(101, heavy=True))
        await asyncio.sleep(0)
        held_back = not second.done()  # the last free slot is not for it ...
        await queue.acquire(1)  # ... but for a new visitor, at once
        running = queue.running
        queue.release()
        queue.release(heavy=True)
        await second
        return running, queue.running, held_back

    assert asyncio.run(scenario()) == (2, 1, True)


def test_page_rate_zero_means_no_limit() -> None:
    rate = PageRate(0, Clock())
    assert all(rate.allow("a") is None for _ in range(1000))


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(2.1) == "3"


def test_budget_counts_the_pool_toward_the_bound() -> None:
    # A pool kernel moves to the visitor: admitted while viewers are below the bound.
    assert Budget(limit=3, viewers=2, pooled=1).admits(pool_usable=True)
    # Without a usable pool kernel a new one must fit beside the pool.
    assert not Budget(limit=3, viewers=2, pooled=1).admits(pool_usable=False)
    assert Budget(limit=3, viewers=1, pooled=1).admits(pool_usable=False)
    assert not Budget(limit=3, viewers=3, pooled=0).admits(pool_usable=True)
    assert Budget(limit=3, viewers=2, pooled=0).pool_target(2) == 1
    assert Budget(limit=3, viewers=3, pooled=0).pool_target(2) == 0
    assert Budget(limit=9, viewers=0, pooled=0).pool_target(2) == 2


def test_default_sessions_one_per_300_mb_available_at_least_four(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 4000000 kB\nMemAvailable:    3000000 kB\n")
    assert available_memory_bytes(meminfo) == 3_072_000_000
    assert default_max_sessions(available_memory_bytes(meminfo)) == 10
    assert default_max_sessions(500_000_000) == 4
    assert default_max_sessions(None) == 4
    assert available_memory_bytes(tmp_path / "missing") is None


def test_the_refusal_pages_escape_and_follow_the_theme() -> None:
    page = busy_page(7, "10")
    assert "gk-busy" in page
    assert "Busy — 7 people are viewing; try again shortly." in page
    assert "--jp-layout-color0" in page
    assert "prefers-color-scheme: dark" in page
    assert "1 person is viewing" in busy_page(1, "10")
    hostile = slow_down_page(20, "<script>alert(1)</script>")
    assert "<script>" not in hostile
    assert "&lt;script&gt;" in hostile


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GALLERY_MAX_SESSIONS", "0"),
        ("GALLERY_MAX_SESSIONS", "many"),
        ("GALLERY_PAGE_RATE", "-1"),
        ("GALLERY_PAGE_RATE", "2.5"),
        ("GALLERY_IDLE_MINUTES", "0"),
        ("GALLERY_IDLE_MINUTES", "soon"),
        ("GALLERY_IDLE_MINUTES", "nan"),
    ],
)
def test_a_bad_limit_is_one_line_naming_it(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert name in message
    assert repr(value) in message


def test_limits_default_and_read(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert (settings.max_sessions, settings.page_rate_per_minute, settings.idle_minutes) == (
        None,
        20,
        10.0,
    )
    monkeypatch.setenv("GALLERY_MAX_SESSIONS", "6")
    monkeypatch.setenv("GALLERY_PAGE_RATE", "0")
    monkeypatch.setenv("GALLERY_IDLE_MINUTES", "2.5")
    settings = load_settings()
    assert (settings.max_sessions, settings.page_rate_per_minute, settings.idle_minutes) == (
        6,
        0,
        2.5,
    )


def test_in_flight_marker_only_in_a_served_kernel(tmp_path: Path) -> None:
    kernel_id = str(uuid.uuid4())
    with in_flight(tmp_path, {}):
        assert not (tmp_path / "in-flight").exists()  # the CLI, a notebook: nothing written
    with in_flight(tmp_path, {KERNEL_ID_VAR: kernel_id}):
        assert is_in_flight(tmp_path, kernel_id)
        assert not is_in_flight(tmp_path, str(uuid.uuid4()))
    assert not is_in_flight(tmp_path, kernel_id)
    with pytest.raises(RuntimeError), in_flight(tmp_path, {KERNEL_ID_VAR: kernel_id}):
        raise RuntimeError("the generation failed")
    assert not is_in_flight(tmp_path, kernel_id)  # removed however the work ends


# --- a real server ---------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str

    @property
    def kernel_id(self) -> str:
        found = re.search(r'"kernelId": "([0-9a-f-]{36})"', self.body)
        assert found, self.body[-500:]
        return found.group(1)


def get(app: ServedApp, source: str = "127.0.0.1") -> Reply:
    """GET the page as a client at ``source`` (any 127.0.0.0/8 address reaches 127.0.0.1)."""
    conn = http.client.HTTPConnection(
        "127.0.0.1", app.port, timeout=120, source_address=(source, 0)
    )
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        body = response.read().decode("utf-8", "replace")
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        conn.close()


def kernels(app: ServedApp) -> set[int]:
    pids = set()
    for pid in _descendants(app.process.pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"ipykernel" in cmd:
            pids.add(pid)
    return pids


def kernel_pid(kernel_id: str, app: ServedApp) -> int | None:
    for pid in kernels(app):
        try:
            if kernel_id.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except OSError:
            continue
    return None


def wait_until(what: str, done: Callable[[], bool], app: ServedApp, limit_s: float = 90) -> None:
    """Wait for a state (a generous deadline guards a hang; nothing here is timed)."""
    deadline = time.monotonic() + limit_s
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}\nserver log:\n{app.log_text()[-3000:]}")
        time.sleep(0.2)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServedApp]]:
    started: list[ServedApp] = []

    def start(**settings: str) -> ServedApp:
        app = start_app({**os.environ, **settings}, tmp_path / f"serve-{len(started)}")
        started.append(app)
        return app

    try:
        yield start
    finally:
        for app in started:
            app.stop()


def test_past_the_bound_a_visitor_gets_the_busy_page_and_no_kernel(
    serve: Callable[..., ServedApp],
) -> None:
    app = serve(GALLERY_MAX_SESSIONS="2", GALLERY_KIT_POOL_SIZE="1", GALLERY_PAGE_RATE="0")
    wait_until("the ready pool's kernel started", lambda: len(kernels(app)) == 1, app)
    first, second = get(app), get(app)
    assert (first.status, second.status) == (200, 200)
    assert first.kernel_id != second.kernel_id
    wait_until("both page kernels running", lambda: len(kernels(app)) == 2, app)
    busy = get(app)
    assert busy.status == 503
    assert busy.headers["retry-after"].isdigit()
    assert "gk-busy" in busy.body
    assert "2 people are viewing" in busy.body
    # No kernel for the refused visitor, and the pool did not refill past the bound.
    assert len(kernels(app)) == 2
    assert "Traceback" not in busy.body


def test_one_address_past_its_page_rate_gets_429_and_no_kernel(
    serve: Callable[..., ServedApp],
) -> None:
    app = serve(GALLERY_PAGE_RATE="2", GALLERY_KIT_POOL_SIZE="0")
    assert [get(app, "127.0.0.7").status for _ in range(2)] == [200, 200]
    before = kernels(app)
    refused = get(app, "127.0.0.7")
    assert refused.status == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert "gk-busy" in refused.body
    assert kernels(app) == before
    assert get(app, "127.0.0.8").status == 200  # another client is served


async def _hold_websocket(app: ServedApp, kernel_id: str, until: Callable[[], bool]) -> None:
    from tornado.websocket import websocket_connect

    url = f"ws://127.0.0.1:{app.port}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4()}"
    ws = await websocket_connect(url)
    try:
        while not until():
            await asyncio.sleep(0.2)
    finally:
        ws.close()


def in_thread(coro: Any) -> Any:
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API may own this thread's loop
        return pool.submit(asyncio.run, coro).result()


def test_a_kernel_nobody_connects_to_is_shut_down_one_connected_is_kept(
    serve: Callable[..., ServedApp],
) -> None:
    app = serve(GALLERY_KIT_CONNECT_SECONDS="3", GALLERY_KIT_POOL_SIZE="0", GALLERY_PAGE_RATE="0")
    watched = get(app)
    watched_pid = kernel_pid(watched.kernel_id, app)
    assert watched_pid
    done = threading.Event()
    # The page of one connects its websocket at once (and keeps it) ...
    with ThreadPoolExecutor(1) as pool:
        holding = pool.submit(asyncio.run, _hold_websocket(app, watched.kernel_id, done.is_set))
        try:
            unwatched = get(app)  # ... while the other's never does.
            unwatched_pid = kernel_pid(unwatched.kernel_id, app)
            assert unwatched_pid
            wait_until(
                "the unconnected kernel culled", lambda: unwatched_pid not in kernels(app), app
            )
        finally:
            done.set()
            holding.result()
    assert "no page connected to it within 3 s" in app.log_text()
    assert watched_pid in kernels(app)


def test_no_kernel_is_culled_while_a_generation_is_in_flight(
    serve: Callable[..., ServedApp],
) -> None:
    app = serve(GALLERY_KIT_CONNECT_SECONDS="2", GALLERY_KIT_POOL_SIZE="0", GALLERY_PAGE_RATE="0")
    busy = get(app)
    # The marker a kernel holds while its model call and the keeping of its images run.
    marker = app.data_dir / "in-flight" / f"{busy.kernel_id}.test"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    idle = get(app)
    busy_pid, idle_pid = kernel_pid(busy.kernel_id, app), kernel_pid(idle.kernel_id, app)
    wait_until("the idle kernel culled", lambda: idle_pid not in kernels(app), app)
    assert busy_pid in kernels(app)
    marker.unlink()  # the images are kept: now it may go
    wait_until("the finished kernel culled", lambda: busy_pid not in kernels(app), app)


def test_a_kernel_whose_browser_left_is_shut_down_after_the_idle_minutes(
    serve: Callable[..., ServedApp],
) -> None:
    app = serve(
        GALLERY_IDLE_MINUTES="0.05",  # 3 s
        GALLERY_KIT_CONNECT_SECONDS="600",
        GALLERY_KIT_POOL_SIZE="0",
        GALLERY_PAGE_RATE="0",
    )
    page = get(app)
    pid = kernel_pid(page.kernel_id, app)
    in_thread(_hold_websocket(app, page.kernel_id, until=lambda: True))  # connect, then leave
    wait_until("the idle kernel culled", lambda: pid not in kernels(app), app)


def test_a_ready_kernel_reads_its_first_page_when_its_page_connects() -> None:
    from gallery_kit import Gallery
    from gallery_kit.ui.feed import FirstPage

    gallery = Gallery.from_settings(load_settings())
    loads: list[str] = []

    def guard(fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    ready = FirstPage({"VOILA_PREHEAT": "True"})  # a kernel Voilà keeps ready
    ready.at_start(lambda: loads.append("page"), gallery)
    assert loads == []  # nothing read for nobody: it would be stale when someone comes
    with ThreadPoolExecutor(1) as pool:
        assert ready.at_ready(pool, guard)
    assert loads == ["page"]
    with ThreadPoolExecutor(1) as pool:
        assert not ready.at_ready(pool, guard)  # the next "ready": the usual resend
    started = FirstPage({"VOILA_PREHEAT": "False"})  # a kernel started for its page
    started.at_start(lambda: loads.append("at start"), gallery)
    assert loads == ["page", "at start"]
    with ThreadPoolExecutor(1) as pool:
        assert not started.at_ready(pool, guard)
