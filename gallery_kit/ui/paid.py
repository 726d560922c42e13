"""Paid model calls from the dashboard: Generate, the lightbox's operations and the one-click
switch to a live model (:class:`PaidActions`), run by :class:`PaidCalls`: the per-session rate
limit, one call at a time off the kernel's message loop, the spinner with elapsed seconds, and
the outcome in the page."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from gallery_kit.bedrock.families import carry_over, get_model
from gallery_kit.errors import ConfigError, GalleryError, InvalidRequest
from gallery_kit.gallery import Gallery, GenerationResult
from gallery_kit.ui.edit_forms import OPERATION_NAMES, edit_request
from gallery_kit.ui.grid import GalleryGrid
from gallery_kit.ui.messages import Messages, Retry, unexpected
from gallery_kit.ui.panel import GenerationPanel


def saved_text(result: GenerationResult, took: float) -> str:
    count = len(result.records)
    if not count:
        return "No images."
    if result.duplicate is not None:
        return f"{result.duplicate.made}: shown again, nothing spent."
    seed = result.records[0].seed
    spent = sum(r.cost_usd for r in result.records)
    guess = "≈ " if any(r.cost_is_estimate for r in result.records) else ""
    cost = f" · spent {guess}${spent:.2f}" if spent else ""
    return f"Saved {count} image{'s' if count != 1 else ''} in {took:.1f} s" + (
        f" (seed {seed}){cost}." if seed is not None else f"{cost}."
    )


class PaidCalls:
    """At most ``rate_limit`` calls a minute (0: no limit), one at a time.

    ``on_busy(flag)`` tells the panel to disable its button; ``on_result`` shows new images.
    """

    def __init__(
        self,
        messages: Messages,
        *,
        rate_limit: int,
        on_busy: Callable[[bool], None],
        on_result: Callable[[GenerationResult], None],
        on_duplicate: Callable[[GenerationResult], None] = lambda _r: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.messages = messages
        self._on_duplicate = on_duplicate
        self.rate_limit = rate_limit
        self._on_busy = on_busy
        self._on_result = on_result
        self._clock = clock
        self._recent: deque[float] = deque()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="gk-generate")
        self.busy = False

    def refusal(self) -> str | None:
        """Why a call may not start now (the rate limit), or None."""
        now = self._clock()
        while self._recent and now - self._recent[0] > 60:
            self._recent.popleft()
        if self.rate_limit and len(self._recent) >= self.rate_limit:
            wait = 60 - (now - self._recent[0])
            return (
                f"This dashboard allows {self.rate_limit} generations per minute (each one is "
                f"paid for); try again in {wait:.0f} s, or raise GALLERY_RATE_LIMIT."
            )
        return None

    def start(
        self,
        label: str,
        call: Callable[[], GenerationResult],
        *,
        failed: str = "Generation failed.",
        on_error: Callable[[str], None] | None = None,
        on_done: Callable[[GenerationResult], None] | None = None,
        retry: Retry | None = None,
        note: str = "",
    ) -> Future[Any]:
        """Run ``call`` on the worker (the caller checked :meth:`refusal`).

        A failure shows in the error panel (with the live-model button when ``retry`` is given
        and the error names one) and is passed to ``on_error``; ``note`` ends the status line.
        """
        self._recent.append(self._clock())
        self.busy = True
        self._on_busy(True)
        started = time.monotonic()
        done = threading.Event()

        def tick() -> None:
            while not done.wait(0.5):
                self.messages.set_status(f"{label}… {time.monotonic() - started:.0f} s", spin=True)

        self.messages.set_status(f"{label}… 0 s", spin=True)
        threading.Thread(target=tick, daemon=True, name="gk-ticker").start()

        def work() -> GenerationResult | None:
            try:
                result = call()
            except GalleryError as exc:
                self.messages.set_status(failed)
                if on_error is not None:
                    on_error(str(exc))
                self.messages.show_failure(exc, retry)
                return None
            except Exception as exc:
                self.messages.set_status(failed)
                self.messages.show_error(unexpected(exc))
                return None
            finally:
                done.set()
                self.busy = False
                self._on_busy(False)
            took = time.monotonic() - started
            self.messages.set_status(saved_text(result, took) + (f" {note}" if note else ""))
            self.messages.show_warning(result.warnings)
            if result.duplicate is None:
                self._on_result(result)
            else:
                self._on_duplicate(result)
            if on_done is not None:
                on_done(result)
            return result

        return self._pool.submit(work)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class PaidActions:
    """What the buttons start: checked before anything is sent, then run by ``calls``."""

    def __init__(
        self,
        gallery: Gallery,
        panel: GenerationPanel,
        grid: GalleryGrid,
        messages: Messages,
        calls: PaidCalls,
        *,
        open_image: Callable[[str], None],
    ) -> None:
        self.gallery = gallery
        self.panel = panel
        self.grid = grid
        self.messages = messages
        self.calls = calls
        self._open_image = open_image

    def use_live_model(self) -> Future[Any] | None:
        """The error's button: the named live model, the same request, sent once."""
        if self.calls.busy:
            return None
        offer = self.messages.take_offer()
        if offer is None:
            return None
        target, retry = offer
        return retry(target)

    def on_generate(self, *, note: str = "", again: bool = False) -> Future[Any] | None:
        """The Generate button (``again``: the duplicate notice's "Generate again", a paid call
        even though the same request was made before). Returns the worker's future."""
        if self.calls.busy:
            return None
        self.messages.show_error(None)
        self.messages.show_warning([])
        self.messages.show_duplicate(None)
        try:
            spec, request = self.gallery.prepare(self.panel.request())
        except (InvalidRequest, ConfigError) as exc:
            self.messages.show_error(str(exc))
            return None
        if not self.gallery.offline:
            refusal = self.gallery.catalog.refusal(spec.model_id)
            if refusal is not None:
                self.messages.show_failure(refusal, self._generate_with)
                return None
        n = request.count
        label = f"Generating {n} image{'s' if n > 1 else ''} with {spec.name}"
        if self.gallery.offline:
            label = f"Generating {n} placeholder{'s' if n > 1 else ''} (offline)"
        limited = self.calls.refusal()
        if limited:
            self.messages.show_error(limited)
            return None
        return self.calls.start(
            label,
            lambda: self.gallery.generate(request, again=again),
            retry=self._generate_with,
            note=note,
        )

    def _generate_with(self, model_id: str) -> Future[Any] | None:
        """The same panel request with another model; what the new model lacks is dropped and
        the status line says so."""
        before = self.panel.request()
        self.panel.select_model(model_id)
        spec = get_model(model_id)
        _carried, dropped = carry_over(before, spec)
        note = f"Switched to {spec.name}" + (f"; dropped {', '.join(dropped)}." if dropped else ".")
        self.messages.set_status(note)
        return self.on_generate(note=note)

    def run_operation(
        self, image_id: str, name: str, params: dict[str, Any], *, model_id: str | None = None
    ) -> Future[Any] | None:
        """A lightbox operation (vary, remove-background, edit, extend, upscale) on an image.

        ``model_id`` overrides the configured model whose family does it (the one-click switch
        after a dead model)."""
        if self.calls.busy:
            return None
        self.messages.show_error(None)
        self.messages.show_warning([])
        try:
            edit = edit_request(image_id, name, params, model_id or self.gallery.default_model_id)
        except InvalidRequest as exc:
            self._operation_failed(image_id, str(exc))
            return None
        label = f"Making a {OPERATION_NAMES.get(name, name)} of {image_id}"

        def opened(result: GenerationResult) -> None:
            if result.records:
                self._open_image(result.records[0].id)

        limited = self.calls.refusal()
        if limited:
            self._operation_failed(image_id, limited)
            return None
        if self.grid.detail.get("id") == image_id:
            self.grid.detail = {**self.grid.detail, "busy": True, "message": f"{label}…"}
        return self.calls.start(
            label,
            lambda: self.gallery.apply(edit),
            failed="The operation failed.",
            on_error=lambda message: self._lightbox_message(image_id, message),
            on_done=opened,
            retry=lambda live: self.run_operation(image_id, name, params, model_id=live),
        )

    def _operation_failed(self, image_id: str, message: str) -> None:
        self.messages.show_error(message)
        self._lightbox_message(image_id, message)

    def _lightbox_message(self, image_id: str, message: str) -> None:
        if self.grid.detail.get("id") == image_id:
            self.grid.detail = {**self.grid.detail, "message": message, "busy": False}
