"""Self-tests of the local Bedrock Runtime endpoint, driven through a real boto3 client."""

from __future__ import annotations

import base64
import http.client
import io
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
from PIL import Image

from tests.support.bedrock import (
    MESSAGES,
    NOVA_SEED_MAX,
    BedrockEndpoint,
    Reply,
    image_size,
    stand_in_of,
)

NOVA = "amazon.nova-canvas-v1:0"
TITAN = "amazon.titan-image-generator-v2:0"
CORE = "stability.stable-image-core-v1:1"
ULTRA = "us.stability.stable-image-ultra-v1:1"
SD35 = "us.stability.sd3-5-large-v1:0"
REMOVE_BG = "us.stability.stable-image-remove-background-v1:0"
SEARCH_REPLACE = "us.stability.stable-image-search-replace-v1:0"
INPAINT = "us.stability.stable-image-inpaint-v1:0"
OUTPAINT = "us.stability.stable-outpaint-v1:0"
FAST_UPSCALE = "us.stability.stable-fast-upscale-v1:0"


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def _png(size: tuple[int, int] = (64, 64), colour: Any = (10, 120, 200), mode: str = "RGB") -> str:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def _jpeg(size: tuple[int, int] = (64, 64)) -> str:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG")
    return base64.b64encode(out.getvalue()).decode()


def _gif() -> str:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (0, 0, 0)).save(out, "GIF")
    return base64.b64encode(out.getvalue()).decode()


IMG = _png()
WHITE_MASK = _png(colour=(255, 255, 255))
GREY_MASK = _png(colour=(128, 128, 128))
SEMI_TRANSPARENT = _png(mode="RGBA", colour=(10, 10, 10, 128))


def _client(url: str, read_timeout: float = 10) -> Any:
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - a dummy for the local endpoint
        config=Config(
            retries={"total_max_attempts": 1}, read_timeout=read_timeout, connect_timeout=2
        ),
    )


def _invoke(client: Any, model: str, body: Any) -> dict[str, Any]:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    response = client.invoke_model(modelId=model, body=raw)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["contentType"] == "application/json"
    out: dict[str, Any] = json.loads(response["body"].read())
    return out


def _nova(
    text: str = "a lighthouse at dusk",
    count: int = 1,
    width: int = 512,
    height: int = 512,
    **cfg: Any,
) -> dict[str, Any]:
    config = {"width": width, "height": height, "numberOfImages": count, **cfg}
    return {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": text},
        "imageGenerationConfig": config,
    }


def _decode(b64: str) -> bytes:
    return base64.b64decode(b64, validate=True)


@pytest.fixture
def ep() -> Iterator[BedrockEndpoint]:
    with BedrockEndpoint() as endpoint:
        endpoint.small_images = True
        yield endpoint


@pytest.fixture
def client(ep: BedrockEndpoint) -> Any:
    return _client(ep.url)


# ------------------------------------------------------------------------------------------
# happy paths
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "width", "height"), [(1, 1024, 1024), (3, 1280, 320), (5, 320, 640)]
)
def test_nova_text_image_returns_n_pngs_of_the_requested_size(
    ep: BedrockEndpoint, client: Any, count: int, width: int, height: int
) -> None:
    out = _invoke(client, NOVA, _nova(count=count, width=width, height=height, seed=7))
    assert set(out) <= {"images", "error"}
    assert out.get("error") is None
    assert len(out["images"]) == count
    decoded = [_decode(b) for b in out["images"]]
    for data in decoded:
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert image_size(data) == (width, height)
        assert stand_in_of(data)
    assert decoded == ep.sent_images
    assert len({stand_in_of(d) for d in decoded}) == count
    assert ep.violations == []
    recorded = ep.requests[-1]
    assert recorded.model_id == NOVA
    assert recorded.body["imageGenerationConfig"]["seed"] == 7
    assert recorded.region == "us-east-1"
    assert (recorded.header("authorization") or "").startswith("AWS4-HMAC-SHA256")


def test_images_are_deterministic_from_the_seed(ep: BedrockEndpoint, client: Any) -> None:
    first = _invoke(client, NOVA, _nova(seed=11))["images"]
    again = _invoke(client, NOVA, _nova(seed=11))["images"]
    other = _invoke(client, NOVA, _nova(seed=12))["images"]
    assert first == again
    assert first != other


def test_nova_seed_ceiling_is_configurable(ep: BedrockEndpoint, client: Any) -> None:
    with pytest.raises(ClientError):
        _invoke(client, NOVA, _nova(seed=2_147_483_646))
    ep.violations.clear()
    ep.nova_seed_max = 2_147_483_646
    _invoke(client, NOVA, _nova(seed=2_147_483_646))
    assert ep.violations == []


def test_concurrent_requests(ep: BedrockEndpoint, client: Any) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        outs = list(pool.map(lambda i: _invoke(client, NOVA, _nova(seed=i)), range(8)))
    assert all(len(out["images"]) == 1 for out in outs)
    assert len(ep.sent_images) == 8
    assert len(ep.requests) == 8


def test_nova_defaults_to_1024_square(client: Any) -> None:
    body = {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x"}}
    out = _invoke(client, NOVA, body)
    assert image_size(_decode(out["images"][0])) == (1024, 1024)


VALID_BODIES: list[tuple[str, str, dict[str, Any]]] = [
    ("nova-all-fields", NOVA, {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": "t", "negativeText": "n", "style": "PHOTOREALISM"},
        "imageGenerationConfig": {"width": 2032, "height": 2032, "quality": "premium",
                                  "numberOfImages": 1, "cfgScale": 6.5, "seed": NOVA_SEED_MAX},
    }),
    ("nova-conditioning", NOVA, {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": "t", "conditionImage": IMG, "controlMode": "SEGMENTATION",
                              "controlStrength": 0.7},
    }),
    ("nova-color-guided", NOVA, {
        "taskType": "COLOR_GUIDED_GENERATION",
        "colorGuidedGenerationParams": {"text": "t", "colors": ["#FF9800", "#00aa00"]},
        "imageGenerationConfig": {"width": 512, "height": 512},
    }),
    ("nova-variation", NOVA, {
        "taskType": "IMAGE_VARIATION",
        "imageVariationParams": {"images": [IMG, _jpeg()], "similarityStrength": 0.2,
                                 "text": "t", "negativeText": "n"},
        "imageGenerationConfig": {"width": 512, "height": 512, "numberOfImages": 2},
    }),
    ("nova-inpaint-prompt", NOVA, {
        "taskType": "INPAINTING",
        "inPaintingParams": {"image": IMG, "maskPrompt": "the sky"},
    }),
    ("nova-inpaint-mask", NOVA, {
        "taskType": "INPAINTING",
        "inPaintingParams": {"image": IMG, "maskImage": WHITE_MASK, "text": "t",
                             "negativeText": "n"},
        "imageGenerationConfig": {"numberOfImages": 2, "quality": "standard", "seed": 1},
    }),
    ("nova-outpaint", NOVA, {
        "taskType": "OUTPAINTING",
        "outPaintingParams": {"image": IMG, "maskPrompt": "dog", "text": "beach",
                              "outPaintingMode": "PRECISE"},
    }),
    ("nova-background-removal", NOVA, {
        "taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": _jpeg()},
    }),
    ("titan-text-image", TITAN, {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": "t" * 512},
        "imageGenerationConfig": {"width": 1152, "height": 768, "seed": 2_147_483_646,
                                  "cfgScale": 8.0, "numberOfImages": 5},
    }),
    ("core-minimal", CORE, {"prompt": "p"}),
    ("core-us-all-fields", "us." + CORE, {
        "prompt": "p" * 10_000, "negative_prompt": "n", "aspect_ratio": "9:21",
        "seed": 4_294_967_294, "output_format": "jpeg",
    }),
    ("ultra-text", ULTRA, {"prompt": "p", "aspect_ratio": "21:9", "seed": 0}),
    ("ultra-image", ULTRA, {"prompt": "p", "image": IMG, "strength": 0.5}),
    ("sd35-img2img", SD35, {"prompt": "p", "mode": "image-to-image", "image": IMG,
                            "strength": 0.0}),
    ("sd35-text", "stability.sd3-5-large-v1:0", {"prompt": "p", "mode": "text-to-image"}),
    ("remove-background", REMOVE_BG, {"image": IMG, "output_format": "png"}),
    ("search-replace", SEARCH_REPLACE, {"image": IMG, "prompt": "p", "search_prompt": "cat",
                                        "grow_mask": 3, "seed": 5}),
    ("inpaint", INPAINT, {"image": IMG, "prompt": "p", "mask": WHITE_MASK}),
    ("outpaint", OUTPAINT, {"image": IMG, "left": 64, "creativity": 0.5}),
    ("fast-upscale", FAST_UPSCALE, {"image": IMG}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("model", "body"), [v[1:] for v in VALID_BODIES], ids=[v[0] for v in VALID_BODIES]
)
def test_valid_bodies_are_accepted(ep: BedrockEndpoint, client: Any, model: str, body: Any) -> None:
    out = _invoke(client, model, body)
    assert ep.violations == []
    assert out["images"]
    for image in out["images"]:
        assert _decode(image) in ep.sent_images
    if model.startswith(("amazon.",)):
        assert "seeds" not in out
    else:
        assert len(out["images"]) == 1
        assert out["finish_reasons"] == [None]
        assert isinstance(out["seeds"][0], int)
        assert out["seeds"][0] > 0


def test_edit_tasks_answer_at_the_input_size(client: Any) -> None:
    body = {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": _png((96, 80))}}
    data = _decode(_invoke(client, NOVA, body)["images"][0])
    assert image_size(data) == (96, 80)
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode == "RGBA"


@pytest.mark.parametrize(
    ("aspect", "size"),
    [("1:1", (1024, 1024)), ("16:9", (1344, 768)), ("9:21", (640, 1536)), ("2:3", (832, 1216))],
)
def test_stability_image_follows_the_aspect_ratio(
    ep: BedrockEndpoint, client: Any, aspect: str, size: tuple[int, int]
) -> None:
    ep.small_images = False
    out = _invoke(client, SD35, {"prompt": "a fox", "aspect_ratio": aspect, "seed": 99})
    assert out["seeds"] == [99]
    assert out["finish_reasons"] == [None]
    data = _decode(out["images"][0])
    assert image_size(data) == size
    assert all(side % 64 == 0 for side in size)
    assert data == ep.sent_images[-1]


def test_stability_small_images_and_jpeg(ep: BedrockEndpoint, client: Any) -> None:
    out = _invoke(client, CORE, {"prompt": "a fox", "output_format": "jpeg"})
    data = _decode(out["images"][0])
    assert data.startswith(b"\xff\xd8")
    assert image_size(data) == (128, 128)
    assert stand_in_of(data)


# ------------------------------------------------------------------------------------------
# schema violations
# ------------------------------------------------------------------------------------------


def _nova_with(
    params: dict[str, Any] | None = None, cfg: dict[str, Any] | None = None, **top: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": "t", **(params or {})},
        "imageGenerationConfig": {"width": 512, "height": 512, **(cfg or {})},
    }
    body.update(top)
    return body


BAD_BODIES: list[tuple[str, str, Any, str]] = [
    # Nova: structure
    ("no-task", NOVA, {"textToImageParams": {"text": "t"}}, "required key [taskType]"),
    ("bad-task", NOVA, {"taskType": "TEXT_IMAGES", "textToImageParams": {"text": "t"}},
     "#/taskType: TEXT_IMAGES is not a valid enum value"),
    ("unknown-top", NOVA, _nova_with(extra=1), "#: extraneous key [extra]"),
    ("wrong-params-key", NOVA, {"taskType": "TEXT_IMAGE", "inPaintingParams": {"image": IMG}},
     "required key [textToImageParams]"),
    ("unknown-nested", NOVA, _nova_with({"prompt": "x"}),
     "#/textToImageParams: extraneous key [prompt]"),
    ("unknown-config", NOVA, _nova_with(cfg={"steps": 30}),
     "#/imageGenerationConfig: extraneous key [steps]"),
    ("params-not-object", NOVA, {"taskType": "TEXT_IMAGE", "textToImageParams": "t"},
     "#/textToImageParams: expected type: JSONObject"),
    # Nova: text fields
    ("no-text", NOVA, {"taskType": "TEXT_IMAGE", "textToImageParams": {}},
     "#/textToImageParams: required key [text]"),
    ("empty-text", NOVA, _nova_with({"text": ""}), "#/textToImageParams/text: expected minLength"),
    ("long-text", NOVA, _nova_with({"text": "a" * 1025}),
     "#/textToImageParams/text: expected maxLength: 1024, actual: 1025"),
    ("text-not-string", NOVA, _nova_with({"text": 5}),
     "#/textToImageParams/text: expected type: String"),
    ("empty-negative", NOVA, _nova_with({"negativeText": ""}),
     "#/textToImageParams/negativeText: expected minLength: 1"),
    ("long-negative", NOVA, _nova_with({"negativeText": "a" * 1025}),
     "#/textToImageParams/negativeText: expected maxLength: 1024"),
    ("bad-style", NOVA, _nova_with({"style": "WATERCOLOR"}),
     "#/textToImageParams/style: WATERCOLOR is not a valid enum value"),
    ("bad-control-mode", NOVA, _nova_with({"conditionImage": IMG, "controlMode": "DEPTH"}),
     "#/textToImageParams/controlMode"),
    # Nova: imageGenerationConfig
    ("width-not-16", NOVA, _nova_with(cfg={"width": 1000}),
     "#/imageGenerationConfig/width: 1000 is not a multiple of 16"),
    ("height-not-16", NOVA, _nova_with(cfg={"height": 520}),
     "#/imageGenerationConfig/height: 520 is not a multiple of 16"),
    ("width-small", NOVA, _nova_with(cfg={"width": 304}),
     "#/imageGenerationConfig/width: 304 is not greater or equal to 320"),
    ("height-large", NOVA, _nova_with(cfg={"width": 1024, "height": 4112}),
     "#/imageGenerationConfig/height: 4112 is not less or equal to 4096"),
    ("aspect", NOVA, _nova_with(cfg={"width": 320, "height": 1600}), "aspect ratio"),
    ("pixel-cap", NOVA, _nova_with(cfg={"width": 2048, "height": 2048}), "total pixel count"),
    ("width-string", NOVA, _nova_with(cfg={"width": "512"}),
     "#/imageGenerationConfig/width: expected type: Integer, found: String"),
    ("width-bool", NOVA, _nova_with(cfg={"width": True}), "expected type: Integer, found: Boolean"),
    ("width-fraction", NOVA, _nova_with(cfg={"width": 512.5}), "expected type: Integer"),
    ("quality", NOVA, _nova_with(cfg={"quality": "high"}),
     "#/imageGenerationConfig/quality: high is not a valid enum value"),
    ("count-0", NOVA, _nova_with(cfg={"numberOfImages": 0}),
     "#/imageGenerationConfig/numberOfImages: 0 is not greater or equal to 1"),
    ("count-6", NOVA, _nova_with(cfg={"numberOfImages": 6}),
     "#/imageGenerationConfig/numberOfImages: 6 is not less or equal to 5"),
    ("cfg-low", NOVA, _nova_with(cfg={"cfgScale": 1.0}),
     "#/imageGenerationConfig/cfgScale: 1 is not greater or equal to 1.1"),
    ("cfg-high", NOVA, _nova_with(cfg={"cfgScale": 10.5}),
     "#/imageGenerationConfig/cfgScale: 10.5 is not less or equal to 10"),
    ("seed-negative", NOVA, _nova_with(cfg={"seed": -1}),
     "#/imageGenerationConfig/seed: -1 is not greater or equal to 0"),
    ("seed-high", NOVA, _nova_with(cfg={"seed": NOVA_SEED_MAX + 1}),
     "#/imageGenerationConfig/seed: 858993460 is not less or equal to 858993459"),
    # Titan
    ("titan-style", TITAN, _nova_with({"style": "PHOTOREALISM"}),
     "#/textToImageParams: extraneous key [style]"),
    ("titan-long-text", TITAN, _nova_with({"text": "a" * 513}), "expected maxLength: 512"),
    ("titan-size", TITAN, _nova_with(cfg={"width": 1024, "height": 768}),
     "1024x768 is not one of the supported Titan"),
    # Nova: other task types
    ("variation-similarity", NOVA, {"taskType": "IMAGE_VARIATION", "imageVariationParams": {
        "images": [IMG], "similarityStrength": 0.1}},
     "#/imageVariationParams/similarityStrength: 0.1 is not greater or equal to 0.2"),
    ("variation-no-images", NOVA, {"taskType": "IMAGE_VARIATION",
                                   "imageVariationParams": {"images": []}}, "expected 1 to 5"),
    ("variation-6-images", NOVA, {"taskType": "IMAGE_VARIATION",
                                  "imageVariationParams": {"images": [IMG] * 6}},
     "expected 1 to 5"),
    ("variation-bad-b64", NOVA, {"taskType": "IMAGE_VARIATION",
                                 "imageVariationParams": {"images": ["@@@"]}},
     "#/imageVariationParams/images/0: is not valid base64"),
    ("variation-gif", NOVA, {"taskType": "IMAGE_VARIATION",
                             "imageVariationParams": {"images": [_gif()]}},
     "image format GIF is not supported"),
    ("variation-not-image", NOVA, {"taskType": "IMAGE_VARIATION", "imageVariationParams": {
        "images": [base64.b64encode(b"hello").decode()]}}, "is not a decodable image"),
    ("inpaint-both-masks", NOVA, {"taskType": "INPAINTING", "inPaintingParams": {
        "image": IMG, "maskPrompt": "x", "maskImage": WHITE_MASK}}, "exactly one of"),
    ("inpaint-no-mask", NOVA, {"taskType": "INPAINTING", "inPaintingParams": {"image": IMG}},
     "exactly one of [maskPrompt, maskImage]"),
    ("inpaint-grey-mask", NOVA, {"taskType": "INPAINTING", "inPaintingParams": {
        "image": IMG, "maskImage": GREY_MASK}}, "only pure black and pure white"),
    ("inpaint-mask-size", NOVA, {"taskType": "INPAINTING", "inPaintingParams": {
        "image": IMG, "maskImage": _png((32, 32), (0, 0, 0))}}, "differs from image"),
    ("inpaint-transparent", NOVA, {"taskType": "INPAINTING", "inPaintingParams": {
        "image": SEMI_TRANSPARENT, "maskPrompt": "x"}}, "transparent"),
    ("outpaint-no-text", NOVA, {"taskType": "OUTPAINTING", "outPaintingParams": {
        "image": IMG, "maskPrompt": "x"}}, "#/outPaintingParams: required key [text]"),
    ("outpaint-mode", NOVA, {"taskType": "OUTPAINTING", "outPaintingParams": {
        "image": IMG, "maskPrompt": "x", "text": "t", "outPaintingMode": "FAST"}},
     "#/outPaintingParams/outPaintingMode: FAST is not a valid enum value"),
    ("bg-removal-config", NOVA, {"taskType": "BACKGROUND_REMOVAL",
                                 "backgroundRemovalParams": {"image": IMG},
                                 "imageGenerationConfig": {"numberOfImages": 1}},
     "#: extraneous key [imageGenerationConfig]"),
    ("color-hex", NOVA, {"taskType": "COLOR_GUIDED_GENERATION", "colorGuidedGenerationParams": {
        "text": "t", "colors": ["red"]}}, "#/colorGuidedGenerationParams/colors/0"),
    ("color-11", NOVA, {"taskType": "COLOR_GUIDED_GENERATION", "colorGuidedGenerationParams": {
        "text": "t", "colors": ["#000000"] * 11}}, "expected 1 to 10"),
    ("not-json", NOVA, "this is not json", "request body is not valid JSON"),
    ("json-array", NOVA, [1, 2], "#: expected type: JSONObject, found: JSONArray"),
    # Stability text-to-image
    ("sd-no-prompt", SD35, {"aspect_ratio": "1:1"}, "#: required key [prompt]"),
    ("sd-empty-prompt", CORE, {"prompt": ""}, "#/prompt: expected minLength: 1"),
    ("sd-long-prompt", CORE, {"prompt": "a" * 10_001}, "#/prompt: expected maxLength: 10000"),
    ("sd-long-negative", CORE, {"prompt": "p", "negative_prompt": "a" * 10_001},
     "#/negative_prompt: expected maxLength: 10000"),
    ("sd-aspect", ULTRA, {"prompt": "p", "aspect_ratio": "4:3"},
     "#/aspect_ratio: 4:3 is not a valid enum value"),
    ("sd-seed-high", SD35, {"prompt": "p", "seed": 4_294_967_295},
     "#/seed: 4294967295 is not less or equal to 4294967294"),
    ("sd-seed-negative", SD35, {"prompt": "p", "seed": -1}, "#/seed: -1 is not greater or equal"),
    ("sd-webp", CORE, {"prompt": "p", "output_format": "webp"},
     "#/output_format: webp is not a valid enum value"),
    ("sd-unknown", SD35, {"prompt": "p", "cfg_scale": 7}, "#: extraneous key [cfg_scale]"),
    ("core-no-img2img", CORE, {"prompt": "p", "mode": "image-to-image", "image": IMG,
                               "strength": 0.5}, "#: extraneous key [mode]"),
    ("sd-img2img-no-strength", SD35, {"prompt": "p", "mode": "image-to-image", "image": IMG},
     "required key [strength] not found"),
    ("sd-img2img-aspect", SD35, {"prompt": "p", "mode": "image-to-image", "image": IMG,
                                 "strength": 0.5, "aspect_ratio": "1:1"},
     "#/aspect_ratio: is only valid for text-to-image"),
    ("sd-strength-without-mode", SD35, {"prompt": "p", "strength": 0.5},
     "#/strength: is only valid when mode is image-to-image"),
    ("sd-strength-range", SD35, {"prompt": "p", "mode": "image-to-image", "image": IMG,
                                 "strength": 1.5}, "#/strength: 1.5 is not less or equal to 1"),
    ("sd-bad-mode", SD35, {"prompt": "p", "mode": "sketch"}, "#/mode: sketch is not a valid enum"),
    ("sd-tiny-image", SD35, {"prompt": "p", "mode": "image-to-image", "image": _png((32, 32)),
                             "strength": 0.5}, "at least 64 px"),
    # Stability Image Services
    ("rmbg-no-image", REMOVE_BG, {"output_format": "png"}, "#: required key [image]"),
    ("rmbg-prompt", REMOVE_BG, {"image": IMG, "prompt": "p"}, "#: extraneous key [prompt]"),
    ("search-replace-no-search", SEARCH_REPLACE, {"image": IMG, "prompt": "p"},
     "required key [search_prompt]"),
    ("search-replace-grow", SEARCH_REPLACE, {"image": IMG, "prompt": "p", "search_prompt": "s",
                                            "grow_mask": 21}, "#/grow_mask: 21 is not less"),
    ("outpaint-no-margin", OUTPAINT, {"image": IMG}, "at least one of [left, right, up, down]"),
    ("upscale-bad-image", FAST_UPSCALE, {"image": "@@"}, "#/image: is not valid base64"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("model", "body", "expected"),
    [b[1:] for b in BAD_BODIES],
    ids=[b[0] for b in BAD_BODIES],
)
def test_schema_violation_is_rejected_and_recorded(
    ep: BedrockEndpoint, client: Any, model: str, body: Any, expected: str
) -> None:
    ep.always(Reply.ok())
    raw = body if isinstance(body, str) else json.dumps(body)
    with pytest.raises(ClientError) as info:
        client.invoke_model(modelId=model, body=raw)
    error = info.value.response
    assert error["Error"]["Code"] == "ValidationException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert expected in error["Error"]["Message"]
    assert error["Error"]["Message"].startswith("Malformed input request: ")
    assert ep.violations
    assert any(expected in v for v in ep.violations), ep.violations
    assert all(v.startswith(model + ": ") for v in ep.violations)
    assert ep.sent_images == []


def test_unknown_model_id_is_a_violation(ep: BedrockEndpoint, client: Any) -> None:
    with pytest.raises(ClientError) as info:
        _invoke(client, "amazon.nova-canvas-v2:0", _nova())
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert info.value.response["Error"]["Message"] == MESSAGES["invalid_model_id"]
    assert ep.violations == ["amazon.nova-canvas-v2:0: unknown model identifier"]


def test_wrong_content_type_or_accept_is_a_violation(ep: BedrockEndpoint, client: Any) -> None:
    with pytest.raises(ClientError):
        client.invoke_model(modelId=NOVA, body=json.dumps(_nova()), contentType="text/plain")
    with pytest.raises(ClientError):
        client.invoke_model(modelId=NOVA, body=json.dumps(_nova()), accept="image/png")
    assert len(ep.violations) == 2
    client.invoke_model(
        modelId=NOVA, body=json.dumps(_nova()), contentType="application/json", accept="*/*"
    )
    assert len(ep.violations) == 2


def test_violations_win_over_the_script_and_do_not_consume_it(
    ep: BedrockEndpoint, client: Any
) -> None:
    ep.script(Reply.throttled())
    with pytest.raises(ClientError) as info:
        _invoke(client, NOVA, _nova(text=""))
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert ep.pending_script == 1
    with pytest.raises(ClientError) as info:
        _invoke(client, NOVA, _nova())
    assert info.value.response["Error"]["Code"] == "ThrottlingException"


# ------------------------------------------------------------------------------------------
# scripted errors
# ------------------------------------------------------------------------------------------

ERROR_REPLIES: list[tuple[str, Reply, str, int, str]] = [
    ("throttled", Reply.throttled(), "ThrottlingException", 429, MESSAGES["throttled"]),
    ("quota", Reply.quota_exceeded(), "ServiceQuotaExceededException", 400,
     MESSAGES["quota_exceeded"]),
    ("access", Reply.access_denied(), "AccessDeniedException", 403,
     "You don't have access to the model with the specified model ID."),
    ("marketplace", Reply.marketplace_denied(), "AccessDeniedException", 403,
     MESSAGES["marketplace_denied"]),
    ("eol", Reply.end_of_life(), "ResourceNotFoundException", 404,
     "This model version has reached the end of its life. "
     "Please refer to the AWS documentation for more details."),
    ("legacy", Reply.legacy(), "ResourceNotFoundException", 404, MESSAGES["legacy"]),
    ("invalid-id", Reply.invalid_model_id(), "ValidationException", 400,
     "The provided model identifier is invalid."),
    ("timeout", Reply.model_timeout(), "ModelTimeoutException", 408, MESSAGES["model_timeout"]),
    ("model-error", Reply.model_error(), "ModelErrorException", 424, MESSAGES["model_error"]),
    ("unavailable", Reply.unavailable(), "ServiceUnavailableException", 503,
     MESSAGES["unavailable"]),
    ("not-ready", Reply.model_not_ready(), "ModelNotReadyException", 429,
     MESSAGES["model_not_ready"]),
    ("custom", Reply.error("InternalServerException", "boom"), "InternalServerException", 500,
     "boom"),
    ("custom-status", Reply.error("ThrottlingException", "slow", status=400),
     "ThrottlingException", 400, "slow"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("reply", "code", "status", "message"),
    [e[1:] for e in ERROR_REPLIES],
    ids=[e[0] for e in ERROR_REPLIES],
)
@pytest.mark.parametrize("model", [NOVA, SD35])
def test_error_reply_surfaces_as_client_error(
    ep: BedrockEndpoint,
    client: Any,
    model: str,
    reply: Reply,
    code: str,
    status: int,
    message: str,
) -> None:
    ep.script(reply)
    body = _nova() if model == NOVA else {"prompt": "p"}
    with pytest.raises(ClientError) as info:
        _invoke(client, model, body)
    error = info.value.response
    assert error["Error"]["Code"] == code
    assert error["Error"]["Message"] == message
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status
    assert error["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == (
        f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/"
    )
    modeled = getattr(client.exceptions, code, None)
    if modeled is not None:
        assert isinstance(info.value, modeled)
    assert ep.violations == []
    assert ep.sent_images == []
    _invoke(client, model, body)  # the queue is empty again: ok


def test_script_then_always_then_reset(ep: BedrockEndpoint, client: Any) -> None:
    ep.script(Reply.throttled(), Reply.unavailable(), Reply.ok())
    codes = []
    for _ in range(4):
        try:
            _invoke(client, NOVA, _nova())
            codes.append("ok")
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
    assert codes == ["ThrottlingException", "ServiceUnavailableException", "ok", "ok"]

    ep.always(Reply.access_denied())
    ep.script(Reply.ok())
    _invoke(client, NOVA, _nova())
    for _ in range(2):
        with pytest.raises(ClientError):
            _invoke(client, NOVA, _nova())
    ep.reset()
    _invoke(client, NOVA, _nova())
    assert len(ep.requests) == 8


# ------------------------------------------------------------------------------------------
# content filtering and malformed answers
# ------------------------------------------------------------------------------------------


def test_nova_filtered_all_is_a_validation_exception(ep: BedrockEndpoint, client: Any) -> None:
    ep.script(Reply.filtered_all())
    with pytest.raises(ClientError) as info:
        _invoke(client, NOVA, _nova())
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert info.value.response["Error"]["Message"] == (
        "This request has been blocked by our content filters. "
        "Please adjust your text prompt to submit a new request."
    )
    assert ep.violations == []


def test_nova_filtered_some_returns_fewer_images_and_an_error(
    ep: BedrockEndpoint, client: Any
) -> None:
    ep.script(Reply.filtered_some(), Reply.filtered_some(kept=1), Reply.filtered_output())
    out = _invoke(client, NOVA, _nova(count=3))
    assert len(out["images"]) == 2
    assert out["error"] == "Some of the generated images have been blocked by our content filters."
    assert len(_invoke(client, NOVA, _nova(count=3))["images"]) == 1
    out = _invoke(client, NOVA, _nova(count=3))
    assert out["images"] == []
    assert out["error"] == "All of the generated images have been blocked by our content filters."
    assert len(ep.sent_images) == 3


@pytest.mark.parametrize(
    ("reply", "reason"),
    [(Reply.filtered_all(), "Filter reason: prompt"),
     (Reply.filtered_some(), "Filter reason: output image")],
)  # fmt: skip
def test_stability_filtered_is_200_with_a_finish_reason(
    ep: BedrockEndpoint, client: Any, reply: Reply, reason: str
) -> None:
    ep.script(reply)
    out = _invoke(client, ULTRA, {"prompt": "p"})
    assert out == {"finish_reasons": [reason]}
    assert ep.sent_images == []


def test_garbage_bad_base64_and_no_images(ep: BedrockEndpoint, client: Any) -> None:
    ep.script(Reply.garbage(), Reply.bad_base64(), Reply.no_images(), Reply.bad_base64())
    response = client.invoke_model(modelId=NOVA, body=json.dumps(_nova()))
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(ValueError, match="Expecting value"):
        json.loads(response["body"].read())
    assert _invoke(client, NOVA, _nova()) == {"images": ["not base64!!"]}
    assert _invoke(client, NOVA, _nova()) == {}
    out = _invoke(client, CORE, {"prompt": "p"})
    assert out["images"] == ["not base64!!"]
    assert out["finish_reasons"] == [None]
    assert ep.sent_images == []


# ------------------------------------------------------------------------------------------
# authentication and routing (raw HTTP)
# ------------------------------------------------------------------------------------------


def _raw_post(ep: BedrockEndpoint, path: str, headers: dict[str, str]) -> tuple[int, Any, str]:
    conn = http.client.HTTPConnection("127.0.0.1", ep.port, timeout=5)
    try:
        conn.request("POST", path, body=json.dumps(_nova()), headers=headers)
        response = conn.getresponse()
        kind = response.getheader("x-amzn-ErrorType") or ""
        return response.status, json.loads(response.read()), kind
    finally:
        conn.close()


def test_unsigned_requests_are_refused(ep: BedrockEndpoint) -> None:
    path = "/model/amazon.nova-canvas-v1%3A0/invoke"
    status, body, kind = _raw_post(ep, path, {})
    assert (status, kind.split(":")[0]) == (403, "MissingAuthenticationTokenException")
    assert body == {"message": "Missing Authentication Token"}
    status, body, kind = _raw_post(ep, path, {"Authorization": "Bearer abc"})
    assert (status, kind.split(":")[0]) == (403, "UnrecognizedClientException")
    ep.allow_bearer_token = True
    status, body, _kind = _raw_post(ep, path, {"Authorization": "Bearer abc"})
    assert status == 200
    assert len(body["images"]) == 1


def test_unsigned_boto3_request_gets_403(ep: BedrockEndpoint) -> None:
    unsigned = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=ep.url,
        config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}),
    )
    with pytest.raises(ClientError) as info:
        _invoke(unsigned, NOVA, _nova())
    assert info.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert ep.sent_images == []


def test_unknown_operation_is_a_violation(ep: BedrockEndpoint) -> None:
    auth = {"Authorization": "AWS4-HMAC-SHA256 Credential=x/20240101/us-east-1/bedrock/aws4"}
    status, _body, kind = _raw_post(ep, "/model/amazon.nova-canvas-v1%3A0/converse", auth)
    assert (status, kind.split(":")[0]) == (404, "UnknownOperationException")
    assert ep.violations == [
        "unsupported operation: POST /model/amazon.nova-canvas-v1%3A0/converse"
    ]


# ------------------------------------------------------------------------------------------
# delays and shutdown
# ------------------------------------------------------------------------------------------


def test_delay_is_honoured_without_blocking_other_requests(ep: BedrockEndpoint) -> None:
    slow = _client(ep.url, read_timeout=0.3)
    fast = _client(ep.url)
    ep.script(Reply.delay(1.0, then=Reply.throttled()))
    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            _invoke(slow, NOVA, _nova())
        except Exception as exc:
            outcome["exc"] = exc

    worker = threading.Thread(target=call)
    started = time.monotonic()
    worker.start()
    while len(ep.requests) < 1:
        time.sleep(0.01)
    out = _invoke(fast, NOVA, _nova())  # not held up by the delayed request
    assert len(out["images"]) == 1
    assert time.monotonic() - started < 0.9
    worker.join(5)
    assert isinstance(outcome["exc"], ReadTimeoutError)


def test_delay_then_reply(ep: BedrockEndpoint, client: Any) -> None:
    ep.script(Reply.delay(0.2, then=Reply.model_timeout()), Reply.delay(0.1))
    started = time.monotonic()
    with pytest.raises(ClientError) as info:
        _invoke(client, NOVA, _nova())
    assert info.value.response["Error"]["Code"] == "ModelTimeoutException"
    assert len(_invoke(client, NOVA, _nova())["images"]) == 1
    assert time.monotonic() - started >= 0.3


def test_stop_returns_promptly_while_a_delayed_request_is_pending() -> None:
    ep = BedrockEndpoint().start()
    client = _client(ep.url, read_timeout=30)
    ep.always(Reply.delay(60))
    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            outcome["body"] = _invoke(client, NOVA, _nova())
        except Exception as exc:
            outcome["exc"] = exc

    worker = threading.Thread(target=call)
    worker.start()
    deadline = time.monotonic() + 5
    while not ep.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    ep.stop()
    assert time.monotonic() - started < 2
    worker.join(5)
    assert not worker.is_alive()
    assert isinstance(outcome.get("exc"), ConnectionClosedError)
    assert "body" not in outcome
    ep.stop()  # idempotent


def test_url_and_context_manager() -> None:
    with BedrockEndpoint() as ep:
        assert ep.url.startswith("http://127.0.0.1:")
        assert ep.port > 0
    with pytest.raises(RuntimeError):
        _ = ep.url
