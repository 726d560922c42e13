"""The service both front ends use: generate → store → page / get / delete.

``Gallery(generator, store, outbox)`` gets its services from outside; neither the UI nor the
CLI touches boto3.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gallery_kit.adoption import Adopter, AdoptReport
from gallery_kit.bedrock.families import (
    GenerationRequest,
    ModelOutput,
    ModelSpec,
    get_model,
    validate,
)
from gallery_kit.bedrock.lifecycle import DefaultChoice, ModelCatalog
from gallery_kit.errors import GalleryError, ImageNotFound
from gallery_kit.inflight import in_flight
from gallery_kit.keeping import GenerationResult, Keeper
from gallery_kit.records import (
    ImageRecord,
    check_image_id,
)
from gallery_kit.search.actions import SearchActions
from gallery_kit.search.searcher import Searcher
from gallery_kit.settings import Settings, load_settings
from gallery_kit.stores.base import ImageStore, Listing, Page
from gallery_kit.stores.outbox import Outbox, SyncReport
from gallery_kit.stores.thumbcache import ThumbnailCache
from gallery_kit.team.actions import TeamActions
from gallery_kit.team.budgets import SessionMeter
from gallery_kit.team.costs import estimate
from gallery_kit.team.dedupe import request_hash
from gallery_kit.trash import TrashActions

if TYPE_CHECKING:
    from gallery_kit.edits import EditRequest

#: Re-exported: what the service returns and reports.
__all__ = ["AdoptReport", "Gallery", "GenerationResult"]

log = logging.getLogger(__name__)


class Gallery(TeamActions, SearchActions, TrashActions):
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
        compacts: bool = True,
        created_by: str | None = None,
    ) -> None:
        """``compacts``: write the shared search catalog in the background when it is due (a
        dashboard's kernel); short-lived processes (the command line) leave it to others.
        ``created_by``: who new images are made by (default: see :attr:`created_by`)."""
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
        self._keeper = Keeper(store, outbox)
        self._created_by = created_by
        #: This object's spend: one dashboard session (GALLERY_SESSION_BUDGET_USD).
        self._meter = SessionMeter()
        name = hashlib.sha256(store.location.encode()).hexdigest()[:16]
        self._searcher = Searcher(
            store, outbox.root.parent / "search" / f"{name}.sqlite", compact=compacts
        )
        self._adopter = Adopter(store, outbox.root.parent / "foreign-skipped.json")

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, compacts: bool = True) -> Gallery:
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
            from gallery_kit.offline.generator import OfflineGenerator

            generator = OfflineGenerator()
        else:
            from gallery_kit.bedrock.runtime import BedrockGenerator

            generator = BedrockGenerator(region=settings.bedrock_region, catalog=catalog)
        return cls(
            generator,
            store,
            Outbox(settings.outbox_dir),
            settings=settings,
            thumb_cache=thumb_cache,
            catalog=catalog,
            compacts=compacts,
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
            valid = valid.with_(seed=self._rng.randint(0, spec.random_seed_max), seed_drawn=True)
        return spec, valid

    def generate(self, request: GenerationRequest, *, again: bool = False) -> GenerationResult:
        """Validate, call the model, keep the images. A fixed-seed request identical to one
        already in the gallery gives back its images instead (``result.duplicate`` says who
        made them and when; nothing is paid), unless ``again``. BudgetExceeded before any call
        whose estimate would pass GALLERY_DAILY_BUDGET_USD or GALLERY_SESSION_BUDGET_USD."""
        spec, valid = self.prepare(request)
        digest = request_hash(spec.model_id, valid)
        found = self._duplicate(digest) if digest and not again else None
        if found is not None:
            return GenerationResult(list(found.records), request=valid, duplicate=found)
        price = self._estimate(spec, valid)
        # in_flight: a server keeps this kernel until the images are kept.
        with self._paying(price), in_flight(self.outbox.root.parent):
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
                **self._made_fields(price),
                **self._hash_fields(digest),
            )
            self._paid(result, price, digest)
        result.request = valid
        return result

    def _store(self, output: ModelOutput, model_name: str, **fields: Any) -> GenerationResult:
        """Keep what the model returned (see :class:`~gallery_kit.keeping.Keeper`)."""
        result = self._keeper.keep(output, model_name, self._clock(), **fields)
        # Found by this server's next search at once (other servers: at their next poll).
        self._searcher.saw([r for r in result.records if r.id not in result.pending])
        return result

    def sync_outbox(self) -> SyncReport:
        return self.outbox.flush(self.store)

    # --- iterating on an image ----------------------------------------------------------

    def apply(self, edit: EditRequest) -> GenerationResult:
        """Make new images from an existing one (vary, remove-background, edit, extend, upscale).

        The request is validated before any network call; the results are stored exactly as
        :meth:`generate` stores them (outbox first, then the store), each recording its
        ``parent_id`` and ``operation``.
        """
        from gallery_kit.edits import edit_extra, plan_edit, prepare_job

        plan = plan_edit(edit, self.default_model_id, offline=self.offline, rng=self._rng)
        parent = self.get(plan.edit.image_id)
        job = prepare_job(plan, parent, self.read_original(parent))
        price = estimate(job.spec, parent.width, parent.height, None, 1, offline=self.offline)
        with self._paying(price), in_flight(self.outbox.root.parent):
            output = self.generator.edit(job)
            result = self._store(
                output,
                job.spec.name,
                prompt=job.prompt or parent.prompt,
                negative_prompt=plan.edit.negative_prompt,
                model_id=self.generator.recorded_model_id(job.spec),
                batch_size=len(output.images),
                parent_id=parent.id,
                operation=plan.edit.operation,
                extra=edit_extra(job),
                **self._made_fields(price),
            )
            self._paid(result, price)
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
        self._forget_requests([image_id])
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
        self._searcher.forget(image_id)

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

    def adopt_foreign(self) -> AdoptReport:
        """Give plain images under the prefix (other tools' uploads) a thumbnail and a record."""
        return self._adopter.adopt()
