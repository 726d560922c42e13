"""Kernel starts, a few at a time, the least demanding client first.

Starting a page kernel and running the notebook costs a core for ~2-3 s. Twenty at once on a
2-core machine make every one of them (and every open page) crawl; so at most ``slots`` run at
once (default: the machine's cores) and the others wait in a queue ordered by a priority:
the number of pages their client address opened in the last minute, plus 100 for each page
sent to it that never connected its websocket (a visitor opening the gallery goes before a
reload loop, a browser before a ``curl``); the ready pool's refills come after new visitors
and before clients that opened half their minute's pages. Heavy starts (those clients, and
the pool's refills) hold at most all slots but one.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator


class StartQueue:
    """At most ``slots`` starts at once; a *heavy* start (a client opening many pages, or
    whose pages never connect) may hold at most ``slots - 1`` of them (at least 1), so a new
    visitor or a refill of the ready pool always has a slot to come to."""

    def __init__(self, slots: int) -> None:
        self.slots = max(1, slots)
        self.heavy_slots = max(1, self.slots - 1)
        self._free = self.slots
        self._heavy_running = 0
        self._waiting: list[tuple[float, int, bool, asyncio.Future[bool]]] = []
        self._order = itertools.count()

    @property
    def waiting(self) -> int:
        return sum(1 for *_, f in self._waiting if not f.done())

    @property
    def running(self) -> int:
        return self.slots - self._free

    def _fits(self, heavy: bool) -> bool:
        return self._free > 0 and (not heavy or self._heavy_running < self.heavy_slots)

    async def acquire(self, priority: float, *, heavy: bool = False) -> None:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), heavy, future))
        self._hand_over()  # at once when a slot is free for it (and nobody better waits)
        try:
            await future  # the slot is taken for us by _hand_over()
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release(heavy=heavy)  # handed over just as we gave up: pass it on
            raise

    def _take(self, heavy: bool) -> None:
        self._free -= 1
        self._heavy_running += int(heavy)

    def release(self, *, heavy: bool = False) -> None:
        self._free = min(self.slots, self._free + 1)
        self._heavy_running = max(0, self._heavy_running - int(heavy))
        self._hand_over()

    def _hand_over(self) -> None:
        """Give free slots to the best waiters that fit (a heavy one may have to wait on)."""
        skipped = []
        while self._waiting and self._free > 0:
            entry = heapq.heappop(self._waiting)
            future, heavy = entry[3], entry[2]
            if future.done():
                continue
            if not self._fits(heavy):
                skipped.append(entry)
                continue
            self._take(heavy)
            future.set_result(True)
        for entry in skipped:
            heapq.heappush(self._waiting, entry)

    @contextlib.asynccontextmanager
    async def slot(self, priority: float, *, heavy: bool = False) -> AsyncIterator[None]:
        await self.acquire(priority, heavy=heavy)
        try:
            yield
        finally:
            self.release(heavy=heavy)
