"""Keeping what a model returned: from the moment it has answered, the (paid) bytes are ours.

Each image goes to the local outbox, then to the store (original, thumbnail and metadata, then
the index key that lists it); what the store refuses stays in the outbox, is reported beside the
images, and is sent again later (:meth:`~gallery_kit.stores.outbox.Outbox.flush`).
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from gallery_kit.errors import GalleryError, ModelFailed
from gallery_kit.generation import GenerationRequest, ModelOutput
from gallery_kit.imaging import make_thumbnail, sniff_content_type
from gallery_kit.records import ImageRecord, new_image_id, now_iso, original_key, thumbnail_key
from gallery_kit.stores.base import ImageStore
from gallery_kit.stores.outbox import Outbox

if TYPE_CHECKING:
    from gallery_kit.team.dedupe import Duplicate

log = logging.getLogger(__name__)


@dataclass(slots=True)
class GenerationResult:
    """What one Generate produced."""

    records: list[ImageRecord]
    #: Content-filter notes, upload delays: shown beside the images, not instead of them.
    warnings: list[str] = field(default_factory=list)
    #: Ids kept in the outbox because the store refused them (uploaded later).
    pending: list[str] = field(default_factory=list)
    request: GenerationRequest | None = None
    #: Set when an identical fixed-seed request made these images before: nothing was sent
    #: or paid (``Gallery.generate(..., again=True)`` makes new ones).
    duplicate: Duplicate | None = None


@dataclass(frozen=True, slots=True)
class _Made:
    """One image the model returned, in the outbox, on its way to the store."""

    record: ImageRecord
    original: bytes
    thumbnail: bytes
    #: True once the original is in the store (its upload starts before the thumbnail is made).
    original_stored: Future[bool]


class Keeper:
    """Writes new images to ``outbox`` and then ``store``."""

    def __init__(self, store: ImageStore, outbox: Outbox) -> None:
        self.store = store
        self.outbox = outbox

    def keep(
        self, output: ModelOutput, model_name: str, now: datetime, **fields: Any
    ) -> GenerationResult:
        """Keep what the model returned. From the moment it has answered, the (paid) bytes are
        ours: each image is written to the outbox, then to the store; what the store refuses
        stays in the outbox and is reported as a warning beside the images.

        Each original starts uploading as soon as it arrives, while its thumbnail is made (the
        biggest upload overlaps the slowest step); a batch's thumbnails are made side by side.
        """
        images = output.images
        with ThreadPoolExecutor(max_workers=3 * max(1, len(images))) as pool:
            started = []
            for image in images:
                content_type = sniff_content_type(image.data)
                if content_type is None:
                    raise ModelFailed(
                        f"{model_name} returned bytes that are not an image; nothing was stored."
                    )
                # One millisecond apart, so a batch lists in the order the model returned it.
                image_id = new_image_id(now - timedelta(milliseconds=image.index))
                key = original_key(self._prefix, image_id, content_type)
                early = pool.submit(self._put_original, key, image.data, content_type)
                thumbnailing = pool.submit(make_thumbnail, image.data, f"{model_name}'s image")
                started.append((image, image_id, content_type, key, early, thumbnailing))
            made: list[_Made] = []
            for image, image_id, content_type, key, early, thumbnailing in started:
                thumb = thumbnailing.result()
                per_image = dict(fields)
                if image.note:
                    # What a Converse model said beside its image.
                    per_image["extra"] = {**fields.get("extra", {}), "model_text": image.note}
                record = ImageRecord(
                    id=image_id,
                    width=thumb.source_width,
                    height=thumb.source_height,
                    seed=image.seed,
                    created_at=now_iso(now),
                    content_type=content_type,
                    byte_size=len(image.data),
                    original_key=key,
                    thumbnail_key=thumbnail_key(self._prefix, image_id),
                    batch_index=image.index,
                    **per_image,
                )
                self.outbox.add(record, image.data, thumb.data)
                made.append(_Made(record, image.data, thumb.data, early))
            outcomes = list(pool.map(self._upload, made))
        result = GenerationResult([m.record for m in made], list(output.warnings))
        failures = [(m.record.id, err) for m, err in zip(made, outcomes, strict=True) if err]
        if failures:
            result.pending = [i for i, _ in failures]
            result.warnings.append(
                f"{len(failures)} image(s) are kept on this machine and will upload when the "
                f"store is back: {failures[0][1]}"
            )
        elif self.outbox.ids():
            self.outbox.flush(self.store)  # the store works again: send what was waiting
        return result

    def _put_original(self, key: str, data: bytes, content_type: str) -> bool:
        try:
            self.store.put_original(key, data, content_type)
        except GalleryError as exc:
            log.info("early upload of %s failed; it is sent again with the rest: %s", key, exc)
            return False
        return True

    @property
    def _prefix(self) -> str:
        return getattr(self.store, "prefix", "")

    def _upload(self, made: _Made) -> str | None:
        record = made.record
        try:
            # While the original may still be on its way; what lists the image goes last.
            self.store.put_unlisted(record, made.thumbnail)
            if not made.original_stored.result():
                self.store.put_original(record.original_key, made.original, record.content_type)
            self.store.publish(record)
        except GalleryError as exc:
            # Reported to the caller as a warning; the log line is for the server's operator.
            log.info("upload of %s failed, kept in the outbox: %s", record.id, exc)
            return str(exc)
        self.outbox.remove(record.id)
        return None
