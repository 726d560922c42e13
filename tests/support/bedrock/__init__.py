"""A local Amazon Bedrock endpoint for tests: Bedrock Runtime and the control plane's listing.

Real HTTP on ``127.0.0.1`` (standard library only, plus Pillow for the PNGs), spoken the way
botocore's ``bedrock-runtime`` and ``bedrock`` clients speak it:

* request: ``POST /model/{modelId}/invoke``, JSON body, SigV4 ``Authorization`` header;
* also ``POST /model/{modelId}/converse`` (Converse) for Amazon Nova 2 Omni (preview);
* also the control plane's ``GET /foundation-models`` (ListFoundationModels), for boto3's
  ``bedrock`` client through ``AWS_ENDPOINT_URL_BEDROCK``: a scripted list per region;
* success: ``200``, ``Content-Type: application/json``, the model's JSON body;
* error: HTTP status, ``x-amzn-ErrorType: <Code>:http://internal.amazon.com/coral/com.amazon.bedrock/``
  and ``{"message": "..."}``, so botocore raises ``ClientError`` with that code and message.

Every body is checked against the documented schema of its model family. A violation answers
``400 ValidationException`` naming the field, whatever is scripted, and is appended to
``endpoint.violations`` so a test can end with ``assert endpoint.violations == []``.

Usage::

    with BedrockEndpoint() as ep:
        client = boto3.client("bedrock-runtime", endpoint_url=ep.url, ...)
        ep.script(Reply.throttled(), Reply.ok())
        ...
        assert ep.violations == []

Sources of the facts and wordings are given next to each constant ("[AWS doc]", "[seen]" for
messages observed in public bug reports, "[guessed]").
"""

from tests.support.bedrock.control_plane import (
    DEFAULT_FOUNDATION_MODELS,
    NOVA_CANVAS_LEGACY,
    foundation_model,
)
from tests.support.bedrock.converse import (
    CONVERSE_MESSAGES,
    OMNI_ASPECT_SIZES,
    OMNI_MODEL_IDS,
    converse_images,
    converse_texts,
    is_omni,
    last_user_text,
    omni_output_size,
    requested_ratio,
)
from tests.support.bedrock.converse_shapes import CONVERSE_IMAGE_FORMATS
from tests.support.bedrock.images import image_size, stand_in_of
from tests.support.bedrock.nova_canvas import NOVA_CANVAS, NOVA_SEED_MAX
from tests.support.bedrock.replies import ERROR_STATUS, MESSAGES, Reply
from tests.support.bedrock.server import BedrockEndpoint, RecordedRequest
from tests.support.bedrock.stability import STABILITY_ASPECT_SIZES

__all__ = [
    "CONVERSE_IMAGE_FORMATS",
    "CONVERSE_MESSAGES",
    "DEFAULT_FOUNDATION_MODELS",
    "ERROR_STATUS",
    "MESSAGES",
    "NOVA_CANVAS",
    "NOVA_CANVAS_LEGACY",
    "NOVA_SEED_MAX",
    "OMNI_ASPECT_SIZES",
    "OMNI_MODEL_IDS",
    "STABILITY_ASPECT_SIZES",
    "BedrockEndpoint",
    "RecordedRequest",
    "Reply",
    "converse_images",
    "converse_texts",
    "foundation_model",
    "image_size",
    "is_omni",
    "last_user_text",
    "omni_output_size",
    "requested_ratio",
    "stand_in_of",
]
