"""The preheated pool's refill (``balans.faces.serve_voila.BalansPool``) and the charts' bundle
made once per server (``balans.faces.vega_bundle``), without a server.

The pool runs on a stand-in for Voilà's ``VoilaKernelManager`` that behaves as Voilà 0.5.13
does where it matters: ``fill_if_needed`` appends one task per missing kernel to the pool
(each "kernel" here a future the test completes with what Voilà's ``_initialize`` returns:
the kernel's id and the task rendering its notebook), ``get_rendered_notebook`` pops the
pool's first entry, waits for it, and asks for a refill with the default delay. A kernel's
notebook reaches the wait for its visitor when the test says so (``waiting``), as the real
kernel's connecting to ``voila/query/ID`` does.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from jupyter_server._tz import utcnow

from balans.faces.serve_voila import READY, STARTING, WARMING, BalansPool, pool_stage

NB = "app.ipynb"


class FakeVoilaPool:
    """Voilà's pooling kernel manager, reduced to its pool (see the module's docstring)."""

    fill_delay = 0.2
    max_kernels = 0

    def __init__(self, size: int) -> None:
        self.kernel_pools_config = {"default": {"pool_size": size}}
        self._pools: dict[str, list] = {}
        self._stopping = False
        self._tickets: set[str] = set()
        self._handing_out = 0
        self._pending_kernels: dict[str, object] = {}
        self._pool_kernel_ids: set[str] = set()
        self._kernels: dict[str, object] = {}
        self.notebook_path = NB
        self._pool_tasks_starting: set[asyncio.Future] = set()
        self._ever_connected: set[str] = set()
        self._arrivals: dict[str, float] = {}
        self._waiting: set[str] = set()
        self.started: list[asyncio.Future] = []  # every kernel start the pool asked for
        self.renders: list[asyncio.Future] = []  # each started kernel's notebook rendering

    def kernel_waiting(self, kernel_id: str) -> None:  # BalansMappingKernelManager's
        self._waiting.add(kernel_id)

    async def shutdown_all(self, *args, **kwargs):
        pass

    def _arrived(self, kernel_id: str) -> None:
        self._arrivals[kernel_id] = time.monotonic()

    def seats_taken(self) -> int:
        return len(self._pools.get(NB, [])) + len(self._tickets)

    def fill_if_needed(self, delay=None, notebook_name=None, **kwargs):
        assert delay == 0, "BalansPool keeps the delay out of the pool"
        size = self.kernel_pools_config.get(notebook_name, self.kernel_pools_config["default"])
        pool = self._pools.setdefault(notebook_name, [])
        for _ in range(size["pool_size"] - len(pool)):
            kernel = asyncio.get_event_loop().create_future()
            pool.append(kernel)
            self.started.append(kernel)

    async def get_rendered_notebook(self, notebook_name, extra_kernel_env_variables=None, **kw):
        kernel = self._pools[notebook_name].pop(0)
        content = await kernel
        kernel_id = content["kernel_id"]
        self._kernels[kernel_id] = Kernel()
        self.fill_if_needed(delay=None, notebook_name=notebook_name)
        return content["task"], [], kernel_id


class Kernel:
    """A kernel as jupyter_server keeps it: the time of its last message."""

    def __init__(self) -> None:
        self.last_activity = utcnow()


class Pool(BalansPool, FakeVoilaPool):
    start_at_once = 2  # as on the 2-core machine, whatever this one has
    QUIET_S = 0.3  # a connected page's kernel quiet this long: the page is drawn
    ARRIVING_MIN_S = 0.2  # and a page counts as arriving at least this long
    QUIET_RETRY_S = 0.1


def started(pool: Pool, *which: int) -> None:
    """These kernels have started; their notebooks run (the app is being built)."""
    for i in which:
        render = asyncio.get_event_loop().create_future()
        pool.renders.append(render)
        pool.started[i].set_result({"kernel_id": f"k{i}", "task": render})


def ready(pool: Pool, *which: int) -> None:
    """These kernels have started and their notebooks wait for a visitor."""
    for i in which:
        if not pool.started[i].done():
            started(pool, i)
        pool.kernel_waiting(f"k{i}")


def stages(pool: Pool) -> list[int]:
    return [pool_stage(t, pool._waiting) for t in pool.started]


def test_kernels_start_and_build_the_app_two_at_a_time_and_the_pool_fills():
    async def go():
        pool = Pool(5)
        pool.fill_if_needed(delay=0, notebook_name=NB)
        assert len(pool.started) == 2  # not five at once on two cores
        started(pool, 0)
        await asyncio.sleep(0)
        # a started kernel still runs the notebook (builds the app): it holds its core
        assert len(pool.started) == 2
        ready(pool, 0)
        await asyncio.sleep(0)
        assert len(pool.started) == 3  # one waits for its visitor: the next starts
        ready(pool, 1, 2)
        await asyncio.sleep(0)
        assert len(pool.started) == 5 and pool.get_pool_size(NB) == 5

    asyncio.run(go())


def test_a_kernel_ready_while_a_visitor_arrives_holds_the_next_start_back():
    async def go():
        pool = Pool(4)
        pool.fill_if_needed(delay=0, notebook_name=NB)
        assert len(pool.started) == 2
        pool._tickets.add("visitor")  # a visitor's own kernel is starting
        ready(pool, 0)
        await asyncio.sleep(0.25)
        assert len(pool.started) == 2, "the pool's next start competed with a visitor"
        pool._tickets.clear()
        await asyncio.sleep(0.3)
        assert len(pool.started) == 3

    asyncio.run(go())


def test_a_notebook_that_ends_without_waiting_counts_as_ready():
    async def go():
        pool = Pool(3)
        pool.fill_if_needed(delay=0, notebook_name=NB)
        started(pool, 0, 1)
        assert stages(pool) == [WARMING, WARMING]
        pool.renders[0].set_result(([], None))  # its notebook ran to its end (or failed)
        await asyncio.sleep(0)
        assert stages(pool) == [READY, WARMING, STARTING]  # and the third started

    asyncio.run(go())


def test_a_visitor_gets_a_kernel_waiting_for_them_before_one_building_the_app():
    async def go():
        pool = Pool(3)
        pool.fill_if_needed(delay=0, notebook_name=NB)
        started(pool, 0)  # building the app
        ready(pool, 1)  # the second waits for a visitor before the first
        await asyncio.sleep(0)
        assert stages(pool) == [WARMING, READY, STARTING]
        _, _, kernel = await pool.get_rendered_notebook(NB)
        assert kernel == "k1"  # Voilà hands out the first entry: one still building the app
        assert "k1" not in pool._waiting  # handed out: no longer the pool's

    asyncio.run(go())


def test_a_refill_waits_outside_the_pool_and_a_visitor_gets_a_ready_kernel_first():
    async def go():
        pool = Pool(2)
        pool.fill_if_needed(delay=0, notebook_name=NB)
        ready(pool, 1)  # the second is ready before the first
        _, _, kernel = await pool.get_rendered_notebook(NB)
        assert kernel == "k1"  # Voilà would have handed out the first, still starting
        # the refill is due after fill_delay: until then the pool holds only what it holds
        # (Voilà's refill sat in the pool while it slept, and a visitor got the sleeper)
        assert pool.get_pool_size(NB) == 1 and len(pool.started) == 2
        pool._ever_connected.add("k1")  # the visitor's page has connected
        for _ in range(3):  # the delay is over, but the page is still drawing
            pool._kernels["k1"].last_activity = utcnow()
            await asyncio.sleep(0.1)
        assert len(pool.started) == 2
        await asyncio.sleep(0.6)  # its kernel is quiet: the page is drawn
        assert len(pool.started) == 3 and pool.get_pool_size(NB) == 2

    asyncio.run(go())


def test_a_refill_waits_while_a_visitor_starts_a_kernel():
    async def go():
        pool = Pool(1)
        pool.QUIET_RETRY_S = 0.2
        pool.fill_if_needed(delay=0, notebook_name=NB)
        ready(pool, 0)
        await pool.get_rendered_notebook(NB)
        await asyncio.sleep(0.5)
        assert len(pool.started) == 1, "the refill competed with a page still loading"
        pool._ever_connected.add("k0")
        pool._arrivals.clear()  # that page is drawn
        pool._tickets.add("visitor")  # a visitor's own kernel is starting
        await asyncio.sleep(0.5)
        assert len(pool.started) == 1, "the refill competed with a visitor's kernel start"
        pool._tickets.clear()
        await asyncio.sleep(0.4)
        assert len(pool.started) == 2

    asyncio.run(go())


def test_a_failed_start_is_never_handed_out_nor_counted():
    async def go():
        pool = Pool(2)
        pool.fill_if_needed(delay=0, notebook_name=NB)
        failed = pool.started[0]
        failed.set_exception(RuntimeError("kernel died"))
        ready(pool, 1)
        # the failed start holds no seat: k1 and a new start in its place
        assert failed not in pool._pools[NB] and len(pool.started) == 3
        assert pool.get_pool_size(NB) == 2
        _, _, kernel = await pool.get_rendered_notebook(NB)
        assert kernel == "k1"

    asyncio.run(go())


def test_shutdown_cancels_a_refill_not_yet_due():
    async def go():
        pool = Pool(1)
        pool.fill_if_needed(delay=0, notebook_name=NB)
        ready(pool, 0)
        await pool.get_rendered_notebook(NB)
        await pool.shutdown_all()  # SIGTERM while the refill waits
        await asyncio.sleep(0.3)
        assert len(pool.started) == 1

    asyncio.run(go())


def run_py(code: str, **env: str) -> str:
    full = {k: v for k, v in os.environ.items() if k != "BALANS_VEGA_BUNDLE"} | env
    done = subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_the_bundle_file_is_altairs_own_and_kernels_never_load_vl_convert(tmp_path):
    # altair's own enable_offline, and the file made from it, are the same text
    same = run_py(
        "import altair as alt; from pathlib import Path;"
        "from balans.faces.vega_bundle import write_bundle;"
        f"p = write_bundle(Path({str(tmp_path)!r}));"
        "print(p, p.read_text(encoding='utf-8') == alt.JupyterChart._esm)"
    )
    path, equal = same.split()
    assert equal == "True"
    assert Path(path).name.startswith("jupyterchart-")
    # a kernel given the file: the widget imports the served file; vl-convert never loads
    out = run_py(
        "import sys, altair as alt; from balans.faces.vega_bundle import enable_offline;"
        "print(enable_offline(alt)); print('vl_convert' in sys.modules);"
        "print(alt.JupyterChart._esm)",
        BALANS_VEGA_BUNDLE=path,
    )
    how, loaded, stub = out.split("\n", 2)
    assert (how, loaded) == ("url", "False")
    assert f'base + "balans/{Path(path).name}"' in stub and len(stub) < 400
    # without it (the workbench): altair's enable_offline, through vl-convert, as before
    out = run_py(
        "import sys, altair as alt; from balans.faces.vega_bundle import enable_offline;"
        "print(enable_offline(alt), 'vl_convert' in sys.modules, len(alt.JupyterChart._esm))"
    )
    how, loaded, size = out.split()
    assert (how, loaded) == ("vl-convert", "True") and int(size) > 100_000
