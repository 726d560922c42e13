"""What the lightbox shows for one image: the full-size image, prompt, settings, lineage and
the operations. Built on a worker thread (it reads the store)."""

from __future__ import annotations

import base64
from typing import Any

from gallery_kit.gallery import Gallery
from gallery_kit.records import ImageRecord
from gallery_kit.ui.edit_forms import OPERATION_NAMES, operation_buttons


def caption(prompt: str, limit: int = 60) -> str:
    prompt = " ".join(prompt.split())
    return prompt if len(prompt) <= limit else prompt[: limit - 1] + "…"


def data_url(data: bytes, content_type: str) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


def lineage(gallery: Gallery, record: ImageRecord) -> list[dict[str, str]]:
    """The parent and the children of ``record``, for walking the family in the lightbox."""
    links = []
    parent = gallery.parent(record)
    if parent is not None:
        links.append(
            {"relation": "made from", "id": parent.id, "label": caption(parent.prompt, 40)}
        )
    for child in gallery.children(record.id):
        what = OPERATION_NAMES.get(child.operation or "", child.operation or "copy")
        links.append(
            {"relation": f"made into ({what})", "id": child.id, "label": caption(child.prompt, 40)}
        )
    return links


def lightbox_detail(
    gallery: Gallery, record: ImageRecord, reasons: dict[str, str | None]
) -> dict[str, Any]:
    pending = gallery.is_pending(record.id)
    src = None if pending else gallery.store.url_for(record.original_key)
    ext = record.original_key.rsplit(".", 1)[-1] if "." in record.original_key else "png"
    filename = f"gallery-{record.id}.{ext}"
    download = src
    if src is None:
        src = data_url(gallery.read_original(record), record.content_type)
        download = src
    settings: list[tuple[str, object]] = [
        ("Operation", OPERATION_NAMES.get(record.operation or "", record.operation)),
        ("Model", record.model_id),
        ("Seed", record.seed),
        ("Size", f"{record.width}×{record.height}"),
        ("Style", record.style),
        ("Quality", record.quality),
        ("CFG scale", record.cfg_scale),
        ("Images in request", record.batch_size if record.batch_size > 1 else None),
        ("Created", record.created_at),
        ("Id", record.id),
        ("Source", "imported from the bucket" if record.source == "adopted" else None),
    ]
    return {
        "id": record.id,
        "prompt": record.prompt,
        "negative_prompt": record.negative_prompt,
        "settings": [[k, v] for k, v in settings if v is not None and v != ""],
        "seed": record.seed,
        "src": src,
        "download_url": download,
        "filename": filename,
        "pending": pending,
        "transparent": record.content_type == "image/png"
        and record.operation == "remove-background",
        "lineage": lineage(gallery, record),
        "created_by": record.created_by,
        "cost": (
            f"{'≈ ' if record.cost_is_estimate else ''}${record.cost_usd:.2f}"
            if record.cost_usd
            else ""
        ),
        "operations": operation_buttons(record, reasons),
    }
