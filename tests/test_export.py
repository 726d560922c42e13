"""``gallery-kit export``: originals byte for byte plus manifest.jsonl/.csv, to a ZIP or a folder;
chosen by board, favourites, ids or a search; an interrupted export leaves nothing behind."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from gallery_kit.export import export
from gallery_kit.gallery import Gallery
from gallery_kit.records import ImageRecord
from gallery_kit.settings import load_settings
from tests.support.cli_runner import RECORD_FIELDS, gk, one_line_error


def made(tmp_path: Path, n: int = 3) -> list[str]:
    for i in range(n):
        run = gk(
            "generate", f"a kite number {i}", "--width", "320", "--height", "320", cwd=tmp_path
        )
        assert run.code == 0, run.stderr
    return [r["id"] for r in gk("list", "--json", cwd=tmp_path).rows]


def originals(ids: list[str]) -> dict[str, bytes]:
    gallery = Gallery.from_settings(load_settings())
    return {i: gallery.read_original(gallery.get(i)) for i in ids}


def test_export_everything_to_a_zip_byte_for_byte(tmp_path: Path) -> None:
    ids = made(tmp_path)
    assert gk("favorite", ids[0], cwd=tmp_path).code == 0
    run = gk("export", "--out", str(tmp_path / "all.zip"), cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert run.stdout.startswith("wrote 3 images")
    with zipfile.ZipFile(tmp_path / "all.zip") as zf:
        names = zf.namelist()
        assert sorted(names) == sorted(
            [f"{i}.png" for i in ids] + ["manifest.jsonl", "manifest.csv"]
        )
        for image_id, data in originals(ids).items():
            assert zf.read(f"{image_id}.png") == data
        rows = [json.loads(line) for line in zf.read("manifest.jsonl").decode().splitlines()]
        table = list(csv.DictReader(io.StringIO(zf.read("manifest.csv").decode())))
    assert [r["id"] for r in rows] == ids  # newest first
    assert all(r.keys() >= RECORD_FIELDS | {"favorite", "boards"} for r in rows)
    assert [r["favorite"] for r in rows] == [True, False, False]
    assert [r["id"] for r in table] == ids
    assert table[0]["prompt"] == rows[0]["prompt"]


def test_export_a_board_a_search_and_ids_to_a_folder(tmp_path: Path) -> None:
    ids = made(tmp_path)
    assert gk("board", "create", "Best", cwd=tmp_path).code == 0
    assert gk("board", "add", "Best", ids[1], ids[2], cwd=tmp_path).code == 0
    out = tmp_path / "best"
    assert gk("export", "--board", "Best", "--out", str(out), cwd=tmp_path).code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{ids[1]}.png", f"{ids[2]}.png", "manifest.jsonl", "manifest.csv"]
    )
    assert (out / f"{ids[1]}.png").read_bytes() == originals([ids[1]])[ids[1]]
    searched = tmp_path / "one.zip"
    assert gk("export", "kite", "number", "2", "--out", str(searched), cwd=tmp_path).code == 0
    with zipfile.ZipFile(searched) as zf:
        (line,) = zf.read("manifest.jsonl").decode().splitlines()
    assert json.loads(line)["prompt"] == "a kite number 2"
    both = tmp_path / "both.zip"
    run = gk("export", "--board", "Best", "--ids", ids[0], ids[1], "--out", str(both), cwd=tmp_path)
    assert run.stdout.startswith("wrote 1 images")  # what every choice agrees on


def test_unknown_ids_or_boards_write_nothing(tmp_path: Path) -> None:
    made(tmp_path, 1)
    for args in (["--ids", "8000000000000-0123456789"], ["--board", "Nope"]):
        run = gk("export", *args, "--out", str(tmp_path / "x.zip"), cwd=tmp_path)
        assert run.code == 2
        one_line_error(run)
        assert not (tmp_path / "x.zip").exists()


def test_an_interrupted_export_leaves_no_file(tmp_path: Path) -> None:
    gallery = Gallery.from_settings(load_settings())
    made(tmp_path, 3)
    records = gallery.page().records
    calls = 0

    def read(record: ImageRecord) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt  # Ctrl-C halfway
        return gallery.read_original(record)

    with pytest.raises(KeyboardInterrupt):
        export(records, read, lambda r: {"id": r.id}, tmp_path / "out" / "half.zip")
    assert list((tmp_path / "out").iterdir()) == []  # neither the zip nor its temporary file
