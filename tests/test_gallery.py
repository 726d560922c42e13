"""The gallery service end to end: offline, and AWS mode over real HTTP (moto S3 + local Bedrock).

Nothing in gallery_kit is mocked: boto3 reaches moto and ``tests/support/bedrock/`` through
``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``.
"""

from __future__ import annotations

import io
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from PIL import Image

from gallery_kit.bedrock.families import GenerationRequest
from gallery_kit.bedrock.runtime import READ_TIMEOUT_S, BedrockGenerator, bedrock_client
from gallery_kit.errors import (
    AccessDenied,
    ContentFiltered,
    GalleryError,
    ImageNotFound,
    InvalidRequest,
    ModelFailed,
    ModelTimeout,
    ModelUnavailable,
    ServiceUnreachable,
    Throttled,
)
from gallery_kit.gallery import Gallery
from gallery_kit.imaging import MAX_SOURCE_BYTES
from gallery_kit.offline.generator import paint
from gallery_kit.settings import load_settings
from gallery_kit.stores.local import LocalStore
from gallery_kit.stores.outbox import Outbox
from gallery_kit.stores.s3 import S3Store
from tests.support.bedrock import BedrockEndpoint, Reply

# Nova Canvas's request family and limits, on an account that can still call it (see conftest).
pytestmark = pytest.mark.usefixtures("nova_canvas")

NOVA = "amazon.nova-canvas-v1:0"
CORE = "stability.stable-image-core-v1:1"
FIX_MODEL = f"BEDROCK_MODEL_ID={CORE}"
#: Each model is called in its own region (BEDROCK_REGION unset): the hint names the flag.
FIX_FLAG = f"--model {CORE}"
SELF_REGION = "Model access in us-west-2"


def s3() -> Any:
    return boto3.client("s3", region_name="us-east-1")


def s3_bytes(bucket: str, key: str) -> bytes:
    return bytes(s3().get_object(Bucket=bucket, Key=key)["Body"].read())


def png(size: tuple[int, int] = (600, 400)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 160, 90)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def offline_gallery() -> Gallery:
    return Gallery.from_settings(load_settings())


@pytest.fixture
def aws(
    bucket: str, bedrock: BedrockEndpoint, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Gallery]:
    """AWS mode exactly as a user configures it, with a gallery prefix."""
    monkeypatch.setenv("GALLERY_PREFIX", "team-a")
    gallery = Gallery.from_settings(load_settings())
    assert not gallery.offline
    try:
        yield gallery
    finally:
        gallery.store.close()  # type: ignore[attr-defined]  # S3Store in AWS mode


@pytest.fixture
def fast_retry(
    bucket: str, bedrock: BedrockEndpoint, tmp_path: Path
) -> Iterator[tuple[Gallery, list[float]]]:
    """AWS mode with an injected sleep, so throttling retries take no time."""
    sleeps: list[float] = []
    store = S3Store(bucket, region="us-east-1")
    generator = BedrockGenerator(throttle_retries=3, backoff_s=0.5, sleep=sleeps.append)
    try:
        yield Gallery(generator, store, Outbox(tmp_path / "outbox")), sleeps
    finally:
        store.close()


# --- offline mode -----------------------------------------------------------------------------


def test_offline_generate_store_list_delete(offline_gallery: Gallery, hermetic_env: Path) -> None:
    gallery = offline_gallery
    assert gallery.offline
    assert isinstance(gallery.store, LocalStore)
    assert Path(gallery.store.location).is_relative_to(hermetic_env.resolve())

    result = gallery.generate(
        GenerationRequest(prompt="서울의 밤 🌙", count=2, width=512, height=320, seed=5)
    )
    assert result.pending == []
    assert result.warnings == []
    first, second = result.records
    assert (first.model_id, first.seed, first.batch_index) == ("offline", 5, 0)
    assert (second.seed, second.batch_index, second.batch_size) == (6, 1, 2)
    assert (first.width, first.height) == (512, 320)
    assert gallery.read_original(first) == paint("서울의 밤 🌙", 5, 512, 320)
    thumb = Image.open(io.BytesIO(gallery.read_thumbnail(first)))
    assert thumb.format == "WEBP"
    assert thumb.size == (256, 160)

    later = gallery.generate(GenerationRequest(prompt="later", width=320, height=320))
    page = gallery.page()
    assert [r.id for r in page.records] == [later.records[0].id, first.id, second.id]
    assert gallery.get(first.id).prompt == "서울의 밤 🌙"

    gallery.delete(first.id)
    assert [r.id for r in gallery.page().records] == [later.records[0].id, second.id]
    with pytest.raises(ImageNotFound):
        gallery.get(first.id)
    with pytest.raises(ImageNotFound):
        gallery.delete(first.id)


def test_offline_random_seed_is_recorded_and_reproduces(offline_gallery: Gallery) -> None:
    (record,) = offline_gallery.generate(
        GenerationRequest(prompt="a fox", width=320, height=320)
    ).records
    assert record.seed is not None
    assert 0 <= record.seed <= 858_993_459
    settings = record.settings()
    assert settings["model_id"] == "offline"  # never mistaken for AI output
    # As the panel re-uses settings: an id that is not a model falls back to the default.
    again = GenerationRequest(**{k: v for k, v in settings.items() if k != "model_id"})
    (copy,) = offline_gallery.generate(again).records
    assert offline_gallery.read_original(copy) == offline_gallery.read_original(record)


def test_invalid_request_is_refused_before_the_generator_runs(offline_gallery: Gallery) -> None:
    with pytest.raises(InvalidRequest):
        offline_gallery.generate(GenerationRequest(prompt="a", width=100))
    assert offline_gallery.page().records == []
    assert offline_gallery.outbox.ids() == []


# --- AWS mode: the normal path ----------------------------------------------------------------


def test_nova_images_are_stored_byte_identical_with_every_setting(
    aws: Gallery, bucket: str, bedrock: BedrockEndpoint
) -> None:
    request = GenerationRequest(
        prompt="등대 at dusk 🌅",
        negative_prompt="fog",
        style="maximalism",
        width=1280,
        height=720,
        quality="premium",
        count=2,
        cfg_scale=7.5,
        seed=1234,
    )
    result = aws.generate(request)
    assert result.pending == []
    assert result.warnings == []
    assert bedrock.violations == []
    (sent,) = bedrock.requests
    assert sent.model_id == NOVA
    assert sent.region == "us-east-1"  # Nova Canvas's own region
    body = sent.body
    assert body["imageGenerationConfig"]["numberOfImages"] == 2

    assert len(result.records) == 2
    for record in result.records:
        assert record.original_key.startswith("team-a/gallery-kit/images/")
        assert record.thumbnail_key.startswith("team-a/gallery-kit/thumbs/")
        # The model's bytes, unchanged (Nova embeds C2PA credentials there).
        original = s3_bytes(bucket, record.original_key)
        assert original == bedrock.sent_images[record.batch_index]
        assert aws.read_original(record) == original
        meta = json.loads(s3_bytes(bucket, f"team-a/gallery-kit/meta/{record.id}.json"))
        assert meta["prompt"] == body["textToImageParams"]["text"] == "등대 at dusk 🌅"
        assert meta["negative_prompt"] == body["textToImageParams"]["negativeText"] == "fog"
        assert meta["style"] == body["textToImageParams"]["style"] == "MAXIMALISM"
        config = body["imageGenerationConfig"]
        assert (meta["width"], meta["height"]) == (config["width"], config["height"])
        assert meta["quality"] == config["quality"] == "premium"
        assert meta["cfg_scale"] == config["cfgScale"] == 7.5
        assert meta["seed"] == config["seed"] == 1234
        assert meta["model_id"] == NOVA
        assert meta["content_type"] == "image/png"
        assert meta["byte_size"] == len(original)
        assert meta["created_at"].endswith("Z")
        assert meta["original_key"] == record.original_key
    assert [r.id for r in aws.page().records] == [r.id for r in result.records]
    assert aws.outbox.ids() == []


def test_random_seed_is_the_one_sent(aws: Gallery, bedrock: BedrockEndpoint) -> None:
    (record,) = aws.generate(GenerationRequest(prompt="a cat", width=512, height=512)).records
    (sent,) = bedrock.requests
    assert record.seed == sent.body["imageGenerationConfig"]["seed"]
    assert aws.get(record.id).seed == record.seed
    assert bedrock.violations == []


def test_stability_count_3_is_three_concurrent_calls(
    aws: Gallery, bucket: str, bedrock: BedrockEndpoint
) -> None:
    bedrock.small_images = True
    bedrock.script(Reply.delay(0.6), Reply.delay(0.6), Reply.delay(0.6))
    started = time.perf_counter()
    result = aws.generate(
        GenerationRequest(
            prompt="a red fox", model_id=CORE, count=3, width=1344, height=768, seed=500
        )
    )
    elapsed = time.perf_counter() - started
    assert elapsed < 1.5  # one after another would take at least 1.8 s
    assert bedrock.violations == []
    assert len(bedrock.requests) == 3
    assert {r.region for r in bedrock.requests} == {"us-west-2"}
    assert sorted(r.body["seed"] for r in bedrock.requests) == [500, 501, 502]
    assert {r.body["aspect_ratio"] for r in bedrock.requests} == {"16:9"}
    assert len(result.records) == 3
    assert sorted(r.seed or 0 for r in result.records) == [500, 501, 502]
    stored = {s3_bytes(bucket, r.original_key) for r in result.records}
    assert stored == set(bedrock.sent_images)
    assert {r.model_id for r in result.records} == {CORE}


def test_stability_seed_0_records_the_seed_the_model_chose(
    aws: Gallery, bedrock: BedrockEndpoint
) -> None:
    bedrock.small_images = True
    (record,) = aws.generate(GenerationRequest(prompt="a fox", model_id=CORE, seed=0)).records
    assert bedrock.requests[0].body["seed"] == 0
    assert record.seed not in (None, 0)
    assert aws.get(record.id).seed == record.seed


def test_some_images_filtered_is_a_warning_beside_the_rest(
    aws: Gallery, bedrock: BedrockEndpoint
) -> None:
    bedrock.script(Reply.filtered_some())
    result = aws.generate(GenerationRequest(prompt="a cat", count=3, width=512, height=512))
    assert len(result.records) == 2
    (warning,) = result.warnings
    assert "1 of 3" in warning
    assert "Some of the generated images have been blocked" in warning
    assert len(aws.page().records) == 2


def test_invalid_request_sends_nothing(aws: Gallery, bedrock: BedrockEndpoint) -> None:
    for bad in (
        GenerationRequest(prompt="   "),
        GenerationRequest(prompt="a", count=6),
        GenerationRequest(prompt="a", width=4096, height=4096),
    ):
        with pytest.raises(InvalidRequest):
            aws.generate(bad)
    assert bedrock.requests == []


# --- AWS mode: every error, mapped with a message naming the fix ------------------------------

ERRORS = [
    pytest.param(
        NOVA,
        Reply.access_denied(),
        AccessDenied,
        ["bedrock:InvokeModel", "Model access", "us-east-1"],
        id="access-denied",
    ),
    pytest.param(
        NOVA,
        Reply.marketplace_denied(),
        AccessDenied,
        ["aws-marketplace:Subscribe", FIX_MODEL, FIX_FLAG],
        id="marketplace",
    ),
    pytest.param(
        CORE,
        Reply.marketplace_denied(),
        AccessDenied,
        ["aws-marketplace:Subscribe", CORE, SELF_REGION],
        id="marketplace-core",
    ),
    pytest.param(
        NOVA,
        Reply.end_of_life(),
        ModelUnavailable,
        ["end of its life", FIX_MODEL, FIX_FLAG],
        id="end-of-life",
    ),
    pytest.param(
        NOVA, Reply.legacy(), ModelUnavailable, ["Legacy", FIX_MODEL, FIX_FLAG], id="legacy"
    ),
    pytest.param(
        NOVA,
        Reply.invalid_model_id(),
        ModelUnavailable,
        ["BEDROCK_REGION=us-east-1", FIX_MODEL, FIX_FLAG],
        id="invalid-model-id",
    ),
    pytest.param(
        CORE, Reply.end_of_life(), ModelUnavailable, [CORE, SELF_REGION], id="end-of-life-core"
    ),
    pytest.param(
        NOVA, Reply.model_timeout(), ModelTimeout, ["timed out", "smaller"], id="model-timeout"
    ),
    pytest.param(NOVA, Reply.model_error(), ModelFailed, ["try again"], id="model-error"),
    pytest.param(NOVA, Reply.unavailable(), ModelFailed, ["try again"], id="unavailable"),
    pytest.param(
        NOVA,
        Reply.filtered_all(),
        ContentFiltered,
        ["blocked by our content filters", "Rephrase"],
        id="filtered-all",
    ),
    pytest.param(
        NOVA,
        Reply.filtered_output(),
        ContentFiltered,
        ["All of the generated images have been blocked", "Rephrase"],
        id="filtered-output",
    ),
    pytest.param(
        CORE,
        Reply.filtered_all(),
        ContentFiltered,
        ["Filter reason: prompt", "Rephrase"],
        id="filtered-core",
    ),
    pytest.param(NOVA, Reply.garbage(), ModelFailed, ["not JSON"], id="garbage"),
    pytest.param(NOVA, Reply.bad_base64(), ModelFailed, ["base64"], id="bad-base64"),
    pytest.param(CORE, Reply.bad_base64(), ModelFailed, ["base64"], id="bad-base64-core"),
    pytest.param(NOVA, Reply.no_images(), ModelFailed, ["images"], id="no-images"),
    pytest.param(CORE, Reply.no_images(), ModelFailed, ["images"], id="no-images-core"),
]


@pytest.mark.parametrize(("model_id", "reply", "error", "words"), ERRORS)
def test_each_bedrock_answer_maps_to_our_error(
    fast_retry: tuple[Gallery, list[float]],
    bedrock: BedrockEndpoint,
    model_id: str,
    reply: Reply,
    error: type[GalleryError],
    words: list[str],
) -> None:
    gallery, sleeps = fast_retry
    bedrock.small_images = True
    bedrock.always(reply)
    with pytest.raises(error) as caught:
        gallery.generate(
            GenerationRequest(prompt="a cat", model_id=model_id, width=512, height=512)
        )
    assert type(caught.value) is error
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message, (word, message)
    assert len(bedrock.requests) == 1  # none of these is retried
    assert sleeps == []
    assert bedrock.violations == []
    assert gallery.page().records == []
    assert gallery.outbox.ids() == []


@pytest.mark.parametrize(
    "reply", [Reply.throttled(), Reply.quota_exceeded()], ids=["throttling", "quota"]
)
def test_throttling_is_retried_a_bounded_number_of_times_then_reported(
    fast_retry: tuple[Gallery, list[float]], bedrock: BedrockEndpoint, reply: Reply
) -> None:
    gallery, sleeps = fast_retry
    bedrock.always(reply)
    with pytest.raises(Throttled) as caught:
        gallery.generate(GenerationRequest(prompt="a cat", width=512, height=512))
    assert len(bedrock.requests) == 4  # the first try and three retries
    assert len(sleeps) == 3
    assert sleeps[0] < sleeps[1] < sleeps[2]  # backing off
    assert "Service Quotas" in str(caught.value)
    assert gallery.page().records == []


def test_throttling_that_clears_succeeds(
    fast_retry: tuple[Gallery, list[float]], bedrock: BedrockEndpoint
) -> None:
    gallery, sleeps = fast_retry
    bedrock.script(Reply.throttled(), Reply.throttled())
    result = gallery.generate(GenerationRequest(prompt="a cat", width=512, height=512, seed=9))
    assert len(result.records) == 1
    assert len(bedrock.requests) == 3
    assert len(sleeps) == 2
    # Every retry is the same request: same seed, nothing changed.
    assert len({json.dumps(r.body, sort_keys=True) for r in bedrock.requests}) == 1


def _local_bedrock_gallery(tmp_path: Path) -> Gallery:
    return Gallery(
        BedrockGenerator(sleep=lambda _s: None),
        LocalStore(tmp_path / "store"),
        Outbox(tmp_path / "outbox"),
    )


def test_missing_credentials_say_how_to_log_in(
    bedrock: BedrockEndpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    # boto3's default session caches the credentials an earlier test found: start afresh.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with pytest.raises(ServiceUnreachable) as caught:
        _local_bedrock_gallery(tmp_path).generate(GenerationRequest(prompt="a cat", model_id=NOVA))
    assert "aws sso login" in str(caught.value)
    assert bedrock.requests == []


def test_unreachable_bedrock_names_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", f"http://127.0.0.1:{port}")
    with pytest.raises(ServiceUnreachable) as caught:
        _local_bedrock_gallery(tmp_path).generate(GenerationRequest(prompt="a cat", model_id=NOVA))
    message = str(caught.value)
    assert "us-east-1" in message
    assert "AWS_ENDPOINT_URL_BEDROCK_RUNTIME" in message


def test_default_client_waits_long_and_never_retries_by_itself() -> None:
    client = bedrock_client("us-east-1")
    assert READ_TIMEOUT_S >= 300
    config: Any = client.meta.config  # botocore's Config has no type information
    assert config.read_timeout >= 300
    assert config.retries["total_max_attempts"] == 1


def test_a_read_timeout_is_not_sent_again(
    bucket: str, bedrock: BedrockEndpoint, tmp_path: Path
) -> None:
    # gallery_kit's own client settings, with only the read timeout shortened to 1 s.
    config = bedrock_client("us-east-1").meta.config.merge(Config(read_timeout=1))
    client = boto3.client("bedrock-runtime", config=config)
    store = S3Store(bucket)
    gallery = Gallery(
        BedrockGenerator(client=client, sleep=lambda _s: None), store, Outbox(tmp_path / "outbox")
    )
    bedrock.always(Reply.delay(3))
    try:
        with pytest.raises(ModelTimeout) as caught:
            gallery.generate(GenerationRequest(prompt="a slow one", width=512, height=512))
    finally:
        store.close()
    assert len(bedrock.requests) == 1
    assert "NOT sent again" in str(caught.value)


def test_a_connection_closed_before_any_answer_is_sent_once_more(
    bedrock: BedrockEndpoint, tmp_path: Path
) -> None:
    # A keep-alive connection the far end timed out as it was reused: nothing ran, so one re-send.
    bedrock.script(Reply.hang_up())
    result = _local_bedrock_gallery(tmp_path).generate(GenerationRequest(prompt="a cat"))
    assert len(result.records) == 1
    assert len(bedrock.requests) == 2
    assert len(bedrock.sent_images) == 1


def test_a_connection_closed_twice_is_reported_not_sent_a_third_time(
    bedrock: BedrockEndpoint, tmp_path: Path
) -> None:
    bedrock.always(Reply.hang_up())
    with pytest.raises(ServiceUnreachable, match="closed the connection twice") as caught:
        _local_bedrock_gallery(tmp_path).generate(GenerationRequest(prompt="a cat"))
    assert "nothing was stored" in str(caught.value)
    assert len(bedrock.requests) == 2
    assert bedrock.sent_images == []


# --- AWS mode: S3 failing after the model answered --------------------------------------------


def test_images_survive_an_s3_failure_and_upload_later(
    aws: Gallery, bucket: str, bedrock: BedrockEndpoint
) -> None:
    s3().delete_bucket(Bucket=bucket)  # the model still answers; the upload cannot
    result = aws.generate(GenerationRequest(prompt="paid for", count=2, width=512, height=512))
    ids = [r.id for r in result.records]
    assert sorted(result.pending) == sorted(ids)
    assert any(bucket in w and "S3_BUCKET_NAME" in w for w in result.warnings)

    # Listed as pending, readable, and where they wait on disk.
    assert sorted(r.id for r in aws.pending()) == sorted(ids)
    for record in result.records:
        assert aws.is_pending(record.id)
        assert aws.get(record.id) == record
        assert aws.read_original(record) == bedrock.sent_images[record.batch_index]
        assert Path(aws.uri(record)).read_bytes() == bedrock.sent_images[record.batch_index]

    # Still down: sync keeps them.
    report = aws.sync_outbox()
    assert report.uploaded == []
    assert len(report.failed) == 2
    assert sorted(aws.outbox.ids()) == sorted(ids)

    s3().create_bucket(Bucket=bucket)
    report = aws.sync_outbox()
    assert sorted(report.uploaded) == sorted(ids)
    assert report.failed == []
    assert aws.pending() == []
    for record in result.records:
        assert not aws.is_pending(record.id)
        assert s3_bytes(bucket, record.original_key) == bedrock.sent_images[record.batch_index]
        assert aws.uri(record).startswith(f"s3://{bucket}/team-a/")
    assert sorted(r.id for r in aws.page().records) == sorted(ids)


def test_the_next_generation_also_sends_what_was_waiting(
    aws: Gallery, bucket: str, bedrock: BedrockEndpoint
) -> None:
    s3().delete_bucket(Bucket=bucket)
    waiting = aws.generate(GenerationRequest(prompt="first", width=512, height=512)).records[0]
    s3().create_bucket(Bucket=bucket)
    later = aws.generate(GenerationRequest(prompt="second", width=512, height=512))
    assert later.pending == []
    assert aws.pending() == []
    assert [r.id for r in aws.page().records] == [later.records[0].id, waiting.id]


def test_deleting_a_pending_image_removes_it_from_the_outbox(
    aws: Gallery, bucket: str, bedrock: BedrockEndpoint
) -> None:
    s3().delete_bucket(Bucket=bucket)
    (record,) = aws.generate(GenerationRequest(prompt="oops", width=512, height=512)).records
    s3().create_bucket(Bucket=bucket)
    aws.delete(record.id)
    assert aws.pending() == []
    with pytest.raises(ImageNotFound):
        aws.get(record.id)


# --- foreign images ---------------------------------------------------------------------------


def test_foreign_images_are_adopted_once_and_bad_ones_skipped(
    aws: Gallery, bucket: str, bedrock: BedrockEndpoint
) -> None:
    client = s3()
    photo = png((600, 400))
    client.put_object(Bucket=bucket, Key="team-a/streamlit/cat.png", Body=photo)
    client.put_object(Bucket=bucket, Key="team-a/readme.png", Body=b"I am not an image")
    client.put_object(Bucket=bucket, Key="team-a/cut.png", Body=photo[: len(photo) // 3])
    client.put_object(Bucket=bucket, Key="elsewhere/dog.png", Body=photo)

    report = aws.adopt_foreign()
    assert len(report.adopted) == 1
    assert len(report.skipped) == 2
    assert any("team-a/readme.png" in s and "not a PNG" in s for s in report.skipped)
    assert any("team-a/cut.png" in s for s in report.skipped)

    (record,) = aws.page().records
    assert record.id == report.adopted[0]
    assert record.source == "adopted"
    assert record.original_key == "team-a/streamlit/cat.png"
    assert (record.width, record.height) == (600, 400)
    assert record.model_id == "unknown"
    assert record.thumbnail_key.startswith("team-a/gallery-kit/thumbs/")
    thumb = Image.open(io.BytesIO(aws.read_thumbnail(record)))
    assert thumb.format == "WEBP"
    assert thumb.size == (256, 171)
    assert aws.read_original(record) == photo
    assert s3_bytes(bucket, "team-a/streamlit/cat.png") == photo  # left untouched

    again = aws.adopt_foreign()
    assert again.adopted == []
    assert again.skipped == []
    # Another process (a fresh gallery) agrees on the id and adopts nothing either.
    other = Gallery.from_settings(load_settings())
    try:
        assert other.adopt_foreign().adopted == []
    finally:
        other.store.close()  # type: ignore[attr-defined]  # S3Store
    assert len(aws.page().records) == 1
    assert bedrock.requests == []


def test_oversized_foreign_objects_are_skipped_without_reading(
    offline_gallery: Gallery,
) -> None:
    root = Path(offline_gallery.store.location)
    huge = root / "huge.png"
    with huge.open("wb") as f:  # sparse: claims > 50 MiB, costs nothing
        f.truncate(MAX_SOURCE_BYTES + 1)
    (root / "ok.jpg").write_bytes(png((320, 320)))
    report = offline_gallery.adopt_foreign()
    assert len(report.adopted) == 1
    (skipped,) = report.skipped
    assert "huge.png" in skipped
    assert "50 MiB" in skipped
    assert [r.original_key for r in offline_gallery.page().records] == ["ok.jpg"]
