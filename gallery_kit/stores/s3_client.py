"""The S3 client gallery_kit uses (its timeouts, retries and signature) and botocore's errors as
gallery_kit errors naming the bucket, the key and the fix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from gallery_kit.errors import (
    GalleryError,
    ImageNotFound,
    ServiceUnreachable,
    StorageError,
    no_credentials,
)
from gallery_kit.records import MAX_KEY_BYTES

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def s3_client(region: str | None) -> S3Client:
    """An S3 client: SigV4 (presigned URLs need it), bounded retries, a pool for parallel GETs."""
    import boto3

    config = Config(
        region_name=region,
        signature_version="s3v4",
        connect_timeout=5,
        read_timeout=60,
        retries={"total_max_attempts": 3, "mode": "standard"},
        max_pool_connections=32,
    )
    return boto3.client("s3", config=config)


def map_s3_error(exc: Exception, bucket: str, key: str | None, action: str) -> GalleryError:
    where = f"s3://{bucket}/{key}" if key else f"s3://{bucket}"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "NoSuchBucket":
            return StorageError(
                f"The bucket {bucket!r} does not exist: create it or fix S3_BUCKET_NAME."
            )
        if code in {"NoSuchKey", "404", "NotFound"}:
            return ImageNotFound(f"{where} does not exist.")
        if code in {"AccessDenied", "403", "AllAccessDisabled"}:
            return StorageError(
                f"Access denied to {action} {where}: allow s3:{action} on the bucket for "
                "this identity (see the README's IAM policy)."
            )
        if (
            code
            in {
                "PermanentRedirect",
                "AuthorizationHeaderMalformed",
                "301",
                "IllegalLocationConstraintException",
            }
            or status == 301
        ):
            region = (
                error.get("Region")
                or error.get("BucketRegion")
                or exc.response.get("ResponseMetadata", {})
                .get("HTTPHeaders", {})
                .get("x-amz-bucket-region")
            )
            fix = f"set S3_REGION={region}" if region else "set S3_REGION to the bucket's region"
            return StorageError(f"The bucket {bucket!r} is in another region: {fix}.")
        if code in {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}:
            return ServiceUnreachable(
                f"S3 did not accept the credentials ({code}); refresh them "
                "(`aws sso login`, or check AWS_PROFILE)."
            )
        message = str(error.get("Message") or code)
        if action == "PutObject" and key and refuses_name(code, message):
            return StorageError(key_refused(bucket, key, f"{code}: {message}"))
        return StorageError(f"S3 {action} on {where} failed: {message}. Try again.")
    from botocore.exceptions import NoCredentialsError, PartialCredentialsError

    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return no_credentials()
    if isinstance(exc, BotoCoreError):
        return StorageError(
            f"Cannot reach S3 for {where} ({type(exc).__name__}); check the network, "
            "S3_REGION and AWS_ENDPOINT_URL_S3."
        )
    return StorageError(f"S3 {action} on {where} failed: {exc}")


#: Error codes and words S3-compatible stores answer a key they cannot store by its name with.
_NAME_CODES = {"KeyTooLongError", "XMinioInvalidObjectName", "InvalidObjectName"}
_NAME_WORDS = ("too long", "name too long", "enametoolong", "invalid object name")


def refuses_name(code: str, message: str) -> bool:
    low = message.lower()
    return code in _NAME_CODES or any(word in low for word in _NAME_WORDS)


def key_refused(bucket: str, key: str, detail: str) -> str:
    """One line for a key the store will not take: its length, its longest part, the limits."""
    longest = max(len(part.encode("utf-8")) for part in key.split("/"))
    return (
        f"s3://{bucket} refused the key {key[:80]!r}… ({len(key.encode('utf-8'))} bytes, longest "
        f"part {longest} bytes; {detail}): Amazon S3 takes keys up to {MAX_KEY_BYTES:,} bytes, "
        "filesystem-backed stores such as MinIO 255 bytes a part. The image stays in the "
        "outbox on this machine (`gallery-kit sync` sends it again): shorten GALLERY_PREFIX, "
        "or use a store that takes longer names."
    )
