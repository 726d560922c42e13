"""The shape of a Converse request, checked against botocore's own service model.

bedrock-runtime 2023-09-30, shapes ``ConverseRequest``, ``Message``, ``ContentBlock``,
``ImageBlock``, ``ImageSource``, ``InferenceConfiguration``, ``SystemContentBlock``, loaded from
the installed botocore so the set of allowed keys moves with it. Blob members (image ``bytes``)
travel base64-encoded in the JSON, as botocore sends them. Only text and image blocks are
modelled; ``converse`` makes Nova 2 Omni's answer from what ``check_request`` read.

Sources are noted next to each constant ("[AWS doc]", "[botocore]", "[seen]" for public code or
bug reports, "[guessed]").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from tests.support.bedrock.checks import Checker

__all__ = ["CONVERSE_IMAGE_FORMATS", "CheckedRequest", "check_request"]

#: [botocore] ImageFormat enum.
CONVERSE_IMAGE_FORMATS: tuple[str, ...] = ("png", "jpeg", "gif", "webp")
_PIL_FORMATS = {"PNG": "png", "JPEG": "jpeg", "GIF": "gif", "WEBP": "webp"}
#: [botocore] Message.content documentation: "You can include up to 20 images. Each image's
#: size, height, and width must be no more than 3.75 MB, 8000 px, and 8000 px, respectively."
#: 3.75 MB is read as 3,750,000 bytes (the stricter reading); 20 is counted per request.
CONVERSE_IMAGE_MAX_BYTES = 3_750_000
CONVERSE_IMAGE_MAX_SIDE = 8000
CONVERSE_MAX_IMAGES = 20


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


@dataclass
class CheckedRequest:
    """What the answer depends on, read from a request that passed the checks."""

    texts: list[str] = field(default_factory=list)
    images: list[tuple[tuple[int, int], bytes]] = field(default_factory=list)
    image_blocks: int = 0
    system_texts: list[str] = field(default_factory=list)


def check_request(body: Any, c: Checker) -> CheckedRequest | None:
    """The request ``body`` makes, or None (the errors are in ``c``)."""
    members = _body_members()
    b = c.obj(body, "#", required=["messages"], optional=[k for k in members if k != "messages"])
    if b is None:
        return None
    state = CheckedRequest()
    _check_messages(b, c, state)
    state.system_texts = _check_system(b, c)
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
    return state


def _check_messages(b: dict[str, Any], c: Checker, state: CheckedRequest) -> None:
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


def _check_block(block: Any, bp: str, role: str | None, c: Checker, state: CheckedRequest) -> None:
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
