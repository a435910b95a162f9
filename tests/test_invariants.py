"""What must always hold (MODEL.md), as properties over generated scenarios."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from balans import STEPS, parse_scenario, run

FORECAST_MONTHS = [f"{y}-{m:02d}" for y in (2023, 2024) for m in range(1, 13)][4:]
PROPS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

pct = st.floats(0, 100, allow_nan=False)
month = st.sampled_from(FORECAST_MONTHS)


@st.composite
def replacement(draw):
    own = draw(st.integers(0, 100))
    bought = draw(st.integers(0, 100 - own))
    return {
        "own_staff_pct": own,
        "purchased_care_pct": bought,
        "not_replaced_pct": 100 - own - bought,
    }


@st.composite
def levers(draw):
    out = {}
    if draw(st.booleans()):
        out["staffing_reduction"] = {
            "target_pct": draw(st.floats(0, 20)),
            "start": draw(month),
            "ramp_months": draw(st.integers(0, 36)),
        }
    if draw(st.booleans()):
        out["agency"] = {
            "change_pct": draw(st.floats(-100, 50)),
            "start": draw(month),
            "ramp_months": draw(st.integers(0, 24)),
            "replacement": draw(replacement()),
            "fill_rate_pct": draw(st.floats(50, 100)),
        }
    if draw(st.booleans()):
        out["drug_cost_growth_pct"] = draw(st.floats(-5, 25))
    if draw(st.booleans()):
        ot = draw(st.floats(0, 100))
        out["rest_rule"] = {
            "start": draw(month),
            "extra_need_pct": draw(st.floats(0, 15)),
            "weekend_mitigation_pct": draw(pct),
            "overtime_pct": ot,
            "agency_pct": draw(st.floats(0, 100 - ot)),
        }
    if draw(st.booleans()):
        out["realisation_pct"] = draw(pct)
    if draw(st.booleans()):
        out["pay_revision_pct"] = draw(st.floats(0, 10))
    if draw(st.booleans()):
        out["revenue"] = {
            "change_pct": draw(st.floats(-20, 20)),
            "mkr_per_year": draw(st.floats(-500, 500)),
            "start": draw(month),
        }
    if draw(st.booleans()):
        out["measures"] = [
            {
                "name": f"m{i}",
                "mkr_per_year": draw(st.floats(0, 1000)),
                "start": draw(month),
                "account": draw(st.sampled_from(["other_costs", "personnel", "sales"])),
            }
            for i in range(draw(st.integers(1, 3)))
        ]
    return out


def scenario(lv: dict):
    return parse_scenario({"name": "property", "levers": lv})


def test_no_lever_moved_is_the_baseline_to_the_krona(engine):
    r = run(scenario({}))
    acc = r._by_account
    assert np.array_equal(acc, engine.baseline)  # bit for bit, not approximately
    assert all(v == 0 for v in r.bridge_frame().effect_mkr)


def test_levers_present_at_their_baseline_values_change_nothing(engine, case):
    lv = {
        "drug_cost_growth_pct": case.param("drug_cost_growth_pct"),
        "pay_revision_pct": {
            2023: case.param("pay_revision_pct_2023"),
            2024: case.param("pay_revision_pct_2024"),
        },
        "staffing_reduction": {"target_pct": 0},
        "agency": {"change_pct": 0},
        "realisation_pct": 100,
    }
    assert np.array_equal(run(scenario(lv))._by_account, engine.baseline)


@PROPS
@given(levers())
def test_bridge_steps_add_up_to_the_change(lv):
    r = run(scenario(lv))
    years = r.years_frame().set_index("year")
    bridge = r.bridge_frame().groupby("year").effect_mkr.sum()
    for y in years.index:
        assert bridge[y] == pytest.approx(years.loc[y, "change_vs_baseline_mkr"], abs=1e-6)
    assert set(r.bridge_frame().step) == set(STEPS)


@PROPS
@given(levers())
def test_totals_reconcile(lv):
    r = run(scenario(lv))
    years = r.years_frame().set_index("year")
    accounts = r.accounts_frame().groupby("year").forecast_mkr.sum()
    divisions = r.divisions_frame().groupby("year").net_mkr.sum()
    months = r.monthly_frame().groupby("year").net_mkr.sum()
    for y in years.index:
        net = years.loc[y, "forecast_net_mkr"]
        assert accounts[y] == pytest.approx(net, abs=1e-6)
        assert divisions[y] == pytest.approx(net, abs=1e-6)
        assert months[y] == pytest.approx(net, abs=1e-6)
        assert years.loc[y, "revenue_mkr"] + years.loc[y, "gross_cost_mkr"] == pytest.approx(
            net, abs=1e-6
        )
        assert years.loc[y, "deviation_mkr"] == pytest.approx(
            net - years.loc[y, "budget_net_mkr"], abs=1e-9
        )


@PROPS
@given(levers())
def test_deterministic_bit_for_bit(lv):
    a = run(scenario(lv))._by_account
    b = run(scenario(lv))._by_account
    assert np.array_equal(a, b)


@PROPS
@given(levers())
def test_actuals_are_never_changed_by_a_lever(engine, lv):
    acc = run(scenario(lv))._by_account
    assert np.array_equal(acc[: engine.c + 1], engine.baseline[: engine.c + 1])


def _total_cost(engine, L):
    """Gross cost over the horizon (tkr, positive) per scenario."""
    return -engine.evaluate(L).gross_cost.sum(axis=1)


@PROPS
@given(st.lists(st.floats(-5, 25), min_size=2, max_size=20))
def test_more_drug_growth_never_lowers_cost(engine, rates):
    rates = np.sort(np.array(rates))
    L = dataclasses.replace(engine.default_levers(len(rates)), drug_growth_pct=rates)
    cost = _total_cost(engine, L)
    assert np.all(np.diff(cost) >= -1e-9)


@PROPS
@given(
    st.lists(st.floats(0, 20), min_size=2, max_size=20),
    st.integers(0, 36),
    st.sampled_from(range(4, 24)),
)
def test_larger_staffing_reduction_never_raises_cost(engine, targets, ramp, start):
    targets = np.sort(np.array(targets))
    n = len(targets)
    L = dataclasses.replace(
        engine.default_levers(n),
        staff_target_pct=targets,
        staff_ramp_months=np.full(n, float(ramp)),
        staff_start=np.full(n, float(start)),
    )
    cost = _total_cost(engine, L)
    assert np.all(np.diff(cost) <= 1e-9)


@PROPS
@given(levers())
def test_rest_rule_on_never_lowers_cost(engine, lv):
    lv = dict(lv)
    lv.pop("rest_rule", None)
    on = dict(lv, rest_rule={"start": "2023-10"})
    off_cost = -run(scenario(lv)).years_frame().gross_cost_mkr.sum()
    on_cost = -run(scenario(on)).years_frame().gross_cost_mkr.sum()
    assert on_cost >= off_cost - 1e-9


def test_many_scenarios_at_once_equal_one_at_a_time(engine):
    lvs = [
        {},
        {"drug_cost_growth_pct": 9},
        {"staffing_reduction": {"target_pct": 6, "start": "2024-01"}, "realisation_pct": 37},
        {"agency": {"change_pct": -80, "start": "2023-09"}, "rest_rule": {}},
        {"measures": [{"name": "x", "mkr_per_year": 50}], "realisation_pct": 50},
    ]
    scenarios = [scenario(lv) for lv in lvs]
    batch = engine.evaluate(engine.compile(scenarios))
    for i, s in enumerate(scenarios):
        one = engine.evaluate(engine.compile([s]))
        assert np.allclose(batch.net[i], one.net[0], rtol=0, atol=1e-9)
        assert np.allclose(batch.bridge_mkr[i], one.bridge_mkr[0], rtol=0, atol=1e-12)


def test_units_are_named(engine, case):
    r = run(scenario({"rest_rule": {}}))
    for frame in (
        r.years_frame(),
        r.accounts_frame(),
        r.divisions_frame(),
        r.monthly_frame(),
        r.staffing_frame(),
        r.access_frame(),
    ):
        for col in frame.columns:
            if frame[col].dtype.kind == "f":
                assert col.endswith(("_mkr", "_pct", "_hours", "_fte")), col
