"""Preparing a gallery image as a model's input image. Pure: bytes in, bytes out.

Shared by the edit adapters (``nova_edit``, ``stability_edit``) and the offline stand-ins:
decoding, flattening transparency onto white, fitting into a model's documented size limits,
placing an image on a larger canvas and drawing the black-and-white mask for it.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass

from PIL import Image

from gallery_kit.errors import InvalidImage
from gallery_kit.imaging import sniff_content_type

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)


@dataclass(frozen=True, slots=True)
class SizeLimits:
    """A model's documented input limits (``None``: no such limit)."""

    min_side: int = 1
    max_side: int | None = None
    min_pixels: int | None = None
    #: Inclusive upper bound on width x height.
    max_pixels: int | None = None
    #: Largest long side : short side ratio, e.g. 2.5 for "between 1:2.5 and 2.5:1".
    max_aspect: float | None = None
    #: Sides are rounded down to a multiple of this after resizing.
    multiple: int = 1


def open_image(data: bytes, where: str = "The source image") -> Image.Image:
    """Decode ``data`` fully; any decoding problem is an :class:`InvalidImage` naming ``where``."""
    if sniff_content_type(data) is None:
        raise InvalidImage(f"{where} is not a PNG, JPEG, WebP or GIF image.")
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidImage(f"{where} cannot be decoded ({exc}).") from exc
    return image


def has_transparency(image: Image.Image) -> bool:
    """True when any pixel is not fully opaque."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        low, _high = image.convert("RGBA").getchannel("A").getextrema()
        return bool(low < 255)  # type: ignore[operator]  # getextrema() of one band is a pair
    return False


def flatten(image: Image.Image, background: tuple[int, int, int] = WHITE) -> Image.Image:
    """8-bit RGB, any transparency composited onto ``background`` (white by default)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        base = Image.new("RGBA", rgba.size, (*background, 255))
        return Image.alpha_composite(base, rgba).convert("RGB")
    return image.convert("RGB")


def aspect(width: int, height: int) -> float:
    return max(width, height) / min(width, height)


def fit_size(width: int, height: int, limits: SizeLimits) -> tuple[int, int]:
    """The size closest to ``width x height`` (same aspect) that ``limits`` accept.

    Scales down for the pixel cap and the longest side, up for the shortest side, then rounds
    sides down to ``limits.multiple``. The aspect limit is not fixed here (a resize cannot);
    callers check it first with :func:`aspect`.
    """
    scale = 1.0
    if limits.max_pixels is not None and width * height > limits.max_pixels:
        scale = math.sqrt(limits.max_pixels / (width * height))
    if limits.max_side is not None and max(width, height) * scale > limits.max_side:
        scale = limits.max_side / max(width, height)
    if min(width, height) * scale < limits.min_side:
        scale = limits.min_side / min(width, height)
    if limits.min_pixels is not None and width * height * scale * scale < limits.min_pixels:
        scale = max(scale, math.sqrt(limits.min_pixels / (width * height)))
    step = max(1, limits.multiple)
    if scale == 1.0 and width % step == 0 and height % step == 0:
        return width, height
    low = max(limits.min_side, step)
    new_w = max(low, int(width * scale) // step * step)
    new_h = max(low, int(height * scale) // step * step)
    # Rounding up to the minimum can push the area over the cap: shrink the long side back.
    while limits.max_pixels is not None and new_w * new_h > limits.max_pixels:
        if new_w >= new_h:
            new_w -= step
        else:
            new_h -= step
    return new_w, new_h


def resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if image.size == size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS)


def encode_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=3)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def prepare_rgb_png(
    data: bytes, limits: SizeLimits, where: str = "The source image"
) -> tuple[bytes, tuple[int, int]]:
    """``data`` as an opaque 8-bit RGB PNG inside ``limits``, and its size.

    A PNG that is already RGB and inside the limits is passed through byte for byte.
    """
    image = open_image(data, where)
    size = fit_size(image.width, image.height, limits)
    if data.startswith(b"\x89PNG") and image.mode == "RGB" and size == image.size:
        return data, size
    return encode_png(resize(flatten(image), size)), size


def fit_inside(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """``size`` scaled down (never up) to fit inside ``box``, keeping its aspect ratio."""
    width, height = size
    scale = min(1.0, box[0] / width, box[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def placement(source: tuple[int, int], canvas: tuple[int, int]) -> tuple[int, int, int, int]:
    """Where the source goes on ``canvas``: centred, scaled down to fit. (left, top, w, h)."""
    width, height = fit_inside(source, canvas)
    return (canvas[0] - width) // 2, (canvas[1] - height) // 2, width, height


def place_on_canvas(
    image: Image.Image, canvas: tuple[int, int], fill: tuple[int, int, int] = WHITE
) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """``image`` (RGB) centred on a ``canvas``-sized RGB image filled with ``fill``."""
    left, top, width, height = placement(image.size, canvas)
    out = Image.new("RGB", canvas, fill)
    out.paste(resize(flatten(image), (width, height)), (left, top))
    return out, (left, top, width, height)


def keep_mask(canvas: tuple[int, int], box: tuple[int, int, int, int]) -> Image.Image:
    """Pure black over ``box`` (the pixels to keep), pure white elsewhere (to be painted)."""
    left, top, width, height = box
    mask = Image.new("RGB", canvas, WHITE)
    mask.paste(BLACK, (left, top, left + width, top + height))
    return mask
