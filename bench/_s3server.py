"""The benches' S3: moto's ThreadedMotoServer on 127.0.0.1, seeded in-process, in a child process.

Run by :class:`bench._common.S3Server` as ``python -m bench._s3server '<json spec>'``. Prints one
JSON line (``{"url": ..., "seeded": {...}}``) when ready, serves until its stdin closes, then
stops the server and exits.

Seeding writes gallery_kit's real layout (``gallery_kit.records``: metadata JSON, WebP thumbnail,
original) straight into moto's backend. The first ``realistic`` images (the pages a bench shows)
get realistic ~1.6 MB PNG originals and the ~12 KB WebP thumbnails gallery_kit makes of them; the
others get tiny bodies, since no bench downloads them (listings are the same either way), or,
with ``original_bytes`` in the bucket's spec, incompressible random bodies of about that size
(a PNG signature then random bytes, 2/3 to 4/3 of it: what an export bench reads back).

``fast_list``: moto answers ListObjectsV2 by filtering and sorting every key of the bucket (about
250 ms for one page of 24 in a 60,000-key bucket), where S3 reads its sorted index. With this
flag the server keeps a sorted list of key names per bucket (rebuilt after writes) and answers
a listing without a delimiter by bisecting into it: the same XML, at a cost that follows the page
as in S3. It applies to both galleries of a bench alike.

Also, moto's router re-reads its own package folder on every request; that list is computed once
here (see ``cache_module_list``); and moto's Flask apps run in debug mode, which adds a
diagnostic helper to every request (``quiet_flask`` turns it off). These changes only remove
moto's own bookkeeping; the responses are byte for byte the same.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import random
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench._common import REGION, realistic_png, tiny_png
from gallery_kit.imaging import make_thumbnail
from gallery_kit.records import (
    ImageRecord,
    index_key,
    meta_key,
    new_image_id,
    now_iso,
    original_key,
    record_to_json,
    thumbnail_key,
)

ACCOUNT = "123456789012"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

PROMPTS = [
    "A lighthouse on a basalt cliff at dusk, long exposure, waves breaking, cinematic light",
    "Watercolour map of an imaginary archipelago with tiny sailing boats and compass rose",
    "Portrait of an elderly clockmaker in his workshop, warm tungsten light, shallow depth",
    "Isometric cutaway of a cozy three-storey bookshop, soft pastel palette, clean lines",
    "A red fox curled up asleep in fresh snow under birch trees, morning mist, telephoto",
    "Retro-futurist train station on Mars, 1960s travel poster style, bold flat colours",
    "Macro photograph of dew drops on a spider web reflecting a sunrise, bokeh background",
    "Stained glass window depicting a whale swimming through a forest of kelp and stars",
    "Street market in Seoul at night in the rain, neon signs reflected in puddles, 35mm",
    "Minimalist product shot of a ceramic teapot on linen, soft window light, muted tones",
    "An astronaut tending a greenhouse garden inside a space station, volumetric light",
    "Ink sketch of a medieval city built on the back of a giant turtle, crosshatching",
]


def image_ids(count: int, base: datetime) -> list[str]:
    """Newest first; the same ids in every bucket of the run (so their listings compare)."""
    return [
        new_image_id(base - timedelta(minutes=i), hashlib.sha256(str(i).encode()).hexdigest()[:10])
        for i in range(count)
    ]


def seed_bucket(
    backend: Any,
    name: str,
    *,
    images: int,
    realistic: int,
    real_thumbs: bool,
    sources: list[tuple[bytes, bytes]],
    base: datetime,
    original_bytes: int = 0,
) -> dict[str, int]:
    backend.create_bucket(name, REGION)
    small_original = tiny_png()
    small_thumb = make_thumbnail(small_original).data
    rng = random.Random(name)
    objects = stored = 0
    for i, image_id in enumerate(image_ids(images, base)):
        real = i < realistic
        original, thumb = sources[i % len(sources)]
        body = original if real else small_original
        if original_bytes and not real:
            size = rng.randint(original_bytes * 2 // 3, original_bytes * 4 // 3)
            body = PNG_SIGNATURE + rng.randbytes(max(size - len(PNG_SIGNATURE), 0))
        thumb_body = thumb if (real or real_thumbs) else small_thumb
        record = ImageRecord(
            id=image_id,
            prompt=PROMPTS[i % len(PROMPTS)],
            model_id="amazon.nova-canvas-v1:0",
            width=1024,
            height=1024,
            created_at=now_iso(base - timedelta(minutes=i)),
            content_type="image/png",
            byte_size=len(body),
            original_key=original_key("", image_id, "image/png"),
            thumbnail_key=thumbnail_key("", image_id),
            quality="standard",
            cfg_scale=6.5,
            seed=(i * 7919) % 858_993_459,
        )
        for key, data, content_type in (
            (record.original_key, body, "image/png"),
            (record.thumbnail_key, thumb_body, "image/webp"),
            (meta_key("", image_id), record_to_json(record), "application/json"),
            (index_key("", record), b"", "application/octet-stream"),
        ):
            fake = backend.put_object(name, key, data)
            fake.set_metadata({"Content-Type": content_type})
            objects += 1
            stored += len(data)
    return {"images": images, "objects": objects, "bytes": stored}


def install_fast_list() -> None:
    """Answer ListObjectsV2 without a delimiter from a sorted index (see the module doc)."""
    from moto.s3.models import FakeDeleteMarker, S3Backend

    original_list = S3Backend.list_objects_v2
    original_put = S3Backend.put_object
    original_delete = S3Backend.delete_object
    original_delete_many = S3Backend.delete_objects
    state: dict[str, Any] = {"generation": 0, "index": {}}

    def bump(fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            state["generation"] += 1
            return fn(*args, **kwargs)

        return wrapper

    def names_of(bucket: Any) -> list[str]:
        cached = state["index"].get(bucket.name)
        if cached is None or cached[0] != state["generation"]:
            cached = (state["generation"], sorted(bucket.keys.keys()))
            state["index"][bucket.name] = cached
        names: list[str] = cached[1]
        return names

    def list_objects_v2(
        self: Any,
        bucket: Any,
        prefix: str | None,
        delimiter: str | None,
        continuation_token: str | None,
        start_after: str | None,
        max_keys: int,
    ) -> Any:
        if delimiter or type(bucket).__name__ != "FakeBucket":
            return original_list(
                self, bucket, prefix, delimiter, continuation_token, start_after, max_keys
            )
        names = names_of(bucket)
        prefix = prefix or ""
        low = bisect.bisect_left(names, prefix)
        after = (
            self._pagination_tokens.get(continuation_token) if continuation_token else start_after
        )
        if after:
            low = max(low, bisect.bisect_right(names, after))
        found: list[Any] = []
        for name in names[low:]:
            if len(found) > max_keys or not name.startswith(prefix):
                break
            key = bucket.keys.get(name)
            if key is not None and not isinstance(key, FakeDeleteMarker):
                found.append(key)
        return self._truncate_result(found, max_keys)

    S3Backend.list_objects_v2 = list_objects_v2
    S3Backend.put_object = bump(original_put)
    S3Backend.delete_object = bump(original_delete)
    S3Backend.delete_objects = bump(original_delete_many)


counter = {"requests": 0}
counter_lock = threading.Lock()


def cache_module_list() -> None:
    """moto's server lists and stats its ~180 package folders on every request to route it
    (``moto.backends.list_of_moto_modules``, ~1.5 ms of each ~4.5 ms GET here). The list never
    changes while the server runs: compute it once. Answers are unchanged."""
    import functools

    from moto import backends

    modules = backends.list_of_moto_modules
    backends.list_of_moto_modules = functools.cache(lambda: tuple(modules()))


def quiet_flask() -> None:
    """moto builds its Flask apps with ``debug = True``; in debug mode Flask attaches a
    diagnostic class to every request's form data (~0.5 ms of each ~3 ms GET here). Debug mode
    only changes what an unexpected server error looks like: answers are unchanged."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.get_application

    def get_application(self: Any, environ: Any) -> Any:
        app = original(self, environ)
        app.debug = False
        return app

    DomainDispatcherApplication.get_application = get_application


def count_requests() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original_call = DomainDispatcherApplication.__call__

    def call(self: Any, environ: Any, start_response: Any) -> Any:
        with counter_lock:
            counter["requests"] += 1
        return original_call(self, environ, start_response)

    DomainDispatcherApplication.__call__ = call


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0]) if argv else {}
    count_requests()
    cache_module_list()
    quiet_flask()
    if spec.get("fast_list", True):
        install_fast_list()
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        backend = s3_backends[ACCOUNT]["aws"]
        started = time.perf_counter()
        buckets = spec.get("buckets", [])
        sources: list[tuple[bytes, bytes]] = []
        if any(b.get("realistic", 0) or b.get("real_thumbs") for b in buckets):
            for seed in range(int(spec.get("distinct_images", 6))):
                png = realistic_png(1024, 1024, seed)
                sources.append((png, make_thumbnail(png).data))
        made = time.perf_counter() - started
        base = (
            datetime.fromisoformat(spec["base"])
            if spec.get("base")
            else datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
        )
        seeded = {
            b["name"]: seed_bucket(
                backend,
                b["name"],
                images=int(b.get("images", 0)),
                realistic=int(b.get("realistic", 0)),
                real_thumbs=bool(b.get("real_thumbs", False)),
                sources=sources or [(tiny_png(), b"")],
                base=base,
                original_bytes=int(b.get("original_bytes", 0)),
            )
            for b in buckets
        }
        for b in buckets:  # build the listing index now, not in the first timed request
            backend.list_objects_v2(backend.get_bucket(b["name"]), "", None, None, None, 1)
        ready = {
            "url": f"http://{host}:{port}",
            "seeded": seeded,
            "images_s": round(made, 2),
            "seed_s": round(time.perf_counter() - started - made, 2),
            "fast_list": bool(spec.get("fast_list", True)),
            "original_bytes": len(sources[0][0]) if sources else 0,
            "thumbnail_bytes": len(sources[0][1]) if sources else 0,
        }
        print(json.dumps(ready), flush=True)
        # Until the parent closes our stdin (or exits): answer "stats" with this process's
        # request count and CPU time, so a bench can say what the server itself cost.
        for line in sys.stdin:
            if line.strip() == "stats":
                stats = {"requests": counter["requests"], "cpu_s": time.process_time()}
                print(json.dumps(stats), flush=True)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
