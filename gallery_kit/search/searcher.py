"""Searching one gallery: the query parsed, this machine's index brought up to date from the
store, one page of matches read back (as summaries for the grid, or as records)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gallery_kit.errors import GalleryError, ImageNotFound
from gallery_kit.records import ImageRecord, ImageSummary, check_image_id
from gallery_kit.search.query import Query, parse
from gallery_kit.stores.base import ImageStore, Page

if TYPE_CHECKING:
    from gallery_kit.search.local_index import LocalIndex


@dataclass(frozen=True, slots=True)
class Filters:
    """A search as the user gave it (text and filters), before parsing."""

    query: str = ""
    model: str | None = None
    operation: str | None = None
    since: str | datetime | None = None
    until: str | datetime | None = None
    seed: int | None = None

    def parsed(self) -> Query:
        return parse(
            self.query,
            model=self.model,
            operation=self.operation,
            since=self.since,
            until=self.until,
            seed=self.seed,
        )


class Searcher:
    """``store``'s images, searched through the SQLite index at ``index_path`` (opened lazily)."""

    def __init__(self, store: ImageStore, index_path: Path) -> None:
        self.store = store
        self._path = index_path
        self._lock = threading.Lock()
        self._index: LocalIndex | None = None

    @property
    def index(self) -> LocalIndex:
        with self._lock:
            if self._index is None:
                from gallery_kit.search.local_index import LocalIndex

                self._index = LocalIndex(self._path)
            return self._index

    def forget(self, image_id: str) -> None:
        """An image deleted through this gallery: no longer found."""
        if self._index is not None:
            self._index.remove([image_id])

    def summaries(
        self, filters: Filters, *, cursor: str | None = None, limit: int = 24
    ) -> tuple[list[ImageSummary], str | None, int]:
        """One page of matches as summaries, the next cursor and the number of matches."""
        query = filters.parsed()
        if cursor is not None:
            check_image_id(cursor)
        index = self.index
        index.refresh(self.store, full_prompt=lambda image_id: self.store.get(image_id).prompt)
        ids, total = index.search(query, cursor=cursor, limit=limit + 1)
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
