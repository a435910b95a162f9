"""Data preparation: the arrays the engine reads from a case, built once per case.

:func:`prepare` turns a :class:`~balans.inputs.case.Case` into a frozen :class:`CaseArrays`: the
months and their indices, the accounts and their drivers, the seasonal factor, the run-rate,
the agency categories' prices and hours, own staff, the pay level and the divisions' shares.
Nothing here depends on a scenario: the levers and the bridge steps are in
:mod:`balans.model.engine`, which reads these arrays (``engine.data``, and as ``engine.<name>``).

Money is in tkr, prices in kr per hour, hours in hours, staff in FTE. Shapes: ``(T,)`` months,
``(A,)`` accounts, ``(C,)`` agency categories, ``(T, A)``, ``(T, C)``, ``(A, D)`` divisions.

The run-rate, per account: ``run_rate = year-to-date level / sum of the season's factors in
the year-to-date months`` (tkr a month); personnel's level is the cut-off's pay level
(:func:`pay_level_ytd`). The baseline multiplies it by the month's seasonal factor and the
account's driver (:func:`balans.model.engine.run_rate_baseline`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from balans.inputs.case import Case

# Swedish summer: the months in which own staff take their main holiday.
SUMMER_MONTHS: tuple[int, ...] = (6, 7, 8)


@dataclass(frozen=True, eq=False)
class CaseArrays:
    """What the engine needs of one case, as arrays. Built by :func:`prepare`; read-only."""

    case: Case
    # months: T of them, actuals through index c, the forecast after it
    T: int
    A: int  # accounts
    C: int  # agency categories
    years: list[int]
    Y: int
    c: int  # the cut-off's index
    t: np.ndarray  # (T,) month index as float
    moy: np.ndarray  # (T,) month of year, 1-12
    year_idx: np.ndarray  # (T,) index into years
    forecast: np.ndarray  # (T,) bool: after the cut-off
    first_forecast: int
    ys: int  # the run-rate's first month: January of the cut-off year
    n_ytd: int  # months in the year-to-date
    t0: float  # the middle of the year-to-date months (growth is measured from there)
    year_matrix: np.ndarray  # (Y, T) one-hot, for sums per year
    # accounts
    side: np.ndarray  # (A,) "revenue" or "cost"
    is_rev: np.ndarray
    is_cost: np.ndarray
    ytd: np.ndarray  # (A,) year-to-date actual, tkr
    budget_ytd: np.ndarray
    i_pers: int
    i_agency: int
    i_drugs: int
    i_purchased: int
    price_accounts: np.ndarray  # accounts driven by a price index
    rev_accounts: np.ndarray
    revenue_weight: np.ndarray  # (len(rev_accounts),) each revenue account's year-to-date share
    budget_accounts: np.ndarray  # (A,) bool: the baseline is the budget
    account_ids: list[str]
    budget: np.ndarray  # (T, A) tkr
    actual: np.ndarray  # (T, A) tkr, zero after the cut-off
    rev_month: int  # the pay revision's month of year
    # season and run-rate
    season_basis: str  # "prior_year", "budget" or "flat"
    season: np.ndarray  # (T, A)
    run_rate: np.ndarray  # (A,) tkr a month, net of the season
    # agency categories
    hours_per_fte_month: float
    cat_weight: np.ndarray  # (C,) each category's share of the agency cost
    agency_price: np.ndarray  # (C,) kr per hour at the cut-off
    category_ids: list[str]
    agency_price_path: np.ndarray  # (T, C) kr per hour
    i_rest_cat: int  # the category that covers the rest rule
    baseline_agency_hours: np.ndarray  # (T, C)
    # own staff
    own_fte: float
    own_cost_share: np.ndarray  # (C,) share of personnel cost per category (nan: unknown)
    # pay: revisions beyond the year-to-date's pay level
    pay_offset: int  # the first year whose revision is not in the year-to-date level
    cum_index: np.ndarray  # (T,) how many revisions beyond that level each month has
    retro_months: int  # revision months already in the actuals, paid back in the first month
    # divisions
    division_ids: list[str]
    div_account_share: np.ndarray  # (A, D)

    def division_budget(self) -> np.ndarray:
        """Budget per month, account and division (T, A, D) tkr: the ledger's where it has
        them, else each side's budget split by the division's share of the first year's
        budget (the only division budget the documents give)."""
        case = self.case
        if case.division_budget_tkr is not None:
            return case.division_budget_tkr
        divs = case.divisions
        brev = np.array([d.figures["revenue"]["budget_first_year_mkr"] for d in divs])
        bcost = np.array([d.figures["gross_cost"]["budget_first_year_mkr"] for d in divs])
        share = {"revenue": brev / brev.sum(), "cost": bcost / bcost.sum()}
        keys = np.array([share[side] for side in self.side])  # (A, D)
        return self.budget[:, :, None] * keys[None, :, :]


def param_or(case: Case, key: str, default: float) -> float:
    """A case parameter's value, or ``default`` where the case does not give it."""
    fig = case.parameters.get(key)
    return default if fig is None else float(fig.value)


def prepare(case: Case) -> CaseArrays:
    """The case's arrays, in the order they build on each other."""
    months = case.months
    T = len(months)
    A = len(case.accounts)
    years = case.years
    Y = len(years)
    c = case.cutoff_index
    t = np.arange(T, dtype=float)
    moy = np.array([m for _, m in months])
    year_idx = np.array([years.index(y) for y, _ in months])
    forecast = t > c
    first_forecast = c + 1
    # the run-rate's months: January of the cut-off year through the cut-off
    ys = case.ytd_start_index
    n_ytd = c - ys + 1
    t0 = (ys + c) / 2.0
    year_matrix = (year_idx[None, :] == np.arange(Y)[:, None]).astype(float)

    acc = case.accounts
    side = np.array([a.side for a in acc])
    is_rev = side == "revenue"
    ytd = np.array([a.actual_ytd_tkr for a in acc])
    i_pers = case.account_index("personnel")
    i_agency = case.account_index("agency")
    i_drugs = case.account_index("drugs")
    i_purchased = case.account_index("purchased_care")
    price_accounts = np.array([i for i, a in enumerate(acc) if a.driver == "price"], dtype=int)
    rev_accounts = np.flatnonzero(is_rev)
    budget = case.budget_tkr
    actual = case.actual_tkr
    rev_month = int(case.param("pay_revision_month"))

    detrend = partial(
        without_drivers,
        case,
        rev_month=rev_month,
        i_pers=i_pers,
        i_drugs=i_drugs,
        i_purchased=i_purchased,
        price_accounts=price_accounts,
    )
    season_basis, season = season_factors(case, moy, year_idx, c, budget, detrend)
    # the run-rate: the year-to-date level per month, net of the season in those months
    # (personnel at the pay level of the cut-off, see pay_level_ytd)
    ytd_level = ytd.copy()
    ytd_level[i_pers] = pay_level_ytd(case, actual[ys : c + 1, i_pers], moy[ys : c + 1], rev_month)
    run_rate = ytd_level / season[ys : c + 1].sum(axis=0)  # tkr a month

    # agency categories: hours, and the price per hour derived from cost and hours
    H = case.param("hours_per_fte_year")
    cat_cost = np.array([-cat.cost_ytd_mkr for cat in case.agency])  # mkr, positive
    cat_weight = cat_cost / cat_cost.sum()
    fte = np.array([cat.fte_ytd for cat in case.agency])
    ytd_hours = np.array(
        [
            cat.hours_ytd if cat.hours_ytd is not None else cat.fte_ytd * H * n_ytd / 12.0
            for cat in case.agency
        ]
    )
    agency_ytd_kr = -ytd[i_agency] * 1000.0
    with np.errstate(divide="ignore", invalid="ignore"):
        price = agency_ytd_kr * cat_weight / ytd_hours
    mean_price = agency_ytd_kr / ytd_hours.sum()
    agency_price = np.where(ytd_hours > 0, price, mean_price)  # kr per hour, at the cut-off
    category_ids = [cat.id for cat in case.agency]
    price_path = agency_price_path(
        case, agency_price, moy, forecast, season_basis, c, ys, n_ytd, first_forecast, category_ids
    )
    rest_cat = case.parameters.get("rest_rule_agency_category")
    i_rest_cat = (
        category_ids.index(str(rest_cat.value))
        if rest_cat is not None and str(rest_cat.value) in category_ids
        else int(np.argmax(fte))
    )

    # own staff, and each category's share of the personnel cost (nan: unknown)
    own_fte = (
        case.own_fte_given
        if case.own_fte_given is not None
        else case.employees * case.param("fte_per_employee")
    )
    own_share = []
    for cat in case.agency:
        if cat.agency_share_pct:
            own_mkr = -cat.cost_ytd_mkr * (100.0 - cat.agency_share_pct) / cat.agency_share_pct
            own_share.append(own_mkr * 1000.0 / -ytd[i_pers])
        else:
            own_share.append(np.nan)

    # pay factor: how many revisions beyond the year-to-date's pay level each month has.
    # The level is the cut-off year's before its revision, or after it where the actuals
    # already hold that revision (Case.pay_revision_paid; the run-rate is lifted to it).
    pay_offset = year_idx[c] + int(case.pay_revision_paid)
    cum = np.where(moy >= rev_month, year_idx + 1, year_idx)
    cut_moy = months[c][1]

    return CaseArrays(
        case=case,
        T=T,
        A=A,
        C=len(case.agency),
        years=years,
        Y=Y,
        c=c,
        t=t,
        moy=moy,
        year_idx=year_idx,
        forecast=forecast,
        first_forecast=first_forecast,
        ys=ys,
        n_ytd=n_ytd,
        t0=t0,
        year_matrix=year_matrix,
        side=side,
        is_rev=is_rev,
        is_cost=~is_rev,
        ytd=ytd,
        budget_ytd=np.array([a.budget_ytd_tkr for a in acc]),
        i_pers=i_pers,
        i_agency=i_agency,
        i_drugs=i_drugs,
        i_purchased=i_purchased,
        price_accounts=price_accounts,
        rev_accounts=rev_accounts,
        revenue_weight=ytd[rev_accounts] / ytd[rev_accounts].sum(),
        budget_accounts=np.array([a.baseline_method == "budget" for a in acc]),
        account_ids=[a.id for a in acc],
        budget=budget,
        actual=actual,
        rev_month=rev_month,
        season_basis=season_basis,
        season=season,
        run_rate=run_rate,
        hours_per_fte_month=H / 12.0,
        cat_weight=cat_weight,
        agency_price=agency_price,
        category_ids=category_ids,
        agency_price_path=price_path,
        i_rest_cat=i_rest_cat,
        baseline_agency_hours=base_agency_hours(
            forecast, run_rate, season, actual, i_agency, cat_weight, agency_price
        ),
        own_fte=own_fte,
        own_cost_share=np.array(own_share),
        pay_offset=pay_offset,
        cum_index=np.maximum(cum - pay_offset, 0),
        retro_months=0 if case.pay_revision_paid else max(0, cut_moy - rev_month + 1),
        division_ids=[d.id for d in case.divisions],
        div_account_share=division_shares(case, ys, c, side),
    )


def season_factors(
    case: Case,
    moy: np.ndarray,
    year_idx: np.ndarray,
    c: int,
    budget: np.ndarray,
    detrend: Callable[[np.ndarray, int], np.ndarray],
) -> tuple[str, np.ndarray]:
    """Seasonal factor of the volume per month and account, and where it comes from.

    - ``prior_year``: the ledger's months of the year before the cut-off year, per
      account, divided by their mean; the drivers are taken out first, so that growth is
      not counted twice (``detrend``: :func:`without_drivers`).
    - ``budget``: the ledger's own monthly budget of the cut-off year (its phasing).
    - ``flat``: neither (the shipped documents give no monthly actuals of an earlier
      year nor the budget's own phasing): every account's volume is flat, and the
      summer shows in the agency price (:func:`agency_price_path`).

    ``factor[t, a] = profile[month of t, a] / mean(profile[:, a])``. An account whose months
    change sign or are about zero stays flat. The run-rate divides the year-to-date actuals
    by the sum of the factors of the actual months, so a cut-off after the summer is not
    inflated. Shape (T, A)."""
    T, A = budget.shape
    moy0 = moy - 1
    prof: np.ndarray | None = None
    basis = "flat"
    cut_year = case.cutoff[0]
    if case.prior_year_tkr is not None:
        prof = detrend(case.prior_year_tkr, cut_year - 1)
        basis = "prior_year"
    else:
        in_cut_year = year_idx == year_idx[c]
        if all(
            b == "document"
            for b, on in zip(case.month_budget_basis, in_cut_year, strict=True)
            if on
        ):
            prof = detrend(budget[in_cut_year], cut_year)
            basis = "budget"
    if prof is None:
        return basis, np.ones((T, A))
    mean = prof.mean(axis=0)
    same_sign = (np.sign(prof) == np.sign(mean)[None, :]).all(axis=0)
    ok = same_sign & (np.abs(mean) > 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(ok[None, :], prof / mean[None, :], 1.0)
    return basis, factor[moy0]


def without_drivers(
    case: Case,
    months: np.ndarray,
    year: int,
    *,
    rev_month: int,
    i_pers: int,
    i_drugs: int,
    i_purchased: int,
    price_accounts: np.ndarray,
) -> np.ndarray:
    """A year's months per account (12, A) with the drivers taken out, so that a profile
    made of them holds the season alone: personnel months before the revision month
    lifted by that year's revision (its step is the pay driver's), drug and price
    accounts detrended by their own growth rate (purchased care by its own index):
    ``month / (1 + g) ** ((m - 5.5) / 12)``."""
    prof = months.copy()
    fig = case.parameters.get(f"pay_revision_pct_{year}") or case.parameters.get(
        f"pay_revision_pct_{case.cutoff[0]}"
    )
    r = float(fig.value) / 100.0 if fig is not None else 0.0
    prof[: rev_month - 1, i_pers] *= 1.0 + r
    mid = (np.arange(12) - 5.5) / 12.0
    g_drug = case.param("drug_cost_growth_pct") / 100.0
    prof[:, i_drugs] /= (1.0 + g_drug) ** mid
    g_price = case.param("price_growth_pct") / 100.0
    g_pur = (
        param_or(case, "purchased_care_price_growth_pct", case.param("price_growth_pct")) / 100.0
    )
    for a in price_accounts:
        g = g_pur if a == i_purchased else g_price
        prof[:, a] /= (1.0 + g) ** mid
    return prof


def pay_level_ytd(case: Case, pers_ytd: np.ndarray, moy_ytd: np.ndarray, rev_month: int) -> float:
    """The personnel account's year-to-date at the cut-off's pay level (tkr): where the
    actuals already hold the cut-off year's revision, the months before the revision
    month are lifted by it (the back pay, booked in a later month, then brings those
    months to the new level exactly); else the year-to-date as it is.
    ``pers_ytd`` and ``moy_ytd`` are the year-to-date months' personnel actuals and months."""
    if not case.pay_revision_paid:
        return float(pers_ytd.sum())
    r = case.param(f"pay_revision_pct_{case.cutoff[0]}") / 100.0
    before = moy_ytd < rev_month
    return float(np.where(before, pers_ytd * (1.0 + r), pers_ytd).sum())


def division_shares(case: Case, ys: int, c: int, side: np.ndarray) -> np.ndarray:
    """Each division's share of each account's forecast, (A, D): the ledger's own
    year-to-date per account and division where it has them, else (no account x division
    in the data) the division's share of the year-to-date revenue or gross cost."""
    if case.division_actual_tkr is not None:
        ytd = case.division_actual_tkr[ys : c + 1].sum(axis=0)  # (A, D)
        tot = ytd.sum(axis=1, keepdims=True)
        D = ytd.shape[1]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.abs(tot) > 0, ytd / tot, 1.0 / D)
    divs = case.divisions
    rev = np.array([d.figures["revenue"]["ytd_actual_mkr"] for d in divs])
    cost = np.array([d.figures["gross_cost"]["ytd_actual_mkr"] for d in divs])
    share = {"revenue": rev / rev.sum(), "cost": cost / cost.sum()}
    return np.array([share[s] for s in side])


def agency_price_path(
    case: Case,
    agency_price: np.ndarray,
    moy: np.ndarray,
    forecast: np.ndarray,
    season_basis: str,
    c: int,
    ys: int,
    n_ytd: int,
    first_forecast: int,
    category_ids: list[str],
) -> np.ndarray:
    """Agency price per hour, month and category (kr): the cut-off's derived price, in the
    summer months (June-August) ``season_agency_summer_pct`` higher (summer rates and
    premiums to staff the holidays, 002), and from ``agency_price_start`` changed by
    ``agency_price_change_pct_<category>`` (the national framework agreement, FACTS.md)
    where the case gives one. Shape (T, C)."""
    path = np.tile(agency_price, (len(moy), 1))
    summer = case.parameters.get("season_agency_summer_pct")
    if summer is not None and season_basis == "flat":
        path[np.isin(moy, SUMMER_MONTHS) & forecast] *= 1.0 + float(summer.value) / 100.0
    start = case.parameters.get("agency_price_start")
    if start is None:
        return path
    idx = case.month_position(str(start.value))  # up to the horizon's end (the loader checks)
    # where the change took effect within the year-to-date, the cut-off's price already
    # holds part of it: (1 + p) / (1 + p x share of the year-to-date months after it)
    in_ytd = float(np.clip(c - max(idx, ys) + 1, 0, n_ytd)) / n_ytd
    for ci, cid in enumerate(category_ids):
        fig = case.parameters.get(f"agency_price_change_pct_{cid}")
        if fig is not None:
            p = float(fig.value) / 100.0
            path[max(idx, first_forecast) :, ci] *= (1.0 + p) / (1.0 + p * in_ytd)
    return path


def base_agency_hours(
    forecast: np.ndarray,
    run_rate: np.ndarray,
    season: np.ndarray,
    actual: np.ndarray,
    i_agency: int,
    cat_weight: np.ndarray,
    agency_price: np.ndarray,
) -> np.ndarray:
    """Agency hours per month and category: the agency account's cost at the cut-off's
    prices (actuals, or the run-rate x season) split by category weight and divided by the
    category's price per hour at the cut-off:
    ``hours[t, k] = -volume[t] x 1000 x weight[k] / price[k]``. Shape (T, C)."""
    volume = np.where(forecast, run_rate[i_agency] * season[:, i_agency], actual[:, i_agency])
    cost = -volume * 1000.0  # kr, positive
    return cost[:, None] * cat_weight[None, :] / agency_price[None, :]
