"""The calculation engine: baseline, levers and bridge, for many scenarios at once.

Money is in tkr inside the engine (the documents' unit), mkr in outputs; hours are hours,
staff are FTE. Arrays are shaped ``(S, T)`` (scenarios x months), ``(S, T, C)`` (x agency
categories) or ``(T, A)`` (months x accounts). One :class:`Engine` per case precomputes the
baseline; :meth:`Engine.evaluate` takes a :class:`LeverArrays` of S scenarios and returns a
:class:`BatchResult` in one pass of array operations, with no Python loop over scenarios.

The baseline (no lever moved), per account, for a forecast month t:

- run-rate accounts: the year-to-date monthly level x the month's seasonal factor x the
  account's driver: the pay factor (personnel), drug growth (drugs), price growth (price
  accounts; purchased care on its own index, ``purchased_care_price_growth_pct``) or none.
  The seasonal profile is a labelled assumption of the case (``season_agency_summer_pct``:
  agency hours in June-August above the rest of the year); every other account is flat,
  because the shipped documents give no monthly actuals and no monthly budget phasing;
- budget accounts (e.g. state grants): the month's budget;
- agency: hours per category (the year-to-date hours x the seasonal factor) x the
  category's price per hour, which changes from ``agency_price_start`` by the case's
  ``agency_price_change_pct_<category>`` (the national framework agreement).

What was decided before the cut-off is part of the baseline, as a named part of it
(``Engine.baseline_parts``): the stricter rest rule (``rest_rule_in_baseline`` in the case's
parameters) is computed with its default assumptions and added to the run-rate, so a
scenario states changes from there.

The levers act on that baseline in a fixed order, each step's effect measured against the
state left by the steps before it (``STEPS``). Savings the board plans (staffing reduction,
agency reduction and its replacement, measures) enter at 100 % of plan, after every cap
(attrition); the step ``realisation`` then takes away ``(1 - r)`` of each planned saving's
effect, so at r % realisation every saving gives exactly r % of its effect at 100 %.
Hours that are ordered and not delivered (the fill rate) are not a plan: they are removed
hours, covered by the replacement mix like any removed hour (own staff through overtime in
the short run), and not scaled by realisation. Care not delivered carries a cost
(``care_not_delivered_cost_to_own_ratio``) booked on purchased care.
The scenario forecast is the baseline plus the sum of the steps, so the bridge adds up to
the change by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import ClassVar

import numpy as np

from .case import Case
from .engine_data import CaseArrays, prepare
from .errors import MISSING, ScenarioError
from .scenario import Scenario

# The bridge: the fixed order in which the levers act.
STEPS = (
    "pay_revision",
    "revenue",
    "drug_cost_growth",
    "price_growth",
    "staffing_reduction",
    "agency_reduction",
    "agency_replacement",
    "rest_rule",
    "measures",
    "realisation",
)
SAVING_STEPS = ("staffing_reduction", "agency_reduction", "agency_replacement", "measures")


# --------------------------------------------------------------------------- formulas


def ramp_share(t: np.ndarray, start: np.ndarray, ramp_months: np.ndarray) -> np.ndarray:
    """Share of full effect: ``clip((t - start + 1) / max(ramp_months, 1), 0, 1)``, shape (S, T)."""
    steps = t[None, :] - start[:, None] + 1.0
    return np.clip(steps / np.maximum(ramp_months, 1.0)[:, None], 0.0, 1.0)


def growth_factor(pct_per_year: np.ndarray, t: np.ndarray, t0: float) -> np.ndarray:
    """Monthly compounding: ``(1 + pct/100) ** ((t - t0) / 12)``, shape (S, T)."""
    return (1.0 + pct_per_year[:, None] / 100.0) ** ((t[None, :] - t0) / 12.0)


def pay_factor(
    pay_pct: np.ndarray, cum_index: np.ndarray, first_forecast: int, retro_months: int
) -> np.ndarray:
    """Pay level against the year-to-date base: the product of every revision reached.

    ``factor[s, t] = prod_{revisions up to t} (1 + pay_pct[s, y] / 100)``; the first forecast
    month also carries the back pay of the revision months already in the actuals:
    ``+ retro_months * (first year's factor - 1)``. Shape (S, T).
    """
    cum = np.cumprod(1.0 + pay_pct / 100.0, axis=1)
    cum = np.concatenate([np.ones((pay_pct.shape[0], 1)), cum], axis=1)
    factor = cum[:, cum_index]
    if retro_months:
        factor[:, first_forecast] += retro_months * (cum[:, 1] - 1.0)
    return factor


def staffing_reduction_share(
    t: np.ndarray,
    target_pct: np.ndarray,
    start: np.ndarray,
    ramp_months: np.ndarray,
    attrition_pct: np.ndarray,
) -> np.ndarray:
    """Share of own staff gone: ``min(target, pace * (t - start + 1))`` with
    ``pace = min(target / ramp_months, attrition / 12)``: attrition caps the pace. Shape (S, T)."""
    target = target_pct / 100.0
    pace = np.minimum(target / np.maximum(ramp_months, 1.0), attrition_pct / 100.0 / 12.0)
    months_in = np.maximum(t[None, :] - start[:, None] + 1.0, 0.0)
    return np.minimum(target[:, None], pace[:, None] * months_in)


def agency_hours_ordered(
    base_hours: np.ndarray, change_pct: np.ndarray, ramp: np.ndarray
) -> np.ndarray:
    """Hours ordered: ``base_hours * (1 + change_pct / 100 * ramp)``, shape (S, T, C)."""
    return base_hours[None, :, :] * (1.0 + change_pct[:, None, :] / 100.0 * ramp[:, :, None])


def cost_tkr(hours: np.ndarray, kr_per_hour: np.ndarray) -> np.ndarray:
    """Cost of hours, negative as the documents sign costs: ``-hours * kr_per_hour / 1000``."""
    return -hours * kr_per_hour / 1000.0


def rest_rule_need_hours(
    own_fte: float,
    hours_per_fte_year: float,
    share_24_7_pct: np.ndarray,
    extra_need_pct: np.ndarray,
    weekend_mitigation_pct: np.ndarray,
    on: np.ndarray,
) -> np.ndarray:
    """Extra hours a month the rest rule needs in 24/7 care:
    ``own_fte * hours/12 * share_24_7 * extra_need * (1 - weekend_mitigation)``, shape (S, T)."""
    per_month = (
        own_fte
        * hours_per_fte_year
        / 12.0
        * (share_24_7_pct / 100.0)
        * (extra_need_pct / 100.0)
        * (1.0 - weekend_mitigation_pct / 100.0)
    )
    return per_month[:, None] * on


# --------------------------------------------------------------------------- levers as arrays


@dataclass
class LeverArrays:
    """S scenarios' levers as arrays (one row per scenario). Shares are in per cent.

    Build it from scenario files with :meth:`Engine.compile`, or directly (Monte Carlo,
    goal seek) with :meth:`Engine.default_levers` and :func:`dataclasses.replace`.
    Month fields are indices into the case's months.
    """

    pay_pct: np.ndarray  # (S, Y)
    revenue_change_pct: np.ndarray
    revenue_mkr_per_year: np.ndarray
    revenue_start: np.ndarray
    drug_growth_pct: np.ndarray
    price_growth_pct: np.ndarray
    staff_target_pct: np.ndarray
    staff_start: np.ndarray
    staff_ramp_months: np.ndarray
    attrition_pct: np.ndarray
    agency_change_pct: np.ndarray  # (S, C)
    agency_start: np.ndarray
    agency_ramp_months: np.ndarray
    replace_own_pct: np.ndarray
    replace_purchased_pct: np.ndarray
    replace_none_pct: np.ndarray
    fill_rate_pct: np.ndarray
    rest_on: np.ndarray  # bool
    rest_start: np.ndarray
    rest_need_pct: np.ndarray
    rest_mitigation_pct: np.ndarray
    rest_overtime_pct: np.ndarray
    rest_agency_pct: np.ndarray
    share_24_7_pct: np.ndarray
    overtime_cost_factor: np.ndarray
    agency_to_own_ratio: np.ndarray
    purchased_to_own_ratio: np.ndarray
    purchased_price_growth_pct: np.ndarray
    not_delivered_cost_ratio: np.ndarray
    realisation_pct: np.ndarray
    measures_tkr: np.ndarray | None = None  # (S, T, A) planned monthly effect, + = better
    # a lever aimed at one division acts on that division's share of its account
    staff_scale: np.ndarray | None = None  # (S,) 1 = the whole board
    agency_scale: np.ndarray | None = None  # (S,)

    @property
    def n(self) -> int:
        return int(self.drug_growth_pct.shape[0])

    def take(self, idx: int | np.ndarray) -> LeverArrays:
        """The scenarios at ``idx`` (an index or an index array)."""
        idx = np.atleast_1d(np.asarray(idx))
        return LeverArrays(
            **{
                f.name: (None if getattr(self, f.name) is None else getattr(self, f.name)[idx])
                for f in fields(self)
            }
        )


# --------------------------------------------------------------------------- the engine


class Engine:
    """Baseline and lever arithmetic for one case. Cheap to call many times."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.data = prepare(case)  # the case arrays, read as self.<name>
        self._defaults = self._default_levers(1)
        self.baseline_pay_factor = pay_factor(
            self._defaults.pay_pct[:, self.pay_offset :],
            self.cum_index,
            self.first_forecast,
            self.retro_months,
        )
        # the run-rate baseline, then what was decided before the cut-off on top of it
        self.baseline_run_rate = self._evaluate(self._defaults, baseline_only=True)  # (T, A)
        self.baseline_parts: dict[str, np.ndarray] = {"run_rate": self.baseline_run_rate}
        base = self.baseline_run_rate.copy()
        pers = self.baseline_run_rate[None, :, self.i_pers]
        rest, _ = self._rest_rule(self._defaults, pers, self.baseline_agency_hours[None])
        decided = np.zeros_like(base)
        for a, arr in rest.items():
            decided[:, a] += arr[0]
        if self._defaults.rest_on[0]:
            self.baseline_parts["rest_rule"] = decided
        self._baseline_rest = rest
        self.baseline = base + decided  # (T, A) tkr

    def division_budget(self) -> np.ndarray:
        """Budget per month, account and division (T, A, D) tkr (:meth:`CaseArrays.division_budget`)."""
        return self.data.division_budget()

    # ----------------------------------------------------------- levers

    def _default_levers(self, n: int) -> LeverArrays:
        p = self.case.param
        first = float(self.first_forecast)
        rest_start = self.case.month_position(str(self.case.parameters["rest_rule_start"].value))

        def full(v: float) -> np.ndarray:
            return np.full(n, float(v))

        return LeverArrays(
            pay_pct=np.tile([p(f"pay_revision_pct_{y}") for y in self.years], (n, 1)).astype(float),
            revenue_change_pct=full(0),
            revenue_mkr_per_year=full(0),
            revenue_start=full(first),
            drug_growth_pct=full(p("drug_cost_growth_pct")),
            price_growth_pct=full(p("price_growth_pct")),
            staff_target_pct=full(0),
            staff_start=full(first),
            staff_ramp_months=full(12),
            attrition_pct=full(p("attrition_pct_per_year")),
            agency_change_pct=np.zeros((n, self.C)),
            agency_start=full(first),
            agency_ramp_months=full(0),
            replace_own_pct=full(p("agency_replacement_own_staff_pct")),
            replace_purchased_pct=full(p("agency_replacement_purchased_care_pct")),
            replace_none_pct=full(p("agency_replacement_not_replaced_pct")),
            fill_rate_pct=full(p("agency_fill_rate_pct")),
            rest_on=np.full(n, self.case.rest_rule_in_baseline),
            rest_start=full(rest_start),
            rest_need_pct=full(p("rest_rule_extra_need_pct")),
            rest_mitigation_pct=full(p("rest_rule_weekend_mitigation_pct")),
            rest_overtime_pct=full(p("rest_rule_overtime_pct")),
            rest_agency_pct=full(p("rest_rule_agency_pct")),
            share_24_7_pct=full(p("rest_rule_share_24_7_pct")),
            overtime_cost_factor=full(p("overtime_cost_factor")),
            agency_to_own_ratio=full(p("agency_to_own_cost_ratio")),
            purchased_to_own_ratio=full(p("purchased_care_to_own_cost_ratio")),
            purchased_price_growth_pct=full(
                self._param_or("purchased_care_price_growth_pct", p("price_growth_pct"))
            ),
            not_delivered_cost_ratio=full(p("care_not_delivered_cost_to_own_ratio")),
            realisation_pct=full(100),
            measures_tkr=None,
        )

    def _param_or(self, key: str, default: float) -> float:
        fig = self.case.parameters.get(key)
        return default if fig is None else float(fig.value)

    def default_levers(self, n: int = 1) -> LeverArrays:
        """n copies of the baseline's levers (nothing moved), to change with ``replace``."""
        return self._default_levers(n)

    # Scenario fields that may override a case assumption, and the LeverArrays field they set.
    ASSUMPTION_FIELDS: ClassVar[dict[str, str]] = {
        "attrition_pct_per_year": "attrition_pct",
        "rest_rule_share_24_7_pct": "share_24_7_pct",
        "overtime_cost_factor": "overtime_cost_factor",
        "agency_to_own_cost_ratio": "agency_to_own_ratio",
        "purchased_care_to_own_cost_ratio": "purchased_to_own_ratio",
        "purchased_care_price_growth_pct": "purchased_price_growth_pct",
        "care_not_delivered_cost_to_own_ratio": "not_delivered_cost_ratio",
    }

    def compile(
        self, scenarios: Scenario | Sequence[Scenario], sources: Sequence[str] | None = None
    ) -> LeverArrays:
        """Turn validated scenarios into :class:`LeverArrays`, checking what needs the case
        (months inside the forecast horizon, category and account names, assumption ranges)."""
        if isinstance(scenarios, Scenario):
            scenarios = [scenarios]
        n = len(scenarios)
        L = self._default_levers(n)
        any_measures = any(s.levers.measures for s in scenarios)
        if any_measures:
            L.measures_tkr = np.zeros((n, self.T, self.A))
        for i, sc in enumerate(scenarios):
            src = sources[i] if sources else f"scenario '{sc.name}'"
            self._compile_one(L, i, sc, src)
        return L

    def _month(self, value: str | None, default: float, path: str, src: str) -> float:
        if value is None:
            return default
        idx = self.case.month_index(value)
        months = self.case.months
        first_fc = f"{months[self.first_forecast][0]}-{months[self.first_forecast][1]:02d}"
        last = f"{months[-1][0]}-{months[-1][1]:02d}"
        if idx is None or idx < self.first_forecast:
            raise ScenarioError(
                src,
                [
                    (
                        path,
                        value,
                        f"outside the forecast months; allowed: {first_fc} to {last} (actuals run to {months[self.c][0]}-{months[self.c][1]:02d})",
                    )
                ],
            )
        return float(idx)

    def _compile_one(self, L: LeverArrays, i: int, sc: Scenario, src: str) -> None:
        lv = sc.levers
        first = float(self.first_forecast)
        problems: list[tuple[str, object, str]] = []

        def month(value: str | None, default: float, path: str) -> float:
            try:
                return self._month(value, default, path, src)
            except ScenarioError as e:
                problems.extend(e.problems)
                return default

        if lv.pay_revision_pct is not None:
            if isinstance(lv.pay_revision_pct, dict):
                for y, v in lv.pay_revision_pct.items():
                    if y not in self.years:
                        problems.append(
                            (
                                f"levers.pay_revision_pct.{y}",
                                v,
                                f"not a year of the horizon; allowed: {', '.join(map(str, self.years))}",
                            )
                        )
                    elif (
                        self.years.index(y) < self.pay_offset
                        and v != L.pay_pct[i, self.years.index(y)]
                    ):
                        problems.append(
                            (
                                f"levers.pay_revision_pct.{y}",
                                v,
                                f"{y}'s revision is in the actuals already (the close stands on "
                                f"{self.case.cutoff[0]}-{self.case.cutoff[1]:02d}); allowed: "
                                + ", ".join(map(str, self.years[self.pay_offset :])),
                            )
                        )
                    elif self.years.index(y) >= self.pay_offset:
                        L.pay_pct[i, self.years.index(y)] = v
            else:
                L.pay_pct[i, :] = float(lv.pay_revision_pct)
        if lv.revenue is not None:
            L.revenue_change_pct[i] = lv.revenue.change_pct or 0.0
            L.revenue_mkr_per_year[i] = lv.revenue.mkr_per_year or 0.0
            L.revenue_start[i] = month(lv.revenue.start, first, "levers.revenue.start")
        if lv.drug_cost_growth_pct is not None:
            L.drug_growth_pct[i] = lv.drug_cost_growth_pct
        if lv.price_growth_pct is not None:
            L.price_growth_pct[i] = lv.price_growth_pct
        if (s := lv.staffing_reduction) is not None:
            d = self._division(s.division, "levers.staffing_reduction.division", problems)
            if d is not None:
                if L.staff_scale is None:
                    L.staff_scale = np.ones(L.n)
                L.staff_scale[i] = self.div_account_share[self.i_pers, d]
            L.staff_target_pct[i] = s.target_pct
            L.staff_start[i] = month(s.start, first, "levers.staffing_reduction.start")
            if s.ramp_months is not None:
                L.staff_ramp_months[i] = s.ramp_months
        if (a := lv.agency) is not None:
            d = self._division(a.division, "levers.agency.division", problems)
            if d is not None and a.categories:
                problems.append(
                    (
                        "levers.agency.categories",
                        a.categories,
                        "a change per category cannot be aimed at one division: the ledger gives "
                        "agency per category for the whole board only; aim change_pct at the "
                        "division, or leave out division",
                    )
                )
            elif d is not None:
                if L.agency_scale is None:
                    L.agency_scale = np.ones(L.n)
                L.agency_scale[i] = self.div_account_share[self.i_agency, d]
            if a.change_pct is not None:
                L.agency_change_pct[i, :] = a.change_pct
            for cat, v in (a.categories or {}).items():
                if cat not in self.category_ids:
                    problems.append(
                        (
                            f"levers.agency.categories.{cat}",
                            v,
                            f"not an agency category of this case; allowed: {', '.join(self.category_ids)}",
                        )
                    )
                else:
                    L.agency_change_pct[i, self.category_ids.index(cat)] = v
            L.agency_start[i] = month(a.start, first, "levers.agency.start")
            if a.ramp_months is not None:
                L.agency_ramp_months[i] = a.ramp_months
            if a.replacement is not None:
                L.replace_own_pct[i] = a.replacement.own_staff_pct
                L.replace_purchased_pct[i] = a.replacement.purchased_care_pct
                L.replace_none_pct[i] = a.replacement.not_replaced_pct
            if a.fill_rate_pct is not None:
                L.fill_rate_pct[i] = a.fill_rate_pct
        if (r := lv.rest_rule) is not None:
            L.rest_on[i] = True
            L.rest_start[i] = month(r.start, L.rest_start[i], "levers.rest_rule.start")
            for name, fld in (
                ("extra_need_pct", "rest_need_pct"),
                ("weekend_mitigation_pct", "rest_mitigation_pct"),
                ("overtime_pct", "rest_overtime_pct"),
                ("agency_pct", "rest_agency_pct"),
            ):
                v = getattr(r, name)
                if v is not None:
                    getattr(L, fld)[i] = v
            if L.rest_overtime_pct[i] + L.rest_agency_pct[i] > 100 + 1e-9:
                problems.append(
                    (
                        "levers.rest_rule",
                        MISSING,
                        f"overtime_pct + agency_pct (with defaults {L.rest_overtime_pct[i]:g} + {L.rest_agency_pct[i]:g}) must be at most 100",
                    )
                )
        if lv.realisation_pct is not None:
            L.realisation_pct[i] = lv.realisation_pct
        for j, m in enumerate(lv.measures or []):
            path = f"levers.measures[{j}]"
            acc_id = m.account or self.case.measure_account()
            if acc_id not in self.account_ids:
                problems.append(
                    (
                        f"{path}.account",
                        acc_id,
                        f"not an account of this case; allowed: {', '.join(self.account_ids)}",
                    )
                )
                continue
            d = self._division(m.division, f"{path}.division", problems)
            a_m = self.account_ids.index(acc_id)
            if d is not None and abs(self.div_account_share[a_m, d]) < 1e-9:
                problems.append(
                    (
                        f"{path}.division",
                        m.division,
                        f"the division has no actuals on account '{acc_id}' this year, so a "
                        "measure there cannot save on it; choose an account the division books on",
                    )
                )
            start = month(m.start, first, f"{path}.start")
            L.measures_tkr[i, :, a_m] += self.measure_tkr(m.mkr_per_year, start, m.ramp_months)
        for key, value in sc.assumptions.items():
            fld = self.ASSUMPTION_FIELDS.get(key)
            fig = self.case.parameters.get(key)
            if fld is None or fig is None:
                problems.append(
                    (
                        f"assumptions.{key}",
                        value,
                        f"not an assumption a scenario may change; allowed: {', '.join(sorted(self.ASSUMPTION_FIELDS))}",
                    )
                )
                continue
            if (fig.low is not None and value < fig.low) or (
                fig.high is not None and value > fig.high
            ):
                problems.append(
                    (
                        f"assumptions.{key}",
                        value,
                        f"outside the plausible range {_bound(fig.low, '-inf')} to {_bound(fig.high, 'inf')} ({fig.unit}) given in parameters.csv",
                    )
                )
                continue
            getattr(L, fld)[i] = value
        if problems:
            raise ScenarioError(src, problems)

    def measure_tkr(self, mkr_per_year: float, start: float, ramp_months: int | None) -> np.ndarray:
        """A measure's planned effect per month (T,) tkr: ``mkr/12 x ramp`` in forecast months."""
        ramp = ramp_share(self.t, np.array([start]), np.array([float(ramp_months or 0)]))[0]
        return mkr_per_year * 1000.0 / 12.0 * ramp * self.forecast

    def _division(
        self, division: str | None, path: str, problems: list[tuple[str, object, str]]
    ) -> int | None:
        """The index of the division a lever is aimed at (None: the whole board)."""
        if division is None:
            return None
        if not self.case.divisions_real:
            problems.append(
                (
                    path,
                    division,
                    "this case has divisions only as totals (their figures are allocated), so a "
                    "lever cannot be aimed at one; a ledger case with account x division can",
                )
            )
            return None
        if division not in self.division_ids:
            problems.append(
                (
                    path,
                    division,
                    f"not a division of this case; allowed: {', '.join(self.division_ids)}",
                )
            )
            return None
        return self.division_ids.index(division)

    # ----------------------------------------------------------- evaluation

    def evaluate(self, levers: LeverArrays | Scenario | Sequence[Scenario]) -> BatchResult:
        """Evaluate S scenarios at once."""
        if not isinstance(levers, LeverArrays):
            levers = self.compile(levers)
        effects, extra = self._evaluate(levers, baseline_only=False)
        return BatchResult(self, levers, effects, extra)

    def _evaluate(self, L: LeverArrays, baseline_only: bool):
        fc = self.forecast
        t = self.t
        season = self.season
        rr = self.run_rate

        # ---- the baseline drivers (also the scenario's, step by step)
        pf = pay_factor(
            L.pay_pct[:, self.pay_offset :], self.cum_index, self.first_forecast, self.retro_months
        )
        drug = growth_factor(L.drug_growth_pct, t, self.t0)
        price = growth_factor(L.price_growth_pct, t, self.t0)
        pur_price = growth_factor(L.purchased_price_growth_pct, t, self.t0)
        if baseline_only:
            base = np.where(fc[:, None], rr[None, :] * season, self.actual)
            base[:, self.i_pers] = np.where(
                fc, base[:, self.i_pers] * pf[0], self.actual[:, self.i_pers]
            )
            base[:, self.i_drugs] = np.where(
                fc, base[:, self.i_drugs] * drug[0], self.actual[:, self.i_drugs]
            )
            for a in self.price_accounts:
                growth = pur_price[0] if a == self.i_purchased else price[0]
                base[:, a] = np.where(fc, base[:, a] * growth, self.actual[:, a])
            hours = self.baseline_agency_hours
            base[:, self.i_agency] = np.where(
                fc, cost_tkr(hours, self.agency_price_path).sum(axis=1), base[:, self.i_agency]
            )
            base = np.where(self.budget_accounts[None, :] & fc[:, None], self.budget, base)
            return base

        B = self.baseline_run_rate
        fcf = fc.astype(float)
        eff: dict[str, dict[int, np.ndarray]] = {s: {} for s in STEPS}

        # 1 pay revision: personnel x (scenario pay factor - baseline pay factor)
        pers_rr = rr[self.i_pers] * season[:, self.i_pers]  # (T,)
        eff["pay_revision"][self.i_pers] = pers_rr[None, :] * (pf - self.baseline_pay_factor) * fcf
        pers_paid = B[None, :, self.i_pers] + eff["pay_revision"][self.i_pers]  # (S, T), negative

        # 2 revenue: a change in per cent of each revenue account, plus mkr a year by revenue weight
        on_rev = (t[None, :] >= L.revenue_start[:, None]) & fc
        rv = self.rev_accounts
        w = self.ytd[rv] / self.ytd[rv].sum()
        for k, a in enumerate(rv):
            eff["revenue"][a] = on_rev * (
                B[None, :, a] * (L.revenue_change_pct[:, None] / 100.0)
                + (L.revenue_mkr_per_year[:, None] * 1000.0 / 12.0) * w[k]
            )

        # 3 drug cost growth
        base_drug = growth_factor(self._defaults.drug_growth_pct, t, self.t0)
        drug_rr = rr[self.i_drugs] * season[:, self.i_drugs]
        eff["drug_cost_growth"][self.i_drugs] = drug_rr[None, :] * (drug - base_drug) * fcf

        # 4 price growth on price-driven run-rate accounts (purchased care on its own index)
        base_price = growth_factor(self._defaults.price_growth_pct, t, self.t0)
        base_pur = growth_factor(self._defaults.purchased_price_growth_pct, t, self.t0)
        dprice = (price - base_price) * fcf
        dpur = (pur_price - base_pur) * fcf
        for a in self.price_accounts:
            if not self.budget_accounts[a]:
                d = dpur if a == self.i_purchased else dprice
                eff["price_growth"][a] = (rr[a] * season[:, a])[None, :] * d

        # 5-6, 9 savings at 100 % of plan (after the attrition cap), and the unplanned fill
        # shortfall; 10 realisation takes (1 - r) of each planned effect away
        sav = self._savings(L, pf, pers_paid, pur_price)
        r = L.realisation_pct / 100.0
        for step in SAVING_STEPS:
            for a, arr in sav["effects"][step].items():
                eff[step][a] = arr
        for a, arr in sav["planned"].items():
            eff["realisation"][a] = (r[:, None] - 1.0) * arr

        # 7 rest rule: the scenario's cost of the rule minus the baseline's (zero when the
        # scenario keeps the baseline's rule), covered by overtime and the agency hours kept
        rest, rx = self._rest_rule(L, pers_paid, sav["delivered"], pur_price)
        for a, arr in rest.items():
            eff["rest_rule"][a] = arr - self._baseline_rest.get(a, 0.0)
        for a, arr in self._baseline_rest.items():
            if a not in rest:
                eff["rest_rule"][a] = -np.broadcast_to(arr, (L.n, self.T))

        extra = {
            "staff_share_gone": sav["staff_share"],
            "agency_delivered_hours": sav["delivered"],
            "agency_replaced_own_hours": sav["own_hours"],
            "agency_replaced_overtime_hours": sav["overtime_hours"],
            "agency_replaced_purchased_hours": sav["purchased_hours"],
            "agency_not_replaced_hours": sav["lost_hours"],
            "agency_fill_shortfall_hours": sav["fill_lost"],
            "agency_ordered_not_delivered_hours": sav["fill_short"],
            **{
                k: sav[k]
                for k in (
                    "planned_agency_pers",
                    "planned_agency_purchased",
                    "fill_agency",
                    "fill_pers",
                    "fill_purchased",
                )
            },
            **rx,
            **{
                f"planned_{k}": np.broadcast_to(v, (L.n, self.T))
                for k, v in sav["planned_step"].items()
            },
        }
        return eff, extra

    def _own_price(self, L: LeverArrays, pf: np.ndarray) -> np.ndarray:
        """Own-staff cost per hour of each agency category, (S, T, C) kr: the category's
        agency price at the cut-off / ``agency_to_own_cost_ratio``, raised by the pay factor."""
        return (
            self.agency_price[None, None, :] / L.agency_to_own_ratio[:, None, None] * pf[:, :, None]
        )

    def _purchased_price(self, L: LeverArrays, pur_price: np.ndarray) -> np.ndarray:
        """Purchased care per hour of each category, (S, T, C) kr: the own-staff cost at the
        cut-off x ``purchased_care_to_own_cost_ratio``, on purchased care's own price index
        (the sellers' price lists), not the region's pay revision."""
        own0 = self.agency_price[None, None, :] / L.agency_to_own_ratio[:, None, None]
        return own0 * L.purchased_to_own_ratio[:, None, None] * pur_price[:, :, None]

    def _savings(
        self, L: LeverArrays, pf: np.ndarray, pers_paid: np.ndarray, pur_price: np.ndarray
    ) -> dict:
        """Staffing reduction, agency hours with their replacement, and measures.

        Returns each step's effect at 100 % of plan (``effects``), the planned part of those
        effects per account (``planned``, what realisation scales), and the realised hours.
        Per category, with ``cut = max(base - ordered, 0)`` the planned reduction,
        ``add = max(ordered - base, 0)`` an increase (not a saving, never scaled) and
        ``short = ordered x (1 - fill rate)`` hours ordered and not delivered (not a plan,
        never scaled): every removed hour (cut or short) is covered by the replacement mix,
        own staff at own-staff cost (re-hired) for a cut and at overtime cost for a short
        hour, purchased care at its own price, and the rest not delivered at the cost of care
        not delivered."""
        fc = self.forecast
        t = self.t
        r = L.realisation_pct / 100.0
        out: dict[str, dict[int, np.ndarray]] = {s: {} for s in SAVING_STEPS}
        planned: dict[int, np.ndarray] = {}
        planned_step: dict[str, np.ndarray] = {}

        def add_planned(a: int, arr: np.ndarray, step: str) -> None:
            planned[a] = planned[a] + arr if a in planned else arr
            planned_step[step] = planned_step[step] + arr if step in planned_step else arr

        # staffing reduction by attrition: the cap first, realisation after it
        share = staffing_reduction_share(
            t, L.staff_target_pct, L.staff_start, L.staff_ramp_months, L.attrition_pct
        )
        share = share * fc
        if L.staff_scale is not None:  # aimed at a division: its share of the personnel cost
            share = share * L.staff_scale[:, None]
        out["staffing_reduction"][self.i_pers] = -share * pers_paid
        add_planned(self.i_pers, out["staffing_reduction"][self.i_pers], "staffing_reduction")

        # agency hours: ordered, delivered, replaced
        ramp = ramp_share(t, L.agency_start, L.agency_ramp_months) * fc
        base_h = self.baseline_agency_hours[None]  # (1, T, C)
        change = L.agency_change_pct
        if L.agency_scale is not None:  # aimed at a division: its share of the agency account
            change = change * L.agency_scale[:, None]
        ordered = agency_hours_ordered(self.baseline_agency_hours, change, ramp)
        fill_on = (t[None, :] >= L.agency_start[:, None]) & fc
        fill = 1.0 - (1.0 - L.fill_rate_pct[:, None] / 100.0) * fill_on  # (S, T)
        cut = np.maximum(base_h - ordered, 0.0)
        add = np.maximum(ordered - base_h, 0.0)
        short = ordered * (1.0 - fill[:, :, None])
        price = self.agency_price_path[None]  # (1, T, C)
        own_p = self._own_price(L, pf)
        pur_p = self._purchased_price(L, pur_price)
        nd_p = own_p * L.not_delivered_cost_ratio[:, None, None]
        s_own = (L.replace_own_pct / 100.0)[:, None, None]
        s_pur = (L.replace_purchased_pct / 100.0)[:, None, None]
        s_none = (L.replace_none_pct / 100.0)[:, None, None]
        ot = L.overtime_cost_factor[:, None, None]

        def replacement(hours: np.ndarray, own_factor: np.ndarray | float):
            pers = cost_tkr(hours * s_own, own_p * own_factor).sum(axis=2)
            pur = cost_tkr(hours * s_pur, pur_p).sum(axis=2) + cost_tkr(hours * s_none, nd_p).sum(
                axis=2
            )
            return pers, pur

        cut_saving = -cost_tkr(cut, price).sum(axis=2)
        other_saving = -cost_tkr(short - add, price).sum(axis=2)
        out["agency_reduction"][self.i_agency] = cut_saving + other_saving
        add_planned(self.i_agency, cut_saving, "agency_reduction")
        cut_pers, cut_pur = replacement(cut, 1.0)
        short_pers, short_pur = replacement(short, ot)
        out["agency_replacement"][self.i_pers] = cut_pers + short_pers
        out["agency_replacement"][self.i_purchased] = cut_pur + short_pur
        add_planned(self.i_pers, cut_pers, "agency_replacement")
        add_planned(self.i_purchased, cut_pur, "agency_replacement")

        # measures
        if L.measures_tkr is not None:
            for a in np.flatnonzero(np.any(L.measures_tkr != 0, axis=(0, 1))):
                out["measures"][int(a)] = L.measures_tkr[:, :, a]
                add_planned(int(a), L.measures_tkr[:, :, a], "measures")

        # the realised hours (what realisation leaves of the planned cut)
        cut_real = cut * r[:, None, None]
        return {
            "effects": out,
            "planned": planned,
            "planned_step": planned_step,
            "staff_share": share * r[:, None],
            "delivered": base_h - cut_real + add - short,
            "own_hours": (cut_real * s_own).sum(axis=2),  # re-hired or reallocated
            "overtime_hours": (short * s_own).sum(axis=2),  # short hours: own staff's overtime
            "purchased_hours": ((cut_real + short) * s_pur).sum(axis=2),
            "lost_hours": (cut_real * s_none).sum(axis=2),  # a planned cut, not replaced
            "fill_lost": (short * s_none).sum(axis=2),  # ordered, not delivered, not replaced
            "fill_short": short.sum(axis=2),
            # the parts a division's bridge needs apart: the planned replacement per account
            # and the fill shortfall's effect per account (never aimed at a division)
            "planned_agency_pers": cut_pers,
            "planned_agency_purchased": cut_pur,
            "fill_agency": -cost_tkr(short, price).sum(axis=2),
            "fill_pers": short_pers,
            "fill_purchased": short_pur,
        }

    def _rest_rule(
        self,
        L: LeverArrays,
        pers_paid: np.ndarray,
        delivered: np.ndarray,
        pur_price: np.ndarray | None = None,
    ) -> tuple[dict[int, np.ndarray], dict[str, np.ndarray]]:
        """The cost of the stricter rest rule per account, (S, T) tkr each, and its hours.

        ``need = own FTE x hours x share in 24/7 care x extra need x (1 - weekend mitigation)``
        from the start month; ``overtime_pct`` of it is own-staff overtime, ``agency_pct`` is
        asked of agency. The agency cover cannot exceed what the scenario keeps: it is scaled
        by the share of the category's baseline hours still delivered, and the hours the
        agency no longer covers go through the replacement mix (own staff on overtime,
        purchased care, or not delivered). The rest is not covered: care not delivered, at
        its cost."""
        fc = self.forecast
        t = self.t
        n = L.n
        if pur_price is None:
            pur_price = growth_factor(L.purchased_price_growth_pct, t, self.t0)
        on_rest = L.rest_on[:, None] & (t[None, :] >= L.rest_start[:, None]) & fc
        # a rule in force during the year-to-date is in the run-rate already for the share of
        # those months it was in force: only the rest is new need
        in_ytd = np.clip(self.c - np.maximum(L.rest_start, self.ys) + 1, 0, self.n_ytd) / self.n_ytd
        need = (
            rest_rule_need_hours(
                self.own_fte,
                self.hours_per_fte_month * 12.0,
                L.share_24_7_pct,
                L.rest_need_pct,
                L.rest_mitigation_pct,
                on_rest,
            )
            * (1.0 - in_ytd)[:, None]
        )
        own_kr_per_hour = -pers_paid * 1000.0 / (self.own_fte * self.hours_per_fte_month)  # (S, T)
        own_kr_per_hour = np.broadcast_to(own_kr_per_hour, (n, self.T))
        k = self.i_rest_cat
        base_k = self.baseline_agency_hours[:, k]
        with np.errstate(divide="ignore", invalid="ignore"):
            kept = np.where(base_k > 0, delivered[:, :, k] / base_k, 1.0)
        kept = np.clip(kept, 0.0, 1.0)
        overtime_hours = need * (L.rest_overtime_pct[:, None] / 100.0)
        asked = need * (L.rest_agency_pct[:, None] / 100.0)
        rest_agency_hours = asked * kept
        displaced = asked - rest_agency_hours
        s_own = L.replace_own_pct[:, None] / 100.0
        s_pur = L.replace_purchased_pct[:, None] / 100.0
        s_none = L.replace_none_pct[:, None] / 100.0
        uncovered = (
            need * np.maximum(1.0 - (L.rest_overtime_pct + L.rest_agency_pct)[:, None] / 100.0, 0.0)
            + displaced * s_none
        )
        overtime_all = overtime_hours + displaced * s_own
        pur_p = self._purchased_price(L, pur_price)[:, :, k]
        ot_price = own_kr_per_hour * L.overtime_cost_factor[:, None]
        nd_price = own_kr_per_hour * L.not_delivered_cost_ratio[:, None]
        effects = {
            self.i_pers: cost_tkr(overtime_all, ot_price),
            self.i_agency: cost_tkr(rest_agency_hours, self.agency_price_path[None, :, k]),
            self.i_purchased: cost_tkr(displaced * s_pur, pur_p) + cost_tkr(uncovered, nd_price),
        }
        extra = {
            "rest_need_hours": need,
            "rest_overtime_hours": overtime_all,
            "rest_agency_hours": rest_agency_hours,
            "rest_purchased_hours": displaced * s_pur,
            "rest_uncovered_hours": uncovered,
        }
        return effects, extra


def _from_data(name: str) -> property:
    return property(lambda self: getattr(self.data, name), doc=f"``data.{name}``")


# every case array, read as engine.<name> (the compile step and the faces use these)
for _f in fields(CaseArrays):
    if _f.name != "case":
        setattr(Engine, _f.name, _from_data(_f.name))
del _f


def _bound(x: float | None, missing: str) -> str:
    return missing if x is None else f"{x:g}"


# --------------------------------------------------------------------------- results


@dataclass
class BatchResult:
    """The result of S scenarios: arrays, summed lazily. Money in tkr; use the ``*_mkr`` views."""

    engine: Engine
    levers: LeverArrays
    effects: dict[str, dict[int, np.ndarray]]
    extra: dict[str, np.ndarray]
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return self.levers.n

    def step_total(self, step: str) -> np.ndarray:
        """A step's effect on the net result, (S, T) tkr (+ = better)."""
        arrs = list(self.effects[step].values())
        if not arrs:
            return np.zeros((self.n, self.engine.T))
        total = arrs[0]
        for a in arrs[1:]:
            total = total + a
        return np.broadcast_to(total, (self.n, self.engine.T))

    @cached_property
    def by_account(self) -> np.ndarray:
        """Scenario forecast (actuals to the cut-off) per account, (S, T, A) tkr."""
        e = self.engine
        out = np.broadcast_to(e.baseline, (self.n, e.T, e.A)).copy()
        for step in STEPS:
            for a, arr in self.effects[step].items():
                out[:, :, a] += arr
        return out

    @cached_property
    def net(self) -> np.ndarray:
        """Net result per month, (S, T) tkr: baseline net plus every step."""
        e = self.engine
        total = np.broadcast_to(e.baseline.sum(axis=1), (self.n, e.T)).copy()
        for step in STEPS:
            for arr in self.effects[step].values():
                total += arr
        return total

    @cached_property
    def revenue(self) -> np.ndarray:
        e = self.engine
        total = np.broadcast_to(e.baseline[:, e.is_rev].sum(axis=1), (self.n, e.T)).copy()
        for step in STEPS:
            for a, arr in self.effects[step].items():
                if e.is_rev[a]:
                    total += arr
        return total

    @property
    def gross_cost(self) -> np.ndarray:
        return self.net - self.revenue

    def per_year(self, x: np.ndarray) -> np.ndarray:
        """Sum months into years: (S, T) -> (S, Y)."""
        return x @ self.engine.year_matrix.T

    @cached_property
    def net_by_year_mkr(self) -> np.ndarray:
        return self.per_year(self.net) / 1000.0

    @cached_property
    def deviation_by_year_mkr(self) -> np.ndarray:
        """Forecast net minus budget net per year, (S, Y) mkr (negative = worse than budget)."""
        e = self.engine
        budget = e.year_matrix @ e.budget.sum(axis=1) / 1000.0
        return self.net_by_year_mkr - budget[None, :]

    @cached_property
    def bridge_mkr(self) -> np.ndarray:
        """Effect of each step per year, (S, K, Y) mkr, in ``STEPS`` order."""
        return np.stack([self.per_year(self.step_total(s)) / 1000.0 for s in STEPS], axis=1)

    @cached_property
    def realised_bridge_mkr(self) -> np.ndarray:
        """The bridge with realisation taken into each saving, (S, K, Y) mkr: a saving step
        shows what is realised (``step - (1 - r) x its planned part``), the realisation step
        is zero. The steps still add up to the change; board texts quote these."""
        out = self.bridge_mkr.copy()
        r = self.levers.realisation_pct / 100.0
        for step in SAVING_STEPS:
            planned = self.extra.get(f"planned_{step}")
            if planned is None:
                continue
            k = STEPS.index(step)
            out[:, k, :] += (r[:, None] - 1.0) * (self.per_year(planned) / 1000.0)
        out[:, STEPS.index("realisation"), :] = 0.0
        return out

    # ------------------------------------------------------------- staffing and access

    @cached_property
    def own_fte(self) -> np.ndarray:
        """Own FTE per month: base less the attrition reduction plus own staff replacing agency."""
        e = self.engine
        return (
            e.own_fte * (1.0 - self.extra["staff_share_gone"])
            + self.extra["agency_replaced_own_hours"] / e.hours_per_fte_month
        )

    @cached_property
    def agency_hours(self) -> np.ndarray:
        """Agency hours delivered per month and category, (S, T, C), incl. rest-rule cover."""
        e = self.engine
        h = self.extra["agency_delivered_hours"].copy()
        h[:, :, e.i_rest_cat] += self.extra["rest_agency_hours"]
        return h

    @cached_property
    def agency_share_pct(self) -> np.ndarray:
        """Agency cost as a share of own personnel cost per month, (S, T) per cent."""
        acc = self.by_account
        e = self.engine
        return 100.0 * acc[:, :, e.i_agency] / acc[:, :, e.i_pers]

    @cached_property
    def category_share_pct(self) -> np.ndarray:
        """Agency share of each category's total cost (own + agency), (S, T, C) per cent;
        NaN where the documents give no own-cost share for the category."""
        e = self.engine
        acc = self.by_account
        agency_c = (
            -acc[:, :, e.i_agency][:, :, None]
            * (self.agency_hours * e.agency_price)
            / np.maximum((self.agency_hours * e.agency_price).sum(axis=2, keepdims=True), 1e-12)
        )
        own_c = -acc[:, :, e.i_pers][:, :, None] * e.own_cost_share[None, None, :]
        return 100.0 * agency_c / (agency_c + own_c)

    @cached_property
    def hours_not_delivered(self) -> np.ndarray:
        """Care hours not delivered per month, (S, T): removed agency hours not replaced (a
        planned cut; hours ordered and not delivered) and rest-rule need not covered."""
        x = self.extra
        return (
            x["agency_not_replaced_hours"]
            + x["agency_fill_shortfall_hours"]
            + x["rest_uncovered_hours"]
        )
