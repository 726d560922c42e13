"""Which model performs each edit operation for the configured model family. Pure.

=====================  =========================  ==========================================
operation              Nova family                Stability family
=====================  =========================  ==========================================
vary                   IMAGE_VARIATION            image-to-image (SD3.5 Large or Ultra)
remove-background      BACKGROUND_REMOVAL         Stable Image Remove Background
edit                   INPAINTING + maskPrompt    Stable Image Search and Replace
extend                 OUTPAINTING + maskImage    Stable Image Outpaint
upscale                (none: use Stability)      Stable Image Fast Upscale (4x)
=====================  =========================  ==========================================

Nova 2 Omni (Converse) does ``vary`` and ``edit`` itself: the source image goes in an image
block with the instruction in words (``--mask-prompt`` is optional); the other operations
name a family that does them.

Offline, every operation is the offline generator's deterministic stand-in.
"""

from __future__ import annotations

from dataclasses import dataclass

from gallery_kit.bedrock.families import (
    OFFLINE_MODEL,
    RECOMMENDED_MODEL_ID,
    RECOMMENDED_REGION,
    ModelSpec,
    card_for,
    get_model,
)
from gallery_kit.bedrock.families import stability_services as st
from gallery_kit.errors import ConfigError, InvalidRequest

OPERATIONS = ("vary", "remove-background", "edit", "extend", "upscale")
#: Operations whose request takes a seed (the others are deterministic services).
SEEDED = frozenset({"vary", "edit", "extend"})

_STABILITY_SERVICES = {
    "remove-background": st.REMOVE_BACKGROUND_ID,
    "edit": st.SEARCH_REPLACE_ID,
    "extend": st.OUTPAINT_ID,
    "upscale": st.FAST_UPSCALE_ID,
}


@dataclass(frozen=True, slots=True)
class Route:
    """Which model performs an operation, and which request it is."""

    operation: str
    spec: ModelSpec
    #: "nova", "image-to-image", "service", "converse" or "offline".
    kind: str

    @property
    def seeded(self) -> bool:
        return self.operation in SEEDED and self.spec.takes_seed


# --- routing ------------------------------------------------------------------------------------


def route_for(operation: str, configured_model_id: str, *, offline: bool = False) -> Route:
    """The model that does ``operation`` when ``configured_model_id`` is the chosen model."""
    if operation not in OPERATIONS:
        raise InvalidRequest(
            f"Unknown operation {operation!r}; use one of: {', '.join(OPERATIONS)}."
        )
    configured = card_for(configured_model_id)  # an unknown id is a ConfigError, offline too
    if offline:
        return Route(operation, OFFLINE_MODEL, "offline")
    if configured.family == "nova":
        if operation == "upscale":
            raise InvalidRequest(
                f"{configured.name} cannot upscale; Stability's Fast Upscale service "
                f"({st.FAST_UPSCALE_ID}) can: set BEDROCK_MODEL_ID={RECOMMENDED_MODEL_ID} and "
                f"BEDROCK_REGION={RECOMMENDED_REGION}, then run upscale again."
            )
        return Route(operation, configured, "nova")
    if configured.family == "nova-omni":
        if operation in ("vary", "edit"):
            return Route(operation, configured, "converse")
        raise InvalidRequest(
            f"{configured.name} cannot {operation.replace('-', ' ')} on its own; Stability's "
            f"image services can: set BEDROCK_MODEL_ID={RECOMMENDED_MODEL_ID} (or pass --model "
            f"{RECOMMENDED_MODEL_ID}), then run {operation} again."
        )
    if configured.family != "stability":
        raise ConfigError(f"{configured.name} cannot edit images; set BEDROCK_MODEL_ID.")
    if operation == "vary":
        if st.bare_id(configured.model_id) in st.IMAGE_TO_IMAGE_IDS:
            return Route(operation, configured, "image-to-image")
        # Stable Image Core has no image input: SD3.5 Large does (same profile prefix).
        prefix = configured.model_id[
            : len(configured.model_id) - len(st.bare_id(configured.model_id))
        ]
        return Route(operation, get_model(prefix + st.SD35_LARGE_ID), "image-to-image")
    return Route(operation, st.SERVICES[_STABILITY_SERVICES[operation]], "service")


def available_operations(
    configured_model_id: str, *, offline: bool = False
) -> dict[str, str | None]:
    """For the lightbox buttons: each operation -> None when available, else why not (a message
    naming the setting to change)."""
    out: dict[str, str | None] = {}
    for operation in OPERATIONS:
        try:
            route_for(operation, configured_model_id, offline=offline)
        except (InvalidRequest, ConfigError) as exc:
            out[operation] = str(exc)
        else:
            out[operation] = None
    return out
