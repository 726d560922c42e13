"""Stability AI text-to-image through InvokeModel (Stable Image Core and Ultra, SD3.5 Large).

Also the facts the Stability families share (the image services reuse them): aspect ratios and
their output sizes, seed and prompt limits, output formats, the inference-profile prefixes, and
the answer shape ``{"seeds": [...], "finish_reasons": [...], "images": [...]}``, one image per
call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from tests.support.bedrock.checks import Checker
from tests.support.bedrock.images import Plan
from tests.support.bedrock.replies import Answer, Reply

__all__ = ["STABILITY_ASPECT_SIZES", "STABILITY_T2I", "answer", "check", "strip_profile"]


STABILITY_T2I = {
    "stability.stable-image-core-v1:1": "core",
    "stability.stable-image-ultra-v1:1": "ultra",
    "stability.sd3-5-large-v1:0": "sd35",
}

#: [AWS doc] aspect_ratio enum "16:9, 1:1, 21:9, 2:3, 3:2, 4:5, 5:4, 9:16, 9:21", default 1:1.
#: Sizes: ~1 megapixel, multiples of 64 (Stability's own output sizes; 1:1 -> 1024x1024).
STABILITY_ASPECT_SIZES: dict[str, tuple[int, int]] = {
    "16:9": (1344, 768),
    "1:1": (1024, 1024),
    "21:9": (1536, 640),
    "2:3": (832, 1216),
    "3:2": (1216, 832),
    "4:5": (896, 1088),
    "5:4": (1088, 896),
    "9:16": (768, 1344),
    "9:21": (640, 1536),
}
STABILITY_SEED_MAX = 4_294_967_294  # [AWS doc] SD3.5 Large "Range 0 to 4294967294"
STABILITY_PROMPT_MAX = 10_000  # [AWS doc] "Maximum 10,000 characters"
#: [unverified] png|jpeg; webp is not documented for Bedrock in anything found.
STABILITY_FORMATS = ("png", "jpeg")

#: [AWS doc] model-parameters-diffusion-stable-ultra-text-image-request-response.html:
#: "Filter reason: prompt", "Filter reason: output image", "Filter reason: input image",
#: "Inference error", null.
STABILITY_FILTER_PROMPT = "Filter reason: prompt"
STABILITY_FILTER_OUTPUT = "Filter reason: output image"


#: Inference-profile prefixes accepted in front of the Stability ids (US profiles are the only
#: ones seen for these models).
STABILITY_PROFILE_PREFIXES: tuple[str, ...] = ("us.",)


def strip_profile(model_id: str) -> str:
    """The model id without its inference-profile prefix."""
    for prefix in STABILITY_PROFILE_PREFIXES:
        if model_id.startswith(prefix):
            return model_id[len(prefix) :]
    return model_id


def seed_of(seed: int | None, salt: str) -> tuple[int, bool]:
    """The seed an answer reports and whether it was given (else drawn from ``salt``)."""
    if seed:  # 0 means "random" [AWS doc]
        return seed, True
    digest = hashlib.sha256(salt.encode()).digest()
    return int.from_bytes(digest[:4], "big") % STABILITY_SEED_MAX + 1, False


def check(model_id: str, body: Any, c: Checker, small: bool) -> Plan | None:
    """The plan of the ok answer to ``body``, or None (the errors are in ``c``)."""
    variant = STABILITY_T2I[strip_profile(model_id)]
    fields = ["prompt", "negative_prompt", "aspect_ratio", "seed", "output_format"]
    if variant in ("sd35", "ultra"):
        fields += ["mode", "image", "strength"]
    b = c.obj(body, "#", required=["prompt"], optional=fields[1:])
    if b is None:
        return None
    prompt = c.string(b, "prompt", "#", min_len=1, max_len=STABILITY_PROMPT_MAX) or ""
    c.string(b, "negative_prompt", "#", max_len=STABILITY_PROMPT_MAX)
    aspect = c.string(b, "aspect_ratio", "#", enum=STABILITY_ASPECT_SIZES)
    seed = c.integer(b, "seed", "#", lo=0, hi=STABILITY_SEED_MAX)
    fmt = c.string(b, "output_format", "#", enum=STABILITY_FORMATS) or "png"
    # [AWS doc] SD3.5 Large: mode "text-to-image" | "image-to-image"; image-to-image requires
    # prompt, image and strength. Stable Image Ultra: mode's enum is only "text-to-image"; its
    # image-to-image request is prompt + image (+ strength, default 0.35), with no mode.
    modes = ("text-to-image",) if variant == "ultra" else ("text-to-image", "image-to-image")
    mode = c.string(b, "mode", "#", enum=modes)
    c.number(b, "strength", "#", lo=0.0, hi=1.0)
    source = c.image(b, "image", "#")
    img2img = mode == "image-to-image" or (variant == "ultra" and "image" in b)
    if img2img:
        for key in ("image",) if variant == "ultra" else ("image", "strength"):
            if key not in b:
                c.add("#", f"required key [{key}] not found (image-to-image)")
        if "aspect_ratio" in b:
            c.add("#/aspect_ratio", "is only valid for text-to-image requests")
        if source is not None and min(source.size) < 64:
            c.add("#/image", f"image sides must be at least 64 px, got {source.size}")
    else:
        for key in ("image", "strength"):
            if key in b:
                c.add(f"#/{key}", "is only valid when mode is image-to-image")
    if c.errors:
        return None
    if img2img and source is not None:
        w, h = (max(64, source.size[0] // 64 * 64), max(64, source.size[1] // 64 * 64))
    else:
        w, h = STABILITY_ASPECT_SIZES[aspect or "1:1"]
    if small:
        w, h = w // 8, h // 8
    real_seed, given = seed_of(seed, f"{model_id}|{prompt}")
    return Plan(1, w, h, real_seed, fmt, False, given, f"{model_id}|{prompt}")


def answer(reply: Reply, plan: Plan, image: Callable[[Plan, int], str]) -> Answer:
    """The answer to a valid request, as ``reply`` scripts it (``image`` renders one, base64)."""
    kind = reply.kind
    if kind == "no_images":
        return {}
    if kind == "bad_base64":
        return {"seeds": [plan.seed], "finish_reasons": [None], "images": ["not base64!!"]}
    if kind in ("filtered_all", "filtered_some"):
        reason = STABILITY_FILTER_PROMPT if kind == "filtered_all" else STABILITY_FILTER_OUTPUT
        return {"finish_reasons": [reason]}
    return {"seeds": [plan.seed], "finish_reasons": [None], "images": [image(plan, 0)]}
