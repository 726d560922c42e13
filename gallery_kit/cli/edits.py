"""The ``gallery-kit`` commands that iterate on an image: vary, remove-background, edit, extend,
upscale. Each makes a new gallery image recording its parent and the operation.
"""

from __future__ import annotations

import argparse
from typing import Any

from gallery_kit.edits import OPERATIONS, EditRequest

EDIT_COMMANDS = OPERATIONS

_HELP = {
    "vary": "more like this: a variation of an image",
    "remove-background": "cut out the subject: a transparent PNG",
    "edit": "change part of an image, described in words",
    "extend": "extend an image to a larger canvas or a new aspect ratio",
    "upscale": "four times the resolution (Stability Fast Upscale)",
}


def add_edit_parsers(sub: Any) -> None:
    """Add the five commands to ``build_parser``'s subparsers."""
    for name in EDIT_COMMANDS:
        cmd = sub.add_parser(name, help=_HELP[name])
        cmd.add_argument("id", help="the image to start from (see `gallery-kit list`)")
        if name == "edit":
            cmd.add_argument("prompt", help="what the masked part should become")
            cmd.add_argument(
                "--mask-prompt",
                help="what to change, e.g. 'the sky' (required, except with Nova 2 Omni)",
            )
        if name in ("vary", "extend"):
            cmd.add_argument("--prompt", help="describe the result (optional)")
        if name == "vary":
            cmd.add_argument(
                "--similarity", type=float, help="0.2-1.0: how close to the original (0.7)"
            )
        if name == "extend":
            cmd.add_argument("--width", type=int, required=True, help="the new canvas width")
            cmd.add_argument("--height", type=int, required=True, help="the new canvas height")
        if name in ("vary", "edit", "extend"):
            cmd.add_argument("--negative-prompt")
            cmd.add_argument("--seed", type=int)
        cmd.add_argument("--model", help="model whose family does it (default: BEDROCK_MODEL_ID)")
        cmd.add_argument("--json", action="store_true", help="the new image as one JSON line")


def edit_request(args: argparse.Namespace) -> EditRequest:
    """The :class:`EditRequest` a parsed command line describes."""
    return EditRequest(
        operation=args.command,
        image_id=args.id,
        prompt=getattr(args, "prompt", None),
        negative_prompt=getattr(args, "negative_prompt", None),
        similarity=getattr(args, "similarity", None),
        mask_prompt=getattr(args, "mask_prompt", None),
        width=getattr(args, "width", None),
        height=getattr(args, "height", None),
        seed=getattr(args, "seed", None),
        model_id=args.model,
    )
