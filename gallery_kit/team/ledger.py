"""The spend ledger: one empty object per paid request, its figures in its key, so a day of
spend is one LIST (a page per 1,000 requests) and concurrent writers never lose an entry.

Layout, under the gallery's prefix::

    gallery-kit/ledger/<YYYY-MM-DD>/<first image id>.<base64url JSON>

The JSON is ``{"u": user, "m": model id, "n": images, "c": millionths of a dollar}`` (and
``"e": 1`` where the price is our estimate), cut into ``/``-separated parts of at most
:data:`~gallery_kit.records.MAX_SEGMENT_BYTES` as the index keys are. The day is the UTC date of
the request (its first image id's time). Keys, entries and sums are pure; :func:`write` and
:func:`read_days` do the I/O through the store's shared-object methods.
"""

from __future__ import annotations

import base64
import binascii
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from gallery_kit.records import MAX_SEGMENT_BYTES, ROOT, created_at_of, is_image_id
from gallery_kit.stores.base import ImageStore
from gallery_kit.team.costs import MICROS

LEDGER_DIR = ROOT + "ledger/"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One paid request (or one offline request, at 0)."""

    #: The request's first image id: when it was made, and unique.
    id: str
    user: str
    model_id: str
    images: int
    micros: int
    is_estimate: bool = False

    @property
    def at(self) -> datetime:
        return created_at_of(self.id)

    @property
    def day(self) -> date:
        return self.at.date()

    @property
    def cost_usd(self) -> float:
        return self.micros / MICROS


def day_prefix(day: date) -> str:
    return f"{LEDGER_DIR}{day.isoformat()}/"


def entry_key(entry: LedgerEntry) -> str:
    """The entry's key, relative to the gallery's prefix."""
    body: dict[str, object] = {
        "u": entry.user,
        "m": entry.model_id,
        "n": entry.images,
        "c": entry.micros,
    }
    if entry.is_estimate:
        body["e"] = 1
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    encoded = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    first = MAX_SEGMENT_BYTES - len(entry.id) - 1
    parts = [encoded[:first]] + [
        encoded[i : i + MAX_SEGMENT_BYTES] for i in range(first, len(encoded), MAX_SEGMENT_BYTES)
    ]
    return f"{day_prefix(entry.day)}{entry.id}." + "/".join(p for p in parts if p)


def entry_from_key(key: str) -> LedgerEntry | None:
    """The entry in a ledger key; None for anything else (anyone with write access to the
    bucket can put keys here)."""
    if not key.startswith(LEDGER_DIR):
        return None
    _day, _, rest = key[len(LEDGER_DIR) :].partition("/")
    image_id, _, encoded = rest.partition(".")
    if not is_image_id(image_id):
        return None
    encoded = encoded.replace("/", "")
    try:
        raw = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
        user, model, images, micros = raw["u"], raw["m"], raw["n"], raw["c"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        return None
    if not (isinstance(user, str) and isinstance(model, str)):
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (images, micros)):
        return None
    return LedgerEntry(image_id, user, model, images, micros, bool(raw.get("e")))


def days_between(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def write(store: ImageStore, entry: LedgerEntry) -> None:
    """One PUT of an empty object: never overwrites another writer's entry."""
    store.write_shared(entry_key(entry), b"")


def read_days(store: ImageStore, first: date, last: date) -> list[LedgerEntry]:
    """Every entry of the days ``first`` to ``last`` (UTC), oldest first: one LIST a day (a page
    per 1,000 requests), the days side by side."""
    days = days_between(first, last)
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(days)))) as pool:
        listed = list(pool.map(lambda d: store.list_shared(day_prefix(d)), days))
    found = [e for objects in listed for o in objects if (e := entry_from_key(o.key))]
    return sorted(found, key=lambda e: e.id, reverse=True)
