"""What reads the whole gallery rather than a page: ``gallery-kit reindex`` (once, after an
upgrade) and the scan for other tools' images (folder by folder, skipping ours). Mixed into
:class:`~gallery_kit.stores.s3.S3Store`, whose client, prefix and pool they use."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from gallery_kit.progress import Progress, quiet
from gallery_kit.records import (
    META_DIR,
    ROOT,
    ImageRecord,
    id_from_meta_key,
    index_key,
    index_prefix,
    segments_fit,
    summary_from_index_key,
)
from gallery_kit.stores.base import IMAGE_EXTENSIONS, ForeignObject, ReindexReport
from gallery_kit.stores.s3_client import map_s3_error

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class WholeGalleryScans:
    bucket: str
    prefix: str
    _pool: ThreadPoolExecutor

    @property
    def client(self) -> S3Client:
        raise NotImplementedError

    def _put(self, key: str, data: bytes, content_type: str) -> None:
        raise NotImplementedError

    def _delete_keys(self, keys: list[str], image_id: str) -> None:
        raise NotImplementedError

    def _get_or_problem(self, image_id: str) -> ImageRecord | str:
        raise NotImplementedError

    def _keys(self, prefix: str, progress: Progress = quiet, stage: str = "") -> list[str]:
        keys: list[str] = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            ):
                keys.extend(o["Key"] for o in page.get("Contents", []))
                progress(stage, len(keys), None)
        except (ClientError, BotoCoreError) as exc:
            raise map_s3_error(exc, self.bucket, prefix, "ListBucket") from exc
        return keys

    def reindex(self, progress: Progress = quiet) -> ReindexReport:
        """Index every image whose metadata has no index key; drop index keys with no metadata;
        write keys of the one-part form (before 2026-12) again in parts. Lists the whole
        gallery: a command to run once after upgrading, not per page."""
        report = ReindexReport()
        stored = {
            i
            for i in (
                id_from_meta_key(self.prefix, k)
                for k in self._keys(self.prefix + META_DIR, progress, "listing metadata")
            )
            if i
        }
        indexed: dict[str, str] = {}
        for key in self._keys(index_prefix(self.prefix), progress, "listing index keys"):
            summary = summary_from_index_key(self.prefix, key)
            if summary is not None:
                indexed[summary if isinstance(summary, str) else summary.id] = key
        for image_id, key in sorted(indexed.items()):
            if image_id not in stored:
                self._delete_keys([key], image_id)
                report.removed.append(image_id)
        missing = sorted(stored - indexed.keys())
        old_form = sorted(i for i, key in indexed.items() if i in stored and not segments_fit(key))
        todo = missing + old_form
        fetched = zip(todo, self._pool.map(self._get_or_problem, todo), strict=True)
        for done, (image_id, got) in enumerate(fetched, 1):
            progress("indexing", done, len(todo))
            if isinstance(got, str):
                report.problems.append(got)
                continue
            # The new key first, then the old one goes: the image is listed all along (a
            # listing meanwhile sees the id twice and keeps it once).
            self._put(index_key(self.prefix, got), b"", "application/octet-stream")
            if image_id in indexed:
                self._delete_keys([indexed[image_id]], image_id)
                report.rewritten.append(image_id)
            else:
                report.added.append(image_id)
        return report

    def foreign_objects(self) -> list[ForeignObject]:
        """Walk the prefix folder by folder, skipping ours, so the cost follows foreign data."""
        found: list[ForeignObject] = []
        pending = [self.prefix]
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            while pending:
                folder = pending.pop()
                for page in paginator.paginate(Bucket=self.bucket, Prefix=folder, Delimiter="/"):
                    for common in page.get("CommonPrefixes", []):
                        sub = common.get("Prefix", "")
                        if sub != self.prefix + ROOT:
                            pending.append(sub)
                    for obj in page.get("Contents", []):
                        key = obj["Key"]
                        if key.lower().endswith(IMAGE_EXTENSIONS):
                            found.append(ForeignObject(key, obj["Size"], obj["LastModified"]))
        except (ClientError, BotoCoreError) as exc:
            raise map_s3_error(exc, self.bucket, self.prefix, "ListBucket") from exc
        return found
