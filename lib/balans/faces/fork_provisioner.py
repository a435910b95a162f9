"""Kernels forked from the zygote (:mod:`balans.faces.zygote`): a jupyter_client kernel
provisioner, ``balans-fork`` (the entry point in pyproject.toml; ``balans app --kernels
fork`` writes a kernelspec of that name whose metadata names it, and Voilà's kernel manager
starts its kernels with that kernelspec).

The connection file, ports and environment are made as for a spawned kernel
(:class:`~jupyter_client.provisioning.LocalProvisioner`'s ``pre_launch``); only the launch
differs: instead of ``Popen`` the provisioner asks the zygote, over its Unix socket, to
fork a kernel with that command line, environment and working folder, and gets its pid. The
kernel is the zygote's child, not Voilà's, so it is polled, signalled and killed by pid
(``psutil.Process``, which also tells a reused pid from the kernel by its start time).

The zygote is started by Voilà's process (:func:`start_zygote`, from
``BalansVoila.initialize``) and stopped with it (:func:`stop_zygote`; it also gets SIGTERM
if Voilà dies). If the zygote is gone it is started again; if it cannot fork (it does not
answer within :data:`FORK_TIMEOUT_S`, or refuses), the kernel is spawned as usual and the
log says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import psutil
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner

CMDLINE_ROOM = 400
THREAD_ENV = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
)  # as balans.faces.zygote

SOCKET_ENV = "BALANS_ZYGOTE_SOCKET"  # the zygote's socket (balans app --kernels fork sets it)
PROVISIONER_NAME = "balans-fork"
KERNEL_NAME = "balans-fork"
FORK_TIMEOUT_S = 120.0  # the zygote's imports (a few seconds; more on a loaded machine)

_zygote: subprocess.Popen | None = None
_started_at = 0.0
_given_up = ""  # why the zygote is not started again (it failed at its start)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def socket_path() -> str | None:
    return os.environ.get(SOCKET_ENV) or None


def start_zygote() -> subprocess.Popen | None:
    """Start the zygote (once; again if it has died). Returns it, None without a socket path."""
    global _zygote, _started_at, _given_up
    path = socket_path()
    if path is None or _given_up:
        return None
    if _zygote is not None:
        rc = _zygote.poll()
        if rc is None:
            return _zygote
        if time.monotonic() - _started_at < 60:  # it could not start: do not try again
            _given_up = f"the zygote exited with {rc} {time.monotonic() - _started_at:.0f} s after its start"
            print(f"Balans: {_given_up}; kernels are spawned", file=sys.stderr, flush=True)
            return None
    _started_at = time.monotonic()
    _zygote = subprocess.Popen(
        # the last argument: room for a forked kernel's own command line (zygote.set_cmdline)
        [sys.executable, "-m", "balans.faces.zygote", path, "--room=" + "." * CMDLINE_ROOM],
        stdin=subprocess.DEVNULL,
        # OpenBLAS and OpenMP start their thread pools when numpy is imported (the balans
        # package imports it): one thread each, so the zygote has no thread but its own
        env={**os.environ, **{name: "1" for name in THREAD_ENV}},
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    # it binds its socket before it imports anything: wait for that, not for the imports
    deadline = time.monotonic() + 10
    while not os.path.exists(path) and time.monotonic() < deadline and _zygote.poll() is None:
        time.sleep(0.01)
    return _zygote


def zygote_pid() -> int | None:
    return _zygote.pid if _zygote is not None and _zygote.poll() is None else None


def stop_zygote(timeout: float = 3.0) -> None:
    """SIGTERM to the zygote (it terminates the kernels it forked), SIGKILL after ``timeout``."""
    global _zygote
    z, _zygote = _zygote, None
    if z is None or z.poll() is not None:
        return
    z.terminate()
    try:
        z.wait(timeout)
    except subprocess.TimeoutExpired:
        z.kill()
        z.wait()


async def ask_zygote(request: dict, timeout: float = FORK_TIMEOUT_S) -> dict:
    path = socket_path()
    if path is None:
        raise RuntimeError(f"{SOCKET_ENV} is not set")
    if zygote_pid() is None and start_zygote() is None:
        raise RuntimeError(_given_up or "no zygote")

    async def exchange() -> dict:
        reader, writer = await asyncio.open_unix_connection(path, limit=2**20)
        try:
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            line = await reader.readline()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        if not line:
            raise RuntimeError("the zygote closed the connection")
        return json.loads(line)

    return await asyncio.wait_for(exchange(), timeout)


class ForkProvisioner(LocalProvisioner):
    """A kernel forked by the zygote, watched by pid (see the module's docstring)."""

    _kernel: psutil.Process | None = None
    forked = False  # False: the zygote could not fork it, and it was spawned

    @property
    def has_process(self) -> bool:
        return self._kernel is not None or super().has_process

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        env = dict(kwargs.get("env") or os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        try:
            answer = await ask_zygote({"argv": cmd, "env": env, "cwd": cwd})
            if "pid" not in answer:
                raise RuntimeError(answer.get("error", "no pid in the answer"))
            pid = int(answer["pid"])
            self._kernel = psutil.Process(pid)
        except (TimeoutError, OSError, RuntimeError, ValueError, psutil.Error) as exc:
            self.log.warning("Balans: the zygote did not fork a kernel (%s); spawning it", exc)
            return await super().launch_kernel(cmd, **kwargs)
        self.forked = True
        self.pid = pid
        self.pgid = pid  # the child starts a session of its own (setsid)
        self.cwd = cwd
        return self.connection_info

    def _alive(self) -> bool:
        k = self._kernel
        if k is None:
            return False
        try:
            return k.is_running() and k.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    async def poll(self) -> int | None:
        if self._kernel is None:
            return await super().poll()
        # the zygote reaps its children: their exit code is not ours to read
        return None if self._alive() else 0

    async def wait(self) -> int | None:
        if self._kernel is None:
            return await super().wait()
        while self._alive():
            await asyncio.sleep(0.1)
        self._kernel = None
        return 0

    async def send_signal(self, signum: int) -> None:
        if self._kernel is None:
            await super().send_signal(signum)
            return
        if not self._alive():
            return
        pid = self._kernel.pid
        try:  # its process group (the kernel and what it started), once it has made it
            if os.getpgid(pid) == pid:
                os.killpg(pid, signum)
                return
        except OSError:
            pass
        with contextlib.suppress(ProcessLookupError):
            self._kernel.send_signal(signum)

    async def kill(self, restart: bool = False) -> None:
        if self._kernel is None:
            await super().kill(restart)
            return
        await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        if self._kernel is None:
            await super().terminate(restart)
            return
        await self.send_signal(signal.SIGTERM)

    async def get_provisioner_info(self) -> dict:
        info = await super().get_provisioner_info()
        info["forked"] = self.forked
        return info


def kernelspec(python: str = sys.executable) -> dict:
    """The kernel.json of the ``balans-fork`` kernelspec."""
    return {
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (Balans, forked)",
        "language": "python",
        "interrupt_mode": "signal",
        "metadata": {
            "debugger": False,
            "kernel_provisioner": {"provisioner_name": PROVISIONER_NAME, "config": {}},
        },
    }
