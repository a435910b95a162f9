"""The app through JupyterHub, end to end on this machine (issue 15, item 5).

Starts ``jupyterhub`` with the repository's config (deploy/jupyterhub/jupyterhub_config.py,
the test login: a fixed password), configurable-http-proxy from build/chp (npm) and the
idle culler, all on 127.0.0.1 with their state in a temporary folder. A board member signs
in on the hub's login page in Chromium and lands on the Balans app, which shows the
baseline's headline as ``balans run`` gives it, with our Content-Security-Policy and no
request leaving 127.0.0.1. Without a login the user's server answers with the way to the
login page, never the app, and another user gets no access to it. The user's server's
memory is measured (build/hub_memory.json). Stopping the hub stops the proxy, the culler,
the user's server and its kernel.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest
from conftest import REPO

from balans.faces.serve import CSP

CHROMIUM = Path("/usr/bin/chromium")
BUILD = REPO / "build"
CHP = BUILD / "chp" / "node_modules" / ".bin" / "configurable-http-proxy"
CONFIG = REPO / "deploy" / "jupyterhub" / "jupyterhub_config.py"
JUPYTERHUB = Path(sys.executable).with_name("jupyterhub")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
USER, OTHER = "ledamot", "revisor"

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing() -> list[str]:
    """What a clean machine lacks for this test, and what installs it (`make test` does)."""
    out = []
    if not CHROMIUM.exists():
        out.append("Debian's chromium at /usr/bin/chromium (`make browser` installs it)")
    if not CHP.exists():
        out.append(f"{CHP} (`make browser` installs configurable-http-proxy from npm; needs npm)")
    if not JUPYTERHUB.exists():
        out.append(f"{JUPYTERHUB} (pip install -c constraints.txt -e '.[dev]', the hub extra)")
    return out


class Hub:
    """jupyterhub with the repository's config and the test login for ``users``."""

    def __init__(self, root: Path, users: tuple[str, ...] = (USER, OTHER)) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.password = secrets.token_urlsafe(12)
        self.log = root / "hub.log"
        env = {
            **os.environ,
            "BALANS_HUB_AUTH": "password",
            "BALANS_HUB_USERS": ",".join(users),
            "BALANS_HUB_PASSWORD": self.password,
            "BALANS_HUB_STATE": str(root / "state"),
            "BALANS_HUB_PORT": str(self.port),
            "BALANS_HUB_API_PORT": str(free_port()),
            "BALANS_HUB_PROXY_API_PORT": str(free_port()),
        }
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [str(JUPYTERHUB), "-f", str(CONFIG)],
                cwd=root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"jupyterhub exited {self.proc.returncode}:\n{self.log_text()}"
                )
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/hub/health", timeout=2) as r,
            ):
                if r.status == 200:
                    return
            time.sleep(0.3)
        raise AssertionError(f"jupyterhub did not answer in {timeout} s:\n{self.log_text()}")

    def family(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def user_servers(self) -> list[psutil.Process]:
        return [p for p in self.family() if "hub-app" in " ".join(p.cmdline())]

    def user_server(self) -> psutil.Process:
        servers = self.user_servers()
        assert len(servers) == 1, [p.cmdline() for p in self.family()]
        return servers[0]


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    lacking = missing()
    if lacking:  # never a silent skip: CI must have all of it
        pytest.fail("the JupyterHub test needs: " + "; ".join(lacking), pytrace=False)
    h = Hub(tmp_path_factory.mktemp("hub"))
    try:
        h.wait_up()
        yield h
    finally:
        if h.proc.poll() is None:
            os.killpg(h.proc.pid, signal.SIGTERM)
            try:
                h.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(h.proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser(hub):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def sign_in(browser, hub: Hub, user: str, goto: str = "/"):
    """A fresh browser (no cookies) signs in as ``user`` on the hub's login page."""
    context = browser.new_context(viewport={"width": 1500, "height": 1300})
    page = context.new_page()
    seen: dict[str, list] = {"requests": [], "responses": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("response", lambda r: seen["responses"].append(r))
    page.goto(hub.url + goto)
    assert "/hub/login" in page.url, page.url
    page.fill("#username_input", user)
    page.fill("#password_input", hub.password)
    page.click("#login_submit")
    return context, page, seen


@pytest.fixture(scope="module")
def viewer(browser, hub):
    t0 = time.monotonic()
    context, page, seen = sign_in(browser, hub, USER)
    page.wait_for_selector(".balans-headline", timeout=120_000)
    seen["seconds"] = time.monotonic() - t0
    yield page, seen
    context.close()


def get(url: str) -> tuple[int, str, str]:
    """(status, Location, body) of one request, no cookies, redirects not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=30) as r:
            return r.status, r.headers.get("Location", ""), r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Location", ""), e.read().decode(errors="replace")


def follow(url: str) -> tuple[str, str]:
    """Where a browser without cookies ends up: (final URL, body)."""
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.url, r.read().decode(errors="replace")


def test_without_a_login_the_users_address_leads_to_the_login_page(hub):
    status, location, body = get(f"{hub.url}/user/{USER}/")
    assert status == 302 and location, (status, body[:300])
    final, page = follow(f"{hub.url}/user/{USER}/")
    assert urlsplit(final).path == "/hub/login", final
    assert 'id="login_submit"' in page and "balans-headline" not in page
    assert hub.family() and not any("hub-app" in " ".join(p.cmdline()) for p in hub.family())


def test_a_board_member_signs_in_and_sees_the_baselines_headline(hub, viewer):
    page, seen = viewer
    assert urlsplit(page.url).path == f"/user/{USER}/"
    el = page.locator(".balans-headline")
    value, year = float(el.get_attribute("data-value")), int(el.get_attribute("data-year"))
    out = subprocess.run(
        [sys.executable, "-m", "balans", "run", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    baseline = next(y for y in json.loads(out.stdout)["years"] if y["year"] == year)
    assert value == baseline["forecast_net_mkr"]  # the page and the engine: one calculation
    assert el.inner_text().endswith("mkr")
    # our serving rules hold behind the hub: our policy on the app's page
    pages = [r for r in seen["responses"] if urlsplit(r.url).path == f"/user/{USER}/"]
    assert pages and pages[-1].status == 200
    assert pages[-1].headers.get("content-security-policy") == CSP
    # no request leaves 127.0.0.1 (the login page, the hub's spawn page, the app)
    outside = [
        u
        for u in seen["requests"]
        if not u.startswith(("blob:", "data:")) and urlsplit(u).hostname != "127.0.0.1"
    ]
    assert outside == []
    body = page.inner_text("body")
    assert "Traceback" not in body
    BUILD.mkdir(exist_ok=True)
    page.screenshot(path=str(BUILD / "hub_app.png"), full_page=False)
    print(f"\nsigned in to the headline in {seen['seconds']:.1f} s (spawn included)")


def test_the_running_server_answers_no_one_without_a_login(hub, viewer):
    base = f"{hub.url}/user/{USER}"
    for path in (
        "/",
        "/balans/status",
        "/api/kernels",
        "/voila/render/app.ipynb",
        "/voila/api/shutdown/x",
    ):
        status, location, body = get(base + path)
        assert status in (302, 403), (path, status, body[:200])
        assert "balans-headline" not in body and '"kernels"' not in body
        if status == 302:  # to the hub's OAuth, which sends a browser without login to log in
            assert urlsplit(location).path.startswith("/hub/"), location
    final, page = follow(base + "/")
    assert urlsplit(final).path == "/hub/login", final
    assert "balans-headline" not in page


def test_another_signed_in_user_cannot_open_this_users_app(hub, browser, viewer):
    context, page, seen = sign_in(browser, hub, OTHER, goto=f"/hub/login?next=/user/{USER}/")
    page.wait_for_load_state("networkidle")
    statuses = [(urlsplit(r.url).path, r.status) for r in seen["responses"]]
    assert any(status == 403 for _, status in statuses), statuses
    assert page.locator(".balans-headline").count() == 0
    context.close()


def test_a_users_server_holds_one_kernel_within_the_pods_memory_limit(hub, viewer):
    server = hub.user_server()
    procs = [server, *server.children(recursive=True)]
    kernels = [p for p in procs if "ipykernel_launcher" in " ".join(p.cmdline())]
    assert len(kernels) == 1  # one open page, no preheated pool (balans hub-app's default)
    mem = {p.pid: p.memory_full_info() for p in procs}
    rss = sum(m.rss for m in mem.values()) / 2**20
    uss = sum(m.uss for m in mem.values()) / 2**20
    voila = [p for p in procs if "balans.faces.serve_voila" in " ".join(p.cmdline())]
    assert len(voila) == 1

    def mb(ps, kind="rss"):
        return round(sum(getattr(mem[p.pid], kind) for p in ps) / 2**20)

    figures = {
        "server_rss_mb": round(rss),
        "server_uss_mb": round(uss),
        "supervisor_rss_mb": mb([server]),
        "voila_rss_mb": mb(voila),
        "kernel_rss_mb": mb(kernels),
        "kernel_uss_mb": mb(kernels, "uss"),
        # CPU the server spent from its start to the first page drawn (and idle since):
        # what each user's first visit costs the machine
        "cpu_s": round(sum(sum(p.cpu_times()[:2]) for p in procs), 1),
        "processes": len(procs),
        "seconds_login_to_headline": round(viewer[1]["seconds"], 1),
    }
    (BUILD / "hub_memory.json").write_text(json.dumps(figures, indent=1) + "\n")
    print("\n", figures)
    # the pod's memory limit (deploy/z2jh/config.yaml) holds this server with its cap of
    # kernels (balans hub-app --max-kernels): one page's server and two more kernels
    import yaml

    from balans.faces.cli import HUB_MAX_KERNELS

    values = yaml.safe_load((REPO / "deploy" / "z2jh" / "config.yaml").read_text())
    limit_mb = float(values["singleuser"]["memory"]["limit"].rstrip("G")) * 1000
    assert rss + (HUB_MAX_KERNELS - 1) * figures["kernel_rss_mb"] <= limit_mb, figures


def test_leaving_the_page_ends_its_kernel_at_once_behind_the_hub(hub, viewer):
    """The page's close beacon (POST .../voila/api/shutdown/KERNEL with the _xsrf cookie)
    passes the hub's login too: the kernel goes at once, not after the no-page release."""
    page, _ = viewer
    server = hub.user_server()

    def kernels() -> int:
        n = 0
        for p in server.children(recursive=True):
            with contextlib.suppress(psutil.Error):  # gone, or a zombie not yet reaped
                if p.status() != psutil.STATUS_ZOMBIE and "ipykernel_launcher" in " ".join(
                    p.cmdline()
                ):
                    n += 1
        return n

    assert kernels() == 1
    page.goto("about:blank")
    deadline = time.monotonic() + 45  # a busy machine; which rule ended it: the log says
    while kernels() and time.monotonic() < deadline:
        time.sleep(0.5)
    log = hub.log_text()
    assert kernels() == 0, [line for line in log.splitlines() if "ernel" in line][-10:]
    assert "Kernel shutdown" in log
    assert "released: no page" not in log  # not the fallback for a page that never said bye


def test_the_hub_stops_cleanly_with_every_process_it_started(hub, viewer):
    family = hub.family()

    def cmdline(p: psutil.Process) -> str:
        with contextlib.suppress(psutil.Error):  # gone, or a zombie not yet reaped
            return " ".join(p.cmdline())
        return ""

    names = " ".join(cmdline(p) for p in family)
    assert "configurable-http-proxy" in names and "hub-app" in names and "idle_culler" in names
    t0 = time.monotonic()
    hub.proc.send_signal(signal.SIGTERM)  # to the hub alone (systemd KillMode=mixed, a pod)
    rc = hub.proc.wait(timeout=30)
    _, alive = psutil.wait_procs(family, timeout=5)
    took = time.monotonic() - t0
    assert alive == [], [p.cmdline() for p in alive]
    assert rc == 0, hub.log_text()[-2000:]
    assert took < 20
    with socket.socket() as s:  # the public port is free again
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", hub.port))
    assert "Traceback" not in hub.log_text()
    print(f"\nhub stopped in {took:.1f} s, {len(family)} processes ended")
