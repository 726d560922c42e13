"""The offline generator: the embedded default when no AWS is configured.

It paints a real PNG of the requested size, deterministic from (prompt, seed, size) and visibly
different for different prompts, so the whole app can be used and tested without AWS. Its
images are recorded with model ``offline`` so nobody mistakes them for AI output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gallery_kit.generation import GenerationRequest, ModelImage, ModelOutput, ModelSpec
from gallery_kit.offline.paint import paint

if TYPE_CHECKING:
    from gallery_kit.edits import EditJob

OFFLINE_MODEL_ID = "offline"


class OfflineGenerator:
    """An :class:`~gallery_kit.bedrock.runtime.ImageGenerator` that needs no network."""

    offline = True

    def recorded_model_id(self, spec: ModelSpec) -> str:
        return OFFLINE_MODEL_ID

    def invoke(self, spec: ModelSpec, request: GenerationRequest) -> ModelOutput:
        if request.seed is None:
            raise ValueError("invoke needs a request whose seed is chosen")
        return ModelOutput(
            images=[
                ModelImage(
                    paint(request.prompt, request.seed + i, request.width, request.height),
                    request.seed + i,
                    index=i,
                )
                for i in range(request.count)
            ]
        )

    def edit(self, job: EditJob) -> ModelOutput:
        """Deterministic Pillow stand-ins for vary, remove-background, edit, extend, upscale."""
        from gallery_kit.offline.edits import run

        return run(job)
