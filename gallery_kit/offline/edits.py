"""The offline generator's edits: deterministic Pillow stand-ins, so the whole flow works offline.

Each result is a real image, deterministic from (source, operation, settings, seed), and
plainly not AI output (recorded with model ``offline``):

* vary: the parent blurred and repainted with shapes in the parent's own colours, blended back
  over the parent by ``similarity``;
* remove-background: the subject (what differs from the corner colour, inside a centred oval)
  kept, everything else transparent: an RGBA PNG;
* edit: a rectangle, placed by the mask prompt and seed, repainted in colours of the prompt;
* extend: the parent centred on the new canvas over a blurred stretch of itself;
* upscale: four times the size with LANCZOS, after the same input fit as Fast Upscale.
"""

from __future__ import annotations

import hashlib
import io
import random
from typing import TYPE_CHECKING, cast

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps

from gallery_kit.bedrock.families import ModelImage, ModelOutput, nova_edit
from gallery_kit.bedrock.families import stability_services as st
from gallery_kit.input_images import fit_size, flatten, open_image, placement, resize
from gallery_kit.offline.paint import palette

if TYPE_CHECKING:
    from gallery_kit.edits import EditJob


def _rng(*parts: object) -> random.Random:
    return random.Random(hashlib.sha256("\x00".join(map(str, parts)).encode()).digest())


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def _colours(image: Image.Image, n: int = 6) -> list[tuple[int, int, int]]:
    """The ``n`` main colours of ``image`` (median cut on a small copy)."""
    small = image.convert("RGB").resize((48, 48))
    palette = small.quantize(colors=n).getpalette() or [128, 128, 128]
    flat = palette[: 3 * n]
    return [(flat[i], flat[i + 1], flat[i + 2]) for i in range(0, len(flat) - 2, 3)]


def vary(image: Image.Image, *, seed: int, similarity: float, prompt: str | None) -> bytes:
    base = resize(flatten(image), fit_size(*image.size, nova_edit.INPUT_LIMITS))
    width, height = base.size
    unit = min(width, height)
    rng = _rng("vary", prompt or "", seed, width, height)
    colours = _colours(base)
    repaint = base.filter(ImageFilter.GaussianBlur(max(2, unit // 40)))
    draw = ImageDraw.Draw(repaint)
    for _ in range(rng.randint(8, 14)):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.04, 0.2) * unit
        colour = rng.choice(colours)
        if rng.random() < 0.5:
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
        else:
            draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=colour)
    # similarity 1 keeps 70% of the parent, 0.2 keeps 14%: always a visible change.
    return _png(Image.blend(repaint, base, 0.7 * similarity))


def remove_background(image: Image.Image) -> bytes:
    rgb = flatten(image)
    small = rgb.copy()
    small.thumbnail((256, 256))
    w, h = small.size
    points = ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1))
    corners = [cast(tuple[int, int, int], small.getpixel(p)) for p in points]
    background = (
        sum(c[0] for c in corners) // 4,
        sum(c[1] for c in corners) // 4,
        sum(c[2] for c in corners) // 4,
    )
    differs = ImageChops.difference(small, Image.new("RGB", small.size, background)).convert("L")
    differs = differs.point(lambda v: 255 if v > 40 else 0)
    oval = Image.new("L", small.size, 0)
    ImageDraw.Draw(oval).ellipse((w * 0.12, h * 0.06, w * 0.88, h * 0.96), fill=255)
    alpha = ImageChops.multiply(differs, oval)
    if alpha.getbbox() is None:  # nothing stands out: keep the oval
        alpha = oval
    alpha = alpha.filter(ImageFilter.GaussianBlur(1)).resize(rgb.size, Image.Resampling.BILINEAR)
    out = rgb.convert("RGBA")
    out.putalpha(alpha)
    return _png(out)


def edit(image: Image.Image, *, seed: int, prompt: str, mask_prompt: str) -> bytes:
    out = flatten(image).copy()
    width, height = out.size
    rng = _rng("edit", mask_prompt, prompt, seed, width, height)
    w, h = int(width * rng.uniform(0.3, 0.5)), int(height * rng.uniform(0.3, 0.5))
    left, top = rng.randint(0, width - w), rng.randint(0, height - h)
    first, second, ring = palette(_rng("edit-colours", prompt), 3)
    patch = Image.composite(
        Image.new("RGB", (w, h), second),
        Image.new("RGB", (w, h), first),
        Image.linear_gradient("L").resize((w, h)),
    )
    out.paste(patch, (left, top))
    draw = ImageDraw.Draw(out)
    draw.ellipse(
        (left + w * 0.2, top + h * 0.2, left + w * 0.8, top + h * 0.8), outline=ring, width=4
    )
    font = ImageFont.load_default(size=max(10, min(w, h) // 10))
    draw.text(
        (left + 6, top + 6), f"{mask_prompt[:24]} -> {prompt[:24]}", fill=(255, 255, 255), font=font
    )
    return _png(out)


def extend(image: Image.Image, canvas: tuple[int, int]) -> bytes:
    rgb = flatten(image)
    left, top, width, height = placement(rgb.size, canvas)
    backdrop = ImageOps.fit(rgb, canvas).filter(ImageFilter.GaussianBlur(max(canvas) // 30 or 1))
    backdrop.paste(resize(rgb, (width, height)), (left, top))
    return _png(backdrop)


def upscale(image: Image.Image) -> bytes:
    base = resize(flatten(image), fit_size(*image.size, st.FAST_UPSCALE_LIMITS))
    factor = st.FAST_UPSCALE_FACTOR
    return _png(base.resize((base.width * factor, base.height * factor), Image.Resampling.LANCZOS))


def run(job: EditJob) -> ModelOutput:
    """The stand-in result for ``job`` (one image)."""
    image = open_image(job.source, f"Image {job.parent.id}")
    edit_request = job.plan.edit
    seed = job.seed or 0
    if job.operation == "vary":
        data = vary(
            image,
            seed=seed,
            similarity=edit_request.similarity or nova_edit.DEFAULT_SIMILARITY,
            prompt=edit_request.prompt,
        )
    elif job.operation == "remove-background":
        data = remove_background(image)
    elif job.operation == "edit":
        data = edit(
            image,
            seed=seed,
            prompt=edit_request.prompt or "",
            mask_prompt=edit_request.mask_prompt or "",
        )
    elif job.operation == "extend":
        if job.canvas is None:
            raise ValueError("extend needs a canvas")
        data = extend(image, job.canvas)
    else:
        data = upscale(image)
    return ModelOutput(images=[ModelImage(data, job.seed)])
