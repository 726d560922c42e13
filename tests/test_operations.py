"""Edit operations, pure: request bodies against AWS's documented shapes, routing, validation,
input fitting and response parsing. No server, no store."""

from __future__ import annotations

import base64
import io
import random
from typing import Any

import pytest
from PIL import Image

from gallery_kit.bedrock.families import get_model
from gallery_kit.bedrock.families import nova_edit as nova
from gallery_kit.bedrock.families import stability_services as st
from gallery_kit.edits import (
    OPERATIONS,
    EditRequest,
    available_operations,
    edit_extra,
    plan_edit,
    prepare_job,
    route_for,
)
from gallery_kit.errors import (
    ConfigError,
    ContentFiltered,
    ImageNotFound,
    InvalidRequest,
    ModelFailed,
)
from gallery_kit.input_images import SizeLimits, fit_size, keep_mask
from gallery_kit.records import ImageRecord

NOVA = "amazon.nova-canvas-v1:0"
TITAN = "amazon.titan-image-generator-v2:0"
CORE = "stability.stable-image-core-v1:1"
ULTRA = "stability.stable-image-ultra-v1:1"
SD35 = "stability.sd3-5-large-v1:0"
PARENT = "8235781234567-1a2b3c4d5e"


def png(
    size: tuple[int, int] = (512, 512), colour: Any = (30, 160, 90), mode: str = "RGB"
) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, "PNG")
    return out.getvalue()


def decode(text: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(text, validate=True)))
    image.load()
    return image


def parent(source: str = "generated", prompt: str = "a lighthouse at dusk") -> ImageRecord:
    return ImageRecord(
        id=PARENT,
        prompt=prompt,
        model_id=NOVA,
        width=512,
        height=512,
        created_at="2026-11-25T10:00:00.000Z",
        content_type="image/png",
        byte_size=100,
        original_key=f"gallery-kit/images/{PARENT}.png",
        thumbnail_key=f"gallery-kit/thumbs/{PARENT}.webp",
        source=source,
    )


def job(op: str, model: str = NOVA, *, source: bytes | None = None, **fields: Any) -> Any:
    plan = plan_edit(EditRequest(op, PARENT, **fields), model, rng=random.Random(7))
    return prepare_job(plan, parent(), source if source is not None else png())


# --- Nova Canvas bodies -----------------------------------------------------------------------


def test_nova_variation_body_is_the_documented_request() -> None:
    body = job("vary", prompt=" a fox ", similarity=0.5, negative_prompt="fog", seed=9).body
    image = body["imageVariationParams"].pop("images")
    assert body == {
        "taskType": "IMAGE_VARIATION",
        "imageVariationParams": {"similarityStrength": 0.5, "text": "a fox", "negativeText": "fog"},
        "imageGenerationConfig": {
            "width": 512,
            "height": 512,
            "numberOfImages": 1,
            "cfgScale": 6.5,
            "seed": 9,
        },
    }
    assert len(image) == 1
    assert decode(image[0]).size == (512, 512)


def test_nova_variation_without_prompt_sends_no_text_and_default_similarity() -> None:
    params = job("vary").body["imageVariationParams"]
    assert set(params) == {"images", "similarityStrength"}
    assert params["similarityStrength"] == nova.DEFAULT_SIMILARITY == 0.7


def test_nova_inpainting_body_uses_the_mask_prompt() -> None:
    body = job("edit", prompt="a red moon", mask_prompt="the sky", seed=3).body
    params = body["inPaintingParams"]
    assert body["taskType"] == "INPAINTING"
    assert {k: v for k, v in params.items() if k != "image"} == {
        "maskPrompt": "the sky",
        "text": "a red moon",
    }
    # AWS: width and height "should not be provided" for INPAINTING / OUTPAINTING.
    assert body["imageGenerationConfig"] == {
        "numberOfImages": 1,
        "quality": "standard",
        "cfgScale": 6.5,
        "seed": 3,
    }


def test_nova_outpainting_places_the_image_on_the_canvas_and_masks_what_to_keep() -> None:
    body = job("extend", width=1024, height=512, prompt="a wide beach", seed=1).body
    params = body["outPaintingParams"]
    assert body["taskType"] == "OUTPAINTING"
    assert params["text"] == "a wide beach"
    assert params["outPaintingMode"] == "PRECISE"
    assert "maskPrompt" not in params
    assert "width" not in body["imageGenerationConfig"]
    image, mask = decode(params["image"]), decode(params["maskImage"])
    assert image.size == mask.size == (1024, 512)
    assert image.mode == "RGB"
    # Black (kept) exactly over the original, centred; pure white (painted) elsewhere.
    assert mask.convert("RGB").getcolors() is not None
    assert {c for _, c in mask.convert("RGB").getcolors()} == {(0, 0, 0), (255, 255, 255)}
    assert mask.getpixel((256, 0)) == mask.getpixel((767, 511)) == (0, 0, 0)
    assert mask.getpixel((255, 0)) == mask.getpixel((768, 511)) == (255, 255, 255)
    assert image.getpixel((300, 100)) == (30, 160, 90)


def test_nova_outpainting_without_prompt_uses_the_parents_prompt() -> None:
    extended = job("extend", width=768, height=512)
    assert extended.body["outPaintingParams"]["text"] == "a lighthouse at dusk"
    assert extended.prompt == "a lighthouse at dusk"


def test_nova_background_removal_body_has_no_generation_config() -> None:
    body = job("remove-background").body
    assert set(body) == {"taskType", "backgroundRemovalParams"}
    assert body["taskType"] == "BACKGROUND_REMOVAL"
    assert set(body["backgroundRemovalParams"]) == {"image"}


def test_nova_inputs_are_flattened_onto_white_and_fitted() -> None:
    rgba = Image.new("RGBA", (640, 480), (255, 0, 0, 255))
    rgba.paste((0, 0, 255, 0), (0, 0, 100, 100))  # a transparent corner
    out = io.BytesIO()
    rgba.save(out, "PNG")
    sent = decode(
        job("remove-background", source=out.getvalue()).body["backgroundRemovalParams"]["image"]
    )
    assert sent.mode == "RGB"
    assert sent.getpixel((10, 10)) == (255, 255, 255)
    assert sent.getpixel((300, 300)) == (255, 0, 0)
    # Too large for Nova Canvas (5000x2500): fitted below 4,194,304 px, sides a multiple of 16.
    big = decode(
        job("remove-background", source=png((5000, 2500))).body["backgroundRemovalParams"]["image"]
    )
    assert big.width * big.height < 4_194_304
    assert big.width % 16 == big.height % 16 == 0
    assert abs(big.width / big.height - 2) < 0.02


def test_an_rgb_png_inside_the_limits_is_sent_byte_for_byte() -> None:
    source = png((512, 512))
    body = job("remove-background", source=source).body
    assert base64.b64decode(body["backgroundRemovalParams"]["image"]) == source


def test_nova_refuses_an_aspect_ratio_beyond_1_to_4() -> None:
    with pytest.raises(InvalidRequest, match="1:4-4:1"):
        job("remove-background", source=png((2100, 500)))


# --- Stability bodies -------------------------------------------------------------------------


def test_sd35_image_to_image_body() -> None:
    body = job("vary", SD35, prompt="a fox", similarity=0.8, seed=11).body
    image = body.pop("image")
    assert body == {
        "prompt": "a fox",
        "mode": "image-to-image",
        "strength": 0.2,
        "seed": 11,
        "output_format": "png",
    }
    assert decode(image).size == (512, 512)


def test_ultra_image_to_image_sends_no_mode() -> None:
    body = job("vary", ULTRA, prompt="a fox", seed=11).body
    assert "mode" not in body
    assert body["strength"] == 0.3
    assert set(body) == {"prompt", "image", "strength", "seed", "output_format"}


def test_stability_vary_without_prompt_uses_the_parents_prompt() -> None:
    assert job("vary", CORE).body["prompt"] == "a lighthouse at dusk"


def test_stability_service_bodies() -> None:
    removed = job("remove-background", CORE).body
    assert set(removed) == {"image", "output_format"}
    assert removed["output_format"] == "png"
    replaced = job("edit", CORE, prompt="a red moon", mask_prompt="the sky", seed=5).body
    assert {k: v for k, v in replaced.items() if k != "image"} == {
        "prompt": "a red moon",
        "search_prompt": "the sky",
        "seed": 5,
        "output_format": "png",
    }
    upscaled = job("upscale", CORE).body
    assert set(upscaled) == {"image", "output_format"}


def test_stability_outpaint_margins_fill_the_canvas() -> None:
    body = job("extend", CORE, width=1024, height=640, seed=2, prompt="a beach").body
    assert (body["left"], body["right"], body["up"], body["down"]) == (256, 256, 64, 64)
    assert body["prompt"] == "a beach"
    assert decode(body["image"]).size == (512, 512)
    # A new aspect ratio: the source is scaled to fit, then extended.
    wide = job("extend", CORE, width=1024, height=256, seed=2).body
    assert decode(wide["image"]).size == (256, 256)
    assert (wide["left"], wide["right"], wide["up"], wide["down"]) == (384, 384, 0, 0)
    assert "prompt" not in wide


def test_fast_upscale_input_is_fitted_into_its_limits() -> None:
    body = job("upscale", CORE, source=png((2048, 2048))).body
    assert decode(body["image"]).size == (1024, 1024)
    tiny = job("upscale", CORE, source=png((20, 20))).body
    assert decode(tiny["image"]).size == (32, 32)


def test_image_to_image_input_is_at_most_a_megapixel() -> None:
    body = job("vary", SD35, source=png((2048, 1536)), prompt="p").body
    width, height = decode(body["image"]).size
    assert width * height <= 1_048_576
    assert (width, height) == (1182, 886)


def test_stability_edit_services_refuse_beyond_2_5_to_1() -> None:
    with pytest.raises(InvalidRequest, match=r"1:2\.5 and 2\.5:1"):
        job("remove-background", CORE, source=png((1300, 500)))


def test_stability_outpaint_margin_limit() -> None:
    with pytest.raises(InvalidRequest, match="2000 px"):
        job("extend", CORE, width=4608, height=2048, source=png((512, 512)))


@pytest.mark.parametrize(("similarity", "strength"), [(0.2, 0.8), (0.7, 0.3), (1.0, 0.0)])
def test_similarity_maps_to_strength(similarity: float, strength: float) -> None:
    assert st.strength_for(similarity) == strength


# --- routing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("configured", "operation", "model", "kind"),
    [
        (NOVA, "vary", NOVA, "nova"),
        (NOVA, "remove-background", NOVA, "nova"),
        (NOVA, "edit", NOVA, "nova"),
        (NOVA, "extend", NOVA, "nova"),
        (TITAN, "vary", TITAN, "nova"),
        (CORE, "vary", SD35, "image-to-image"),
        ("us." + CORE, "vary", "us." + SD35, "image-to-image"),
        (SD35, "vary", SD35, "image-to-image"),
        (ULTRA, "vary", ULTRA, "image-to-image"),
        (CORE, "remove-background", "us.stability.stable-image-remove-background-v1:0", "service"),
        (ULTRA, "edit", "us.stability.stable-image-search-replace-v1:0", "service"),
        (SD35, "extend", "us.stability.stable-outpaint-v1:0", "service"),
        (CORE, "upscale", "us.stability.stable-fast-upscale-v1:0", "service"),
    ],
)
def test_which_model_does_each_operation(
    configured: str, operation: str, model: str, kind: str
) -> None:
    route = route_for(operation, configured)
    assert (route.spec.model_id, route.kind) == (model, kind)


def test_offline_routes_every_operation_to_the_offline_generator() -> None:
    for operation in OPERATIONS:
        assert route_for(operation, NOVA, offline=True).kind == "offline"


def test_available_operations_for_the_lightbox() -> None:
    nova_ops = available_operations(NOVA)
    assert [op for op, why in nova_ops.items() if why is None] == [
        "vary",
        "remove-background",
        "edit",
        "extend",
    ]
    assert "BEDROCK_MODEL_ID" in (nova_ops["upscale"] or "")
    assert set(available_operations(CORE).values()) == {None}
    assert set(available_operations(NOVA, offline=True).values()) == {None}


def test_an_unknown_model_is_a_config_error_even_offline() -> None:
    with pytest.raises(ConfigError, match="BEDROCK_MODEL_ID"):
        route_for("vary", "acme.painter-v9", offline=True)


def test_nova_cannot_upscale_and_says_what_to_set() -> None:
    with pytest.raises(InvalidRequest) as info:
        route_for("upscale", NOVA)
    message = str(info.value)
    assert "BEDROCK_MODEL_ID=stability.stable-image-core-v1:1" in message
    assert "BEDROCK_REGION=us-west-2" in message
    assert "us.stability.stable-fast-upscale-v1:0" in message
    assert info.value.exit_code == 2


# --- validation -------------------------------------------------------------------------------

BAD: list[tuple[str, str, dict[str, Any], str]] = [
    ("unknown-op", NOVA, {"operation": "sharpen"}, "use one of: vary, remove-background"),
    ("similarity-low", NOVA, {"similarity": 0.1}, "--similarity"),
    ("similarity-high", CORE, {"similarity": 1.5}, "--similarity"),
    ("similarity-bool", NOVA, {"similarity": True}, "--similarity"),
    ("similarity-text", NOVA, {"similarity": "high"}, "--similarity"),
    ("prompt-too-long", NOVA, {"prompt": "x" * 1025}, "1024 is the limit"),
    ("prompt-control", NOVA, {"prompt": "a\x00b"}, "--prompt"),
    ("seed-negative", NOVA, {"seed": -1}, "--seed"),
    ("seed-too-big", CORE, {"seed": 4_294_967_295}, "--seed"),
    ("edit-no-mask", NOVA, {"operation": "edit", "prompt": "p"}, "--mask-prompt"),
    ("edit-no-prompt", NOVA, {"operation": "edit", "prompt": "  ", "mask_prompt": "sky"}, "PROMPT"),
    ("edit-similarity", NOVA, {"operation": "edit", "prompt": "p", "mask_prompt": "m",
                               "similarity": 0.5}, "takes no --similarity"),
    ("extend-no-size", NOVA, {"operation": "extend", "width": 1024}, "--width W --height H"),
    ("extend-multiple", NOVA, {"operation": "extend", "width": 1000, "height": 512},
     "not divisible by 16"),
    ("extend-pixels", NOVA, {"operation": "extend", "width": 4096, "height": 4096},
     "--width/--height"),
    ("extend-ratio", CORE, {"operation": "extend", "width": 4000, "height": 512},
     "beyond 1:4"),
    ("extend-tiny", CORE, {"operation": "extend", "width": 32, "height": 512}, "--width"),
    ("extend-negative", CORE, {"operation": "extend", "width": 1024, "height": 1024,
                               "negative_prompt": "fog"}, "--negative-prompt"),
    ("rmbg-prompt", NOVA, {"operation": "remove-background", "prompt": "p"}, "takes no --prompt"),
    ("rmbg-seed", CORE, {"operation": "remove-background", "seed": 1}, "takes no --seed"),
    ("upscale-size", CORE, {"operation": "upscale", "width": 2048}, "takes no --width"),
    ("vary-mask", NOVA, {"mask_prompt": "sky"}, "takes no --mask-prompt"),
    ("nova-upscale", NOVA, {"operation": "upscale"}, "BEDROCK_MODEL_ID"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("model", "fields", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_invalid_requests_name_the_flag(model: str, fields: dict[str, Any], expected: str) -> None:
    fields = {"operation": "vary", **fields}
    with pytest.raises(InvalidRequest) as info:
        plan_edit(EditRequest(image_id=PARENT, **fields), model)
    assert expected in str(info.value)
    assert info.value.exit_code == 2


def test_a_malformed_id_is_not_found_exit_2() -> None:
    with pytest.raises(ImageNotFound) as info:
        plan_edit(EditRequest("vary", "../etc/passwd"), NOVA)
    assert info.value.exit_code == 2


def test_prompts_are_trimmed_and_blank_negatives_dropped() -> None:
    plan = plan_edit(EditRequest("vary", PARENT, prompt="  fox ", negative_prompt="   "), NOVA)
    assert (plan.edit.prompt, plan.edit.negative_prompt) == ("fox", None)


def test_seeds_are_chosen_when_needed_and_recorded() -> None:
    rng = random.Random(1)
    nova_plan = plan_edit(EditRequest("vary", PARENT), NOVA, rng=rng)
    assert nova_plan.seed is not None
    assert 0 <= nova_plan.seed <= get_model(NOVA).random_seed_max
    stability = plan_edit(EditRequest("edit", PARENT, prompt="p", mask_prompt="m"), CORE, rng=rng)
    assert stability.seed is not None
    assert stability.seed >= 1  # 0 would mean "random" to Stability
    assert plan_edit(EditRequest("vary", PARENT, seed=5), NOVA).seed == 5
    assert plan_edit(EditRequest("remove-background", PARENT), CORE).seed is None
    assert plan_edit(EditRequest("upscale", PARENT), CORE).seed is None


def test_extend_must_leave_something_to_fill() -> None:
    with pytest.raises(InvalidRequest, match="nothing to fill"):
        job("extend", width=512, height=512)
    with pytest.raises(InvalidRequest, match="nothing to fill"):
        job("extend", CORE, width=256, height=256)


def test_nova_extend_of_an_adopted_image_needs_a_prompt() -> None:
    plan = plan_edit(EditRequest("extend", PARENT, width=768, height=512), NOVA)
    with pytest.raises(InvalidRequest, match="--prompt"):
        prepare_job(plan, parent(source="adopted", prompt="holiday.jpg"), png())


def test_edit_extra_keeps_the_settings() -> None:
    assert edit_extra(job("vary", similarity=0.4)) == {"similarity": 0.4, "edit_model_id": NOVA}
    assert edit_extra(job("extend", CORE, width=768, height=512)) == {
        "canvas": [768, 512],
        "edit_model_id": "us.stability.stable-outpaint-v1:0",
    }


def test_the_job_repr_holds_no_image_bytes() -> None:
    text = repr(job("vary"))
    assert "PNG" not in text
    assert len(text) < 2000


# --- inputs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "limits", "expected"),
    [
        ((512, 512), nova.INPUT_LIMITS, (512, 512)),
        ((600, 400), nova.INPUT_LIMITS, (592, 400)),
        ((2048, 2048), nova.INPUT_LIMITS, (2032, 2032)),
        ((100, 200), nova.INPUT_LIMITS, (320, 640)),
        ((1536, 1536), st.FAST_UPSCALE_LIMITS, (1024, 1024)),
        ((3000, 1000), st.FAST_UPSCALE_LIMITS, (1536, 512)),
        ((4000, 3000), st.EDIT_LIMITS, (3547, 2660)),
        ((100, 100), SizeLimits(min_side=64), (100, 100)),
    ],
)
def test_fit_size(size: tuple[int, int], limits: SizeLimits, expected: tuple[int, int]) -> None:
    assert fit_size(*size, limits) == expected


def test_keep_mask_is_pure_black_and_white() -> None:
    mask = keep_mask((100, 50), (10, 5, 20, 10))
    assert sorted(c for _, c in mask.getcolors() or []) == [(0, 0, 0), (255, 255, 255)]
    assert mask.getpixel((10, 5)) == (0, 0, 0)
    assert mask.getpixel((30, 5)) == (255, 255, 255)


# --- responses --------------------------------------------------------------------------------


def b64png(size: tuple[int, int] = (64, 64), mode: str = "RGB") -> str:
    return base64.b64encode(
        png(size, mode=mode, colour=(1, 2, 3, 0) if mode == "RGBA" else (1, 2, 3))
    ).decode()


def test_nova_response_parsing() -> None:
    spec = get_model(NOVA)
    out = nova.parse_response(spec, {"images": [b64png()]}, seed=4)
    assert [(i.seed, i.index) for i in out.images] == [(4, 0)]
    assert out.warnings == []
    with pytest.raises(ContentFiltered, match="blocked"):
        nova.parse_response(spec, {"images": [], "error": "All of the generated images..."}, seed=4)
    with pytest.raises(ModelFailed):
        nova.parse_response(spec, {}, seed=4)


def test_stability_response_parsing() -> None:
    spec = st.SERVICES[st.REMOVE_BACKGROUND_ID]
    rgba = b64png(mode="RGBA")
    out = st.parse_response(
        spec, {"seeds": [77], "finish_reasons": [None], "images": [rgba]}, seed=None
    )
    assert out.images[0].seed is None  # remove background takes no seed
    assert out.images[0].data == base64.b64decode(rgba)
    seeded = st.parse_response(
        spec, {"seeds": [77], "finish_reasons": [None], "images": [rgba]}, seed=77
    )
    assert seeded.images[0].seed == 77
    with pytest.raises(ContentFiltered, match="Filter reason: output image"):
        st.parse_response(spec, {"finish_reasons": ["Filter reason: output image"]}, seed=1)
    with pytest.raises(ModelFailed, match="Inference error"):
        st.parse_response(spec, {"finish_reasons": ["Inference error"]}, seed=1)
    with pytest.raises(ModelFailed):
        st.parse_response(spec, {"unexpected": True}, seed=1)
