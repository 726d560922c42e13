"""Bedrock Runtime ``Converse`` for Amazon Nova 2 Omni (preview), served by the local endpoint.

The endpoint routes ``POST /model/{modelId}/converse`` here (and refuses an ``InvokeModel`` aimed
at an Omni id, which gallery_kit must not send); ``converse_shapes`` checks the request against
botocore's shapes, and a violation answers ``400 ValidationException`` naming the field
("Malformed input request: #/messages/0/content: ...").

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
import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.support.bedrock.checks import Checker
from tests.support.bedrock.converse_shapes import check_request
from tests.support.bedrock.images import Plan
from tests.support.bedrock.replies import MESSAGES, Reply

__all__ = [
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
# The plan of the ok answer, and the answers
# --------------------------------------------------------------------------------------------


@dataclass
class ConversePlan:
    """The image to render (``render`` is the small size when asked), its full size for the
    token count, and the input tokens of the request."""

    render: Plan
    full_size: tuple[int, int]
    input_tokens: int


def check(model_id: str, body: Any, c: Checker, small: bool) -> ConversePlan | None:
    """The plan of the ok answer to ``body``, or None (the errors are in ``c``)."""
    request = check_request(body, c)
    if request is None:
        return None
    prompt = last_user_text(body)
    ratio = requested_ratio(prompt) or requested_ratio("\n".join(request.system_texts))
    if ratio is not None:
        size = omni_output_size(ratio)
    elif request.images:
        size = request.images[-1][0]
    else:
        size = OMNI_DEFAULT_SIZE
    width, height = (max(8, size[0] // 8), max(8, size[1] // 8)) if small else size
    digest = hashlib.sha256()
    digest.update(prompt.encode())
    for _size, data in request.images:
        digest.update(hashlib.sha256(data).digest())
    salt = f"{model_id}|{digest.hexdigest()}"
    seed = int.from_bytes(digest.digest()[:4], "big")
    text_chars = sum(len(t) for t in request.texts) + sum(len(t) for t in request.system_texts)
    input_tokens = max(1, math.ceil(text_chars / 4)) + IMAGE_INPUT_TOKENS * request.image_blocks
    render = Plan(1, width, height, seed, "png", False, False, salt)
    return ConversePlan(render, size, input_tokens)


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
