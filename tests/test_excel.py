"""The planners' workbooks: Swedish headers, rounded figures, a first sheet that says what
the workbook stands on, and every column explained."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from conftest import REPO, TINY

from balans import DEFAULT_CASE_DIR, load_case, run_file
from balans.inputs.scenario import baseline_scenario
from balans.model.api import run
from balans.presentation.excel import SHEET_FRAMES, _column, result_workbook, summary_workbook
from balans.presentation.summary import standing_text

EXEMPEL = REPO / "tests" / "cases" / "exempel"


@pytest.fixture(scope="module")
def hyrstopp():
    return run_file(REPO / "scenarios" / "hyrstopp.yaml")


@pytest.fixture(scope="module")
def book(hyrstopp):
    return pd.read_excel(io.BytesIO(result_workbook(hyrstopp)), sheet_name=None)


def test_the_workbook_opens_on_what_it_stands_on(book, hyrstopp) -> None:
    first = next(iter(book))
    assert first == "Om filen"
    about = dict(zip(book[first]["Uppgift"], book[first]["Värde"], strict=True))
    assert about["Scenario"] == hyrstopp.scenario.name
    assert (
        about["Månadsbokslut"]
        == "HSN Region Jämtland Härjedalen. Utfall t.o.m. april 2023, prognos därefter."
    )
    assert about["Scenarioversion"] == hyrstopp.scenario.hash
    assert about["Dataversion"] == hyrstopp.case.data_hash
    assert "0,1 mkr" in about["Enheter"]


def test_every_header_is_words_and_every_column_is_explained(book) -> None:
    explained = book["Kolumner"]
    assert (explained["Betydelse"].str.len() > 5).all()
    for name, sheet in book.items():
        for head in sheet.columns:
            assert "_" not in str(head), f"{name}: {head}"
    data_sheets = {"År", "Brygga", "Kostnadsslag", "Divisioner", "Månader", "Bemanning"}
    for name in data_sheets:
        listed = set(explained.loc[explained["Blad"] == name, "Kolumn"])
        assert listed == set(book[name].columns), name


def test_figures_are_rounded_as_a_planner_reads_them(book, hyrstopp) -> None:
    years = book["År"].set_index("År")
    for y in hyrstopp.years_frame().itertuples():
        assert years.loc[y.year, "Helårsprognos netto"] == round(y.forecast_net_mkr, 1)
    for name in ("År", "Kostnadsslag", "Divisioner", "Månader"):
        for col in book[name].select_dtypes("number").columns:
            if col in ("År", "Månader med utfall"):
                continue
            tenths = book[name][col] * 10
            assert ((tenths - tenths.round()).abs() < 1e-6).all(), (name, col)
    hours = book["Bemanning"]["Hyrtimmar"]
    assert (hours == hours.round()).all()


def test_codes_are_words(book) -> None:
    assert set(book["Brygga"]["Steg"]) >= {"Lönerevision", "Minskad hyrpersonal"}
    assert set(book["Kostnadsslag"]["Intäkt eller kostnad"]) == {"intäkt", "kostnad"}
    assert set(book["Månader"]["Utfall eller prognos"]) == {"utfall", "prognos"}
    assert set(book["Divisioner"]["Underlag"]) == {"fördelad"}


@pytest.mark.parametrize(
    "folder", [DEFAULT_CASE_DIR, TINY, EXEMPEL], ids=["rjh", "tiny", "exempel"]
)
def test_every_column_of_every_case_has_its_words(folder) -> None:
    r = run(baseline_scenario(), load_case(folder))
    for sheet in SHEET_FRAMES:
        for col in getattr(r, f"{sheet}_frame")().columns:
            if col in ("account", "division", "name_en"):
                continue
            head, _unit, meaning = _column(col, r.case, "sv")
            assert head != col and meaning, (sheet, col)
            assert _column(col, r.case, "en")[0] != col, (sheet, col)


def test_the_batch_summary_workbook_names_its_case_and_close() -> None:
    case = load_case(DEFAULT_CASE_DIR, cutoff="2024-09")
    summary = pd.DataFrame(
        [
            {
                "scenario": "baseline",
                "name": "Basprognos",
                "scenario_file": "baseline.yaml",
                "scenario_hash": "abc",
                "forecast_net_mkr_2024": -3750.8102,
                "deviation_mkr_2024": -398.81,
                "year_end_agency_share_pct": 5.83,
                "model_version": "0.1.0",
                "data_hash": case.data_hash,
                "report_html": "reports/baseline.html",
            }
        ]
    )
    notes = pd.DataFrame({"Kolumn": ["", "forecast_net_mkr_2024"], "Betydelse": ["x", "y"]})
    close = standing_text(case, "sv")
    book = pd.read_excel(
        io.BytesIO(summary_workbook(summary, notes, case.name, close, "sv", case)), sheet_name=None
    )
    assert list(book) == ["Om filen", "Sammanställning", "Kolumner", "Underlag"]
    about = dict(zip(book["Om filen"]["Uppgift"], book["Om filen"]["Värde"], strict=True))
    assert "september 2024" in about["Månadsbokslut"]
    row = book["Sammanställning"].iloc[0]
    assert row["Helårsprognos netto 2024"] == -3750.8
    assert row["Hyrandel vid årets slut"] == 5.8
    assert "Helårsprognos netto 2024" in set(book["Underlag"]["Kolumn"])
