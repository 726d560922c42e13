"""The caller's identity from AWS (``sts:GetCallerIdentity``: it needs no IAM permission), asked
once per process. Any failure answers None, quietly: the name then comes from the OS user."""

from __future__ import annotations

import logging
import threading
from typing import Any

from gallery_kit.team.identity import name_from_arn

#: No ``mypy-boto3-sts`` stubs in the lock for one call: the client is typed loosely.
STSClient = Any

log = logging.getLogger(__name__)

_lock = threading.Lock()
_asked = False
_name: str | None = None


def sts_client(region: str | None) -> STSClient:
    """A client that gives up fast: a name is not worth a slow first Generate."""
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=region or "us-east-1",
        connect_timeout=2,
        read_timeout=5,
        retries={"total_max_attempts": 1},
    )
    return boto3.client("sts", config=config)


def ask(client: STSClient) -> str | None:
    """The readable name in ``client``'s caller identity, or None."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        arn = client.get_caller_identity()["Arn"]
    except (BotoCoreError, ClientError, KeyError) as exc:
        log.info("no caller identity from AWS (the OS user is recorded instead): %s", exc)
        return None
    return name_from_arn(arn)


def caller_name(region: str | None = None, *, client: STSClient | None = None) -> str | None:
    """:func:`ask`, once per process (the answer, or its failure, is kept)."""
    global _asked, _name
    with _lock:
        if not _asked:
            _name = ask(client or sts_client(region))
            _asked = True
        return _name


def forget() -> None:
    """Ask again next time (credentials changed; the tests)."""
    global _asked, _name
    with _lock:
        _asked, _name = False, None
