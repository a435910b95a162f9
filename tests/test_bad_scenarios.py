"""Bad scenario files get a message naming the file, the field, the value and what is allowed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from balans import DEFAULT_CASE_DIR, ScenarioError, load_scenario, parse_scenario, run_file
from balans.faces.cli import main

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


# --------------------------------------------------------------------------- hostile files

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 10)}]\n" for a, b in zip("abcdef", "bcdefg", strict=True)
)
HOSTILE = {
    # a key that is a list: PyYAML's TypeError (unhashable) before
    "list_key": ("name: x\n? [a, b]\n: 1\n", ["line 2", "a key must be a single value", "list"]),
    "deep_list": ("name: x\nlevers: " + "[" * 10_000 + "]" * 10_000 + "\n", ["nested more than"]),
    "alias_bomb": (BOMB + "name: *g\n", ["aliases", "allowed: at most 10,000"]),
    "alias_loop": ("name: x\nlevers: &l {agency: *l}\n", ["alias refers to the block it is in"]),
    "not_a_date": ("name: x\nlevers:\n  agency: {start: 2024-13-45}\n", ["not valid YAML"]),
    "latin1": (b"name: \xc5tg\xe4rd\n", ["not UTF-8 text", "byte 6"]),
    "nan_assumption": (
        "name: x\nassumptions: {attrition_pct_per_year: .nan}\n",
        ["assumptions.attrition_pct_per_year = nan", "not a finite number", "plausible range"],
    ),
    "inf_lever": (
        "name: x\nlevers: {drug_cost_growth_pct: .inf}\n",
        ["levers.drug_cost_growth_pct = inf", "not a finite number", "-5 to 25"],
    ),
    "minus_inf_lever": (
        "name: x\nlevers: {revenue: {mkr_per_year: -.inf}}\n",
        ["levers.revenue.mkr_per_year = -inf", "not a finite number", "-500 to 500"],
    ),
    "huge_float": (
        "name: x\nlevers: {realisation_pct: 1.0e+400}\n",
        ["levers.realisation_pct = inf", "not a finite number", "0 to 100"],
    ),
    "huge_float_as_text": (
        "name: x\nlevers: {realisation_pct: 1e400}\n",
        ["levers.realisation_pct = '1e400'", "not a finite number", "0 to 100"],
    ),
    "nan_as_text": (
        "name: x\nlevers: {staffing_reduction: {target_pct: 'nan'}}\n",
        ["levers.staffing_reduction.target_pct = 'nan'", "not a finite number", "0 to 20"],
    ),
    "nan_category": (
        "name: x\nlevers: {agency: {categories: {doctors: .nan}}}\n",
        ["levers.agency.categories.doctors = nan", "not a finite number", "-100 to 50"],
    ),
    "nan_measure": (
        "name: x\nlevers: {measures: [{name: a, mkr_per_year: .nan}]}\n",
        ["levers.measures[0].mkr_per_year = nan", "not a finite number", "0 to 1000"],
    ),
    "nan_pay_year": (
        "name: x\nlevers: {pay_revision_pct: {2024: .nan}}\n",
        ["levers.pay_revision_pct", "year 2024", "not a finite number", "0 to 10"],
    ),
    # silent coercions: true was 1, 2023.7 was 2023
    "true_as_number": (
        "name: x\nlevers: {staffing_reduction: {target_pct: true}}\n",
        ["levers.staffing_reduction.target_pct = True", "not a number", "0 to 20"],
    ),
    "false_as_months": (
        "name: x\nlevers: {agency: {change_pct: -10, ramp_months: false}}\n",
        ["levers.agency.ramp_months = False", "not a number", "0 to 24"],
    ),
    "true_assumption": (
        "name: x\nassumptions: {attrition_pct_per_year: true}\n",
        ["assumptions.attrition_pct_per_year = True", "not a number"],
    ),
    "fraction_of_a_year": (
        "name: x\nlevers: {pay_revision_pct: {2023.7: 3}}\n",
        ["levers.pay_revision_pct", "2023.7 is not a year"],
    ),
    "true_as_year": (
        "name: x\nlevers: {pay_revision_pct: {true: 3}}\n",
        ["levers.pay_revision_pct", "True is not a year"],
    ),
    "fraction_of_a_month": (
        "name: x\nlevers: {staffing_reduction: {target_pct: 2, ramp_months: 2.5}}\n",
        ["levers.staffing_reduction.ramp_months = 2.5", "0 to 36"],
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_scenario_file_gets_a_short_message(tmp_path, name, capsys):
    """Every one of these was a traceback, a NaN result, a silent coercion or a message of
    megabytes (issue 13): each is now exit 2 with a short message naming file and field."""
    text, expected = HOSTILE[name]
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    assert main(["run", str(path), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"balans: {path}")
    assert len(err) < 2000 and "Traceback" not in err
    for part in expected:
        assert part in err, f"{part!r} not in:\n{err}"


def test_an_alias_that_reuses_a_block_is_still_fine(tmp_path):
    path = tmp_path / "reuse.yaml"
    path.write_text(
        "name: x\nlevers:\n  measures:\n    - &m {name: a, mkr_per_year: 5}\n"
        "    - {<<: *m, name: b}\n",
        encoding="utf-8",
    )
    assert [m.name for m in load_scenario(path).levers.measures] == ["a", "b"]


def test_a_value_in_a_message_is_quoted_short(tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text(f"name: x\nlevers: {{agency: {{start: '{'9' * 100_000}'}}}}\n", "utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "levers.agency.start = '9999" in message and "..." in message
    assert len(message) < 300


def test_many_problems_are_counted_not_all_listed(tmp_path):
    path = tmp_path / "many.yaml"
    measures = ", ".join(f"{{name: m{i}, mkr_per_year: -1}}" for i in range(40))
    path.write_text(f"name: x\nlevers: {{measures: [{measures}]}}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert len(info.value.problems) == 40
    assert "levers.measures[9].mkr_per_year = -1: out of range" in message
    assert "levers.measures[10]" not in message and "and 30 more problems" in message
    assert len(message) < 2000


def test_a_folder_named_like_a_scenario_is_named_as_a_folder(tmp_path):
    (tmp_path / "x.yaml").mkdir()
    with pytest.raises(ScenarioError, match=r"x\.yaml: a folder, not a scenario file"):
        load_scenario(tmp_path / "x.yaml")


def test_the_app_and_workbench_values_still_pass():
    """What the faces hand over (JSON keys as text, whole floats for months) is still valid."""
    s = parse_scenario(
        {
            "name": "x",
            "levers": {
                "pay_revision_pct": {"2023": 4, "2024": 3.3},
                "staffing_reduction": {"target_pct": 3, "ramp_months": 12.0},
            },
        }
    )
    assert s.levers.pay_revision_pct == {2023: 4.0, 2024: 3.3}
    assert s.levers.staffing_reduction.ramp_months == 12


# --------------------------------------------------------------------------- the command line

GOOD = REPO / "scenarios" / "hyrstopp.yaml"
SEEK = ["goal-seek", str(GOOD), "--lever", "realisation_pct", "--year", "2024"]


@pytest.mark.parametrize(
    "argv, expected",
    [
        ([*SEEK, "--target", "nan"], "argument --target: 'nan' is not a finite number"),
        ([*SEEK, "--target", "inf"], "argument --target: 'inf' is not a finite number"),
        ([*SEEK, "--target=-Infinity"], "'-Infinity' is not a finite number"),
        ([*SEEK, "--target", "x"], "argument --target: 'x' is not a number"),
        (["goal-seek", str(GOOD), "--lever", "realisation_pct", "--year", "2024.5"], "--year"),
        ([*SEEK, "--save", "{tmp}/afile/x.yaml"], "afile is a file, not a folder"),
        ([*SEEK, "--save", "{tmp}"], "a folder; name a file to write"),
        ([*SEEK, "--save", "{tmp}/" + "s" * 300 + ".yaml"], "too long (305 bytes"),
        (["run", "{tmp}/" + "r" * 300 + ".yaml"], "too long (305 bytes"),
        (["run", "{tmp}/afile/x.yaml"], "afile/x.yaml"),
        (["batch", str(GOOD), "--out", "{tmp}/afile/out"], "afile is a file, not a folder"),
        (["batch", str(GOOD), "--out", "{tmp}/afile"], "exists and is not a folder"),
        (["batch", str(GOOD), "--out", "{tmp}/o", "--jobs", "two"], "'two' is not a whole"),
        (["batch", "{tmp}/" + "b" * 300, "--out", "{tmp}/o"], "too long (300 bytes"),
        (["run", "--lang", "xx"], "invalid choice: 'xx'"),
        (["app", "--port", "http"], "argument --port"),
    ],
)
def test_bad_command_lines_exit_2_with_a_short_message(tmp_path, capsys, argv, expected):
    (tmp_path / "afile").write_text("not a folder\n", encoding="utf-8")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    with pytest.raises(SystemExit) as info:
        sys.exit(main(argv))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert expected in err, err
    assert "Traceback" not in err and len(err) < 2000
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "not a folder\n"
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- other YAML files


YAML_FILE_MESSAGES = {
    "list_key": "a key must be a single value",
    "deep_list": "nested more than 50 levels deep",
    "alias_bomb": "allowed: at most 10,000 values more",
    "alias_loop": "an alias refers to the block it is in",
    "not_a_date": "a value YAML cannot read",
    "latin1": "not UTF-8 text",
}


@pytest.mark.parametrize("name", sorted(YAML_FILE_MESSAGES))
@pytest.mark.parametrize("which", ["case.yaml", "mapping.yaml"])
def test_hostile_yaml_in_a_case_or_mapping_file_is_a_data_error(tmp_path, which, name):
    """case.yaml and the import's mapping file are read with the same bounded loader."""
    from balans import load_case
    from balans.errors import DataError
    from balans.inputs.ledger_import import load_mapping

    text = HOSTILE[name][0]
    if which == "case.yaml":
        folder = tmp_path / "case"
        shutil.copytree(DEFAULT_CASE_DIR, folder)
    else:
        folder = tmp_path / "exempel"
        shutil.copytree(REPO / "examples" / "exempel_region", folder)
    path = folder / which
    data = text if isinstance(text, bytes) else text.replace("name: x\n", "").encode()
    path.write_bytes(path.read_bytes() + b"\n" + data)
    with pytest.raises(DataError) as info:
        load_case(folder) if which == "case.yaml" else load_mapping(path)
    message = str(info.value)
    assert message.startswith(str(path)) and len(message) < 2000, message
    assert YAML_FILE_MESSAGES[name] in message, message


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_full_disk_under_stdout_is_a_message_not_a_traceback():
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "balans", "run", "--json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2
    assert done.stderr.strip() == "balans: No space left on device"


def test_the_json_schema_keeps_the_ranges_of_optional_levers():
    """Editors read the ranges from the schema: a check on true/false must not hide them."""
    from balans.inputs.scenario import json_schema

    levers = json_schema()["$defs"]["Levers"]["properties"]
    number = levers["realisation_pct"]["anyOf"][0]
    assert number == {"type": "number", "minimum": 0, "maximum": 100}
    agency = json_schema()["$defs"]["Agency"]["properties"]
    assert agency["ramp_months"]["anyOf"][0] == {"type": "integer", "minimum": 0, "maximum": 24}


def test_a_saved_scenario_follows_the_umask_not_0600(tmp_path, capsys):
    old = os.umask(0o027)
    try:
        assert main([*SEEK, "--save", str(tmp_path / "saved.yaml")]) == 0
    finally:
        os.umask(old)
    assert (tmp_path / "saved.yaml").stat().st_mode & 0o777 == 0o640
    assert load_scenario(tmp_path / "saved.yaml").levers.realisation_pct is not None


@pytest.mark.parametrize("what", ["--save", "--out"])
def test_a_read_only_folder_is_named_as_one(tmp_path, capsys, monkeypatch, what):
    """As root every folder is writable, so the refusal is the system's, made up here."""
    import errno
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "ro"))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    monkeypatch.setattr(Path, "mkdir", refuse)
    argv = (
        [*SEEK, "--save", str(tmp_path / "ro" / "x.yaml")]
        if what == "--save"
        else ["batch", str(GOOD), "--out", str(tmp_path / "ro" / "out")]
    )
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'ro'}" in err and "permission denied (a read-only folder" in err
    assert "Traceback" not in err
