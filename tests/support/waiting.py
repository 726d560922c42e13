"""Waiting for what another server does to show: the promise is "within 10 s", so tests ask
again until then instead of sleeping a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def within(seconds: float, ask: Callable[[], T], done: Callable[[T], bool]) -> tuple[T, float]:
    """Call ``ask`` until ``done(answer)``; the last answer and the seconds it took. The last
    answer is returned even when the time ran out, for the test's assertion to show."""
    start = time.monotonic()
    while True:
        answer = ask()
        elapsed = time.monotonic() - start
        if done(answer) or elapsed > seconds:
            return answer, elapsed
        time.sleep(0.25)
