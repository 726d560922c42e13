"""Who makes an image: resolved in the kernel or command's own process, never from the browser.

In order: ``GALLERY_USER``; ``JUPYTERHUB_USER`` (served under a hub); in AWS mode a readable
name out of the caller's identity (``sts:GetCallerIdentity``: the role session name or the
user name); the operating-system user. Pure apart from the callable that asks AWS.
"""

from __future__ import annotations

import getpass
import unicodedata
from collections.abc import Callable

#: A name goes into index keys and ledger keys: kept short.
MAX_NAME = 64
UNKNOWN = "unknown"


def clean_name(value: str | None) -> str:
    """``value`` without control characters or surrounding space, at most :data:`MAX_NAME`
    characters; "" for nothing usable."""
    if not value:
        return ""
    kept = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C")
    return kept.strip()[:MAX_NAME].strip()


def name_from_arn(arn: str) -> str | None:
    """A readable name in a caller's ARN: the session name of an assumed role (with IAM
    Identity Center, the user's e-mail or name), an IAM or federated user's name, ``root``."""
    _arn, _partition, service, _region, _account, resource, *_ = (arn + "::::::").split(":", 6)
    if service not in ("iam", "sts") or not resource:
        return None
    kind, _, rest = resource.partition("/")
    if kind == "root" and not rest:
        return "root"
    if kind == "assumed-role":
        _role, _, session = rest.partition("/")
        return clean_name(session) or None
    if kind in ("user", "federated-user"):
        return clean_name(rest.rsplit("/", 1)[-1]) or None
    return None


def os_user() -> str:
    try:
        return clean_name(getpass.getuser()) or UNKNOWN
    except (KeyError, OSError):  # no passwd entry (some containers), no USER variable
        return UNKNOWN


def resolve_user(
    *,
    gallery_user: str | None,
    hub_user: str | None,
    aws_name: Callable[[], str | None] | None = None,
    fallback: Callable[[], str] = os_user,
) -> str:
    """The first of: ``gallery_user``, ``hub_user``, ``aws_name()`` (AWS mode only: None
    otherwise), ``fallback()``."""
    for name in (gallery_user, hub_user):
        if cleaned := clean_name(name):
            return cleaned
    if aws_name is not None and (cleaned := clean_name(aws_name())):
        return cleaned
    return clean_name(fallback()) or UNKNOWN
