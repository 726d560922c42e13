"""The dashboard's "Download ZIP": an export written straight into the store (a multipart
upload to ``gallery-kit/exports/`` in S3, a file in the local folder store), then downloaded by
the browser from there: a presigned URL, or ``gallery-kit serve``'s export handler offline.
The bytes never pass through the kernel's widget channel; memory holds one original and one
upload part at a time."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gallery_kit.errors import GalleryError
from gallery_kit.export import Row, export_zip_stream
from gallery_kit.gallery import Gallery
from gallery_kit.progress import Progress, quiet
from gallery_kit.records import ImageRecord
from gallery_kit.rows import CurationFields, record_json

log = logging.getLogger(__name__)

#: ``<UTC stamp>-<random token>.zip``: the token makes the link unguessable.
EXPORT_NAME = re.compile(r"\d{8}-\d{6}-[A-Za-z0-9_-]{16}\.zip")
#: Where ``gallery-kit serve`` hands out a local export, relative to the page.
SERVED_AT = "gallery-kit/exports/"


@dataclass(frozen=True, slots=True)
class Download:
    #: The export's name under ``exports/``.
    name: str
    #: What the browser saves it as.
    filename: str
    #: Where the browser gets it: a presigned S3 URL, or the server's handler (relative).
    url: str
    images: int
    bytes: int
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Planned:
    """What a download will hold, read when it was asked for (later stars do not change it)."""

    records: list[ImageRecord]
    rows: dict[str, Row]


def plan_download(gallery: Gallery, ids: list[str]) -> Planned:
    """The records and manifest rows of ``ids``; ImageNotFound before anything is written."""
    records = [gallery.get(i) for i in ids]
    fields = CurationFields(gallery)
    return Planned(records, {r.id: record_json(gallery, r, **fields.of(r.id)) for r in records})


def make_download(
    gallery: Gallery, plan: Planned, progress: Progress = quiet, now: datetime | None = None
) -> Download:
    """The ZIP ``plan`` holds (originals + manifests), stored where the browser can fetch it."""
    records = plan.records
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    name = f"{stamp}-{secrets.token_urlsafe(12)}.zip"
    filename = f"gallery-{len(records)}-images-{stamp}.zip"
    try:
        gallery.store.expire_exports()  # yesterday's links expired long ago
    except GalleryError as exc:
        log.info("old exports are removed later: %s", exc)
    sink = gallery.store.open_export(name, filename)
    try:
        report = export_zip_stream(
            records,
            gallery.read_original,
            lambda r: plan.rows[r.id],
            sink,
            filename,
            progress,
        )
        url = sink.commit()
    except BaseException:
        sink.abort()
        raise
    return Download(
        name,
        filename,
        url or f"{SERVED_AT}{name}?filename={filename}",
        report.images,
        sink.size,
        report.problems,
    )
