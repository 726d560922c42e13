"""Request building, validation and response parsing: pure, no server."""

from __future__ import annotations

import base64
import io
from datetime import date
from typing import Any

import pytest
from PIL import Image

from gallery_kit.bedrock.families import (
    DEFAULT_MODEL_ID,
    MODELS,
    GenerationRequest,
    ModelSpec,
    adapter_for,
    get_model,
    validate,
)
from gallery_kit.bedrock.families.nova_canvas import STYLES
from gallery_kit.bedrock.families.stability import ASPECT_RATIOS, nearest_aspect_ratio
from gallery_kit.errors import ConfigError, ContentFiltered, InvalidRequest, ModelFailed

NOVA = "amazon.nova-canvas-v1:0"
CORE = "stability.stable-image-core-v1:1"


def _png(width: int = 8, height: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _ready(model_id: str = NOVA, seed: int = 42, **fields: Any) -> tuple[ModelSpec, Any]:
    spec = get_model(model_id)
    request = validate(spec, GenerationRequest(model_id=model_id, **fields)).with_(seed=seed)
    return spec, request


def _bodies(model_id: str = NOVA, seed: int = 42, **fields: Any) -> list[dict[str, Any]]:
    spec, request = _ready(model_id, seed, **fields)
    return adapter_for(spec).bodies(spec, request)


# --- Nova Canvas bodies -----------------------------------------------------------------------


def test_nova_body_is_exactly_the_documented_text_image_request() -> None:
    (body,) = _bodies(
        prompt="  a lighthouse at dusk  ",
        negative_prompt=" fog ",
        style="photorealism",
        width=1280,
        height=720,
        quality="premium",
        count=1,
        cfg_scale=8,
        seed=1234,
    )
    assert body == {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {
            "text": "a lighthouse at dusk",
            "negativeText": "fog",
            "style": "PHOTOREALISM",
        },
        "imageGenerationConfig": {
            "width": 1280,
            "height": 720,
            "quality": "premium",
            "numberOfImages": 1,
            "cfgScale": 8.0,
            "seed": 1234,
        },
    }


def test_nova_defaults_are_1024_square_standard_one_image_cfg_6_5() -> None:
    (body,) = _bodies(prompt="a cat", seed=7)
    assert body["textToImageParams"] == {"text": "a cat"}
    assert body["imageGenerationConfig"] == {
        "width": 1024,
        "height": 1024,
        "quality": "standard",
        "numberOfImages": 1,
        "cfgScale": 6.5,
        "seed": 7,
    }


@pytest.mark.parametrize("negative", [None, "", "   ", "\n\t "])
def test_nova_never_sends_an_empty_negative_text(negative: str | None) -> None:
    (body,) = _bodies(prompt="a cat", negative_prompt=negative)
    assert "negativeText" not in body["textToImageParams"]


@pytest.mark.parametrize("style", STYLES)
def test_every_documented_style_is_accepted(style: str) -> None:
    (body,) = _bodies(prompt="a cat", style=style.lower().replace("_", " "))
    assert body["textToImageParams"]["style"] == style


def test_the_eight_documented_styles() -> None:
    assert set(STYLES) == {
        "3D_ANIMATED_FAMILY_FILM", "DESIGN_SKETCH", "FLAT_VECTOR_ILLUSTRATION",
        "GRAPHIC_NOVEL_ILLUSTRATION", "MAXIMALISM", "MIDCENTURY_RETRO", "PHOTOREALISM",
        "SOFT_DIGITAL_PAINTING",
    }  # fmt: skip


def test_count_is_one_nova_request_with_number_of_images() -> None:
    bodies = _bodies(prompt="a cat", count=3)
    assert len(bodies) == 1
    assert bodies[0]["imageGenerationConfig"]["numberOfImages"] == 3


def test_default_model_is_nova_canvas_in_us_east_1() -> None:
    assert DEFAULT_MODEL_ID == NOVA
    assert get_model(NOVA).default_region == "us-east-1"
    for model_id in (
        "stability.stable-image-core-v1:1",
        "stability.stable-image-ultra-v1:1",
        "stability.sd3-5-large-v1:0",
    ):
        assert get_model(model_id).default_region == "us-west-2"
        assert get_model(model_id).status_on(date(2026, 12, 1)) == "active"


def test_inference_profile_prefix_is_accepted() -> None:
    spec = get_model("us." + CORE)
    assert spec.model_id == "us." + CORE
    assert spec.family == "stability"


# --- Stability bodies -------------------------------------------------------------------------


def test_stability_body_is_one_per_image_with_consecutive_seeds() -> None:
    bodies = _bodies(CORE, seed=100, prompt="a fox", negative_prompt="blur", count=3)
    assert bodies == [
        {
            "prompt": "a fox",
            "negative_prompt": "blur",
            "aspect_ratio": "1:1",
            "seed": s,
            "output_format": "png",
        }
        for s in (100, 101, 102)
    ]


def test_stability_body_leaves_out_nova_only_fields_and_blank_negative() -> None:
    (body,) = _bodies(CORE, prompt="a fox", negative_prompt="  ", cfg_scale=9.0)
    assert set(body) == {"prompt", "aspect_ratio", "seed", "output_format"}


def test_stability_seed_wraps_at_its_documented_maximum() -> None:
    bodies = _bodies(CORE, seed=4_294_967_294, prompt="a fox", count=2)
    assert [b["seed"] for b in bodies] == [4_294_967_294, 0]


@pytest.mark.parametrize(
    ("width", "height", "ratio"),
    [
        (1024, 1024, "1:1"),
        (1344, 768, "16:9"),
        (768, 1344, "9:16"),
        (1216, 832, "3:2"),
        (832, 1216, "2:3"),
        (1280, 1024, "5:4"),
        (1024, 1280, "4:5"),
        (1536, 640, "21:9"),
        (640, 1536, "9:21"),
        (2048, 512, "21:9"),
        (512, 2048, "9:21"),
        (1100, 1000, "1:1"),
        (1920, 1080, "16:9"),
    ],
)
def test_stability_aspect_ratio_is_the_nearest_documented_one(
    width: int, height: int, ratio: str
) -> None:
    assert nearest_aspect_ratio(width, height) == ratio
    (body,) = _bodies(CORE, prompt="x", width=width, height=height)
    assert body["aspect_ratio"] == ratio
    assert ratio in ASPECT_RATIOS


def test_stability_accepts_sizes_nova_would_refuse() -> None:
    # No multiple-of-16 rule and no pixel cap: the size only picks a ratio.
    _bodies(CORE, prompt="x", width=1000, height=4000)
    _bodies(CORE, prompt="x", width=4096, height=4096)


# --- validation: every limit, each with its own message ---------------------------------------

LIMITS = [
    pytest.param({"prompt": ""}, InvalidRequest, ["prompt", "empty"], id="empty-prompt"),
    pytest.param({"prompt": " \n\t "}, InvalidRequest, ["prompt", "empty"], id="blank-prompt"),
    pytest.param({"prompt": "x" * 1025}, InvalidRequest, ["1025", "1024"], id="prompt-1025"),
    pytest.param(
        {"prompt": "a cat\x07"}, InvalidRequest, ["control character", "U+0007"], id="bell"
    ),
    pytest.param({"prompt": "a\x00cat"}, InvalidRequest, ["U+0000"], id="nul"),
    pytest.param(
        {"prompt": "a cat", "negative_prompt": "n" * 1025},
        InvalidRequest,
        ["negative prompt", "1024"],
        id="negative-1025",
    ),
    pytest.param(
        {"prompt": "a cat", "negative_prompt": "dog\x1b"},
        InvalidRequest,
        ["negative prompt", "U+001B"],
        id="negative-control",
    ),
    pytest.param({"prompt": "a", "width": 100}, InvalidRequest, ["width", "320-4096"], id="w100"),
    pytest.param(
        {"prompt": "a", "height": 5000}, InvalidRequest, ["height", "320-4096"], id="h5000"
    ),
    pytest.param(
        {"prompt": "a", "width": 1000},
        InvalidRequest,
        ["width", "divisible by 16", "try 992"],
        id="w1000",
    ),
    pytest.param(
        {"prompt": "a", "width": 4096, "height": 4096},
        InvalidRequest,
        ["4,194,304", "pixels"],
        id="4096x4096",
    ),
    pytest.param(
        {"prompt": "a", "width": 2048, "height": 2048},
        InvalidRequest,
        ["4,194,304"],
        id="2048x2048-not-less-than-cap",
    ),
    pytest.param(
        {"prompt": "a", "width": 320, "height": 4096},
        InvalidRequest,
        ["aspect ratio", "1:4"],
        id="aspect-320x4096",
    ),
    pytest.param(
        {"prompt": "a", "width": 1344, "height": 320},
        InvalidRequest,
        ["aspect ratio", "4:1"],
        id="aspect-1344x320",
    ),
    pytest.param({"prompt": "a", "count": 0}, InvalidRequest, ["count", "1-5"], id="count0"),
    pytest.param({"prompt": "a", "count": 6}, InvalidRequest, ["count", "1-5"], id="count6"),
    pytest.param(
        {"prompt": "a", "cfg_scale": 1.0}, InvalidRequest, ["cfg", "1.1-10.0"], id="cfg1.0"
    ),
    pytest.param({"prompt": "a", "cfg_scale": 11}, InvalidRequest, ["cfg", "1.1-10.0"], id="cfg11"),
    pytest.param(
        {"prompt": "a", "seed": -1}, InvalidRequest, ["seed", "2,147,483,646"], id="seed-1"
    ),
    pytest.param(
        {"prompt": "a", "seed": 2_147_483_647},
        InvalidRequest,
        ["seed", "2,147,483,646"],
        id="seed-2147483647",
    ),
    pytest.param(
        {"prompt": "a", "style": "watercolour"},
        InvalidRequest,
        ["watercolour", "PHOTOREALISM", "--style"],
        id="unknown-style",
    ),
    pytest.param(
        {"prompt": "a", "quality": "ultra"},
        InvalidRequest,
        ["ultra", "standard", "premium"],
        id="unknown-quality",
    ),
    pytest.param(
        {"prompt": "a", "model_id": "acme.painter-v9"},
        ConfigError,
        ["acme.painter-v9", "BEDROCK_MODEL_ID", CORE],
        id="unknown-model",
    ),
    pytest.param(
        {"prompt": "a", "model_id": CORE, "seed": 4_294_967_295},
        InvalidRequest,
        ["seed", "4,294,967,294"],
        id="stability-seed",
    ),
    pytest.param(
        {"prompt": "a", "model_id": CORE, "style": "PHOTOREALISM"},
        InvalidRequest,
        ["no styles", "--style"],
        id="stability-style",
    ),
    pytest.param(
        {"prompt": "a", "model_id": CORE, "quality": "premium"},
        InvalidRequest,
        ["premium", "standard"],
        id="stability-quality",
    ),
    pytest.param(
        {"prompt": "x" * 10_001, "model_id": CORE},
        InvalidRequest,
        ["10001", "10000"],
        id="stability-prompt",
    ),
]


@pytest.mark.parametrize(("fields", "error", "words"), LIMITS)
def test_each_limit_is_refused_with_a_message_naming_it(
    fields: dict[str, Any], error: type[Exception], words: list[str]
) -> None:
    request = GenerationRequest(**fields)
    with pytest.raises(error) as caught:
        # No model named: these are Nova Canvas's documented limits.
        validate(get_model(request.model_id or DEFAULT_MODEL_ID), request)
    message = str(caught.value)
    for word in words:
        assert word.lower() in message.lower(), (word, message)
    assert "\n" not in message


@pytest.mark.parametrize(
    "fields",
    [
        {"prompt": "x" * 1024},
        {"prompt": "  " + "x" * 1024 + "  "},  # trimmed before counting
        {"prompt": "line one\nline two\ttabbed"},
        {"prompt": "a", "width": 320, "height": 1280},
        {"prompt": "a", "width": 3840, "height": 1088},
        {"prompt": "a", "width": 2048, "height": 2032},
        {"prompt": "a", "count": 5},
        {"prompt": "a", "cfg_scale": 1.1},
        {"prompt": "a", "cfg_scale": 10},
        {"prompt": "a", "seed": 0},
        {"prompt": "a", "seed": 2_147_483_646},
        {"prompt": "a", "quality": " Premium "},
        {"prompt": "a", "style": "soft-digital-painting"},
    ],
)
def test_values_on_the_limits_are_accepted(fields: dict[str, Any]) -> None:
    request = GenerationRequest(**fields)
    valid = validate(get_model(request.model_id or DEFAULT_MODEL_ID), request)
    assert valid.prompt == valid.prompt.strip()


def test_validation_normalises_the_request() -> None:
    valid = validate(
        get_model(NOVA),
        GenerationRequest(
            prompt="  cat ", negative_prompt="   ", quality="PREMIUM", style="midcentury retro"
        ),
    )
    assert valid.prompt == "cat"
    assert valid.negative_prompt is None
    assert valid.quality == "premium"
    assert valid.style == "MIDCENTURY_RETRO"
    assert valid.cfg_scale == 6.5
    assert valid.seed is None  # chosen later, by the gallery
    assert valid.model_id == NOVA


def test_titan_shares_the_family_with_its_own_default_cfg() -> None:
    spec = get_model("amazon.titan-image-generator-v2:0")
    assert adapter_for(spec) is adapter_for(get_model(NOVA))
    assert validate(spec, GenerationRequest(prompt="a")).cfg_scale == 8.0


def test_every_model_has_a_price_and_a_region() -> None:
    for spec in MODELS.values():
        assert spec.default_region in ("us-east-1", "us-west-2")
        assert spec.price_per_image(1024, 1024) is not None


# --- response parsing -------------------------------------------------------------------------


def _parse(model_id: str, response: Any, count: int = 1, seed: int = 42) -> Any:
    spec, request = _ready(model_id, seed, prompt="a cat", count=count)
    body = adapter_for(spec).bodies(spec, request)[0]
    return adapter_for(spec).parse(spec, request, body, response)


def test_nova_response_images_are_decoded_unchanged() -> None:
    images = [_png(8, 8), _png(16, 8)]
    output = _parse(NOVA, {"images": [_b64(i) for i in images]}, count=2)
    assert [i.data for i in output.images] == images
    assert [i.seed for i in output.images] == [42, 42]
    assert [i.index for i in output.images] == [0, 1]
    assert output.warnings == []


def test_nova_all_blocked_is_content_filtered_with_aws_reason() -> None:
    reason = "All of the generated images have been blocked by our content filters."
    with pytest.raises(ContentFiltered) as caught:
        _parse(NOVA, {"images": [], "error": reason}, count=2)
    assert reason in str(caught.value)
    assert "Rephrase" in str(caught.value)


def test_nova_some_blocked_is_a_warning_beside_the_images() -> None:
    reason = "Some of the generated images have been blocked by our content filters."
    output = _parse(NOVA, {"images": [_b64(_png())], "error": reason}, count=3)
    assert len(output.images) == 1
    (warning,) = output.warnings
    assert "2 of 3" in warning
    assert reason in warning


@pytest.mark.parametrize(
    "response",
    [
        {"images": ["not base64!!"]},
        {},
        {"images": "abc"},
        {"images": [1, 2]},
        ["not", "an", "object"],
        None,
    ],
    ids=["bad-base64", "no-images", "images-string", "images-ints", "list", "null"],
)
def test_nova_malformed_response_is_model_failed(response: Any) -> None:
    with pytest.raises(ModelFailed) as caught:
        _parse(NOVA, response)
    assert "Amazon Nova Canvas" in str(caught.value)


def test_stability_response_records_the_seed_the_model_used() -> None:
    data = _png()
    output = _parse(
        CORE, {"images": [_b64(data)], "seeds": [987], "finish_reasons": [None]}, seed=0
    )
    (image,) = output.images
    assert image.data == data
    assert image.seed == 987


def test_stability_response_without_seeds_falls_back_to_the_sent_seed() -> None:
    output = _parse(CORE, {"images": [_b64(_png())], "finish_reasons": [None]}, seed=55)
    assert output.images[0].seed == 55


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        ({"finish_reasons": ["Filter reason: prompt"]}, "Filter reason: prompt"),
        (
            {"finish_reasons": ["Filter reason: output image"], "images": []},
            "Filter reason: output image",
        ),
        ({"finish_reasons": ["Inference error"], "images": [_b64(_png())]}, "Inference error"),
        ({"finish_reasons": [None], "images": []}, "no image"),
    ],
)
def test_stability_finish_reason_means_filtered(response: dict[str, Any], reason: str) -> None:
    with pytest.raises(ContentFiltered) as caught:
        _parse(CORE, response)
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    "response",
    [{}, {"images": ["%%%"], "finish_reasons": [None]}, "text"],
    ids=["empty", "bad-base64", "not-object"],
)
def test_stability_malformed_response_is_model_failed(response: Any) -> None:
    with pytest.raises(ModelFailed):
        _parse(CORE, response)
