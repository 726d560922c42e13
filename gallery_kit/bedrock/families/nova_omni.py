"""Amazon Nova 2 Omni (preview): images through the Bedrock **Converse** API. Pure.

A request is the keyword arguments of ``bedrock-runtime`` ``converse`` (boto3 builds and checks
the wire shape): one user message whose content is the prompt as a text block, plus the source
image as an image block for edits. The model has no width/height, count, seed, cfg or quality
parameters: the aspect ratio is asked for in words, "Images: 3" is three calls at once, and the
size it returns is read from the image. The answer's content holds image blocks (raw bytes,
kept untouched) and possibly text, which is kept in the record.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from gallery_kit.bedrock.families import stability
from gallery_kit.bedrock.families._decode import require_dict
from gallery_kit.errors import ContentFiltered, GenerationError, ModelFailed
from gallery_kit.generation import GenerationRequest, ModelImage, ModelOutput, ModelSpec
from gallery_kit.input_images import SizeLimits, encode_png, fit_size, flatten, open_image, resize

NOVA_OMNI_ID = "amazon.nova-2-omni-v1:0"
NOVA_OMNI_PROMPT_MAX = 10_000
#: Dollars per image: AWS prices Nova 2 Omni per output token; this is our estimate of one
#: ~1-megapixel image's tokens at the preview list price. Recorded and shown as an estimate.
NOVA_OMNI_PRICE_ESTIMATE = 0.04
ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9", "9:21")
#: Converse's image block limits: 3.75 MB per image, 8,000 px a side. We send less: the model
#: works at about a megapixel, so a larger source only costs upload time and input tokens.
INPUT_LIMITS = SizeLimits(min_side=64, max_side=2048, max_pixels=4_194_304)
MAX_INPUT_BYTES = 3_750_000
MAX_TOKENS = 4000
_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/webp": "webp", "image/gif": "gif"}
#: stopReason values that mean the model's filters, not the prompt, ended the answer.
_FILTERED = {"content_filtered", "guardrail_intervened"}


class TextBlock(TypedDict):
    text: str


class ImageSource(TypedDict):
    bytes: bytes


class ImageBlockBody(TypedDict):
    format: str
    source: ImageSource


class ImageBlock(TypedDict):
    image: ImageBlockBody


class Message(TypedDict):
    role: str
    content: list[TextBlock | ImageBlock]


class ConverseRequest(TypedDict):
    """``client.converse(modelId=..., **request)``."""

    messages: list[Message]
    inferenceConfig: NotRequired[dict[str, Any]]


def nearest_aspect_ratio(width: int, height: int) -> str:
    """The ratio in :data:`ASPECT_RATIOS` closest to width:height (on a log scale)."""
    return stability.nearest_aspect_ratio(width, height, ASPECT_RATIOS)


def generation_text(prompt: str, width: int, height: int) -> str:
    """The prompt as an instruction to draw one image, with the aspect ratio in words."""
    ratio = nearest_aspect_ratio(width, height)
    # As AWS's Nova 2 Omni samples ask for a picture: the ratio in words, then the prompt.
    return f"Create an image in {ratio} aspect ratio: {prompt}"


def _request(content: list[TextBlock | ImageBlock]) -> ConverseRequest:
    # The samples allow a few thousand output tokens for one image and its caption.
    return {
        "messages": [{"role": "user", "content": content}],
        "inferenceConfig": {"maxTokens": MAX_TOKENS},
    }


def build_requests(spec: ModelSpec, request: GenerationRequest) -> list[ConverseRequest]:
    """One Converse request per image asked for (the model makes one image per answer)."""
    text = generation_text(request.prompt, request.width, request.height)
    return [_request([{"text": text}]) for _ in range(request.count)]


def prepare_input(data: bytes, where: str = "The source image") -> ImageBlock:
    """A gallery image as a Converse image block: passed through when it fits, else resized."""
    from gallery_kit.imaging import sniff_content_type

    image = open_image(data, where)
    size = fit_size(image.width, image.height, INPUT_LIMITS)
    fmt = _FORMATS.get(sniff_content_type(data) or "")
    if fmt is None or size != image.size or len(data) > MAX_INPUT_BYTES:
        data, fmt = encode_png(resize(flatten(image), size)), "png"
    return {"image": {"format": fmt, "source": {"bytes": data}}}


def variation_text(prompt: str | None, similarity: float) -> str:
    """ "More like this" in words: the similarity (0.2-1.0) becomes how close to stay."""
    closeness = (
        "very close to" if similarity >= 0.85 else "close to" if similarity >= 0.55 else "loosely"
    )
    ask = f"Make a variation of this image that stays {closeness} it."
    if closeness == "loosely":
        ask = "Make a loose variation of this image."
    return f"{ask} {prompt}" if prompt else f"{ask} Keep its subject and style."


def edit_text(prompt: str, mask_prompt: str | None) -> str:
    if mask_prompt:
        return f"Edit this image: change {mask_prompt} to {prompt}. Keep everything else as is."
    return f"Edit this image: {prompt}. Keep everything else as is."


def edit_request(source: ImageBlock, instruction: str) -> ConverseRequest:
    """The source image first, then the instruction (as AWS's Nova samples order them)."""
    return _request([source, {"text": instruction}])


def parse_response(spec: ModelSpec, response: Any) -> ModelOutput:
    """Image blocks → images (bytes untouched); text blocks → the images' note."""
    body = require_dict(spec.name, response)
    output = body.get("output")
    message = output.get("message") if isinstance(output, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        raise ModelFailed(f"{spec.name} answered without a message; nothing was stored. Try again.")
    texts: list[str] = []
    images: list[bytes] = []
    for block in content:
        if not isinstance(block, dict):
            continue
        if isinstance(block.get("text"), str) and block["text"].strip():
            texts.append(block["text"].strip())
        image = block.get("image")
        if isinstance(image, dict):
            data = (image.get("source") or {}).get("bytes")
            if not isinstance(data, bytes | bytearray) or not data:
                raise ModelFailed(
                    f"{spec.name} returned an image block without bytes; nothing was stored. "
                    "Try again, and report it if it persists."
                )
            images.append(bytes(data))
    said = " ".join(texts)
    stop = body.get("stopReason")
    if not images:
        quoted = f' It said: "{said[:300]}"' if said else ""
        if stop in _FILTERED:
            raise ContentFiltered(
                f"{spec.name} blocked this request ({stop}).{quoted} Rephrase the prompt and "
                "try again."
            )
        raise GenerationError(
            f"{spec.name} answered without an image.{quoted} Rephrase the prompt as a request "
            "for a picture (e.g. start with 'A photo of …') and try again."
        )
    note = said or None
    return ModelOutput(
        images=[ModelImage(d, None, index=i, note=note) for i, d in enumerate(images)]
    )


class NovaOmniAdapter:
    """Bodies are Converse keyword arguments, not InvokeModel JSON (see CONVERSE_FAMILIES)."""

    def bodies(self, spec: ModelSpec, request: GenerationRequest) -> list[dict[str, Any]]:
        return [dict(r) for r in build_requests(spec, request)]

    def parse(
        self, spec: ModelSpec, request: GenerationRequest, body: dict[str, Any], response: Any
    ) -> ModelOutput:
        return parse_response(spec, response)
