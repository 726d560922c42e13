"""Many browser visitors at once, for bench/dashboard.py (issue 15: twenty people at once).

Playwright's sync API drives every page from this one thread, so nothing here may wait on one
page: each navigation is started from the page itself (``location.href = …``, on schedule:
``n`` within ``within_s``, evenly), and each page records the moment its first thumbnails are
loaded in its own clock (an init script checks every 50 ms: ``window.__gkReadyAt``, from its
navigation start); the loop only collects those values.
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
    watch = (
        "(() => { const ready = " + ready + "; const arg = " + _js(arg) + ";"
        " const t = setInterval(() => { try { const v = ready(arg);"
        " if (v && typeof v !== 'object') { window.__gkReadyAt = v; clearInterval(t); } }"
        " catch (e) {} }, 50); })()"
    )
    began = time.monotonic()
    try:
        while True:
            now = time.monotonic() - began
            due = min(n, int(now / within_s * n) + 1) if within_s > 0 else n
            while len(pages) < due:
                i = len(pages)
                context = browser.new_context(viewport=viewport)
                context.add_init_script(watch)
                page = context.new_page()
                page.on(
                    "response",
                    lambda r, i=i: statuses.__setitem__(i, r.status) if r.url == url else None,
                )
                contexts.append(context)
                pages.append(page)
                try:
                    page.evaluate(f"location.href = {_js(url)}")  # returns at once
                except Exception as exc:
                    print(f"  visitor {i + 1}: {type(exc).__name__}", flush=True)
            for i, page in enumerate(pages):
                if times[i] is not None:
                    continue
                try:
                    value = page.evaluate("window.__gkReadyAt || null")
                except Exception:  # the page is still navigating
                    value = None
                if value:
                    times[i] = float(value) / 1000
            if len(pages) == n and all(t is not None for t in times):
                break
            if now > within_s + limit_s:
                break
            time.sleep(POLL_S)
    finally:
        for page in pages:  # as a browser does: Voilà's unload beacon frees the kernel
            try:
                page.close(run_before_unload=True)
            except Exception as exc:
                print(f"  closing a visitor: {type(exc).__name__}", flush=True)
        time.sleep(0.5)
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
