"""Stability AI text-to-image on Bedrock (Stable Image Core / Ultra, SD3.5 Large).

One image per call, so a request for N images becomes N bodies (run concurrently by the
generator). Width and height map to the nearest documented aspect ratio.
"""

from __future__ import annotations

import math
from typing import Any, NotRequired, TypedDict

from gallery_kit.bedrock.families._decode import decode_images, require_dict
from gallery_kit.errors import ContentFiltered, ModelFailed
from gallery_kit.generation import GenerationRequest, ModelImage, ModelOutput, ModelSpec

ASPECT_RATIOS = ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")
SEED_MAX = 4_294_967_294


class StabilityBody(TypedDict):
    prompt: str
    aspect_ratio: str
    seed: int
    output_format: str
    negative_prompt: NotRequired[str]


def nearest_aspect_ratio(width: int, height: int, ratios: tuple[str, ...] = ASPECT_RATIOS) -> str:
    """The ratio of ``ratios`` ("W:H") closest to width:height (compared on a log scale)."""
    target = math.log(width / height)

    def distance(ratio: str) -> float:
        w, h = (int(x) for x in ratio.split(":"))
        return abs(math.log(w / h) - target)

    return min(ratios, key=distance)


def build_bodies(spec: ModelSpec, request: GenerationRequest) -> list[StabilityBody]:
    if request.seed is None:
        raise ValueError("build_bodies needs a request with a seed")
    ratio = nearest_aspect_ratio(request.width, request.height)
    bodies: list[StabilityBody] = []
    for i in range(request.count):
        # Seed 0 means "random" to Stability; consecutive seeds keep a batch reproducible.
        seed = (request.seed + i) % (SEED_MAX + 1)
        body: StabilityBody = {
            "prompt": request.prompt,
            "aspect_ratio": ratio,
            "seed": seed,
            "output_format": "png",
        }
        if request.negative_prompt:
            body["negative_prompt"] = request.negative_prompt
        bodies.append(body)
    return bodies


def parse_response(
    spec: ModelSpec, request: GenerationRequest, body: dict[str, Any], response: Any
) -> ModelOutput:
    payload = require_dict(spec.name, response)
    reasons = payload.get("finish_reasons")
    images = payload.get("images")
    if images is None and reasons is None:
        raise ModelFailed(f"{spec.name} answered without 'images'; nothing was stored. Try again.")
    reason_list = reasons if isinstance(reasons, list) else []
    blocked = [r for r in reason_list if r]
    data = decode_images(spec.name, images or [])
    if blocked or not data:
        why = "; ".join(str(r) for r in blocked) or "no image was returned"
        raise ContentFiltered(
            f"{spec.name} blocked the image: {why}. Rephrase the prompt and try again."
        )
    seeds = payload.get("seeds")
    seed = seeds[0] if isinstance(seeds, list) and seeds and isinstance(seeds[0], int) else None
    if seed is None:
        seed = body.get("seed")
    return ModelOutput(images=[ModelImage(d, seed) for d in data[:1]])


class StabilityAdapter:
    def bodies(self, spec: ModelSpec, request: GenerationRequest) -> list[dict[str, Any]]:
        return [dict(b) for b in build_bodies(spec, request)]

    def parse(
        self, spec: ModelSpec, request: GenerationRequest, body: dict[str, Any], response: Any
    ) -> ModelOutput:
        return parse_response(spec, request, body, response)
