"""One Generate, in the core's terms: the request, a model's card, the images that come back,
and the two seams a generator implements (:class:`ImageGenerator`; :class:`Adapter` per Bedrock
request family).

All of it is pure: no boto3 here. :func:`validate` checks a request against a model card's
documented limits; an adapter (``bedrock.families``) turns a validated request into request
bodies and a response back into images.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal, Protocol

from gallery_kit.errors import InvalidRequest

Family = Literal["nova", "stability", "nova-omni", "offline"]
#: A model's lifecycle state on a given day (see :meth:`ModelSpec.status_on`).
Status = Literal["active", "legacy", "end-of-life", "preview"]

#: The original guide's model: the default wherever it can still be called.
DEFAULT_MODEL_ID = "amazon.nova-canvas-v1:0"
#: The model we point people to when theirs is gone: Active in Bedrock's lifecycle table.
RECOMMENDED_MODEL_ID = "stability.stable-image-core-v1:1"
RECOMMENDED_REGION = "us-west-2"
#: Families called through the Converse API (the others through InvokeModel).
CONVERSE_FAMILIES = frozenset({"nova-omni"})
#: With BEDROCK_MODEL_ID unset, the first of these that can be called is the default.
DEFAULT_ORDER = (
    DEFAULT_MODEL_ID,
    RECOMMENDED_MODEL_ID,
    "stability.stable-image-ultra-v1:1",
    "stability.sd3-5-large-v1:0",
)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """The facts about one model that validation, pricing and the UI need."""

    model_id: str
    name: str
    family: Family
    default_region: str
    #: AWS's lifecycle dates: Legacy from ``legacy_on``, gone from ``end_of_life``.
    legacy_on: date | None = None
    end_of_life: date | None = None
    #: A preview model: listed and callable by accounts with preview access, never the default.
    preview: bool = False
    max_prompt: int = 1024
    max_count: int = 5
    seed_max: int = 2_147_483_646
    #: Random seeds are drawn from 0..this. AWS's own Nova Canvas examples stay under
    #: 858,993,459 although the request accepts more; we draw where both agree.
    random_seed_max: int = 858_993_459
    cfg_range: tuple[float, float] | None = (1.1, 10.0)
    cfg_default: float | None = 6.5
    styles: tuple[str, ...] = ()
    qualities: tuple[str, ...] = ("standard", "premium")
    side_range: tuple[int, int] = (320, 4096)
    side_multiple: int = 16
    #: AWS: "The total pixel count must be less than 4,194,304" (so 2048x2048 is refused).
    max_pixels: int | None = 4_194_304
    #: Dollars per image: ((max pixels, {quality: price}), ...) in ascending pixel order.
    prices: tuple[tuple[int, dict[str, float]], ...] = ()
    #: True where the price is our estimate (e.g. a per-token price turned into one per image).
    price_is_estimate: bool = False
    #: What the request can say. A model that takes no width/height is asked for an aspect
    #: ratio in words (``takes_size`` False) and the size it returns is recorded.
    takes_size: bool = True
    takes_seed: bool = True
    takes_negative: bool = True
    notes: str = ""

    def status_on(self, today: date) -> Status:
        """The lifecycle state on ``today`` (UTC), from the dates in AWS's lifecycle table."""
        if self.end_of_life is not None and today >= self.end_of_life:
            return "end-of-life"
        if self.legacy_on is not None and today >= self.legacy_on:
            return "legacy"
        return "preview" if self.preview else "active"

    def price_per_image(self, width: int, height: int, quality: str = "standard") -> float | None:
        for max_px, by_quality in self.prices:
            if width * height <= max_px:
                return by_quality.get(quality, by_quality.get("standard"))
        return None


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """One click of Generate: the prompt and every setting, before or after validation."""

    prompt: str
    negative_prompt: str | None = None
    style: str | None = None
    width: int = 1024
    height: int = 1024
    quality: str = "standard"
    count: int = 1
    seed: int | None = None
    cfg_scale: float | None = None
    #: Empty: the gallery's default model (a live one; see ModelCatalog.default_choice).
    model_id: str = ""
    #: The gallery drew ``seed`` (a random seed): never matched as a duplicate request.
    seed_drawn: bool = field(default=False, compare=False)

    def with_(self, **changes: Any) -> GenerationRequest:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class ModelImage:
    """One image as the model returned it: the original bytes, never re-encoded."""

    data: bytes
    seed: int | None
    index: int = 0
    #: Text the model said beside the image (Converse models), kept in the record.
    note: str | None = None


@dataclass(slots=True)
class ModelOutput:
    """What one or more model calls delivered."""

    images: list[ModelImage] = field(default_factory=list)
    #: Human-readable notes, e.g. "2 of 3 images were blocked by the content filters".
    warnings: list[str] = field(default_factory=list)


class Adapter(Protocol):
    """One request family (Nova Canvas + Titan, Stability, ...): pure body building and parsing."""

    def bodies(self, spec: ModelSpec, request: GenerationRequest) -> list[dict[str, Any]]:
        """The JSON bodies for one validated request (one per InvokeModel call)."""
        ...

    def parse(
        self, spec: ModelSpec, request: GenerationRequest, body: dict[str, Any], response: Any
    ) -> ModelOutput:
        """Decode one response; raise ContentFiltered / ModelFailed when it holds no image."""
        ...


# --- validation -----------------------------------------------------------------------------

_ALLOWED_CONTROLS = {"\n", "\r", "\t"}


def _check_text(label: str, flag: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise InvalidRequest(
            f"{label} is {len(text)} characters; {limit} is the limit for this model "
            f"- shorten it ({flag})."
        )
    for pos, ch in enumerate(text):
        if unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS:
            raise InvalidRequest(
                f"{label} contains the control character U+{ord(ch):04X} at position {pos + 1}; "
                f"remove it ({flag})."
            )


def validate(spec: ModelSpec, request: GenerationRequest) -> GenerationRequest:
    """Check ``request`` against ``spec``'s documented limits; return it normalised.

    Normalised means: prompts trimmed, a blank negative prompt dropped (AWS rejects an empty
    ``negativeText``), the model's default cfg scale filled in. The seed stays as given; the
    generator picks a random one when it is ``None`` and records it.
    """
    prompt = request.prompt.strip() if isinstance(request.prompt, str) else ""
    if not prompt:
        raise InvalidRequest("The prompt is empty; describe the image you want (PROMPT).")
    _check_text("The prompt", "PROMPT", prompt, spec.max_prompt)

    negative = (request.negative_prompt or "").strip() or None
    if negative is not None and not spec.takes_negative:
        raise InvalidRequest(
            f"{spec.name} takes no negative prompt; say what to leave out in the prompt "
            "(--negative-prompt)."
        )
    if negative is not None:
        _check_text("The negative prompt", "--negative-prompt", negative, spec.max_prompt)

    style = request.style or None
    if style is not None:
        style = style.strip().upper().replace(" ", "_").replace("-", "_")
        if not spec.styles:
            raise InvalidRequest(f"{spec.name} has no styles; leave --style unset.")
        if style not in spec.styles:
            raise InvalidRequest(
                f"Unknown style {request.style!r} for {spec.name}; use one of: "
                + ", ".join(spec.styles)
                + " (--style)."
            )

    width, height = request.width, request.height
    low, high = spec.side_range
    for name, side in (("width", width), ("height", height)):
        if not isinstance(side, int) or isinstance(side, bool):
            raise InvalidRequest(f"The {name} must be a whole number of pixels (--{name}).")
        if not low <= side <= high:
            raise InvalidRequest(
                f"The {name} {side} is outside {low}-{high} pixels for {spec.name} (--{name})."
            )
        if spec.side_multiple > 1 and side % spec.side_multiple:
            nearest = round(side / spec.side_multiple) * spec.side_multiple
            raise InvalidRequest(
                f"The {name} {side} is not divisible by {spec.side_multiple}; "
                f"try {nearest} (--{name})."
            )
    if max(width, height) > 4 * min(width, height):
        raise InvalidRequest(
            f"The aspect ratio {width}x{height} is beyond 1:4 or 4:1; "
            "bring width and height closer (--width/--height)."
        )
    if spec.max_pixels is not None and width * height >= spec.max_pixels:
        raise InvalidRequest(
            f"{width}x{height} is {width * height:,} pixels; {spec.name} needs fewer than "
            f"{spec.max_pixels:,} (e.g. 2048x2032); make the image smaller (--width/--height)."
        )

    quality = (request.quality or "standard").strip().lower()
    if quality not in spec.qualities:
        raise InvalidRequest(
            f"Unknown quality {request.quality!r}; use one of: {', '.join(spec.qualities)} "
            "(--quality)."
        )

    count = request.count
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= spec.max_count:
        raise InvalidRequest(
            f"The number of images {count} is outside 1-{spec.max_count} (--count)."
        )

    seed = request.seed
    if seed is not None and not spec.takes_seed:
        raise InvalidRequest(f"{spec.name} takes no seed; leave --seed unset.")
    if seed is not None and (
        not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= spec.seed_max
    ):
        raise InvalidRequest(
            f"The seed {seed} is outside 0-{spec.seed_max:,} for {spec.name}; "
            "pick one in range or leave it unset for a random seed (--seed)."
        )

    cfg = request.cfg_scale
    if spec.cfg_range is None:
        cfg = None
    else:
        if cfg is None:
            cfg = spec.cfg_default
        lo, hi = spec.cfg_range
        if not isinstance(cfg, int | float) or isinstance(cfg, bool) or not lo <= cfg <= hi:
            raise InvalidRequest(
                f"The cfg scale {cfg} is outside {lo}-{hi} for {spec.name} (--cfg-scale)."
            )
        cfg = float(cfg)

    return replace(
        request,
        prompt=prompt,
        negative_prompt=negative,
        style=style,
        quality=quality,
        cfg_scale=cfg,
        model_id=spec.model_id,
    )


def carry_over(request: GenerationRequest, spec: ModelSpec) -> tuple[GenerationRequest, list[str]]:
    """``request`` for another model: the settings ``spec`` lacks are dropped (and named).

    Used when switching a failed request to a live model: the prompt, size and count carry
    over; a style, quality, cfg scale, seed or negative prompt the new model cannot take goes.
    """
    dropped: list[str] = []
    changes: dict[str, Any] = {"model_id": spec.model_id}
    if request.style and request.style not in spec.styles:
        dropped.append(f"style {request.style}")
        changes["style"] = None
    if request.quality not in spec.qualities:
        dropped.append(f"quality {request.quality}")
        changes["quality"] = spec.qualities[0]
    cfg = request.cfg_scale
    if cfg is not None and (
        spec.cfg_range is None or not spec.cfg_range[0] <= cfg <= spec.cfg_range[1]
    ):
        dropped.append(f"cfg scale {cfg:g}")
        changes["cfg_scale"] = None  # validate() fills in the new model's default, if any
    if request.negative_prompt and not spec.takes_negative:
        dropped.append("the negative prompt")
        changes["negative_prompt"] = None
    if request.seed is not None and (not spec.takes_seed or request.seed > spec.seed_max):
        dropped.append(f"seed {request.seed}")
        changes["seed"] = None
    if request.count > spec.max_count:
        dropped.append(f"{request.count - spec.max_count} of the {request.count} images")
        changes["count"] = spec.max_count
    return replace(request, **changes), dropped


class ImageGenerator(Protocol):
    """Turns a validated request (seed chosen) into images."""

    #: True for generators that never reach AWS (the UI says so).
    offline: bool

    def recorded_model_id(self, spec: ModelSpec) -> str:
        """The model id written into each image's record."""
        ...

    def invoke(self, spec: ModelSpec, request: GenerationRequest) -> ModelOutput: ...
