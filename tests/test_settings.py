"""Settings from the environment and ``.env``: defaults, precedence, one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gallery_kit.bedrock.families import get_model
from gallery_kit.errors import ConfigError
from gallery_kit.settings import default_data_dir, load_settings

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def test_defaults_are_offline(hermetic_env: Path) -> None:
    settings = load_settings()
    assert settings.bucket is None
    assert not settings.aws_mode
    assert settings.offline
    assert settings.generator == "offline"
    assert settings.model_id is None  # unset: the catalog picks a live default
    assert settings.bedrock_region is None  # each model's own region
    assert settings.prefix == ""
    assert settings.rate_limit_per_minute == 10
    assert settings.data_dir == hermetic_env.resolve()
    assert settings.store_dir == hermetic_env.resolve() / "store"
    assert settings.outbox_dir == hermetic_env.resolve() / "outbox"


def test_default_data_dir_is_per_user_and_outside_notebooks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GALLERY_DATA_DIR")
    settings = load_settings()
    assert settings.data_dir == default_data_dir().resolve()
    assert "gallery-kit" in settings.data_dir.parts[-1]
    assert not settings.data_dir.is_relative_to(NOTEBOOKS)


def test_a_bucket_means_aws_mode_with_bedrock() -> None:
    settings = load_settings(
        {
            "GALLERY_ENV_FILE": "",
            "S3_BUCKET_NAME": "my.gallery-bucket",
            "GALLERY_PREFIX": "team-a",
            "S3_REGION": "eu-central-1",
            "BEDROCK_REGION": "us-west-2",
            "BEDROCK_MODEL_ID": "stability.stable-image-core-v1:1",
            "GALLERY_DATA_DIR": "/tmp/gk",
        }
    )
    assert settings.aws_mode
    assert settings.generator == "bedrock"
    assert not settings.offline
    assert settings.prefix == "team-a/"
    assert settings.s3_region == "eu-central-1"
    assert settings.bedrock_region == "us-west-2"
    assert get_model(settings.model_id or "").family == "stability"


def test_aws_mode_can_still_use_the_offline_generator() -> None:
    settings = load_settings(
        {
            "GALLERY_ENV_FILE": "",
            "S3_BUCKET_NAME": "bucket-one",
            "GALLERY_GENERATOR": "Offline",
            "GALLERY_DATA_DIR": "/tmp/gk",
        }
    )
    assert settings.aws_mode
    assert settings.offline


def test_s3_region_falls_back_to_the_aws_default_region() -> None:
    settings = load_settings(
        {
            "GALLERY_ENV_FILE": "",
            "AWS_DEFAULT_REGION": "ap-northeast-2",
            "GALLERY_DATA_DIR": "/tmp/gk",
        }
    )
    assert settings.s3_region == "ap-northeast-2"


def test_env_file_is_read_and_the_real_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / "custom.env"
    env_file.write_text(
        "# comment line\n"
        "S3_BUCKET_NAME=from-the-file\n"
        "BEDROCK_MODEL_ID=stability.stable-image-core-v1:1\n"
        "export GALLERY_PREFIX='shared/'\n"
        "GALLERY_RATE_LIMIT=3\n"
        "\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("GALLERY_ENV_FILE", str(env_file))
    monkeypatch.setenv("BEDROCK_MODEL_ID", "amazon.nova-canvas-v1:0")
    # Registered with monkeypatch so the values .env puts into os.environ are removed afterwards.
    for name in ("S3_BUCKET_NAME", "GALLERY_PREFIX", "GALLERY_RATE_LIMIT"):
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)

    settings = load_settings()
    assert settings.bucket == "from-the-file"
    assert settings.prefix == "shared/"
    assert settings.rate_limit_per_minute == 3
    assert settings.model_id == "amazon.nova-canvas-v1:0"  # the real environment won
    # .env values reach os.environ (so boto3 sees AWS_* set there), never overriding.
    assert os.environ["S3_BUCKET_NAME"] == "from-the-file"
    assert os.environ["BEDROCK_MODEL_ID"] == "amazon.nova-canvas-v1:0"


def test_empty_env_file_setting_disables_the_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("S3_BUCKET_NAME=should-not-be-read\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_settings().bucket is None  # GALLERY_ENV_FILE="" from the autouse fixture


def test_env_file_is_found_upwards_from_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("S3_BUCKET_NAME=found-upwards\n", encoding="utf-8")
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    monkeypatch.chdir(inner)
    # An explicit mapping without GALLERY_ENV_FILE: search, and leave os.environ alone.
    settings = load_settings({"GALLERY_DATA_DIR": "/tmp/gk"})
    assert settings.bucket == "found-upwards"
    assert "S3_BUCKET_NAME" not in os.environ


def test_broken_env_line_names_the_file_and_the_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "S3_BUCKET_NAME=fine\nthis line is not an assignment\nA=1\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings({"GALLERY_ENV_FILE": str(env_file)})
    message = str(caught.value)
    assert str(env_file) in message
    assert "line 2" in message
    assert "this line is not an assignment" in message
    assert "\n" not in message


def test_missing_env_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"GALLERY_ENV_FILE": str(tmp_path / "nope.env")})
    assert "nope.env" in str(caught.value)


BROKEN = [
    pytest.param(
        "S3_BUCKET_NAME",
        "My_Bucket",
        ["S3_BUCKET_NAME", "My_Bucket", "lowercase"],
        id="bucket-upper",
    ),
    pytest.param("S3_BUCKET_NAME", "ab", ["S3_BUCKET_NAME", "3-63"], id="bucket-short"),
    pytest.param("S3_BUCKET_NAME", "192.168.1.1", ["S3_BUCKET_NAME"], id="bucket-ip"),
    pytest.param("S3_BUCKET_NAME", "my..bucket", ["S3_BUCKET_NAME"], id="bucket-dots"),
    pytest.param(
        "S3_REGION", "us-est-1", ["S3_REGION", "us-est-1", "us-east-1"], id="s3-region-typo"
    ),
    pytest.param(
        "BEDROCK_REGION", "uswest2", ["BEDROCK_REGION", "uswest2"], id="bedrock-region-typo"
    ),
    pytest.param(
        "GALLERY_GENERATOR", "dalle", ["GALLERY_GENERATOR", "bedrock", "offline"], id="generator"
    ),
    pytest.param(
        "BEDROCK_MODEL_ID",
        "amazon.nova-canvas-v9",
        ["BEDROCK_MODEL_ID", "amazon.nova-canvas-v9", "stability.stable-image-core-v1:1"],
        id="model",
    ),
    pytest.param("GALLERY_RATE_LIMIT", "ten", ["GALLERY_RATE_LIMIT", "ten"], id="rate-word"),
    pytest.param("GALLERY_RATE_LIMIT", "-1", ["GALLERY_RATE_LIMIT", ">= 0"], id="rate-neg"),
    pytest.param("GALLERY_PREFIX", "../escape", ["GALLERY_PREFIX"], id="prefix-dotdot"),
    pytest.param("GALLERY_PREFIX", "/abs", ["GALLERY_PREFIX"], id="prefix-abs"),
    pytest.param(
        "GALLERY_DATA_DIR",
        str(NOTEBOOKS / "data"),
        ["GALLERY_DATA_DIR", "notebooks"],
        id="data-in-notebooks",
    ),
    pytest.param("GALLERY_DATA_DIR", str(NOTEBOOKS), ["GALLERY_DATA_DIR"], id="data-notebooks"),
]


@pytest.mark.parametrize(("name", "value", "words"), BROKEN)
def test_broken_setting_is_one_line_naming_the_variable(
    name: str, value: str, words: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message, (word, message)
    assert not NOTEBOOKS.joinpath("data").exists()


def test_blank_values_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("S3_BUCKET_NAME", "BEDROCK_MODEL_ID", "GALLERY_GENERATOR", "S3_REGION"):
        monkeypatch.setenv(name, "  ")
    settings = load_settings()
    assert settings.bucket is None
    assert settings.offline
    assert settings.model_id is None
