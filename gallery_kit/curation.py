"""Favourites and boards: small marker objects beside the index, never a shared list that two
users rewrite at once. Works on any store with the shared-object methods (S3, a folder).

Layout, under the gallery's prefix::

    gallery-kit/favorites/<image id>                    empty: a favourite
    gallery-kit/boards/<board id>.json                  {"name", "created_at"}
    gallery-kit/board-names/<hash of the folded name>   the board id: names unique ignoring case
    gallery-kit/board-items/<board id>/<image id>       empty: the image is on the board

Starring, adding and removing are one PUT or DELETE each, so concurrent users lose nothing. A
board's name is claimed with a conditional write ("must not exist yet"), so two users creating
"Cats" at once get one board. Ids list newest first, as the index does.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from gallery_kit.errors import ImageNotFound, InvalidRequest
from gallery_kit.records import ROOT, check_image_id, is_image_id
from gallery_kit.search.searcher import Filters
from gallery_kit.stores.base import ImageStore

FAVORITES_DIR = ROOT + "favorites/"
BOARDS_DIR = ROOT + "boards/"
BOARD_NAMES_DIR = ROOT + "board-names/"
BOARD_ITEMS_DIR = ROOT + "board-items/"
MAX_BOARD_NAME = 80


class BoardNotFound(InvalidRequest):
    """No board of that name (exit code 2 on the command line, as an unknown id)."""


@dataclass(frozen=True, slots=True)
class Board:
    id: str
    name: str
    created_at: str


def board_name(name: str) -> str:
    """The name as stored (NFC, trimmed); InvalidRequest naming the rule it breaks."""
    cleaned = unicodedata.normalize("NFC", name).strip()
    if not 1 <= len(cleaned) <= MAX_BOARD_NAME:
        raise InvalidRequest(
            f"A board name has 1 to {MAX_BOARD_NAME} characters; {name!r} has {len(cleaned)}."
        )
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise InvalidRequest(f"A board name cannot hold control characters: {name!r}.")
    return cleaned


def name_key(name: str) -> str:
    """Where a name's claim lives: the same for names that differ only in case."""
    folded = unicodedata.normalize("NFKC", board_name(name)).casefold()
    return BOARD_NAMES_DIR + hashlib.sha256(folded.encode()).hexdigest()[:40]


class Curator:
    """Favourites and boards of the gallery in ``store``."""

    def __init__(self, store: ImageStore) -> None:
        self.store = store
        # Board records by (id, version): a long-lived curator (a dashboard) reads a board's
        # record again only when it was renamed.
        self._records: dict[tuple[str, str], Board | None] = {}

    # --- favourites -----------------------------------------------------------------------

    def favorite(self, ids: list[str], on: bool = True) -> None:
        keys = [FAVORITES_DIR + check_image_id(i) for i in ids]
        self._existing(ids)
        if on:
            for key in keys:
                self.store.write_shared(key, b"")
        else:
            self.store.delete_shared(keys)

    def favorites(self) -> list[str]:
        """Favourite ids, newest first (one LIST per 1,000)."""
        return self._ids_under(FAVORITES_DIR)

    # --- boards ---------------------------------------------------------------------------

    def boards(self) -> list[Board]:
        """Every board, by name (ignoring case)."""
        found = []
        for obj in self.store.list_shared(BOARDS_DIR):
            tag = (obj.key[len(BOARDS_DIR) :].removesuffix(".json"), obj.version)
            if tag not in self._records or not obj.version:
                self._records[tag] = self._read_board(tag[0])
            board = self._records[tag]
            if board is not None:
                found.append(board)
        return sorted(found, key=lambda b: b.name.casefold())

    def _read_board(self, board_id: str) -> Board | None:
        """The board of that id; None when it is gone (deleted meanwhile) or not ours."""
        got = self.store.read_shared(BOARDS_DIR + board_id + ".json")
        if got is None:
            return None
        try:
            body = json.loads(got[0])
            return Board(board_id, str(body["name"]), str(body["created_at"]))
        except (ValueError, KeyError, TypeError):
            return None

    def board(self, name: str) -> Board:
        """The board of that name (ignoring case): its claim, then its record, two GETs."""
        claim = self.store.read_shared(name_key(name))
        board = self._read_board(claim[0].decode()) if claim else None
        if board is None:
            known = ", ".join(b.name for b in self.boards()) or "none yet"
            raise BoardNotFound(
                f"No board named {name!r} (boards: {known}); see `gallery-kit board list`."
            )
        return board

    def create_board(self, name: str, now: datetime | None = None) -> Board:
        cleaned = board_name(name)
        board = Board(
            secrets.token_hex(8),
            cleaned,
            (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        )
        if not self.store.write_shared(name_key(cleaned), board.id.encode(), replacing=""):
            raise InvalidRequest(f"A board named {cleaned!r} exists already (names ignore case).")
        body = {"name": board.name, "created_at": board.created_at}
        self.store.write_shared(BOARDS_DIR + board.id + ".json", json.dumps(body).encode())
        return board

    def rename_board(self, old: str, new: str) -> Board:
        board = self.board(old)
        cleaned = board_name(new)
        same = name_key(cleaned) == name_key(board.name)
        if not same and not self.store.write_shared(
            name_key(cleaned), board.id.encode(), replacing=""
        ):
            raise InvalidRequest(f"A board named {cleaned!r} exists already (names ignore case).")
        body = {"name": cleaned, "created_at": board.created_at}
        self.store.write_shared(BOARDS_DIR + board.id + ".json", json.dumps(body).encode())
        if not same:
            self.store.delete_shared([name_key(board.name)])
        return Board(board.id, cleaned, board.created_at)

    def delete_board(self, name: str) -> None:
        """The board goes; its images stay where they are."""
        board = self.board(name)
        self.store.delete_shared([BOARDS_DIR + board.id + ".json", name_key(board.name)])
        items = [o.key for o in self.store.list_shared(self._items_dir(board))]
        self.store.delete_shared(items)

    def add(self, name: str, ids: list[str]) -> None:
        board = self.board(name)
        self._existing(ids)
        for image_id in ids:
            self.store.write_shared(self._items_dir(board) + image_id, b"")

    def remove(self, name: str, ids: list[str]) -> None:
        board = self.board(name)
        for image_id in ids:
            check_image_id(image_id)
        self.store.delete_shared([self._items_dir(board) + i for i in ids])

    def board_images(self, name: str) -> list[str]:
        return self.images_on(self.board(name))

    def images_on(self, board: Board) -> list[str]:
        """The board's image ids, newest first (one LIST per 1,000)."""
        return self._ids_under(self._items_dir(board))

    def items_by_board(self) -> dict[str, list[str]]:
        """board id → its image ids, newest first: one LIST per 1,000 for every board."""
        found: dict[str, list[str]] = {}
        for obj in self.store.list_shared(BOARD_ITEMS_DIR):
            board_id, _, image_id = obj.key[len(BOARD_ITEMS_DIR) :].partition("/")
            if is_image_id(image_id):
                found.setdefault(board_id, []).append(image_id)
        return {board_id: sorted(ids) for board_id, ids in found.items()}

    def memberships(self) -> dict[str, list[str]]:
        """image id → the names of the boards it is on (the boards, then every board's items:
        a LIST each)."""
        names = {board.id: board.name for board in self.boards()}
        found: dict[str, list[str]] = {}
        for board_id, ids in self.items_by_board().items():
            for image_id in ids:
                if board_id in names:  # (items of a board deleted meanwhile are left out)
                    found.setdefault(image_id, []).append(names[board_id])
        return {i: sorted(n, key=str.casefold) for i, n in found.items()}

    # --- helpers --------------------------------------------------------------------------

    @staticmethod
    def _items_dir(board: Board) -> str:
        return f"{BOARD_ITEMS_DIR}{board.id}/"

    def _ids_under(self, folder: str) -> list[str]:
        ids = (o.key[len(folder) :] for o in self.store.list_shared(folder))
        return sorted(i for i in ids if is_image_id(i))

    def _existing(self, ids: list[str]) -> None:
        """ImageNotFound naming the first id that is not an image here; nothing is changed."""
        for image_id in ids:
            check_image_id(image_id)
            if not self.store.exists(image_id):
                raise ImageNotFound(f"No image {image_id}; see `gallery-kit list`.")


def chosen(store: ImageStore, *, favorites: bool, board: str | None) -> set[str] | None:
    """The ids that are favourites and/or on ``board`` (both: on both); None when neither is
    asked. A LIST each, as a page costs."""
    curator = Curator(store)
    ids = set(curator.favorites()) if favorites else None
    if board:
        on_board = set(curator.board_images(board))
        ids = on_board if ids is None else ids & on_board
    return ids


def among(store: ImageStore, filters: Filters, *, favorites: bool, board: str | None) -> Filters:
    """``filters`` narrowed to the favourites and/or a board's images (``search --favorites``,
    ``--board``)."""
    ids = chosen(store, favorites=favorites, board=board)
    return replace(filters, only=frozenset(ids or ()))
