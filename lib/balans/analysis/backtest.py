"""The back-test: the April 2023 close run forward with what the documents say happened.

What happened after the cut-off, as the later documents give it: agency hours May-August
fell from about 74 000 (2023) to about 34 000 (2024) (003), and the stricter rest rule took
effect in October 2023 (in the baseline). :func:`what_happened` turns that into a scenario
(the agency hours of May-August 2024 brought to 34 000 from the spring of 2024, the
replacement mix at the case's defaults); :func:`backtest_frame` sets the model's figures
beside the documents' (the Jan-Sep 2024 deviation, Q1 2024's, the May-Aug 2023 agency hours
and the 2024 full-year forecast); :func:`backtest_tornado` shows how far each figure moves
across the range of the assumptions no document gives (the replacement mix, the rest
rule's extra need and the cost of care not delivered).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from balans.inputs.case import Case
from balans.inputs.scenario import Scenario, parse_scenario
from balans.model.api import Result, get_engine, run

# The month the agency reduction of 2024 starts and the months to full effect: 003 says the
# fall is seen "from the spring of 2024" and the new call-off agreement took effect before
# the summer.
AGENCY_START = "2024-03"
AGENCY_RAMP_MONTHS = 2


@dataclass(frozen=True)
class BacktestFigure:
    key: str  # figures.csv key of the document's figure
    label_sv: str
    unit: str


FIGURES = (
    BacktestFigure("deviation_jansep_2024_net_cost_mkr", "Budgetavvikelse jan–sep 2024", "mkr"),
    BacktestFigure("deviation_janmar_2024_net_cost_mkr", "Budgetavvikelse jan–mar 2024", "mkr"),
    BacktestFigure("agency_hours_mayaug_2023_hours", "Hyrtimmar maj–aug 2023", "hours"),
    BacktestFigure("board_forecast_2024_net_cost_mkr", "Helårsprognos 2024", "mkr"),
)


def _months(case: Case, year: int, first: int, last: int) -> np.ndarray:
    return np.array([y == year and first <= m <= last for y, m in case.months])


def what_happened(case: Case | None = None, **levers: object) -> Scenario:
    """The scenario of what the documents say happened after the April 2023 close."""
    e = get_engine(case)
    summer24 = _months(e.case, 2024, 5, 8)
    # the baseline's delivered hours, the rest rule's agency cover included (it shrinks with
    # the hours kept, so one change brings both to the document's total)
    base_hours = float(e.evaluate(e.default_levers(1)).agency_hours[0][summer24].sum())
    target = float(e.case.figures["agency_hours_mayaug_2024_hours"].value)
    change = 100.0 * (target / base_hours - 1.0)
    agency = {"change_pct": round(change, 1), "start": AGENCY_START}
    agency["ramp_months"] = AGENCY_RAMP_MONTHS
    data = {
        "name": "Det som hände efter april 2023 (återprövning)",
        "description": (
            "Hyrtimmarna maj–augusti 2024 blir cirka 34 000 (003) från våren 2024; de skärpta "
            "dygnsviloreglerna från oktober 2023 ingår i basprognosen."
        ),
        "levers": {"agency": agency, **levers},
    }
    return parse_scenario(data, "back-test")


def model_figures(result: Result) -> dict[str, float]:
    """The model's value of each back-test figure for one result."""
    e, b, i = result.engine, result.batch, result.index
    case = e.case
    net = b.net[i] / 1000.0
    bud = e.budget.sum(axis=1) / 1000.0
    jansep = _months(case, 2024, 1, 9)
    janmar = _months(case, 2024, 1, 3)
    hours = b.agency_hours[i].sum(axis=1)
    yi = e.years.index(2024)
    return {
        "deviation_jansep_2024_net_cost_mkr": float((net - bud)[jansep].sum()),
        "deviation_janmar_2024_net_cost_mkr": float((net - bud)[janmar].sum()),
        "agency_hours_mayaug_2023_hours": float(hours[_months(case, 2023, 5, 8)].sum()),
        "board_forecast_2024_net_cost_mkr": float(b.net_by_year_mkr[i, yi]),
    }


def backtest_frame(case: Case | None = None) -> pd.DataFrame:
    """Per back-test figure: the document's value, the baseline's, the model's with what
    happened, and the distance (model - document, and in per cent of the document)."""
    e = get_engine(case)
    base = model_figures(run(parse_scenario({"name": "Basprognos"}), e.case))
    happened = model_figures(run(what_happened(e.case), e.case))
    rows = []
    for f in FIGURES:
        doc = float(e.case.figures[f.key].value)
        rows.append(
            {
                "key": f.key,
                "label_sv": f.label_sv,
                "unit": f.unit,
                "document": doc,
                "source": e.case.figures[f.key].source,
                "baseline": base[f.key],
                "model": happened[f.key],
                "distance": happened[f.key] - doc,
                "distance_pct": 100.0 * (happened[f.key] - doc) / abs(doc),
            }
        )
    return pd.DataFrame(rows)


# The assumptions no document gives, and the scenario fields that set them, at their range's
# low and high end (parameters.csv).
_UNSOURCED = {
    "agency_replacement_own_staff_pct": "replacement",
    "rest_rule_extra_need_pct": "rest_rule",
    "care_not_delivered_cost_to_own_ratio": "assumption",
}


def backtest_tornado(case: Case | None = None) -> pd.DataFrame:
    """How far each back-test figure moves across the range of each unsourced assumption:
    one row per assumption and figure, with the model's value at the low and the high end."""
    e = get_engine(case)
    p = e.case.parameters
    rows = []
    for key, kind in _UNSOURCED.items():
        fig = p[key]
        ends = {}
        for end, value in (("low", fig.low), ("high", fig.high)):
            if kind == "replacement":
                own = float(value)
                rest = 100.0 - own
                pur_share = e.case.param("agency_replacement_purchased_care_pct")
                none_share = e.case.param("agency_replacement_not_replaced_pct")
                scale = rest / (pur_share + none_share)
                repl = {
                    "own_staff_pct": own,
                    "purchased_care_pct": pur_share * scale,
                    "not_replaced_pct": 100.0 - own - pur_share * scale,
                }
                sc = what_happened(e.case)
                data = sc.model_dump(mode="json", exclude_none=True)
                data["levers"]["agency"]["replacement"] = repl
                sc = parse_scenario(data, "back-test")
            elif kind == "rest_rule":
                sc = what_happened(e.case, rest_rule={"extra_need_pct": float(value)})
            else:
                sc = what_happened(e.case)
                data = sc.model_dump(mode="json", exclude_none=True)
                data["assumptions"] = {key: float(value)}
                sc = parse_scenario(data, "back-test")
            ends[end] = model_figures(run(sc, e.case))
        for f in FIGURES:
            rows.append(
                {
                    "assumption": key,
                    "label_sv": fig.label_sv,
                    "low_value": fig.low,
                    "high_value": fig.high,
                    "figure": f.key,
                    "at_low": ends["low"][f.key],
                    "at_high": ends["high"][f.key],
                    "swing": abs(ends["high"][f.key] - ends["low"][f.key]),
                }
            )
    return pd.DataFrame(rows)
