"""Export images: the originals byte for byte (``<id>.<ext>``), plus ``manifest.jsonl`` (one
record per line) and ``manifest.csv``, into a ZIP file or a folder.

Streamed: one original in memory at a time, whatever the count. Written under a temporary name
and renamed at the end, so an interrupted export (Ctrl-C) leaves no half-written file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gallery_kit.errors import GalleryError, StorageError
from gallery_kit.progress import Progress, quiet
from gallery_kit.records import ImageRecord, extension_for

#: One image's line in the manifests (the command line's ``--json`` fields).
Row = dict[str, Any]


@dataclass(slots=True)
class ExportReport:
    path: Path
    images: int = 0
    bytes: int = 0
    #: One line per image that could not be read (it is left out, the rest is written).
    problems: list[str] = field(default_factory=list)


def file_name(record: ImageRecord) -> str:
    return f"{record.id}.{extension_for(record.content_type)}"


def export(
    records: list[ImageRecord],
    read_original: Callable[[ImageRecord], bytes],
    row_of: Callable[[ImageRecord], Row],
    out: Path,
    progress: Progress = quiet,
) -> ExportReport:
    """Write ``records`` to ``out`` (a ``.zip`` file, or else a folder)."""
    out = out.expanduser()
    if out.suffix.lower() != ".zip":
        return _to_folder(records, read_original, row_of, out, progress)
    try:
        return _to_zip(records, read_original, row_of, out, progress)
    except OSError as exc:
        raise StorageError(f"Cannot write the export to {out} ({exc.strerror}).") from exc


def _originals(
    records: list[ImageRecord],
    read_original: Callable[[ImageRecord], bytes],
    report: ExportReport,
    progress: Progress,
) -> Iterable[tuple[ImageRecord, bytes]]:
    for done, record in enumerate(records):
        progress("exporting", done, len(records))
        try:
            data = read_original(record)
        except GalleryError as exc:
            report.problems.append(f"{record.id}: {exc}")
            continue
        report.images += 1
        report.bytes += len(data)
        yield record, data
    progress("exporting", len(records), len(records))


def _manifests(rows: list[Row]) -> tuple[bytes, bytes]:
    jsonl = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    text = io.StringIO()
    if rows:
        writer = csv.DictWriter(text, fieldnames=list(rows[0]), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in row.items()}
            )
    return jsonl, text.getvalue().encode()


def _to_zip(
    records: list[ImageRecord],
    read_original: Callable[[ImageRecord], bytes],
    row_of: Callable[[ImageRecord], Row],
    out: Path,
    progress: Progress,
) -> ExportReport:
    report = ExportReport(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".tmp-", suffix=".zip")
    rows: list[Row] = []
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as zf:
            for record, data in _originals(records, read_original, report, progress):
                # Images are compressed already: stored as they are, byte for byte.
                zf.writestr(file_name(record), data)
                rows.append(row_of(record))
            jsonl, csv_bytes = _manifests(rows)
            zf.writestr("manifest.jsonl", jsonl, zipfile.ZIP_DEFLATED)
            zf.writestr("manifest.csv", csv_bytes, zipfile.ZIP_DEFLATED)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return report


def _to_folder(
    records: list[ImageRecord],
    read_original: Callable[[ImageRecord], bytes],
    row_of: Callable[[ImageRecord], Row],
    out: Path,
    progress: Progress,
) -> ExportReport:
    from gallery_kit.stores._files import write_atomic

    report = ExportReport(out)
    rows: list[Row] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for record, data in _originals(records, read_original, report, progress):
            write_atomic(out / file_name(record), data)
            rows.append(row_of(record))
        jsonl, csv_bytes = _manifests(rows)
        write_atomic(out / "manifest.jsonl", jsonl)
        write_atomic(out / "manifest.csv", csv_bytes)
    except OSError as exc:
        raise StorageError(f"Cannot write the export to {out} ({exc.strerror}).") from exc
    return report
