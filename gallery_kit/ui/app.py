"""GalleryApp: the dashboard. Thin: callbacks call the Gallery service and update widgets.

Long work (the model call, page loads, uploads) runs on worker threads so the page stays live;
widgets are updated from those threads (ipywidgets allows it; ``with output:`` is never used).
"""

from __future__ import annotations

import html
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import ipywidgets as w

from gallery_kit.bedrock.families import MODELS
from gallery_kit.bedrock.routing import available_operations
from gallery_kit.errors import GalleryError, InvalidRequest
from gallery_kit.gallery import Gallery
from gallery_kit.records import ImageRecord
from gallery_kit.search.searcher import Filters
from gallery_kit.ui.curate import TRASH
from gallery_kit.ui.curate_actions import CurationActions
from gallery_kit.ui.feed import PAGE_SIZE, Feed, FirstPage
from gallery_kit.ui.grid import GalleryGrid
from gallery_kit.ui.lightbox import lightbox_detail
from gallery_kit.ui.messages import Messages, error_page, offline_banner, unexpected
from gallery_kit.ui.paid import PaidActions, PaidCalls
from gallery_kit.ui.panel import GenerationPanel
from gallery_kit.ui.routes import route
from gallery_kit.ui.search_bar import SearchBar
from gallery_kit.ui.team_view import TeamViews

log = logging.getLogger(__name__)

OUTBOX_RETRY_S = 30


class GalleryApp(w.VBox):  # type: ignore[misc]  # ipywidgets ships no stubs
    """The whole dashboard. ``GalleryApp.from_settings()`` in any notebook displays it."""

    def __init__(
        self,
        gallery: Gallery,
        *,
        poll_ms: int = 5000,
        rate_limit_per_minute: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.gallery = gallery
        settings = gallery.settings
        rate_limit = (
            rate_limit_per_minute
            if rate_limit_per_minute is not None
            else settings.rate_limit_per_minute
            if settings
            else 10
        )
        self._io_pool = ThreadPoolExecutor(2, thread_name_prefix="gk-io")
        # Stars, boards, trash, Undo: one at a time, in the order the user acted.
        self._curation_pool = ThreadPoolExecutor(1, thread_name_prefix="gk-curate")
        self.feed, self.first_page = Feed(gallery), FirstPage()
        self._poll_busy = threading.Lock()
        self._last_outbox_try = 0.0
        # Ids whose thumbnail the page has (since its view last said "ready").
        self._sent: set[str] = set()
        self._sent_lock = threading.Lock()

        # The first paint uses the built-in table (no network); the worker asks Bedrock which
        # models are alive and moves the picker to the live default if the visitor has not
        # chosen meanwhile.
        catalog = gallery.catalog
        today = catalog.today()
        self._first_model = gallery.explicit_model_id or catalog.builtin_default().model_id
        self._model_note = ""
        self.panel = GenerationPanel(
            model_id=self._first_model,
            show_cost=not gallery.offline,
            statuses={m: spec.status_on(today) for m, spec in MODELS.items()},
        )
        self.messages = Messages()
        self.status = self.messages.status
        self.error = self.messages.error
        self.use_live = self.messages.use_live
        self.warning = self.messages.warning
        self.paid = PaidCalls(
            self.messages,
            rate_limit=rate_limit,
            on_busy=self.panel.set_busy,
            on_result=lambda result: self._add_new(result.records),
            on_duplicate=lambda result: self.team.on_duplicate(result),
            clock=clock,
        )
        self.banner = offline_banner(gallery.store.location if gallery.offline else None)
        self.search = SearchBar()
        self.filter = self.search.text
        self.grid = GalleryGrid(poll_ms=poll_ms, empty_text="Loading…")
        self.curate = CurationActions(self)
        self.actions = PaidActions(
            gallery, self.panel, self.grid, self.messages, self.paid, open_image=self.open_image
        )
        self.team = TeamViews(self)
        self.header = w.HTML(self._header_html(), layout=w.Layout(flex="1 1 auto"))
        self.header.add_class("gk-header")
        top = w.HBox([self.header, self.team.toggle], layout=w.Layout(align_items="flex-start"))

        right = w.VBox(
            [self.search.box, self.grid], layout=w.Layout(flex="1 1 420px", min_width="300px")
        )
        body = w.HBox(
            [self.panel.box, right], layout=w.Layout(flex_flow="row wrap", align_items="flex-start")
        )
        super().__init__([top, self.team.box, self.banner, *self.messages.widgets(), body])
        self.add_class("gk-app")

        self.panel.generate.on_click(lambda _b: self.on_generate())
        self.use_live.on_click(lambda _b: self.use_live_model())
        self.search.on_change(
            lambda filters: self._io_pool.submit(self._guard, self.apply_search, filters)
        )
        self.grid.on_msg(lambda _w, content, _b: route(self, content))
        gallery.warm()
        self._io_pool.submit(self._guard, self._start)

    @classmethod
    def from_settings(cls, **kwargs: Any) -> w.Widget:
        """The app the environment / ``.env`` describe; a broken setting shows as a message."""
        try:
            gallery = Gallery.from_settings()
        except GalleryError as exc:
            return error_page(str(exc))
        return cls(gallery, **kwargs)

    # --- helpers ------------------------------------------------------------------------

    def _header_html(self) -> str:
        g = self.gallery
        if g.offline:
            where = "offline placeholder generator"
        else:
            spec = self.panel.spec
            region = getattr(g.generator, "region_for", lambda s: s.default_region)(spec)
            where = f"Amazon Bedrock ({html.escape(region)})"
        note = (
            f'<div class="gk-model-note">{html.escape(self._model_note)}</div>'
            if self._model_note
            else ""
        )
        return (
            '<div class="gk-title">Image gallery</div>'
            f'<div class="gk-subtitle">Images by {where} · stored in '
            f"<code>{html.escape(g.store.location)}</code></div>{note}"
        )

    def show_error(self, message: str | None) -> None:
        self.messages.show_error(message)

    def show_warning(self, messages: list[str]) -> None:
        self.messages.show_warning(messages)

    def _guard(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn`` on a worker; every failure becomes a message in the page."""
        try:
            return fn(*args)
        except GalleryError as exc:
            self.show_error(str(exc))
        except Exception as exc:
            self.show_error(unexpected(exc))
        return None

    # --- paid calls (ui/paid.py) --------------------------------------------------------

    def on_generate(self, *, note: str = "") -> Future[Any] | None:
        """The Generate button. Returns the worker's future (tests wait on it)."""
        return self.actions.on_generate(note=note)

    def run_operation(
        self, image_id: str, name: str, params: dict[str, Any], *, model_id: str | None = None
    ) -> Future[Any] | None:
        """A lightbox operation on an image (see :meth:`PaidActions.run_operation`)."""
        return self.actions.run_operation(image_id, name, params, model_id=model_id)

    def use_live_model(self) -> Future[Any] | None:
        """The error's button: the named live model, the same request, sent once."""
        return self.actions.use_live_model()

    def _set_status(self, text: str, *, spin: bool = False) -> None:
        self.messages.set_status(text, spin=spin)

    # --- gallery state ------------------------------------------------------------------

    def _load_model_states(self) -> None:
        """Ask Bedrock once per session which image models are alive here (quietly falls back
        to the built-in table without bedrock:ListFoundationModels); choose the live default
        and say in the header which it is and why."""
        choice = self.gallery.default_choice
        states = self.gallery.catalog.states()
        self.panel.set_model_states(
            {model_id: (state.status, state.region) for model_id, state in states.items()}
        )
        if self.panel.model.value == self._first_model != choice.model_id:
            self.panel.select_model(choice.model_id)  # the visitor has not chosen meanwhile
        self._model_note = choice.reason
        self.header.value = self._header_html()

    def _start(self) -> None:
        if not self.gallery.offline:
            self._io_pool.submit(self._guard, self._load_model_states)
        try:
            self.gallery.sync_outbox()
        except GalleryError as exc:
            log.info("outbox not flushed at start: %s", exc)
        self.first_page.at_start(self._first_load, self.gallery)
        self.gallery.purge_old_trash()  # past GALLERY_TRASH_DAYS; after the first page
        try:
            report = self.gallery.adopt_foreign()
        except GalleryError as exc:
            self.show_warning([f"Could not scan for other tools' images: {exc}"])
            return
        if report.skipped:
            self.show_warning(
                report.skipped[:3]
                + (
                    [f"… and {len(report.skipped) - 3} more skipped"]
                    if len(report.skipped) > 3
                    else []
                )
            )
        if report.adopted:
            self.poll()

    def _first_load(self) -> None:
        """Stars, boards and the first page (in a kernel kept ready: when its page connects)."""
        self.curate.start()
        self.reload()

    def reload(self) -> None:
        self.feed.reset()
        self.load_more()

    def load_more(self) -> None:
        self.grid.loading = True
        try:
            problems = self.feed.load_more()
            if problems:
                self.show_warning(problems[:3])
        finally:
            self.grid.loading = False
            self.publish()

    def _add_new(self, records: list[ImageRecord]) -> None:
        self.feed.add_new(records, joined=self.curate.joined(records))
        self.team.after_generation()
        self.publish()

    def publish(self) -> None:
        """Send the visible tiles to the browser, then the thumbnails it does not have yet."""
        self.search.show_count(self.feed.total, in_trash=self.feed.trash is not None)
        items = self.feed.items(self.curate.curation.seen.favorites)
        self.grid.show_items(items)
        self.grid.has_more = self.feed.has_more
        if not items:
            self.grid.empty_text = (
                f"No image matches “{self.feed.filter}”."
                if self.feed.filter
                else "No image matches these filters."
                if self.feed.search is not None
                else "No images yet: type a prompt and press Generate."
            )
        self._send_thumbnails([item["id"] for item in items])

    def _send_thumbnails(self, ids: list[str], *, again: bool = False) -> None:
        with self._sent_lock:
            todo = list(ids) if again else [i for i in ids if i not in self._sent]
            self._sent.update(todo)
        # A page at a time: the first screenful shows while the rest is fetched.
        for start in range(0, len(todo), PAGE_SIZE):
            self.grid.send_thumbnails(self.feed.thumbnails(todo[start : start + PAGE_SIZE]))

    # --- search -------------------------------------------------------------------------

    def apply_search(self, filters: Filters) -> None:
        """Show what ``filters`` match in the view picked (all images, favourites, a board;
        the live feed when nothing narrows it), or the trash."""
        curation = self.curate.curation
        filters = replace(filters, only=curation.only())
        trash = self.gallery.trash_bin if curation.view == TRASH else None
        try:
            self.feed.set_search(filters, trash)
        except InvalidRequest as exc:
            self.show_error(str(exc))
            return
        self.show_error(None)
        self.load_more()

    def matching_ids(self) -> list[str]:
        """Every id the view and search match (not only the pages loaded), newest first."""
        if self.feed.trash is not None:
            return self.feed.trash.ids()
        return self.gallery.all_matches(
            replace(self.search.filters(), only=self.curate.curation.only())
        )

    def apply_filter(self, text: str) -> None:
        """The search box's words with the bar's other filters."""
        current = self.search.filters()
        self.apply_search(Filters(text, current.model, None, current.since, current.until))

    # --- messages from the grid (gallery_kit/ui/routes.py) ------------------------------

    def run(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """``fn(*args)`` on the worker thread, failures shown in the page."""
        return self._io_pool.submit(self._guard, fn, *args)

    def run_in_order(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """``fn(*args)`` after the curation actions sent before it."""
        return self._curation_pool.submit(self._guard, fn, *args)

    def on_ready(self) -> None:
        if self.first_page.at_ready(self._io_pool, self._guard):
            return  # a kernel kept ready: its first page is read now, and sent
        # The view rendered: send the whole state again. An update sent from a worker thread
        # while the page was still starting can be lost, and traitlets only sends a value
        # again when it changes (seen as ~1 page view in 25 stuck on "Loading…").
        self.grid.send_state()
        self.grid.resend_items()
        visible = [item.id for item in self.feed.visible()]
        self.run(lambda: self._send_thumbnails(visible, again=True))

    def thumb_failed(self, image_id: str) -> None:
        """Fetched again from the store, once (the page asks only once per image)."""
        self.feed.forget_thumb(image_id)
        self.gallery.forget_thumbnail(image_id)
        self._send_thumbnails([image_id], again=True)

    def open_image(self, image_id: str) -> None:
        record = self.gallery.get(image_id)
        reasons = available_operations(self.gallery.default_model_id, offline=self.gallery.offline)
        self.grid.detail = {
            **lightbox_detail(self.gallery, record, reasons),
            **self.curate.lightbox_extras(image_id),
        }

    def step(self, image_id: str, by: int) -> None:
        visible = [r.id for r in self.feed.visible()]
        if image_id in visible:
            index = visible.index(image_id) + by
            if 0 <= index < len(visible):
                self.open_image(visible[index])

    def reuse(self, image_id: str) -> None:
        record = self.gallery.get(image_id)
        settings = record.settings()
        if settings["model_id"] not in MODELS:
            settings.pop("model_id")
        self.panel.fill(settings)
        self.grid.detail = {}
        self._set_status(f"Settings of {record.id} loaded (seed {record.seed}).")

    def poll(self) -> None:
        """Show images other users stored since we last looked (and retry the outbox)."""
        if not self._poll_busy.acquire(blocking=False):
            return
        try:
            now = time.monotonic()
            if self.gallery.outbox.ids() and now - self._last_outbox_try > OUTBOX_RETRY_S:
                self._last_outbox_try = now
                report = self.gallery.sync_outbox()
                if report.uploaded:
                    self._set_status(f"Uploaded {len(report.uploaded)} waiting image(s).")
            self.feed.merge_fresh()
            self.curate.poll()
            self.publish()
        finally:
            self._poll_busy.release()

    def close(self) -> None:
        self.paid.close()
        self._io_pool.shutdown(wait=False, cancel_futures=True)
        self._curation_pool.shutdown(wait=False, cancel_futures=True)
        super().close()
