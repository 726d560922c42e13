"""The image-store seam: what the gallery needs from S3 or a local folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from gallery_kit.records import ImageRecord

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
        """Store all three; the metadata last, so a listed image is always complete.

        A record with a ``parent_id`` also gets its lineage marker, after the metadata.
        """
        ...

    def put_adopted(self, record: ImageRecord, thumbnail: bytes) -> None:
        """Store the thumbnail and metadata of a foreign image (its original stays put)."""
        ...

    def page(self, *, cursor: str | None = None, limit: int = 24) -> Page: ...

    def get(self, image_id: str) -> ImageRecord: ...

    def exists(self, image_id: str) -> bool: ...

    def read_original(self, record: ImageRecord) -> bytes: ...

    def read_thumbnail(self, record: ImageRecord) -> bytes: ...

    def read_object(self, key: str) -> bytes:
        """A foreign object's bytes (for adoption)."""
        ...

    def delete(self, image_id: str) -> None:
        """Unlist (metadata first), then remove the original, thumbnail and lineage markers."""
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
