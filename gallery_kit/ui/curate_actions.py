"""What the dashboard does for the curation messages of the grid: stars, boards, the trash with
Undo, the ZIP download and compare. Each runs on the app's worker thread; widgets are updated
from there, as the rest of the app does."""

from __future__ import annotations

import itertools
import threading
import time
from typing import TYPE_CHECKING, Any

from gallery_kit.downloads import Planned, make_download, plan_download
from gallery_kit.errors import InvalidRequest
from gallery_kit.records import ImageRecord
from gallery_kit.ui.compare import MAX_COMPARE, MIN_COMPARE, compare_detail
from gallery_kit.ui.curate import ALL, BOARD, BOARD_GONE, FAVORITES, TRASH, Curation

if TYPE_CHECKING:
    from gallery_kit.ui.app import GalleryApp

#: How often the page's ZIP progress bar is told (seconds).
PROGRESS_EVERY_S = 0.25


def _count(n: int, noun: str = "image") -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


class CurationActions:
    def __init__(self, app: GalleryApp) -> None:
        self.app = app
        self.gallery = app.gallery
        self.curation = Curation(app.gallery)
        self._seq = itertools.count(1)
        self._export_lock = threading.Lock()

    # --- the picker ------------------------------------------------------------------------

    def start(self) -> None:
        self.curation.refresh()
        self.push()

    def push(self) -> None:
        """The picker, the panel's "Into" choices and the tiles' stars, as last read."""
        self.app.grid.views = self.curation.views()
        self.app.grid.view = self.curation.view
        self.app.panel.set_boards([(b.name, b.id) for b in self.curation.seen.boards])

    def poll(self) -> None:
        """What other users starred, boarded or trashed since the last look."""
        before = (self.curation.view, self.curation.only(), self.curation.seen.trashed)
        if not self.curation.refresh():
            return
        self.push()
        after = (self.curation.view, self.curation.only(), self.curation.seen.trashed)
        if self.curation.view != ALL and before != after:
            self.app.apply_search(self.app.search.filters())  # the set shown changed
        # (Otherwise the stars changed: the app's poll publishes the tiles next.)

    def set_view(self, key: str) -> None:
        if not self.curation.set_view(key):
            self.app.show_error(BOARD_GONE)
        self.app.grid.view = self.curation.view
        self.app.apply_search(self.app.search.filters())

    # --- stars and boards ------------------------------------------------------------------

    def favorite(self, ids: list[str], on: bool) -> None:
        self.curation.favorite(ids, on)
        if not on and self.curation.view == FAVORITES:
            for image_id in ids:
                self.app.feed.remove(image_id)
        self._after_change(ids)
        what = "Starred" if on else "Unstarred"
        self.app.messages.set_status(f"{what} {_count(len(ids))}.")

    def add(self, key: str, ids: list[str]) -> None:
        board = self.curation.add(key, ids)
        self._after_change(ids)
        self.app.messages.set_status(f"Added {_count(len(ids))} to “{board.name}”.")

    def remove(self, key: str, ids: list[str]) -> None:
        board = self.curation.remove(key, ids)
        if self.curation.view == key:
            for image_id in ids:
                self.app.feed.remove(image_id)
        self._after_change(ids)
        self.app.messages.set_status(f"Removed {_count(len(ids))} from “{board.name}”.")

    def create(self, name: str, ids: list[str]) -> None:
        board = self.curation.create(name)
        if ids:
            self.curation.add(BOARD + board.id, ids)
        self._after_change(ids)
        self.app.messages.set_status(
            f"Board “{board.name}” created" + (f" with {_count(len(ids))}." if ids else ".")
        )

    def rename(self, key: str, name: str) -> None:
        old = self.curation.board(key).name
        board = self.curation.rename(key, name)
        self.push()
        self.app.messages.set_status(f"Board “{old}” is now “{board.name}”.")

    def delete_board(self, key: str) -> None:
        board = self.curation.delete(key)
        self.set_view(ALL)
        self.push()
        self.app.messages.set_status(f"Board “{board.name}” deleted; its images stay.")

    def joined(self, records: list[ImageRecord]) -> bool:
        """Put this session's new images on the panel's "Into" board; whether they thereby
        belong to the view shown. A failure is a warning: the images are stored anyway."""
        into = str(self.app.panel.into.value)
        if not into or not records:
            return False
        try:
            self.curation.add(BOARD + into, [r.id for r in records])
        except Exception as exc:
            self.app.show_warning([f"Saved, but not added to the board: {exc}"])
            return False
        self.push()
        return self.curation.view == BOARD + into

    def _after_change(self, ids: list[str]) -> None:
        self.push()
        self.app.publish()
        detail = self.app.grid.detail
        if detail.get("id") in ids:
            self.app.grid.detail = {**detail, **self.lightbox_extras(detail["id"])}

    # --- the trash ---------------------------------------------------------------------------

    def trash(self, ids: list[str]) -> None:
        """To the trash, with an Undo for 10 s; in the lightbox, the next image opens."""
        following = self._next_after(ids)
        self.gallery.trash(ids)
        for image_id in ids:
            self.app.feed.remove(image_id)
        self.curation.seen.trashed += len(ids)
        self.push()
        self.app.publish()
        if self.app.grid.detail.get("id") in ids:
            if following:
                self.app.open_image(following)
            else:
                self.app.grid.detail = {}
        self.toast(f"Moved {_count(len(ids))} to the trash.", undo=ids)

    def _next_after(self, ids: list[str]) -> str | None:
        visible = [item.id for item in self.app.feed.visible()]
        open_id = self.app.grid.detail.get("id")
        if open_id not in visible:
            return None
        rest = visible[visible.index(open_id) :] + visible[: visible.index(open_id)][::-1]
        return next((i for i in rest if i not in ids), None)

    def restore(self, ids: list[str]) -> None:
        records = self.gallery.restore(ids)
        self.curation.refresh()
        self.push()
        self.app.reload()
        self.toast(f"Restored {_count(len(records))}.")

    def purge(self, ids: list[str]) -> None:
        self.gallery.purge(ids)
        for image_id in ids:
            self.app.feed.remove(image_id)
        self.curation.refresh()
        self.push()
        self.app.publish()
        self.app.messages.set_status(f"Deleted {_count(len(ids))} for good.")

    def empty_trash(self) -> None:
        gone = self.gallery.empty_trash()
        self.curation.refresh()
        self.push()
        self.app.reload()
        self.app.messages.set_status(f"Emptied the trash: {_count(len(gone))} deleted for good.")

    def toast(self, text: str, *, undo: list[str] | None = None) -> None:
        self.app.grid.toast = {"seq": next(self._seq), "text": text, "undo": undo or []}

    # --- the ZIP download and compare ---------------------------------------------------------

    def export(self, ids: list[str] | None) -> None:
        """A ZIP of ``ids`` (None: everything the view and search match), built into the store
        with a progress bar on the page, then downloaded by the browser from there. What it
        holds is read here, in the order of the user's actions; the bytes are written on
        another thread, so stars and boards go on meanwhile."""
        if not self._export_lock.acquire(blocking=False):
            self.app.messages.set_status("A ZIP is being built already; it downloads when ready.")
            return
        try:
            if ids is None:
                ids = self.app.matching_ids()
            if not ids:
                raise InvalidRequest("Nothing to export: no image is shown.")
            plan = plan_download(self.gallery, ids)
        except BaseException:
            self._export_lock.release()
            raise
        self.app.run(self._build, plan)

    def _build(self, plan: Planned) -> None:
        seq = next(self._seq)
        try:
            total = len(plan.records)
            grid = self.app.grid
            grid.download = {"seq": seq, "state": "building", "done": 0, "total": total}
            last = [0.0]

            def progress(_what: str, done: int, _total: int | None) -> None:
                now = time.monotonic()
                if now - last[0] >= PROGRESS_EVERY_S or done == total:
                    last[0] = now
                    grid.download = {**grid.download, "done": done}

            made = make_download(self.gallery, plan, progress)
            size = (
                f"{made.bytes / 1e6:.1f} MB" if made.bytes >= 1e6 else f"{made.bytes / 1e3:.0f} KB"
            )
            text = f"ZIP ready: {_count(made.images)}, {size}."
            if made.problems:
                text += f" Left out {len(made.problems)}: {made.problems[0]}"
            grid.download = {
                "seq": seq,
                "state": "ready",
                "done": total,
                "total": total,
                "url": made.url,
                "filename": made.filename,
                "text": text,
            }
        except Exception as exc:
            self.app.grid.download = {"seq": seq, "state": "failed", "text": str(exc)}
            raise
        finally:
            self._export_lock.release()

    def compare(self, ids: list[str]) -> None:
        if not MIN_COMPARE <= len(ids) <= MAX_COMPARE:
            raise InvalidRequest(f"Compare takes {MIN_COMPARE} to {MAX_COMPARE} images.")
        records = [self.gallery.get(i) for i in ids]
        self.app.grid.compare = compare_detail(self.gallery, records)

    def lightbox_extras(self, image_id: str) -> dict[str, Any]:
        return {
            "favorite": self.curation.is_favorite(image_id),
            "boards": self.curation.boards_of(image_id),
            "trashed": self.curation.view == TRASH,
        }
