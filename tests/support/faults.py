"""A fault-injecting HTTP proxy in front of moto's S3 server, for reliability tests.

boto3 reaches it through AWS_ENDPOINT_URL_S3 exactly as it would reach S3. It forwards every
request to moto unchanged, except when told to fail: answer 503 to a share of writes, hang, or
drop connections as a dead server would.
"""

from __future__ import annotations

import http.client
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class FaultyProxy:
    """Forward to ``target`` (``http://127.0.0.1:PORT``); inject faults on demand."""

    def __init__(self, target: str, *, seed: int = 7) -> None:
        parts = urlsplit(target)
        self.target_host = parts.hostname or "127.0.0.1"
        self.target_port = parts.port or 80
        #: Share of PUT requests answered 503 (0..1).
        self.fail_writes = 0.0
        #: When True every request's connection is closed at once (S3 unreachable).
        self.down = False
        #: When True PUT requests are held until release() (or the proxy stops).
        self.hang_writes = False
        #: Refuse PUTs of a key with a part longer than this (as a filesystem-backed store with
        #: a small name limit would): 400 KeyTooLongError. None: no such limit.
        self.max_key_part: int | None = None
        #: Fail every PUT of a key containing this (a process dying at that step).
        self.fail_keys: str | None = None
        self.writes_seen = 0
        self.writes_failed = 0
        # Bumped by drop_held(): writes held before it are dropped, not forwarded.
        self._held_round = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._release = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                proxy._serve(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def release(self) -> None:
        self.hang_writes = False
        self._release.set()

    def drop_held(self) -> None:
        """Stop holding writes; those held so far are dropped (their client died with them),
        not forwarded."""
        self._held_round += 1
        self.release()

    def _should_fail_write(self) -> bool:
        with self._lock:
            self.writes_seen += 1
            fail = self._rng.random() < self.fail_writes
            if fail:
                self.writes_failed += 1
            return fail

    def _too_long(self, path: str) -> bool:
        if self.max_key_part is None:
            return False
        parts = unquote(urlsplit(path).path).split("/")
        return any(len(part.encode("utf-8")) > self.max_key_part for part in parts)

    @staticmethod
    def _error(handler: BaseHTTPRequestHandler, status: int, code: str, message: str) -> None:
        payload = (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>"
        ).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/xml")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        if self.down:
            handler.close_connection = True
            handler.connection.close()
            return
        if handler.command == "PUT":
            if self.hang_writes:
                held_round = self._held_round
                self._release.wait(timeout=120)
                if self.down or self.hang_writes or held_round != self._held_round:
                    handler.close_connection = True
                    return
            if self._too_long(handler.path):
                self._error(handler, 400, "KeyTooLongError", "Your key is too long")
                return
            if self.fail_keys and self.fail_keys in unquote(handler.path):
                self._error(handler, 503, "SlowDown", "Please reduce your request rate.")
                return
            if self._should_fail_write():
                self._error(handler, 503, "SlowDown", "Please reduce your request rate.")
                return
        upstream = http.client.HTTPConnection(self.target_host, self.target_port, timeout=30)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_HEADERS}
            upstream.request(handler.command, handler.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            handler.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in _HOP_HEADERS and key.lower() != "content-length":
                    handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(data)
        finally:
            upstream.close()
