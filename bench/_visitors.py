"""Many browser visitors at once, for bench/dashboard.py (issue 15: twenty people at once).

Playwright's sync API drives every page from this one thread: the navigations are started on
schedule (``n`` within ``within_s``, evenly), and all open pages are polled in turn for the
moment their first thumbnails are loaded, read from each page's own clock (from its navigation
start), so the polling order costs a page nothing but the poll interval (50 ms).
"""

from __future__ import annotations

import time
from typing import Any

POLL_S = 0.05


def many_visitors(
    browser: Any,
    url: str,
    ready: str,
    arg: Any,
    *,
    n: int,
    within_s: float,
    viewport: dict[str, int],
    limit_s: float = 120.0,
) -> dict[str, Any]:
    """Open ``url`` ``n`` times within ``within_s``; seconds each took to ``ready`` (None: not
    within ``limit_s``), and the HTTP status each got first."""
    contexts: list[Any] = []
    pages: list[Any] = []
    times: list[float | None] = [None] * n
    statuses: list[int] = [0] * n
    began = time.monotonic()
    try:
        while True:
            now = time.monotonic() - began
            due = min(n, int(now / within_s * n) + 1) if within_s > 0 else n
            while len(pages) < due:
                context = browser.new_context(viewport=viewport)
                page = context.new_page()
                contexts.append(context)
                pages.append(page)
                try:
                    response = page.goto(url, wait_until="commit", timeout=60_000)
                    statuses[len(pages) - 1] = response.status if response else 0
                except Exception as exc:
                    print(f"  visitor {len(pages)}: {type(exc).__name__}", flush=True)
            for i, page in enumerate(pages):
                if times[i] is not None:
                    continue
                try:
                    value = page.evaluate(f"({ready})({_js(arg)})")
                except Exception:  # the page is still navigating
                    value = False
                if value and not isinstance(value, dict):
                    times[i] = float(value) / 1000
            if len(pages) == n and all(t is not None for t in times):
                break
            if now > within_s + limit_s:
                break
            time.sleep(POLL_S)
    finally:
        for context in contexts:
            try:
                context.close()
            except Exception as exc:  # a context that failed to open
                print(f"  closing a visitor: {type(exc).__name__}", flush=True)
    return {"times": times, "statuses": statuses}


def _js(value: Any) -> str:
    import json

    return json.dumps(value)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
