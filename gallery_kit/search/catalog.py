"""The shared catalog's format: Parquet segments of image summaries, and the manifest that names
the current ones. Pure apart from pyarrow (imported when a segment is read or written).

Layout, under the gallery's prefix (the README shows it, and how DuckDB or pandas read it)::

    gallery-kit/catalog/manifest.json                 which segments, and what they cover
    gallery-kit/catalog/segments/<newest id>_<token>.parquet

A manifest says: every image at or older than ``watermark`` (ids sort newest first) is in its
segments, as of the change markers before ``changes_from``. Newer images are read from the
index keys; later deletions and late arrivals from the change markers. The catalog is derived:
``gallery-kit reindex`` writes it anew from the index keys.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import os
import secrets
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gallery_kit.records import CATALOG_DIR, ImageSummary, created_at_of, is_image_id
from gallery_kit.search.query import from_origin, origin

MANIFEST_KEY = CATALOG_DIR + "manifest.json"
SEGMENTS_DIR = CATALOG_DIR + "segments/"
#: Rows per segment: 100,000 images are four GETs of about 1 MB each for a cold server.
SEGMENT_ROWS = 25_000
#: 2 (2026-12): segments carry ``created_by``. Format 1 manifests (segments without it) are
#: still read, their rows made by "" (they predate it).
FORMAT = 2
READS = (1, 2)
_POOL_SET = False


@dataclass(frozen=True, slots=True)
class Segment:
    """One Parquet file: every image with ``newest <= id < before`` (ids sort newest first).
    A manifest's segments tile the ids from its watermark on, with no gap: an image listed late
    always falls in exactly one, which is written again."""

    key: str
    rows: int
    newest: str
    #: None for the oldest segment (no bound).
    before: str | None

    def covers(self, image_id: str) -> bool:
        return self.newest <= image_id and (self.before is None or image_id < self.before)


@dataclass(slots=True)
class Manifest:
    segments: list[Segment] = field(default_factory=list)
    #: Every image at or older than this id is in the segments (None: no segment yet).
    watermark: str | None = None
    #: Change markers after this key are not folded into the segments yet.
    changes_from: str = ""
    written_at: str = ""

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.segments)

    def to_json(self) -> bytes:
        body = {
            "format": FORMAT,
            "watermark": self.watermark,
            "changes_from": self.changes_from,
            "written_at": self.written_at or datetime.now(UTC).isoformat(timespec="seconds"),
            "rows": self.rows,
            "segments": [
                {"key": s.key, "rows": s.rows, "newest": s.newest, "before": s.before}
                for s in self.segments
            ],
        }
        return json.dumps(body, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        """The manifest in ``data``; ValueError for anything we did not write (the caller then
        reads the index keys instead, as with no catalog)."""
        try:
            body: Any = json.loads(data)
            if body.get("format") not in READS:
                raise ValueError(f"catalog format {body.get('format')!r}")
            segments = [
                Segment(
                    str(s["key"]),
                    int(s["rows"]),
                    str(s["newest"]),
                    None if s["before"] is None else str(s["before"]),
                )
                for s in body["segments"]
            ]
            watermark = body["watermark"]
            changes_from = str(body["changes_from"])
        except (AttributeError, KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"unreadable manifest: {exc}") from exc
        for s in segments:
            if not (s.key.startswith(SEGMENTS_DIR) and is_image_id(s.newest)):
                raise ValueError(f"unexpected segment {s.key!r}")
        if watermark is not None and not is_image_id(str(watermark)):
            raise ValueError(f"unexpected watermark {watermark!r}")
        return cls(segments, watermark, changes_from, str(body.get("written_at", "")))


def segment_key(newest: str) -> str:
    # A token of its own: two compactors never write the same key.
    return f"{SEGMENTS_DIR}{newest}_{secrets.token_hex(4)}.parquet"


def chunks(rows: list[ImageSummary], size: int = SEGMENT_ROWS) -> list[list[ImageSummary]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)] if rows else []


def encode_segment(rows: list[ImageSummary]) -> bytes:
    """Rows (newest first) as Parquet: the columns a data scientist asks of a gallery."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "id": pa.array([r.id for r in rows], pa.string()),
            "created_at": pa.array(
                [created_at_of(r.id) for r in rows], pa.timestamp("ms", tz="UTC")
            ),
            "prompt": pa.array([r.prompt for r in rows], pa.string()),
            "model_id": pa.array([r.model_id for r in rows], pa.string()),
            "operation": pa.array([origin(r.operation, r.source) for r in rows], pa.string()),
            "seed": pa.array([r.seed for r in rows], pa.int64()),
            "created_by": pa.array([r.created_by for r in rows], pa.string()),
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue()


def _arrow() -> Any:
    import pyarrow as pa

    global _POOL_SET
    if not _POOL_SET and "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        # The system allocator hands a cold start's freed buffers back (with release_memory());
        # jemalloc kept ~40 MB per 300,000 rows decoded in a kernel that lives for hours.
        pa.set_memory_pool(pa.system_memory_pool())
    _POOL_SET = True
    return pa


def release_memory() -> None:
    """Give what a cold start freed back to the OS (glibc keeps it otherwise)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def decode_rows(data: bytes) -> list[tuple[str, str, str, str, int | None, str]]:
    """(id, prompt, model id, operation, seed, created_by) of each row (created_by "" in
    segments of format 1); ValueError for bytes that are not one of our segments."""
    pa = _arrow()
    import pyarrow.parquet as pq

    columns = ["id", "prompt", "model_id", "operation", "seed"]
    try:
        source = pq.ParquetFile(io.BytesIO(data))
        if "created_by" in source.schema_arrow.names:
            columns.append("created_by")
        table = source.read(columns=columns)
    except (pa.ArrowException, OSError) as exc:
        raise ValueError(f"unreadable segment: {exc}") from exc
    c = table.to_pydict()
    makers = c.get("created_by") or [""] * table.num_rows
    rows = zip(c["id"], c["prompt"], c["model_id"], c["operation"], c["seed"], makers, strict=True)
    return [
        (i, p or "", m or "", o or "generated", s, b or "")
        for i, p, m, o, s, b in rows
        if isinstance(i, str) and is_image_id(i)
    ]


def decode_segment(data: bytes) -> list[ImageSummary]:
    """The rows as summaries; ValueError for bytes that are not one of our segments."""
    out = []
    for image_id, prompt, model_id, how, seed, by in decode_rows(data):
        edit, source = from_origin(how)
        out.append(ImageSummary(image_id, prompt, model_id, edit, source, seed=seed, created_by=by))
    return out


def tile(
    newest: str, before: str | None, rows: list[ImageSummary]
) -> list[tuple[str, str | None, list[ImageSummary]]]:
    """The range ``[newest, before)`` and its rows (newest first) cut into segments of at most
    :data:`SEGMENT_ROWS` that tile it: (newest, before, rows) each."""
    parts = chunks(rows) or [[]]
    out: list[tuple[str, str | None, list[ImageSummary]]] = []
    for k, part in enumerate(parts):
        start = newest if k == 0 else part[0].id
        end = parts[k + 1][0].id if k + 1 < len(parts) else before
        out.append((start, end, part))
    return out
