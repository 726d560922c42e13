"""Keys an S3-compatible store can hold: every ``/``-separated part at most 200 bytes (filesystem
stores cap a name at 255), the whole at most 1,024, whatever the prompt; keys of the one-part
form an earlier version wrote are still read, and ``reindex`` writes them again in parts."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from gallery_kit.gallery import Gallery
from gallery_kit.generation import GenerationRequest
from gallery_kit.offline.generator import OfflineGenerator
from gallery_kit.records import (
    MAX_KEY_BYTES,
    MAX_SEGMENT_BYTES,
    ImageRecord,
    index_key,
    new_image_id,
    now_iso,
    segments_fit,
    summary_from_index_key,
)
from gallery_kit.stores.outbox import Outbox
from gallery_kit.stores.s3 import S3Store
from gallery_kit.stores.s3_client import map_s3_error

ENGLISH = ("A lighthouse on a cliff at sunset, waves below, gulls above, " * 20)[:1024]
KOREAN = ("바닷가 절벽 위의 등대와 노을 🌅🐦 " * 60)[:1024]
PROMPTS = pytest.mark.parametrize("prompt", [ENGLISH, KOREAN], ids=["english-1024", "korean-emoji"])


def record(prompt: str) -> ImageRecord:
    return ImageRecord(
        id=new_image_id(),
        prompt=prompt,
        model_id="stability.stable-image-core-v1:1",
        width=64,
        height=64,
        seed=1,
        created_at=now_iso(),
        content_type="image/png",
        byte_size=1,
        original_key="k",
        thumbnail_key="t",
    )


@PROMPTS
@pytest.mark.parametrize("prefix", ["", "team-a/", "a/" + "p" * 200 + "/"])
def test_every_part_of_an_index_key_fits(prompt: str, prefix: str) -> None:
    rec = record(prompt)
    key = index_key(prefix, rec)
    assert len(key.encode("utf-8")) <= MAX_KEY_BYTES
    assert segments_fit(key)
    assert max(len(p.encode("utf-8")) for p in key.split("/")) <= MAX_SEGMENT_BYTES
    summary = summary_from_index_key(prefix, key)
    assert summary is not None
    assert not isinstance(summary, str)
    assert summary.id == rec.id
    assert rec.prompt.startswith(summary.prompt)
    assert summary.shortened == (summary.prompt != rec.prompt)
    assert len(summary.prompt) > 100  # the caption is cut, not dropped


def test_a_short_prompt_keeps_one_part_and_the_whole_caption() -> None:
    rec = record("a cat")
    key = index_key("", rec)
    assert key.count("/") == 2  # gallery-kit/index/<id>.<summary>
    summary = summary_from_index_key("", key)
    assert not isinstance(summary, str)
    assert summary is not None
    assert (summary.prompt, summary.shortened) == ("a cat", False)


def test_the_one_part_form_of_earlier_versions_is_still_read() -> None:
    rec = record(ENGLISH)
    old = index_key("", rec).replace("/", "").replace("gallery-kitindex", "gallery-kit/index/")
    assert not segments_fit(old)
    summary = summary_from_index_key("", old)
    assert not isinstance(summary, str)
    assert summary is not None
    assert rec.prompt.startswith(summary.prompt)


@pytest.fixture
def s3_gallery(bucket: str, tmp_path: object) -> Iterator[Gallery]:
    from pathlib import Path

    store = S3Store(bucket, prefix="team-a/", region="us-east-1")
    try:
        yield Gallery(OfflineGenerator(), store, Outbox(Path(str(tmp_path)) / "outbox"))
    finally:
        store.close()


@pytest.mark.every_s3
@PROMPTS
def test_long_prompts_generate_list_and_show(prompt: str, s3_gallery: Gallery) -> None:
    (made,) = s3_gallery.generate(
        GenerationRequest(
            prompt, width=320, height=320, model_id="stability.stable-image-core-v1:1"
        )
    ).records
    assert s3_gallery.pending() == []  # stored whole, nothing left in the outbox
    (listed,) = s3_gallery.listing().summaries
    assert listed.id == made.id
    assert prompt.strip().startswith(listed.prompt)
    assert s3_gallery.get(made.id).prompt == prompt.strip()  # the metadata has all of it
    s3_gallery.delete(made.id)
    assert s3_gallery.listing().summaries == []


def test_reindex_writes_one_part_keys_again_in_parts(s3_gallery: Gallery, bucket: str) -> None:
    (made,) = s3_gallery.generate(
        GenerationRequest(
            ENGLISH, width=320, height=320, model_id="stability.stable-image-core-v1:1"
        )
    ).records
    raw = boto3.client("s3", region_name="us-east-1")
    prefix = "team-a/gallery-kit/index/"
    (new,) = [o["Key"] for o in raw.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]]
    # What an earlier version wrote (Amazon S3 and moto take a 900-byte part).
    old = prefix + new[len(prefix) :].replace("/", "")
    raw.delete_object(Bucket=bucket, Key=new)
    raw.put_object(Bucket=bucket, Key=old, Body=b"")
    assert [i.id for i in s3_gallery.listing().summaries] == [made.id]  # still read

    report = s3_gallery.reindex()
    assert (report.rewritten, report.added, report.removed) == ([made.id], [], [])
    keys = [o["Key"] for o in raw.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]]
    assert keys == [new]
    assert s3_gallery.reindex().rewritten == []


def test_a_key_the_store_refuses_for_its_name_says_the_limit() -> None:
    error = ClientError(
        {"Error": {"Code": "KeyTooLongError", "Message": "Your key is too long"}}, "PutObject"
    )
    key = "team-a/gallery-kit/index/" + "x" * 300
    message = str(map_s3_error(error, "b", key, "PutObject"))
    assert "\n" not in message
    assert "325 bytes, longest part 300 bytes" in message
    assert "1,024 bytes" in message
    assert "255 bytes a part" in message
    assert "stays in the outbox" in message


def test_a_store_with_a_smaller_name_limit_keeps_the_image_in_the_outbox(
    bucket: str, s3_endpoint: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    from tests.support.faults import FaultyProxy

    with FaultyProxy(s3_endpoint) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
        proxy.max_key_part = 100  # a store stricter than the 200 bytes we keep to
        store = S3Store(bucket, region="us-east-1")
        gallery = Gallery(OfflineGenerator(), store, Outbox(Path(str(tmp_path)) / "outbox"))
        try:
            result = gallery.generate(
                GenerationRequest(
                    ENGLISH, width=320, height=320, model_id="stability.stable-image-core-v1:1"
                )
            )
            (made,) = result.records
            assert result.pending == [made.id]
            (warning,) = [w for w in result.warnings if "kept on this machine" in w]
            assert "refused the key" in warning
            assert "longest part 200 bytes" in warning
            assert "255 bytes a part" in warning
            assert [r.id for r in gallery.pending()] == [made.id]  # nothing lost
            assert gallery.listing().summaries == []
            # A store that takes the names: the outbox sends it and it is listed.
            proxy.max_key_part = None
            assert gallery.sync_outbox().uploaded == [made.id]
            assert [s.id for s in gallery.listing().summaries] == [made.id]
        finally:
            store.close()
