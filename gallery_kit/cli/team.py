"""``gallery-kit spend`` and the duplicate notice of ``generate``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gallery_kit.cli.output import print_json
from gallery_kit.gallery import Gallery, GenerationResult
from gallery_kit.team.costs import dollars
from gallery_kit.team.spend import BY, check_by, total
from gallery_kit.team.spend import rows as sum_rows


def add_spend_parser(sub: Any) -> None:
    spend = sub.add_parser(
        "spend", help="what the gallery cost: by day, user or model (from the spend ledger)"
    )
    spend.add_argument(
        "--since", help="from this UTC date or datetime (default: 29 days before today)"
    )
    spend.add_argument("--until", help="before this (a date: to the end of that day)")
    spend.add_argument("--by", choices=BY, default="day", help="one row per (default: day)")
    spend.add_argument("--json", action="store_true", help="one JSON object per row")


def run_spend(gallery: Gallery, args: argparse.Namespace) -> int:
    entries = gallery.spend_entries(since=args.since, until=args.until)
    rows = sum_rows(entries, check_by(args.by))
    if args.json:
        for row in rows:
            print_json(row.to_json())
        return 0
    for row in rows:
        print(f"{row.key:40} {row.images:6} images  {dollars(row.micros):>10}")
    whole = total(entries)
    print(f"{'total':40} {whole.images:6} images  {dollars(whole.micros):>10}")
    return 0


def note_duplicate(result: GenerationResult) -> None:
    """One line on stderr when ``generate`` gave back images made before."""
    if result.duplicate is not None:
        print(f"{result.duplicate.made} — use --again to generate again", file=sys.stderr)
