"""Thumbnails kept on this machine's disk, shared by every kernel of a dashboard server.

An image id is never reused and a thumbnail never rewritten, so a copy is never stale: a new
kernel (Voilà starts one per page view) shows what this server has shown before without
asking S3 for it. Bounded: past ``max_bytes`` the least recently used files are removed.
Anything that goes wrong here only costs the S3 request the cache would have saved.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from pathlib import Path

from gallery_kit.records import is_image_id

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 256 * 2**20
#: Writes between two checks of the folder's size (the bound is overshot by at most this
#: many thumbnails, ~12 KB each).
CHECK_EVERY = 256


def _complete(data: bytes) -> bool:
    """False for an empty file or a RIFF (WebP) file shorter than its header says: what a
    crash between the write and the disk can leave."""
    if not data:
        return False
    if data[:4] == b"RIFF":
        return int.from_bytes(data[4:8], "little") + 8 == len(data)
    return True


class ThumbnailCache:
    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._writes = 0
        self._lock = threading.Lock()

    def _path(self, image_id: str) -> Path | None:
        return self.root / f"{image_id}.thumb" if is_image_id(image_id) else None

    def get(self, image_id: str) -> bytes | None:
        path = self._path(image_id)
        if path is None:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if not _complete(data):
            self.discard(image_id)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: trimmed last
        return data

    def put(self, image_id: str, data: bytes) -> None:
        path = self._path(image_id)
        if path is None or not _complete(data):
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            # Temporary file + rename: a reader never sees half a file. No fsync: a copy lost
            # in a crash is fetched again.
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            log.info("cannot cache the thumbnail of %s in %s: %s", image_id, self.root, exc)
            return
        with self._lock:
            self._writes += 1
            check = self._writes % CHECK_EVERY == 1
        if check:
            # Off the page's path: a full folder holds ~20,000 files to look at.
            threading.Thread(target=self.trim, name="gk-thumb-trim", daemon=True).start()

    def discard(self, image_id: str) -> None:
        path = self._path(image_id)
        if path is not None:
            path.unlink(missing_ok=True)

    def trim(self) -> None:
        """Remove the least recently used files until the folder is under ``max_bytes``."""
        entries: list[tuple[float, int, str]] = []
        try:
            with os.scandir(self.root) as found:
                for entry in found:
                    # Another kernel of this server may be trimming too: skip what vanished.
                    with contextlib.suppress(OSError):
                        stat = entry.stat()
                        entries.append((stat.st_mtime, stat.st_size, entry.path))
        except OSError:
            return
        total = sum(size for _, size, _ in entries)
        if total <= self.max_bytes:
            return
        for _, size, path in sorted(entries):
            if total <= self.max_bytes * 0.9:  # some room, so the next write does not trim
                break
            try:
                os.unlink(path)
            except OSError:
                continue
            total -= size
