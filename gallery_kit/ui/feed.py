"""What the grid shows: the images loaded so far (newest first), the cursor, the filter and a
bounded thumbnail cache. Thread-safe; reads the gallery, never touches widgets.

A page is one LIST of summaries (no metadata read) and one round of thumbnail GETs done by the
kernel, whose bytes go to the browser over the widget's websocket. Letting the browser load
them from S3 by presigned URL cost four round trips (a browser opens 6 connections per host to
S3's HTTP/1.1), the kernel's 24-at-once fetch costs one: see bench/README.md.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import replace
from typing import Any

from gallery_kit.errors import GalleryError
from gallery_kit.gallery import Gallery
from gallery_kit.records import ImageRecord, ImageSummary, created_at_of
from gallery_kit.search.query import Query, origin
from gallery_kit.search.searcher import Filters
from gallery_kit.trash import Trash
from gallery_kit.ui.edit_forms import OPERATION_NAMES
from gallery_kit.ui.lightbox import caption

log = logging.getLogger(__name__)

PAGE_SIZE = 24
#: Thumbnail bytes kept in the kernel (~12 KB each: ~2,700 thumbnails).
THUMB_CACHE_BYTES = 32 * 2**20
#: Pages a poll reads at most; a bigger burst of new images shows after the next reload.
POLL_PAGES = 5


def badge(item: ImageSummary) -> str | None:
    if item.operation:
        return OPERATION_NAMES.get(item.operation, item.operation)
    if item.model_id == "offline":
        return "offline"
    return "imported" if item.source == "adopted" else None


class Feed:
    def __init__(self, gallery: Gallery) -> None:
        self.gallery = gallery
        self._lock = threading.RLock()
        self._items: list[ImageSummary] = []
        self._ids: set[str] = set()
        self._cursor: str | None = None
        self._exhausted = False
        self.filter = ""
        #: The search shown instead of the live feed (None: the live feed).
        self.search: Filters | None = None
        #: The trash shown instead (its own pages; the search does not apply).
        self.trash: Trash | None = None
        #: How many images the search matches in the whole gallery (or the trash holds).
        self.total: int | None = None
        self._thumbs: OrderedDict[str, bytes] = OrderedDict()
        self._thumb_bytes = 0

    @property
    def has_more(self) -> bool:
        return not self._exhausted

    def reset(self) -> None:
        """Start again from the newest page; in the live feed, images waiting to upload first."""
        with self._lock:
            self._items, self._ids = [], set()
            self._cursor, self._exhausted = None, False
            self.total = None
            if self.search is None and self.trash is None:
                for record in self.gallery.pending():
                    self._remember(ImageSummary.of(record), at_end=True)

    def _remember(self, item: ImageSummary, *, at_end: bool) -> None:
        if item.id in self._ids:
            return
        self._ids.add(item.id)
        if at_end:
            self._items.append(item)
        else:
            self._items.insert(0, item)

    def visible(self) -> list[ImageSummary]:
        with self._lock:
            return list(self._items)

    def load_more(self) -> list[str]:
        """The next page: of the live feed, or of the search over the whole gallery. Returns the
        problems the store reported (unreadable objects)."""
        if self._exhausted:
            return []
        problems: list[str] = []
        total: int | None
        if self.trash is not None:
            trashed, cursor, total = self.trash.page(cursor=self._cursor, limit=PAGE_SIZE)
            summaries = [ImageSummary.of(t.record) for t in trashed]
        elif self.search is not None:
            summaries, cursor, total = self.gallery.search_summaries(
                self.search, cursor=self._cursor, limit=PAGE_SIZE
            )
        else:
            listing = self.gallery.listing(cursor=self._cursor, limit=PAGE_SIZE)
            summaries, cursor, total = listing.summaries, listing.next_cursor, None
            problems = listing.problems
        with self._lock:
            for item in summaries:
                self._remember(item, at_end=True)
            self._cursor = cursor
            self._exhausted = cursor is None
            self.total = total
        return problems

    def set_search(self, filters: Filters, trash: Trash | None = None) -> None:
        """Show what ``filters`` match in the whole gallery (nothing set: the live feed again;
        ``filters.only``: among those ids), or the ``trash``. A malformed filter raises
        InvalidRequest and changes nothing."""
        search = None if filters.parsed().empty and filters.only is None else filters
        with self._lock:
            self.search = search
            self.trash = trash
            self.filter = filters.query.strip()
        self.reset()

    @property
    def limited(self) -> bool:
        """Whether this view is a chosen set (favourites, a board) or the trash."""
        return self.trash is not None or (self.search is not None and self.search.only is not None)

    def add_new(self, records: list[ImageRecord], *, joined: bool = False) -> None:
        """This session's new images, first where they belong in the view. In a chosen set
        (favourites, a board) only when they ``joined`` it; never in the trash."""
        with self._lock:
            if self.trash is not None or (self.limited and not joined):
                return
            if self.search is not None and self.search.only is not None:
                only = self.search.only | {r.id for r in records}
                self.search = replace(self.search, only=only)
            query = self.search.parsed() if self.search is not None else None
            for record in reversed(records):  # records[0] ends up first
                if query is None or _matches(query, record):
                    self._remember(ImageSummary.of(record), at_end=False)
                    if self.total is not None:
                        self.total += 1

    def remove(self, image_id: str) -> None:
        with self._lock:
            self._items = [i for i in self._items if i.id != image_id]
            self._ids.discard(image_id)
            self.forget_thumb(image_id)

    def forget_thumb(self, image_id: str) -> None:
        with self._lock:
            data = self._thumbs.pop(image_id, None)
            self._thumb_bytes -= len(data or b"")

    def merge_fresh(self) -> int:
        """Add images stored by others since the first page was read; return how many."""
        if self.trash is not None:
            return 0  # the app reloads the trash when its count changes
        if self.search is not None:
            return self._merge_fresh_matches()
        fresh: list[ImageSummary] = []
        cursor = None
        for _ in range(POLL_PAGES):
            listing = self.gallery.listing(cursor=cursor, limit=PAGE_SIZE)
            with self._lock:
                new = [i for i in listing.summaries if i.id not in self._ids]
            fresh.extend(new)
            if len(new) < len(listing.summaries) or listing.next_cursor is None:
                break
            cursor = listing.next_cursor
        with self._lock:
            for item in fresh:
                self._remember(item, at_end=False)
            self._items.sort(key=lambda i: i.id)  # ids sort newest first
        return len(fresh)

    def _merge_fresh_matches(self) -> int:
        """While searching: new images that match, in; images deleted anywhere, out (the index
        is refreshed by the search). How many tiles changed."""
        search = self.search
        if search is None:
            return 0
        summaries, _cursor, total = self.gallery.search_summaries(search, limit=PAGE_SIZE)
        with self._lock:
            shown = list(self._ids)
        still = self.gallery.search_index.known(shown)
        with self._lock:
            if self.search is not search:
                return 0  # the search changed meanwhile
            fresh = [s for s in summaries if s.id not in self._ids]
            for item in fresh:
                self._remember(item, at_end=False)
            self._items.sort(key=lambda i: i.id)
            self.total = total
        # (An image of this session still waiting to upload is in no index yet: it stays.)
        gone = [i for i in shown if i not in still and not self.gallery.is_pending(i)]
        for image_id in gone:
            self.remove(image_id)
        return len(fresh) + len(gone)

    def thumbnails(self, ids: list[str]) -> list[tuple[str, bytes]]:
        """The thumbnails of ``ids`` in that order: from the cache, the rest fetched at once."""
        with self._lock:
            missing = [i for i in ids if i not in self._thumbs]
        fetched = self.gallery.thumbnails(missing) if missing else {}
        found: list[tuple[str, bytes]] = []
        with self._lock:
            for image_id, data in fetched.items():
                self._keep_thumb(image_id, data)
            for image_id in ids:
                kept = fetched.get(image_id) or self._thumbs.get(image_id)
                if kept is not None:
                    found.append((image_id, kept))
                    if image_id in self._thumbs:
                        self._thumbs.move_to_end(image_id)
        return found

    def _keep_thumb(self, image_id: str, data: bytes) -> None:
        self.forget_thumb(image_id)
        self._thumbs[image_id] = data
        self._thumb_bytes += len(data)
        while self._thumb_bytes > THUMB_CACHE_BYTES and len(self._thumbs) > 1:
            _, dropped = self._thumbs.popitem(last=False)
            self._thumb_bytes -= len(dropped)

    def items(self, favorites: set[str] | frozenset[str] = frozenset()) -> list[dict[str, Any]]:
        """The grid's tiles for what is visible now (thumbnails travel separately)."""
        return [
            {
                "id": item.id,
                "prompt": item.prompt,
                "caption": caption(item.prompt),
                "pending": self.gallery.is_pending(item.id),
                "transparent": item.operation == "remove-background",
                "badge": badge(item),
                "favorite": item.id in favorites,
            }
            for item in self.visible()
        ]


def _matches(query: Query, record: ImageRecord) -> bool:
    """Whether a new image of this session belongs in the search shown."""
    return query.matches(
        prompt=record.prompt,
        model_id=record.model_id,
        operation=origin(record.operation, record.source),
        created_at=created_at_of(record.id),
        seed=record.seed,
    )


class FirstPage:
    """When the dashboard reads its first page: at start, or - in a kernel Voilà keeps ready
    (preheated: ``VOILA_PREHEAT=True``, started before anyone asked) - when its page connects
    (the grid view's "ready"), so no visitor is shown the gallery as it was when the kernel
    started. Such a kernel only warms at start (the store's connection, the server's thumbnail
    cache), and its first page at "ready" is one LIST and thumbnails from that cache.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._waiting = (os.environ if environ is None else environ).get("VOILA_PREHEAT") == "True"
        self._load: Callable[[], None] | None = None
        self._gallery: Gallery | None = None
        self._lock = threading.Lock()

    def at_start(self, load: Callable[[], None], gallery: Gallery) -> None:
        with self._lock:
            waiting = self._waiting
            self._load, self._gallery = load, gallery
        if not waiting:
            load()
            return
        listing = gallery.listing(limit=PAGE_SIZE)
        gallery.thumbnails([s.id for s in listing.summaries])

    def at_ready(self, pool: Executor, guard: Callable[..., Any]) -> bool:
        """True when this "ready" reads the first page (on ``pool``, through ``guard``)."""
        with self._lock:
            load, waiting, self._waiting = self._load, self._waiting, False
        if not waiting or load is None:  # (before at_start: at_start reads it)
            return False
        pool.submit(guard, self._first_read, load)
        return True

    def _first_read(self, load: Callable[[], None]) -> None:
        # As a kernel started for the page does first: upload what waits (another kernel may
        # have been killed after its model answered), then the page.
        if self._gallery is not None:
            try:
                self._gallery.sync_outbox()
            except GalleryError as exc:
                log.info("outbox not flushed at the first page: %s", exc)
        load()
