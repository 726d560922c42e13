"""The package's own error tree.

Every message is one readable line that names what went wrong (the model, bucket, key or
setting) and what to do about it; the UI and CLI show ``str(error)`` and nothing else.
"""

from __future__ import annotations


class GalleryWarning(UserWarning):
    """A problem that did not stop the operation (e.g. some images were filtered)."""


class GalleryError(Exception):
    """Base of every error gallery_kit raises on purpose."""

    #: CLI exit status: 2 = the input was wrong (nothing was sent), 1 = a service failed.
    exit_code = 1


class ConfigError(GalleryError):
    """A setting (environment variable or ``.env`` line) is missing or malformed."""

    exit_code = 2


class InvalidRequest(GalleryError):
    """The request breaks a documented limit of the chosen model; nothing was sent."""

    exit_code = 2


class BudgetExceeded(InvalidRequest):
    """The request's estimate would pass GALLERY_DAILY_BUDGET_USD or GALLERY_SESSION_BUDGET_USD;
    nothing was sent."""


class GenerationError(GalleryError):
    """The image model did not deliver images."""

    def __init__(self, message: str, *, suggested_model_id: str | None = None) -> None:
        super().__init__(message)
        #: A live model that would take the same request (the message names it too); the
        #: dashboard offers a one-click switch to it.
        self.suggested_model_id = suggested_model_id


class ContentFiltered(GenerationError):
    """The model's content filters blocked the prompt or every image."""


class ModelUnavailable(GenerationError):
    """The model is gone (end of life), not enabled for this account, or not in this region."""


class AccessDenied(GenerationError):
    """The credentials may not invoke the model."""


class Throttled(GenerationError):
    """The model kept answering 'too many requests' after our bounded retries."""


class ModelTimeout(GenerationError):
    """The model or the connection timed out; the request was not sent again."""


class ModelFailed(GenerationError):
    """The model answered with an internal error or a malformed response."""


class ServiceUnreachable(GalleryError):
    """No connection to an AWS endpoint, or no credentials to sign with."""


def no_credentials() -> ServiceUnreachable:
    """The one answer for "boto3 found no credentials", from S3 and from Bedrock alike."""
    return ServiceUnreachable(
        "No AWS credentials found: run `aws configure` or `aws sso login`, or set "
        "AWS_PROFILE; or unset S3_BUCKET_NAME to work offline."
    )


class StorageError(GalleryError):
    """The image store could not read or write."""


class ImageNotFound(StorageError):
    """No image with that id exists in the gallery."""

    exit_code = 2


class InvalidImage(StorageError):
    """Bytes that are not a usable image (truncated, not an image, too many pixels)."""
