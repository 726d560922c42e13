"""Shared fixtures: a hermetic environment, moto's S3 server and the local Bedrock endpoint.

Nothing here mocks gallery_kit: the AWS path runs over real HTTP against servers on 127.0.0.1.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

_KEEP_AWS = {"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"}


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No real AWS, no developer .env, a fresh data folder per test."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "S3_", "BEDROCK_", "GALLERY_")) and name not in _KEEP_AWS:
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDGALLERYKITTEST01")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "gallery-kit-test-secret-do-not-leak")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # Who made an image asks STS in AWS mode: never the real one (a closed local port answers
    # at once; tests of the identity point it at moto). Asked once per process: forgotten here.
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
    from gallery_kit.team import sts

    sts.forget()
    monkeypatch.setenv("GALLERY_ENV_FILE", "")
    # boto3's default session caches the credentials it resolved: start each test afresh.
    import boto3

    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    data = tmp_path / "gallery-data"
    monkeypatch.setenv("GALLERY_DATA_DIR", str(data))
    return data


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 (a free port), for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


# --- S3: moto, and s3rver as a second, independent implementation ---------------------------

S3_IMPLEMENTATIONS = ("moto", "s3rver")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--s3",
        default=",".join(S3_IMPLEMENTATIONS),
        help="S3 servers the tests marked every_s3 run against (default: moto,s3rver)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "every_s3: also run against s3rver, a second S3 implementation (--s3)"
    )


@pytest.fixture
def s3_impl() -> str:
    """Which S3 server: moto, unless the test is marked every_s3 (see pytest_generate_tests)."""
    return "moto"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``s3_impl`` is every server chosen by --s3 for tests marked ``every_s3``."""
    if "s3_impl" not in metafunc.fixturenames:
        return
    chosen = [s.strip() for s in str(metafunc.config.getoption("--s3")).split(",") if s.strip()]
    unknown = set(chosen) - set(S3_IMPLEMENTATIONS)
    if unknown:
        raise pytest.UsageError(f"--s3: unknown server(s) {sorted(unknown)}")
    if metafunc.definition.get_closest_marker("every_s3") is not None:
        metafunc.parametrize("s3_impl", chosen, ids=[f"on-{i}" for i in chosen])


@pytest.fixture(scope="session")
def s3rver_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """s3rver on 127.0.0.1, installed from its lock file on first use (npm ci)."""
    from tests.support import s3rver_server as s3rver

    binary = s3rver.ensure_installed()
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the s3rver tests: {s3rver.INSTALL_HINT}")
        pytest.skip(s3rver.INSTALL_HINT)
    holder: dict[str, s3rver.S3rver] = {}
    base = tmp_path_factory.mktemp("s3rver")

    def running() -> s3rver.S3rver:
        # A crash (e.g. a name its filesystem refuses) must not take the next tests with it.
        server = holder.get("server")
        if server is None or not server.alive():
            directory = base / f"data-{len(holder)}-{time.monotonic_ns()}"
            directory.mkdir()
            holder["server"] = server = s3rver.S3rver(binary, directory)
        return server

    try:
        yield running
    finally:
        if "server" in holder:
            holder["server"].stop()


@pytest.fixture
def s3_endpoint(
    s3_impl: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A clean S3 (moto, or s3rver for tests marked every_s3), reached by boto3 through
    AWS_ENDPOINT_URL_S3."""
    if s3_impl == "s3rver":
        from tests.support import s3rver_server as s3rver

        url = request.getfixturevalue("s3rver_server")().url
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3rver.ACCESS_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3rver.SECRET_KEY)
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", url)
        return url
    import urllib.request

    moto_server = request.getfixturevalue("moto_server")
    # A fixed http://127.0.0.1 URL of our own server.
    reset = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")  # noqa: S310
    urllib.request.urlopen(reset).read()  # noqa: S310
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server)
    return str(moto_server)


@pytest.fixture
def bucket(s3_impl: str, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty bucket, with S3_BUCKET_NAME pointing at it (AWS mode). moto is reset for each
    test; s3rver keeps its data, so each test gets a bucket of its own there."""
    import uuid

    import boto3

    name = "gallery-kit-test" if s3_impl == "moto" else f"gk-test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=name)
    monkeypatch.setenv("S3_BUCKET_NAME", name)
    monkeypatch.setenv("S3_REGION", "us-east-1")
    return name


@pytest.fixture
def bedrock(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The local Bedrock endpoint, reached through AWS_ENDPOINT_URL_BEDROCK_RUNTIME (InvokeModel)
    and AWS_ENDPOINT_URL_BEDROCK (the control plane's ListFoundationModels)."""
    from tests.support.bedrock import BedrockEndpoint

    with BedrockEndpoint() as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", endpoint.url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK", endpoint.url)
        yield endpoint


@pytest.fixture
def nova_canvas(monkeypatch: pytest.MonkeyPatch) -> str:
    """An account that can still call Nova Canvas, with BEDROCK_MODEL_ID naming it.

    Its end of life was 2026-09-30, so the tests of its request family (and the tables of its
    documented limits) choose it explicitly; the local endpoint's listing shows it as LEGACY in
    us-east-1, as Bedrock does for accounts that used it. Use it before ``bedrock``.
    """
    from tests.support.bedrock import DEFAULT_FOUNDATION_MODELS, NOVA_CANVAS, NOVA_CANVAS_LEGACY

    monkeypatch.setenv("BEDROCK_MODEL_ID", NOVA_CANVAS)
    monkeypatch.setitem(DEFAULT_FOUNDATION_MODELS, "us-east-1", [NOVA_CANVAS_LEGACY])
    return NOVA_CANVAS
