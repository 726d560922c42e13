"""Thumbnails, format sniffing, size guards and the offline generator."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from gallery_kit.bedrock.families import get_model, validate
from gallery_kit.errors import InvalidImage
from gallery_kit.generation import GenerationRequest
from gallery_kit.imaging import (
    MAX_PIXELS,
    THUMB_SIZE,
    image_size,
    make_thumbnail,
    sniff_content_type,
)
from gallery_kit.offline.generator import OFFLINE_MODEL_ID, OfflineGenerator, paint
from tests.support.images import png_header_claiming


def _encode(image: Image.Image, fmt: str = "PNG", **kwargs: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def _decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1024, 1024), (256, 256)),
        ((1280, 720), (256, 144)),
        ((320, 1280), (64, 256)),
        ((100, 60), (100, 60)),
    ],
)
def test_thumbnail_is_webp_at_most_256_on_the_long_side(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    source = _encode(Image.new("RGB", size, (10, 120, 200)))
    thumb = make_thumbnail(source)
    image = _decoded(thumb.data)
    assert image.format == "WEBP"
    assert image.size == expected == (thumb.width, thumb.height)
    assert max(image.size) <= THUMB_SIZE
    assert (thumb.source_width, thumb.source_height) == size
    assert sniff_content_type(thumb.data) == "image/webp"


def test_thumbnail_of_a_large_png_is_small() -> None:
    source = paint("a big one", 1, 2048, 2032)
    thumb = make_thumbnail(source)
    assert len(thumb.data) < 40_000 < len(source)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_thumbnail_keeps_transparency(mode: str) -> None:
    image = Image.new("RGBA", (512, 512), (255, 0, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, 256, 512))
    if mode == "LA":
        image = image.convert("LA")
    elif mode == "P":
        image = image.convert("RGBA").quantize(colors=4)
        image.info["transparency"] = image.getpixel((0, 0))
    data = (
        _encode(image, "PNG", transparency=image.info["transparency"])
        if mode == "P"
        else (_encode(image))
    )
    thumb = _decoded(make_thumbnail(data).data)
    assert thumb.mode == "RGBA"
    alpha = thumb.getchannel("A")
    assert alpha.getpixel((10, 10)) == 0  # the transparent half stays transparent
    assert alpha.getpixel((250, 10)) == 255


def test_thumbnail_of_jpeg_and_gif() -> None:
    jpeg = _encode(Image.new("RGB", (600, 300), (1, 2, 3)), "JPEG")
    gif = _encode(Image.new("P", (300, 600)), "GIF")
    assert _decoded(make_thumbnail(jpeg).data).size == (256, 128)
    assert _decoded(make_thumbnail(gif).data).size == (128, 256)
    assert sniff_content_type(jpeg) == "image/jpeg"
    assert sniff_content_type(gif) == "image/gif"


def test_truncated_png_is_invalid_image_naming_where() -> None:
    data = paint("truncate me", 3, 512, 512)
    with pytest.raises(InvalidImage) as caught:
        make_thumbnail(data[: len(data) // 2], where="s3://b/cut.png")
    assert "s3://b/cut.png" in str(caught.value)
    assert "truncated" in str(caught.value)


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, I am text", b"%PDF-1.7\n...", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20],
    ids=["empty", "text", "pdf", "png-magic-only"],
)
def test_non_images_are_invalid_image(data: bytes) -> None:
    with pytest.raises(InvalidImage) as caught:
        make_thumbnail(data, where="photos/x.png")
    assert "photos/x.png" in str(caught.value)


def test_decompression_bomb_beyond_pillows_limit_is_refused() -> None:
    data = png_header_claiming(100_000, 100_000)
    with pytest.raises(InvalidImage) as caught:
        make_thumbnail(data, where="bomb.png")
    assert "pixels" in str(caught.value)
    assert "bomb.png" in str(caught.value)


def test_image_over_our_own_pixel_cap_is_refused_before_decoding() -> None:
    side = int(MAX_PIXELS**0.5) + 16  # below Pillow's own bomb limit, above ours
    data = png_header_claiming(side, side)
    started = time.perf_counter()
    with pytest.raises(InvalidImage) as caught:
        make_thumbnail(data, where="huge.png")
    assert time.perf_counter() - started < 1  # nothing was decoded
    assert f"{MAX_PIXELS:,}" in str(caught.value)
    assert f"{side}x{side}" in str(caught.value)


def test_image_size_reads_the_header_only() -> None:
    assert image_size(png_header_claiming(300, 200)) == (300, 200)
    with pytest.raises(InvalidImage):
        image_size(b"plain text")


def test_sniffing_webp_and_unknown() -> None:
    webp = _encode(Image.new("RGB", (4, 4)), "WEBP")
    assert sniff_content_type(webp) == "image/webp"
    assert sniff_content_type(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None
    assert sniff_content_type(b"<svg xmlns=...>") is None


# --- the offline generator --------------------------------------------------------------------


def test_offline_image_is_a_real_png_of_the_requested_size() -> None:
    data = paint("a red fox", 42, 1280, 720)
    assert sniff_content_type(data) == "image/png"
    image = _decoded(data)
    assert image.format == "PNG"
    assert image.size == (1280, 720)


def test_offline_image_is_deterministic() -> None:
    assert paint("a red fox", 42, 512, 512) == paint("a red fox", 42, 512, 512)


def test_offline_images_differ_visibly_by_prompt_and_seed() -> None:
    def pixels(prompt: str, seed: int) -> bytes:
        return _decoded(paint(prompt, seed, 320, 320)).convert("RGB").resize((16, 16)).tobytes()

    base = pixels("a red fox", 1)
    for other in (pixels("a blue whale", 1), pixels("a red fox", 2)):
        differing = sum(abs(a - b) > 40 for a, b in zip(base, other, strict=True))
        assert differing > len(base) // 10  # not a one-pixel difference: visibly different


def test_offline_1024_square_is_well_under_a_second() -> None:
    paint("warm-up", 0, 320, 320)
    started = time.perf_counter()
    paint("a lighthouse in a storm", 7, 1024, 1024)
    assert time.perf_counter() - started < 0.5


def test_offline_generator_makes_count_images_with_consecutive_seeds() -> None:
    spec = get_model("amazon.nova-canvas-v1:0")
    request = validate(
        spec, GenerationRequest(prompt="a fox", count=3, width=320, height=320)
    ).with_(seed=10)
    generator = OfflineGenerator()
    output = generator.invoke(spec, request)
    assert [i.seed for i in output.images] == [10, 11, 12]
    assert [i.index for i in output.images] == [0, 1, 2]
    assert output.images[0].data == paint("a fox", 10, 320, 320)
    assert len({i.data for i in output.images}) == 3
    assert generator.recorded_model_id(spec) == OFFLINE_MODEL_ID == "offline"
    assert generator.offline is True
