"""The planners' workbench in a real JupyterLab, in Debian's Chromium (Playwright).

Executing the notebook headless (tests/test_notebooks.py) never draws a chart; this test
does what a planner does: start ``jupyter lab`` (the README's command) on a copy of the
notebooks, open workbench.ipynb, run all cells and look. Every chart cell must have drawn
its chart (vega-embed's svg or canvas), no cell may show an error, and no request may leave
127.0.0.1: there is no internet, so a chart that loads Vega from a CDN stays blank. The
board members' app, shown in the workbench, must keep its slider tracks there too. A
screenshot is kept under build/look/.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from conftest import REPO
from test_app_browser import ARGS, BUILD, CHROMIUM, MEASURE_JS, MIN_TRACK_PX, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed (make test installs it)"
    ),
]

WORKBENCH = REPO / "notebooks" / "workbench.ipynb"


def lab_command(port: int, token: str, root: Path) -> list[str]:
    """``jupyter lab`` on localhost only, as the README says (with --allow-root, which
    JupyterLab needs when run as root), here on a temporary port and folder."""
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",
    ]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a copy of the notebooks, with its own settings: every cell kept
    in the page (no windowing, so each output can be checked) and no news pop-up."""
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "notebooks"
    root.mkdir()
    shutil.copy(WORKBENCH, root / WORKBENCH.name)
    settings = tmp / "settings"
    for plugin, values in {
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }.items():
        folder, name = plugin.rsplit("/", 1)
        (settings / folder).mkdir(parents=True, exist_ok=True)
        (settings / folder / f"{name}.jupyterlab-settings").write_text(json.dumps(values))
    env = dict(os.environ)
    env |= {
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
    }
    port, token = free_port(), secrets.token_hex(16)
    proc = subprocess.Popen(
        lab_command(port, token, root),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            raise RuntimeError(proc.stdout.read().decode())
    else:
        os.killpg(proc.pid, signal.SIGTERM)
        raise RuntimeError("jupyter lab did not answer in 90 s")
    yield base, token
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


# Per cell in the page: its kind, its prompt ("[3]:", "[*]:"), whether it drew a chart and
# what error text it shows.
CELLS_JS = """() => Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell')).map((c) => ({
  code: c.classList.contains('jp-CodeCell'),
  prompt: (c.querySelector('.jp-InputPrompt') || {}).textContent || '',
  charts: c.querySelectorAll('.jp-OutputArea .vega-embed svg, .jp-OutputArea .vega-embed canvas').length,
  errors: Array.from(c.querySelectorAll(
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], .jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]'))
    .map((e) => e.textContent.slice(0, 300))
    .concat(((c.querySelector('.jp-OutputArea') || {}).textContent || '')
      .match(/(Error (loading script|displaying widget)|Traceback)[^\\n]{0,120}/g) || []),
}))"""

# the notebook open, its kernel started and idle: only then can "run all" run anything
KERNEL_READY_JS = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.connectionStatus === 'connected' && k.status === 'idle'
    && document.querySelectorAll('.jp-NotebookPanel .jp-Cell').length > 5;
}"""


def test_the_workbench_draws_every_chart_offline_in_jupyterlab(lab, browser):
    base, token = lab
    nb = nbformat.read(WORKBENCH, as_version=4)
    kinds = [c.cell_type == "code" for c in nb.cells]
    # the cells that draw a chart: a chart builder's result shown (the forecast curve's
    # cell draws once the case has two closes, as the shipped case has) and the app
    chart_cells = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and ("_chart(" in c.source or "BalansApp(" in c.source)
    ]
    assert len(chart_cells) >= 6

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("websocket", lambda ws: requests.append(ws.url))
    page.goto(f"{base}/lab/tree/{WORKBENCH.name}?token={token}")
    page.wait_for_function(KERNEL_READY_JS, timeout=90_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    deadline = time.monotonic() + 100
    cells = page.evaluate(CELLS_JS)
    while time.monotonic() < deadline:
        cells = page.evaluate(CELLS_JS)
        done = all(
            c["prompt"].strip() not in ("", "[ ]:", "[*]:") for c in cells if c["code"]
        ) and all(cells[i]["charts"] > 0 for i in chart_cells if i < len(cells))
        if done or any(c["errors"] for c in cells):
            break
        page.wait_for_timeout(1000)
    page.wait_for_timeout(1000)
    cells = page.evaluate(CELLS_JS)
    look = BUILD / "look"
    look.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(look / "workbench_jupyterlab.png"))
    # the charts, one picture each (a tall window, so the app's cell fits in one)
    page.set_viewport_size({"width": 1400, "height": 2000})
    for n, i in enumerate(chart_cells, start=1):
        cell = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(i)
        cell.scroll_into_view_if_needed()
        cell.screenshot(path=str(look / f"workbench_jupyterlab_chart_{n}.png"))

    assert [c["code"] for c in cells] == kinds  # every cell is in the page
    assert {i: c["errors"] for i, c in enumerate(cells) if c["errors"]} == {}
    not_run = [i for i, c in enumerate(cells) if c["code"] and "*" in c["prompt"]]
    assert not_run == []
    blank = [i for i in chart_cells if cells[i]["charts"] == 0]
    assert blank == [], f"cells {blank} drew no chart"
    # the board members' app inside the workbench (a notebook cell, narrower than the
    # window: the file browser beside it) keeps its slider tracks, cuts no text, and its
    # charts and tables fit, on a laptop and on a tablet
    app_cell = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(chart_cells[-1])
    for width in (1400, 1024):
        page.set_viewport_size({"width": width, "height": 2000})
        page.wait_for_timeout(600)
        got = page.evaluate(MEASURE_JS)
        assert len(got["tracks"]) >= 3, got
        assert [t for t in got["tracks"] if t[1] < MIN_TRACK_PX] == [], (width, got["tracks"])
        assert got["cut"] == [] and got["wide"] == [], (width, got)
        app_cell.scroll_into_view_if_needed()
        app_cell.screenshot(path=str(look / f"workbench_jupyterlab_app_{width}.png"))
    outside = [
        u
        for u in requests
        if not u.startswith((base, base.replace("http", "ws", 1), "data:", "blob:"))
    ]
    assert outside == []
    page.close()
