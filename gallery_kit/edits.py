"""Iterating on a gallery image: vary, remove-background, edit, extend, upscale.

Pure: an :class:`EditRequest` is validated (each violation an :class:`InvalidRequest` naming the
flag, before any network call) and routed to the model that does the operation for the
configured family; with the parent's original bytes it becomes an :class:`EditJob` holding the
exact request body. Generators run jobs (``generator.edit(job)``); :meth:`Gallery.apply` stores
the results with ``parent_id`` and ``operation`` set.

The model chosen for each operation is in :mod:`gallery_kit.bedrock.routing`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from gallery_kit.bedrock.families import (
    GenerationRequest,
    ModelOutput,
    ModelSpec,
    nova_edit,
    nova_omni,
    validate,
)
from gallery_kit.bedrock.families import stability_services as st
from gallery_kit.bedrock.routing import OPERATIONS, SEEDED, Route, available_operations, route_for
from gallery_kit.errors import InvalidRequest
from gallery_kit.generation import _check_text
from gallery_kit.records import ImageRecord, check_image_id

__all__ = [
    "OPERATIONS",
    "SEEDED",
    "EditJob",
    "EditPlan",
    "EditRequest",
    "ImageEditor",
    "Route",
    "available_operations",
    "edit_extra",
    "plan_edit",
    "prepare_job",
    "route_for",
    "validate_edit",
]


@dataclass(frozen=True, slots=True)
class EditRequest:
    """One click on a lightbox button (or one ``gallery-kit vary|edit|...`` command)."""

    operation: str
    image_id: str
    prompt: str | None = None
    negative_prompt: str | None = None
    #: vary only: 0.2-1.0, how close to the parent (Nova ``similarityStrength``).
    similarity: float | None = None
    #: edit only: what to change, in words ("the sky").
    mask_prompt: str | None = None
    #: extend only: the new canvas.
    width: int | None = None
    height: int | None = None
    seed: int | None = None
    #: The configured model whose family chooses the edit models (default: BEDROCK_MODEL_ID).
    model_id: str | None = None


@dataclass(frozen=True, slots=True)
class EditPlan:
    """A validated request, its route and the seed it will use."""

    edit: EditRequest
    route: Route
    seed: int | None


class ImageEditor(Protocol):
    """What :meth:`Gallery.apply` needs from a generator."""

    offline: bool

    def recorded_model_id(self, spec: ModelSpec) -> str: ...

    def edit(self, job: EditJob) -> ModelOutput: ...


# --- validation ---------------------------------------------------------------------------------

_FLAGS = {
    "prompt": "--prompt",
    "negative_prompt": "--negative-prompt",
    "similarity": "--similarity",
    "mask_prompt": "--mask-prompt",
    "width": "--width",
    "height": "--height",
    "seed": "--seed",
}
#: The fields each operation accepts (besides image_id, model_id).
_ACCEPTS = {
    "vary": {"prompt", "negative_prompt", "similarity", "seed"},
    "remove-background": set(),
    "edit": {"prompt", "negative_prompt", "mask_prompt", "seed"},
    "extend": {"prompt", "negative_prompt", "width", "height", "seed"},
    "upscale": set(),
}


def _text(value: str | None, label: str, flag: str, spec: ModelSpec) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"{label} must be text ({flag}).")
    text = value.strip()
    if text:
        _check_text(label, flag, text, spec.max_prompt)
    return text or None


def _number(value: object, flag: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(f"{flag} must be a number, not {value!r}.")
    return float(value)


def validate_edit(edit: EditRequest, route: Route) -> EditRequest:
    """``edit`` checked against the operation and the routed model; returned normalised."""
    op, spec = edit.operation, route.spec
    check_image_id(edit.image_id)
    for name in sorted(_FLAGS.keys() - _ACCEPTS[op]):
        if getattr(edit, name) not in (None, ""):
            raise InvalidRequest(f"{op} takes no {_FLAGS[name]}; leave it out.")

    prompt = _text(edit.prompt, "The prompt", "PROMPT" if op == "edit" else "--prompt", spec)
    if op == "edit" and prompt is None:
        raise InvalidRequest(
            "The prompt is empty; say what the masked part should become (PROMPT)."
        )
    negative = _text(edit.negative_prompt, "The negative prompt", "--negative-prompt", spec)
    if negative and not spec.takes_negative:
        raise InvalidRequest(f"{spec.name} takes no negative prompt; leave --negative-prompt out.")
    if negative and route.kind == "service" and op == "extend":
        raise InvalidRequest(f"{spec.name} takes no negative prompt; leave --negative-prompt out.")

    similarity = edit.similarity
    if op == "vary":
        low, high = nova_edit.SIMILARITY_RANGE
        value = _number(similarity, "--similarity") if similarity is not None else None
        if value is not None and not low <= value <= high:
            raise InvalidRequest(f"--similarity {value:g} is outside {low}-{high}.")
        similarity = value if value is not None else nova_edit.DEFAULT_SIMILARITY

    mask_prompt = _text(edit.mask_prompt, "The mask prompt", "--mask-prompt", spec)
    if op == "edit" and mask_prompt is None and route.kind != "converse":
        raise InvalidRequest("Say what to change in words, e.g. --mask-prompt 'the sky'.")

    if op == "extend":
        if edit.width is None or edit.height is None:
            raise InvalidRequest("extend needs the new canvas size: --width W --height H.")
        # The canvas obeys the same size rules as a generated image of this model.
        validate(spec, GenerationRequest("extend", width=edit.width, height=edit.height))

    seed = edit.seed
    if seed is not None and not spec.takes_seed:
        raise InvalidRequest(f"{spec.name} takes no seed; leave --seed out.")
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= spec.seed_max
    ):
        raise InvalidRequest(
            f"The seed {seed} is outside 0-{spec.seed_max:,} for {spec.name} (--seed)."
        )
    return replace(
        edit,
        prompt=prompt,
        negative_prompt=negative,
        similarity=similarity,
        mask_prompt=mask_prompt,
        model_id=spec.model_id,
    )


def plan_edit(
    edit: EditRequest,
    configured_model_id: str,
    *,
    offline: bool = False,
    rng: random.Random | None = None,
) -> EditPlan:
    """Route and validate ``edit``; choose its seed. Raises before any network call."""
    route = route_for(edit.operation, edit.model_id or configured_model_id, offline=offline)
    valid = validate_edit(edit, route)
    seed = valid.seed
    if route.seeded and seed is None:
        # Stability reads 0 as "random", so its draws start at 1 and the seed used is known.
        low = 1 if route.spec.family == "stability" else 0
        seed = (rng or random.SystemRandom()).randint(low, route.spec.random_seed_max)
    return EditPlan(valid, route, seed if route.seeded else None)


# --- jobs ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EditJob:
    """A planned edit with its source image: everything a generator needs, nothing to look up."""

    plan: EditPlan
    parent: ImageRecord
    #: The parent's original bytes, as stored.
    source: bytes = field(repr=False)
    #: The text sent (the request's prompt, or the parent's where the model needs one).
    prompt: str | None = None
    #: The exact InvokeModel body, or Converse's keyword arguments (None offline).
    body: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def operation(self) -> str:
        return self.plan.edit.operation

    @property
    def spec(self) -> ModelSpec:
        return self.plan.route.spec

    @property
    def seed(self) -> int | None:
        return self.plan.seed

    @property
    def canvas(self) -> tuple[int, int] | None:
        edit = self.plan.edit
        return (edit.width, edit.height) if edit.width and edit.height else None

    def request_body(self) -> dict[str, Any]:
        if self.body is None:
            raise ValueError(f"{self.spec.name} is not called through InvokeModel")
        return self.body

    def parse(self, response: Any) -> ModelOutput:
        """The model's JSON answer as images (raises ContentFiltered / ModelFailed)."""
        if self.plan.route.kind == "nova":
            return nova_edit.parse_response(self.spec, response, seed=self.seed)
        if self.plan.route.kind == "converse":
            return nova_omni.parse_response(self.spec, response)
        return st.parse_response(self.spec, response, seed=self.seed)


def _parent_prompt(parent: ImageRecord, spec: ModelSpec, needed_by: str) -> str:
    prompt = parent.prompt.strip() if parent.source == "generated" else ""
    if not prompt:
        raise InvalidRequest(
            f"{needed_by} needs a prompt describing the whole picture, and {parent.id} has none "
            "of its own; give one with --prompt."
        )
    _check_text("The parent image's prompt", "--prompt", prompt, spec.max_prompt)
    return prompt


def prepare_job(plan: EditPlan, parent: ImageRecord, source: bytes) -> EditJob:
    """Fit the source into the model's input limits and build the body. Pure, no network."""
    edit, route = plan.edit, plan.route
    where = f"Image {parent.id}"
    job = EditJob(plan, parent, source, prompt=edit.prompt)
    canvas = job.canvas
    if canvas is not None:
        _check_canvas(source, canvas, where)
    if route.kind == "offline":
        return job
    body: Any
    spec, op, seed = route.spec, edit.operation, plan.seed or 0
    if route.kind == "nova":
        if op == "extend":
            text = edit.prompt or _parent_prompt(parent, spec, f"Extending with {spec.name}")
            image, mask, _box = nova_edit.outpaint_inputs(source, canvas or (0, 0), where)
            body = nova_edit.outpainting_body(
                spec, image, seed=seed, text=text, mask_image=mask, negative=edit.negative_prompt
            )
            return replace(job, prompt=text, body=dict(body))
        image, size = nova_edit.prepare_input(source, where)
        if op == "vary":
            body = nova_edit.variation_body(
                spec,
                image,
                size,
                seed=seed,
                similarity=edit.similarity or nova_edit.DEFAULT_SIMILARITY,
                text=edit.prompt,
                negative=edit.negative_prompt,
            )
        elif op == "edit":
            body = nova_edit.inpainting_body(
                spec,
                image,
                seed=seed,
                text=edit.prompt,
                mask_prompt=edit.mask_prompt,
                negative=edit.negative_prompt,
            )
        else:
            body = nova_edit.background_removal_body(image)
        return replace(job, body=dict(body))
    if route.kind == "converse":
        source_block = nova_omni.prepare_input(source, where)
        if op == "vary":
            instruction = nova_omni.variation_text(
                edit.prompt, edit.similarity or nova_edit.DEFAULT_SIMILARITY
            )
        else:
            instruction = nova_omni.edit_text(edit.prompt or "", edit.mask_prompt)
        body = nova_omni.edit_request(source_block, instruction)
        return replace(job, prompt=edit.prompt, body=dict(body))
    if route.kind == "image-to-image":
        text = edit.prompt or _parent_prompt(parent, spec, f"Image-to-image with {spec.name}")
        image, _size = st.prepare_input(source, st.IMAGE_TO_IMAGE_LIMITS, spec.name, where)
        body = st.image_to_image_body(
            spec.model_id,
            image,
            prompt=text,
            strength=st.strength_for(edit.similarity or nova_edit.DEFAULT_SIMILARITY),
            seed=seed,
            negative=edit.negative_prompt,
        )
        return replace(job, prompt=text, body=dict(body))
    if op == "extend":
        image, margins = st.outpaint_inputs(source, canvas or (0, 0), where)
        body = st.outpaint_body(image, margins, seed=seed, prompt=edit.prompt)
    elif op == "upscale":
        image, _size = st.prepare_input(source, st.FAST_UPSCALE_LIMITS, spec.name, where)
        body = st.fast_upscale_body(image)
    else:
        image, _size = st.prepare_input(source, st.EDIT_LIMITS, spec.name, where)
        if op == "edit":
            body = st.search_replace_body(
                image,
                prompt=edit.prompt or "",
                search_prompt=edit.mask_prompt or "",
                seed=seed,
                negative=edit.negative_prompt,
            )
        else:
            body = st.remove_background_body(image)
    return replace(job, body=dict(body))


def _check_canvas(source: bytes, canvas: tuple[int, int], where: str) -> None:
    from gallery_kit.input_images import open_image, placement

    size = open_image(source, where).size
    _left, _top, width, height = placement(size, canvas)
    if (width, height) == canvas:
        raise InvalidRequest(
            f"{where} is {size[0]}x{size[1]}; a {canvas[0]}x{canvas[1]} canvas leaves nothing to "
            "fill. Make --width or --height larger than the image (or change the aspect ratio)."
        )


def edit_extra(job: EditJob) -> dict[str, Any]:
    """The edit's settings worth keeping in the child's record (``ImageRecord.extra``)."""
    edit = job.plan.edit
    extra: dict[str, Any] = {}
    if edit.operation == "vary":
        extra["similarity"] = edit.similarity
    if edit.mask_prompt:
        extra["mask_prompt"] = edit.mask_prompt
    if job.canvas:
        extra["canvas"] = list(job.canvas)
    if job.plan.route.kind != "offline":
        extra["edit_model_id"] = job.spec.model_id
    return extra
