"""The control plane's ListFoundationModels (``GET /foundation-models``), as the endpoint serves it.

Reached by boto3's ``bedrock`` client through ``AWS_ENDPOINT_URL_BEDROCK``. Shape from botocore's
service model (bedrock 2023-04-20): ``{"modelSummaries": [FoundationModelSummary]}``, lifecycle
status ACTIVE | LEGACY. The endpoint keeps a list per region (``DEFAULT_FOUNDATION_MODELS`` to
start with) and answers the one of the region the request was signed for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.support.bedrock.nova_canvas import NOVA_CANVAS

__all__ = [
    "DEFAULT_FOUNDATION_MODELS",
    "NOVA_CANVAS_LEGACY",
    "QUERY_PARAMETERS",
    "foundation_model",
    "listed",
]

#: The query parameters of ListFoundationModels the endpoint understands.
QUERY_PARAMETERS = frozenset({"byProvider", "byOutputModality", "byInferenceType"})


def foundation_model(
    model_id: str,
    status: str = "ACTIVE",
    *,
    name: str | None = None,
    region: str = "us-west-2",
    inputs: tuple[str, ...] = ("TEXT", "IMAGE"),
    outputs: tuple[str, ...] = ("IMAGE",),
) -> dict[str, Any]:
    """One ``FoundationModelSummary`` as ListFoundationModels returns it."""
    return {
        "modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model_id}",
        "modelId": model_id,
        "modelName": name or model_id,
        "providerName": model_id.split(".")[0].capitalize(),
        "inputModalities": list(inputs),
        "outputModalities": list(outputs),
        "responseStreamingSupported": False,
        "customizationsSupported": [],
        "inferenceTypesSupported": ["ON_DEMAND"],
        "modelLifecycle": {"status": status},
    }


#: Region -> the image models listed there ("*": any other region). The 2026-12-01 picture:
#: Nova Canvas and Titan v2 past their end of life (no longer listed), Stability's models Active
#: in us-west-2. Tests of an account that can still call Nova Canvas list it as LEGACY.
NOVA_CANVAS_LEGACY = foundation_model(NOVA_CANVAS, "LEGACY", region="us-east-1")
DEFAULT_FOUNDATION_MODELS: dict[str, list[dict[str, Any]]] = {
    "us-east-1": [],
    "us-west-2": [
        foundation_model(model_id, "ACTIVE")
        for model_id in (
            "stability.stable-image-core-v1:1",
            "stability.stable-image-ultra-v1:1",
            "stability.sd3-5-large-v1:0",
            "stability.stable-image-remove-background-v1:0",
            "stability.stable-image-search-replace-v1:0",
            "stability.stable-image-inpaint-v1:0",
            "stability.stable-outpaint-v1:0",
            "stability.stable-fast-upscale-v1:0",
        )
    ]
    + [foundation_model("amazon.titan-embed-text-v2:0", outputs=("EMBEDDING",))],
    "*": [],
}


def listed(
    models: Mapping[str, list[dict[str, Any]]], region: str, query: Mapping[str, list[str]]
) -> list[dict[str, Any]]:
    """The summaries of ``region`` ("*" for any other) that the query's filters keep."""
    in_region = models.get(region, models.get("*", []))
    wanted = query.get("byOutputModality", [None])[0]
    provider = (query.get("byProvider", [None])[0] or "").lower()
    return [
        m
        for m in in_region
        if (wanted is None or wanted in m["outputModalities"])
        and (not provider or m["providerName"].lower() == provider)
    ]
