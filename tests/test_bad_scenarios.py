"""Bad scenario files get a message naming the file, the field, the value and what is allowed."""

from __future__ import annotations

import pytest

from balans import ScenarioError, load_scenario, run_file

CASES = {
    "unknown_top_key": ("name: x\nlever: {}\n", ["lever", "unknown key", "did you mean 'levers'"]),
    "unknown_lever_field": (
        "name: x\nlevers:\n  staffing_reduction: {target: 5}\n",
        [
            "levers.staffing_reduction.target",
            "did you mean 'target_pct'",
            "Allowed here: division, ramp_months, start, target_pct",
        ],
    ),
    "out_of_range": (
        "name: x\nlevers:\n  drug_cost_growth_pct: 40\n",
        ["levers.drug_cost_growth_pct = 40", "out of range", "-5 to 25"],
    ),
    "not_a_number": (
        "name: x\nlevers:\n  staffing_reduction: {target_pct: sex}\n",
        ["levers.staffing_reduction.target_pct = 'sex'", "valid number", "0 to 20"],
    ),
    "bad_month": (
        "name: x\nlevers:\n  agency: {start: 2024-13}\n",
        ["levers.agency.start = '2024-13'", "YYYY-MM"],
    ),
    "replacement_not_100": (
        "name: x\nlevers:\n  agency: {replacement: {own_staff_pct: 50, purchased_care_pct: 30, not_replaced_pct: 30}}\n",
        ["levers.agency.replacement", "add up to 100", "110"],
    ),
    "rest_cover_over_100": (
        "name: x\nlevers:\n  rest_rule: {overtime_pct: 80, agency_pct: 40}\n",
        ["levers.rest_rule", "at most 100", "120"],
    ),
    "missing_name": ("levers: {}\n", ["name", "required"]),
    "pay_out_of_range": (
        "name: x\nlevers:\n  pay_revision_pct: {2023: 12}\n",
        ["levers.pay_revision_pct", "year 2023", "0 to 10"],
    ),
    "negative_measure": (
        "name: x\nlevers:\n  measures: [{name: a, mkr_per_year: -5}]\n",
        ["levers.measures[0].mkr_per_year = -5", "0 to 1000"],
    ),
    "lever_not_a_mapping": ("name: x\nlevers:\n  agency: 5\n", ["levers.agency = 5", "mapping"]),
    "duplicate_key": (
        "name: x\nlevers:\n  drug_cost_growth_pct: 9\n  drug_cost_growth_pct: 12\n",
        ["given twice", "line 3"],
    ),
    "not_yaml": ("name: x\nlevers: {agency: [}\n", ["not valid YAML", "line 2"]),
    "empty": ("", ["empty", "name:"]),
    "a_list": ("- name: x\n", ["expected a mapping"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_scenario_message(tmp_path, name):
    text, expected = CASES[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message
    for part in expected:
        assert part in message, f"{part!r} not in:\n{message}"


CASE_CHECKS = {
    "start_in_actuals": (
        "name: x\nlevers:\n  agency: {start: 2023-02}\n",
        ["levers.agency.start = '2023-02'", "allowed: 2023-05 to 2024-12"],
    ),
    "start_after_horizon": (
        "name: x\nlevers:\n  measures: [{name: a, mkr_per_year: 1, start: 2031-01}]\n",
        ["levers.measures[0].start", "2024-12"],
    ),
    "unknown_category": (
        "name: x\nlevers:\n  agency: {categories: {doc: -5}}\n",
        ["levers.agency.categories.doc", "allowed: doctors, nurses, other"],
    ),
    "unknown_account": (
        "name: x\nlevers:\n  measures: [{name: a, mkr_per_year: 5, account: foo}]\n",
        ["levers.measures[0].account = 'foo'", "other_costs"],
    ),
    "assumption_out_of_range": (
        "name: x\nassumptions: {overtime_cost_factor: 9}\n",
        ["assumptions.overtime_cost_factor = 9.0", "plausible range 1.3 to 2"],
    ),
    "unknown_assumption": (
        "name: x\nassumptions: {foo: 1}\n",
        ["assumptions.foo", "not an assumption a scenario may change"],
    ),
    "year_outside_horizon": (
        "name: x\nlevers:\n  pay_revision_pct: {2030: 3}\n",
        ["levers.pay_revision_pct.2030", "2023, 2024"],
    ),
}


@pytest.mark.parametrize("name", sorted(CASE_CHECKS))
def test_scenario_checked_against_the_case(tmp_path, name):
    text, expected = CASE_CHECKS[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        run_file(path)
    message = str(info.value)
    assert str(path) in message
    for part in expected:
        assert part in message, f"{part!r} not in:\n{message}"


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario(tmp_path / "nope.yaml")


def test_every_problem_is_listed_not_only_the_first(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(
        "name: x\nlevers:\n  drug_cost_growth_pct: 40\n  realisation_pct: -3\n", encoding="utf-8"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert len(info.value.problems) == 2
