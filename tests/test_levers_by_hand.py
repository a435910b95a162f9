"""Each lever on the tiny case (tests/cases/tiny), against figures worked out on paper.

The tiny board: fees 100 and grants 200 tkr a month; personnel -500 (10 FTE x 100 hours x
500 kr), agency -100 (doctors 300 h at 250 kr, nurses 200 h at 125 kr... scaled to the
account: doctors 75 %, nurses 25 %), drugs -200, purchased care -100, other -100 tkr a
month. No growth in the baseline, flat budget phasing, attrition 1 % a month.
"""

from __future__ import annotations

import pytest
from conftest import by_year, step

MKR = 1e-9  # mkr tolerance for figures computed exactly on paper


def test_baseline_is_the_flat_run_rate(run_tiny):
    r = run_tiny()
    # (100 + 200 - 500 - 100 - 200 - 100 - 100) x 12 = -8 400 tkr
    assert by_year(r, "forecast_net_mkr", 2023) == pytest.approx(-8.4, abs=MKR)
    assert by_year(r, "forecast_net_mkr", 2024) == pytest.approx(-8.4, abs=MKR)
    assert by_year(r, "budget_net_mkr", 2024) == pytest.approx(-9.0, abs=MKR)
    assert by_year(r, "deviation_mkr", 2024) == pytest.approx(0.6, abs=MKR)


def test_agency_is_priced_per_category_from_cost_and_fte(tiny_engine):
    # doctors: 300 000 kr / (3 FTE x 1 200 h x 4/12) = 250 kr/h; nurses 100 000 / 800 = 125
    assert tiny_engine.agency_price.tolist() == pytest.approx([250.0, 125.0])
    assert tiny_engine.baseline_agency_hours[5].tolist() == pytest.approx([300.0, 200.0])


def test_staffing_reduction_is_capped_by_attrition(run_tiny):
    # 6 % over 3 months wants 2 %/month; attrition allows 1 %: 1,2,3,4,5,6,6,...,6 %
    r = run_tiny({"staffing_reduction": {"target_pct": 6, "start": "2024-01", "ramp_months": 3}})
    saving_tkr = 500 * (0.01 + 0.02 + 0.03 + 0.04 + 0.05 + 0.06 * 7)
    assert step(r, "staffing_reduction", 2024) == pytest.approx(saving_tkr / 1000, abs=MKR)
    assert step(r, "staffing_reduction", 2023) == 0
    fte = r.staffing_frame().set_index("month").own_fte
    assert fte["2024-12"] == pytest.approx(10 * 0.94)
    assert fte["2024-03"] == pytest.approx(10 * 0.97)


def test_staffing_reduction_slower_than_attrition_follows_the_ramp(run_tiny):
    r = run_tiny({"staffing_reduction": {"target_pct": 6, "start": "2024-01", "ramp_months": 12}})
    # 0.5 % more each month: 500 x 0.005 x (1 + 2 + ... + 12) = 195 tkr
    assert step(r, "staffing_reduction", 2024) == pytest.approx(0.195, abs=MKR)


def test_agency_cut_with_replacement_mix(run_tiny):
    r = run_tiny(
        {
            "agency": {
                "change_pct": -50,
                "start": "2024-01",
                "replacement": {
                    "own_staff_pct": 50,
                    "purchased_care_pct": 25,
                    "not_replaced_pct": 25,
                },
            }
        }
    )
    # removed 150 doctor h x 250 + 100 nurse h x 125 = 50 tkr a month saved
    assert step(r, "agency_reduction", 2024) == pytest.approx(12 * 0.050, abs=MKR)
    # own staff: half the hours at half the agency price: 75 x 125 + 50 x 62.5 = 12.5 tkr
    # purchased: a quarter at twice own cost: 37.5 x 250 + 25 x 125 = 12.5 tkr
    # not delivered: a quarter at half the own cost: 37.5 x 62.5 + 25 x 31.25 = 3.125 tkr
    assert step(r, "agency_replacement", 2024) == pytest.approx(-12 * 0.028125, abs=MKR)
    accounts = r.accounts_frame().set_index(["year", "account"])
    assert accounts.loc[(2024, "purchased_care"), "forecast_mkr"] == pytest.approx(
        -1.2 - 0.150 - 0.0375, abs=MKR
    )
    access = r.access_frame()
    # a quarter of 250 hours a month is not replaced
    assert access[access.year == 2024].agency_not_replaced_hours.sum() == pytest.approx(12 * 62.5)
    # own FTE rises by the re-hired hours: 125 h / 100 h per FTE
    assert r.staffing_frame().own_fte.iloc[-1] == pytest.approx(10 + 1.25)


def test_hours_ordered_and_not_delivered_are_removed_hours_with_the_replacement_mix(run_tiny):
    r = run_tiny({"agency": {"fill_rate_pct": 80, "start": "2024-01"}})
    # 20 % of 500 hours ordered not delivered: 60 doctor h x 250 + 40 nurse h x 125 = 20 tkr
    assert step(r, "agency_reduction", 2024) == pytest.approx(12 * 0.020, abs=MKR)
    # covered by the mix 50/25/25: own staff on overtime 30 x 125 x 1.5 + 20 x 62.5 x 1.5 = 7.5;
    # purchased 15 x 250 + 10 x 125 = 5; not delivered 15 x 62.5 + 10 x 31.25 = 1.25 tkr
    assert step(r, "agency_replacement", 2024) == pytest.approx(-12 * 0.01375, abs=MKR)
    access = r.access_frame()
    # a quarter of the 100 hours short is care not delivered
    assert access[access.year == 2024].agency_fill_shortfall_hours.sum() == pytest.approx(12 * 25)
    assert access[access.year == 2024].not_delivered_hours.sum() == pytest.approx(12 * 25)


def test_a_lower_fill_rate_is_never_better_than_removing_the_same_hours(run_tiny):
    fill = run_tiny({"agency": {"fill_rate_pct": 80, "start": "2024-01"}})
    cut = run_tiny({"agency": {"change_pct": -20, "start": "2024-01"}})
    # the same 100 hours a month removed: the cut re-hires (500 kr), the shortfall pays overtime
    assert by_year(cut, "change_vs_baseline_mkr", 2024) == pytest.approx(12 * 0.00875, abs=MKR)
    assert by_year(fill, "change_vs_baseline_mkr", 2024) == pytest.approx(12 * 0.00625, abs=MKR)


def test_rest_rule_covered_by_overtime_and_agency(run_tiny):
    r = run_tiny({"rest_rule": {"start": "2023-10"}})
    # need: 10 FTE x 100 h x 50 % in 24/7 care x 10 % = 50 h a month;
    # overtime 25 h x 500 kr x 1.5 = 18.75 tkr; agency 25 h x 250 kr (doctors, the largest) = 6.25
    assert step(r, "rest_rule", 2023) == pytest.approx(-3 * 0.025, abs=MKR)
    assert step(r, "rest_rule", 2024) == pytest.approx(-12 * 0.025, abs=MKR)


def test_rest_rule_weekend_mitigation_and_uncovered_need(run_tiny):
    r = run_tiny(
        {
            "rest_rule": {
                "start": "2024-01",
                "weekend_mitigation_pct": 40,
                "overtime_pct": 50,
                "agency_pct": 0,
            }
        }
    )
    # need 50 h x 0.6 = 30 h; overtime 15 h x 750 kr = 11.25 tkr; 15 h not covered, each
    # costing half the own-staff hour: 15 x 250 kr = 3.75 tkr
    assert step(r, "rest_rule", 2024) == pytest.approx(-12 * 0.015, abs=MKR)
    access = r.access_frame()
    assert access[access.year == 2024].rest_rule_uncovered_hours.sum() == pytest.approx(12 * 15)


def test_measures_and_realisation(run_tiny):
    levers = {"measures": [{"name": "Inköp", "mkr_per_year": 1.2, "start": "2024-01"}]}
    full = run_tiny(levers)
    assert step(full, "measures", 2024) == pytest.approx(1.2, abs=MKR)
    assert step(full, "realisation", 2024) == 0
    half = run_tiny({**levers, "realisation_pct": 50})
    assert step(half, "measures", 2024) == pytest.approx(1.2, abs=MKR)  # the plan
    assert step(half, "realisation", 2024) == pytest.approx(-0.6, abs=MKR)  # what is not realised
    assert by_year(half, "change_vs_baseline_mkr", 2024) == pytest.approx(0.6, abs=MKR)


def test_measure_with_ramp_and_account(run_tiny):
    r = run_tiny(
        {
            "measures": [
                {
                    "name": "Vårdhotell",
                    "mkr_per_year": 1.2,
                    "start": "2024-01",
                    "ramp_months": 4,
                    "account": "personnel",
                }
            ]
        }
    )
    # 100 tkr a month at full effect, reached over 4 months: 25 + 50 + 75 + 100 x 9
    assert step(r, "measures", 2024) == pytest.approx((25 + 50 + 75 + 900) / 1000, abs=MKR)
    acc = r.accounts_frame().set_index(["year", "account"])
    assert acc.loc[(2024, "personnel"), "forecast_mkr"] == pytest.approx(-6.0 + 1.05, abs=MKR)


def test_realisation_applies_to_the_effect_after_the_attrition_cap(run_tiny):
    levers = {"staffing_reduction": {"target_pct": 6, "start": "2024-01", "ramp_months": 3}}
    full = run_tiny(levers)
    half = run_tiny({**levers, "realisation_pct": 50})
    # the pace is capped at 1 % a month: 1, 2, ..., 6, 6 ... -> 500 x 0.57 = 285 tkr at 100 %
    assert by_year(full, "change_vs_baseline_mkr", 2024) == pytest.approx(0.285, abs=MKR)
    # at 50 % realisation: half of that effect, not the capped effect of a halved target
    assert by_year(half, "change_vs_baseline_mkr", 2024) == pytest.approx(0.1425, abs=MKR)


def test_rest_rule_agency_cover_cannot_exceed_the_agency_hours_kept(run_tiny):
    rest = {"start": "2023-10"}
    kept = run_tiny({"rest_rule": rest})
    none = run_tiny({"rest_rule": rest, "agency": {"change_pct": -100, "start": "2024-01"}})
    staff = none.staffing_frame()
    # no agency hours at all in 2024, not even for the rest rule
    assert staff[staff.year == 2024].agency_hours.sum() == pytest.approx(0, abs=1e-9)
    assert kept.staffing_frame().agency_hours.iloc[-1] == pytest.approx(500 + 25)
    # the 25 agency hours the rule asked for go through the mix: 6.25 own on overtime, ...
    access = none.access_frame()
    assert access[access.year == 2024].rest_rule_uncovered_hours.sum() == pytest.approx(
        12 * 25 * 0.25
    )


def test_pay_revision_from_april_with_back_pay(run_tiny):
    r = run_tiny({"pay_revision_pct": {2024: 10}})
    # 10 % on 500 tkr from April 2024: 9 months x -50 tkr
    assert step(r, "pay_revision", 2024) == pytest.approx(-0.45, abs=MKR)
    r = run_tiny({"pay_revision_pct": {2023: 10}})
    # May-Dec 2023 at +10 %, plus April's back pay in May: 9 x -50; all of 2024: 12 x -50
    assert step(r, "pay_revision", 2023) == pytest.approx(-0.45, abs=MKR)
    assert step(r, "pay_revision", 2024) == pytest.approx(-0.60, abs=MKR)


def test_drug_growth_compounds_monthly_from_the_middle_of_the_actuals(run_tiny):
    r = run_tiny({"drug_cost_growth_pct": 12})
    # month t (0 = Jan 2023) costs -200 x 1.12 ** ((t - 1.5) / 12); the actuals end at t = 3
    expected = sum(-200 * (1.12 ** ((t - 1.5) / 12) - 1) for t in range(4, 12)) / 1000
    assert step(r, "drug_cost_growth", 2023) == pytest.approx(expected, abs=MKR)
    assert step(r, "drug_cost_growth", 2023) < 0


def test_revenue_change_and_added_revenue(run_tiny):
    r = run_tiny({"revenue": {"change_pct": 10, "mkr_per_year": 1.2, "start": "2024-01"}})
    # 10 % of 300 tkr a month = 30; 1.2 mkr a year = 100 a month
    assert step(r, "revenue", 2024) == pytest.approx(12 * 0.130, abs=MKR)
    assert by_year(r, "revenue_mkr", 2024) == pytest.approx(3.6 + 1.56, abs=MKR)


def test_divisions_take_their_share(run_tiny):
    r = run_tiny()
    d = r.divisions_frame().set_index(["year", "division"])
    # division A: a quarter of revenue (3.6 x 0.25) and of cost (-12 x 0.25)
    assert d.loc[(2023, "a"), "net_mkr"] == pytest.approx(0.9 - 3.0, abs=MKR)
    assert d.loc[(2023, "a"), "budget_net_mkr"] == pytest.approx(-2.1, abs=MKR)


def test_agency_share_of_personnel_cost(run_tiny):
    s = run_tiny().staffing_frame()
    # 100 / 500 = 20 %; doctors: 75 tkr agency, own = 75 x 80/20 = 300 -> 75 / 375 = 20 %
    assert s.agency_share_pct.iloc[0] == pytest.approx(20.0)
    assert s.doctors_agency_share_pct.iloc[-1] == pytest.approx(20.0)
