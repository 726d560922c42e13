"""The lightbox's operations: the buttons, the inputs each asks for, and the request a form
describes. Pure: values arrive as text from the browser and are checked here."""

from __future__ import annotations

from typing import Any

from gallery_kit.edits import EditRequest
from gallery_kit.errors import InvalidRequest
from gallery_kit.records import ImageRecord

#: The lightbox's operation buttons: label, help, and the inputs each asks for.
OPERATION_FORMS: dict[str, dict[str, Any]] = {
    "vary": {
        "label": "More like this",
        "help": "Variations of this image",
        "fields": [
            {"name": "prompt", "label": "Prompt (optional)"},
            {
                "name": "similarity",
                "label": "Similarity (0.2-1.0)",
                "type": "number",
                "min": 0.2,
                "max": 1.0,
                "step": 0.05,
                "value": 0.7,
            },
        ],
    },
    "remove-background": {
        "label": "Remove background",
        "help": "Cut out the subject (transparent PNG)",
        "fields": [],
    },
    "edit": {
        "label": "Edit by words",
        "help": "Change a part of the image, described in words",
        "fields": [
            {"name": "mask_prompt", "label": "What to change (e.g. the sky)", "required": True},
            {"name": "prompt", "label": "Change it into", "required": True},
        ],
    },
    "extend": {
        "label": "Extend",
        "help": "A larger canvas or a new aspect ratio",
        "fields": [
            {"name": "width", "label": "New width", "type": "number", "step": 16, "required": True},
            {
                "name": "height",
                "label": "New height",
                "type": "number",
                "step": 16,
                "required": True,
            },
            {"name": "prompt", "label": "Prompt (optional)"},
        ],
    },
    "upscale": {"label": "Upscale", "help": "A print-size copy", "fields": []},
}
OPERATION_NAMES = {
    "vary": "variation",
    "remove-background": "background removal",
    "edit": "edit",
    "extend": "extension",
    "upscale": "upscale",
}


def round16(value: float) -> int:
    return max(16, round(value / 16) * 16)


def _number(params: dict[str, Any], key: str, kind: type[int] | type[float]) -> Any:
    raw = params.get(key)
    if raw is None or str(raw).strip() == "":
        return None
    try:
        return kind(str(raw).strip())
    except ValueError as exc:
        raise InvalidRequest(
            f"{key.replace('_', ' ').capitalize()} {raw!r} is not a number."
        ) from exc


def _text(params: dict[str, Any], key: str) -> str | None:
    value = params.get(key)
    return str(value) if isinstance(value, str | int | float) and str(value).strip() else None


def edit_request(image_id: str, name: str, params: dict[str, Any], model_id: str) -> EditRequest:
    """The EditRequest a lightbox form describes (values arrive as text from the browser)."""
    if name not in OPERATION_FORMS:
        raise InvalidRequest(f"Unknown operation {name!r}.")
    return EditRequest(
        operation=name,
        image_id=image_id,
        prompt=_text(params, "prompt"),
        mask_prompt=_text(params, "mask_prompt"),
        similarity=_number(params, "similarity", float),
        width=_number(params, "width", int),
        height=_number(params, "height", int),
        model_id=model_id,
    )


def operation_buttons(record: ImageRecord, reasons: dict[str, str | None]) -> list[dict[str, Any]]:
    """What the lightbox shows for ``record``; ``reasons`` says why an operation is unavailable."""
    ops = []
    for name, form in OPERATION_FORMS.items():
        fields = [dict(f) for f in form["fields"]]
        for f in fields:
            if name == "extend" and f["name"] == "width":
                f["value"] = min(4096, round16(record.width * 1.5))
            elif name == "extend" and f["name"] == "height":
                f["value"] = record.height
            elif name == "vary" and f["name"] == "prompt":
                f["placeholder"] = record.prompt[:80]
        ops.append(
            {
                "name": name,
                "label": form["label"],
                "help": form["help"],
                "fields": fields,
                "disabled": reasons.get(name),
            }
        )
    return ops
