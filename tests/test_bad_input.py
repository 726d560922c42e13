"""Bad input gets a clear answer: one table, run through the Python API and the CLI (the browser
tests run a representative subset through the dashboard).

Each case must end in one readable line naming the problem and the fix, leave the app running,
and leave what is already stored untouched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from gallery_kit import Gallery, GenerationRequest, load_settings
from gallery_kit.cli.main import main as cli_main
from gallery_kit.errors import ConfigError, GalleryError, InvalidRequest
from tests.support.bedrock import BedrockEndpoint, Reply
from tests.support.images import png, png_header_claiming

# Nova Canvas's request family and limits, on an account that can still call it (see conftest).
pytestmark = pytest.mark.usefixtures("nova_canvas")


@dataclass(frozen=True)
class Case:
    name: str
    #: GenerationRequest fields (API) — the CLI flags are derived from them.
    request: dict[str, Any]
    #: Fragment the message must contain (case-insensitive).
    says: str
    exit_code: int = 2
    env: dict[str, str] = field(default_factory=dict)


PROMPT = "a quiet harbour"
INPUT_CASES = [
    Case("empty prompt", {"prompt": ""}, "prompt is empty"),
    Case("whitespace prompt", {"prompt": "   \n\t "}, "prompt is empty"),
    Case("1025-character prompt", {"prompt": "x" * 1025}, "1025 characters; 1024 is the limit"),
    Case("control characters", {"prompt": "bell\x07here"}, "control character U+0007"),
    Case("width 100", {"width": 100}, "width 100 is outside 320-4096"),
    Case("width not /16", {"width": 1000}, "not divisible by 16"),
    Case("over the pixel cap", {"width": 4096, "height": 4096}, "needs fewer than 4,194,304"),
    Case("aspect beyond 4:1", {"width": 320, "height": 4096}, "beyond 1:4 or 4:1"),
    Case("count 0", {"count": 0}, "number of images 0 is outside 1-5"),
    Case("count 6", {"count": 6}, "number of images 6 is outside 1-5"),
    Case("cfg 1.0", {"cfg_scale": 1.0}, "cfg scale 1.0 is outside 1.1-10.0"),
    Case("cfg 11", {"cfg_scale": 11.0}, "cfg scale 11.0 is outside 1.1-10.0"),
    Case("seed -1", {"seed": -1}, "seed -1 is outside"),
    Case("seed 2147483647", {"seed": 2_147_483_647}, "seed 2147483647 is outside"),
    Case("unknown style", {"style": "CUBISM"}, "unknown style 'cubism'"),
    Case("unknown model", {"model_id": "acme.painter-v9"}, "set bedrock_model_id"),
]

_FLAGS = {"negative_prompt": "--negative-prompt", "cfg_scale": "--cfg-scale", "model_id": "--model"}


def cli_args(request: dict[str, Any]) -> list[str]:
    args = ["generate", request.get("prompt", PROMPT)]
    for key, value in request.items():
        if key != "prompt":
            args += [_FLAGS.get(key, "--" + key.replace("_", "-")), str(value)]
    return args


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli_main(args)
    out, err = capsys.readouterr()
    return code, out, err


def fingerprint(gallery: Gallery) -> list[tuple[str, str]]:
    """What is stored: (id, sha256 of the original) for every image."""
    records = gallery.page(limit=100).records
    return [(r.id, hashlib.sha256(gallery.read_original(r)).hexdigest()) for r in records]


@pytest.fixture
def offline_gallery() -> Gallery:
    gallery = Gallery.from_settings(load_settings())
    gallery.generate(GenerationRequest("already stored", width=320, height=320))
    return gallery


@pytest.mark.parametrize("case", INPUT_CASES, ids=lambda c: c.name)
def test_bad_request_api(case: Case, offline_gallery: Gallery) -> None:
    before = fingerprint(offline_gallery)
    with pytest.raises((InvalidRequest, ConfigError)) as info:
        offline_gallery.generate(GenerationRequest(**{"prompt": PROMPT, **case.request}))
    message = str(info.value)
    assert case.says.lower() in message.lower()
    assert "\n" not in message
    assert info.value.exit_code == 2
    assert fingerprint(offline_gallery) == before
    # ... and the gallery keeps working.
    assert offline_gallery.generate(GenerationRequest(PROMPT, width=320, height=320)).records


@pytest.mark.parametrize("case", INPUT_CASES, ids=lambda c: c.name)
def test_bad_request_cli(
    case: Case, offline_gallery: Gallery, capsys: pytest.CaptureFixture[str]
) -> None:
    before = fingerprint(offline_gallery)
    code, out, err = run_cli(cli_args(case.request), capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("gallery-kit: ")
    assert case.says.lower() in err.lower()
    assert fingerprint(offline_gallery) == before


@pytest.mark.parametrize("case", INPUT_CASES[:6], ids=lambda c: c.name)
def test_bad_request_sends_nothing_to_bedrock(
    case: Case,
    bedrock: BedrockEndpoint,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GALLERY_GENERATOR", "bedrock")
    code, _out, err = run_cli(cli_args(case.request), capsys)
    assert code == 2, err
    assert bedrock.requests == []


SETTING_CASES = [
    ({"S3_BUCKET_NAME": "Bad_Bucket!"}, "s3_bucket_name='bad_bucket!' is not a valid bucket name"),
    ({"S3_REGION": "us-eats-1"}, "s3_region='us-eats-1' is not an aws region"),
    ({"BEDROCK_REGION": "uswest2"}, "bedrock_region='uswest2' is not an aws region"),
    ({"GALLERY_GENERATOR": "dalle"}, "use 'bedrock' or 'offline'"),
    ({"BEDROCK_MODEL_ID": "acme.painter-v9"}, "set bedrock_model_id"),
]


@pytest.mark.parametrize(("env", "says"), SETTING_CASES, ids=[c[1][:20] for c in SETTING_CASES])
def test_broken_setting(
    env: dict[str, str],
    says: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, _out, err = run_cli(["list"], capsys)
    assert code == 2
    assert says in err.lower()
    assert err.count("\n") == 1


def test_broken_env_file(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("S3_REGION=us-east-1\nthis line is not a setting\n")
    monkeypatch.setenv("GALLERY_ENV_FILE", str(env_file))
    code, _out, err = run_cli(["list"], capsys)
    assert code == 2
    assert "line 2" in err
    assert "fix or remove that line" in err


SERVICE_CASES: list[tuple[str, Callable[[], Reply], str]] = [
    ("access denied", Reply.access_denied, "enable it under bedrock → model access"),
    ("throttled", Reply.throttled, "wait a minute"),
    ("filtered (all)", Reply.filtered_all, "blocked"),
    ("model timeout", Reply.model_timeout, "timed out"),
    ("malformed: not json", Reply.garbage, "not json"),
    ("malformed: bad base64", Reply.bad_base64, "invalid base64"),
    ("malformed: no images", Reply.no_images, "without 'images'"),
    ("end of life", Reply.end_of_life, "bedrock_model_id=stability.stable-image-core-v1:1"),
    ("legacy", Reply.legacy, "--model stability.stable-image-core-v1:1"),
    ("wrong region", Reply.invalid_model_id, "not offered in us-east-1"),
    ("marketplace", Reply.marketplace_denied, "aws marketplace subscription"),
]


@pytest.mark.parametrize(
    ("name", "reply", "says"), SERVICE_CASES, ids=[c[0] for c in SERVICE_CASES]
)
def test_service_failure(
    name: str,
    reply: Callable[[], Reply],
    says: str,
    bedrock: BedrockEndpoint,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GALLERY_GENERATOR", "bedrock")
    gallery = Gallery.from_settings(load_settings())
    # Throttling is retried with backoff before it is reported; keep the test quick.
    gallery.generator.backoff_s = 0.01
    gallery.generate(GenerationRequest("already stored", width=320, height=320))
    before = fingerprint(gallery)
    bedrock.always(reply())
    with pytest.raises(GalleryError) as info:
        gallery.generate(GenerationRequest(PROMPT, width=320, height=320))
    assert says in str(info.value).lower()
    assert info.value.exit_code == 1
    assert "\n" not in str(info.value)
    assert fingerprint(gallery) == before
    bedrock.reset()
    assert gallery.generate(GenerationRequest(PROMPT, width=320, height=320)).records


def test_some_images_filtered_is_a_warning(
    bedrock: BedrockEndpoint,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GALLERY_GENERATOR", "bedrock")
    bedrock.script(Reply.filtered_some())
    code, out, err = run_cli(
        [*cli_args({"count": 3, "width": 320, "height": 320}), "--json"], capsys
    )
    assert code == 0
    assert len(out.splitlines()) == 2
    assert "1 of 3 images were blocked" in err


def test_missing_bucket_and_no_credentials(
    bucket: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("S3_BUCKET_NAME", "not-created-yet")
    code, _out, err = run_cli(["list"], capsys)
    assert code == 1
    assert "'not-created-yet' does not exist: create it or fix S3_BUCKET_NAME" in err
    monkeypatch.setenv("S3_BUCKET_NAME", bucket)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # as a fresh process would start
    code, _out, err = run_cli(["list"], capsys)
    assert code == 1
    assert "No AWS credentials found" in err


def test_bad_objects_under_the_prefix(
    bucket: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GALLERY_GENERATOR", "offline")
    gallery = Gallery.from_settings(load_settings())
    gallery.generate(GenerationRequest("already stored", width=320, height=320))
    before = fingerprint(gallery)
    s3 = boto3.client("s3", region_name="us-east-1")
    good = png(400, 300)
    s3.put_object(Bucket=bucket, Key="uploads/good.png", Body=good)
    s3.put_object(Bucket=bucket, Key="uploads/notes.png", Body=b"this is text, not a picture")
    s3.put_object(Bucket=bucket, Key="uploads/truncated.png", Body=good[: len(good) // 2])
    s3.put_object(Bucket=bucket, Key="uploads/bomb.png", Body=png_header_claiming(12_000, 12_000))
    s3.put_object(Bucket=bucket, Key="uploads/huge.png", Body=b"\0" * (100 * 1024 * 1024))
    s3.put_object(
        Bucket=bucket, Key="gallery-kit/meta/0000000000001-aaaaaaaaaa.json", Body=b"{not json"
    )
    # Listed by an index key whose summary cannot be read either: the metadata is read instead.
    s3.put_object(Bucket=bucket, Key="gallery-kit/index/0000000000001-aaaaaaaaaa.%%%", Body=b"")

    code, out, err = run_cli(["list", "--json"], capsys)
    assert code == 0
    prompts = [line.split('"prompt": "')[1].split('"')[0] for line in out.splitlines()]
    # Adopted images are dated by their LastModified (whole seconds in moto): order may tie.
    assert sorted(prompts) == ["already stored", "good.png"]
    assert "not a PNG, JPEG, WebP or GIF" in err
    assert "damaged or truncated" in err
    assert "too many pixels" in err
    assert "100 MiB, over the 50 MiB thumbnail limit" in err
    assert "is not valid JSON" in err
    assert "Traceback" not in err
    assert set(before) <= set(fingerprint(gallery))  # what was stored is untouched
    # A second listing does not retry what was skipped in this process, nor re-adopt.
    assert len(gallery.adopt_foreign().adopted) == 0
