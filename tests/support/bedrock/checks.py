"""The request-shape checks every family shares, in one place.

``Checker`` collects the errors of one request body in the wording Bedrock returns (the
everit-json-schema style, e.g. "Malformed input request: #: extraneous key [frequency_penalty]
is not permitted, please reformat your input and try again." [seen]): JSON types and bounds,
base64 payloads and the images they carry. ``check_transport`` is what every model call is asked
before its body (Content-Type, Accept, a JSON body), and ``malformed`` is the one wording of the
``ValidationException`` a rejected request gets.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Iterable, Mapping
from typing import Any

from PIL import Image

__all__ = ["Checker", "check_transport", "json_type", "malformed"]


class Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, path: str, text: str) -> None:
        self.errors.append(f"{path}: {text}")

    def wrong_type(self, path: str, expected: str, value: Any) -> None:
        self.add(path, f"expected type: {expected}, found: {json_type(value)}")

    # -- structure --
    def obj(
        self,
        value: Any,
        path: str,
        *,
        required: Iterable[str] = (),
        optional: Iterable[str] = (),
    ) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.wrong_type(path, "JSONObject", value)
            return None
        required = list(required)
        allowed = set(required) | set(optional)
        for key in value:
            if key not in allowed:
                self.add(path, f"extraneous key [{key}] is not permitted")
        for key in required:
            if key not in value:
                self.add(path, f"required key [{key}] not found")
        return value

    def array(self, value: Any, path: str) -> list[Any] | None:
        """``value`` when it is a JSON array, else None (and an error)."""
        if not isinstance(value, list):
            self.wrong_type(path, "JSONArray", value)
            return None
        return value

    # -- scalars (all skip when the key is absent) --
    def string(
        self,
        parent: dict[str, Any],
        key: str,
        path: str,
        *,
        min_len: int | None = None,
        max_len: int | None = None,
        enum: Iterable[str] | None = None,
    ) -> str | None:
        if key not in parent:
            return None
        value, here = parent[key], f"{path}/{key}"
        if not isinstance(value, str):
            self.wrong_type(here, "String", value)
            return None
        if enum is not None and value not in set(enum):
            self.add(here, f"{value} is not a valid enum value")
            return None
        if min_len is not None and len(value) < min_len:
            self.add(here, f"expected minLength: {min_len}, actual: {len(value)}")
        if max_len is not None and len(value) > max_len:
            self.add(here, f"expected maxLength: {max_len}, actual: {len(value)}")
        return value

    def integer(
        self,
        parent: dict[str, Any],
        key: str,
        path: str,
        *,
        lo: int | None = None,
        hi: int | None = None,
    ) -> int | None:
        found = self._numeric(parent, key, path, "Integer")
        if found is None:
            return None
        value, here = found
        if isinstance(value, float):
            if not value.is_integer():
                self.add(here, f"expected type: Integer, found: Number ({value})")
                return None
            value = int(value)
        return int(self._bounds(value, here, lo, hi))

    def number(
        self,
        parent: dict[str, Any],
        key: str,
        path: str,
        *,
        lo: float | None = None,
        hi: float | None = None,
    ) -> float | None:
        found = self._numeric(parent, key, path, "Number")
        if found is None:
            return None
        value, here = found
        return float(self._bounds(value, here, lo, hi))

    def _numeric(
        self, parent: dict[str, Any], key: str, path: str, expected: str
    ) -> tuple[float, str] | None:
        """``parent[key]`` when it is a JSON number, and its path; None when absent or not one."""
        if key not in parent:
            return None
        value, here = parent[key], f"{path}/{key}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.wrong_type(here, expected, value)
            return None
        return value, here

    def boolean(self, parent: dict[str, Any], key: str, path: str) -> bool | None:
        if key not in parent:
            return None
        value = parent[key]
        if not isinstance(value, bool):
            self.wrong_type(f"{path}/{key}", "Boolean", value)
            return None
        return value

    def _bounds(self, value: float, here: str, lo: float | None, hi: float | None) -> float:
        if lo is not None and value < lo:
            self.add(here, f"{_num(value)} is not greater or equal to {_num(lo)}")
        if hi is not None and value > hi:
            self.add(here, f"{_num(value)} is not less or equal to {_num(hi)}")
        return value

    # -- images --
    def base64(self, value: Any, here: str, *, expected: str = "String") -> bytes | None:
        """The bytes of a base64 string (strict alphabet), or None (and an error)."""
        if not isinstance(value, str):
            self.wrong_type(here, expected, value)
            return None
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            self.add(here, "is not valid base64")
            return None

    def decoded(self, data: bytes, here: str) -> Image.Image | None:
        """The image ``data`` encodes, loaded (any format Pillow reads), or None (and an error)."""
        try:
            im = Image.open(io.BytesIO(data))
            im.load()
        except Exception:  # Pillow raises many kinds for junk
            self.add(here, "is not a decodable image")
            return None
        return im

    def image(
        self,
        parent: dict[str, Any],
        key: str,
        path: str,
        *,
        mask: bool = False,
        no_transparency: bool = False,
    ) -> Image.Image | None:
        """An InvokeModel image field: a base64 PNG/JPEG. The decoded image, or None."""
        if key not in parent:
            return None
        here = f"{path}/{key}"
        data = self.base64(parent[key], here)
        im = self.decoded(data, here) if data is not None else None
        if im is None:
            return None
        if im.format not in ("PNG", "JPEG"):
            self.add(here, f"image format {im.format} is not supported (PNG or JPEG only)")
            return None
        if no_transparency and _has_transparency(im):
            self.add(here, "contains transparent or semi-transparent pixels")
        if mask and not _is_black_and_white(im):
            self.add(here, "mask image must contain only pure black and pure white pixels")
        return im


def check_transport(headers: Mapping[str, str], raw: bytes, body: Any, c: Checker) -> None:
    """What any model call is checked for before its body: the JSON content types, and a body
    that is JSON (``body`` is the parsed ``raw``, None when it was empty or not JSON)."""
    content_type = headers.get("Content-Type")
    if content_type and content_type.split(";")[0].strip().lower() != "application/json":
        c.add("Content-Type", f"{content_type} is not application/json")
    accept = headers.get("Accept")
    if accept and accept.split(";")[0].strip().lower() not in ("application/json", "*/*"):
        c.add("Accept", f"{accept} is not application/json")
    if body is None and not c.errors:
        c.add("#", "request body is not valid JSON" if raw else "request body is empty")


def malformed(errors: list[str]) -> str:
    """The message of the ValidationException that answers a request failing its checks."""
    return (
        "Malformed input request: "
        + "; ".join(errors)
        + ", please reformat your input and try again."
    )


def json_type(value: Any) -> str:
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Number"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "JSONArray"
    return "JSONObject"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _has_transparency(im: Image.Image) -> bool:
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        alpha = im.convert("RGBA").getchannel("A")
        extrema: Any = alpha.getextrema()
        return bool(extrema[0] < 255)
    return False


def _is_black_and_white(im: Image.Image) -> bool:
    colours = im.convert("RGB").getcolors(maxcolors=4)
    if colours is None:
        return False
    return all(rgb in ((0, 0, 0), (255, 255, 255)) for _count, rgb in colours)
