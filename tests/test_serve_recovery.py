"""A page's kernel killed (SIGKILL) after its model answered loses no image (issue 16, item 4).

The real dashboard in Chromium, AWS mode: moto's S3 behind a proxy that holds every write, the
local Bedrock endpoint. Generate; once the image is in the outbox (the model has answered, the
upload hangs) the page's kernel is killed. The next page's kernel uploads it and shows it.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from gallery_kit.inflight import FOLDER
from tests.support.bedrock import BedrockEndpoint
from tests.support.browser import (
    GENERATE,
    PROMPT,
    THUMBS,
    VIEWPORT,
    ServedApp,
    open_dashboard,
    start_app,
)
from tests.support.faults import FaultyProxy
from tests.test_reliability import sha, stored_originals
from tests.test_serve_limits import kernel_pid, kernels

pytestmark = pytest.mark.browser


@pytest.fixture
def held_s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultyProxy]:
    with FaultyProxy(s3_endpoint) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
        yield proxy


@pytest.fixture
def app(
    chromium_executable: str,
    bucket: str,
    bedrock: BedrockEndpoint,
    held_s3: FaultyProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ServedApp]:
    monkeypatch.setenv("S3_BUCKET_NAME", bucket)
    monkeypatch.setenv("GALLERY_GENERATOR", "bedrock")
    served = start_app(os.environ, tmp_path / "serve")
    try:
        yield served
    finally:
        served.stop()


def _wait(what: str, done: object, app: ServedApp, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while not done():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}\nserver log:\n{app.log_text()[-3000:]}")
        time.sleep(0.05)


def test_a_kernel_killed_while_its_image_uploads_loses_nothing(
    app: ServedApp,
    chromium: Browser,
    held_s3: FaultyProxy,
    bedrock: BedrockEndpoint,
    bucket: str,
    s3_endpoint: str,
) -> None:
    first = chromium.new_context(viewport=VIEWPORT)
    page = first.new_page()
    open_dashboard(page, app)
    prompt = f"paid for, then the kernel was killed {uuid.uuid4().hex[:6]}"
    held_s3.hang_writes = True
    page.fill(PROMPT, prompt)
    page.click(GENERATE)

    outbox, in_flight = app.data_dir / "outbox", app.data_dir / FOLDER
    _wait("the image in the outbox", lambda: list(outbox.glob("*/meta.json")), app)
    (waiting,) = [p.parent.name for p in outbox.glob("*/meta.json")]
    # The kernel marks its generation in flight (the server does not cull it meanwhile).
    (marker,) = list(in_flight.iterdir())
    kernel_id = marker.name.split(".")[0]
    pid = kernel_pid(kernel_id, app)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    _wait("the kernel gone", lambda: not Path(f"/proc/{pid}").exists(), app)
    first.close()
    held_s3.drop_held()  # the dead kernel's held uploads never arrive
    assert stored_originals(s3_endpoint, bucket) == {}

    second = chromium.new_context(viewport=VIEWPORT)
    try:
        page = second.new_page()
        open_dashboard(page, app)
        tile = page.locator(f'{THUMBS}[data-id="{waiting}"]')
        expect(tile).to_be_visible(timeout=60_000)
        expect(tile.locator("figcaption")).to_have_text(prompt)
    finally:
        second.close()
    _wait("the image uploaded", lambda: stored_originals(s3_endpoint, bucket), app)
    stored = stored_originals(s3_endpoint, bucket)
    assert list(stored) == [waiting]
    assert [sha(b) for b in stored.values()] == [sha(bedrock.sent_images[0])]
    assert list(outbox.glob("*/meta.json")) == []


def test_closing_the_tab_frees_its_kernel_at_once(
    chromium: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Voilà's unload beacon (POST /voila/api/shutdown/<kernel>) needs the _xsrf cookie."""
    monkeypatch.setenv("GALLERY_KIT_POOL_SIZE", "0")
    app = start_app(os.environ, tmp_path / "serve")
    try:
        context = chromium.new_context(viewport=VIEWPORT)
        page = context.new_page()
        open_dashboard(page, app)
        (pid,) = kernels(app)
        page.close(run_before_unload=True)
        _wait("the closed tab's kernel shut down", lambda: pid not in kernels(app), app)
        context.close()
        assert "Kernel shutdown" in app.log_text()
    finally:
        app.stop()
