"""Voilà with the gate: ``python -m gallery_kit.server NOTEBOOK [voila flags]``.

``gallery-kit serve`` runs this (see ``gallery_kit.cli.serve.voila_command``). It is Voilà's
own application with three changes: its kernel manager class is gated
(:mod:`gallery_kit.server.kernels`), its page handler is :class:`GateHandler` (pace per client,
then the bound, before any kernel starts), and a periodic callback shuts down kernels no page
connected to. Everything else - no code from the page, hidden tracebacks, stripped sources,
the token - is Voilà's, configured by the same flags.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import tornado.web
from tornado.ioloop import PeriodicCallback
from voila import app as voila_app
from voila.tornado.handler import TornadoVoilaHandler

from gallery_kit.errors import GalleryError
from gallery_kit.server.exports import export_handler
from gallery_kit.server.kernels import CURRENT_TICKET, GateConfig, gated_class
from gallery_kit.server.limits import (
    PageRate,
    available_memory_bytes,
    default_max_sessions,
    retry_after_header,
)
from gallery_kit.server.pages import busy_page, slow_down_page
from gallery_kit.settings import Settings, load_settings

#: Internal (tests, benches): seconds a page kernel may wait for its page's websocket.
CONNECT_SECONDS_VAR = "GALLERY_KIT_CONNECT_SECONDS"
CONNECT_SECONDS = 60.0
#: Internal (tests, benches): kernels kept ready, the notebook already run (0: no pool).
POOL_SIZE_VAR = "GALLERY_KIT_POOL_SIZE"
POOL_SIZE = 2
#: Internal (tests, benches): kernel starts at once (default: the machine's cores).
START_SLOTS_VAR = "GALLERY_KIT_START_SLOTS"
#: Start-queue priority added per page of a client that has not connected.
PRIORITY_PER_UNCONNECTED = 100.0
#: What a busy page asks the browser to wait before it tries again.
BUSY_RETRY_S = 10.0


def _number(environ: dict[str, str] | os._Environ[str], name: str, default: float) -> float:
    value = environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
        if not 0 <= number < 1e6:
            raise ValueError
    except ValueError as exc:
        raise GalleryError(f"{name}={value!r} is not a number >= 0; unset it.") from exc
    return number


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """The bounds one server keeps, from the settings (and the machine's memory)."""

    max_sessions: int
    page_rate: int
    idle_minutes: float
    pool_size: int
    connect_timeout_s: float
    start_slots: int = 2

    @classmethod
    def from_settings(
        cls, settings: Settings, environ: dict[str, str] | os._Environ[str] = os.environ
    ) -> ServerLimits:
        limit = settings.max_sessions or default_max_sessions(available_memory_bytes())
        pool = int(_number(environ, POOL_SIZE_VAR, POOL_SIZE))
        return cls(
            max_sessions=limit,
            page_rate=settings.page_rate_per_minute,
            idle_minutes=settings.idle_minutes,
            pool_size=min(pool, limit),
            connect_timeout_s=_number(environ, CONNECT_SECONDS_VAR, CONNECT_SECONDS),
            start_slots=max(1, int(_number(environ, START_SLOTS_VAR, os.cpu_count() or 2))),
        )

    def voila_flags(self) -> list[str]:
        """Voilà's own flags for the pool and the idle cull."""
        idle_s = self.idle_minutes * 60
        flags = [
            # A browser gone this long: its kernel is freed (never one generating: see kernels).
            f"--MappingKernelManager.cull_idle_timeout={max(1, round(idle_s))}",
            f"--MappingKernelManager.cull_interval={max(1, min(60, round(idle_s / 4)))}",
            "--MappingKernelManager.cull_connected=False",
        ]
        if self.pool_size > 0:
            flags += ["--preheat_kernel=True", f"--pool_size={self.pool_size}"]
        return flags


class GateHandler(TornadoVoilaHandler):  # type: ignore[misc]  # Voilà ships no types
    """Voilà's page handler, behind the per-client pace and the session bound."""

    _use_pool = False

    @tornado.web.authenticated
    async def get(self, path: str | None = None) -> None:
        if self.notebook_path and path:  # Voilà redirects these to /voila/files: no kernel
            await super().get(path=path)
            return
        gate: Gate = self.settings["gallery_gate"]
        kernels = self.kernel_manager
        client = self.request.remote_ip or "?"
        wait = gate.rate.allow(client)
        if wait is not None:
            retry = retry_after_header(wait)
            self._refuse(429, retry, slow_down_page(gate.rate.per_minute, retry))
            return
        # A client that opened many pages, or whose last page has not connected (no browser
        # runs it), takes no ready kernel (those are for new visitors) and starts its own
        # after theirs.
        # (GALLERY_PAGE_RATE=0, e.g. behind a proxy where every visitor has its address: off.)
        unconnected = kernels.unconnected(client) if gate.rate.per_minute > 0 else 0
        heavy = unconnected > 0 or gate.rate.heavy(client)
        priority = gate.rate.recent(client) + PRIORITY_PER_UNCONNECTED * unconnected
        ticket = kernels.admit(client, pool_usable=self._pool_usable())
        if ticket is None:
            retry = retry_after_header(BUSY_RETRY_S)
            self._refuse(503, retry, busy_page(kernels.budget().viewers, retry))
            return
        # Sets the _xsrf cookie that Voilà's unload beacon (/voila/api/shutdown) sends back:
        # without it the beacon is refused (403) and a closed tab's kernel waits for the cull.
        _ = self.xsrf_token
        token = CURRENT_TICKET.set(ticket)
        slot = False
        try:
            budget = kernels.budget()  # (this visitor counted)
            room = budget.viewers + budget.pooled <= budget.limit
            # (When only a ready kernel fits, it is for whoever comes: no refusal while it idles.)
            self._use_pool = self._pool_usable() and kernels.pool_ready() and not (heavy and room)
            if not self._use_pool:  # a kernel of its own: wait for a start slot
                await kernels.starts.acquire(priority, heavy=heavy)
                slot = True
            await super().get(path=path)
        finally:
            if slot:
                kernels.starts.release(heavy=heavy)
            kernels.page_sent(ticket)
            CURRENT_TICKET.reset(token)

    def should_use_rendered_notebook(self, *args: Any) -> bool:
        """Voilà's choice of a ready kernel, only when the gate chose it too."""
        return bool(self._use_pool and super().should_use_rendered_notebook(*args))

    def _pool_usable(self) -> bool:
        """Would Voilà hand this request a pool kernel (``should_use_rendered_notebook``)?"""
        data = getattr(self.kernel_manager, "notebook_data", {})
        return (
            bool(data.get(self.notebook_path))
            and self.get_argument("template", None) is None
            and self.get_argument("theme", None) is None
        )

    def _refuse(self, status: int, retry_after: str, page: str) -> None:
        self.set_status(status)
        self.set_header("Retry-After", retry_after)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(page)


class Gate:
    """What the handler and the culler share: the limits and the page-rate buckets."""

    def __init__(self, limits: ServerLimits) -> None:
        self.limits = limits
        self.rate = PageRate(limits.page_rate, time.monotonic)


class GalleryVoila(voila_app.Voila):  # type: ignore[misc]  # Voilà ships no types
    """Voilà's application with the gate (class attribute ``gate``, set before launch)."""

    gate: Gate
    data_dir: Any
    #: The local store's folder (offline), whose exports/ the server hands out; None on S3.
    store_dir: Any = None

    def init_settings(self) -> dict[str, Any]:
        original = voila_app.voila_kernel_manager_factory
        gate_config = GateConfig(
            limit=self.gate.limits.max_sessions,
            pool_size=self.gate.limits.pool_size,
            connect_timeout_s=self.gate.limits.connect_timeout_s,
            data_dir=self.data_dir,
            start_slots=self.gate.limits.start_slots,
            pool_priority=max(1, self.gate.limits.page_rate) / 2,
        )

        def factory(
            base_class: type,
            preheat_kernel: bool,
            default_pool_size: int,
            page_config_hook: Any = None,
        ) -> type:
            return gated_class(
                original,
                base_class,
                gate_config,
                preheat_kernel=preheat_kernel,
                default_pool_size=default_pool_size,
                page_config_hook=page_config_hook,
            )

        voila_app.voila_kernel_manager_factory = factory  # only while Voilà builds its own
        try:
            settings: dict[str, Any] = super().init_settings()
        finally:
            voila_app.voila_kernel_manager_factory = original
        settings["gallery_gate"] = self.gate
        return settings

    def init_handlers(self) -> list[Any]:
        handlers: list[Any] = [
            (h[0], GateHandler, *h[2:]) if h[1] is TornadoVoilaHandler else h
            for h in super().init_handlers()
        ]
        if self.store_dir is not None:  # offline: the dashboard's ZIP downloads
            handlers.insert(0, export_handler(self.store_dir, self.base_url))
        every_ms = 1000 * max(0.5, min(5.0, self.gate.limits.connect_timeout_s / 4))
        self._cull = PeriodicCallback(self.kernel_manager.cull_unconnected, every_ms)
        self._cull.start()
        return handlers


def main(argv: list[str] | None = None) -> int:
    try:
        settings = load_settings()
        limits = ServerLimits.from_settings(settings)
    except GalleryError as exc:
        print(f"gallery-kit: {exc}", file=sys.stderr)
        return 2
    GalleryVoila.gate = Gate(limits)
    GalleryVoila.data_dir = settings.data_dir
    GalleryVoila.store_dir = None if settings.bucket else settings.store_dir
    GalleryVoila.launch_instance(argv=sys.argv[1:] if argv is None else argv)
    return 0
