"""What the commands print: the ``--json`` shape of an image (a contract other tools rely on)
and the human line."""

from __future__ import annotations

import json
import sys
from typing import Any

from gallery_kit.curation import Curator
from gallery_kit.gallery import Gallery
from gallery_kit.records import ImageRecord


def record_json(gallery: Gallery, record: ImageRecord, **extra: Any) -> dict[str, Any]:
    """The ``--json`` shape of one image."""
    out: dict[str, Any] = {
        "id": record.id,
        "prompt": record.prompt,
        "negative_prompt": record.negative_prompt,
        "style": record.style,
        "seed": record.seed,
        "width": record.width,
        "height": record.height,
        "quality": record.quality,
        "cfg_scale": record.cfg_scale,
        "model_id": record.model_id,
        "created_at": record.created_at,
        "content_type": record.content_type,
        "byte_size": record.byte_size,
        "uri": gallery.uri(record),
        "thumbnail_uri": gallery.thumbnail_uri(record),
        "status": "pending" if gallery.is_pending(record.id) else "stored",
        "source": record.source,
        "parent_id": record.parent_id,
        "operation": record.operation,
        "created_by": record.created_by,
        "cost_usd": record.cost_usd,
        "cost_is_estimate": record.cost_is_estimate,
        # Commands that list images fill these in (cli/curation.CurationFields).
        "favorite": False,
        "boards": [],
    }
    out.update(extra)
    return out


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


class CurationFields:
    """The ``favorite`` and ``boards`` of each ``--json`` record: read once per command."""

    def __init__(self, gallery: Gallery) -> None:
        curator = Curator(gallery.store)
        self.favorites = set(curator.favorites())
        self.boards = curator.memberships()

    def of(self, image_id: str) -> dict[str, Any]:
        return {"favorite": image_id in self.favorites, "boards": self.boards.get(image_id, [])}
