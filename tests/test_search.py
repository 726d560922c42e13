"""Search over the whole gallery: the query language (pure), the local index (SQLite FTS5), and
``Gallery.search`` / ``gallery-kit search`` offline and on S3 (moto), including another server's
images appearing and four writers at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gallery_kit.errors import InvalidRequest
from gallery_kit.gallery import Gallery
from gallery_kit.generation import GenerationRequest
from gallery_kit.offline.generator import OfflineGenerator
from gallery_kit.records import ImageRecord
from gallery_kit.search.query import normalize, parse
from gallery_kit.settings import load_settings
from gallery_kit.stores.local import LocalStore
from gallery_kit.stores.outbox import Outbox
from gallery_kit.stores.s3 import S3Store
from tests.support.cli_runner import RECORD_FIELDS, gk
from tests.support.images import record_made_at
from tests.support.waiting import within

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
PROMPTS = [
    ("A lighthouse at dusk", "stability.stable-image-core-v1:1", None, 11),
    ("Café in Paris, rain on the windows", "stability.stable-image-core-v1:1", None, 12),
    ("A red fox in deep snow", "amazon.nova-canvas-v1:0", None, 13),
    ("The lighthouse keeper's cat", "stability.stable-image-ultra-v1:1", "vary", 14),
    ("A fox and a lighthouse", "stability.stable-image-core-v1:1", None, 15),
]


# --- the language ------------------------------------------------------------------------------


def test_parse_words_phrases_exclusions_and_the_prefix() -> None:
    q = parse('Lighthouse "red fox" -cat -"deep snow" kee')
    assert q.terms == ("lighthouse",)
    assert q.phrases == (("red", "fox"),)
    assert q.excluded == (("cat",), ("deep", "snow"))
    assert q.prefix == "kee"
    assert parse("lighthouse ").prefix is None  # a finished word is a whole word
    assert parse("").empty
    assert not parse(model="m").empty


def test_case_and_accents_do_not_matter() -> None:
    assert normalize("Café À PARIS") == "cafe a paris"
    q = parse("CAFE paris")
    facts = {"model_id": "m", "operation": "generated", "created_at": T0, "seed": 1}
    assert q.matches(prompt="Un café à Paris", **facts)
    assert not q.matches(prompt="Un thé à Paris", **facts)


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"since": "2026-13-01"}, "--since '2026-13-01' is not a date"),
        ({"until": "yesterday"}, "--until 'yesterday' is not a date"),
        ({"operation": "dance"}, "Unknown operation 'dance'"),
        ({"seed": -1}, "--seed -1"),
        ({"since": "2026-11-02", "until": "2026-11-01"}, "--until is not after --since"),
    ],
)
def test_malformed_filters_are_refused(kwargs: dict[str, object], says: str) -> None:
    with pytest.raises(InvalidRequest, match=says):
        parse("", **kwargs)  # type: ignore[arg-type]


def test_a_date_until_means_the_whole_day() -> None:
    q = parse(since="2026-11-01", until="2026-11-01T10:00+01:00")
    assert q.since == datetime(2026, 11, 1, tzinfo=UTC)
    assert q.until == datetime(2026, 11, 1, 9, tzinfo=UTC)
    assert parse(until="2026-11-01").until == datetime(2026, 11, 2, tzinfo=UTC)


# --- the gallery, offline and on S3 ------------------------------------------------------------


def fill(gallery: Gallery) -> list[ImageRecord]:
    """The five prompts, one hour apart (the last is the newest)."""
    out = []
    for i, (prompt, model, op, seed) in enumerate(PROMPTS):
        record = record_made_at(
            prompt,
            T0 + timedelta(hours=i),
            model_id=model,
            seed=seed,
            operation=op,
            prefix=getattr(gallery.store, "prefix", ""),
        )
        gallery.store.put(record, b"png", b"webp")
        out.append(record)
    return out


@pytest.fixture(params=["local", "s3"])
def gallery(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Gallery]:
    if request.param == "local":
        yield Gallery(
            OfflineGenerator(), LocalStore(tmp_path / "store"), Outbox(tmp_path / "outbox")
        )
        return
    bucket = request.getfixturevalue("bucket")
    store = S3Store(bucket, region="us-east-1")
    try:
        yield Gallery(OfflineGenerator(), store, Outbox(tmp_path / "outbox"))
    finally:
        store.close()


def prompts(page: object) -> list[str]:
    return [r.prompt for r in page.records]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("query", "filters", "expected"),
    [
        (
            "lighthouse",
            {},
            ["A fox and a lighthouse", "The lighthouse keeper's cat", "A lighthouse at dusk"],
        ),
        ("lighthouse fox", {}, ["A fox and a lighthouse"]),
        (
            "light",
            {},
            ["A fox and a lighthouse", "The lighthouse keeper's cat", "A lighthouse at dusk"],
        ),
        ('"red fox"', {}, ["A red fox in deep snow"]),
        ("fox -snow", {}, ["A fox and a lighthouse"]),
        ('lighthouse -"keeper\'s cat"', {}, ["A fox and a lighthouse", "A lighthouse at dusk"]),
        ("cafe PARIS", {}, ["Café in Paris, rain on the windows"]),
        ("", {"model": "amazon.nova-canvas-v1:0"}, ["A red fox in deep snow"]),
        ("", {"operation": "vary"}, ["The lighthouse keeper's cat"]),
        (
            "lighthouse",
            {"operation": "generated"},
            ["A fox and a lighthouse", "A lighthouse at dusk"],
        ),
        ("", {"seed": 12}, ["Café in Paris, rain on the windows"]),
        (
            "",
            {"since": "2026-11-01T14:00", "until": "2026-11-01T16:00Z"},
            ["The lighthouse keeper's cat", "A red fox in deep snow"],
        ),
        ("zebra", {}, []),
    ],
)
def test_each_query_form_and_filter(
    gallery: Gallery, query: str, filters: dict[str, object], expected: list[str]
) -> None:
    fill(gallery)
    page = gallery.search(query, **filters)  # type: ignore[arg-type]
    assert prompts(page) == expected
    assert page.total == len(expected)


def test_paging_by_cursor_and_the_count(gallery: Gallery) -> None:
    fill(gallery)
    first = gallery.search("", limit=2)
    assert (first.total, len(first.records)) == (5, 2)
    second = gallery.search("", limit=2, cursor=first.next_cursor)
    third = gallery.search("", limit=2, cursor=second.next_cursor)
    assert third.next_cursor is None
    seen = [r.prompt for p in (first, second, third) for r in p.records]
    assert seen == [p[0] for p in reversed(PROMPTS)]  # newest first, each once


def test_a_deleted_image_is_no_longer_found(gallery: Gallery) -> None:
    records = fill(gallery)
    gallery.search("fox")
    gallery.delete(records[-1].id)
    assert prompts(gallery.search("fox")) == ["A red fox in deep snow"]


def test_another_servers_images_appear(bucket: str, tmp_path: Path) -> None:
    stores = [S3Store(bucket, region="us-east-1") for _ in range(2)]
    try:
        ours, theirs = (
            Gallery(OfflineGenerator(), s, Outbox(tmp_path / f"server-{i}" / "outbox"))
            for i, s in enumerate(stores)
        )
        assert ours.search("lighthouse").total == 0
        theirs.generate(
            GenerationRequest(
                "a lighthouse in fog",
                width=320,
                height=320,
                model_id="stability.stable-image-core-v1:1",
            )
        )
        page, took = within(10, lambda: ours.search("lighthouse"), lambda p: p.total == 1)
        assert prompts(page) == ["a lighthouse in fog"]
        print(f"\nanother server's image found by search after {took:.2f} s")
    finally:
        for s in stores:
            s.close()


def test_four_writers_at_once_are_all_found_exactly_once(bucket: str, tmp_path: Path) -> None:
    stores = [S3Store(bucket, region="us-east-1") for _ in range(5)]
    try:
        writers = [
            Gallery(OfflineGenerator(), s, Outbox(tmp_path / f"server-{i}" / "outbox"))
            for i, s in enumerate(stores[:4])
        ]
        reader = Gallery(OfflineGenerator(), stores[4], Outbox(tmp_path / "reader" / "outbox"))
        reader.search("")  # an index that is older than every write

        def write(g: Gallery, n: int) -> None:
            for i in range(10):
                g.generate(
                    GenerationRequest(
                        f"writer {n} image {i} kite",
                        width=320,
                        height=320,
                        model_id="stability.stable-image-core-v1:1",
                    )
                )

        threads = [threading.Thread(target=write, args=(g, n)) for n, g in enumerate(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        found, _ = within(10, lambda: reader.search("kite", limit=100), lambda p: p.total >= 40)
        assert found.total == 40
        assert len({r.id for r in found.records}) == 40
    finally:
        for s in stores:
            s.close()


# --- the command line --------------------------------------------------------------------------


def test_cli_search_json_count_cursor_and_exit_codes(tmp_path: Path) -> None:
    gallery = Gallery.from_settings(load_settings())
    fill(gallery)
    run = gk("search", "lighthouse", "-cat", "--json", cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert [r["prompt"] for r in run.rows] == ["A fox and a lighthouse", "A lighthouse at dusk"]
    assert all(row.keys() >= RECORD_FIELDS for row in run.rows)
    count = gk("search", "light", "--count", cwd=tmp_path)
    assert count.stdout.strip() == "3"
    paged = gk("search", "--limit", "2", "--json", cwd=tmp_path)
    assert "gallery-kit: more: --cursor " in paged.stderr
    cursor = paged.stderr.split("--cursor ")[1].split()[0]
    rest = gk("search", "--limit", "10", "--cursor", cursor, "--json", cwd=tmp_path)
    assert len(rest.rows) == 3
    nothing = gk("search", "zebra", cwd=tmp_path)
    assert (nothing.code, nothing.stdout) == (0, "")
    bad = gk("search", "--since", "2026-13-01", cwd=tmp_path)
    assert bad.code == 2
    assert bad.stderr.count("\n") == 1
    unknown = gk("search", "--operation", "dance", cwd=tmp_path)
    assert unknown.code == 2


def test_reindex_rebuilds_the_search_index_without_deleted_images(
    bucket: str, tmp_path: Path
) -> None:
    stores = [S3Store(bucket, region="us-east-1") for _ in range(2)]
    try:
        ours, theirs = (
            Gallery(OfflineGenerator(), s, Outbox(tmp_path / f"server-{i}" / "outbox"))
            for i, s in enumerate(stores)
        )
        fill(theirs)
        assert ours.search("fox").total == 2
        theirs.delete(ours.search("fox").records[0].id)
        ours.reindex()
        assert prompts(ours.search("fox")) == ["A red fox in deep snow"]
        assert ours.search_index.count() == 4
    finally:
        for s in stores:
            s.close()


def test_the_search_bar_filters_by_model_and_date(tmp_path: Path) -> None:
    from gallery_kit.ui.search_bar import SearchBar

    bar = SearchBar()
    bar.text.value = "fox"
    bar.model.value = "amazon.nova-canvas-v1:0"
    bar.since.value = datetime(2026, 11, 1, tzinfo=UTC).date()
    bar.until.value = datetime(2026, 11, 1, tzinfo=UTC).date()
    gallery = Gallery(OfflineGenerator(), LocalStore(tmp_path / "s"), Outbox(tmp_path / "o"))
    fill(gallery)
    summaries, _cursor, total = gallery.search_summaries(bar.filters())
    assert ([s.prompt for s in summaries], total) == (["A red fox in deep snow"], 1)
    bar.show_count(1284)
    assert bar.count.value == "1,284 images match"
    bar.show_count(None)
    assert bar.count.value == ""
