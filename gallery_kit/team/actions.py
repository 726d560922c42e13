"""What :class:`~gallery_kit.gallery.Gallery` offers a team: who makes its images, what they
cost, the spend ledger and its sums, budgets, and finding a request made before."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from gallery_kit.errors import GalleryError
from gallery_kit.generation import GenerationRequest, ModelSpec
from gallery_kit.records import ImageRecord
from gallery_kit.stores.base import ImageStore
from gallery_kit.team import dedupe, ledger
from gallery_kit.team.budgets import SessionMeter, check_daily
from gallery_kit.team.costs import MICROS, Estimate, estimate
from gallery_kit.team.dedupe import HASH_FIELD, Duplicate, request_hash
from gallery_kit.team.identity import resolve_user
from gallery_kit.team.ledger import LedgerEntry
from gallery_kit.team.spend import By, Spend, SpendRow, check_by, rows, within

if TYPE_CHECKING:
    from gallery_kit.keeping import GenerationResult
    from gallery_kit.settings import Settings

log = logging.getLogger(__name__)


class TeamActions:
    """Mixed into Gallery (its store, settings, clock and prepare())."""

    store: ImageStore
    settings: Settings | None
    _clock: Callable[[], datetime]
    _created_by: str | None
    _meter: SessionMeter

    def prepare(self, request: GenerationRequest) -> tuple[ModelSpec, GenerationRequest]:
        raise NotImplementedError

    @property
    def offline(self) -> bool:
        raise NotImplementedError

    # --- who ----------------------------------------------------------------------------

    @property
    def created_by(self) -> str:
        """Who this process's new images are made by: GALLERY_USER, JUPYTERHUB_USER, the AWS
        caller's name (AWS mode; asked once per process), the OS user. Never the browser."""
        if self._created_by is None:
            s = self.settings
            aws_mode = s.aws_mode if s else self.store.location.startswith("s3://")
            aws_name = None
            if aws_mode:
                from gallery_kit.team.sts import caller_name

                region = s.s3_region if s else None

                def aws_name() -> str | None:
                    return caller_name(region)

            self._created_by = resolve_user(
                gallery_user=s.user if s else os.environ.get("GALLERY_USER"),
                hub_user=s.hub_user if s else os.environ.get("JUPYTERHUB_USER"),
                aws_name=aws_name,
            )
        return self._created_by

    # --- what it costs --------------------------------------------------------------------

    def estimate(self, request: GenerationRequest) -> Estimate:
        """The price table's estimate of ``request`` (0 offline); validated first."""
        spec, valid = self.prepare(request)
        return self._estimate(spec, valid)

    def _estimate(self, spec: ModelSpec, valid: GenerationRequest) -> Estimate:
        return estimate(
            spec, valid.width, valid.height, valid.quality, valid.count, offline=self.offline
        )

    def _made_fields(self, price: Estimate) -> dict[str, Any]:
        return {
            "created_by": self.created_by,
            "cost_usd": price.per_image_micros / MICROS,
            "cost_is_estimate": price.is_estimate,
        }

    # --- budgets ------------------------------------------------------------------------

    @property
    def session_spend_usd(self) -> float:
        """What this Gallery object (one dashboard session) has spent on model calls."""
        return self._meter.spent_micros / MICROS

    @contextlib.contextmanager
    def _paying(self, price: Estimate) -> Iterator[None]:
        """Refuse (BudgetExceeded) before anything is sent when the estimate would pass a
        budget; hold the cost as in flight until the caller has written the ledger entry."""
        s = self.settings
        if price.micros == 0 or s is None:
            yield
            return
        with self._meter.paying(s.session_budget_usd, price.micros):
            if s.daily_budget_usd is not None:
                others = self._meter.in_flight_micros - price.micros
                check_daily(s.daily_budget_usd, self.spent_today_micros() + others, price.micros)
            yield

    def spent_today_micros(self) -> int:
        """The whole gallery's spend today (UTC), from the ledger: one LIST per 1,000 requests."""
        today = self._clock().astimezone(UTC).date()
        return sum(e.micros for e in ledger.read_days(self.store, today, today))

    def _paid(self, result: GenerationResult, price: Estimate, digest: str | None = None) -> None:
        """After the model answered and the images are kept: the ledger entry, the session's
        count and the request's marker."""
        if not result.records:
            return
        paid = price.of(len(result.records))
        self._meter.add(paid.micros)
        first = result.records[0]
        entry = LedgerEntry(
            first.id, first.created_by, first.model_id, paid.count, paid.micros, paid.is_estimate
        )
        try:
            ledger.write(self.store, entry)
        except GalleryError as exc:
            result.warnings.append(f"This request is missing from the spend ledger: {exc}")
        if digest:
            try:
                dedupe.write(self.store, digest, result.records)
            except GalleryError as exc:
                log.info("no duplicate marker for %s: %s", first.id, exc)

    # --- no paying twice ----------------------------------------------------------------

    def find_duplicate(self, request: GenerationRequest) -> Duplicate | None:
        """The images an identical request with the same fixed seed made before (who, when),
        or None: a random seed, or none made (or they were trashed). One GET at most."""
        if request.seed is None or request.seed_drawn:
            return None
        spec, valid = self.prepare(request)
        digest = request_hash(spec.model_id, valid)
        return dedupe.read(self.store, digest) if digest else None

    def _duplicate(self, digest: str) -> Duplicate | None:
        """:meth:`find_duplicate` for a generation: a store that cannot answer is no reason
        not to generate (the images then wait in the outbox as usual)."""
        try:
            return dedupe.read(self.store, digest)
        except GalleryError as exc:
            log.info("duplicate lookup failed, generating: %s", exc)
            return None

    def _hash_fields(self, digest: str | None) -> dict[str, Any]:
        return {"extra": {HASH_FIELD: digest}} if digest else {}

    def _forget_requests(self, ids: list[str]) -> None:
        """Before these images leave the gallery: markers naming them go."""
        found: list[ImageRecord] = []
        for image_id in ids:
            with contextlib.suppress(GalleryError):
                found.append(self.store.get(image_id))
        dedupe.forget(self.store, found)

    # --- spend --------------------------------------------------------------------------

    def spend_entries(
        self, *, since: str | datetime | None = None, until: str | datetime | None = None
    ) -> list[LedgerEntry]:
        """The ledger from ``since`` (default: 29 days before today, UTC) to ``until``
        (default: now), oldest first; a date as ``until`` means to the end of that day."""
        from gallery_kit.search.query import parse_when

        start = parse_when(since, "--since") if isinstance(since, str) else since
        stop = parse_when(until, "--until", end=True) if isinstance(until, str) else until
        now = self._clock().astimezone(UTC)
        start = start or datetime.combine(now.date() - timedelta(days=29), datetime.min.time(), UTC)
        last = ((stop - timedelta(microseconds=1)) if stop else now).date()
        if stop is not None and stop <= start:
            from gallery_kit.errors import InvalidRequest

            raise InvalidRequest("--until is not after --since; swap them or widen the range.")
        return within(ledger.read_days(self.store, start.date(), last), start, stop)

    def spend(
        self,
        *,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        by: By | str = "day",
    ) -> list[SpendRow]:
        """``gallery-kit spend``: sums by day (``YYYY-MM-DD``), user or model."""
        by = check_by(by)
        return rows(self.spend_entries(since=since, until=until), by)

    def spend_summary(self, *, today: date | None = None, days: int = 30) -> Spend:
        """The Spend view's figures: today, this week, this month, ``days`` days by day (split
        by user or model), the top users. One LIST per day read, the days side by side."""
        today = today or self._clock().astimezone(UTC).date()
        entries = ledger.read_days(self.store, Spend.first_day(today, days), today)
        return Spend(today, entries, days)
