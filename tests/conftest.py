"""Shared fixtures: a hermetic environment, moto's S3 server and the local Bedrock endpoint.

Nothing here mocks gallery_kit: the AWS path runs over real HTTP against servers on 127.0.0.1.
"""

from __future__ import annotations

import os
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


@pytest.fixture
def s3_endpoint(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A clean moto S3, reached by boto3 through AWS_ENDPOINT_URL_S3."""
    import urllib.request

    # A fixed http://127.0.0.1 URL of our own server.
    reset = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")  # noqa: S310
    urllib.request.urlopen(reset).read()  # noqa: S310
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server)
    return moto_server


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty bucket in moto, with S3_BUCKET_NAME pointing at it (AWS mode)."""
    import boto3

    name = "gallery-kit-test"
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
