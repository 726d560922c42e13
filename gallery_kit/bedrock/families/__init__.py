"""The image models gallery_kit knows (``MODELS``, their cards and lifecycle dates) and one
module per Bedrock request family, with the adapter for each. Pure: no boto3.

A new family: a module here with ``bodies``/``parse`` (see :class:`gallery_kit.generation.Adapter`),
its cards in ``MODELS``, its adapter in ``_ADAPTERS``; Converse families also in
``CONVERSE_FAMILIES``. May import the core only.
"""

from __future__ import annotations

from datetime import date

from gallery_kit.bedrock.families.nova_canvas import STYLES as NOVA_STYLES
from gallery_kit.bedrock.families.nova_canvas import NovaCanvasAdapter
from gallery_kit.bedrock.families.nova_omni import (
    NOVA_OMNI_ID,
    NOVA_OMNI_PRICE_ESTIMATE,
    NOVA_OMNI_PROMPT_MAX,
    NovaOmniAdapter,
)
from gallery_kit.bedrock.families.stability import SEED_MAX as STABILITY_SEED_MAX
from gallery_kit.bedrock.families.stability import StabilityAdapter
from gallery_kit.errors import ConfigError
from gallery_kit.generation import (
    CONVERSE_FAMILIES,
    DEFAULT_MODEL_ID,
    DEFAULT_ORDER,
    RECOMMENDED_MODEL_ID,
    RECOMMENDED_REGION,
    Adapter,
    GenerationRequest,
    ModelImage,
    ModelOutput,
    ModelSpec,
    Status,
    carry_over,
    validate,
)

__all__ = [
    "CONVERSE_FAMILIES",
    "DEFAULT_MODEL_ID",
    "DEFAULT_ORDER",
    "MODELS",
    "RECOMMENDED_MODEL_ID",
    "RECOMMENDED_REGION",
    "Adapter",
    "GenerationRequest",
    "ModelImage",
    "ModelOutput",
    "ModelSpec",
    "Status",
    "adapter_for",
    "card_for",
    "carry_over",
    "get_model",
    "validate",
]

_NOVA_PRICES = (
    (1024 * 1024, {"standard": 0.04, "premium": 0.06}),
    (2048 * 2048, {"standard": 0.06, "premium": 0.08}),
)

_STABILITY = {
    "family": "stability",
    "default_region": "us-west-2",
    "max_prompt": 10_000,
    "max_count": 5,  # one image per call; we make up to five calls at once
    "seed_max": STABILITY_SEED_MAX,
    "random_seed_max": STABILITY_SEED_MAX,
    "cfg_range": None,
    "cfg_default": None,
    "qualities": ("standard",),
    "side_multiple": 1,
    "max_pixels": None,
}

_NOVA_OMNI = {
    "max_prompt": NOVA_OMNI_PROMPT_MAX,
    "max_count": 5,  # one image per call; we make up to five calls at once
    "cfg_range": None,
    "cfg_default": None,
    "qualities": ("standard",),
    "side_multiple": 1,
    "max_pixels": None,
    "takes_size": False,
    "takes_seed": False,
    "takes_negative": False,
    "prices": ((2**31, {"standard": NOVA_OMNI_PRICE_ESTIMATE}),),
    "price_is_estimate": True,
}

MODELS: dict[str, ModelSpec] = {
    spec.model_id: spec
    for spec in (
        ModelSpec(
            model_id="amazon.nova-canvas-v1:0",
            name="Amazon Nova Canvas",
            family="nova",
            default_region="us-east-1",
            legacy_on=date(2026, 3, 30),
            end_of_life=date(2026, 9, 30),
            styles=NOVA_STYLES,
            prices=_NOVA_PRICES,
            notes="Legacy from 2026-03-30, end of life 2026-09-30 (AWS lifecycle table).",
        ),
        ModelSpec(
            model_id="amazon.titan-image-generator-v2:0",
            name="Amazon Titan Image Generator v2",
            family="nova",
            default_region="us-east-1",
            end_of_life=date(2026, 6, 30),
            cfg_default=8.0,
            max_prompt=512,
            prices=((1024 * 1024, {"standard": 0.008, "premium": 0.01}),),
            notes="End of life 2026-06-30.",
        ),
        ModelSpec(
            model_id="stability.stable-image-core-v1:1",
            name="Stable Image Core",
            prices=((2**31, {"standard": 0.04}),),
            notes="Active; fast and inexpensive.",
            **_STABILITY,  # type: ignore[arg-type]  # the dict's values match the fields
        ),
        ModelSpec(
            model_id="stability.stable-image-ultra-v1:1",
            name="Stable Image Ultra",
            prices=((2**31, {"standard": 0.14}),),
            notes="Active; highest quality.",
            **_STABILITY,  # type: ignore[arg-type]  # the dict's values match the fields
        ),
        ModelSpec(
            model_id="stability.sd3-5-large-v1:0",
            name="Stable Diffusion 3.5 Large",
            prices=((2**31, {"standard": 0.08}),),
            notes="Active.",
            **_STABILITY,  # type: ignore[arg-type]  # the dict's values match the fields
        ),
        *(
            ModelSpec(
                model_id=profile + NOVA_OMNI_ID,
                name="Amazon Nova 2 Omni",
                family="nova-omni",
                default_region="us-west-2",
                preview=True,
                notes="Preview: needs preview access (through your AWS account team); "
                "called through the Converse API; price per output token (estimate).",
                **_NOVA_OMNI,  # type: ignore[arg-type]  # the dict's values match the fields
            )
            for profile in ("us.", "global.")
        ),
    )
}

#: The offline generator's card: Nova Canvas's limits, so offline validation matches AWS's.
OFFLINE_MODEL = ModelSpec(
    model_id="offline",
    name="Offline placeholder generator",
    family="offline",
    default_region="",
    styles=NOVA_STYLES,
    notes="Deterministic placeholder images made on this machine; not AI output.",
)

_ADAPTERS: dict[str, Adapter] = {
    "nova": NovaCanvasAdapter(),
    "stability": StabilityAdapter(),
    "nova-omni": NovaOmniAdapter(),
}

# Cross-region inference profiles put a geography in front of the id ("us.stability....").
_PROFILE_PREFIXES = ("us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca.")


def get_model(model_id: str) -> ModelSpec:
    """The card for ``model_id`` (an inference-profile prefix is allowed)."""
    model_id = model_id.strip()
    spec = MODELS.get(model_id)
    if spec is None:
        for prefix in _PROFILE_PREFIXES:
            if model_id.startswith(prefix) and model_id[len(prefix) :] in MODELS:
                from dataclasses import replace

                return replace(MODELS[model_id[len(prefix) :]], model_id=model_id)
        raise ConfigError(
            f"Unknown image model {model_id!r}; set BEDROCK_MODEL_ID (or --model) to one of: "
            + ", ".join(MODELS)
            + f" ({RECOMMENDED_MODEL_ID} is Active in {RECOMMENDED_REGION})."
        )
    return spec


def card_for(model_id: str) -> ModelSpec:
    """The card of any model gallery_kit calls: a Stability image service (by its id with or
    without a geography prefix) or one of :data:`MODELS` (see :func:`get_model`)."""
    from gallery_kit.bedrock.families.stability_services import SERVICES, bare_id

    bare = bare_id(model_id.strip())
    for service in SERVICES.values():
        if bare_id(service.model_id) == bare:
            return service
    return get_model(model_id)


def adapter_for(spec: ModelSpec) -> Adapter:
    return _ADAPTERS[spec.family]
