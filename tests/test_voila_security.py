"""What a visitor of the served dashboard cannot do: run code, or see a traceback.

Voilà passes only widget (comm) and kernel-info messages from the browser to the kernel; this
keeps it so. A test sends an ``execute_request`` over the page's own kernel websocket, exactly as
a hostile page script could, and checks it never ran.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.browser import ServedApp, start_app


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedApp]:
    app = start_app(os.environ.copy(), tmp_path / "serve")
    try:
        yield app
    finally:
        app.stop()


def _message(msg_type: str, content: dict[str, object]) -> str:
    header = {
        "msg_id": uuid.uuid4().hex,
        "msg_type": msg_type,
        "session": uuid.uuid4().hex,
        "username": "visitor",
        "date": "2026-01-01T00:00:00Z",
        "version": "5.3",
    }
    return json.dumps(
        {
            "header": header,
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": "shell",
            "buffers": [],
        }
    )


async def _talk(url: str, kernel_id: str, marker: Path) -> list[str]:
    from tornado.websocket import websocket_connect

    ws_url = url.replace("http://", "ws://") + (
        f"api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}"
    )
    ws = await websocket_connect(ws_url)
    code = f"open({str(marker)!r}, 'w').write('ran')"
    await ws.write_message(
        _message(
            "execute_request",
            {
                "code": code,
                "silent": False,
                "store_history": False,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
        )
    )
    # The shell channel is handled in order: once this is answered, an execute would have run.
    await ws.write_message(_message("kernel_info_request", {}))
    seen: list[str] = []
    while "kernel_info_reply" not in seen:
        raw = await asyncio.wait_for(ws.read_message(), timeout=30)
        if raw is None:
            break
        if isinstance(raw, str):
            seen.append(json.loads(raw).get("header", {}).get("msg_type", ""))
    ws.close()
    return seen


def test_code_sent_from_the_browser_is_refused(served: ServedApp, tmp_path: Path) -> None:
    page = urllib.request.urlopen(served.url, timeout=60).read().decode()  # noqa: S310 - 127.0.0.1
    assert "Traceback" not in page
    kernel_id = re.search(r'"kernelId": "([0-9a-f-]{36})"', page)
    assert kernel_id, "the page names its kernel"
    marker = tmp_path / "code-ran"
    # A thread of its own: Playwright's sync API may already run an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        seen = pool.submit(asyncio.run, _talk(served.url, kernel_id.group(1), marker)).result()
    assert "kernel_info_reply" in seen  # the websocket works: the control message was answered
    assert "execute_reply" not in seen
    assert "execute_input" not in seen
    assert not marker.exists()


def test_serve_binds_loopback_by_default() -> None:
    from gallery_kit.cli.main import build_parser
    from gallery_kit.cli.serve import voila_command

    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"
    command = voila_command(Path("nb.ipynb"), host=args.host, port=args.port)
    assert "--Voila.ip=127.0.0.1" in command
    assert "--show_tracebacks=False" in command
