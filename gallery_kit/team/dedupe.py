"""Not paying twice: a request with a fixed seed identical to one already in the gallery gives
back the images it made. Random-seed requests are never matched.

``gallery-kit/requests/<sha256 of the request>.json`` names the images a request made, who made
them and when, and holds their records: finding a duplicate is one GET. Trashing, purging or
deleting one of those images removes the marker, so a request made again is generated anew.
The hash and the marker's body are pure; :func:`read`, :func:`write` and :func:`forget` do I/O.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from gallery_kit.errors import GalleryError
from gallery_kit.generation import GenerationRequest
from gallery_kit.records import ROOT, ImageRecord, record_from_json, record_to_json
from gallery_kit.stores.base import ImageStore

log = logging.getLogger(__name__)

REQUESTS_DIR = ROOT + "requests/"
#: Where a record keeps the hash of the request that made it (in ``extra``).
HASH_FIELD = "request_sha256"


def request_hash(model_id: str, request: GenerationRequest) -> str | None:
    """The hash of a validated request (``model_id``: the model it goes to); None when its seed
    is random (never a duplicate), drawn by the gallery or not given."""
    if request.seed is None or request.seed_drawn:
        return None
    body = {
        "model_id": model_id,
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt or None,
        "style": request.style or None,
        "width": request.width,
        "height": request.height,
        "quality": request.quality,
        "cfg_scale": request.cfg_scale,
        "count": request.count,
        "seed": request.seed,
    }
    raw = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def marker_key(digest: str) -> str:
    return f"{REQUESTS_DIR}{digest}.json"


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The images an identical request made before, who made them and when."""

    records: list[ImageRecord]
    created_by: str
    #: ISO 8601, UTC.
    created_at: str
    request_hash: str

    @property
    def made(self) -> str:
        """``Made on 2026-11-30 by alice`` (the notice's first words)."""
        return f"Made on {self.created_at[:10]} by {self.created_by or 'someone'}"

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.records]


def marker_body(digest: str, records: list[ImageRecord]) -> bytes:
    first = records[0]
    body = {
        "request_sha256": digest,
        "ids": [r.id for r in records],
        "created_by": first.created_by,
        "created_at": first.created_at,
        "records": [json.loads(record_to_json(r)) for r in records],
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def duplicate_from(digest: str, data: bytes) -> Duplicate | None:
    """The marker's contents; None for one that is not ours (then it is not a duplicate)."""
    key = marker_key(digest)
    try:
        body = json.loads(data)
        records = [
            record_from_json(json.dumps(r).encode("utf-8"), where=key) for r in body["records"]
        ]
        found = Duplicate(records, str(body["created_by"]), str(body["created_at"]), digest)
    except (GalleryError, ValueError, KeyError, TypeError):
        return None
    return found if found.records else None


def read(store: ImageStore, digest: str) -> Duplicate | None:
    """One GET."""
    got = store.read_shared(marker_key(digest))
    return None if got is None else duplicate_from(digest, got[0])


def write(store: ImageStore, digest: str, records: list[ImageRecord]) -> None:
    """Point the request at ``records`` (the newest wins: ``--again`` moves it)."""
    if records:
        store.write_shared(marker_key(digest), marker_body(digest, records))


def forget(store: ImageStore, records: Iterable[ImageRecord]) -> None:
    """These images leave the gallery: the markers that name them go (one GET each, and a
    DELETE where it names them), so the request is generated anew next time."""
    gone: dict[str, set[str]] = {}
    for record in records:
        digest = record.extra.get(HASH_FIELD)
        if isinstance(digest, str) and len(digest) == 64:
            gone.setdefault(digest, set()).add(record.id)
    for digest, ids in gone.items():
        try:
            found = read(store, digest)
            if found is not None and ids & set(found.ids):
                store.delete_shared([marker_key(digest)])
        except GalleryError as exc:  # the images go anyway; at worst a duplicate points at them
            log.info("request marker %s stays: %s", digest, exc)
