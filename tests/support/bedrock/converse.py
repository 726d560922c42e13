"""Bedrock Runtime ``Converse`` for Amazon Nova 2 Omni (preview), served by the local endpoint.

The endpoint routes ``POST /model/{modelId}/converse`` here (and refuses an ``InvokeModel`` aimed
at an Omni id, which gallery_kit must not send); auth, scripting with ``Reply``, recording and
the transport checks stay in ``server`` and ``checks``.

Request checks follow botocore's own service model (bedrock-runtime 2023-09-30, shapes
``ConverseRequest``, ``Message``, ``ContentBlock``, ``ImageBlock``, ``ImageSource``,
``InferenceConfiguration``, ``SystemContentBlock``), loaded from the installed botocore so the set
of allowed top-level keys moves with it. Blob members (image ``bytes``) travel base64-encoded in
the JSON, as botocore sends them. A violation answers ``400 ValidationException`` naming the field
("Malformed input request: #/messages/0/content: ...") and is appended to
``endpoint.violations``.

The ok answer is a ``ConverseResponse``: an assistant message with an optional text block
(``endpoint.converse_text``) and one PNG image block rendered like every endpoint image (it
carries the ``c2pa-stand-in`` tEXt chunk and is appended to ``endpoint.sent_images``). Its size
follows an aspect ratio written in the last user text ("... in 16:9 aspect ratio"), else the
newest input image's size (an edit), else 1024x1024.

Sources are noted next to each constant ("[AWS doc]", "[botocore]", "[seen]" for public code or
bug reports, "[guessed]"); /tmp/omni_facts.md of the task that added this has the long form.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.support.bedrock.checks import Checker
from tests.support.bedrock.images import Plan
from tests.support.bedrock.replies import MESSAGES, Reply

__all__ = [
    "CONVERSE_IMAGE_FORMATS",
    "CONVERSE_MESSAGES",
    "OMNI_ASPECT_SIZES",
    "OMNI_MODEL_IDS",
    "answer",
    "check",
    "converse_images",
    "converse_texts",
    "is_omni",
    "last_user_text",
    "omni_output_size",
    "requested_ratio",
]

# --------------------------------------------------------------------------------------------
# Facts
# --------------------------------------------------------------------------------------------

#: [seen] aws-samples/sample-building-intelligent-multimodal-applications-with-Nova (lab-01,
#: lab-02) and daekeun-ml/nova-2-omni-examples (src/common.py) use "us.amazon.nova-2-omni-v1:0"
#: in us-west-2; the "global." profile is the brief's. Only these two are served.
OMNI_MODEL_IDS: tuple[str, ...] = ("us.amazon.nova-2-omni-v1:0", "global.amazon.nova-2-omni-v1:0")

#: [botocore] ImageFormat enum.
CONVERSE_IMAGE_FORMATS: tuple[str, ...] = ("png", "jpeg", "gif", "webp")
_PIL_FORMATS = {"PNG": "png", "JPEG": "jpeg", "GIF": "gif", "WEBP": "webp"}
#: [botocore] Message.content documentation: "You can include up to 20 images. Each image's
#: size, height, and width must be no more than 3.75 MB, 8000 px, and 8000 px, respectively."
#: 3.75 MB is read as 3,750,000 bytes (the stricter reading); 20 is counted per request.
CONVERSE_IMAGE_MAX_BYTES = 3_750_000
CONVERSE_IMAGE_MAX_SIDE = 8000
CONVERSE_MAX_IMAGES = 20

#: Output sizes per aspect ratio. The first nine ratios are the ones that
#: daekeun-ml/nova-2-omni-examples (src/image_generation.py) offers and writes into the prompt
#: ("in 16:9 aspect ratio"); the pixel sizes are [guessed] (about one megapixel, exact ratio,
#: multiples of 16): no documented Nova 2 Omni output resolution table was found. Other ratios
#: snap to the nearest one here ([seen, weak] a public script asked Omni for 3:1 and handled a
#: 2:1 answer).
OMNI_ASPECT_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "16:9": (1280, 720),
    "9:16": (720, 1280),
    "4:3": (1152, 864),
    "3:4": (864, 1152),
    "3:2": (1248, 832),
    "2:3": (832, 1248),
    "2:1": (1440, 720),
    "1:2": (720, 1440),
    # Not in that list, but in gallery_kit's own ratio list (kept so its 21:9 asks come back
    # 21:9; real Omni may snap them): [guessed] too.
    "21:9": (1568, 672),
    "9:21": (672, 1568),
}
OMNI_DEFAULT_SIZE = OMNI_ASPECT_SIZES["1:1"]  # [guessed] no ratio asked and no input image

#: [seen, weak] Nova 2 user guide (multimodal understanding, via a mirror): input images are
#: "billed at a flat rate of 230 tokens per image" (written for Nova 2 Lite).
IMAGE_INPUT_TOKENS = 230
#: [guessed] output tokens of a generated image: one per 32x32 patch (1024 for 1024x1024).
IMAGE_OUTPUT_PATCH = 32

#: Answer texts.
CONVERSE_MESSAGES: dict[str, str] = {
    # [guessed] stand-in for a model that answers in words only.
    "text_only": "I can describe that, but I did not generate an image for this request.",
    # [AWS doc] Nova Canvas input-deflection wording (image-gen-errors.html), reused [guessed]
    # for Omni's content_filtered answer to a blocked prompt.
    "filtered_input": MESSAGES["nova_blocked_text"],
    # [guessed] modelled on Nova's "The generated text has been blocked by our content
    # filters." (recalled, unverified) for a blocked output image.
    "filtered_output": "The generated image has been blocked by our content filters.",
}

#: "16:9", "of 16:9: a fox", "ratio:2:3" - not clock times ("12:30:15") nor "1: 2".
_RATIO = re.compile(r"(?<![\d.])(?<!\d:)(\d{1,2}):(\d{1,2})(?!\d|[.:]\d)")

# --------------------------------------------------------------------------------------------
# Public helpers (for tests)
# --------------------------------------------------------------------------------------------


def is_omni(model_id: str) -> bool:
    return model_id in OMNI_MODEL_IDS


def converse_images(body: Any) -> list[bytes]:
    """The decoded bytes of every image block the client sent, in message order."""
    out: list[bytes] = []
    for _role, block in _blocks(body):
        image = block.get("image")
        source = image.get("source") if isinstance(image, dict) else None
        data = source.get("bytes") if isinstance(source, dict) else None
        if isinstance(data, str):
            with contextlib.suppress(binascii.Error, ValueError):
                out.append(base64.b64decode(data, validate=True))
    return out


def converse_texts(body: Any, role: str | None = None) -> list[str]:
    """Every text block of the messages (only ``role``'s when given), in order."""
    return [
        block["text"]
        for r, block in _blocks(body)
        if isinstance(block.get("text"), str) and (role is None or r == role)
    ]


def last_user_text(body: Any) -> str:
    """The text blocks of the last user message, joined by newlines."""
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "\n".join(
                    b["text"]
                    for b in content
                    if isinstance(b, dict) and isinstance(b.get("text"), str)
                )
            return ""
    return ""


def requested_ratio(text: str) -> str | None:
    """The first ``W:H`` written in ``text`` ("aspect ratio 16:9", "in 2:3 portrait format")."""
    for match in _RATIO.finditer(text):
        w, h = int(match.group(1)), int(match.group(2))
        if w and h:
            return f"{w}:{h}"
    return None


def omni_output_size(ratio: str) -> tuple[int, int]:
    """The output size for ``ratio``: its own entry, else the nearest supported ratio's."""
    if ratio in OMNI_ASPECT_SIZES:
        return OMNI_ASPECT_SIZES[ratio]
    w, h = (int(x) for x in ratio.split(":"))
    wanted = math.log(w / h)
    return min(OMNI_ASPECT_SIZES.values(), key=lambda s: abs(math.log(s[0] / s[1]) - wanted))


def _blocks(body: Any) -> list[tuple[str, dict[str, Any]]]:
    messages = body.get("messages") if isinstance(body, dict) else None
    out: list[tuple[str, dict[str, Any]]] = []
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict) or not isinstance(message.get("content"), list):
            continue
        role = str(message.get("role"))
        out.extend((role, b) for b in message["content"] if isinstance(b, dict))
    return out


# --------------------------------------------------------------------------------------------
# botocore's shapes
# --------------------------------------------------------------------------------------------


@functools.cache
def _shapes() -> dict[str, Any]:
    from botocore.loaders import create_loader

    model: dict[str, Any] = create_loader().load_service_model("bedrock-runtime", "service-2")
    return dict(model["shapes"])


def _members(shape: str) -> dict[str, Any]:
    return dict(_shapes()[shape].get("members", {}))


def _body_members() -> dict[str, Any]:
    """ConverseRequest members that travel in the JSON body (modelId is in the URI)."""
    return {k: v for k, v in _members("ConverseRequest").items() if v.get("location") is None}


_JSON_TYPES = {
    "structure": (dict, "JSONObject"),
    "map": (dict, "JSONObject"),
    "list": (list, "JSONArray"),
    "string": (str, "String"),
    "boolean": (bool, "Boolean"),
}


def _shallow(value: Any, shape_name: str, path: str, c: Checker) -> None:
    """A type check by the botocore shape's type, for members not checked in depth."""
    shape = _shapes()[shape_name]
    if shape.get("document"):
        return
    expected = _JSON_TYPES.get(shape["type"])
    if expected is not None and not isinstance(value, expected[0]):
        c.wrong_type(path, expected[1], value)


# --------------------------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------------------------


@dataclass
class _State:
    texts: list[str] = field(default_factory=list)
    images: list[tuple[tuple[int, int], bytes]] = field(default_factory=list)
    image_blocks: int = 0


@dataclass
class ConversePlan:
    render: Plan
    full_size: tuple[int, int]
    input_tokens: int


def check(model_id: str, body: Any, c: Checker, small: bool) -> ConversePlan | None:
    """The plan of the ok answer to ``body``, or None (the errors are in ``c``)."""
    members = _body_members()
    b = c.obj(body, "#", required=["messages"], optional=[k for k in members if k != "messages"])
    if b is None:
        return None
    state = _State()
    _check_messages(b, c, state)
    system_texts = _check_system(b, c)
    _check_inference_config(b, c)
    _check_additional_fields(b, c)
    deep = {"messages", "system", "inferenceConfig", "additionalModelRequestFields"}
    for key, spec in members.items():
        if key in b and key not in deep:
            _check_other(b, key, spec["shape"], c)
    if state.image_blocks > CONVERSE_MAX_IMAGES:
        count = state.image_blocks
        c.add("#/messages", f"{count} images exceed the limit of {CONVERSE_MAX_IMAGES}")
    if c.errors:
        return None

    prompt = last_user_text(b)
    ratio = requested_ratio(prompt) or requested_ratio("\n".join(system_texts))
    if ratio is not None:
        size = omni_output_size(ratio)
    elif state.images:
        size = state.images[-1][0]
    else:
        size = OMNI_DEFAULT_SIZE
    width, height = (max(8, size[0] // 8), max(8, size[1] // 8)) if small else size
    digest = hashlib.sha256()
    digest.update(prompt.encode())
    for _size, data in state.images:
        digest.update(hashlib.sha256(data).digest())
    salt = f"{model_id}|{digest.hexdigest()}"
    seed = int.from_bytes(digest.digest()[:4], "big")
    text_chars = sum(len(t) for t in state.texts) + sum(len(t) for t in system_texts)
    input_tokens = max(1, math.ceil(text_chars / 4)) + IMAGE_INPUT_TOKENS * state.image_blocks
    render = Plan("omni", 1, width, height, seed, "png", False, False, salt)
    return ConversePlan(render, size, input_tokens)


def _check_messages(b: dict[str, Any], c: Checker, state: _State) -> None:
    if "messages" not in b:
        return
    messages = c.array(b["messages"], "#/messages")
    if messages is None:
        return
    if not messages:
        c.add("#/messages", "expected minItems: 1, actual: 0")
        return
    allowed = list(_members("Message"))
    previous: str | None = None
    for i, message in enumerate(messages):
        mp = f"#/messages/{i}"
        m = c.obj(message, mp, required=["role", "content"], optional=allowed)
        if m is None:
            continue
        # botocore's ConversationRole also lists "system"; for Nova the system prompt goes in
        # the top-level "system" field ([guessed] that Bedrock refuses it in messages).
        role = c.string(m, "role", mp, enum=("user", "assistant", "system"))
        if role == "system":
            c.add(f"{mp}/role", "system is not a valid message role; use the top-level system")
        elif role is not None:
            # [AWS doc] Nova user guide (invoke.html): "the first message must always use the
            # user role"; Converse refuses two turns of the same role in a row.
            if i == 0 and role != "user":
                c.add(f"{mp}/role", "a conversation must start with a user message")
            if role == previous:
                c.add(f"{mp}/role", "a conversation must alternate between user and assistant")
        previous = role
        if "content" not in m:
            continue
        content = c.array(m["content"], f"{mp}/content")
        if content is None:
            continue
        if not content:
            c.add(f"{mp}/content", "expected minItems: 1, actual: 0")
            continue
        for j, block in enumerate(content):
            _check_block(block, f"{mp}/content/{j}", role, c, state)


def _union_member(value: Any, path: str, shape: str, c: Checker) -> str | None:
    """The one member set in a botocore union, or None (and an error)."""
    if not isinstance(value, dict):
        c.wrong_type(path, "JSONObject", value)
        return None
    keys = list(value)
    if len(keys) != 1:
        found = ", ".join(keys) if keys else "none"
        c.add(path, f"exactly one member of {shape} must be set, found {len(keys)} [{found}]")
        return None
    if keys[0] not in _members(shape):
        c.add(path, f"extraneous key [{keys[0]}] is not permitted")
        return None
    return keys[0]


def _check_block(block: Any, bp: str, role: str | None, c: Checker, state: _State) -> None:
    key = _union_member(block, bp, "ContentBlock", c)
    if key is None:
        return
    value = block[key]
    if key == "text":
        if not isinstance(value, str):
            c.wrong_type(f"{bp}/text", "String", value)
        elif not value.strip():
            c.add(f"{bp}/text", "is blank; add text to the text field")
        else:
            state.texts.append(value)
    elif key == "image":
        state.image_blocks += 1
        decoded = _check_image(value, f"{bp}/image", c)
        if decoded is not None:
            state.images.append(decoded)
    elif key == "reasoningContent" and role == "assistant":
        _shallow(value, "ReasoningContentBlock", f"{bp}/{key}", c)
    else:
        c.add(f"{bp}/{key}", "is not modelled by this test endpoint (only text and image blocks)")


def _check_image(value: Any, ip: str, c: Checker) -> tuple[tuple[int, int], bytes] | None:
    img = c.obj(value, ip, required=["format", "source"], optional=list(_members("ImageBlock")))
    if img is None:
        return None
    fmt = c.string(img, "format", ip, enum=CONVERSE_IMAGE_FORMATS)
    if "source" not in img:
        return None
    sp = f"{ip}/source"
    key = _union_member(img["source"], sp, "ImageSource", c)
    if key is None:
        return None
    if key != "bytes":
        c.add(f"{sp}/{key}", "is not modelled by this test endpoint (send the image bytes)")
        return None
    bp = f"{sp}/bytes"
    data = c.base64(img["source"]["bytes"], bp, expected="String (base64)")
    if data is None:
        return None
    if not data:
        c.add(bp, "expected minLength: 1, actual: 0")
        return None
    if len(data) > CONVERSE_IMAGE_MAX_BYTES:
        c.add(bp, f"image of {len(data)} bytes exceeds {CONVERSE_IMAGE_MAX_BYTES} bytes (3.75 MB)")
        return None
    im = c.decoded(data, bp)
    if im is None:
        return None
    real, size = _PIL_FORMATS.get(str(im.format)), im.size
    if real is None:
        c.add(bp, "image data is not PNG, JPEG, GIF or WebP")
        return None
    if fmt is not None and real != fmt:
        c.add(f"{ip}/format", f"{fmt} does not match the image data, which is {real}")
    if max(size) > CONVERSE_IMAGE_MAX_SIDE:
        c.add(bp, f"image of {size[0]}x{size[1]} exceeds {CONVERSE_IMAGE_MAX_SIDE} px per side")
    return size, data


def _check_system(b: dict[str, Any], c: Checker) -> list[str]:
    texts: list[str] = []
    if "system" not in b:
        return texts
    system = c.array(b["system"], "#/system")
    if system is None:
        return texts
    for i, block in enumerate(system):
        bp = f"#/system/{i}"
        key = _union_member(block, bp, "SystemContentBlock", c)
        if key == "text":
            text = c.string(block, "text", bp, min_len=1)  # [botocore] NonEmptyString
            if text:
                texts.append(text)
        elif key is not None:
            _shallow(block[key], _members("SystemContentBlock")[key]["shape"], f"{bp}/{key}", c)
    return texts


def _check_inference_config(b: dict[str, Any], c: Checker) -> None:
    if "inferenceConfig" not in b:
        return
    path = "#/inferenceConfig"
    cfg = c.obj(b["inferenceConfig"], path, optional=list(_members("InferenceConfiguration")))
    if cfg is None:
        return
    c.integer(cfg, "maxTokens", path, lo=1)  # [botocore] min 1
    c.number(cfg, "temperature", path, lo=0.0, hi=1.0)  # [botocore] 0..1
    c.number(cfg, "topP", path, lo=0.0, hi=1.0)  # [botocore] 0..1
    sp = f"{path}/stopSequences"
    stops = c.array(cfg["stopSequences"], sp) if "stopSequences" in cfg else None
    if stops is not None and len(stops) > 2500:  # [botocore] max 2500
        c.add(sp, f"expected maxItems: 2500, actual: {len(stops)}")
    elif stops is not None:
        for i, stop in enumerate(stops):
            if not isinstance(stop, str) or not stop:
                c.add(f"{sp}/{i}", "expected a non-empty String")


def _check_additional_fields(b: dict[str, Any], c: Checker) -> None:
    """A free-form document; the Nova keys seen in public code are checked when present."""
    if "additionalModelRequestFields" not in b:
        return
    path = "#/additionalModelRequestFields"
    extra = b["additionalModelRequestFields"]
    if not isinstance(extra, dict):
        c.wrong_type(path, "JSONObject", extra)
        return
    # [seen] both sample repos: {"reasoningConfig": {"type": "enabled",
    # "maxReasoningEffort": "medium"|"high"}}; "low" and "disabled" are [guessed].
    if "reasoningConfig" in extra:
        rp = f"{path}/reasoningConfig"
        rc = c.obj(extra["reasoningConfig"], rp, required=["type"], optional=["maxReasoningEffort"])
        if rc is not None:
            c.string(rc, "type", rp, enum=("enabled", "disabled"))
            c.string(rc, "maxReasoningEffort", rp, enum=("low", "medium", "high"))
    # [AWS doc] Nova user guide (invoke.html): topK "need[s] to be passed in
    # additionalModelRequestFields" for Converse, as {"inferenceConfig": {"topK": N}}.
    if "inferenceConfig" in extra:
        ip = f"{path}/inferenceConfig"
        ic = c.obj(extra["inferenceConfig"], ip, optional=["topK"])
        if ic is not None:
            c.integer(ic, "topK", ip, lo=1)


def _check_other(b: dict[str, Any], key: str, shape: str, c: Checker) -> None:
    value, path = b[key], f"#/{key}"
    _shallow(value, shape, path, c)
    if key == "serviceTier" and isinstance(value, dict):
        c.obj(value, path, required=["type"])
        c.string(value, "type", path, enum=_shapes()["ServiceTierType"]["enum"])
    elif key == "performanceConfig" and isinstance(value, dict):
        c.obj(value, path, optional=["latency"])
        c.string(value, "latency", path, enum=_shapes()["PerformanceConfigLatency"]["enum"])
    elif key == "additionalModelResponseFieldPaths" and isinstance(value, list):
        if len(value) > 10:  # [botocore] max 10, each 1..256 characters
            c.add(path, f"expected maxItems: 10, actual: {len(value)}")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not 1 <= len(item) <= 256:
                c.add(f"{path}/{i}", "expected a String of 1 to 256 characters")


# --------------------------------------------------------------------------------------------
# The answer
# --------------------------------------------------------------------------------------------


def answer(
    reply: Reply,
    plan: ConversePlan,
    image: Callable[[Plan, int], str],
    text: str | None,
) -> dict[str, Any]:
    """The ConverseResponse to a valid request, as ``reply`` scripts it (``image`` renders one,
    base64; ``text`` is the text block before it, None for none)."""
    kind = reply.kind
    if kind in ("text_only", "no_images"):
        words = reply.message or CONVERSE_MESSAGES["text_only"]
        return _response(plan, [{"text": words}], "end_turn", _text_tokens(words))
    if kind in ("filtered_all", "filtered_some"):
        words = CONVERSE_MESSAGES["filtered_input" if kind == "filtered_all" else "filtered_output"]
        return _response(plan, [{"text": words}], "content_filtered", _text_tokens(words))
    content: list[dict[str, Any]] = []
    tokens = 0
    if text is not None:
        content.append({"text": text})
        tokens += _text_tokens(text)
    data = "not base64!!" if kind == "bad_base64" else image(plan.render, 0)
    content.append({"image": {"format": "png", "source": {"bytes": data}}})
    w, h = plan.full_size
    tokens += math.ceil(w / IMAGE_OUTPUT_PATCH) * math.ceil(h / IMAGE_OUTPUT_PATCH)
    return _response(plan, content, "end_turn", tokens)


def _text_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def _response(
    plan: ConversePlan, content: list[dict[str, Any]], stop_reason: str, output_tokens: int
) -> dict[str, Any]:
    """A ConverseResponse ([botocore]: output, stopReason, usage, metrics are required)."""
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason,
        "usage": {
            "inputTokens": plan.input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": plan.input_tokens + output_tokens,
        },
        "metrics": {"latencyMs": 123},
    }
