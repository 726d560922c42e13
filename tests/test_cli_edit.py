"""``gallery-kit vary | remove-background | edit | extend | upscale``, run for real in a
subprocess, offline and in AWS mode (moto S3 + the local Bedrock endpoint). Lineage included."""

from __future__ import annotations

import io
from pathlib import Path

import boto3
import pytest
from PIL import Image

from tests.support.bedrock import BedrockEndpoint, Reply
from tests.support.cli_runner import RECORD_FIELDS, gk, one_line_error

# Nova Canvas's request family and limits, on an account that can still call it (see conftest).
pytestmark = pytest.mark.usefixtures("nova_canvas")

CORE = "stability.stable-image-core-v1:1"
#: Every image an operation makes also names its parent and the operation.
EDIT_FIELDS = RECORD_FIELDS | {"parent_id", "operation"}


def test_offline_every_edit_command_and_lineage(tmp_path: Path) -> None:
    parent = gk(
        "generate", "a lighthouse", "--width", "512", "--height", "384", "--json", cwd=tmp_path
    )
    assert parent.code == 0, parent.stderr
    pid = parent.row["id"]
    runs = {
        "vary": gk(
            "vary", pid, "--prompt", "at night", "--similarity", "0.5", "--json", cwd=tmp_path
        ),
        "remove-background": gk("remove-background", pid, "--json", cwd=tmp_path),
        "edit": gk("edit", pid, "a red moon", "--mask-prompt", "the sky", "--json", cwd=tmp_path),
        "extend": gk("extend", pid, "--width", "1024", "--height", "384", "--json", cwd=tmp_path),
        "upscale": gk("upscale", pid, "--json", cwd=tmp_path),
    }
    children = {}
    for operation, run in runs.items():
        assert run.code == 0, run.stderr
        row = run.row
        assert row.keys() >= EDIT_FIELDS
        assert (row["parent_id"], row["operation"], row["model_id"]) == (pid, operation, "offline")
        assert Path(row["uri"]).is_file()
        children[operation] = row
    assert children["edit"]["prompt"] == "a red moon"
    assert (children["extend"]["width"], children["extend"]["height"]) == (1024, 384)
    assert (children["upscale"]["width"], children["upscale"]["height"]) == (2048, 1536)
    with Image.open(children["remove-background"]["uri"]) as cut:
        assert cut.mode == "RGBA"

    shown = gk("show", pid, "--json", cwd=tmp_path)
    assert shown.code == 0
    assert sorted(shown.row["children"]) == sorted(c["id"] for c in children.values())
    child = gk("show", children["vary"]["id"], "--json", cwd=tmp_path).row
    assert (child["parent_id"], child["operation"], child["children"]) == (pid, "vary", [])


def test_offline_invalid_edits_exit_2_with_one_line(tmp_path: Path) -> None:
    bad = gk("vary", "8235781234567-1a2b3c4d5e", "--similarity", "1.5", cwd=tmp_path)
    assert bad.code == 2
    assert "--similarity" in one_line_error(bad)
    missing = gk("extend", "8235781234567-1a2b3c4d5e", "--width", "1024", cwd=tmp_path)
    assert missing.code == 2
    assert "--height" in one_line_error(missing)
    unknown = gk("remove-background", "8235781234567-1a2b3c4d5e", cwd=tmp_path)
    assert unknown.code == 2
    assert "8235781234567-1a2b3c4d5e" in one_line_error(unknown)


def test_aws_edit_commands(
    tmp_path: Path, bucket: str, bedrock: BedrockEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    bedrock.small_images = True
    parent = gk(
        "generate", "a fox in snow", "--width", "512", "--height", "512", "--json", cwd=tmp_path
    )
    assert parent.code == 0, parent.stderr
    pid = parent.row["id"]

    # Nova Canvas (the default model): it cannot upscale, and says what to set; nothing sent.
    sent = len(bedrock.requests)
    nova_upscale = gk("upscale", pid, cwd=tmp_path)
    assert nova_upscale.code == 2
    assert "BEDROCK_MODEL_ID=stability.stable-image-core-v1:1" in one_line_error(nova_upscale)
    assert len(bedrock.requests) == sent
    cut = gk("remove-background", pid, "--json", cwd=tmp_path)
    assert cut.code == 0, cut.stderr
    assert bedrock.requests[-1].body["taskType"] == "BACKGROUND_REMOVAL"
    key = cut.row["uri"].removeprefix(f"s3://{bucket}/")
    stored = boto3.client("s3", region_name="us-east-1").get_object(Bucket=bucket, Key=key)
    data = stored["Body"].read()
    assert data == bedrock.sent_images[-1]
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == "RGBA"

    # Stability: Fast Upscale through its inference profile.
    monkeypatch.setenv("BEDROCK_MODEL_ID", CORE)
    monkeypatch.setenv("BEDROCK_REGION", "us-west-2")
    up = gk("upscale", pid, "--json", cwd=tmp_path)
    assert up.code == 0, up.stderr
    assert up.row["model_id"] == "us.stability.stable-fast-upscale-v1:0"
    assert (up.row["parent_id"], up.row["operation"]) == (pid, "upscale")
    assert bedrock.violations == []

    bedrock.always(Reply.access_denied())
    denied = gk("vary", pid, "--json", cwd=tmp_path)
    assert denied.code == 1
    assert "Stable Diffusion 3.5 Large" in one_line_error(denied)
    assert denied.stdout == ""

    shown = gk("show", pid, "--json", cwd=tmp_path)
    assert sorted(shown.row["children"]) == sorted([cut.row["id"], up.row["id"]])
