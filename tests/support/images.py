"""Small image makers shared by the tests."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import datetime

from PIL import Image

from gallery_kit.records import ImageRecord, new_image_id, now_iso


def png(width: int = 64, height: int = 64, colour: object = "teal", mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), colour).save(out, "PNG")  # type: ignore[arg-type]
    return out.getvalue()


def png_header_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG whose IHDR claims ``width`` x ``height`` (the data is tiny): what a
    decompression bomb looks like to a decoder."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def record_made_at(
    prompt: str,
    when: datetime,
    *,
    model_id: str = "stability.stable-image-core-v1:1",
    seed: int = 1,
    operation: str | None = None,
    prefix: str = "",
) -> ImageRecord:
    """The record of a tiny PNG made at ``when`` (for tests that store images straight into a
    store, with ids of their choosing in time)."""
    image_id = new_image_id(when)
    return ImageRecord(
        id=image_id,
        prompt=prompt,
        model_id=model_id,
        width=8,
        height=8,
        seed=seed,
        created_at=now_iso(when),
        content_type="image/png",
        byte_size=3,
        original_key=f"{prefix}gallery-kit/images/{image_id}.png",
        thumbnail_key=f"{prefix}gallery-kit/thumbs/{image_id}.webp",
        operation=operation,
    )
