"""The S3 store: one bucket, an optional prefix, the layout in :mod:`gallery_kit.records`."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botocore.awsrequest import AWSRequest
from botocore.exceptions import BotoCoreError, ClientError

from gallery_kit.errors import (
    GalleryError,
    ImageNotFound,
    StorageError,
)
from gallery_kit.records import (
    ImageRecord,
    ImageSummary,
    check_image_id,
    child_marker_key,
    children_prefix,
    id_from_child_key,
    index_key,
    index_prefix,
    index_start_after,
    is_image_id,
    is_late,
    meta_key,
    record_from_json,
    record_to_json,
    summary_from_index_key,
    thumbnail_key,
)
from gallery_kit.stores.base import (
    Listing,
    Page,
)
from gallery_kit.stores.s3_client import map_s3_error, s3_client
from gallery_kit.stores.s3_exports import ExportObjects
from gallery_kit.stores.s3_scans import WholeGalleryScans
from gallery_kit.stores.s3_shared import SharedObjects

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)

#: Presigned thumbnail/original URLs live this long; the grid refreshes them on each page.
URL_EXPIRY_S = 900
_CACHE_SIZE = 4096
IMMUTABLE = "private, max-age=31536000, immutable"


class S3Store(WholeGalleryScans, SharedObjects, ExportObjects):
    """Images in ``s3://bucket/prefix``. The client is shared across threads, as boto3 advises."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        client: S3Client | None = None,
        region: str | None = None,
        url_expiry_s: int = URL_EXPIRY_S,
        # A page's 24 thumbnails in one round (the client keeps 32 connections).
        max_workers: int = 32,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.region = region
        self.location = f"s3://{bucket}/{prefix}"
        self.url_expiry_s = url_expiry_s
        self._client = client
        self._client_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="gk-s3")
        self._workers = max_workers
        self._warmed = False
        # Metadata objects never change once written: cache them (bounded) by id.
        self._records: OrderedDict[str, ImageRecord] = OrderedDict()
        self._records_lock = threading.Lock()

    @property
    def client(self) -> S3Client:
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = s3_client(self.region)
        return self._client

    def close(self) -> None:
        self._pool.shutdown(wait=False)

    def warm(self) -> None:
        """Start the worker threads now (a dashboard, at start): started on demand, 24 of them
        held up the first page's thumbnail GETs by ~15 ms."""
        if self._warmed:
            return
        self._warmed = True
        # Every task waits for all the others, so each gets a thread of its own; bounded, in
        # case some thread is busy elsewhere.
        ready = threading.Barrier(self._workers)

        def wait() -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                ready.wait(timeout=1)

        for _ in range(self._workers):
            self._pool.submit(wait)

    def _check_key(self, key: str) -> str:
        # Keys come from metadata other people can write: stay inside our prefix.
        if not key.startswith(self.prefix) or ".." in key.split("/") or not key:
            raise StorageError(f"Refusing key {key!r}: it is outside {self.location}.")
        return key

    def _put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._check_key(key),
                Body=data,
                ContentType=content_type,
                # Objects are never rewritten (ids are unique): let browsers keep them.
                CacheControl=IMMUTABLE,
            )
        except (ClientError, BotoCoreError) as exc:
            raise map_s3_error(exc, self.bucket, key, "PutObject") from exc

    def _get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._check_key(key))
            return response["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise map_s3_error(exc, self.bucket, key, "GetObject") from exc

    def put(self, record: ImageRecord, original: bytes, thumbnail: bytes) -> None:
        # Two rounds: the objects side by side, then what lists the image.
        self._all(
            (record.original_key, original, record.content_type), *self._unlisted(record, thumbnail)
        )
        self._remember(record)
        self.publish(record)

    def put_original(self, key: str, data: bytes, content_type: str) -> None:
        self._put(key, data, content_type)

    def put_unlisted(self, record: ImageRecord, thumbnail: bytes) -> None:
        self._all(*self._unlisted(record, thumbnail))
        self._remember(record)

    def _unlisted(self, record: ImageRecord, thumbnail: bytes) -> list[tuple[str, bytes, str]]:
        return [
            (record.thumbnail_key, thumbnail, "image/webp"),
            (meta_key(self.prefix, record.id), record_to_json(record), "application/json"),
        ]

    def publish(self, record: ImageRecord) -> None:
        """The index key that lists the image, and the parent's lineage marker, side by side."""
        pointers = [(index_key(self.prefix, record), b"", "application/octet-stream")]
        if record.parent_id:
            marker = child_marker_key(self.prefix, check_image_id(record.parent_id), record.id)
            pointers.append((marker, b"", "application/octet-stream"))
        self._all(*pointers)
        if is_late(record.id):
            # Pollers read the newest keys only down to about where they were: say so.
            self.note_change(record.id, "added")

    def put_adopted(self, record: ImageRecord, thumbnail: bytes) -> None:
        self._all(
            (record.thumbnail_key, thumbnail, "image/webp"),
            (meta_key(self.prefix, record.id), record_to_json(record), "application/json"),
        )
        self._remember(record)
        self._put(index_key(self.prefix, record), b"", "application/octet-stream")
        if is_late(record.id):
            self.note_change(record.id, "added")

    def _all(self, *objects: tuple[str, bytes, str]) -> None:
        """PUT these at once; the first failure is raised once all have finished."""
        futures = [self._pool.submit(self._put, *obj) for obj in objects]
        errors = [f.exception() for f in futures]
        for error in errors:
            if error is not None:
                raise error

    def _remember(self, record: ImageRecord) -> None:
        with self._records_lock:
            self._records[record.id] = record
            self._records.move_to_end(record.id)
            while len(self._records) > _CACHE_SIZE:
                self._records.popitem(last=False)

    def _list(self, **kwargs: Any) -> Any:
        try:
            return self.client.list_objects_v2(Bucket=self.bucket, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise map_s3_error(exc, self.bucket, kwargs.get("Prefix"), "ListBucket") from exc

    def listing(self, *, cursor: str | None = None, limit: int = 24) -> Listing:
        kwargs: dict[str, Any] = {"Prefix": index_prefix(self.prefix), "MaxKeys": limit}
        if cursor is not None:
            kwargs["StartAfter"] = index_start_after(self.prefix, check_image_id(cursor))
        response = self._list(**kwargs)
        keys = [obj["Key"] for obj in response.get("Contents", [])]
        summaries, problems, last_id = self._summaries_of(keys)
        more = bool(response.get("IsTruncated"))
        return Listing(summaries, last_id if more else None, problems)

    def _summaries_of(self, keys: list[str]) -> tuple[list[ImageSummary], list[str], str | None]:
        """The summaries of these index keys in their order, a line per unreadable one, and
        the last id (the cursor past them)."""
        # By id in listing order (an id listed twice by two versions' summaries counts once);
        # None: a summary someone wrote badly, replaced by the image's metadata below.
        found: dict[str, ImageSummary | str | None] = {}
        for key in keys:
            summary = summary_from_index_key(self.prefix, key)
            if isinstance(summary, str):
                found.setdefault(summary, None)
            elif summary is not None:
                found.setdefault(summary.id, summary)
        unreadable = [image_id for image_id, s in found.items() if s is None]
        for image_id, got in zip(
            unreadable, self._pool.map(self._get_or_problem, unreadable), strict=True
        ):
            found[image_id] = ImageSummary.of(got) if isinstance(got, ImageRecord) else got
        summaries = [s for s in found.values() if isinstance(s, ImageSummary)]
        problems = [s for s in found.values() if isinstance(s, str)]
        return summaries, problems, (list(found)[-1] if found else None)

    def page(self, *, cursor: str | None = None, limit: int = 24) -> Page:
        listing = self.listing(cursor=cursor, limit=limit)
        results = list(self._pool.map(self._get_or_problem, [s.id for s in listing.summaries]))
        records = [r for r in results if isinstance(r, ImageRecord)]
        problems = listing.problems + [r for r in results if isinstance(r, str)]
        return Page(records, listing.next_cursor, problems)

    def read_thumbnails(self, ids: list[str]) -> dict[str, bytes]:
        keys = [thumbnail_key(self.prefix, check_image_id(i)) for i in ids]
        found = zip(ids, self._pool.map(self._read_small, keys), strict=True)
        return {image_id: data for image_id, data in found if data is not None}

    def _read_small(self, key: str) -> bytes | None:
        """A small object, or None. Sent as a presigned GET through the client's own HTTP
        session (its connection pool, proxies, CA bundle and timeouts): a quarter of the CPU of
        ``get_object``, which a page pays 24 times. Anything but a 200 takes the full way
        (retries, readable errors)."""
        session = getattr(getattr(self.client, "_endpoint", None), "http_session", None)
        if session is not None:
            try:
                url = self.url_for(key)
                response = session.send(AWSRequest(method="GET", url=url).prepare())
                if response.status_code == 200:
                    return bytes(response.content)
            except BotoCoreError as exc:
                log.info("quick read of %s failed (%s); retrying the usual way", key, exc)
        try:
            return self._get(key)
        except GalleryError as exc:
            log.info("cannot read %s: %s", key, exc)
            return None

    def _get_or_problem(self, image_id: str) -> ImageRecord | str:
        try:
            return self.get(image_id)
        except GalleryError as exc:
            return str(exc)

    def get(self, image_id: str) -> ImageRecord:
        check_image_id(image_id)
        with self._records_lock:
            cached = self._records.get(image_id)
        if cached is not None:
            return cached
        key = meta_key(self.prefix, image_id)
        try:
            data = self._get(key)
        except ImageNotFound as exc:
            raise ImageNotFound(
                f"No image {image_id} in {self.location}; see `gallery-kit list`."
            ) from exc
        record = record_from_json(data, where=f"s3://{self.bucket}/{key}")
        self._remember(record)
        return record

    def exists(self, image_id: str) -> bool:
        """Listed: its index key is there (written last, so everything else is too)."""
        if not is_image_id(image_id):
            return False
        found = self._list(Prefix=index_prefix(self.prefix) + image_id + ".", MaxKeys=1)
        return bool(found.get("Contents"))

    def read_original(self, record: ImageRecord) -> bytes:
        return self._get(record.original_key)

    def read_thumbnail(self, record: ImageRecord) -> bytes:
        return self._get(record.thumbnail_key)

    def read_object(self, key: str) -> bytes:
        return self._get(key)

    def delete(self, image_id: str) -> None:
        # Unlisted first (every index key of the id, whoever wrote it), then the metadata.
        listed = self._keys(index_prefix(self.prefix) + check_image_id(image_id) + ".")
        try:
            record = self.get(image_id)
        except ImageNotFound:
            if not listed:
                raise
            self._delete_keys(listed, image_id)  # listed, but its metadata is gone: unlist it
            self.note_change(image_id, "deleted")
            return
        rest = [meta_key(self.prefix, image_id), record.original_key, record.thumbnail_key]
        # Lineage markers: this image as a child, and its own children's markers.
        if record.parent_id and is_image_id(record.parent_id):
            rest.append(child_marker_key(self.prefix, record.parent_id, image_id))
        rest += [child_marker_key(self.prefix, image_id, c) for c in self.children(image_id)]
        self._delete_keys(listed, image_id)
        # Unlisted: tell the other servers' search indexes, then remove the rest.
        self.note_change(image_id, "deleted")
        self._delete_keys(rest, image_id)
        with self._records_lock:
            self._records.pop(image_id, None)

    def unlist(self, image_id: str) -> None:
        listed = self._keys(index_prefix(self.prefix) + check_image_id(image_id) + ".")
        self._delete_keys(listed, image_id)
        self.note_change(image_id, "deleted")

    def relist(self, record: ImageRecord) -> None:
        self.publish(record)
        if not is_late(record.id):  # (publish says so itself for an older one)
            self.note_change(record.id, "added")

    def _delete_keys(self, keys: list[str], image_id: str) -> None:
        try:
            for key in keys:
                self.client.delete_object(Bucket=self.bucket, Key=self._check_key(key))
        except (ClientError, BotoCoreError) as exc:
            raise map_s3_error(exc, self.bucket, image_id, "DeleteObject") from exc

    def children(self, parent_id: str) -> list[str]:
        """One ``ListObjectsV2`` by the parent's marker prefix (more only past 1,000 children)."""
        folder = children_prefix(self.prefix, check_image_id(parent_id))
        found = (id_from_child_key(self.prefix, parent_id, key) for key in self._keys(folder))
        return sorted(child_id for child_id in found if child_id)

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def url_for(self, key: str) -> str | None:
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self._check_key(key)},
            ExpiresIn=self.url_expiry_s,
        )
