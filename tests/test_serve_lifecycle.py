"""``balans app`` as a server: it stops, its kernels end with their pages, it has a cap.

Each test starts the real ``balans app`` on a free port in a subprocess (as an operator or
systemd would) and counts its kernels as processes (``ipykernel`` descendants of it, found
with psutil), since Voilà does not list its kernels over HTTP:

- SIGTERM (what systemd and container runtimes send) and SIGINT (Ctrl-C), sent to
  ``balans app`` alone, stop the web server and every kernel within 10 s, with no traceback;
- with ``--max-kernels 2`` a third visitor gets the Swedish 503 page and the server stays
  up within the cap;
- a closed page's kernel, and that of a request that never opened the websocket, are gone
  within 60 s; an idle open page shows the Swedish notice with a link back to its setting.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
FULL_TEXT = "Appen är full just nu – försök igen om en minut"

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# BALANS_TEST_KERNELS=fork|spawn runs these tests with that --kernels (default: the app's)
KERNELS = os.environ.get("BALANS_TEST_KERNELS", "")


class Server:
    """``balans app`` in a subprocess, its console (stdout and stderr) kept in a file."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = tmp_path / f"console-{self.port}.txt"
        self._out = self.log.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "balans",
                "app",
                "--port",
                str(self.port),
                "--no-browser",
                *(["--kernels", KERNELS] if KERNELS else []),
                *list(args),
            ],
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"balans app exited: {self.console()}")
            try:
                self.status()
                return
            except OSError:
                time.sleep(0.3)
        self.kill()
        raise RuntimeError("balans app did not answer in 90 s")

    def status(self) -> dict:
        """The server's own count (a request that starts no kernel)."""
        with urllib.request.urlopen(self.url + "balans/status", timeout=5) as resp:
            return json.load(resp)

    def kernels(self) -> dict[str, psutil.Process]:
        """The kernels as processes: kernel id -> process (from its connection file)."""
        found = {}
        for p in psutil.Process(self.proc.pid).children(recursive=True):
            try:
                cmd = p.cmdline()
            except psutil.Error:
                continue
            if any("ipykernel" in c for c in cmd):
                conn = next((c for c in cmd if c.endswith(".json")), "")
                found[Path(conn).stem.removeprefix("kernel-")] = p
        return found

    def wait_kernels(self, n: int, timeout: float = 90) -> dict[str, psutil.Process]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            k = self.kernels()
            if len(k) >= n:
                return k
            time.sleep(0.3)
        raise AssertionError(f"{n} kernels did not start in {timeout} s: {self.kernels()}")

    def console(self) -> str:
        self._out.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            procs = [psutil.Process(self.proc.pid), *self.kernels().values()]
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    p.kill()
            self.proc.wait(10)
        self._out.close()


def get(url: str, timeout: float = 120) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8")


def page_kernel(page_html: str) -> str:
    """The kernel id a page was given (Voilà's ``#jupyter-config-data``)."""
    config = page_html.split('id="jupyter-config-data" type="application/json">')[1]
    return json.loads(config.split("</script>")[0])["kernelId"]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_server_and_every_kernel(tmp_path, sig, request):
    server = Server(tmp_path, "--pool-size", "1")
    page = None
    try:
        server.wait_kernels(1)  # the preheated pool
        # a visitor takes it; the pool's refill waits 15 s (the stop must not start it)
        if sig == signal.SIGTERM and CHROMIUM.exists():  # a viewer in a browser
            page, _ = open_page(request.getfixturevalue("browser"), server.url)
        else:  # a visitor like curl
            status, body = get(server.url)
            assert status == 200 and "kernelId" in body
        kernels = server.kernels()
        assert kernels, "no kernel to stop"
        started = time.monotonic()
        server.proc.send_signal(sig)  # to balans app alone, as systemd's main-PID mode
        rc = server.proc.wait(timeout=15)
        took = time.monotonic() - started
        deadline = started + 10
        while time.monotonic() < deadline and any(p.is_running() for p in kernels.values()):
            time.sleep(0.1)
        left = [k for k, p in kernels.items() if p.is_running() and p.status() != "zombie"]
        console = server.console()
        print(f"{sig.name}: balans app stopped in {took:.1f} s")
        assert took < 10, console
        assert rc == 0, console
        assert not left, f"kernels still running after {sig.name}: {left}"
        assert not port_open(server.port), "the web server still holds the port"
        assert "Traceback" not in console, console
        if page is not None:  # the viewer is told, in Swedish, and offered a reload
            notice = page.locator("#balans-session-notice")
            notice.wait_for(state="visible", timeout=10_000)
            assert notice.get_attribute("data-kind") in ("stopped", "lost")
            assert "Servern har stängts av" in notice.inner_text() or "bröts" in notice.inner_text()
            assert notice.locator("a").inner_text() == "Ladda om med samma inställning"
    finally:
        if page is not None:
            page.close()
        server.kill()


def test_the_cap_and_the_settings():
    from balans.faces.serve import default_max_kernels, voila_config

    gb = 2**30
    # 450 MB a kernel: a viewer who has used every tab and the downloads (429 MB measured)
    assert default_max_kernels(24 * gb) == (24 * 1024 - 2048) // 450 == 50
    assert default_max_kernels(16 * gb) == 31  # about 60 page loads filled 16 GB before
    assert default_max_kernels(2 * gb) == 2  # at least 2
    cfg = voila_config(pool_size=5, max_kernels=3, idle_timeout_s=1800, release_after_s=30)
    assert cfg["VoilaConfiguration"]["default_pool_size"] == 3  # the pool within the cap
    km = cfg["BalansMappingKernelManager"]
    assert (km["max_kernels"], km["idle_timeout"], km["release_after"]) == (3, 1800, 30)
    assert cfg["MappingKernelManager"]["cull_interval"] == 10


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--max-kernels", "0", "--max-kernels 0: allowed at least 1"),
        ("--release-after", "1", "--release-after 1: allowed 5 to 3600 seconds"),
        ("--idle-timeout", "-1", "--idle-timeout -1: allowed 0 (never) or more"),
    ],
)
def test_bad_serving_flags_are_named(flag, value, message):
    import contextlib
    import io

    from balans.faces.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["app", "--no-browser", "--port", str(free_port()), flag, value]) == 2
    assert message in err.getvalue()


def test_a_visitor_over_the_cap_gets_the_full_page(tmp_path):
    server = Server(tmp_path, "--max-kernels", "2", "--pool-size", "2")
    try:
        server.wait_kernels(2)
        results: list[tuple[int, str]] = []

        def visit() -> None:
            results.append(get(server.url))

        visitors = [threading.Thread(target=visit) for _ in range(3)]
        for v in visitors:
            v.start()
        for v in visitors:
            v.join(180)
        codes = sorted(code for code, _ in results)
        assert codes == [200, 200, 503], codes
        full = next(body for code, body in results if code == 503)
        assert FULL_TEXT in full
        assert 'href="/"' in full  # the way back: the same address
        # the server stays healthy, within the cap
        assert server.status()["ok"]
        time.sleep(3)
        assert len(server.kernels()) <= 2, server.kernels()
        assert server.status()["max_kernels"] == 2
        assert server.proc.poll() is None
        assert "Traceback" not in server.console()
    finally:
        server.kill()


@pytest.fixture(scope="module")
def short_server(tmp_path_factory):
    """Kernels released 5 s after their page goes; idle pages after 9 s."""
    server = Server(
        tmp_path_factory.mktemp("serve"),
        "--pool-size",
        "1",
        "--release-after",
        "5",
        "--idle-timeout",
        "0.15",
    )
    server.wait_kernels(1)
    yield server
    server.proc.send_signal(signal.SIGTERM)
    server.proc.wait(15)
    server.kill()


def wait_gone(server: Server, kernel_id: str, limit: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if kernel_id not in server.kernels():
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"kernel {kernel_id} still running {limit} s after its page went")


def test_a_request_without_a_websocket_holds_no_kernel(short_server):
    status, page = get(short_server.url)  # like curl: the page, never its websocket
    assert status == 200
    kernel_id = page_kernel(page)
    assert kernel_id in short_server.kernels()
    took = wait_gone(short_server, kernel_id)
    print(f"kernel of a request without websocket gone after {took:.1f} s")


def test_a_page_still_loading_keeps_its_kernel_and_a_curl_does_not(short_server, browser):
    """A slow device (here: Voilà's scripts never arrive, so the page never opens its
    websocket) says every 10 s that its page is still loading, and keeps its kernel well past
    the 10 s a page that never connected is given; once it is gone, the kernel goes."""
    page = browser.new_page()
    pings: list[str] = []
    page.on(
        "response",
        lambda r: pings.append(f"{r.status} {r.url}") if "/balans/loading/" in r.url else None,
    )
    page.route("**/voila/static/voila.js", lambda route: route.abort())
    page.goto(short_server.url)
    config = page.locator("#jupyter-config-data").first.text_content()
    kernel_id = json.loads(config)["kernelId"]
    page.wait_for_timeout(25_000)  # twice --release-after 5 and the culler's rounds, well past
    assert kernel_id in short_server.kernels(), "a page still loading lost its kernel"
    assert len(pings) >= 2 and all(u.startswith("204 ") and kernel_id in u for u in pings), pings
    page.close()
    took = wait_gone(short_server, kernel_id)
    print(f"a loading page kept its kernel 25 s; gone {took:.1f} s after the page closed")
    # the server answers whether it still keeps a kernel for a loading page
    status, _ = get(short_server.url + f"balans/loading/{kernel_id}")
    assert status == 410  # gone: the page stops asking
    status, page_html = get(short_server.url)  # a curl: a page, no script ever runs
    curl_kernel = page_kernel(page_html)
    status, _ = get(short_server.url + f"balans/loading/{curl_kernel}")
    assert status == 204  # not connected yet: kept while it says it loads
    wait_gone(short_server, curl_kernel)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def open_page(browser, url: str):
    page = browser.new_page(accept_downloads=True)
    page.goto(url)
    page.wait_for_selector(".balans-headline", timeout=90_000)
    config = page.locator("#jupyter-config-data").first.text_content()
    return page, json.loads(config)["kernelId"]


def test_a_closed_page_releases_its_kernel(short_server, browser):
    page, kernel_id = open_page(browser, short_server.url)
    assert kernel_id in short_server.kernels()
    # a download is no unload: the page's close beacon must not end its kernel
    with page.expect_download():
        page.evaluate("document.querySelector('.balans-downloads a[download]').click()")
    time.sleep(2)
    assert kernel_id in short_server.kernels(), "a download ended the page's kernel"
    page.close()  # without beforeunload: no beacon, the server must notice by itself
    took = wait_gone(short_server, kernel_id)
    print(f"closed page's kernel gone after {took:.1f} s")


def test_an_idle_page_gets_a_notice_and_a_way_back(short_server, browser):
    page, kernel_id = open_page(browser, short_server.url + "?agency_pct=-40")
    notice = page.locator("#balans-session-notice")
    notice.wait_for(state="visible", timeout=60_000)
    assert notice.get_attribute("data-kind") == "idle"
    text = notice.inner_text()
    assert "har inte använts" in text and "Öppna samma inställning igen" in text
    href = notice.locator("a").get_attribute("href")
    assert "agency_pct=-40" in href  # the share link: the same setting
    wait_gone(short_server, kernel_id, limit=10)
    notice.locator("a").click()  # one click back
    page.wait_for_selector(".balans-headline", timeout=90_000)
    assert "agency_pct=-40" in page.url
    page.close()


def test_kernels_draw_the_charts_without_vl_convert(short_server, browser):
    """The charts' Vega bundle is made once by ``balans app`` and served as one file: a
    kernel never starts vl-convert's JavaScript engine (1 s and 125 MB each), and a page
    fetches the bundle once for all its charts instead of once per chart in their state."""
    page = browser.new_page(viewport={"width": 1500, "height": 1300})
    bundles = []
    page.on(
        "request", lambda r: bundles.append(r.url) if "/balans/jupyterchart-" in r.url else None
    )
    page.goto(short_server.url)
    page.wait_for_function(
        "document.querySelectorAll('.vega-embed svg').length >= 3", timeout=90_000
    )
    config = json.loads(page.locator("#jupyter-config-data").first.text_content())
    kernel = short_server.kernels()[config["kernelId"]]
    maps = Path(f"/proc/{kernel.pid}/maps").read_text()
    assert "vl_convert" not in maps, "the kernel loaded vl-convert"
    assert kernel.environ().get("BALANS_VEGA_BUNDLE")  # balans app made the bundle
    assert len(bundles) == 1, bundles  # one fetch for three charts
    marks = page.locator(".vega-embed svg .mark-rect path, .vega-embed svg .mark-line path")
    assert marks.count() > 0  # the charts are drawn, not just their frames
    page.close()
