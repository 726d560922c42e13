"""Other tools' images: plain ``.png``/``.jpg``/``.webp``/``.gif`` objects under the gallery's
prefix get a thumbnail and a record pointing at the existing object (never moved), dated by its
LastModified, so from then on they page like ours. Objects that are not usable images are
remembered per machine, so a broken 50 MB object is not downloaded by every ``gallery-kit list``.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from gallery_kit.errors import GalleryError, InvalidImage
from gallery_kit.imaging import MAX_SOURCE_BYTES, image_size, make_thumbnail, sniff_content_type
from gallery_kit.records import ImageRecord, adopted_image_id, now_iso, thumbnail_key
from gallery_kit.stores._files import write_atomic
from gallery_kit.stores.base import ImageStore

log = logging.getLogger(__name__)


@dataclass(slots=True)
class AdoptReport:
    adopted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class Adopter:
    """Adopts ``store``'s foreign objects; ``skipped_path`` remembers the unusable ones."""

    def __init__(self, store: ImageStore, skipped_path: Path) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._skipped_path = skipped_path
        self._skipped_foreign: dict[str, int] = self._load_skipped()

    def _load_skipped(self) -> dict[str, int]:
        try:
            data = json.loads(self._skipped_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): int(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _remember_skipped(self, key: str, size: int) -> None:
        self._skipped_foreign[f"{self.store.location}|{key}"] = size
        try:
            write_atomic(self._skipped_path, json.dumps(self._skipped_foreign).encode())
        except OSError as exc:
            log.info("cannot remember skipped objects in %s: %s", self._skipped_path, exc)

    def adopt(self) -> AdoptReport:
        """Give plain images under the prefix (other tools' uploads) a thumbnail and a record."""
        report = AdoptReport()
        with self._lock:
            for obj in self.store.foreign_objects():
                image_id = adopted_image_id(obj.key, obj.last_modified)
                # Skipped before with the same size: still broken, do not download it again.
                skipped = self._skipped_foreign.get(f"{self.store.location}|{obj.key}")
                if skipped == obj.size or self.store.exists(image_id):
                    continue
                try:
                    if obj.size > MAX_SOURCE_BYTES:
                        raise InvalidImage(
                            f"{self.store.uri(obj.key)} is {obj.size / 2**20:.0f} MiB, over the "
                            f"{MAX_SOURCE_BYTES // 2**20} MiB thumbnail limit; it is skipped."
                        )
                    data = self.store.read_object(obj.key)
                    where = self.store.uri(obj.key)
                    content_type = sniff_content_type(data)
                    thumb = make_thumbnail(data, where=where)
                    width, height = image_size(data, where)
                except GalleryError as exc:
                    self._remember_skipped(obj.key, obj.size)
                    report.skipped.append(str(exc))
                    continue
                record = ImageRecord(
                    id=image_id,
                    prompt=obj.key.rsplit("/", 1)[-1],
                    model_id="unknown",
                    width=width,
                    height=height,
                    created_at=now_iso(obj.last_modified),
                    content_type=content_type or "application/octet-stream",
                    byte_size=obj.size,
                    original_key=obj.key,
                    thumbnail_key=thumbnail_key(getattr(self.store, "prefix", ""), image_id),
                    source="adopted",
                )
                try:
                    self.store.put_adopted(record, thumb.data)
                except GalleryError as exc:
                    report.skipped.append(str(exc))
                    continue
                report.adopted.append(image_id)
        return report
