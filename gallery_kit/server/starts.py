"""Kernel starts, a few at a time, the least demanding client first.

Starting a page kernel and running the notebook costs a core for ~2-3 s. Twenty at once on a
2-core machine make every one of them (and every open page) crawl; so at most ``slots`` run at
once (default: the machine's cores) and the others wait in a queue ordered by a priority:
the number of pages their client address opened in the last minute (a visitor opening the
gallery for the first time goes before a reload loop), with the ready pool's refills at
``POOL_PRIORITY`` - after new visitors, before clients that open many pages.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator


class StartQueue:
    def __init__(self, slots: int) -> None:
        self.slots = max(1, slots)
        self._free = self.slots
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @property
    def waiting(self) -> int:
        return sum(1 for *_, f in self._waiting if not f.done())

    @property
    def running(self) -> int:
        return self.slots - self._free

    async def acquire(self, priority: float) -> None:
        if self._free > 0 and not self.waiting:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), future))
        try:
            await future  # the slot is handed over by release()
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # handed over just as we gave up: pass it on
            raise

    def release(self) -> None:
        while self._waiting:
            _priority, _n, future = heapq.heappop(self._waiting)
            if not future.done():
                future.set_result(None)
                return
        self._free = min(self.slots, self._free + 1)

    @contextlib.asynccontextmanager
    async def slot(self, priority: float) -> AsyncIterator[None]:
        await self.acquire(priority)
        try:
            yield
        finally:
            self.release()
