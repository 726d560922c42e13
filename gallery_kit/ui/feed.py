"""What the grid shows: the images loaded so far (newest first), the cursor, the filter and a
bounded thumbnail cache. Thread-safe; reads the gallery, never touches widgets."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any

from gallery_kit.errors import GalleryError
from gallery_kit.gallery import Gallery
from gallery_kit.records import ImageRecord
from gallery_kit.ui.lightbox import caption, data_url
from gallery_kit.ui.operations import OPERATION_NAMES

log = logging.getLogger(__name__)

PAGE_SIZE = 24
#: Pages scanned at most per filter request, so a rare word cannot list a huge bucket at once.
FILTER_SCAN_PAGES = 10
#: Thumbnails kept in memory (data URLs offline, ~5-10 KB each; presigned URLs in AWS mode).
THUMB_CACHE = 600
#: Presigned URLs are re-made after this long (they expire after 15 minutes).
URL_MAX_AGE_S = 600
#: Pages a poll reads at most; a bigger burst of new images shows after the next reload.
POLL_PAGES = 5


def badge(record: ImageRecord) -> str | None:
    if record.operation:
        return OPERATION_NAMES.get(record.operation, record.operation)
    if record.model_id == "offline":
        return "offline"
    return "imported" if record.source == "adopted" else None


class Feed:
    def __init__(self, gallery: Gallery) -> None:
        self.gallery = gallery
        self._lock = threading.RLock()
        self._records: list[ImageRecord] = []
        self._ids: set[str] = set()
        self._cursor: str | None = None
        self._exhausted = False
        self.filter = ""
        self._thumbs: OrderedDict[str, tuple[str, float]] = OrderedDict()

    @property
    def has_more(self) -> bool:
        return not self._exhausted

    def reset(self) -> None:
        """Start again from the newest page; images waiting to upload come first."""
        with self._lock:
            self._records, self._ids = [], set()
            self._cursor, self._exhausted = None, False
            for record in self.gallery.pending():
                self._remember(record, at_end=True)

    def _remember(self, record: ImageRecord, *, at_end: bool) -> None:
        if record.id in self._ids:
            return
        self._ids.add(record.id)
        if at_end:
            self._records.append(record)
        else:
            self._records.insert(0, record)

    def _matches(self, record: ImageRecord) -> bool:
        return not self.filter or self.filter in record.prompt.casefold()

    def visible(self) -> list[ImageRecord]:
        with self._lock:
            return [r for r in self._records if self._matches(r)]

    def load_more(self) -> list[str]:
        """Fetch pages until one more screenful matches the filter (bounded); return the
        problems the store reported (unreadable objects)."""
        problems: list[str] = []
        target = len(self.visible()) + PAGE_SIZE
        for _ in range(FILTER_SCAN_PAGES):
            if self._exhausted:
                break
            page = self.gallery.page(cursor=self._cursor, limit=PAGE_SIZE)
            problems += page.problems
            with self._lock:
                for record in page.records:
                    self._remember(record, at_end=True)
                self._cursor = page.next_cursor
                self._exhausted = page.next_cursor is None
            if not self.filter or len(self.visible()) >= target:
                break
        return problems

    def set_filter(self, text: str) -> bool:
        """Narrow to prompts containing ``text``; True when more pages should be read."""
        with self._lock:
            self.filter = text.strip().casefold()
        return bool(self.filter) and len(self.visible()) < PAGE_SIZE and not self._exhausted

    def add_new(self, records: list[ImageRecord]) -> None:
        with self._lock:
            for record in reversed(records):  # records[0] ends up first
                self._remember(record, at_end=False)

    def remove(self, image_id: str) -> None:
        with self._lock:
            self._records = [r for r in self._records if r.id != image_id]
            self._ids.discard(image_id)
            self._thumbs.pop(image_id, None)

    def forget_thumb(self, image_id: str) -> None:
        with self._lock:
            self._thumbs.pop(image_id, None)

    def merge_fresh(self) -> int:
        """Add images stored by others since the first page was read; return how many."""
        fresh: list[ImageRecord] = []
        cursor = None
        for _ in range(POLL_PAGES):
            page = self.gallery.page(cursor=cursor, limit=PAGE_SIZE)
            with self._lock:
                new = [r for r in page.records if r.id not in self._ids]
            fresh.extend(new)
            if len(new) < len(page.records) or page.next_cursor is None:
                break
            cursor = page.next_cursor
        with self._lock:
            for record in fresh:
                self._remember(record, at_end=False)
            self._records.sort(key=lambda r: r.id)  # ids sort newest first
        return len(fresh)

    def _thumb_src(self, record: ImageRecord) -> str | None:
        now = time.monotonic()
        with self._lock:
            cached = self._thumbs.get(record.id)
            if cached and (cached[0].startswith("data:") or now - cached[1] < URL_MAX_AGE_S):
                self._thumbs.move_to_end(record.id)
                return cached[0]
        src: str | None = None
        if not self.gallery.is_pending(record.id):
            src = self.gallery.store.url_for(record.thumbnail_key)
        if src is None:
            try:
                src = data_url(self.gallery.read_thumbnail(record), "image/webp")
            except (GalleryError, OSError) as exc:
                log.info("no thumbnail for %s: %s", record.id, exc)
                return None
        with self._lock:
            self._thumbs[record.id] = (src, now)
            while len(self._thumbs) > THUMB_CACHE:
                self._thumbs.popitem(last=False)
        return src

    def items(self) -> list[dict[str, Any]]:
        """The grid's tiles for what is visible now."""
        return [
            {
                "id": record.id,
                "prompt": record.prompt,
                "caption": caption(record.prompt),
                "src": self._thumb_src(record),
                "pending": self.gallery.is_pending(record.id),
                "transparent": record.operation == "remove-background",
                "badge": badge(record),
            }
            for record in self.visible()
        ]
