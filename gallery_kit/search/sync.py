"""Keeping this machine's search index in step with the gallery, through the shared catalog.

- **Cold** (an empty index): the manifest, its Parquet segments side by side, then one LIST that
  reads the change markers since the manifest and the index keys newer than its watermark.
  With no catalog yet, the whole listing (and this server then writes the catalog).
- **Warm** (every search, at most every ``POLL_EVERY``): one LIST by the prefix ``index``: the
  change markers since the last poll, then the newest index keys down to where the last poll
  was (less ``SLACK``, for clocks and uploads that lag).
- **Compaction** (any server, when the index keys newer than the watermark or the changes
  since the manifest pass ``COMPACT_AT``): the new settled images into the newest segment,
  segments touched by a deletion or a late image written again, then the manifest, replaced
  only if it is still the one read (a conditional write); the replaced segments go after.
  A crash at any step leaves the previous manifest and all it names.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from gallery_kit.errors import GalleryError, ImageNotFound
from gallery_kit.progress import Progress, quiet
from gallery_kit.records import ImageSummary, change_mark, new_image_id
from gallery_kit.search.catalog import (
    MANIFEST_KEY,
    SEGMENT_ROWS,
    SEGMENTS_DIR,
    Manifest,
    Segment,
    decode_rows,
    encode_segment,
    release_memory,
    segment_key,
    tile,
)
from gallery_kit.search.local_index import LocalIndex
from gallery_kit.stores.base import Change, ImageStore, Poll

log = logging.getLogger(__name__)

#: How far back each poll reads again: uploads and clocks that lag by up to this are not missed.
SLACK = timedelta(minutes=2)
#: Images this recent stay out of segments (an upload may still be on its way).
SETTLE = timedelta(minutes=5)
#: Index keys past the watermark, or changes since the manifest, that make a compaction due.
COMPACT_AT = 1000
#: Segments not named by the manifest for this long are leftovers of a crash: removed.
LEFTOVER_AFTER = timedelta(hours=1)
_ZERO = "0" * 10


def _id_at(when: datetime) -> str:
    """The lowest id of an image made at ``when``: ids at or above it are that old or older."""
    return new_image_id(when, _ZERO)


@dataclass(slots=True)
class RefreshReport:
    cold: bool = False
    #: S3 requests (GETs of the manifest and segments, LISTs, GETs of late images).
    requests: int = 0
    #: Bytes of catalog read (manifest and segments).
    catalog_bytes: int = 0
    added: int = 0
    removed: int = 0


@dataclass(slots=True)
class CompactReport:
    written: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    #: False when another server replaced the manifest first (nothing of ours is kept).
    won: bool = True
    rows: int = 0


class _Stale(Exception):
    """A segment the manifest named is gone (replaced meanwhile): read the manifest again."""


class CatalogSync:
    """Brings ``index`` up to date with ``store``; writes the shared catalog when it is due."""

    def __init__(
        self,
        store: ImageStore,
        index: LocalIndex,
        *,
        clock: Callable[[], datetime] | None = None,
        full_prompt: Callable[[str], str] | None = None,
    ) -> None:
        self.store = store
        self.index = index
        self._clock = clock or (lambda: datetime.now(UTC))
        self._full_prompt = full_prompt
        self._lock = threading.Lock()
        self._compacting = threading.Lock()
        #: Keys per LIST (S3's most; tests make it small to see paging at a small scale).
        self.page_size = 1000

    # --- reading --------------------------------------------------------------------------

    def refresh(self) -> RefreshReport:
        with self._lock:
            if self.index.state("polled_at") is None:
                return self._cold()
            return self._poll()

    def reset(self) -> None:
        """Forget this machine's copy; the next refresh starts cold."""
        with self._lock:
            self.index.clear()

    def rebuild(self, progress: Progress = quiet) -> CompactReport:
        """This machine's index from the whole listing (not the catalog), then every segment
        of the shared catalog anew from it: what ``gallery-kit reindex`` does."""
        progress("reading the index for search", 0, None)
        with self._lock:
            self._cold(use_catalog=False)
        progress("reading the index for search", self.index.count(), self.index.count())
        return self.compact(full=True, progress=progress)

    def _cold(self, *, use_catalog: bool = True) -> RefreshReport:
        now = self._clock()
        report = RefreshReport(cold=True)
        manifest = Manifest()
        for _attempt in range(3 if use_catalog else 0):
            manifest = self._read_manifest(report)
            self.index.clear()
            try:
                self._load_segments(manifest, report)
                break
            except _Stale:
                continue
        else:
            manifest = Manifest()  # no catalog, or it keeps changing: the index keys alone
            self.index.clear()
        poll = self.store.poll(
            changes_after=manifest.changes_from or change_mark("", now - SLACK),
            down_to=manifest.watermark,
            page_size=self.page_size,
        )
        self._apply(poll, report)
        self.index.set_state(
            polled_at=now.isoformat(),
            watermark=manifest.watermark or "",
            changes_from=manifest.changes_from,
            changes_since=str(len(poll.changes)),
        )
        return report

    def _poll(self) -> RefreshReport:
        now = self._clock()
        report = RefreshReport()
        since = datetime.fromisoformat(self.index.state("polled_at") or now.isoformat()) - SLACK
        poll = self.store.poll(
            changes_after=change_mark("", since), down_to=_id_at(since), page_size=self.page_size
        )
        self._apply(poll, report)
        seen = int(self.index.state("changes_since") or 0) + report.removed
        self.index.set_state(polled_at=now.isoformat(), changes_since=str(seen))
        return report

    def _read_manifest(self, report: RefreshReport) -> Manifest:
        found = self.store.read_shared(MANIFEST_KEY)
        report.requests += 1
        if found is None:
            return Manifest()
        report.catalog_bytes += len(found[0])
        try:
            return Manifest.from_json(found[0])
        except ValueError as exc:
            log.warning("ignoring the catalog's manifest (%s); reading the index keys", exc)
            return Manifest()

    def _load_segments(self, manifest: Manifest, report: RefreshReport) -> None:
        """Every segment into the index: fetched side by side, decoded and loaded one at a time
        (a million rows never sit in memory at once)."""
        keys = [s.key for s in manifest.segments]
        with ThreadPoolExecutor(max_workers=8) as pool:
            for key, got in zip(keys, pool.map(self.store.read_shared, keys), strict=True):
                report.requests += 1
                if got is None:
                    raise _Stale(key)
                report.catalog_bytes += len(got[0])
                try:
                    rows = decode_rows(got[0])
                except ValueError as exc:
                    log.warning("ignoring catalog segment %s (%s)", key, exc)
                    raise _Stale(key) from exc
                self.index.load_rows(rows)
        release_memory()

    def _apply(self, poll: Poll, report: RefreshReport) -> None:
        """Deletions and late images first, then new keys."""
        report.requests += poll.requests
        # The last change of each image wins (trashed, then restored: listed again).
        last: dict[str, str] = {}
        for change in sorted(poll.changes, key=lambda c: c.key):
            last[change.image_id] = change.kind
        removed = {i for i, kind in last.items() if kind == "deleted"}
        late = [i for i, kind in last.items() if kind == "added"]
        report.removed += self.index.remove(removed)
        fresh = [s for s in poll.summaries if s.id not in removed]
        known = self.index.known([s.id for s in fresh] + late)
        new = [self._completed(s, report) for s in fresh if s.id not in known]
        for image_id in dict.fromkeys(i for i in late if i not in known):
            try:
                new.append(ImageSummary.of(self.store.get(image_id)))
            except ImageNotFound:
                continue  # listed late, then deleted
            finally:
                report.requests += 1
        report.added += self.index.load(new)  # none of them is here yet

    def _completed(self, summary: ImageSummary, report: RefreshReport) -> ImageSummary:
        if not summary.shortened or self._full_prompt is None:
            return summary
        report.requests += 1
        return replace(summary, prompt=self._full_prompt(summary.id), shortened=False)

    # --- writing the shared catalog -------------------------------------------------------

    @property
    def compacting(self) -> bool:
        return self._compacting.locked()

    def compaction_due(self) -> bool:
        watermark = self.index.state("watermark")
        if watermark is None:
            return False  # not synced yet
        settled = _id_at(self._clock() - SETTLE)
        tail = self.index.count_between(settled, watermark or None)
        return tail >= COMPACT_AT or int(self.index.state("changes_since") or 0) >= COMPACT_AT

    def compact(self, *, full: bool = False, progress: Progress = quiet) -> CompactReport:
        """Write the settled images and the changes into the catalog (``full``: every segment
        anew from this index). One compaction at a time on this machine; against other
        machines the manifest's conditional write decides."""
        with self._compacting:
            self.refresh()
            now = self._clock()
            found = self.store.read_shared(MANIFEST_KEY)
            version = found[1] if found else ""
            try:
                manifest = Manifest.from_json(found[0]) if found else Manifest()
            except ValueError:
                manifest = Manifest()
            # Never older than the manifest's own (a server whose clock runs ahead wrote that).
            watermark = min(_id_at(now - SETTLE), manifest.watermark or "9")
            full = full or not manifest.segments
            # Changes up to the newest one seen here are folded (not a clock reading: a server
            # whose clock runs ahead must not hide the changes others make meanwhile).
            # (With no manifest yet, this index came from the whole listing: older changes are
            # in it already.)
            base = manifest.changes_from or change_mark("", now - SLACK)
            folded = self.store.poll(
                changes_after=base, down_to="", page_size=self.page_size
            ).changes
            changes_from = max(
                [c.key for c in folded if c.key <= change_mark("", now)], default=base
            )
            if full:
                keep: list[Segment] = []
                ranges: list[tuple[str, str | None]] = [(watermark, None)]
                touched = list(manifest.segments)
            else:
                keep, ranges, touched = self._plan(manifest, watermark, folded)
            report = CompactReport()
            fresh: list[Segment] = []
            parts = [
                part
                for newest, before in ranges
                for part in tile(newest, before, self.index.between(newest, before))
            ]
            for done, (start, end, rows) in enumerate(parts):
                progress("writing the search catalog", done, len(parts))
                key = segment_key(start)
                self.store.write_shared(key, encode_segment(rows))
                fresh.append(Segment(key, len(rows), start, end))
                report.written.append(key)
                report.rows += len(rows)
            progress("writing the search catalog", len(parts), len(parts))
            new = Manifest(
                sorted(keep + fresh, key=lambda s: s.newest),
                watermark,
                changes_from,
                now.isoformat(timespec="seconds"),
            )
            if not self.store.write_shared(MANIFEST_KEY, new.to_json(), replacing=version):
                # Another server compacted first: its manifest stands, ours goes.
                self.store.delete_shared(report.written)
                return CompactReport(won=False)
            report.replaced = [s.key for s in touched]
            self.index.set_state(
                watermark=watermark, changes_from=new.changes_from, changes_since="0"
            )
            self._remove_replaced(report.replaced, new, now)
            return report

    def _plan(
        self, manifest: Manifest, watermark: str, folded: list[Change]
    ) -> tuple[list[Segment], list[tuple[str, str | None]], list[Segment]]:
        """(segments kept, id ranges to write, segments they replace) for a compaction that
        adds the settled images past the old watermark and folds the changes since."""
        changed = {c.image_id for c in folded}
        segments = sorted(manifest.segments, key=lambda s: s.newest)
        touched = [s for s in segments if any(s.covers(i) for i in changed)]
        newest = segments[0]
        ranges: list[tuple[str, str | None]] = []
        if newest.rows < SEGMENT_ROWS or newest in touched:
            # The newest segment grows with the new images until it is full.
            touched = [newest, *(s for s in touched if s is not newest)]
            ranges.append((watermark, newest.before))
        else:
            ranges.append((watermark, newest.newest))
        ranges += [(s.newest, s.before) for s in touched if s is not newest]
        keep = [s for s in segments if s not in touched]
        return keep, ranges, touched

    def _remove_replaced(self, replaced: list[str], manifest: Manifest, now: datetime) -> None:
        """The segments this compaction replaced, and leftovers of crashed ones."""
        named = {s.key for s in manifest.segments}
        try:
            leftovers = [
                o.key
                for o in self.store.list_shared(SEGMENTS_DIR)
                if o.key not in named and now - o.last_modified > LEFTOVER_AFTER
            ]
            # A reader that fetched the old manifest just now reads it again (see _Stale).
            self.store.delete_shared(sorted(set(replaced) | set(leftovers)))
        except GalleryError as exc:
            log.info("old catalog segments stay for the next compaction: %s", exc)
