"""Feasibility: warnings on a scenario that the arithmetic alone would let pass.

Each check is a small function of a :class:`~balans.model.api.Result` that returns the warnings it
finds; :func:`check_feasibility` runs them all. A warning names the lever (its path in the
scenario file) and the number that breaches its limit, in Swedish and English, so the app
and the report can show it beside the scenario. The limits come from the case
(``parameters.csv``): attrition, recruitment capacity, the agency share target and the
threshold for care hours not delivered.

- **staffing_pace**: the staffing reduction asks for a faster pace than natural attrition
  allows (the engine caps the pace, so the target is reached later than planned).
- **recruitment**: agency hours replaced by own staff need more new own FTE in a year than
  the region can recruit.
- **rest_rule_uncovered**: part of the rest rule's extra need is covered by neither
  overtime nor agency staff.
- **agency_share**: agency cost above the target share of personnel cost at the end of the
  horizon (the target is set for the end of 2024 in the shipped case).
- **hours_not_delivered**: care hours not delivered in a year above the threshold.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from balans.model.api import Result
from balans.model.engine import LeverArrays
from balans.presentation.fmt import LANGUAGES, fte_text, label, month_name, number, pct, pct_auto

_EPS = 1e-9  # floating-point slack when comparing a figure with its limit


@dataclass(frozen=True)
class FeasibilityWarning:
    """One warning: which check, which lever, the number and its limit, and the message."""

    code: str
    lever: str  # path in the scenario file, e.g. "staffing_reduction.target_pct"
    value: float
    limit: float
    unit: str
    period: str  # "2024" or "2024-12"
    message_sv: str
    message_en: str

    def message(self, lang: str = "sv") -> str:
        return self.message_sv if lang == "sv" else self.message_en

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "lever": self.lever,
            "value": self.value,
            "limit": self.limit,
            "unit": self.unit,
            "period": self.period,
            "message_sv": self.message_sv,
            "message_en": self.message_en,
        }


def month_label(result: Result, t: int, lang: str = "sv") -> str:
    """``'januari 2024'`` (sv) or ``'January 2024'`` (en) for month index t."""
    return month_name(result.case.months[t], lang)


def _warning(
    code: str,
    lever: str,
    value: float,
    limit: float,
    unit: str,
    period: str,
    text: Callable[[str], str],
) -> FeasibilityWarning:
    msgs = {lang: text(lang) for lang in LANGUAGES}
    return FeasibilityWarning(code, lever, value, limit, unit, period, msgs["sv"], msgs["en"])


def _levers(result: Result) -> LeverArrays:
    return result.batch.levers.take(result.index)


def _hours(value: float, lang: str) -> str:
    return number(value, 0, lang)


# --------------------------------------------------------------------------- the checks


def staffing_pace_warnings(result: Result) -> list[FeasibilityWarning]:
    """Wanted pace ``target_pct / max(ramp_months, 1)`` per month above the attrition pace
    ``attrition_pct_per_year / 12``. The target is then reached after
    ``ceil(target / attrition pace)`` months instead of ``max(ramp, 1)``."""
    L = _levers(result)
    target = float(L.staff_target_pct[0])
    if target <= 0:
        return []
    ramp = max(float(L.staff_ramp_months[0]), 1.0)
    wanted_pct = target / ramp
    allowed_pct = float(L.attrition_pct[0]) / 12.0
    if wanted_pct <= allowed_pct + _EPS:
        return []
    start = int(L.staff_start[0])
    last = result.engine.T - 1
    planned = start + int(ramp) - 1
    months_needed = math.ceil(target / allowed_pct - _EPS)
    reached = start + months_needed - 1
    share_at_end_pct = min(target, allowed_pct * (last - start + 1))

    def text(lang: str) -> str:
        t = "narrative.feasibility.staffing_pace"
        head = label(t, lang).format(
            target=pct_auto(target, lang),
            ramp=number(ramp, 0, lang),
            wanted=pct_auto(wanted_pct, lang, 2),
            allowed=pct_auto(allowed_pct, lang, 2),
            attrition=pct_auto(float(L.attrition_pct[0]), lang),
        )
        if reached <= last:
            tail = label(f"{t}_reached", lang).format(
                reached=month_label(result, reached, lang),
                planned=month_label(result, planned, lang),
            )
        else:
            tail = label(f"{t}_not_reached", lang).format(
                share=pct_auto(share_at_end_pct, lang), last=result.case.months[last][0]
            )
        return f"{head} {tail}"

    ym = result.case.months[min(reached, last)]
    return [
        _warning(
            "staffing_pace",
            "staffing_reduction.target_pct",
            wanted_pct,
            allowed_pct,
            "pct_per_month",
            f"{ym[0]}-{ym[1]:02d}",
            text,
        )
    ]


def replacement_own_fte(result: Result) -> np.ndarray:
    """Own FTE that replace agency hours, per month: ``own replacement hours / (hours per
    FTE-year / 12)``, shape (T,)."""
    e = result.engine
    return result.batch.extra["agency_replaced_own_hours"][result.index] / e.hours_per_fte_month


def recruitment_warnings(result: Result) -> list[FeasibilityWarning]:
    """Per year: new own FTE needed to replace agency hours, ``FTE(December) - FTE(previous
    December)``, above ``recruitment_capacity_fte_per_year x forecast months / 12``."""
    e = result.engine
    fte = replacement_own_fte(result)
    per_year = result.case.param("recruitment_capacity_fte_per_year")
    L = _levers(result)
    out = []
    before = 0.0
    for yi, year in enumerate(e.years):
        months = np.flatnonzero(e.year_idx == yi)
        needed = float(fte[months[-1]] - before)
        before = float(fte[months[-1]])
        capacity = per_year * float(e.forecast[months].sum()) / 12.0
        if needed <= capacity + _EPS:
            continue

        def text(lang: str, year=year, needed=needed, capacity=capacity) -> str:
            return label("narrative.feasibility.recruitment", lang).format(
                own=pct_auto(float(L.replace_own_pct[0]), lang),
                needed=fte_text(needed, lang),
                year=year,
                capacity=fte_text(capacity, lang),
                per_year=fte_text(per_year, lang),
            )

        out.append(
            _warning(
                "recruitment",
                "agency.replacement.own_staff_pct",
                needed,
                capacity,
                "fte",
                str(year),
                text,
            )
        )
    return out


def rest_rule_uncovered_warnings(result: Result) -> list[FeasibilityWarning]:
    """The rest rule in force with ``100 - overtime_pct - agency_pct > 0``: that share of the
    extra need is not covered and is lost as care hours."""
    L = _levers(result)
    share_pct = 100.0 - float(L.rest_overtime_pct[0]) - float(L.rest_agency_pct[0])
    uncovered = result.batch.extra["rest_uncovered_hours"][result.index]
    if not bool(L.rest_on[0]) or share_pct <= _EPS or uncovered.max() <= _EPS:
        return []
    per_month = float(uncovered.max())
    total = float(uncovered.sum())
    last_year = result.engine.years[-1]

    def text(lang: str) -> str:
        return label("narrative.feasibility.rest_rule_uncovered", lang).format(
            share=pct_auto(share_pct, lang),
            overtime=pct_auto(float(L.rest_overtime_pct[0]), lang),
            agency=pct_auto(float(L.rest_agency_pct[0]), lang),
            per_month=_hours(per_month, lang),
            total=_hours(total, lang),
            last=last_year,
        )

    return [
        _warning(
            "rest_rule_uncovered",
            "rest_rule.overtime_pct",
            per_month,
            0.0,
            "hours_per_month",
            str(last_year),
            text,
        )
    ]


def agency_share_warnings(result: Result) -> list[FeasibilityWarning]:
    """Agency cost / own personnel cost in the horizon's last month above
    ``agency_share_target_pct``."""
    e = result.engine
    t = e.T - 1
    share = float(result.batch.agency_share_pct[result.index, t])
    target = result.case.param("agency_share_target_pct")
    if share <= target + _EPS:
        return []
    y, m = result.case.months[t]

    def text(lang: str) -> str:
        return label("narrative.feasibility.agency_share", lang).format(
            share=pct(share, 1, lang),
            month=month_label(result, t, lang),
            target=pct_auto(target, lang),
        )

    return [
        _warning("agency_share", "agency.change_pct", share, target, "pct", f"{y}-{m:02d}", text)
    ]


# The lever each reason of care not delivered points to, and the chart label that names it.
_REASON = {
    "agency.replacement.not_replaced_pct": "agency_not_replaced_hours",
    "agency.fill_rate_pct": "agency_fill_shortfall_hours",
    "rest_rule.overtime_pct": "rest_rule_uncovered_hours",
}


def hours_not_delivered_warnings(result: Result) -> list[FeasibilityWarning]:
    """Per year: care hours not delivered (agency hours not replaced + ordered but not
    delivered + rest-rule need not covered) above
    ``hours_not_delivered_threshold_hours_per_year``. The lever named is the largest source."""
    e = result.engine
    x, i = result.batch.extra, result.index
    parts = {
        "agency.replacement.not_replaced_pct": x["agency_not_replaced_hours"][i],
        "agency.fill_rate_pct": x["agency_fill_shortfall_hours"][i],
        "rest_rule.overtime_pct": x["rest_uncovered_hours"][i],
    }
    by_year = {k: e.year_matrix @ v for k, v in parts.items()}  # (Y,) each
    total = sum(by_year.values())
    threshold = result.case.param("hours_not_delivered_threshold_hours_per_year")
    out = []
    for yi, year in enumerate(e.years):
        hours = float(total[yi])
        if hours <= threshold + _EPS:
            continue
        lever = max(by_year, key=lambda k, yi=yi: by_year[k][yi])
        a, b, c = (float(by_year[k][yi]) for k in parts)

        def text(lang: str, year=year, hours=hours, a=a, b=b, c=c, lever=lever) -> str:
            return label("narrative.feasibility.hours_not_delivered", lang).format(
                hours=_hours(hours, lang),
                year=year,
                not_replaced=_hours(a, lang),
                shortfall=_hours(b, lang),
                rest=_hours(c, lang),
                threshold=_hours(threshold, lang),
                lever=label(f"charts.{_REASON[lever]}", lang).lower(),
            )

        out.append(
            _warning("hours_not_delivered", lever, hours, threshold, "hours", str(year), text)
        )
    return out


CHECKS: tuple[Callable[[Result], list[FeasibilityWarning]], ...] = (
    staffing_pace_warnings,
    recruitment_warnings,
    rest_rule_uncovered_warnings,
    agency_share_warnings,
    hours_not_delivered_warnings,
)


def check_feasibility(result: Result) -> list[FeasibilityWarning]:
    """Every feasibility warning for one scenario's result, in the order of :data:`CHECKS`."""
    return [w for check in CHECKS for w in check(result)]


def feasibility_frame(result: Result, lang: str = "sv") -> pd.DataFrame:
    """The warnings as a table: code, lever, value, limit, unit, period and the message."""
    rows = [w.to_dict() | {"message": w.message(lang)} for w in check_feasibility(result)]
    cols = ["code", "lever", "value", "limit", "unit", "period", "message"]
    return pd.DataFrame(rows, columns=[*cols, "message_sv", "message_en"])[cols]
