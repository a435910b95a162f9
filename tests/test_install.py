"""Installed anywhere: a wheel of the checkout, installed without it, works from an empty folder.

The checkout is copied (without .venv, build/, .git) and built into a wheel with ``pip
wheel``; the wheel is installed with ``pip install --target`` into a bare folder, and the
command line runs with ``PYTHONPATH`` naming only that folder and an empty working folder.
So the shipped case, its scenarios and the notebooks the faces execute must come from the
package (``balans.resources``), not from the checkout's layout: the baseline gives the
checkout's figures exactly, a batch report is made, and the app serves its page.

The checkout's familiar paths (``data``, ``scenarios``, ``notebooks/app.ipynb``,
``notebooks/report.ipynb``) are relative symlinks into the package; checked here too.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO

from balans import load_scenario, resources
from balans.faces.cli import main
from balans.presentation import report

pytestmark = pytest.mark.slow

PACKAGE = REPO / "lib" / "balans"
# the checkout's paths that are symlinks into the package, and what they point at
LINKS = {
    "data": PACKAGE / "data",
    "scenarios": PACKAGE / "data" / "rjh_hsn" / "scenarios",
    "notebooks/app.ipynb": PACKAGE / "notebooks" / "app.ipynb",
    "notebooks/report.ipynb": PACKAGE / "notebooks" / "report.ipynb",
}
NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    ".ipynb_checkpoints",
)
# setuptools 77 reads the SPDX `license` string; older ones cannot build the wheel
SETUPTOOLS_MIN = (77,)


@dataclass(frozen=True)
class Installed:
    wheel: Path
    site: Path  # the --target folder: the only thing on PYTHONPATH
    empty: Path  # the working folder, empty
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args],
            cwd=self.empty,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def balans(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return self.run("-m", "balans", *args, timeout=timeout)

    @property
    def scenarios(self) -> Path:
        return self.site / "balans" / "data" / "rjh_hsn" / "scenarios"


def _check(proc: subprocess.CompletedProcess[str], what: str) -> str:
    assert proc.returncode == 0, f"{what} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _setuptools_can_build() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    major = int(setuptools.__version__.split(".")[0])
    return (major,) >= SETUPTOOLS_MIN


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    # a copy, so that the build writes nothing into the checkout and no stale build/lib
    # file from an earlier build can slip into the wheel
    shutil.copytree(REPO, src, symlinks=True, ignore=NOT_COPIED)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp / "dist"), str(src)]
    if _setuptools_can_build():  # make setup installs setuptools>=77 (the test extra)
        cmd.insert(4, "--no-build-isolation")
    _check(subprocess.run(cmd, capture_output=True, text=True, timeout=300), "pip wheel")
    (wheel,) = (tmp / "dist").glob("balans-*.whl")
    site = tmp / "site"
    _check(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--no-deps",
                "--target",
                str(site),
                str(wheel),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        ),
        "pip install --target",
    )
    empty = tmp / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env |= {"PYTHONPATH": str(site), "PYTHONNOUSERSITE": "1"}
    return Installed(wheel, site, empty, env)


def checkout_json(*args: str) -> dict:
    """What the checkout's ``balans run ... --json`` prints, read back."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["run", *args, "--json"]) == 0
    return json.loads(out.getvalue())


# --------------------------------------------------------------------------- the checkout


@pytest.mark.parametrize("link", sorted(LINKS))
def test_the_checkouts_paths_are_relative_links_into_the_package(link):
    path = REPO / link
    assert path.is_symlink(), f"{link} should be a symlink into lib/balans (git: mode 120000)"
    assert not os.path.isabs(os.readlink(path)), f"{link} -> {os.readlink(path)} is absolute"
    assert path.resolve() == LINKS[link].resolve()


def test_the_resources_are_the_package_files():
    assert resources.shipped_case_dir().resolve() == (PACKAGE / "data" / "rjh_hsn").resolve()
    assert resources.scenarios_dir() == resources.shipped_case_dir() / "scenarios"
    assert resources.notebook("report") == resources.notebook("report.ipynb")
    assert resources.notebook("app").resolve() == (PACKAGE / "notebooks" / "app.ipynb").resolve()


# --------------------------------------------------------------------------- installed


def test_the_wheel_holds_every_file_of_the_package(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    src = PACKAGE.parent
    files = {
        p.relative_to(src).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert files - names == set(), "package files missing from the wheel (package-data)"
    for name in (
        "balans/data/README.md",
        "balans/data/rjh_hsn/case.yaml",
        "balans/data/rjh_hsn/parameters.csv",
        "balans/data/rjh_hsn/scenarios/baseline.yaml",
        "balans/notebooks/app.ipynb",
        "balans/notebooks/report.ipynb",
        "balans/locale/sv.yaml",
        "balans/share/jupyter/voila/templates/balans/index.html.j2",
    ):
        assert name in names, name


def test_balans_is_imported_from_the_install_and_finds_its_files_there(installed):
    code = """if True:
        import json, balans
        from balans.faces import app, batch, serve
        from balans.inputs import case
        from balans import resources
        print(json.dumps({
            "package": balans.__file__,
            "case": str(case.DEFAULT_CASE_DIR),
            "scenarios": str(app.SCENARIOS_DIR),
            "report": str(batch.DEFAULT_NOTEBOOK),
            "app": str(serve.APP_NOTEBOOK),
            "templates": str(serve.JUPYTER_DATA),
            "shipped": str(resources.shipped_case_dir()),
        }))
    """
    paths = {k: Path(v) for k, v in json.loads(_check(installed.run("-c", code), "import")).items()}
    site = installed.site.resolve()
    for what, path in paths.items():
        assert path.resolve().is_relative_to(site), f"{what}: {path} is not in the install"
        assert path.exists(), f"{what}: {path} does not exist"
    assert (paths["case"] / "case.yaml").is_file()
    assert len(list(paths["scenarios"].glob("*.yaml"))) == len(
        list(LINKS["scenarios"].glob("*.yaml"))
    )


def test_the_baseline_runs_from_an_empty_folder_with_the_checkouts_figures(installed):
    expected = checkout_json(str(REPO / "scenarios" / "baseline.yaml"))
    got = json.loads(
        _check(installed.balans("run", str(installed.scenarios / "baseline.yaml"), "--json"), "run")
    )
    assert got["stamp"] == expected["stamp"]  # the same data hash, model and scenario
    assert got["years"] == expected["years"]  # every yearly figure, bit for bit
    assert got["years"] and {"forecast_net_mkr", "deviation_mkr"} <= set(got["years"][0])
    # without a FILE (once the command line takes none): the case's baseline
    bare = installed.balans("run", "--json")
    if "the following arguments are required" not in bare.stderr:
        assert json.loads(_check(bare, "run without FILE"))["years"] == expected["years"]
    # the Swedish summary needs the labels (locale/), shipped too
    text = _check(installed.balans("run", str(installed.scenarios / "hyrstopp.yaml")), "summary")
    assert load_scenario(REPO / "scenarios" / "hyrstopp.yaml").name in text
    assert list(installed.empty.iterdir()) == []  # nothing written to the working folder


def test_a_batch_report_is_made_installed(installed, tmp_path):
    """The shipped report notebook, run by papermill from the install, for a case's
    ``scenarios/`` folder (the default when no folder is given)."""
    case = tmp_path / "case"
    shutil.copytree(installed.site / "balans" / "data" / "rjh_hsn", case)
    for f in (case / "scenarios").glob("*.yaml"):
        if f.stem != "baseline":
            f.unlink()
    out = tmp_path / "out"
    proc = installed.balans("batch", "--case", str(case), "--out", str(out), "--quiet", timeout=300)
    _check(proc, "batch")
    assert (out / "reports" / "baseline.html").is_file()
    figures = report.read_key_figures(out / "reports" / "baseline.key_figures.json")
    expected = checkout_json(str(REPO / "scenarios" / "baseline.yaml"))
    assert figures["stamp"]["data_hash"] == expected["stamp"]["data_hash"]
    for got, want in zip(figures["years"], expected["years"], strict=True):
        for f in report.KEY_YEAR_FIELDS:
            assert got[f] == want[f], f


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_app_serves_its_page_installed(installed, tmp_path):
    assert "--port" in _check(installed.balans("app", "--help"), "app --help")
    port = _free_port()
    app = ["app", "--no-browser", "--port", str(port), "--pool-size", "0"]
    log = tmp_path / "app.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "balans", *app],
            cwd=installed.empty,
            env=installed.env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline, page = time.monotonic() + 90, None
        while page is None and time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(log.read_text(errors="replace"))
            try:  # without a pool, Voilà runs the notebook for this request
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60) as resp:
                    page = resp.read().decode()
            except OSError:
                time.sleep(0.3)
        assert page is not None, f"balans app did not answer in 90 s:\n{log.read_text()}"
        assert "application/vnd.jupyter.widget-view+json" in page  # the app's widgets
        assert "balans-cards" in page and '"output_type": "error"' not in page
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
