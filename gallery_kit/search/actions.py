"""Searching the whole gallery, as :class:`~gallery_kit.gallery.Gallery` offers it: the query
and filters, favourites and boards, and keeping this machine's index and the shared catalog."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from gallery_kit.progress import Progress, quiet
from gallery_kit.records import ImageRecord, ImageSummary
from gallery_kit.search.searcher import Filters, Searcher
from gallery_kit.stores.base import ImageStore, Page, ReindexReport

if TYPE_CHECKING:
    from gallery_kit.search.local_index import LocalIndex
    from gallery_kit.search.sync import CompactReport, RefreshReport


class SearchActions:
    """Mixed into Gallery (its store and searcher)."""

    store: ImageStore
    _searcher: Searcher

    def search(
        self,
        query: str = "",
        *,
        model: str | None = None,
        operation: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        seed: int | None = None,
        cursor: str | None = None,
        limit: int = 24,
        favorites: bool = False,
        board: str | None = None,
        by: str | None = None,
    ) -> Page:
        """Every image in the gallery matching ``query`` and the filters, newest first, paged by
        ``cursor``; ``Page.total`` is the number of matches (see :mod:`gallery_kit.search`).
        ``favorites`` / ``board``: among those alone; ``by``: made by that user (case ignored).
        A malformed date, operation or cursor is an InvalidRequest, before any I/O; an unknown
        board too."""
        filters = Filters(query, model, operation, since, until, seed, by)
        filters.parsed()  # refused before the board is looked up
        if favorites or board:
            from gallery_kit.curation import among

            filters = among(self.store, filters, favorites=favorites, board=board)
        return self._searcher.page(filters, cursor=cursor, limit=limit)

    def search_summaries(
        self, filters: Filters, *, cursor: str | None = None, limit: int = 24
    ) -> tuple[list[ImageSummary], str | None, int]:
        """:meth:`search` as grid tiles (no metadata read): summaries, next cursor, total."""
        return self._searcher.summaries(filters, cursor=cursor, limit=limit)

    def all_matches(self, filters: Filters) -> list[str]:
        """Every id ``filters`` match in the whole gallery (not a page), newest first: one
        index read per 1,000. With nothing to match, images still waiting to upload too."""
        found: set[str] = set()
        cursor = None
        while True:
            summaries, cursor, _total = self.search_summaries(filters, cursor=cursor, limit=1000)
            found.update(s.id for s in summaries)
            if cursor is None:
                break
        if filters.parsed().empty and filters.only is None:
            found.update(r.id for r in self.pending())
        return sorted(found)

    def pending(self) -> list[ImageRecord]:
        raise NotImplementedError

    @property
    def search_index(self) -> LocalIndex:
        """This machine's searchable copy of the gallery (one SQLite file per gallery)."""
        return self._searcher.index

    def reindex(self, progress: Progress = quiet) -> ReindexReport:
        """Mend the store's index keys, then rebuild this machine's search index and the
        shared catalog from them."""
        report = self.store.reindex(progress)
        # Other servers' indexes read these as changes; the shared catalog is written anew.
        for image_id in report.added + report.rewritten:
            self.store.note_change(image_id, "added")
        for image_id in report.removed:
            self.store.note_change(image_id, "deleted")
        self._searcher.rebuild(progress)
        return report

    def refresh_search(self) -> RefreshReport:
        """Bring this machine's search index up to date now (searches do it at most every
        couple of seconds); what it cost."""
        report = self._searcher.refresh(force=True)
        assert report is not None  # forced
        return report

    def compact_catalog(self, *, full: bool = False) -> CompactReport:
        """Write what is due into the shared catalog now (a dashboard does it by itself when
        due; ``full``: every segment anew from this machine's index)."""
        self._searcher.refresh(force=True)
        return self._searcher.sync.compact(full=full)
