"""Small bar charts drawn with Pillow (matplotlib is not a dependency)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

WIDTH = 960
LABEL_W = 250
VALUE_W = 150
BAR_H = 24
GAP = 8
PAD = 16
INK = (34, 34, 34)
GRID = (225, 225, 225)
TARGET = (200, 40, 40)
GK = (46, 125, 200)
NAIVE = (230, 140, 40)
BARE = (140, 140, 140)


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the bitmap font
        return ImageFont.load_default()


@dataclass
class Bar:
    label: str
    value: float
    text: str
    colour: tuple[int, int, int] = GK


def panel(
    title: str,
    bars: list[Bar],
    *,
    log: bool = False,
    target: float | None = None,
    target_text: str = "",
    tick: Callable[[float], str] | None = None,
) -> Image.Image:
    """One titled panel of horizontal bars; ``target`` draws a red vertical line."""
    title_font, text_font = font(17), font(14)
    height = PAD * 2 + 28 + len(bars) * (BAR_H + GAP) + 18
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((PAD, PAD), title, fill=INK, font=title_font)
    x0, x1 = LABEL_W, WIDTH - VALUE_W
    top = PAD + 30
    values = [b.value for b in bars if b.value > 0] + ([target] if target else [])
    if not values:
        return image
    if log:
        lo = 10 ** math.floor(math.log10(min(values)))
        hi = 10 ** math.ceil(math.log10(max(values)))
        if hi <= lo:
            hi = lo * 10

        def scale(v: float) -> float:
            v = max(v, lo)
            return x0 + (x1 - x0) * (math.log10(v / lo) / math.log10(hi / lo))

        decade = lo
        while decade <= hi * 1.0001:
            x = scale(decade)
            bottom = top + len(bars) * (BAR_H + GAP)
            draw.line([(x, top - 4), (x, bottom)], fill=GRID)
            if tick:
                draw.text((x + 2, bottom), tick(decade), fill=(140, 140, 140), font=font(11))
            decade *= 10
    else:
        hi = max(values) * 1.08

        def scale(v: float) -> float:
            return x0 + (x1 - x0) * (max(v, 0) / hi)

    for i, bar in enumerate(bars):
        y = top + i * (BAR_H + GAP)
        draw.text((PAD, y + 4), bar.label, fill=INK, font=text_font)
        draw.rectangle([x0, y, max(x0 + 1, scale(bar.value)), y + BAR_H], fill=bar.colour)
        draw.text((scale(bar.value) + 6, y + 4), bar.text, fill=INK, font=text_font)
    if target:
        x = scale(target)
        bottom = top + len(bars) * (BAR_H + GAP)
        draw.line([(x, top - 6), (x, bottom)], fill=TARGET, width=2)
        draw.text((x + 4, bottom), target_text, fill=TARGET, font=font(12))
    return image


def stack(title: str, panels: list[Image.Image], footer: str = "") -> Image.Image:
    """Panels one under the other, with a title and a footer line (machine, date)."""
    head, foot = 40, 26 if footer else 0
    height = head + sum(p.height for p in panels) + foot
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((PAD, 12), title, fill=INK, font=font(20))
    y = head
    for p in panels:
        image.paste(p, (0, y))
        y += p.height
    if footer:
        draw.text((PAD, y + 4), footer, fill=(110, 110, 110), font=font(12))
    return image
