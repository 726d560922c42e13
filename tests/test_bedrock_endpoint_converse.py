"""Self-tests of the local endpoint's Converse API for Amazon Nova 2 Omni (preview), driven
through a real boto3 ``bedrock-runtime`` client (raw HTTP where boto3 itself refuses the body)."""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from PIL import Image

from tests.support.bedrock import (
    CONVERSE_MESSAGES,
    MESSAGES,
    OMNI_ASPECT_SIZES,
    BedrockEndpoint,
    Reply,
    converse_images,
    converse_texts,
    image_size,
    last_user_text,
    requested_ratio,
    stand_in_of,
)

OMNI = "us.amazon.nova-2-omni-v1:0"
OMNI_GLOBAL = "global.amazon.nova-2-omni-v1:0"
NOVA_CANVAS = "amazon.nova-canvas-v1:0"
ERROR_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
# The endpoint only checks the scheme prefix of the Authorization header.
AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIDGALLERYKITTEST01/20250101/us-west-2/bedrock/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=00"
)


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def _image(
    size: tuple[int, int] = (64, 48), fmt: str = "PNG", colour: Any = (10, 120, 200)
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def _user(*content: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "content": list(content)}


def _text(text: str) -> dict[str, Any]:
    return {"text": text}


def _img(data: bytes, fmt: str = "png") -> dict[str, Any]:
    return {"image": {"format": fmt, "source": {"bytes": data}}}


def _b64_img(data: bytes, fmt: str = "png") -> dict[str, Any]:
    """An image block as it travels on the wire (botocore base64-encodes blobs)."""
    return {"image": {"format": fmt, "source": {"bytes": base64.b64encode(data).decode()}}}


@pytest.fixture
def ep() -> Iterator[BedrockEndpoint]:
    with BedrockEndpoint() as endpoint:
        yield endpoint


@pytest.fixture
def client(ep: BedrockEndpoint) -> Any:
    return boto3.client(
        "bedrock-runtime",
        region_name="us-west-2",
        endpoint_url=ep.url,
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=10),
    )


def _converse(client: Any, *messages: dict[str, Any], model: str = OMNI, **kw: Any) -> Any:
    response = client.converse(modelId=model, messages=list(messages), **kw)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    return response


def _blocks(response: Any) -> list[dict[str, Any]]:
    message = response["output"]["message"]
    assert message["role"] == "assistant"
    blocks: list[dict[str, Any]] = message["content"]
    return blocks


def _only_image(response: Any) -> bytes:
    images = [b["image"] for b in _blocks(response) if "image" in b]
    assert len(images) == 1
    assert images[0]["format"] == "png"
    data: bytes = images[0]["source"]["bytes"]
    return data


def _raw(
    ep: BedrockEndpoint, body: Any, model: str = OMNI, operation: str = "converse"
) -> tuple[int, str, Any]:
    """POST a body (dict -> JSON) the way botocore would, but unchecked by botocore."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn = http.client.HTTPConnection("127.0.0.1", ep.port, timeout=5)
    try:
        conn.request(
            "POST",
            f"/model/{quote(model, safe='')}/{operation}",
            body=data,
            headers={"Authorization": AUTH, "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        kind = (response.getheader("x-amzn-ErrorType") or "").split(":")[0]
        return response.status, kind, json.loads(response.read())
    finally:
        conn.close()


def _expect_validation(call: Any, *fragments: str) -> str:
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    message: str = error["Message"]
    for fragment in fragments:
        assert fragment in message
    return message


# ------------------------------------------------------------------------------------------
# text to image
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "size"),
    [
        ("A lighthouse at dusk", (1024, 1024)),
        ("A lighthouse at dusk, aspect ratio 16:9", (1280, 720)),
        ("Create an image: a lighthouse in 2:3 portrait format", (832, 1248)),
        ("A lighthouse at dusk in 9:16 mobile vertical format", (720, 1280)),
        ("A lighthouse banner, 3:1", (1568, 672)),  # not offered: the nearest ratio (21:9)
        ("A lighthouse, 5:4", (1152, 864)),  # nearest: 4:3
        ("Generate an image with an aspect ratio of 21:9: a lighthouse", (1568, 672)),
        ("A lighthouse, aspect ratio:4:3.", (1152, 864)),
    ],
)
def test_text_to_image_follows_the_ratio_in_words(
    ep: BedrockEndpoint, client: Any, prompt: str, size: tuple[int, int]
) -> None:
    response = _converse(client, _user(_text(prompt)))
    blocks = _blocks(response)
    assert blocks[0] == {"text": "Here is the image you asked for."}
    data = _only_image(response)
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG"
        assert im.size == size
    assert stand_in_of(data)
    assert ep.sent_images == [data]
    assert response["stopReason"] == "end_turn"
    usage = response["usage"]
    assert usage["inputTokens"] >= 1
    assert usage["outputTokens"] >= 1
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert response["metrics"]["latencyMs"] >= 0
    assert ep.violations == []
    (recorded,) = ep.requests
    assert recorded.operation == "converse"
    assert recorded.model_id == OMNI
    assert recorded.region == "us-west-2"
    assert last_user_text(recorded.body) == prompt
    assert converse_images(recorded.body) == []


def test_ratio_sizes_have_their_ratio() -> None:
    for ratio, (w, h) in OMNI_ASPECT_SIZES.items():
        a, b = (int(x) for x in ratio.split(":"))
        assert abs(w / h - a / b) < 0.01, ratio
        assert w % 16 == 0
        assert h % 16 == 0
    assert requested_ratio("aspect ratio 16:9, at 10.30") == "16:9"
    assert requested_ratio("meet at 12:30:15") is None
    assert requested_ratio("step 1: 2 boats") is None
    assert requested_ratio("an aspect ratio of 9:16: a fox") == "9:16"
    assert requested_ratio("no ratio here") is None


def test_global_profile_small_images_and_no_text_block(ep: BedrockEndpoint, client: Any) -> None:
    ep.small_images = True
    ep.converse_text = None
    response = _converse(client, _user(_text("a fox, 16:9")), model=OMNI_GLOBAL)
    assert [list(b) for b in _blocks(response)] == [["image"]]
    assert image_size(_only_image(response)) == (160, 90)
    assert ep.violations == []


def test_ratio_in_the_system_prompt_is_used_when_the_user_gives_none(client: Any) -> None:
    # lab-01 of the aws-samples Nova 2 Omni workshop asks for the ratio in the system prompt.
    response = _converse(
        client,
        _user(_text("Now generate the image of the car")),
        system=[{"text": "All the images generated have to be in 3:2 ratio."}],
        inferenceConfig={"temperature": 0.5, "maxTokens": 512, "topP": 0.9},
        additionalModelRequestFields={
            "reasoningConfig": {"type": "enabled", "maxReasoningEffort": "medium"}
        },
    )
    assert image_size(_only_image(response)) == (1248, 832)


def test_answers_are_deterministic(client: Any) -> None:
    first = _only_image(_converse(client, _user(_text("a red kite"))))
    again = _only_image(_converse(client, _user(_text("a red kite"))))
    other = _only_image(_converse(client, _user(_text("a blue kite"))))
    assert first == again
    assert first != other
    assert stand_in_of(first) != stand_in_of(other)


# ------------------------------------------------------------------------------------------
# image editing
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "jpeg", "gif", "webp"])
def test_edit_answers_at_the_input_size(ep: BedrockEndpoint, client: Any, fmt: str) -> None:
    source = _image((300, 200), fmt.upper())
    response = _converse(
        client, _user(_img(source, fmt), _text("Edit this image: make the sky pink."))
    )
    assert image_size(_only_image(response)) == (300, 200)
    assert ep.violations == []
    body = ep.requests[-1].body
    assert converse_images(body) == [source]  # what the client sent, decoded
    assert converse_texts(body, role="user") == ["Edit this image: make the sky pink."]
    wire = body["messages"][0]["content"][0]["image"]["source"]["bytes"]
    assert base64.b64decode(wire) == source  # botocore sends blobs base64-encoded


def test_edit_with_a_ratio_follows_the_ratio(ep: BedrockEndpoint, client: Any) -> None:
    ep.small_images = True
    source = _image((300, 200))
    response = _converse(client, _user(_img(source), _text("Extend this photo to 1:1")))
    assert image_size(_only_image(response)) == (128, 128)


def test_multi_turn_edit_uses_the_newest_image(client: Any) -> None:
    first = _converse(client, _user(_text("a small boat, 16:9")))
    history = _blocks(first)
    response = _converse(
        client,
        _user(_text("a small boat, 16:9")),
        {"role": "assistant", "content": history},
        _user(_text("Now make the boat red.")),
    )
    assert image_size(_only_image(response)) == (1280, 720)


# ------------------------------------------------------------------------------------------
# violations
# ------------------------------------------------------------------------------------------


VIOLATIONS_VIA_BOTO3 = [
    ("no-messages", [], "#/messages: expected minItems: 1"),
    ("empty-content", [_user()], "#/messages/0/content: expected minItems: 1"),
    ("bad-role", [{"role": "bot", "content": [_text("hi")]}],
     "#/messages/0/role: bot is not a valid enum value"),
    ("system-role", [{"role": "system", "content": [_text("hi")]}],
     "#/messages/0/role: system is not a valid message role"),
    ("assistant-first", [{"role": "assistant", "content": [_text("hi")]}, _user(_text("x"))],
     "#/messages/0/role: a conversation must start with a user message"),
    ("same-role-twice", [_user(_text("a")), _user(_text("b"))],
     "#/messages/1/role: a conversation must alternate"),
    ("blank-text", [_user(_text("   "))], "#/messages/0/content/0/text: is blank"),
    ("format-mismatch", [_user(_img(_image(fmt="JPEG"), "png"), _text("edit"))],
     "#/messages/0/content/0/image/format: png does not match the image data, which is jpeg"),
    ("not-an-image", [_user(_img(b"hello, not an image"), _text("edit"))],
     "#/messages/0/content/0/image/source/bytes: is not a decodable image"),
    ("too-wide", [_user(_img(_image((8001, 8))), _text("edit"))],
     "exceeds 8000 px per side"),
    ("too-many-images", [_user(*[_img(_image((8, 8)))] * 21, _text("edit"))],
     "#/messages: 21 images exceed the limit of 20"),
    ("unmodelled-block", [_user({"video": {"format": "mp4", "source": {"bytes": b"x"}}})],
     "#/messages/0/content/0/video: is not modelled"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("messages", "fragment"),
    [v[1:] for v in VIOLATIONS_VIA_BOTO3],
    ids=[v[0] for v in VIOLATIONS_VIA_BOTO3],
)
def test_violations_are_rejected_and_recorded(
    ep: BedrockEndpoint, client: Any, messages: list[dict[str, Any]], fragment: str
) -> None:
    ep.script(Reply.throttled())
    message = _expect_validation(lambda: _converse(client, *messages), fragment)
    assert message.startswith("Malformed input request: ")
    assert message.endswith(", please reformat your input and try again.")
    assert any(fragment in v for v in ep.violations)
    assert all(v.startswith(f"{OMNI}: ") for v in ep.violations)
    assert ep.sent_images == []
    assert ep.pending_script == 1  # a violation does not consume the script


def test_inference_config_and_extra_fields_are_typed(ep: BedrockEndpoint, client: Any) -> None:
    _expect_validation(
        lambda: _converse(client, _user(_text("x")), inferenceConfig={"temperature": 1.5}),
        "#/inferenceConfig/temperature: 1.5 is not less or equal to 1",
    )
    _expect_validation(
        lambda: _converse(client, _user(_text("x")), inferenceConfig={"topP": 3}),
        "#/inferenceConfig/topP: 3 is not less or equal to 1",
    )
    _expect_validation(
        lambda: _converse(
            client,
            _user(_text("x")),
            additionalModelRequestFields={"reasoningConfig": {"type": "on"}},
        ),
        "#/additionalModelRequestFields/reasoningConfig/type: on is not a valid enum value",
    )
    assert len(ep.violations) == 3


def test_image_over_the_byte_limit_is_refused(ep: BedrockEndpoint, client: Any) -> None:
    noise = Image.frombytes("RGB", (1200, 1100), os.urandom(1200 * 1100 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG", compress_level=0)
    assert len(out.getvalue()) > 3_750_000
    _expect_validation(
        lambda: _converse(client, _user(_img(out.getvalue()), _text("edit"))),
        "#/messages/0/content/0/image/source/bytes: image of",
        "exceeds 3750000 bytes (3.75 MB)",
    )


RAW_VIOLATIONS = [
    ("unknown-top-level-key", {"messages": [_user(_text("x"))], "prompt": "x"},
     "#: extraneous key [prompt] is not permitted"),
    ("missing-messages", {"inferenceConfig": {"maxTokens": 10}},
     "#: required key [messages] not found"),
    ("messages-not-a-list", {"messages": {"role": "user"}},
     "#/messages: expected type: JSONArray, found: JSONObject"),
    ("two-members-in-a-block", {"messages": [_user({"text": "x", "image": {}})]},
     "#/messages/0/content/0: exactly one member of ContentBlock must be set, found 2"),
    ("unknown-block-member", {"messages": [_user({"picture": "x"})]},
     "#/messages/0/content/0: extraneous key [picture] is not permitted"),
    ("unknown-message-key", {"messages": [{**_user(_text("x")), "name": "me"}]},
     "#/messages/0: extraneous key [name] is not permitted"),
    ("bad-format-enum", {"messages": [_user(_b64_img(_image(), "bmp"))]},
     "#/messages/0/content/0/image/format: bmp is not a valid enum value"),
    ("bad-base64", {"messages": [_user({"image": {"format": "png", "source": {"bytes": "@@"}}})]},
     "#/messages/0/content/0/image/source/bytes: is not valid base64"),
    ("s3-source", {"messages": [_user({"image": {"format": "png",
                                                 "source": {"s3Location": {"uri": "s3://b/k"}}}})]},
     "#/messages/0/content/0/image/source/s3Location: is not modelled"),
    ("max-tokens-zero", {"messages": [_user(_text("x"))], "inferenceConfig": {"maxTokens": 0}},
     "#/inferenceConfig/maxTokens: 0 is not greater or equal to 1"),
    ("max-tokens-float", {"messages": [_user(_text("x"))], "inferenceConfig": {"maxTokens": 1.5}},
     "#/inferenceConfig/maxTokens: expected type: Integer"),
    ("empty-stop-sequence", {"messages": [_user(_text("x"))],
                             "inferenceConfig": {"stopSequences": [""]}},
     "#/inferenceConfig/stopSequences/0: expected a non-empty String"),
    ("unknown-inference-key", {"messages": [_user(_text("x"))], "inferenceConfig": {"topK": 5}},
     "#/inferenceConfig: extraneous key [topK] is not permitted"),
    ("blank-system", {"messages": [_user(_text("x"))], "system": [{"text": ""}]},
     "#/system/0/text: expected minLength: 1, actual: 0"),
    ("extra-fields-not-object", {"messages": [_user(_text("x"))],
                                 "additionalModelRequestFields": [1]},
     "#/additionalModelRequestFields: expected type: JSONObject, found: JSONArray"),
    ("bad-service-tier", {"messages": [_user(_text("x"))], "serviceTier": {"type": "gold"}},
     "#/serviceTier/type: gold is not a valid enum value"),
    ("body-not-json", b"{not json", "#: request body is not valid JSON"),
    ("body-not-object", [1, 2], "#: expected type: JSONObject, found: JSONArray"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "fragment"), [v[1:] for v in RAW_VIOLATIONS], ids=[v[0] for v in RAW_VIOLATIONS]
)
def test_raw_violations_boto3_would_refuse_are_rejected(
    ep: BedrockEndpoint, body: Any, fragment: str
) -> None:
    status, kind, answer = _raw(ep, body)
    assert (status, kind) == (400, "ValidationException")
    assert fragment in answer["message"]
    assert any(fragment in v for v in ep.violations)


def test_valid_raw_body_with_the_optional_members_is_accepted(ep: BedrockEndpoint) -> None:
    body = {
        "messages": [_user(_b64_img(_image()), _text("Edit this image: add a cat."))],
        "system": [{"text": "You are a professional photo editor."}],
        "inferenceConfig": {"maxTokens": 4000, "temperature": 0, "topP": 1.0,
                            "stopSequences": ["END"]},
        "additionalModelRequestFields": {"inferenceConfig": {"topK": 20}},
        "additionalModelResponseFieldPaths": ["/stop_sequence"],
        "requestMetadata": {"purpose": "test"},
        "performanceConfig": {"latency": "standard"},
        "serviceTier": {"type": "default"},
    }  # fmt: skip
    status, kind, answer = _raw(ep, body)
    assert (status, kind) == (200, "")
    assert ep.violations == []
    data = base64.b64decode(answer["output"]["message"]["content"][1]["image"]["source"]["bytes"])
    assert image_size(data) == (64, 48)


def test_unknown_model_id_on_converse(ep: BedrockEndpoint, client: Any) -> None:
    for model in ("amazon.nova-2-omni-v1:0", "us.amazon.nova-2-lite-v1:0", "eu.amazon.nova-x"):
        message = _expect_validation(lambda m=model: _converse(client, _user(_text("x")), model=m))
        assert message == MESSAGES["invalid_model_id"]
    assert ep.violations == [
        "amazon.nova-2-omni-v1:0: unknown model identifier (Converse)",
        "us.amazon.nova-2-lite-v1:0: unknown model identifier (Converse)",
        "eu.amazon.nova-x: unknown model identifier (Converse)",
    ]


def test_converse_to_an_invoke_model_image_model_is_an_unknown_operation(
    ep: BedrockEndpoint, client: Any
) -> None:
    with pytest.raises(ClientError) as info:
        _converse(client, _user(_text("x")), model=NOVA_CANVAS)
    assert info.value.response["Error"]["Code"] == "UnknownOperationException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert ep.violations == [
        "unsupported operation: POST /model/amazon.nova-canvas-v1%3A0/converse"
    ]


def test_omni_through_invoke_model_is_a_violation(ep: BedrockEndpoint, client: Any) -> None:
    body = {"messages": [_user(_text("x"))]}
    message = _expect_validation(
        lambda: client.invoke_model(modelId=OMNI, body=json.dumps(body)),
        "Malformed input request: #: use Converse for Nova 2 Omni",
    )
    assert message
    assert ep.violations == [
        f"{OMNI}: Nova 2 Omni must be called through Converse, not InvokeModel"
    ]
    assert ep.requests[-1].operation == "invoke"


# ------------------------------------------------------------------------------------------
# scripted answers
# ------------------------------------------------------------------------------------------


def test_text_only(ep: BedrockEndpoint, client: Any) -> None:
    ep.script(Reply.text_only(), Reply.text_only(text="I can't draw that."), Reply.no_images())
    answers = [_converse(client, _user(_text("a fox"))) for _ in range(3)]
    assert [_blocks(a) for a in answers] == [
        [{"text": CONVERSE_MESSAGES["text_only"]}],
        [{"text": "I can't draw that."}],
        [{"text": CONVERSE_MESSAGES["text_only"]}],
    ]
    assert {a["stopReason"] for a in answers} == {"end_turn"}
    assert ep.sent_images == []
    assert len(_blocks(_converse(client, _user(_text("a fox"))))) == 2  # the script is used up


@pytest.mark.parametrize(
    ("reply", "text"),
    [(Reply.filtered_all(), CONVERSE_MESSAGES["filtered_input"]),
     (Reply.filtered_some(), CONVERSE_MESSAGES["filtered_output"])],
)  # fmt: skip
def test_filtered_is_content_filtered_with_text_only(
    ep: BedrockEndpoint, client: Any, reply: Reply, text: str
) -> None:
    ep.script(reply)
    response = _converse(client, _user(_text("something not allowed")))
    assert response["stopReason"] == "content_filtered"
    assert _blocks(response) == [{"text": text}]
    assert ep.sent_images == []
    assert ep.violations == []


ERROR_REPLIES = [
    ("preview-denied", Reply.preview_denied(), "AccessDeniedException", 403,
     MESSAGES["access_denied"]),
    ("throttled", Reply.throttled(), "ThrottlingException", 429, MESSAGES["throttled"]),
    ("access-denied", Reply.access_denied(), "AccessDeniedException", 403,
     MESSAGES["access_denied"]),
    ("end-of-life", Reply.end_of_life(), "ResourceNotFoundException", 404,
     MESSAGES["end_of_life"]),
    ("legacy", Reply.legacy(), "ResourceNotFoundException", 404, MESSAGES["legacy"]),
    ("timeout", Reply.model_timeout(), "ModelTimeoutException", 408, MESSAGES["model_timeout"]),
    ("model-error", Reply.model_error(), "ModelErrorException", 424, MESSAGES["model_error"]),
    ("unavailable", Reply.unavailable(), "ServiceUnavailableException", 503,
     MESSAGES["unavailable"]),
    ("not-ready", Reply.model_not_ready(), "ModelNotReadyException", 429,
     MESSAGES["model_not_ready"]),
    ("quota", Reply.quota_exceeded(), "ServiceQuotaExceededException", 400,
     MESSAGES["quota_exceeded"]),
    ("marketplace", Reply.marketplace_denied(), "AccessDeniedException", 403,
     MESSAGES["marketplace_denied"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("reply", "code", "status", "message"),
    [e[1:] for e in ERROR_REPLIES],
    ids=[e[0] for e in ERROR_REPLIES],
)
def test_error_replies_surface_as_client_errors(
    ep: BedrockEndpoint, client: Any, reply: Reply, code: str, status: int, message: str
) -> None:
    ep.script(reply)
    with pytest.raises(ClientError) as info:
        _converse(client, _user(_text("a fox")))
    error = info.value.response
    assert error["Error"]["Code"] == code
    assert error["Error"]["Message"] == message
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status
    assert error["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == code + ERROR_SUFFIX
    modeled = getattr(client.exceptions, code, None)
    if modeled is not None:
        assert isinstance(info.value, modeled)
    assert ep.violations == []
    assert ep.sent_images == []
    _converse(client, _user(_text("a fox")))  # the queue is empty again: ok


def test_always_and_reset(ep: BedrockEndpoint, client: Any) -> None:
    ep.always(Reply.preview_denied())
    for _ in range(2):
        with pytest.raises(client.exceptions.AccessDeniedException):
            _converse(client, _user(_text("a fox")))
    ep.reset()
    assert len(_blocks(_converse(client, _user(_text("a fox"))))) == 2


def test_delay_garbage_and_bad_base64(ep: BedrockEndpoint, client: Any) -> None:
    ep.script(Reply.delay(0.2, then=Reply.throttled()), Reply.garbage(), Reply.bad_base64())
    started = time.monotonic()
    with pytest.raises(ClientError) as info:
        _converse(client, _user(_text("a fox")))
    assert info.value.response["Error"]["Code"] == "ThrottlingException"
    assert time.monotonic() - started >= 0.2
    assert "output" not in _converse(client, _user(_text("a fox")))  # an HTML body
    with pytest.raises(ValueError, match="base64"):
        _converse(client, _user(_text("a fox")))
    assert ep.sent_images == []


def test_unsigned_converse_is_refused(ep: BedrockEndpoint) -> None:
    unsigned = boto3.client(
        "bedrock-runtime",
        region_name="us-west-2",
        endpoint_url=ep.url,
        config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}),
    )
    with pytest.raises(ClientError) as info:
        _converse(unsigned, _user(_text("a fox")))
    assert info.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"
    assert ep.violations == []
