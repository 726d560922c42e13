"""Self-tests for what the local Bedrock endpoint learned for issue 6: the documented limits of
the edit requests (Nova Canvas editing tasks, Stability image-to-image and Image Services) and
the control plane's ListFoundationModels."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from PIL import Image

from tests.support.bedrock import MESSAGES, NOVA_CANVAS_LEGACY, BedrockEndpoint, Reply, image_size

NOVA = "amazon.nova-canvas-v1:0"
ULTRA = "us.stability.stable-image-ultra-v1:1"
SD35 = "us.stability.sd3-5-large-v1:0"
REMOVE_BG = "us.stability.stable-image-remove-background-v1:0"
INPAINT = "us.stability.stable-image-inpaint-v1:0"
OUTPAINT = "us.stability.stable-outpaint-v1:0"
FAST_UPSCALE = "us.stability.stable-fast-upscale-v1:0"
CREATIVE_UPSCALE = "us.stability.stable-creative-upscale-v1:0"


def png(size: tuple[int, int] = (64, 64), colour: Any = (10, 120, 200), mode: str = "RGB") -> str:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


IMG = png()
MASK = png(colour=(0, 0, 0))
_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=10)
_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture
def ep() -> Iterator[BedrockEndpoint]:
    with BedrockEndpoint() as endpoint:
        yield endpoint


def runtime(ep: BedrockEndpoint) -> Any:
    return boto3.client(
        "bedrock-runtime", region_name="us-west-2", endpoint_url=ep.url, config=_CONFIG, **_KEYS
    )


def invoke(ep: BedrockEndpoint, model: str, body: dict[str, Any]) -> dict[str, Any]:
    response = runtime(ep).invoke_model(modelId=model, body=json.dumps(body))
    out: dict[str, Any] = json.loads(response["body"].read())
    return out


VALID: list[tuple[str, str, dict[str, Any]]] = [
    ("ultra-img2img-default-strength", ULTRA, {"prompt": "p", "image": IMG}),
    ("sd35-img2img", SD35, {"prompt": "p", "mode": "image-to-image", "image": IMG,
                            "strength": 0.3, "seed": 9, "output_format": "png"}),
    ("nova-inpaint-config", NOVA, {"taskType": "INPAINTING",
                                   "inPaintingParams": {"image": png((512, 512)),
                                                        "maskPrompt": "sky", "text": "moon"},
                                   "imageGenerationConfig": {"numberOfImages": 1,
                                                             "quality": "standard",
                                                             "cfgScale": 6.5, "seed": 3}}),
    ("nova-outpaint-mask", NOVA, {"taskType": "OUTPAINTING",
                                  "outPaintingParams": {"image": png((512, 512)), "text": "beach",
                                                        "maskImage": png((512, 512), (0, 0, 0)),
                                                        "outPaintingMode": "PRECISE"}}),
    ("outpaint-creativity", OUTPAINT, {"image": IMG, "up": 32, "creativity": 0.1}),
    ("inpaint-grow", INPAINT, {"image": IMG, "prompt": "p", "mask": MASK, "grow_mask": 20}),
    ("rmbg-2-5", REMOVE_BG, {"image": png((160, 64))}),
    ("fast-upscale-limits", FAST_UPSCALE, {"image": png((1536, 512))}),
    ("fast-upscale-small", FAST_UPSCALE, {"image": png((32, 32))}),
]  # fmt: skip


@pytest.mark.parametrize(("model", "body"), [v[1:] for v in VALID], ids=[v[0] for v in VALID])
def test_documented_edit_bodies_are_accepted(
    ep: BedrockEndpoint, model: str, body: dict[str, Any]
) -> None:
    out = invoke(ep, model, body)
    assert ep.violations == []
    assert out["images"]


BAD: list[tuple[str, str, dict[str, Any], str]] = [
    ("ultra-mode-img2img", ULTRA, {"prompt": "p", "mode": "image-to-image", "image": IMG},
     "#/mode: image-to-image is not a valid enum value"),
    ("nova-inpaint-width", NOVA, {"taskType": "INPAINTING",
                                  "inPaintingParams": {"image": IMG, "maskPrompt": "sky"},
                                  "imageGenerationConfig": {"width": 512, "height": 512}},
     "extraneous key [width]"),
    ("nova-outpaint-height", NOVA, {"taskType": "OUTPAINTING",
                                    "outPaintingParams": {"image": IMG, "maskPrompt": "dog",
                                                          "text": "t"},
                                    "imageGenerationConfig": {"height": 512}},
     "extraneous key [height]"),
    ("outpaint-creativity-low", OUTPAINT, {"image": IMG, "left": 8, "creativity": 0.05},
     "#/creativity: 0.05 is not greater or equal to 0.1"),
    ("inpaint-grow-21", INPAINT, {"image": IMG, "prompt": "p", "grow_mask": 21},
     "#/grow_mask: 21 is not less or equal to 20"),
    ("rmbg-aspect", REMOVE_BG, {"image": png((192, 64))}, "outside 1:2.5 to 2.5:1"),
    ("rmbg-pixels", REMOVE_BG, {"image": png((3100, 3100))}, "must be at most 9437184"),
    ("fast-upscale-side", FAST_UPSCALE, {"image": png((1600, 600))}, "at most 1536 px"),
    ("fast-upscale-pixels", FAST_UPSCALE, {"image": png((1100, 1000))}, "at most 1048576"),
    ("fast-upscale-tiny", FAST_UPSCALE, {"image": png((31, 64))}, "at least 32 px"),
    ("creative-upscale-pixels", CREATIVE_UPSCALE, {"image": png((1200, 1000)), "prompt": "p"},
     "at most 1048576"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("model", "body", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_edit_schema_violations_are_rejected(
    ep: BedrockEndpoint, model: str, body: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ClientError) as info:
        invoke(ep, model, body)
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert expected in info.value.response["Error"]["Message"]
    assert any(expected in v for v in ep.violations)


def test_outputs_follow_the_operation(ep: BedrockEndpoint) -> None:
    cut = invoke(ep, REMOVE_BG, {"image": png((100, 80))})
    data = base64.b64decode(cut["images"][0])
    with Image.open(io.BytesIO(data)) as image:
        assert (image.mode, image.size) == ("RGBA", (100, 80))
    up = invoke(ep, FAST_UPSCALE, {"image": png((40, 32))})
    assert image_size(base64.b64decode(up["images"][0])) == (160, 128)
    out = invoke(ep, OUTPAINT, {"image": png((100, 80)), "left": 20, "down": 10})
    assert image_size(base64.b64decode(out["images"][0])) == (120, 90)


# --- ListFoundationModels -----------------------------------------------------------------


def control(ep: BedrockEndpoint, region: str) -> Any:
    return boto3.client("bedrock", region_name=region, endpoint_url=ep.url, config=_CONFIG, **_KEYS)


def test_list_foundation_models_answers_per_region(ep: BedrockEndpoint) -> None:
    west = control(ep, "us-west-2").list_foundation_models(byOutputModality="IMAGE")
    ids = [m["modelId"] for m in west["modelSummaries"]]
    assert "stability.stable-image-core-v1:1" in ids
    assert "amazon.titan-embed-text-v2:0" not in ids  # not an image model
    assert {m["modelLifecycle"]["status"] for m in west["modelSummaries"]} == {"ACTIVE"}
    east = control(ep, "us-east-1").list_foundation_models(byOutputModality="IMAGE")
    assert east["modelSummaries"] == []  # Nova Canvas is past its end of life (2026-09-30)
    ep.foundation_models["us-east-1"] = [NOVA_CANVAS_LEGACY]  # an account that still has it
    east = control(ep, "us-east-1").list_foundation_models(byOutputModality="IMAGE")
    assert [(m["modelId"], m["modelLifecycle"]["status"]) for m in east["modelSummaries"]] == [
        ("amazon.nova-canvas-v1:0", "LEGACY")
    ]
    elsewhere = control(ep, "eu-west-1").list_foundation_models()
    assert elsewhere["modelSummaries"] == []
    everything = control(ep, "us-west-2").list_foundation_models()
    assert "amazon.titan-embed-text-v2:0" in [m["modelId"] for m in everything["modelSummaries"]]
    assert ep.violations == []


def test_list_foundation_models_can_be_denied(ep: BedrockEndpoint) -> None:
    ep.foundation_models_reply = Reply.error("AccessDeniedException", MESSAGES["list_denied"])
    with pytest.raises(ClientError) as info:
        control(ep, "us-west-2").list_foundation_models(byOutputModality="IMAGE")
    assert info.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "bedrock:ListFoundationModels" in info.value.response["Error"]["Message"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
