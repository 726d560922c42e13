"""What the compare view shows: 2-4 images side by side at one scale, and their settings in
rows, each row marked where the images differ."""

from __future__ import annotations

from typing import Any

from gallery_kit.gallery import Gallery
from gallery_kit.records import ImageRecord
from gallery_kit.ui.edit_forms import OPERATION_NAMES
from gallery_kit.ui.lightbox import data_url

MIN_COMPARE, MAX_COMPARE = 2, 4


def image_src(gallery: Gallery, record: ImageRecord) -> str:
    """A URL the browser loads the original from: presigned S3, else the bytes inline."""
    src = None if gallery.is_pending(record.id) else gallery.store.url_for(record.original_key)
    return src or data_url(gallery.read_original(record), record.content_type)


def _rows(record: ImageRecord) -> list[tuple[str, object]]:
    return [
        ("Prompt", record.prompt),
        ("Negative prompt", record.negative_prompt),
        ("Model", record.model_id),
        ("Operation", OPERATION_NAMES.get(record.operation or "", record.operation or "")),
        ("Seed", record.seed),
        ("Size", f"{record.width}×{record.height}"),
        ("Style", record.style),
        ("Quality", record.quality),
        ("CFG scale", record.cfg_scale),
        ("Created", record.created_at),
    ]


def compare_detail(gallery: Gallery, records: list[ImageRecord]) -> dict[str, Any]:
    columns = [_rows(r) for r in records]
    rows = []
    for i, (label, _value) in enumerate(columns[0]):
        values = ["" if col[i][1] is None else str(col[i][1]) for col in columns]
        if any(values):
            rows.append({"label": label, "values": values, "differ": len(set(values)) > 1})
    return {
        "items": [
            {
                "id": r.id,
                "src": image_src(gallery, r),
                "prompt": r.prompt,
                "width": r.width,
                "height": r.height,
            }
            for r in records
        ],
        "rows": rows,
    }
