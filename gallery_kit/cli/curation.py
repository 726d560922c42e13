"""``gallery-kit favorite|unfavorite|board …``, and what ``list --favorites/--board`` and the
``--json`` fields ``favorite`` and ``boards`` need. An unknown id or board exits 2 with one
line, before anything is changed."""

from __future__ import annotations

import argparse
import json
from typing import Any

from gallery_kit.cli.output import record_json
from gallery_kit.curation import Curator, chosen
from gallery_kit.errors import ImageNotFound
from gallery_kit.gallery import Gallery
from gallery_kit.records import ImageRecord

CURATION_COMMANDS = ("favorite", "unfavorite", "board", "delete", "trash", "restore")


def add_curation_parsers(sub: Any) -> None:
    delete = sub.add_parser("delete", help="move images to the trash (restorable)")
    delete.add_argument("ids", nargs="+", metavar="ID")
    delete.add_argument("--purge", action="store_true", help="delete for good instead")
    trash = sub.add_parser("trash", help="what is in the trash")
    trash.add_argument("--json", action="store_true")
    trash.add_argument("--empty", action="store_true", help="delete everything in it for good")
    sub.add_parser("restore", help="take images out of the trash").add_argument(
        "ids", nargs="+", metavar="ID"
    )
    for name, verb in (("favorite", "star"), ("unfavorite", "unstar")):
        p = sub.add_parser(name, help=f"{verb} images")
        p.add_argument("ids", nargs="+", metavar="ID")
    board = sub.add_parser("board", help="named collections of images (images stay put)")
    actions = board.add_subparsers(dest="board_action", required=True)
    actions.add_parser("list", help="every board with its count").add_argument(
        "--json", action="store_true"
    )
    actions.add_parser("create").add_argument("name")
    rename = actions.add_parser("rename")
    rename.add_argument("old")
    rename.add_argument("new")
    actions.add_parser("delete", help="the board goes; its images stay").add_argument("name")
    for action in ("add", "remove"):
        p = actions.add_parser(action)
        p.add_argument("name")
        p.add_argument("ids", nargs="+", metavar="ID")


def run_curation(gallery: Gallery, args: argparse.Namespace) -> int:
    if args.command in ("delete", "trash", "restore"):
        return _run_trash(gallery, args)
    curator = Curator(gallery.store)
    if args.command in ("favorite", "unfavorite"):
        curator.favorite(args.ids, on=args.command == "favorite")
        print(f"{args.command}d {len(args.ids)}")
        return 0
    action = args.board_action
    if action == "list":
        boards = curator.boards()
        counts = {b.id: len(curator.images_on(b)) for b in boards}
        for b in boards:
            if args.json:
                row = {"name": b.name, "count": counts[b.id], "created_at": b.created_at}
                print(json.dumps(row, ensure_ascii=False))
            else:
                print(f"{b.name}\t{counts[b.id]}\t{b.created_at}")
    elif action == "create":
        print(f"created {curator.create_board(args.name).name}")
    elif action == "rename":
        print(f"renamed to {curator.rename_board(args.old, args.new).name}")
    elif action == "delete":
        curator.delete_board(args.name)
        print(f"deleted board {args.name} (its images stay)")
    elif action == "add":
        curator.add(args.name, args.ids)
        print(f"added {len(args.ids)} to {args.name}")
    else:
        curator.remove(args.name, args.ids)
        print(f"removed {len(args.ids)} from {args.name}")
    return 0


def list_chosen(
    gallery: Gallery, favorites: bool, board: str | None, cursor: str | None, limit: int
) -> tuple[list[ImageRecord], str | None]:
    """``list --favorites`` / ``--board NAME``: those images, newest first, after ``cursor``;
    and the next cursor."""
    ids = chosen(gallery.store, favorites=favorites, board=board)
    after = sorted(i for i in ids or () if cursor is None or i > cursor)
    records: list[ImageRecord] = []
    for image_id in after:
        if len(records) == limit:
            break
        try:
            records.append(gallery.get(image_id))
        except ImageNotFound:
            continue  # deleted since it was starred or boarded
    more = bool(records) and after.index(records[-1].id) < len(after) - 1
    return records, (records[-1].id if more else None)


def _run_trash(gallery: Gallery, args: argparse.Namespace) -> int:
    if args.command == "delete":
        if args.purge:
            gallery.purge(args.ids)
            print(f"deleted for good {' '.join(args.ids)}")
        else:
            gallery.trash(args.ids)
            print(f"moved to the trash {' '.join(args.ids)} (`gallery-kit restore ID` undoes)")
        return 0
    if args.command == "restore":
        gallery.restore(args.ids)
        print(f"restored {' '.join(args.ids)}")
        return 0
    bin_ = gallery.trash_bin
    expired = bin_.purge_expired()  # any command that looks at the trash tidies it
    if args.empty:
        gone = bin_.empty()
        print(f"deleted for good {len(gone) + len(expired)} images")
        return 0
    for item in bin_.items():
        if args.json:
            row = {**record_json(gallery, item.record), "trashed_at": item.trashed_at}
            print(json.dumps(row, ensure_ascii=False))
        else:
            print(f"{item.record.id}  trashed {item.trashed_at}  {item.record.prompt[:60]}")
    return 0
