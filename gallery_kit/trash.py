"""The trash: deleting unlists an image everywhere and keeps it restorable; emptying (or age,
``GALLERY_TRASH_DAYS``) deletes it for good.

``gallery-kit/trash/<id>.json`` holds when it was trashed and the record itself, so the trash
lists and restores without the index. Trashing is: the marker, then unlisting (the index key
goes, a ``deleted`` change marker tells other servers' search). Restoring is: listing again
(the index key, an ``added`` change marker), then the marker goes. The original, thumbnail,
metadata and lineage markers stay in place all along, so children and lineage survive.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from gallery_kit.errors import GalleryError, ImageNotFound
from gallery_kit.records import (
    TRASH_DIR,
    ImageRecord,
    check_image_id,
    is_image_id,
    record_from_json,
    record_to_json,
)
from gallery_kit.stores.base import ImageStore
from gallery_kit.team import dedupe

if TYPE_CHECKING:
    from gallery_kit.search.searcher import Searcher
    from gallery_kit.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_TRASH_DAYS = 30


@dataclass(frozen=True, slots=True)
class Trashed:
    record: ImageRecord
    trashed_at: str


class Trash:
    def __init__(self, store: ImageStore, *, days: int = DEFAULT_TRASH_DAYS) -> None:
        self.store = store
        self.days = days

    def trash(self, ids: list[str], now: datetime | None = None) -> list[ImageRecord]:
        """Move these to the trash; ImageNotFound for the first unknown id, before any change."""
        records = [self.store.get(check_image_id(i)) for i in ids]
        for record in records:
            if not self.store.exists(record.id):
                raise ImageNotFound(f"{record.id} is not in the gallery (in the trash already?).")
        stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        for record in records:
            body = {"trashed_at": stamp, "record": json.loads(record_to_json(record))}
            self.store.write_shared(self._key(record.id), json.dumps(body).encode())
            self.store.unlist(record.id)
        return records

    def restore(self, ids: list[str]) -> list[ImageRecord]:
        found = {check_image_id(i): self._read(self._key(i)) for i in ids}
        for image_id, item in found.items():
            if item is None:
                raise ImageNotFound(f"{image_id} is not in the trash; see `gallery-kit trash`.")
        records = [item.record for item in found.values() if item is not None]
        for record in records:
            self.store.relist(record)
            self.store.delete_shared([self._key(record.id)])
        return records

    def items(self) -> list[Trashed]:
        """What is in the trash, newest image first."""
        found = (self._read(obj.key) for obj in self.store.list_shared(TRASH_DIR))
        return sorted((t for t in found if t is not None), key=lambda t: t.record.id)

    def page(
        self, *, cursor: str | None = None, limit: int = 24
    ) -> tuple[list[Trashed], str | None, int]:
        """One page of the trash, newest image first: one LIST per 1,000 and the page's markers
        read side by side (what a page of the gallery costs). Also the next cursor and the
        total in the trash."""
        keys = self._keys()
        total = len(keys)
        if cursor:
            keys = [k for k in keys if k > self._key(check_image_id(cursor))]
        chunk = keys[:limit]
        with ThreadPoolExecutor(8, thread_name_prefix="gk-trash") as pool:
            found = [t for t in pool.map(self._read, chunk) if t is not None]
        following = found[-1].record.id if found and len(keys) > limit else None
        return found, following, total

    def ids(self) -> list[str]:
        """The ids in the trash, newest first: its LIST alone, no marker read."""
        ids = (k[len(TRASH_DIR) :].removesuffix(".json") for k in self._keys())
        return [i for i in ids if is_image_id(i)]

    def _keys(self) -> list[str]:
        return sorted(o.key for o in self.store.list_shared(TRASH_DIR) if o.key.endswith(".json"))

    def _read(self, key: str) -> Trashed | None:
        """One trash marker; None when it is missing (restored meanwhile) or not ours."""
        got = self.store.read_shared(key)
        if got is None:
            return None
        try:
            body = json.loads(got[0])
            record = record_from_json(json.dumps(body["record"]).encode(), where=key)
            return Trashed(record, str(body["trashed_at"]))
        except (ValueError, KeyError, TypeError):
            return None

    def purge(self, ids: list[str]) -> None:
        """Delete for good (in the trash or not)."""
        for image_id in ids:
            check_image_id(image_id)
        for image_id in ids:
            self.store.delete(image_id)
            self.store.delete_shared([self._key(image_id)])

    def empty(
        self, *, older_than: timedelta | None = None, now: datetime | None = None
    ) -> list[str]:
        """Delete what is in the trash (only what was trashed before ``older_than`` ago)."""
        now = now or datetime.now(UTC)
        gone = [
            t.record.id
            for t in self.items()
            if older_than is None or now - datetime.fromisoformat(t.trashed_at) > older_than
        ]
        self.purge(gone)
        return gone

    def purge_expired(self, now: datetime | None = None) -> list[str]:
        """What any server does now and then: empty what is older than the setting."""
        return self.empty(older_than=timedelta(days=self.days), now=now)

    @staticmethod
    def _key(image_id: str) -> str:
        return f"{TRASH_DIR}{image_id}.json"


class TrashActions:
    """The trash as :class:`~gallery_kit.gallery.Gallery` offers it (this server's search
    index told at once; other servers' through the change markers)."""

    store: ImageStore
    settings: Settings | None
    _searcher: Searcher

    def _forget_requests(self, ids: list[str]) -> None:
        raise NotImplementedError

    @property
    def trash_bin(self) -> Trash:
        days = self.settings.trash_days if self.settings else DEFAULT_TRASH_DAYS
        return Trash(self.store, days=days)

    def trash(self, ids: list[str]) -> list[ImageRecord]:
        """Move to the trash: unlisted everywhere, restorable for GALLERY_TRASH_DAYS."""
        records = self.trash_bin.trash(ids)
        dedupe.forget(self.store, records)  # a request made again is generated anew
        for record in records:
            self._searcher.forget(record.id)
        return records

    def restore(self, ids: list[str]) -> list[ImageRecord]:
        records = self.trash_bin.restore(ids)
        self._searcher.saw(records)
        return records

    def purge(self, ids: list[str]) -> None:
        """Delete for good, in the trash or not."""
        for image_id in ids:
            check_image_id(image_id)
        self._forget_requests(ids)
        self.trash_bin.purge(ids)
        for image_id in ids:
            self._searcher.forget(image_id)

    def empty_trash(self) -> list[str]:
        """Delete for good everything in the trash; the ids."""
        gone = self.trash_bin.empty()
        for image_id in gone:
            self._searcher.forget(image_id)
        return gone

    def purge_old_trash(self) -> list[str]:
        """Delete for good what has been in the trash longer than GALLERY_TRASH_DAYS: what a
        dashboard's kernel does after its first page (any server may; twice is harmless)."""
        try:
            gone = self.trash_bin.purge_expired()
        except GalleryError as exc:
            log.info("old trash is purged at a later start: %s", exc)
            return []
        for image_id in gone:
            self._searcher.forget(image_id)
        return gone
