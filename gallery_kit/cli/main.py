"""``gallery-kit``: generate, list, show, delete, sync, reindex, models and serve from a shell.

Exit status: 0 success, 2 invalid input (nothing was sent), 1 a service failed. Errors go to
stderr as one readable line, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from gallery_kit.bedrock.families import MODELS, GenerationRequest
from gallery_kit.bedrock.families.stability_services import bare_id
from gallery_kit.bedrock.lifecycle import ModelCatalog
from gallery_kit.cli.curation import (
    CURATION_COMMANDS,
    add_curation_parsers,
    list_chosen,
    run_curation,
)
from gallery_kit.cli.edits import EDIT_COMMANDS, add_edit_parsers, edit_request
from gallery_kit.cli.export import add_export_parser, run_export
from gallery_kit.cli.output import (
    CurationFields,
    human_line,
    print_json,
    print_records,
    record_json,
)
from gallery_kit.cli.team import add_spend_parser, note_duplicate, run_spend
from gallery_kit.errors import GalleryError
from gallery_kit.gallery import Gallery, GenerationResult
from gallery_kit.settings import load_settings


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own exit code is 2 as well
        self.exit(2, f"gallery-kit: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gallery-kit", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gen = sub.add_parser("generate", help="make images from a prompt and store them")
    gen.add_argument("prompt")
    gen.add_argument("--negative-prompt")
    gen.add_argument("--style")
    gen.add_argument("--width", type=int, default=1024)
    gen.add_argument("--height", type=int, default=1024)
    gen.add_argument("--quality", default="standard")
    gen.add_argument("--count", type=int, default=1)
    gen.add_argument("--seed", type=int)
    gen.add_argument("--cfg-scale", type=float)
    gen.add_argument("--model", help="model id (default: BEDROCK_MODEL_ID)")
    gen.add_argument("--json", action="store_true", help="one JSON object per image per line")
    gen.add_argument(
        "--again",
        action="store_true",
        help="call the model even if an identical fixed-seed request made images before",
    )

    sub.add_parser("models", help="the supported models").add_argument(
        "--json", action="store_true"
    )

    lst = sub.add_parser("list", help="images, newest first")
    lst.add_argument("--limit", type=int, default=24)
    lst.add_argument("--cursor")
    lst.add_argument("--favorites", action="store_true", help="only favourites")
    lst.add_argument("--board", metavar="NAME", help="only the images on this board")
    lst.add_argument("--json", action="store_true")

    search = sub.add_parser("search", help="find images in the whole gallery, newest first")
    search.add_argument("words", nargs="*", help='words (all must occur), "a phrase", -word')
    search.add_argument("--model", help="only this model id")
    search.add_argument("--operation", help="generated, adopted, or an edit such as vary")
    search.add_argument("--since", help="created at or after (UTC date or datetime)")
    search.add_argument("--until", help="created before (a date: to the end of that day)")
    search.add_argument("--seed", type=int)
    search.add_argument("--by", metavar="USER", help="only images made by this user")
    search.add_argument("--limit", type=int, default=24)
    search.add_argument("--cursor")
    search.add_argument("--count", action="store_true", help="print only the number of matches")
    search.add_argument("--favorites", action="store_true", help="among favourites only")
    search.add_argument("--board", metavar="NAME", help="among this board's images only")
    search.add_argument("--json", action="store_true")

    show = sub.add_parser("show", help="one image's record")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")

    sync = sub.add_parser("sync", help="upload images waiting locally; adopt foreign images")
    sync.add_argument("--json", action="store_true")

    reindex = sub.add_parser(
        "reindex",
        help="list images stored by gallery_kit versions before the index (reads the whole "
        "gallery once)",
    )
    reindex.add_argument("--json", action="store_true")

    serve = sub.add_parser("serve", help="serve the dashboard with Voilà")
    serve.add_argument("--port", type=int, default=8866)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--no-browser", action="store_true", help="(always on; kept for habit)")
    serve.add_argument(
        "--token",
        metavar="TOKEN",
        help="visitors need ?token=TOKEN (or GALLERY_TOKEN); 'auto' makes one and prints the URL",
    )
    serve.add_argument(
        "--no-token",
        action="store_true",
        help="serve beyond loopback without a token (an authenticating proxy is in front)",
    )
    add_edit_parsers(sub)
    add_curation_parsers(sub)
    add_export_parser(sub)
    add_spend_parser(sub)
    return parser


def _models_catalog() -> tuple[ModelCatalog, str | None]:
    """The catalog the settings describe (Bedrock's listing in AWS mode), and BEDROCK_MODEL_ID.

    ``models`` answers even when another setting is broken: then from the built-in table.
    """
    try:
        settings = load_settings()
    except GalleryError as exc:
        print(f"gallery-kit: warning: {exc} (using the built-in model table)", file=sys.stderr)
        return ModelCatalog(offline=True), None
    return ModelCatalog.from_settings(settings), settings.model_id


def _cmd_models(args: argparse.Namespace) -> int:
    catalog, explicit = _models_catalog()
    choice = catalog.default_choice(explicit)
    # A profile id such as us.stability.… marks the table's line of the same model.
    chosen = bare_id(choice.model_id)
    if not args.json:
        print(f"default: {choice.model_id} - {choice.reason}")
    for spec in MODELS.values():
        price = spec.price_per_image(1024, 1024)
        state = catalog.state_of(spec)
        is_default = spec.model_id == choice.model_id or (
            bare_id(spec.model_id) == chosen and choice.model_id not in MODELS
        )
        row = {
            "model_id": spec.model_id,
            "name": spec.name,
            "family": spec.family,
            "region": state.region,
            "status": state.status,
            "legacy_on": spec.legacy_on.isoformat() if spec.legacy_on else None,
            "end_of_life": spec.end_of_life.isoformat() if spec.end_of_life else None,
            "default": is_default,
            "price_per_image_usd": price,
            "price_is_estimate": spec.price_is_estimate,
            "max_prompt": spec.max_prompt,
            "max_count": spec.max_count,
            "seed_max": spec.seed_max,
            "styles": list(spec.styles),
            "qualities": list(spec.qualities),
            "cfg_range": list(spec.cfg_range) if spec.cfg_range else None,
            "notes": spec.notes,
        }
        if args.json:
            print_json(row)
        else:
            cost = f"${price:.3f}/image" if price is not None else "-"
            if spec.price_is_estimate:
                cost = "~" + cost
            mark = "*" if is_default else " "
            print(
                f"{mark} {spec.model_id:36} {state.region:10} {state.status:12} {cost:15} "
                f"{spec.name}. {spec.notes}"
            )
    return 0


def _cmd_generate(gallery: Gallery, args: argparse.Namespace) -> int:
    request = GenerationRequest(
        prompt=args.prompt,
        negative_prompt=args.negative_prompt,
        style=args.style,
        width=args.width,
        height=args.height,
        quality=args.quality,
        count=args.count,
        seed=args.seed,
        cfg_scale=args.cfg_scale,
        model_id=args.model or gallery.default_model_id,
    )
    result = gallery.generate(request, again=args.again)
    note_duplicate(result)
    return _print_result(gallery, result, as_json=args.json)


def _print_result(gallery: Gallery, result: GenerationResult, *, as_json: bool) -> int:
    """Warnings on stderr, then one line (or JSON object) per new image on stdout."""
    for warning in result.warnings:
        print(f"gallery-kit: warning: {warning}", file=sys.stderr)
    for record in result.records:
        if as_json:
            print_json(record_json(gallery, record))
        elif record.operation:
            print(f"{human_line(gallery, record)}\n  {record.operation} of {record.parent_id}")
        else:
            print(f"{human_line(gallery, record)}\n  {gallery.uri(record)}")
    return 0


def _cmd_edit(gallery: Gallery, args: argparse.Namespace) -> int:
    """vary / remove-background / edit / extend / upscale: print the new image(s)."""
    return _print_result(gallery, gallery.apply(edit_request(args)), as_json=args.json)


def _bad_limit(limit: int) -> bool:
    """--limit of list and search: 1-1000 (one S3 listing), else one line on stderr."""
    if 1 <= limit <= 1000:
        return False
    print("gallery-kit: --limit must be 1-1000", file=sys.stderr)
    return True


def _cmd_list(gallery: Gallery, args: argparse.Namespace) -> int:
    if _bad_limit(args.limit):
        return 2
    if args.favorites or args.board:
        chosen, cursor = list_chosen(gallery, args.favorites, args.board, args.cursor, args.limit)
        print_records(gallery, chosen, as_json=args.json, next_cursor=cursor)
        return 0
    if args.cursor is None:
        for reason in gallery.adopt_foreign().skipped:
            print(f"gallery-kit: skipped: {reason}", file=sys.stderr)
        records = gallery.pending()
    else:
        records = []
    page = gallery.page(cursor=args.cursor, limit=args.limit)
    records += page.records
    for problem in page.problems:
        print(f"gallery-kit: warning: {problem}", file=sys.stderr)
    print_records(gallery, records, as_json=args.json, next_cursor=page.next_cursor)
    return 0


def _cmd_search(gallery: Gallery, args: argparse.Namespace) -> int:
    if _bad_limit(args.limit):
        return 2
    page = gallery.search(
        " ".join(args.words),
        model=args.model,
        operation=args.operation,
        since=args.since,
        until=args.until,
        seed=args.seed,
        cursor=args.cursor,
        limit=args.limit,
        favorites=args.favorites,
        board=args.board,
        by=args.by,
    )
    for problem in page.problems:
        print(f"gallery-kit: warning: {problem}", file=sys.stderr)
    if args.count:
        print(page.total)
        return 0
    print_records(gallery, page.records, as_json=args.json, next_cursor=page.next_cursor)
    return 0


def _cmd_show(gallery: Gallery, args: argparse.Namespace) -> int:
    record = gallery.get(args.id)
    lineage = {
        "children": [child.id for child in gallery.children(record.id)],
        **CurationFields(gallery).of(record.id),
    }
    if args.json:
        print_json(record_json(gallery, record, **lineage))
    else:
        for key, value in record_json(gallery, record, **lineage).items():
            if value is not None:
                print(f"{key:15} {value}")
    return 0


def _cmd_sync(gallery: Gallery, args: argparse.Namespace) -> int:
    report = gallery.sync_outbox()
    adopted = gallery.adopt_foreign()
    summary = {
        "uploaded": report.uploaded,
        "waiting": [i for i, _ in report.failed],
        "adopted": adopted.adopted,
        "skipped": adopted.skipped,
    }
    if args.json:
        print_json(summary)
    else:
        print(
            f"uploaded {len(report.uploaded)}, still waiting {len(report.failed)}, "
            f"adopted {len(adopted.adopted)}, skipped {len(adopted.skipped)}"
        )
    for image_id, reason in report.failed:
        print(f"gallery-kit: {image_id} still waiting: {reason}", file=sys.stderr)
    for reason in adopted.skipped:
        print(f"gallery-kit: skipped: {reason}", file=sys.stderr)
    return 1 if report.failed else 0


def _cmd_reindex(gallery: Gallery, args: argparse.Namespace) -> int:
    from gallery_kit.cli.progress import TerminalProgress

    with TerminalProgress(enabled=not args.json) as progress:
        report = gallery.reindex(progress)
    if args.json:
        print_json(
            {"indexed": report.added, "unlisted": report.removed, "rewritten": report.rewritten}
        )
    else:
        print(
            f"indexed {len(report.added)}, unlisted {len(report.removed)} (metadata gone), "
            f"rewritten {len(report.rewritten)} (keys in the new form)"
        )
    for reason in report.problems:
        print(f"gallery-kit: not indexed: {reason}", file=sys.stderr)
    return 1 if report.problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # `gallery-kit search lighthouse -cat`: a -word excludes, it is not an option.
        if args.command == "search" and all(e.startswith("-") and e[1:2] != "-" for e in extra):
            args.words += extra
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="gallery-kit: %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "models":
            return _cmd_models(args)
        settings = load_settings()
        if args.command == "serve":
            from gallery_kit.cli.serve import serve

            return serve(
                settings, host=args.host, port=args.port, token=args.token, no_token=args.no_token
            )
        # A command ends soon: the shared catalog is written by longer-lived servers (or reindex).
        gallery = Gallery.from_settings(settings, compacts=False)
        handler = {
            "generate": _cmd_generate,
            "list": _cmd_list,
            "search": _cmd_search,
            "show": _cmd_show,
            "sync": _cmd_sync,
            "reindex": _cmd_reindex,
            **dict.fromkeys(EDIT_COMMANDS, _cmd_edit),
            **dict.fromkeys(CURATION_COMMANDS, run_curation),
            "export": run_export,
            "spend": run_spend,
        }[args.command]
        return handler(gallery, args)
    except GalleryError as exc:
        print(f"gallery-kit: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("gallery-kit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
