"""The offline placeholder painter: a real PNG, deterministic from (prompt, seed, size). Pure.

Shared by the offline generator and its edit stand-ins (``palette`` gives both their colours).
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import random

from PIL import Image, ImageDraw, ImageFont


def palette(rng: random.Random, n: int) -> list[tuple[int, int, int]]:
    base = rng.random()
    colours = []
    for i in range(n):
        h = (base + i * rng.uniform(0.12, 0.35)) % 1.0
        r, g, b = colorsys.hls_to_rgb(h, rng.uniform(0.35, 0.7), rng.uniform(0.5, 0.95))
        colours.append((int(r * 255), int(g * 255), int(b * 255)))
    return colours


def paint(prompt: str, seed: int, width: int, height: int) -> bytes:
    """The placeholder PNG for (prompt, seed, size)."""
    digest = hashlib.sha256(f"{prompt}\x00{seed}\x00{width}x{height}".encode()).digest()
    rng = random.Random(digest)
    top, bottom, *shapes = palette(rng, 6)
    # A vertical two-colour gradient, built small and scaled up: cheap at any size.
    mask = Image.linear_gradient("L").resize((width, height))
    image = Image.composite(
        Image.new("RGB", (width, height), bottom), Image.new("RGB", (width, height), top), mask
    )
    draw = ImageDraw.Draw(image)
    unit = min(width, height)
    for colour in shapes:
        for _ in range(rng.randint(2, 4)):
            cx, cy = rng.uniform(0, width), rng.uniform(0, height)
            r = rng.uniform(0.06, 0.28) * unit
            box = (cx - r, cy - r, cx + r, cy + r)
            kind = rng.random()
            if kind < 0.45:
                draw.ellipse(box, fill=colour)
            elif kind < 0.8:
                draw.rectangle(box, fill=colour)
            else:
                draw.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=colour)
    # A band that says what this is, with the start of the prompt.
    band = max(24, unit // 14)
    draw.rectangle((0, height - band, width, height), fill=(20, 20, 20))
    font = ImageFont.load_default(size=max(10, band // 2))
    label = f"OFFLINE PLACEHOLDER · seed {seed} · {prompt[:60]}"
    draw.text((band // 3, height - band * 0.78), label, fill=(240, 240, 240), font=font)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()
