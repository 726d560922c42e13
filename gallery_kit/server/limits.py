"""Pure rules of the gate: how many sessions, how fast one client may open pages.

No I/O here except :func:`available_memory_bytes` (reads ``/proc/meminfo``, injectable).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: One page kernel (Python, ipywidgets, the gallery, boto3, its first page) needs ~150-200 MB;
#: the default bound leaves room for the server, the thumbnail cache and a generation's peak.
BYTES_PER_SESSION = 300 * 1000 * 1000
MIN_DEFAULT_SESSIONS = 4


def available_memory_bytes(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """MemAvailable from ``/proc/meminfo`` (Linux), or None where it cannot be read."""
    try:
        text = meminfo.read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key == "MemAvailable":
            parts = rest.split()
            if parts and parts[0].isdigit():
                return int(parts[0]) * 1024
    return None


def default_max_sessions(available: int | None) -> int:
    """One session per 300 MB of available memory, at least 4 (also when unknown)."""
    if available is None:
        return MIN_DEFAULT_SESSIONS
    return max(MIN_DEFAULT_SESSIONS, available // BYTES_PER_SESSION)


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class PageRate:
    """A token bucket per client address: ``per_minute`` pages a minute, bursts of as many.

    ``allow(client)`` spends a token when there is one; otherwise it answers how many seconds
    until there is (the ``Retry-After``). ``per_minute == 0`` allows everything.
    """

    per_minute: int
    clock: Callable[[], float]
    #: Buckets of clients that have been full this long are forgotten (bounded memory).
    forget_after_s: float = 120.0
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def allow(self, client: str) -> float | None:
        """None when ``client`` may open a page now (a token is spent); else seconds to wait."""
        if self.per_minute <= 0:
            return None
        now = self.clock()
        self._forget(now)
        rate = self.per_minute / 60.0
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = self._buckets[client] = _Bucket(float(self.per_minute), now)
        bucket.tokens = min(float(self.per_minute), bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / rate

    def recent(self, client: str) -> float:
        """About how many pages ``client`` opened in the last minute (0 without a limit)."""
        bucket = self._buckets.get(client)
        if self.per_minute <= 0 or bucket is None:
            return 0.0
        refilled = bucket.tokens + (self.clock() - bucket.at) * self.per_minute / 60.0
        return max(0.0, self.per_minute - refilled)

    def heavy(self, client: str) -> bool:
        """Has ``client`` opened half its minute's pages? (It then waits behind new visitors.)"""
        return self.per_minute > 0 and self.recent(client) >= self.per_minute / 2

    def _forget(self, now: float) -> None:
        if len(self._buckets) < 1024:
            return
        stale = [c for c, b in self._buckets.items() if now - b.at > self.forget_after_s]
        for client in stale:
            del self._buckets[client]


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` in whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


@dataclass(frozen=True, slots=True)
class Budget:
    """The session bound at one moment: page kernels in use, and the ready pool."""

    limit: int
    #: Kernels given to a page (connected or not yet) plus visitors admitted and starting.
    viewers: int
    #: Ready (or starting) pool kernels; they count toward ``limit`` too.
    pooled: int

    def admits(self, *, pool_usable: bool) -> bool:
        """May one more visitor have a page? A usable pool kernel moves from the pool to the
        visitor (the total stays); without one a new kernel must fit beside the pool."""
        if self.viewers >= self.limit:
            return False
        if pool_usable and self.pooled > 0:
            return True
        return self.viewers + self.pooled < self.limit

    def pool_target(self, wanted: int) -> int:
        """How many pool kernels may exist now: ``wanted``, within what the viewers leave."""
        return max(0, min(wanted, self.limit - self.viewers))
