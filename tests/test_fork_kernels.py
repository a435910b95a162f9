"""Kernels forked from the zygote (``balans app --kernels fork``; balans.faces.zygote and
balans.faces.fork_provisioner).

Through jupyter_client itself (the provisioner as Voilà's kernel manager uses it): a forked
kernel starts, executes, is interrupted mid-cell and keeps working, and shuts down; it is
the zygote's child, has the connection file, environment and folder it was given, and is a
fresh random state. Through ``balans app --kernels fork``: SIGTERM stops the zygote and
every forked kernel within 10 s. (The pool, the cap and a closed page's release run in
tests/test_serve_lifecycle.py with BALANS_TEST_KERNELS=fork, and with the default.)
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import psutil
import pytest

from balans.faces import fork_provisioner
from balans.faces.serve import write_fork_kernelspec

sys.path.insert(0, str(Path(__file__).parent))
from test_serve_lifecycle import Server, get


@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fork")
    write_fork_kernelspec(folder)
    saved = {k: os.environ.get(k) for k in ("JUPYTER_PATH", fork_provisioner.SOCKET_ENV)}
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(folder), saved["JUPYTER_PATH"] or "") if p
    )
    os.environ[fork_provisioner.SOCKET_ENV] = str(folder / "zygote.sock")
    z = fork_provisioner.start_zygote()
    assert z is not None
    yield z
    fork_provisioner.stop_zygote()
    assert z.poll() is not None
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def run(coro):
    return asyncio.run(coro)


async def execute(kc, code: str, timeout: float = 60) -> dict:
    """Run ``code``; the reply and what it printed."""
    msg_id = kc.execute(code)
    out = []
    deadline = time.monotonic() + timeout
    while True:
        msg = await kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    reply = await kc.get_shell_msg(timeout=timeout)
    return {"status": reply["content"]["status"], "out": "".join(out), "reply": reply}


def test_a_forked_kernel_starts_executes_is_interrupted_and_shuts_down(zygote, tmp_path):
    from jupyter_client.manager import AsyncKernelManager

    async def go():
        km = AsyncKernelManager(kernel_name=fork_provisioner.KERNEL_NAME)
        env = {**os.environ, "BALANS_FORK_TEST": "yes"}
        t0 = time.perf_counter()
        await km.start_kernel(env=env, cwd=str(tmp_path))
        assert isinstance(km.provisioner, fork_provisioner.ForkProvisioner)
        assert km.provisioner.forked, "spawned, not forked"
        kernel = psutil.Process(km.provisioner.pid)
        assert kernel.ppid() == zygote.pid  # the zygote's child
        assert any(c.endswith(".json") for c in kernel.cmdline())  # shows its connection file
        kc = km.client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=60)
        print(f"forked kernel ready in {time.perf_counter() - t0:.2f} s")
        r = await execute(
            kc,
            "import os, sys, threading, random\n"
            "print(os.environ.get('BALANS_FORK_TEST'), os.getcwd(), 'balans.faces.app' in sys.modules)\n"
            "print(random.random())\n"
            "print(sorted(get_ipython().kernel.comm_manager.targets))",
        )
        assert r["status"] == "ok"
        line, rnd, targets = r["out"].splitlines()
        # ipywidgets' comm targets (the page's widget manager asks for the states by them)
        assert "'jupyter.widget.control'" in targets and "'jupyter.widget'" in targets
        assert line == f"yes {tmp_path} True"  # its env, its folder, the app preloaded
        # interrupt a running cell: KeyboardInterrupt, and the kernel keeps working
        msg_id = kc.execute("import time\nfor _ in range(600): time.sleep(0.1)")
        await asyncio.sleep(1.0)
        await km.interrupt_kernel()
        while True:
            reply = await kc.get_shell_msg(timeout=30)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        r = await execute(kc, "print(6 * 7)")
        assert r["status"] == "ok" and r["out"].strip() == "42"
        assert await km.is_alive()
        # a second kernel: a random state of its own, not the zygote's
        km2 = AsyncKernelManager(kernel_name=fork_provisioner.KERNEL_NAME)
        await km2.start_kernel(env=env, cwd=str(tmp_path))
        kc2 = km2.client()
        kc2.start_channels()
        await kc2.wait_for_ready(timeout=60)
        r2 = await execute(kc2, "import random\nprint(random.random())")
        assert r2["out"].strip() != rnd.strip()
        kc2.stop_channels()
        await km2.shutdown_kernel(now=True)  # killed
        kc.stop_channels()
        await km.shutdown_kernel()  # asked, then waited for
        assert not await km.is_alive()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and kernel.is_running():
            await asyncio.sleep(0.1)
        assert not kernel.is_running() or kernel.status() == psutil.STATUS_ZOMBIE
        assert zygote.poll() is None  # the zygote serves on

    run(go())


def test_the_zygote_refuses_what_is_not_a_kernel(zygote):
    answer = run(fork_provisioner.ask_zygote({"argv": ["/bin/sh", "-c", "true"], "env": {}}))
    assert "error" in answer and "pid" not in answer
    assert run(fork_provisioner.ask_zygote({"ping": True}))["pong"] == zygote.pid


def test_sigterm_stops_the_zygote_and_every_forked_kernel(tmp_path):
    server = Server(tmp_path, "--kernels", "fork", "--pool-size", "2")
    try:
        kernels = server.wait_kernels(2)
        status, body = get(server.url)  # a visitor takes one
        assert status == 200 and "kernelId" in body
        tree = psutil.Process(server.proc.pid).children(recursive=True)
        zygotes = [p for p in tree if "balans.faces.zygote" in " ".join(p.cmdline())]
        assert len(zygotes) == 1, tree
        assert all(p.ppid() == zygotes[0].pid for p in kernels.values())  # forked
        everything = [*zygotes, *kernels.values()]
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        rc = server.proc.wait(timeout=15)
        deadline = started + 10
        while time.monotonic() < deadline and any(
            p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in everything
        ):
            time.sleep(0.1)
        took = time.monotonic() - started
        left = [p.pid for p in everything if p.is_running() and p.status() != "zombie"]
        console = server.console()
        print(f"SIGTERM: zygote and kernels gone after {took:.1f} s")
        assert rc == 0, console
        assert not left, f"still running after SIGTERM: {left}\n{console}"
        assert took < 10
        assert "Traceback" not in console, console
        assert "spawning it" not in console, console  # every kernel was forked
    finally:
        server.kill()
