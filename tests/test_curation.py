"""Favourites and boards (the curation issue, its first part: the service and the command line),
offline (a folder) and on S3 (moto), with two sessions curating the same images at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gallery_kit.curation import Curator, board_name
from gallery_kit.errors import ImageNotFound, InvalidRequest
from gallery_kit.stores.base import ImageStore
from gallery_kit.stores.local import LocalStore
from gallery_kit.stores.s3 import S3Store
from tests.support.cli_runner import gk, one_line_error
from tests.support.images import record_made_at

T0 = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ImageStore]:
    if request.param == "local":
        yield LocalStore(tmp_path / "store")
        return
    s3 = S3Store(request.getfixturevalue("bucket"), region="us-east-1")
    yield s3
    s3.close()


def stored(store: ImageStore, n: int) -> list[str]:
    ids = []
    for i in range(n):
        record = record_made_at(f"image {i}", T0 + timedelta(minutes=i))
        store.put(record, b"png", b"webp")
        ids.append(record.id)
    return ids


def test_favourites_and_boards(store: ImageStore) -> None:
    curator = Curator(store)
    a, b, c = stored(store, 3)
    curator.favorite([a, c])
    assert curator.favorites() == sorted([a, c])  # newest first
    curator.favorite([a], on=False)
    assert curator.favorites() == [c]

    curator.create_board("Cats")
    curator.create_board("고양이 🐈")  # any script
    with pytest.raises(InvalidRequest, match="exists already"):
        curator.create_board("  cats ")  # names ignore case and outer spaces
    curator.add("cats", [a, b])
    curator.add("고양이 🐈", [b])
    assert curator.board_images("CATS") == sorted([a, b])
    assert curator.memberships()[b] == ["Cats", "고양이 🐈"]
    curator.remove("Cats", [a])
    assert curator.board_images("Cats") == [b]

    curator.rename_board("Cats", "Felines")
    assert [x.name for x in curator.boards()] == ["Felines", "고양이 🐈"]
    curator.create_board("Cats")  # the old name is free again
    curator.rename_board("felines", "FELINES")  # a change of case only
    assert curator.board_images("felines") == [b]

    curator.delete_board("FELINES")
    assert [x.name for x in curator.boards()] == ["Cats", "고양이 🐈"]
    assert store.exists(b)  # its images stay


def test_unknown_ids_and_boards_change_nothing(store: ImageStore) -> None:
    curator = Curator(store)
    (a,) = stored(store, 1)
    curator.create_board("Keep")
    missing = "8000000000000-0123456789"
    with pytest.raises(ImageNotFound, match=missing):
        curator.favorite([a, missing])
    assert curator.favorites() == []  # not even the first one
    with pytest.raises(ImageNotFound):
        curator.add("Keep", [a, missing])
    assert curator.board_images("Keep") == []
    with pytest.raises(InvalidRequest, match=r"No board named 'Nope'.*Keep"):
        curator.add("Nope", [a])


@pytest.mark.parametrize("name", ["", "   ", "x" * 81, "tab\there"])
def test_board_names_are_checked(name: str) -> None:
    with pytest.raises(InvalidRequest):
        board_name(name)


def test_two_sessions_curating_at_once_lose_nothing(bucket: str) -> None:
    stores = [S3Store(bucket, region="us-east-1") for _ in range(2)]
    try:
        ids = stored(stores[0], 12)
        curators = [Curator(s) for s in stores]
        created: list[object] = []
        barrier = threading.Barrier(2)

        def session(n: int) -> None:
            c = curators[n]
            barrier.wait()
            try:
                c.create_board("Shared")
                created.append(n)
            except InvalidRequest:
                pass
            barrier.wait()
            c.favorite(ids[n::2])  # each stars half
            c.add("Shared", ids[n::2])

        threads = [threading.Thread(target=session, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(created) == 1  # one board of that name, whoever asked first
        assert [b.name for b in curators[1].boards()] == ["Shared"]
        assert curators[1].favorites() == sorted(ids)
        assert curators[0].board_images("Shared") == sorted(ids)
    finally:
        for s in stores:
            s.close()


def test_cli_favorites_boards_and_json_fields(tmp_path: Path) -> None:
    for i in range(3):
        assert (
            gk("generate", f"a kite {i}", "--width", "320", "--height", "320", cwd=tmp_path).code
            == 0
        )
    ids = [r["id"] for r in gk("list", "--json", cwd=tmp_path).rows]
    assert gk("favorite", ids[0], ids[2], cwd=tmp_path).code == 0
    favs = gk("list", "--favorites", "--json", cwd=tmp_path).rows
    assert [r["id"] for r in favs] == [ids[0], ids[2]]
    assert all(r["favorite"] for r in favs)

    assert gk("board", "create", "Kites", cwd=tmp_path).code == 0
    again = gk("board", "create", "KITES", cwd=tmp_path)
    assert again.code == 2
    assert "exists already" in one_line_error(again)
    assert gk("board", "add", "Kites", ids[1], ids[2], cwd=tmp_path).code == 0
    listed = gk("board", "list", "--json", cwd=tmp_path).rows
    assert [(b["name"], b["count"]) for b in listed] == [("Kites", 2)]
    assert listed[0]["created_at"]
    on_board = gk("list", "--board", "Kites", "--json", cwd=tmp_path).rows
    assert [r["id"] for r in on_board] == [ids[1], ids[2]]
    assert all(r["boards"] == ["Kites"] for r in on_board)
    both = gk("list", "--board", "Kites", "--favorites", "--json", cwd=tmp_path).rows
    assert [r["id"] for r in both] == [ids[2]]
    paged = gk("list", "--board", "Kites", "--limit", "1", "--json", cwd=tmp_path)
    assert [r["id"] for r in paged.rows] == [ids[1]]
    assert f"--cursor {ids[1]}" in paged.stderr
    # Search among favourites, a board, or both (the search issue's filters).
    starred = gk("search", "kite", "--favorites", "--json", cwd=tmp_path).rows
    assert [r["id"] for r in starred] == [ids[0], ids[2]]
    assert gk("search", "--board", "kites", "--count", cwd=tmp_path).stdout.strip() == "2"
    assert (
        gk("search", "0", "--board", "Kites", "--favorites", "--count", cwd=tmp_path).stdout.strip()
        == "1"
    )
    unknown_board = gk("search", "kite", "--board", "Nope", cwd=tmp_path)
    assert unknown_board.code == 2
    shown = gk("show", ids[0], "--json", cwd=tmp_path).row
    assert (shown["favorite"], shown["boards"]) == (True, [])

    unknown = gk("favorite", ids[1], "8000000000000-0123456789", cwd=tmp_path)
    assert unknown.code == 2
    assert "8000000000000-0123456789" in one_line_error(unknown)
    assert [r["id"] for r in gk("list", "--favorites", "--json", cwd=tmp_path).rows] == [
        ids[0],
        ids[2],
    ]  # ids[1] was not starred either
    no_board = gk("board", "add", "Nope", ids[0], cwd=tmp_path)
    assert no_board.code == 2
    assert "No board named 'Nope'" in one_line_error(no_board)

    assert gk("board", "rename", "Kites", "Drachen", cwd=tmp_path).code == 0
    assert gk("board", "remove", "drachen", ids[1], cwd=tmp_path).code == 0
    assert gk("board", "delete", "Drachen", cwd=tmp_path).code == 0
    assert gk("board", "list", "--json", cwd=tmp_path).rows == []
    assert len(gk("list", "--json", cwd=tmp_path).rows) == 3  # the images stay
    assert gk("unfavorite", ids[0], cwd=tmp_path).code == 0
    assert [r["id"] for r in gk("list", "--favorites", "--json", cwd=tmp_path).rows] == [ids[2]]
