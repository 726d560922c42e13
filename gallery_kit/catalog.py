"""Which image models are alive: Bedrock's ``ListFoundationModels``, or the built-in table.

The model picker asks :meth:`ModelCatalog.states` for each model's lifecycle status in the
region it would be called in. With ``bedrock:ListFoundationModels`` allowed, that is Bedrock's
answer (``byOutputModality="IMAGE"``), fetched once per region per catalog (so once per
session) and cached; without the permission, offline, or on any error, it is the built-in
``MODELS`` table, quietly (one log line at INFO).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from gallery_kit.models import MODELS, ModelSpec
from gallery_kit.models.stability_edit import SERVICES, bare_id

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient

    from gallery_kit.settings import Settings

log = logging.getLogger(__name__)

State = Literal["active", "legacy", "end-of-life", "unavailable"]


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
        """Whether the picker offers it (Legacy models still answer accounts that used them)."""
        return self.status in ("active", "legacy")


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


def _builtin_status(spec: ModelSpec) -> State:
    return spec.status


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
    ) -> None:
        self.region = region
        self.offline = offline
        self._client = client
        self._factory = client_factory or control_plane_client
        self._specs = list(specs) if specs is not None else [*MODELS.values(), *SERVICES.values()]
        self._lock = threading.Lock()
        #: region -> {bare model id: Bedrock status}, or None when Bedrock could not be asked.
        self._listed: dict[str, dict[str, str] | None] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelCatalog:
        return cls(region=settings.bedrock_region, offline=settings.offline)

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
            if bare_id(spec.model_id) == bare_id(model_id):
                return self.state_of(spec)
        from gallery_kit.models import get_model

        return self.state_of(get_model(model_id))

    def state_of(self, spec: ModelSpec) -> ModelState:
        region = self.region_for(spec)
        listed = None if self.offline else self._listing(region)
        if listed is None:
            return ModelState(spec.model_id, _builtin_status(spec), region, "built-in")
        status = listed.get(bare_id(spec.model_id))
        if status is None:
            # Not offered in this region (or gone): keep "end-of-life" if we know it is.
            gone: State = "end-of-life" if spec.status == "end-of-life" else "unavailable"
            return ModelState(spec.model_id, gone, region, "bedrock")
        known: State = "legacy" if status.upper() == "LEGACY" else "active"
        return ModelState(spec.model_id, known, region, "bedrock")

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
