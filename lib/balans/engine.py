"""The calculation engine: baseline, levers and bridge, for many scenarios at once.

Money is in tkr inside the engine (the documents' unit), mkr in outputs; hours are hours,
staff are FTE. Arrays are shaped ``(S, T)`` (scenarios x months), ``(S, T, C)`` (x agency
categories) or ``(T, A)`` (months x accounts). One :class:`Engine` per case precomputes the
baseline; :meth:`Engine.evaluate` takes a :class:`LeverArrays` of S scenarios and returns a
:class:`BatchResult` in one pass of array operations, with no Python loop over scenarios.

The baseline (no lever moved), per account, for a forecast month t:

- run-rate accounts: the year-to-date monthly average x the budget's own phasing for the
  month (seasonal profile) x the account's driver: the pay factor (personnel), drug growth
  (drugs), price growth (price accounts) or none;
- budget accounts (e.g. state grants): the month's budget;
- agency: hours per category (FTE equivalents x hours per FTE / 12 x phasing) x the
  category's price per hour, which is the run-rate by construction.

The levers act on that baseline in a fixed order, each step's effect measured against the
state left by the steps before it (``STEPS``). Savings the board plans (staffing reduction,
agency reduction and its replacement, measures) enter at 100 % of plan; the step
``realisation`` then takes away what is not realised. The scenario forecast is the baseline
plus the sum of the steps, so the bridge adds up to the change by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import ClassVar

import numpy as np

from .case import Case
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
    realisation_pct: np.ndarray
    measures_tkr: np.ndarray | None = None  # (S, T, A) planned monthly effect, + = better

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
        months = case.months
        self.T = len(months)
        self.A = len(case.accounts)
        self.C = len(case.agency)
        self.years = case.years
        self.Y = len(self.years)
        c = case.cutoff_index
        self.c = c
        self.t = np.arange(self.T, dtype=float)
        self.moy = np.array([m for _, m in months])
        self.year_idx = np.array([self.years.index(y) for y, _ in months])
        self.forecast = self.t > c  # (T,)
        self.first_forecast = c + 1
        self.t0 = c / 2.0  # the middle of the year-to-date months
        # year x month one-hot, for sums per year
        self.year_matrix = (self.year_idx[None, :] == np.arange(self.Y)[:, None]).astype(float)

        acc = case.accounts
        self.side = np.array([a.side for a in acc])
        self.is_rev = self.side == "revenue"
        self.is_cost = ~self.is_rev
        self.ytd = np.array([a.actual_ytd_tkr for a in acc])
        self.budget_ytd = np.array([a.budget_ytd_tkr for a in acc])
        self.run_rate = self.ytd / (c + 1)  # tkr a month
        self.i_pers = case.account_index("personnel")
        self.i_agency = case.account_index("agency")
        self.i_drugs = case.account_index("drugs")
        self.i_purchased = case.account_index("purchased_care")
        self.price_accounts = np.array(
            [i for i, a in enumerate(acc) if a.driver == "price"], dtype=int
        )
        self.rev_accounts = np.flatnonzero(self.is_rev)
        self.budget_accounts = np.array([a.baseline_method == "budget" for a in acc])
        self.account_ids = [a.id for a in acc]

        self.budget = self._budget()  # (T, A) tkr
        self.season = self._season()  # (T, A)
        self.actual = self._actual()  # (T, A) tkr, zero after the cut-off

        # agency categories
        H = case.param("hours_per_fte_year")
        self.hours_per_fte_month = H / 12.0
        cat_cost = np.array([-cat.cost_ytd_mkr for cat in case.agency])  # mkr, positive
        self.cat_weight = cat_cost / cat_cost.sum()
        fte = np.array([cat.fte_ytd for cat in case.agency])
        ytd_hours = fte * H * (c + 1) / 12.0
        agency_ytd_kr = -self.ytd[self.i_agency] * 1000.0
        with np.errstate(divide="ignore", invalid="ignore"):
            price = agency_ytd_kr * self.cat_weight / ytd_hours
        mean_price = agency_ytd_kr / ytd_hours.sum()
        self.agency_price = np.where(ytd_hours > 0, price, mean_price)  # kr per hour
        self.category_ids = [cat.id for cat in case.agency]
        rest_cat = case.parameters.get("rest_rule_agency_category")
        self.i_rest_cat = (
            self.category_ids.index(str(rest_cat.value))
            if rest_cat is not None and str(rest_cat.value) in self.category_ids
            else int(np.argmax(fte))
        )
        # own staff
        self.own_fte = case.employees * case.param("fte_per_employee")
        own_share = []
        for cat in case.agency:
            if cat.agency_share_pct:
                own_mkr = -cat.cost_ytd_mkr * (100.0 - cat.agency_share_pct) / cat.agency_share_pct
                own_share.append(own_mkr * 1000.0 / -self.ytd[self.i_pers])
            else:
                own_share.append(np.nan)
        self.own_cost_share = np.array(
            own_share
        )  # share of personnel cost per category (nan: unknown)

        # pay factor: which cumulative revision applies in each month
        rev_month = int(case.param("pay_revision_month"))
        self.cum_index = np.where(self.moy >= rev_month, self.year_idx + 1, self.year_idx)
        cut_moy = months[c][1]
        self.retro_months = max(0, cut_moy - rev_month + 1)

        # divisions: allocation keys
        divs = case.divisions
        self.division_ids = [d.id for d in divs]
        rev = np.array([d.figures["revenue"]["ytd_actual_mkr"] for d in divs])
        cost = np.array([d.figures["gross_cost"]["ytd_actual_mkr"] for d in divs])
        brev = np.array([d.figures["revenue"]["budget_first_year_mkr"] for d in divs])
        bcost = np.array([d.figures["gross_cost"]["budget_first_year_mkr"] for d in divs])
        self.div_share = {"revenue": rev / rev.sum(), "cost": cost / cost.sum()}
        self.div_budget_share = {"revenue": brev / brev.sum(), "cost": bcost / bcost.sum()}

        self._defaults = self._default_levers(1)
        base = self._evaluate(self._defaults, baseline_only=True)
        self.baseline = base  # (T, A) tkr
        self.baseline_pay_factor = pay_factor(
            self._defaults.pay_pct, self.cum_index, self.first_forecast, self.retro_months
        )
        self.baseline_agency_hours = self._base_agency_hours()  # (T, C)

    # ----------------------------------------------------------- data-derived arrays

    def _budget(self) -> np.ndarray:
        """Monthly budget per account (tkr): the year-to-date budget per account, the rest of
        the year's budget spread evenly over the remaining months, each account keeping its
        share of the year-to-date budget of its side; later years keep that monthly profile."""
        case, c = self.case, self.c
        out = np.zeros((self.T, self.A))
        first = self.years[0]
        side_ytd = {s: self.budget_ytd[self.side == s].sum() for s in ("revenue", "cost")}
        profile = np.zeros((12, self.A))
        for yi, y in enumerate(self.years):
            rev = case.budget_revenue_mkr[y] * 1000.0
            cost = (case.budget_net_mkr[y] - case.budget_revenue_mkr[y]) * 1000.0
            annual = np.where(
                self.is_rev,
                rev * self.budget_ytd / side_ytd["revenue"],
                cost * self.budget_ytd / side_ytd["cost"],
            )
            if y == first:
                monthly = np.where(
                    (np.arange(12) <= c)[:, None],
                    (self.budget_ytd / (c + 1))[None, :],
                    ((annual - self.budget_ytd) / (11 - c))[None, :],
                )
                with np.errstate(divide="ignore", invalid="ignore"):
                    profile = np.where(annual != 0, monthly / annual, 1.0 / 12.0)
            else:
                monthly = profile * annual[None, :]
            out[self.year_idx == yi] = monthly
        return out

    def _season(self) -> np.ndarray:
        """Seasonal factor per month and account: the budget's own level in the month over its
        year-to-date average level, per side (revenue, cost). 1 for the year-to-date months."""
        first = self.budget[self.year_idx == 0]
        out = np.ones((self.T, self.A))
        for s in ("revenue", "cost"):
            cols = self.side == s
            level = first[:, cols].sum(axis=1)
            ytd_level = level[: self.c + 1].mean()
            factor = level / ytd_level
            out[:, cols] = factor[self.moy - 1][:, None]
        return out

    def _actual(self) -> np.ndarray:
        """Actual months split from the year-to-date figures: the last month takes its share
        of the documents' last-month totals (if given), the others share the rest evenly."""
        out = np.zeros((self.T, self.A))
        c = self.c
        for s, cols in (("revenue", self.is_rev), ("cost", self.is_cost)):
            share = self.case.last_month_share.get(s)
            if share is None or c == 0:
                w = np.full(c + 1, 1.0 / (c + 1))
            else:
                w = np.r_[np.full(c, (1.0 - share) / c), share]
            out[: c + 1, cols] = w[:, None] * self.ytd[cols][None, :]
        return out

    def _base_agency_hours(self) -> np.ndarray:
        """Agency hours per month and category: the agency account's cost split by category
        weight and divided by the category's price per hour. Shape (T, C)."""
        cost = -self.baseline[:, self.i_agency] * 1000.0  # kr, positive
        return cost[:, None] * self.cat_weight[None, :] / self.agency_price[None, :]

    # ----------------------------------------------------------- levers

    def _default_levers(self, n: int) -> LeverArrays:
        p = self.case.param
        first = float(self.first_forecast)
        rest_start = self.case.month_index(str(self.case.parameters["rest_rule_start"].value))

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
            rest_on=np.zeros(n, dtype=bool),
            rest_start=full(rest_start),
            rest_need_pct=full(p("rest_rule_extra_need_pct")),
            rest_mitigation_pct=full(p("rest_rule_weekend_mitigation_pct")),
            rest_overtime_pct=full(p("rest_rule_overtime_pct")),
            rest_agency_pct=full(p("rest_rule_agency_pct")),
            share_24_7_pct=full(p("rest_rule_share_24_7_pct")),
            overtime_cost_factor=full(p("overtime_cost_factor")),
            agency_to_own_ratio=full(p("agency_to_own_cost_ratio")),
            purchased_to_own_ratio=full(p("purchased_care_to_own_cost_ratio")),
            realisation_pct=full(100),
            measures_tkr=None,
        )

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
                    else:
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
            L.staff_target_pct[i] = s.target_pct
            L.staff_start[i] = month(s.start, first, "levers.staffing_reduction.start")
            if s.ramp_months is not None:
                L.staff_ramp_months[i] = s.ramp_months
        if (a := lv.agency) is not None:
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
            acc_id = m.account or "other_costs"
            if acc_id not in self.account_ids:
                problems.append(
                    (
                        f"{path}.account",
                        acc_id,
                        f"not an account of this case; allowed: {', '.join(self.account_ids)}",
                    )
                )
                continue
            start = month(m.start, first, f"{path}.start")
            ramp = ramp_share(self.t, np.array([start]), np.array([float(m.ramp_months or 0)]))[0]
            L.measures_tkr[i, :, self.account_ids.index(acc_id)] += (
                m.mkr_per_year * 1000.0 / 12.0 * ramp * self.forecast
            )
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
        pf = pay_factor(L.pay_pct, self.cum_index, self.first_forecast, self.retro_months)
        drug = growth_factor(L.drug_growth_pct, t, self.t0)
        price = growth_factor(L.price_growth_pct, t, self.t0)
        if baseline_only:
            base = np.where(fc[:, None], rr[None, :] * season, self.actual)
            base[:, self.i_pers] = np.where(
                fc, base[:, self.i_pers] * pf[0], self.actual[:, self.i_pers]
            )
            base[:, self.i_drugs] = np.where(
                fc, base[:, self.i_drugs] * drug[0], self.actual[:, self.i_drugs]
            )
            pa = self.price_accounts
            base[:, pa] = np.where(fc[:, None], base[:, pa] * price[0][:, None], self.actual[:, pa])
            base = np.where(self.budget_accounts[None, :] & fc[:, None], self.budget, base)
            return base

        B = self.baseline
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

        # 4 price growth on price-driven run-rate accounts
        base_price = growth_factor(self._defaults.price_growth_pct, t, self.t0)
        dprice = (price - base_price) * fcf
        for a in self.price_accounts:
            if not self.budget_accounts[a]:
                eff["price_growth"][a] = (rr[a] * season[:, a])[None, :] * dprice

        # 5-8 savings at 100 % of plan, then what realisation takes away
        plan = self._savings(L, pf, pers_paid, realisation=None)
        real_pct = L.realisation_pct
        if np.all(real_pct == 100.0):
            real = plan
        else:
            real = self._savings(L, pf, pers_paid, realisation=real_pct / 100.0)
        for step in SAVING_STEPS:
            eff[step] = plan["effects"][step]
            for a, arr in real["effects"][step].items():
                diff = arr - plan["effects"][step][a]
                if a in eff["realisation"]:
                    eff["realisation"][a] = eff["realisation"][a] + diff
                else:
                    eff["realisation"][a] = diff

        # 7 rest rule (independent of the savings: it scales with the pay-revised personnel cost)
        on_rest = L.rest_on[:, None] & (t[None, :] >= L.rest_start[:, None]) & fc
        need = rest_rule_need_hours(
            self.own_fte,
            self.hours_per_fte_month * 12.0,
            L.share_24_7_pct,
            L.rest_need_pct,
            L.rest_mitigation_pct,
            on_rest,
        )
        own_kr_per_hour = -pers_paid * 1000.0 / (self.own_fte * self.hours_per_fte_month)  # (S, T)
        overtime_hours = need * (L.rest_overtime_pct[:, None] / 100.0)
        rest_agency_hours = need * (L.rest_agency_pct[:, None] / 100.0)
        uncovered = need * np.maximum(
            1.0 - (L.rest_overtime_pct + L.rest_agency_pct)[:, None] / 100.0, 0.0
        )
        eff["rest_rule"][self.i_pers] = cost_tkr(
            overtime_hours, own_kr_per_hour * L.overtime_cost_factor[:, None]
        )
        eff["rest_rule"][self.i_agency] = cost_tkr(
            rest_agency_hours, self.agency_price[self.i_rest_cat]
        )

        extra = {
            "staff_share_gone": real["staff_share"],
            "agency_delivered_hours": real["delivered"],
            "agency_replaced_own_hours": real["own_hours"],
            "agency_replaced_purchased_hours": real["purchased_hours"],
            "agency_not_replaced_hours": real["lost_hours"],
            "agency_fill_shortfall_hours": real["fill_short"],
            "rest_need_hours": need,
            "rest_overtime_hours": overtime_hours,
            "rest_agency_hours": rest_agency_hours,
            "rest_uncovered_hours": uncovered,
        }
        return eff, extra

    def _savings(
        self, L: LeverArrays, pf: np.ndarray, pers_paid: np.ndarray, realisation: np.ndarray | None
    ) -> dict:
        """Staffing reduction, agency reduction with its replacement, and measures, at
        ``realisation`` of plan (None = 100 %). Increases of agency hours are not savings and
        are not scaled."""
        fc = self.forecast
        t = self.t
        r = 1.0 if realisation is None else realisation
        out: dict[str, dict[int, np.ndarray]] = {s: {} for s in SAVING_STEPS}

        # staffing reduction by attrition
        share = staffing_reduction_share(
            t, L.staff_target_pct * r, L.staff_start, L.staff_ramp_months, L.attrition_pct
        )
        share = share * fc
        out["staffing_reduction"][self.i_pers] = -share * pers_paid

        # agency hours: ordered, delivered, replaced
        r_col = r if np.isscalar(r) else r[:, None]
        change = np.where(L.agency_change_pct < 0, L.agency_change_pct * r_col, L.agency_change_pct)
        ramp = ramp_share(t, L.agency_start, L.agency_ramp_months) * fc
        base_h = self.baseline_agency_hours
        ordered = agency_hours_ordered(base_h, change, ramp)
        fill_on = (t[None, :] >= L.agency_start[:, None]) & fc
        fill = 1.0 - (1.0 - L.fill_rate_pct[:, None] / 100.0) * fill_on  # (S, T)
        delivered = ordered * fill[:, :, None]
        out["agency_reduction"][self.i_agency] = -cost_tkr(
            base_h[None] - delivered, self.agency_price
        ).sum(axis=2)
        removed = np.maximum(base_h[None] - ordered, 0.0)
        own_h = removed * (L.replace_own_pct / 100.0)[:, None, None]
        pur_h = removed * (L.replace_purchased_pct / 100.0)[:, None, None]
        lost_h = removed * (L.replace_none_pct / 100.0)[:, None, None]
        own_price = (
            self.agency_price[None, None, :] / L.agency_to_own_ratio[:, None, None] * pf[:, :, None]
        )
        out["agency_replacement"][self.i_pers] = cost_tkr(own_h, own_price).sum(axis=2)
        out["agency_replacement"][self.i_purchased] = cost_tkr(
            pur_h, own_price * L.purchased_to_own_ratio[:, None, None]
        ).sum(axis=2)

        # measures
        if L.measures_tkr is not None:
            m = L.measures_tkr * (r if np.isscalar(r) else r[:, None, None])
            for a in np.flatnonzero(np.any(L.measures_tkr != 0, axis=(0, 1))):
                out["measures"][int(a)] = m[:, :, a]

        return {
            "effects": out,
            "staff_share": share,
            "delivered": delivered,
            "own_hours": own_h.sum(axis=2),
            "purchased_hours": pur_h.sum(axis=2),
            "lost_hours": lost_h.sum(axis=2),
            "fill_short": (ordered * (1.0 - fill[:, :, None])).sum(axis=2),
        }


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
        """Care hours not delivered per month, (S, T): agency hours neither replaced nor
        delivered, the fill-rate shortfall and rest-rule need not covered."""
        x = self.extra
        return (
            x["agency_not_replaced_hours"]
            + x["agency_fill_shortfall_hours"]
            + x["rest_uncovered_hours"]
        )
