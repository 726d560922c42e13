"""Settings from the environment or ``.env``; the real environment wins over ``.env``.

A broken setting fails at start with one line naming the variable and the fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gallery_kit.bedrock.families import get_model
from gallery_kit.errors import ConfigError
from gallery_kit.records import MAX_SEGMENT_BYTES

#: Path of the ``.env`` file to read; empty disables it. Unset: search upwards from the cwd.
ENV_FILE_VAR = "GALLERY_ENV_FILE"

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_RE = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_REGION_RE = re.compile(
    r"^[a-z]{2}(-gov|-iso[a-z]*)?-(north|south|east|west|central|"
    r"northeast|northwest|southeast|southwest)-\d{1,2}$"
)
_PREFIX_RE = re.compile(r"^[A-Za-z0-9!_.*'()/-]*$")
GENERATORS = ("bedrock", "offline")


@dataclass(frozen=True, slots=True)
class Settings:
    bucket: str | None = None
    s3_region: str | None = None
    bedrock_region: str | None = None
    #: BEDROCK_MODEL_ID; None when unset (then the catalog picks a live default).
    model_id: str | None = None
    prefix: str = ""
    generator: str = "offline"
    data_dir: Path = Path()
    #: Generations allowed per dashboard session per minute (a shared URL costs money).
    rate_limit_per_minute: int = 10
    #: GALLERY_TRASH_DAYS: how long a trashed image can be restored.
    trash_days: int = 30
    #: GALLERY_USER, then JUPYTERHUB_USER: who new images are recorded as made by (see
    #: gallery_kit.team.identity for what comes after them).
    user: str | None = None
    hub_user: str | None = None
    #: GALLERY_DAILY_BUDGET_USD (the whole gallery, per UTC day) and GALLERY_SESSION_BUDGET_USD
    #: (one Gallery object: a dashboard session); None = no budget.
    daily_budget_usd: float | None = None
    session_budget_usd: float | None = None
    #: GALLERY_MAX_SESSIONS: page kernels a server runs at once (its ready pool included);
    #: None: from the machine's memory (``gallery_kit.server.limits.default_max_sessions``).
    max_sessions: int | None = None
    #: GALLERY_PAGE_RATE: pages one client address may open per minute (0 = no limit).
    page_rate_per_minute: int = 20
    #: GALLERY_IDLE_MINUTES: a page kernel with no browser connected this long is shut down.
    idle_minutes: float = 10.0
    #: GALLERY_TOKEN: what visitors of ``gallery-kit serve`` must give (``auto``: one is made).
    token: str | None = None

    @property
    def aws_mode(self) -> bool:
        return self.bucket is not None

    @property
    def offline(self) -> bool:
        return self.generator == "offline"

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("gallery-kit", appauthor=False))


def read_env_file(path: Path) -> dict[str, str]:
    """The ``.env`` file's variables; a line that does not parse is a ConfigError."""
    from dotenv.parser import parse_stream

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read {path} ({exc.strerror}); fix or remove it.") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text; save it as UTF-8.") from exc
    import io

    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            line = binding.original.line
            raise ConfigError(
                f"{path} line {line} is not NAME=value ({binding.original.string.strip()!r}); "
                "fix or remove that line."
            )
        if binding.key is not None and binding.value is not None:
            values[binding.key] = binding.value
    return values


def find_env_file(environ: Mapping[str, str]) -> Path | None:
    configured = environ.get(ENV_FILE_VAR)
    if configured is not None:
        return Path(configured).expanduser() if configured.strip() else None
    here = Path.cwd()
    for folder in (here, *here.parents):
        candidate = folder / ".env"
        if candidate.is_file():
            return candidate
    return None


def load_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment over the ``.env`` file's values.

    With ``environ`` None the ``.env`` values are also put into ``os.environ`` (never
    overriding), so boto3 sees ``AWS_PROFILE`` or ``AWS_ENDPOINT_URL_*`` set there.
    """
    source = os.environ if environ is None else environ
    path = find_env_file(source)
    from_file = read_env_file(path) if path else {}
    if environ is None:
        for key, value in from_file.items():
            os.environ.setdefault(key, value)
    return {**from_file, **source}


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _region(env: Mapping[str, str], name: str) -> str | None:
    value = _get(env, name)
    if value is not None and not _REGION_RE.match(value):
        raise ConfigError(
            f"{name}={value!r} is not an AWS region; use a code like us-east-1 or us-west-2."
        )
    return value


def _budget(env: Mapping[str, str], name: str, what: str) -> float | None:
    value = _get(env, name)
    if value is None:
        return None
    try:
        budget = float(value.removeprefix("$"))
        if not budget >= 0 or budget == float("inf"):
            raise ValueError
    except ValueError as exc:
        raise ConfigError(
            f"{name}={value!r} is not an amount of US dollars >= 0 (e.g. 5 or 12.50; {what}); "
            "unset it for no budget."
        ) from exc
    return budget


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting; raise ConfigError naming the first broken one."""
    env = load_environ(environ)
    bucket = _get(env, "S3_BUCKET_NAME")
    if bucket is not None and (
        not _BUCKET_RE.match(bucket) or ".." in bucket or _IP_RE.match(bucket)
    ):
        raise ConfigError(
            f"S3_BUCKET_NAME={bucket!r} is not a valid bucket name: use 3-63 lowercase "
            "letters, digits, dots or hyphens, starting and ending with a letter or digit."
        )
    s3_region = (
        _region(env, "S3_REGION")
        or _region(env, "AWS_REGION")
        or _region(env, "AWS_DEFAULT_REGION")
    )
    bedrock_region = _region(env, "BEDROCK_REGION")
    model_id = _get(env, "BEDROCK_MODEL_ID")
    try:
        if model_id is not None:
            get_model(model_id)
    except ConfigError as exc:
        raise ConfigError(str(exc).replace(" (or --model)", "")) from exc

    prefix = _get(env, "GALLERY_PREFIX") or ""
    if prefix and (
        not _PREFIX_RE.match(prefix) or ".." in prefix.split("/") or prefix.startswith("/")
    ):
        raise ConfigError(
            f"GALLERY_PREFIX={prefix!r} has characters S3 keys should not; use letters, "
            "digits and - _ . / (e.g. team-a/)."
        )
    long_part = next(
        (p for p in prefix.split("/") if len(p.encode("utf-8")) > MAX_SEGMENT_BYTES), None
    )
    if long_part is not None:
        raise ConfigError(
            f"GALLERY_PREFIX has a part of {len(long_part.encode('utf-8'))} bytes; keep each "
            f"part between slashes within {MAX_SEGMENT_BYTES} bytes (S3-compatible stores on a "
            "filesystem cap a name at 255)."
        )
    if prefix and not prefix.endswith("/"):
        prefix += "/"

    generator = (_get(env, "GALLERY_GENERATOR") or ("bedrock" if bucket else "offline")).lower()
    if generator not in GENERATORS:
        raise ConfigError(
            f"GALLERY_GENERATOR={generator!r} is unknown; use 'bedrock' or 'offline'."
        )

    data_dir_value = _get(env, "GALLERY_DATA_DIR")
    data_dir = Path(data_dir_value).expanduser() if data_dir_value else default_data_dir()
    data_dir = data_dir.resolve()
    notebooks = (Path(__file__).resolve().parent.parent / "notebooks").resolve()
    if data_dir.is_relative_to(notebooks):
        raise ConfigError(
            f"GALLERY_DATA_DIR={data_dir} is inside notebooks/, which Voilà serves to "
            "visitors; choose a folder outside it."
        )

    rate_value = _get(env, "GALLERY_RATE_LIMIT") or "10"
    try:
        rate = int(rate_value)
        if rate < 0:
            raise ValueError
    except ValueError as exc:
        raise ConfigError(
            f"GALLERY_RATE_LIMIT={rate_value!r} is not a whole number >= 0 "
            "(generations per minute per dashboard session; 0 = no limit)."
        ) from exc

    trash_value = _get(env, "GALLERY_TRASH_DAYS") or "30"
    try:
        trash_days = int(trash_value)
        if trash_days < 1:
            raise ValueError
    except ValueError as exc:
        raise ConfigError(
            f"GALLERY_TRASH_DAYS={trash_value!r} is not a whole number >= 1 (days an image "
            "stays in the trash before any server deletes it for good)."
        ) from exc

    max_value = _get(env, "GALLERY_MAX_SESSIONS")
    max_sessions = None
    if max_value is not None:
        max_sessions = _whole(
            max_value,
            "GALLERY_MAX_SESSIONS",
            minimum=1,
            meaning="dashboard sessions one server runs at once; unset: one per 300 MB of "
            "available memory, at least 4",
        )
    page_rate = _whole(
        _get(env, "GALLERY_PAGE_RATE") or "20",
        "GALLERY_PAGE_RATE",
        minimum=0,
        meaning="pages one client address may open per minute; 0 = no limit",
    )
    idle_value = _get(env, "GALLERY_IDLE_MINUTES") or "10"
    try:
        idle_minutes = float(idle_value)
        if not 0 < idle_minutes <= 7 * 24 * 60:  # also refuses nan and inf
            raise ValueError
    except ValueError as exc:
        raise ConfigError(
            f"GALLERY_IDLE_MINUTES={idle_value!r} is not a number of minutes > 0 (how long a "
            "dashboard session with no browser connected is kept; e.g. 10)."
        ) from exc

    return Settings(
        token=_get(env, "GALLERY_TOKEN"),
        user=_get(env, "GALLERY_USER"),
        hub_user=_get(env, "JUPYTERHUB_USER"),
        daily_budget_usd=_budget(env, "GALLERY_DAILY_BUDGET_USD", "per UTC day, whole gallery"),
        session_budget_usd=_budget(env, "GALLERY_SESSION_BUDGET_USD", "per dashboard session"),
        bucket=bucket,
        s3_region=s3_region,
        bedrock_region=bedrock_region,
        model_id=model_id,
        prefix=prefix,
        generator=generator,
        data_dir=data_dir,
        rate_limit_per_minute=rate,
        trash_days=trash_days,
        max_sessions=max_sessions,
        page_rate_per_minute=page_rate,
        idle_minutes=idle_minutes,
    )


def _whole(value: str, name: str, *, minimum: int, meaning: str) -> int:
    try:
        number = int(value)
        if number < minimum:
            raise ValueError
    except ValueError as exc:
        raise ConfigError(
            f"{name}={value!r} is not a whole number >= {minimum} ({meaning})."
        ) from exc
    return number
