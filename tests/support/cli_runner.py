"""Running the real ``gallery-kit`` console script in a subprocess, for the CLI tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(sys.executable).parent / "gallery-kit"

#: The fields every ``--json`` image line carries (the CLI contract other tools rely on).
RECORD_FIELDS = frozenset(
    {
        "id",
        "prompt",
        "negative_prompt",
        "seed",
        "width",
        "height",
        "model_id",
        "created_at",
        "uri",
        "thumbnail_uri",
    }
)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One JSON object per non-empty stdout line (``--json`` output)."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    @property
    def row(self) -> dict[str, Any]:
        """The single ``--json`` object printed."""
        (only,) = self.rows
        return only


def gk(*args: str, cwd: Path) -> Run:
    """Run the installed console script with the test's environment (set by monkeypatch)."""
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "gallery_kit.cli.main"]
    done = subprocess.run(
        [*command, *args],
        env=os.environ.copy(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return Run(done.returncode, done.stdout, done.stderr)


def one_line_error(run: Run) -> str:
    """The error: exactly one line on stderr, starting ``gallery-kit: ``."""
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("gallery-kit: ")
    return lines[0]


def gk_on_a_terminal(*args: str, cwd: Path) -> Run:
    """:func:`gk` with stderr on a pseudo-terminal (where progress bars are drawn); stdout
    stays a pipe, as when a user pipes the output to a file."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "gallery_kit.cli.main"]
    primary, secondary = pty.openpty()
    # A terminal's size, as a real one has (a new pseudo-terminal is 0 columns wide).
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(
        [*command, *args],
        env={**os.environ, "COLUMNS": "100"},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=secondary,
        text=True,
    )
    os.close(secondary)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([primary], [], [], 90)
            if not ready:
                proc.kill()
                break
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        stdout = proc.stdout.read() if proc.stdout else ""
        code = proc.wait(timeout=30)
    finally:
        os.close(primary)
        if proc.stdout:
            proc.stdout.close()
    return Run(code, stdout, b"".join(chunks).decode("utf-8", "replace"))
