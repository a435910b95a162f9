"""The app in a real browser: first slider, redraw latency, a meeting's visitors, memory.

One command (``make bench`` runs it; ``--quick`` for a two-minute look):

    .venv/bin/python benchmarks/bench_app.py [--quick] [--storm] [--meeting 20,40]

Every figure comes from the real ``balans app`` in a subprocess and Debian's Chromium
driven by Playwright: one browser, one context (its own cookies and cache, like a separate
board member's machine) per visitor, all pages opened at the same moment. Prints one JSON line:

  first_slider_cold_s / _preheated_s  page load to the first slider, pool 0 / pool 2
  redraw_headline_ms / redraw_chart_ms  arrow key on a slider -> headline changed / the
                                   bridge chart's SVG redrawn (median, p95)
  meeting[N]                       N visitors at once, the server started with --pool-size N
                                   and its pool ready: seconds until each sees the headline
                                   (all = the last one, median), how many show the right
                                   figure; kernel memory per idle viewer (USS: the kernel's
                                   own pages, and RSS), and the kernels left 60 s after the
                                   pages closed (the pool's refill not counted)
  light_N_MODE (--light N)         N visitors at once without a browser, each fetching the page
                                   and talking to its kernel over Voilà's websocket as the
                                   page does, until the headline's widget state arrives: the
                                   server's share of a meeting (each member's own device
                                   draws); CPU of the server and its kernels, of the clients
  busy_viewer_MODE (--busy)        one viewer who opens every tab, the analysis drawn and the
                                   downloads prepared (Excel, the board paper, the charts):
                                   the kernel's memory (USS, RSS) idle, then after each step,
                                   against the 300 MB a kernel the cap's default allows
  storm (--storm)                  200 page loads in 2 minutes against --max-kernels M: the
                                   peak of the server's memory (Voilà and every kernel, RSS
                                   and USS) and of its kernels, against M x a kernel's memory
  load_avg                         os.getloadavg() before and after (the machine may be shared)
No figure is asserted: they go in the README's benchmark table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psutil

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LABEL = "Personalneddragning (% av egen personal)"
MB = 2**20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """``balans app`` in a subprocess, as an operator starts it."""

    def __init__(self, *flags: str, pool: int = 2) -> None:
        self.port = free_port()
        self.pool = pool
        self.log = Path(f"/tmp/balans-bench-app-{self.port}.log")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "balans",
                "app",
                "--port",
                str(self.port),
                "--no-browser",
                "--pool-size",
                str(pool),
                *flags,
            ],
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.port}/"
        started = time.monotonic()
        self.pool_ready_s: float | None = None  # from the start until the pool waits for visitors
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                self.status()
                break
            except OSError:
                time.sleep(0.2)
        if pool > 0:
            self.wait_pool_ready()
            self.pool_ready_s = round(time.monotonic() - started, 1)

    def status(self) -> dict:
        with urllib.request.urlopen(self.url + "balans/status", timeout=5) as r:
            return json.load(r)

    def wait_pool_ready(self, timeout: float = 600) -> None:
        """Until the pool's kernels have started and run the notebook up to the point where
        they wait for a viewer (the server's ``pool_ready``; then their CPU falls quiet), as
        a server is before a meeting."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:  # Voilà may be too busy starting 20 kernels to answer within 5 s
                if self.status().get("pool_ready", 0) >= self.pool:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        self.wait_quiet(deadline)

    def wait_quiet(self, deadline: float) -> None:
        procs = self.processes()
        for p in procs:
            p.cpu_percent(None)
        while time.monotonic() < deadline:
            time.sleep(1.0)
            busy = 0.0
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    busy += p.cpu_percent(None)
            if busy < 10:
                return
            procs = self.processes()

    def processes(self) -> list[psutil.Process]:
        try:
            top = psutil.Process(self.proc.pid)
            return [top, *top.children(recursive=True)]
        except psutil.Error:
            return []

    def kernels(self) -> dict[str, psutil.Process]:
        """Kernel id -> its process (from the connection file in its command line)."""
        out = {}
        for p in self.processes():
            try:
                cmd = p.cmdline()
            except psutil.Error:
                continue
            if any("ipykernel" in c for c in cmd):
                conn = next((c for c in cmd if c.endswith(".json")), "")
                out[Path(conn).stem.removeprefix("kernel-")] = p
        return out

    def memory_mb(self) -> tuple[float, float]:
        """RSS and USS of Voilà and every kernel, summed."""
        rss = uss = 0.0
        for p in self.processes():
            try:
                m = p.memory_full_info()
            except psutil.Error:
                continue
            rss, uss = rss + m.rss / MB, uss + m.uss / MB
        return rss, uss

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def browser_processes() -> list[psutil.Process]:
    """Chromium's processes (this benchmark's children that are not a server)."""
    me = psutil.Process()
    out = []
    for p in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "chrom" in p.name().lower():
                out.append(p)
    return out


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] if xs else float("nan")


def summary(xs: list[float], digits: int = 1) -> dict:
    if not xs:
        return {"n": 0}
    return {
        "median": round(statistics.median(xs), digits),
        "p95": round(pct(xs, 0.95), digits),
        "max": round(max(xs), digits),
        "n": len(xs),
    }


async def first_slider_s(browser, url: str) -> float:
    ctx = await browser.new_context()
    page = await ctx.new_page()
    t0 = time.perf_counter()
    await page.goto(url)
    await page.wait_for_selector(".widget-slider .noUi-handle", timeout=120_000)
    t = time.perf_counter() - t0
    await ctx.close()
    return t


INSTRUMENT = """
() => {
  window.__marks = [];
  const head = document.querySelector('.balans-headline').closest('.widget-html');
  const bridge = document.querySelectorAll('.vega-embed')[1];
  const mark = (k) => () => window.__marks.push([k, performance.now()]);
  new MutationObserver(mark('headline')).observe(head, {subtree: true, childList: true, characterData: true, attributes: true});
  new MutationObserver(mark('chart')).observe(bridge, {subtree: true, childList: true});
  document.addEventListener('keydown', mark('key'), true);
}
"""


def handle(page):
    box = page.locator(".widget-slider", has=page.locator(".widget-label", has_text=LABEL))
    return box.locator(".noUi-handle").first


async def redraw_latencies(browser, url: str, moves: int) -> tuple[list[float], list[float]]:
    ctx = await browser.new_context(viewport={"width": 1500, "height": 1300})
    page = await ctx.new_page()
    await page.goto(url)
    await page.wait_for_function(
        "document.querySelectorAll('.vega-embed svg').length >= 2", timeout=120_000
    )
    await page.evaluate(INSTRUMENT)
    h = handle(page)
    await h.focus()
    heads, charts = [], []
    for i in range(moves):
        key = "ArrowRight" if (i // 20) % 2 == 0 else "ArrowLeft"
        before = await page.locator(".balans-headline").get_attribute("data-value")
        await page.evaluate("window.__marks = []")
        await h.press(key)
        await page.wait_for_function(
            "b => document.querySelector('.balans-headline').getAttribute('data-value') !== b",
            arg=before,
            timeout=30_000,
        )
        await page.wait_for_timeout(150)  # let the chart finish painting
        marks = await page.evaluate("window.__marks")
        t0 = next(t for k, t in marks if k == "key")
        th = [t for k, t in marks if k == "headline" and t > t0]
        tc = [t for k, t in marks if k == "chart" and t > t0]
        if th:
            heads.append(th[0] - t0)
        if tc:
            charts.append(tc[-1] - t0)
    await ctx.close()
    return heads, charts


def expected_headline() -> float:
    """The figure a first visitor's headline shows: the baseline's forecast for the shown
    year (the engine's own, not the app's)."""
    from balans.faces.app import BalansApp

    app = BalansApp()
    return float(app.cards.value.split('data-value="')[1].split('"')[0])


async def visit(browser, url: str, t0: float, timeout_s: float) -> dict:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await ctx.new_page()
    out: dict = {"ctx": ctx, "page": page}
    try:
        await page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        await page.wait_for_selector(".balans-headline", timeout=timeout_s * 1000)
        out["headline_s"] = time.perf_counter() - t0
        out["value"] = float(await page.locator(".balans-headline").get_attribute("data-value"))
        cfg = await page.locator("#jupyter-config-data").first.text_content()
        out["kernel"] = json.loads(cfg)["kernelId"]
        await page.wait_for_function(
            "document.querySelectorAll('.vega-embed svg').length >= 2", timeout=60_000
        )
        out["charts_s"] = time.perf_counter() - t0
    except Exception as exc:  # a visitor who sees nothing counts as failed
        out["error"] = str(exc).splitlines()[0]
    return out


STATIC = ("/voila/static/", "/voila/labextensions/", "/voila/templates/", "/balans/jupyterchart-")


async def static_urls(url: str) -> list[str]:
    """Every script, style sheet and font a first visit in Chromium fetches (Voilà's page
    loads about a hundred of them, most by script), for the light visitors to fetch too."""
    from playwright.async_api import async_playwright

    seen: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page()
        page.on("request", lambda r: seen.append(r.url))
        await page.goto(url)
        await page.wait_for_selector(".balans-headline", timeout=120_000)
        await page.wait_for_function("document.querySelectorAll('.vega-embed svg').length >= 2")
        await browser.close()
    return sorted({u for u in seen if any(k in u for k in STATIC)})


def light_visit(url: str, t0: float, timeout_s: float, statics: list[str] | None = None) -> dict:
    """One visitor without a browser: what a page asks of the server, up to its headline.
    GET the page (Voilà renders it with a preheated kernel; the kernel id is in
    ``#jupyter-config-data``), open the kernel's websocket (``api/kernels/ID/channels``, the
    JSON protocol), ask for the kernel's info and, as the page's widget manager does, open
    the ``jupyter.widget.control`` comm and send ``request_states``; done when the
    ``update_states`` answer arrives holding the headline's widget. The page's scripts,
    styles and the charts' bundle are fetched too (``statics``: every static file a browser
    fetched on its first visit; else the page's own script and style links), not drawn."""
    import re
    import uuid
    from http.cookiejar import CookieJar

    import websocket

    out: dict = {}
    try:
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(url, timeout=timeout_s) as r:
            page = r.read().decode()
        out["page_s"] = time.perf_counter() - t0
        cfg = page.split('id="jupyter-config-data" type="application/json">')[1]
        kernel = json.loads(cfg.split("</script>")[0])["kernelId"]
        out["kernel"] = kernel
        if statics is None:
            srcs = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page)[:20]
            statics = [urllib.parse.urljoin(url, src) for src in srcs]
        for full in statics:
            if full.startswith(url):
                with contextlib.suppress(OSError), opener.open(full, timeout=timeout_s) as r:
                    r.read()
        out["statics"] = len(statics)
        cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
        ws = websocket.create_connection(
            url.replace("http", "ws", 1)
            + f"api/kernels/{kernel}/channels?session_id={uuid.uuid4().hex}",
            timeout=timeout_s,
            header=[f"Cookie: {cookies}"] if cookies else [],
        )
        session = uuid.uuid4().hex

        def send(channel: str, msg_type: str, content: dict, metadata: dict | None = None) -> None:
            ws.send(
                json.dumps(
                    {
                        "header": {
                            "msg_id": uuid.uuid4().hex,
                            "msg_type": msg_type,
                            "session": session,
                            "username": "bench",
                            "version": "5.3",
                            "date": "",
                        },
                        "parent_header": {},
                        "metadata": metadata or {},
                        "content": content,
                        "channel": channel,
                        "buffers": [],
                    }
                )
            )

        send("shell", "kernel_info_request", {})
        comm = uuid.uuid4().hex
        send(
            "shell",
            "comm_open",
            {"comm_id": comm, "target_name": "jupyter.widget.control", "data": {}},
            {"version": "1.0.0"},
        )
        send("shell", "comm_msg", {"comm_id": comm, "data": {"method": "request_states"}})
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv())
            c = msg.get("content", {})
            if msg.get("msg_type") == "comm_msg" and c.get("comm_id") == comm:
                data = c.get("data", {})
                if data.get("method") == "update_states":
                    text = json.dumps(data.get("states", {}))
                    if "balans-headline" in text:
                        out["headline_s"] = time.perf_counter() - t0
                        m = re.search(r'balans-headline[^>]*data-value=\\"([-0-9.e]+)', text)
                        if m is None:
                            m = re.search(r'data-value=\\"([-0-9.e]+)\\"[^>]*balans-headline', text)
                        out["value"] = float(m.group(1)) if m else None
                        out["state_kb"] = round(len(text) / 1024)
                    break
        out["ws"] = ws
        if "headline_s" not in out:
            out["error"] = "no headline in the widget state"
    except Exception as exc:  # a visitor who sees nothing counts as failed
        out["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return out


async def light_meeting(n: int, want: float, timeout_s: float, flags: tuple[str, ...]) -> dict:
    """n light visitors at once (:func:`light_visit`, one thread each) against a server whose
    pool holds n kernels: the server's capacity, the browsers' drawing left out. One page in
    Chromium first (with a kernel of its own, the pool one larger) records the static files
    a first visit fetches; each light visitor fetches them all."""
    app = App(*flags, pool=n + 1)
    try:
        statics = await static_urls(app.url)
        await asyncio.sleep(2)
        app.wait_quiet(time.monotonic() + 60)
        before = app.status()
        load = [round(x, 2) for x in os.getloadavg()]
        me = psutil.Process()
        cpu0 = cpu_seconds(app.processes()), cpu_seconds([me])
        t0 = time.perf_counter()
        visits = await asyncio.gather(
            *(asyncio.to_thread(light_visit, app.url, t0, timeout_s, statics) for _ in range(n))
        )
        took = time.perf_counter() - t0
        cpu1 = cpu_seconds(app.processes()), cpu_seconds([me])
        heads = [v["headline_s"] for v in visits if "headline_s" in v]
        res = {
            "visitors": n,
            "kernels": flags[1] if flags[:1] == ("--kernels",) else "default",
            "load_avg_at_start": load,
            "status_before": before,
            "pool_ready_after_start_s": app.pool_ready_s,
            "headline_all_s": round(max(heads), 1) if len(heads) == n else None,
            "headline_s": summary(heads, 2),
            "page_s": summary([v["page_s"] for v in visits if "page_s" in v], 2),
            "seen": len(heads),
            "right_figure": sum(1 for v in visits if v.get("value") == want),
            "state_kb": summary([v["state_kb"] for v in visits if "state_kb" in v], 0),
            "static_files_per_visitor": len(statics),
            "errors": sorted({v["error"] for v in visits if "error" in v})[:3],
            "cpu_s_server_and_kernels": round(cpu1[0] - cpu0[0], 1),
            "cpu_s_clients": round(cpu1[1] - cpu0[1], 1),
            "took_s": round(took, 1),
            "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
        }
        await asyncio.sleep(5)
        kernels = app.kernels()
        mem = []
        for v in visits:
            p = kernels.get(v.get("kernel", ""))
            if p is not None:
                with contextlib.suppress(psutil.Error):
                    mem.append(p.memory_full_info())
        res["idle_viewer_uss_mb"] = summary([m.uss / MB for m in mem], 0)
        res["idle_viewer_pss_mb"] = summary([m.pss / MB for m in mem], 0)
        res["idle_viewer_rss_mb"] = summary([m.rss / MB for m in mem], 0)
        for v in visits:
            with contextlib.suppress(Exception):
                v["ws"].close()
        return res
    finally:
        app.stop()


async def meeting(
    browser, n: int, want: float, timeout_s: float, release_wait_s: float, flags=()
) -> dict:
    """n first visits at the same moment, against a server whose pool holds n kernels."""
    app = App(*flags, pool=n)
    try:
        before = app.status()
        cpu0 = cpu_seconds(app.processes()), cpu_seconds(browser_processes())
        t0 = time.perf_counter()
        visits = await asyncio.gather(*(visit(browser, app.url, t0, timeout_s) for _ in range(n)))
        cpu1 = cpu_seconds(app.processes()), cpu_seconds(browser_processes())
        heads = [v["headline_s"] for v in visits if "headline_s" in v]
        res = {
            "pool_size": n,
            "status_before": before,
            "pool_ready_after_start_s": app.pool_ready_s,
            "headline_all_s": round(max(heads), 1) if len(heads) == n else None,
            "headline_s": summary(heads),
            "charts_s": summary([v["charts_s"] for v in visits if "charts_s" in v]),
            "seen": len(heads),
            "right_figure": sum(1 for v in visits if v.get("value") == want),
            "errors": sorted({v["error"] for v in visits if "error" in v})[:3],
            # where the cores went while the visitors waited: this machine runs the server
            # and every visitor's browser (at a meeting each member's own computer draws)
            "cpu_s_server_and_kernels": round(cpu1[0] - cpu0[0], 1),
            "cpu_s_browsers": round(cpu1[1] - cpu0[1], 1),
        }
        await asyncio.sleep(10)  # idle viewers: the page drawn, nothing moving
        kernels = app.kernels()
        mem = []
        for v in visits:
            p = kernels.get(v.get("kernel", ""))
            if p is not None:
                with contextlib.suppress(psutil.Error):
                    mem.append(p.memory_full_info())
        res["idle_viewer_uss_mb"] = summary([m.uss / MB for m in mem], 0)
        res["idle_viewer_rss_mb"] = summary([m.rss / MB for m in mem], 0)
        res["server_rss_uss_mb"] = [round(x) for x in app.memory_mb()]
        viewer_kernels = {v["kernel"] for v in visits if "kernel" in v}
        for v in visits:  # closed without their unload beacon: the server must notice
            await v["ctx"].close()
        if release_wait_s > 0:
            await asyncio.sleep(release_wait_s)
            left = viewer_kernels & set(app.kernels())
            res[f"kernels_left_{int(release_wait_s)}s_after_close"] = len(left)
        res["status_after"] = app.status()
        return res
    finally:
        app.stop()


TAB_ANALYSIS, TAB_SHARE = "Osäkerhet och mål", "Dela och spara"


async def busy_viewer(browser, flags=()) -> dict:
    """One viewer who uses everything: the kernel's memory after each step."""
    app = App(*flags, pool=1)
    try:
        ctx = await browser.new_context(viewport={"width": 1500, "height": 1300})
        page = await ctx.new_page()
        await page.goto(app.url)
        await page.wait_for_selector(".balans-headline", timeout=120_000)
        kernel_id = await page.evaluate(
            "JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId"
        )
        proc = app.kernels()[kernel_id]

        def mem() -> dict:
            m = proc.memory_full_info()
            return {"uss_mb": round(m.uss / MB), "rss_mb": round(m.rss / MB)}

        await asyncio.sleep(3)
        out = {"idle": mem()}
        tabs = page.locator(".balans-tabs .lm-TabBar-tab")
        for i in range(await tabs.count()):
            name = (await tabs.nth(i).inner_text()).strip()
            await tabs.nth(i).click()
            if name == TAB_ANALYSIS:
                await page.wait_for_selector("text=sannolikheten att nå balans", timeout=120_000)
            if name == TAB_SHARE:
                await page.get_by_role(
                    "button", name="Förbered diagram och tabeller för nedladdning"
                ).click()
                await page.wait_for_selector("a[download$='.xlsx']", timeout=120_000)
            await asyncio.sleep(2)
            out[f"after_tab_{i + 1}"] = mem()
        out["peak_rss_mb"] = max(v["rss_mb"] for v in out.values() if isinstance(v, dict))
        out["cap_allows_mb"] = 300
        await ctx.close()
        return out
    finally:
        app.stop()


async def storm(browser, loads: int, seconds: float, max_kernels: int, tabs: int) -> dict:
    """``loads`` page loads spread over ``seconds`` from ``tabs`` tabs, each load navigating
    away from the one before (a reload), while the server's memory is sampled."""
    app = App("--max-kernels", str(max_kernels), pool=2)
    peak = {"rss_mb": 0.0, "uss_mb": 0.0, "kernels": 0}
    codes: dict[str, int] = {}
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            rss, uss = await asyncio.to_thread(app.memory_mb)
            k = len(app.kernels())
            peak["rss_mb"], peak["uss_mb"] = max(peak["rss_mb"], rss), max(peak["uss_mb"], uss)
            peak["kernels"] = max(peak["kernels"], k)
            await asyncio.sleep(0.5)

    async def tab(i: int) -> None:
        ctx = await browser.new_context()
        page = await ctx.new_page()
        every = seconds * tabs / loads
        for _j in range(i, loads, tabs):
            start = time.perf_counter()
            try:
                resp = await page.goto(app.url, wait_until="commit", timeout=60_000)
                code = str(resp.status if resp else "none")
            except Exception:
                code = "error"
            codes[code] = codes.get(code, 0) + 1
            await asyncio.sleep(max(0.0, every - (time.perf_counter() - start)))
        await ctx.close()

    try:
        base_rss, _base_uss = app.memory_mb()
        sampler = asyncio.create_task(sample())
        t0 = time.perf_counter()
        await asyncio.gather(*(tab(i) for i in range(tabs)))
        took = time.perf_counter() - t0
        await asyncio.sleep(5)
        done.set()
        await sampler
        per_kernel = [p.memory_full_info() for p in app.kernels().values()]
        rss_k = statistics.median(m.rss for m in per_kernel) / MB if per_kernel else 0
        return {
            "loads": loads,
            "took_s": round(took, 1),
            "max_kernels": max_kernels,
            "responses": codes,
            "peak_kernels": peak["kernels"],
            "peak_server_rss_mb": round(peak["rss_mb"]),
            "peak_server_uss_mb": round(peak["uss_mb"]),
            "server_at_start_rss_mb": round(base_rss),
            "cap_worth_mb": round(max_kernels * 300),  # balans.faces.serve.KERNEL_MB per kernel
            "kernel_rss_mb_measured": round(rss_k),
        }
    finally:
        app.stop()


async def main_async(args) -> dict:
    from playwright.async_api import async_playwright

    out: dict = {"load_avg_before": [round(x, 2) for x in os.getloadavg()]}
    out["cpus"] = os.cpu_count()
    out["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    want = expected_headline()
    modes = [("--kernels", k) if k else () for k in args.kernels]
    for n in args.light:  # old and new kernels back to back, for each count
        for flags in modes:
            key = f"light_{n}_{flags[1] if flags else 'default'}"
            out[key] = await light_meeting(n, want, args.visit_timeout, flags)
            print(json.dumps({key: out[key]}), file=sys.stderr)
    if args.only_light:
        out["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
        return out
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        if not (args.only_storm or args.no_single):
            app = App(pool=0)
            try:
                out["first_slider_cold_s"] = round(await first_slider_s(browser, app.url), 2)
            finally:
                app.stop()
            app = App(pool=2)
            try:
                out["first_slider_preheated_s"] = round(await first_slider_s(browser, app.url), 2)
                heads, charts = await redraw_latencies(browser, app.url, args.moves)
                out["redraw_headline_ms"] = summary(heads)
                out["redraw_chart_ms"] = summary(charts)
            finally:
                app.stop()
        if not args.only_storm:
            for n in args.meeting:
                for flags in modes:
                    wait = args.release_wait if n == args.meeting[0] else 0  # once is enough
                    key = f"meeting_{n}" + (f"_{flags[1]}" if flags else "")
                    out[key] = await meeting(browser, n, want, args.visit_timeout, wait, flags)
                    print(json.dumps({key: out[key]}), file=sys.stderr)
        if args.busy:
            for flags in modes:
                key = "busy_viewer" + (f"_{flags[1]}" if flags else "")
                out[key] = await busy_viewer(browser, flags)
                print(json.dumps({key: out[key]}), file=sys.stderr)
        if args.storm or args.only_storm:
            out["storm"] = await storm(
                browser, args.storm_loads, args.storm_seconds, args.storm_max_kernels, 4
            )
        await browser.close()
    out["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
    for n in args.meeting:
        m = out.get(f"meeting_{n}", {})
        goal = {20: 10, 40: 30}.get(n)
        if goal and m.get("headline_all_s"):
            m["all_seen_vs_goal"] = round(m["headline_all_s"] / goal, 2)
    out["goals"] = {
        "first_slider_preheated_s": 2,
        "redraw_median_ms": 150,
        "meeting_20_all_s": 10,
        "meeting_40_all_s": 30,
        "idle_viewer_uss_mb": 120,
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=50)
    ap.add_argument("--meeting", default="20,40", help="visitors at once, comma-separated")
    ap.add_argument("--visit-timeout", type=float, default=240, help="seconds per visitor")
    ap.add_argument("--release-wait", type=float, default=60)
    ap.add_argument("--storm", action="store_true", help="also the reload storm (about 3 min)")
    ap.add_argument("--only-storm", action="store_true", help="only the reload storm")
    ap.add_argument(
        "--busy", action="store_true", help="also one viewer who uses every tab (memory)"
    )
    ap.add_argument("--no-single", action="store_true", help="skip first slider and redraw")
    ap.add_argument("--storm-loads", type=int, default=200)
    ap.add_argument("--storm-seconds", type=float, default=120)
    ap.add_argument("--storm-max-kernels", type=int, default=10)
    ap.add_argument(
        "--light",
        default="",
        help="visitors at once without a browser (the server's capacity), comma-separated",
    )
    ap.add_argument("--only-light", action="store_true", help="only the light meetings")
    ap.add_argument(
        "--kernels",
        default="",
        help="balans app --kernels for the meetings, comma-separated (fork,spawn: both, "
        "back to back); empty: the app's default",
    )
    ap.add_argument("--quick", action="store_true", help="10 moves, 4 visitors, 45 s release")
    args = ap.parse_args()
    if args.quick:
        args.moves, args.meeting, args.release_wait = 10, "4", 45
    args.meeting = [int(x) for x in str(args.meeting).split(",") if x.strip()]
    args.light = [int(x) for x in str(args.light).split(",") if x.strip()]
    args.kernels = [x.strip() for x in str(args.kernels).split(",") if x.strip()] or [""]
    print(json.dumps(asyncio.run(main_async(args))))


if __name__ == "__main__":
    main()
