"""A shared URL with a key (issue 14): ``gallery-kit serve --token T`` / ``GALLERY_TOKEN`` /
``--token auto``; beyond loopback without a token the server refuses to start (exit 2) unless
``--no-token``. Without the token a visitor gets no page and no kernel; with it, the dashboard
(checked in Chromium)."""

from __future__ import annotations

import http.client
import os
import subprocess
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page

from gallery_kit.cli.serve import choose_token
from gallery_kit.errors import ConfigError
from tests.support.browser import (
    ServedApp,
    assert_no_traceback,
    console_script,
    open_dashboard,
    start_app,
)
from tests.test_serve_limits import kernels

TOKEN = "team-key-0123456789"  # noqa: S105 - a test token


def test_choose_token_rules() -> None:
    assert choose_token(None, host="127.0.0.1", no_token=False) is None
    assert choose_token(TOKEN, host="0.0.0.0", no_token=False) == TOKEN
    made = choose_token("auto", host="0.0.0.0", no_token=False)
    assert made is not None
    assert len(made) >= 24
    assert made != choose_token("auto", host="127.0.0.1", no_token=False)
    assert choose_token(None, host="0.0.0.0", no_token=True) is None
    with pytest.raises(ConfigError, match="--token auto"):
        choose_token(None, host="0.0.0.0", no_token=False)
    with pytest.raises(ConfigError, match="pick one"):
        choose_token(TOKEN, host="127.0.0.1", no_token=True)
    with pytest.raises(ConfigError, match="8-200 letters"):
        choose_token("short", host="127.0.0.1", no_token=False)


def test_beyond_loopback_without_a_token_is_refused_before_listening() -> None:
    """Nothing is bound: the refusal comes first (exit 2, one line naming the fix)."""
    done = subprocess.run(
        [str(console_script()), "serve", "--host", "0.0.0.0", "--port", "1"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "--token auto" in line
    assert "--no-token" in line


def _status(app: ServedApp, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=60)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Location") or ""
    finally:
        conn.close()


@pytest.mark.browser
def test_without_the_token_no_page_no_kernel_with_it_the_dashboard(
    tmp_path: Path, dash_page: Page
) -> None:
    env = {**os.environ, "GALLERY_TOKEN": TOKEN, "GALLERY_KIT_POOL_SIZE": "0"}
    app = start_app(env, tmp_path / "serve")
    try:
        assert f"?token={TOKEN}" in app.log_text() or _wait_log(app, f"?token={TOKEN}")
        for path in ("/", "/?token=wrong-token-000"):
            status, location = _status(app, path)
            assert status == 302, (path, status)
            assert "/login" in location
        time.sleep(1.0)  # a kernel, had one been started, would be a process by now
        assert kernels(app) == set()
        with_token = ServedApp(
            f"{app.url}?token={TOKEN}", app.port, app.env, app.process, app.log_path
        )
        open_dashboard(dash_page, with_token)
        assert len(kernels(app)) == 1
        assert_no_traceback(dash_page)
    finally:
        app.stop()


def _wait_log(app: ServedApp, text: str) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if text in app.log_text():
            return True
        time.sleep(0.1)
    return False
