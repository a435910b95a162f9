"""The calculation engine: baseline, levers and bridge, for many scenarios at once.

Money is in tkr inside the engine (the documents' unit), mkr in outputs; hours are hours,
staff are FTE. Arrays are shaped ``(S, T)`` (scenarios x months), ``(S, T, C)`` (x agency
categories) or ``(T, A)`` (months x accounts). :meth:`Engine.evaluate` takes a
:class:`LeverArrays` of S scenarios and returns a :class:`BatchResult` in one pass of array
operations, with no Python loop over scenarios.

The engine is three rooms, in the order a figure passes through them:

1. **Data preparation** (:mod:`balans.model.engine_data`): the case's arrays, built once per case
   into a frozen :class:`~balans.model.engine_data.CaseArrays` (``engine.data``; each array is also
   ``engine.<name>``): months, accounts, season, run-rate, agency prices and hours, pay level,
   division shares. On them, once per case, the baseline (:func:`run_rate_baseline`, and what
   was decided before the cut-off).
2. **Compiling scenarios** (:meth:`Engine.compile`): scenario files into :class:`LeverArrays`,
   in the files' units (per cent), checked against the case.
3. **Evaluation** (:meth:`Engine.evaluate`): the levers' per cent turned into fractions once
   (:func:`fractions`), the drivers (:func:`drivers`), then one function per bridge step in
   ``STEPS`` order, each with its formula in its docstring.

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

The bridge: the levers act on that baseline in a fixed order (``STEPS``), each step's effect
measured against the state left by the steps before it. Effects are tkr per account and
month, (S, T), + = better; ``pers_paid`` is personnel cost at the scenario's pay level.

1. :func:`pay_revision`: ``personnel run-rate x season x (pay factor - baseline pay factor)``
2. :func:`revenue`: ``revenue account x change + mkr a year x 1000 / 12 x revenue weight``
3. :func:`drug_cost_growth`: ``drugs run-rate x season x (growth index - baseline index)``
4. :func:`price_growth`: the same on each price account (purchased care on its own index)
5. :func:`staffing_reduction`: ``- share of own staff gone x pers_paid``
6. :func:`agency_reduction`: ``(cut + short - added hours) x agency price per hour``
7. :func:`agency_replacement`: ``- removed hours x mix share x price`` (own staff, overtime,
   purchased care, care not delivered)
8. :func:`rest_rule`: the rule's cost (:func:`rest_rule_hours`, :func:`rest_rule_cost`)
   less the baseline's
9. :func:`measures`: ``mkr a year x 1000 / 12 x ramp``, as planned
10. :func:`realisation`: ``(r - 1) x each saving's planned part``

Savings the board plans (staffing reduction, agency reduction and its replacement, measures)
enter at 100 % of plan, after every cap (attrition); the step ``realisation`` then takes away
``(1 - r)`` of each planned saving's effect, so at r % realisation every saving gives exactly
r % of its effect at 100 %. Hours that are ordered and not delivered (the fill rate) are not
a plan: they are removed hours, covered by the replacement mix like any removed hour (own
staff through overtime in the short run), and not scaled by realisation. Care not delivered
carries a cost (``care_not_delivered_cost_to_own_ratio``) booked on purchased care.
The scenario forecast is the baseline plus the sum of the steps, so the bridge adds up to
the change by construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import ClassVar

import numpy as np

from balans.errors import MISSING, ScenarioError
from balans.inputs.case import Case
from balans.inputs.scenario import Scenario
from balans.model.engine_data import CaseArrays, prepare
from balans.model.levers import ASSUMPTIONS, BY_PATH, month_levers, scalar_levers

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

# One step's effect: account index -> (S, T) tkr, + = better.
Effects = dict[int, np.ndarray]


# --------------------------------------------------------------------------- formulas
# Shares here are fractions (0.05 for 5 %): the per cent of the levers is converted once,
# by fractions(), before any step runs.


def ramp_share(t: np.ndarray, start: np.ndarray, ramp_months: np.ndarray) -> np.ndarray:
    """Share of full effect: ``clip((t - start + 1) / max(ramp_months, 1), 0, 1)``, shape (S, T)."""
    steps = t[None, :] - start[:, None] + 1.0
    return np.clip(steps / np.maximum(ramp_months, 1.0)[:, None], 0.0, 1.0)


def growth_factor(rate_per_year: np.ndarray, t: np.ndarray, t0: float) -> np.ndarray:
    """Monthly compounding: ``(1 + rate) ** ((t - t0) / 12)``, shape (S, T)."""
    return (1.0 + rate_per_year[:, None]) ** ((t[None, :] - t0) / 12.0)


def pay_factor(
    pay: np.ndarray, cum_index: np.ndarray, first_forecast: int, retro_months: int
) -> np.ndarray:
    """Pay level against the year-to-date base: the product of every revision reached.

    ``factor[s, t] = prod_{revisions up to t} (1 + pay[s, y])``; the first forecast
    month also carries the back pay of the revision months already in the actuals:
    ``+ retro_months * (first year's factor - 1)``. Shape (S, T).
    """
    cum = np.cumprod(1.0 + pay, axis=1)
    cum = np.concatenate([np.ones((pay.shape[0], 1)), cum], axis=1)
    factor = cum[:, cum_index]
    if retro_months:
        factor[:, first_forecast] += retro_months * (cum[:, 1] - 1.0)
    return factor


def staffing_reduction_share(
    t: np.ndarray,
    target: np.ndarray,
    start: np.ndarray,
    ramp_months: np.ndarray,
    attrition: np.ndarray,
) -> np.ndarray:
    """Share of own staff gone: ``min(target, pace * (t - start + 1))`` with
    ``pace = min(target / ramp_months, attrition / 12)``: attrition caps the pace. Shape (S, T)."""
    pace = np.minimum(target / np.maximum(ramp_months, 1.0), attrition / 12.0)
    months_in = np.maximum(t[None, :] - start[:, None] + 1.0, 0.0)
    return np.minimum(target[:, None], pace[:, None] * months_in)


def agency_hours_ordered(
    base_hours: np.ndarray, change: np.ndarray, ramp: np.ndarray
) -> np.ndarray:
    """Hours ordered: ``base_hours * (1 + change * ramp)``, shape (S, T, C)."""
    return base_hours[None, :, :] * (1.0 + change[:, None, :] * ramp[:, :, None])


def cost_tkr(hours: np.ndarray, kr_per_hour: np.ndarray) -> np.ndarray:
    """Cost of hours, negative as the documents sign costs: ``-hours * kr_per_hour / 1000``."""
    return -hours * kr_per_hour / 1000.0


def rest_rule_need_hours(
    own_fte: float,
    hours_per_fte_year: float,
    share_24_7: np.ndarray,
    extra_need: np.ndarray,
    weekend_mitigation: np.ndarray,
    on: np.ndarray,
) -> np.ndarray:
    """Extra hours a month the rest rule needs in 24/7 care:
    ``own_fte * hours/12 * share_24_7 * extra_need * (1 - weekend_mitigation)``, shape (S, T)."""
    per_month = (
        own_fte * hours_per_fte_year / 12.0 * share_24_7 * extra_need * (1.0 - weekend_mitigation)
    )
    return per_month[:, None] * on


def own_price(d: CaseArrays, L: LeverArrays, pay: np.ndarray) -> np.ndarray:
    """Own-staff cost per hour of each agency category, (S, T, C) kr: the category's
    agency price at the cut-off / ``agency_to_own_cost_ratio``, raised by the pay factor."""
    return d.agency_price[None, None, :] / L.agency_to_own_ratio[:, None, None] * pay[:, :, None]


def purchased_price(d: CaseArrays, L: LeverArrays, index: np.ndarray) -> np.ndarray:
    """Purchased care per hour of each category, (S, T, C) kr: the own-staff cost at the
    cut-off x ``purchased_care_to_own_cost_ratio``, on purchased care's own price index
    (the sellers' price lists), not the region's pay revision."""
    own0 = d.agency_price[None, None, :] / L.agency_to_own_ratio[:, None, None]
    return own0 * L.purchased_to_own_ratio[:, None, None] * index[:, :, None]


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


# --------------------------------------------------------------------------- per cent, once


@dataclass(frozen=True, eq=False)
class Fractions:
    """The per-cent levers of a :class:`LeverArrays` as fractions (``x_pct / 100``): built
    once per evaluation by :func:`fractions`, so that no step divides by 100. The steps read
    shares here, and months, ratios and tkr from the LeverArrays. Shapes as there."""

    pay: np.ndarray  # (S, Y) pay revision per year
    revenue_change: np.ndarray
    drug_growth: np.ndarray  # a year
    price_growth: np.ndarray  # a year
    purchased_price_growth: np.ndarray  # a year
    staff_target: np.ndarray
    attrition: np.ndarray  # a year
    agency_change: np.ndarray  # (S, C) of the board's hours (a division's scaled to it)
    replace_own: np.ndarray  # the replacement mix of removed hours
    replace_purchased: np.ndarray
    replace_none: np.ndarray
    fill_rate: np.ndarray
    rest_need: np.ndarray
    rest_mitigation: np.ndarray
    rest_overtime: np.ndarray
    rest_agency: np.ndarray
    rest_covered: np.ndarray  # overtime + agency: the share of the need covered at all
    share_24_7: np.ndarray
    realisation: np.ndarray


def fractions(L: LeverArrays) -> Fractions:
    """``x = x_pct / 100`` for every per-cent lever; ``agency_change`` is the change of the
    board's hours, ``agency_change_pct x agency_scale / 100`` where the lever is aimed at a
    division; ``rest_covered = (rest_overtime_pct + rest_agency_pct) / 100``."""
    change = L.agency_change_pct
    if L.agency_scale is not None:  # aimed at a division: its share of the agency account
        change = change * L.agency_scale[:, None]
    return Fractions(
        pay=L.pay_pct / 100.0,
        revenue_change=L.revenue_change_pct / 100.0,
        drug_growth=L.drug_growth_pct / 100.0,
        price_growth=L.price_growth_pct / 100.0,
        purchased_price_growth=L.purchased_price_growth_pct / 100.0,
        staff_target=L.staff_target_pct / 100.0,
        attrition=L.attrition_pct / 100.0,
        agency_change=change / 100.0,
        replace_own=L.replace_own_pct / 100.0,
        replace_purchased=L.replace_purchased_pct / 100.0,
        replace_none=L.replace_none_pct / 100.0,
        fill_rate=L.fill_rate_pct / 100.0,
        rest_need=L.rest_need_pct / 100.0,
        rest_mitigation=L.rest_mitigation_pct / 100.0,
        rest_overtime=L.rest_overtime_pct / 100.0,
        rest_agency=L.rest_agency_pct / 100.0,
        rest_covered=(L.rest_overtime_pct + L.rest_agency_pct) / 100.0,
        share_24_7=L.share_24_7_pct / 100.0,
        realisation=L.realisation_pct / 100.0,
    )


# --------------------------------------------------------------------------- the drivers


@dataclass(frozen=True, eq=False)
class Drivers:
    """The drivers per month, (S, T): the pay factor and the growth indices."""

    pay: np.ndarray
    drug: np.ndarray
    price: np.ndarray
    purchased_price: np.ndarray


def drivers(d: CaseArrays, f: Fractions) -> Drivers:
    """``pay_factor`` of the revisions beyond the year-to-date's pay level, and
    ``growth_factor`` of drug, price and purchased-care growth from the middle of the
    year-to-date (``t0``)."""
    return Drivers(
        pay=pay_factor(f.pay[:, d.pay_offset :], d.cum_index, d.first_forecast, d.retro_months),
        drug=growth_factor(f.drug_growth, d.t, d.t0),
        price=growth_factor(f.price_growth, d.t, d.t0),
        purchased_price=growth_factor(f.purchased_price_growth, d.t, d.t0),
    )


def run_rate_baseline(d: CaseArrays, base: Drivers) -> np.ndarray:
    """The run-rate baseline per month and account, (T, A) tkr: actuals to the cut-off, then
    ``run_rate x season x driver`` (personnel x pay factor, drugs x drug index, a price
    account x its price index, the rest x 1); agency ``= cost_tkr(baseline hours, price
    path)`` per category; a budget account its budget. ``base``: the case's own drivers."""
    fc = d.forecast
    base_tkr = np.where(fc[:, None], d.run_rate[None, :] * d.season, d.actual)
    base_tkr[:, d.i_pers] = np.where(fc, base_tkr[:, d.i_pers] * base.pay[0], d.actual[:, d.i_pers])
    base_tkr[:, d.i_drugs] = np.where(
        fc, base_tkr[:, d.i_drugs] * base.drug[0], d.actual[:, d.i_drugs]
    )
    for a in d.price_accounts:
        growth = base.purchased_price[0] if a == d.i_purchased else base.price[0]
        base_tkr[:, a] = np.where(fc, base_tkr[:, a] * growth, d.actual[:, a])
    base_tkr[:, d.i_agency] = np.where(
        fc,
        cost_tkr(d.baseline_agency_hours, d.agency_price_path).sum(axis=1),
        base_tkr[:, d.i_agency],
    )
    return np.where(d.budget_accounts[None, :] & fc[:, None], d.budget, base_tkr)


# --------------------------------------------------------------------------- hours and shares
# What the staffing and agency levers do to staff and hours, before any money.


def staff_share_gone(d: CaseArrays, L: LeverArrays, f: Fractions) -> np.ndarray:
    """Share of own staff gone at 100 % of plan, (S, T): :func:`staffing_reduction_share`
    in forecast months, x ``staff_scale`` (a division's share of personnel cost) if aimed."""
    share = staffing_reduction_share(
        d.t, f.staff_target, L.staff_start, L.staff_ramp_months, f.attrition
    )
    share = share * d.forecast
    if L.staff_scale is not None:  # aimed at a division: its share of the personnel cost
        share = share * L.staff_scale[:, None]
    return share


@dataclass(frozen=True, eq=False)
class AgencyHours:
    """Agency hours per month and category, (S, T, C) (``base``: (1, T, C))."""

    base: np.ndarray  # the baseline's hours
    cut: np.ndarray  # the planned reduction
    add: np.ndarray  # an increase: not a saving, never scaled
    short: np.ndarray  # ordered and not delivered: not a plan, never scaled


def agency_hours(d: CaseArrays, L: LeverArrays, f: Fractions) -> AgencyHours:
    """``ordered = base x (1 + change x ramp)``; ``cut = max(base - ordered, 0)``,
    ``add = max(ordered - base, 0)`` and, from the agency lever's start month,
    ``short = ordered x (1 - fill rate)``."""
    fc, t = d.forecast, d.t
    ramp = ramp_share(t, L.agency_start, L.agency_ramp_months) * fc
    base = d.baseline_agency_hours[None]
    ordered = agency_hours_ordered(d.baseline_agency_hours, f.agency_change, ramp)
    fill_on = (t[None, :] >= L.agency_start[:, None]) & fc
    fill = 1.0 - (1.0 - f.fill_rate[:, None]) * fill_on  # (S, T)
    return AgencyHours(
        base=base,
        cut=np.maximum(base - ordered, 0.0),
        add=np.maximum(ordered - base, 0.0),
        short=ordered * (1.0 - fill[:, :, None]),
    )


def realised_hours(f: Fractions, share: np.ndarray, h: AgencyHours) -> dict[str, np.ndarray]:
    """What realisation ``r`` leaves of the planned cuts, in staff and hours:
    ``staff gone = share x r``, ``cut_real = cut x r``, ``delivered = base - cut_real + add
    - short``; own staff cover ``cut_real x own`` (re-hired or reallocated) and
    ``short x own`` (overtime), purchased care ``(cut_real + short) x purchased``, and
    ``cut_real x none`` and ``short x none`` are not delivered. (S, T), delivered (S, T, C)."""
    r = f.realisation
    cut_real = h.cut * r[:, None, None]
    s_own = f.replace_own[:, None, None]
    s_pur = f.replace_purchased[:, None, None]
    s_none = f.replace_none[:, None, None]
    return {
        "staff_share_gone": share * r[:, None],
        "agency_delivered_hours": h.base - cut_real + h.add - h.short,
        "agency_replaced_own_hours": (cut_real * s_own).sum(axis=2),  # re-hired or reallocated
        "agency_replaced_overtime_hours": (h.short * s_own).sum(axis=2),  # own staff's overtime
        "agency_replaced_purchased_hours": ((cut_real + h.short) * s_pur).sum(axis=2),
        "agency_not_replaced_hours": (cut_real * s_none).sum(axis=2),  # a planned cut
        "agency_fill_shortfall_hours": (h.short * s_none).sum(axis=2),  # ordered, not delivered
        "agency_ordered_not_delivered_hours": h.short.sum(axis=2),
    }


def rest_rule_hours(
    d: CaseArrays, L: LeverArrays, f: Fractions, delivered: np.ndarray
) -> dict[str, np.ndarray]:
    """The rest rule's hours, (S, T). From the start month,
    ``need = rest_rule_need_hours(...) x (1 - share of the year-to-date it was in force)``
    (a rule in force in the year-to-date is in the run-rate already for those months).
    Cover: ``overtime = need x overtime``; ``asked = need x agency`` of the rest rule's
    agency category, of which it covers ``asked x clip(delivered / base hours, 0, 1)`` (no
    more than the scenario keeps of that category); the hours displaced go through the
    replacement mix (own staff on overtime, purchased care, none);
    ``uncovered = need x max(1 - overtime - agency, 0) + displaced x none``."""
    fc, t = d.forecast, d.t
    on_rest = L.rest_on[:, None] & (t[None, :] >= L.rest_start[:, None]) & fc
    in_ytd = np.clip(d.c - np.maximum(L.rest_start, d.ys) + 1, 0, d.n_ytd) / d.n_ytd
    need = (
        rest_rule_need_hours(
            d.own_fte,
            d.hours_per_fte_month * 12.0,
            f.share_24_7,
            f.rest_need,
            f.rest_mitigation,
            on_rest,
        )
        * (1.0 - in_ytd)[:, None]
    )
    k = d.i_rest_cat
    base_k = d.baseline_agency_hours[:, k]
    with np.errstate(divide="ignore", invalid="ignore"):
        kept = np.where(base_k > 0, delivered[:, :, k] / base_k, 1.0)
    kept = np.clip(kept, 0.0, 1.0)
    overtime_hours = need * f.rest_overtime[:, None]
    asked = need * f.rest_agency[:, None]
    rest_agency_hours = asked * kept
    displaced = asked - rest_agency_hours
    uncovered = (
        need * np.maximum(1.0 - f.rest_covered[:, None], 0.0) + displaced * f.replace_none[:, None]
    )
    return {
        "rest_need_hours": need,
        "rest_overtime_hours": overtime_hours + displaced * f.replace_own[:, None],
        "rest_agency_hours": rest_agency_hours,
        "rest_purchased_hours": displaced * f.replace_purchased[:, None],
        "rest_uncovered_hours": uncovered,
    }


def rest_rule_cost(
    d: CaseArrays,
    L: LeverArrays,
    hours: dict[str, np.ndarray],
    pers_paid: np.ndarray,
    purchased_index: np.ndarray,
) -> Effects:
    """The rest rule's cost per account, (S, T) tkr: with ``own = -pers_paid x 1000 /
    (own FTE x hours a month)`` kr an hour, personnel ``cost_tkr(overtime, own x overtime
    factor)``, agency ``cost_tkr(agency hours, agency price)``, purchased care
    ``cost_tkr(purchased, purchased price) + cost_tkr(uncovered, own x not-delivered ratio)``."""
    own_kr_per_hour = -pers_paid * 1000.0 / (d.own_fte * d.hours_per_fte_month)  # (S, T)
    own_kr_per_hour = np.broadcast_to(own_kr_per_hour, (L.n, d.T))
    k = d.i_rest_cat
    pur_p = purchased_price(d, L, purchased_index)[:, :, k]
    ot_price = own_kr_per_hour * L.overtime_cost_factor[:, None]
    nd_price = own_kr_per_hour * L.not_delivered_cost_ratio[:, None]
    return {
        d.i_pers: cost_tkr(hours["rest_overtime_hours"], ot_price),
        d.i_agency: cost_tkr(hours["rest_agency_hours"], d.agency_price_path[None, :, k]),
        d.i_purchased: cost_tkr(hours["rest_purchased_hours"], pur_p)
        + cost_tkr(hours["rest_uncovered_hours"], nd_price),
    }


# --------------------------------------------------------------------------- the bridge steps
# One function per step, in STEPS order; each returns its effect per account, (S, T) tkr.


def pay_revision(d: CaseArrays, drv: Drivers, base: Drivers) -> Effects:
    """1. Personnel: ``run_rate x season x (pay factor - baseline pay factor)``, forecast
    months."""
    pers_rr = d.run_rate[d.i_pers] * d.season[:, d.i_pers]  # (T,)
    return {d.i_pers: pers_rr[None, :] * (drv.pay - base.pay) * d.forecast.astype(float)}


def revenue(d: CaseArrays, L: LeverArrays, f: Fractions, B: np.ndarray) -> Effects:
    """2. Each revenue account from the start month: ``baseline x change + mkr a year x
    1000 / 12 x the account's share of the year-to-date revenue``. ``B``: the run-rate
    baseline (T, A)."""
    on_rev = (d.t[None, :] >= L.revenue_start[:, None]) & d.forecast
    return {
        a: on_rev
        * (
            B[None, :, a] * f.revenue_change[:, None]
            + (L.revenue_mkr_per_year[:, None] * 1000.0 / 12.0) * d.revenue_weight[k]
        )
        for k, a in enumerate(d.rev_accounts)
    }


def drug_cost_growth(d: CaseArrays, drv: Drivers, base: Drivers) -> Effects:
    """3. Drugs: ``run_rate x season x (drug index - baseline drug index)``, forecast months."""
    drug_rr = d.run_rate[d.i_drugs] * d.season[:, d.i_drugs]
    return {d.i_drugs: drug_rr[None, :] * (drv.drug - base.drug) * d.forecast.astype(float)}


def price_growth(d: CaseArrays, drv: Drivers, base: Drivers) -> Effects:
    """4. Each price-driven run-rate account: ``run_rate x season x (price index - baseline
    price index)``, purchased care on its own index; forecast months."""
    fcf = d.forecast.astype(float)
    dprice = (drv.price - base.price) * fcf
    dpur = (drv.purchased_price - base.purchased_price) * fcf
    out: Effects = {}
    for a in d.price_accounts:
        if not d.budget_accounts[a]:
            g = dpur if a == d.i_purchased else dprice
            out[a] = (d.run_rate[a] * d.season[:, a])[None, :] * g
    return out


@dataclass(frozen=True, eq=False)
class Saving:
    """A saving step: its effect per account at 100 % of plan, the planned part of it (what
    :func:`realisation` scales), and the parts a division's bridge needs apart."""

    effects: Effects
    planned: Effects
    extra: dict[str, np.ndarray] = field(default_factory=dict)


def staffing_reduction(d: CaseArrays, share: np.ndarray, pers_paid: np.ndarray) -> Saving:
    """5. Personnel: ``- share of own staff gone x pers_paid`` (:func:`staff_share_gone`,
    the attrition cap first); all of it planned."""
    effect = -share * pers_paid
    return Saving({d.i_pers: effect}, {d.i_pers: effect})


def agency_reduction(d: CaseArrays, h: AgencyHours) -> Saving:
    """6. Agency: ``-cost_tkr(cut + short - add, price per hour)`` per category, summed;
    only the cut is planned (``extra['fill_agency']``: the shortfall's part)."""
    price = d.agency_price_path[None]  # (1, T, C)
    cut_saving = -cost_tkr(h.cut, price).sum(axis=2)
    other_saving = -cost_tkr(h.short - h.add, price).sum(axis=2)
    return Saving(
        {d.i_agency: cut_saving + other_saving},
        {d.i_agency: cut_saving},
        {"fill_agency": -cost_tkr(h.short, price).sum(axis=2)},
    )


def replacement_cost(
    hours: np.ndarray,
    f: Fractions,
    own_kr: np.ndarray,
    purchased_kr: np.ndarray,
    not_delivered_kr: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Removed hours (S, T, C) covered by the mix, summed over categories, (S, T) tkr each:
    personnel ``cost_tkr(hours x own, own_kr)``, purchased care ``cost_tkr(hours x purchased,
    purchased_kr) + cost_tkr(hours x none, not_delivered_kr)``."""
    s_own = f.replace_own[:, None, None]
    s_pur = f.replace_purchased[:, None, None]
    s_none = f.replace_none[:, None, None]
    pers = cost_tkr(hours * s_own, own_kr).sum(axis=2)
    pur = cost_tkr(hours * s_pur, purchased_kr).sum(axis=2) + cost_tkr(
        hours * s_none, not_delivered_kr
    ).sum(axis=2)
    return pers, pur


def agency_replacement(
    d: CaseArrays, L: LeverArrays, f: Fractions, h: AgencyHours, drv: Drivers
) -> Saving:
    """7. Every removed hour covered by the mix (:func:`replacement_cost`): a cut at
    own-staff cost (:func:`own_price`), a short hour at own-staff cost x the overtime
    factor; purchased care at :func:`purchased_price`, care not delivered at own-staff cost
    x ``care_not_delivered_cost_to_own_ratio``. Only the cut's replacement is planned."""
    own_p = own_price(d, L, drv.pay)
    pur_p = purchased_price(d, L, drv.purchased_price)
    nd_p = own_p * L.not_delivered_cost_ratio[:, None, None]
    ot = L.overtime_cost_factor[:, None, None]
    cut_pers, cut_pur = replacement_cost(h.cut, f, own_p, pur_p, nd_p)
    short_pers, short_pur = replacement_cost(h.short, f, own_p * ot, pur_p, nd_p)
    return Saving(
        {d.i_pers: cut_pers + short_pers, d.i_purchased: cut_pur + short_pur},
        {d.i_pers: cut_pers, d.i_purchased: cut_pur},
        {
            "planned_agency_pers": cut_pers,
            "planned_agency_purchased": cut_pur,
            "fill_pers": short_pers,
            "fill_purchased": short_pur,
        },
    )


def rest_rule(
    d: CaseArrays,
    L: LeverArrays,
    hours: dict[str, np.ndarray],
    pers_paid: np.ndarray,
    drv: Drivers,
    baseline_cost: Effects,
) -> Effects:
    """8. ``rest_rule_cost(scenario) - rest_rule_cost(baseline)`` per account (``hours``:
    :func:`rest_rule_hours`): zero when the scenario keeps the baseline's rule, which is in
    the baseline already."""
    cost = rest_rule_cost(d, L, hours, pers_paid, drv.purchased_price)
    out = {a: arr - baseline_cost.get(a, 0.0) for a, arr in cost.items()}
    for a, arr in baseline_cost.items():
        if a not in cost:
            out[a] = -np.broadcast_to(arr, (L.n, d.T))
    return out


def measures(L: LeverArrays) -> Saving:
    """9. Each measure's planned monthly effect per account (``measure_tkr``: ``mkr a year x
    1000 / 12 x ramp``, compiled into ``measures_tkr``); all of it planned."""
    out: Effects = {}
    if L.measures_tkr is not None:
        for a in np.flatnonzero(np.any(L.measures_tkr != 0, axis=(0, 1))):
            out[int(a)] = L.measures_tkr[:, :, a]
    return Saving(out, out)


def planned_parts(savings: Iterable[Saving]) -> Effects:
    """The planned part of every saving per account, summed in step order."""
    planned: Effects = {}
    for s in savings:
        for a, arr in s.planned.items():
            planned[a] = planned[a] + arr if a in planned else arr
    return planned


def planned_by_step(savings: dict[str, Saving], n: int, T: int) -> dict[str, np.ndarray]:
    """Each saving step's planned part summed over accounts, ``planned_<step>``, (S, T) tkr:
    what :attr:`BatchResult.realised_bridge_mkr` scales."""
    out = {}
    for name, s in savings.items():
        arrs = list(s.planned.values())
        if arrs:
            total = arrs[0]
            for arr in arrs[1:]:
                total = total + arr
            out[f"planned_{name}"] = np.broadcast_to(total, (n, T))
    return out


def realisation(f: Fractions, planned: Effects) -> Effects:
    """10. ``(r - 1) x planned`` per account: at r % realisation each saving gives r % of
    its effect at 100 % of plan (``planned``: :func:`planned_parts`)."""
    r = f.realisation
    return {a: (r[:, None] - 1.0) * arr for a, arr in planned.items()}


# --------------------------------------------------------------------------- the engine


class Engine:
    """One case's engine: its arrays, its baseline, and the bridge for S scenarios at once.

    ``Engine(case)`` prepares the case's arrays once (``data``, a
    :class:`~balans.model.engine_data.CaseArrays`; each is also ``engine.<name>``, e.g.
    ``engine.season``) and builds the baseline on them; :meth:`compile` turns scenarios
    into :class:`LeverArrays`; :meth:`evaluate` runs the bridge. Cheap to call many times.
    """

    data: CaseArrays

    def __init__(self, case: Case) -> None:
        self.case = case
        self.data = d = prepare(case)
        self._defaults = self._default_levers(1)
        f0 = fractions(self._defaults)
        # the case's own drivers: what a scenario's drivers are measured against
        self.baseline_drivers = drivers(d, f0)
        self.baseline_pay_factor = self.baseline_drivers.pay
        # the run-rate baseline, then what was decided before the cut-off on top of it: the
        # rest rule's cost at its default assumptions (kept, so a scenario's rest_rule step
        # is measured against it)
        self.baseline_run_rate = run_rate_baseline(d, self.baseline_drivers)  # (T, A)
        self.baseline_parts: dict[str, np.ndarray] = {"run_rate": self.baseline_run_rate}
        pers = self.baseline_run_rate[None, :, d.i_pers]
        rest_hours = rest_rule_hours(d, self._defaults, f0, d.baseline_agency_hours[None])
        rest = rest_rule_cost(
            d, self._defaults, rest_hours, pers, self.baseline_drivers.purchased_price
        )
        decided = np.zeros_like(self.baseline_run_rate)
        for a, arr in rest.items():
            decided[:, a] += arr[0]
        if self._defaults.rest_on[0]:
            self.baseline_parts["rest_rule"] = decided
        self._baseline_rest = rest
        self.baseline = self.baseline_run_rate + decided  # (T, A) tkr

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

        def default(path: str) -> np.ndarray:
            return full(BY_PATH[path].default_value(self.case))

        return LeverArrays(
            pay_pct=np.tile(
                [BY_PATH["pay_revision_pct"].default_value(self.case, y) for y in self.years],
                (n, 1),
            ).astype(float),
            revenue_change_pct=default("revenue.change_pct"),
            revenue_mkr_per_year=default("revenue.mkr_per_year"),
            revenue_start=full(first),
            drug_growth_pct=default("drug_cost_growth_pct"),
            price_growth_pct=default("price_growth_pct"),
            staff_target_pct=default("staffing_reduction.target_pct"),
            staff_start=full(first),
            staff_ramp_months=default("staffing_reduction.ramp_months"),
            attrition_pct=full(p("attrition_pct_per_year")),
            agency_change_pct=np.zeros((n, self.C)),
            agency_start=full(first),
            agency_ramp_months=default("agency.ramp_months"),
            replace_own_pct=default("agency.replacement.own_staff_pct"),
            replace_purchased_pct=default("agency.replacement.purchased_care_pct"),
            replace_none_pct=default("agency.replacement.not_replaced_pct"),
            fill_rate_pct=default("agency.fill_rate_pct"),
            rest_on=np.full(n, self.case.rest_rule_in_baseline),
            rest_start=full(rest_start),
            rest_need_pct=default("rest_rule.extra_need_pct"),
            rest_mitigation_pct=default("rest_rule.weekend_mitigation_pct"),
            rest_overtime_pct=default("rest_rule.overtime_pct"),
            rest_agency_pct=default("rest_rule.agency_pct"),
            share_24_7_pct=full(p("rest_rule_share_24_7_pct")),
            overtime_cost_factor=full(p("overtime_cost_factor")),
            agency_to_own_ratio=full(p("agency_to_own_cost_ratio")),
            purchased_to_own_ratio=full(p("purchased_care_to_own_cost_ratio")),
            purchased_price_growth_pct=full(
                self._param_or("purchased_care_price_growth_pct", p("price_growth_pct"))
            ),
            not_delivered_cost_ratio=full(p("care_not_delivered_cost_to_own_ratio")),
            realisation_pct=default("realisation_pct"),
            measures_tkr=None,
        )

    def _param_or(self, key: str, default: float) -> float:
        fig = self.case.parameters.get(key)
        return default if fig is None else float(fig.value)

    def default_levers(self, n: int = 1) -> LeverArrays:
        """n copies of the baseline's levers (nothing moved), to change with ``replace``."""
        return self._default_levers(n)

    # Scenario fields that may override a case assumption, and the LeverArrays field they set.
    ASSUMPTION_FIELDS: ClassVar[dict[str, str]] = ASSUMPTIONS

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
        # The levers that are one number in the file and in their array, and the months:
        # copied as they are (the registry, balans.model.levers, names each one's array).
        for lever in scalar_levers():
            value = lever.get(lv)
            if value is not None:
                getattr(L, lever.array)[i] = value
        for lever in month_levers():
            value = lever.get(lv)
            if value is not None:
                arr = getattr(L, lever.array)
                arr[i] = month(value, arr[i], f"levers.{lever.path}")
        if (s := lv.staffing_reduction) is not None:
            d = self._division(s.division, "levers.staffing_reduction.division", problems)
            if d is not None:
                if L.staff_scale is None:
                    L.staff_scale = np.ones(L.n)
                L.staff_scale[i] = self.div_account_share[self.i_pers, d]
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
        if lv.rest_rule is not None:
            L.rest_on[i] = True
            if L.rest_overtime_pct[i] + L.rest_agency_pct[i] > 100 + 1e-9:
                problems.append(
                    (
                        "levers.rest_rule",
                        MISSING,
                        f"overtime_pct + agency_pct (with defaults {L.rest_overtime_pct[i]:g} + {L.rest_agency_pct[i]:g}) must be at most 100",
                    )
                )
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
        effects, extra = self._evaluate(levers)
        return BatchResult(self, levers, effects, extra)

    def _evaluate(self, L: LeverArrays) -> tuple[dict[str, Effects], dict[str, np.ndarray]]:
        """The bridge: every step's effect per account, in ``STEPS`` order, and the hours and
        parts the results show (``extra``)."""
        d, base, B = self.data, self.baseline_drivers, self.baseline_run_rate
        f = fractions(L)  # per cent to fractions: the only place
        drv = drivers(d, f)  # the scenario's pay factor and growth indices
        # staff and hours: what the staffing and agency levers remove, and what realisation
        # leaves of it (the rest rule's agency cover is capped by the hours kept)
        share = staff_share_gone(d, L, f)
        hours = agency_hours(d, L, f)
        realised = realised_hours(f, share, hours)
        rest_hours = rest_rule_hours(d, L, f, realised["agency_delivered_hours"])
        # the bridge, step by step
        pay = pay_revision(d, drv, base)
        pers_paid = B[None, :, d.i_pers] + pay[d.i_pers]  # (S, T), negative: what savings act on
        staff = staffing_reduction(d, share, pers_paid)
        cut = agency_reduction(d, hours)
        replaced = agency_replacement(d, L, f, hours, drv)
        measure = measures(L)
        savings = {
            "staffing_reduction": staff,
            "agency_reduction": cut,
            "agency_replacement": replaced,
            "measures": measure,
        }
        effects = {
            "pay_revision": pay,
            "revenue": revenue(d, L, f, B),
            "drug_cost_growth": drug_cost_growth(d, drv, base),
            "price_growth": price_growth(d, drv, base),
            "staffing_reduction": staff.effects,
            "agency_reduction": cut.effects,
            "agency_replacement": replaced.effects,
            "rest_rule": rest_rule(d, L, rest_hours, pers_paid, drv, self._baseline_rest),
            "measures": measure.effects,
            "realisation": realisation(f, planned_parts(savings.values())),
        }
        assert tuple(effects) == STEPS
        extra = {
            **realised,
            **cut.extra,
            **replaced.extra,
            **rest_hours,
            **planned_by_step(savings, L.n, d.T),
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
