"""The monthly close on Region Exempel's ledger: closes, vintages, accuracy, the bridge.

The ledger holds actuals through August 2025; a close at June 2025 is the same ledger with
July and August still forecast. Closing a month makes its actuals count, keeps the vintage,
and the bridge between two closes explains the move exactly.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, TINY

from balans import load_case
from balans.analysis.closes import (
    close_bridge,
    read_vintages,
    record_close,
    vintages_frame,
)
from balans.errors import DataError
from balans.inputs.scenario import baseline_scenario
from balans.model.api import run

EXEMPEL = REPO / "tests" / "cases" / "exempel"


@pytest.fixture
def exempel(tmp_path: Path) -> Path:
    folder = tmp_path / "exempel"
    shutil.copytree(EXEMPEL, folder)
    return folder


def test_an_earlier_close_is_the_ledger_with_the_later_months_still_forecast(exempel: Path) -> None:
    june = load_case(exempel, cutoff="2025-06")
    august = load_case(exempel)
    assert june.cutoff == (2025, 6) and august.cutoff == (2025, 8)
    t_jul = june.months.index((2025, 7))
    assert june.actual_tkr[t_jul].sum() == 0.0  # July is forecast at the June close
    assert august.actual_tkr[t_jul].sum() != 0.0
    np.testing.assert_array_equal(june.actual_tkr[:t_jul], august.actual_tkr[:t_jul])
    assert june.month_actual_basis[t_jul] == "forecast"
    assert "2025-06" in august.closes or "2025-08" in august.closes


def test_the_full_year_forecast_is_actuals_to_date_plus_the_months_ahead(exempel: Path) -> None:
    for cut in ("2025-03", "2025-06", "2025-08"):
        case = load_case(exempel, cutoff=cut)
        r = run(baseline_scenario(), case)
        y2025 = [t for t, (y, _m) in enumerate(case.months) if y == 2025]
        c = case.cutoff_index
        actual = case.actual_tkr[[t for t in y2025 if t <= c]].sum()
        ahead = r._by_account[[t for t in y2025 if t > c]].sum()
        year = r.years_frame().set_index("year").loc[2025, "forecast_net_mkr"]
        assert year == pytest.approx((actual + ahead) / 1000.0, abs=1e-9)


def test_a_close_keeps_its_vintage_with_model_version_and_data_hash(exempel: Path) -> None:
    made = record_close(exempel, cutoff="2025-06")
    assert [v.year for v in made] == [2025, 2026, 2027]
    kept = read_vintages(exempel)
    assert {(v.cutoff, v.year) for v in kept} == {("2025-06", y) for y in (2025, 2026, 2027)}
    case = load_case(exempel, cutoff="2025-06")
    assert all(v.data_hash == case.data_hash and v.model_version for v in kept)
    direct = run(baseline_scenario(), case).years_frame().set_index("year").forecast_net_mkr
    for v in kept:
        assert v.forecast_net_mkr == pytest.approx(direct[v.year], abs=1e-6)
    record_close(exempel)  # the August close beside it
    assert {v.cutoff for v in read_vintages(exempel)} == {"2025-06", "2025-08"}
    record_close(exempel, cutoff="2025-06")  # closing again replaces, never duplicates
    assert len(read_vintages(exempel)) == 6


def test_the_vintages_list_every_close_with_budget_board_and_accuracy(exempel: Path) -> None:
    record_close(exempel, cutoff="2025-04")
    record_close(exempel, cutoff="2025-06")
    record_close(exempel)
    v = vintages_frame(exempel)
    assert list(v.cutoff.unique()) == ["2025-04", "2025-06", "2025-08"]
    assert v.kept.all()
    assert v.outcome_net_mkr.isna().all()  # no year of the horizon is closed yet
    latest = v[v.cutoff == "2025-08"].set_index("year").forecast_net_mkr
    for row in v.itertuples():
        assert row.accuracy_against == "latest_close"
        assert row.accuracy_mkr == pytest.approx(row.forecast_net_mkr - latest[row.year])
    board = v[(v.cutoff == "2025-08") & (v.year == 2025)].board_forecast_net_mkr.iloc[0]
    assert board == pytest.approx(load_case(exempel).board_forecast_net_mkr[2025])
    assert v[v.cutoff == "2025-04"].board_forecast_net_mkr.isna().all()


def test_the_bridge_between_two_closes_adds_up_to_the_move_to_the_krona(exempel: Path) -> None:
    record_close(exempel, cutoff="2025-05")
    for year in (2025, 2026):
        b = close_bridge(exempel, "2025-05", "2025-08", year)
        move = b.attrs["to_mkr"] - b.attrs["from_mkr"]
        assert b.effect_mkr.sum() == pytest.approx(move, abs=0.0005)  # half a krona, in mkr
        steps = b.groupby("step").effect_mkr.sum()
        assert steps["levers"] == 0.0  # two baselines: the board changed nothing
        assert steps["model_or_data"] == pytest.approx(0.0, abs=1e-9)  # kept = computed now
        if year == 2026:
            assert steps["new_actuals"] == 0.0  # no month of 2026 turned actual
    # June-August turned actual: per account, actual minus what May's close forecast
    new = close_bridge(exempel, "2025-05", "2025-08", 2025).query("step == 'new_actuals'")
    assert len(new) == len(load_case(exempel).accounts)
    assert new.effect_mkr.abs().sum() > 0


def test_a_kept_vintage_shows_a_later_data_change_as_its_own_step(exempel: Path) -> None:
    record_close(exempel, cutoff="2025-05")
    kept = {v.year: v.forecast_net_mkr for v in read_vintages(exempel)}
    # the region re-books: a vintage row says the forecast then was 10 mkr lower
    text = (exempel / "vintages.csv").read_text(encoding="utf-8")
    old = repr(kept[2025])
    (exempel / "vintages.csv").write_text(text.replace(old, repr(kept[2025] - 10), 1))
    b = close_bridge(exempel, "2025-05", "2025-08", 2025)
    assert b.query("step == 'model_or_data'").effect_mkr.iloc[0] == pytest.approx(10.0)
    assert b.effect_mkr.sum() == pytest.approx(b.attrs["to_mkr"] - b.attrs["from_mkr"], abs=5e-4)


def test_a_cut_off_the_ledger_does_not_reach_is_refused(exempel: Path) -> None:
    with pytest.raises(DataError, match=r"cutoff.*2025-09.*allowed: 2025-01 to 2025-08"):
        load_case(exempel, cutoff="2025-09")
    with pytest.raises(DataError, match="not a month"):
        load_case(exempel, cutoff="juni")


def test_the_command_line_closes_and_lists_the_vintages(exempel: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "balans", *args], capture_output=True, text=True, timeout=120
        )

    out = cli("close", "--case", str(exempel), "--cutoff", "2025-06")
    assert out.returncode == 0, out.stderr
    out = cli("close", "--case", str(exempel))
    assert out.returncode == 0, out.stderr
    listed = cli("vintages", "--case", str(exempel), "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert {r["cutoff"] for r in rows} == {"2025-06", "2025-08"}
    for r in rows:
        assert {"cutoff", "year", "forecast_net_mkr", "budget_net_mkr"} <= set(r)
        assert "board_forecast_net_mkr" in r and "outcome_net_mkr" in r
    run_june = cli("run", "--case", str(exempel), "--cutoff", "2025-06", "--json")
    assert json.loads(run_june.stdout)["stamp"]["cutoff"] == "2025-06"
    text = cli("vintages", "--case", str(exempel)).stdout
    assert "juni 2025" in text and "augusti 2025" in text


def test_the_app_and_the_report_draw_the_forecast_curve(exempel: Path) -> None:
    from balans.faces.app import BalansApp
    from balans.presentation import report

    record_close(exempel, cutoff="2025-06")
    record_close(exempel)
    app = BalansApp(case=exempel)
    assert app.case.closes == ("2025-06", "2025-08")
    chart = app.build_chart("curve").to_dict()
    values = [
        row
        for data in chart.get("datasets", {}).values()
        for row in data
        if isinstance(row, dict) and "series" in row
    ]
    assert {row["close"] for row in values} == {"juni 2025", "augusti 2025"}
    app._draw_chart("curve")
    assert "sedan förra månadsbokslutet" in app.close_change.value
    assert "Sedan månadsbokslutet för juni 2025" in app.close_change.value
    rep = report.Report.from_parameters(
        str(exempel / "scenarios" / "hyrpersonal_halveras.yaml"),
        str(exempel / "out"),
        "sv",
        str(exempel),
    )
    text = str(rep.closes())
    assert (
        "Prognosutveckling" in text
        and "<svg" in text
        and "sedan månadsbokslutet för juni 2025" in text
    )


def test_a_case_with_one_close_draws_no_curve(tmp_path: Path) -> None:
    from balans.faces.app import BalansApp
    from balans.presentation import report

    app = BalansApp(case=TINY)
    app._draw_chart("curve")
    assert app.chart_boxes["curve"].layout.display == "none"
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text("name: Basprognos\n", encoding="utf-8")
    rep = report.Report.from_parameters(
        str(baseline), str(REPO / "build" / "report_one_close"), "sv", str(TINY)
    )
    assert str(rep.closes()) == str(report.Html(""))


def test_a_close_that_cannot_be_kept_says_so_and_writes_nothing(exempel: Path, monkeypatch) -> None:
    import balans.analysis.closes as closes

    def refuse(path: Path, text: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(closes, "write_text_atomic", refuse)
    with pytest.raises(DataError, match=r"vintages\.csv: the vintage cannot be kept"):
        record_close(exempel)
    assert not (exempel / "vintages.csv").exists()


def test_a_pay_revision_already_in_the_actuals_cannot_be_changed(exempel: Path) -> None:
    from balans.errors import ScenarioError
    from balans.inputs.scenario import Scenario

    case = load_case(exempel)
    assert case.pay_revision_paid  # 2025's revision was paid in May, before the August close
    sc = Scenario.model_validate({"name": "x", "levers": {"pay_revision_pct": {2025: 6.0}}})
    with pytest.raises(ScenarioError, match=r"2025's revision is in the actuals already"):
        run(sc, case)
    same = case.param("pay_revision_pct_2025")
    ok = Scenario.model_validate(
        {"name": "y", "levers": {"pay_revision_pct": {2025: same, 2026: 5.0}}}
    )
    assert run(ok, case).years_frame().set_index("year").loc[2026, "change_vs_baseline_mkr"] < 0


def test_closing_with_the_mapping_imports_again_and_keeps_the_earlier_vintages(
    tmp_path: Path,
) -> None:
    """`balans close MAPPING --case DIR`: the month's import and its close in one command;
    the vintages of earlier closes survive the import, as they were made."""
    region = tmp_path / "region"
    shutil.copytree(REPO / "examples" / "exempel_region", region)
    case = tmp_path / "case"

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "balans", *args], capture_output=True, text=True, timeout=300
        )

    assert cli("import", str(region / "mapping.yaml"), "--out", str(case)).returncode == 0
    first = cli("close", "--case", str(case), "--cutoff", "2025-06")
    assert first.returncode == 0, first.stderr
    kept = {(v.cutoff, v.year): v.forecast_net_mkr for v in read_vintages(case)}
    again = cli("close", str(region / "mapping.yaml"), "--case", str(case))
    assert again.returncode == 0, again.stderr
    assert "reconciled per month to the krona: OK" in again.stderr  # the import's report
    assert "Sedan månadsbokslutet för juni 2025" in again.stdout
    now = {(v.cutoff, v.year): v.forecast_net_mkr for v in read_vintages(case)}
    assert {c for c, _y in now} == {"2025-06", "2025-08"}
    for k, v in kept.items():
        assert now[k] == v  # the June vintage as it was made
