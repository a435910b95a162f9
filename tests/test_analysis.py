"""What it takes to reach balance: uncertainty (Monte Carlo), sensitivity (tornado), goal seek.

Hand-computed figures use the tiny case (tests/cases/tiny): personnel 500 tkr a month
(10 FTE x 100 h x 500 kr), revenue 300 tkr a month, a 2024 deviation of +0.6 mkr in the
baseline. With the rest rule from January 2024 covered only by overtime, the extra need of
x per cent is 10 FTE x 100 h x 50 % x x % = 5x hours a month at 500 kr x 1.5 = 750 kr an
hour: 3.75x tkr a month, 0.045x mkr in 2024, so the 2024 deviation is 0.6 - 0.045x mkr.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from conftest import REPO, TINY, by_year

from balans import DataError, load_case, load_scenario, parse_scenario, run
from balans.analysis import (
    GOAL_LEVERS,
    AnalysisError,
    goal_seek,
    monte_carlo,
    tornado,
    triangular_quantile,
    uncertainties,
    uniform_draws,
)
from balans.faces.cli import main
from balans.presentation.analysis_charts import fan_chart, tornado_chart

SCEN = REPO / "scenarios"


def scenario(name: str):
    return load_scenario(SCEN / f"{name}.yaml")


def tiny_scenario(levers: dict | None = None, **extra):
    return parse_scenario({"name": "test", "levers": levers or {}, **extra})


# The tiny board with the rest rule from 2024 covered only by overtime (see the docstring).
REST_BY_OVERTIME = {"rest_rule": {"start": "2024-01", "overtime_pct": 100, "agency_pct": 0}}


def rest_need_only():
    return [u for u in uncertainties(TINY) if u.key == "rest_rule_extra_need_pct"]


# ----------------------------------------------------------------- uncertain inputs as data


def test_uncertain_inputs_and_their_ranges_come_from_parameters_csv(case):
    got = {u.key: u for u in uncertainties(case)}
    assert set(got) == {
        "pay_revision_pct_2023",
        "pay_revision_pct_2024",
        "drug_cost_growth_pct",
        "price_growth_pct",
        "attrition_pct_per_year",
        "agency_to_own_cost_ratio",
        "purchased_care_to_own_cost_ratio",
        "overtime_cost_factor",
        "rest_rule_share_24_7_pct",
        "rest_rule_extra_need_pct",
        "agency_fill_rate_pct",
        "realisation_history_pct",
        "purchased_care_price_growth_pct",
        "care_not_delivered_cost_to_own_ratio",
    }
    drug = got["drug_cost_growth_pct"]
    # 002: 10-12 % in Q1 (value 11); the account's own Jan-Apr growth 8.8 % as the low end
    assert (drug.low, drug.mode, drug.high, drug.distribution) == (8.8, 11.0, 12.0, "triangular")
    assert drug.bounds == (-5.0, 25.0)  # the lever's bounds in the scenario format
    assert got["pay_revision_pct_2024"].field == "pay_pct"
    assert got["pay_revision_pct_2024"].column == 1
    # an assumption a scenario may override is clipped to its own plausible range
    assert got["attrition_pct_per_year"].bounds == (4.7, 10.0)
    real = got["realisation_history_pct"]
    assert (real.low, real.high, real.around_scenario) == (20.0, 100.0, True)


def test_a_distribution_needs_a_range_and_a_lever(case_copy):
    p = case_copy / "parameters.csv"
    text = p.read_text(encoding="utf-8")
    p.write_text(
        text.replace(
            "price_growth_pct,3.0,pct_per_year,assumption,1.5,5.0",
            "price_growth_pct,3.0,pct_per_year,assumption,,",
        ),
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=r"parameters\.csv.*'price_growth_pct'.*no plausible range"):
        uncertainties(load_case(case_copy))
    p.write_text(
        text.replace(
            "Räknar om hyrpersonalens årsarbetare till timmar och tillbaka.,",
            "Räknar om hyrpersonalens årsarbetare till timmar och tillbaka.,uniform",
        ),
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=r"'hours_per_fte_year' has a distribution but no lever"):
        uncertainties(load_case(case_copy))


def test_triangular_quantiles_by_hand():
    q = np.array([0.0, 0.525, 1.0])
    # pay revision 2.0 / 4.1 / 6.0: the mode sits at q = (4.1 - 2) / 4 = 0.525
    assert triangular_quantile(q, 2.0, 4.1, 6.0) == pytest.approx([2.0, 4.1, 6.0])
    # mode at the low end: q = 0.75 -> 20 - sqrt(0.25 x 20 x 20) = 10
    assert triangular_quantile(np.array([0.75]), 0.0, 0.0, 20.0) == pytest.approx([10.0])
    # a range of zero width gives its one value
    assert triangular_quantile(np.array([0.3]), 5.0, 5.0, 5.0) == pytest.approx([5.0])


# ----------------------------------------------------------------- Monte Carlo


def test_monte_carlo_rest_rule_need_by_hand():
    # extra need uniform 0-20 % (tiny data), clipped to the lever's 0-15 %; 2024 deviation
    # 0.6 - 0.045x: balance when x <= 13.33, i.e. in 13.33 / 20 = 2/3 of the draws
    mc = monte_carlo(
        tiny_scenario(REST_BY_OVERTIME), TINY, n_draws=10_000, seed=1, inputs=rest_need_only()
    )
    s = mc.summary_frame().set_index("year")
    assert s.loc[2024, "deviation_deterministic_mkr"] == pytest.approx(0.6 - 0.45)
    assert s.loc[2024, "balance_probability_pct"] == pytest.approx(100 * 2 / 3, abs=1.5)
    assert s.loc[2024, "deviation_p50_mkr"] == pytest.approx(0.6 - 0.045 * 10, abs=0.01)
    assert s.loc[2024, "deviation_p90_mkr"] == pytest.approx(0.6 - 0.045 * 2, abs=0.01)
    # a quarter of the draws are above 15 % and clipped to it: P10 is exactly x = 15
    assert s.loc[2024, "deviation_p10_mkr"] == pytest.approx(0.6 - 0.045 * 15, abs=1e-9)
    assert mc.lever_values["rest_rule_extra_need_pct"].max() == 15.0
    # the rule starts in 2024: 2023 is the baseline in every draw
    assert np.all(mc.deviation_by_year_mkr[:, 0] == mc.deviation_by_year_mkr[0, 0])


def test_monte_carlo_with_a_fixed_seed_is_reproducible_bit_for_bit():
    sc = scenario("balanspaket_2024")
    a = monte_carlo(sc, n_draws=2000, seed=7)
    b = monte_carlo(sc, n_draws=2000, seed=7)
    assert np.array_equal(a.deviation_by_year_mkr, b.deviation_by_year_mkr)
    assert a.fan_frame().equals(b.fan_frame())
    c = monte_carlo(sc, n_draws=2000, seed=8)
    assert not np.array_equal(a.deviation_by_year_mkr, c.deviation_by_year_mkr)


def test_each_input_has_its_own_stream_of_draws():
    # dropping another input leaves an input's draws as they were
    sc = scenario("balanspaket_2024")
    full = monte_carlo(sc, n_draws=500, seed=3)
    drug_only = [u for u in full.uncertainties if u.key == "drug_cost_growth_pct"]
    one = monte_carlo(sc, n_draws=500, seed=3, inputs=drug_only)
    assert np.array_equal(full.inputs["drug_cost_growth_pct"], one.inputs["drug_cost_growth_pct"])
    assert np.array_equal(uniform_draws("x", 5, 3), uniform_draws("x", 5, 3))


def test_a_draw_moves_the_scenario_own_value():
    # drug growth set to 9 % in the scenario: the draws (8.8-12 around 11) move it by -2.2..+1
    mc = monte_carlo(scenario("lakemedel_riksniva"), n_draws=4000, seed=2)
    drawn, used = mc.inputs["drug_cost_growth_pct"], mc.lever_values["drug_cost_growth_pct"]
    assert used == pytest.approx(9.0 + drawn - 11.0)
    assert used.min() >= 6.8 and used.max() <= 10.0


def test_realisation_is_drawn_around_the_scenario_own_realisation():
    mc = monte_carlo(scenario("atgardsplaner_100"), n_draws=4000, seed=2)
    real = mc.lever_values["realisation_history_pct"]
    # triangular(20, 100, 100): mean (20 + 100 + 100) / 3 = 73.3
    assert real.min() >= 20.0 and real.max() <= 100.0
    assert real.mean() == pytest.approx(73.3, abs=1.0)


def test_median_is_close_to_the_deterministic_result_when_ranges_are_symmetric():
    sc = scenario("balanspaket_2024")
    symmetric = []
    for u in uncertainties():
        centre = 37.4 if u.around_scenario else u.mode  # the scenario's realisation is 37.4
        w = min(centre - u.low, u.high - centre)
        symmetric.append(replace(u, low=centre - w, high=centre + w))
    mc = monte_carlo(sc, n_draws=10_000, seed=11, inputs=symmetric)
    s = mc.summary_frame()
    spread = (s.deviation_p90_mkr - s.deviation_p10_mkr).to_numpy()
    gap = (s.deviation_p50_mkr - s.deviation_deterministic_mkr).abs().to_numpy()
    # within 1 % of the P10-P90 width (compounding makes the model slightly non-linear)
    assert np.all(gap < 0.01 * spread), (gap, spread)
    assert np.all(spread > 20)  # and the ranges do spread the result


def test_fan_chart_data_ends_each_year_at_the_full_year_deviation():
    mc = monte_carlo(scenario("balanspaket_2024"), n_draws=3000, seed=5)
    fan = mc.fan_frame("cumulative_deviation_mkr").set_index("month")
    s = mc.summary_frame().set_index("year")
    for y in (2023, 2024):
        dec = fan.loc[f"{y}-12"]
        assert dec.p50 == pytest.approx(s.loc[y, "deviation_p50_mkr"])
        assert dec.p10 == pytest.approx(s.loc[y, "deviation_p10_mkr"])
        assert dec.deterministic == pytest.approx(s.loc[y, "deviation_deterministic_mkr"])
        assert dec.p10 <= dec.p50 <= dec.p90
    # the actual months carry no uncertainty
    actual = mc.fan_frame()[lambda d: d.is_actual]
    assert (actual.p10 == actual.p90).all()
    with pytest.raises(AnalysisError, match="allowed: cumulative_deviation_mkr"):
        mc.fan_frame("nonsense")


# ----------------------------------------------------------------- tornado


def test_tornado_by_hand_on_the_tiny_case():
    t = tornado(tiny_scenario(REST_BY_OVERTIME), TINY, year=2024, inputs=rest_need_only())
    row = t.iloc[0]
    # the range 0-20 % meets the lever's bound 15 %: 0.6 - 0 and 0.6 - 0.045 x 15
    assert (row.value_at_low, row.value_at_high) == (0.0, 15.0)
    assert row.deviation_low_mkr == pytest.approx(0.6, abs=1e-9)
    assert row.deviation_high_mkr == pytest.approx(0.6 - 0.675, abs=1e-9)
    assert row.swing_mkr == pytest.approx(0.675, abs=1e-9)


def _at(sc, key: str, value: float, case):
    """The scenario with one input set to ``value``, written as a planner would."""
    data = sc.model_dump(mode="json", exclude_none=True)
    lv = data.setdefault("levers", {})
    years = [2023, 2024]
    if key.startswith("pay_revision_pct_"):
        pay = {y: case.param(f"pay_revision_pct_{y}") for y in years}
        pay[int(key[-4:])] = value
        lv["pay_revision_pct"] = pay
    elif key == "drug_cost_growth_pct":
        lv["drug_cost_growth_pct"] = value
    elif key == "price_growth_pct":
        lv["price_growth_pct"] = value
    elif key == "rest_rule_extra_need_pct":
        lv.setdefault("rest_rule", {})["extra_need_pct"] = value
    elif key == "agency_fill_rate_pct":
        lv.setdefault("agency", {})["fill_rate_pct"] = value
    elif key == "realisation_history_pct":
        lv["realisation_pct"] = value
    else:
        data.setdefault("assumptions", {})[key] = value
    return parse_scenario(data)


def test_tornado_bars_equal_the_engine_results_at_the_range_ends(case):
    sc = scenario("balanspaket_2024")
    t = tornado(sc, year=2024)
    assert t.deviation_base_mkr.iloc[0] == pytest.approx(by_year(run(sc), "deviation_mkr", 2024))
    for row in t.itertuples():
        for end in ("low", "high"):
            r = run(_at(sc, row.key, getattr(row, f"value_at_{end}"), case))
            assert getattr(row, f"deviation_{end}_mkr") == pytest.approx(
                by_year(r, "deviation_mkr", 2024), abs=1e-6
            ), (row.key, end)
    # sorted by swing, largest first; realisation (20-100 % around the plan's 37.4 %) leads
    assert list(t.swing_mkr) == sorted(t.swing_mkr, reverse=True)
    assert t.key.iloc[0] == "realisation_history_pct"


# ----------------------------------------------------------------- goal seek


def test_goal_seek_by_hand_on_the_tiny_case():
    # revenue from the first forecast month: the 2024 effect is the mkr a year itself
    g = goal_seek(tiny_scenario(), "revenue.mkr_per_year", 2024, 1.2, TINY, tolerance_mkr=1e-9)
    assert g.reachable and g.value == pytest.approx(0.6, abs=1e-9)
    # a change in per cent of 300 tkr a month of revenue: 3.6 mkr x pct / 100 = 0.6
    g = goal_seek(tiny_scenario(), "revenue.change_pct", 2024, 1.2, TINY, tolerance_mkr=1e-9)
    assert g.value == pytest.approx(100 * 0.6 / 3.6, abs=1e-6)
    # staffing from January 2024 over 12 months saves 500 x pct/100/12 x 78 = 32.5 tkr per pct
    sc = tiny_scenario(
        {"staffing_reduction": {"target_pct": 1, "start": "2024-01", "ramp_months": 12}}
    )
    g = goal_seek(sc, "staffing_reduction.target_pct", 2024, 0.6 + 0.26, TINY, tolerance_mkr=1e-9)
    assert g.value == pytest.approx(8.0, abs=1e-6)
    assert g.start_values == {"staffing_reduction.target_pct": 1.0}
    assert g.start_deviation_mkr == pytest.approx(0.6 + 0.0325)
    assert g.scenario.levers.staffing_reduction.ramp_months == 12  # the rest stays as it was


GOALS = [
    ("baseline", "staffing_reduction.target_pct", -300.0),
    ("hyrstopp", "agency.change_pct", -350.0),
    ("baseline", "drug_cost_growth_pct", -340.0),
    ("atgardsplaner_37", "realisation_pct", -340.0),
    ("dygnsvila", "rest_rule.weekend_mitigation_pct", -470.0),
    ("baseline", "revenue.change_pct", -200.0),
    ("balanspaket_2024", "measures.mkr_per_year", -100.0),
    ("baseline", "measures.mkr_per_year", -200.0),
    ("balanspaket_2024", ("staffing_reduction.target_pct", "measures.mkr_per_year"), -100.0),
]


@pytest.mark.parametrize(("name", "lever", "target"), GOALS, ids=lambda x: str(x))
def test_goal_seek_answer_run_back_gives_the_target(name, lever, target):
    g = goal_seek(scenario(name), lever, 2024, target)
    assert g.reachable
    assert g.deviation_mkr == pytest.approx(target, abs=0.05)
    # the answer as a scenario, through balans.run
    assert by_year(run(g.scenario), "deviation_mkr", 2024) == pytest.approx(target, abs=0.5)
    for path, value in g.best_values.items():
        lo, hi = g.bounds[path]
        assert lo <= value <= hi


def test_measures_scale_in_proportion():
    g = goal_seek(scenario("atgardsplaner_37"), "measures.mkr_per_year", 2024, -100.0)
    got = [m.mkr_per_year for m in g.scenario.levers.measures]
    assert sum(got) == pytest.approx(g.value)
    assert np.array(got) / sum(got) == pytest.approx(np.array([86, 43, 43]) / 172)


def test_several_levers_move_the_same_share_of_their_way():
    g = goal_seek(
        scenario("balanspaket_2024"),
        ["staffing_reduction.target_pct", "measures.mkr_per_year"],
        2024,
        -100.0,
    )
    share = g.value / 100
    # staffing from 6 towards 20 %, measures from 30 towards 1 000 mkr a year
    assert g.best_values["staffing_reduction.target_pct"] == pytest.approx(6 + share * 14)
    assert g.best_values["measures.mkr_per_year"] == pytest.approx(30 + share * 970)


def test_an_unreachable_target_says_so_and_what_is_left():
    sc = scenario("balanspaket_2024")
    g = goal_seek(sc, "staffing_reduction.target_pct", 2024, 0.0)
    assert not g.reachable and g.value is None and g.values is None
    # attrition caps the pace: beyond about 19 % a larger target gains nothing in 2024
    best = by_year(run(g.scenario), "deviation_mkr", 2024)
    assert g.deviation_mkr == pytest.approx(best, abs=1e-6)
    assert g.remaining_mkr == pytest.approx(-best)
    assert 250 < g.remaining_mkr < 400
    assert g.best_values["staffing_reduction.target_pct"] <= 20.0


def test_unknown_lever_and_year_outside_the_horizon_are_named():
    sc = scenario("baseline")
    with pytest.raises(AnalysisError) as info:
        goal_seek(sc, "staffing.target", 2024)
    assert "'staffing.target'" in str(info.value)
    for path in GOAL_LEVERS:
        assert path in str(info.value)
    with pytest.raises(AnalysisError, match=r"year 2025 .*allowed: 2023, 2024"):
        goal_seek(sc, "drug_cost_growth_pct", 2025)


# ----------------------------------------------------------------- the command line


def test_cli_goal_seek_json_and_run_back(capsys, tmp_path):
    out = tmp_path / "answer.yaml"
    file = str(SCEN / "hyrstopp.yaml")
    args = ["goal-seek", file, "--lever", "agency.change_pct", "--year", "2024", "--target", "-350"]
    assert main([*args, "--json", "--save", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["lever"] == "agency.change_pct" and data["reachable"] is True
    assert data["deviation_mkr"] == pytest.approx(-350, abs=0.05)
    assert -100 <= data["value"] <= 50
    assert main(["run", str(out), "--json"]) == 0
    years = {y["year"]: y for y in json.loads(capsys.readouterr().out)["years"]}
    assert years[2024]["deviation_mkr"] == pytest.approx(-350, abs=0.5)


def test_cli_goal_seek_unreachable(capsys):
    file = str(SCEN / "balanspaket_2024.yaml")
    assert (
        main(
            [
                "goal-seek",
                file,
                "--lever",
                "staffing_reduction.target_pct",
                "--year",
                "2024",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["value"] is None and data["reachable"] is False
    assert data["remaining_mkr"] == pytest.approx(-data["deviation_mkr"])
    assert (
        main(["goal-seek", file, "--lever", "staffing_reduction.target_pct", "--year", "2024"]) == 0
    )
    text = capsys.readouterr().out
    assert "nås inte" in text and "återstår" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lever", "nope", "--year", "2024"], "allowed: staffing_reduction.target_pct"),
        (
            ["--lever", "agency.change_pct", "--year", "2030"],
            "year 2030 is not a year of the horizon",
        ),
    ],
)
def test_cli_goal_seek_bad_input_exits_2(capsys, args, message):
    assert main(["goal-seek", str(SCEN / "baseline.yaml"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


# ----------------------------------------------------------------- charts


def test_fan_chart_spec():
    mc = monte_carlo(scenario("balanspaket_2024"), n_draws=300, seed=1)
    spec = fan_chart(mc).to_dict()
    band, line, rule = spec["layer"]
    assert [band["mark"]["type"], line["mark"]["type"], rule["mark"]["type"]] == [
        "area",
        "line",
        "rule",
    ]
    assert band["encoding"]["y"]["field"] == "p10" and band["encoding"]["y2"]["field"] == "p90"
    assert band["encoding"]["x"]["type"] == "temporal"
    assert line["encoding"]["y"]["field"] == "value"
    assert spec["title"]["text"].startswith("Ackumulerad budgetavvikelse per år")
    assert spec["title"]["subtitle"] == "300\u00a0dragningar"
    # Okabe & Ito: sky-blue band, blue median, black deterministic; Swedish number format
    assert band["encoding"]["color"]["scale"]["range"] == ["#56B4E9", "#0072B2", "#000000"]
    assert spec["config"]["locale"]["number"]["decimal"] == ","
    en = fan_chart(mc, "net_mkr", lang="en").to_dict()
    assert en["title"]["text"].startswith("Net cost per month")
    assert len(en["layer"]) == 2  # no zero rule for the net cost


def test_tornado_chart_spec():
    t = tornado(scenario("balanspaket_2024"), year=2024)
    spec = tornado_chart(t).to_dict()
    assert spec["mark"]["type"] == "bar"
    enc = spec["encoding"]
    assert enc["x"]["field"] == "start_mkr" and enc["x2"]["field"] == "deviation_mkr"
    assert enc["y"]["sort"][0] == "Realisering av åtgärdsplaner 2023"  # largest swing on top
    assert enc["color"]["scale"]["range"] == ["#0072B2", "#E69F00"]
    assert spec["title"] == (
        "Känslighet: budgetavvikelse 2024 när varje antagande rör sig över sitt rimliga intervall"
    )
    assert tornado_chart(t, "en").to_dict()["encoding"]["y"]["sort"][0] == "Historical realisation"


@pytest.mark.parametrize("target", [float("nan"), float("inf"), -float("inf")])
def test_goal_seek_refuses_a_target_that_is_not_a_number_of_mkr(target):
    from balans.analysis import AnalysisError, goal_seek
    from balans.inputs.scenario import baseline_scenario

    with pytest.raises(AnalysisError, match="not a finite number of mkr"):
        goal_seek(baseline_scenario(), "measures.mkr_per_year", 2024, target)


def test_a_saved_goal_seek_says_what_it_set_before_the_old_description():
    """Issue 12: the answer scenario kept the old description ("inköp sparar 30 mkr")
    under settings that contradict it; it now begins with what the goal seek set."""
    from balans.presentation.narrative import goal_seek_text

    sc = load_scenario(REPO / "scenarios" / "hyrstopp.yaml")
    gs = goal_seek(sc, "measures.mkr_per_year", 2024, 0.0)
    desc = gs.scenario.description
    assert desc.startswith(goal_seek_text(gs, "sv"))
    assert "före målsökningen var scenariot ”Halverad hyrpersonal med återrekrytering”" in desc
    assert desc.endswith(sc.description)
    assert gs.scenario.levers.measures[0].mkr_per_year == pytest.approx(gs.value)
