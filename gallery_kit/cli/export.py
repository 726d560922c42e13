"""``gallery-kit export``: the chosen images (a board, favourites, ids, a search; all of them
when nothing is chosen) to a ZIP file or a folder, with a progress bar on a terminal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gallery_kit.cli.output import CurationFields, record_json
from gallery_kit.curation import chosen
from gallery_kit.gallery import Gallery
from gallery_kit.records import check_image_id
from gallery_kit.search.searcher import Filters


def add_export_parser(sub: Any) -> None:
    p = sub.add_parser("export", help="originals + manifest.jsonl/.csv to a .zip or a folder")
    p.add_argument("words", nargs="*", help="search words, as `gallery-kit search` takes them")
    p.add_argument("--board", metavar="NAME")
    p.add_argument("--favorites", action="store_true")
    p.add_argument("--ids", nargs="+", metavar="ID")
    p.add_argument("--model")
    p.add_argument("--operation")
    p.add_argument("--since")
    p.add_argument("--until")
    p.add_argument("--seed", type=int)
    p.add_argument("--out", required=True, type=Path, help="a .zip file, or else a folder")


def chosen_ids(gallery: Gallery, args: argparse.Namespace) -> list[str]:
    """The ids every given choice agrees on, newest first; unknown ids and boards raise before
    anything is written."""
    sets: list[set[str]] = []
    if args.ids:
        for image_id in args.ids:
            gallery.get(check_image_id(image_id))  # ImageNotFound: exit 2, nothing written
        sets.append(set(args.ids))
    curated = chosen(gallery.store, favorites=args.favorites, board=args.board)
    if curated is not None:
        sets.append(curated)
    filters = Filters(
        " ".join(args.words), args.model, args.operation, args.since, args.until, args.seed
    )
    if not filters.parsed().empty or not sets:
        sets.append(set(gallery.all_matches(filters)))
    return sorted(set.intersection(*sets))


def run_export(gallery: Gallery, args: argparse.Namespace) -> int:
    from gallery_kit.cli.progress import TerminalProgress
    from gallery_kit.export import export

    ids = chosen_ids(gallery, args)
    records = [gallery.get(i) for i in ids]
    fields = CurationFields(gallery)
    with TerminalProgress() as progress:
        report = export(
            records,
            gallery.read_original,
            lambda r: record_json(gallery, r, **fields.of(r.id)),
            args.out,
            progress,
        )
    for problem in report.problems:
        print(f"gallery-kit: left out: {problem}", file=sys.stderr)
    print(f"wrote {report.images} images ({report.bytes / 1e6:.1f} MB) to {report.path}")
    return 0
