"""Paid work in flight in a dashboard kernel, marked on disk so the server does not shut the
kernel down under it.

The server starts each page kernel with ``GALLERY_KIT_KERNEL_ID`` in its environment; while a
generation or an edit runs (the model call, then keeping its images: the outbox, the store) the
kernel holds an empty file ``<data dir>/in-flight/<kernel id>.<random>``. The server's culling
skips a kernel that has one. Elsewhere (the CLI, a notebook) nothing is written.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

KERNEL_ID_VAR = "GALLERY_KIT_KERNEL_ID"
FOLDER = "in-flight"
_KERNEL_ID_RE = re.compile(r"^[0-9a-f-]{36}$")


def _valid(kernel_id: str | None) -> bool:
    return kernel_id is not None and bool(_KERNEL_ID_RE.match(kernel_id))


@contextlib.contextmanager
def in_flight(data_dir: Path, environ: Mapping[str, str] | None = None) -> Iterator[None]:
    """Mark paid work in flight for the duration of the block (only in a server's kernel)."""
    kernel_id = (os.environ if environ is None else environ).get(KERNEL_ID_VAR)
    if not _valid(kernel_id):
        yield
        return
    folder = data_dir / FOLDER
    path = folder / f"{kernel_id}.{uuid.uuid4().hex}"
    marker: Path | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.touch()
        marker = path
    except OSError:
        pass  # best effort: the work itself goes on
    try:
        yield
    finally:
        if marker is not None:
            with contextlib.suppress(OSError):
                marker.unlink()


def is_in_flight(data_dir: Path, kernel_id: str) -> bool:
    if not _valid(kernel_id):
        return False
    return any((data_dir / FOLDER).glob(f"{kernel_id}.*"))


def clear(data_dir: Path, kernel_id: str) -> None:
    """Forget a gone kernel's markers (it was killed mid-work: the outbox has its images)."""
    if _valid(kernel_id):
        for marker in (data_dir / FOLDER).glob(f"{kernel_id}.*"):
            with contextlib.suppress(OSError):
                marker.unlink()
