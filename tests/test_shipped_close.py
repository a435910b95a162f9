"""The shipped case's second close, September 2024 (004), beside its April 2023 close.

004 gives this close at net level: Jan–Sep 2024 net cost 272.6 mkr over budget, revenue +37.3
and cost −309.9 mkr against budget, and the board's forecast −3 652 against budget −3 352.
Everything finer is derived (scripts/derive_close_2024_09.py) and must say so.
"""

from __future__ import annotations

import json
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from balans import DEFAULT_CASE_DIR, load_case
from balans.analysis.closes import close_bridge, latest_close, vintages_frame
from balans.errors import DataError
from balans.inputs.scenario import baseline_scenario
from balans.model.api import run

SEPTEMBER = "2024-09"


@pytest.fixture(scope="module")
def september():
    return load_case(DEFAULT_CASE_DIR, cutoff=SEPTEMBER)


def _jansep(case, side: str) -> float:
    """Actual minus budget over the close's months to date, one side, tkr."""
    cols = [i for i, a in enumerate(case.accounts) if a.side == side]
    c = case.cutoff_index + 1
    return float(case.actual_tkr[:c, cols].sum() - case.budget_tkr[:c, cols].sum())


def test_the_september_close_deviates_from_budget_as_004_says(september) -> None:
    assert september.cutoff == (2024, 9)
    assert _jansep(september, "revenue") == pytest.approx(37_300, abs=0.5)
    assert _jansep(september, "cost") == pytest.approx(-309_900, abs=0.5)
    net = _jansep(september, "revenue") + _jansep(september, "cost")
    assert net == pytest.approx(-272_600, abs=0.5)


def test_the_september_close_carries_the_boards_forecast_and_the_2024_budget(september) -> None:
    assert september.years == (2024,)
    assert september.budget_net_mkr[2024] == -3352
    assert september.board_forecast_net_mkr[2024] == -3652
    assert september.board_forecast_made[2024] == SEPTEMBER


def test_every_finer_figure_of_the_september_close_says_it_is_derived(september) -> None:
    assert set(september.month_actual_basis[:9]) == {"derived"}
    assert set(september.month_actual_basis[9:]) == {"forecast"}
    for a in september.accounts:
        assert a.note.startswith("Derived:"), a.id
    for d in september.divisions:
        assert d.source.startswith("Derived:"), d.id
    for cat in september.agency:
        assert cat.note.startswith("Derived:"), cat.id
    kinds = {k: f.kind for k, f in september.figures.items()}
    assert kinds["deviation_jansep_2024_net_cost_tkr"] == "document"
    assert kinds["actual_jansep_2024_net_cost_tkr"] == "derived"
    assert kinds["budget_2024_revenue_mkr"] == "assumption"


def test_the_september_files_are_what_the_derivation_gives() -> None:
    script = runpy.run_path(str(REPO / "scripts" / "derive_close_2024_09.py"))
    assert script["main"](["--check"]) == 0


def test_the_case_opens_on_its_april_close_and_holds_both(september) -> None:
    april = load_case(DEFAULT_CASE_DIR)
    assert april.cutoff == (2023, 4)
    assert april.closes == september.closes == ("2023-04", SEPTEMBER)
    assert september.root == april.root == april.folder
    assert latest_close(DEFAULT_CASE_DIR).cutoff == (2024, 9)


def test_the_vintages_show_both_closes_and_the_boards_own_forecasts() -> None:
    frame = vintages_frame(DEFAULT_CASE_DIR).set_index(["cutoff", "year"])
    assert set(frame.index) == {("2023-04", 2023), ("2023-04", 2024), (SEPTEMBER, 2024)}
    assert frame.loc[("2023-04", 2023), "board_forecast_net_mkr"] == -3215
    assert frame.loc[(SEPTEMBER, 2024), "board_forecast_net_mkr"] == -3652
    # the board made no 2024 forecast in April 2023: its September one is not shown there
    assert pd.isna(frame.loc[("2023-04", 2024), "board_forecast_net_mkr"])
    april, sept = (frame.loc[(c, 2024), "forecast_net_mkr"] for c in ("2023-04", SEPTEMBER))
    assert frame.loc[("2023-04", 2024), "accuracy_mkr"] == pytest.approx(april - sept)
    assert frame.loc[("2023-04", 2024), "accuracy_against"] == "latest_close"


def test_the_bridge_from_april_2023_to_september_2024_adds_up_to_the_krona() -> None:
    b = close_bridge(DEFAULT_CASE_DIR, "2023-04", SEPTEMBER, 2024)
    assert b.effect_mkr.sum() == pytest.approx(b.attrs["to_mkr"] - b.attrs["from_mkr"], abs=5e-4)
    sept = run(baseline_scenario(), load_case(DEFAULT_CASE_DIR, cutoff=SEPTEMBER))
    assert b.attrs["to_mkr"] == pytest.approx(float(sept.years_frame().forecast_net_mkr.iloc[0]))
    new = b[b.step == "new_actuals"].set_index("account").effect_mkr
    # the agency phase-out came in below what April 2023's run-rate expected for Jan-Sep
    assert new["agency"] > 0
    assert np.isfinite(b.effect_mkr).all()


def test_the_command_line_stands_on_the_close_it_is_asked_for() -> None:
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "balans", *args], capture_output=True, text=True, timeout=120
        )

    out = cli("run", "--cutoff", SEPTEMBER, "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["stamp"]["cutoff"] == SEPTEMBER
    assert [y["year"] for y in doc["years"]] == [2024]
    listed = json.loads(cli("vintages", "--json").stdout)
    assert {(r["cutoff"], r["year"]) for r in listed} == {
        ("2023-04", 2023),
        ("2023-04", 2024),
        (SEPTEMBER, 2024),
    }
    text = cli("run", "--cutoff", SEPTEMBER).stdout
    assert "september 2024" in text


def test_a_default_close_the_case_does_not_hold_is_refused(tmp_path: Path) -> None:
    case = tmp_path / "case"
    shutil.copytree(DEFAULT_CASE_DIR, case)
    meta = case / "case.yaml"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace(
            "default_close: 2023-04", "default_close: 2024-03"
        ),
        encoding="utf-8",
    )
    with pytest.raises(DataError, match="default_close") as err:
        load_case(case)
    assert "2023-04, 2024-09" in str(err.value)


def test_a_close_whose_deviation_does_not_match_the_document_is_refused(tmp_path: Path) -> None:
    case = tmp_path / "case"
    shutil.copytree(DEFAULT_CASE_DIR / "closes" / SEPTEMBER, case)
    acc = case / "accounts.csv"
    text = acc.read_text(encoding="utf-8")
    acc.write_text(text.replace("-125001,-94050", "-125001,-95050"), encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_case(case)
    assert "budget_ytd_tkr" in str(err.value) or "deviation_ytd_tkr" in str(err.value)


SEEDS = REPO.parent / "shared" / "seeds"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the source documents are in ../shared/seeds")
def test_the_september_document_figures_are_in_the_documents_they_name(september) -> None:
    import re

    checked = 0
    for f in september.figures.values():
        if f.kind != "document" or not f.source.startswith("00"):
            continue
        text = re.sub(r"\s+", " ", (SEEDS / f.source.split(" ")[0]).read_text(encoding="utf-8"))
        value = abs(f.value) / 1000.0 if f.unit == "tkr" else abs(f.value)
        spellings = {f"{value:,.0f}".replace(",", " "), f"{value:.0f}"}
        if value != int(value):
            spellings = {f"{value:.1f}".replace(".", ",")}
        assert any(re.search(rf"(?<![\d,]){re.escape(s)}(?![\d])", text) for s in spellings), (
            f"{f.key}={f.value} {f.unit} not in {f.source}"
        )
        checked += 1
    assert checked >= 7


def test_the_app_draws_the_curve_for_a_year_two_closes_forecast(september) -> None:
    from balans.faces.app import BalansApp

    app = BalansApp()  # the April 2023 close: 2023 has one close, 2024 two
    app.year.value = 2023
    app._draw_chart("curve")
    assert app.chart_boxes["curve"].layout.display == "none"
    app.year.value = 2024
    app._draw_chart("curve")
    assert app.chart_boxes["curve"].layout.display is None
    later = BalansApp(case=september)
    later._draw_chart("curve")
    said = " ".join(later.close_change.value.split())  # the figures' spaces do not break
    assert "Sedan månadsbokslutet för april 2023 (−3 811 mkr): +59,8 mkr" in said
