"""A local folder with the S3 layout: the store of offline mode."""

from __future__ import annotations

import logging
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gallery_kit.errors import ImageNotFound, StorageError
from gallery_kit.progress import Progress, quiet
from gallery_kit.records import (
    CHANGES_DIR,
    EXPORTS_DIR,
    META_DIR,
    ROOT,
    TRASH_DIR,
    ImageRecord,
    ImageSummary,
    change_from_key,
    change_key,
    check_image_id,
    child_marker_key,
    children_prefix,
    id_from_meta_key,
    is_image_id,
    is_late,
    meta_key,
    record_from_json,
    record_to_json,
    thumbnail_key,
)
from gallery_kit.stores._files import FileStream, write_atomic
from gallery_kit.stores.base import (
    IMAGE_EXTENSIONS,
    Change,
    ForeignObject,
    Listing,
    Page,
    Poll,
    ReindexReport,
    SharedObject,
)

log = logging.getLogger(__name__)


class LocalStore:
    """Images under ``root`` (by default ``GALLERY_DATA_DIR/store``)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser().resolve()
        self.location = str(self.root)
        try:
            (self.root / META_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"Cannot create the gallery folder {self.root} ({exc.strerror}); set "
                "GALLERY_DATA_DIR to a writable folder."
            ) from exc

    # Keys come from metadata that other people can write: resolve and confine them.
    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise StorageError(f"Refusing key {key!r}: it points outside {self.root}.")
        return path

    def _write(self, key: str, data: bytes) -> None:
        try:
            write_atomic(self._path(key), data)
        except OSError as exc:
            raise StorageError(
                f"Cannot write {self._path(key)} ({exc.strerror}); check free space and "
                "permissions of GALLERY_DATA_DIR."
            ) from exc

    def _read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise ImageNotFound(f"{self._path(key)} is missing from the gallery.") from exc
        except OSError as exc:
            raise StorageError(f"Cannot read {self._path(key)} ({exc.strerror}).") from exc

    def put(self, record: ImageRecord, original: bytes, thumbnail: bytes) -> None:
        self.put_original(record.original_key, original, record.content_type)
        self.put_unlisted(record, thumbnail)
        self.publish(record)

    def put_original(self, key: str, data: bytes, content_type: str) -> None:
        self._write(key, data)

    def put_unlisted(self, record: ImageRecord, thumbnail: bytes) -> None:
        self._write(record.thumbnail_key, thumbnail)

    def publish(self, record: ImageRecord) -> None:
        # The folder lists metadata files: the metadata is what lists an image here.
        self._write(meta_key("", record.id), record_to_json(record))
        if record.parent_id:
            self._write(child_marker_key("", check_image_id(record.parent_id), record.id), b"")
        if is_late(record.id):
            self.note_change(record.id, "added")

    def put_adopted(self, record: ImageRecord, thumbnail: bytes) -> None:
        self._write(record.thumbnail_key, thumbnail)
        self._write(meta_key("", record.id), record_to_json(record))
        if is_late(record.id):
            self.note_change(record.id, "added")

    def _ids(self) -> list[str]:
        try:
            names = os.listdir(self.root / META_DIR)
        except FileNotFoundError:
            return []
        ids = (id_from_meta_key("", META_DIR + name) for name in names)
        trashed = self._trashed()
        return sorted(i for i in ids if i and i not in trashed)

    def _trashed(self) -> set[str]:
        try:
            names = os.listdir(self.root / TRASH_DIR)
        except FileNotFoundError:
            return set()
        return {n.removesuffix(".json") for n in names if n.endswith(".json")}

    def page(self, *, cursor: str | None = None, limit: int = 24) -> Page:
        ids = self._ids()
        if cursor is not None:
            ids = [i for i in ids if i > cursor]
        chosen, more = ids[:limit], len(ids) > limit
        records: list[ImageRecord] = []
        problems: list[str] = []
        for image_id in chosen:
            try:
                records.append(self.get(image_id))
            except (StorageError, ImageNotFound) as exc:
                problems.append(str(exc))
        return Page(records, chosen[-1] if more and chosen else None, problems)

    def listing(self, *, cursor: str | None = None, limit: int = 24) -> Listing:
        # Files are read in microseconds: the summaries come from the metadata itself.
        page = self.page(cursor=cursor, limit=limit)
        return Listing([ImageSummary.of(r) for r in page.records], page.next_cursor, page.problems)

    def read_thumbnails(self, ids: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for image_id in ids:
            try:
                found[image_id] = self._read(thumbnail_key("", check_image_id(image_id)))
            except (StorageError, ImageNotFound) as exc:
                log.info("no thumbnail for %s: %s", image_id, exc)
        return found

    def reindex(self, progress: Progress = quiet) -> ReindexReport:
        return ReindexReport()  # the folder lists its metadata files directly

    def get(self, image_id: str) -> ImageRecord:
        key = meta_key("", check_image_id(image_id))
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise ImageNotFound(
                f"No image {image_id} in {self.root}; see `gallery-kit list`."
            ) from exc
        return record_from_json(data, where=str(self._path(key)))

    def exists(self, image_id: str) -> bool:
        listed = is_image_id(image_id) and self._path(meta_key("", image_id)).exists()
        return listed and not self._path(f"{TRASH_DIR}{image_id}.json").exists()

    def unlist(self, image_id: str) -> None:
        # The folder lists metadata files less those with a trash marker (written before this).
        self.note_change(check_image_id(image_id), "deleted")

    def relist(self, record: ImageRecord) -> None:
        self.note_change(record.id, "added")  # listed again once its trash marker goes

    def read_original(self, record: ImageRecord) -> bytes:
        return self._read(record.original_key)

    def read_thumbnail(self, record: ImageRecord) -> bytes:
        return self._read(record.thumbnail_key)

    def read_object(self, key: str) -> bytes:
        return self._read(key)

    def delete(self, image_id: str) -> None:
        record = self.get(image_id)
        self._path(meta_key("", image_id)).unlink(missing_ok=True)
        self.note_change(image_id, "deleted")
        for key in (record.original_key, record.thumbnail_key):
            self._path(key).unlink(missing_ok=True)
        # Lineage markers: this image as a child, and its own children's markers.
        if record.parent_id and is_image_id(record.parent_id):
            self._path(child_marker_key("", record.parent_id, image_id)).unlink(missing_ok=True)
        shutil.rmtree(self._path(children_prefix("", image_id)), ignore_errors=True)

    def children(self, parent_id: str) -> list[str]:
        folder = self._path(children_prefix("", check_image_id(parent_id)))
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return []
        return sorted(name for name in names if is_image_id(name))

    def uri(self, key: str) -> str:
        return str(self._path(key))

    def url_for(self, key: str) -> str | None:
        return None

    def foreign_objects(self) -> list[ForeignObject]:
        found = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            rel = Path(dirpath).relative_to(self.root)
            if rel == Path("."):
                dirnames[:] = [d for d in dirnames if d + "/" != ROOT]
            for name in filenames:
                if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith("."):
                    path = Path(dirpath) / name
                    stat = path.stat()
                    found.append(
                        ForeignObject(
                            path.relative_to(self.root).as_posix(),
                            stat.st_size,
                            datetime.fromtimestamp(stat.st_mtime, UTC),
                        )
                    )
        return found

    # --- what the search catalog shares (see ImageStore) ---------------------------------

    def note_change(self, image_id: str, kind: str, now: datetime | None = None) -> None:
        self._write(change_key("", now or datetime.now(UTC), image_id, kind), b"")

    def poll(self, *, changes_after: str, down_to: str | None, page_size: int = 1000) -> Poll:
        poll = Poll([], [])
        try:
            names = sorted(os.listdir(self.root / CHANGES_DIR))
        except FileNotFoundError:
            names = []
        for name in names:
            key = CHANGES_DIR + name
            parsed = change_from_key("", key) if key > changes_after else None
            if parsed is not None:
                poll.changes.append(Change(key, *parsed))
        cursor: str | None = None
        while True:
            listing = self.listing(cursor=cursor, limit=page_size)
            poll.summaries += listing.summaries
            poll.problems += listing.problems
            cursor = listing.next_cursor
            reached = (
                down_to is not None
                and listing.summaries[-1:]
                and (listing.summaries[-1].id >= down_to)
            )
            if reached or cursor is None:
                return poll

    def read_shared(self, key: str) -> tuple[bytes, str] | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
            version = str(path.stat().st_mtime_ns)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"Cannot read {path} ({exc.strerror}).") from exc
        return data, version

    def write_shared(self, key: str, data: bytes, *, replacing: str | None = None) -> bool:
        if replacing is not None:
            # One machine: the check and the rename are near enough to atomic for a cache.
            current = self.read_shared(key)
            if (current[1] if current else "") != replacing:
                return False
        self._write(key, data)
        return True

    def list_shared(self, prefix: str) -> list[SharedObject]:
        folder = self._path(prefix.rstrip("/") or ".")
        found = []
        for dirpath, _dirs, filenames in os.walk(folder):
            for name in filenames:
                path = Path(dirpath) / name
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix) and not name.startswith("."):
                    stat = path.stat()
                    found.append(
                        SharedObject(
                            key,
                            stat.st_size,
                            datetime.fromtimestamp(stat.st_mtime, UTC),
                            str(stat.st_mtime_ns),
                        )
                    )
        return sorted(found, key=lambda o: o.key)

    def delete_shared(self, keys: list[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)

    # --- downloads --------------------------------------------------------------------------

    def open_export(self, name: str, filename: str) -> FileStream:
        """``exports/<name>`` in the store's folder; ``gallery-kit serve`` hands it out."""
        del filename  # the server names the download
        return FileStream(self._path(EXPORTS_DIR + name))

    def export_path(self, name: str) -> Path | None:
        """The finished export ``name`` (what the server hands out), or None."""
        path = self._path(EXPORTS_DIR + name)
        return path if path.is_file() else None

    def expire_exports(self, now: datetime | None = None) -> int:
        cutoff = (now or datetime.now(UTC)) - timedelta(days=1)
        old = [o.key for o in self.list_shared(EXPORTS_DIR) if o.last_modified < cutoff]
        self.delete_shared(old)
        return len(old)
