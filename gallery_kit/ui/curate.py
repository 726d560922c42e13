"""The dashboard's curation state: which view the grid shows (all images, favourites, a board,
the trash), the favourites (for the stars), the boards and their counts (for the picker).

Read from the store's small marker objects (see :mod:`gallery_kit.curation`): a refresh is one
LIST each of favourites, boards, board items and the trash, so what another user stars, boards
or trashes shows here at the next poll. Never touches widgets.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from gallery_kit.curation import Board, BoardNotFound, Curator
from gallery_kit.gallery import Gallery
from gallery_kit.records import is_image_id

ALL, FAVORITES, TRASH = "all", "favorites", "trash"
BOARD = "board:"
BOARD_GONE = "That board was deleted meanwhile; pick another."
#: Ids one message may name (a selection of everything shown is a few thousand at most).
MAX_IDS = 10_000


def clean_ids(value: object) -> list[str]:
    """The image ids a page sent, validated (anything else is dropped), in order, once each."""
    if not isinstance(value, list):
        return []
    ids = [i for i in value[:MAX_IDS] if isinstance(i, str) and is_image_id(i)]
    return list(dict.fromkeys(ids))


@dataclass(slots=True)
class Overview:
    favorites: set[str] = field(default_factory=set)
    boards: list[Board] = field(default_factory=list)
    #: board id -> its image ids.
    items: dict[str, list[str]] = field(default_factory=dict)
    trashed: int = 0


class Curation:
    def __init__(self, gallery: Gallery) -> None:
        self.gallery = gallery
        self.curator = Curator(gallery.store)
        self._lock = threading.Lock()
        self.view = ALL
        self.seen = Overview()

    def refresh(self) -> bool:
        """Read favourites, boards and the trash again; whether anything changed."""
        seen = Overview(
            set(self.curator.favorites()),
            self.curator.boards(),
            self.curator.items_by_board(),
            len(self.gallery.trash_bin.ids()),
        )
        with self._lock:
            changed = seen != self.seen
            self.seen = seen
            if self.view.startswith(BOARD) and self.board_of(self.view) is None:
                self.view = ALL  # the board was deleted (here or elsewhere)
        return changed

    # --- what the picker and the tiles show ------------------------------------------------

    def board_of(self, key: str) -> Board | None:
        board_id = key.removeprefix(BOARD)
        return next((b for b in self.seen.boards if b.id == board_id), None)

    def views(self) -> list[dict[str, object]]:
        seen = self.seen
        found: list[dict[str, object]] = [
            {"key": ALL, "label": "All images", "count": None},
            {"key": FAVORITES, "label": "Favourites", "count": len(seen.favorites)},
        ]
        for board in seen.boards:
            found.append(
                {
                    "key": BOARD + board.id,
                    "label": board.name,
                    "count": len(seen.items.get(board.id, [])),
                    "board": True,
                }
            )
        found.append({"key": TRASH, "label": "Trash", "count": seen.trashed})
        return found

    def only(self) -> frozenset[str] | None:
        """The ids the view is limited to (favourites, a board); None for all and the trash."""
        if self.view == FAVORITES:
            return frozenset(self.seen.favorites)
        if self.view.startswith(BOARD):
            return frozenset(self.seen.items.get(self.view.removeprefix(BOARD), []))
        return None

    def boards_of(self, image_id: str) -> list[str]:
        return [b.name for b in self.seen.boards if image_id in self.seen.items.get(b.id, [])]

    def is_favorite(self, image_id: str) -> bool:
        return image_id in self.seen.favorites

    # --- changes -----------------------------------------------------------------------------

    def set_view(self, key: str) -> bool:
        """Show ``key``; False when there is no such view (a board deleted meanwhile)."""
        if key not in (ALL, FAVORITES, TRASH) and not (
            key.startswith(BOARD) and self.board_of(key)
        ):
            return False
        self.view = key
        return True

    def favorite(self, ids: list[str], on: bool) -> None:
        self.curator.favorite(ids, on)
        with self._lock:
            if on:
                self.seen.favorites.update(ids)
            else:
                self.seen.favorites.difference_update(ids)

    def board(self, key: str) -> Board:
        board = self.board_of(key)
        if board is None:
            raise BoardNotFound(BOARD_GONE)
        return board

    def add(self, key: str, ids: list[str]) -> Board:
        board = self.board(key)
        self.curator.add(board.name, ids)
        with self._lock:
            items = self.seen.items.setdefault(board.id, [])
            items[:] = sorted(set(items) | set(ids))
        return board

    def remove(self, key: str, ids: list[str]) -> Board:
        board = self.board(key)
        self.curator.remove(board.name, ids)
        with self._lock:
            items = self.seen.items.setdefault(board.id, [])
            items[:] = [i for i in items if i not in set(ids)]
        return board

    def create(self, name: str) -> Board:
        board = self.curator.create_board(name)
        self.refresh()
        return board

    def rename(self, key: str, name: str) -> Board:
        board = self.curator.rename_board(self.board(key).name, name)
        self.refresh()
        return board

    def delete(self, key: str) -> Board:
        board = self.board(key)
        self.curator.delete_board(board.name)
        self.refresh()
        return board
