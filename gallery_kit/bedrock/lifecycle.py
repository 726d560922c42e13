"""Which image models are alive: Bedrock's ``ListFoundationModels``, or the built-in table.

The model picker asks :meth:`ModelCatalog.states` for each model's lifecycle status in the
region it would be called in. With ``bedrock:ListFoundationModels`` allowed, that is Bedrock's
answer (``byOutputModality="IMAGE"``), fetched once per region per catalog (so once per
session) and cached; without the permission, offline, or on any error, it is the built-in
``MODELS`` table read against today's date (UTC; the clock is injected), quietly (one log line
at INFO).

:meth:`ModelCatalog.default_choice` picks the model used when ``BEDROCK_MODEL_ID`` is unset:
Nova Canvas where it can still be called, else the first live model of ``DEFAULT_ORDER``, with
one line saying which and why; :meth:`ModelCatalog.live_alternative` names the model an error
message (and the dashboard's one-click switch) points to.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

from gallery_kit.bedrock.families import (
    DEFAULT_ORDER,
    MODELS,
    RECOMMENDED_MODEL_ID,
    RECOMMENDED_REGION,
    ModelSpec,
    card_for,
    get_model,
)
from gallery_kit.bedrock.families.stability_services import SERVICES, bare_id
from gallery_kit.errors import ModelUnavailable

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient

    from gallery_kit.settings import Settings

log = logging.getLogger(__name__)

State = Literal["active", "legacy", "end-of-life", "preview", "unavailable"]
#: States in which a model answers (Legacy models still answer accounts that used them;
#: preview models answer accounts with preview access).
USABLE: frozenset[str] = frozenset({"active", "legacy", "preview"})
_WORDS = {
    "active": "Active",
    "legacy": "Legacy",
    "preview": "in preview",
    "end-of-life": "end of life",
    "unavailable": "not offered",
}


def today_utc() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True, slots=True)
class ModelState:
    """One model's lifecycle status where it would be called."""

    model_id: str
    status: State
    region: str
    #: "bedrock" (asked ListFoundationModels) or "built-in" (the MODELS table).
    source: str

    @property
    def usable(self) -> bool:
        """Whether the model answers where it would be called (see :data:`USABLE`)."""
        return self.status in USABLE

    @property
    def spec(self) -> ModelSpec:
        return card_for(self.model_id)

    @property
    def label(self) -> str:
        """ "Active", "Legacy", "end of life", …"""
        return _WORDS[self.status]

    @property
    def words(self) -> str:
        """ "Active in us-west-2", "end of life in us-east-1", …"""
        return f"{self.label} in {self.region}"


@dataclass(frozen=True, slots=True)
class DefaultChoice:
    """The model a request uses when it names none, and the one line that says why."""

    model_id: str
    region: str
    reason: str
    #: True when BEDROCK_MODEL_ID chose it (then it wins even when it cannot be called).
    explicit: bool = False


def control_plane_client(region: str) -> BedrockClient:
    """A ``bedrock`` (control plane) client with short timeouts: a listing, not a generation."""
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=region,
        connect_timeout=5,
        read_timeout=15,
        retries={"total_max_attempts": 2, "mode": "standard"},
    )
    return boto3.client("bedrock", config=config)


class ModelCatalog:
    """Lifecycle status of the known image models (text-to-image and edit services).

    ``client`` is used for every region when given; otherwise one client per region is built
    lazily by ``client_factory`` (default :func:`control_plane_client`). ``region`` is
    ``BEDROCK_REGION``; None means each model's own default region.
    """

    def __init__(
        self,
        *,
        region: str | None = None,
        client: BedrockClient | None = None,
        client_factory: Callable[[str], BedrockClient] | None = None,
        offline: bool = False,
        specs: Iterable[ModelSpec] | None = None,
        clock: Callable[[], date] = today_utc,
    ) -> None:
        self.region = region
        self.offline = offline
        #: Today's date (UTC); tests pin it.
        self.today = clock
        self._client = client
        self._factory = client_factory or control_plane_client
        self._specs = list(specs) if specs is not None else [*MODELS.values(), *SERVICES.values()]
        self._lock = threading.Lock()
        #: region -> {bare model id: Bedrock status}, or None when Bedrock could not be asked.
        self._listed: dict[str, dict[str, str] | None] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, *, clock: Callable[[], date] = today_utc
    ) -> ModelCatalog:
        return cls(region=settings.bedrock_region, offline=settings.offline, clock=clock)

    def region_for(self, spec: ModelSpec) -> str:
        return self.region or spec.default_region

    def refresh(self) -> None:
        """Forget what Bedrock said; the next call asks again."""
        with self._lock:
            self._listed.clear()

    def states(self) -> dict[str, ModelState]:
        """Every known model's state, keyed by model id."""
        return {spec.model_id: self.state_of(spec) for spec in self._specs}

    def state(self, model_id: str) -> ModelState:
        """The state of ``model_id`` (a geography prefix such as ``us.`` is allowed)."""
        for spec in self._specs:
            if spec.model_id == model_id:
                return self.state_of(spec)
        return self.state_of(card_for(model_id))

    def state_of(self, spec: ModelSpec) -> ModelState:
        region = self.region_for(spec)
        dated = spec.status_on(self.today())
        listed = None if self.offline else self._listing(region)
        if listed is None:
            return ModelState(spec.model_id, dated, region, "built-in")
        status = listed.get(bare_id(spec.model_id))
        if dated == "preview":
            # Preview access is granted per account; the listing does not say whether we have it.
            return ModelState(spec.model_id, "preview", region, "bedrock")
        if status is None:
            # Not offered in this region (or gone): keep "end-of-life" if we know it is.
            gone: State = "end-of-life" if dated == "end-of-life" else "unavailable"
            return ModelState(spec.model_id, gone, region, "bedrock")
        known: State = "legacy" if status.upper() == "LEGACY" else "active"
        return ModelState(spec.model_id, known, region, "bedrock")

    # --- the default, and what to use instead --------------------------------------------

    def live_alternative(self, model_id: str | None = None) -> ModelState | None:
        """The first model of ``DEFAULT_ORDER`` (other than ``model_id``) that answers here.

        Preview models are never suggested: most accounts cannot call them.
        """
        avoid = bare_id(model_id) if model_id else None
        for candidate in DEFAULT_ORDER:
            if candidate == avoid:
                continue
            state = self.state(candidate)
            if state.usable and state.status != "preview":
                return state
        return None

    def alternative(self, model_id: str | None = None) -> Alternative | None:
        """:meth:`live_alternative` as an error message's :class:`Alternative`."""
        live = self.live_alternative(model_id)
        return Alternative(live.model_id, live.region, live.label) if live else None

    def refusal(self, model_id: str) -> ModelUnavailable | None:
        """For a model this catalog knows cannot be called here (end of life, or not offered):
        the error to show before anything is sent, naming a live model."""
        state = self.state(model_id)
        if state.status not in ("end-of-life", "unavailable"):
            return None
        live = self.alternative(model_id)
        hint = switch_hint(state.spec, live, region_setting=self.region)
        return ModelUnavailable(
            f"{state.spec.name} is {state.words}; nothing was sent. {hint[0].upper()}{hint[1:]}.",
            suggested_model_id=live.model_id if live else None,
        )

    def default_choice(self, explicit: str | None = None) -> DefaultChoice:
        """The model used when a request names none (``explicit`` is BEDROCK_MODEL_ID)."""
        if explicit:
            state = self.state(explicit)
            reason = f"Using {state.spec.name} ({state.region}), set by BEDROCK_MODEL_ID"
            if not state.usable:
                alternative = self.live_alternative(explicit)
                reason += f"; it is {state.words}" + (
                    f" - {alternative.spec.name} ({alternative.region}) works instead"
                    if alternative
                    else ""
                )
            return DefaultChoice(explicit, state.region, reason, explicit=True)
        first = self.state(DEFAULT_ORDER[0])
        if first.usable:
            return DefaultChoice(
                first.model_id, first.region, f"Using {first.spec.name} ({first.words})"
            )
        why = _why_not(first)
        alternative = self.live_alternative(first.model_id)
        if alternative is None:
            fallback = self.state(DEFAULT_ORDER[1])
            where = f" (BEDROCK_REGION={self.region})" if self.region else ""
            return DefaultChoice(
                fallback.model_id,
                fallback.region,
                f"{why}, and no other image model is listed as live where it would be "
                f"called{where}; trying {fallback.spec.name} ({fallback.region})",
            )
        return DefaultChoice(
            alternative.model_id,
            alternative.region,
            f"{why}; using {alternative.spec.name} ({alternative.region})",
        )

    def builtin_default(self) -> ModelSpec:
        """The default by the built-in table alone (no network): for a first paint."""
        today = self.today()
        for candidate in DEFAULT_ORDER:
            if MODELS[candidate].status_on(today) in ("active", "legacy"):
                return MODELS[candidate]
        return MODELS[DEFAULT_ORDER[1]]

    def _listing(self, region: str) -> dict[str, str] | None:
        with self._lock:
            if region in self._listed:
                return self._listed[region]
            listed = self._ask(region)
            self._listed[region] = listed
            return listed

    def _ask(self, region: str) -> dict[str, str] | None:
        try:
            client = self._client or self._factory(region)
            response: Any = client.list_foundation_models(byOutputModality="IMAGE")
            out: dict[str, str] = {}
            for summary in response.get("modelSummaries", []):
                model_id = summary.get("modelId")
                status = (summary.get("modelLifecycle") or {}).get("status") or "ACTIVE"
                if isinstance(model_id, str):
                    out[bare_id(model_id)] = str(status)
        except Exception as exc:  # any failure at all means "use the built-in table"
            log.info("ListFoundationModels in %s failed (%s); using the built-in list", region, exc)
            return None
        return out


@dataclass(frozen=True, slots=True)
class Alternative:
    """A model that answers where it would be called: what an error message points to."""

    model_id: str = RECOMMENDED_MODEL_ID
    region: str = RECOMMENDED_REGION
    #: "Active", "Legacy": how Bedrock (or the built-in table) lists it.
    state: str = "Active"


def switch_hint(
    spec: ModelSpec, live: Alternative | None = None, *, region_setting: str | None = None
) -> str:
    """Which model and settings will work instead of ``spec`` (``live``: the catalog's pick).

    ``region_setting`` is BEDROCK_REGION: when it would send the live model to the wrong
    region, the hint says to change it.
    """
    live = live or Alternative()
    region = (
        f" and BEDROCK_REGION={live.region} (or leave it unset)"
        if region_setting and region_setting != live.region
        else ""
    )
    if spec.model_id.endswith(live.model_id):
        return (
            f"check that {live.model_id} is enabled under Bedrock → Model access in "
            f"{live.region}{region}"
        )
    return (
        f"use {get_model(live.model_id).name} ({live.state} in {live.region}): "
        f"--model {live.model_id}, or set BEDROCK_MODEL_ID={live.model_id}{region}"
    )


def _why_not(state: ModelState) -> str:
    """Why a model cannot be called, in a few words ("… reached end of life on 2026-09-30")."""
    spec = state.spec
    if state.status == "end-of-life" and spec.end_of_life is not None:
        return f"{spec.name} reached end of life on {spec.end_of_life.isoformat()}"
    if state.status == "end-of-life":
        return f"{spec.name} has reached end of life"
    return f"{spec.name} is not offered to this account in {state.region}"
