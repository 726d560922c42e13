"""Exports in S3: a ZIP streamed into ``gallery-kit/exports/`` by a multipart upload (one part in
memory at a time), then a presigned URL the browser downloads it from, straight from S3.
Mixed into :class:`~gallery_kit.stores.s3.S3Store`."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from gallery_kit.records import EXPORTS_DIR
from gallery_kit.stores.s3_client import map_s3_error

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

#: S3 takes parts of 5 MiB at least (but the last); 8 MiB keeps memory small and requests few.
PART_BYTES = 8 * 2**20
#: How long a download link works; an export older than a day is removed by the next export.
EXPORT_URL_S = 3600
EXPORT_KEEP = timedelta(days=1)


class S3ExportUpload:
    """A writable stream whose bytes become one S3 object when :meth:`commit` is called;
    :meth:`abort` (or an error) leaves nothing behind."""

    def __init__(self, client: S3Client, bucket: str, key: str, filename: str) -> None:
        self._client, self._bucket, self._key = client, bucket, key
        self._filename = filename
        self._buffer = bytearray()
        self._parts: list[CompletedPartTypeDef] = []
        self._upload_id: str | None = None
        self.size = 0

    def write(self, data: bytes, /) -> int:
        self._buffer += data
        self.size += len(data)
        if len(self._buffer) >= PART_BYTES:
            self._send_part()
        return len(data)

    def flush(self) -> None:  # zipfile flushes; parts go when they are big enough
        pass

    def close(self) -> None:  # commit or abort ends the upload
        pass

    def _call(self, what: str, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(Bucket=self._bucket, Key=self._key, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise map_s3_error(exc, self._bucket, self._key, what) from exc

    def _send_part(self) -> None:
        if self._upload_id is None:
            started = self._call(
                "CreateMultipartUpload",
                self._client.create_multipart_upload,
                ContentType="application/zip",
                ContentDisposition=f'attachment; filename="{self._filename}"',
            )
            self._upload_id = started["UploadId"]
        number = len(self._parts) + 1
        # The buffer itself is sent (a copy would hold two parts in memory).
        body, self._buffer = self._buffer, bytearray()
        sent = self._call(
            "UploadPart",
            self._client.upload_part,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=body,
        )
        self._parts.append({"ETag": sent["ETag"], "PartNumber": number})

    def commit(self) -> str:
        """The object is complete: a presigned URL to download it."""
        if self._upload_id is None:  # small: one PUT
            self._call(
                "PutObject",
                self._client.put_object,
                Body=bytes(self._buffer),
                ContentType="application/zip",
                ContentDisposition=f'attachment; filename="{self._filename}"',
            )
        else:
            if self._buffer:
                self._send_part()
            self._call(
                "CompleteMultipartUpload",
                self._client.complete_multipart_upload,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
        self._buffer = bytearray()
        return self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": self._key}, ExpiresIn=EXPORT_URL_S
        )

    def abort(self) -> None:
        self._buffer = bytearray()
        if self._upload_id is not None:
            # If this fails too, the bucket's rule for incomplete uploads removes the parts.
            with contextlib.suppress(ClientError, BotoCoreError):
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
                )


class ExportObjects:
    bucket: str
    prefix: str

    @property
    def client(self) -> S3Client:
        raise NotImplementedError

    def open_export(self, name: str, filename: str) -> S3ExportUpload:
        """A new export object ``exports/<name>``, downloaded as ``filename``."""
        return S3ExportUpload(self.client, self.bucket, self.prefix + EXPORTS_DIR + name, filename)

    def expire_exports(self, now: datetime | None = None) -> int:
        """Remove exports older than a day (their links expired long ago); how many."""
        cutoff = (now or datetime.now(UTC)) - EXPORT_KEEP
        old: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + EXPORTS_DIR):
                old += [o["Key"] for o in page.get("Contents", []) if o["LastModified"] < cutoff]
            for start in range(0, len(old), 1000):
                self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": k} for k in old[start : start + 1000]]},
                )
        except (ClientError, BotoCoreError) as exc:
            raise map_s3_error(exc, self.bucket, EXPORTS_DIR, "ListBucket") from exc
        return len(old)
