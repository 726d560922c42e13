"""Searching one gallery: the query parsed, this machine's index brought up to date from the
store, one page of matches read back (as summaries for the grid, or as records)."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gallery_kit.errors import GalleryError, ImageNotFound
from gallery_kit.progress import Progress, quiet
from gallery_kit.records import ImageRecord, ImageSummary, check_image_id
from gallery_kit.search.query import Query, parse
from gallery_kit.stores.base import ImageStore, Page

if TYPE_CHECKING:
    from gallery_kit.search.local_index import LocalIndex
    from gallery_kit.search.sync import CatalogSync, RefreshReport

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Filters:
    """A search as the user gave it (text and filters), before parsing."""

    query: str = ""
    model: str | None = None
    operation: str | None = None
    since: str | datetime | None = None
    until: str | datetime | None = None
    seed: int | None = None
    #: Made by this user (``created_by``, case ignored).
    by: str | None = None
    #: Among these ids alone (the service resolves favourites and boards to ids).
    only: frozenset[str] | None = None

    def parsed(self) -> Query:
        return parse(
            self.query,
            model=self.model,
            operation=self.operation,
            since=self.since,
            until=self.until,
            seed=self.seed,
            by=self.by,
        )


#: A search asks the store what changed at most this often (each keystroke need not).
POLL_EVERY_S = 2.0


class Searcher:
    """``store``'s images, searched through the SQLite index at ``index_path`` (opened lazily)
    and kept up to date through the shared catalog (:mod:`gallery_kit.search.sync`).

    ``compact``: write the shared catalog when it is due, in the background (a dashboard's
    kernel); the command line leaves that to longer-lived processes.
    """

    def __init__(
        self,
        store: ImageStore,
        index_path: Path,
        *,
        compact: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._path = index_path
        self._lock = threading.Lock()
        self._index: LocalIndex | None = None
        self._sync: CatalogSync | None = None
        self._compact = compact
        self._monotonic = monotonic
        self._polled = -math.inf

    @property
    def index(self) -> LocalIndex:
        return self.sync.index

    @property
    def sync(self) -> CatalogSync:
        with self._lock:
            if self._sync is None:
                from gallery_kit.search.local_index import LocalIndex
                from gallery_kit.search.sync import CatalogSync

                self._sync = CatalogSync(
                    self.store,
                    LocalIndex(self._path),
                    full_prompt=lambda image_id: self.store.get(image_id).prompt,
                )
            return self._sync

    def refresh(self, *, force: bool = False) -> RefreshReport | None:
        """Bring the index up to date (at most every POLL_EVERY_S unless ``force``); what it
        cost, or None when it was not due."""
        now = self._monotonic()
        if not force and now - self._polled < POLL_EVERY_S:
            return None
        sync = self.sync
        report = sync.refresh()
        self._polled = now
        if self._compact and not sync.compacting and sync.compaction_due():
            threading.Thread(target=self._compact_quietly, daemon=True).start()
        return report

    def _compact_quietly(self) -> None:
        try:
            self.sync.compact()
        except GalleryError as exc:
            log.info("the shared catalog is written at a later poll: %s", exc)

    def saw(self, records: list[ImageRecord]) -> None:
        """Images this process just stored: searchable before the next poll."""
        if self._sync is not None and records:
            self._sync.index.add([ImageSummary.of(r) for r in records])

    def rebuild(self, progress: Progress = quiet) -> None:
        """This machine's index from the whole listing, then the shared catalog anew."""
        self.sync.rebuild(progress)

    def forget(self, image_id: str) -> None:
        """An image deleted through this gallery: no longer found."""
        if self._sync is not None:
            self._sync.index.remove([image_id])

    def summaries(
        self, filters: Filters, *, cursor: str | None = None, limit: int = 24
    ) -> tuple[list[ImageSummary], str | None, int]:
        """One page of matches as summaries, the next cursor and the number of matches."""
        query = filters.parsed()
        if cursor is not None:
            check_image_id(cursor)
        self.refresh()
        index = self.index
        ids, total = index.search(query, cursor=cursor, limit=limit + 1, only=filters.only)
        ids, more = ids[:limit], len(ids) > limit
        return index.summaries(ids), (ids[-1] if more and ids else None), total

    def page(self, filters: Filters, *, cursor: str | None = None, limit: int = 24) -> Page:
        """One page of matches as records (their metadata read at once)."""
        summaries, next_cursor, total = self.summaries(filters, cursor=cursor, limit=limit)
        ids = [s.id for s in summaries]
        records: list[ImageRecord] = []
        problems: list[str] = []
        with ThreadPoolExecutor(max_workers=8) as pool:
            for image_id, got in zip(ids, pool.map(self._record_or_error, ids), strict=True):
                if isinstance(got, ImageNotFound):
                    self.index.remove([image_id])  # deleted since the index saw it
                    total -= 1
                elif isinstance(got, GalleryError):
                    problems.append(str(got))
                else:
                    records.append(got)
        return Page(records, next_cursor, problems, total=total)

    def _record_or_error(self, image_id: str) -> ImageRecord | GalleryError:
        try:
            return self.store.get(image_id)
        except GalleryError as exc:
            return exc
