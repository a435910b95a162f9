"""A snapshot of the shipped scenarios' summaries (rounded to 0.1 mkr).

A change in any figure fails here on purpose: read the diff, and if the change is meant,
regenerate with ``BALANS_UPDATE_SNAPSHOTS=1 pytest tests/test_snapshots.py`` and say why
in the commit."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from conftest import SCENARIOS, TESTS

from balans import run_file

SNAPSHOT = TESTS / "snapshots" / "scenario_summaries.csv"


def _summaries() -> pd.DataFrame:
    rows = []
    for path in SCENARIOS:
        r = run_file(path)
        for y in r.years_frame().itertuples():
            row = {
                "scenario": path.stem,
                "year": y.year,
                "forecast_net_mkr": y.forecast_net_mkr,
                "deviation_mkr": y.deviation_mkr,
            }
            bridge = r.bridge_frame()
            for b in bridge[bridge.year == y.year].itertuples():
                row[b.step] = b.effect_mkr
            rows.append(row)
    return pd.DataFrame(rows).round(1)


def test_shipped_scenarios_match_the_snapshot():
    got = _summaries()
    if os.environ.get("BALANS_UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        got.to_csv(SNAPSHOT, index=False)
    want = pd.read_csv(SNAPSHOT)
    assert sorted(got.scenario.unique()) == sorted(want.scenario.unique()), (
        "a scenario was added or removed"
    )
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), want, check_dtype=False, atol=0.05, rtol=0
    )


def test_the_baseline_row_is_all_zero_steps():
    got = _summaries()
    base = got[got.scenario == "baseline"].drop(
        columns=["scenario", "year", "forecast_net_mkr", "deviation_mkr"]
    )
    assert (base.abs() == 0).all().all()
    # the run-rate with the stricter rest rule (decided before the April 2023 cut-off)
    assert got.loc[got.scenario == "baseline", "forecast_net_mkr"].tolist() == pytest.approx(
        [-3574.7, -3810.6], abs=0.05
    )
