"""The search bar above the grid: words (``gk-filter``), a model picker, a date range and the
count of matches (``gk-search-count``). Clearing it all returns to the live feed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import ipywidgets as w

from gallery_kit.bedrock.families import MODELS
from gallery_kit.search.searcher import Filters

#: Seconds after the last keystroke before the search runs (typing never waits for it).
DEBOUNCE_S = 0.12
ANY_MODEL = ""


class SearchBar:
    """The widgets (``box``) and the :class:`Filters` they describe."""

    def __init__(self) -> None:
        self.text = w.Text(
            placeholder='Search every image: words, "a phrase", -word',
            description="Search",
            continuous_update=True,
            layout=w.Layout(flex="1 1 260px", min_width="200px"),
        )
        self.text.add_class("gk-filter")
        models = [("Any model", ANY_MODEL), ("Offline placeholders", "offline")]
        models += [(spec.name + f" ({m})", m) for m, spec in MODELS.items()]
        self.model = w.Dropdown(options=models, value=ANY_MODEL, layout=w.Layout(width="170px"))
        self.model.add_class("gk-search-model")
        self.since = w.DatePicker(
            description="From",
            style={"description_width": "initial"},
            layout=w.Layout(width="185px"),
        )
        self.since.add_class("gk-search-since")
        self.until = w.DatePicker(
            description="to", style={"description_width": "initial"}, layout=w.Layout(width="165px")
        )
        self.until.add_class("gk-search-until")
        # Made by (the user names of the ledger's last 30 days, once the Spend view read them).
        self.by = w.Combobox(
            placeholder="Made by anyone", ensure_option=False, layout=w.Layout(width="140px")
        )
        self.by.add_class("gk-made-by")
        self.count = w.HTML()
        self.count.add_class("gk-search-count")
        controls = w.HBox(
            [self.text, self.model, self.by, self.since, self.until],
            layout=w.Layout(flex_flow="row wrap", align_items="center", width="100%"),
        )
        self.box = w.VBox([controls, self.count], layout=w.Layout(width="100%"))
        self.box.add_class("gk-search")
        self._timer: threading.Timer | None = None

    def filters(self) -> Filters:
        since: date | None = self.since.value
        until: date | None = self.until.value
        return Filters(
            str(self.text.value),
            model=self.model.value or None,
            since=since.isoformat() if since else None,
            until=until.isoformat() if until else None,
            by=str(self.by.value).strip() or None,
        )

    def on_change(self, run: Callable[[Filters], object]) -> None:
        """Call ``run(filters)`` once the bar has been still for :data:`DEBOUNCE_S`."""

        def changed(_change: object) -> None:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(DEBOUNCE_S, lambda: run(self.filters()))
            self._timer.daemon = True
            self._timer.start()

        for widget in (self.text, self.model, self.by, self.since, self.until):
            widget.observe(changed, "value")

    def set_users(self, users: list[str]) -> None:
        self.by.options = users

    def show_count(self, total: int | None, *, in_trash: bool = False) -> None:
        """``1,284 images match`` while searching (``3 images in the trash`` there); nothing in
        the live feed."""
        if total is None:
            self.count.value = ""
        elif in_trash:
            self.count.value = f"{total:,} image{'' if total == 1 else 's'} in the trash"
        else:
            noun = "image matches" if total == 1 else "images match"
            self.count.value = f"{total:,} {noun}"
