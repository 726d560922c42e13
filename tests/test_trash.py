"""The trash: delete unlists (everywhere, search included) and keeps everything for a restore;
lineage survives; old trash is purged; offline (a folder) and on S3 (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gallery_kit.errors import ImageNotFound
from gallery_kit.gallery import Gallery
from gallery_kit.offline.generator import OfflineGenerator
from gallery_kit.records import ImageRecord
from gallery_kit.stores.local import LocalStore
from gallery_kit.stores.outbox import Outbox
from gallery_kit.stores.s3 import S3Store
from tests.support.images import record_made_at
from tests.support.waiting import within

T0 = datetime(2026, 11, 25, tzinfo=UTC)


@pytest.fixture(params=["local", "s3"])
def gallery(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Gallery]:
    if request.param == "local":
        store: LocalStore | S3Store = LocalStore(tmp_path / "store")
    else:
        store = S3Store(request.getfixturevalue("bucket"), region="us-east-1")
    yield Gallery(OfflineGenerator(), store, Outbox(tmp_path / "server" / "outbox"))
    if isinstance(store, S3Store):
        store.close()


def family(gallery: Gallery) -> tuple[ImageRecord, ImageRecord]:
    from dataclasses import replace

    parent = record_made_at("a lighthouse, the parent", T0)
    child = replace(
        record_made_at("a lighthouse, varied", T0 + timedelta(minutes=1)),
        parent_id=parent.id,
        operation="vary",
    )
    for r in (parent, child):
        gallery.store.put(r, b"png", b"webp")
    return parent, child


def listed(gallery: Gallery) -> list[str]:
    return [r.id for r in gallery.page(limit=100).records]


def test_trash_and_restore_keep_everything_and_lineage(gallery: Gallery) -> None:
    parent, child = family(gallery)
    assert gallery.search("lighthouse").total == 2
    gallery.trash([parent.id])
    assert listed(gallery) == [child.id]
    assert not gallery.store.exists(parent.id)
    assert [r.id for r in gallery.search("lighthouse").records] == [child.id]
    assert [t.record.id for t in gallery.trash_bin.items()] == [parent.id]
    assert gallery.read_original(parent) == b"png"  # nothing deleted
    assert [c.id for c in gallery.children(parent.id)] == [child.id]

    gallery.restore([parent.id])
    assert listed(gallery) == [child.id, parent.id]
    assert gallery.search("lighthouse").total == 2
    assert gallery.trash_bin.items() == []
    assert gallery.get(child.id).parent_id == parent.id
    assert [c.id for c in gallery.children(parent.id)] == [child.id]


def test_an_unknown_id_changes_nothing(gallery: Gallery) -> None:
    parent, _child = family(gallery)
    with pytest.raises(ImageNotFound):
        gallery.trash([parent.id, "8000000000000-0123456789"])
    assert gallery.trash_bin.items() == []
    assert parent.id in listed(gallery)
    with pytest.raises(ImageNotFound, match="not in the trash"):
        gallery.restore([parent.id])


def test_old_trash_is_purged_and_emptying_deletes_for_good(gallery: Gallery) -> None:
    parent, child = family(gallery)
    bin_ = gallery.trash_bin
    bin_.trash([parent.id], now=datetime.now(UTC) - timedelta(days=31))
    gallery.trash([child.id])
    assert bin_.purge_expired() == [parent.id]
    with pytest.raises(ImageNotFound):
        gallery.get(parent.id)
    assert [t.record.id for t in bin_.items()] == [child.id]
    assert bin_.empty() == [child.id]
    assert bin_.items() == []
    assert listed(gallery) == []


def test_another_server_sees_the_trash_and_the_restore(bucket: str, tmp_path: Path) -> None:
    stores = [S3Store(bucket, region="us-east-1") for _ in range(2)]
    try:
        ours, theirs = (
            Gallery(OfflineGenerator(), s, Outbox(tmp_path / f"server-{i}" / "outbox"))
            for i, s in enumerate(stores)
        )
        parent, _child = family(ours)
        assert theirs.search("lighthouse").total == 2
        ours.trash([parent.id])
        page, _ = within(10, lambda: theirs.search("lighthouse"), lambda p: p.total == 1)
        assert page.total == 1
        ours.restore([parent.id])
        page, _ = within(10, lambda: theirs.search("lighthouse"), lambda p: p.total == 2)
        assert page.total == 2
    finally:
        for s in stores:
            s.close()


def test_a_dashboard_start_purges_old_trash(gallery: Gallery) -> None:
    parent, child = family(gallery)
    gallery.trash_bin.trash([parent.id], now=datetime.now(UTC) - timedelta(days=31))
    gallery.trash([child.id])
    assert gallery.purge_old_trash() == [parent.id]
    assert [t.record.id for t in gallery.trash_bin.items()] == [child.id]
