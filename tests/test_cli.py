"""The command line: readable Swedish summary, full JSON, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO, SCENARIOS

from balans.faces.cli import main

BASELINE = str(REPO / "scenarios" / "baseline.yaml")


def test_run_prints_a_swedish_summary(capsys):
    assert main(["run", BASELINE]) == 0
    out = capsys.readouterr().out
    assert "helårsprognos" in out and "budgetavvikelse" in out
    assert "−2\u00a0895\u00a0mkr" in out  # the 2023 budget, Swedish number format
    assert "Modell 0.1.0 · " in out


def test_run_json_holds_the_documented_fields(capsys):
    assert main(["run", str(REPO / "scenarios" / "balanspaket_2024.yaml"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in (
        "scenario",
        "stamp",
        "years",
        "bridge",
        "accounts",
        "divisions",
        "monthly",
        "staffing",
        "access",
    ):
        assert key in data
    assert set(data["scenario"]) >= {"name", "hash"}
    assert set(data["stamp"]) >= {"model_version", "data_hash", "scenario_hash"}
    for y in data["years"]:
        assert set(y) >= {
            "year",
            "budget_net_mkr",
            "forecast_net_mkr",
            "deviation_mkr",
            "revenue_mkr",
            "gross_cost_mkr",
        }
        assert y["deviation_mkr"] == pytest.approx(
            y["forecast_net_mkr"] - y["budget_net_mkr"], abs=1e-9
        )
        steps = [b["effect_mkr"] for b in data["bridge"] if b["year"] == y["year"]]
        assert sum(steps) == pytest.approx(y["forecast_net_mkr"] - y["baseline_net_mkr"], abs=1e-6)
    # the package acts in 2024 (the rest rule of 2023 is in the baseline)
    assert any(abs(b["effect_mkr"]) > 1 for b in data["bridge"] if b["year"] == 2024)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_shipped_scenario_runs(capsys, path):
    assert main(["run", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["scenario"]["name"]


def test_english_summary(capsys):
    assert main(["run", BASELINE, "--lang", "en"]) == 0
    assert "full-year forecast" in capsys.readouterr().out


def test_schema_is_json_schema_with_the_levers(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["additionalProperties"] is False
    levers = schema["$defs"]["Levers"]["properties"]
    assert {
        "staffing_reduction",
        "agency",
        "drug_cost_growth_pct",
        "rest_rule",
        "realisation_pct",
        "pay_revision_pct",
        "measures",
    } <= set(levers)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["run", "no/such/file.yaml"], "no/such/file.yaml: the file does not exist"),
        (["run", "nosuchscenario"], "nosuchscenario: no such scenario file"),
        (["goal-seek"], "the following arguments are required: file"),
        (["frob"], "invalid choice: 'frob'"),
        (["run", BASELINE, "--lang", "fi"], "invalid choice: 'fi'"),
        (
            ["run", BASELINE, "--case", "no/such/case"],
            "no/such/case: the case folder does not exist",
        ),
        (["app", "--idle-timeout", "nan", "--no-browser"], "'nan' is not a finite number"),
        (["app", "--idle-timeout", "inf", "--no-browser"], "'inf' is not a finite number"),
        (["app", "--idle-timeout", "-1", "--no-browser"], "--idle-timeout -1: allowed 0"),
        (["app", "--max-kernels", "0", "--no-browser"], "--max-kernels 0: allowed at least 1"),
        (["app", "--release-after", "1", "--no-browser"], "allowed 5 to 3600 seconds"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(capsys, argv, expected):
    with pytest.raises(SystemExit) as info:
        sys.exit(main(argv))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "Traceback" not in err


def test_bad_scenario_through_the_real_command(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nlevers:\n  realisation_pct: 140\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "balans", "run", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "levers.realisation_pct = 140" in proc.stderr and "0 to 100" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_app_refuses_an_unusable_port(capsys):
    assert main(["app", "--port", "80", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert "--port 80: not a usable port; allowed 1024 to 65535" in err and "Traceback" not in err


def test_app_refuses_a_port_in_use(capsys):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["app", "--port", str(port), "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert f"--port {port}: the port is in use on 127.0.0.1; choose another with --port" in err


def test_app_port_must_be_a_number(capsys):
    with pytest.raises(SystemExit) as info:
        main(["app", "--port", "abc"])
    assert info.value.code == 2
    assert "invalid int value: 'abc'" in capsys.readouterr().err
