"""What the gallery has cost: sums of ledger entries by day, user or model, and the summary a
Spend view shows (today, this week, this month, 30 days by day, the top users). Pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from gallery_kit.errors import InvalidRequest
from gallery_kit.team.costs import MICROS
from gallery_kit.team.ledger import LedgerEntry, days_between

By = Literal["day", "user", "model"]
BY: tuple[By, ...] = ("day", "user", "model")


@dataclass(frozen=True, slots=True)
class SpendRow:
    """One row of ``gallery-kit spend``: a day (``YYYY-MM-DD``), a user or a model id."""

    key: str
    images: int
    micros: int
    requests: int = 0

    @property
    def cost_usd(self) -> float:
        return self.micros / MICROS

    def to_json(self) -> dict[str, object]:
        return {"key": self.key, "images": self.images, "cost_usd": round(self.cost_usd, 6)}


def key_of(entry: LedgerEntry, by: By) -> str:
    if by == "day":
        return entry.day.isoformat()
    if by == "user":
        return entry.user or "(unknown)"
    return entry.model_id


def check_by(by: str) -> By:
    if by not in BY:
        raise InvalidRequest(f"--by {by!r}: use day, user or model.")
    return by


def rows(entries: Iterable[LedgerEntry], by: By = "day") -> list[SpendRow]:
    """The sums per key: days oldest first; users and models costliest first."""
    images: dict[str, int] = defaultdict(int)
    micros: dict[str, int] = defaultdict(int)
    requests: dict[str, int] = defaultdict(int)
    for entry in entries:
        key = key_of(entry, by)
        images[key] += entry.images
        micros[key] += entry.micros
        requests[key] += 1
    out = [SpendRow(k, images[k], micros[k], requests[k]) for k in micros]
    if by == "day":
        return sorted(out, key=lambda r: r.key)
    return sorted(out, key=lambda r: (-r.micros, -r.images, r.key))


def total(entries: Iterable[LedgerEntry], key: str = "total") -> SpendRow:
    listed = list(entries)
    return SpendRow(key, sum(e.images for e in listed), sum(e.micros for e in listed), len(listed))


def within(
    entries: Iterable[LedgerEntry], since: datetime | None, until: datetime | None
) -> list[LedgerEntry]:
    """The entries made at or after ``since`` and before ``until``."""
    return [
        e for e in entries if (since is None or e.at >= since) and (until is None or e.at < until)
    ]


@dataclass(frozen=True, slots=True)
class Spend:
    """The Spend view's figures as of ``today`` (UTC): weeks start on Monday."""

    today: date
    entries: list[LedgerEntry] = field(default_factory=list)
    days: int = 30

    @staticmethod
    def first_day(today: date, days: int = 30) -> date:
        """The oldest day the summary needs: the chart's first, or this month's or week's."""
        return min(today - timedelta(days=days - 1), today.replace(day=1), _monday(today))

    def _since(self, first: date) -> SpendRow:
        return total(e for e in self.entries if first <= e.day <= self.today)

    @property
    def today_total(self) -> SpendRow:
        return self._since(self.today)

    @property
    def week_total(self) -> SpendRow:
        return self._since(_monday(self.today))

    @property
    def month_total(self) -> SpendRow:
        return self._since(self.today.replace(day=1))

    def by_day(self, split: Literal["user", "model"] = "user") -> dict[str, dict[str, float]]:
        """The chart: each of the last :attr:`days` days (``YYYY-MM-DD``, oldest first, days
        without spend included) → {user or model: dollars}."""
        first = self.today - timedelta(days=self.days - 1)
        chart: dict[str, dict[str, int]] = {
            d.isoformat(): defaultdict(int) for d in days_between(first, self.today)
        }
        for entry in self.entries:
            day = entry.day.isoformat()
            if day in chart:
                chart[day][key_of(entry, split)] += entry.micros
        return {d: {k: v / MICROS for k, v in split_.items()} for d, split_ in chart.items()}

    def top_users(self, limit: int = 5) -> list[SpendRow]:
        """The users who spent most over the chart's days, costliest first."""
        first = self.today - timedelta(days=self.days - 1)
        return rows((e for e in self.entries if e.day >= first), "user")[:limit]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())
