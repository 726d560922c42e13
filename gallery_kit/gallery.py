"""The service both front ends use: generate → store → page / get / delete.

``Gallery(generator, store, outbox)`` gets its services from outside; neither the UI nor the
CLI touches boto3.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

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
from gallery_kit.stores.base import ImageStore, Page
from gallery_kit.stores.outbox import Outbox, SyncReport

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
    ) -> None:
        self.generator = generator
        self.store = store
        self.outbox = outbox
        self.settings = settings
        self.default_model_id = default_model_id or (
            settings.model_id if settings else "amazon.nova-canvas-v1:0"
        )
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
        if settings.bucket:
            from gallery_kit.stores.s3 import S3Store

            store = S3Store(settings.bucket, prefix=settings.prefix, region=settings.s3_region)
        else:
            from gallery_kit.stores.local import LocalStore

            store = LocalStore(settings.store_dir)
        generator: Any
        if settings.offline:
            from gallery_kit.offline import OfflineGenerator

            generator = OfflineGenerator()
        else:
            from gallery_kit.generators import BedrockGenerator

            generator = BedrockGenerator(region=settings.bedrock_region)
        return cls(generator, store, Outbox(settings.outbox_dir), settings=settings)

    @property
    def offline(self) -> bool:
        return bool(getattr(self.generator, "offline", False))

    # --- generation ---------------------------------------------------------------------

    def prepare(self, request: GenerationRequest) -> tuple[ModelSpec, GenerationRequest]:
        """Validate ``request`` and choose its seed; raises before any network call."""
        spec = get_model(request.model_id or self.default_model_id)
        valid = validate(spec, request)
        if valid.seed is None:
            valid = valid.with_(seed=self._rng.randint(0, spec.random_seed_max))
        return spec, valid

    def generate(self, request: GenerationRequest) -> GenerationResult:
        spec, valid = self.prepare(request)
        output = self.generator.invoke(spec, valid)
        made = self._secure(
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
        result = self._keep(made, list(output.warnings))
        result.request = valid
        return result

    def _secure(
        self, output: ModelOutput, model_name: str, **fields: Any
    ) -> list[tuple[ImageRecord, bytes, bytes]]:
        """Record each returned image and write it to the outbox: from the moment the model has
        answered, the (paid) bytes are ours to keep, whatever happens to the upload."""
        now = self._clock()
        made: list[tuple[ImageRecord, bytes, bytes]] = []
        for image in output.images:
            content_type = sniff_content_type(image.data)
            if content_type is None:
                raise ModelFailed(
                    f"{model_name} returned bytes that are not an image; nothing was stored."
                )
            thumb = make_thumbnail(image.data, where=f"{model_name}'s image")
            # One millisecond apart, so a batch lists in the order the model returned it.
            image_id = new_image_id(now - timedelta(milliseconds=image.index))
            record = ImageRecord(
                id=image_id,
                width=thumb.source_width,
                height=thumb.source_height,
                seed=image.seed,
                created_at=now_iso(now),
                content_type=content_type,
                byte_size=len(image.data),
                original_key=original_key(self._prefix, image_id, content_type),
                thumbnail_key=thumbnail_key(self._prefix, image_id),
                batch_index=image.index,
                **fields,
            )
            self.outbox.add(record, image.data, thumb.data)
            made.append((record, image.data, thumb.data))
        return made

    @property
    def _prefix(self) -> str:
        return getattr(self.store, "prefix", "")

    def _upload(self, item: tuple[ImageRecord, bytes, bytes]) -> str | None:
        record, original, thumb = item
        try:
            self.store.put(record, original, thumb)
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
        made = self._secure(
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
        return self._keep(made, list(output.warnings))

    def _keep(
        self, made: list[tuple[ImageRecord, bytes, bytes]], warnings: list[str]
    ) -> GenerationResult:
        """Upload what :meth:`_secure` put in the outbox (side by side); what fails stays there
        and is reported as a warning beside the images."""
        result = GenerationResult([r for r, _, _ in made], warnings)
        with ThreadPoolExecutor(max_workers=max(1, len(made))) as pool:
            outcomes = list(pool.map(self._upload, made))
        failures = [(r.id, err) for (r, _, _), err in zip(made, outcomes, strict=True) if err]
        if failures:
            result.pending = [i for i, _ in failures]
            result.warnings.append(
                f"{len(failures)} image(s) are kept on this machine and will upload when the "
                f"store is back: {failures[0][1]}"
            )
        elif self.outbox.ids():
            self.sync_outbox()  # the store works again: send what was waiting
        return result

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
