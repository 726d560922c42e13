"""What the commands print: the ``--json`` shape of an image (a contract other tools rely on)
and the human line."""

from __future__ import annotations

import json
import sys
from typing import Any

from gallery_kit.gallery import Gallery
from gallery_kit.records import ImageRecord
from gallery_kit.rows import CurationFields, record_json

__all__ = ["CurationFields", "human_line", "print_json", "print_records", "record_json"]


def print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False))


def human_line(gallery: Gallery, record: ImageRecord) -> str:
    status = " (waiting to upload)" if gallery.is_pending(record.id) else ""
    prompt = record.prompt if len(record.prompt) <= 60 else record.prompt[:57] + "..."
    return (
        f"{record.id}  {record.created_at}  {record.width}x{record.height}  seed={record.seed}  "
        f"{record.model_id}{status}  {prompt}"
    )


def print_records(
    gallery: Gallery, records: list[ImageRecord], *, as_json: bool, next_cursor: str | None
) -> None:
    fields = CurationFields(gallery) if as_json and records else None
    for record in records:
        print(
            json.dumps(
                record_json(gallery, record, **(fields.of(record.id) if fields else {})),
                ensure_ascii=False,
            )
            if as_json
            else human_line(gallery, record)
        )
    if next_cursor:
        print(f"gallery-kit: more: --cursor {next_cursor}", file=sys.stderr)
