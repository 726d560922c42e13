"""The dashboard's message area: the status line (with a spinner while a model works), the error
panel with its one-click switch to a live model, and warnings. Everything shown is escaped:
messages quote prompts and keys that come from other users of the bucket."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import ipywidgets as w

from gallery_kit.bedrock.families import get_model
from gallery_kit.errors import GalleryError

log = logging.getLogger(__name__)

OFFLINE_TEXT = (
    "<b>Offline mode.</b> Images are placeholders drawn on this machine, not AI output, and are "
    "stored in {where}. To use Amazon Bedrock and S3, set <code>S3_BUCKET_NAME</code> (and AWS "
    "credentials) in <code>.env</code> and restart — see the README."
)


def offline_banner(where: str | None) -> w.HTML:
    """The notice that images are placeholders stored in ``where`` (None: hidden)."""
    banner = w.HTML(layout=w.Layout(display="block" if where else "none"))
    banner.add_class("gk-offline-banner")
    if where:
        banner.value = OFFLINE_TEXT.format(where=f"<code>{html.escape(where)}</code>")
    return banner


#: Sends the failed request again with another model (its id); returns the worker's future.
Retry = Callable[[str], "Future[Any] | None"]


def unexpected(exc: BaseException) -> str:
    """A bug's message for the page; the traceback goes to the server log only."""
    log.error("unexpected error in the dashboard", exc_info=exc)
    return (
        f"Something went wrong ({type(exc).__name__}: {exc}). The app keeps running; "
        "the details are in the server log."
    )


class Messages:
    """The widgets (``status``, ``error``, ``use_live``, ``warning``) and what shows in them."""

    def __init__(self) -> None:
        self.status = w.HTML()
        self.status.add_class("gk-status")
        self.error = w.HTML(layout=w.Layout(display="none"))
        self.error.add_class("gk-error")
        # Shown under an error that names a live model: switch to it and send the same request.
        self.use_live = w.Button(
            button_style="warning", icon="bolt", layout=w.Layout(display="none", width="auto")
        )
        self.use_live.add_class("gk-use-live-model")
        self.warning = w.HTML(layout=w.Layout(display="none"))
        self.warning.add_class("gk-warning")
        # "Made on … by … — show them / generate again": an identical fixed-seed request.
        self.duplicate_text = w.HTML()
        self.show_them = w.Button(description="Show them", layout=w.Layout(width="auto"))
        self.show_them.add_class("gk-show-duplicate")
        self.generate_again = w.Button(
            description="Generate again", button_style="warning", layout=w.Layout(width="auto")
        )
        self.generate_again.add_class("gk-generate-again")
        self.duplicate = w.HBox(
            [self.duplicate_text, self.show_them, self.generate_again],
            layout=w.Layout(display="none", align_items="center", flex_flow="row wrap"),
        )
        self.duplicate.add_class("gk-duplicate")
        self._live_target: str | None = None
        self._retry: Retry | None = None

    def set_status(self, text: str, *, spin: bool = False) -> None:
        spinner = '<span class="gk-spinner" role="progressbar"></span>' if spin else ""
        self.status.value = f"{spinner}{html.escape(text)}"

    def show_error(
        self, message: str | None, *, live: str | None = None, retry: Retry | None = None
    ) -> None:
        """Show ``message`` (None hides it). With ``live`` (a model id) and ``retry`` (what to
        send again with that model), a button offers the switch: nothing is sent without it."""
        self.error.value = html.escape(message or "")
        self.error.layout.display = "block" if message else "none"
        offer = bool(message and live and retry)
        self._live_target = live if offer else None
        self._retry = retry if offer else None
        if offer and live:
            self.use_live.description = f"Use {get_model(live).name} and try again"
            self.use_live.tooltip = f"Switch the model picker to {live} and send the same request"
        self.use_live.layout.display = "inline-flex" if offer else "none"

    def show_failure(self, exc: GalleryError, retry: Retry | None) -> None:
        """An error from a paid call: the button when it names a live model."""
        self.show_error(str(exc), live=getattr(exc, "suggested_model_id", None), retry=retry)

    def take_offer(self) -> tuple[str, Retry] | None:
        """The live model and the retry the button offers (and the offer is withdrawn)."""
        target, retry = self._live_target, self._retry
        if target is None or retry is None:
            return None
        self.show_error(None)
        return target, retry

    def widgets(self) -> list[w.Widget]:
        """In the order the page shows them, under the header."""
        return [self.error, self.use_live, self.warning, self.duplicate, self.status]

    def show_duplicate(self, text: str | None) -> None:
        """The notice (escaped: names come from other users); None hides it."""
        self.duplicate_text.value = (
            f"{html.escape(text)}: the same request with the same seed. No call was sent."
            if text
            else ""
        )
        self.duplicate.layout.display = "flex" if text else "none"

    def show_warning(self, messages: list[str]) -> None:
        self.warning.value = "<br>".join(html.escape(m) for m in messages)
        self.warning.layout.display = "block" if messages else "none"


def error_page(message: str) -> w.Widget:
    """What the dashboard shows when it cannot start (e.g. a broken setting)."""
    error = w.HTML(html.escape(message))
    error.add_class("gk-error")
    title = w.HTML(
        '<div class="gk-title">Image gallery</div>'
        "<p>The gallery could not start. Fix the setting below and reload.</p>"
    )
    box = w.VBox([title, error])
    box.add_class("gk-app")
    return box
