"""Amazon Nova Canvas and Titan Image Generator v2: the ``TEXT_IMAGE`` request family.

Body and response as AWS documents them ("Request and response structure for image generation").
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from gallery_kit.bedrock.families._decode import decode_images, require_dict
from gallery_kit.errors import ContentFiltered, ModelFailed
from gallery_kit.generation import GenerationRequest, ModelImage, ModelOutput, ModelSpec

STYLES = (
    "3D_ANIMATED_FAMILY_FILM",
    "DESIGN_SKETCH",
    "FLAT_VECTOR_ILLUSTRATION",
    "GRAPHIC_NOVEL_ILLUSTRATION",
    "MAXIMALISM",
    "MIDCENTURY_RETRO",
    "PHOTOREALISM",
    "SOFT_DIGITAL_PAINTING",
)


class TextToImageParams(TypedDict):
    text: str
    negativeText: NotRequired[str]
    style: NotRequired[str]


class ImageGenerationConfig(TypedDict):
    width: int
    height: int
    quality: str
    numberOfImages: int
    cfgScale: float
    seed: int


class TextImageBody(TypedDict):
    taskType: str
    textToImageParams: TextToImageParams
    imageGenerationConfig: ImageGenerationConfig


class NovaResponse(TypedDict, total=False):
    images: list[str]
    error: str | None


def build_body(spec: ModelSpec, request: GenerationRequest) -> TextImageBody:
    """The TEXT_IMAGE body for a validated request whose seed is already chosen."""
    if request.seed is None or request.cfg_scale is None:
        raise ValueError("build_body needs a validated request with a seed")
    params: TextToImageParams = {"text": request.prompt}
    if request.negative_prompt:  # AWS rejects an empty negativeText
        params["negativeText"] = request.negative_prompt
    if request.style:
        params["style"] = request.style
    return {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": params,
        "imageGenerationConfig": {
            "width": request.width,
            "height": request.height,
            "quality": request.quality,
            "numberOfImages": request.count,
            "cfgScale": request.cfg_scale,
            "seed": request.seed,
        },
    }


def parse_images(
    spec: ModelSpec, response: Any, *, seed: int | None, count: int, retry_hint: str
) -> ModelOutput:
    """``{"images": [...], "error": ...}``, the same for every Nova Canvas task: all blocked is
    an error with AWS's reason, some blocked a warning beside the images that came back."""
    body = require_dict(spec.name, response)
    error = body.get("error")
    if "images" not in body and not error:
        raise ModelFailed(f"{spec.name} answered without 'images'; nothing was stored. Try again.")
    data = decode_images(spec.name, body.get("images") or [])
    if not data:
        reason = str(error) if error else "no images were returned"
        raise ContentFiltered(f"{spec.name} blocked every image: {reason} {retry_hint}")
    output = ModelOutput(images=[ModelImage(d, seed, index=i) for i, d in enumerate(data)])
    if error or len(data) < count:
        blocked = max(count - len(data), 0)
        detail = f" ({error})" if error else ""
        output.warnings.append(
            f"{blocked} of {count} images were blocked by {spec.name}'s content "
            f"filters{detail}; the other {len(data)} were kept."
        )
    return output


def parse_response(spec: ModelSpec, request: GenerationRequest, response: Any) -> ModelOutput:
    return parse_images(
        spec,
        response,
        seed=request.seed,
        count=request.count,
        retry_hint="Rephrase the prompt and try again.",
    )


class NovaCanvasAdapter:
    def bodies(self, spec: ModelSpec, request: GenerationRequest) -> list[dict[str, Any]]:
        return [dict(build_body(spec, request))]

    def parse(
        self, spec: ModelSpec, request: GenerationRequest, body: dict[str, Any], response: Any
    ) -> ModelOutput:
        return parse_response(spec, request, response)
