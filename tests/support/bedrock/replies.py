"""What the endpoint says on the wire: error codes and statuses, canned messages, scripted replies.

Sources of the facts and wordings are given next to each constant ("[AWS doc]", "[seen]" for
messages observed in public bug reports, "[guessed]").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

__all__ = ["ERROR_STATUS", "ERROR_TYPE_SUFFIX", "MESSAGES", "Answer", "Reply"]

ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"

#: HTTP status of each error code. The InvokeModel ones are the ``httpStatusCode`` values of
#: botocore's own service model (bedrock-runtime 2023-09-30); note ServiceQuotaExceededException
#: is 400 there, not 429. The last three are the generic AWS front-door errors.
ERROR_STATUS: dict[str, int] = {
    "ValidationException": 400,
    "ServiceQuotaExceededException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ModelTimeoutException": 408,
    "ModelErrorException": 424,
    "ThrottlingException": 429,
    "ModelNotReadyException": 429,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
    "UnrecognizedClientException": 403,
    "MissingAuthenticationTokenException": 403,
    "UnknownOperationException": 404,
}

#: Every canned message. Keys are the ``Reply`` constructor names (and a few extras).
MESSAGES: dict[str, str] = {
    # [seen] aws-samples/amazon-bedrock-workshop#315, #340 (ValidationException, HTTP 400).
    "invalid_model_id": "The provided model identifier is invalid.",
    # [brief] wording supplied with the task; AWS troubleshooting page not retrieved.
    "access_denied": "You don't have access to the model with the specified model ID.",
    # [seen] aws-samples/sample-host-openclaw-on-amazon-bedrock-agentcore#41 (CloudTrail text);
    # "2 minutes" there, "5 minutes" in ministryofjustice/modernisation-platform-environments#18323.
    "marketplace_denied": (
        "Model access is denied due to IAM user or service role is not authorized to perform "
        "the required AWS Marketplace actions (aws-marketplace:ViewSubscriptions, "
        "aws-marketplace:Subscribe) to enable access to this model. Refer to the Amazon Bedrock "
        "documentation for further details. Your AWS Marketplace subscription for this model "
        "cannot be completed at this time. If you recently fixed this issue, try again after "
        "2 minutes."
    ),
    # [seen] awsdocs/aws-doc-sdk-examples#6403, aws-samples/amazon-bedrock-ai-karaoke#21
    # (ResourceNotFoundException on InvokeModel).
    "end_of_life": (
        "This model version has reached the end of its life. "
        "Please refer to the AWS documentation for more details."
    ),
    # [seen] fourTheorem/podwhisperer#24 (ResourceNotFoundException); "15 days" in older reports.
    "legacy": (
        "Access denied. This Model is marked by provider as Legacy and you have not been "
        "actively using the model in the last 30 days. Please upgrade to an active model on "
        "Amazon Bedrock"
    ),
    # [seen] many InvokeModel logs: "(ThrottlingException) ... Too many requests, please wait
    # before trying again."
    "throttled": "Too many requests, please wait before trying again.",
    # [seen, weak] a test fixture in a public repo (Converse); not confirmed on AWS.
    "quota_exceeded": "Your account has exceeded the service quota for this model.",
    # [seen] "ModelTimeoutException: Model has timed out in processing the request." (Nova Sonic
    # sample README); the trailing sentence is [guessed].
    "model_timeout": "Model has timed out in processing the request. Try your request again.",
    # [guessed]
    "model_error": "The model encountered an error while processing the request.",
    # [seen] "ServiceUnavailableException: Bedrock is unable to process your request." (many repos)
    "unavailable": "Bedrock is unable to process your request.",
    # [guessed]
    "model_not_ready": "Model is not ready for inference. Wait and try your request again.",
    # [AWS doc] https://docs.aws.amazon.com/nova/latest/userguide/image-gen-errors.html
    "nova_blocked_text": (
        "This request has been blocked by our content filters. "
        "Please adjust your text prompt to submit a new request."
    ),
    "nova_blocked_image": (
        "This request has been blocked by our content filters. "
        "Please adjust your input image to submit a new request."
    ),
    "nova_output_all": "All of the generated images have been blocked by our content filters.",
    "nova_output_some": "Some of the generated images have been blocked by our content filters.",
    # Generic AWS front door wordings [seen widely, not Bedrock-specific].
    "missing_auth": "Missing Authentication Token",
    "bad_auth": "The security token included in the request is invalid.",
    # [guessed] the usual IAM wording, for the control-plane ListFoundationModels.
    "list_denied": (
        "User: arn:aws:iam::123456789012:user/gallery is not authorized to perform: "
        "bedrock:ListFoundationModels because no identity-based policy allows the "
        "bedrock:ListFoundationModels action"
    ),
}

#: [AWS doc] model-parameters-diffusion-stable-ultra-text-image-request-response.html:


@dataclass(frozen=True)
class Reply:
    """A scripted answer. Build with the class methods; ``Reply.ok()`` is the default."""

    kind: str
    code: str | None = None
    message: str | None = None
    status: int | None = None
    seconds: float = 0.0
    then: Reply | None = None
    kept: int | None = None

    # ---- success ----
    @classmethod
    def ok(cls) -> Reply:
        return cls("ok")

    # ---- errors ----
    @classmethod
    def error(cls, code: str, message: str, status: int | None = None) -> Reply:
        return cls("error", code=code, message=message, status=status)

    @classmethod
    def throttled(cls) -> Reply:
        return cls.error("ThrottlingException", MESSAGES["throttled"])

    @classmethod
    def quota_exceeded(cls) -> Reply:
        return cls.error("ServiceQuotaExceededException", MESSAGES["quota_exceeded"])

    @classmethod
    def access_denied(cls) -> Reply:
        return cls.error("AccessDeniedException", MESSAGES["access_denied"])

    @classmethod
    def preview_denied(cls) -> Reply:
        """A preview model (Nova 2 Omni) the account has no access to. [seen] the same wording
        on Converse(Stream) for Nova, simonw/llm-bedrock#14; no preview-specific one found."""
        return cls.error("AccessDeniedException", MESSAGES["access_denied"])

    @classmethod
    def marketplace_denied(cls) -> Reply:
        return cls.error("AccessDeniedException", MESSAGES["marketplace_denied"])

    @classmethod
    def end_of_life(cls) -> Reply:
        return cls.error("ResourceNotFoundException", MESSAGES["end_of_life"])

    @classmethod
    def legacy(cls) -> Reply:
        return cls.error("ResourceNotFoundException", MESSAGES["legacy"])

    @classmethod
    def invalid_model_id(cls) -> Reply:
        return cls.error("ValidationException", MESSAGES["invalid_model_id"])

    @classmethod
    def model_timeout(cls) -> Reply:
        return cls.error("ModelTimeoutException", MESSAGES["model_timeout"])

    @classmethod
    def model_error(cls) -> Reply:
        return cls.error("ModelErrorException", MESSAGES["model_error"])

    @classmethod
    def unavailable(cls) -> Reply:
        return cls.error("ServiceUnavailableException", MESSAGES["unavailable"])

    @classmethod
    def model_not_ready(cls) -> Reply:
        return cls.error("ModelNotReadyException", MESSAGES["model_not_ready"])

    # ---- content filtering ----
    @classmethod
    def filtered_all(cls) -> Reply:
        """Nova/Titan: 400 ValidationException (RAI input deflection, text wording).
        Stability: 200 ``{"finish_reasons": ["Filter reason: prompt"]}`` and no image."""
        return cls("filtered_all")

    @classmethod
    def filtered_some(cls, kept: int | None = None) -> Reply:
        """Nova/Titan: 200 with ``kept`` images (default: one fewer than asked) and ``error`` set
        to the documented "Some of ..." wording ("All of ..." when none are kept).
        Stability (one image per call): 200 ``{"finish_reasons": ["Filter reason: output
        image"]}`` and no image."""
        return cls("filtered_some", kept=kept)

    @classmethod
    def filtered_output(cls) -> Reply:
        """Nova/Titan: 200 ``{"images": [], "error": "All of the generated images ..."}`` (RAI
        output deflection). Stability: same as ``filtered_some``."""
        return cls("filtered_some", kept=0)

    # ---- transport / malformed answers ----
    @classmethod
    def delay(cls, seconds: float, then: Reply | None = None) -> Reply:
        return cls("delay", seconds=seconds, then=then or cls.ok())

    @classmethod
    def hang_up(cls) -> Reply:
        """Close the connection without answering, as a server does with a keep-alive
        connection it timed out just as the client reused it (nothing was generated)."""
        return cls("hang_up")

    @classmethod
    def garbage(cls) -> Reply:
        return cls("garbage")

    @classmethod
    def bad_base64(cls) -> Reply:
        return cls("bad_base64")

    @classmethod
    def no_images(cls) -> Reply:
        return cls("no_images")

    @classmethod
    def text_only(cls, text: str | None = None) -> Reply:
        """Converse: the model answers in words only (no image block), stopReason end_turn."""
        return cls("text_only", message=text)


#: What a family answers a valid request with: a 200 JSON payload, or an error to send instead.
Answer: TypeAlias = dict[str, Any] | Reply
