"""The ``--json`` shape of an image: what the command line prints, what an export's manifests
hold (a contract other tools rely on)."""

from __future__ import annotations

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
        # Commands that list images fill these in (CurationFields below).
        "favorite": False,
        "boards": [],
    }
    out.update(extra)
    return out


class CurationFields:
    """The ``favorite`` and ``boards`` of each ``--json`` record: read once per command."""

    def __init__(self, gallery: Gallery) -> None:
        curator = Curator(gallery.store)
        self.favorites = set(curator.favorites())
        self.boards = curator.memberships()

    def of(self, image_id: str) -> dict[str, Any]:
        return {"favorite": image_id in self.favorites, "boards": self.boards.get(image_id, [])}
