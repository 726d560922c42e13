"""The dashboard's team views driven from Python: who made an image (the lightbox, the "made by"
filter), what it cost (the status line), the duplicate notice with "Generate again", and the
Spend view, offline and against S3 (moto) + the local Bedrock endpoint."""

from __future__ import annotations

import html
from typing import Any

import pytest

from gallery_kit import Gallery, load_settings
from gallery_kit.ui.app import GalleryApp
from gallery_kit.ui.routes import route
from gallery_kit.ui.team_view import chart_svg
from tests.test_app import _aws_app, generate, page_messages, wait_for

__all__ = ["page_messages"]


def new_app() -> GalleryApp:
    app = GalleryApp(Gallery.from_settings(load_settings()), poll_ms=0)
    wait_for(lambda: not app.grid.loading and (app.grid.items or app.grid.empty_text != "Loading…"))
    return app


def test_duplicate_notice_shows_them_or_generates_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GALLERY_USER", "ann")
    app = new_app()
    try:
        generate(app, "a lighthouse", random_seed=False, seed=99)
        first = [i["id"] for i in app.grid.items]
        assert app.messages.duplicate.layout.display == "none"

        generate(app, "a lighthouse", random_seed=False, seed=99)  # the same request again
        assert [i["id"] for i in app.grid.items] == first  # nothing new, nothing sent
        assert app.messages.duplicate.layout.display == "flex"
        text = html.unescape(app.messages.duplicate_text.value)
        assert text.startswith("Made on 20")
        assert "by ann" in text
        assert "shown again, nothing spent" in app.status.value
        app.messages.show_them.click()
        wait_for(lambda: app.grid.detail.get("id") == first[0])
        assert app.grid.detail["created_by"] == "ann"

        app.messages.generate_again.click()
        wait_for(lambda: len(app.grid.items) == 2)
        assert app.messages.duplicate.layout.display == "none"
        assert "Saved 1 image" in app.status.value

        generate(app, "a lighthouse", random_seed=True)  # a random seed: never a duplicate
        assert len(app.grid.items) == 3
    finally:
        app.close()


def test_made_by_filter_and_escaping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GALLERY_USER", "ann")
    app = new_app()
    try:
        generate(app, "a red kite")
        monkeypatch.setenv("GALLERY_USER", "<b>bob</b>")
        bob = new_app()
        try:
            generate(bob, "a blue kite")
        finally:
            bob.close()
        app.search.by.value = "<b>bob</b>"
        wait_for(lambda: [i["prompt"] for i in app.grid.items] == ["a blue kite"])
        app.search.by.value = "ANN"  # ignoring case
        wait_for(lambda: [i["prompt"] for i in app.grid.items] == ["a red kite"])
        app.search.by.value = ""
        wait_for(lambda: len(app.grid.items) == 2)
        route(app, {"type": "open", "id": app.grid.items[0]["id"]})
        wait_for(lambda: app.grid.detail.get("created_by") == "<b>bob</b>")  # text, not markup

        # The Spend view: offline nothing is spent; the images are counted.
        app.team.toggle.value = True
        wait_for(lambda: "Nothing spent" in app.team.chart.value)
        assert "2 images made offline" in app.team.chart.value
        assert app.team.box.layout.display == "flex"
        assert sorted(app.search.by.options) == ["<b>bob</b>", "ann"]
    finally:
        app.close()


def test_cost_in_the_status_line_and_the_spend_view(
    bedrock: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GALLERY_USER", "carol")
    app = _aws_app(monkeypatch)
    try:
        app.team.toggle.value = True
        wait_for(lambda: "Nothing spent" in app.team.chart.value)
        generate(app, "a harbour at dawn", count=2)
        assert "spent $0.08" in app.status.value  # 2 x Stable Image Core at $0.04
        wait_for(lambda: "<svg" in app.team.chart.value)
        assert "carol" in app.team.chart.value
        assert "$0.08" in app.team.summary.value
        app.team.split.value = "model"
        wait_for(lambda: "stability.stable-image-core-v1:1" in app.team.chart.value)
        route(app, {"type": "open", "id": app.grid.items[0]["id"]})
        wait_for(lambda: app.grid.detail.get("cost") == "$0.04")
    finally:
        app.close()


def test_chart_escapes_names_and_groups_the_rest() -> None:
    by_day = {
        "2026-11-30": {f"user{i}": float(i + 1) for i in range(8)},
        "2026-12-01": {"<script>x</script>": 10.0},
    }
    svg = chart_svg(by_day)
    assert "<script>" not in svg
    assert "&lt;script&gt;x&lt;/script&gt;" in svg
    # 9 series: the 6 costliest coloured, the other 3 (user0-2) one grey bar.
    assert "3 more" in svg
    assert svg.count("<rect") == (5 + 1) + 1
