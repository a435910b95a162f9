"""A preheated kernel's wait for its visitor, without importing Voilà into the kernel.

Voilà's pool runs the app's notebook before anyone asks for it; the notebook then waits for
the request of the visitor it is handed to (their query string: a shared link's setting).
Voilà's own helper for that wait, ``voila.utils.get_query_string``, imports the ``voila``
package, and with it Jupyter Server, nbconvert and JupyterLab's server: measured with
py-spy, 1.3 s of a kernel's CPU at the moment its visitor arrived (the import ran only then),
and memory every kernel kept. This module speaks the same small protocol with Tornado, which
the kernel has already imported (ipykernel runs on it):

- a kernel of Voilà's pool has ``VOILA_PREHEAT=True`` in its environment, and its id in
  ``VOILA_KERNEL_ID`` (Voilà's first statement in the kernel sets it);
- it opens the websocket ``{VOILA_WS_BASE_URL or VOILA_SERVER_URL}voila/query/{kernel id}`` on
  ``VOILA_APP_IP:VOILA_APP_PORT`` (``VOILA_WS_PROTOCOL``, ``ws`` unless set); the server counts
  it as ready from then on (``balans.faces.serve_voila``);
- the one message it receives, when a visitor is handed this kernel, is a JSON object of
  the request's variables (``QUERY_STRING`` among them), which go into ``os.environ``.

Outside a pool (a visitor's own kernel, JupyterLab, the tests) nothing waits: the query
string is ``QUERY_STRING`` from the environment, as Voilà sets it for such a kernel.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Mapping

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0  # as Voilà's helper: the server is on the same machine


def query_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The websocket on which this preheated kernel waits for its visitor (None: not one
    of Voilà's pool, or no kernel id yet)."""
    env = os.environ if environ is None else environ
    if env.get("VOILA_PREHEAT", "False") != "True":
        return None
    kernel_id = env.get("VOILA_KERNEL_ID")
    if not kernel_id:
        return None
    protocol = env.get("VOILA_WS_PROTOCOL", "ws")
    ip = env.get("VOILA_APP_IP", "127.0.0.1")
    port = env.get("VOILA_APP_PORT", "8866")
    base = env.get("VOILA_WS_BASE_URL", env.get("VOILA_SERVER_URL", "/"))
    return f"{protocol}://{ip}:{port}{base}voila/query/{kernel_id}"


async def _receive_one(url: str) -> str | None:
    import tornado.websocket

    conn = await tornado.websocket.websocket_connect(url, connect_timeout=CONNECT_TIMEOUT_S)
    try:
        message = await conn.read_message()  # None: the server closed it (it is stopping)
    finally:
        conn.close()
    return message if isinstance(message, str) else None


def wait_for_visitor() -> dict[str, str]:
    """Block until this preheated kernel's visitor arrives; their request's variables, also
    put into ``os.environ``. Returns {} at once outside a pool, and if the server cannot
    be reached or closes the socket (logged: the page then shows the app as it stands)."""
    url = query_url()
    if url is None:
        return {}
    box: dict[str, str | None] = {}

    def inner() -> None:
        # the kernel's own event loop runs this cell, so the wait runs in a thread of its own
        try:
            box["message"] = asyncio.run(_receive_one(url))
        except Exception as exc:  # a failed wait must not stop the notebook
            box["error"] = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=inner, name="balans-wait-for-visitor", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        log.warning("waiting for the visitor on %s failed: %s", url, box["error"])
        return {}
    try:
        info = json.loads(box.get("message") or "{}")
    except ValueError:
        log.warning("the visitor's request from %s was not JSON", url)
        return {}
    if not isinstance(info, dict):
        return {}
    info = {str(k): str(v) for k, v in info.items()}
    os.environ.update(info)
    return info


def query_string() -> str:
    """The page's query string: waits for the visitor in a preheated kernel."""
    wait_for_visitor()
    return os.environ.get("QUERY_STRING", "")
