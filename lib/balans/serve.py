"""``balans app``: serve the board members' app with standalone Voilà.

Standalone ``voila notebooks/app.ipynb`` (not the Jupyter server extension, which would
expose the full kernel API), on localhost, with tracebacks hidden from viewers, preheated
kernels for a fast first page, idle kernels culled, and a template that loads nothing
from a CDN. The settings live in :func:`voila_config`; the README says how to serve many
users behind JupyterHub or a reverse proxy with authentication.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .errors import BalansError
from .resources import notebook, package_path

APP_NOTEBOOK = notebook("app")  # package data: balans/notebooks/app.ipynb
JUPYTER_DATA = package_path("share", "jupyter")  # holds voila/templates/balans

# Content-Security-Policy: only this server. Vega compiles its expressions with Function
# ('unsafe-eval') and ipywidgets injects inline styles.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'self'; base-uri 'self'; form-action 'self'"
)


try:  # the per-kernel manager, for the work-around below
    from jupyter_server.services.kernels.kernelmanager import ServerKernelManager
except ImportError:  # pragma: no cover - jupyter_server comes with voila
    ServerKernelManager = object  # type: ignore[misc,assignment]


class BalansKernelManager(ServerKernelManager):  # type: ignore[misc,valid-type]
    """Work-around for jupyter_server 2.x with ``allow_tracebacks=False``: the websocket's
    error handler reads ``traceback_replacement_message`` from the per-kernel manager, but
    the trait lives on the mapping manager, so the handler raised and the page stopped
    receiving updates. With the attribute here, a viewer sees this line instead of a
    traceback, and the page keeps working."""

    traceback_replacement_message = "Ett fel inträffade. Detaljerna finns i serverns logg."


def voila_config(
    ip: str = "127.0.0.1", port: int = 8866, pool_size: int = 2, cull_idle_s: int = 1800
) -> dict[str, Any]:
    """The Voilà settings, as a ``voila.json`` config."""
    return {
        "Voila": {
            "ip": ip,
            "port": port,
            "open_browser": False,
            "tornado_settings": {"headers": {"Content-Security-Policy": CSP}},
        },
        "VoilaConfiguration": {
            "template": "balans",
            "show_tracebacks": False,
            "strip_sources": True,
            "file_allowlist": [],  # serve no files from the notebook folder
            "preheat_kernel": pool_size > 0,
            "default_pool_size": max(pool_size, 0),
        },
        # refill the pool after 15 s, not 1 s: a refill competes with the visitor on 2 cores
        "VoilaKernelManager": {"fill_delay": 15},
        "MappingKernelManager": {
            "allow_tracebacks": False,
            "kernel_manager_class": "balans.serve.BalansKernelManager",
            "cull_idle_timeout": cull_idle_s,
            "cull_interval": 60,
            "cull_connected": False,
        },
    }


def port_is_free(ip: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((ip, port))
        except OSError:
            return False
    return True


def voila_command(config_dir: Path, open_browser: bool, notebook: Path = APP_NOTEBOOK) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        f"--Voila.config_file_paths=['{config_dir}']",
    ]
    if open_browser:
        cmd.append("--Voila.open_browser=True")
    return cmd


CASE_ENV = "BALANS_CASE"  # the case folder the app's kernels load (balans app --case)


CUTOFF_ENV = "BALANS_CUTOFF"  # the close the app stands on (balans app --cutoff)


def voila_env(case_dir: Path | None = None, cutoff: str | None = None) -> dict[str, str]:
    """The environment for Voilà: our template folder first on JUPYTER_PATH, and the case
    folder in ``BALANS_CASE`` (the kernels inherit it)."""
    env = dict(os.environ)
    if case_dir is not None:
        env[CASE_ENV] = str(case_dir)
    else:
        env.pop(CASE_ENV, None)
    if cutoff:
        env[CUTOFF_ENV] = cutoff
    else:
        env.pop(CUTOFF_ENV, None)
    env["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(JUPYTER_DATA), env.get("JUPYTER_PATH", "")) if p
    )
    return env


def serve(
    port: int = 8866,
    open_browser: bool = True,
    ip: str = "127.0.0.1",
    pool_size: int = 2,
    case_dir: Path | None = None,
    cutoff: str | None = None,
) -> int:
    """Start Voilà and wait; return its exit code. Raises BalansError for bad settings."""
    if not 1024 <= port <= 65535:
        raise BalansError(f"--port {port}: not a usable port; allowed 1024 to 65535")
    if not port_is_free(ip, port):
        raise BalansError(f"--port {port}: the port is in use on {ip}; choose another with --port")
    if not APP_NOTEBOOK.is_file():
        raise BalansError(f"{APP_NOTEBOOK}: the app notebook is missing")
    with tempfile.TemporaryDirectory(prefix="balans-voila-") as tmp:
        cfg = Path(tmp)
        (cfg / "voila.json").write_text(
            json.dumps(voila_config(ip, port, pool_size), indent=1), encoding="utf-8"
        )
        print(f"Balans: http://{ip}:{port}/  (Ctrl-C stops)", file=sys.stderr, flush=True)
        proc = subprocess.Popen(
            voila_command(cfg, open_browser),
            env=voila_env(case_dir, cutoff),
            cwd=APP_NOTEBOOK.parent,
        )
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            try:
                return proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                return 130
