"""The clickable thumbnail grid and lightbox: a small anywidget (ESM + traits, no build step)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import anywidget
import traitlets

_HERE = Path(__file__).parent


def items_change(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[str, Any]:
    """The smallest message of ours that turns the page's ``old`` tiles into ``new``: a page
    added at the end or new images at the start, some tiles changed or removed; else all."""
    if new[: len(old)] == old:
        return {"op": "append", "items": new[len(old) :]}
    if old and new[-len(old) :] == old:
        return {"op": "prepend", "items": new[: len(new) - len(old)]}
    old_ids, new_ids = [i["id"] for i in old], [i["id"] for i in new]
    if old_ids == new_ids:
        return {"op": "update", "items": [n for o, n in zip(old, new, strict=True) if o != n]}
    kept = set(new_ids)
    if [i for i in old if i["id"] in kept] == new:
        return {"op": "remove", "ids": [i for i in old_ids if i not in kept]}
    return {"op": "replace", "items": new}


class GalleryGrid(anywidget.AnyWidget):
    """Thumbnails newest first, "Load more", and a lightbox for the image ``detail`` names.

    The browser sends ``{"type": ...}`` messages (see :mod:`gallery_kit.ui.routes`), which
    :class:`~gallery_kit.ui.app.GalleryApp` answers.
    """

    _esm = _HERE / "grid.js"
    _css = _HERE / "grid.css"

    #: [{id, prompt, caption, pending, transparent, badge, favorite}], newest first: what the
    #: page shows. Not synced as a whole: :meth:`show_items` sends the page only what changed
    #: ("Load more" sends the new page, not the whole list again). Thumbnails travel apart,
    #: as binary buffers (:meth:`send_thumbnails`).
    items = traitlets.List(traitlets.Dict())
    has_more = traitlets.Bool(False).tag(sync=True)
    loading = traitlets.Bool(False).tag(sync=True)
    empty_text = traitlets.Unicode("").tag(sync=True)
    #: The open image: {id, prompt, negative_prompt, settings: [[label, value]], src,
    #: download_url, filename, pending, lineage, operations, message}; {} when closed.
    detail = traitlets.Dict().tag(sync=True)
    #: How often the page asks for other users' new images (0 = never).
    poll_ms = traitlets.Int(5000).tag(sync=True)
    #: The picker above the grid: [{key, label, count, board?}] and the key shown.
    views = traitlets.List(traitlets.Dict()).tag(sync=True)
    view = traitlets.Unicode("all").tag(sync=True)
    #: A short notice with an optional Undo: {seq, text, undo: [ids]}; {} for none.
    toast = traitlets.Dict().tag(sync=True)
    #: The ZIP being built or ready: {seq, state: building|ready|failed, done, total, url,
    #: filename, text}; {} for none.
    download = traitlets.Dict().tag(sync=True)
    #: Images side by side: {items: [{id, src, prompt}], rows: [{label, values, differ}]}.
    compare = traitlets.Dict().tag(sync=True)

    def show_items(self, items: list[dict[str, Any]]) -> None:
        """Make the page's tiles ``items``, sending only the difference from what it has."""
        with self._items_lock:
            if items != self.items:
                self.send({"type": "items", **items_change(self.items, items)})
                self.items = items

    def resend_items(self) -> None:
        """The whole list again (the page's view was rendered anew, or missed a message)."""
        with self._items_lock:
            self.send({"type": "items", "op": "replace", "items": self.items})

    def send_thumbnails(self, thumbnails: list[tuple[str, bytes]]) -> None:
        """WebP bytes by id; the page turns them into blob: URLs for the tiles."""
        if thumbnails:
            self.send(
                {"type": "thumbs", "ids": [image_id for image_id, _ in thumbnails]},
                buffers=[data for _, data in thumbnails],
            )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._items_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<GalleryGrid {len(self.items)} items>"

    def _repr_keys(self) -> Any:  # keep thumbnails out of any repr
        return iter(())
