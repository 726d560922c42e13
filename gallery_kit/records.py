"""Image records: ids, the key layout, and the metadata JSON. Pure functions only.

Layout under the gallery's prefix (``GALLERY_PREFIX``)::

    gallery-kit/meta/<id>.json      the record below
    gallery-kit/images/<id>.<ext>   the model's original bytes, untouched
    gallery-kit/thumbs/<id>.webp    ~256 px WebP
    gallery-kit/children/<parent id>/<child id>   empty marker: lineage found with one LIST
    gallery-kit/index/<id>.<summary>   empty; the key itself carries what a grid tile shows

An id is ``<13-digit inverted epoch ms>-<10 hex>``: S3 lists keys in ascending order, so the
inverted timestamp puts the newest image first in the first ``ListObjectsV2`` page at any bucket
size, and the random suffix keeps concurrent writers apart. Adopted (foreign) images get a
suffix derived from their key, so two processes adopting the same object agree on its id.

The index keys make a page of the gallery one ``ListObjectsV2`` and nothing else: the summary
(prompt, model, operation, source) is base64url JSON in the key, written after the metadata and
deleted before it, so a listed image is always complete. Reading 24 metadata objects per page
instead cost more than everything else a page does (see bench/README.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from gallery_kit.errors import InvalidImage

ROOT = "gallery-kit/"
META_DIR = ROOT + "meta/"
IMAGES_DIR = ROOT + "images/"
THUMBS_DIR = ROOT + "thumbs/"
CHILDREN_DIR = ROOT + "children/"
INDEX_DIR = ROOT + "index/"
#: Small markers of what the index keys alone cannot tell a poller: an image deleted, or listed
#: late (an older id published after newer ones). "index-changes/" sorts right before "index/"
#: ("-" < "/"), so one LIST by the prefix ``index`` reads the new changes, then the newest images.
CHANGES_DIR = ROOT + "index-changes/"
#: Images in the trash: a marker each, holding when and the record (see gallery_kit.trash).
TRASH_DIR = ROOT + "trash/"
#: ZIP files made for a download (removed a day later).
EXPORTS_DIR = ROOT + "exports/"
#: The shared, rebuildable catalog: Parquet segments and the manifest naming them.
CATALOG_DIR = ROOT + "catalog/"
#: S3 keys are at most 1,024 bytes of UTF-8; a summary is shortened to fit.
MAX_KEY_BYTES = 1024
#: Each ``/``-separated part of a key we write stays within this. Filesystem-backed S3 servers
#: (MinIO, s3rver) store a key's parts as file names, capped at 255 bytes, and some add a
#: suffix of their own (s3rver: 22 bytes, ``._S3rver_metadata.json``).
MAX_SEGMENT_BYTES = 200
#: 2 (2026-12): created_by, cost_usd, cost_is_estimate (older records read with their defaults).
SCHEMA_VERSION = 2

_MAX_MS = 9_999_999_999_999
ID_RE = re.compile(r"^[0-9]{13}-[0-9a-f]{10}$")
_EXT_BY_TYPE = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


def new_image_id(now: datetime | None = None, suffix: str | None = None) -> str:
    """A fresh id whose sort order is newest first."""
    now = now or datetime.now(UTC)
    inverted = _MAX_MS - int(now.timestamp() * 1000)
    return f"{inverted:013d}-{suffix or secrets.token_hex(5)}"


def adopted_image_id(key: str, last_modified: datetime) -> str:
    """The id of a foreign object: dated by its LastModified, suffixed by its key's hash."""
    return new_image_id(last_modified, hashlib.sha256(key.encode()).hexdigest()[:10])


def created_at_of(image_id: str) -> datetime:
    return datetime.fromtimestamp((_MAX_MS - int(image_id[:13])) / 1000, UTC)


def is_image_id(value: str) -> bool:
    """True for a well-formed id; anything else never reaches a key or a path."""
    return bool(ID_RE.match(value))


def check_image_id(value: str) -> str:
    from gallery_kit.errors import ImageNotFound

    if not isinstance(value, str) or not is_image_id(value):
        raise ImageNotFound(
            f"{value!r} is not an image id (ids look like 8235781234567-1a2b3c4d5e); "
            "see `gallery-kit list`."
        )
    return value


def extension_for(content_type: str) -> str:
    return _EXT_BY_TYPE.get(content_type, "bin")


def meta_key(prefix: str, image_id: str) -> str:
    return f"{prefix}{META_DIR}{image_id}.json"


def original_key(prefix: str, image_id: str, content_type: str) -> str:
    return f"{prefix}{IMAGES_DIR}{image_id}.{extension_for(content_type)}"


def thumbnail_key(prefix: str, image_id: str) -> str:
    return f"{prefix}{THUMBS_DIR}{image_id}.webp"


def children_prefix(prefix: str, parent_id: str) -> str:
    """Where the markers of ``parent_id``'s children live (one LIST by this prefix)."""
    return f"{prefix}{CHILDREN_DIR}{parent_id}/"


def child_marker_key(prefix: str, parent_id: str, child_id: str) -> str:
    return children_prefix(prefix, parent_id) + child_id


def id_from_child_key(prefix: str, parent_id: str, key: str) -> str | None:
    start = children_prefix(prefix, parent_id)
    child_id = key[len(start) :] if key.startswith(start) else ""
    return child_id if is_image_id(child_id) else None


def index_prefix(prefix: str) -> str:
    return prefix + INDEX_DIR


def index_start_after(prefix: str, image_id: str) -> str:
    """The ``StartAfter`` for the page after ``image_id``: past every ``<id>.<summary>`` key."""
    # "/" sorts right after ".", and ids all have the same length.
    return f"{prefix}{INDEX_DIR}{image_id}/"


CHANGE_KINDS = ("added", "deleted")
#: An image published this long after its id's time also gets an ``added`` marker: pollers
#: read the newest index keys only down to about where they were last time.
LATE_AFTER = timedelta(seconds=60)


def is_late(image_id: str, now: datetime | None = None) -> bool:
    return (now or datetime.now(UTC)) - created_at_of(image_id) > LATE_AFTER


def change_key(prefix: str, at: datetime, image_id: str, kind: str) -> str:
    """A change marker: in time order (milliseconds, ascending), then the id and what happened."""
    if kind not in CHANGE_KINDS:
        raise ValueError(f"unknown change {kind!r}")
    return f"{prefix}{CHANGES_DIR}{int(at.timestamp() * 1000):013d}-{image_id}.{kind}"


def change_mark(prefix: str, at: datetime) -> str:
    """The ``StartAfter`` that reads the changes made from ``at`` on."""
    return f"{prefix}{CHANGES_DIR}{int(at.timestamp() * 1000) - 1:013d}~"


def change_from_key(prefix: str, key: str) -> tuple[str, str] | None:
    """(image id, kind) of a change marker's key; None for anything else."""
    start = prefix + CHANGES_DIR
    rest = key[len(start) :] if key.startswith(start) else ""
    stamp, _, tail = rest.partition("-")
    image_id, _, kind = tail.rpartition(".")
    if len(stamp) != 13 or not stamp.isdigit() or not is_image_id(image_id):
        return None
    return (image_id, kind) if kind in CHANGE_KINDS else None


def id_from_meta_key(prefix: str, key: str) -> str | None:
    start = prefix + META_DIR
    if not key.startswith(start) or not key.endswith(".json"):
        return None
    image_id = key[len(start) : -len(".json")]
    return image_id if is_image_id(image_id) else None


@dataclass(slots=True)
class ImageRecord:
    """Everything needed to show, find and reproduce one image."""

    id: str
    prompt: str
    model_id: str
    width: int
    height: int
    created_at: str
    content_type: str
    byte_size: int
    original_key: str
    thumbnail_key: str
    negative_prompt: str | None = None
    style: str | None = None
    quality: str | None = None
    cfg_scale: float | None = None
    seed: int | None = None
    #: Position in a multi-image request, and that request's size (to reproduce it).
    batch_index: int = 0
    batch_size: int = 1
    #: "generated", or "adopted" for an image another tool put under the prefix.
    source: str = "generated"
    parent_id: str | None = None
    operation: str | None = None
    #: Who made it (see gallery_kit.team.identity); "" in records written before 2026-12.
    created_by: str = ""
    #: The price table's estimate for this image (its request costs the batch's sum); 0 offline.
    cost_usd: float = 0.0
    #: The price is our guess (Nova 2 Omni is priced per output token).
    cost_is_estimate: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    schema: int = SCHEMA_VERSION

    def settings(self) -> dict[str, Any]:
        """The generation settings, as the panel and ``GenerationRequest`` name them."""
        return {
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "style": self.style,
            "width": self.width,
            "height": self.height,
            "quality": self.quality or "standard",
            "cfg_scale": self.cfg_scale,
            "seed": self.seed,
            "count": self.batch_size,
            "model_id": self.model_id,
        }


@dataclass(frozen=True, slots=True)
class ImageSummary:
    """What a grid tile shows of an image, read from its index key (no metadata GET)."""

    id: str
    prompt: str
    model_id: str = ""
    operation: str | None = None
    source: str = "generated"
    #: The prompt was cut to fit the key; the full one is in the metadata.
    shortened: bool = False
    #: For the seed filter of search (None in keys written before 2026-12, or no seed).
    seed: int | None = None
    #: For the made-by filter ("" in keys written before 2026-12).
    created_by: str = ""

    @classmethod
    def of(cls, record: ImageRecord) -> ImageSummary:
        return cls(
            record.id,
            record.prompt,
            record.model_id,
            record.operation,
            record.source,
            seed=record.seed,
            created_by=record.created_by,
        )


def index_key(prefix: str, record: ImageRecord) -> str:
    """``<prefix>gallery-kit/index/<id>.<base64url JSON>``, the summary cut into ``/``-separated
    parts of at most :data:`MAX_SEGMENT_BYTES`, the whole at most :data:`MAX_KEY_BYTES`; the
    prompt is shortened (and marked so) where it does not fit."""
    start = f"{prefix}{INDEX_DIR}{record.id}."
    fields_: dict[str, Any] = {"m": record.model_id}
    if record.operation:
        fields_["o"] = record.operation
    if record.source != "generated":
        fields_["s"] = record.source
    if record.seed is not None:
        fields_["e"] = record.seed
    if record.created_by:
        fields_["b"] = record.created_by

    def encode(length: int) -> str:
        cut = length < len(record.prompt)
        return _split(
            start, _b64(dict(fields_, p=record.prompt[:length], **({"t": 1} if cut else {})))
        )

    def fits(key: str) -> bool:
        return len(key.encode("utf-8")) <= MAX_KEY_BYTES

    if fits(whole := encode(len(record.prompt))):
        return whole
    # The longest prefix of the prompt that fits (binary search: a few encodes at most).
    low, high = 0, len(record.prompt) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if fits(encode(middle)):
            low = middle
        else:
            high = middle - 1
    return encode(low)


def _split(start: str, encoded: str) -> str:
    """``start + encoded`` with a ``/`` wherever a part would pass :data:`MAX_SEGMENT_BYTES`
    (base64url has no ``/`` of its own, so the reader just takes them out again)."""
    head = start.rsplit("/", 1)[-1]
    first = MAX_SEGMENT_BYTES - len(head.encode("utf-8"))
    parts = [encoded[:first]]
    rest = encoded[first:]
    while rest:
        parts.append(rest[:MAX_SEGMENT_BYTES])
        rest = rest[MAX_SEGMENT_BYTES:]
    return start + "/".join(parts)


def segments_fit(key: str) -> bool:
    """Whether every ``/``-separated part of ``key`` is within :data:`MAX_SEGMENT_BYTES`."""
    return all(len(part.encode("utf-8")) <= MAX_SEGMENT_BYTES for part in key.split("/"))


def _b64(value: dict[str, Any]) -> str:
    raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def summary_from_index_key(prefix: str, key: str) -> ImageSummary | str | None:
    """The summary in an index key; the bare id when the summary cannot be read (anyone with
    write access to the bucket can put keys here); None when it is not an index key at all."""
    start = prefix + INDEX_DIR
    if not key.startswith(start):
        return None
    image_id, _, encoded = key[len(start) :].partition(".")
    if not is_image_id(image_id):
        return None
    # Written in parts ("/"-separated) since 2026-12; older keys hold it in one.
    encoded = encoded.replace("/", "")
    try:
        raw = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (binascii.Error, ValueError):
        return image_id
    if not isinstance(raw, dict) or not isinstance(raw.get("p"), str):
        return image_id
    text = {k: raw.get(k) for k in ("m", "o", "s", "b")}
    if not all(v is None or isinstance(v, str) for v in text.values()):
        return image_id
    seed = raw.get("e")
    return ImageSummary(
        id=image_id,
        prompt=raw["p"],
        model_id=text["m"] or "",
        operation=text["o"],
        source=text["s"] or "generated",
        shortened=bool(raw.get("t")),
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        created_by=text["b"] or "",
    )


_FIELDS = {f.name for f in fields(ImageRecord)}
_REQUIRED = {
    f.name for f in fields(ImageRecord) if f.default is MISSING and f.default_factory is MISSING
}


def record_to_json(record: ImageRecord) -> bytes:
    # ensure_ascii=False keeps Korean and emoji readable in the object; UTF-8 on the wire.
    return json.dumps(asdict(record), ensure_ascii=False, sort_keys=True).encode("utf-8")


def record_from_json(data: bytes, *, where: str) -> ImageRecord:
    """Parse a metadata object; ``where`` (its key) goes into the error message."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidImage(
            f"The metadata {where} is not valid JSON ({exc}); delete or fix that object."
        ) from exc
    if not isinstance(raw, dict):
        raise InvalidImage(f"The metadata {where} is not a JSON object; delete or fix it.")
    missing = sorted(_REQUIRED - raw.keys())
    if missing:
        raise InvalidImage(
            f"The metadata {where} lacks {', '.join(missing)}; delete or fix that object."
        )
    known = {k: v for k, v in raw.items() if k in _FIELDS}
    try:
        record = ImageRecord(**known)
    except TypeError as exc:  # pragma: no cover - guarded by the checks above
        raise InvalidImage(f"The metadata {where} is malformed ({exc}).") from exc
    if not is_image_id(record.id):
        raise InvalidImage(f"The metadata {where} has a malformed id {record.id!r}.")
    return record


def now_iso(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
