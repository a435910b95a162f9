"""A preheated kernel's wait for its visitor (``balans.faces.visitor``): Voilà's handshake on
``voila/query/ID``, spoken without importing Voilà into the kernel.

The server here is a Tornado websocket handler that behaves as Voilà's
``RequestInfoSocketHandler`` does: it sends the visitor's request variables, as one JSON
object, when the visitor comes (here after a short delay).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import subprocess
import sys
import threading
import time

import pytest
import tornado.web
import tornado.websocket

from balans.faces import visitor


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeVoila:
    """``/base/voila/query/ID`` in a thread: sends ``payload`` ``delay`` s after the kernel
    connected (None: closes the socket without a word, as a stopping server does)."""

    def __init__(self, payload: dict | None, delay: float = 0.3, base: str = "/") -> None:
        self.port = free_port()
        self.connected: list[str] = []
        self.payload, self.delay, self.base = payload, delay, base
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        assert self.ready.wait(10)

    def _serve(self) -> None:
        server = self

        class Handler(tornado.websocket.WebSocketHandler):
            def open(self, kernel_id: str) -> None:
                server.connected.append(kernel_id)
                asyncio.get_event_loop().call_later(server.delay, self.answer)

            def answer(self) -> None:
                if server.payload is None:
                    self.close()
                else:
                    self.write_message(json.dumps(server.payload))

        async def main() -> None:
            app = tornado.web.Application([(rf"{self.base}voila/query/([-0-9a-f]+)", Handler)])
            app.listen(self.port, address="127.0.0.1")
            self.loop = asyncio.get_running_loop()
            self.stop = asyncio.Event()
            self.ready.set()
            await self.stop.wait()

        asyncio.run(main())

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(5)


KERNEL = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


@pytest.fixture
def pool_kernel(monkeypatch):
    """The environment Voilà gives a kernel of its pool."""

    def setup(port: int, **extra: str) -> None:
        monkeypatch.setenv("VOILA_PREHEAT", "True")
        monkeypatch.setenv("VOILA_KERNEL_ID", KERNEL)
        monkeypatch.setenv("VOILA_APP_PORT", str(port))
        monkeypatch.setenv("VOILA_SERVER_URL", "/")
        monkeypatch.delenv("VOILA_WS_BASE_URL", raising=False)
        monkeypatch.delenv("QUERY_STRING", raising=False)
        for k, v in extra.items():
            monkeypatch.setenv(k, v)

    return setup


def test_the_url_is_voilas_own():
    env = {
        "VOILA_PREHEAT": "True",
        "VOILA_KERNEL_ID": KERNEL,
        "VOILA_APP_PORT": "8866",
        "VOILA_SERVER_URL": "/user/anna/",
    }
    assert visitor.query_url(env) == f"ws://127.0.0.1:8866/user/anna/voila/query/{KERNEL}"
    env["VOILA_WS_BASE_URL"] = "/proxy/"  # Voilà's own setting wins over the server URL
    env["VOILA_WS_PROTOCOL"] = "wss"
    assert visitor.query_url(env) == f"wss://127.0.0.1:8866/proxy/voila/query/{KERNEL}"


def test_a_kernel_outside_the_pool_does_not_wait(monkeypatch):
    monkeypatch.setenv("VOILA_PREHEAT", "False")  # a visitor's own kernel
    monkeypatch.setenv("QUERY_STRING", "scenario=hyrstopp")
    t0 = time.monotonic()
    assert visitor.query_string() == "scenario=hyrstopp"
    assert time.monotonic() - t0 < 0.5
    monkeypatch.delenv("VOILA_PREHEAT")  # JupyterLab, a test
    monkeypatch.delenv("QUERY_STRING")
    assert visitor.query_string() == ""


def test_a_preheated_kernel_waits_for_its_visitor_and_takes_their_query(pool_kernel):
    server = FakeVoila({"QUERY_STRING": "scenario=hyrstopp&agency_pct=-60", "SERVER_NAME": "x"})
    try:
        pool_kernel(server.port)
        t0 = time.monotonic()
        assert visitor.query_string() == "scenario=hyrstopp&agency_pct=-60"
        assert time.monotonic() - t0 >= 0.25  # it waited for the visitor
        assert server.connected == [KERNEL]
        import os

        assert os.environ["SERVER_NAME"] == "x"  # the request's variables, as Voilà sets them
    finally:
        server.close()


def test_under_a_prefix_the_kernel_waits_under_it(pool_kernel):
    server = FakeVoila({"QUERY_STRING": "year=2024"}, delay=0.0, base="/user/anna/")
    try:
        pool_kernel(server.port, VOILA_SERVER_URL="/user/anna/")
        assert visitor.query_string() == "year=2024"
    finally:
        server.close()


def test_a_server_that_closes_or_is_gone_leaves_the_app_as_it_stands(pool_kernel, caplog):
    server = FakeVoila(None, delay=0.1)  # the server stops while the kernel waits
    try:
        pool_kernel(server.port)
        assert visitor.wait_for_visitor() == {}
        assert visitor.query_string() == ""
    finally:
        server.close()
    pool_kernel(free_port())  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="balans.faces.visitor"):
        assert visitor.query_string() == ""
    assert "waiting for the visitor" in caplog.text and "voila/query" in caplog.text


def test_the_apps_notebook_never_imports_voila_into_its_kernel():
    """Voilà's own helper imported the voila package (Jupyter Server, nbconvert) into each
    kernel when its visitor came: measured 1.3 s of CPU then, and memory kept."""
    code = (
        "import sys\n"
        "from balans.faces.app import BalansApp, query_from_environment\n"
        "app = BalansApp()\n"
        "app.apply_query(query_from_environment())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('voila', 'jupyter_server', 'nbconvert', 'jupyterlab_server')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout
