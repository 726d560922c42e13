"""botocore errors → gallery_kit errors, each message naming the model and the fix. Pure."""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from gallery_kit.bedrock.families import ModelSpec
from gallery_kit.bedrock.lifecycle import Alternative, switch_hint
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

#: Codes worth retrying with backoff: nothing was generated, so nothing is paid twice.
RETRYABLE_CODES = frozenset(
    {"ThrottlingException", "ServiceQuotaExceededException", "ModelNotReadyException"}
)
_THROTTLE_HINT = (
    "wait a minute and try again, generate fewer images at once, or ask for a higher "
    "on-demand quota in Service Quotas"
)


def _message(exc: ClientError) -> tuple[str, str]:
    error = exc.response.get("Error", {})
    return str(error.get("Code", "")), str(error.get("Message", "")).strip()


def map_bedrock_error(
    exc: Exception,
    spec: ModelSpec,
    region: str,
    *,
    live: Alternative | None = None,
    region_setting: str | None = None,
) -> GalleryError:
    """The error to raise (``from exc``) for a failed call of ``spec`` in ``region``.

    ``live`` is the model to point to when this one cannot be called (default: Stable Image
    Core); such errors carry its id as ``suggested_model_id``.
    """
    name = f"{spec.name} ({spec.model_id})"
    live = live or Alternative()
    hint = switch_hint(spec, live, region_setting=region_setting)
    other = None if spec.model_id.endswith(live.model_id) else live.model_id

    def gone(cls: type[GenerationError], message: str) -> GenerationError:
        return cls(message, suggested_model_id=other)

    if isinstance(exc, ClientError):
        code, msg = _message(exc)
        low = msg.lower()
        if code == "ValidationException":
            if "content filter" in low:
                return ContentFiltered(
                    f"{spec.name} blocked this request: {msg} Rephrase the prompt and try again."
                )
            if "model identifier is invalid" in low:
                return gone(
                    ModelUnavailable,
                    f'{spec.model_id} is not offered in {region} ("{msg}"): set '
                    f"BEDROCK_REGION={spec.default_region}, or {hint}.",
                )
            return GenerationError(
                f"Bedrock rejected the request to {name}: {msg} Adjust the settings and retry."
            )
        if code == "AccessDeniedException":
            if "marketplace" in low:
                return gone(
                    AccessDenied,
                    f"{name} needs an AWS Marketplace subscription: let this identity perform "
                    "aws-marketplace:Subscribe and aws-marketplace:ViewSubscriptions, request "
                    f"access under Bedrock → Model access in {region}, wait a few minutes, "
                    f"then retry; or {hint}.",
                )
            if "legacy" in low:
                return gone(
                    ModelUnavailable,
                    f"{name} is Legacy and no longer open to this account; {hint}.",
                )
            if spec.preview:
                return gone(
                    AccessDenied,
                    f"{name} is in preview and this account has no access to it: ask your AWS "
                    f"account team for Nova 2 Omni preview access; meanwhile {hint}.",
                )
            return AccessDenied(
                f"Access to {name} was denied in {region}: enable it under Bedrock → Model "
                "access, and allow bedrock:InvokeModel for this identity."
            )
        if code == "ResourceNotFoundException":
            if "end of its life" in low or "end-of-life" in low:
                return gone(ModelUnavailable, f"{name} has reached the end of its life; {hint}.")
            if "legacy" in low:
                return gone(
                    ModelUnavailable,
                    f"{name} is marked Legacy and no longer open to this account; {hint}.",
                )
            return gone(
                ModelUnavailable,
                f"{name} was not found in {region} ({msg}); set BEDROCK_REGION="
                f"{spec.default_region}, or {hint}.",
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
    if isinstance(exc, ConnectionClosedError):
        return ServiceUnreachable(
            f"Bedrock in {region} closed the connection twice before answering {name}; nothing "
            "was stored. Check the network (a proxy or VPN may be cutting connections) and retry."
        )
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return ServiceUnreachable(
            f"Cannot reach Bedrock in {region}: check the network, BEDROCK_REGION and "
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME."
        )
    if isinstance(exc, BotoCoreError):
        return ServiceUnreachable(f"Calling Bedrock failed: {exc}. Check the network and retry.")
    return ModelFailed(f"Calling {name} failed unexpectedly: {exc}")
