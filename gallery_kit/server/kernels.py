"""The kernel manager behind the gate: every page kernel and the ready pool within one bound.

Voilà builds its kernel manager class at start (``voila_kernel_manager_factory``: with
``preheat_kernel`` a pool of kernels that already ran the notebook). :func:`gated_class` puts
:class:`GateMixin` in front of that class, so it sees every kernel start, hand-out from the
pool, connection and shutdown:

* **the bound**: page kernels (given to a page, or a visitor admitted and waiting for one) plus
  pool kernels never exceed ``limit``; the pool refills only into room the viewers leave;
* **no kernel for nobody**: a page kernel whose page has not connected its websocket within
  ``connect_timeout_s`` of the page being sent is shut down (a ``curl``, a link-preview bot,
  a tab closed while loading);
* **paid work first**: neither that nor the idle cull takes a kernel that holds an in-flight
  marker (:mod:`gallery_kit.inflight`) - its generation finishes and is kept first.
"""

from __future__ import annotations

import contextvars
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gallery_kit.inflight import KERNEL_ID_VAR, clear, is_in_flight
from gallery_kit.server.limits import Budget
from gallery_kit.server.starts import StartQueue


@dataclass(frozen=True, slots=True)
class GateConfig:
    limit: int
    pool_size: int
    connect_timeout_s: float
    data_dir: Path
    #: Kernel starts (and notebook runs) at once; see gallery_kit.server.starts.
    start_slots: int = 2
    #: The queue priority of the ready pool's refills (a client's pages in the last minute).
    pool_priority: float = 10.0


class Ticket:
    """One admitted visitor, counted as a viewer until its kernel is known (or it gave up)."""

    __slots__ = ("client", "kernel_id", "open")

    def __init__(self, client: str) -> None:
        self.open = True
        self.client = client
        self.kernel_id: str | None = None


#: The ticket of the page request being served (set by the gate's handler for its task).
CURRENT_TICKET: contextvars.ContextVar[Ticket | None] = contextvars.ContextVar(
    "gallery_kit_ticket", default=None
)


class GateMixin:
    """Put before Voilà's kernel manager class (see :func:`gated_class`)."""

    gate: GateConfig  # set on the class by gated_class()

    # Attributes of the Voilà / jupyter_server class this is mixed into.
    _pools: dict[str, list[Any]]
    _kernel_connections: dict[str, int]
    kernel_pools_config: dict[str, dict[str, Any]]
    notebook_path: str | None
    log: logging.Logger

    def __init__(self, **kwargs: Any) -> None:
        # Before super().__init__: Voilà's __init__ fills the pool (fill_if_needed) at once.
        #: kernel id -> when its page was sent (None while it is being rendered).
        self._page_kernels: dict[str, float | None] = {}
        self._connected: set[str] = set()
        #: kernel id -> the client address its page was sent to.
        self._clients: dict[str, str] = {}
        self._tickets: set[Ticket] = set()
        self._closing = False
        self.starts = StartQueue(self.gate.start_slots)
        super().__init__(**kwargs)

    # --- the budget -------------------------------------------------------------------------

    def budget(self) -> Budget:
        pooled = sum(len(pool) for pool in getattr(self, "_pools", {}).values())
        viewers = len(self._page_kernels) + sum(1 for t in self._tickets if t.open)
        return Budget(self.gate.limit, viewers, pooled)

    def pool_ready(self) -> bool:
        """A pool kernel (started or starting) the next visitor can take."""
        return any(getattr(self, "_pools", {}).values())

    def admit(self, client: str, *, pool_usable: bool) -> Ticket | None:
        """A ticket when one more visitor fits (then counted at once), None when full."""
        if not self.budget().admits(pool_usable=pool_usable and self.pool_ready()):
            return None
        ticket = Ticket(client)
        self._tickets.add(ticket)
        return ticket

    def release(self, ticket: Ticket) -> None:
        ticket.open = False
        self._tickets.discard(ticket)

    def _given_to_page(self, kernel_id: str) -> None:
        self._page_kernels[kernel_id] = None
        ticket = CURRENT_TICKET.get()
        if ticket is not None:
            ticket.kernel_id = kernel_id
            self._clients[kernel_id] = ticket.client
            self.release(ticket)

    def unconnected(self, client: str) -> int:
        """Pages sent to ``client`` whose websocket has not connected (yet): a browser connects
        within seconds, a ``curl`` loop never."""
        return sum(
            1
            for kernel_id, sent in self._page_kernels.items()
            if sent is not None
            and kernel_id not in self._connected
            and self._clients.get(kernel_id) == client
        )

    def page_sent(self, ticket: Ticket) -> None:
        """The page is out (or its request ended): its websocket is due from now."""
        self.release(ticket)
        if ticket.kernel_id in self._page_kernels:
            self._page_kernels[ticket.kernel_id] = time.monotonic()

    # --- Voilà's and jupyter_server's hooks -----------------------------------------------

    def fill_if_needed(
        self,
        delay: float | None = None,
        notebook_name: str | None = None,
        extra_kernel_env_variables: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        """Voilà's refill, to the pool size the bound leaves room for."""
        if self._closing:
            return
        default = dict(self.kernel_pools_config.get("default", {}))
        default["pool_size"] = self.budget().pool_target(self.gate.pool_size)
        self.kernel_pools_config = {"default": default}
        super().fill_if_needed(  # type: ignore[misc]  # Voilà's method, below in the MRO
            delay=delay,
            notebook_name=notebook_name,
            extra_kernel_env_variables=extra_kernel_env_variables or {},
            **kwargs,
        )

    async def _initialize(
        self, notebook_path: str, kernel_id: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Voilà's pool start (kernel, then the notebook run), in a start slot: one at a time
        (as a heavy start), so a fresh server's first ready kernel has the CPU to itself and
        a visitor always finds a slot free."""
        await self.starts.acquire(self.gate.pool_priority, heavy=True)
        try:
            result: dict[str, Any] = await super()._initialize(  # type: ignore[misc]
                notebook_path, kernel_id, **kwargs
            )
        except BaseException:
            self.starts.release(heavy=True)
            raise
        result["task"].add_done_callback(lambda _task: self.starts.release(heavy=True))
        return result

    async def get_rendered_notebook(
        self,
        notebook_name: str,
        extra_kernel_env_variables: dict[str, str] | None = None,
        **kw: Any,
    ) -> Any:
        result = await super().get_rendered_notebook(  # type: ignore[misc]
            notebook_name, extra_kernel_env_variables or {}, **kw
        )
        self._given_to_page(result[2])  # (render task, rendered cells, kernel id)
        return result

    def notify_connect(self, kernel_id: str) -> None:
        self._connected.add(kernel_id)
        super().notify_connect(kernel_id)  # type: ignore[misc]

    async def shutdown_kernel(self, kernel_id: str, *args: Any, **kwargs: Any) -> None:
        try:
            await super().shutdown_kernel(kernel_id, *args, **kwargs)  # type: ignore[misc]
        finally:
            self._page_kernels.pop(kernel_id, None)
            self._connected.discard(kernel_id)
            self._clients.pop(kernel_id, None)
            clear(self.gate.data_dir, kernel_id)
        if self.notebook_path is not None:
            self.fill_if_needed(delay=0, notebook_name=self.notebook_path)

    async def shutdown_all(self, *args: Any, **kwargs: Any) -> None:
        self._closing = True
        await super().shutdown_all(*args, **kwargs)  # type: ignore[misc]

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        if is_in_flight(self.gate.data_dir, kernel_id):
            self.log.info("Not culling kernel %s: a generation is in flight", kernel_id)
            return
        await super().cull_kernel_if_idle(kernel_id)  # type: ignore[misc]

    # --- the no-connect cull -------------------------------------------------------------

    async def cull_unconnected(self) -> list[str]:
        """Shut down page kernels whose page never connected within the timeout."""
        now = time.monotonic()
        culled: list[str] = []
        for kernel_id, given in list(self._page_kernels.items()):
            if kernel_id in self._connected or self._kernel_connections.get(kernel_id, 0):
                continue
            if given is None or now - given < self.gate.connect_timeout_s:
                continue
            if is_in_flight(self.gate.data_dir, kernel_id):
                continue
            self.log.warning(
                "Shutting down kernel %s: no page connected to it within %.0f s",
                kernel_id,
                self.gate.connect_timeout_s,
            )
            try:
                await self.shutdown_kernel(kernel_id)
            except KeyError:  # already gone
                self._page_kernels.pop(kernel_id, None)
            culled.append(kernel_id)
        return culled


class StartMixin:
    """Put below Voilà's class: Voilà's pool starts its kernels with ``super().start_kernel``,
    which skips anything above it in the MRO."""

    def _given_to_page(self, kernel_id: str) -> None:
        raise NotImplementedError  # GateMixin's

    async def start_kernel(self, *, kernel_id: str | None = None, **kwargs: Any) -> str:
        """Every start, page or pool: give the kernel its id in its environment."""
        kernel_id = kernel_id or str(uuid.uuid4())
        env = dict(kwargs.pop("env", None) or {})
        env[KERNEL_ID_VAR] = kernel_id
        started: str = await super().start_kernel(  # type: ignore[misc]  # jupyter_server's
            kernel_id=kernel_id, env=env, **kwargs
        )
        if env.get("VOILA_PREHEAT") != "True":
            self._given_to_page(started)
        return started


def gated_class(make: Any, base: type, gate: GateConfig, **voila: Any) -> type:
    """Voilà's kernel manager class (``make`` is ``voila_kernel_manager_factory``, ``voila`` its
    other arguments) over ``base``, with :class:`StartMixin` below it and :class:`GateMixin` in
    front of it."""
    started = type("GalleryKernelStarts", (StartMixin, base), {})
    voila_class = make(started, **voila)
    return type("GalleryKernelManager", (GateMixin, voila_class), {"gate": gate})
