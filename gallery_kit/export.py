"""Export images: the originals byte for byte (``<id>.<ext>``), plus ``manifest.jsonl`` (one
record per line) and ``manifest.csv``, into a ZIP file or a folder.

Streamed: one original in memory at a time, whatever the count. Written under a temporary name
and renamed at the end, so an interrupted export (Ctrl-C) leaves no half-written file.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gallery_kit.errors import GalleryError, StorageError
from gallery_kit.progress import Progress, quiet
from gallery_kit.records import ImageRecord, extension_for


class Sink(Protocol):
    """Where a ZIP is streamed: a file, or an upload (it need not seek)."""

    def write(self, data: bytes, /) -> int: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


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
    report = ExportReport(out)
    try:
        if out.suffix.lower() == ".zip":
            with _zip_at(out) as put:
                _write(records, read_original, row_of, put, report, progress)
        else:
            from gallery_kit.stores._files import write_atomic

            out.mkdir(parents=True, exist_ok=True)
            _write(
                records,
                read_original,
                row_of,
                lambda name, data, _compress: write_atomic(out / name, data),
                report,
                progress,
            )
    except OSError as exc:
        raise StorageError(f"Cannot write the export to {out} ({exc.strerror}).") from exc
    return report


#: Writes one file of the export: (name, bytes, worth compressing).
Put = Callable[[str, bytes, bool], None]


def _write(
    records: list[ImageRecord],
    read_original: Callable[[ImageRecord], bytes],
    row_of: Callable[[ImageRecord], Row],
    put: Put,
    report: ExportReport,
    progress: Progress,
) -> None:
    """Each original as it is read (one in memory at a time), then the two manifests."""
    rows: list[Row] = []
    for done, record in enumerate(records):
        progress("exporting", done, len(records))
        try:
            data = read_original(record)
        except GalleryError as exc:
            report.problems.append(f"{record.id}: {exc}")
            continue
        # Images are compressed already: stored as they are, byte for byte.
        put(file_name(record), data, False)
        report.images += 1
        report.bytes += len(data)
        rows.append(row_of(record))
    progress("exporting", len(records), len(records))
    jsonl, csv_bytes = _manifests(rows)
    put("manifest.jsonl", jsonl, True)
    put("manifest.csv", csv_bytes, True)


@contextlib.contextmanager
def _zip_at(out: Path) -> Iterator[Put]:
    """A ZIP written under a temporary name beside ``out``, renamed to it only when complete."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".tmp-", suffix=".zip")
    try:
        with os.fdopen(fd, "wb") as raw, _zip_into(raw) as put:
            yield put
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _zip_into(raw: Sink) -> Iterator[Put]:
    """A ZIP written to ``raw``, which need not seek (an upload streams it part by part)."""
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as zf:

        def put(name: str, data: bytes, compress: bool) -> None:
            zf.writestr(name, data, zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED)

        yield put


def export_zip_stream(
    records: list[ImageRecord],
    read_original: Callable[[ImageRecord], bytes],
    row_of: Callable[[ImageRecord], Row],
    raw: Sink,
    name: str,
    progress: Progress = quiet,
) -> ExportReport:
    """The same ZIP as :func:`export`, written to a stream (the dashboard's download: a
    multipart upload to S3, or a file the server hands out). ``name`` is what the report
    calls it."""
    report = ExportReport(Path(name))
    with _zip_into(raw) as put:
        _write(records, read_original, row_of, put, report, progress)
    return report


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
