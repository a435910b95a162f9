"""Interruption: what Ctrl-C (SIGINT) and the batch's death do to workers and kernels.

In a worker, Ctrl-C stops the running report by killing its kernel: papermill then fails
at once (DeadKernelError), the report is given up, its temporary folder removed. No
KeyboardInterrupt is raised at an arbitrary point (one raised inside a weakref callback is
printed and lost); a report already past its kernel finishes and is kept, complete.

In the batch process, Ctrl-C only raises a flag and passes the signal on to the workers
(:func:`forward_sigint`): the pool's loop then cancels what has not started and collects
the rest. A KeyboardInterrupt could be lost in a weakref callback; a flag cannot."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any

_LIVE_KERNELS: set[Any] = set()  # the kernels this worker started (kernels.py), to kill

_SIGNALS = {"interrupted": False}


def _on_sigint(signum: int, frame: Any) -> None:
    _SIGNALS["interrupted"] = True
    for km in list(_LIVE_KERNELS):
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(Exception):
                proc.kill()


def _die_with_parent() -> None:
    """Linux: the worker is killed when the batch process dies, ``kill -9`` included, so no
    worker goes on writing reports outside the folder lock while a rerun starts beside it;
    its kernel follows (ipykernel exits when its parent does). Elsewhere a no-op."""
    if not sys.platform.startswith("linux"):  # pragma: no cover
        return
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no prctl
        return
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # it died before the prctl
        os._exit(1)


@contextlib.contextmanager
def forward_sigint(pool: Any) -> Iterator[dict[str, bool]]:
    """In the batch process: while the block runs, Ctrl-C sets ``stop["flag"]`` and is
    passed on to the pool's workers (which kill their kernels). Not the main thread: Ctrl-C
    is not ours to handle, and the flag stays down."""
    stop = {"flag": False}

    def on_sigint(signum: int, frame: Any) -> None:
        stop["flag"] = True
        for pid in list(getattr(pool, "_processes", None) or {}):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGINT)

    try:
        old = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread
        old = None
    try:
        yield stop
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)
