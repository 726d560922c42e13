"""Iterating on an image end to end: offline, and AWS mode over real HTTP (moto S3 + the local
Bedrock endpoint, which checks every body against AWS's documented schema).

Nothing in gallery_kit is mocked. Lineage: each result records parent_id and operation, a marker
``gallery-kit/children/<parent>/<child>`` finds children with one LIST, delete tidies markers.
"""

from __future__ import annotations

import base64
import io
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from PIL import Image

from gallery_kit.bedrock.families import GenerationRequest
from gallery_kit.bedrock.runtime import BedrockGenerator
from gallery_kit.edits import EditRequest, plan_edit, prepare_job
from gallery_kit.errors import (
    AccessDenied,
    ContentFiltered,
    ImageNotFound,
    InvalidRequest,
    StorageError,
)
from gallery_kit.gallery import Gallery
from gallery_kit.offline.edits import run as offline_run
from gallery_kit.offline.generator import OfflineGenerator
from gallery_kit.records import ImageRecord
from gallery_kit.settings import load_settings
from gallery_kit.stores.local import LocalStore
from gallery_kit.stores.outbox import Outbox
from gallery_kit.stores.s3 import S3Store
from tests.support.bedrock import BedrockEndpoint, Reply

# Nova Canvas's request family and limits, on an account that can still call it (see conftest).
pytestmark = pytest.mark.usefixtures("nova_canvas")

NOVA = "amazon.nova-canvas-v1:0"
CORE = "stability.stable-image-core-v1:1"
ULTRA = "stability.stable-image-ultra-v1:1"
SD35 = "stability.sd3-5-large-v1:0"
REMOVE_BG = "us.stability.stable-image-remove-background-v1:0"
SEARCH_REPLACE = "us.stability.stable-image-search-replace-v1:0"
OUTPAINT = "us.stability.stable-outpaint-v1:0"
FAST_UPSCALE = "us.stability.stable-fast-upscale-v1:0"


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def alpha_range(data: bytes) -> tuple[int, int]:
    low, high = opened(data).convert("RGBA").getchannel("A").getextrema()  # type: ignore[misc]
    return int(low), int(high)


def s3_keys(bucket: str, prefix: str) -> list[str]:
    listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(
        Bucket=bucket, Prefix=prefix
    )
    return [o["Key"] for o in listed.get("Contents", [])]


def s3_bytes(bucket: str, key: str) -> bytes:
    obj = boto3.client("s3", region_name="us-east-1").get_object(Bucket=bucket, Key=key)
    return bytes(obj["Body"].read())


# --- offline ----------------------------------------------------------------------------------


@pytest.fixture
def offline() -> Gallery:
    gallery = Gallery.from_settings(load_settings())
    assert gallery.offline
    return gallery


def _parent(gallery: Gallery, width: int = 512, height: int = 384) -> ImageRecord:
    made = gallery.generate(GenerationRequest("a lighthouse", width=width, height=height, seed=3))
    return made.records[0]


OFFLINE_EDITS: list[tuple[str, dict[str, Any]]] = [
    ("vary", {"similarity": 0.5, "seed": 11}),
    ("remove-background", {}),
    ("edit", {"prompt": "a red moon", "mask_prompt": "the sky", "seed": 12}),
    ("extend", {"width": 1024, "height": 384, "seed": 13}),
    ("upscale", {}),
]


def test_offline_each_operation_makes_a_child(offline: Gallery) -> None:
    gallery = offline
    parent = _parent(gallery)
    source = gallery.read_original(parent)
    children: list[ImageRecord] = []
    for operation, fields in OFFLINE_EDITS:
        result = gallery.apply(EditRequest(operation, parent.id, **fields))
        assert result.pending == []
        assert result.warnings == []
        (child,) = result.records
        assert (child.parent_id, child.operation, child.model_id) == (
            parent.id,
            operation,
            "offline",
        )
        assert child.seed == fields.get("seed")
        # The stored original is exactly what the stand-in makes for this job (deterministic).
        plan = plan_edit(EditRequest(operation, parent.id, **fields), NOVA, offline=True)
        expected = offline_run(prepare_job(plan, parent, source)).images[0].data
        assert gallery.read_original(child) == expected
        assert (child.width, child.height) == opened(expected).size
        assert child.byte_size == len(expected)
        children.append(child)
    vary, removed, edited, extended, upscaled = children
    assert alpha_range(gallery.read_original(removed)) == (0, 255)  # transparent background
    assert opened(gallery.read_original(removed)).mode == "RGBA"
    thumb = opened(gallery.read_thumbnail(removed))
    assert (thumb.format, thumb.mode) == ("WEBP", "RGBA")  # the grid shows the checkerboard
    assert (extended.width, extended.height) == (1024, 384)
    assert (upscaled.width, upscaled.height) == (2048, 1536)
    assert edited.prompt == "a red moon"
    assert edited.extra == {"mask_prompt": "the sky"}
    assert vary.extra == {"similarity": 0.5}
    assert vary.prompt == parent.prompt
    assert gallery.read_original(parent) == source  # the parent is untouched

    # Lineage, both ways; children newest first.
    assert [c.id for c in gallery.children(parent.id)] == [c.id for c in reversed(children)]
    assert gallery.parent(vary) == gallery.get(parent.id)
    assert gallery.parent(parent) is None
    assert gallery.children(vary.id) == []
    # A grandchild.
    (grandchild,) = gallery.apply(EditRequest("upscale", vary.id)).records
    assert [c.id for c in gallery.children(vary.id)] == [grandchild.id]


def test_offline_edits_differ_by_seed_and_repeat_with_it(offline: Gallery) -> None:
    parent = _parent(offline)
    one = offline.apply(EditRequest("vary", parent.id, seed=1)).records[0]
    two = offline.apply(EditRequest("vary", parent.id, seed=2)).records[0]
    again = offline.apply(EditRequest("vary", parent.id, seed=1)).records[0]
    assert offline.read_original(one) != offline.read_original(two)
    assert offline.read_original(one) == offline.read_original(again)


def test_offline_delete_tidies_lineage_markers(offline: Gallery, hermetic_env: Path) -> None:
    gallery = offline
    assert isinstance(gallery.store, LocalStore)
    children_dir = gallery.store.root / "gallery-kit" / "children"
    parent = _parent(gallery)
    first = gallery.apply(EditRequest("vary", parent.id, seed=1)).records[0]
    second = gallery.apply(EditRequest("remove-background", parent.id)).records[0]
    assert sorted(p.name for p in (children_dir / parent.id).iterdir()) == sorted(
        [first.id, second.id]
    )
    gallery.delete(first.id)
    assert [c.id for c in gallery.children(parent.id)] == [second.id]
    assert not (children_dir / parent.id / first.id).exists()
    gallery.delete(parent.id)
    assert not (children_dir / parent.id).exists()
    # The child stays in the gallery; its parent is simply gone.
    survivor = gallery.get(second.id)
    assert survivor.parent_id == parent.id
    assert gallery.parent(survivor) is None


def test_offline_invalid_edit_changes_nothing(offline: Gallery) -> None:
    parent = _parent(offline)
    before = [r.id for r in offline.page().records]
    for bad in (
        EditRequest("vary", parent.id, similarity=0.1),
        EditRequest("edit", parent.id, prompt="p"),
        EditRequest("extend", parent.id, width=512, height=384),
    ):
        with pytest.raises(InvalidRequest):
            offline.apply(bad)
    with pytest.raises(ImageNotFound):
        offline.apply(EditRequest("vary", "8235781234567-1a2b3c4d5e"))
    assert [r.id for r in offline.page().records] == before
    assert offline.children(parent.id) == []


class _FlakyStore(LocalStore):
    """A local store whose writes fail until ``fail`` is cleared (a store outage)."""

    fail = True

    def _write(self, key: str, data: bytes) -> None:
        if self.fail:
            raise StorageError("the store is down (test)")
        super()._write(key, data)


def test_an_edit_whose_upload_fails_waits_in_the_outbox_with_its_lineage(
    tmp_path: Path,
) -> None:
    store = _FlakyStore(tmp_path / "store")
    store.fail = False
    gallery = Gallery(OfflineGenerator(), store, Outbox(tmp_path / "outbox"))
    parent = _parent(gallery)
    store.fail = True
    result = gallery.apply(EditRequest("upscale", parent.id))
    (child,) = result.records
    assert result.pending == [child.id]
    assert "kept on this machine" in result.warnings[0]
    assert [c.id for c in gallery.children(parent.id)] == [child.id]  # found while pending
    assert gallery.is_pending(child.id)
    store.fail = False
    assert gallery.sync_outbox().uploaded == [child.id]
    assert store.children(parent.id) == [child.id]  # the marker came with the upload
    assert [c.id for c in gallery.children(parent.id)] == [child.id]


# --- AWS mode: Nova Canvas --------------------------------------------------------------------


@pytest.fixture
def aws(
    bucket: str, bedrock: BedrockEndpoint, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Gallery]:
    monkeypatch.setenv("GALLERY_PREFIX", "team-a")
    gallery = Gallery.from_settings(load_settings())
    gallery._rng = random.Random(5)
    assert not gallery.offline
    try:
        yield gallery
    finally:
        gallery.close()


def test_aws_nova_edits_follow_the_documented_schema(
    aws: Gallery, bedrock: BedrockEndpoint, bucket: str
) -> None:
    parent = aws.generate(GenerationRequest("a lighthouse", width=512, height=384, seed=3))
    (parent_record,) = parent.records
    parent_bytes = s3_bytes(bucket, parent_record.original_key)
    made: dict[str, ImageRecord] = {}
    for operation, fields, task in [
        ("vary", {"prompt": "a lighthouse at night", "similarity": 0.4}, "IMAGE_VARIATION"),
        ("remove-background", {}, "BACKGROUND_REMOVAL"),
        ("edit", {"prompt": "a red moon", "mask_prompt": "the sky"}, "INPAINTING"),
        ("extend", {"width": 768, "height": 384}, "OUTPAINTING"),
    ]:
        result = aws.apply(EditRequest(operation, parent_record.id, **fields))
        assert bedrock.violations == []
        sent = bedrock.requests[-1]
        assert sent.model_id == NOVA
        assert sent.region == "us-east-1"
        assert sent.body["taskType"] == task
        (child,) = result.records
        assert result.pending == []
        assert (child.parent_id, child.operation, child.model_id) == (
            parent_record.id,
            operation,
            NOVA,
        )
        # The model's bytes, stored untouched under the prefix.
        assert child.original_key.startswith("team-a/gallery-kit/images/")
        assert s3_bytes(bucket, child.original_key) == bedrock.sent_images[-1]
        made[operation] = child

    variation = bedrock.requests[1].body
    assert variation["imageVariationParams"]["similarityStrength"] == 0.4
    assert variation["imageGenerationConfig"]["seed"] == made["vary"].seed
    assert base64.b64decode(variation["imageVariationParams"]["images"][0]) == parent_bytes
    outpaint = bedrock.requests[4].body["outPaintingParams"]
    assert outpaint["text"] == "a lighthouse"  # the parent's prompt describes the whole picture
    assert (made["extend"].width, made["extend"].height) == (768, 384)
    assert alpha_range(s3_bytes(bucket, made["remove-background"].original_key))[0] == 0

    # Lineage from the markers: one LIST under the parent's prefix.
    markers = s3_keys(bucket, f"team-a/gallery-kit/children/{parent_record.id}/")
    assert sorted(k.rsplit("/", 1)[1] for k in markers) == sorted(c.id for c in made.values())
    assert [c.id for c in aws.children(parent_record.id)] == sorted(c.id for c in made.values())
    assert s3_bytes(bucket, parent_record.original_key) == parent_bytes

    # Delete keeps the bucket tidy: the child's marker goes with it.
    aws.delete(made["edit"].id)
    assert made["edit"].id not in [c.id for c in aws.children(parent_record.id)]
    aws.delete(parent_record.id)
    assert s3_keys(bucket, f"team-a/gallery-kit/children/{parent_record.id}/") == []
    assert aws.get(made["vary"].id).parent_id == parent_record.id


def test_aws_nova_cannot_upscale_and_sends_nothing(aws: Gallery, bedrock: BedrockEndpoint) -> None:
    (parent,) = aws.generate(GenerationRequest("a fox", width=512, height=512)).records
    before = len(bedrock.requests)
    with pytest.raises(InvalidRequest, match="BEDROCK_MODEL_ID"):
        aws.apply(EditRequest("upscale", parent.id))
    assert len(bedrock.requests) == before


def test_aws_edit_failures_are_mapped_and_store_nothing(
    aws: Gallery, bedrock: BedrockEndpoint, bucket: str
) -> None:
    (parent,) = aws.generate(GenerationRequest("a fox", width=512, height=512)).records
    images_before = s3_keys(bucket, "team-a/gallery-kit/images/")
    bedrock.script(Reply.filtered_all())
    with pytest.raises(ContentFiltered):
        aws.apply(EditRequest("vary", parent.id))
    bedrock.script(Reply.access_denied())
    with pytest.raises(AccessDenied, match="Nova Canvas"):
        aws.apply(EditRequest("remove-background", parent.id))
    assert s3_keys(bucket, "team-a/gallery-kit/images/") == images_before
    assert aws.children(parent.id) == []
    assert bedrock.violations == []


def test_aws_edit_throttling_is_retried(
    bucket: str, bedrock: BedrockEndpoint, tmp_path: Path
) -> None:
    sleeps: list[float] = []
    store = S3Store(bucket, region="us-east-1")
    generator = BedrockGenerator(backoff_s=0.5, sleep=sleeps.append)
    gallery = Gallery(generator, store, Outbox(tmp_path / "outbox"))
    try:
        (parent,) = gallery.generate(GenerationRequest("a fox", width=512, height=512)).records
        bedrock.script(Reply.throttled(), Reply.throttled())
        (child,) = gallery.apply(EditRequest("remove-background", parent.id)).records
        assert len(sleeps) == 2
        assert child.parent_id == parent.id
        assert bedrock.violations == []
    finally:
        store.close()


# --- AWS mode: Stability ----------------------------------------------------------------------


@pytest.fixture
def stability(
    aws: Gallery, bedrock: BedrockEndpoint, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Gallery]:
    monkeypatch.setenv("BEDROCK_MODEL_ID", CORE)
    monkeypatch.setenv("BEDROCK_REGION", "us-west-2")
    bedrock.small_images = True
    gallery = Gallery.from_settings(load_settings())
    gallery._rng = random.Random(9)
    try:
        yield gallery
    finally:
        gallery.close()


def test_aws_stability_edits_use_the_image_services(
    stability: Gallery, bedrock: BedrockEndpoint, bucket: str
) -> None:
    gallery = stability
    (parent,) = gallery.generate(
        GenerationRequest("a fox in snow", width=1024, height=1024, model_id=CORE)
    ).records
    assert bedrock.requests[-1].model_id == CORE
    made: list[ImageRecord] = []
    for operation, fields, model in [
        ("vary", {}, SD35),
        ("remove-background", {}, REMOVE_BG),
        ("edit", {"prompt": "a red fox", "mask_prompt": "the fox"}, SEARCH_REPLACE),
        ("extend", {"width": 256, "height": 128}, OUTPAINT),
        ("upscale", {}, FAST_UPSCALE),
    ]:
        (child,) = gallery.apply(EditRequest(operation, parent.id, **fields)).records
        sent = bedrock.requests[-1]
        assert bedrock.violations == []
        assert (sent.model_id, sent.region) == (model, "us-west-2")
        assert (child.model_id, child.parent_id, child.operation) == (model, parent.id, operation)
        assert s3_bytes(bucket, child.original_key) == bedrock.sent_images[-1]
        made.append(child)
    vary, removed, edited, extended, upscaled = made
    assert (extended.width, extended.height) == (32, 16)  # 256x128 at the endpoint's 1/8
    body = bedrock.requests[1].body
    assert (body["mode"], body["strength"], body["prompt"]) == (
        "image-to-image",
        0.3,
        "a fox in snow",
    )
    assert vary.seed == body["seed"] > 0
    assert (removed.seed, upscaled.seed) == (None, None)
    assert edited.seed == bedrock.requests[3].body["seed"]
    outpaint = bedrock.requests[4].body
    assert (outpaint["left"], outpaint["right"], outpaint["up"], outpaint["down"]) == (64, 64, 0, 0)
    removed_bytes = s3_bytes(bucket, removed.original_key)
    assert opened(removed_bytes).mode == "RGBA"
    assert alpha_range(removed_bytes)[0] == 0  # transparency kept, byte for byte
    assert [c.id for c in gallery.children(parent.id)] == sorted(c.id for c in made)


def test_aws_ultra_varies_with_its_own_image_to_image(
    stability: Gallery, bedrock: BedrockEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    (parent,) = stability.generate(
        GenerationRequest("a fox", width=1024, height=1024, model_id=CORE)
    ).records
    (child,) = stability.apply(
        EditRequest("vary", parent.id, model_id=ULTRA, prompt="a fox at dawn", similarity=0.9)
    ).records
    sent = bedrock.requests[-1]
    assert sent.model_id == ULTRA
    assert "mode" not in sent.body
    assert sent.body["strength"] == 0.1
    assert bedrock.violations == []
    assert child.model_id == ULTRA


def test_aws_stability_refuses_a_too_wide_image_before_calling(
    stability: Gallery, bedrock: BedrockEndpoint
) -> None:
    # A 4:1 Nova Canvas image: beyond the 2.5:1 the Image Services accept.
    (parent,) = stability.generate(
        GenerationRequest("a long fox", width=2048, height=512, model_id=NOVA)
    ).records
    before = len(bedrock.requests)
    with pytest.raises(InvalidRequest, match=r"between 1:2\.5 and 2\.5:1"):
        stability.apply(EditRequest("remove-background", parent.id))
    assert len(bedrock.requests) == before
