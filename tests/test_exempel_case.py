"""A second region through every face: the synthetic Region Exempel, made by `balans import`.

`tests/cases/exempel/` is `balans import examples/exempel_region/mapping.yaml` (test_import.py
checks that it still is): a three-year horizon 2025-2027, an August 2025 cut-off, its own
account ids, five divisions and two agency categories. Nothing in the faces may name the
shipped case's months, accounts or region; every face gives the same figures as the command
line.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from balans import load_case
from balans.inputs.scenario import baseline_scenario, load_scenario
from balans.model.api import run

EXEMPEL = REPO / "tests" / "cases" / "exempel"
SHIPPED_WORDS = ("Jämtland", "other_costs", "januari–april 2023", "april 2023", "2023-04")


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "balans", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def _numbers(x: object) -> list[float]:
    if isinstance(x, dict):
        return [n for v in x.values() for n in _numbers(v)]
    if isinstance(x, list):
        return [n for v in x for n in _numbers(v)]
    return [float(x)] if isinstance(x, int | float) and not isinstance(x, bool) else []


def test_the_case_has_the_shape_the_issue_asks_for() -> None:
    case = load_case(EXEMPEL)
    assert case.years == (2025, 2026, 2027)
    assert case.cutoff == (2025, 8)
    assert len(case.divisions) == 5 and case.divisions_real
    assert len(case.agency) == 2
    shipped = {a.id for a in load_case().accounts}
    assert not shipped & {a.id for a in case.accounts}
    assert case.synthetic
    assert case.prior_year_tkr is not None  # 2024's months give the seasonal profile


def test_the_command_line_runs_the_baseline_with_the_case_s_own_figures() -> None:
    out = cli("run", "--case", str(EXEMPEL), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["stamp"]["case"] == "exempel_hsn"
    assert data["stamp"]["cutoff"] == "2025-08"
    assert [y["year"] for y in data["years"]] == [2025, 2026, 2027]
    assert all(math.isfinite(n) for n in _numbers(data["years"]))
    direct = run(baseline_scenario(), EXEMPEL).to_dict()["years"]
    assert [y["forecast_net_mkr"] for y in data["years"]] == [y["forecast_net_mkr"] for y in direct]
    text = cli("run", "--case", str(EXEMPEL)).stdout
    assert "augusti 2025" in text or "2025" in text
    for word in SHIPPED_WORDS:
        assert word not in text, word


@pytest.mark.parametrize(
    "path", sorted((EXEMPEL / "scenarios").glob("*.yaml")), ids=lambda p: p.stem
)
def test_each_of_the_case_s_scenarios_runs_by_name(path: Path) -> None:
    out = cli("run", path.stem, "--case", str(EXEMPEL), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["stamp"]["scenario_name"] == load_scenario(path).name
    steps = sum(abs(b["effect_mkr"]) for b in data["bridge"])
    assert steps > 0 or load_scenario(path).is_baseline


def test_a_scenario_naming_what_the_case_lacks_is_told_what_it_has(tmp_path: Path) -> None:
    f = tmp_path / "fel.yaml"
    f.write_text(
        "name: fel\nlevers:\n  agency: {categories: {doctors: -20}}\n"
        "  measures: [{name: x, mkr_per_year: 1, account: other_costs}]\n"
        "  staffing_reduction: {target_pct: 2, division: kirurgi}\n",
        encoding="utf-8",
    )
    out = cli("run", str(f), "--case", str(EXEMPEL))
    assert out.returncode == 2
    case = load_case(EXEMPEL)
    assert "levers.agency.categories.doctors" in out.stderr
    assert ", ".join(c.id for c in case.agency) in out.stderr
    assert "levers.measures[0].account = 'other_costs'" in out.stderr
    assert "levers.staffing_reduction.division = 'kirurgi'" in out.stderr
    assert ", ".join(d.id for d in case.divisions) in out.stderr
    assert "Traceback" not in out.stderr


def test_goal_seek_takes_the_case() -> None:
    base = sorted((EXEMPEL / "scenarios").glob("*.yaml"))[0]
    out = cli(
        "goal-seek",
        str(base),
        "--case",
        str(EXEMPEL),
        "--lever",
        "staffing_reduction.target_pct",
        "--year",
        "2027",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["year"] == 2027


def test_the_batch_makes_a_report_per_scenario_of_the_case(tmp_path: Path) -> None:
    out_dir = tmp_path / "rapporter"
    out = cli("batch", "--case", str(EXEMPEL), "--out", str(out_dir), "--quiet")
    assert out.returncode == 0, out.stderr
    names = sorted(p.stem for p in (EXEMPEL / "scenarios").glob("*.yaml"))
    reports = sorted((out_dir / "reports").glob("*.html"))
    assert len([r for r in reports if r.stem != "index"]) == len(names)
    html = next(r for r in reports if r.stem != "index").read_text(encoding="utf-8")
    assert "Syntetiskt exempel" in html
    assert "Region Exempel" in html
    assert "augusti 2025" in html
    for word in SHIPPED_WORDS:
        assert word not in html, word


@pytest.mark.slow
def test_the_app_serves_another_case_and_its_headline_is_the_command_line_s(tmp_path: Path) -> None:
    """`balans app --case` in Chromium: the case's own name, scenarios and divisions, and the
    headline exactly what `balans run --case ... --json` gives for the page's own YAML."""
    import os
    import signal
    import time
    import urllib.request

    from test_app_browser import ARGS, BUILD, CHROMIUM, Page, free_port

    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "balans",
            "app",
            "--case",
            str(EXEMPEL),
            "--port",
            str(port),
            "--no-browser",
            "--pool-size",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
            assert proc.poll() is None, proc.stdout.read().decode()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            p = Page(browser, url)
            body = p.page.inner_text("body")
            assert "Region Exempel" in body
            assert "Syntetiskt exempel" in body
            for word in SHIPPED_WORDS:
                assert word not in body, word
            options = [
                o.replace("\xa0", " ")
                for o in p.page.locator("select").first.locator("option").all_inner_texts()
            ]
            names = {load_scenario(f).name for f in (EXEMPEL / "scenarios").glob("*.yaml")}
            assert names <= set(options)
            p.move("Personalneddragning (% av egen personal)", 2)
            year = int(p.page.locator(".balans-headline").get_attribute("data-year"))
            value = p.headline()[1]
            f = tmp_path / "from_page.yaml"
            f.write_text(p.scenario_yaml(), encoding="utf-8")
            out = cli("run", str(f), "--case", str(EXEMPEL), "--json")
            assert out.returncode == 0, out.stderr
            cli_value = next(
                y["forecast_net_mkr"] for y in json.loads(out.stdout)["years"] if y["year"] == year
            )
            assert value == cli_value
            BUILD.mkdir(exist_ok=True)
            p.page.screenshot(path=str(BUILD / "app_exempel.png"), full_page=True)
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
