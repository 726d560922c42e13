"""The small objects the search catalog shares in S3: change markers, Parquet segments and the
manifest. Mixed into :class:`~gallery_kit.stores.s3.S3Store`, whose client, prefix and pool
they use. Keys given and returned are relative to the gallery's prefix."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from gallery_kit.records import (
    CHANGES_DIR,
    INDEX_DIR,
    ImageSummary,
    change_from_key,
    change_key,
)
from gallery_kit.stores.base import Change, Poll, SharedObject
from gallery_kit.stores.s3_client import map_s3_error

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

#: Answers of a store that does not know conditional writes (some S3-compatible ones).
_NO_CONDITIONS = {"NotImplemented", "501"}


class SharedObjects:
    bucket: str
    prefix: str

    @property
    def client(self) -> S3Client:
        raise NotImplementedError

    def _list(self, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _put(self, key: str, data: bytes, content_type: str) -> None:
        raise NotImplementedError

    def _summaries_of(self, keys: list[str]) -> tuple[list[ImageSummary], list[str], str | None]:
        raise NotImplementedError

    def note_change(self, image_id: str, kind: str, now: datetime | None = None) -> None:
        """Write a change marker (an image deleted, or listed late)."""
        key = change_key(self.prefix, now or datetime.now(UTC), image_id, kind)
        self._put(key, b"", "application/octet-stream")

    def poll(self, *, changes_after: str, down_to: str | None, page_size: int = 1000) -> Poll:
        # One LIST by the prefix "…/index" reads "index-changes/" then "index/" (see records).
        start = self.prefix + INDEX_DIR.rstrip("/")
        kwargs: dict[str, Any] = {
            "Prefix": start,
            "StartAfter": self.prefix + changes_after,
            "MaxKeys": page_size,
        }
        poll = Poll([], [])
        changes_dir = self.prefix + CHANGES_DIR
        while True:
            response = self._list(**kwargs)
            poll.requests += 1
            index_keys: list[str] = []
            for obj in response.get("Contents", []):
                key = obj["Key"]
                if key.startswith(changes_dir):
                    parsed = change_from_key(self.prefix, key)
                    if parsed is not None:
                        poll.changes.append(Change(key[len(self.prefix) :], *parsed))
                else:
                    index_keys.append(key)
            summaries, problems, _last = self._summaries_of(index_keys)
            poll.summaries += summaries
            poll.problems += problems
            reached = down_to is not None and any(
                key[len(self.prefix + INDEX_DIR) :][:24] >= down_to for key in index_keys[-1:]
            )
            if reached or not response.get("IsTruncated"):
                return poll
            kwargs["ContinuationToken"] = response["NextContinuationToken"]

    def read_shared(self, key: str) -> tuple[bytes, str] | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
            return response["Body"].read(), response["ETag"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise map_s3_error(exc, self.bucket, key, "GetObject") from exc
        except BotoCoreError as exc:
            raise map_s3_error(exc, self.bucket, key, "GetObject") from exc

    def write_shared(self, key: str, data: bytes, *, replacing: str | None = None) -> bool:
        kwargs: dict[str, Any] = {}
        if replacing == "":
            kwargs["IfNoneMatch"] = "*"
        elif replacing is not None:
            kwargs["IfMatch"] = replacing
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data, **kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            if kwargs and error.get("Code") in _NO_CONDITIONS:
                # A store without conditional writes: last writer wins (see the README).
                return self.write_shared(key, data)
            raise map_s3_error(exc, self.bucket, key, "PutObject") from exc
        except BotoCoreError as exc:
            raise map_s3_error(exc, self.bucket, key, "PutObject") from exc
        return True

    def list_shared(self, prefix: str) -> list[SharedObject]:
        found: list[SharedObject] = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + prefix
            ):
                for obj in page.get("Contents", []):
                    key = obj["Key"][len(self.prefix) :]
                    found.append(
                        SharedObject(key, obj["Size"], obj["LastModified"], obj.get("ETag", ""))
                    )
        except (ClientError, BotoCoreError) as exc:
            raise map_s3_error(exc, self.bucket, prefix, "ListBucket") from exc
        return found

    def delete_shared(self, keys: list[str]) -> None:
        try:
            for start in range(0, len(keys), 1000):  # DeleteObjects takes 1,000 at most
                chunk: list[ObjectIdentifierTypeDef] = [
                    {"Key": self.prefix + k} for k in keys[start : start + 1000]
                ]
                if chunk:
                    self.client.delete_objects(
                        Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True}
                    )
        except (ClientError, BotoCoreError) as exc:
            raise map_s3_error(exc, self.bucket, keys[0], "DeleteObject") from exc
