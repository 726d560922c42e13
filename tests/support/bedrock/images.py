"""The endpoint's images: deterministic stand-ins, and reading them back in tests.

An ok answer renders ``Plan.count`` images of ``Plan.width`` x ``Plan.height``: a few shapes on a
background drawn from the seed, PNG (transparent where the operation makes transparency) or JPEG.
Each carries a ``c2pa-stand-in`` value (a PNG tEXt chunk or a JPEG comment): the SHA-256 of what
made it, so a test can tell which request an image answered (``stand_in_of``).
"""

from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, PngImagePlugin

__all__ = ["Plan", "image_size", "render", "stand_in_of"]


@dataclass
class Plan:
    """What an ok answer to a valid request carries (the checks of its family made it)."""

    count: int
    width: int
    height: int
    seed: int
    fmt: str = "png"  # png | jpeg
    transparent: bool = False
    seed_was_given: bool = True
    salt: str = ""


def render(plan: Plan, index: int) -> bytes:
    material = f"{plan.salt}|{plan.seed}|{index}|{plan.width}x{plan.height}"
    digest = hashlib.sha256(material.encode()).hexdigest()
    rng = random.Random(f"{plan.seed}|{index}")
    w, h = plan.width, plan.height
    background = (
        (0, 0, 0, 0)
        if plan.transparent
        else (rng.randrange(256), rng.randrange(256), rng.randrange(256), 255)
    )
    im = Image.new("RGBA", (w, h), background)
    draw = ImageDraw.Draw(im)
    for _ in range(3):
        x0, y0 = rng.randrange(w), rng.randrange(h)
        x1 = min(w, x0 + 1 + rng.randrange(max(1, w // 2)))
        y1 = min(h, y0 + 1 + rng.randrange(max(1, h // 2)))
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256), 255)
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    out = io.BytesIO()
    if plan.fmt == "jpeg":
        im.convert("RGB").save(out, "JPEG", quality=85, comment=f"c2pa-stand-in={digest}")
    else:
        info = PngImagePlugin.PngInfo()
        info.add_text("c2pa-stand-in", digest)
        final = im if plan.transparent else im.convert("RGB")
        final.save(out, "PNG", pnginfo=info, compress_level=1)
    return out.getvalue()


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) of an encoded image."""
    with Image.open(io.BytesIO(data)) as im:
        return im.size


def stand_in_of(data: bytes) -> str | None:
    """The ``c2pa-stand-in`` value an endpoint image carries (PNG tEXt or JPEG comment)."""
    with Image.open(io.BytesIO(data)) as im:
        if im.format == "PNG":
            text = getattr(im, "text", {})
            value = text.get("c2pa-stand-in")
            return str(value) if value is not None else None
        comment = im.info.get("comment")
        if isinstance(comment, bytes) and comment.startswith(b"c2pa-stand-in="):
            return comment.split(b"=", 1)[1].decode()
        return None
