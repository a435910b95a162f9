"""Chart builders, checked on their Vega-Lite specs: marks, encodings, titles, formats."""

from __future__ import annotations

import pytest
from conftest import REPO

from balans import run_file
from balans.presentation import charts


@pytest.fixture(scope="module")
def package():
    return run_file(REPO / "scenarios" / "balanspaket_2024.yaml")


def _layers(spec):
    return spec.get("layer") or spec.get("hconcat") or [spec]


def test_swedish_number_and_month_format_in_every_chart(package):
    for build in (
        lambda: charts.forecast_vs_budget_chart(package, 2024),
        lambda: charts.bridge_chart(package, 2024),
        lambda: charts.agency_share_chart(package),
        lambda: charts.staffing_chart(package),
        lambda: charts.access_chart(package),
    ):
        spec = build().to_dict()
        number = spec["config"]["locale"]["number"]
        assert (
            number["decimal"] == ","
            and number["thousands"] == "\u00a0"
            and number["minus"] == "\u2212"
        )
        assert spec["config"]["locale"]["time"]["shortMonths"][4] == "maj"


def test_forecast_chart_marks_actuals_apart_from_forecast(package):
    spec = charts.forecast_vs_budget_chart(package, None, cumulative=False).to_dict()
    assert spec["title"] == "Nettokostnad per månad mot budget"
    line, points = spec["layer"]
    assert line["mark"]["type"] == "line" and points["mark"]["type"] == "point"
    assert line["encoding"]["strokeDash"]["field"] == "serie"
    assert line["encoding"]["x"]["type"] == "temporal"
    assert line["encoding"]["y"]["axis"]["format"] == ",.0f"
    assert line["encoding"]["y"]["title"] == "Nettokostnader, mkr"
    assert points["transform"][0]["filter"] == "(datum.series === 'actual')"
    assert line["encoding"]["color"]["scale"]["domain"] == [
        "Utfall",
        "Helårsprognos",
        "Budget",
        "Basprognos",
    ]


def test_forecast_frame_is_the_results_monthly_figures(package):
    df = charts.forecast_frame(package, 2024, cumulative=True)
    fc = df[df.series == "forecast"].value_mkr.iloc[-1]
    assert fc == pytest.approx(
        package.years_frame().set_index("year").loc[2024, "forecast_net_mkr"]
    )


def test_bridge_bars_are_the_bridge(package):
    df = charts.bridge_frame(package, 2024)
    years = package.years_frame().set_index("year")
    assert df.label.iloc[0] == "Basprognos" and df.label.iloc[-1] == "Helårsprognos"
    assert df.end.iloc[-2] == pytest.approx(years.loc[2024, "forecast_net_mkr"], abs=1e-6)
    steps = df[df.kind != "total"]
    assert steps.value_mkr.sum() == pytest.approx(
        years.loc[2024, "change_vs_baseline_mkr"], abs=0.1
    )
    assert "Ej realiserad effekt" in set(steps.label)
    assert df.text.iloc[-1] == "\u22123\u00a0742,9\u00a0mkr"
    spec = charts.bridge_chart(package, 2024).to_dict()
    bars = spec["layer"][0]
    assert bars["mark"]["type"] == "bar" and "y2" in bars["encoding"]
    assert spec["title"] == "Från basprognos till scenario 2024"


def test_agency_share_chart_shows_the_7_pct_target(package):
    spec = charts.agency_share_chart(package).to_dict()
    _line, rule, _ = spec["layer"]
    assert rule["mark"]["type"] == "rule"
    datasets = spec["datasets"]
    assert any(row.get("target_pct") == 7.0 for rows in datasets.values() for row in rows)
    assert spec["title"] == "Hyrpersonalens andel av personalkostnaden"


def test_staffing_and_access_charts(package):
    staffing = charts.staffing_chart(package).to_dict()
    assert [c["mark"]["type"] for c in staffing["hconcat"]] == ["line", "bar"]
    access = charts.access_chart(package).to_dict()
    assert access["mark"]["type"] == "bar"
    assert access["encoding"]["color"]["scale"]["domain"][0] == "Hyrtimmar som inte ersätts"


def test_english_labels(package):
    spec = charts.bridge_chart(package, 2024, lang="en").to_dict()
    assert spec["title"] == "From baseline to scenario 2024"
    assert spec["config"]["locale"]["number"]["decimal"] == "."
