"""The endpoint itself: HTTP on 127.0.0.1, auth, recording, scripting, and routing to the families.

Every request is recorded, then answered in this order: no ``Authorization`` header or another
scheme than SigV4 (or a Bedrock API key when allowed) gets the AWS front door's error; the control
plane's listing goes to ``control_plane``; a model call goes to its request family, whose checks
make the plan of the ok answer (or the errors a ``ValidationException`` names); the next scripted
``Reply`` then decides the answer: a delay, an error, garbage, or what the family answers.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import sys
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.bedrock import (
    control_plane,
    converse,
    nova_canvas,
    stability,
    stability_services,
)
from tests.support.bedrock.checks import Checker, check_transport, malformed
from tests.support.bedrock.images import Plan, render
from tests.support.bedrock.replies import ERROR_STATUS, ERROR_TYPE_SUFFIX, MESSAGES, Answer, Reply

__all__ = ["BedrockEndpoint", "RecordedRequest", "model_family"]


def model_family(model_id: str) -> str | None:
    """'nova', 'stability' (text-to-image), 'stability-service', or None if unknown."""
    if model_id in (nova_canvas.NOVA_CANVAS, nova_canvas.TITAN_V2):
        return "nova"
    bare = stability.strip_profile(model_id)
    if bare in stability.STABILITY_T2I:
        return "stability"
    if bare in stability_services.STABILITY_SERVICES:
        return "stability-service"
    return None


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received. ``body`` is the parsed JSON (None when it was not JSON)."""

    model_id: str
    body: Any
    headers: dict[str, str]
    path: str = ""
    raw: bytes = b""

    @property
    def region(self) -> str | None:
        """The region of the SigV4 credential scope, if the request was signed."""
        match = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/", self.header("authorization") or "")
        return match.group(1) if match else None

    @property
    def operation(self) -> str:
        """``invoke``, ``converse`` or ``""`` (another path)."""
        match = re.fullmatch(r"/model/[^/]+/(invoke|converse)", urlsplit(self.path).path)
        return match.group(1) if match else ""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


class _Abort(Exception):
    """Drop the connection without an answer (the endpoint is stopping, or ``Reply.hang_up``)."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    endpoint: BedrockEndpoint

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client dropping its keep-alive connection (timeouts, stop()) is normal here.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections end on their own
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stall
    wbufsize = -1  # buffered; _send flushes once per response

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        return

    def setup(self) -> None:
        super().setup()
        self.server.endpoint._track(self.connection, add=True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.endpoint._track(self.connection, add=False)

    def do_POST(self) -> None:
        self.server.endpoint._handle(self)

    def do_GET(self) -> None:
        self.server.endpoint._handle(self)

    do_PUT = do_GET
    do_DELETE = do_GET


@dataclass(frozen=True)
class _Family:
    """A model call's request family: its checks (body, checker -> plan or None) and answers."""

    check: Callable[[Any, Checker], Any]
    answer: Callable[[Reply, Any], Answer]


class BedrockEndpoint:
    """A scripted, schema-checking Bedrock Runtime ``InvokeModel`` endpoint on 127.0.0.1.

    Attributes read by tests: ``url``, ``requests``, ``violations``, ``sent_images``.
    Set ``small_images = True`` to make Stability and Converse answers 1/8 of their real size.
    ``converse_text`` is the text block a Converse answer puts before its image (None: none).
    Set ``allow_bearer_token = True`` to also accept ``Authorization: Bearer ...`` (Bedrock API
    keys); by default only SigV4 is accepted.
    ``nova_seed_max`` (default ``NOVA_SEED_MAX`` = 858,993,459) is the largest Nova Canvas seed
    accepted; set it to 2_147_483_646 to follow the other reading of the docs.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host, self._port = host, port
        self.requests: list[RecordedRequest] = []
        #: The control plane's requests (ListFoundationModels), apart from the model calls.
        self.control_requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self.sent_images: list[bytes] = []
        self.small_images = False
        self.allow_bearer_token = False
        self.nova_seed_max = nova_canvas.NOVA_SEED_MAX
        self.converse_text: str | None = "Here is the image you asked for."
        #: GET /foundation-models: region -> model summaries ("*" for any other region), or
        #: set ``foundation_models_reply`` (e.g. an AccessDeniedException) to answer that.
        self.foundation_models: dict[str, list[dict[str, Any]]] = {
            k: list(v) for k, v in control_plane.DEFAULT_FOUNDATION_MODELS.items()
        }
        self.foundation_models_reply: Reply | None = None
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque()
        self._default = Reply.ok()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ----
    def start(self) -> BedrockEndpoint:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self._host, self._port), _Handler)
        server.endpoint = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake delayed requests, close open connections and join."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> BedrockEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the endpoint is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def port(self) -> int:
        return int(urlsplit(self.url).port or 0)

    # ---- scripting ----
    def script(self, *replies: Reply) -> None:
        """Queue replies for the next valid requests, in order; then ``always``/ok behaviour."""
        with self._lock:
            self._queue.extend(replies)

    def always(self, reply: Reply) -> None:
        """Replace the default behaviour (after the queue) until ``reset()``."""
        with self._lock:
            self._default = reply

    def reset(self) -> None:
        """Clear the script and the default behaviour. Recorded lists are kept."""
        with self._lock:
            self._queue.clear()
            self._default = Reply.ok()

    def clear_records(self) -> None:
        with self._lock:
            self.requests.clear()
            self.control_requests.clear()
            self.violations.clear()
            self.sent_images.clear()

    @property
    def pending_script(self) -> int:
        with self._lock:
            return len(self._queue)

    # ---- internals ----
    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._queue.popleft() if self._queue else self._default

    def _violation(self, text: str) -> None:
        with self._lock:
            self.violations.append(text)

    def _handle(self, h: _Handler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        path = urlsplit(h.path).path
        match = re.fullmatch(r"/model/([^/]+)/(?:invoke|converse)", path)
        model_id = unquote(match.group(1)) if match else ""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k: v for k, v in h.headers.items()}
        record = RecordedRequest(model_id, body, headers, h.path, raw)
        with self._lock:
            # Listings are free and asked at start: kept apart from the (paid) model calls.
            control = path == "/foundation-models"
            (self.control_requests if control else self.requests).append(record)
        try:
            self._respond(h, raw, body, model_id, match is not None, path)
        except _Abort:
            h.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True

    def _respond(
        self, h: _Handler, raw: bytes, body: Any, model_id: str, routed: bool, path: str
    ) -> None:
        auth = h.headers.get("Authorization")
        if not auth:
            self._send_error(h, "MissingAuthenticationTokenException", MESSAGES["missing_auth"])
            return
        bearer_ok = self.allow_bearer_token and auth.startswith("Bearer ")
        if not (auth.startswith("AWS4-HMAC-SHA256 ") or bearer_ok):
            self._send_error(h, "UnrecognizedClientException", MESSAGES["bad_auth"])
            return
        if h.command == "GET" and path == "/foundation-models":
            self._list_foundation_models(h)
            return
        if h.command != "POST" or not routed:
            self._unsupported(h, path)
            return
        family = self._family(h, model_id, path)
        if family is None:
            return
        checker = Checker()
        check_transport(h.headers, raw, body, checker)
        plan = None if checker.errors else family.check(body, checker)
        if checker.errors or plan is None:
            errors = checker.errors or ["#: request rejected"]
            for error in errors:
                self._violation(f"{model_id}: {error}")
            self._send_error(h, "ValidationException", malformed(errors))
            return
        reply = self._next_reply()
        while reply.kind == "delay":
            if self._stopping.wait(reply.seconds):
                raise _Abort
            reply = reply.then or Reply.ok()
        if reply.kind == "hang_up":
            raise _Abort
        if reply.kind == "garbage":
            self._send(h, 200, b"<html><body>502 Bad Gateway</body></html>")
            return
        answer = reply if reply.kind == "error" else family.answer(reply, plan)
        if isinstance(answer, Reply):
            self._send_error(
                h, answer.code or "ValidationException", answer.message or "", answer.status
            )
        else:
            self._send_json(h, answer)

    def _family(self, h: _Handler, model_id: str, path: str) -> _Family | None:
        """The request family of a model call, or None when it was answered (misrouted, or an
        unknown model)."""
        via_converse = path.endswith("/converse")
        family = model_family(model_id)
        if converse.is_omni(model_id):
            if via_converse:
                return _Family(
                    lambda body, c: converse.check(model_id, body, c, self.small_images),
                    lambda reply, plan: converse.answer(
                        reply, plan, self._image, self.converse_text
                    ),
                )
            text = "Nova 2 Omni must be called through Converse, not InvokeModel"
            self._violation(f"{model_id}: {text}")
            self._send_error(
                h, "ValidationException", malformed(["#: use Converse for Nova 2 Omni"])
            )
            return None
        if via_converse and family is not None:
            # The InvokeModel-only image models keep the endpoint's old answer to /converse.
            self._unsupported(h, path)
            return None
        if family == "nova":
            return _Family(
                lambda body, c: nova_canvas.check(model_id, body, c, self.nova_seed_max),
                lambda reply, plan: nova_canvas.answer(reply, plan, self._image),
            )
        if family is not None:
            checks = stability.check if family == "stability" else stability_services.check
            return _Family(
                lambda body, c: checks(model_id, body, c, self.small_images),
                lambda reply, plan: stability.answer(reply, plan, self._image),
            )
        where = " (Converse)" if via_converse else ""
        self._violation(f"{model_id}: unknown model identifier{where}")
        self._send_error(h, "ValidationException", MESSAGES["invalid_model_id"])
        return None

    def _unsupported(self, h: _Handler, path: str) -> None:
        self._violation(f"unsupported operation: {h.command} {path}")
        self._send_error(h, "UnknownOperationException", f"Unknown operation {h.command} {path}")

    def _list_foundation_models(self, h: _Handler) -> None:
        reply = self.foundation_models_reply
        if reply is not None and reply.kind == "error":
            self._send_error(h, reply.code or "AccessDeniedException", reply.message or "")
            return
        query = parse_qs(urlsplit(h.path).query)
        unknown = sorted(set(query) - control_plane.QUERY_PARAMETERS)
        if unknown:
            self._violation(f"ListFoundationModels: unsupported query parameter {unknown[0]}")
        region = RecordedRequest("", None, dict(h.headers.items())).region or "*"
        summaries = control_plane.listed(self.foundation_models, region, query)
        self._send_json(h, {"modelSummaries": summaries})

    def _image(self, plan: Plan, index: int) -> str:
        data = render(plan, index)
        with self._lock:
            self.sent_images.append(data)
        return base64.b64encode(data).decode("ascii")

    # ---- writing ----
    def _send_json(self, h: _Handler, payload: Any) -> None:
        self._send(h, 200, json.dumps(payload).encode())

    def _send_error(self, h: _Handler, code: str, message: str, status: int | None = None) -> None:
        status = status or ERROR_STATUS.get(code, 400)
        body = json.dumps({"message": message}).encode()
        self._send(h, status, body, {"x-amzn-ErrorType": code + ERROR_TYPE_SUFFIX})

    def _send(
        self, h: _Handler, status: int, body: bytes, extra: dict[str, str] | None = None
    ) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for key, value in (extra or {}).items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()
