"""The Voilà server that ``balans app`` runs in its child process.

``python -m balans.faces.serve_voila NOTEBOOK --Voila.config_file_paths=[DIR]`` is standalone
Voilà with three additions, all in this module so the app's own code stays a notebook face:

- **kernels end with their page**: a kernel no page is connected to (a closed or reloaded
  page, a request that never opened the page's websocket) is shut down after
  ``release_after`` seconds without activity (twice that while no page has connected yet;
  the clock starts when the page has been sent); a connected page idle for ``idle_timeout``
  seconds loses its kernel too, and its websocket is closed with code 4001 so the page shows
  a notice with a link back to its setting (``static/balans-session.js`` in the template);
- **a cap**: at most ``max_kernels`` live kernels, preheated ones included; a visitor over the
  cap gets a Swedish page with HTTP 503 instead of a kernel, and the pool refills only
  within the cap;
- **a clean stop**: SIGTERM and SIGINT close every page's websocket (code 1001) and shut down
  every kernel, the pool's waiting refills cancelled rather than started.

Beside the app's page it serves two pages without a kernel: ``/balans/status`` (a health
check) and ``/balans/tillganglighet`` (the accessibility statement, :mod:`balans.presentation.a11y`).

The settings come from ``voila.json`` (:func:`balans.faces.serve.voila_config`), section
``BalansMappingKernelManager``.
"""

from __future__ import annotations

import asyncio
import contextvars
import html
import json
import os
import shutil
import signal
import sys
import time
import uuid
from typing import Any, ClassVar

import tornado.web
from jupyter_core.utils import run_sync
from jupyter_server._tz import utcnow
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.utils import url_path_join
from traitlets import Integer, Unicode
from voila import app as voila_app
from voila.request_info_handler import RequestInfoSocketHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

IDLE_CLOSE_CODE = 4001  # the page was idle too long; balans-session.js shows the notice
STOP_CLOSE_CODE = 1001  # "going away": the server stops

# The admission ticket of the request being served (set by BalansVoilaHandler, consumed when
# that request starts its kernel), so a kernel being started counts against the cap from the
# moment the visitor is let in.
_TICKET: contextvars.ContextVar[str | None] = contextvars.ContextVar("balans_ticket", default=None)
# The kernel the request being served got (preheated or its own), so its idle time can start
# when the page has been sent, not when its last cell ran.
_PAGE_KERNEL: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "balans_page_kernel", default=None
)

FULL_TEXT = "Appen är full just nu – försök igen om en minut"
FULL_PAGE = """<!doctype html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Balans – appen är full</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1b1f24; }}
main {{ max-width: 36rem; margin: 12vh auto; padding: 2rem; background: #fff;
        border-radius: 6px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }}
h1 {{ font-size: 1.4rem; margin-top: 0; }}
a {{ display: inline-block; padding: .5rem 1rem; background: #0b5cad; color: #fff;
     border-radius: 4px; text-decoration: none; }}
</style>
</head>
<body>
<main class="balans-full">
<h1>{text}</h1>
<p>Alla platser i appen används just nu. Din inställning finns kvar i länken nedan.</p>
<p><a href="{href}">Försök igen</a></p>
</main>
</body>
</html>
"""


STARTING, WARMING, READY = 2, 1, 0  # a pool entry's stage; visitors get the lowest first


def _pool_task_alive(task: asyncio.Future) -> bool:
    """A pool entry that holds, or will hold, a kernel (not one that failed)."""
    if not task.done():
        return True
    return not task.cancelled() and task.exception() is None


def pool_stage(task: asyncio.Future, waiting: set[str]) -> int:
    """Where a live pool entry is: STARTING (its kernel starting), WARMING (started, its
    notebook running: the app being built) or READY (its notebook waits for a visitor,
    its kernel id in ``waiting``, or has run to its end). An entry of Voilà's pool is the
    task of ``_initialize``, whose result holds ``kernel_id`` and the rendering ``task``."""
    if not task.done():
        return STARTING
    content = task.result()
    if content.get("kernel_id") in waiting:
        return READY
    render = content.get("task")
    if render is None or render.done():
        return READY
    return WARMING


class BalansMappingKernelManager(AsyncMappingKernelManager):
    """Jupyter's kernel manager with culling by page, a cap on live kernels and admission
    tickets. Voilà's pooling class (``VoilaKernelManager``) is built on top of it."""

    max_kernels = Integer(0, config=True, help="At most this many live kernels (0: no cap).")
    release_after = Integer(
        30,
        config=True,
        help="Seconds: a kernel without a connected page, idle this long, is shut down.",
    )
    idle_timeout = Integer(
        1800,
        config=True,
        help="Seconds: a connected page idle this long loses its kernel (0: never).",
    )

    kernel_spec_name = Unicode(
        "",
        config=True,
        help="Start every kernel with this kernelspec, not the notebook's ('balans-fork': "
        "forked from the zygote, balans.faces.fork_provisioner); empty: the notebook's.",
    )

    def __init__(self, **kwargs: Any) -> None:
        self._tickets: set[str] = set()  # visitors let in whose kernel has not started yet
        self._pool_kernel_ids: set[str] = set()  # kernels started for the preheated pool
        self._handing_out = 0  # pool kernels being handed to a visitor right now
        self._stopping = False
        self._pool_tasks_starting: set[asyncio.Task] = set()
        self._ever_connected: set[str] = set()  # kernels a page has connected to
        self._arrivals: dict[str, float] = {}  # visitors' kernels whose page is loading
        # pool kernels whose notebook has run up to the wait for its visitor (the app built):
        # they connected to voila/query/ID (BalansRequestInfoHandler)
        self._waiting: set[str] = set()
        self._page_sent: dict[str, float] = {}  # when each kernel's page was sent
        super().__init__(**kwargs)

    # -- counting -------------------------------------------------------------------------
    def _pool_entries(self) -> list[asyncio.Future]:
        pools = getattr(self, "_pools", {})  # Voilà's pool (preheat_kernel), if any
        return [t for pool in pools.values() for t in pool if _pool_task_alive(t)]

    def live_kernel_ids(self) -> set[str]:
        return set(self._kernels) | set(self._pending_kernels)

    def seats_taken(self) -> int:
        """Kernels alive or on their way: the pool's entries (started or waiting to start),
        visitors' kernels, and visitors let in whose kernel has not started yet."""
        kernels = self.live_kernel_ids()
        self._pool_kernel_ids &= kernels
        return (
            len(self._pool_entries())
            + self._handing_out
            + len(kernels - self._pool_kernel_ids)
            + len(self._tickets)
        )

    def has_room(self) -> bool:
        return self.max_kernels <= 0 or self.seats_taken() < self.max_kernels

    def admit(self) -> str | None:
        """A ticket for a visitor who needs a new kernel, or None when the app is full."""
        if self._stopping or not self.has_room():
            return None
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return ticket

    def _arrived(self, kernel_id: str) -> None:
        """A visitor has this kernel now; their page is on its way (until it connects)."""
        self._arrivals[kernel_id] = time.monotonic()

    def release_ticket(self, ticket: str | None) -> None:
        self._tickets.discard(ticket)

    def status(self) -> dict[str, int]:
        return {
            "kernels": len(self.live_kernel_ids()),
            "seats_taken": self.seats_taken(),
            "max_kernels": self.max_kernels,
            "pool": len(self._pool_entries()),
            "pool_ready": sum(
                1 for t in self._pool_entries() if pool_stage(t, self._waiting) == READY
            ),
        }

    def kernel_waiting(self, kernel_id: str) -> None:
        """A pool kernel's notebook waits for its visitor now: it is ready to hand out."""
        if kernel_id in self._pool_kernel_ids:
            self._waiting.add(kernel_id)

    # -- starting and stopping ------------------------------------------------------------
    async def start_kernel(self, **kwargs: Any) -> str:  # type: ignore[override]
        if self._stopping:
            raise RuntimeError("the server is stopping")
        kernel_id = kwargs.get("kernel_id") or str(uuid.uuid4())
        kwargs["kernel_id"] = kernel_id
        if self.kernel_spec_name:
            kwargs["kernel_name"] = self.kernel_spec_name
        env = kwargs.get("env") or {}
        if env.get("VOILA_PREHEAT") == "True":  # Voilà's pool starts it
            self._pool_kernel_ids.add(kernel_id)
            task = asyncio.current_task()
            if task is not None:
                self._pool_tasks_starting.add(task)
                task.add_done_callback(self._pool_tasks_starting.discard)
        else:  # a visitor's own kernel: the visitor's ticket becomes this kernel
            self.release_ticket(_TICKET.get())
            _PAGE_KERNEL.set(kernel_id)
            self._arrived(kernel_id)
        # up to the kernel's registration in _pending_kernels nothing awaits, so the kernel
        # is counted from here on
        return await super().start_kernel(**kwargs)

    async def shutdown_kernel(self, kernel_id: str, *args: Any, **kwargs: Any) -> None:
        BalansKernelWebsocketHandler.close_kernel(kernel_id, STOP_CLOSE_CODE, "shutdown")
        self._pool_kernel_ids.discard(kernel_id)
        self._waiting.discard(kernel_id)
        self._ever_connected.discard(kernel_id)
        self._page_sent.pop(kernel_id, None)
        await super().shutdown_kernel(kernel_id, *args, **kwargs)

    PENDING_WAIT_S = 3.0  # at a stop, a kernel still starting gets this long to finish

    async def shutdown_all(self, *args: Any, **kwargs: Any) -> None:
        """End every kernel. One still starting is waited for (a few seconds at most) and
        ended with the rest: Jupyter Server asks to shut down the starting ones too, but
        raises "Kernel does not exist" (HTTP 404) for each, a traceback on the operator's
        console at SIGTERM (seen when a refill had just begun)."""
        self._stopping = True
        pending = [f for f in list(self._pending_kernels.values()) if not f.done()]
        if pending:
            await asyncio.wait(pending, timeout=self.PENDING_WAIT_S)
        try:
            await super().shutdown_all(*args, **kwargs)
        except tornado.web.HTTPError as exc:  # still starting: the supervisor ends it
            self.log.warning("Balans: a kernel still starting at the stop: %s", exc.log_message)

    # -- culling ---------------------------------------------------------------------------
    # A page still loading (its scripts, before it opens the kernel's websocket) says so
    # every LOADING_PING_S s (static/balans-session.js): its kernel is kept meanwhile, up to
    # LOADING_MAX_S s after the page was sent. Without it, a page slower than twice
    # --release-after lost its kernel before it could use it: measured, 3 of 20 pages
    # opened at once in Chromium on the 2-core machine, after 80 s, never showed the app.
    LOADING_MAX_S = 600.0

    def page_loading(self, kernel_id: str) -> bool:
        """The page of this kernel is still loading; False if that no longer keeps it
        (unknown kernel, already connected once, or loading longer than LOADING_MAX_S)."""
        kernel = self._kernels.get(kernel_id)
        if kernel is None or kernel_id in self._ever_connected:
            return False
        # a page may begin to ask a moment before its last bytes have left the server
        sent = self._page_sent.setdefault(kernel_id, time.monotonic())
        if time.monotonic() - sent > self.LOADING_MAX_S:
            return False
        kernel.last_activity = utcnow()
        return True

    def notify_connect(self, kernel_id: str) -> None:
        self._ever_connected.add(kernel_id)
        super().notify_connect(kernel_id)

    def touch(self, kernel_id: str | None) -> None:
        """The kernel's idle time starts now (its page has just been sent)."""
        kernel = self._kernels.get(kernel_id) if kernel_id else None
        if kernel is not None:
            kernel.last_activity = utcnow()
            self._page_sent[kernel_id] = time.monotonic()

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        """Shut down a kernel no page uses: none connected and idle ``release_after`` s
        (twice that if no page has connected yet: a browser still loading the page; busy
        without a page ten times that long), or connected but idle ``idle_timeout`` s.
        Pool kernels never reach here (Voilà's class skips them)."""
        kernel = self._kernels.get(kernel_id)
        if kernel is None or not hasattr(kernel, "last_activity"):
            return
        if getattr(kernel, "execution_state", None) == "dead":
            await super().cull_kernel_if_idle(kernel_id)
            return
        idle = (utcnow() - kernel.last_activity).total_seconds()
        busy = getattr(kernel, "execution_state", None) == "busy"
        connections = self._kernel_connections.get(kernel_id, 0)
        if connections <= 0:
            grace = self.release_after * (1 if kernel_id in self._ever_connected else 2)
            if idle > (10 * grace if busy else grace):
                self.log.info("Balans: kernel %s released: no page for %d s", kernel_id, idle)
                await self.shutdown_kernel(kernel_id)
        elif self.idle_timeout > 0 and not busy and idle > self.idle_timeout:
            self.log.info("Balans: kernel %s released: page idle for %d s", kernel_id, idle)
            BalansKernelWebsocketHandler.close_kernel(
                kernel_id, IDLE_CLOSE_CODE, f"idle:{self.idle_timeout}"
            )
            await self.shutdown_kernel(kernel_id)


class BalansPool:
    """Voilà's preheated pool within the cap, put on top of ``VoilaKernelManager``, with a
    refill that is honest about what it holds:

    - Voilà's refill is a task that first sleeps ``fill_delay`` s and then starts a kernel,
      and it sits in the pool while it sleeps: the pool looked full, and a visitor who came
      in those 15 s was handed the sleeping task and waited for the delay and a whole kernel
      start (a meeting's visitors queued behind one another). Here the delay is a timer
      outside the pool: the pool holds only kernels that are starting or ready, a visitor
      during the delay gets a kernel of their own at once, and the refill starts when the
      delay is over and no visitor's kernel is starting (it would compete on the cores);
    - a visitor gets a ready kernel (its notebook run up to the wait for a visitor: the app
      built) before one whose notebook still runs, that before one still starting, and
      never a failed one;
    - kernels start and run their notebook at most ``cpu_count`` at a time (the next starts
      when one is ready), so the first are ready soon rather than all late. Ready is
      measured, not assumed: a kernel is ready when its notebook has connected to wait for
      its visitor (before, "ready" meant the kernel had started, and a meeting's first
      visitors were handed kernels still building the app: measured, 1.2-1.9 s of the
      kernel's CPU after the visitor came).
    """

    QUIET_RETRY_S = 2.0  # a refill due while visitors' kernels start waits this long again

    def fill_if_needed(self, delay=None, notebook_name=None, **kwargs):
        if self._stopping:
            return
        delay = self.fill_delay if delay is None else delay
        if delay > 0:
            self._refill_later(notebook_name, delay, kwargs)
            return
        default = self.kernel_pools_config.get("default", {})
        conf = self.kernel_pools_config.get(notebook_name, default)
        size = conf.get("pool_size", default.get("pool_size", 1))
        pool = self._pools.setdefault(notebook_name, [])
        pool[:] = [t for t in pool if _pool_task_alive(t)]  # a failed start holds no seat
        have = len(pool)
        room = size if self.max_kernels <= 0 else self.max_kernels - self.seats_taken()
        starting = sum(1 for t in pool if pool_stage(t, self._waiting) != READY)
        at_once = max(0, self.start_at_once - starting)
        target = min(size, have + max(room, 0), have + at_once)
        if target <= have:
            return
        saved = self.kernel_pools_config
        self.kernel_pools_config = {**saved, notebook_name: {**conf, "pool_size": target}}
        try:
            super().fill_if_needed(delay=0, notebook_name=notebook_name, **kwargs)
        finally:
            self.kernel_pools_config = saved
        for task in pool[have:]:  # when one is ready, the next may start
            task.add_done_callback(lambda t, nb=notebook_name: self._started(t, nb))

    def kernel_waiting(self, kernel_id: str) -> None:
        super().kernel_waiting(kernel_id)
        if self.notebook_path is not None:
            self._next_may_start(self.notebook_path)

    def _next_may_start(self, notebook_name) -> None:
        """A pool kernel is ready (or failed): the next held back by ``start_at_once`` may
        start, unless visitors are on their way in (a refill then waits, as after the
        delay: it would compete with their pages on the cores)."""
        if self._stopping:
            return
        if self.visitors_starting():
            self._refill_later(notebook_name, self.QUIET_RETRY_S, {})
            return
        self.fill_if_needed(delay=0, notebook_name=notebook_name)

    @property
    def start_at_once(self) -> int:
        return max(1, os.cpu_count() or 1)

    def _refill_timers(self) -> dict:
        if not hasattr(self, "_balans_refill_timers"):
            self._balans_refill_timers = {}
        return self._balans_refill_timers

    def _refill_later(self, notebook_name, delay, kwargs) -> None:
        timers = self._refill_timers()
        if notebook_name in timers:  # one refill due is enough: it fills the whole pool
            return
        loop = asyncio.get_event_loop()
        timers[notebook_name] = loop.call_later(
            delay, self._refill_due, notebook_name, dict(kwargs)
        )

    # A visitor's page is still on its way in while its browser fetches the widgets' state
    # and draws, which the websocket connecting does not end: it counts for ARRIVING_MIN_S
    # at least (20 pages at once took 70-100 s to draw on the shared 2-core machine, with
    # the refill competing) and until its kernel has said nothing for QUIET_S s after the
    # page connected, at most ARRIVING_MAX_S. A refill a minute after a meeting's last
    # arrival costs nothing: visitors beyond the pool get kernels of their own meanwhile.
    ARRIVING_MIN_S = 60.0
    QUIET_S = 5.0
    ARRIVING_MAX_S = 300.0  # 40 pages at once were still drawing after 120 s (measured)

    def visitors_starting(self) -> int:
        """Visitors on their way in: let in and their own kernel not ready, being handed a
        pooled one, or whose page is still loading (got its kernel less than
        ``ARRIVING_MIN_S`` s ago, not connected, or its kernel not quiet for ``QUIET_S`` s),
        at most ``ARRIVING_MAX_S`` s after it got its kernel."""
        own_pending = set(self._pending_kernels) - self._pool_kernel_ids
        arrivals = self._arrivals
        now = time.monotonic()
        for kernel_id, since in list(arrivals.items()):
            kernel = self._kernels.get(kernel_id)
            activity = getattr(kernel, "last_activity", None)
            quiet = activity is not None and (utcnow() - activity).total_seconds() > self.QUIET_S
            if (
                kernel is None
                or now - since > self.ARRIVING_MAX_S
                or (
                    kernel_id in self._ever_connected
                    and quiet
                    and now - since > self.ARRIVING_MIN_S
                )
            ):
                del arrivals[kernel_id]
        return len(self._tickets) + self._handing_out + len(own_pending) + len(arrivals)

    def _refill_due(self, notebook_name, kwargs) -> None:
        self._refill_timers().pop(notebook_name, None)
        if self._stopping:
            return
        if self.visitors_starting():
            self._refill_later(notebook_name, self.QUIET_RETRY_S, kwargs)
            return
        self.fill_if_needed(delay=0, notebook_name=notebook_name, **kwargs)

    def _started(self, task, notebook_name) -> None:
        """A pool kernel has started: when its notebook has run (to the wait for a visitor,
        :meth:`kernel_waiting`, or to its end, here), start the next one held back by
        ``start_at_once``. (One a visitor took meanwhile has already asked for a refill,
        after the delay.)"""
        if self._stopping or task not in self._pools.get(notebook_name, ()):
            return
        if not _pool_task_alive(task):  # its start failed: the next may start now
            self._next_may_start(notebook_name)
            return
        render = task.result().get("task")
        if render is None or render.done():
            self._next_may_start(notebook_name)
        else:
            render.add_done_callback(lambda _r: self._rendered(task, notebook_name))

    def _rendered(self, task, notebook_name) -> None:
        """A pool kernel's notebook has run to its end (it did not wait, or failed)."""
        if task in self._pools.get(notebook_name, ()):
            self._next_may_start(notebook_name)

    def get_pool_size(self, notebook_name):
        """Kernels in the pool, ready or starting (Voilà's handler uses the pool when > 0)."""
        return sum(1 for t in self._pools.get(notebook_name, []) if _pool_task_alive(t))

    async def get_rendered_notebook(self, notebook_name, extra_kernel_env_variables=None, **kw):
        pool = self._pools.get(notebook_name, [])
        pool[:] = sorted(
            (t for t in pool if _pool_task_alive(t)), key=lambda t: pool_stage(t, self._waiting)
        )
        self._handing_out += 1
        try:
            result = await super().get_rendered_notebook(
                notebook_name, extra_kernel_env_variables=extra_kernel_env_variables or {}, **kw
            )
        finally:
            self._handing_out -= 1
        kernel_id = result[2]
        self._pool_kernel_ids.discard(kernel_id)
        self._waiting.discard(kernel_id)
        self._arrived(kernel_id)
        _PAGE_KERNEL.set(kernel_id)
        kernel = self._kernels.get(kernel_id)
        if kernel is not None:  # preheated long ago: its idle time starts with the visitor
            kernel.last_activity = utcnow()
        return result

    async def shutdown_kernel(self, kernel_id, *args, **kwargs):
        await super().shutdown_kernel(kernel_id, *args, **kwargs)
        if not self._stopping and self.notebook_path is not None:
            self.fill_if_needed(notebook_name=self.notebook_path)  # a seat came free

    async def shutdown_all(self, *args, **kwargs):
        self._stopping = True
        for timer in self._refill_timers().values():  # refills not yet due: never start them
            timer.cancel()
        self._refill_timers().clear()
        for pool in self._pools.values():  # refills still waiting: never start them
            for task in list(pool):
                if not task.done() and task not in self._pool_tasks_starting:
                    task.cancel()
                    pool.remove(task)
        await super().shutdown_all(*args, **kwargs)


def _pool_factory(original, base_class, preheat_kernel, default_pool_size, page_config_hook=None):
    cls = original(base_class, preheat_kernel, default_pool_size, page_config_hook=page_config_hook)
    if not preheat_kernel:
        return cls

    class BalansVoilaKernelManager(BalansPool, cls):  # type: ignore[misc,valid-type]
        pass

    return BalansVoilaKernelManager


class BalansKernelWebsocketHandler(VoilaKernelWebsocketHandler):
    """Voilà's kernel websocket, remembered per kernel so the server can close a page's
    socket with a reason the page shows (idle, stopping)."""

    open_sockets: ClassVar[dict[str, set[BalansKernelWebsocketHandler]]] = {}

    async def open(self, kernel_id: str) -> None:  # type: ignore[override]
        BalansKernelWebsocketHandler.open_sockets.setdefault(kernel_id, set()).add(self)
        await super().open(kernel_id)

    def on_close(self) -> None:
        kernel_sockets = BalansKernelWebsocketHandler.open_sockets.get(
            getattr(self, "kernel_id", ""), set()
        )
        kernel_sockets.discard(self)
        if not kernel_sockets:
            BalansKernelWebsocketHandler.open_sockets.pop(getattr(self, "kernel_id", ""), None)
        if getattr(self, "connection", None) is not None:
            super().on_close()

    @classmethod
    def close_kernel(cls, kernel_id: str, code: int, reason: str) -> None:
        for ws in list(cls.open_sockets.get(kernel_id, ())):
            ws.close(code, reason)

    @classmethod
    def close_all(cls, code: int, reason: str) -> None:
        for kernel_id in list(cls.open_sockets):
            cls.close_kernel(kernel_id, code, reason)


class BalansRequestInfoHandler(RequestInfoSocketHandler):
    """Voilà's ``voila/query/ID`` websocket, on which a preheated kernel's notebook waits for
    its visitor (:mod:`balans.faces.visitor`): its opening tells the kernel manager that this
    pool kernel is ready to hand out."""

    def open(self, kernel_id: str) -> None:  # type: ignore[override]
        super().open(kernel_id)
        manager = self.settings.get("kernel_manager")
        if manager is not None and hasattr(manager, "kernel_waiting"):
            manager.kernel_waiting(kernel_id)


class BalansVoilaHandler(TornadoVoilaHandler):
    """The app's page, behind the cap: a visitor who would need a new kernel while the app
    is full gets the Swedish 503 page instead."""

    def _uses_pool(self, notebook_path: str) -> bool:
        km = self.kernel_manager
        try:
            data = km.notebook_data.get(notebook_path, {})
            pool_size = km.get_pool_size(notebook_path)
        except AttributeError:
            return False
        return self.should_use_rendered_notebook(
            data,
            pool_size,
            self.get_argument("template", None),
            self.get_argument("theme", None),
            self.request.arguments,
        )

    @tornado.web.authenticated
    async def get(self, path: str | None = None) -> None:
        if self.notebook_path and path:  # Voilà redirects these to files: no kernel
            await super().get(path)
            return
        for name in ("template", "theme"):  # one look for everyone (overrides are off):
            self.request.arguments.pop(name, None)  # without these the pool serves the page
            self.request.query_arguments.pop(name, None)
        km = self.kernel_manager
        notebook_path = self.notebook_path
        pools = getattr(km, "_pools", {}).get(notebook_path, [])
        if not self._uses_pool(notebook_path) and pools and not km.notebook_data.get(notebook_path):
            # the pool's first kernels are still starting: wait for one rather than start
            # another (or refuse the visitor)
            await asyncio.wait(list(pools), timeout=120, return_when=asyncio.FIRST_COMPLETED)
        ticket = None
        if not self._uses_pool(notebook_path):
            ticket = km.admit()
            if ticket is None:
                self.log.warning("Balans: app full (%s), visitor refused", km.status())
                self._refuse()
                return
        # the _xsrf cookie Voilà's page sends back when it closes (a beacon to
        # /voila/api/shutdown/<kernel>), so a closed or reloaded page ends its kernel at once
        _ = self.xsrf_token
        token = _TICKET.set(ticket)
        page_token = _PAGE_KERNEL.set(None)
        try:
            await super().get(path)
        finally:
            km.touch(_PAGE_KERNEL.get())  # the page is sent: from now on it may go idle
            _PAGE_KERNEL.reset(page_token)
            _TICKET.reset(token)
            km.release_ticket(ticket)

    def _refuse(self) -> None:
        self.set_status(503)
        self.set_header("Retry-After", "60")
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(FULL_PAGE.format(text=FULL_TEXT, href=html.escape(self.request.uri, True)))


class BalansStatusHandler(JupyterHandler):
    """``GET /balans/status``: a health check without a kernel (kernels, seats, cap). Open
    on ``balans app`` (localhost, no login); under JupyterHub only to the server's user."""

    def initialize(self, kernel_manager: Any) -> None:
        self.km = kernel_manager

    @tornado.web.authenticated
    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        status = self.km.status() if hasattr(self.km, "status") else {}
        self.finish(json.dumps({"ok": True, **status}))


class BalansLoadingHandler(JupyterHandler):
    """``GET /balans/loading/ID``: the page of kernel ID is still loading (its scripts, before
    its websocket opens), so its kernel is kept (``page_loading``). 204 while that holds,
    410 when it no longer does (the page then stops asking). Behind the same login as the
    page under JupyterHub."""

    def initialize(self, kernel_manager: Any) -> None:
        self.km = kernel_manager

    @tornado.web.authenticated
    def get(self, kernel_id: str) -> None:
        self.set_header("Cache-Control", "no-store")
        kept = hasattr(self.km, "page_loading") and self.km.page_loading(kernel_id)
        self.set_status(204 if kept else 410)
        self.finish()


class BalansStatementHandler(tornado.web.RequestHandler):
    """``GET /balans/tillganglighet``: the accessibility statement (tillgänglighetsredogörelse),
    without a kernel; ``?lang=en`` in English. The organisation and the contact come from
    the case's case.yaml (``name``, ``accessibility_contact``; empty: a marked placeholder)."""

    def get(self) -> None:
        from balans.presentation.a11y import case_settings, statement_html
        from balans.presentation.fmt import LANGUAGES

        lang = self.get_argument("lang", "sv")
        lang = lang if lang in LANGUAGES else "sv"
        meta = case_settings(os.environ.get("BALANS_CASE") or None)
        page = statement_html(
            organisation=str(meta.get("name") or ""),
            contact=str(meta.get("accessibility_contact") or ""),
            lang=lang,
            app_href="../" + ("?lang=en" if lang == "en" else ""),
        )
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Security-Policy", STATEMENT_CSP)
        self.finish(page)


# the statement runs no script at all; its one stylesheet is inline
STATEMENT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)


class BalansBundleHandler(tornado.web.RequestHandler):
    """``GET /balans/jupyterchart-<hash>.js``: the charts' Vega bundle, made once by
    ``balans app`` (:mod:`balans.faces.vega_bundle`), so a page loads it once for all its charts.
    Named by its hash: a browser may keep it as long as it likes."""

    _cache: ClassVar[dict[str, bytes]] = {}

    def get(self, name: str) -> None:
        from balans.faces.vega_bundle import ENV

        path = os.environ.get(ENV, "")
        if not path or os.path.basename(path) != name:
            raise tornado.web.HTTPError(404)
        data = self._cache.get(path)
        if data is None:
            with open(path, "rb") as f:
                data = self._cache[path] = f.read()
        self.set_header("Content-Type", "text/javascript; charset=utf-8")
        self.set_header("Cache-Control", "public, max-age=31536000, immutable")
        self.finish(data)


class BalansVoila(voila_app.Voila):
    """Standalone Voilà with the handlers and kernel manager above, stopping cleanly on
    SIGTERM and SIGINT."""

    def initialize(self, argv: Any = None) -> None:
        super().initialize(argv)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle_signal_stop)
        from balans.faces import fork_provisioner

        if fork_provisioner.socket_path():  # --kernels fork: its imports run meanwhile
            fork_provisioner.start_zygote()

    def _handle_signal_stop(self, sig: int, frame: Any) -> None:
        ioloop = getattr(self, "ioloop", None)
        if ioloop is None:  # not serving yet: nothing started that needs stopping
            raise SystemExit(0)
        self.log.info("Balans: signal %s, stopping", signal.Signals(sig).name)
        ioloop.add_callback_from_signal(ioloop.stop)

    def init_settings(self) -> dict:
        original = voila_app.voila_kernel_manager_factory
        voila_app.voila_kernel_manager_factory = lambda *a, **k: _pool_factory(original, *a, **k)
        try:
            return super().init_settings()
        finally:
            voila_app.voila_kernel_manager_factory = original

    def init_handlers(self) -> list:
        swap = {
            TornadoVoilaHandler: BalansVoilaHandler,
            VoilaKernelWebsocketHandler: BalansKernelWebsocketHandler,
            RequestInfoSocketHandler: BalansRequestInfoHandler,
        }
        # the identity provider's own pages (/login; under JupyterHub /oauth_callback and
        # /logout) are added by Voilà without its URL prefix: put them under it, where the
        # hub sends the browser back (JUPYTERHUB_OAUTH_CALLBACK_URL = PREFIX/oauth_callback)
        provider_paths = {h[0] for h in self.identity_provider.get_handlers()}
        handlers = [
            (
                url_path_join(self.server_url, h[0]) if h[0] in provider_paths else h[0],
                swap.get(h[1], h[1]),
                *h[2:],
            )
            if isinstance(h, tuple)
            else h
            for h in super().init_handlers()
        ]
        status = (
            url_path_join(self.server_url, r"/balans/status"),
            BalansStatusHandler,
            {"kernel_manager": self.kernel_manager},
        )
        statement = (
            url_path_join(self.server_url, r"/balans/tillganglighet"),
            BalansStatementHandler,
        )
        loading = (
            url_path_join(self.server_url, r"/balans/loading/([-0-9a-f]{36})"),
            BalansLoadingHandler,
            {"kernel_manager": self.kernel_manager},
        )
        bundle = (
            url_path_join(self.server_url, r"/balans/(jupyterchart-[0-9a-f]{16}\.js)"),
            BalansBundleHandler,
        )
        return [status, statement, loading, bundle, *handlers]

    def stop(self) -> None:
        """Close every page's socket (they show that the server stops), then end every
        kernel at once: they hold nothing to save, and one asked to shut down while it
        runs a cell prints a traceback when its reply finds the socket closed."""
        BalansKernelWebsocketHandler.close_all(STOP_CLOSE_CODE, "stopping")
        shutil.rmtree(self.connection_dir, ignore_errors=True)
        run_sync(self.kernel_manager.shutdown_all)(now=True)
        from balans.faces import fork_provisioner

        fork_provisioner.stop_zygote()  # and any kernel of its still running
        self.log.info("Balans: stopped, every kernel shut down")


def main(argv: list[str] | None = None) -> None:
    BalansVoila.launch_instance(argv)


if __name__ == "__main__":
    # run the classes of the module as imported (the config names balans.faces.serve_voila), not
    # this __main__ copy: one registry of sockets, one set of handlers
    from balans.faces.serve_voila import main as _main

    _main(sys.argv[1:])
