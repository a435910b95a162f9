"""The board members' app: sliders for the levers, headline cards, charts and sources.

A thin face over the package: the controls build a scenario (the same format as a
scenario file, validated the same way), :func:`balans.run` computes it, and the chart
builders of :mod:`balans.presentation.charts` draw it. No figure is computed here.

``notebooks/app.ipynb`` shows it in Voilà::

    from balans.faces.app import BalansApp
    BalansApp().show()
"""

from __future__ import annotations

import base64
import html
import logging
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import ipywidgets as w

from balans.analysis.compare import MAX_OTHERS as MAX_COMPARED
from balans.errors import BalansError
from balans.inputs.case import Case, Figure, load_case
from balans.inputs.scenario import Scenario, load_scenario, parse_scenario
from balans.model.api import Result, get_engine, run
from balans.model.levers import BY_CONTROL, BY_PATH, FIRST_FORECAST_MONTH, MAX_MEASURES, Lever
from balans.presentation.a11y import describe as describe_chart
from balans.presentation.a11y import footer_html
from balans.presentation.fmt import LANGUAGES, label, mkr, number, short
from balans.presentation.fmt import labels as label_tree
from balans.presentation.summary import season_text, signal
from balans.resources import scenarios_dir as case_scenarios_dir

log = logging.getLogger("balans.app")


def _log_to_the_server() -> None:
    """The app's log goes to the kernel process's own stderr, which is the server's log, not
    to ``sys.stderr``: in a kernel that is a stream to the viewer's browser, and a traceback
    there would show install paths and versions to every board member."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.__stderr__)
        handler.setFormatter(logging.Formatter("[balans.app] %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.propagate = False


_log_to_the_server()

SCENARIOS_DIR = case_scenarios_dir()  # the shipped case's scenarios/ (package data)


# --------------------------------------------------------------------------- controls

# the units a share link's range is given with (a month or a division names itself)
RANGE_UNITS = ("pct", "pct_per_year", "months", "mkr_per_year")


@dataclass(frozen=True)
class Control:
    """One control: its query-string key, kind, range and step, and the parameters.csv key
    whose source is shown beside it. A lever's control is made from the lever registry
    (:meth:`of`); the app restates none of it."""

    key: str
    kind: str  # float | int | month | bool | division ("" = the whole board)
    lo: float = 0.0
    hi: float = 100.0
    step: float = 1.0
    source: str | None = None  # parameters.csv key whose source is shown beside it
    source_is_default: bool = True  # False: a reference (the slider starts elsewhere)
    most: float | None = None  # the largest value a share link may give (default: hi)
    unit: str = ""  # the lever's unit (as the locale's units.*), named with its range

    @classmethod
    def of(cls, lever: Lever, year: int | None = None) -> Control:
        lo, hi = lever.bounds
        # the measures' control is their sum: up to the most measures a file may hold
        most = hi * MAX_MEASURES if lever.parts[0] == "measures" else None
        return cls(
            key=lever.control_key(year),
            kind=lever.kind,
            lo=lo if math.isfinite(lo) else 0.0,
            hi=hi if math.isfinite(hi) else 100.0,
            step=lever.step or 1.0,
            source=lever.param_key(year) or lever.reference_param,
            source_is_default=lever.default_param is not None,
            most=most,
            unit=lever.unit,
        )

    @property
    def allowed(self) -> tuple[float, float]:
        """The range a share link's value must lie in."""
        return self.lo, self.hi if self.most is None else self.most


# The controls, group by group in the order the app shows them; each lever's control comes
# from the registry (balans.model.levers), "rest_on" is the app's own switch for the rule.
GROUPS = {
    "staffing": ("staff_pct", "staff_start", "staff_ramp", "staff_division"),
    "agency": (
        "agency_pct",
        "agency_start",
        "own_pct",
        "bought_pct",
        "fill_pct",
        "agency_division",
    ),
    "drugs": ("drug_pct",),
    "rest_rule": ("rest_on", "rest_start", "rest_need", "rest_mitigation"),
    "measures": ("realisation", "measures_mkr", "measures_division"),
    "pay_revenue": ("revenue_pct",),  # the pay sliders are added per year
}
CONTROLS = tuple(
    Control("rest_on", "bool") if key == "rest_on" else Control.of(BY_CONTROL[key])
    for keys in GROUPS.values()
    for key in keys
)
_CONTROL = {c.key: c for c in CONTROLS}
PAY = BY_PATH["pay_revision_pct"]


def control_default(case: Case, key: str, first_forecast: str) -> Any:
    """A control's value in the baseline: its lever's default (balans.model.levers), the first
    forecast month for a start month that defaults to it."""
    lever = BY_CONTROL[key]
    value = lever.default_value(case)
    if value == FIRST_FORECAST_MONTH:
        return first_forecast
    return int(value) if lever.kind == "int" else value


# Controls that show a file's value otherwise than as it is: the agency change (a file may
# give one per category), the measures (their sum) and the rest rule's switch.
_DERIVED = frozenset({"agency_pct", "measures_mkr", "measures_division", "rest_on"})


def widget_values_from_scenario(case: Case, sc: Scenario, first_forecast: str) -> dict[str, Any]:
    """The control values that show a scenario (defaults where it leaves a lever out)."""
    lv = sc.levers
    v: dict[str, Any] = {
        c.key: control_default(case, c.key, first_forecast) for c in CONTROLS if c.kind != "bool"
    }
    v["rest_on"] = case.rest_rule_in_baseline
    # a rule in force before the cut-off: a scenario's rule starts in the first forecast month
    v["rest_start"] = max(v["rest_start"], first_forecast)
    for y in case.years:
        v[f"pay_{y}"] = PAY.default_value(case, y)
    for key, lever in BY_CONTROL.items():
        if key in _DERIVED or lever.per_year:
            continue
        value = lever.get(lv)
        if value is not None:
            v[key] = int(value) if lever.kind == "int" else value
    if (a := lv.agency) is not None and a.change_pct is None and a.categories:
        v["agency_pct"] = sum(a.categories.values()) / len(a.categories)
    elif a is not None and a.change_pct is not None:
        v["agency_pct"] = a.change_pct
    if (r := lv.rest_rule) is not None:
        # a rule in the baseline with no extra need is the rule switched off
        v["rest_on"] = not (case.rest_rule_in_baseline and r.extra_need_pct == 0)
    if lv.measures:
        v["measures_mkr"] = sum(m.mkr_per_year for m in lv.measures)
        aimed = {m.division or "" for m in lv.measures}
        v["measures_division"] = aimed.pop() if len(aimed) == 1 else ""
    if lv.pay_revision_pct is not None:
        if isinstance(lv.pay_revision_pct, dict):
            for y, x in lv.pay_revision_pct.items():
                v[f"pay_{y}"] = x
        else:
            for y in case.years:
                v[f"pay_{y}"] = float(lv.pay_revision_pct)
    return v


def scenario_from_values(
    case: Case, base: Scenario, loaded: dict[str, Any], v: dict[str, Any], lang: str = "sv"
) -> Scenario:
    """Build the scenario the controls show: what was not touched stays as in the file.

    Each lever group is rebuilt from the controls only when one of its controls differs
    from the value it had when the file was loaded; a rebuilt lever that is at its
    baseline value is left out, so "reset" gives the baseline exactly."""
    data = base.model_dump(mode="json", exclude_none=True)
    levers: dict[str, Any] = data.setdefault("levers", {})

    def default(key: str) -> Any:
        """The control's value in the baseline (its lever's default, balans.model.levers)."""
        return BY_CONTROL[key].default_value(case)

    def touched(*keys: str) -> bool:
        return any(not _same(v[k], loaded.get(k)) for k in keys)

    if touched(*GROUPS["staffing"]):
        levers.pop("staffing_reduction", None)
        if v["staff_pct"] > 0:
            levers["staffing_reduction"] = {
                "target_pct": v["staff_pct"],
                "start": v["staff_start"],
                "ramp_months": int(v["staff_ramp"]),
            } | ({"division": v["staff_division"]} if v["staff_division"] else {})
    if touched(*GROUPS["agency"]):
        old = levers.pop("agency", {}) or {}
        own, bought = float(v["own_pct"]), float(v["bought_pct"])
        agency = {k: old[k] for k in ("ramp_months",) if k in old}
        if v["agency_pct"] != default("agency_pct"):
            agency["change_pct"] = v["agency_pct"]
        elif "categories" in old and not touched("agency_pct"):
            agency["categories"] = old["categories"]
        if v["fill_pct"] != default("fill_pct"):
            agency["fill_rate_pct"] = v["fill_pct"]
        if agency:
            if v["agency_division"] and ("change_pct" in agency or "categories" in agency):
                agency["division"] = v["agency_division"]
            agency["start"] = v["agency_start"]
            agency["replacement"] = {
                "own_staff_pct": own,
                "purchased_care_pct": bought,
                "not_replaced_pct": 100 - own - bought,
            }
            levers["agency"] = agency
    if touched("drug_pct"):
        levers.pop("drug_cost_growth_pct", None)
        if v["drug_pct"] != default("drug_pct"):
            levers["drug_cost_growth_pct"] = v["drug_pct"]
    if touched(*GROUPS["rest_rule"]):
        old = levers.pop("rest_rule", {}) or {}
        in_base = case.rest_rule_in_baseline
        if v["rest_on"]:
            rest = {k: old[k] for k in ("overtime_pct", "agency_pct") if k in old}
            rest |= {
                "start": v["rest_start"],
                "extra_need_pct": v["rest_need"],
                "weekend_mitigation_pct": v["rest_mitigation"],
            }
            as_baseline = (
                in_base
                and len(rest) == 3
                and v["rest_start"] == default("rest_start")
                and v["rest_need"] == default("rest_need")
                and v["rest_mitigation"] == default("rest_mitigation")
            )
            if not as_baseline:
                levers["rest_rule"] = rest
        elif in_base:
            # the decided rule is in the baseline: switching it off is a rule with no extra need
            levers["rest_rule"] = {"extra_need_pct": 0.0}
    if touched("realisation"):
        levers.pop("realisation_pct", None)
        if v["realisation"] != default("realisation"):
            levers["realisation_pct"] = v["realisation"]
    if touched("measures_mkr", "measures_division"):
        old = levers.pop("measures", []) or []
        total = sum(m["mkr_per_year"] for m in old)
        if v["measures_mkr"] > 0:
            if total > 0:
                factor = v["measures_mkr"] / total
                levers["measures"] = [m | {"mkr_per_year": m["mkr_per_year"] * factor} for m in old]
            else:
                levers["measures"] = [
                    {"name": label("app.measures_mkr", lang), "mkr_per_year": v["measures_mkr"]}
                ]
            if touched("measures_division"):
                for m in levers["measures"]:
                    m.pop("division", None)
                    if v["measures_division"]:
                        m["division"] = v["measures_division"]
    if touched("revenue_pct"):
        old = levers.pop("revenue", {}) or {}
        rev = {k: old[k] for k in ("mkr_per_year", "start") if k in old}
        if v["revenue_pct"] != default("revenue_pct"):
            rev["change_pct"] = v["revenue_pct"]
        if rev:
            levers["revenue"] = rev
    pay_keys = [f"pay_{y}" for y in case.years]
    if touched(*pay_keys):
        levers.pop("pay_revision_pct", None)
        pay = {y: v[f"pay_{y}"] for y in case.years}
        if any(pay[y] != PAY.default_value(case, y) for y in case.years):
            levers["pay_revision_pct"] = pay
    changed = any(touched(*g) for g in GROUPS.values()) or touched(*pay_keys)
    suffix = f" ({label('app.changed', lang)})"
    if changed and not data["name"].endswith(suffix):
        data["name"] = data["name"][: 120 - len(suffix)] + suffix
    return parse_scenario(data, "app")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    return a == b


def parse_query(
    qs: str,
    months: list[str],
    scenario_stems: list[str],
    lang: str = "sv",
    divisions: list[str] | None = None,
    years: list[int] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Control values from a query string; every value that cannot be used is named in a
    message (and ignored), never raised: the page still opens, on what could be used."""
    out: dict[str, Any] = {}
    problems: list[str] = []
    by_key = {c.key: c for c in CONTROLS}
    for key, raw in parse_qsl(qs or "", keep_blank_values=True):
        if key == "scenario":
            if raw in scenario_stems:
                out["scenario"] = raw
            else:
                problems.append(f"scenario={raw} ({', '.join(scenario_stems)})")
            continue
        if key == "year":
            shown_years = years or []
            if raw.isascii() and raw.isdigit() and int(raw) in shown_years:
                out["year"] = int(raw)
            else:
                problems.append(f"year={raw} ({' | '.join(str(y) for y in shown_years)})")
            continue
        if key == "compare":  # ?compare=hyrstopp,dygnsvila: the compare tab's picks
            picks = [x for x in raw.split(",") if x]
            bad = [x for x in picks if x not in scenario_stems]
            if bad or len(picks) > MAX_COMPARED:
                problems.append(
                    f"compare={raw} ({label('app.compare_allowed', lang).format(n=MAX_COMPARED)}: "
                    f"{', '.join(scenario_stems)})"
                )
            else:
                out["compare"] = picks
            continue
        if key == "lang":
            if raw in LANGUAGES:
                out["lang"] = raw
            else:
                problems.append(f"lang={raw} ({' | '.join(LANGUAGES)})")
            continue
        c = by_key.get(key)
        if c is None and key.startswith("pay_") and key[4:].isdigit():
            c = Control.of(PAY, int(key[4:]))
        if c is None:
            problems.append(f"{key}={raw} ({label('app.unknown_key', lang)})")
            continue
        try:
            if c.kind == "bool":
                if raw not in ("0", "1"):
                    raise ValueError("0 | 1")
                out[key] = raw == "1"
            elif c.kind == "month":
                if raw not in months:
                    raise ValueError(f"{months[0]}–{months[-1]}")
                out[key] = raw
            elif c.kind == "division":
                allowed = divisions or []
                if raw and raw not in allowed:
                    raise ValueError(" | ".join(allowed) or label("app.no_divisions", lang))
                out[key] = raw
            else:
                x = float(raw)
                lo, hi = c.allowed
                if not (lo <= x <= hi) or math.isnan(x):
                    raise ValueError(f"{number(lo, 1, lang)}–{number(hi, 1, lang)}")
                out[key] = int(x) if c.kind == "int" else x
        except ValueError as exc:
            allowed = (
                str(exc)
                if "–" in str(exc) or "|" in str(exc)
                else f"{number(c.allowed[0], 1, lang)}–{number(c.allowed[1], 1, lang)}"
            )
            unit = label(f"units.{c.unit}", lang) if c.unit in RANGE_UNITS else ""
            problems.append(f"{key}={raw} ({allowed}{' ' + unit if unit else ''})")
    return out, problems


# --------------------------------------------------------------------------- the app

_CSS = """
<style>
.balans-cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 6px 0 10px 0; }
.balans-card { border: 1px solid #c8c8c8; border-radius: 8px; padding: 10px 16px; min-width: 200px; background: #fff; }
.balans-card .balans-label { font-size: 14px; color: #333; }
.balans-card .balans-value { font-size: 30px; font-weight: 700; color: #111; white-space: nowrap; }
.balans-card .balans-note { font-size: 13px; color: #444; }
.balans-signal { display: inline-block; width: 16px; height: 16px; border-radius: 50%; margin-right: 6px; vertical-align: middle; border: 2px solid #222; }
.balans-signal-green { background: #009E73; } .balans-signal-yellow { background: #F0E442; } .balans-signal-red { background: #D55E00; }
.balans-source { font-size: 12px; color: #444; margin: -4px 0 6px 4px; }
.balans-error { border-left: 4px solid #D55E00; padding: 6px 10px; background: #fff4ee; }
.balans-downloads a { margin-right: 14px; }
.balans-orientation { max-width: 1100px; margin: 4px 0 8px 0; font-size: 14px; line-height: 1.45; }
.balans-orientation p { margin: 4px 0 0 0; }
.balans-help { font-size: 12px; color: #333; margin: 0 0 2px 4px; line-height: 1.4; }
.balans-warnings { border-left: 4px solid #E69F00; padding: 4px 10px; background: #fff8e6; max-width: 1100px; }
/* Layout, 1024 px to 1920 px and embedded in JupyterLab: the page measures its own width
   (a container query, so a narrow notebook cell counts as narrow). Controls left in a column
   of 300-440 px, the tabs take the rest; under 900 px the two stack. A label sits above its
   control and wraps; the control fills the column, so a slider's track never shrinks to a
   dot. The tab column may not push the controls column: what is wider scrolls inside it. */
.balans-app { container: balans / inline-size; width: 100%; box-sizing: border-box; }
.balans-app .balans-row { flex-wrap: wrap; gap: 4px 12px; align-items: center; }
.balans-app .balans-main { display: grid; grid-template-columns: clamp(300px, 30%, 440px) minmax(0, 1fr); gap: 12px; align-items: start; }
.balans-app .balans-main > .widget-box, .balans-app .balans-main > .widget-tab { min-width: 0; width: auto; margin: 0; }
@container balans (max-width: 900px) {
  .balans-app .balans-main { grid-template-columns: minmax(0, 1fr); }
  .balans-app .balans-controls { max-width: 640px; }
}
.balans-app .balans-controls .widget-accordion { width: auto; margin: 2px 0; }
.balans-app .balans-slider-row { align-items: flex-end; width: 100%; }
.balans-app .balans-slider-row > .balans-control { flex: 1 1 auto; min-width: 0; }
.balans-app .widget-inline-hbox.balans-control { width: 100%; max-width: 100%; height: auto; flex-wrap: wrap; align-items: center; margin: 6px 0 2px 0; }
.balans-app .balans-tabs .widget-inline-hbox.balans-control { max-width: 560px; }
.balans-app .balans-control > .widget-label { flex: 1 0 100%; width: auto; max-width: 100%; min-width: 0; height: auto; line-height: 1.35; margin: 0 0 2px 0; text-align: left; white-space: normal; overflow: visible; text-overflow: clip; }
.balans-app .balans-control > .slider-container { flex: 1 1 150px; min-width: 150px; min-height: 28px; margin: 0 10px; display: flex; align-items: center; }
.balans-app .balans-control > .slider-container > .noUi-target { flex: 1 1 auto; }
.balans-app .widget-html > .widget-html-content { line-height: 1.45; }  /* wrapped text, not 28 px lines */
.balans-app .balans-slider-row > .widget-html { height: 28px; margin-bottom: 2px; }
.balans-app .balans-slider-row > .widget-html > .widget-html-content { line-height: 28px; }
.balans-app .balans-control > select, .balans-app .balans-control > input { flex: 1 1 auto; min-width: 0; max-width: 100%; }
.balans-app .balans-control .widget-label-basic, .balans-app .balans-control .widget-label-basic span { white-space: normal; overflow: visible; height: auto; line-height: 1.35; }
.balans-app .balans-picker > .widget-label { white-space: normal; overflow: visible; }
.balans-app .balans-picker > select { min-width: 0; }
.balans-app .widget-button { height: auto; min-height: var(--jp-widgets-inline-height, 28px); white-space: normal; max-width: 100%; }
.balans-app .jupyter-widget-Collapse-header span { white-space: normal; }
.balans-app .balans-tabs > .lm-TabBar { height: auto; min-height: 0; overflow: visible; }
.balans-app .balans-tabs > .lm-TabBar > .lm-TabBar-content { flex-wrap: wrap; }
.balans-app .balans-tabs > .lm-TabBar .lm-TabBar-tab { flex: 0 0 auto; max-width: none; }
.balans-app .balans-tabs > .lm-TabBar .lm-TabBar-tabLabel { overflow: visible; text-overflow: clip; }
.balans-app .balans-tabs > .lm-TabBar .lm-TabBar-tab { color: #333; }  /* 4.5:1 on the grey tab (WCAG 1.4.3) */
.balans-app .balans-tabs > .widget-tab-contents { overflow-x: auto; min-width: 0; }
.balans-app .balans-tabs .widget-html-content { min-width: 0; }
.balans-app .balans-tabs table { display: block; max-width: 100%; overflow-x: auto; border-collapse: collapse; }
.balans-app .balans-tabs th { white-space: normal; vertical-align: bottom; }
.balans-app .balans-tabs th, .balans-app .balans-tabs td { padding: 3px 6px; line-height: 1.35; }
@container balans (max-width: 1100px) {
  .balans-app .balans-tabs table { font-size: 12px; }
  .balans-app .balans-tabs th, .balans-app .balans-tabs td { padding: 3px 4px; }
  .balans-app .balans-tabs > .widget-tab-contents { padding: 8px; }
}
/* a chart wider than its tab (the tornado's long labels on a tablet) shrinks to fit, whole */
.balans-app .balans-tabs .widget-box > .vega-embed { min-width: 0; max-width: 100%; }
.balans-app .balans-tabs .vega-embed > svg { max-width: 100%; height: auto; }
.balans-app .balans-downloads { overflow-wrap: anywhere; }
.balans-app table.balans-compare { border-collapse: collapse; margin: 6px 0 10px 0; max-width: 100%; }
.balans-app table.balans-compare caption { text-align: left; font-weight: 600; padding-bottom: 4px; }
.balans-app table.balans-compare th, .balans-app table.balans-compare td { border-bottom: 1px solid #d0d0d0; padding: 4px 10px; vertical-align: top; }
.balans-app table.balans-compare thead th { text-align: right; font-weight: 600; }
.balans-app table.balans-compare tbody th { text-align: left; font-weight: 400; }
.balans-app table.balans-compare td { text-align: right; white-space: nowrap; }
.balans-app table.balans-compare td.balans-compare-signal { white-space: normal; text-align: left; }
.balans-app .balans-compare-box { max-width: 100%; overflow-x: auto; }
.balans-app .balans-compare-text h4 { margin: 10px 0 4px 0; }
.balans-print-note { display: none; }
/* Printing the page (Ctrl+P) gives the view on A4, whole: the page's scroll boxes let go,
   the controls and the tab bar give way to a note on the board paper (PDF), and charts
   shrink to the page. The board paper is the document to hand out. */
@media print {
  @page { size: A4; margin: 14mm; }
  html, body, #main, #jp-main-content-panel, #rendered_cells {
    height: auto !important; overflow: visible !important; position: static !important;
    contain: none !important; width: auto !important; }
  .balans-app, .balans-app .widget-box, .balans-app .jp-OutputArea-output { overflow: visible !important; }
  .balans-app, .balans-app .widget-html, .balans-app .widget-html-content, .balans-app .widget-box,
  .balans-app .jp-OutputArea-output, .balans-app .widget-tab-contents { width: auto !important;
    max-width: 100% !important; min-width: 0 !important; flex: none !important; }
  .balans-app .balans-controls, .balans-app .balans-row, .balans-app .balans-tabs > .lm-TabBar,
  .balans-app .widget-button, .balans-app .widget-checkbox, .balans-app .widget-dropdown { display: none !important; }
  .balans-app .balans-main { display: block !important; }
  .balans-app .balans-tabs > .widget-tab-contents { border: none !important; padding: 0 !important; }
  .balans-app .vega-embed, .balans-app .vega-embed svg { max-width: 100% !important; height: auto !important; }
  .balans-app .balans-card, .balans-app .vega-embed, .balans-app table { break-inside: avoid; }
  .balans-print-note { display: block; font-size: 12px; color: #333; margin: 4px 0 8px 0; }
}
.balans-app .balans-downloads a { display: inline-block; margin: 0 14px 6px 0; }
</style>
"""


class BalansApp:
    """The widget tree for one viewer. ``show()`` displays it; ``widget`` is the root."""

    def __init__(
        self,
        case: Case | str | Path | None = None,
        scenarios_dir: Path | None = None,
        lang: str = "sv",
        query: str | None = None,
    ) -> None:
        import altair as alt

        from balans.faces.vega_bundle import enable_offline

        enable_offline(alt)  # the Vega bundle of vl-convert, made once by balans app: no CDN
        self._alt = alt
        if case is None:
            case = os.environ.get("BALANS_CASE") or None  # balans app --case DIR
            cutoff = os.environ.get("BALANS_CUTOFF") or None  # balans app --cutoff YYYY-MM
            if cutoff:
                case = load_case(case, cutoff=cutoff)
        self.engine = get_engine(case)
        self.case = self.engine.case
        self.lang = lang
        self.months = [f"{y}-{m:02d}" for y, m in self.case.months]
        self.forecast_months = self.months[self.engine.first_forecast :]
        self.first_forecast = self.forecast_months[0]
        if scenarios_dir is None:
            own = self.case.scenarios_dir
            scenarios_dir = own if own.is_dir() else SCENARIOS_DIR
            if case is not None and not own.is_dir():
                scenarios_dir = own  # another case: its own scenarios or none, never ours
        self.scenario_files = self._scenario_files(scenarios_dir)
        self._busy = False
        self._picks_touched = False  # a viewer's own compare picks outlive a scenario change
        self.result: Result | None = None
        self.scenario: Scenario | None = None
        self._build()
        # a shared link computes once, with its own setting (not the baseline first)
        self.load_scenario(self._baseline_key(), recompute=not query)
        if query:
            self.apply_query(query)

    # ------------------------------------------------------------------ data

    def _scenario_files(self, folder: Path) -> dict[str, Scenario]:
        files: dict[str, Scenario] = {}
        self._file_errors: list[str] = []
        for p in sorted(Path(folder).glob("*.yaml")):
            try:
                files[p.stem] = load_scenario(p)
            except BalansError as exc:
                self._file_errors.append(str(exc))
        if "baseline" not in files:
            files = {
                "baseline": parse_scenario({"name": label("lines.baseline", self.lang)})
            } | files
        return files

    def _baseline_key(self) -> str:
        return "baseline"

    def L(self, key: str, **kw: Any) -> str:
        text = label(f"app.{key}", self.lang)
        return text.format(**kw) if kw else text

    def _label_goal_tooltips(self) -> None:
        for wdg in (self.goal_lever, self.goal_target):
            wdg.tooltip = wdg.description or None

    def _help_html(self, key: str, **kw: Any) -> str:
        """What a control means and its unit, in a sentence a board member reads."""
        return f'<div class="balans-help">{html.escape(self.L(f"help.{key}", **kw))}</div>'

    def _source_html(self, key: str | None, is_default: bool = True) -> str:
        """'Källa: 11,0 % per år (härlett)' under a slider whose default it is, or, where the
        slider starts elsewhere, the figure as a reference under its own name
        ('Personalomsättning (lämnar regionen): 7,0 % per år (härlett)'); opening to the
        document and the reason."""
        if key is None or key not in self.case.parameters:
            return ""
        f: Figure = self.case.parameters[key]
        value = f.value if isinstance(f.value, str) else number(float(f.value), 1, self.lang)
        unit = (
            label(f"units.{f.unit}", self.lang)
            if f.unit in label_tree(self.lang)["units"]
            else f.unit
        )
        name = self.L("source") if is_default else (f.label_sv if self.lang == "sv" else f.label_en)
        note = f" {html.escape(f.note_in(self.lang))}" if f.note_in(self.lang) else ""
        return (
            f'<div class="balans-source"><details><summary>{html.escape(name)}: {html.escape(str(value))} {html.escape(unit)} '
            f"({self.L(f.kind).lower()})</summary>{html.escape(self.case.source_text(f.source_in(self.lang)))}.{note}</details></div>"
        )

    # ------------------------------------------------------------------ widgets

    def _build(self) -> None:
        # No fixed widths: the stylesheet (_CSS) puts each label above its control and lets
        # the control fill its column, so a slider keeps its track on a tablet too.
        style: dict[str, str] = {}
        layout = w.Layout()
        self.controls: dict[str, w.Widget] = {}
        self.sources: dict[str, w.HTML] = {}
        for c in CONTROLS:
            if c.kind == "float":
                ctl = w.FloatSlider(
                    min=c.lo,
                    max=c.hi,
                    step=c.step,
                    continuous_update=False,
                    style=style,
                    layout=layout,
                    readout=False,
                )
            elif c.kind == "int":
                ctl = w.IntSlider(
                    min=int(c.lo),
                    max=int(c.hi),
                    step=int(c.step),
                    continuous_update=False,
                    style=style,
                    layout=layout,
                    readout=False,
                )
            elif c.kind == "month":
                ctl = w.SelectionSlider(
                    options=self.forecast_months,
                    continuous_update=False,
                    style=style,
                    layout=layout,
                )
            elif c.kind == "division":
                ctl = w.Dropdown(
                    options=self._division_options(), value="", style=style, layout=layout
                )
            else:
                ctl = w.Checkbox(indent=False, style=style, layout=layout)
            self.controls[c.key] = ctl.add_class("balans-control")
            self.sources[c.key] = w.HTML(self._source_html(c.source, c.source_is_default))
        for y in self.case.years:
            key = f"pay_{y}"
            c = Control.of(PAY, y)
            self.controls[key] = w.FloatSlider(
                min=c.lo,
                max=c.hi,
                step=c.step,
                continuous_update=False,
                style=style,
                layout=layout,
                readout=False,
            ).add_class("balans-control")
            self.sources[key] = w.HTML(self._source_html(c.source))
        # Readouts in the viewer's number format (the slider's own readout has a decimal point)
        self.readouts: dict[str, w.HTML] = {}
        for key, ctl in self.controls.items():
            if isinstance(ctl, w.FloatSlider | w.IntSlider):
                self.readouts[key] = w.HTML(layout=w.Layout(width="56px", flex="0 0 auto"))
                ctl.observe(lambda ch, k=key: self._show_readout(k), names="value")
        self.not_replaced = w.HTML()
        self.drug_reference = w.HTML()
        self.history_button = w.Button(layout=w.Layout(width="auto"))
        self.history_button.on_click(lambda _: self._set_realisation_history())

        self.picker = w.Dropdown(
            options=[(s.name, k) for k, s in self.scenario_files.items()],
            style={"description_width": "initial"},
            layout=w.Layout(width="auto", max_width="100%"),
        ).add_class("balans-picker")
        self.reset = w.Button(icon="undo", layout=w.Layout(width="auto"))
        self.reset.on_click(lambda _: self.load_scenario(self._baseline_key()))
        self.year = w.ToggleButtons(options=list(self.case.years), value=self.case.years[-1])
        self.lang_switch = w.ToggleButtons(
            options=[("Svenska", "sv"), ("English", "en")], value=self.lang
        )
        self.cumulative = w.Checkbox(value=False, indent=False)
        self.title = w.HTML()
        self.orientation = w.HTML()  # the scenario, what it is, and what follows
        self.cards = w.HTML()
        self.message = w.HTML()
        self.share = w.HTML()
        self.downloads = w.HTML()
        self.prepare = w.Button(icon="download", layout=w.Layout(width="auto"))
        self.prepare.on_click(lambda _: self._prepare_downloads())
        self.sources_panel = w.HTML()
        self.warnings = w.HTML()
        self.analysis_text = w.HTML()
        self.mc_text = w.HTML()
        self.goal_lever = w.Dropdown(style=style, layout=layout).add_class("balans-control")
        self.goal_target = w.FloatText(value=0.0, style=style, layout=layout).add_class(
            "balans-control"
        )
        self.goal_button = w.Button(icon="bullseye", layout=w.Layout(width="auto"))
        self.goal_text = w.HTML()
        self.goal_button.on_click(lambda _: self._goal_seek())
        self.charts: dict[str, Any] = {}
        self.chart_tables: dict[str, w.HTML] = {}  # each chart's data as a table
        self.footer = w.HTML()  # the link to the accessibility statement
        self.chart_boxes = {
            k: w.Box(layout=w.Layout(min_height="280px"))
            for k in (
                "forecast",
                "bridge",
                "compare_bridge",
                "compare_monthly",
                "curve",
                "share",
                "staffing",
                "access",
                "fan",
                "tornado",
            )
        }
        self.tables = w.HTML()
        # the compare tab: the current setting against up to two scenario files
        self.compare_picks = [
            w.Dropdown(
                style={"description_width": "initial"}, layout=w.Layout(width="auto")
            ).add_class("balans-control")
            for _ in range(MAX_COMPARED)
        ]
        self.compare_intro = w.HTML()
        self.compare_table = w.HTML()
        self.compare_text = w.HTML()
        self._file_results: dict[str, Result] = {}
        self.close_change = w.HTML()  # what moved the forecast since the last close
        self._since: dict[tuple[int, str], str] = {}
        self._vintages: Any = None

        self.picker.observe(self._on_pick, names="value")
        for ctl in self.controls.values():  # model inputs: one computation each
            ctl.observe(self._on_change, names="value")
        for ctl in (self.year, self.cumulative):  # view inputs: a redraw, no computation
            ctl.observe(self._on_view, names="value")
        self.lang_switch.observe(self._on_lang, names="value")
        for pick in self.compare_picks:  # a view input: the model is not recomputed
            pick.observe(self._on_compare_pick, names="value")

        self.accordion = w.Accordion()
        self.tabs = w.Tab()
        self._dirty: set[str] = set()
        self.tabs.observe(self._draw_visible, names="selected_index")
        self._relabel()
        self.widget = w.VBox(
            [
                w.HTML(_CSS),
                self.title,
                w.HBox([self.picker, self.reset]).add_class("balans-row"),
                w.HBox([self.year, self.lang_switch]).add_class("balans-row"),
                self.orientation,
                self.message,
                self.cards,
                self.warnings,
                w.HBox(
                    [w.VBox([self.accordion]).add_class("balans-controls"), self.tabs]
                ).add_class("balans-main"),
                self.sources_panel,
                self.footer,
            ]
        ).add_class("balans-app")
        self.tabs.add_class("balans-tabs")

    def _division_options(self) -> list[tuple[str, str]]:
        """The whole board, then each division (only where divisions are the ledger's own)."""
        divisions = self.case.divisions if self.case.divisions_real else ()
        return [(self.L("whole_board"), "")] + [
            (d.name_sv if self.lang == "sv" else d.name_en, d.id) for d in divisions
        ]

    def _group_box(self, group: str) -> w.VBox:
        items: list[w.Widget] = []
        keys = list(GROUPS[group])
        if not self.case.divisions_real:  # a lever can be aimed only at a real division
            keys = [k for k in keys if not k.endswith("_division")]
        if group == "pay_revenue":
            keys = [f"pay_{y}" for y in self.case.years] + keys
        for k in keys:
            ctl = self.controls[k]
            items += [
                (
                    w.HBox([ctl, self.readouts[k]]).add_class("balans-slider-row")
                    if k in self.readouts
                    else ctl
                ),
                self.sources[k],
            ]
            if k == "bought_pct":
                items.append(self.not_replaced)
            if k == "drug_pct":
                items.append(self.drug_reference)
            if k == "realisation":
                items.append(self.history_button)
        return w.VBox(items)

    def _relabel(self) -> None:
        """Set every visible text in the current language."""
        L = self.L
        synthetic = (
            f'<div class="balans-synthetic" role="note"><b>{html.escape(label("report.synthetic", self.lang))}</b></div>'
            if self.case.synthetic
            else ""
        )
        from balans.presentation.summary import standing_text

        standing = standing_text(self.case, self.lang).removeprefix(
            label("report.synthetic", self.lang) + " "
        )
        self.title.value = (
            f"<h2>{html.escape(L('title'))}</h2><div>{html.escape(self.case.name)}</div>"
            f'{synthetic}<div class="balans-standing">{html.escape(standing)}</div>'
            f'<div class="balans-print-note">{html.escape(L("print_note"))}</div>'
        )
        for key, ctl in self.controls.items():
            ctl.description = L("pay_pct", year=key[4:]) if key.startswith("pay_") else L(key)
            ctl.description_allow_html = False
            if key.endswith("_division"):
                value = ctl.value
                self._busy, was = True, self._busy
                try:
                    ctl.options = self._division_options()
                    ctl.value = value
                finally:
                    self._busy = was
        for c in CONTROLS:
            self.sources[c.key].value = self._help_html(c.key) + self._source_html(
                c.source, c.source_is_default
            )
        for y in self.case.years:
            self.sources[f"pay_{y}"].value = self._help_html("pay", year=y) + self._source_html(
                f"pay_revision_pct_{y}"
            )
        for key in self.readouts:
            self._show_readout(key)
        self.picker.description = L("scenario")
        self.reset.description = L("reset")
        self.reset.tooltip = L("reset")
        self.year.description = L("year")
        self.lang_switch.description = L("language")
        self.cumulative.description = L("cumulative")
        self.prepare.description = L("prepare_downloads")
        # a label's tooltip is its own text: unset, ipywidgets writes title="null" on it
        for wdg in (*self.controls.values(), self.picker, self.year, self.lang_switch):
            wdg.tooltip = wdg.description
        history = self.case.param("realisation_history_pct")
        self.history_button.description = L(
            "realisation_history", pct=number(history, 0, self.lang)
        )
        national = self.case.param("national_drug_cost_growth_pct")
        self.drug_reference.value = f'<div class="balans-source">{html.escape(L("drug_reference", pct=number(national, 0, self.lang)))}</div>'
        groups = list(GROUPS)
        self.accordion.children = [self._group_box(g) for g in groups]
        for i, g in enumerate(groups):
            self.accordion.set_title(i, L(f"groups.{g}"))
        self.accordion.selected_index = 0
        from balans.analysis import GOAL_LEVERS
        from balans.presentation.narrative import lever_name

        current = self.goal_lever.value
        self.goal_lever.options = [(lever_name(k, self.lang), k) for k in GOAL_LEVERS]
        self.goal_lever.value = current if current in GOAL_LEVERS else next(iter(GOAL_LEVERS))
        self.goal_lever.description = L("goal_lever")
        self.goal_target.description = L("goal_target")
        self._label_goal_tooltips()
        self.goal_button.description = L("goal_run")
        self.tabs.children = [
            w.VBox(
                [
                    self.cumulative,
                    self.chart_boxes["forecast"],
                    self.chart_boxes["bridge"],
                    self.chart_boxes["curve"],
                    self.close_change,
                ]
            ),
            w.VBox(
                [
                    self.compare_intro,
                    w.HBox(self.compare_picks).add_class("balans-row"),
                    self.compare_table,
                    self.compare_text,
                    self.chart_boxes["compare_bridge"],
                    self.chart_boxes["compare_monthly"],
                ]
            ),
            w.VBox(
                [
                    self.chart_boxes["share"],
                    self.chart_boxes["staffing"],
                    self.chart_boxes["access"],
                ]
            ),
            w.VBox(
                [
                    self.analysis_text,
                    self.mc_text,
                    self.chart_boxes["fan"],
                    self.chart_boxes["tornado"],
                    w.HTML(f"<h4>{html.escape(L('goal_seek_title'))}</h4>"),
                    self.goal_lever,
                    self.goal_target,
                    self.goal_button,
                    self.goal_text,
                ]
            ),
            self.tables,
            w.VBox([self.share, self.prepare, self.downloads]),
        ]
        tab_titles = (
            L("charts_title"),
            label("compare.title", self.lang),
            L("staffing_title"),
            L("analysis_title"),
            L("tables_title"),
            L("share"),
        )
        for i, t in enumerate(tab_titles):
            self.tabs.set_title(i, t)
        self._relabel_compare()
        self.sources_panel.value = self._sources_table()
        self.footer.value = footer_html(self.lang)

    def _sources_table(self) -> str:
        """Every default with its value, plausible range, kind and source, under headers, in
        the language shown: the report's own table (:func:`balans.presentation.tables.sources_frame`)."""
        from balans.presentation.tables import sources_frame, table_html

        return (
            f"<details><summary><b>{html.escape(self.L('sources_title'))}</b></summary>"
            f"<p>{html.escape(season_text(self.engine, self.lang))}</p>"
            f'<div class="balans-sources">{table_html(sources_frame(self.case, self.lang), text=True)}</div>'
            "</details>"
        )

    # ------------------------------------------------------------------ state

    def values(self) -> dict[str, Any]:
        return {k: c.value for k, c in self.controls.items()}

    def _show_readout(self, key: str) -> None:
        ctl = self.controls[key]
        whole = float(ctl.step).is_integer() and float(ctl.value).is_integer()
        decimals = 0 if isinstance(ctl, w.IntSlider) or whole else 1
        self.readouts[
            key
        ].value = f'<span class="balans-readout">{number(ctl.value, decimals, self.lang)}</span>'

    def set_values(self, values: dict[str, Any]) -> None:
        """Show ``values`` on the controls. A slider whose value lies beyond its usual range
        (a file with two measures of 600 mkr: 1 200 mkr on a 0–1 000 slider) widens to
        show it, rather than cut it and so change the scenario without a word."""
        self._busy, was = True, self._busy
        try:
            for k, v in values.items():
                if k not in self.controls:
                    continue
                ctl = self.controls[k]
                if isinstance(ctl, w.FloatSlider | w.IntSlider) and not isinstance(v, bool):
                    c = _CONTROL.get(k)
                    lo, hi = (c.lo, c.hi) if c is not None else (ctl.min, ctl.max)
                    ctl.max = max(hi, v)  # first the range, then the value inside it
                    ctl.min = min(lo, v)
                ctl.value = v
        finally:
            self._busy = was

    def load_scenario(self, key: str, recompute: bool = True) -> None:
        """Start from a scenario file: set every control to show it (and compute it, unless
        the caller sets more first and computes once itself)."""
        self.base = self.scenario_files[key]
        self.base_key = key
        self.loaded = widget_values_from_scenario(self.case, self.base, self.first_forecast)
        self.set_values(self.loaded)
        if not self._picks_touched:
            self.set_compare_picks(self._default_picks(), touched=False, draw=False)
        if self.picker.value != key:
            self._busy, was = True, self._busy
            try:
                self.picker.value = key
            finally:
                self._busy = was
        if recompute:
            self.update()

    def apply_query(self, qs: str) -> None:
        """Reopen a shared setting (``?scenario=hyrstopp&agency_pct=-60``)."""
        if not qs:  # nothing to reopen: the page already shows the baseline
            return
        values, problems = parse_query(
            qs,
            self.forecast_months,
            list(self.scenario_files),
            self.lang,
            self.engine.division_ids if self.case.divisions_real else [],
            list(self.case.years),
        )
        self._busy = True  # the language, year and picks are shown by the one update below
        try:
            if "lang" in values and values["lang"] != self.lang:
                self.lang_switch.value = values["lang"]
            if "scenario" in values:
                self.load_scenario(values["scenario"], recompute=False)
            if "year" in values:
                self.year.value = values["year"]
        finally:
            self._busy = False
        if "compare" in values:
            self.set_compare_picks(values["compare"], draw=False)
        self.set_values({k: v for k, v in values.items() if k in self.controls})
        self.update()
        if problems:
            self.message.value = f'<div class="balans-error" role="alert">{html.escape(self.L("bad_link", detail="; ".join(problems)))}</div>'

    def query_string(self) -> str:
        """The current setting as a query string: the scenario and what differs from it."""
        params = {"scenario": self.base_key}
        for k, v in self.values().items():
            if not _same(v, self.loaded.get(k)):
                params[k] = (
                    ("1" if v else "0")
                    if isinstance(v, bool)
                    else (f"{v:g}" if isinstance(v, float) else str(v))
                )
        params["year"] = str(self.year.value)
        picks = [p.value for p in self.compare_picks if p.value]
        if picks != self._default_picks():
            params["compare"] = ",".join(picks)
        if self.lang != "sv":
            params["lang"] = self.lang
        return urlencode(params)

    # ------------------------------------------------------------------ updates

    def _on_change(self, _change: dict) -> None:
        if not self._busy:
            self.update()

    def _on_view(self, _change: dict) -> None:
        """The year shown or the cumulative box: the same result, drawn again."""
        if not self._busy and self.result is not None:
            self._draw()

    def _on_pick(self, change: dict) -> None:
        if not self._busy:
            self.load_scenario(change["new"])

    def _on_lang(self, change: dict) -> None:
        self.lang = change["new"]
        self._relabel()
        if not self._busy:  # the scenario's name ("(ändrad)") is in the language shown
            self.update()

    def _set_realisation_history(self) -> None:
        self.controls["realisation"].value = round(self.case.param("realisation_history_pct"), 1)

    def update(self) -> None:
        """Recompute the scenario and redraw everything that shows it."""
        v = self.values()
        own, bought = float(v["own_pct"]), float(v["bought_pct"])
        if own + bought > 100:  # keep the mix at 100 %: the slider moved last wins
            self._busy = True
            try:
                self.controls["bought_pct"].value = 100 - own
            finally:
                self._busy = False
            bought = 100 - own
            v["bought_pct"] = bought
        self.not_replaced.value = f'<div class="balans-source">{html.escape(self.L("not_replaced", pct=short(100 - own - bought, self.lang, 1)))}</div>'
        for k in ("rest_start", "rest_need", "rest_mitigation"):
            self.controls[k].disabled = not v["rest_on"]
        try:
            self.scenario = scenario_from_values(self.case, self.base, self.loaded, v, self.lang)
            self.result = run(self.scenario, self.case)
        except BalansError as exc:
            self.message.value = (
                f'<div class="balans-error" role="alert">{html.escape(str(exc))}</div>'
            )
            return
        except Exception:  # never a traceback in front of a board member
            log.exception("update failed")
            self.message.value = (
                f'<div class="balans-error" role="alert">{html.escape(self.L("error"))}</div>'
            )
            return
        self.message.value = ""
        self._draw()

    TAB_CHARTS = (
        ("forecast", "bridge", "curve"),
        ("compare",),
        ("share", "staffing", "access"),
        ("analysis",),
    )
    DOWNLOAD_CHARTS = ("forecast", "bridge", "curve", "share", "staffing", "access")

    def _draw(self) -> None:
        """Headline, tables and links at once; the charts of the visible tab now, the
        others when their tab is opened (each chart costs tens of milliseconds)."""
        r, year = self.result, int(self.year.value)
        assert r is not None
        # the links first, so that a page never offers an older scenario than it shows
        self.share.value = self._share_html()
        self.downloads.value = self._yaml_link()
        self.orientation.value = orientation_html(r, self.lang, year)
        self.cards.value = self._cards_html(r, year)
        self.warnings.value = self._warnings_html(r)
        self.goal_text.value = ""
        self._dirty = {k for keys in self.TAB_CHARTS for k in keys}
        self._draw_visible()
        self.tables.value = self._tables_html(r, year)

    def _draw_visible(self, *_: Any) -> None:
        tab = self.tabs.selected_index or 0
        keys = self.TAB_CHARTS[tab] if tab < len(self.TAB_CHARTS) else ()
        for k in keys:
            if k in self._dirty:
                self._draw_chart(k)

    def build_chart(self, key: str) -> Any:
        """The Altair chart ``key`` for the current result, year and language."""
        from balans.presentation import charts

        r, year, lang = self.result, int(self.year.value), self.lang
        if key == "forecast":
            cum = bool(self.cumulative.value)
            return charts.forecast_vs_budget_chart(
                r, year if cum else None, cumulative=cum, lang=lang
            )
        if key == "bridge":
            return charts.bridge_chart(r, year, lang=lang)
        if key == "curve":
            from balans.analysis.closes import curve_frame, vintages_frame

            if self._vintages is None:  # the kept forecasts do not move with the sliders
                self._vintages = vintages_frame(self.case.root)
            frame = curve_frame(self.case.root, r.scenario, vintages=self._vintages)
            return charts.forecast_curve_chart(frame, year, lang=lang)
        if key == "share":
            return charts.agency_share_chart(r, lang=lang)
        if key == "staffing":
            return charts.staffing_chart(r, lang=lang)
        return charts.access_chart(r, lang=lang)

    def _draw_chart(self, key: str) -> None:
        if key == "analysis":
            self._draw_analysis()
            return
        if key == "compare":
            self._draw_compare()
            return
        if key == "curve":  # a curve needs the shown year's forecast at two closes at least
            shown = len(self.case.closes) >= 2 and self._closes_of_year(int(self.year.value)) >= 2
            self.chart_boxes[key].layout.display = None if shown else "none"
            if not shown:
                self._dirty.discard(key)
                return
            self.close_change.value = self._close_change_html()
        # The spec is validated when a chart is first drawn; later specs differ only in
        # their data, so Altair's schema validation (most of the time) is skipped.
        self._show_chart(key, self.build_chart(key))
        self._dirty.discard(key)

    def _closes_of_year(self, year: int) -> int:
        """How many closes forecast ``year`` (the kept forecasts, computed once)."""
        from balans.analysis.closes import vintages_frame

        if self._vintages is None:  # the kept forecasts do not move with the sliders
            self._vintages = vintages_frame(self.case.root)
        return int((self._vintages.year == year).sum())

    def _close_change_html(self) -> str:
        """What moved the shown year's baseline forecast since the close before this one, in
        the bridge's steps (new actuals, re-estimate, decisions, model or data). The
        baseline does not move with the sliders: computed once per year."""
        from balans.analysis.closes import since_text

        case, year, lang = self.case, int(self.year.value), self.lang
        key = (year, lang)
        if key not in self._since:
            cut = f"{case.cutoff[0]}-{case.cutoff[1]:02d}"
            earlier = [c for c in case.closes if c < cut]
            text = since_text(case.root, earlier[-1], cut, year, lang) if earlier else ""
            title = label("closes.change_title", lang).format(year=year)
            self._since[key] = (
                f'<div class="balans-source"><b>{html.escape(title)}</b> {html.escape(text)}</div>'
                if text
                else ""
            )
        return self._since[key]

    def _show_chart(self, key: str, chart: Any) -> None:
        # its text alternative: a sentence as the chart's name and its data as a table
        chart, table = describe_chart(key, chart, self.lang)
        if key in self.charts:
            self.charts[key].spec = chart.to_dict(validate=False)
        else:
            self.charts[key] = self._alt.JupyterChart(
                chart, embed_options={"actions": False, "renderer": "svg"}
            )
            self.chart_tables[key] = w.HTML()
            self.chart_boxes[key].layout.flex_flow = "column"
            self.chart_boxes[key].children = [self.charts[key], self.chart_tables[key]]
        self.chart_tables[key].value = table

    MC_DRAWS = 5000  # stable P10/P90 on screen in about a tenth of a second

    def _draw_analysis(self) -> None:
        """The plain summary, the uncertainty fan and the tornado (only when the tab is open)."""
        from balans.analysis import monte_carlo, tornado
        from balans.presentation.analysis_charts import fan_chart, tornado_chart
        from balans.presentation.narrative import monte_carlo_sentence, summary_blocks

        r, year, lang = self.result, int(self.year.value), self.lang
        assert r is not None and self.scenario is not None
        try:
            mc = monte_carlo(self.scenario, self.case, n_draws=self.MC_DRAWS)
            torn = tornado(self.scenario, self.case, year=year)
            blocks = summary_blocks(r, lang, monte_carlo=mc, sensitivity=True)
            self.analysis_text.value = "".join(b.as_html() for b in blocks)
            self.mc_text.value = (
                f"<p><b>{html.escape(monte_carlo_sentence(mc, year, lang))}</b></p>"
            )
            self._show_chart("fan", fan_chart(mc, lang=lang, year=year))
            self._show_chart("tornado", tornado_chart(torn, lang=lang))
        except BalansError as exc:
            self.analysis_text.value = (
                f'<div class="balans-error" role="alert">{html.escape(str(exc))}</div>'
            )
        self._dirty.discard("analysis")

    # ------------------------------------------------------------------ compare

    def _default_picks(self) -> list[str]:
        """What the compare tab shows before a viewer picks: the baseline against the
        scenario the page started from, or the first other scenario when that is the
        baseline."""
        others = [k for k in self.scenario_files if k != self.base_key]
        first = "baseline" if self.base_key != "baseline" else (others[0] if others else "")
        return [first] if first else []

    def _relabel_compare(self) -> None:
        none = (label("compare.none", self.lang), "")
        options = [none] + [(s.name, k) for k, s in self.scenario_files.items()]
        self._busy, was = True, self._busy
        try:
            for i, pick in enumerate(self.compare_picks):
                value = pick.value
                pick.options = options
                pick.value = value if value in dict(options).values() else ""
                pick.description = label(
                    "compare.pick_first" if i == 0 else "compare.pick_second", self.lang
                )
                pick.tooltip = pick.description
        finally:
            self._busy = was

    def set_compare_picks(self, keys: list[str], touched: bool = True, draw: bool = True) -> None:
        """Choose the scenarios the compare tab lays beside the current setting."""
        keys = [k for k in keys if k in self.scenario_files][:MAX_COMPARED]
        self._busy, was = True, self._busy
        try:
            for i, pick in enumerate(self.compare_picks):
                pick.value = keys[i] if i < len(keys) else ""
        finally:
            self._busy = was
        self._picks_touched = touched
        self._dirty.add("compare")
        if draw and self.result is not None:
            self._draw_visible()

    def _on_compare_pick(self, _change: dict) -> None:
        if self._busy:
            return
        self._picks_touched = True
        self._dirty.add("compare")
        self._draw_visible()
        self.share.value = self._share_html()

    def _file_result(self, key: str) -> Result:
        """A scenario file's result (the files do not move with the sliders: once each)."""
        if key not in self._file_results:
            self._file_results[key] = run(self.scenario_files[key], self.case)
        return self._file_results[key]

    def compare_entries(self) -> list[Any]:
        """The current setting, then each picked scenario, as :class:`balans.analysis.compare.Entry`."""
        from balans.analysis.compare import Entry, distinct_names

        assert self.scenario is not None and self.result is not None
        picks = [p.value for p in self.compare_picks if p.value]
        results = [self.result] + [self._file_result(k) for k in picks]
        current = label("compare.current_named", self.lang).format(name=self.scenario.name)
        names = distinct_names([current] + [self.scenario_files[k].name for k in picks])
        refs = [label("compare.current_ref", self.lang)] + [""] * len(picks)
        return [Entry(n, r, ref) for n, r, ref in zip(names, results, refs, strict=True)]

    def _draw_compare(self) -> None:
        """The compare tab: the headline figures as a table, the differences in words and
        the two charts, for the year shown."""
        from balans.analysis.compare import differences_html, table_html
        from balans.presentation import charts

        year, lang = int(self.year.value), self.lang
        self.compare_intro.value = (
            f"<p>{html.escape(label('compare.intro', lang).format(year=year))}</p>"
        )
        self._dirty.discard("compare")
        try:
            entries = self.compare_entries()
        except BalansError as exc:
            self.compare_table.value = (
                f'<div class="balans-error" role="alert">{html.escape(str(exc))}</div>'
            )
            return
        if len(entries) < 2:  # nothing picked: say so, draw nothing
            self.compare_table.value = f"<p>{html.escape(label('compare.pick_one', lang))}</p>"
            self.compare_text.value = ""
            for k in ("compare_bridge", "compare_monthly"):
                self.chart_boxes[k].layout.display = "none"
            return
        self.compare_table.value = table_html(entries, year, lang)
        self.compare_text.value = differences_html(entries, year, lang)
        for k, build in (
            ("compare_bridge", charts.compare_bridge_chart),
            ("compare_monthly", charts.compare_monthly_chart),
        ):
            self.chart_boxes[k].layout.display = None
            self._show_chart(k, build(entries, year, lang))

    def _goal_seek(self) -> None:
        from balans.analysis import goal_seek
        from balans.presentation.narrative import goal_seek_text

        try:
            gs = goal_seek(
                self.scenario,
                self.goal_lever.value,
                int(self.year.value),
                float(self.goal_target.value),
                self.case,
            )
            self.goal_text.value = (
                f'<p class="balans-goal">{html.escape(goal_seek_text(gs, self.lang))}</p>'
            )
        except BalansError as exc:
            self.goal_text.value = (
                f'<div class="balans-error" role="alert">{html.escape(str(exc))}</div>'
            )
        except Exception:  # never a traceback in front of a board member
            log.exception("goal seek failed")
            self.goal_text.value = (
                f'<div class="balans-error" role="alert">{html.escape(self.L("error"))}</div>'
            )

    def _warnings_html(self, r: Result) -> str:
        from balans.analysis.feasibility import check_feasibility

        warns = check_feasibility(r)
        if not warns:
            return ""
        items = "".join(
            f"<li>{html.escape(x.message_sv if self.lang == 'sv' else x.message_en)}</li>"
            for x in warns
        )
        title = html.escape(self.L("warnings_title"))
        return f'<div class="balans-warnings" role="status"><b>{title}</b><ul>{items}</ul></div>'

    def _cards_html(self, r: Result, year: int) -> str:
        y = r.years_frame().set_index("year").loc[year]
        yellow = self.case.param("signal_yellow_deviation_pct")
        sig = signal(float(y.deviation_mkr), float(y.budget_net_mkr), yellow)
        L, lang = self.L, self.lang
        board = ""
        if y.board_forecast_net_mkr is not None and not math.isnan(y.board_forecast_net_mkr):
            board = f'<div class="balans-note">{html.escape(L("headline_board", made=y.board_forecast_made or "", value=mkr(y.board_forecast_net_mkr, 0, lang)))}</div>'
        return (
            '<div class="balans-cards" aria-live="polite">'
            f'<div class="balans-card"><div class="balans-label">{html.escape(L("headline_forecast", year=year))}</div>'
            f'<div class="balans-value balans-headline" data-value="{float(y.forecast_net_mkr)!r}" data-year="{year}">{mkr(y.forecast_net_mkr, 0, lang)}</div>'
            f'<div class="balans-note">{html.escape(L("headline_change", value=mkr(y.change_vs_baseline_mkr, 0, lang, signed=True)))}</div>{board}</div>'
            f'<div class="balans-card"><div class="balans-label">{html.escape(L("headline_budget", year=year))}</div>'
            f'<div class="balans-value">{mkr(y.budget_net_mkr, 0, lang)}</div></div>'
            f'<div class="balans-card"><div class="balans-label">{html.escape(L("headline_deviation"))}</div>'
            f'<div class="balans-value balans-deviation" data-value="{float(y.deviation_mkr)!r}">{mkr(y.deviation_mkr, 0, lang, signed=True)}</div>'
            f'<div class="balans-note"><span class="balans-signal balans-signal-{sig}" aria-hidden="true"></span>{html.escape(L(f"signal.{sig}"))}</div></div>'
            "</div>"
        )

    def _tables_html(self, r: Result, year: int) -> str:
        return tables_html(r, year, self.lang)

    def _share_html(self) -> str:
        qs = html.escape(self.query_string())
        return f'<div class="balans-downloads"><a href="?{qs}" target="_blank" rel="noopener" class="balans-share-link">{html.escape(self.L("share_link"))}</a></div>'

    def _yaml_link(self) -> str:
        assert self.scenario is not None
        data = base64.b64encode(self.scenario.to_yaml().encode()).decode()
        return f'<div class="balans-downloads"><a download="{html.escape(self.base_key)}_app.yaml" href="data:text/yaml;base64,{data}">{html.escape(self.L("download_yaml"))}</a></div>'

    def _prepare_downloads(self) -> None:
        try:
            self._make_downloads()
        except Exception:  # never a traceback in front of a board member
            log.exception("downloads failed")
            self.downloads.value = (
                f'<div class="balans-error" role="alert">{html.escape(self.L("error"))}</div>'
            )

    def _make_downloads(self) -> None:
        """Excel of the tables and SVG/PNG of the charts, as links (made on request: they take a second)."""
        import vl_convert as vlc

        r = self.result
        if r is None:
            return
        links = [self._yaml_link()]
        x = base64.b64encode(excel_bytes(r, self.lang)).decode()
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        links.append(
            f'<a download="balans.xlsx" href="data:{mime};base64,{x}">{html.escape(self.L("download_excel"))}</a>'
        )
        pdf = base64.b64encode(paper_bytes(r, self.lang)).decode()
        links.append(
            f'<a download="{html.escape(self.base_key)}_namndunderlag.pdf" href="data:application/pdf;base64,{pdf}">{html.escape(self.L("download_pdf"))}</a>'
        )
        for k in self.DOWNLOAD_CHARTS:
            spec = self.build_chart(k).to_dict()
            svg = base64.b64encode(vlc.vegalite_to_svg(spec).encode()).decode()
            png = base64.b64encode(vlc.vegalite_to_png(spec, scale=2)).decode()
            links.append(
                f'<a download="{k}.svg" href="data:image/svg+xml;base64,{svg}">{html.escape(self.L("download_svg", name=self.L(f"chart_name.{k}")))}</a>'
            )
            links.append(
                f'<a download="{k}.png" href="data:image/png;base64,{png}">{html.escape(self.L("download_png", name=self.L(f"chart_name.{k}")))}</a>'
            )
        self.downloads.value = '<div class="balans-downloads">' + " ".join(links) + "</div>"

    def show(self) -> None:
        from IPython.display import display

        display(self.widget)


def tables_html(r: Result, year: int, lang: str = "sv") -> str:
    """The year's accounts and divisions, each row with its basis mark (the budget's per
    account, the whole row's per division) and the marks' explanation under the table: the
    rows the report prints too (:func:`balans.presentation.tables.year_tables_html`)."""
    from balans.presentation.tables import year_tables_html

    return year_tables_html(r, year, lang)


def excel_bytes(r: Result, lang: str = "sv") -> bytes:
    """The app's tables as a planner's workbook (:func:`balans.presentation.excel.result_workbook`)."""
    from balans.presentation.excel import result_workbook

    return result_workbook(r, lang)


def orientation_html(r: Result, lang: str = "sv", year: int | None = None) -> str:
    """What a board member reads first: the scenario's name and description, and the first
    two sentences of the plain summary's result for the year shown (the forecast against
    budget, and against the baseline or the board's own forecast)."""
    from balans.presentation.narrative import year_sentences

    by_year = year_sentences(r, lang)
    result = " ".join(by_year.get(year, next(iter(by_year.values())))[:2]) if by_year else ""
    description = " ".join((r.scenario.description or "").split())
    return (
        '<div class="balans-orientation" role="region" aria-label="'
        + html.escape(label("app.orientation", lang))
        + f'"><b>{html.escape(r.scenario.name)}</b>'
        + (f" – {html.escape(description)}" if description else "")
        + (f"<p>{html.escape(result)}</p>" if result else "")
        + "</div>"
    )


def paper_bytes(r: Result, lang: str = "sv") -> bytes:
    """The board paper (A4 PDF) of the app's current setting (:mod:`balans.presentation.paper`)."""
    import tempfile

    from balans.presentation.paper import paper_pdf
    from balans.presentation.report import Report, ReportParameters

    params = ReportParameters(
        scenario_file=Path(f"{r.scenario.name}.yaml"),
        out_dir=Path(tempfile.gettempdir()),
        lang=lang,
        case_dir=r.case.root,
    )
    return paper_pdf(Report(r, params))


def query_from_environment() -> str:
    """The page's query string in Voilà: a preheated kernel waits here for its visitor
    (:mod:`balans.faces.visitor`, Voilà's handshake without importing Voilà into the kernel);
    elsewhere (a visitor's own kernel, JupyterLab, tests) ``QUERY_STRING`` or nothing."""
    from balans.faces.visitor import query_string

    return query_string()
