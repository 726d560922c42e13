"""The grid's messages to the kernel, ``{"type": ..., ...}``, and who answers each.

Everything in a message comes from the page: ids are validated before they reach a key or a
path, names and numbers are checked by the service, and work goes to the app's worker thread
(every failure becomes a message in the page)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gallery_kit.records import is_image_id
from gallery_kit.ui.curate import clean_ids

if TYPE_CHECKING:
    from gallery_kit.ui.app import GalleryApp


def _text(value: object, limit: int = 200) -> str:
    return value[:limit] if isinstance(value, str) else ""


def route(app: GalleryApp, content: Any) -> None:
    """Answer one message of the grid (anything malformed is ignored)."""
    if not isinstance(content, dict):
        return
    kind = content.get("type")
    image_id = content.get("id")
    if image_id is not None and not (isinstance(image_id, str) and is_image_id(image_id)):
        return
    ids = clean_ids(content.get("ids"))
    board = _text(content.get("board"))
    run, ordered, curate = app.run, app.run_in_order, app.curate
    if kind == "ready":
        app.on_ready()
    elif kind == "close":
        app.grid.detail = {}
    elif kind == "close_compare":
        app.grid.compare = {}
    elif kind == "open" and image_id:
        run(app.open_image, image_id)
    elif kind == "step" and image_id:
        run(app.step, image_id, -1 if content.get("by") == -1 else 1)
    elif kind == "reuse" and image_id:
        run(app.reuse, image_id)
    elif kind in ("delete", "trash") and (ids or image_id):
        ordered(curate.trash, ids or [image_id])
    elif kind == "operation" and image_id:
        params = content.get("params")
        app.run_operation(
            image_id, str(content.get("name")), params if isinstance(params, dict) else {}
        )
    elif kind == "load_more":
        run(app.load_more)
    elif kind == "poll":
        run(app.poll)
    elif kind == "thumb_error" and image_id:
        run(app.thumb_failed, image_id)
    elif kind == "view":
        ordered(curate.set_view, _text(content.get("key")))
    elif kind == "favorite" and ids:
        ordered(curate.favorite, ids, bool(content.get("on", True)))
    elif kind == "board_add" and ids:
        ordered(curate.add, board, ids)
    elif kind == "board_remove" and ids:
        ordered(curate.remove, board, ids)
    elif kind == "board_create":
        ordered(curate.create, _text(content.get("name"), 400), ids)
    elif kind == "board_rename":
        ordered(curate.rename, board, _text(content.get("name"), 400))
    elif kind == "board_delete":
        ordered(curate.delete_board, board)
    elif kind == "restore" and ids:
        ordered(curate.restore, ids)
    elif kind == "purge" and ids:
        ordered(curate.purge, ids)
    elif kind == "empty_trash":
        ordered(curate.empty_trash)
    elif kind == "export":
        ordered(curate.export, ids or None)
    elif kind == "compare" and ids:
        ordered(curate.compare, ids)
