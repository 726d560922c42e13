"""Browser-test helpers: the real ``gallery-kit serve`` in a subprocess, and Debian's Chromium.

Fixtures (a pytest plugin: the root ``conftest.py`` registers them once, in ``pytest_plugins``):

* ``chromium`` - one headless Debian Chromium for the session, driven by Playwright's sync API
  (never ``playwright install``); skips (fails under ``CI=true``) when Chromium is missing;
* ``dash_page`` - a fresh 1400x900 page per test, screenshotted into ``test-artifacts/`` at the
  end (pass or fail);
* ``offline_app`` - one served offline dashboard shared by the tests of a module;
* ``fresh_offline_app`` - a served offline dashboard of the test's own, with an empty store
  (every offline app a module needs is launched at once, on first use, so start-ups overlap);
* ``aws_app`` - a served dashboard in AWS mode: moto S3 (``bucket``) + the local Bedrock endpoint.

The ``*_app`` fixtures point ``GALLERY_DATA_DIR`` (and the AWS variables) of the test process at
the served app's store, so ``app.gallery()`` and ``app.cli(...)`` see the images the page shows.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from gallery_kit import Gallery
    from gallery_kit.records import ImageRecord

ROOT = Path(__file__).resolve().parents[2]  # tests/support/browser.py -> the repository
ARTIFACTS = ROOT / "test-artifacts"
DOCS_SCREENSHOT = ROOT / "docs" / "dashboard.png"
VIEWPORT = {"width": 1400, "height": 900}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INSTALL_HINT = "install Debian's Chromium: sudo apt-get install chromium"
#: Opening the page starts a kernel; on a loaded 2-core box that can take a while.
LOAD_TIMEOUT_MS = 60_000
SERVE_TIMEOUT_S = 30.0


# --------------------------------------------------------------------------------------------
# The served app
# --------------------------------------------------------------------------------------------


_PORTS_GIVEN: set[int] = set()


def free_port() -> int:
    """A port nobody listens on now, never one this session handed out before."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _PORTS_GIVEN:
            _PORTS_GIVEN.add(port)
            return port


def _proc_table() -> dict[int, tuple[int, int, str, int]]:
    """pid -> (ppid, process group, state, start time) of every process we can see."""
    table: dict[int, tuple[int, int, str, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        # state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
        # cutime cstime priority nice num_threads itrealvalue starttime ...
        table[int(entry.name)] = (int(fields[1]), int(fields[2]), fields[0], int(fields[19]))
    return table


def _descendants(pid: int) -> dict[int, int]:
    """Descendants of ``pid`` (Voilà and its kernels, which run in sessions of their own)."""
    table = _proc_table()
    found: dict[int, int] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, _pgrp, _state, start) in table.items():
            if ppid == parent and child not in found:
                found[child] = start
                frontier.append(child)
    return found


def _alive(pids: Mapping[int, int], pgid: int) -> list[int]:
    """The given processes (same pid *and* start time) and group members still running."""
    table = _proc_table()
    return [
        pid
        for pid, (_ppid, pgrp, state, start) in table.items()
        if state != "Z" and (pids.get(pid) == start or pgrp == pgid)
    ]


def stop_process_tree(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the server's process group and its kernels, wait, then SIGKILL what is left."""
    tree = _descendants(process.pid)
    pgid = process.pid  # start_new_session=True: the group id is the leader's pid

    def signal_all(sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
        for pid in _alive(tree, pgid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)

    signal_all(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process.poll()
        if process.returncode is not None and not _alive(tree, pgid):
            break
        time.sleep(0.1)
    else:
        signal_all(signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
    deadline = time.monotonic() + 5
    while _alive(tree, pgid) and time.monotonic() < deadline:
        time.sleep(0.1)


@dataclass
class ServedApp:
    """A running ``gallery-kit serve``."""

    url: str
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def data_dir(self) -> Path:
        return Path(self.env["GALLERY_DATA_DIR"])

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def gallery(self) -> Gallery:
        """The app's gallery, opened in the test process (same settings as the server)."""
        from gallery_kit import Gallery
        from gallery_kit.settings import load_settings

        return Gallery.from_settings(load_settings(self.env))

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run ``gallery-kit ARGS`` in another process, with the server's environment."""
        return subprocess.run(
            [str(console_script()), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def stop(self) -> None:
        stop_process_tree(self.process)


def console_script() -> Path:
    return Path(sys.executable).with_name("gallery-kit")


def launch_app(env: Mapping[str, str], workdir: Path) -> ServedApp:
    """Start ``gallery-kit serve --port <free> --host 127.0.0.1`` in its own process group."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = workdir / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(console_script()), "serve", "--port", str(port), "--host", "127.0.0.1"],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            start_new_session=True,
        )
    return ServedApp(f"http://127.0.0.1:{port}/", port, dict(env), process, log_path)


def wait_ready(app: ServedApp, workdir: Path) -> ServedApp:
    """Wait (<= 30 s) until the app's port answers; relaunch if another process took it."""
    for attempt in range(3):
        deadline = time.monotonic() + SERVE_TIMEOUT_S
        while time.monotonic() < deadline and app.process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", app.port), timeout=1).close()
            except OSError:
                time.sleep(0.1)
                continue
            return app
        app.stop()
        text = app.log_text()
        if "address already in use" in text.lower() and attempt < 2:
            app = launch_app(app.env, workdir)
            continue
        reason = (
            f"exited with status {app.process.returncode}"
            if app.process.returncode is not None
            else f"did not listen on port {app.port} within {SERVE_TIMEOUT_S:.0f} s"
        )
        pytest.fail(f"gallery-kit serve {reason}; its output:\n{text[-4000:]}")
    raise AssertionError("unreachable")


def start_app(env: Mapping[str, str], workdir: Path) -> ServedApp:
    return wait_ready(launch_app(env, workdir), workdir)


SHARED = "shared"


class _Apps:
    """Offline apps of one test module, all launched together on first use (their start-up
    overlaps) and stopped when the module is done (or when their test is, for own apps).

    Each app gets a data folder of its own; the environment is otherwise a copy of os.environ
    as the autouse ``hermetic_env`` fixture set it for the test that launched them.
    """

    def __init__(self, module: object, session: pytest.Session) -> None:
        self.module, self.session = module, session
        self.apps: dict[str, tuple[ServedApp, Path]] = {}
        self.ready: set[str] = set()
        self.released: set[str] = set()

    def _wanted(self) -> list[str]:
        keys: list[str] = []
        for item in self.session.items:
            if getattr(item, "module", None) is not self.module:
                continue
            names = getattr(item, "fixturenames", ())
            if "offline_app" in names and SHARED not in keys:
                keys.append(SHARED)
            if "fresh_offline_app" in names:
                keys.append(item.nodeid)
        return keys

    def _launch_all(self, wanted: str, base: Path) -> None:
        keys = [k for k in self._wanted() if k not in self.apps and k not in self.released]
        if wanted not in keys:
            keys.append(wanted)
        base.mkdir(parents=True, exist_ok=True)
        for key in keys:
            workdir = Path(tempfile.mkdtemp(prefix="app-", dir=base))
            env = dict(os.environ)
            env["GALLERY_DATA_DIR"] = str(workdir / "gallery-data")
            self.apps[key] = (launch_app(env, workdir), workdir)

    def get(self, key: str, base: Path) -> ServedApp:
        if key not in self.apps:
            self._launch_all(key, base)
        app, workdir = self.apps[key]
        if key not in self.ready:
            app = wait_ready(app, workdir)
            self.apps[key] = (app, workdir)
            self.ready.add(key)
        return app

    def release(self, key: str) -> None:
        entry = self.apps.pop(key, None)
        self.ready.discard(key)
        self.released.add(key)
        if entry is not None:
            entry[0].stop()

    def close(self) -> None:
        for app, _workdir in self.apps.values():
            app.stop()
        self.apps.clear()


@pytest.fixture(scope="module", name="_offline_apps")
def offline_apps_fixture(
    request: pytest.FixtureRequest, chromium_executable: str
) -> Iterator[_Apps]:
    # Requesting the browser's path first: without Chromium, skip before starting servers.
    apps = _Apps(request.module, request.session)
    try:
        yield apps
    finally:
        apps.close()


def _use_env_of(app: ServedApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point this test process at the app's store, so in-process checks see what the page sees."""
    for name in ("GALLERY_DATA_DIR", "GALLERY_ENV_FILE"):
        monkeypatch.setenv(name, app.env[name])


@pytest.fixture(name="offline_app")
def offline_app_fixture(
    _offline_apps: _Apps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ServedApp:
    """The module's shared offline dashboard (its store keeps what earlier tests added)."""
    assert "S3_BUCKET_NAME" not in os.environ
    app = _offline_apps.get(SHARED, tmp_path)
    _use_env_of(app, monkeypatch)
    return app


@pytest.fixture(name="fresh_offline_app")
def fresh_offline_app_fixture(
    _offline_apps: _Apps,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[ServedApp]:
    """An offline dashboard of this test's own, with an empty store."""
    assert "S3_BUCKET_NAME" not in os.environ
    app = _offline_apps.get(request.node.nodeid, tmp_path)
    _use_env_of(app, monkeypatch)
    try:
        yield app
    finally:
        _offline_apps.release(request.node.nodeid)


@pytest.fixture(name="aws_app")
def aws_app_fixture(
    chromium_executable: str,
    bucket: str,
    bedrock: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ServedApp]:
    """A dashboard in AWS mode: moto's S3 (``bucket``) and the local Bedrock endpoint."""
    monkeypatch.setenv("S3_BUCKET_NAME", bucket)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", bedrock.url)
    monkeypatch.setenv("GALLERY_GENERATOR", "bedrock")
    app = start_app(os.environ, tmp_path / "serve")
    try:
        yield app
    finally:
        app.stop()


# --------------------------------------------------------------------------------------------
# The browser
# --------------------------------------------------------------------------------------------


def chromium_path() -> str | None:
    """Debian's Chromium, if installed."""
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )


@pytest.fixture(scope="session", name="chromium_executable")
def chromium_executable_fixture() -> str:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"Chromium is missing and CI=true needs the browser tests: {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)
    return path


@pytest.fixture(scope="session", name="chromium")
def chromium_fixture(chromium_executable: str) -> Iterator[Browser]:
    """Headless Debian Chromium for the whole session (Playwright's sync API)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def artifact_path(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") + ".png")


@pytest.fixture(name="dash_page")
def dash_page_fixture(chromium: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page (own context) per test; a screenshot of it lands in test-artifacts/."""
    context = chromium.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.gk_page_errors = errors  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        with contextlib.suppress(Exception):
            page.screenshot(path=str(artifact_path(request.node.name)), full_page=True)
        context.close()


#: The dashboard's parts, by the gk-* classes the page keeps (its contract).
PROMPT = ".gk-prompt textarea"
GENERATE = ".gk-generate"
THUMBS = ".gk-grid .gk-thumb"
LIGHTBOX = ".gk-lightbox"

# --------------------------------------------------------------------------------------------
# Page helpers
# --------------------------------------------------------------------------------------------

#: True once the grid has shown its first answer from the kernel (thumbnails or "No images").
_GRID_READY = """() => {
  const gallery = document.querySelector('.gk-gallery');
  const generate = document.querySelector('.gk-generate');
  if (!gallery || !generate) return false;
  if (gallery.querySelector('.gk-grid .gk-thumb')) return true;
  const empty = gallery.querySelector('.gk-empty');
  const text = empty ? empty.textContent.trim() : '';
  return text !== '' && !text.startsWith('Loading');
}"""


def open_dashboard(page: Page, app: ServedApp) -> None:
    """Open the app and wait until the panel and the first page of the grid are there."""
    page.goto(app.url, wait_until="domcontentloaded", timeout=LOAD_TIMEOUT_MS)
    try:
        page.wait_for_function(_GRID_READY, timeout=LOAD_TIMEOUT_MS, polling=100)
    except Exception as exc:
        raise AssertionError(
            f"the dashboard did not load: {exc}\nserver log:\n{app.log_text()[-3000:]}"
        ) from exc


def thumb_ids(page: Page) -> list[str]:
    return list(
        page.eval_on_selector_all(".gk-grid .gk-thumb", "nodes => nodes.map(n => n.dataset.id)")
    )


def seed_images(
    gallery: Gallery,
    prompts: list[str],
    *,
    size: int = 512,
    count: int = 1,
    seed: int | None = None,
    negative_prompt: str | None = None,
) -> list[ImageRecord]:
    """Generate and store images in the test process; returns them newest first."""
    from gallery_kit.bedrock.families import GenerationRequest

    made: list[ImageRecord] = []
    for prompt in prompts:
        result = gallery.generate(
            GenerationRequest(
                prompt=prompt,
                negative_prompt=negative_prompt,
                width=size,
                height=size,
                count=count,
                seed=seed,
                model_id=gallery.default_model_id,
            )
        )
        made = result.records + made
    return made


def store_ids(gallery: Gallery) -> list[str]:
    """Every stored image id, newest first."""
    ids: list[str] = []
    cursor = None
    while True:
        page = gallery.page(cursor=cursor, limit=1000)
        ids += [r.id for r in page.records]
        cursor = page.next_cursor
        if cursor is None:
            return ids


def assert_no_traceback(page: Page) -> None:
    text = page.inner_text("body")
    assert "Traceback" not in text, text[-2000:]
