"""The ``gallery-kit`` console script, run for real in a subprocess, offline and in AWS mode."""

from __future__ import annotations

import io
from pathlib import Path

import boto3
import pytest
from PIL import Image

from tests.support.bedrock import BedrockEndpoint, Reply
from tests.support.cli_runner import RECORD_FIELDS, gk, gk_on_a_terminal, one_line_error

# Nova Canvas's request family and limits, on an account that can still call it (see conftest).
pytestmark = pytest.mark.usefixtures("nova_canvas")

CORE = "stability.stable-image-core-v1:1"


def s3_bytes(bucket: str, key: str) -> bytes:
    obj = boto3.client("s3", region_name="us-east-1").get_object(Bucket=bucket, Key=key)
    return bytes(obj["Body"].read())


# --- offline mode -----------------------------------------------------------------------------


def test_offline_generate_list_show_delete(tmp_path: Path, hermetic_env: Path) -> None:
    made = gk(
        "generate",
        "붉은 여우 🦊",
        "--count",
        "3",
        "--width",
        "320",
        "--height",
        "320",
        "--seed",
        "7",
        "--negative-prompt",
        "blur",
        "--json",
        cwd=tmp_path,
    )
    assert made.code == 0, made.stderr
    assert made.stderr == ""
    rows = made.rows
    assert len(rows) == 3
    for row, seed in zip(rows, (7, 8, 9), strict=True):
        assert row.keys() >= RECORD_FIELDS
        assert row["prompt"] == "붉은 여우 🦊"
        assert row["negative_prompt"] == "blur"
        assert (row["seed"], row["width"], row["height"]) == (seed, 320, 320)
        assert row["model_id"] == "offline"
        assert row["created_at"].endswith("Z")
        original = Path(row["uri"])
        assert original.is_relative_to(hermetic_env.resolve())
        assert original.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        thumb = Image.open(io.BytesIO(Path(row["thumbnail_uri"]).read_bytes()))
        assert thumb.format == "WEBP"
    newest_first = [r["id"] for r in rows]  # the batch lists in the order the model returned it

    first = gk("list", "--limit", "2", "--json", cwd=tmp_path)
    assert first.code == 0
    assert [r["id"] for r in first.rows] == newest_first[:2]
    assert "--cursor" in first.stderr
    cursor = first.stderr.split("--cursor", 1)[1].split()[0]
    rest = gk("list", "--limit", "2", "--cursor", cursor, "--json", cwd=tmp_path)
    assert rest.code == 0
    assert [r["id"] for r in rest.rows] == newest_first[2:]
    assert "--cursor" not in rest.stderr

    shown = gk("show", newest_first[1], "--json", cwd=tmp_path)
    assert shown.code == 0
    # show adds the image's lineage (issue 6): the ids of the images made from it.
    assert shown.rows == [{**rows[1], "children": []}]

    # delete moves to the trash: unlisted, restorable, its files kept.
    trashed = gk("delete", newest_first[1], cwd=tmp_path)
    assert trashed.code == 0
    assert newest_first[1] in trashed.stdout
    assert Path(rows[1]["uri"]).exists()
    assert [r["id"] for r in gk("list", "--json", cwd=tmp_path).rows] == newest_first[::2]
    (in_trash,) = gk("trash", "--json", cwd=tmp_path).rows
    assert in_trash["id"] == newest_first[1]
    assert in_trash["trashed_at"]
    assert gk("restore", newest_first[1], cwd=tmp_path).code == 0
    assert [r["id"] for r in gk("list", "--json", cwd=tmp_path).rows] == newest_first
    assert gk("trash", "--json", cwd=tmp_path).rows == []

    deleted = gk("delete", "--purge", newest_first[1], cwd=tmp_path)
    assert deleted.code == 0
    assert newest_first[1] in deleted.stdout
    assert not Path(rows[1]["uri"]).exists()
    gone = gk("show", newest_first[1], cwd=tmp_path)
    assert gone.code == 2
    assert "gallery-kit list" in one_line_error(gone)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["generate", "   "], ["prompt is empty"]),
        (["generate", "a cat", "--width", "100"], ["width", "320-4096"]),
        (["generate", "a cat", "--count", "three"], ["--count", "invalid int"]),
        (["generate", "a cat", "--model", "acme.v9"], ["acme.v9", "stability"]),
        (["show", "not-an-id"], ["not an image id"]),
        (["list", "--limit", "0"], ["--limit"]),
    ],
    ids=["empty", "width", "count-word", "model", "bad-id", "limit"],
)
def test_invalid_input_exits_2_with_one_line(
    tmp_path: Path, args: list[str], words: list[str]
) -> None:
    run = gk(*args, cwd=tmp_path)
    assert run.code == 2
    assert run.stdout == ""
    line = one_line_error(run)
    for word in words:
        assert word in line, (word, line)


def test_models_lists_every_model_with_region_and_price(tmp_path: Path) -> None:
    run = gk("models", "--json", cwd=tmp_path)
    assert run.code == 0
    by_id = {row["model_id"]: row for row in run.rows}
    assert by_id[CORE]["region"] == "us-west-2"
    assert by_id[CORE]["status"] == "active"
    assert by_id[CORE]["price_per_image_usd"] > 0
    assert by_id["amazon.nova-canvas-v1:0"]["region"] == "us-east-1"
    assert len(by_id["amazon.nova-canvas-v1:0"]["styles"]) == 8


def test_broken_setting_exits_2_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("S3_BUCKET_NAME", "Not_A_Bucket")
    run = gk("list", cwd=tmp_path)
    assert run.code == 2
    assert "S3_BUCKET_NAME" in one_line_error(run)


# --- AWS mode ---------------------------------------------------------------------------------


def test_aws_generate_list_and_show(tmp_path: Path, bucket: str, bedrock: BedrockEndpoint) -> None:
    bedrock.small_images = True
    nova = gk(
        "generate",
        "a lighthouse",
        "--width",
        "512",
        "--height",
        "512",
        "--seed",
        "42",
        "--style",
        "PHOTOREALISM",
        "--json",
        cwd=tmp_path,
    )
    assert nova.code == 0, nova.stderr
    (row,) = nova.rows
    assert row.keys() >= RECORD_FIELDS
    assert row["model_id"] == "amazon.nova-canvas-v1:0"
    assert row["seed"] == 42 == bedrock.requests[0].body["imageGenerationConfig"]["seed"]
    assert row["uri"].startswith(f"s3://{bucket}/gallery-kit/images/")
    assert row["thumbnail_uri"].startswith(f"s3://{bucket}/gallery-kit/thumbs/")
    key = row["uri"].removeprefix(f"s3://{bucket}/")
    assert s3_bytes(bucket, key) == bedrock.sent_images[0]

    three = gk("generate", "a fox", "--model", CORE, "--count", "3", "--json", cwd=tmp_path)
    assert three.code == 0, three.stderr
    assert len(three.rows) == 3
    assert len(bedrock.requests) == 4
    assert {r["model_id"] for r in three.rows} == {CORE}
    assert bedrock.violations == []

    listed = gk("list", "--json", cwd=tmp_path)
    assert listed.code == 0
    assert [r["id"] for r in listed.rows] == [r["id"] for r in three.rows] + [row["id"]]

    shown = gk("show", row["id"], cwd=tmp_path)
    assert shown.code == 0
    assert "PHOTOREALISM" in shown.stdout
    assert row["uri"] in shown.stdout


def test_aws_service_failure_exits_1_with_one_line(
    tmp_path: Path, bucket: str, bedrock: BedrockEndpoint
) -> None:
    bedrock.always(Reply.access_denied())
    run = gk("generate", "a cat", "--width", "512", "--height", "512", cwd=tmp_path)
    assert run.code == 1
    assert run.stdout == ""
    assert "bedrock:InvokeModel" in one_line_error(run)
    assert len(bedrock.requests) == 1


def test_aws_end_of_life_names_a_working_model(
    tmp_path: Path, bucket: str, bedrock: BedrockEndpoint
) -> None:
    bedrock.always(Reply.end_of_life())
    run = gk("generate", "a cat", "--width", "512", "--height", "512", cwd=tmp_path)
    assert run.code == 1
    line = one_line_error(run)
    assert f"BEDROCK_MODEL_ID={CORE}" in line
    assert f"--model {CORE}" in line


def test_aws_invalid_input_sends_nothing(
    tmp_path: Path, bucket: str, bedrock: BedrockEndpoint
) -> None:
    run = gk("generate", "a cat", "--width", "4096", "--height", "4096", cwd=tmp_path)
    assert run.code == 2
    assert "4,194,304" in one_line_error(run)
    assert bedrock.requests == []


def test_aws_sync_uploads_waiting_images_and_adopts_foreign_ones(
    tmp_path: Path, bucket: str, bedrock: BedrockEndpoint
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.delete_bucket(Bucket=bucket)
    made = gk("generate", "kept safe", "--width", "512", "--height", "512", "--json", cwd=tmp_path)
    assert made.code == 0, made.stderr
    (row,) = made.rows
    assert row["status"] == "pending"
    assert Path(row["uri"]).read_bytes() == bedrock.sent_images[0]
    assert "will upload" in made.stderr

    s3.create_bucket(Bucket=bucket)
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (1, 2, 3)).save(out, "PNG")
    s3.put_object(Bucket=bucket, Key="uploads/streamlit.png", Body=out.getvalue())

    synced = gk("sync", "--json", cwd=tmp_path)
    assert synced.code == 0, synced.stderr
    (summary,) = synced.rows
    assert summary["uploaded"] == [row["id"]]
    assert summary["waiting"] == []
    assert len(summary["adopted"]) == 1
    assert s3_bytes(bucket, f"gallery-kit/images/{row['id']}.png") == bedrock.sent_images[0]

    listed = gk("list", "--json", cwd=tmp_path)
    by_id = {r["id"]: r for r in listed.rows}
    assert by_id[row["id"]]["status"] == "stored"
    assert by_id[summary["adopted"][0]]["uri"] == f"s3://{bucket}/uploads/streamlit.png"
    assert len(bedrock.requests) == 1


def test_aws_reindex_lists_images_an_older_version_stored(
    tmp_path: Path, bucket: str, bedrock: BedrockEndpoint
) -> None:
    bedrock.small_images = True
    made = gk("generate", "an old one", "--width", "512", "--height", "512", "--json", cwd=tmp_path)
    assert made.code == 0, made.stderr
    image_id = made.row["id"]
    # What a version before the index left: no index key.
    s3 = boto3.client("s3", region_name="us-east-1")
    (key,) = [
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="gallery-kit/index/")["Contents"]
    ]
    s3.delete_object(Bucket=bucket, Key=key)
    assert gk("list", "--json", cwd=tmp_path).rows == []

    done = gk("reindex", "--json", cwd=tmp_path)
    assert done.code == 0, done.stderr
    assert done.row == {"indexed": [image_id], "unlisted": [], "rewritten": []}
    assert [r["id"] for r in gk("list", "--json", cwd=tmp_path).rows] == [image_id]
    again = gk("reindex", cwd=tmp_path)
    assert again.stdout.strip() == (
        "indexed 0, unlisted 0 (metadata gone), rewritten 0 (keys in the new form)"
    )
    assert "listing metadata" not in again.stderr  # not a terminal: no progress bar
    # On a terminal: a bar per stage on stderr (tqdm's "|"), the report still on stdout.
    shown = gk_on_a_terminal("reindex", cwd=tmp_path)
    assert shown.code == 0, shown.stderr
    for stage in ("listing metadata", "listing index keys", "writing the search catalog"):
        assert stage in shown.stderr
    assert "|" in shown.stderr
    assert shown.stdout.startswith("indexed 0, unlisted 0")
    quiet = gk_on_a_terminal("reindex", "--json", cwd=tmp_path)
    assert "listing" not in quiet.stderr  # --json: silent
    assert quiet.code == 0
