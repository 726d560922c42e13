"""Amazon Nova Canvas image editing: IMAGE_VARIATION, INPAINTING, OUTPAINTING, BACKGROUND_REMOVAL.

Bodies as AWS documents them in the Nova user guide, "Request and response structure for image
generation" (image-gen-req-resp-structure) and "Input images for image generation"
(image-gen-access): input images are Base64 PNG or JPEG with 8 bits per colour channel; a PNG
may carry an alpha channel but it must not contain transparent or translucent pixels (so we
flatten onto white); a mask image holds only pure black and pure white, and must be the size of
the image. For INPAINTING the black area is changed; for OUTPAINTING the white area is changed,
so an extended canvas is sent with the original in black (kept) and the new border in white.
INPAINTING / OUTPAINTING answer at the input image's size: ``imageGenerationConfig`` carries no
width or height for them, and BACKGROUND_REMOVAL has no ``imageGenerationConfig`` at all.

All pure: no boto3 here.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from gallery_kit.bedrock.families.nova_canvas import parse_images
from gallery_kit.errors import InvalidRequest
from gallery_kit.generation import ModelOutput, ModelSpec
from gallery_kit.input_images import (
    SizeLimits,
    aspect,
    b64,
    encode_png,
    keep_mask,
    open_image,
    place_on_canvas,
    prepare_rgb_png,
)

#: The generation limits (sides 320-4096 in steps of 16, under 4,194,304 pixels, 1:4-4:1) also
#: bound the editing tasks, which answer at the input's size; inputs are fitted into them.
INPUT_LIMITS = SizeLimits(min_side=320, max_side=4096, max_pixels=4_194_303, multiple=16)
MAX_ASPECT = 4.0
SIMILARITY_RANGE = (0.2, 1.0)
DEFAULT_SIMILARITY = 0.7
OUTPAINTING_MODES = ("DEFAULT", "PRECISE")


class ImageVariationParams(TypedDict):
    images: list[str]
    similarityStrength: float
    text: NotRequired[str]
    negativeText: NotRequired[str]


class VariationConfig(TypedDict):
    width: int
    height: int
    numberOfImages: int
    cfgScale: float
    seed: int


class ImageVariationBody(TypedDict):
    taskType: Literal["IMAGE_VARIATION"]
    imageVariationParams: ImageVariationParams
    imageGenerationConfig: VariationConfig


class EditConfig(TypedDict):
    numberOfImages: int
    quality: str
    cfgScale: float
    seed: int


class InPaintingParams(TypedDict):
    image: str
    maskPrompt: NotRequired[str]
    maskImage: NotRequired[str]
    text: NotRequired[str]
    negativeText: NotRequired[str]


class InPaintingBody(TypedDict):
    taskType: Literal["INPAINTING"]
    inPaintingParams: InPaintingParams
    imageGenerationConfig: EditConfig


class OutPaintingParams(TypedDict):
    image: str
    text: str
    outPaintingMode: str
    maskPrompt: NotRequired[str]
    maskImage: NotRequired[str]
    negativeText: NotRequired[str]


class OutPaintingBody(TypedDict):
    taskType: Literal["OUTPAINTING"]
    outPaintingParams: OutPaintingParams
    imageGenerationConfig: EditConfig


class BackgroundRemovalParams(TypedDict):
    image: str


class BackgroundRemovalBody(TypedDict):
    taskType: Literal["BACKGROUND_REMOVAL"]
    backgroundRemovalParams: BackgroundRemovalParams


# --- inputs -----------------------------------------------------------------------------------


def prepare_input(data: bytes, where: str = "The source image") -> tuple[bytes, tuple[int, int]]:
    """The source as Nova Canvas accepts it (opaque RGB PNG inside the limits) and its size."""
    width, height = open_image(data, where).size
    if aspect(width, height) > MAX_ASPECT:
        raise InvalidRequest(
            f"{where} is {width}x{height}, beyond the 1:4-4:1 aspect ratio Nova Canvas accepts; "
            "pick another image."
        )
    return prepare_rgb_png(data, INPUT_LIMITS, where)


def outpaint_inputs(
    data: bytes, canvas: tuple[int, int], where: str = "The source image"
) -> tuple[bytes, bytes, tuple[int, int, int, int]]:
    """(image, mask, box): the source centred on ``canvas`` and the mask keeping it."""
    image, box = place_on_canvas(open_image(data, where), canvas)
    return encode_png(image), encode_png(keep_mask(canvas, box)), box


def _texts(params: Any, text: str | None, negative: str | None) -> None:
    if text:
        params["text"] = text
    if negative:  # AWS rejects an empty negativeText
        params["negativeText"] = negative


# --- bodies -----------------------------------------------------------------------------------


def variation_body(
    spec: ModelSpec,
    image: bytes,
    size: tuple[int, int],
    *,
    seed: int,
    similarity: float = DEFAULT_SIMILARITY,
    text: str | None = None,
    negative: str | None = None,
    count: int = 1,
) -> ImageVariationBody:
    params: ImageVariationParams = {"images": [b64(image)], "similarityStrength": similarity}
    _texts(params, text, negative)
    return {
        "taskType": "IMAGE_VARIATION",
        "imageVariationParams": params,
        "imageGenerationConfig": {
            "width": size[0],
            "height": size[1],
            "numberOfImages": count,
            "cfgScale": spec.cfg_default or 6.5,
            "seed": seed,
        },
    }


def _edit_config(spec: ModelSpec, seed: int, count: int) -> EditConfig:
    return {
        "numberOfImages": count,
        "quality": "standard",
        "cfgScale": spec.cfg_default or 6.5,
        "seed": seed,
    }


def inpainting_body(
    spec: ModelSpec,
    image: bytes,
    *,
    seed: int,
    text: str | None,
    mask_prompt: str | None = None,
    mask_image: bytes | None = None,
    negative: str | None = None,
    count: int = 1,
) -> InPaintingBody:
    """Exactly one of ``mask_prompt`` / ``mask_image`` (black = the area to change)."""
    if (mask_prompt is None) == (mask_image is None):
        raise ValueError("inpainting needs exactly one of mask_prompt and mask_image")
    params: InPaintingParams = {"image": b64(image)}
    if mask_prompt is not None:
        params["maskPrompt"] = mask_prompt
    if mask_image is not None:
        params["maskImage"] = b64(mask_image)
    _texts(params, text, negative)
    return {
        "taskType": "INPAINTING",
        "inPaintingParams": params,
        "imageGenerationConfig": _edit_config(spec, seed, count),
    }


def outpainting_body(
    spec: ModelSpec,
    image: bytes,
    *,
    seed: int,
    text: str,
    mask_prompt: str | None = None,
    mask_image: bytes | None = None,
    negative: str | None = None,
    mode: str = "PRECISE",
    count: int = 1,
) -> OutPaintingBody:
    """Exactly one of ``mask_prompt`` / ``mask_image`` (black = the area to keep).

    ``PRECISE`` by default: the new border starts from a flat fill, which ``DEFAULT`` would
    use as "original pixels" to start from; PRECISE keeps strictly to the mask.
    """
    if (mask_prompt is None) == (mask_image is None):
        raise ValueError("outpainting needs exactly one of mask_prompt and mask_image")
    if mode not in OUTPAINTING_MODES:
        raise ValueError(f"outPaintingMode must be one of {OUTPAINTING_MODES}")
    params: OutPaintingParams = {"image": b64(image), "text": text, "outPaintingMode": mode}
    if mask_prompt is not None:
        params["maskPrompt"] = mask_prompt
    if mask_image is not None:
        params["maskImage"] = b64(mask_image)
    _texts(params, None, negative)
    return {
        "taskType": "OUTPAINTING",
        "outPaintingParams": params,
        "imageGenerationConfig": _edit_config(spec, seed, count),
    }


def background_removal_body(image: bytes) -> BackgroundRemovalBody:
    return {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": b64(image)}}


# --- response ---------------------------------------------------------------------------------


def parse_response(
    spec: ModelSpec, response: Any, *, seed: int | None, count: int = 1
) -> ModelOutput:
    """The same response shape as text-to-image: see :func:`nova_canvas.parse_images`."""
    return parse_images(
        spec,
        response,
        seed=seed,
        count=count,
        retry_hint="Change the prompt or the image and retry.",
    )
