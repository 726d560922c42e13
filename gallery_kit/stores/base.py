"""The image-store seam: what the gallery needs from S3 or a local folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from gallery_kit.progress import Progress, quiet
from gallery_kit.records import ImageRecord, ImageSummary

#: Extensions of foreign objects worth adopting into the gallery.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif")


@dataclass(slots=True)
class Page:
    """One page of the gallery, newest first."""

    records: list[ImageRecord]
    #: Pass back to get the next page; None on the last page. Opaque to callers.
    next_cursor: str | None
    #: One line per object that could not be read (e.g. metadata that is not JSON).
    problems: list[str] = field(default_factory=list)
    #: How many images match in all (search results; None for a plain page).
    total: int | None = None


@dataclass(slots=True)
class Listing:
    """One page of summaries, newest first: what the grid shows, with no metadata read."""

    summaries: list[ImageSummary]
    next_cursor: str | None
    problems: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ReindexReport:
    """What :meth:`ImageStore.reindex` mended."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: Index keys written by an earlier version in one long part, written again in parts.
    rewritten: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Change:
    """A change marker: an image ``deleted``, or ``added`` late (see ``records.CHANGES_DIR``)."""

    #: The marker's key under the gallery's prefix (changes are read in this order).
    key: str
    image_id: str
    kind: str


@dataclass(slots=True)
class Poll:
    """What changed: the change markers after a mark, then the newest summaries down to a
    given id. In S3 one LIST when little changed."""

    changes: list[Change]
    summaries: list[ImageSummary]
    problems: list[str] = field(default_factory=list)
    #: S3 requests it took (0 for a folder).
    requests: int = 0


@dataclass(frozen=True, slots=True)
class SharedObject:
    """A small object of the gallery's own (catalog segments, the manifest), as listed."""

    #: Under the gallery's prefix, e.g. ``gallery-kit/catalog/manifest.json``.
    key: str
    size: int
    last_modified: datetime
    #: Changes whenever the object is written (S3's ETag; a file's mtime in nanoseconds).
    version: str = ""


@dataclass(frozen=True, slots=True)
class ForeignObject:
    """An image under the prefix that gallery_kit did not write."""

    key: str
    size: int
    last_modified: datetime


class ImageStore(Protocol):
    """Stores originals, thumbnails and metadata; lists newest first."""

    #: Where the gallery lives, for messages: ``s3://bucket/prefix`` or a folder.
    location: str

    def put(self, record: ImageRecord, original: bytes, thumbnail: bytes) -> None:
        """Everything, in the order below: a listed image is always complete."""
        ...

    def put_original(self, key: str, data: bytes, content_type: str) -> None:
        """The original alone (not listed until :meth:`publish`)."""
        ...

    def put_unlisted(self, record: ImageRecord, thumbnail: bytes) -> None:
        """The thumbnail (and in S3 the metadata): all but the original and what lists it."""
        ...

    def publish(self, record: ImageRecord) -> None:
        """What lists the image, and the lineage marker of a record with a ``parent_id``; only
        once the rest is stored."""
        ...

    def put_adopted(self, record: ImageRecord, thumbnail: bytes) -> None:
        """Store the thumbnail and metadata of a foreign image (its original stays put)."""
        ...

    def listing(self, *, cursor: str | None = None, limit: int = 24) -> Listing:
        """A page of summaries, newest first: one LIST in S3, nothing else."""
        ...

    def page(self, *, cursor: str | None = None, limit: int = 24) -> Page:
        """The same page as :meth:`listing`, as full records."""
        ...

    def read_thumbnails(self, ids: list[str]) -> dict[str, bytes]:
        """The thumbnails of ``ids`` (at once where the store allows); missing ones are left
        out."""
        ...

    def reindex(self, progress: Progress = quiet) -> ReindexReport:
        """Make what lists images agree with the metadata (images stored by older versions)."""
        ...

    def get(self, image_id: str) -> ImageRecord: ...

    def exists(self, image_id: str) -> bool:
        """Whether the image is stored and listed."""
        ...

    def read_original(self, record: ImageRecord) -> bytes: ...

    def read_thumbnail(self, record: ImageRecord) -> bytes: ...

    def read_object(self, key: str) -> bytes:
        """A foreign object's bytes (for adoption)."""
        ...

    def delete(self, image_id: str) -> None:
        """Unlist first, then remove the metadata, the original, thumbnail and lineage markers."""
        ...

    def unlist(self, image_id: str) -> None:
        """No longer listed (nor found by search), everything else kept: the trash."""
        ...

    def relist(self, record: ImageRecord) -> None:
        """Listed again (restored from the trash)."""
        ...

    def children(self, parent_id: str) -> list[str]:
        """Ids of the images made from ``parent_id``, newest first (one LIST by prefix)."""
        ...

    def uri(self, key: str) -> str:
        """``s3://bucket/key`` or a file path."""
        ...

    def url_for(self, key: str) -> str | None:
        """A short-lived URL a browser can load directly, or None (bytes go via the kernel)."""
        ...

    def foreign_objects(self) -> list[ForeignObject]:
        """Image objects under the prefix that are not ours."""
        ...

    # --- what the search catalog shares (keys relative to the gallery's prefix) --------

    def note_change(self, image_id: str, kind: str, now: datetime | None = None) -> None:
        """A change marker (``deleted``, or ``added`` for an image listed late)."""
        ...

    def poll(self, *, changes_after: str, down_to: str | None, page_size: int = 1000) -> Poll:
        """The change markers after the key ``changes_after``, then the newest summaries down
        to the first id at or past ``down_to`` (None: all of them), ``page_size`` keys a
        request."""
        ...

    def read_shared(self, key: str) -> tuple[bytes, str] | None:
        """An object's bytes and a version tag (the ETag), or None when it is missing."""
        ...

    def write_shared(self, key: str, data: bytes, *, replacing: str | None = None) -> bool:
        """Write ``key``; with ``replacing`` (a version tag from :meth:`read_shared`, or ``""``
        for "must not exist yet") only if the object is still that version. False when someone
        else wrote it first."""
        ...

    def list_shared(self, prefix: str) -> list[SharedObject]:
        """Every object under ``prefix`` (the catalog's own folders: small)."""
        ...

    def delete_shared(self, keys: list[str]) -> None:
        """Remove these (missing ones are fine)."""
        ...

    # --- downloads --------------------------------------------------------------------------

    def open_export(self, name: str, filename: str) -> ExportFile:
        """A new file ``exports/<name>`` (written as a stream), downloaded as ``filename``."""
        ...

    def expire_exports(self, now: datetime | None = None) -> int:
        """Remove exports older than a day; how many."""
        ...


class ExportFile(Protocol):
    """A stream that becomes one stored file at :meth:`commit` (and nothing at :meth:`abort`)."""

    size: int

    def write(self, data: bytes, /) -> int: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...

    def commit(self) -> str | None:
        """Done: a URL the browser downloads it from, or None where the server hands the file
        out itself (the local folder store)."""
        ...

    def abort(self) -> None: ...
