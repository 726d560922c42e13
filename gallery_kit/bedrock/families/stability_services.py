"""Stability AI on Bedrock for edits: image-to-image and the Stability AI Image Services.

Sources (AWS Bedrock user guide):

* "Stability.ai Stable Diffusion 3.5 Large" (model-parameters-diffusion-3-5-large), image to
  image: ``prompt``, ``image`` (Base64, at least 64 px a side), ``mode`` ("image-to-image"
  requires prompt, image and strength), ``strength`` 0-1 (0 keeps the input, 1 ignores it),
  ``seed`` 0-4,294,967,294 (0 = random), ``negative_prompt``, ``output_format``.
* "Stable Image Ultra" (model-parameters-diffusion-stable-ultra-text-image-request-response),
  image to image: ``prompt``, ``image``, ``strength`` (default 0.35); its ``mode`` enum only
  holds "text-to-image", so no ``mode`` is sent with an image.
* "Stability AI Image Services" (stable-image-services), called through the ``us.`` inference
  profiles AWS's examples use. Remove Background: ``image`` (+ ``output_format``). Search and
  Replace: ``prompt``, ``image``, ``search_prompt`` (+ ``negative_prompt``, ``seed``,
  ``grow_mask`` 0-20, ``style_preset``, ``output_format``). Inpaint: ``prompt``, ``image``
  (+ ``mask``: white = full strength, black = untouched; without it the image's alpha is the
  mask). Outpaint: ``image`` and at least one of ``left``/``right``/``up``/``down`` (0-2000)
  (+ ``prompt``, ``creativity`` 0.1-1.0, ``seed``, ``output_format``). Fast Upscale: ``image``
  (+ ``output_format``), four times the resolution. Edit inputs: every side at least 64 px, at
  most 9,437,184 pixels, aspect ratio between 1:2.5 and 2.5:1. Fast Upscale input: each side
  32-1,536 px, 1,024-1,048,576 pixels. Formats jpeg, png, webp. Response
  ``{"seeds": [...], "finish_reasons": [null], "images": ["..."]}``; a finish reason of
  "Filter reason: ..." means filtered, "Inference error" a failure.

All pure: no boto3 here.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from gallery_kit.bedrock.families._decode import decode_images, require_dict
from gallery_kit.bedrock.families.stability import SEED_MAX
from gallery_kit.errors import ContentFiltered, InvalidRequest, ModelFailed
from gallery_kit.generation import ModelImage, ModelOutput, ModelSpec
from gallery_kit.input_images import (
    SizeLimits,
    aspect,
    b64,
    encode_png,
    fit_size,
    flatten,
    open_image,
    placement,
    prepare_rgb_png,
    resize,
)

SD35_LARGE_ID = "stability.sd3-5-large-v1:0"
ULTRA_ID = "stability.stable-image-ultra-v1:1"
#: The text-to-image models that also take an input image (Stable Image Core does not).
IMAGE_TO_IMAGE_IDS = (SD35_LARGE_ID, ULTRA_ID)

REMOVE_BACKGROUND_ID = "us.stability.stable-image-remove-background-v1:0"
SEARCH_REPLACE_ID = "us.stability.stable-image-search-replace-v1:0"
INPAINT_ID = "us.stability.stable-image-inpaint-v1:0"
OUTPAINT_ID = "us.stability.stable-outpaint-v1:0"
FAST_UPSCALE_ID = "us.stability.stable-fast-upscale-v1:0"

EDIT_LIMITS = SizeLimits(min_side=64, max_pixels=9_437_184, max_aspect=2.5)
FAST_UPSCALE_LIMITS = SizeLimits(min_side=32, max_side=1536, min_pixels=1024, max_pixels=1_048_576)
#: Documented: at least 64 px a side. The models work at about one megapixel, so we send no
#: more than that (a smaller request, the same result).
IMAGE_TO_IMAGE_LIMITS = SizeLimits(min_side=64, max_pixels=1_048_576)
FAST_UPSCALE_FACTOR = 4
OUTPAINT_MAX_MARGIN = 2000
GROW_MASK_RANGE = (0, 20)
OUTPUT_FORMAT = "png"


def _service(model_id: str, name: str, notes: str) -> ModelSpec:
    return ModelSpec(
        model_id=model_id,
        name=name,
        family="stability",
        default_region="us-west-2",
        max_prompt=10_000,
        max_count=1,
        seed_max=SEED_MAX,
        random_seed_max=SEED_MAX,
        cfg_range=None,
        cfg_default=None,
        qualities=("standard",),
        side_range=(64, 16_384),
        side_multiple=1,
        max_pixels=None,
        notes=notes,
    )


#: The Image Services gallery_kit uses, as model cards (not text-to-image models: kept out of
#: ``MODELS`` so the model picker does not offer them for Generate).
SERVICES: dict[str, ModelSpec] = {
    spec.model_id: spec
    for spec in (
        _service(REMOVE_BACKGROUND_ID, "Stable Image Remove Background", "Cuts out the subject."),
        _service(SEARCH_REPLACE_ID, "Stable Image Search and Replace", "Edits by words."),
        _service(INPAINT_ID, "Stable Image Inpaint", "Edits inside a mask."),
        _service(OUTPAINT_ID, "Stable Image Outpaint", "Extends the canvas."),
        _service(FAST_UPSCALE_ID, "Stable Image Fast Upscale", "Four times the resolution."),
    )
}


def bare_id(model_id: str) -> str:
    """``model_id`` without a geography prefix (``us.stability.x`` → ``stability.x``)."""
    head, _, rest = model_id.partition(".")
    return rest if head in ("us", "eu", "apac", "global", "jp", "au", "ca") and rest else model_id


# --- bodies -----------------------------------------------------------------------------------


class ImageToImageBody(TypedDict):
    prompt: str
    image: str
    strength: float
    seed: int
    output_format: str
    mode: NotRequired[str]
    negative_prompt: NotRequired[str]


class RemoveBackgroundBody(TypedDict):
    image: str
    output_format: str


class SearchReplaceBody(TypedDict):
    image: str
    prompt: str
    search_prompt: str
    seed: int
    output_format: str
    negative_prompt: NotRequired[str]
    grow_mask: NotRequired[int]


class OutpaintBody(TypedDict):
    image: str
    left: int
    right: int
    up: int
    down: int
    seed: int
    output_format: str
    prompt: NotRequired[str]
    creativity: NotRequired[float]


class FastUpscaleBody(TypedDict):
    image: str
    output_format: str


def strength_for(similarity: float) -> float:
    """Nova's similarity (1 = like the input) as Stability's strength (0 = keep the input)."""
    return round(min(1.0, max(0.0, 1.0 - similarity)), 3)


def image_to_image_body(
    model_id: str,
    image: bytes,
    *,
    prompt: str,
    strength: float,
    seed: int,
    negative: str | None = None,
) -> ImageToImageBody:
    body: ImageToImageBody = {
        "prompt": prompt,
        "image": b64(image),
        "strength": strength,
        "seed": seed,
        "output_format": OUTPUT_FORMAT,
    }
    if bare_id(model_id) == SD35_LARGE_ID:
        body["mode"] = "image-to-image"
    if negative:
        body["negative_prompt"] = negative
    return body


def remove_background_body(image: bytes) -> RemoveBackgroundBody:
    return {"image": b64(image), "output_format": OUTPUT_FORMAT}


def search_replace_body(
    image: bytes,
    *,
    prompt: str,
    search_prompt: str,
    seed: int,
    negative: str | None = None,
    grow_mask: int | None = None,
) -> SearchReplaceBody:
    body: SearchReplaceBody = {
        "image": b64(image),
        "prompt": prompt,
        "search_prompt": search_prompt,
        "seed": seed,
        "output_format": OUTPUT_FORMAT,
    }
    if negative:
        body["negative_prompt"] = negative
    if grow_mask is not None:
        body["grow_mask"] = grow_mask
    return body


def outpaint_body(
    image: bytes,
    margins: tuple[int, int, int, int],
    *,
    seed: int,
    prompt: str | None = None,
    creativity: float | None = None,
) -> OutpaintBody:
    """``margins`` = (left, right, up, down) pixels to add."""
    left, right, up, down = margins
    body: OutpaintBody = {
        "image": b64(image),
        "left": left,
        "right": right,
        "up": up,
        "down": down,
        "seed": seed,
        "output_format": OUTPUT_FORMAT,
    }
    if prompt:
        body["prompt"] = prompt
    if creativity is not None:
        body["creativity"] = creativity
    return body


def fast_upscale_body(image: bytes) -> FastUpscaleBody:
    return {"image": b64(image), "output_format": OUTPUT_FORMAT}


# --- inputs -----------------------------------------------------------------------------------


def prepare_input(
    data: bytes, limits: SizeLimits, service: str, where: str = "The source image"
) -> tuple[bytes, tuple[int, int]]:
    """The source as an opaque RGB PNG inside ``limits`` (resized when needed) and its size.

    Transparency is flattened onto white: Inpaint and Erase read an alpha channel as their mask.
    """
    _check_aspect(open_image(data, where).size, limits, service, where)
    return prepare_rgb_png(data, limits, where)


def _check_aspect(size: tuple[int, int], limits: SizeLimits, service: str, where: str) -> None:
    if limits.max_aspect is not None and aspect(*size) > limits.max_aspect:
        raise InvalidRequest(
            f"{where} is {size[0]}x{size[1]}; {service} needs an aspect ratio between "
            f"1:{limits.max_aspect:g} and {limits.max_aspect:g}:1. Pick another image."
        )


def outpaint_inputs(
    data: bytes, canvas: tuple[int, int], where: str = "The source image"
) -> tuple[bytes, tuple[int, int, int, int]]:
    """(image, margins): the source scaled to fit ``canvas`` and the borders that fill it."""
    image = open_image(data, where)
    _check_aspect(image.size, EDIT_LIMITS, "Stable Image Outpaint", where)
    left, top, width, height = placement(fit_size(*image.size, EDIT_LIMITS), canvas)
    margins = (left, canvas[0] - width - left, top, canvas[1] - height - top)
    if max(margins) > OUTPAINT_MAX_MARGIN:
        raise InvalidRequest(
            f"Extending {image.width}x{image.height} to {canvas[0]}x{canvas[1]} adds more than "
            f"{OUTPAINT_MAX_MARGIN} px on a side, Stable Image Outpaint's limit; choose a "
            "smaller --width/--height."
        )
    return encode_png(resize(flatten(image), (width, height))), margins


# --- response ---------------------------------------------------------------------------------


def parse_response(spec: ModelSpec, response: Any, *, seed: int | None) -> ModelOutput:
    payload = require_dict(spec.name, response)
    reasons = payload.get("finish_reasons")
    images = payload.get("images")
    if images is None and reasons is None:
        raise ModelFailed(f"{spec.name} answered without 'images'; nothing was stored. Try again.")
    blocked = [str(r) for r in (reasons if isinstance(reasons, list) else []) if r]
    if any("inference error" in r.lower() for r in blocked):
        raise ModelFailed(f"{spec.name} failed while working ({blocked[0]}); try again.")
    data = decode_images(spec.name, images or [])
    if blocked or not data:
        why = "; ".join(blocked) or "no image was returned"
        raise ContentFiltered(
            f"{spec.name} blocked the result: {why}. Change the prompt or the image and retry."
        )
    seeds = payload.get("seeds")
    answered = seeds[0] if isinstance(seeds, list) and seeds and isinstance(seeds[0], int) else None
    # Services without a seed parameter (remove background, fast upscale) record none.
    recorded = None if seed is None else (answered if answered is not None else seed)
    return ModelOutput(images=[ModelImage(data[0], recorded)])
