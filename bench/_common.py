"""What the benches share: realistic images, the moto S3 server process, request meters, output.

Nothing here changes gallery_kit: the benches drive its public objects over real HTTP.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "bench" / "out"
DOCS_DIR = REPO / "docs"

#: Simulated network round trip added to every S3 request (both galleries, and the browser).
RTT_S = 0.020
#: Parallel connections a browser opens to one HTTP/1.1 host (Chromium, Firefox: 6).
BROWSER_CONNECTIONS = 6
REGION = "us-east-1"


# --------------------------------------------------------------------------------------------
# Realistic images
# --------------------------------------------------------------------------------------------


def _octave(rng: random.Random, n: int, width: int, height: int) -> Image.Image:
    small = Image.frombytes("RGB", (n, n), rng.randbytes(n * n * 3))
    return small.resize((width, height), Image.Resampling.BICUBIC)


def realistic_png(width: int = 1024, height: int = 1024, seed: int = 0) -> bytes:
    """A PNG that costs what a model's PNG costs: ~1.6 MB at 1024x1024, ~6.5 MB at 2048x2032.

    Detail at every scale (a 1/f noise field, like natural images) plus fine sensor-like grain,
    so neither the PNG nor its 256 px WebP thumbnail (~12 KB) compresses unrealistically well.
    """
    rng = random.Random(seed)
    image = _octave(rng, 3, width, height)
    for n, weight in ((6, 0.5), (12, 0.35), (24, 0.25), (48, 0.15), (96, 0.08)):
        image = Image.blend(image, _octave(rng, n, width, height), weight)
    image = ImageOps.autocontrast(image, cutoff=1)
    noise = Image.merge("RGB", [Image.effect_noise((width, height), 40) for _ in range(3)])
    image = Image.blend(image, noise, 0.05)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def tiny_png() -> bytes:
    """A 16x16 PNG for originals nobody downloads in a bench (~80 bytes)."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 120, 150)).save(out, "PNG")
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------------------------


def aws_env(s3_url: str | None = None, bedrock_url: str | None = None) -> dict[str, str]:
    """Fake credentials and local endpoints; no developer AWS config or .env is read."""
    env = {
        "AWS_ACCESS_KEY_ID": "AKIDGALLERYKITBENCH1",
        "AWS_SECRET_ACCESS_KEY": "gallery-kit-bench-secret",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "GALLERY_ENV_FILE": "",
    }
    if s3_url:
        env["AWS_ENDPOINT_URL_S3"] = s3_url
    if bedrock_url:
        env["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = bedrock_url
    return env


@contextlib.contextmanager
def patched_environ(values: dict[str, str], drop_prefixes: tuple[str, ...] = ()) -> Iterator[None]:
    """Set ``values`` in os.environ (and drop variables with ``drop_prefixes``), then restore."""
    saved = dict(os.environ)
    try:
        for name in list(os.environ):
            if name.startswith(drop_prefixes):
                del os.environ[name]
        os.environ.update(values)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


CLEAN_PREFIXES = ("AWS_", "S3_", "BEDROCK_", "GALLERY_")


# --------------------------------------------------------------------------------------------
# The moto S3 server, in its own process
# --------------------------------------------------------------------------------------------


class S3Server:
    """moto's ThreadedMotoServer on 127.0.0.1 in a child process (see ``bench/_s3server.py``).

    A separate process keeps the server's Python work off the bench's GIL, as a real S3 would
    be. ``buckets`` are seeded inside that process, directly into moto's backend (seconds for
    20,000 images, where 60,000 PutObject calls would take minutes).
    """

    def __init__(
        self,
        buckets: Iterable[dict[str, Any]] = (),
        *,
        fast_list: bool = True,
        distinct_images: int = 6,
    ) -> None:
        self.spec = {
            "buckets": list(buckets),
            "fast_list": fast_list,
            "distinct_images": distinct_images,
        }
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.info: dict[str, Any] = {}

    def start(self) -> S3Server:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench._s3server", json.dumps(self.spec)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError("the moto S3 server process did not start (see stderr above)")
        self.info = json.loads(line)
        self.url = self.info["url"]
        return self

    def stats(self) -> dict[str, float]:
        """The server process's request count and CPU seconds so far."""
        proc = self.proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            raise RuntimeError("the S3 server is not running")
        proc.stdin.write("stats\n")
        proc.stdin.flush()
        return dict(json.loads(proc.stdout.readline()))

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            if proc.stdin:
                proc.stdin.close()  # the child stops its server when stdin closes
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------------------------
# Meters
# --------------------------------------------------------------------------------------------


@dataclass
class Call:
    operation: str
    path: str
    start: float
    end: float = 0.0


@dataclass
class Meter:
    """Counts HTTP requests and body bytes of boto3 clients, and adds a simulated round trip.

    How: the client's HTTP session (``client._endpoint.http_session``, the one object every
    request of the client goes through: botocore's API calls with their retries, and the
    presigned GETs gallery_kit sends through it for thumbnails) is wrapped. Each request is
    counted with its body, sleeps ``rtt_s`` before it goes out, and its response body is counted
    from the Content-Length header (streaming bodies such as GetObject are read in full by every
    caller here, so that header is what crosses the wire). Headers are not counted, on either
    side. botocore's ``before-call``/``after-call`` events time every API call.
    """

    rtt_s: float = RTT_S
    requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def bytes(self) -> int:
        return self.bytes_sent + self.bytes_received

    def reset(self) -> None:
        with self._lock:
            self.requests = self.bytes_sent = self.bytes_received = 0
            self.calls = []

    def attach(self, client: Any) -> Any:
        service = client.meta.service_model.service_id.hyphenize()
        events = client.meta.events
        events.register(f"before-call.{service}.*", self._before_call)
        events.register(f"after-call.{service}.*", self._after_call)
        session = client._endpoint.http_session
        send = session.send

        def metered_send(request: Any) -> Any:
            self._sending(request)
            response = send(request)
            self._received(request, response)
            return response

        session.send = metered_send
        return client

    def _sending(self, request: Any) -> None:
        length = request.headers.get("Content-Length")
        body = request.body
        if length is not None:
            size = int(length)
        elif isinstance(body, bytes | bytearray):
            size = len(body)
        else:
            size = 0
        with self._lock:
            self.requests += 1
            self.bytes_sent += size
        if self.rtt_s:
            time.sleep(self.rtt_s)

    def _received(self, request: Any, response: Any) -> None:
        length = response.headers.get("content-length")
        if length is not None:
            size = int(length)
        elif not request.stream_output:
            size = len(response.content)
        else:  # pragma: no cover - S3 always sends Content-Length for GetObject
            size = 0
        with self._lock:
            self.bytes_received += size

    # botocore calls these with keyword arguments; a handler must return None.
    def _before_call(self, *, model: Any, params: Any, context: Any, **_: Any) -> None:
        call = Call(model.name, str(params.get("url_path", "")), time.perf_counter())
        context["bench_call"] = call
        with self._lock:
            self.calls.append(call)

    def _after_call(self, *, context: Any, **_: Any) -> None:
        call = context.get("bench_call")
        if call is not None:
            call.end = time.perf_counter()


@dataclass
class BrowserFetch:
    """What a browser's parallel <img> loads cost: requests, bytes and wall time."""

    requests: int
    bytes: int
    seconds: float


def browser_fetch(
    urls: list[str], *, rtt_s: float = RTT_S, connections: int = BROWSER_CONNECTIONS
) -> BrowserFetch:
    """GET each URL like a browser loading <img src=...>: ``connections`` at a time, each
    request paying the same simulated round trip as the boto3 ones."""

    def get(url: str) -> int:
        if rtt_s:
            time.sleep(rtt_s)
        # Only presigned URLs of our own server on 127.0.0.1 reach here.
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
            return len(response.read())

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=connections) as pool:
        sizes = list(pool.map(get, urls))
    return BrowserFetch(len(urls), sum(sizes), time.perf_counter() - start)


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def save_chart(
    image: Image.Image, name: str, *, write_docs: bool, out_dir: Path | None = None
) -> list[Path]:
    """Save to bench/out/<name>.png (git-ignored; or ``out_dir``) and, when asked, to
    docs/bench-<name>.png."""
    paths = [(out_dir or OUT_DIR) / f"{name}.png"]
    if write_docs:
        paths.append(DOCS_DIR / f"bench-{name}.png")
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, optimize=True)
    return paths


def emit_json(figures: dict[str, Any]) -> None:
    """The bench's last line: one JSON object with its figures."""
    print(json.dumps(figures, separators=(", ", ": ")), flush=True)


def fmt_bytes(n: float) -> str:
    for unit, size in (("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,.0f} B"


def load_avg() -> float:
    """The 1-minute load average: other work on the machine skews every timing."""
    return round(os.getloadavg()[0], 2)


class BenchRun:
    """When and where a bench ran, for its report: started at construction, closed by
    :meth:`finish`, which prints the closing line and returns the fields every JSON line ends
    with (machine, load average at start and end, date, duration)."""

    def __init__(self) -> None:
        self.began = time.perf_counter()
        self.load_start = load_avg()
        self.when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")

    def seconds(self) -> float:
        return time.perf_counter() - self.began

    def finish(self) -> dict[str, Any]:
        elapsed, load_end = self.seconds(), load_avg()
        print(
            f"  bench took {elapsed:.0f} s; 1-minute load average {self.load_start} at start, "
            f"{load_end} at end (2 cores: above ~1 means other work shared the CPU)",
            flush=True,
        )
        return {
            "machine": machine(),
            "load_avg": [self.load_start, load_end],
            "date": self.when,
            "bench_s": round(elapsed, 1),
        }


def machine() -> str:
    cpus = os.cpu_count() or 0
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{cpus} cores{', ' + model if model else ''}"
