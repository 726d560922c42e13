"""botocore errors → gallery_kit errors, each message naming the model and the fix. Pure."""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from gallery_kit.errors import (
    AccessDenied,
    ContentFiltered,
    GalleryError,
    GenerationError,
    ModelFailed,
    ModelTimeout,
    ModelUnavailable,
    ServiceUnreachable,
    Throttled,
    no_credentials,
)
from gallery_kit.models import RECOMMENDED_MODEL_ID, RECOMMENDED_REGION, ModelSpec

#: Codes worth retrying with backoff: nothing was generated, so nothing is paid twice.
RETRYABLE_CODES = frozenset(
    {"ThrottlingException", "ServiceQuotaExceededException", "ModelNotReadyException"}
)
_THROTTLE_HINT = (
    "wait a minute and try again, generate fewer images at once, or ask for a higher "
    "on-demand quota in Service Quotas"
)


def switch_hint(spec: ModelSpec) -> str:
    """Which model and settings will work instead of ``spec``."""
    if spec.model_id.endswith(RECOMMENDED_MODEL_ID):
        return (
            f"check that {RECOMMENDED_MODEL_ID} is enabled under Bedrock → Model access in "
            f"{RECOMMENDED_REGION} and that BEDROCK_REGION={RECOMMENDED_REGION}"
        )
    return (
        f"set BEDROCK_MODEL_ID={RECOMMENDED_MODEL_ID} (Active) and "
        f"BEDROCK_REGION={RECOMMENDED_REGION}, or pick another model with --model"
    )


def _message(exc: ClientError) -> tuple[str, str]:
    error = exc.response.get("Error", {})
    return str(error.get("Code", "")), str(error.get("Message", "")).strip()


def map_bedrock_error(exc: Exception, spec: ModelSpec, region: str) -> GalleryError:
    """The error to raise (``from exc``) for a failed InvokeModel of ``spec`` in ``region``."""
    name = f"{spec.name} ({spec.model_id})"
    if isinstance(exc, ClientError):
        code, msg = _message(exc)
        low = msg.lower()
        if code == "ValidationException":
            if "content filter" in low:
                return ContentFiltered(
                    f"{spec.name} blocked this request: {msg} Rephrase the prompt and try again."
                )
            if "model identifier is invalid" in low:
                return ModelUnavailable(
                    f'{spec.model_id} is not offered in {region} ("{msg}"): set '
                    f"BEDROCK_REGION={spec.default_region}, or {switch_hint(spec)}."
                )
            return GenerationError(
                f"Bedrock rejected the request to {name}: {msg} Adjust the settings and retry."
            )
        if code == "AccessDeniedException":
            if "marketplace" in low:
                return AccessDenied(
                    f"{name} needs an AWS Marketplace subscription: let this identity perform "
                    "aws-marketplace:Subscribe and aws-marketplace:ViewSubscriptions, request "
                    f"access under Bedrock → Model access in {region}, wait a few minutes, "
                    f"then retry; or {switch_hint(spec)}."
                )
            if "legacy" in low:
                return ModelUnavailable(
                    f"{name} is Legacy and no longer open to this account; {switch_hint(spec)}."
                )
            return AccessDenied(
                f"Access to {name} was denied in {region}: enable it under Bedrock → Model "
                "access, and allow bedrock:InvokeModel for this identity."
            )
        if code == "ResourceNotFoundException":
            if "end of its life" in low or "end-of-life" in low:
                return ModelUnavailable(
                    f"{name} has reached the end of its life; {switch_hint(spec)}."
                )
            if "legacy" in low:
                return ModelUnavailable(
                    f"{name} is marked Legacy and no longer open to this account; "
                    f"{switch_hint(spec)}."
                )
            return ModelUnavailable(
                f"{name} was not found in {region} ({msg}); set BEDROCK_REGION="
                f"{spec.default_region}, or {switch_hint(spec)}."
            )
        if code in RETRYABLE_CODES:
            return Throttled(f"{name} is busy ({code}: {msg}); {_THROTTLE_HINT}.")
        if code == "ModelTimeoutException":
            return ModelTimeout(
                f"{name} timed out while generating; try a smaller size or fewer images."
            )
        if code == "ModelErrorException":
            return ModelFailed(f"{name} failed while generating ({msg}); try again.")
        if code in {"ServiceUnavailableException", "InternalServerException"}:
            return ModelFailed(f"Bedrock is unavailable right now ({code}); try again shortly.")
        if code in {
            "UnrecognizedClientException",
            "InvalidSignatureException",
            "ExpiredTokenException",
            "ExpiredToken",
            "InvalidClientTokenId",
        }:
            return ServiceUnreachable(
                f"AWS did not accept the credentials ({code}); refresh them "
                "(`aws sso login`, or check AWS_PROFILE) and retry."
            )
        return GenerationError(f"Bedrock answered {code or 'an error'} for {name}: {msg}")
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return no_credentials()
    if isinstance(exc, NoRegionError):
        return ServiceUnreachable("No AWS region: set BEDROCK_REGION (e.g. us-west-2).")
    if isinstance(exc, ReadTimeoutError):
        return ModelTimeout(
            f"{name} did not answer in time. The request was NOT sent again (it may still be "
            "billed); look in the gallery before retrying, or try a smaller size."
        )
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return ServiceUnreachable(
            f"Cannot reach Bedrock in {region}: check the network, BEDROCK_REGION and "
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME."
        )
    if isinstance(exc, BotoCoreError):
        return ServiceUnreachable(f"Calling Bedrock failed: {exc}. Check the network and retry.")
    return ModelFailed(f"Calling {name} failed unexpectedly: {exc}")
