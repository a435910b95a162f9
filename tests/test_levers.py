"""The lever registry (balans.model.levers) is the one description of every lever, and every face
reads it: the scenario format and its JSON Schema, the engine's compile step, the bridge,
the app's controls, the narrative's names, the analyses' ranges and the feasibility checks.

Each test walks the whole registry, so a lever added there and forgotten by a face fails
here by name."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from balans import load_case, run
from balans.analysis import GOAL_LEVERS, uncertainties
from balans.analysis.feasibility import check_feasibility
from balans.errors import ScenarioError
from balans.faces.app import CONTROLS, BalansApp, scenario_from_values, widget_values_from_scenario
from balans.inputs.scenario import json_schema, parse_scenario
from balans.model.api import get_engine
from balans.model.engine import STEPS
from balans.model.levers import ASSUMPTIONS, BY_CONTROL, BY_PATH, LEVERS, Lever, goal_seek_levers
from balans.presentation.fmt import LANGUAGES, label
from balans.presentation.narrative import lever_name

CASE = load_case()
EXEMPEL = Path(__file__).parent / "cases" / "exempel"
ENGINE = get_engine(CASE)
NUMERIC = [lv for lv in LEVERS if lv.unit not in ("month", "id")]
WITH_CONTROL = [lv for lv in LEVERS if lv.control is not None]


def _month(t: int, engine=ENGINE) -> str:
    y, m = engine.case.months[t]
    return f"{y}-{m:02d}"


def _first_forecast() -> str:
    return _month(ENGINE.first_forecast)


def levers_setting(lever: Lever, value: Any, engine=ENGINE) -> dict[str, Any]:
    """The ``levers:`` of a scenario file that sets ``lever`` to ``value`` and gives what the
    format requires beside it (a staffing target, replacement shares that add to 100)."""
    p = lever.parts
    if p[0] == "measures":
        measure = {"name": "Åtgärd", "mkr_per_year": 50.0} | {p[1]: value}
        return {"measures": [measure]}
    if p[0] == "staffing_reduction":
        return {"staffing_reduction": {"target_pct": 5.0} | {p[1]: value}}
    if p[:2] == ("agency", "replacement"):
        others = [
            k for k in ("own_staff_pct", "purchased_care_pct", "not_replaced_pct") if k != p[2]
        ]
        return {
            "agency": {
                "change_pct": -50.0,
                "replacement": {p[2]: value, others[0]: 100.0 - value, others[1]: 0.0},
            }
        }
    if lever.path == "agency.categories":
        return {"agency": {"categories": {engine.category_ids[0]: value}}}
    if p[0] == "agency":
        return {"agency": {"change_pct": -50.0} | {p[1]: value}}
    if p[0] == "rest_rule" and p[1] in ("overtime_pct", "agency_pct"):
        other = "agency_pct" if p[1] == "overtime_pct" else "overtime_pct"
        return {"rest_rule": {p[1]: value, other: 0.0}}
    node: dict[str, Any] = {}
    out = node
    for part in p[:-1]:
        node[part] = {}
        node = node[part]
    node[p[-1]] = value
    return out


def scenario_setting(lever: Lever, value: Any, engine=ENGINE):
    levers = levers_setting(lever, value, engine)
    return parse_scenario({"name": f"{lever.path} = {value}", "levers": levers})


def a_moved_value(lever: Lever) -> float:
    """A value away from the lever's default, halfway to the bound further from it."""
    default = (
        lever.default_value(CASE, CASE.years[-1])
        if lever.default is not None or lever.default_param
        else 0.0
    )
    lo, hi = lever.bounds
    far = lo if abs(default - lo) > abs(hi - default) else hi
    return float(default + (far - default) / 2)


# --------------------------------------------------------------------------- the registry


def test_every_lever_has_a_unit_a_description_and_a_default():
    assert len({lv.path for lv in LEVERS}) == len(LEVERS)
    for lv in LEVERS:
        assert lv.unit and lv.description.endswith("."), lv.path
        if lv.path != "agency.categories":  # a category left out follows change_pct
            assert lv.default is not None or lv.default_param is not None, lv.path
        if lv.default_param is not None:
            for y in CASE.years if lv.per_year else [None]:
                assert lv.param_key(y) in CASE.parameters, (lv.path, lv.param_key(y))
        if lv.unit not in ("month", "id"):
            lo, hi = lv.bounds
            assert math.isfinite(lo) and math.isfinite(hi) and lo < hi, lv.path
            default = (
                lv.default_value(CASE, CASE.years[-1]) if lv.path != "agency.categories" else 0
            )
            assert lo <= default <= hi, (lv.path, default)


# --------------------------------------------------------------------------- the scenario format


def _schema_node(schema: dict, lever: Lever) -> tuple[dict, str]:
    """The lever's node in the JSON Schema, and its description (on the property)."""
    defs = schema.get("$defs", {})

    def resolve(node: dict) -> dict:
        while True:
            if "$ref" in node:
                node = defs[node["$ref"].split("/")[-1]]
            elif "anyOf" in node and "properties" not in node:
                subs = [s for s in node["anyOf"] if s.get("type") != "null"]
                if len(subs) == 1:
                    node = subs[0]
                    continue
                return node
            elif node.get("type") == "array":
                node = node["items"]
            else:
                return node

    node = resolve(schema["properties"]["levers"])
    for part in lever.parts:
        prop = node["properties"][part]
        node = resolve(prop)
    return node, str(prop.get("description", node.get("description")))


@pytest.mark.parametrize("lever", LEVERS, ids=lambda lv: lv.path)
def test_the_json_schema_gives_each_lever_the_registry_range_and_description(lever):
    node, description = _schema_node(json_schema(), lever)
    if lever.path == "agency.categories":
        node = node["additionalProperties"]
    assert lever.range_text() in description
    if lever.unit in ("month", "id") or lever.per_year:
        return
    assert (node.get("minimum"), node.get("maximum")) == lever.bounds


@pytest.mark.parametrize("lever", NUMERIC, ids=lambda lv: lv.path)
def test_a_file_may_set_each_lever_to_either_bound_but_not_beyond(lever):
    lo, hi = lever.bounds
    for inside in (lo, hi):
        assert scenario_setting(lever, inside)
    step = 1 if lever.unit == "months" else 0.01
    for outside in (lo - step, hi + step):
        with pytest.raises(ScenarioError) as info:
            scenario_setting(lever, outside)
        assert lever.parts[-1] in str(info.value) and lever.allowed().split(" to ")[1] in str(
            info.value
        ), str(info.value)


# --------------------------------------------------------------------------- the engine


@pytest.mark.parametrize("lever", [lv for lv in NUMERIC if lv.array], ids=lambda lv: lv.path)
def test_the_compile_step_puts_each_lever_in_its_array(lever):
    base = ENGINE.compile([parse_scenario({"name": "x"})])
    value = a_moved_value(lever)
    moved = ENGINE.compile([scenario_setting(lever, value)])
    if lever.array == "measures_tkr":
        assert moved.measures_tkr is not None and moved.measures_tkr.any()
        return
    got = getattr(moved, lever.array)
    assert not np.array_equal(got, getattr(base, lever.array)), lever.path
    assert value in got, (lever.path, value, got)


@pytest.mark.parametrize("lever", [lv for lv in NUMERIC if lv.bridge_step], ids=lambda lv: lv.path)
def test_each_lever_moves_the_bridge_step_the_registry_names(lever):
    """The same scenario with the lever at its default and moved: the step it acts in moves."""
    assert lever.bridge_step in STEPS
    default = (
        0.0 if lever.path == "agency.categories" else lever.default_value(CASE, CASE.years[-1])
    )
    # realisation acts on the savings: give it one to act on
    context = {"staffing_reduction": {"target_pct": 5.0}} if lever.path == "realisation_pct" else {}

    def result(value: float):
        levers = context | levers_setting(lever, value)
        return run(parse_scenario({"name": f"{lever.path} = {value}", "levers": levers}), CASE)

    before, after = result(default), result(a_moved_value(lever))
    i = STEPS.index(lever.bridge_step)
    b0, b1 = before.batch.bridge_mkr[before.index], after.batch.bridge_mkr[after.index]
    assert np.abs(b1[i] - b0[i]).max() > 0.05, (lever.path, b0[i], b1[i])


def test_the_assumptions_a_scenario_may_change_are_the_engines():
    assert ENGINE.ASSUMPTION_FIELDS is ASSUMPTIONS
    levers = ENGINE.default_levers()
    for key, fld in ASSUMPTIONS.items():
        assert hasattr(levers, fld) and key in CASE.parameters, key


# --------------------------------------------------------------------------- the app


def test_the_app_has_one_control_per_registry_control_with_its_range_and_step():
    lever_controls = {c.key: c for c in CONTROLS if c.kind != "bool"}
    assert set(lever_controls) == {lv.control for lv in WITH_CONTROL if not lv.per_year}
    for key, c in lever_controls.items():
        lv = BY_CONTROL[key]
        assert c.kind == lv.kind, key
        if lv.unit not in ("month", "id"):
            assert (c.lo, c.hi, c.step) == (*lv.bounds, lv.step), key
            assert c.source == (lv.default_param or lv.reference_param), key
    app = BalansApp()
    for y in CASE.years:
        pay = app.controls[f"pay_{y}"]
        assert (pay.min, pay.max, pay.step) == (*BY_PATH["pay_revision_pct"].bounds, 0.1)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_control_has_a_label_and_a_help_text(lang):
    for lv in WITH_CONTROL:
        assert label(lv.label_key, lang) and label(lv.help_key, lang), lv.path


def _values_at_the_bounds(engine=ENGINE) -> list[tuple[Lever, Any]]:
    out = []
    for lv in WITH_CONTROL:
        if lv.per_year:
            continue
        if lv.unit == "month":
            out += [(lv, _month(engine.first_forecast, engine)), (lv, _month(-1, engine))]
        elif lv.unit == "id":
            out += [(lv, engine.division_ids[0])]
        else:
            out += [(lv, x) for x in (*lv.bounds, a_moved_value(lv))]
    return out


@pytest.mark.parametrize(
    ("lever", "value"), _values_at_the_bounds(), ids=lambda x: getattr(x, "path", str(x))
)
def test_the_controls_show_every_value_the_format_allows_and_give_the_file_back(lever, value):
    """What a file says, the controls show, and untouched they give the same scenario back:
    the app neither cuts nor rescales a value the schema accepts."""
    sc = scenario_setting(lever, value)
    shown = widget_values_from_scenario(CASE, sc, _first_forecast())
    if lever.control != "agency_pct" or "categories" not in str(sc):
        assert shown[lever.control] == value
    assert scenario_from_values(CASE, sc, shown, dict(shown)) == sc


@pytest.mark.parametrize("case_dir", [None, EXEMPEL], ids=["shipped", "ledger case"])
def test_the_app_opens_a_file_at_every_bound_as_it_is(tmp_path, case_dir):
    """The widgets too: a file at either bound of any control opens unchanged (a slider
    widens for a value beyond its usual range). A division is aimed at on the ledger case,
    whose divisions are the ledger's own; the shipped case's are totals only."""
    case = load_case(case_dir)
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "baseline.yaml").write_text("name: Basprognos\n", encoding="utf-8")
    files = {}
    engine = get_engine(case)
    for i, (lever, value) in enumerate(_values_at_the_bounds(engine)):
        if (lever.unit == "id") != (case_dir is not None):
            continue
        sc = scenario_setting(lever, value, engine)
        (folder / f"s{i}.yaml").write_text(sc.to_yaml(), encoding="utf-8")
        files[f"s{i}"] = (lever, value, sc)
    app = BalansApp(case, scenarios_dir=folder)
    for key, (lever, value, sc) in files.items():
        app.load_scenario(key)
        assert app.scenario == sc, (lever.path, value, app.scenario.name)
        assert app.controls[lever.control].value == value, lever.path
        assert not app.message.value, (lever.path, app.message.value)


# --------------------------------------------------------------------------- words


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_narrative_names_every_lever_in_words(lang):
    names = {lv.path: lever_name(lv.path, lang) for lv in LEVERS}
    for path, name in names.items():
        assert name and name != path and "_" not in name, (lang, path, name)
    assert len(set(names.values())) == len(names)  # no two levers with one name


# --------------------------------------------------------------------------- the analyses


def test_goal_seek_moves_exactly_the_registrys_decisions_within_their_bounds():
    assert list(GOAL_LEVERS) == [lv.path for lv in goal_seek_levers()]
    sc = parse_scenario({"name": "x"})
    for path, g in GOAL_LEVERS.items():
        if path != "measures.mkr_per_year":  # the measures' total scales with their number
            assert g.bounds(sc) == BY_PATH[path].bounds, path
        assert g.field == BY_PATH[path].array
    assert "agency.fill_rate_pct" not in GOAL_LEVERS  # what agencies fail to deliver


def test_every_uncertain_input_moves_its_lever_within_the_levers_range():
    by_key = {u.key: u for u in uncertainties(CASE)}
    for lv in LEVERS:
        if lv.uncertainty is None:
            continue
        keys = (
            [lv.uncertainty.format(year=y) for y in CASE.years] if lv.per_year else [lv.uncertainty]
        )
        for key in keys:
            if key not in by_key:
                assert CASE.parameters.get(key) is None or not CASE.parameters[key].distribution
                continue
            u = by_key[key]
            assert (u.field, u.bounds, u.around_scenario) == (
                lv.array,
                lv.bounds,
                lv.around_scenario,
            )
    levers = {lv.uncertainty.format(year=y) for lv in LEVERS if lv.uncertainty for y in CASE.years}
    for key in by_key:
        assert key in levers or key in ASSUMPTIONS, key


# --------------------------------------------------------------------------- feasibility


def test_each_feasibility_warning_names_a_lever_the_registry_gives_it():
    """Scenarios that strain each check in turn: every warning names a lever whose registry
    entry lists that check, and every check the registry lists is met."""
    strained = [
        {"staffing_reduction": {"target_pct": 20, "ramp_months": 1}},
        {
            "agency": {
                "change_pct": -100,
                "replacement": {
                    "own_staff_pct": 100,
                    "purchased_care_pct": 0,
                    "not_replaced_pct": 0,
                },
            }
        },
        {
            "agency": {
                "change_pct": -100,
                "replacement": {
                    "own_staff_pct": 0,
                    "purchased_care_pct": 0,
                    "not_replaced_pct": 100,
                },
            }
        },
        {"agency": {"change_pct": 50, "fill_rate_pct": 50}},
        {"rest_rule": {"extra_need_pct": 15, "overtime_pct": 0, "agency_pct": 0}},
    ]
    seen = set()
    for levers in strained:
        for warning in check_feasibility(
            run(parse_scenario({"name": "x", "levers": levers}), CASE)
        ):
            assert warning.code in BY_PATH[warning.lever].feasibility, (warning.code, warning.lever)
            seen.add((warning.lever, warning.code))
    declared = {(lv.path, code) for lv in LEVERS for code in lv.feasibility}
    assert seen == declared
