"""The outbox: paid-for images kept on local disk until the store has them.

Every generated image is written here first (atomically: temp file, fsync, rename), then
uploaded, then removed. So an S3 failure, a network cut or a killed kernel between the model's
answer and the upload loses nothing: the next generation, a periodic retry, the next start or
``gallery-kit sync`` finishes the job.
"""

from __future__ import annotations

import logging
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from gallery_kit.errors import GalleryError, ImageNotFound
from gallery_kit.records import ImageRecord, check_image_id, is_image_id, record_from_json
from gallery_kit.records import record_to_json as _to_json
from gallery_kit.stores._files import fsync_dir, write_atomic
from gallery_kit.stores.base import ImageStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyncReport:
    uploaded: list[str]
    #: (id, one-line reason) for each image still waiting.
    failed: list[tuple[str, str]]


class Outbox:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def _dir(self, image_id: str) -> Path:
        return self.root / check_image_id(image_id)

    def add(self, record: ImageRecord, original: bytes, thumbnail: bytes) -> None:
        folder = self._dir(record.id)
        folder.mkdir(exist_ok=True)
        write_atomic(folder / "original", original)
        write_atomic(folder / "thumbnail.webp", thumbnail)
        # meta.json last: a folder without it is an unfinished write and is ignored.
        write_atomic(folder / "meta.json", _to_json(record))
        fsync_dir(self.root)

    def ids(self) -> list[str]:
        try:
            names = sorted(p.name for p in self.root.iterdir())
        except FileNotFoundError:
            return []
        return [n for n in names if is_image_id(n) and (self.root / n / "meta.json").exists()]

    def records(self) -> list[ImageRecord]:
        out = []
        for image_id in self.ids():
            try:
                out.append(self.get(image_id))
            except GalleryError as exc:
                log.warning("outbox entry %s unreadable: %s", image_id, exc)
        return out

    def get(self, image_id: str) -> ImageRecord:
        path = self._dir(image_id) / "meta.json"
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise ImageNotFound(f"No image {image_id} waiting in {self.root}.") from exc
        return record_from_json(data, where=str(path))

    def has(self, image_id: str) -> bool:
        return is_image_id(image_id) and (self._dir(image_id) / "meta.json").exists()

    def read_original(self, image_id: str) -> bytes:
        return (self._dir(image_id) / "original").read_bytes()

    def read_thumbnail(self, image_id: str) -> bytes:
        return (self._dir(image_id) / "thumbnail.webp").read_bytes()

    def remove(self, image_id: str) -> None:
        shutil.rmtree(self._dir(image_id), ignore_errors=True)

    def flush(self, store: ImageStore) -> SyncReport:
        """Upload everything waiting; keep what still fails. One flush at a time."""
        uploaded: list[str] = []
        failed: list[tuple[str, str]] = []
        with self._lock:
            for image_id in self.ids():
                try:
                    record = self.get(image_id)
                    store.put(record, self.read_original(image_id), self.read_thumbnail(image_id))
                except GalleryError as exc:
                    failed.append((image_id, str(exc)))
                    continue
                except OSError as exc:
                    failed.append((image_id, f"cannot read the outbox copy ({exc.strerror})"))
                    continue
                self.remove(image_id)
                uploaded.append(image_id)
        return SyncReport(uploaded, failed)
