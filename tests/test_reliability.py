"""Nothing lost: faults injected through real servers (moto S3 behind a faulty proxy, the local
Bedrock endpoint), never by mocking gallery_kit.

Figures printed here (images generated / stored / lost) go to the README's reliability section.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest

from gallery_kit import Gallery, GenerationRequest, load_settings
from gallery_kit.errors import GalleryError
from gallery_kit.records import INDEX_DIR, meta_key
from gallery_kit.ui.routes import route
from tests.support.bedrock import BedrockEndpoint
from tests.support.faults import FaultyProxy

# Against moto and s3rver, a second S3 implementation (conftest: --s3).
pytestmark = pytest.mark.every_s3

SMALL = {"width": 320, "height": 320}


@pytest.fixture
def proxy(bucket: str, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultyProxy]:
    """S3 (moto or s3rver) reached through a proxy that can fail, hang or go down."""
    with FaultyProxy(s3_endpoint) as p:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", p.url)
        yield p


def direct_s3(s3_endpoint: str) -> object:
    return boto3.client("s3", region_name="us-east-1", endpoint_url=s3_endpoint)


def stored_originals(s3_endpoint: str, bucket: str) -> dict[str, bytes]:
    """id → original bytes of every listed image (its index key), read straight from the S3 server
    (not through the proxy); its metadata and thumbnail must be there too."""
    import json

    s3 = direct_s3(s3_endpoint)
    out = {}
    paginator = s3.get_paginator("list_objects_v2")  # type: ignore[attr-defined]
    for page in paginator.paginate(Bucket=bucket, Prefix=INDEX_DIR):
        for obj in page.get("Contents", []):
            image_id = obj["Key"].removeprefix(INDEX_DIR).split(".")[0]
            meta_object = s3.get_object(Bucket=bucket, Key=meta_key("", image_id))  # type: ignore[attr-defined]
            meta = json.loads(meta_object["Body"].read())
            body = s3.get_object(Bucket=bucket, Key=meta["original_key"])["Body"].read()  # type: ignore[attr-defined]
            s3.head_object(Bucket=bucket, Key=meta["thumbnail_key"])  # type: ignore[attr-defined]
            out[meta["id"]] = body
    return out


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_hundred_images_with_30_percent_of_s3_writes_failing(
    proxy: FaultyProxy,
    bedrock: BedrockEndpoint,
    bucket: str,
    s3_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GALLERY_GENERATOR", "bedrock")
    gallery = Gallery.from_settings(load_settings())
    proxy.fail_writes = 0.3
    # Four Generate clicks at a time (as four users would), 20 requests of 5 images.
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(
                lambda i: gallery.generate(GenerationRequest(f"batch {i}", count=5, **SMALL)),
                range(20),
            )
        )
    assert all(len(result.records) == 5 for result in results), [r.warnings for r in results]
    pending_after_generate = sum(len(result.pending) for result in results)
    for _ in range(50):  # S3 keeps failing 30% of writes; retries finish the job
        if not gallery.outbox.ids():
            break
        gallery.sync_outbox()
    stored = stored_originals(s3_endpoint, bucket)
    sent = {sha(image) for image in bedrock.sent_images}
    print(
        f"\nreliability: generated {len(bedrock.sent_images)}, stored {len(stored)}, "
        f"lost {len(sent - {sha(b) for b in stored.values()})}, "
        f"S3 writes {proxy.writes_seen} of which failed {proxy.writes_failed}, "
        f"images that waited in the outbox {pending_after_generate}"
    )
    assert proxy.writes_failed > 20  # the faults really happened
    assert len(bedrock.sent_images) == 100
    assert len(stored) == 100
    assert {sha(b) for b in stored.values()} == sent  # byte-identical, none lost
    assert gallery.outbox.ids() == []
    assert bedrock.violations == []


def test_s3_down_mid_run_then_back(
    proxy: FaultyProxy,
    bedrock: BedrockEndpoint,
    bucket: str,
    s3_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GALLERY_GENERATOR", "bedrock")
    gallery = Gallery.from_settings(load_settings())
    first = gallery.generate(GenerationRequest("before the outage", **SMALL))
    assert first.pending == []

    proxy.down = True
    during = gallery.generate(GenerationRequest("during the outage", count=2, **SMALL))
    assert len(during.pending) == 2
    assert any("Cannot reach S3" in w for w in during.warnings)
    assert [r.prompt for r in gallery.pending()] == ["during the outage"] * 2
    with pytest.raises(GalleryError, match="Cannot reach S3"):
        gallery.page()

    proxy.down = False
    after = gallery.generate(GenerationRequest("after the outage", **SMALL))
    assert after.pending == []
    assert gallery.outbox.ids() == []  # the next generation sent what was waiting
    prompts = [r.prompt for r in gallery.page().records]
    assert prompts == [
        "after the outage",
        "during the outage",
        "during the outage",
        "before the outage",
    ]
    assert len(stored_originals(s3_endpoint, bucket)) == 4


def _cli() -> list[str]:
    return [sys.executable, "-m", "gallery_kit.cli.main"]


def test_killed_between_model_answer_and_upload_loses_nothing(
    proxy: FaultyProxy,
    bedrock: BedrockEndpoint,
    bucket: str,
    s3_endpoint: str,
    hermetic_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GALLERY_GENERATOR", "bedrock")
    proxy.hang_writes = True
    process = subprocess.Popen(
        [*_cli(), "generate", "paid for, then killed", "--width", "320", "--height", "320"],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    outbox = hermetic_env / "outbox"
    deadline = time.monotonic() + 30
    while not list(outbox.glob("*/meta.json")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the image never reached the outbox"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)  # like a kernel killed mid-upload
    process.wait(timeout=10)
    proxy.release()
    assert stored_originals(s3_endpoint, bucket) == {}

    sync = subprocess.run(
        [*_cli(), "sync", "--json"],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert sync.returncode == 0, sync.stderr
    stored = stored_originals(s3_endpoint, bucket)
    assert len(stored) == 1
    assert [sha(b) for b in stored.values()] == [sha(bedrock.sent_images[0])]
    assert list(outbox.glob("*/meta.json")) == []


def test_four_sessions_generate_at_once(
    bedrock: BedrockEndpoint,
    bucket: str,
    s3_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Four processes (as four kernels would) each store 10 images at the same time."""
    from gallery_kit.ui.app import GalleryApp
    from tests.test_app import wait_for

    monkeypatch.setenv("GALLERY_GENERATOR", "bedrock")
    processes = []
    for session in range(4):
        env = os.environ.copy()
        env["GALLERY_DATA_DIR"] = str(tmp_path / f"session-{session}")  # own kernel, own outbox
        for batch in range(2):
            processes.append(
                subprocess.Popen(
                    [
                        *_cli(),
                        "generate",
                        f"session {session} batch {batch}",
                        "--count",
                        "5",
                        "--width",
                        "320",
                        "--height",
                        "320",
                        "--json",
                    ],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
    ids = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        ids += [line.split('"id": "')[1].split('"')[0] for line in out.splitlines()]
    assert len(ids) == 40
    assert len(set(ids)) == 40
    stored = stored_originals(s3_endpoint, bucket)
    assert sorted(stored) == sorted(ids)  # none overwritten, none missing
    assert len({sha(b) for b in stored.values()}) == 40

    apps = [GalleryApp(Gallery.from_settings(load_settings()), poll_ms=0) for _ in range(4)]
    try:
        for app in apps:
            wait_for(lambda app=app: len(app.grid.items) == 24)
            route(app, {"type": "load_more"})
            wait_for(lambda app=app: len(app.grid.items) == 40)
            assert {item["id"] for item in app.grid.items} == set(ids)
    finally:
        for app in apps:
            app.close()


def test_credentials_never_reach_messages_or_logs(
    bedrock: BedrockEndpoint,
    bucket: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.support.bedrock import Reply

    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    monkeypatch.setenv("GALLERY_GENERATOR", "bedrock")
    caplog.set_level("DEBUG", logger="gallery_kit")
    texts = []
    for reply in (
        Reply.access_denied(),
        Reply.garbage(),
        Reply.end_of_life(),
        Reply.marketplace_denied(),
    ):
        bedrock.always(reply)
        run = subprocess.run(
            [*_cli(), "-v", "generate", "x", "--width", "320", "--height", "320"],
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert run.returncode == 1
        texts += [run.stdout, run.stderr]
    monkeypatch.setenv("S3_BUCKET_NAME", "no-such-bucket-here")
    gallery = Gallery.from_settings(load_settings())
    with pytest.raises(GalleryError) as info:
        gallery.page()
    texts.append(str(info.value))
    texts.append(caplog.text)
    joined = "\n".join(texts)
    assert "does not exist" in joined
    assert secret not in joined
    assert "Traceback" not in joined
