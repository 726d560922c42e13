"""Stability AI Image Services through InvokeModel: one request family, one spec per service.

[AWS doc] stable-image-services (Bedrock user guide): the required and optional parameters of
each service, called with the "us." inference-profile ids that AWS's own examples use.
Search-recolor, erase, control, style and creative services are modelled from the same page but
not used by gallery_kit. Answers have the text-to-image shape (``stability.answer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.support.bedrock.checks import Checker
from tests.support.bedrock.images import Plan
from tests.support.bedrock.stability import (
    STABILITY_ASPECT_SIZES,
    STABILITY_FORMATS,
    STABILITY_PROMPT_MAX,
    STABILITY_SEED_MAX,
    seed_of,
    strip_profile,
)

__all__ = ["STABILITY_SERVICES", "check"]

_STYLE_PRESETS = (
    "3d-model", "analog-film", "anime", "cinematic", "comic-book", "digital-art", "enhance",
    "fantasy-art", "isometric", "line-art", "low-poly", "modeling-compound", "neon-punk",
    "origami", "photographic", "pixel-art", "tile-texture",
)  # fmt: skip


@dataclass(frozen=True)
class _Service:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    images: tuple[str, ...] = ("image",)
    grow_mask_max: int = 20
    creativity: tuple[float, float] = (0.0, 1.0)
    scale: int = 1
    transparent: bool = False
    # [AWS doc] stable-image-services: "Every side of the image must be at least 64 pixels.
    # The total pixel count cannot exceed 9,437,184 pixels. Image aspect ratio must be between
    # 1:2.5 and 2.5:1." (Fast Upscale and Creative Upscale have their own limits, below.)
    min_side: int = 64
    max_side: int | None = None
    min_pixels: int | None = None
    max_pixels: int | None = 9_437_184
    max_aspect: float | None = 2.5


_COMMON = ("seed", "output_format")
STABILITY_SERVICES: dict[str, _Service] = {
    "stability.stable-image-remove-background-v1:0": _Service(
        ("image",), ("output_format",), transparent=True
    ),
    "stability.stable-image-search-replace-v1:0": _Service(
        ("image", "prompt", "search_prompt"),
        ("negative_prompt", "grow_mask", "style_preset", *_COMMON),
        grow_mask_max=20,
    ),
    "stability.stable-image-search-recolor-v1:0": _Service(
        ("image", "prompt", "select_prompt"),
        ("negative_prompt", "grow_mask", "style_preset", *_COMMON),
        grow_mask_max=20,
    ),
    "stability.stable-image-inpaint-v1:0": _Service(
        ("image", "prompt"),
        ("mask", "negative_prompt", "grow_mask", "style_preset", *_COMMON),
        images=("image", "mask"),
    ),
    "stability.stable-image-erase-object-v1:0": _Service(
        ("image",), ("mask", "grow_mask", *_COMMON), images=("image", "mask"), grow_mask_max=20
    ),
    # [AWS doc] creativity "Range between 0.1 and 1.0. Default 0.5"; margins 0-2000.
    "stability.stable-outpaint-v1:0": _Service(
        ("image",),
        ("left", "right", "up", "down", "prompt", "creativity", "style_preset", *_COMMON),
        creativity=(0.1, 1.0),
    ),
    # [AWS doc] "Width must be between 32 and 1,536 pixels. Height must be between 32 and 1,536
    # pixels. Total pixel count must be between 1,024 and 1,048,576 pixels." 4x the resolution.
    "stability.stable-fast-upscale-v1:0": _Service(
        ("image",),
        ("output_format",),
        scale=4,
        min_side=32,
        max_side=1536,
        min_pixels=1024,
        max_pixels=1_048_576,
        max_aspect=None,
    ),
    # [AWS doc] creativity "Range between 0.1 and 0.5. Default 0.35".
    "stability.stable-conservative-upscale-v1:0": _Service(
        ("image", "prompt"), ("negative_prompt", "creativity", *_COMMON), creativity=(0.1, 0.5)
    ),
    # [AWS doc] "Total pixel count must be between 4,096 and 1,048,576 pixels."
    "stability.stable-creative-upscale-v1:0": _Service(
        ("image", "prompt"),
        ("negative_prompt", "creativity", "style_preset", *_COMMON),
        creativity=(0.1, 0.5),
        min_pixels=4096,
        max_pixels=1_048_576,
        max_aspect=None,
    ),
    "stability.stable-image-control-sketch-v1:0": _Service(
        ("image", "prompt"), ("control_strength", "negative_prompt", "style_preset", *_COMMON)
    ),
    "stability.stable-image-control-structure-v1:0": _Service(
        ("image", "prompt"), ("control_strength", "negative_prompt", "style_preset", *_COMMON)
    ),
    "stability.stable-image-style-guide-v1:0": _Service(
        ("image", "prompt"),
        ("negative_prompt", "aspect_ratio", "fidelity", "style_preset", *_COMMON),
    ),
    "stability.stable-style-transfer-v1:0": _Service(
        ("init_image", "style_image"),
        (
            "prompt",
            "negative_prompt",
            "style_strength",
            "composition_fidelity",
            "change_strength",
            *_COMMON,
        ),
        images=("init_image", "style_image"),
    ),
}


def check(model_id: str, body: Any, c: Checker, small: bool) -> Plan | None:
    """The plan of the ok answer to ``body``, or None (the errors are in ``c``)."""
    spec = STABILITY_SERVICES[strip_profile(model_id)]
    b = c.obj(body, "#", required=spec.required, optional=spec.optional)
    if b is None:
        return None
    decoded = {key: c.image(b, key, "#") for key in spec.images}
    prompt = ""
    for key in ("prompt", "search_prompt", "select_prompt"):
        prompt += c.string(b, key, "#", min_len=1, max_len=STABILITY_PROMPT_MAX) or ""
    c.string(b, "negative_prompt", "#", max_len=STABILITY_PROMPT_MAX)
    c.string(b, "style_preset", "#", enum=_STYLE_PRESETS)
    c.string(b, "aspect_ratio", "#", enum=STABILITY_ASPECT_SIZES)
    fmt = c.string(b, "output_format", "#", enum=STABILITY_FORMATS) or "png"
    seed = c.integer(b, "seed", "#", lo=0, hi=STABILITY_SEED_MAX)
    c.integer(b, "grow_mask", "#", lo=0, hi=spec.grow_mask_max)
    c.number(b, "creativity", "#", lo=spec.creativity[0], hi=spec.creativity[1])
    for key in ("control_strength", "fidelity", "style_strength", "composition_fidelity"):
        c.number(b, key, "#", lo=0.0, hi=1.0)
    c.number(b, "change_strength", "#", lo=0.1, hi=1.0)
    margins = [
        c.integer(b, key, "#", lo=0, hi=2000) or 0 for key in ("left", "right", "up", "down")
    ]
    if model_id.endswith("stable-outpaint-v1:0") and not c.errors and not any(margins):
        c.add("#", "at least one of [left, right, up, down] must be greater than 0")
    source = decoded.get(spec.images[0])
    if source is not None:
        _check_service_image(spec, source.size, f"#/{spec.images[0]}", c)
    if c.errors or source is None:
        return None
    w = (source.size[0] + margins[0] + margins[1]) * spec.scale
    h = (source.size[1] + margins[2] + margins[3]) * spec.scale
    if small:
        w, h = max(8, w // 8), max(8, h // 8)
    real_seed, given = seed_of(seed, f"{model_id}|{prompt}")
    return Plan(1, w, h, real_seed, fmt, spec.transparent, given, model_id + prompt)


def _check_service_image(spec: _Service, size: tuple[int, int], path: str, c: Checker) -> None:
    w, h = size
    if min(w, h) < spec.min_side:
        c.add(path, f"image sides must be at least {spec.min_side} px, got {size}")
    if spec.max_side is not None and max(w, h) > spec.max_side:
        c.add(path, f"image sides must be at most {spec.max_side} px, got {size}")
    if spec.min_pixels is not None and w * h < spec.min_pixels:
        c.add(path, f"total pixel count {w * h} must be at least {spec.min_pixels}")
    if spec.max_pixels is not None and w * h > spec.max_pixels:
        c.add(path, f"total pixel count {w * h} must be at most {spec.max_pixels}")
    if spec.max_aspect is not None and max(w, h) > spec.max_aspect * min(w, h):
        c.add(path, f"aspect ratio of {w}x{h} is outside 1:2.5 to 2.5:1")
