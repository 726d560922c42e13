"""Budgets: a request whose estimate would pass one is refused before anything is sent. Pure:
the caller says what is spent (the ledger's today, or a session's own count)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from gallery_kit.errors import BudgetExceeded
from gallery_kit.team.costs import MICROS, dollars

DAILY = "GALLERY_DAILY_BUDGET_USD"
SESSION = "GALLERY_SESSION_BUDGET_USD"


def check_daily(limit_usd: float | None, spent_micros: int, cost_micros: int) -> None:
    """Refuse when today's spend (UTC, the whole gallery) plus the request passes the limit."""
    if limit_usd is not None and spent_micros + cost_micros > round(limit_usd * MICROS):
        raise BudgetExceeded(
            f"The daily budget ({DAILY}) is {dollars(round(limit_usd * MICROS))}: "
            f"{dollars(spent_micros)} is spent today (UTC) and this request would cost "
            f"{dollars(cost_micros)}; nothing was sent. Raise {DAILY}, or wait for 00:00 UTC."
        )


def check_session(limit_usd: float | None, spent_micros: int, cost_micros: int) -> None:
    if limit_usd is not None and spent_micros + cost_micros > round(limit_usd * MICROS):
        raise BudgetExceeded(
            f"This session's budget ({SESSION}) is {dollars(round(limit_usd * MICROS))}: "
            f"{dollars(spent_micros)} is spent in it and this request would cost "
            f"{dollars(cost_micros)}; nothing was sent. Raise {SESSION}, or start a new session."
        )


class SessionMeter:
    """What one session (one Gallery object) has spent, and what it has in flight: two of its
    requests at once cannot both pass its budget. Safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.spent_micros = 0
        self.in_flight_micros = 0

    @contextmanager
    def paying(self, limit_usd: float | None, cost_micros: int) -> Iterator[None]:
        """Check and reserve ``cost_micros`` for the block; the caller adds what was really
        spent with :meth:`add` (a failed call spends nothing)."""
        with self._lock:
            check_session(limit_usd, self.spent_micros + self.in_flight_micros, cost_micros)
            self.in_flight_micros += cost_micros
        try:
            yield
        finally:
            with self._lock:
                self.in_flight_micros -= cost_micros

    def add(self, micros: int) -> None:
        with self._lock:
            self.spent_micros += micros
