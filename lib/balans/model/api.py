"""The package's front door: run a scenario and read its result as tables or JSON.

Every face (CLI, Voilà app, workbench, papermill report) calls these functions; none of
them computes a figure of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from balans.inputs.case import Case, load_case
from balans.inputs.scenario import Scenario, load_scenario
from balans.model.engine import STEPS, BatchResult, Engine

_ENGINES: dict[tuple[str, str, tuple[int, int]], Engine] = {}


def get_engine(case: Case | str | Path | None = None) -> Engine:
    """The engine for a case (default: the shipped case), built once per case content."""
    if not isinstance(case, Case):
        case = load_case(case)
    key = (str(case.folder.resolve()), case.data_hash, case.cutoff)
    if key not in _ENGINES:
        _ENGINES[key] = Engine(case)
    return _ENGINES[key]


def run(
    scenario: Scenario, case: Case | str | Path | None = None, source: str | None = None
) -> Result:
    """Evaluate one scenario against a case and return its :class:`Result`."""
    engine = get_engine(case)
    levers = engine.compile([scenario], sources=[source] if source else None)
    return Result(engine.evaluate(levers), 0, scenario)


def run_file(path: str | Path, case: Case | str | Path | None = None) -> Result:
    """Read, validate and run a scenario file."""
    return run(load_scenario(path), case, source=str(path))


def run_many(scenarios: list[Scenario], case: Case | str | Path | None = None) -> list[Result]:
    """Evaluate many scenarios in one array pass; one :class:`Result` each."""
    engine = get_engine(case)
    batch = engine.evaluate(engine.compile(scenarios))
    return [Result(batch, i, s) for i, s in enumerate(scenarios)]


def compare_frame(results: dict[str, Result]) -> pd.DataFrame:
    """Scenarios side by side: one row per scenario and year (mkr), with the largest step."""
    rows = []
    for key, r in results.items():
        bridge = r.bridge_frame()
        for y in r.years_frame().itertuples():
            steps = bridge[bridge.year == y.year].set_index("step").effect_mkr
            rows.append(
                {
                    "scenario": key,
                    "name": r.scenario.name,
                    "year": y.year,
                    "forecast_net_mkr": y.forecast_net_mkr,
                    "budget_net_mkr": y.budget_net_mkr,
                    "deviation_mkr": y.deviation_mkr,
                    "change_vs_baseline_mkr": y.change_vs_baseline_mkr,
                    "largest_step": steps.abs().idxmax() if steps.abs().max() > 0 else "",
                    "scenario_hash": r.scenario.hash,
                }
            )
    return pd.DataFrame(rows)


def json_safe(x: Any) -> Any:
    """JSON has no NaN or infinity: write null (nested dicts and lists too)."""
    if isinstance(x, float) and not np.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, list):
        return [json_safe(v) for v in x]
    return x


def _month_label(ym: tuple[int, int]) -> str:
    return f"{ym[0]}-{ym[1]:02d}"


# --------------------------------------------------------------------------- basis marks

# How a figure stands to the case's documents. A frame column ending in ``basis`` holds one
# of these for the figures beside it; the faces show it as a word with its explanation
# (``locale/<lang>.yaml``, ``basis:``).
BASES = ("document", "derived", "allocated", "forecast")


def figure_basis(
    case: Case, figure: str, *, year: int | None = None, t: int | None = None, side: str = "net"
) -> str:
    """The basis of a figure the frames show: ``document``, ``derived``, ``allocated`` or
    ``forecast``, decided from what the case holds (never from the shipped case's months).

    A case holds per account only year-to-date actuals and budgets, per division only
    year-to-date totals and a first-year budget, and per year the board's budget totals
    (``Case.budget_given``; a year without ``revenue`` holds the previous year's).

    - ``division``: a division's forecast, budget and deviation are *allocated*: the board's
      figure split by the division's share of the year-to-date actuals (the budget: of the
      first year's budget). A single division is the board itself (*document*).
    - ``board_budget`` (``year``, ``side`` revenue | cost | net): *document* where the case
      gives that total for the year, else *derived* (held revenue; cost = net - revenue).
    - ``account_budget`` (``year``, ``side``): an account's full-year budget is *allocated*,
      the side's total split by the account's share of the year-to-date budget; *derived*
      where the side's total is; *document* for an account alone on its side, or when the
      year-to-date is the whole first year.
    - ``month_actual`` / ``month_budget`` (month index ``t``): after the cut-off the actual
      is a *forecast*; a month's budget is phased from a period's total (*derived*) unless
      the year-to-date is one month. Within the year-to-date a month's actual is *derived* (a
      split of the period's totals) unless the period is one month or it is the last actual
      month and the case gives that month's revenue and gross cost (*document*).
    - ``cumulative_actual`` / ``cumulative_budget`` (``t``): the running total is the
      year-to-date (*document*) at the cut-off and, for the budget, the year's net budget
      at December (*document*); between those it sums derived months (*derived*).
    """
    c, months = case.cutoff_index, case.months
    if figure == "division":
        return "allocated" if len(case.divisions) > 1 and not case.divisions_real else "document"
    if figure in ("board_budget", "account_budget"):
        key = {"revenue": "revenue", "cost": "gross_cost", "net": "net_cost"}[side]
        if key not in case.budget_given.get(year, ()):
            return "derived"
        if figure == "board_budget" or side == "net" or case.is_ledger:
            return "document"
        alone = sum(a.side == side for a in case.accounts) == 1
        whole_year = year == case.years[0] and months[c][1] == 12
        return "document" if alone or whole_year else "allocated"
    if t is None:
        raise ValueError(f"figure_basis({figure!r}) needs the month index t")
    if figure == "month_actual":
        return case.month_actual_basis[t]
    if figure == "month_budget":
        return case.month_budget_basis[t]
    # the running total of the year through month t
    jan = t - (months[t][1] - 1)
    if figure == "cumulative_actual":
        if t > c:
            return "forecast"
        own = all(b == "document" for b in case.month_actual_basis[jan : t + 1])
        return "document" if own or t == c else "derived"
    if figure == "cumulative_budget":
        own = all(b == "document" for b in case.month_budget_basis[jan : t + 1])
        return "document" if own or t == c or months[t][1] == 12 else "derived"
    raise ValueError(f"figure_basis: unknown figure {figure!r}")


@dataclass
class Result:
    """One scenario's result: tables (pandas) and a JSON-ready dict. Money in mkr."""

    batch: BatchResult
    index: int
    scenario: Scenario

    @property
    def engine(self) -> Engine:
        return self.batch.engine

    @property
    def case(self) -> Case:
        return self.engine.case

    @cached_property
    def stamp(self) -> dict[str, str]:
        from balans import MODEL_VERSION

        return {
            "model_version": MODEL_VERSION,
            "data_hash": self.case.data_hash,
            "scenario_hash": self.scenario.hash,
            "scenario_name": self.scenario.name,
            "case": self.case.id,
            "cutoff": _month_label(self.case.cutoff),
        }

    # ------------------------------------------------------------ arrays for this scenario

    def _row(self, arr: np.ndarray) -> np.ndarray:
        return arr[self.index]

    @cached_property
    def _by_account(self) -> np.ndarray:  # (T, A) tkr
        # a single row of the batch, without building the whole (S, T, A) array
        e, i = self.engine, self.index
        out = e.baseline.copy()
        for step in STEPS:
            for a, arr in self.batch.effects[step].items():
                out[:, a] += arr[i]
        return out

    @cached_property
    def months(self) -> list[str]:
        return [_month_label(m) for m in self.case.months]

    # ------------------------------------------------------------ tables

    def years_frame(self) -> pd.DataFrame:
        """Full-year forecast against budget per year (mkr)."""
        e, b, i = self.engine, self.batch, self.index
        Ym = e.year_matrix
        acc = self._by_account
        base_net = Ym @ e.baseline.sum(axis=1) / 1000.0
        rows = []
        for yi, y in enumerate(e.years):
            net = b.net_by_year_mkr[i, yi]
            rev = float(Ym[yi] @ acc[:, e.is_rev].sum(axis=1)) / 1000.0
            bud_rev = float(Ym[yi] @ e.budget[:, e.is_rev].sum(axis=1)) / 1000.0
            bud_net = float(Ym[yi] @ e.budget.sum(axis=1)) / 1000.0
            rows.append(
                {
                    "year": y,
                    "budget_net_mkr": bud_net,
                    "forecast_net_mkr": float(net),
                    "deviation_mkr": float(net - bud_net),
                    "baseline_net_mkr": float(base_net[yi]),
                    "change_vs_baseline_mkr": float(net - base_net[yi]),
                    "revenue_mkr": rev,
                    "gross_cost_mkr": float(net) - rev,
                    "budget_revenue_mkr": bud_rev,
                    "budget_gross_cost_mkr": bud_net - bud_rev,
                    "board_forecast_net_mkr": self.case.board_forecast_net_mkr.get(y),
                    "board_forecast_made": self.case.board_forecast_made.get(y),
                    "actual_months": int(((e.year_idx == yi) & ~e.forecast).sum()),
                    "budget_revenue_basis": figure_basis(
                        self.case, "board_budget", year=y, side="revenue"
                    ),
                    "budget_gross_cost_basis": figure_basis(
                        self.case, "board_budget", year=y, side="cost"
                    ),
                }
            )
        return pd.DataFrame(rows)

    def bridge_frame(self, realised: bool = False) -> pd.DataFrame:
        """Baseline -> each step -> scenario, per year (mkr); steps add up to the change.
        ``realised``: each saving at the scenario's realisation (the realisation step zero)."""
        e = self.engine
        br = (self.batch.realised_bridge_mkr if realised else self.batch.bridge_mkr)[self.index]
        return pd.DataFrame(
            [
                {"year": y, "step": s, "effect_mkr": float(br[k, yi])}
                for yi, y in enumerate(e.years)
                for k, s in enumerate(STEPS)
            ]
        )

    def accounts_frame(self) -> pd.DataFrame:
        """Per year and account: budget, baseline, forecast and deviation (mkr).

        ``budget_basis`` says what the full-year budget per account is (:func:`figure_basis`):
        the documents give budgets per account only for the year to date."""
        e = self.engine
        Ym = e.year_matrix
        fc = Ym @ self._by_account / 1000.0
        base = Ym @ e.baseline / 1000.0
        bud = Ym @ e.budget / 1000.0
        rows = []
        for yi, y in enumerate(e.years):
            for a, acc in enumerate(self.case.accounts):
                rows.append(
                    {
                        "year": y,
                        "account": acc.id,
                        "name_sv": acc.name_sv,
                        "name_en": acc.name_en,
                        "side": acc.side,
                        "budget_mkr": float(bud[yi, a]),
                        "baseline_mkr": float(base[yi, a]),
                        "forecast_mkr": float(fc[yi, a]),
                        "deviation_mkr": float(fc[yi, a] - bud[yi, a]),
                        "budget_basis": figure_basis(
                            self.case, "account_budget", year=y, side=acc.side
                        ),
                    }
                )
        return pd.DataFrame(rows)

    def divisions_frame(self) -> pd.DataFrame:
        """Per year and division: revenue, gross cost, net, budget and deviation (mkr).

        Where the ledger has account x division, a division's actual months are its own
        figures and its forecast is each account's forecast times the division's share of
        that account's year-to-date. Where the documents give divisions only as totals, each
        division takes its share of the year-to-date actual revenue and gross cost (and of
        the budget): an allocation, not a per-division model; ``basis`` says which in every
        row (:func:`figure_basis`)."""
        e, case = self.engine, self.case
        Ym = e.year_matrix
        share = e.div_account_share  # (A, D)
        by = self._by_account[:, :, None] * share[None, :, :]  # (T, A, D)
        for _step, d, comp in self._division_moves:
            by -= comp[:, :, None] * share[None, :, :]
            by[:, :, d] += comp
        if case.division_actual_tkr is not None:
            by[: e.c + 1] = case.division_actual_tkr[: e.c + 1]
        bud = e.division_budget()
        rev = np.einsum("yt,td->yd", Ym, by[:, e.is_rev].sum(axis=1)) / 1000.0
        cost = np.einsum("yt,td->yd", Ym, by[:, e.is_cost].sum(axis=1)) / 1000.0
        bnet = np.einsum("yt,td->yd", Ym, bud.sum(axis=1)) / 1000.0
        basis = figure_basis(case, "division")
        rows = []
        for yi, y in enumerate(e.years):
            for d, div in enumerate(case.divisions):
                r, c = rev[yi, d], cost[yi, d]
                rows.append(
                    {
                        "year": y,
                        "division": div.id,
                        "name_sv": div.name_sv,
                        "revenue_mkr": float(r),
                        "gross_cost_mkr": float(c),
                        "net_mkr": float(r + c),
                        "budget_net_mkr": float(bnet[yi, d]),
                        "deviation_mkr": float(r + c - bnet[yi, d]),
                        "basis": basis,
                    }
                )
        return pd.DataFrame(rows)

    @cached_property
    def _division_moves(self) -> list[tuple[str, int, np.ndarray]]:
        """The effects of levers aimed at one division: (step, division, effect (T, A) tkr).

        Every effect is first spread over the divisions by their share of each account; these
        are taken back from that spread and put on their own division. Aimed: the staffing
        reduction, the agency change with its planned replacement (the fill rate's shortfall
        stays the board's), a measure, and realisation's share of each."""
        e, i, b = self.engine, self.index, self.batch
        lv = self.scenario.levers
        r = float(b.levers.realisation_pct[i]) / 100.0
        ex = b.extra
        moves: list[tuple[str, int, np.ndarray]] = []

        def step(name: str) -> np.ndarray:
            m = np.zeros((e.T, e.A))
            for a, arr in b.effects[name].items():
                m[:, a] += arr[i]
            return m

        def on(pairs: list[tuple[int, np.ndarray]]) -> np.ndarray:
            m = np.zeros((e.T, e.A))
            for a, arr in pairs:
                m[:, a] += arr
            return m

        if (s := lv.staffing_reduction) is not None and s.division in e.division_ids:
            d = e.division_ids.index(s.division)
            comp = step("staffing_reduction")
            moves += [("staffing_reduction", d, comp), ("realisation", d, (r - 1.0) * comp)]
        if (a := lv.agency) is not None and a.division in e.division_ids:
            d = e.division_ids.index(a.division)
            red = step("agency_reduction") - on([(e.i_agency, ex["fill_agency"][i])])
            rep = step("agency_replacement") - on(
                [(e.i_pers, ex["fill_pers"][i]), (e.i_purchased, ex["fill_purchased"][i])]
            )
            planned = on(
                [
                    (e.i_agency, ex["planned_agency_reduction"][i]),
                    (e.i_pers, ex["planned_agency_pers"][i]),
                    (e.i_purchased, ex["planned_agency_purchased"][i]),
                ]
            )
            moves += [
                ("agency_reduction", d, red),
                ("agency_replacement", d, rep),
                ("realisation", d, (r - 1.0) * planned),
            ]
        for m in lv.measures or []:
            if m.division not in e.division_ids:
                continue
            d = e.division_ids.index(m.division)
            start = e._month(m.start, float(e.first_forecast), "measures.start", "")
            arr = e.measure_tkr(m.mkr_per_year, start, m.ramp_months)
            comp = on([(e.account_ids.index(m.account or self.case.measure_account()), arr)])
            moves += [("measures", d, comp), ("realisation", d, (r - 1.0) * comp)]
        return moves

    def division_bridge_frame(self) -> pd.DataFrame:
        """The bridge per division and year (mkr): each step's effect on each division, a
        lever aimed at a division on that division alone, every other effect spread by the
        division's share of each account. Per year the divisions add up to the board's step."""
        e = self.engine
        share = e.div_account_share
        rows = []
        per_step = {}
        for name in STEPS:
            m = np.zeros((e.T, e.A))
            for a, arr in self.batch.effects[name].items():
                m[:, a] += arr[self.index]
            per_step[name] = m @ share  # (T, D)
        for name, d, comp in self._division_moves:
            per_step[name] -= comp @ share
            per_step[name][:, d] += comp.sum(axis=1)
        aimed = {(name, d) for name, d, _ in self._division_moves}
        for yi, y in enumerate(e.years):
            for name in STEPS:
                yearly = e.year_matrix[yi] @ per_step[name] / 1000.0
                for d, div in enumerate(self.case.divisions):
                    rows.append(
                        {
                            "year": y,
                            "division": div.id,
                            "name_sv": div.name_sv,
                            "step": name,
                            "effect_mkr": float(yearly[d]),
                            "aimed": (name, d) in aimed,
                        }
                    )
        return pd.DataFrame(rows)

    def monthly_frame(self) -> pd.DataFrame:
        """Per month: actual or forecast, budget and baseline, each month and cumulative (mkr).

        ``actual_basis`` and ``budget_basis`` (and their ``cumulative_`` twins) say whether a
        month's figure is the documents' own or derived from a period's total, or a forecast
        (:func:`figure_basis`)."""
        e = self.engine
        acc = self._by_account
        net = acc.sum(axis=1) / 1000.0
        rev = acc[:, e.is_rev].sum(axis=1) / 1000.0
        bud = e.budget.sum(axis=1) / 1000.0
        base = e.baseline.sum(axis=1) / 1000.0
        df = pd.DataFrame(
            {
                "month": self.months,
                "year": [y for y, _ in self.case.months],
                "is_actual": ~e.forecast,
                "revenue_mkr": rev,
                "gross_cost_mkr": net - rev,
                "net_mkr": net,
                "baseline_net_mkr": base,
                "budget_net_mkr": bud,
            }
        )
        for col in ("net_mkr", "baseline_net_mkr", "budget_net_mkr"):
            df["cumulative_" + col] = df.groupby("year")[col].cumsum()
        df["cumulative_deviation_mkr"] = df["cumulative_net_mkr"] - df["cumulative_budget_net_mkr"]
        for col in ("actual", "budget", "cumulative_actual", "cumulative_budget"):
            kind = col if col.startswith("cumulative") else "month_" + col
            df[col + "_basis"] = [figure_basis(self.case, kind, t=t) for t in range(e.T)]
        return df

    def staffing_frame(self) -> pd.DataFrame:
        """Per month: own FTE, agency hours and FTE, agency share against the targets."""
        e, b, i = self.engine, self.batch, self.index
        acc = self._by_account
        hours = b.agency_hours[i]  # (T, C)
        df = pd.DataFrame(
            {
                "month": self.months,
                "year": [y for y, _ in self.case.months],
                "is_actual": ~e.forecast,
                "own_fte": b.own_fte[i],
                "agency_hours": hours.sum(axis=1),
                "agency_fte": hours.sum(axis=1) / e.hours_per_fte_month,
                "personnel_cost_mkr": acc[:, e.i_pers] / 1000.0,
                "agency_cost_mkr": acc[:, e.i_agency] / 1000.0,
                "agency_share_pct": b.agency_share_pct[i],
                "agency_share_target_pct": self.case.param("agency_share_target_pct"),
            }
        )
        shares = b.category_share_pct[i]
        for c, cat in enumerate(self.case.agency):
            df[f"{cat.id}_agency_hours"] = hours[:, c]
            if cat.agency_share_target_pct is not None:
                df[f"{cat.id}_agency_share_pct"] = shares[:, c]
                df[f"{cat.id}_agency_share_target_pct"] = cat.agency_share_target_pct
        return df

    def access_frame(self) -> pd.DataFrame:
        """Per month: care hours not delivered, by reason."""
        x, i = self.batch.extra, self.index
        df = pd.DataFrame(
            {
                "month": self.months,
                "year": [y for y, _ in self.case.months],
                "agency_not_replaced_hours": x["agency_not_replaced_hours"][i],
                "agency_fill_shortfall_hours": x["agency_fill_shortfall_hours"][i],
                "rest_rule_uncovered_hours": x["rest_uncovered_hours"][i],
            }
        )
        df["not_delivered_hours"] = df.iloc[:, 2:].sum(axis=1)
        return df

    # ------------------------------------------------------------ JSON

    def to_dict(self) -> dict[str, Any]:
        """The full result as plain JSON-ready data."""

        def records(df: pd.DataFrame) -> list[dict[str, Any]]:
            return [
                {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
                for row in df.to_dict(orient="records")
            ]

        return {
            "scenario": {
                "name": self.scenario.name,
                "hash": self.scenario.hash,
                "description": self.scenario.description,
            },
            "stamp": self.stamp,
            "years": records(self.years_frame()),
            "bridge": records(self.bridge_frame()),
            "accounts": records(self.accounts_frame()),
            "divisions": records(self.divisions_frame()),
            "monthly": records(self.monthly_frame()),
            "staffing": records(self.staffing_frame()),
            "access": records(self.access_frame()),
        }
