"""s3rver (npm, filesystem-backed) as a second, independent S3 implementation for the tests.

Installed from tests/support/s3rver/package-lock.json on first use (``npm ci``; ``.ci/run`` does
it up front), started on 127.0.0.1 on a free port with a data folder of its own, and stopped by
the session. It accepts only its own credentials (``S3RVER`` / ``S3RVER``).

Known differences from Amazon S3 (handled by gallery_kit or written down in the README):
- it stores each key's ``/``-separated parts as file and folder names, so a part of more than
  ~233 bytes (255 minus its ``._S3rver_metadata.json`` suffix) crashes it;
- ``ListObjectsV2`` with a delimiter leaves out some common prefixes of nested folders;
- a truncated listing's continuation token needs Node's legacy OpenSSL provider (set here).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent / "s3rver"
BINARY = HERE / "node_modules" / ".bin" / "s3rver"
# s3rver's built-in test credentials (public, in its README), not a secret.
ACCESS_KEY = SECRET_KEY = "S3RVER"  # noqa: S105 - a local test server's fixed credentials
INSTALL_HINT = (
    "s3rver (the second S3 implementation) needs Node.js and npm: `sudo apt-get install nodejs "
    "npm`, then `npm ci --prefix tests/support/s3rver`; or run the tests with --s3=moto"
)


def ensure_installed() -> Path | None:
    """The s3rver executable, installed from the lock file when missing; None without npm."""
    if BINARY.exists():
        return BINARY
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        return None
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(HERE)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return BINARY if BINARY.exists() else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class S3rver:
    """One s3rver process on 127.0.0.1 serving ``directory``."""

    def __init__(self, binary: Path, directory: Path) -> None:
        self.port = _free_port()
        self.directory = directory
        self.log = directory.parent / "s3rver.log"
        # Its request log goes to a file beside the data: the first thing to read on a failure.
        command = [str(binary), "-d", str(directory), "-a", "127.0.0.1", "-p", str(self.port)]
        with self.log.open("wb") as log:
            # Its continuation tokens use a cipher OpenSSL 3 keeps in the legacy provider.
            env = {**os.environ, "NODE_OPTIONS": "--openssl-legacy-provider"}
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"s3rver exited at start: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("s3rver did not start listening within 20 s")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
