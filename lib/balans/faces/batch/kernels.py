"""The kernels papermill starts for the reports, one private socket folder each.

Kernels talk over Unix sockets in a private folder (:class:`IsolatedKernelManager`), not
TCP ports: parallel kernels picking free ports at the same moment can clash (papermill
issue #511, "ZMQError: Address already in use")."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import uuid
from typing import Any

from balans.faces.batch.interrupt import _LIVE_KERNELS, _SIGNALS, _on_sigint


def _short_tmp() -> str:
    """The temporary folder, unless its path leaves too little room for a socket's name
    (``<dir>/balans-k-XXXXXXXX/kernel-<uuid>-ipc-N`` must stay under ~100 characters):
    then ``/tmp``."""
    tmp = tempfile.gettempdir()
    return tmp if len(tmp) <= 30 or not os.path.isdir("/tmp") else "/tmp"


try:  # the kernel manager lives in the worker processes; jupyter_client is a papermill dependency
    from jupyter_client.manager import AsyncKernelManager
except ImportError:  # pragma: no cover
    AsyncKernelManager = object  # type: ignore[assignment,misc]


class IsolatedKernelManager(AsyncKernelManager):  # type: ignore[misc,valid-type]
    """A kernel that talks over Unix sockets in a private temporary folder.

    Parallel kernels on TCP pick "free" ports by binding to port 0 and letting go, so two
    kernels starting at the same moment can be handed the same port (papermill #511).
    Sockets in a folder of their own cannot clash. The folder is kept short (the system's
    temporary folder) because a Unix socket path has a limit of about 100 characters."""

    def __init__(self, **kwargs: Any) -> None:
        if os.name == "nt":  # pragma: no cover - no Unix sockets: jupyter_client's own ports
            super().__init__(**kwargs)
            self.socket_dir = None
            return
        self.socket_dir = tempfile.mkdtemp(prefix="balans-k-", dir=_short_tmp())
        kernel_id = str(uuid.uuid4())
        kwargs.setdefault("transport", "ipc")
        kwargs.setdefault("kernel_id", kernel_id)
        kwargs.setdefault(
            "connection_file", os.path.join(self.socket_dir, f"kernel-{kernel_id}.json")
        )
        super().__init__(**kwargs)
        self.log_path = os.path.join(self.socket_dir, "kernel.log")
        _LIVE_KERNELS.add(self)

    async def start_kernel(self, **kwargs: Any) -> None:
        """Start the kernel with its own output (log lines such as the "KeyboardInterrupt
        caught in kernel" that jupyter_client's shutdown provokes) in a log file, not on
        the batch's terminal; :func:`kernel_log_tail` reads it back when a report fails."""
        if self.socket_dir and "stderr" not in kwargs:
            with open(self.log_path, "ab") as log:  # the kernel process keeps its own handle
                kwargs["stdout"] = kwargs["stderr"] = log
                await super().start_kernel(**kwargs)
        else:
            await super().start_kernel(**kwargs)
        if _SIGNALS["interrupted"]:  # Ctrl-C came while the kernel was starting
            _on_sigint(signal.SIGINT, None)


def kernel_log_tail(lines: int = 8) -> str:
    """The last lines the kernels of this worker wrote (for a failure's message)."""
    out = []
    for km in _LIVE_KERNELS:
        path = getattr(km, "log_path", None)
        if path and os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as fh:
                out += fh.read().splitlines()[-lines:]
    return "\n".join(out)


def _stop_leftover_kernels() -> None:
    """Kill any kernel this worker started that is still alive (after an interrupt), and
    remove the kernels' socket folders."""
    for km in list(_LIVE_KERNELS):
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(Exception):
                proc.kill()
                proc.wait(10)
        if km.socket_dir:
            shutil.rmtree(km.socket_dir, ignore_errors=True)
        _LIVE_KERNELS.discard(km)
