"""The clickable thumbnail grid and lightbox: a small anywidget (ESM + traits, no build step)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import traitlets

_HERE = Path(__file__).parent


class GalleryGrid(anywidget.AnyWidget):
    """Thumbnails newest first, "Load more", and a lightbox for the image ``detail`` names.

    The browser sends ``{"type": ...}`` messages (see :mod:`gallery_kit.ui.routes`), which
    :class:`~gallery_kit.ui.app.GalleryApp` answers.
    """

    _esm = _HERE / "grid.js"
    _css = _HERE / "grid.css"

    #: [{id, prompt, caption, pending, transparent, badge}], newest first. Thumbnails travel
    #: apart, as binary buffers (:meth:`send_thumbnails`), so an update never resends them.
    items = traitlets.List(traitlets.Dict()).tag(sync=True)
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

    def send_thumbnails(self, thumbnails: list[tuple[str, bytes]]) -> None:
        """WebP bytes by id; the page turns them into blob: URLs for the tiles."""
        if thumbnails:
            self.send(
                {"type": "thumbs", "ids": [image_id for image_id, _ in thumbnails]},
                buffers=[data for _, data in thumbnails],
            )

    def __repr__(self) -> str:
        return f"<GalleryGrid {len(self.items)} items>"

    def _repr_keys(self) -> Any:  # keep thumbnails out of any repr
        return iter(())
