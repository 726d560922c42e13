"""Decoding the base64 images a model returns (shared by the adapters)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from gallery_kit.errors import ModelFailed


def decode_images(model_name: str, images: Any) -> list[bytes]:
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        raise ModelFailed(
            f"{model_name} returned a malformed response ('images' is not a list of base64 "
            "strings); try again, and report it if it persists."
        )
    out = []
    for i, text in enumerate(images):
        try:
            out.append(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise ModelFailed(
                f"{model_name} returned image {i + 1} as invalid base64; nothing was stored. "
                "Try again, and report it if it persists."
            ) from exc
    return out


def require_dict(model_name: str, response: Any) -> dict[str, Any]:
    if not isinstance(response, dict):
        raise ModelFailed(f"{model_name} returned a response that is not a JSON object; try again.")
    return response
