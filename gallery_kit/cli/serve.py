"""``gallery-kit serve``: the dashboard notebook served by Voilà behind gallery_kit's gate
(``gallery_kit.server``: a bound on sessions, a page rate per client, no kernel for nobody)."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
from pathlib import Path

from gallery_kit.bedrock.lifecycle import ModelCatalog
from gallery_kit.errors import ConfigError
from gallery_kit.server.app import ServerLimits
from gallery_kit.settings import ENV_FILE_VAR, Settings, find_env_file

#: The repository's notebook (a source checkout); installed copies write their own.
REPO_NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "gallery.ipynb"

NOTEBOOK_SOURCE = """\
# The dashboard. All logic lives in gallery_kit; settings come from the environment or .env
# (no S3_BUCKET_NAME: offline mode with placeholder images). Serve it: `uv run gallery-kit serve`.
from gallery_kit.ui import GalleryApp

GalleryApp.from_settings()"""


def notebook_json() -> dict[str, object]:
    """The dashboard notebook (nbformat 4): one cell that builds and shows the app."""
    return {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "gallery-app",
                "metadata": {},
                "outputs": [],
                "source": NOTEBOOK_SOURCE.splitlines(keepends=True),
            }
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def notebook_path(settings: Settings) -> Path:
    if REPO_NOTEBOOK.is_file():
        return REPO_NOTEBOOK
    # Installed from a wheel: write the same two cells into a folder that holds no images.
    folder = settings.data_dir / "notebook"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "gallery.ipynb"
    path.write_text(json.dumps(notebook_json(), indent=1) + "\n", encoding="utf-8")
    return path


def voila_flags(*, host: str, port: int) -> list[str]:
    """Voilà's flags for any served notebook: loopback unless asked, no tracebacks, no sources."""
    return [
        "--no-browser",
        f"--port={port}",
        f"--Voila.ip={host}",
        "--Voila.port_retries=0",
        "--show_tracebacks=False",
        "--strip_sources=True",
    ]


def voila_command(
    notebook: Path, *, host: str, port: int, limits: ServerLimits | None = None
) -> list[str]:
    """Voilà behind gallery_kit's gate (``python -m gallery_kit.server``), with its flags."""
    limits = limits or ServerLimits.from_settings(Settings())
    return [
        sys.executable,
        "-m",
        "gallery_kit.server",
        str(notebook),
        *voila_flags(host=host, port=port),
        *limits.voila_flags(),
    ]


def banner(settings: Settings, *, host: str, port: int) -> str:
    """``serve``'s first line: where, which mode, and which model is the default and why."""
    choice = ModelCatalog.from_settings(settings).default_choice(settings.model_id)
    mode = (
        "offline (placeholders, local folder)"
        if settings.offline
        else f"AWS: s3://{settings.bucket}/{settings.prefix}"
    )
    return f"gallery-kit: serving the dashboard at http://{host}:{port}/  [{mode}] {choice.reason}"


def limits_line(limits: ServerLimits) -> str:
    """``serve``'s second line: the bounds in force (see the README's Reliability section)."""
    rate = f"{limits.page_rate} pages/min per address" if limits.page_rate else "no page-rate limit"
    return (
        f"gallery-kit: at most {limits.max_sessions} sessions at once ({limits.pool_size} kept "
        f"ready), {rate}, idle sessions closed after {limits.idle_minutes:g} min"
    )


LOOPBACK = {"127.0.0.1", "localhost", "::1"}
#: Characters a token may hold: it travels in a URL.
_TOKEN = re.compile(r"[A-Za-z0-9._~-]{8,200}")


def choose_token(token: str | None, *, host: str, no_token: bool) -> str | None:
    """The token visitors must give (None: none). ``auto`` makes one. Beyond loopback a token
    is required (every Generate is paid for) unless ``no_token`` says a proxy authenticates."""
    if token and no_token:
        raise ConfigError("--token and --no-token together: pick one.")
    if token == "auto":  # noqa: S105 - the word that asks for one, not a secret
        return secrets.token_urlsafe(24)
    if token is not None and not _TOKEN.fullmatch(token):
        raise ConfigError(
            "The token must be 8-200 letters, digits or ._~- (it travels in the URL); "
            "or use --token auto."
        )
    if not token and not no_token and host not in LOOPBACK:
        raise ConfigError(
            f"Serving on {host} (beyond this machine) without a token would let anyone who "
            "reaches it generate paid images: add --token auto (or --token TOKEN, or "
            "GALLERY_TOKEN), or --no-token when an authenticating proxy is in front."
        )
    return token or None


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8866,
    token: str | None = None,
    no_token: bool = False,
) -> int:
    if not 0 < port < 65536:
        raise ConfigError(f"--port {port} is not a TCP port; use 1-65535.")
    token = choose_token(
        token if token is not None else settings.token, host=host, no_token=no_token
    )
    notebook = notebook_path(settings)
    limits = ServerLimits.from_settings(settings)
    print(banner(settings, host=host, port=port), flush=True)
    print(limits_line(limits), flush=True)
    if token:
        print(f"gallery-kit: open http://{host}:{port}/?token={token}", flush=True)
    elif host not in LOOPBACK:
        print(
            "gallery-kit: warning: no token (--no-token): the proxy in front must authenticate "
            "every visitor; each Generate is a paid call.",
            file=sys.stderr,
            flush=True,
        )
    env = dict(os.environ)
    # The kernel runs in notebooks/; keep the settings the server resolved (incl. .env).
    env.setdefault("GALLERY_DATA_DIR", str(settings.data_dir))
    env_file = find_env_file(os.environ)
    env.setdefault(ENV_FILE_VAR, str(env_file) if env_file else "")
    command = voila_command(notebook, host=host, port=port, limits=limits)
    if token:
        command.append(f"--Voila.token={token}")
    server = subprocess.Popen(command, env=env)  # noqa: S603 - our own argv, no shell
    # Stopped (SIGTERM) or interrupted (Ctrl-C reaches both): exit once the server has shut its
    # kernels down and left the port, so a restart on the same port finds it free.
    signal.signal(signal.SIGTERM, lambda signum, _frame: server.send_signal(signum))
    interrupted = False
    while True:
        try:
            code = server.wait()
        except KeyboardInterrupt:
            interrupted = True
            continue
        return 0 if interrupted else code
