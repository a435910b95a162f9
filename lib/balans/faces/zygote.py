"""The kernel zygote: one process that has imported what every app kernel imports, and
forks a kernel for each request (``balans app --kernels fork``, docs/kernel_cost.md).

``python -m balans.faces.zygote SOCKET`` binds a Unix socket at SOCKET (mode 0600) first, so a
request made while it still imports waits in the socket's backlog, then imports ipykernel,
balans.faces.app, altair and pandas, calls ``gc.freeze()`` (the imported objects move to a
generation the collector never walks, so a child does not write to those shared pages) and
serves requests one at a time. A request is one JSON line::

    {"argv": [python, "-m", "ipykernel_launcher", "-f", CONNECTION_FILE, ...],
     "env": {...}, "cwd": DIR}

and the answer is one JSON line, ``{"pid": N}`` (or ``{"error": "..."}``). The child takes
the environment, working folder and arguments it was given, starts its own session and
runs ipykernel as ``ipykernel_launcher`` would. The zygote forks only while it is the one
thread of its process (checked in ``/proc/self/task``: OpenBLAS's threads are turned off by
its environment before numpy is imported) and holds no ZeroMQ context and no event loop
(ipykernel creates them in the child, at its start).

Lifetimes: the zygote gets SIGTERM when the process that started it (Voilà) dies
(``PR_SET_PDEATHSIG``), and every kernel it forked gets SIGTERM when the zygote dies. On
SIGTERM, SIGINT or SIGHUP the zygote terminates its kernels (SIGKILL for any left after
2 s) and exits. It reaps its children itself (SIGCHLD); the provisioner
(:mod:`balans.faces.fork_provisioner`) watches them by pid.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import socket
import sys
import time

# a thread pool made at import (OpenBLAS starts one per core) would not survive a fork
THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

# what the app's kernels import (the notebook's cell and ipykernel's own start)
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.comm",
    "IPython.core.completer",
    "pandas",
    "altair",
    "ipywidgets",
    "anywidget",
    "balans.faces.app",
)

MAX_REQUEST = 4 * 2**20


class _Stop(Exception):
    pass


def _prctl_deathsig(sig: int) -> None:
    """Linux: this process gets ``sig`` when its parent dies."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, sig)  # PR_SET_PDEATHSIG


CMDLINE_ROOM = 400  # bytes of command line kept free for a kernel's own (see set_cmdline)


def set_cmdline(args: list[str]) -> bool:
    """Linux: what ``ps`` and psutil show as this process's command line, written over the
    zygote's own (its last argument is room for it). A forked kernel shows the command a
    spawned one would have (``python -m ipykernel_launcher -f kernel-ID.json``)."""
    try:
        import ctypes

        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end (fields 48, 49)
    except (OSError, ValueError, IndexError):
        return False
    room = end - start
    data = b"\0".join(a.encode() for a in args) + b"\0"
    if room <= 1 or len(data) > room:
        return False
    ctypes.memmove(start, data + b"\0" * (room - len(data)), room)
    return True


def threads_of_this_process() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:  # pragma: no cover - not Linux
        import threading

        return threading.active_count()


def preload() -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)


def fork_safe_problem() -> str | None:
    """Why forking now would be unsafe, or None."""
    n = threads_of_this_process()
    if n != 1:
        names = []
        for t in os.listdir("/proc/self/task"):
            with contextlib.suppress(OSError), open(f"/proc/self/task/{t}/comm") as f:
                names.append(f.read().strip())
        return f"the zygote has {n} threads ({', '.join(sorted(names))})"
    zmq = sys.modules.get("zmq")
    if zmq is not None and getattr(zmq.Context, "_instance", None) is not None:
        return "the zygote holds a ZeroMQ context"
    import asyncio.events

    if asyncio.events._get_running_loop() is not None:
        return "the zygote runs an event loop"
    return None


class Zygote:
    def __init__(self, path: str) -> None:
        self.path = path
        self.children: dict[int, float] = {}  # pid -> when forked
        self.sock: socket.socket | None = None

    # -- the zygote --------------------------------------------------------------------
    def bind(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            sock.bind(self.path)
        finally:
            os.umask(old)
        sock.listen(512)
        self.sock = sock

    def _reap(self, *_: object) -> None:
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.pop(pid, None)

    def _stop(self, signum: int, _frame: object) -> None:
        raise _Stop(signum)

    def serve(self) -> None:
        assert self.sock is not None
        signal.signal(signal.SIGCHLD, self._reap)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._stop)
        print(f"Balans zygote {os.getpid()}: ready on {self.path}", file=sys.stderr, flush=True)
        try:
            while True:
                conn, _ = self.sock.accept()
                with conn:
                    self._answer(conn)
        except _Stop:
            pass
        finally:
            self.close()

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            data = b""
            while not data.endswith(b"\n") and len(data) < MAX_REQUEST:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            req = json.loads(data)
            if req.get("ping"):
                conn.sendall(json.dumps({"pong": os.getpid()}).encode() + b"\n")
                return
            argv, env, cwd = list(req["argv"]), dict(req["env"]), str(req.get("cwd") or ".")
            args = kernel_arguments(argv)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            with contextlib.suppress(OSError):
                conn.sendall(json.dumps({"error": f"bad request: {exc}"}).encode() + b"\n")
            return
        problem = fork_safe_problem()
        if problem:
            conn.sendall(json.dumps({"error": problem}).encode() + b"\n")
            return
        # no SIGCHLD between fork and recording the child: it is reaped after we know it
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        try:
            pid = os.fork()
            if pid == 0:  # the kernel
                try:
                    self._become_kernel(conn, args, env, cwd)
                finally:
                    os._exit(70)
            self.children[pid] = time.time()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")

    def close(self) -> None:
        """Terminate every kernel forked (SIGKILL for any left after 2 s), then go. Further
        stop signals are ignored meanwhile: a stop often comes twice (from Voilà, and again
        when Voilà exits, PR_SET_PDEATHSIG), and the second must not cut this short."""
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if self.sock is not None:
            self.sock.close()
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            self.sock = None
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        self._reap()
        for pid in list(self.children):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 2.0
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.05)
        for pid in list(self.children):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        self._reap()

    # -- the child -----------------------------------------------------------------------
    def _become_kernel(self, conn: socket.socket, args: list[str], env: dict, cwd: str) -> None:
        zygote_pid = os.getppid()
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        conn.close()
        if self.sock is not None:
            self.sock.close()  # never unlinks: the zygote's own socket
        _prctl_deathsig(signal.SIGTERM)
        if os.getppid() != zygote_pid:  # the zygote died before prctl
            os._exit(1)
        os.setsid()  # its own session and process group, as a spawned kernel's
        fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(fd, 0)
        os.close(fd)
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        here = os.getcwd()
        if sys.path and sys.path[0] in ("", self.cwd_at_start):
            sys.path[0] = here
        sys.argv = ["ipykernel_launcher", *args]
        set_cmdline([sys.executable, "-m", "ipykernel_launcher", *args])
        # a fresh random state: every child would otherwise repeat the zygote's
        import random

        random.seed()
        np = sys.modules.get("numpy")
        if np is not None:
            np.random.seed()
        gc.enable()
        code = 0
        try:
            from ipykernel import kernelapp

            # ipywidgets registers its comm targets when it is imported inside a kernel; here
            # it was imported before there was one, so it registers them as an extension
            kernelapp.launch_new_instance(
                argv=[
                    *args,
                    f"--IPKernelApp.parent_handle={zygote_pid}",
                    "--IPKernelApp.extensions=ipywidgets",
                ]
            )
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        import atexit

        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)

    cwd_at_start = os.getcwd()


def kernel_arguments(argv: list[str]) -> list[str]:
    """The kernel's own arguments from the kernelspec's command (after ``-m
    ipykernel_launcher``); anything else is refused (this process can only be that)."""
    for i, a in enumerate(argv[:-1]):
        if a == "-m" and argv[i + 1] in ("ipykernel_launcher", "ipykernel"):
            rest = argv[i + 2 :]
            return rest[1:] if argv[i + 1] == "ipykernel" and rest[:1] == ["kernel"] else rest
    raise ValueError(f"not an ipykernel command: {argv[:4]}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    argv = [a for a in argv if not a.startswith("--room=")]
    if len(argv) != 1:
        print("usage: python -m balans.faces.zygote SOCKET [--room=...]", file=sys.stderr)
        return 2
    _prctl_deathsig(signal.SIGTERM)
    for name in THREAD_ENV:
        os.environ.setdefault(name, "1")
    zygote = Zygote(argv[0])
    zygote.bind()
    gc.disable()  # no collection from here to the freeze: fewer pages written
    preload()
    gc.freeze()
    problem = fork_safe_problem()
    if problem:
        print(f"Balans zygote: cannot fork kernels: {problem}", file=sys.stderr, flush=True)
        return 1
    zygote.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
