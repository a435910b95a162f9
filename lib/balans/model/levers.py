"""The lever registry: every lever a scenario file can set, described once.

One :class:`Lever` per field under ``levers:`` in a scenario file: its path, unit and range,
its default and where that default comes from, the app's control for it (query-string key,
kind, step), the :class:`~balans.model.engine.LeverArrays` field the engine sets, the bridge step it
acts in, its part in the analyses (the uncertain input that moves it, whether goal seek may
move it) and the feasibility checks that read it. The faces read it here and restate none
of it:

- the scenario format (:mod:`balans.inputs.scenario`) takes each field's range and description
  from :func:`field`, so the JSON Schema (``balans schema``) shows the same range;
- the engine's compile step sets :attr:`Lever.array` from the file, and its defaults from
  :meth:`Lever.default_value`;
- the app (:mod:`balans.faces.app`) builds its sliders from :attr:`Lever.control`, :attr:`Lever.step`
  and the range, and shows the source of :attr:`Lever.default_param` or
  :attr:`Lever.reference_param` beside each;
- the analyses (:mod:`balans.analysis`) draw and clip the uncertain inputs within the range
  and let goal seek move exactly the levers marked :attr:`Lever.goal_seek`;
- the narrative names a lever by :attr:`Lever.name_key`, the app labels its control by
  :attr:`Lever.label_key` and :attr:`Lever.help_key`.

Units are the scenario file's: per cent is written as per cent (4.1, not 0.041) everywhere
up to the engine, which converts once (``engine.Fractions``) before its arithmetic.
``tests/test_levers.py`` proves that every lever here reaches every face it names.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from balans.inputs.case import Case

# The most measures one scenario file may hold.
MAX_MEASURES = 50

# A default that is no number: the first month of the forecast (the month after the close).
FIRST_FORECAST_MONTH = "the first forecast month"


@dataclass(frozen=True)
class Lever:
    """One lever of the scenario format, and every face's view of it."""

    path: str  # under ``levers:``, dotted: "agency.replacement.own_staff_pct"
    unit: str  # pct | pct_per_year | months | mkr_per_year | month | id (as fmt's units)
    description: str  # English, for the JSON Schema and editors (range appended)
    lo: float | None = None
    hi: float | None = None
    default: float | str | None = None  # the baseline's value when no parameter gives it
    default_param: str | None = None  # parameters.csv key whose value is the default
    reference_param: str | None = None  # shown beside the control as a reference only
    control: str | None = None  # the app's control (its query-string key); {year} per year
    kind: str = "float"  # the control: float | int | month | division
    step: float | None = None  # the control's step
    array: str | None = None  # LeverArrays field the engine sets
    bridge_step: str | None = None  # engine.STEPS: the step of the bridge it acts in
    uncertainty: str | None = None  # parameters.csv key whose distribution moves it
    around_scenario: bool = False  # drawn with the scenario's value as the mode
    goal_seek: int | None = None  # a decision goal seek may move: its place in the list
    feasibility: tuple[str, ...] = ()  # the feasibility checks whose warning names it
    per_year: bool = False  # one value a year (a LeverArrays column per year)

    @property
    def bounds(self) -> tuple[float, float]:
        """``(lo, hi)`` of the scenario format; -inf/inf where the format sets none."""
        return (
            float("-inf") if self.lo is None else float(self.lo),
            float("inf") if self.hi is None else float(self.hi),
        )

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))

    @property
    def field_name(self) -> str:
        return self.parts[-1]

    @property
    def name_key(self) -> str:
        """The lever's name in the narrative's sentences (``narrative.lever_names.<path>``)."""
        return f"narrative.lever_names.{self.path}"

    @property
    def label_key(self) -> str | None:
        """The control's label in the locale files (``app.<control>``)."""
        if self.control is None:
            return None
        return "app.pay_pct" if self.per_year else f"app.{self.control}"

    @property
    def help_key(self) -> str | None:
        """The control's help text in the locale files (``app.help.<control>``)."""
        if self.control is None:
            return None
        return "app.help.pay" if self.per_year else f"app.help.{self.control}"

    def allowed(self) -> str:
        """``"0 to 20"``: the range, as messages name what is allowed."""
        return f"{_g(self.lo)} to {_g(self.hi)}"

    def range_text(self) -> str:
        """``"pct; 0 to 20"``: the unit and the range, as the schema's descriptions end."""
        unit = self.unit.replace("_", " ")
        if self.lo is None and self.hi is None:
            return unit
        return f"{unit}; {self.allowed()}"

    def schema_description(self) -> str:
        return f"{self.description} Unit: {self.range_text()}."

    def param_key(self, year: int | None = None) -> str | None:
        """The parameters.csv key of the default, for a year if the lever is per year."""
        if self.default_param is None:
            return None
        return self.default_param.format(year=year) if self.per_year else self.default_param

    def control_key(self, year: int | None = None) -> str | None:
        if self.control is None:
            return None
        return self.control.format(year=year) if self.per_year else self.control

    def default_value(self, case: Case, year: int | None = None) -> float | str:
        """The baseline's value: the case's parameter where one gives it, else the model's
        convention (:data:`FIRST_FORECAST_MONTH` for a month the caller fills in)."""
        key = self.param_key(year)
        if key is not None:
            value = case.parameters[key].value
            return value if self.unit == "month" else float(value)
        if self.default is None:
            raise KeyError(f"the lever '{self.path}' has no default")
        return self.default

    def get(self, levers: Any) -> Any:
        """The lever's value in a scenario's ``levers`` (None where the file leaves it out).
        A measure's field is the list of its values, one per measure."""
        node = levers
        for i, part in enumerate(self.parts):
            if isinstance(node, list):
                rest = ".".join(self.parts[i:])
                return [Lever(rest, self.unit, "").get(m) for m in node]
            node = getattr(node, part, None)
            if node is None:
                return None
        return node


def _g(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


_REPLACEMENT = (
    "How the agency hours taken away are replaced (the board's phase-out decision flow, 000): "
)

LEVERS: tuple[Lever, ...] = (
    # ---------------------------------------------------------------- pay and revenue
    Lever(
        "pay_revision_pct",
        "pct",
        "Annual pay revision from the revision month: one figure for every year, or per "
        "year {2023: 4.1, 2024: 3.3}.",
        lo=0,
        hi=10,
        default_param="pay_revision_pct_{year}",
        control="pay_{year}",
        step=0.1,
        array="pay_pct",
        bridge_step="pay_revision",
        uncertainty="pay_revision_pct_{year}",
        per_year=True,
    ),
    Lever(
        "revenue.change_pct",
        "pct",
        "Change of all revenue.",
        lo=-20,
        hi=20,
        default=0.0,
        control="revenue_pct",
        step=0.5,
        array="revenue_change_pct",
        bridge_step="revenue",
        goal_seek=8,
    ),
    Lever(
        "revenue.mkr_per_year",
        "mkr_per_year",
        "Added revenue.",
        lo=-500,
        hi=500,
        default=0.0,
        array="revenue_mkr_per_year",
        bridge_step="revenue",
        goal_seek=9,
    ),
    Lever(
        "revenue.start",
        "month",
        "YYYY-MM. Default: the first forecast month.",
        default=FIRST_FORECAST_MONTH,
        array="revenue_start",
        bridge_step="revenue",
    ),
    # ---------------------------------------------------------------- growth
    Lever(
        "drug_cost_growth_pct",
        "pct_per_year",
        "Läkemedelskostnadsökning, compounding monthly.",
        lo=-5,
        hi=25,
        default_param="drug_cost_growth_pct",
        control="drug_pct",
        step=0.5,
        array="drug_growth_pct",
        bridge_step="drug_cost_growth",
        uncertainty="drug_cost_growth_pct",
        goal_seek=3,
    ),
    Lever(
        "price_growth_pct",
        "pct_per_year",
        "Price growth on other costs.",
        lo=0,
        hi=10,
        default_param="price_growth_pct",
        array="price_growth_pct",
        bridge_step="price_growth",
        uncertainty="price_growth_pct",
        goal_seek=4,
    ),
    # ---------------------------------------------------------------- staffing
    Lever(
        "staffing_reduction.target_pct",
        "pct",
        "Target reduction of own staff (FTE and personnel cost).",
        lo=0,
        hi=20,
        default=0.0,
        reference_param="attrition_pct_per_year",
        control="staff_pct",
        step=0.5,
        array="staff_target_pct",
        bridge_step="staffing_reduction",
        goal_seek=1,
        feasibility=("staffing_pace",),
    ),
    Lever(
        "staffing_reduction.start",
        "month",
        "First month of the reduction, YYYY-MM. Default: the first forecast month.",
        default=FIRST_FORECAST_MONTH,
        control="staff_start",
        kind="month",
        array="staff_start",
        bridge_step="staffing_reduction",
    ),
    Lever(
        "staffing_reduction.ramp_months",
        "months",
        "Months to full effect; the pace never exceeds the attrition rate. Default 12.",
        lo=0,
        hi=36,
        default=12,
        control="staff_ramp",
        kind="int",
        step=1,
        array="staff_ramp_months",
        bridge_step="staffing_reduction",
    ),
    Lever(
        "staffing_reduction.division",
        "id",
        "Aim the lever at one division (an id in the case's divisions.csv), where the ledger "
        "has account x division. Default: the whole board.",
        default="",
        control="staff_division",
        kind="division",
        array="staff_scale",
        bridge_step="staffing_reduction",
    ),
    # ---------------------------------------------------------------- agency
    Lever(
        "agency.change_pct",
        "pct",
        "Change in agency hours ordered, all categories.",
        lo=-100,
        hi=50,
        default=0.0,
        control="agency_pct",
        step=5,
        array="agency_change_pct",
        bridge_step="agency_reduction",
        goal_seek=2,
        feasibility=("agency_share",),
    ),
    Lever(
        "agency.categories",
        "pct",
        "Change per category (e.g. doctors, nurses, other), overriding change_pct.",
        lo=-100,
        hi=50,
        array="agency_change_pct",
        bridge_step="agency_reduction",
    ),
    Lever(
        "agency.start",
        "month",
        "First month, YYYY-MM. Default: the first forecast month.",
        default=FIRST_FORECAST_MONTH,
        control="agency_start",
        kind="month",
        array="agency_start",
        bridge_step="agency_reduction",
    ),
    Lever(
        "agency.ramp_months",
        "months",
        "Months to full effect. Default 0.",
        lo=0,
        hi=24,
        default=0,
        array="agency_ramp_months",
        bridge_step="agency_reduction",
    ),
    Lever(
        "agency.replacement.own_staff_pct",
        "pct",
        _REPLACEMENT + "own staff, re-hired or reallocated, at own-staff cost.",
        lo=0,
        hi=100,
        default_param="agency_replacement_own_staff_pct",
        control="own_pct",
        step=5,
        array="replace_own_pct",
        bridge_step="agency_replacement",
        feasibility=("recruitment",),
    ),
    Lever(
        "agency.replacement.purchased_care_pct",
        "pct",
        _REPLACEMENT + "purchased care (köpt vård) at its own price.",
        lo=0,
        hi=100,
        default_param="agency_replacement_purchased_care_pct",
        control="bought_pct",
        step=5,
        array="replace_purchased_pct",
        bridge_step="agency_replacement",
    ),
    Lever(
        "agency.replacement.not_replaced_pct",
        "pct",
        _REPLACEMENT + "not replaced: saves the cost, loses the care hours.",
        lo=0,
        hi=100,
        default_param="agency_replacement_not_replaced_pct",
        array="replace_none_pct",
        bridge_step="agency_replacement",
        feasibility=("hours_not_delivered",),
    ),
    Lever(
        "agency.fill_rate_pct",
        "pct",
        "Hours delivered per hour ordered (levererade/avropade).",
        lo=50,
        hi=100,
        default_param="agency_fill_rate_pct",
        control="fill_pct",
        step=1,
        array="fill_rate_pct",
        bridge_step="agency_reduction",
        uncertainty="agency_fill_rate_pct",
        feasibility=("hours_not_delivered",),
    ),
    Lever(
        "agency.division",
        "id",
        "Aim the change in hours at one division (an id in the case's divisions.csv), where "
        "the ledger has account x division; the fill rate stays the board's. Default: the "
        "whole board.",
        default="",
        control="agency_division",
        kind="division",
        array="agency_scale",
        bridge_step="agency_reduction",
    ),
    # ---------------------------------------------------------------- rest rule
    Lever(
        "rest_rule.start",
        "month",
        "YYYY-MM. Default: the case's rest_rule_start (parameters.csv).",
        default_param="rest_rule_start",
        control="rest_start",
        kind="month",
        array="rest_start",
        bridge_step="rest_rule",
    ),
    Lever(
        "rest_rule.extra_need_pct",
        "pct",
        "Extra staffing need in 24/7 care.",
        lo=0,
        hi=15,
        default_param="rest_rule_extra_need_pct",
        control="rest_need",
        step=0.5,
        array="rest_need_pct",
        bridge_step="rest_rule",
        uncertainty="rest_rule_extra_need_pct",
        goal_seek=7,
    ),
    Lever(
        "rest_rule.weekend_mitigation_pct",
        "pct",
        "Share of the need that sparser weekend duty removes.",
        lo=0,
        hi=100,
        default_param="rest_rule_weekend_mitigation_pct",
        control="rest_mitigation",
        step=5,
        array="rest_mitigation_pct",
        bridge_step="rest_rule",
        uncertainty="rest_rule_weekend_mitigation_pct",
        goal_seek=6,
    ),
    Lever(
        "rest_rule.overtime_pct",
        "pct",
        "Share covered by own-staff overtime.",
        lo=0,
        hi=100,
        default_param="rest_rule_overtime_pct",
        array="rest_overtime_pct",
        bridge_step="rest_rule",
        feasibility=("rest_rule_uncovered", "hours_not_delivered"),
    ),
    Lever(
        "rest_rule.agency_pct",
        "pct",
        "Share covered by agency nurses.",
        lo=0,
        hi=100,
        default_param="rest_rule_agency_pct",
        array="rest_agency_pct",
        bridge_step="rest_rule",
    ),
    # ---------------------------------------------------------------- measures
    Lever(
        "realisation_pct",
        "pct",
        "Share of every planned saving that is realised. History: 37.",
        lo=0,
        hi=100,
        default=100.0,
        reference_param="realisation_history_pct",
        control="realisation",
        step=1,
        array="realisation_pct",
        bridge_step="realisation",
        uncertainty="realisation_history_pct",
        around_scenario=True,
        goal_seek=5,
    ),
    Lever(
        "measures.mkr_per_year",
        "mkr_per_year",
        "Planned saving.",
        lo=0,
        hi=1000,
        default=0.0,
        control="measures_mkr",  # the sum of the measures, scaled in proportion
        step=5,
        array="measures_tkr",
        bridge_step="measures",
        goal_seek=10,
    ),
    Lever(
        "measures.start",
        "month",
        "YYYY-MM. Default: the first forecast month.",
        default=FIRST_FORECAST_MONTH,
        array="measures_tkr",
        bridge_step="measures",
    ),
    Lever(
        "measures.ramp_months",
        "months",
        "Months to full effect. Default 0.",
        lo=0,
        hi=36,
        default=0,
        array="measures_tkr",
        bridge_step="measures",
    ),
    Lever(
        "measures.division",
        "id",
        "Aim the lever at one division (an id in the case's divisions.csv), where the ledger "
        "has account x division. Default: the whole board.",
        default="",
        control="measures_division",
        kind="division",
        array="measures_tkr",
        bridge_step="measures",
    ),
)

BY_PATH: dict[str, Lever] = {lv.path: lv for lv in LEVERS}
BY_CONTROL: dict[str, Lever] = {lv.control: lv for lv in LEVERS if lv.control is not None}

# The case's assumptions a scenario may override (``assumptions:`` in a scenario file), each
# within the plausible range parameters.csv gives, and the LeverArrays field it sets.
ASSUMPTIONS: dict[str, str] = {
    "attrition_pct_per_year": "attrition_pct",
    "rest_rule_share_24_7_pct": "share_24_7_pct",
    "overtime_cost_factor": "overtime_cost_factor",
    "agency_to_own_cost_ratio": "agency_to_own_ratio",
    "purchased_care_to_own_cost_ratio": "purchased_to_own_ratio",
    "purchased_care_price_growth_pct": "purchased_price_growth_pct",
    "care_not_delivered_cost_to_own_ratio": "not_delivered_cost_ratio",
}


def lever(path: str) -> Lever:
    """The lever at ``path`` (dotted, under ``levers:``); KeyError naming the known paths."""
    try:
        return BY_PATH[path]
    except KeyError:
        raise KeyError(f"no lever '{path}'; known: {', '.join(BY_PATH)}") from None


def field(path: str, *, required: bool = False) -> Any:
    """The pydantic ``Field`` of a lever: its range and description from the registry."""
    from pydantic import Field

    lv = lever(path)
    kwargs: dict[str, Any] = {"description": lv.schema_description()}
    if lv.lo is not None:
        kwargs["ge"] = lv.lo
    if lv.hi is not None:
        kwargs["le"] = lv.hi
    return Field(**kwargs) if required else Field(default=None, **kwargs)


def scalar_levers() -> Iterator[Lever]:
    """The levers the compile step copies as they are: one number in the file, one number
    per scenario in its array (not a month, a division, a mapping, a list or per year)."""
    for lv in LEVERS:
        if (
            lv.array is not None
            and lv.unit not in ("month", "id")
            and not lv.per_year
            and lv.parts[0] != "measures"
            and lv.path != "agency.categories"
        ):
            yield lv


def goal_seek_levers() -> tuple[Lever, ...]:
    """The decisions goal seek may move, in the order the app offers them (the board's own
    decisions first). The fill rate is not one: it is what the agencies fail to deliver."""
    return tuple(sorted((lv for lv in LEVERS if lv.goal_seek), key=lambda lv: lv.goal_seek))


def uncertain_levers() -> tuple[Lever, ...]:
    return tuple(lv for lv in LEVERS if lv.uncertainty is not None)


def month_levers() -> tuple[Lever, ...]:
    """The start months the compile step sets (a measure's start is the measure's own)."""
    return tuple(
        lv for lv in LEVERS if lv.unit == "month" and lv.array and lv.parts[0] != "measures"
    )
