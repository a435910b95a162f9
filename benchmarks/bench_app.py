"""The app in a real browser: first slider, redraw latency, memory and concurrent sessions.

Prints one JSON line:
  first_slider_cold_s        page load to the first slider, no preheated kernel (pool 0)
  first_slider_preheated_s   the same with preheated kernels (pool 2)
  redraw_headline_ms         key press on a slider -> headline changed (median, p95)
  redraw_chart_ms            key press -> the bridge chart's SVG redrawn (median, p95)
  session_rss_mb             memory of one session's kernel (resident set, median)
  sessions_ok / sessions     concurrent sessions that each answered correctly
Goals: first slider <= 2 s preheated, redraw median <= 150 ms, >= 20 sessions.

    python benchmarks/bench_app.py [--moves 50] [--sessions 20] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(pool: int) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    log = Path(f"/tmp/balans-bench-app-{port}.log")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "balans",
            "app",
            "--port",
            str(port),
            "--no-browser",
            "--pool-size",
            str(pool),
        ],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    for _ in range(600):
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.1)
    if pool > 0:  # wait until the pool is filled and its kernels have run the notebook up to
        # the point where they wait for a viewer, as a server would be before viewers come
        for _ in range(600):
            if "is filled" in log.read_text():
                break
            time.sleep(0.1)
        time.sleep(15)
    return proc, url, log


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def first_slider_s(browser, url: str) -> float:
    page = browser.new_page()
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(".widget-slider .noUi-handle", timeout=120_000)
    t = time.perf_counter() - t0
    page.close()
    return t


def handle(page):
    box = page.locator(".widget-slider", has=page.locator(".widget-label", has_text=LABEL))
    return box.locator(".noUi-handle").first


INSTRUMENT = """
() => {
  window.__marks = [];
  const head = document.querySelector('.balans-headline').closest('.widget-html');
  const charts = document.querySelectorAll('.vega-embed');
  const bridge = charts[1];
  new MutationObserver(() => window.__marks.push(['headline', performance.now()])).observe(head, {subtree: true, childList: true, characterData: true, attributes: true});
  new MutationObserver(() => window.__marks.push(['chart', performance.now()])).observe(bridge, {subtree: true, childList: true});
  document.addEventListener('keydown', () => window.__marks.push(['key', performance.now()]), true);
}
"""


def redraw_latencies(browser, url: str, moves: int) -> tuple[list[float], list[float]]:
    page = browser.new_page(viewport={"width": 1500, "height": 1300})
    page.goto(url)
    page.wait_for_function(
        "document.querySelectorAll('.vega-embed svg').length >= 2", timeout=120_000
    )
    page.evaluate(INSTRUMENT)
    h = handle(page)
    h.focus()
    heads, charts = [], []
    for i in range(moves):
        key = "ArrowRight" if (i // 20) % 2 == 0 else "ArrowLeft"
        before = page.locator(".balans-headline").get_attribute("data-value")
        page.evaluate("window.__marks = []")
        h.press(key)
        page.wait_for_function(
            f"document.querySelector('.balans-headline').getAttribute('data-value') !== '{before}'",
            timeout=30_000,
        )
        page.wait_for_timeout(150)  # let the chart finish painting
        marks = page.evaluate("window.__marks")
        t0 = next(t for k, t in marks if k == "key")
        th = [t for k, t in marks if k == "headline" and t > t0]
        tc = [t for k, t in marks if k == "chart" and t > t0]
        if th:
            heads.append(th[0] - t0)
        if tc:
            charts.append(tc[-1] - t0)
    page.close()
    return heads, charts


def kernel_rss_mb(log: Path) -> list[float]:
    ids = set(re.findall(r"Kernel started: ([0-9a-f-]{36})", log.read_text()))
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            if "ipykernel_launcher" in cmd and any(i in cmd for i in ids):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        out.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return out


def concurrent_sessions(browser, url: str, n: int) -> tuple[int, float]:
    """n viewers at once: each moves a slider; each must show the figure the engine gives."""
    from balans import parse_scenario, run

    expected = run(
        parse_scenario(
            {
                "name": "x",
                "levers": {
                    "staffing_reduction": {"target_pct": 0.5, "start": "2023-05", "ramp_months": 12}
                },
            }
        )
    )
    want = float(expected.years_frame().set_index("year").loc[2024, "forecast_net_mkr"])
    pages = []
    t0 = time.perf_counter()
    for _ in range(n):
        p = browser.new_page()
        p.goto(url)
        pages.append(p)
    ok = 0
    for p in pages:
        try:
            p.wait_for_selector(".balans-headline", timeout=180_000)
            h = handle(p)
            h.focus()
            before = p.locator(".balans-headline").get_attribute("data-value")
            h.press("ArrowRight")
            p.wait_for_function(
                f"document.querySelector('.balans-headline').getAttribute('data-value') !== '{before}'",
                timeout=60_000,
            )
            ok += float(p.locator(".balans-headline").get_attribute("data-value")) == want
        except Exception as exc:  # a session that does not answer counts as failed
            print(f"session failed: {exc}", file=sys.stderr)
    wall = time.perf_counter() - t0
    for p in pages:
        p.close()
    return ok, wall


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=50)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="10 moves, 4 sessions")
    args = ap.parse_args()
    if args.quick:
        args.moves, args.sessions = 10, 4
    from playwright.sync_api import sync_playwright

    out: dict = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        proc, url, _ = start_app(pool=0)
        try:
            out["first_slider_cold_s"] = round(first_slider_s(browser, url), 2)
        finally:
            stop(proc)
        proc, url, log = start_app(pool=2)
        try:
            out["first_slider_preheated_s"] = round(first_slider_s(browser, url), 2)
            heads, charts = redraw_latencies(browser, url, args.moves)
            out["redraw_headline_ms"] = {
                "median": round(statistics.median(heads), 1),
                "p95": round(pct(heads, 0.95), 1),
                "n": len(heads),
            }
            out["redraw_chart_ms"] = {
                "median": round(statistics.median(charts), 1),
                "p95": round(pct(charts, 0.95), 1),
                "n": len(charts),
            }
            ok, wall = concurrent_sessions(browser, url, args.sessions)
            rss = kernel_rss_mb(log)
            out["session_rss_mb"] = round(statistics.median(rss), 0) if rss else None
            out["kernels_measured"] = len(rss)
            out["sessions"] = args.sessions
            out["sessions_ok"] = ok
            out["sessions_wall_s"] = round(wall, 1)
        finally:
            stop(proc)
        browser.close()
    out["goals"] = {"first_slider_preheated_s": 2, "redraw_median_ms": 150, "sessions": 20}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
