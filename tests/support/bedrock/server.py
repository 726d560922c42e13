"""A local Amazon Bedrock Runtime ``InvokeModel`` endpoint for tests.

Real HTTP on ``127.0.0.1`` (standard library only, plus Pillow for the PNGs), spoken the way
botocore's ``bedrock-runtime`` client speaks it:

* request: ``POST /model/{modelId}/invoke``, JSON body, SigV4 ``Authorization`` header;
* also ``POST /model/{modelId}/converse`` (Converse) for Amazon Nova 2 Omni (preview), checked
  and answered by ``converse``;
* also the control plane's ``GET /foundation-models`` (ListFoundationModels), for boto3's
  ``bedrock`` client through ``AWS_ENDPOINT_URL_BEDROCK``: a scripted list per region;
* success: ``200``, ``Content-Type: application/json``, the model's JSON body;
* error: HTTP status, ``x-amzn-ErrorType: <Code>:http://internal.amazon.com/coral/com.amazon.bedrock/``
  and ``{"message": "..."}``, so botocore raises ``ClientError`` with that code and message.

Every body is checked against the documented schema of its model family (Amazon Nova Canvas and
Titan Image Generator v2, Stability text-to-image, Stability Image Services). A violation answers
``400 ValidationException`` naming the field, whatever is scripted, and is appended to
``endpoint.violations`` so a test can end with ``assert endpoint.violations == []``.

Usage::

    with BedrockEndpoint() as ep:
        client = boto3.client("bedrock-runtime", endpoint_url=ep.url, ...)
        ep.script(Reply.throttled(), Reply.ok())
        ...
        assert ep.violations == []

Sources of the facts and wordings are given next to each constant ("[AWS doc]", "[seen]" for
messages observed in public bug reports, "[guessed]").
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import io
import json
import random
import re
import socket
import sys
import threading
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from PIL import Image, ImageDraw, PngImagePlugin

__all__ = [
    "DEFAULT_FOUNDATION_MODELS",
    "ERROR_STATUS",
    "MESSAGES",
    "STABILITY_ASPECT_SIZES",
    "BedrockEndpoint",
    "RecordedRequest",
    "Reply",
    "foundation_model",
    "image_size",
    "stand_in_of",
]

# --------------------------------------------------------------------------------------------
# Wire constants
# --------------------------------------------------------------------------------------------

ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"

#: HTTP status of each error code. The InvokeModel ones are the ``httpStatusCode`` values of
#: botocore's own service model (bedrock-runtime 2023-09-30); note ServiceQuotaExceededException
#: is 400 there, not 429. The last three are the generic AWS front-door errors.
ERROR_STATUS: dict[str, int] = {
    "ValidationException": 400,
    "ServiceQuotaExceededException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ModelTimeoutException": 408,
    "ModelErrorException": 424,
    "ThrottlingException": 429,
    "ModelNotReadyException": 429,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
    "UnrecognizedClientException": 403,
    "MissingAuthenticationTokenException": 403,
    "UnknownOperationException": 404,
}

#: Every canned message. Keys are the ``Reply`` constructor names (and a few extras).
MESSAGES: dict[str, str] = {
    # [seen] aws-samples/amazon-bedrock-workshop#315, #340 (ValidationException, HTTP 400).
    "invalid_model_id": "The provided model identifier is invalid.",
    # [brief] wording supplied with the task; AWS troubleshooting page not retrieved.
    "access_denied": "You don't have access to the model with the specified model ID.",
    # [seen] aws-samples/sample-host-openclaw-on-amazon-bedrock-agentcore#41 (CloudTrail text);
    # "2 minutes" there, "5 minutes" in ministryofjustice/modernisation-platform-environments#18323.
    "marketplace_denied": (
        "Model access is denied due to IAM user or service role is not authorized to perform "
        "the required AWS Marketplace actions (aws-marketplace:ViewSubscriptions, "
        "aws-marketplace:Subscribe) to enable access to this model. Refer to the Amazon Bedrock "
        "documentation for further details. Your AWS Marketplace subscription for this model "
        "cannot be completed at this time. If you recently fixed this issue, try again after "
        "2 minutes."
    ),
    # [seen] awsdocs/aws-doc-sdk-examples#6403, aws-samples/amazon-bedrock-ai-karaoke#21
    # (ResourceNotFoundException on InvokeModel).
    "end_of_life": (
        "This model version has reached the end of its life. "
        "Please refer to the AWS documentation for more details."
    ),
    # [seen] fourTheorem/podwhisperer#24 (ResourceNotFoundException); "15 days" in older reports.
    "legacy": (
        "Access denied. This Model is marked by provider as Legacy and you have not been "
        "actively using the model in the last 30 days. Please upgrade to an active model on "
        "Amazon Bedrock"
    ),
    # [seen] many InvokeModel logs: "(ThrottlingException) ... Too many requests, please wait
    # before trying again."
    "throttled": "Too many requests, please wait before trying again.",
    # [seen, weak] a test fixture in a public repo (Converse); not confirmed on AWS.
    "quota_exceeded": "Your account has exceeded the service quota for this model.",
    # [seen] "ModelTimeoutException: Model has timed out in processing the request." (Nova Sonic
    # sample README); the trailing sentence is [guessed].
    "model_timeout": "Model has timed out in processing the request. Try your request again.",
    # [guessed]
    "model_error": "The model encountered an error while processing the request.",
    # [seen] "ServiceUnavailableException: Bedrock is unable to process your request." (many repos)
    "unavailable": "Bedrock is unable to process your request.",
    # [guessed]
    "model_not_ready": "Model is not ready for inference. Wait and try your request again.",
    # [AWS doc] https://docs.aws.amazon.com/nova/latest/userguide/image-gen-errors.html
    "nova_blocked_text": (
        "This request has been blocked by our content filters. "
        "Please adjust your text prompt to submit a new request."
    ),
    "nova_blocked_image": (
        "This request has been blocked by our content filters. "
        "Please adjust your input image to submit a new request."
    ),
    "nova_output_all": "All of the generated images have been blocked by our content filters.",
    "nova_output_some": "Some of the generated images have been blocked by our content filters.",
    # Generic AWS front door wordings [seen widely, not Bedrock-specific].
    "missing_auth": "Missing Authentication Token",
    "bad_auth": "The security token included in the request is invalid.",
    # [guessed] the usual IAM wording, for the control-plane ListFoundationModels.
    "list_denied": (
        "User: arn:aws:iam::123456789012:user/gallery is not authorized to perform: "
        "bedrock:ListFoundationModels because no identity-based policy allows the "
        "bedrock:ListFoundationModels action"
    ),
}

#: [AWS doc] model-parameters-diffusion-stable-ultra-text-image-request-response.html:
#: "Filter reason: prompt", "Filter reason: output image", "Filter reason: input image",
#: "Inference error", null.
STABILITY_FILTER_PROMPT = "Filter reason: prompt"
STABILITY_FILTER_OUTPUT = "Filter reason: output image"

# --------------------------------------------------------------------------------------------
# Model families
# --------------------------------------------------------------------------------------------

NOVA_CANVAS = "amazon.nova-canvas-v1:0"
TITAN_V2 = "amazon.titan-image-generator-v2:0"

#: [AWS doc] image-gen-req-resp-structure.html, the 8 Nova Canvas visual styles.
NOVA_STYLES = frozenset(
    {
        "3D_ANIMATED_FAMILY_FILM",
        "DESIGN_SKETCH",
        "FLAT_VECTOR_ILLUSTRATION",
        "GRAPHIC_NOVEL_ILLUSTRATION",
        "MAXIMALISM",
        "MIDCENTURY_RETRO",
        "PHOTOREALISM",
        "SOFT_DIGITAL_PAINTING",
    }
)

#: Nova seed ceiling. The AWS SDK code example for Nova Canvas draws "a random seed between 0 and
#: 858,993,459" and AWS's own nova-canvas MCP server rejects 858993460; the 2,147,483,646 figure
#: (the brief's) could not be confirmed. The stricter value is valid under both readings.
NOVA_SEED_MAX = 858_993_459
#: [unverified, from memory of the Titan G1 doc] Titan seed range 0..2147483646, prompt <= 512
#: characters (the AWS error "#/textToImageParams/text: expected maxLength: 512" is seen in the
#: wild, for Titan).
TITAN_SEED_MAX = 2_147_483_646
TITAN_TEXT_MAX = 512
#: [unverified, from memory of the Titan G1 doc] the fixed list of supported output sizes.
TITAN_SIZES = frozenset(
    {
        (1024, 1024), (768, 768), (512, 512), (768, 1152), (384, 576), (1152, 768), (576, 384),
        (768, 1280), (384, 640), (1280, 768), (640, 384), (896, 1152), (448, 576), (1152, 896),
        (576, 448), (768, 1408), (384, 704), (1408, 768), (704, 384), (640, 1408), (320, 704),
        (1408, 640), (704, 320), (1152, 640), (1173, 640),
    }
)  # fmt: skip

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

# --------------------------------------------------------------------------------------------
# Control plane: ListFoundationModels (GET /foundation-models), reached by boto3's "bedrock"
# client through AWS_ENDPOINT_URL_BEDROCK. Shape from botocore's service model (bedrock
# 2023-04-20): {"modelSummaries": [FoundationModelSummary]}, lifecycle status ACTIVE | LEGACY.
# --------------------------------------------------------------------------------------------


def foundation_model(
    model_id: str,
    status: str = "ACTIVE",
    *,
    name: str | None = None,
    region: str = "us-west-2",
    inputs: tuple[str, ...] = ("TEXT", "IMAGE"),
    outputs: tuple[str, ...] = ("IMAGE",),
) -> dict[str, Any]:
    """One ``FoundationModelSummary`` as ListFoundationModels returns it."""
    return {
        "modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model_id}",
        "modelId": model_id,
        "modelName": name or model_id,
        "providerName": model_id.split(".")[0].capitalize(),
        "inputModalities": list(inputs),
        "outputModalities": list(outputs),
        "responseStreamingSupported": False,
        "customizationsSupported": [],
        "inferenceTypesSupported": ["ON_DEMAND"],
        "modelLifecycle": {"status": status},
    }


#: Region -> the image models listed there ("*": any other region). The 2026-12-01 picture:
#: Nova Canvas and Titan v2 past their end of life (no longer listed), Stability's models Active
#: in us-west-2. Tests of an account that can still call Nova Canvas list it as LEGACY.
NOVA_CANVAS_LEGACY = foundation_model(NOVA_CANVAS, "LEGACY", region="us-east-1")
DEFAULT_FOUNDATION_MODELS: dict[str, list[dict[str, Any]]] = {
    "us-east-1": [],
    "us-west-2": [
        foundation_model(model_id, "ACTIVE")
        for model_id in (
            "stability.stable-image-core-v1:1",
            "stability.stable-image-ultra-v1:1",
            "stability.sd3-5-large-v1:0",
            "stability.stable-image-remove-background-v1:0",
            "stability.stable-image-search-replace-v1:0",
            "stability.stable-image-inpaint-v1:0",
            "stability.stable-outpaint-v1:0",
            "stability.stable-fast-upscale-v1:0",
        )
    ]
    + [foundation_model("amazon.titan-embed-text-v2:0", outputs=("EMBEDDING",))],
    "*": [],
}


# --------------------------------------------------------------------------------------------
# Public helpers
# --------------------------------------------------------------------------------------------


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) of an encoded image."""
    with Image.open(io.BytesIO(data)) as im:
        return im.size


def stand_in_of(data: bytes) -> str | None:
    """The ``c2pa-stand-in`` value an endpoint image carries (PNG tEXt or JPEG comment)."""
    with Image.open(io.BytesIO(data)) as im:
        if im.format == "PNG":
            text = getattr(im, "text", {})
            value = text.get("c2pa-stand-in")
            return str(value) if value is not None else None
        comment = im.info.get("comment")
        if isinstance(comment, bytes) and comment.startswith(b"c2pa-stand-in="):
            return comment.split(b"=", 1)[1].decode()
        return None


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received. ``body`` is the parsed JSON (None when it was not JSON)."""

    model_id: str
    body: Any
    headers: dict[str, str]
    path: str = ""
    raw: bytes = b""

    @property
    def region(self) -> str | None:
        """The region of the SigV4 credential scope, if the request was signed."""
        match = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/", self.header("authorization") or "")
        return match.group(1) if match else None

    @property
    def operation(self) -> str:
        """``invoke``, ``converse`` or ``""`` (another path)."""
        match = re.fullmatch(r"/model/[^/]+/(invoke|converse)", urlsplit(self.path).path)
        return match.group(1) if match else ""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


@dataclass(frozen=True)
class Reply:
    """A scripted answer. Build with the class methods; ``Reply.ok()`` is the default."""

    kind: str
    code: str | None = None
    message: str | None = None
    status: int | None = None
    seconds: float = 0.0
    then: Reply | None = None
    kept: int | None = None

    # ---- success ----
    @classmethod
    def ok(cls) -> Reply:
        return cls("ok")

    # ---- errors ----
    @classmethod
    def error(cls, code: str, message: str, status: int | None = None) -> Reply:
        return cls("error", code=code, message=message, status=status)

    @classmethod
    def throttled(cls) -> Reply:
        return cls.error("ThrottlingException", MESSAGES["throttled"])

    @classmethod
    def quota_exceeded(cls) -> Reply:
        return cls.error("ServiceQuotaExceededException", MESSAGES["quota_exceeded"])

    @classmethod
    def access_denied(cls) -> Reply:
        return cls.error("AccessDeniedException", MESSAGES["access_denied"])

    @classmethod
    def preview_denied(cls) -> Reply:
        """A preview model (Nova 2 Omni) the account has no access to. [seen] the same wording
        on Converse(Stream) for Nova, simonw/llm-bedrock#14; no preview-specific one found."""
        return cls.error("AccessDeniedException", MESSAGES["access_denied"])

    @classmethod
    def marketplace_denied(cls) -> Reply:
        return cls.error("AccessDeniedException", MESSAGES["marketplace_denied"])

    @classmethod
    def end_of_life(cls) -> Reply:
        return cls.error("ResourceNotFoundException", MESSAGES["end_of_life"])

    @classmethod
    def legacy(cls) -> Reply:
        return cls.error("ResourceNotFoundException", MESSAGES["legacy"])

    @classmethod
    def invalid_model_id(cls) -> Reply:
        return cls.error("ValidationException", MESSAGES["invalid_model_id"])

    @classmethod
    def model_timeout(cls) -> Reply:
        return cls.error("ModelTimeoutException", MESSAGES["model_timeout"])

    @classmethod
    def model_error(cls) -> Reply:
        return cls.error("ModelErrorException", MESSAGES["model_error"])

    @classmethod
    def unavailable(cls) -> Reply:
        return cls.error("ServiceUnavailableException", MESSAGES["unavailable"])

    @classmethod
    def model_not_ready(cls) -> Reply:
        return cls.error("ModelNotReadyException", MESSAGES["model_not_ready"])

    # ---- content filtering ----
    @classmethod
    def filtered_all(cls) -> Reply:
        """Nova/Titan: 400 ValidationException (RAI input deflection, text wording).
        Stability: 200 ``{"finish_reasons": ["Filter reason: prompt"]}`` and no image."""
        return cls("filtered_all")

    @classmethod
    def filtered_some(cls, kept: int | None = None) -> Reply:
        """Nova/Titan: 200 with ``kept`` images (default: one fewer than asked) and ``error`` set
        to the documented "Some of ..." wording ("All of ..." when none are kept).
        Stability (one image per call): 200 ``{"finish_reasons": ["Filter reason: output
        image"]}`` and no image."""
        return cls("filtered_some", kept=kept)

    @classmethod
    def filtered_output(cls) -> Reply:
        """Nova/Titan: 200 ``{"images": [], "error": "All of the generated images ..."}`` (RAI
        output deflection). Stability: same as ``filtered_some``."""
        return cls("filtered_some", kept=0)

    # ---- transport / malformed answers ----
    @classmethod
    def delay(cls, seconds: float, then: Reply | None = None) -> Reply:
        return cls("delay", seconds=seconds, then=then or cls.ok())

    @classmethod
    def garbage(cls) -> Reply:
        return cls("garbage")

    @classmethod
    def bad_base64(cls) -> Reply:
        return cls("bad_base64")

    @classmethod
    def no_images(cls) -> Reply:
        return cls("no_images")

    @classmethod
    def text_only(cls, text: str | None = None) -> Reply:
        """Converse: the model answers in words only (no image block), stopReason end_turn."""
        return cls("text_only", message=text)


# --------------------------------------------------------------------------------------------
# Schema checking (messages follow the everit-json-schema wording Bedrock returns, e.g.
# "Malformed input request: #: extraneous key [frequency_penalty] is not permitted, please
# reformat your input and try again." [seen])
# --------------------------------------------------------------------------------------------


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, path: str, text: str) -> None:
        self.errors.append(f"{path}: {text}")

    # -- structure --
    def obj(
        self,
        value: Any,
        path: str,
        *,
        required: Iterable[str] = (),
        optional: Iterable[str] = (),
    ) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.add(path, f"expected type: JSONObject, found: {_json_type(value)}")
            return None
        required = list(required)
        allowed = set(required) | set(optional)
        for key in value:
            if key not in allowed:
                self.add(path, f"extraneous key [{key}] is not permitted")
        for key in required:
            if key not in value:
                self.add(path, f"required key [{key}] not found")
        return value

    # -- scalars (all skip when the key is absent) --
    def string(
        self,
        parent: dict[str, Any],
        key: str,
        path: str,
        *,
        min_len: int | None = None,
        max_len: int | None = None,
        enum: Iterable[str] | None = None,
    ) -> str | None:
        if key not in parent:
            return None
        value, here = parent[key], f"{path}/{key}"
        if not isinstance(value, str):
            self.add(here, f"expected type: String, found: {_json_type(value)}")
            return None
        if enum is not None and value not in set(enum):
            self.add(here, f"{value} is not a valid enum value")
            return None
        if min_len is not None and len(value) < min_len:
            self.add(here, f"expected minLength: {min_len}, actual: {len(value)}")
        if max_len is not None and len(value) > max_len:
            self.add(here, f"expected maxLength: {max_len}, actual: {len(value)}")
        return value

    def integer(
        self,
        parent: dict[str, Any],
        key: str,
        path: str,
        *,
        lo: int | None = None,
        hi: int | None = None,
    ) -> int | None:
        if key not in parent:
            return None
        value, here = parent[key], f"{path}/{key}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(here, f"expected type: Integer, found: {_json_type(value)}")
            return None
        if isinstance(value, float):
            if not value.is_integer():
                self.add(here, f"expected type: Integer, found: Number ({value})")
                return None
            value = int(value)
        return int(self._bounds(value, here, lo, hi))

    def number(
        self,
        parent: dict[str, Any],
        key: str,
        path: str,
        *,
        lo: float | None = None,
        hi: float | None = None,
    ) -> float | None:
        if key not in parent:
            return None
        value, here = parent[key], f"{path}/{key}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(here, f"expected type: Number, found: {_json_type(value)}")
            return None
        return float(self._bounds(value, here, lo, hi))

    def boolean(self, parent: dict[str, Any], key: str, path: str) -> bool | None:
        if key not in parent:
            return None
        value = parent[key]
        if not isinstance(value, bool):
            self.add(f"{path}/{key}", f"expected type: Boolean, found: {_json_type(value)}")
            return None
        return value

    def _bounds(self, value: float, here: str, lo: float | None, hi: float | None) -> float:
        if lo is not None and value < lo:
            self.add(here, f"{_num(value)} is not greater or equal to {_num(lo)}")
        if hi is not None and value > hi:
            self.add(here, f"{_num(value)} is not less or equal to {_num(hi)}")
        return value

    def image(
        self,
        parent: dict[str, Any],
        key: str,
        path: str,
        *,
        mask: bool = False,
        no_transparency: bool = False,
    ) -> Image.Image | None:
        """A base64 PNG/JPEG. Returns the decoded image (loaded) or None."""
        if key not in parent:
            return None
        value, here = parent[key], f"{path}/{key}"
        if not isinstance(value, str):
            self.add(here, f"expected type: String, found: {_json_type(value)}")
            return None
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            self.add(here, "is not valid base64")
            return None
        try:
            im = Image.open(io.BytesIO(data))
            im.load()
        except Exception:  # Pillow raises many kinds for junk
            self.add(here, "is not a decodable image")
            return None
        if im.format not in ("PNG", "JPEG"):
            self.add(here, f"image format {im.format} is not supported (PNG or JPEG only)")
            return None
        if no_transparency and _has_transparency(im):
            self.add(here, "contains transparent or semi-transparent pixels")
        if mask and not _is_black_and_white(im):
            self.add(here, "mask image must contain only pure black and pure white pixels")
        return im


def _json_type(value: Any) -> str:
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Number"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "JSONArray"
    return "JSONObject"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _has_transparency(im: Image.Image) -> bool:
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        alpha = im.convert("RGBA").getchannel("A")
        extrema: Any = alpha.getextrema()
        return bool(extrema[0] < 255)
    return False


def _is_black_and_white(im: Image.Image) -> bool:
    colours = im.convert("RGB").getcolors(maxcolors=4)
    if colours is None:
        return False
    return all(rgb in ((0, 0, 0), (255, 255, 255)) for _count, rgb in colours)


# --------------------------------------------------------------------------------------------
# Per-family validation. Each returns a "plan" for the ok answer, or None when invalid.
# --------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    family: str  # "nova" | "stability"
    count: int
    width: int
    height: int
    seed: int
    fmt: str = "png"  # png | jpeg
    transparent: bool = False
    seed_was_given: bool = True
    salt: str = ""


_NOVA_TASK_PARAMS = {
    "TEXT_IMAGE": "textToImageParams",
    "COLOR_GUIDED_GENERATION": "colorGuidedGenerationParams",
    "IMAGE_VARIATION": "imageVariationParams",
    "INPAINTING": "inPaintingParams",
    "OUTPAINTING": "outPaintingParams",
    "BACKGROUND_REMOVAL": "backgroundRemovalParams",
    "VIRTUAL_TRY_ON": "virtualTryOnParams",
}
_HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def _check_nova(
    model_id: str, body: Any, c: _Checker, nova_seed_max: int = NOVA_SEED_MAX
) -> _Plan | None:
    titan = model_id == TITAN_V2
    text_max = TITAN_TEXT_MAX if titan else 1024
    seed_max = TITAN_SEED_MAX if titan else nova_seed_max
    if not isinstance(body, dict):
        c.add("#", f"expected type: JSONObject, found: {_json_type(body)}")
        return None
    task = body.get("taskType")
    tasks = [t for t in _NOVA_TASK_PARAMS if not (titan and t == "VIRTUAL_TRY_ON")]
    if "taskType" not in body:
        c.add("#", "required key [taskType] not found")
        return None
    if task not in tasks:
        c.add("#/taskType", f"{task} is not a valid enum value")
        return None
    if task == "VIRTUAL_TRY_ON":
        c.add("#/taskType", "VIRTUAL_TRY_ON is not modelled by this test endpoint")
        return None
    params_key = _NOVA_TASK_PARAMS[task]
    top_optional = [] if task == "BACKGROUND_REMOVAL" else ["imageGenerationConfig"]
    c.obj(body, "#", required=["taskType", params_key], optional=top_optional)
    p: Any = body.get(params_key)
    pp = f"#/{params_key}"
    size: tuple[int, int] | None = None
    generates = task in ("TEXT_IMAGE", "COLOR_GUIDED_GENERATION", "IMAGE_VARIATION")
    prompt = ""
    transparent = False

    if task == "TEXT_IMAGE":
        optional = ["negativeText", "conditionImage", "controlMode", "controlStrength"]
        if not titan:
            optional.append("style")
        if c.obj(p, pp, required=["text"], optional=optional) is not None:
            prompt = c.string(p, "text", pp, min_len=1, max_len=text_max) or ""
            c.string(p, "negativeText", pp, min_len=1, max_len=text_max)
            if not titan:
                c.string(p, "style", pp, enum=NOVA_STYLES)
            c.image(p, "conditionImage", pp, no_transparency=True)
            c.string(p, "controlMode", pp, enum=("CANNY_EDGE", "SEGMENTATION"))
            c.number(p, "controlStrength", pp, lo=0.0, hi=1.0)
    elif task == "COLOR_GUIDED_GENERATION":
        optional = ["negativeText", "referenceImage"]
        if c.obj(p, pp, required=["text", "colors"], optional=optional) is not None:
            prompt = c.string(p, "text", pp, min_len=1, max_len=text_max) or ""
            c.string(p, "negativeText", pp, min_len=1, max_len=text_max)
            c.image(p, "referenceImage", pp, no_transparency=True)
            colors = p.get("colors")
            if "colors" in p:
                if not isinstance(colors, list):
                    c.add(f"{pp}/colors", f"expected type: JSONArray, found: {_json_type(colors)}")
                elif not 1 <= len(colors) <= 10:
                    c.add(f"{pp}/colors", f"expected 1 to 10 items, found: {len(colors)}")
                else:
                    for i, colour in enumerate(colors):
                        if not isinstance(colour, str) or not _HEX_COLOUR.match(colour):
                            c.add(f"{pp}/colors/{i}", f"{colour!r} is not a #RRGGBB hex colour")
    elif task == "IMAGE_VARIATION":
        optional = ["text", "negativeText", "similarityStrength"]
        if c.obj(p, pp, required=["images"], optional=optional) is not None:
            prompt = c.string(p, "text", pp, min_len=1, max_len=text_max) or ""
            c.string(p, "negativeText", pp, min_len=1, max_len=text_max)
            c.number(p, "similarityStrength", pp, lo=0.2, hi=1.0)
            images = p.get("images")
            if "images" in p:
                if not isinstance(images, list):
                    c.add(f"{pp}/images", f"expected type: JSONArray, found: {_json_type(images)}")
                elif not 1 <= len(images) <= 5:
                    c.add(f"{pp}/images", f"expected 1 to 5 items, found: {len(images)}")
                else:
                    indexed = {str(i): item for i, item in enumerate(images)}
                    for key in indexed:
                        c.image(indexed, key, f"{pp}/images", no_transparency=True)
    elif task in ("INPAINTING", "OUTPAINTING"):
        required = ["image"] + (["text"] if task == "OUTPAINTING" else [])
        optional = ["negativeText", "maskPrompt", "maskImage"]
        if task == "INPAINTING":
            optional.append("text")
        else:
            optional.append("outPaintingMode")
        if not titan:
            optional.append("returnMask")
        if c.obj(p, pp, required=required, optional=optional) is not None:
            prompt = c.string(p, "text", pp, min_len=1, max_len=text_max) or ""
            c.string(p, "negativeText", pp, min_len=1, max_len=text_max)
            c.string(p, "maskPrompt", pp, min_len=1, max_len=text_max)
            c.boolean(p, "returnMask", pp)
            if task == "OUTPAINTING":
                c.string(p, "outPaintingMode", pp, enum=("DEFAULT", "PRECISE"))
            source = c.image(p, "image", pp, no_transparency=True)
            mask = c.image(p, "maskImage", pp, mask=True)
            if ("maskPrompt" in p) == ("maskImage" in p):
                c.add(pp, "exactly one of [maskPrompt, maskImage] is required")
            if source is not None:
                size = source.size
                if mask is not None and mask.size != source.size:
                    c.add(f"{pp}/maskImage", f"size {mask.size} differs from image {source.size}")
    elif task == "BACKGROUND_REMOVAL":
        if c.obj(p, pp, required=["image"]) is not None:
            source = c.image(p, "image", pp, no_transparency=True)
            if source is not None:
                size = source.size
        transparent = True

    # imageGenerationConfig
    cfg_path = "#/imageGenerationConfig"
    count, seed, seed_given = 1, 12 if not titan else 42, False  # [unverified] defaults
    if "imageGenerationConfig" in body and task != "BACKGROUND_REMOVAL":
        cfg_fields = ["width", "height", "quality", "numberOfImages", "cfgScale", "seed"]
        if task in ("INPAINTING", "OUTPAINTING"):
            # [AWS doc] image-gen-req-resp-structure: width and height "should not be provided
            # for the INPAINTING, OUTPAINTING, or VIRTUAL_TRY_ON task types" (they answer at
            # the input image's size).
            cfg_fields = cfg_fields[2:]
        cfg = c.obj(body["imageGenerationConfig"], cfg_path, optional=cfg_fields)
        if cfg is not None:
            width = c.integer(cfg, "width", cfg_path, lo=320, hi=4096)
            height = c.integer(cfg, "height", cfg_path, lo=320, hi=4096)
            c.string(cfg, "quality", cfg_path, enum=("standard", "premium"))
            count = c.integer(cfg, "numberOfImages", cfg_path, lo=1, hi=5) or 1
            c.number(cfg, "cfgScale", cfg_path, lo=1.1, hi=10.0)
            given = c.integer(cfg, "seed", cfg_path, lo=0, hi=seed_max)
            if given is not None:
                seed, seed_given = given, True
            if generates:
                w = width if width is not None else 1024
                h = height if height is not None else 1024
                if _check_nova_size(w, h, cfg_path, titan, c):
                    size = (w, h)
    if generates and size is None and not c.errors:
        size = (1024, 1024)
    if c.errors or size is None:
        return None
    return _Plan(
        family="nova",
        count=count if task != "BACKGROUND_REMOVAL" else 1,
        width=size[0],
        height=size[1],
        seed=seed,
        transparent=transparent,
        seed_was_given=seed_given,
        salt=f"{model_id}|{task}|{prompt}",
    )


def _check_nova_size(w: int, h: int, path: str, titan: bool, c: _Checker) -> bool:
    before = len(c.errors)
    if not (320 <= w <= 4096 and 320 <= h <= 4096):
        return False  # already reported by the bounds check
    if titan:
        if (w, h) not in TITAN_SIZES:
            c.add(path, f"{w}x{h} is not one of the supported Titan Image Generator resolutions")
        return len(c.errors) == before
    for key, value in zip(("width", "height"), (w, h), strict=True):
        if value % 16:
            c.add(f"{path}/{key}", f"{value} is not a multiple of 16")
    if not (w * 4 >= h and h * 4 >= w):
        c.add(path, f"aspect ratio of {w}x{h} is outside 1:4 to 4:1")
    # "The total pixel count must be less than 4,194,304" (AWS's wording, as quoted by AWS's
    # own MCP server and the Vercel AI SDK docs), so 2048x2048 itself is refused.
    if w * h >= 4_194_304:
        c.add(path, f"total pixel count {w * h} must be less than 4194304")
    return len(c.errors) == before


def _stability_seed(seed: int | None, salt: str) -> tuple[int, bool]:
    if seed:  # 0 means "random" [AWS doc]
        return seed, True
    digest = hashlib.sha256(salt.encode()).digest()
    return int.from_bytes(digest[:4], "big") % STABILITY_SEED_MAX + 1, False


def _check_stability_t2i(model_id: str, body: Any, c: _Checker, small: bool) -> _Plan | None:
    variant = STABILITY_T2I[_strip_profile(model_id)]
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
    real_seed, given = _stability_seed(seed, f"{model_id}|{prompt}")
    return _Plan("stability", 1, w, h, real_seed, fmt, False, given, f"{model_id}|{prompt}")


# Stability Image Services. [AWS doc] stable-image-services (Bedrock user guide): the required
# and optional parameters of each service, called with the "us." inference-profile ids that
# AWS's own examples use. Search-recolor, erase, control, style and creative services are
# modelled from the same page but not used by gallery_kit.
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


def _check_stability_service(model_id: str, body: Any, c: _Checker, small: bool) -> _Plan | None:
    spec = STABILITY_SERVICES[_strip_profile(model_id)]
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
    real_seed, given = _stability_seed(seed, f"{model_id}|{prompt}")
    return _Plan("stability", 1, w, h, real_seed, fmt, spec.transparent, given, model_id + prompt)


def _check_service_image(spec: _Service, size: tuple[int, int], path: str, c: _Checker) -> None:
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


#: Inference-profile prefixes accepted in front of the Stability ids (US profiles are the only
#: ones seen for these models).
STABILITY_PROFILE_PREFIXES: tuple[str, ...] = ("us.",)


def _strip_profile(model_id: str) -> str:
    for prefix in STABILITY_PROFILE_PREFIXES:
        if model_id.startswith(prefix):
            return model_id[len(prefix) :]
    return model_id


def model_family(model_id: str) -> str | None:
    """'nova', 'stability' (text-to-image), 'stability-service', or None if unknown."""
    if model_id in (NOVA_CANVAS, TITAN_V2):
        return "nova"
    bare = _strip_profile(model_id)
    if bare in STABILITY_T2I:
        return "stability"
    if bare in STABILITY_SERVICES:
        return "stability-service"
    return None


# --------------------------------------------------------------------------------------------
# Image generation
# --------------------------------------------------------------------------------------------


def _render(plan: _Plan, index: int) -> bytes:
    material = f"{plan.salt}|{plan.seed}|{index}|{plan.width}x{plan.height}"
    digest = hashlib.sha256(material.encode()).hexdigest()
    rng = random.Random(f"{plan.seed}|{index}")
    w, h = plan.width, plan.height
    background = (
        (0, 0, 0, 0)
        if plan.transparent
        else (rng.randrange(256), rng.randrange(256), rng.randrange(256), 255)
    )
    im = Image.new("RGBA", (w, h), background)
    draw = ImageDraw.Draw(im)
    for _ in range(3):
        x0, y0 = rng.randrange(w), rng.randrange(h)
        x1 = min(w, x0 + 1 + rng.randrange(max(1, w // 2)))
        y1 = min(h, y0 + 1 + rng.randrange(max(1, h // 2)))
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256), 255)
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    out = io.BytesIO()
    if plan.fmt == "jpeg":
        im.convert("RGB").save(out, "JPEG", quality=85, comment=f"c2pa-stand-in={digest}")
    else:
        info = PngImagePlugin.PngInfo()
        info.add_text("c2pa-stand-in", digest)
        final = im if plan.transparent else im.convert("RGB")
        final.save(out, "PNG", pnginfo=info, compress_level=1)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class _Abort(Exception):
    """The endpoint is stopping while a request was delayed: drop the connection."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    endpoint: BedrockEndpoint

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client dropping its keep-alive connection (timeouts, stop()) is normal here.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections end on their own
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stall
    wbufsize = -1  # buffered; _send flushes once per response

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        return

    def setup(self) -> None:
        super().setup()
        self.server.endpoint._track(self.connection, add=True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.endpoint._track(self.connection, add=False)

    def do_POST(self) -> None:
        self.server.endpoint._handle(self)

    def do_GET(self) -> None:
        self.server.endpoint._handle(self)

    do_PUT = do_GET
    do_DELETE = do_GET


class BedrockEndpoint:
    """A scripted, schema-checking Bedrock Runtime ``InvokeModel`` endpoint on 127.0.0.1.

    Attributes read by tests: ``url``, ``requests``, ``violations``, ``sent_images``.
    Set ``small_images = True`` to make Stability and Converse answers 1/8 of their real size.
    ``converse_text`` is the text block a Converse answer puts before its image (None: none).
    Set ``allow_bearer_token = True`` to also accept ``Authorization: Bearer ...`` (Bedrock API
    keys); by default only SigV4 is accepted.
    ``nova_seed_max`` (default ``NOVA_SEED_MAX`` = 858,993,459) is the largest Nova Canvas seed
    accepted; set it to 2_147_483_646 to follow the other reading of the docs.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host, self._port = host, port
        self.requests: list[RecordedRequest] = []
        #: The control plane's requests (ListFoundationModels), apart from the model calls.
        self.control_requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self.sent_images: list[bytes] = []
        self.small_images = False
        self.allow_bearer_token = False
        self.nova_seed_max = NOVA_SEED_MAX
        self.converse_text: str | None = "Here is the image you asked for."
        #: GET /foundation-models: region -> model summaries ("*" for any other region), or
        #: set ``foundation_models_reply`` (e.g. an AccessDeniedException) to answer that.
        self.foundation_models: dict[str, list[dict[str, Any]]] = {
            k: list(v) for k, v in DEFAULT_FOUNDATION_MODELS.items()
        }
        self.foundation_models_reply: Reply | None = None
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque()
        self._default = Reply.ok()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ----
    def start(self) -> BedrockEndpoint:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self._host, self._port), _Handler)
        server.endpoint = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake delayed requests, close open connections and join."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> BedrockEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the endpoint is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def port(self) -> int:
        return int(urlsplit(self.url).port or 0)

    # ---- scripting ----
    def script(self, *replies: Reply) -> None:
        """Queue replies for the next valid requests, in order; then ``always``/ok behaviour."""
        with self._lock:
            self._queue.extend(replies)

    def always(self, reply: Reply) -> None:
        """Replace the default behaviour (after the queue) until ``reset()``."""
        with self._lock:
            self._default = reply

    def reset(self) -> None:
        """Clear the script and the default behaviour. Recorded lists are kept."""
        with self._lock:
            self._queue.clear()
            self._default = Reply.ok()

    def clear_records(self) -> None:
        with self._lock:
            self.requests.clear()
            self.control_requests.clear()
            self.violations.clear()
            self.sent_images.clear()

    @property
    def pending_script(self) -> int:
        with self._lock:
            return len(self._queue)

    # ---- internals ----
    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._queue.popleft() if self._queue else self._default

    def _violation(self, text: str) -> None:
        with self._lock:
            self.violations.append(text)

    def _handle(self, h: _Handler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        path = urlsplit(h.path).path
        match = re.fullmatch(r"/model/([^/]+)/(?:invoke|converse)", path)
        model_id = unquote(match.group(1)) if match else ""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k: v for k, v in h.headers.items()}
        record = RecordedRequest(model_id, body, headers, h.path, raw)
        with self._lock:
            # Listings are free and asked at start: kept apart from the (paid) model calls.
            control = path == "/foundation-models"
            (self.control_requests if control else self.requests).append(record)
        try:
            self._respond(h, raw, body, model_id, match is not None, path)
        except _Abort:
            h.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True

    def _respond(
        self, h: _Handler, raw: bytes, body: Any, model_id: str, routed: bool, path: str
    ) -> None:
        auth = h.headers.get("Authorization")
        if not auth:
            self._send_error(h, "MissingAuthenticationTokenException", MESSAGES["missing_auth"])
            return
        bearer_ok = self.allow_bearer_token and auth.startswith("Bearer ")
        if not (auth.startswith("AWS4-HMAC-SHA256 ") or bearer_ok):
            self._send_error(h, "UnrecognizedClientException", MESSAGES["bad_auth"])
            return
        if h.command == "GET" and path == "/foundation-models":
            self._list_foundation_models(h)
            return
        if h.command != "POST" or not routed:
            self._violation(f"unsupported operation: {h.command} {path}")
            self._send_error(
                h, "UnknownOperationException", f"Unknown operation {h.command} {path}"
            )
            return
        from tests.support.bedrock import converse

        if converse.handles(path, model_id):
            converse.respond(self, h, raw, body, model_id, path)
            return

        family = model_family(model_id)
        if family is None:
            self._violation(f"{model_id}: unknown model identifier")
            self._send_error(h, "ValidationException", MESSAGES["invalid_model_id"])
            return

        checker = _Checker()
        content_type = h.headers.get("Content-Type")
        if content_type and content_type.split(";")[0].strip().lower() != "application/json":
            checker.add("Content-Type", f"{content_type} is not application/json")
        accept = h.headers.get("Accept")
        if accept and accept.split(";")[0].strip().lower() not in ("application/json", "*/*"):
            checker.add("Accept", f"{accept} is not application/json")
        plan: _Plan | None = None
        if body is None and not checker.errors:
            checker.add("#", "request body is not valid JSON" if raw else "request body is empty")
        elif not checker.errors:
            if family == "nova":
                plan = _check_nova(model_id, body, checker, self.nova_seed_max)
            elif family == "stability":
                plan = _check_stability_t2i(model_id, body, checker, self.small_images)
            else:
                plan = _check_stability_service(model_id, body, checker, self.small_images)
        if checker.errors or plan is None:
            errors = checker.errors or ["#: request rejected"]
            for error in errors:
                self._violation(f"{model_id}: {error}")
            message = (
                "Malformed input request: "
                + "; ".join(errors)
                + ", please reformat your input and try again."
            )
            self._send_error(h, "ValidationException", message)
            return

        self._play(h, self._next_reply(), plan)

    def _list_foundation_models(self, h: _Handler) -> None:
        reply = self.foundation_models_reply
        if reply is not None and reply.kind == "error":
            self._send_error(h, reply.code or "AccessDeniedException", reply.message or "")
            return
        query = parse_qs(urlsplit(h.path).query)
        unknown = sorted(set(query) - {"byProvider", "byOutputModality", "byInferenceType"})
        if unknown:
            self._violation(f"ListFoundationModels: unsupported query parameter {unknown[0]}")
        region = RecordedRequest("", None, dict(h.headers.items())).region or "*"
        models = self.foundation_models.get(region, self.foundation_models.get("*", []))
        wanted = query.get("byOutputModality", [None])[0]
        provider = (query.get("byProvider", [None])[0] or "").lower()
        summaries = [
            m
            for m in models
            if (wanted is None or wanted in m["outputModalities"])
            and (not provider or m["providerName"].lower() == provider)
        ]
        self._send_json(h, {"modelSummaries": summaries})

    def _play(self, h: _Handler, reply: Reply, plan: _Plan) -> None:
        kind = reply.kind
        if kind == "delay":
            if self._stopping.wait(reply.seconds):
                raise _Abort
            self._play(h, reply.then or Reply.ok(), plan)
            return
        if kind == "error":
            self._send_error(
                h, reply.code or "ValidationException", reply.message or "", reply.status
            )
            return
        if kind == "garbage":
            self._send(h, 200, b"<html><body>502 Bad Gateway</body></html>")
            return
        if kind == "no_images":
            self._send_json(h, {})
            return
        if kind == "bad_base64":
            payload: dict[str, Any] = {"images": ["not base64!!"]}
            if plan.family == "stability":
                payload = {"seeds": [plan.seed], "finish_reasons": [None], **payload}
            self._send_json(h, payload)
            return
        if plan.family == "nova":
            if kind == "filtered_all":
                self._send_error(h, "ValidationException", MESSAGES["nova_blocked_text"])
                return
            keep = plan.count
            error: str | None = None
            if kind == "filtered_some":
                keep = max(0, plan.count - 1) if reply.kept is None else min(reply.kept, plan.count)
                error = MESSAGES["nova_output_some"] if keep else MESSAGES["nova_output_all"]
            images = [self._image(plan, i) for i in range(keep)]
            nova: dict[str, Any] = {"images": images}
            if error is not None:
                nova["error"] = error
            self._send_json(h, nova)
            return
        # Stability (text-to-image and services): one image per call.
        if kind in ("filtered_all", "filtered_some"):
            reason = STABILITY_FILTER_PROMPT if kind == "filtered_all" else STABILITY_FILTER_OUTPUT
            self._send_json(h, {"finish_reasons": [reason]})
            return
        image = self._image(plan, 0)
        self._send_json(h, {"seeds": [plan.seed], "finish_reasons": [None], "images": [image]})

    def _image(self, plan: _Plan, index: int) -> str:
        data = _render(plan, index)
        with self._lock:
            self.sent_images.append(data)
        return base64.b64encode(data).decode("ascii")

    # ---- writing ----
    def _send_json(self, h: _Handler, payload: Any) -> None:
        self._send(h, 200, json.dumps(payload).encode())

    def _send_error(self, h: _Handler, code: str, message: str, status: int | None = None) -> None:
        status = status or ERROR_STATUS.get(code, 400)
        body = json.dumps({"message": message}).encode()
        self._send(h, status, body, {"x-amzn-ErrorType": code + ERROR_TYPE_SUFFIX})

    def _send(
        self, h: _Handler, status: int, body: bytes, extra: dict[str, str] | None = None
    ) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for key, value in (extra or {}).items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()
