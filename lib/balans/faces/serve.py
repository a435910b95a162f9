"""``balans app``: serve the board members' app with standalone Voilà.

Standalone Voilà (not the Jupyter server extension, which would expose the full kernel
API), on localhost, with tracebacks hidden from viewers, preheated kernels for a fast first
page, a template that loads nothing from a CDN, and the additions of
:mod:`balans.faces.serve_voila`: kernels end with their page, at most ``max_kernels`` of them, and
a clean stop. The settings live in :func:`voila_config`.

``balans app`` runs Voilà in a child process of its own session and supervises it: SIGTERM,
SIGINT (Ctrl-C) and SIGHUP are passed on to it as SIGTERM, and whatever of it or its kernels
is still running after :data:`STOP_GRACE_S` seconds is killed, so the port and every kernel
are free within 10 s. The README says how to serve many users behind JupyterHub or a reverse
proxy with authentication.

``balans hub-app`` is the same server as a JupyterHub user's server (:func:`hub_address`):
its address and URL prefix come from the spawner's environment, and every page needs the
hub's login (JupyterHub's own identity provider for Jupyter servers, HubOAuth).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from balans.errors import BalansError
from balans.resources import notebook, package_path

APP_NOTEBOOK = notebook("app")  # package data: balans/notebooks/app.ipynb
JUPYTER_DATA = package_path("share", "jupyter")  # holds voila/templates/balans

# The page's inline scripts, each allowed by its hash and nothing else inline: a script or
# an event handler (onclick=…) that reaches the page through a value runs nowhere. They are
# Voilà's lab template's own (voila 0.5.13, pinned in constraints.txt; Balans's own scripts
# are static files); tests/test_app_browser.py checks that the page has no other, and that
# the browser reports no violation of the policy.
INLINE_SCRIPTS_SHA256 = (
    "NueCRiKhY74fE2qfmqyHVLKoFUeyTTQzR0FehUSa6Rk=",  # console wrapper
    "C7GtXSV09mZ96Se+CbtRm9VgVfWZsCjtLcep0ByMqjA=",  # mermaid module loader
    "27EMbxW9t7j/tI72mGN/aLDbgg/wWQmWNIrBnsn6YRA=",  # heartbeat, loading text
    "PqhHNNuz5v+6E11AA4PSkwKSxJqwWcstnskiH9WZYtk=",  # voila_process(1, 1)
    "Gba2iRKB8FYSoyimcKZnQ3PAq95k3NgtxbWr1Ne6v2k=",  # voila_finish()
)


def inline_script_hashes(page: str) -> list[str]:
    """The sha256 (base64) of every inline script a browser would run in ``page``."""
    import base64
    import hashlib
    import re

    out = []
    for m in re.finditer(r"<script([^>]*)>(.*?)</script>", page, re.S):
        attrs, body = m.group(1), m.group(2)
        kind = re.search(r'type="([^"]+)"', attrs)
        if "src=" in attrs or (kind and kind.group(1) not in ("module", "text/javascript")):
            continue  # a file of this server, or data (JSON) the browser does not run
        out.append(base64.b64encode(hashlib.sha256(body.encode()).digest()).decode())
    return out


# Content-Security-Policy: only this server; inline scripts only by hash (above). Vega
# compiles its expressions with Function ('unsafe-eval'), anywidget loads the charts' code
# from blob: URLs, and ipywidgets sets inline styles.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval' blob: "
    + " ".join(f"'sha256-{h}'" for h in INLINE_SCRIPTS_SHA256)
    + "; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'self'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'"
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


KERNEL_MODES = ("fork", "spawn")  # balans app --kernels: forked from the zygote, or spawned
DEFAULT_KERNELS = "spawn"

# a viewer's kernel at its largest: 429 MB RSS measured after every tab and the downloads
# (they load WeasyPrint, openpyxl and vl-convert; idle, 152 MB), rounded up
KERNEL_MB = 450
RESERVED_MB = 2048  # left to the server, the system and the rest
STOP_GRACE_S = 6.0  # the child's own clean stop; then what is left is killed (10 s in all)


def default_max_kernels(total_bytes: int | None = None) -> int:
    """The cap on live kernels that fits this machine: (memory - 2 GB) / 450 MB, at least 2."""
    if total_bytes is None:
        import psutil

        total_bytes = psutil.virtual_memory().total
    return max(2, (total_bytes // 2**20 - RESERVED_MB) // KERNEL_MB)


def voila_config(
    ip: str = "127.0.0.1",
    port: int = 8866,
    pool_size: int = 2,
    max_kernels: int = 0,
    idle_timeout_s: int = 1800,
    release_after_s: int = 30,
    hub_prefix: str | None = None,
    kernels: str = "spawn",
) -> dict[str, Any]:
    """The Voilà settings, as a ``voila.json`` config. ``max_kernels`` 0 means no cap;
    ``idle_timeout_s`` 0 means an open page keeps its kernel however long it is idle.
    ``hub_prefix`` (``/user/NAME/``) serves the app there as a JupyterHub user's server:
    only to a browser the hub has signed in with access to that server. ``kernels``
    ``"fork"``: every kernel is started with the ``balans-fork`` kernelspec (forked from the
    zygote, :mod:`balans.faces.fork_provisioner`); ``"spawn"``: with the notebook's own."""
    if kernels not in KERNEL_MODES:
        raise BalansError(f"--kernels {kernels}: allowed {' or '.join(KERNEL_MODES)}")
    if max_kernels > 0:
        pool_size = min(pool_size, max_kernels)
    # check often enough that a closed page's kernel goes within release_after + 10 s
    shortest = min(t for t in (release_after_s, idle_timeout_s) if t > 0)
    cull_interval = max(1, min(10, shortest // 3))
    voila: dict[str, Any] = {
        "ip": ip,
        "port": port,
        "open_browser": False,
        "tornado_settings": {"headers": {"Content-Security-Policy": CSP}},
    }
    if hub_prefix is not None:
        import jupyterhub

        voila["base_url"] = hub_prefix
        voila["auto_token"] = True  # no token of Voilà's own: the hub's login is the only one
        # the hub checks a user's server's version by this header, as jupyterhub-singleuser's
        voila["tornado_settings"]["headers"]["X-JupyterHub-Version"] = jupyterhub.__version__
        # what jupyterhub-singleuser uses: the hub's OAuth, its cookie for this server only,
        # and the scope access:servers!server=NAME checked on every request
        voila["identity_provider_class"] = HUB_IDENTITY_PROVIDER
        voila["authorizer_class"] = HUB_AUTHORIZER
    return {
        "Voila": voila,
        "VoilaConfiguration": {
            "template": "balans",
            "show_tracebacks": False,
            "strip_sources": True,
            "file_allowlist": [],  # serve no files from the notebook folder
            "preheat_kernel": pool_size > 0,
            "default_pool_size": max(pool_size, 0),
            # one template and theme for everyone: ?template= would bypass the pool (and
            # bring back the stock template's CDN links)
            "allow_template_override": "NO",
            "allow_theme_override": "NO",
            "multi_kernel_manager_class": "balans.faces.serve_voila.BalansMappingKernelManager",
        },
        # the page is Swedish (<html lang="sv">; balans-a11y.js follows the app's language)
        "VoilaExporter": {"language_code": "sv"},
        # refill the pool after 15 s, not 1 s: a refill competes with the visitor on 2 cores
        "VoilaKernelManager": {"fill_delay": 15},
        "MappingKernelManager": {
            "allow_tracebacks": False,
            "kernel_manager_class": "balans.faces.serve.BalansKernelManager",
            # the culler's own rule is replaced (BalansMappingKernelManager.cull_kernel_if_idle);
            # it runs only with a timeout above 0
            "cull_idle_timeout": release_after_s,
            "cull_interval": cull_interval,
            "cull_connected": False,
        },
        "BalansMappingKernelManager": {
            "max_kernels": max(max_kernels, 0),
            "release_after": release_after_s,
            "idle_timeout": max(idle_timeout_s, 0),
            "kernel_spec_name": FORK_KERNEL_NAME if kernels == "fork" else "",
        },
        # a kernel asked to shut down gets 3 s before it is killed (jupyter_client: 5 s)
        "BalansKernelManager": {"shutdown_wait_time": 3.0},
    }


FORK_KERNEL_NAME = "balans-fork"  # balans.faces.fork_provisioner.KERNEL_NAME
ZYGOTE_SOCKET_ENV = "BALANS_ZYGOTE_SOCKET"  # balans.faces.fork_provisioner.SOCKET_ENV


def write_fork_kernelspec(folder: Path) -> Path:
    """The ``balans-fork`` kernelspec in ``folder``/kernels (a Jupyter data folder, put
    first on JUPYTER_PATH), with the Python of this server. Returns the data folder."""
    from balans.faces.fork_provisioner import kernelspec

    spec = folder / "kernels" / FORK_KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps(kernelspec(sys.executable), indent=1))
    return folder


HUB_IDENTITY_PROVIDER = "jupyterhub.singleuser.extension.JupyterHubIdentityProvider"
HUB_AUTHORIZER = "jupyterhub.singleuser.extension.JupyterHubAuthorizer"
# what a JupyterHub spawner gives its user's server (JupyterHub 2 and later: by environment)
HUB_ENV = (
    "JUPYTERHUB_SERVICE_URL",
    "JUPYTERHUB_SERVICE_PREFIX",
    "JUPYTERHUB_API_TOKEN",
    "JUPYTERHUB_API_URL",
    "JUPYTERHUB_CLIENT_ID",
)


def hub_address(env: dict[str, str] | None = None) -> tuple[str, int, str]:
    """(ip, port, prefix) of this user's server, from the JupyterHub spawner's environment
    (``JUPYTERHUB_SERVICE_URL`` = ``http://127.0.0.1:PORT/user/NAME/``). Raises BalansError
    when not started by a hub, or when JupyterHub is not installed."""
    env = os.environ if env is None else env
    missing = [name for name in HUB_ENV if not env.get(name)]
    if missing:
        raise BalansError(
            "balans hub-app is a JupyterHub user's server: the hub's spawner starts it "
            f"(set Spawner.cmd; see deploy/jupyterhub/jupyterhub_config.py); missing {', '.join(missing)}"
        )
    try:
        import jupyterhub.singleuser.extension  # noqa: F401
    except ImportError as e:
        raise BalansError(
            f"balans hub-app needs jupyterhub in this environment ({e}); pip install 'balans[hub]'"
        ) from None
    url = urlsplit(env["JUPYTERHUB_SERVICE_URL"])
    prefix = env["JUPYTERHUB_SERVICE_PREFIX"]
    try:
        port = url.port
    except ValueError:
        port = None
    if url.scheme != "http" or not url.hostname or port is None or not prefix.startswith("/"):
        raise BalansError(
            f"JUPYTERHUB_SERVICE_URL={env['JUPYTERHUB_SERVICE_URL']!r}, "
            f"JUPYTERHUB_SERVICE_PREFIX={prefix!r}: expected http://HOST:PORT/user/NAME/ and /user/NAME/"
        )
    return url.hostname, port, prefix if prefix.endswith("/") else prefix + "/"


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
        "balans.faces.serve_voila",
        str(notebook),
        f"--Voila.config_file_paths={config_dir}",
    ]
    if open_browser:
        cmd.append("--Voila.open_browser=True")
    return cmd


CASE_ENV = "BALANS_CASE"  # the case folder the app's kernels load (balans app --case)


CUTOFF_ENV = "BALANS_CUTOFF"  # the close the app stands on (balans app --cutoff)


def make_vega_bundle(folder: Path) -> Path | None:
    """The charts' Vega bundle, made once in a process of its own (:mod:`balans.faces.vega_bundle`),
    so that no kernel starts vl-convert's JavaScript engine (1 s, 125 MB each). None if it
    could not be made: the kernels then make their own, as before."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "balans.faces.vega_bundle", str(folder)],
            check=True,
            timeout=120,
            capture_output=True,
            text=True,
        )
        path = Path(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, IndexError) as exc:
        print(
            f"Balans: the charts' bundle was not made ({exc}); each kernel makes its own",
            file=sys.stderr,
        )
        return None
    return path if path.is_file() else None


def voila_env(
    case_dir: Path | None = None,
    cutoff: str | None = None,
    vega_bundle: Path | None = None,
    fork_dir: Path | None = None,
) -> dict[str, str]:
    """The environment for Voilà: our template folder first on JUPYTER_PATH, the case
    folder in ``BALANS_CASE`` and the charts' bundle in ``BALANS_VEGA_BUNDLE`` (the kernels
    inherit them); with ``fork_dir`` (``--kernels fork``) the zygote's socket in it and its
    ``balans-fork`` kernelspec on JUPYTER_PATH."""
    from balans.faces.vega_bundle import ENV as BUNDLE_ENV

    env = dict(os.environ)
    if vega_bundle is not None:
        env[BUNDLE_ENV] = str(vega_bundle)
    else:
        env.pop(BUNDLE_ENV, None)
    if case_dir is not None:
        env[CASE_ENV] = str(case_dir)
    else:
        env.pop(CASE_ENV, None)
    if cutoff:
        env[CUTOFF_ENV] = cutoff
    else:
        env.pop(CUTOFF_ENV, None)
    env.pop(ZYGOTE_SOCKET_ENV, None)
    paths = [str(JUPYTER_DATA), env.get("JUPYTER_PATH", "")]
    if fork_dir is not None:
        env[ZYGOTE_SOCKET_ENV] = str(write_fork_kernelspec(fork_dir) / "zygote.sock")
        paths.insert(0, str(fork_dir))
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in paths if p)
    return env


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the child gets SIGTERM if ``balans app`` itself is killed (SIGKILL)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _remember_family(pid: int, family: dict[int, Any]) -> None:
    """Add the child's descendants (its kernels) to ``family``, before they are orphaned."""
    import psutil

    try:
        for p in psutil.Process(pid).children(recursive=True):
            family.setdefault(p.pid, p)
    except psutil.Error:
        pass


def _end_family(family: dict[int, Any]) -> None:
    """Stop what is left of the child's kernels: SIGTERM, then SIGKILL after 1 s."""
    import psutil

    alive = []
    for p in family.values():
        try:
            if p.is_running():
                p.terminate()
                alive.append(p)
        except psutil.Error:
            pass
    _, still = psutil.wait_procs(alive, timeout=1.0)
    for p in still:
        with contextlib.suppress(psutil.Error):
            p.kill()


SAME_STOP_S = 0.5  # signals this close to the first are one stop (see supervise)


def supervise(proc: subprocess.Popen, grace_s: float = STOP_GRACE_S) -> int:
    """Wait for Voilà. SIGTERM, SIGINT and SIGHUP are passed on to it as SIGTERM (once; a
    second signal stops it at once); after ``grace_s`` s it and what is left of its kernels
    are killed. Returns 0 after a stop asked for by a signal, else Voilà's exit code.

    Signals within ``SAME_STOP_S`` of the first are the same stop, not a second one: a
    stop of the whole process group (``make run`` stopped, a terminal closed) reaches this
    process once from the group and once more from its parent passing it on, milliseconds
    apart, and counting that as "stop at once" killed Voilà before it had shut down its
    kernels (measured under ``make run``)."""
    signals: list[float] = []  # when each distinct stop was asked for

    def on_signal(signum: int, frame: Any) -> None:
        now = time.monotonic()
        if not signals:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        elif now - signals[0] < SAME_STOP_S:
            return
        signals.append(now)

    watched = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    before = {s: signal.signal(s, on_signal) for s in watched}
    family: dict[int, Any] = {}
    deadline = None
    last_look = 0.0
    try:
        while True:
            now = time.monotonic()
            if now - last_look > (0.5 if signals else 2.0):
                _remember_family(proc.pid, family)
                last_look = now
            try:
                rc = proc.wait(timeout=0.25)
                break
            except subprocess.TimeoutExpired:
                pass
            if signals and deadline is None:
                print("Balans: stopping ...", file=sys.stderr, flush=True)
                deadline = time.monotonic() + grace_s
            if deadline is not None and (time.monotonic() > deadline or len(signals) > 1):
                print("Balans: Voilà did not stop in time; killed", file=sys.stderr, flush=True)
                _remember_family(proc.pid, family)
                proc.kill()
                rc = proc.wait()
                break
    finally:
        _end_family(family)
        for s, handler in before.items():
            signal.signal(s, handler)
    if signals:
        print("Balans: stopped", file=sys.stderr, flush=True)
        return 0
    return rc


def serve(
    port: int = 8866,
    open_browser: bool = True,
    ip: str = "127.0.0.1",
    pool_size: int = 2,
    case_dir: Path | None = None,
    cutoff: str | None = None,
    max_kernels: int | None = None,
    idle_timeout_min: float = 30,
    release_after_s: int = 30,
    hub: bool = False,
    kernels: str = DEFAULT_KERNELS,
) -> int:
    """Start Voilà and wait; return its exit code (0 after SIGTERM or Ctrl-C). Raises
    BalansError for bad settings. ``hub``: as a JupyterHub user's server (``balans hub-app``),
    at the address and prefix the spawner gives, behind the hub's login."""
    hub_prefix = None
    if hub:
        ip, port, hub_prefix = hub_address()
        open_browser = False
    if not 1024 <= port <= 65535:
        raise BalansError(f"--port {port}: not a usable port; allowed 1024 to 65535")
    if max_kernels is None:
        max_kernels = default_max_kernels()
    if max_kernels < 1:
        raise BalansError(f"--max-kernels {max_kernels}: allowed at least 1")
    if pool_size < 0:
        raise BalansError(f"--pool-size {pool_size}: allowed 0 or more")
    if not math.isfinite(idle_timeout_min) or idle_timeout_min < 0:
        raise BalansError(f"--idle-timeout {idle_timeout_min:g}: allowed 0 (never) or more")
    if not 5 <= release_after_s <= 3600:
        raise BalansError(f"--release-after {release_after_s}: allowed 5 to 3600 seconds")
    idle_timeout_s = round(idle_timeout_min * 60)
    if 0 < idle_timeout_s < 5:
        raise BalansError(f"--idle-timeout {idle_timeout_min:g}: allowed 0 or at least 0.1")
    if not port_is_free(ip, port):
        raise BalansError(f"--port {port}: the port is in use on {ip}; choose another with --port")
    if not APP_NOTEBOOK.is_file():
        raise BalansError(f"{APP_NOTEBOOK}: the app notebook is missing")
    config = voila_config(
        ip, port, pool_size, max_kernels, idle_timeout_s, release_after_s, hub_prefix, kernels
    )
    with tempfile.TemporaryDirectory(prefix="balans-voila-") as tmp:
        cfg = Path(tmp)
        (cfg / "voila.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
        idle = f"{idle_timeout_min:g} min" if idle_timeout_s else "never"
        print(
            f"Balans: http://{ip}:{port}{hub_prefix or '/'}  (Ctrl-C stops; at most {max_kernels} kernels, "
            f"idle pages released after {idle}; kernels {kernels})",
            file=sys.stderr,
            flush=True,
        )
        bundle = make_vega_bundle(cfg)
        proc = subprocess.Popen(
            voila_command(cfg, open_browser),
            env=voila_env(case_dir, cutoff, bundle, cfg / "fork" if kernels == "fork" else None),
            cwd=APP_NOTEBOOK.parent,
            start_new_session=True,  # Ctrl-C reaches only balans app, which stops Voilà
            preexec_fn=_die_with_parent,
        )
        return supervise(proc)
