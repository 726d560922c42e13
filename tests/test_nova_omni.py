"""Amazon Nova 2 Omni (preview) through the Converse API, over real HTTP: the local endpoint
checks every request against Converse's shape (tests/support/bedrock/converse.py), moto holds the
bucket. Generate, vary and edit from the Python API and the CLI, and each refusal's message."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from gallery_kit import EditRequest, Gallery, GenerationRequest, load_settings
from gallery_kit.bedrock.families import get_model
from gallery_kit.bedrock.families.nova_omni import generation_text, nearest_aspect_ratio
from gallery_kit.errors import AccessDenied, GenerationError, InvalidRequest
from tests.support.bedrock import (
    BedrockEndpoint,
    Reply,
    converse_images,
    converse_texts,
    image_size,
    stand_in_of,
)
from tests.support.cli_runner import gk, one_line_error

OMNI = "us.amazon.nova-2-omni-v1:0"
GLOBAL_OMNI = "global.amazon.nova-2-omni-v1:0"
CORE = "stability.stable-image-core-v1:1"


@pytest.fixture
def gallery(
    bucket: str, bedrock: BedrockEndpoint, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Gallery]:
    monkeypatch.setenv("GALLERY_GENERATOR", "bedrock")
    g = Gallery.from_settings(load_settings())
    try:
        yield g
    finally:
        g.close()


def test_the_request_asks_for_the_ratio_in_words() -> None:
    assert nearest_aspect_ratio(1280, 720) == "16:9"
    assert nearest_aspect_ratio(1000, 1000) == "1:1"
    assert generation_text("a fox", 720, 1280).startswith("Create an image in 9:16 aspect ratio")
    spec = get_model(OMNI)
    assert (spec.takes_size, spec.takes_seed, spec.takes_negative) == (False, False, False)
    assert spec.price_is_estimate
    assert spec.status_on(date(2026, 12, 1)) == "preview"


def test_generate_keeps_the_bytes_the_text_and_the_real_size(
    gallery: Gallery, bedrock: BedrockEndpoint
) -> None:
    result = gallery.generate(
        GenerationRequest("a red fox in snow", model_id=OMNI, width=1280, height=720, count=3)
    )
    assert len(result.records) == 3
    calls = [r for r in bedrock.requests if r.operation == "converse"]
    assert len(calls) == 3  # "Images: 3" is three calls at once
    assert {r.model_id for r in calls} == {OMNI}
    assert {r.region for r in calls} == {"us-west-2"}
    assert converse_texts(calls[0].body) == [
        "Create an image in 16:9 aspect ratio: a red fox in snow"
    ]
    stored = {gallery.read_original(r) for r in result.records}
    assert stored == set(bedrock.sent_images)  # byte for byte, never re-encoded
    for record in result.records:
        assert (record.width, record.height) == (1280, 720)  # read from the returned image
        assert record.seed is None
        assert record.model_id == OMNI
        assert record.extra["model_text"] == "Here is the image you asked for."
        assert stand_in_of(gallery.read_original(record))
    assert bedrock.violations == []


def test_no_text_block_records_no_text(gallery: Gallery, bedrock: BedrockEndpoint) -> None:
    bedrock.converse_text = None
    (record,) = gallery.generate(GenerationRequest("a kite", model_id=GLOBAL_OMNI)).records
    assert "model_text" not in record.extra
    assert (record.width, record.height) == (1024, 1024)
    assert bedrock.violations == []


def test_what_the_model_lacks_is_refused_before_sending(
    gallery: Gallery, bedrock: BedrockEndpoint
) -> None:
    for fields, says in (
        ({"seed": 7}, "takes no seed"),
        ({"negative_prompt": "blur"}, "takes no negative prompt"),
        ({"style": "PHOTOREALISM"}, "has no styles"),
    ):
        with pytest.raises(InvalidRequest, match=says):
            gallery.generate(GenerationRequest("a kite", model_id=OMNI, **fields))  # type: ignore[arg-type]
    assert bedrock.requests == []


def test_preview_access_denied_says_how_to_get_it_and_names_a_live_model(
    gallery: Gallery, bedrock: BedrockEndpoint
) -> None:
    bedrock.always(Reply.preview_denied())
    with pytest.raises(AccessDenied) as caught:
        gallery.generate(GenerationRequest("a kite", model_id=OMNI))
    message = str(caught.value)
    assert "preview" in message
    assert "AWS account team" in message
    assert f"--model {CORE}" in message
    assert caught.value.suggested_model_id == CORE
    assert "\n" not in message


def test_a_text_only_answer_is_a_readable_error(gallery: Gallery, bedrock: BedrockEndpoint) -> None:
    bedrock.always(Reply.text_only(text="I can only describe a kite."))
    with pytest.raises(GenerationError) as caught:
        gallery.generate(GenerationRequest("a kite", model_id=OMNI))
    assert "answered without an image" in str(caught.value)
    assert "I can only describe a kite." in str(caught.value)
    assert gallery.page().records == []


def test_filtered_answers_are_content_filter_messages(
    gallery: Gallery, bedrock: BedrockEndpoint
) -> None:
    bedrock.always(Reply.filtered_all())
    with pytest.raises(GenerationError, match="blocked this request"):
        gallery.generate(GenerationRequest("a kite", model_id=OMNI))


def test_vary_and_edit_send_the_source_as_an_image_block(
    gallery: Gallery, bedrock: BedrockEndpoint
) -> None:
    (parent,) = gallery.generate(GenerationRequest("a lighthouse", model_id=OMNI)).records
    source = gallery.read_original(parent)
    (variation,) = gallery.apply(
        EditRequest("vary", parent.id, prompt="at night", similarity=0.9, model_id=OMNI)
    ).records
    sent = bedrock.requests[-1]
    assert sent.operation == "converse"
    assert converse_images(sent.body) == [source]  # a PNG within the limits goes as it is
    assert converse_texts(sent.body) == [
        "Make a variation of this image that stays very close to it. at night"
    ]
    assert (variation.parent_id, variation.operation) == (parent.id, "vary")
    # Edit by words, with and without naming what to change.
    (edited,) = gallery.apply(
        EditRequest("edit", parent.id, prompt="a red roof", mask_prompt="the roof", model_id=OMNI)
    ).records
    assert converse_texts(bedrock.requests[-1].body) == [
        "Edit this image: change the roof to a red roof. Keep everything else as is."
    ]
    (loose,) = gallery.apply(
        EditRequest("edit", parent.id, prompt="add snow", model_id=OMNI)
    ).records
    assert converse_texts(bedrock.requests[-1].body) == [
        "Edit this image: add snow. Keep everything else as is."
    ]
    for child in (edited, loose):
        assert child.parent_id == parent.id
        assert image_size(gallery.read_original(child)) == image_size(source)
    assert bedrock.violations == []


def test_operations_it_cannot_do_name_a_family_that_can(gallery: Gallery) -> None:
    (parent,) = gallery.generate(GenerationRequest("a boat", model_id=OMNI)).records
    with pytest.raises(InvalidRequest, match=f"BEDROCK_MODEL_ID={CORE}"):
        gallery.apply(EditRequest("upscale", parent.id, model_id=OMNI))


def test_cli_generate_vary_and_edit(tmp_path: Path, bucket: str, bedrock: BedrockEndpoint) -> None:
    made = gk("generate", "a paper crane", "--model", OMNI, "--width", "720", "--height", "1280",
              "--json", cwd=tmp_path)  # fmt: skip
    assert made.code == 0, made.stderr
    row = made.row
    assert (row["model_id"], row["width"], row["height"], row["seed"]) == (OMNI, 720, 1280, None)
    varied = gk("vary", row["id"], "--model", OMNI, "--json", cwd=tmp_path)
    assert varied.code == 0, varied.stderr
    assert varied.row["parent_id"] == row["id"]
    edited = gk("edit", row["id"], "make it gold", "--model", OMNI, "--json", cwd=tmp_path)
    assert edited.code == 0, edited.stderr
    assert edited.row["operation"] == "edit"
    assert [r.operation for r in bedrock.requests] == ["converse"] * 3
    assert bedrock.violations == []


def test_cli_refusals(tmp_path: Path, bucket: str, bedrock: BedrockEndpoint) -> None:
    seeded = gk("generate", "a crane", "--model", OMNI, "--seed", "4", cwd=tmp_path)
    assert seeded.code == 2
    assert "takes no seed" in one_line_error(seeded)
    bedrock.always(Reply.preview_denied())
    denied = gk("generate", "a crane", "--model", OMNI, cwd=tmp_path)
    assert denied.code == 1
    line = one_line_error(denied)
    assert "preview" in line
    assert f"--model {CORE}" in line
    # Other families still need --mask-prompt for edit.
    bedrock.reset()
    made = gk("generate", "a crane", "--model", CORE, "--json", cwd=tmp_path)
    no_mask = gk("edit", made.row["id"], "make it gold", "--model", CORE, cwd=tmp_path)
    assert no_mask.code == 2
    assert "--mask-prompt" in one_line_error(no_mask)
