"""Ids, the key layout and the metadata JSON: pure functions."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest

from gallery_kit.errors import ImageNotFound, InvalidImage
from gallery_kit.records import (
    MAX_KEY_BYTES,
    ImageRecord,
    ImageSummary,
    adopted_image_id,
    check_image_id,
    created_at_of,
    id_from_meta_key,
    index_key,
    index_start_after,
    is_image_id,
    meta_key,
    new_image_id,
    now_iso,
    original_key,
    record_from_json,
    record_to_json,
    summary_from_index_key,
    thumbnail_key,
)

T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


def _record(**changes: object) -> ImageRecord:
    image_id = new_image_id(T0)
    fields: dict[str, object] = {
        "id": image_id,
        "prompt": "a cat",
        "model_id": "amazon.nova-canvas-v1:0",
        "width": 1024,
        "height": 1024,
        "created_at": now_iso(T0),
        "content_type": "image/png",
        "byte_size": 1234,
        "original_key": original_key("", image_id, "image/png"),
        "thumbnail_key": thumbnail_key("", image_id),
    }
    fields.update(changes)
    return ImageRecord(**fields)  # type: ignore[arg-type]  # test data, checked by the dataclass


def test_ids_sort_newest_first() -> None:
    times = [T0 + timedelta(milliseconds=ms) for ms in (0, 1, 999, 60_000, 86_400_000 * 400)]
    ids = [new_image_id(t) for t in times]
    assert sorted(ids) == list(reversed(ids))


def test_ids_sort_newest_first_as_strings_across_digit_boundaries() -> None:
    old = new_image_id(datetime(1999, 1, 1, tzinfo=UTC))
    new = new_image_id(datetime(2099, 1, 1, tzinfo=UTC))
    assert len(old) == len(new)
    assert new < old


def test_id_shape_and_created_at_round_trip() -> None:
    image_id = new_image_id(T0)
    assert is_image_id(image_id)
    assert len(image_id) == 24
    assert created_at_of(image_id) == T0


def test_ids_are_unique_under_concurrency() -> None:
    found: list[list[str]] = []
    start = threading.Barrier(8)

    def make() -> None:
        start.wait()
        found.append([new_image_id() for _ in range(2000)])

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for batch in found for i in batch]
    assert len(every) == 16_000
    assert len(set(every)) == len(every)
    # Same millisecond for many of them: only the random suffix keeps them apart.
    assert len({i[:13] for i in every}) < len(every)


def test_adopted_ids_are_deterministic_per_key_and_time() -> None:
    a = adopted_image_id("photos/cat.png", T0)
    assert a == adopted_image_id("photos/cat.png", T0)
    assert a != adopted_image_id("photos/dog.png", T0)
    assert a[:13] == new_image_id(T0)[:13]
    assert is_image_id(a)


def test_key_layout() -> None:
    image_id = new_image_id(T0)
    assert meta_key("", image_id) == f"gallery-kit/meta/{image_id}.json"
    assert meta_key("team-a/", image_id) == f"team-a/gallery-kit/meta/{image_id}.json"
    assert original_key("p/", image_id, "image/png") == f"p/gallery-kit/images/{image_id}.png"
    assert original_key("", image_id, "image/jpeg") == f"gallery-kit/images/{image_id}.jpg"
    assert original_key("", image_id, "image/webp").endswith(".webp")
    assert thumbnail_key("p/", image_id) == f"p/gallery-kit/thumbs/{image_id}.webp"


def test_metadata_keys_of_many_images_list_newest_first() -> None:
    # S3 lists keys in ascending order: the first key must be the newest image.
    ids = [new_image_id(T0 + timedelta(seconds=s)) for s in range(50)]
    keys = sorted(meta_key("p/", i) for i in ids)
    assert id_from_meta_key("p/", keys[0]) == ids[-1]


@pytest.mark.parametrize(
    "key",
    [
        "p/gallery-kit/meta/readme.txt",
        "p/gallery-kit/meta/not-an-id.json",
        "p/gallery-kit/images/8000000000000-0123456789.json",
        "q/gallery-kit/meta/8000000000000-0123456789.json",
        "p/gallery-kit/meta/../8000000000000-0123456789.json",
    ],
)
def test_id_from_meta_key_rejects_anything_else(key: str) -> None:
    assert id_from_meta_key("p/", key) is None


def test_id_from_meta_key_accepts_ours() -> None:
    image_id = new_image_id(T0)
    assert id_from_meta_key("p/", meta_key("p/", image_id)) == image_id


@pytest.mark.parametrize("bad", ["", "../../etc/passwd", "8000000000000-XYZ", "1-2", "a" * 24])
def test_check_image_id_refuses_malformed_ids(bad: str) -> None:
    with pytest.raises(ImageNotFound) as caught:
        check_image_id(bad)
    assert "gallery-kit list" in str(caught.value)


@pytest.mark.parametrize(
    "prompt",
    [
        "서울의 밤거리, 네온 사인 아래 비 내리는 골목",
        'a cat 🐈‍⬛ on a 🚀, with "quotes" and \\backslashes\\',
        "multi\nline\ttext · ünïcödé",
    ],
)
def test_metadata_round_trips_unicode_exactly(prompt: str) -> None:
    record = _record(
        prompt=prompt,
        negative_prompt="흐림 😶‍🌫️",
        style="PHOTOREALISM",
        quality="premium",
        cfg_scale=7.5,
        seed=2_147_483_646,
        batch_index=1,
        batch_size=3,
        extra={"note": "메모"},
    )
    data = record_to_json(record)
    # Stored readable (UTF-8), not as backslash-u escapes.
    assert json.dumps(prompt, ensure_ascii=False).encode("utf-8") in data
    back = record_from_json(data, where="s3://b/k.json")
    assert back == record
    assert back.prompt == prompt


def test_metadata_holds_every_setting() -> None:
    record = _record(
        negative_prompt="fog", style="MAXIMALISM", quality="premium", cfg_scale=9.0, seed=5
    )
    raw = json.loads(record_to_json(record))
    for name in (
        "id",
        "prompt",
        "negative_prompt",
        "style",
        "width",
        "height",
        "quality",
        "cfg_scale",
        "seed",
        "model_id",
        "created_at",
        "content_type",
        "byte_size",
        "original_key",
        "thumbnail_key",
    ):
        assert raw[name] == asdict(record)[name]
    assert raw["created_at"].endswith("Z")
    assert record.settings()["seed"] == 5


def test_unknown_fields_from_newer_writers_are_ignored() -> None:
    record = _record()
    raw = json.loads(record_to_json(record))
    raw["future_field"] = [1, 2]
    assert record_from_json(json.dumps(raw).encode(), where="k") == record


KEY = "s3://bucket/team/gallery-kit/meta/8000000000000-0123456789.json"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"not json at all", ["not valid JSON"]),
        (b"\xff\xfe\x00garbage", ["not valid JSON"]),
        (b"[1, 2, 3]", ["not a JSON object"]),
        (b'{"id": "8000000000000-0123456789", "prompt": "x"}', ["lacks", "model_id"]),
    ],
    ids=["text", "binary", "array", "missing-fields"],
)
def test_malformed_metadata_is_invalid_image_naming_the_key(data: bytes, words: list[str]) -> None:
    with pytest.raises(InvalidImage) as caught:
        record_from_json(data, where=KEY)
    assert KEY in str(caught.value)
    for word in words:
        assert word in str(caught.value)


def test_metadata_with_a_bad_id_is_invalid_image_naming_the_key() -> None:
    raw = json.loads(record_to_json(_record()))
    raw["id"] = "../../escape"
    with pytest.raises(InvalidImage) as caught:
        record_from_json(json.dumps(raw).encode(), where=KEY)
    assert KEY in str(caught.value)
    assert "../../escape" in str(caught.value)


# --- the index: a page's summaries in one LIST -------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "team-a/"])
@pytest.mark.parametrize(
    "prompt", ["a cat", '서울 야경 🌃 <b>&amp;</b> "quoted" / slash', "line\nbreak\ttab"]
)
def test_index_key_carries_the_summary_exactly(prefix: str, prompt: str) -> None:
    record = _record(prompt=prompt, operation="inpaint", source="adopted", model_id="x.y-v1:0")
    key = index_key(prefix, record)
    assert key.startswith(f"{prefix}gallery-kit/index/{record.id}.")
    assert summary_from_index_key(prefix, key) == ImageSummary(
        record.id, prompt, "x.y-v1:0", "inpaint", "adopted", shortened=False
    )
    assert ImageSummary.of(record) == summary_from_index_key(prefix, key)


@pytest.mark.parametrize("char", ["a", "é", "한", "🌃"])
def test_a_long_prompt_is_shortened_to_the_longest_that_fits_a_key(char: str) -> None:
    prefix = "a-rather-long/team/prefix/" * 4
    record = _record(prompt=char * 1024)
    key = index_key(prefix, record)
    assert len(key.encode("utf-8")) <= MAX_KEY_BYTES
    summary = summary_from_index_key(prefix, key)
    assert isinstance(summary, ImageSummary)
    assert summary.shortened
    assert record.prompt.startswith(summary.prompt)
    # The longest that fits: one more character (at most 4 UTF-8 bytes, 6 in base64) would not.
    assert len(key.encode("utf-8")) > MAX_KEY_BYTES - 6


@pytest.mark.parametrize(
    "tail", ["%%%", "", "bm90IGpzb24", "WzEsMl0", "eyJwIjoxfQ", "eyJwIjoiYSIsIm0iOjF9"]
)
def test_an_unreadable_summary_gives_the_bare_id(tail: str) -> None:
    # Not base64 / not JSON / a list / prompt not a string / model id not a string.
    image_id = new_image_id(T0)
    assert summary_from_index_key("p/", f"p/gallery-kit/index/{image_id}.{tail}") == image_id


@pytest.mark.parametrize(
    "key",
    [
        "p/gallery-kit/meta/8000000000000-0123456789.json",
        "p/gallery-kit/index/not-an-id.eyJwIjoiYSJ9",
        "q/gallery-kit/index/8000000000000-0123456789.eyJwIjoiYSJ9",
        "p/gallery-kit/index/../8000000000000-0123456789.eyJwIjoiYSJ9",
    ],
)
def test_summary_from_index_key_ignores_other_keys(key: str) -> None:
    assert summary_from_index_key("p/", key) is None


def test_index_keys_list_newest_first_and_the_cursor_skips_exactly_one_image() -> None:
    records = [
        _record(id=new_image_id(T0 + timedelta(seconds=s)), prompt="~" * s) for s in range(30)
    ]
    keys = sorted(index_key("p/", r) for r in records)
    ids = [r.id for r in reversed(records)]
    assert [k.split("/")[-1][:24] for k in keys] == ids
    for position, image_id in enumerate(ids):
        after = index_start_after("p/", image_id)
        assert [k for k in keys if k > after] == keys[position + 1 :]
