"""The service both front ends use: generate → store → page / get / delete.

``Gallery(generator, store, outbox)`` gets its services from outside; neither the UI nor the
CLI touches boto3.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from gallery_kit.catalog import DefaultChoice, ModelCatalog
from gallery_kit.errors import GalleryError, ImageNotFound, InvalidImage, ModelFailed
from gallery_kit.imaging import MAX_SOURCE_BYTES, image_size, make_thumbnail, sniff_content_type
from gallery_kit.models import GenerationRequest, ModelOutput, ModelSpec, get_model, validate
from gallery_kit.records import (
    ImageRecord,
    adopted_image_id,
    check_image_id,
    new_image_id,
    now_iso,
    original_key,
    thumbnail_key,
)
from gallery_kit.settings import Settings, load_settings
from gallery_kit.stores._files import write_atomic
from gallery_kit.stores.base import ImageStore, Listing, Page, ReindexReport
from gallery_kit.stores.outbox import Outbox, SyncReport
from gallery_kit.stores.thumbcache import ThumbnailCache

if TYPE_CHECKING:
    from gallery_kit.operations import EditRequest

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


@dataclass(frozen=True, slots=True)
class _Made:
    """One image the model returned, in the outbox, on its way to the store."""

    record: ImageRecord
    original: bytes
    thumbnail: bytes
    #: True once the original is in the store (its upload starts before the thumbnail is made).
    original_stored: Future[bool]


@dataclass(slots=True)
class AdoptReport:
    adopted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class Gallery:
    def __init__(
        self,
        generator: Any,
        store: ImageStore,
        outbox: Outbox,
        *,
        default_model_id: str | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] | None = None,
        settings: Settings | None = None,
        thumb_cache: ThumbnailCache | None = None,
        catalog: ModelCatalog | None = None,
    ) -> None:
        self.generator = generator
        self.store = store
        self.outbox = outbox
        self.thumb_cache = thumb_cache
        self.settings = settings
        #: Which models are alive; without one, the built-in table for today.
        self.catalog = catalog or ModelCatalog(offline=True)
        #: BEDROCK_MODEL_ID (or the caller's choice): it wins even when it cannot be called.
        self.explicit_model_id = default_model_id or (settings.model_id if settings else None)
        self._choice: DefaultChoice | None = None
        self._rng = rng or random.SystemRandom()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._adopt_lock = threading.Lock()
        # Foreign objects that are not usable images, remembered across runs (per machine) so a
        # broken 50 MB object is not downloaded again by every `gallery-kit list`.
        self._skipped_path = outbox.root.parent / "foreign-skipped.json"
        self._skipped_foreign: dict[str, int] = self._load_skipped()

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Gallery:
        """The gallery the settings describe: S3 + Bedrock, or the embedded offline default."""
        settings = settings or load_settings()
        store: ImageStore
        thumb_cache = None
        if settings.bucket:
            from gallery_kit.stores.s3 import S3Store

            store = S3Store(settings.bucket, prefix=settings.prefix, region=settings.s3_region)
            # One folder per gallery, shared by every kernel on this machine.
            where = hashlib.sha256(store.location.encode()).hexdigest()[:16]
            thumb_cache = ThumbnailCache(settings.data_dir / "thumbnails" / where)
        else:
            from gallery_kit.stores.local import LocalStore

            store = LocalStore(settings.store_dir)
        catalog = ModelCatalog.from_settings(settings)
        generator: Any
        if settings.offline:
            from gallery_kit.offline import OfflineGenerator

            generator = OfflineGenerator()
        else:
            from gallery_kit.generators import BedrockGenerator

            generator = BedrockGenerator(region=settings.bedrock_region, catalog=catalog)
        return cls(
            generator,
            store,
            Outbox(settings.outbox_dir),
            settings=settings,
            thumb_cache=thumb_cache,
            catalog=catalog,
        )

    @property
    def offline(self) -> bool:
        return bool(getattr(self.generator, "offline", False))

    @property
    def default_choice(self) -> DefaultChoice:
        """The model used when a request names none, and why (asks Bedrock once, in AWS mode:
        ListFoundationModels where allowed, else the built-in table for today)."""
        if self._choice is None:
            self._choice = self.catalog.default_choice(self.explicit_model_id)
        return self._choice

    @property
    def default_model_id(self) -> str:
        return self.default_choice.model_id

    # --- generation ---------------------------------------------------------------------

    def prepare(self, request: GenerationRequest) -> tuple[ModelSpec, GenerationRequest]:
        """Validate ``request`` and choose its seed; raises before any network call."""
        spec = get_model(request.model_id or self.default_model_id)
        valid = validate(spec, request)
        if valid.seed is None and spec.takes_seed:
            valid = valid.with_(seed=self._rng.randint(0, spec.random_seed_max))
        return spec, valid

    def generate(self, request: GenerationRequest) -> GenerationResult:
        spec, valid = self.prepare(request)
        output = self.generator.invoke(spec, valid)
        result = self._store(
            output,
            spec.name,
            prompt=valid.prompt,
            negative_prompt=valid.negative_prompt,
            style=valid.style,
            quality=valid.quality,
            cfg_scale=valid.cfg_scale,
            model_id=self.generator.recorded_model_id(spec),
            batch_size=valid.count,
        )
        result.request = valid
        return result

    def _store(self, output: ModelOutput, model_name: str, **fields: Any) -> GenerationResult:
        """Keep what the model returned. From the moment it has answered, the (paid) bytes are
        ours: each image is written to the outbox, then to the store; what the store refuses
        stays in the outbox and is reported as a warning beside the images.

        Each original starts uploading as soon as it arrives, while its thumbnail is made (the
        biggest upload overlaps the slowest step); a batch's thumbnails are made side by side.
        """
        now = self._clock()
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
            self.sync_outbox()  # the store works again: send what was waiting
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

    def sync_outbox(self) -> SyncReport:
        return self.outbox.flush(self.store)

    # --- iterating on an image ----------------------------------------------------------

    def apply(self, edit: EditRequest) -> GenerationResult:
        """Make new images from an existing one (vary, remove-background, edit, extend, upscale).

        The request is validated before any network call; the results are stored exactly as
        :meth:`generate` stores them (outbox first, then the store), each recording its
        ``parent_id`` and ``operation``.
        """
        from gallery_kit.operations import edit_extra, plan_edit, prepare_job

        plan = plan_edit(edit, self.default_model_id, offline=self.offline, rng=self._rng)
        parent = self.get(plan.edit.image_id)
        job = prepare_job(plan, parent, self.read_original(parent))
        output = self.generator.edit(job)
        return self._store(
            output,
            job.spec.name,
            prompt=job.prompt or parent.prompt,
            negative_prompt=plan.edit.negative_prompt,
            model_id=self.generator.recorded_model_id(job.spec),
            batch_size=len(output.images),
            parent_id=parent.id,
            operation=plan.edit.operation,
            extra=edit_extra(job),
        )

    def children(self, image_id: str) -> list[ImageRecord]:
        """The images made from ``image_id`` (stored or still waiting to upload), newest first."""
        check_image_id(image_id)
        ids = set(self.store.children(image_id))
        ids.update(r.id for r in self.outbox.records() if r.parent_id == image_id)
        found: list[ImageRecord] = []
        for child_id in sorted(ids):
            try:
                found.append(self.get(child_id))
            except ImageNotFound:
                continue  # deleted meanwhile
        return found

    def parent(self, record: ImageRecord) -> ImageRecord | None:
        """The image ``record`` was made from, or None (an original, or its parent is gone)."""
        if not record.parent_id:
            return None
        try:
            return self.get(record.parent_id)
        except ImageNotFound:
            return None

    # --- browsing -----------------------------------------------------------------------

    def pending(self) -> list[ImageRecord]:
        """Images waiting in the outbox, newest first."""
        return self.outbox.records()

    def page(self, *, cursor: str | None = None, limit: int = 24) -> Page:
        return self.store.page(cursor=cursor, limit=limit)

    def listing(self, *, cursor: str | None = None, limit: int = 24) -> Listing:
        """What the grid shows of a page: summaries only (one LIST in S3)."""
        return self.store.listing(cursor=cursor, limit=limit)

    def thumbnails(self, ids: list[str]) -> dict[str, bytes]:
        """The thumbnails of ``ids``: from the outbox, this machine's cache, or the store (all
        at once); an image without one is left out."""
        found: dict[str, bytes] = {}
        stored: list[str] = []
        for image_id in ids:
            data = None
            if self.outbox.has(image_id):
                # An image uploaded meanwhile has left the outbox: read it from the store.
                with contextlib.suppress(GalleryError, OSError):
                    data = self.outbox.read_thumbnail(image_id)
            if data is None and self.thumb_cache is not None:
                data = self.thumb_cache.get(image_id)
            if data is None:
                stored.append(image_id)
            else:
                found[image_id] = data
        fetched = self.store.read_thumbnails(stored) if stored else {}
        if self.thumb_cache is not None:
            for image_id, data in fetched.items():
                self.thumb_cache.put(image_id, data)
        found.update(fetched)
        return found

    def forget_thumbnail(self, image_id: str) -> None:
        """Drop this machine's copy (the page could not show it): the next read asks the store."""
        if self.thumb_cache is not None:
            self.thumb_cache.discard(image_id)

    def reindex(self) -> ReindexReport:
        return self.store.reindex()

    def get(self, image_id: str) -> ImageRecord:
        check_image_id(image_id)
        if self.outbox.has(image_id):
            return self.outbox.get(image_id)
        return self.store.get(image_id)

    def is_pending(self, image_id: str) -> bool:
        return self.outbox.has(image_id)

    def read_original(self, record: ImageRecord) -> bytes:
        if self.outbox.has(record.id):
            return self.outbox.read_original(record.id)
        return self.store.read_original(record)

    def read_thumbnail(self, record: ImageRecord) -> bytes:
        if self.outbox.has(record.id):
            return self.outbox.read_thumbnail(record.id)
        return self.store.read_thumbnail(record)

    def uri(self, record: ImageRecord) -> str:
        if self.outbox.has(record.id):
            return str(self.outbox.root / record.id / "original")
        return self.store.uri(record.original_key)

    def thumbnail_uri(self, record: ImageRecord) -> str:
        if self.outbox.has(record.id):
            return str(self.outbox.root / record.id / "thumbnail.webp")
        return self.store.uri(record.thumbnail_key)

    def delete(self, image_id: str) -> None:
        check_image_id(image_id)
        self.forget_thumbnail(image_id)
        found = False
        if self.outbox.has(image_id):
            self.outbox.remove(image_id)
            found = True
        try:
            self.store.delete(image_id)
            found = True
        except ImageNotFound:
            if not found:
                raise

    # --- foreign images -----------------------------------------------------------------

    def warm(self) -> None:
        """Get ready to show pages (start the store's worker threads, in S3 mode)."""
        warm = getattr(self.store, "warm", None)
        if callable(warm):
            warm()

    def close(self) -> None:
        """Stop the store's worker threads (S3); the gallery is not used afterwards."""
        close = getattr(self.store, "close", None)
        if callable(close):
            close()

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

    def adopt_foreign(self) -> AdoptReport:
        """Give plain images under the prefix (other tools' uploads) a thumbnail and a record."""
        report = AdoptReport()
        with self._adopt_lock:
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
                    thumbnail_key=thumbnail_key(self._prefix, image_id),
                    source="adopted",
                )
                try:
                    self.store.put_adopted(record, thumb.data)
                except GalleryError as exc:
                    report.skipped.append(str(exc))
                    continue
                report.adopted.append(image_id)
        return report
