"""Balans: scenario planner for the budget of a Swedish regional healthcare board (HSN).

One calculation package for every face (the Voilà app, the planners' workbench, the
papermill report and the command line)::

    from balans import load_case, load_scenario, run
    result = run(load_scenario("scenarios/baseline.yaml"))
    result.years_frame()
"""

from balans import _imports  # noqa: F401  (first: it makes the altair import cheaper)
from balans.errors import BalansError, DataError, ScenarioError
from balans.inputs.case import DEFAULT_CASE_DIR, Case, load_case
from balans.inputs.scenario import (
    Scenario,
    json_schema,
    load_scenario,
    parse_scenario,
    save_scenario,
)
from balans.model.api import Result, get_engine, json_safe, run, run_file
from balans.model.engine import STEPS, BatchResult, Engine, LeverArrays

__version__ = "0.1.0"
MODEL_VERSION = __version__

__all__ = [
    "DEFAULT_CASE_DIR",
    "MODEL_VERSION",
    "STEPS",
    "BalansError",
    "BatchResult",
    "Case",
    "DataError",
    "Engine",
    "LeverArrays",
    "Result",
    "Scenario",
    "ScenarioError",
    "get_engine",
    "json_safe",
    "json_schema",
    "load_case",
    "load_scenario",
    "parse_scenario",
    "run",
    "run_file",
    "save_scenario",
]
