"""What it takes to reach balance: uncertainty, sensitivity and goal seek.

Each analysis evaluates many variants of one scenario as one batch of the engine
(:meth:`~balans.model.engine.Engine.evaluate`): the variants are rows of a
:class:`~balans.model.engine.LeverArrays` built with numpy, never a Python loop over draws.

- **Uncertainty** (:func:`monte_carlo`): the inputs that ``parameters.csv`` marks with a
  ``distribution`` (``triangular``: low / value / high; ``uniform``: low to high) are drawn
  with a seeded numpy Generator, one stream per parameter, so the same seed and data give
  the same draws bit for bit. A draw moves the scenario's own value by the draw's distance
  from the case value, ``lever = clip(scenario + (draw - case value), lever bounds)``, so a
  scenario that moves a lever keeps the uncertainty around its own value. Realisation is
  the exception: it is drawn as ``triangular(low, scenario's realisation, high)`` with
  ``realisation_history_pct``'s low and high, because history says how far plans fall short.
- **Sensitivity** (:func:`tornado`): the full-year deviation with each uncertain input at
  the low and at the high end of its range (the others at the scenario's values).
- **Goal seek** (:func:`goal_seek`): the value of a lever (or of several, moved in
  proportion) that brings the deviation of a year to a target, within the lever's bounds;
  if the bounds do not allow it, the closest the bounds allow and what is left.

Method settings that are not case figures (draws, seed, quantiles, the goal-seek tolerance
and grid) are the named constants below.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from balans.errors import BalansError, DataError
from balans.inputs.case import Case
from balans.inputs.scenario import Scenario
from balans.inputs.scenario import parse_scenario as _parse_scenario
from balans.model.api import get_engine
from balans.model.engine import BatchResult, Engine, LeverArrays
from balans.model.levers import ASSUMPTIONS, Lever, goal_seek_levers, uncertain_levers
from balans.presentation.fmt import label

# Method settings (not case figures; the issue sets the quantiles and the tolerance).
DEFAULT_DRAWS = 10_000
DEFAULT_SEED = 20230430  # the shipped case's cut-off date; any fixed integer will do
QUANTILES_PCT = (10.0, 50.0, 90.0)
GOAL_TOLERANCE_MKR = 0.05  # |deviation - target| at the answer
GOAL_GRID_POINTS = 33  # points per grid; each refinement narrows the bracket 32 times
GOAL_MAX_REFINEMENTS = 12
# Deviations this close (one krona) count as equal when the target is out of reach.
PLATEAU_MKR = 1e-6

CaseLike = Case | str | Path | None


class AnalysisError(BalansError):
    """An analysis was asked for something it cannot do (unknown lever, year outside the horizon)."""


# --------------------------------------------------------------------------- lever bounds


def _repeat(levers: LeverArrays, n: int) -> LeverArrays:
    """n copies of the first row of ``levers``. The measures' plan (T x A a row, which no
    analysis changes in place) is a read-only broadcast view, not n copies."""
    out: dict[str, Any] = {}
    for f in fields(levers):
        v = getattr(levers, f.name)
        if v is None:
            out[f.name] = None
        elif f.name == "measures_tkr":
            out[f.name] = np.broadcast_to(v[:1], (n, *v.shape[1:]))
        else:
            out[f.name] = np.repeat(v[:1], n, axis=0)
    return LeverArrays(**out)


def _resolve(scenario: Scenario | None, case: CaseLike) -> tuple[Engine, Scenario, LeverArrays]:
    engine = get_engine(case)
    if scenario is None:
        scenario = Scenario(name=label("lines.baseline", "sv"))
    return engine, scenario, engine.compile([scenario])


def _year_index(engine: Engine, year: int | None) -> int:
    if year is None:
        return engine.Y - 1
    if year not in engine.years:
        raise AnalysisError(
            f"year {year} is not a year of the horizon; allowed: {', '.join(map(str, engine.years))}"
        )
    return engine.years.index(year)


# --------------------------------------------------------------------------- uncertain inputs


@dataclass(frozen=True)
class Uncertainty:
    """One uncertain input: a ``parameters.csv`` row with a distribution, and the lever it moves.

    ``mode`` is the case's value; ``bounds`` the lever's allowed range (draws are clipped to
    it). ``around_scenario``: drawn with the scenario's own value as the mode (realisation)
    instead of shifted from the case value."""

    key: str
    field: str  # LeverArrays field
    column: int | None  # column of a (S, Y) field (the pay revision's year), else None
    distribution: str  # triangular | uniform
    low: float
    mode: float
    high: float
    bounds: tuple[float, float]
    around_scenario: bool
    unit: str
    kind: str
    label_sv: str
    label_en: str
    source: str
    note: str

    def label(self, lang: str = "sv") -> str:
        return self.label_sv if lang == "sv" else self.label_en

    def scenario_value(self, levers: LeverArrays) -> np.ndarray:
        """The lever's value in each row of ``levers``, (S,)."""
        arr = getattr(levers, self.field)
        return arr[:, self.column] if self.column is not None else arr

    def put(self, levers: LeverArrays, values: np.ndarray) -> None:
        """Set the lever in every row of ``levers`` (in place)."""
        arr = getattr(levers, self.field)
        if self.column is not None:
            arr[:, self.column] = values
        else:
            arr[:] = values


def _parameter_levers(engine: Engine) -> dict[str, tuple[str, int | None, tuple | None, bool]]:
    """parameters.csv key -> (LeverArrays field, column, lever bounds or None = the
    parameter's own low/high, drawn around the scenario's value), from the lever registry
    (:data:`balans.model.levers.LEVERS`, the levers with an ``uncertainty``) and its assumptions."""
    out: dict[str, tuple[str, int | None, tuple | None, bool]] = {}
    for lv in uncertain_levers():
        if lv.per_year:
            for yi, y in enumerate(engine.years):
                out[lv.uncertainty.format(year=y)] = (lv.array, yi, lv.bounds, lv.around_scenario)
        else:
            out[lv.uncertainty] = (lv.array, None, lv.bounds, lv.around_scenario)
    for key, fld in ASSUMPTIONS.items():
        out[key] = (fld, None, None, False)
    return out


def uncertainties(case: CaseLike = None) -> tuple[Uncertainty, ...]:
    """The case's uncertain inputs: every ``parameters.csv`` row with a ``distribution``,
    in the file's order. A pay revision of a year outside the horizon is left out.

    Raises :class:`DataError` for a row without low and high, or one that moves no lever."""
    engine = get_engine(case)
    levers = _parameter_levers(engine)
    path = str(engine.case.folder / "parameters.csv")
    out = []
    for key, fig in engine.case.parameters.items():
        if not fig.distribution:
            continue
        if key.startswith("pay_revision_pct_") and key not in levers:
            continue  # a year the horizon does not reach
        if key not in levers:
            raise DataError(
                path,
                f"the parameter '{key}' has a distribution but no lever the analysis can move",
                column="distribution",
                value=fig.distribution,
                allowed=f"a distribution only on {', '.join(sorted(levers))}",
            )
        if fig.low is None or fig.high is None:
            raise DataError(
                path,
                f"the parameter '{key}' has a distribution but no plausible range",
                column="low",
                allowed="low and high for every row with a distribution",
            )
        fld, col, bounds, around = levers[key]
        out.append(
            Uncertainty(
                key=key,
                field=fld,
                column=col,
                distribution=fig.distribution,
                low=float(fig.low),
                mode=float(fig.value),
                high=float(fig.high),
                bounds=bounds if bounds is not None else (float(fig.low), float(fig.high)),
                around_scenario=around,
                unit=fig.unit,
                kind=fig.kind,
                label_sv=fig.label_sv,
                label_en=fig.label_en,
                source=fig.source,
                note=fig.note,
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------- draws


def uniform_draws(key: str, n: int, seed: int) -> np.ndarray:
    """n uniform numbers in [0, 1) from the parameter's own stream: ``Generator(PCG64([seed,
    crc32(key)]))``, so adding or removing another uncertain input leaves these draws alone."""
    return np.random.default_rng([seed, zlib.crc32(key.encode())]).random(n)


def triangular_quantile(
    q: np.ndarray, low: np.ndarray | float, mode: np.ndarray | float, high: np.ndarray | float
) -> np.ndarray:
    """Inverse distribution function of triangular(low, mode, high):
    ``low + sqrt(q (high - low)(mode - low))`` for ``q < (mode - low)/(high - low)``,
    else ``high - sqrt((1 - q)(high - low)(high - mode))``."""
    span = np.asarray(high, dtype=float) - low
    with np.errstate(divide="ignore", invalid="ignore"):
        cut = np.where(span > 0, (np.asarray(mode, dtype=float) - low) / span, 1.0)
    left = low + np.sqrt(np.maximum(q * span * (np.asarray(mode) - low), 0.0))
    right = high - np.sqrt(np.maximum((1.0 - q) * span * (high - np.asarray(mode)), 0.0))
    return np.where(q < cut, left, right)


def uniform_quantile(q: np.ndarray, low: float, high: float) -> np.ndarray:
    """Inverse distribution function of uniform(low, high): ``low + q (high - low)``."""
    return low + q * (high - low)


def draw_input(u: Uncertainty, q: np.ndarray, scenario_value: float) -> np.ndarray:
    """The input's values for uniform numbers ``q``, in the parameter's unit (before the
    shift onto the scenario). For ``around_scenario`` inputs the mode is the scenario's
    value and the range widens to include it."""
    if u.distribution == "uniform":
        return uniform_quantile(q, u.low, u.high)
    if u.around_scenario:
        low, high = min(u.low, scenario_value), max(u.high, scenario_value)
        return triangular_quantile(q, low, scenario_value, high)
    return triangular_quantile(q, u.low, u.mode, u.high)


def lever_value(u: Uncertainty, scenario_value: float, drawn: np.ndarray) -> np.ndarray:
    """The lever's value for drawn inputs: ``clip(scenario + (drawn - case value), bounds)``;
    ``clip(drawn, bounds)`` for inputs drawn around the scenario's own value."""
    moved = drawn if u.around_scenario else scenario_value + (drawn - u.mode)
    return np.clip(moved, *u.bounds)


# --------------------------------------------------------------------------- Monte Carlo


def _cumulative_in_year(x: np.ndarray, year_idx: np.ndarray) -> np.ndarray:
    """Cumulative sum over the months of each year, restarting in January. (S, T)."""
    cs = np.cumsum(x, axis=1)
    starts = np.r_[0, np.flatnonzero(np.diff(year_idx)) + 1]  # first month of each year
    offset = np.zeros_like(cs)
    for s in starts[1:]:
        offset[:, s:] = cs[:, s - 1 : s]
    return cs - offset


def _budget_net_tkr(engine: Engine) -> np.ndarray:
    return engine.budget.sum(axis=1)  # (T,)


# metric -> (unit, function of (engine, batch) -> (S, T))
FAN_METRICS: dict[str, tuple[str, Callable[[Engine, BatchResult], np.ndarray]]] = {
    "cumulative_deviation_mkr": (
        "mkr",
        lambda e, b: _cumulative_in_year(
            (b.net - _budget_net_tkr(e)[None, :]) / 1000.0, e.year_idx
        ),
    ),
    "net_mkr": ("mkr", lambda e, b: b.net / 1000.0),
    "agency_share_pct": ("pct", lambda e, b: b.agency_share_pct),
    "own_fte": ("fte", lambda e, b: b.own_fte),
    "hours_not_delivered": ("hours", lambda e, b: b.hours_not_delivered),
}


@dataclass
class MonteCarloResult:
    """Draws of one scenario under uncertainty. Money in mkr."""

    engine: Engine
    scenario: Scenario
    seed: int
    uncertainties: tuple[Uncertainty, ...]
    inputs: dict[str, np.ndarray]  # parameter key -> drawn input, (n,)
    lever_values: dict[str, np.ndarray]  # parameter key -> lever value used, (n,)
    batch: BatchResult
    deterministic: BatchResult
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n_draws(self) -> int:
        return self.batch.n

    @property
    def deviation_by_year_mkr(self) -> np.ndarray:
        """Full-year deviation of every draw, (n, Y) mkr."""
        return self.batch.deviation_by_year_mkr

    def probability_of_balance_pct(self, year: int | None = None) -> float:
        """Share of draws with the year's deviation at or above zero: ``100 * mean(dev >= 0)``."""
        yi = _year_index(self.engine, year)
        return float(100.0 * np.mean(self.deviation_by_year_mkr[:, yi] >= 0.0))

    def summary_frame(self) -> pd.DataFrame:
        """Per year: the deviation's P10, P50, P90 and mean, the deterministic result and the
        probability of balance (deviation >= 0), in mkr and per cent."""
        dev = self.deviation_by_year_mkr
        q = np.percentile(dev, QUANTILES_PCT, axis=0)
        det = self.deterministic.deviation_by_year_mkr[0]
        return pd.DataFrame(
            {
                "year": list(self.engine.years),
                "deviation_p10_mkr": q[0],
                "deviation_p50_mkr": q[1],
                "deviation_p90_mkr": q[2],
                "deviation_mean_mkr": dev.mean(axis=0),
                "deviation_deterministic_mkr": det,
                "balance_probability_pct": 100.0 * (dev >= 0.0).mean(axis=0),
                "n_draws": self.n_draws,
            }
        )

    def fan_frame(self, metric: str = "cumulative_deviation_mkr") -> pd.DataFrame:
        """Per month: P10, P50 and P90 of ``metric`` over the draws and the deterministic
        value. Metrics: see :data:`FAN_METRICS`."""
        if metric not in FAN_METRICS:
            raise AnalysisError(
                f"fan chart metric '{metric}' is unknown; allowed: {', '.join(FAN_METRICS)}"
            )
        if metric not in self._cache:
            unit, fn = FAN_METRICS[metric]
            e = self.engine
            q = np.percentile(fn(e, self.batch), QUANTILES_PCT, axis=0)
            det = fn(e, self.deterministic)[0]
            df = pd.DataFrame(
                {
                    "month": [f"{y}-{m:02d}" for y, m in e.case.months],
                    "year": [y for y, _ in e.case.months],
                    "is_actual": ~e.forecast,
                    "p10": q[0],
                    "p50": q[1],
                    "p90": q[2],
                    "deterministic": det,
                }
            )
            df.attrs.update(metric=metric, unit=unit, n_draws=self.n_draws, seed=self.seed)
            self._cache[metric] = df
        return self._cache[metric].copy()

    def draws_frame(self) -> pd.DataFrame:
        """One row per draw: each input as drawn and the lever value used, and the deviation
        per year (mkr)."""
        cols: dict[str, np.ndarray] = {}
        for u in self.uncertainties:
            cols[f"{u.key}"] = self.inputs[u.key]
            cols[f"{u.key}__lever"] = self.lever_values[u.key]
        for yi, y in enumerate(self.engine.years):
            cols[f"deviation_{y}_mkr"] = self.deviation_by_year_mkr[:, yi]
        return pd.DataFrame(cols)

    def inputs_frame(self) -> pd.DataFrame:
        """The uncertain inputs: range, distribution and source (for a methods note)."""
        return pd.DataFrame(
            [
                {
                    "key": u.key,
                    "label_sv": u.label_sv,
                    "label_en": u.label_en,
                    "distribution": u.distribution,
                    "low": u.low,
                    "mode": u.mode,
                    "high": u.high,
                    "unit": u.unit,
                    "kind": u.kind,
                    "source": u.source,
                }
                for u in self.uncertainties
            ]
        )


def monte_carlo(
    scenario: Scenario | None = None,
    case: CaseLike = None,
    *,
    n_draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    inputs: Sequence[Uncertainty] | None = None,
) -> MonteCarloResult:
    """Draw the uncertain inputs ``n_draws`` times and evaluate the scenario for every draw
    in one batch. ``inputs`` defaults to :func:`uncertainties` of the case (pass a subset or
    changed ranges to study one input)."""
    if n_draws < 1:
        raise AnalysisError(f"n_draws must be at least 1 (got {n_draws})")
    engine, scenario, one = _resolve(scenario, case)
    inputs = tuple(uncertainties(engine.case) if inputs is None else inputs)
    levers = _repeat(one, n_draws)
    drawn: dict[str, np.ndarray] = {}
    used: dict[str, np.ndarray] = {}
    for u in inputs:  # a loop over the few inputs; each draws all n at once
        base = float(u.scenario_value(one)[0])
        drawn[u.key] = draw_input(u, uniform_draws(u.key, n_draws, seed), base)
        used[u.key] = lever_value(u, base, drawn[u.key])
        u.put(levers, used[u.key])
    return MonteCarloResult(
        engine=engine,
        scenario=scenario,
        seed=seed,
        uncertainties=inputs,
        inputs=drawn,
        lever_values=used,
        batch=engine.evaluate(levers),
        deterministic=engine.evaluate(one),
    )


# --------------------------------------------------------------------------- tornado


def tornado(
    scenario: Scenario | None = None,
    case: CaseLike = None,
    *,
    year: int | None = None,
    inputs: Sequence[Uncertainty] | None = None,
) -> pd.DataFrame:
    """The full-year deviation of ``year`` (default: the horizon's last) with each uncertain
    input at the low and the high end of its range, the others at the scenario's values,
    sorted by swing ``|deviation_high - deviation_low|``, largest first. One batch of
    ``1 + 2 x inputs`` rows."""
    engine, scenario, one = _resolve(scenario, case)
    yi = _year_index(engine, year)
    inputs = tuple(uncertainties(engine.case) if inputs is None else inputs)
    k = len(inputs)
    levers = _repeat(one, 1 + 2 * k)
    rows = []
    for j, u in enumerate(inputs):
        base = float(u.scenario_value(one)[0])
        values = np.full(1 + 2 * k, base)
        ends = lever_value(u, base, np.array([u.low, u.high]))
        values[1 + 2 * j : 3 + 2 * j] = ends
        u.put(levers, values)
        rows.append((u, base, ends))
    dev = engine.evaluate(levers).deviation_by_year_mkr[:, yi]
    out = pd.DataFrame(
        [
            {
                "key": u.key,
                "label_sv": u.label_sv,
                "label_en": u.label_en,
                "unit": u.unit,
                "kind": u.kind,
                "distribution": u.distribution,
                "source": u.source,
                "low": u.low,
                "high": u.high,
                "scenario_value": base,
                "value_at_low": float(ends[0]),
                "value_at_high": float(ends[1]),
                "year": engine.years[yi],
                "deviation_base_mkr": float(dev[0]),
                "deviation_low_mkr": float(dev[1 + 2 * j]),
                "deviation_high_mkr": float(dev[2 + 2 * j]),
                "swing_mkr": float(abs(dev[2 + 2 * j] - dev[1 + 2 * j])),
            }
            for j, (u, base, ends) in enumerate(rows)
        ]
    )
    if out.empty:
        return out
    return out.sort_values("swing_mkr", ascending=False, kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- goal seek


def _set_in(data: dict[str, Any], path: Sequence[str], value: Any) -> None:
    node = data
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


@dataclass(frozen=True)
class GoalContext:
    """What setting a lever in a batch needs beyond the lever: the agency categories the
    scenario leaves to ``change_pct``, and the measures' plan per mkr a year in total."""

    free_categories: np.ndarray  # (C,) bool
    measures_tkr_per_mkr: np.ndarray | None  # (T, A)


@dataclass(frozen=True)
class GoalLever:
    """A lever goal seek can move: its scenario path, unit, bounds and how to set it, both
    in the arrays of a batch (:meth:`put`) and in a scenario (:meth:`write`)."""

    lever: Lever  # the registry's description: path, unit, range, LeverArrays field

    @property
    def path(self) -> str:
        return self.lever.path

    @property
    def unit(self) -> str:
        return self.lever.unit

    @property
    def field(self) -> str:
        return self.lever.array

    def bounds(self, scenario: Scenario) -> tuple[float, float]:
        return self.lever.bounds

    def current(self, scenario: Scenario, levers: LeverArrays) -> float:
        return float(getattr(levers, self.field)[0])

    def put(self, levers: LeverArrays, values: np.ndarray, ctx: GoalContext) -> LeverArrays:
        getattr(levers, self.field)[:] = values
        return levers

    def write(self, data: dict[str, Any], value: float, scenario: Scenario) -> None:
        _set_in(data, ["levers", *self.path.split(".")], value)


@dataclass(frozen=True)
class _AgencyChange(GoalLever):
    """``agency.change_pct``: every category the scenario does not set one by one."""

    def current(self, scenario: Scenario, levers: LeverArrays) -> float:
        agency = scenario.levers.agency
        return float(agency.change_pct) if agency and agency.change_pct is not None else 0.0

    def put(self, levers: LeverArrays, values: np.ndarray, ctx: GoalContext) -> LeverArrays:
        levers.agency_change_pct[:, ctx.free_categories] = values[:, None]
        return levers


@dataclass(frozen=True)
class _Measures(GoalLever):
    """``measures.mkr_per_year``: every measure scaled in proportion; the value is their
    total in mkr a year. A scenario without measures gets one (default start and account)."""

    def bounds(self, scenario: Scenario) -> tuple[float, float]:
        lo, hi = self.lever.bounds
        ms = scenario.levers.measures or []
        total = sum(m.mkr_per_year for m in ms)
        if total > 0:
            return lo, hi * total / max(m.mkr_per_year for m in ms)
        return lo, hi

    def current(self, scenario: Scenario, levers: LeverArrays) -> float:
        return float(sum(m.mkr_per_year for m in scenario.levers.measures or []))

    def put(self, levers: LeverArrays, values: np.ndarray, ctx: GoalContext) -> LeverArrays:
        plan = ctx.measures_tkr_per_mkr[None, :, :] * values[:, None, None]
        return replace(levers, measures_tkr=plan)

    def write(self, data: dict[str, Any], value: float, scenario: Scenario) -> None:
        ms = scenario.levers.measures or []
        total = sum(m.mkr_per_year for m in ms)
        hi = self.lever.bounds[1]
        if total > 0:
            data["levers"]["measures"] = [
                m.model_dump(mode="json", exclude_none=True)
                | {"mkr_per_year": min(m.mkr_per_year * value / total, hi)}
                for m in ms
            ]
        else:
            data["levers"]["measures"] = [
                {"name": label("narrative.goal_seek.new_measure", "sv"), "mkr_per_year": value}
            ]


# The levers goal seek may move: decisions a board can take. The fill rate (hours ordered and
# not delivered) is not one: it is what the agencies fail to deliver, never a route to balance.
_GOAL_KINDS: dict[str, type[GoalLever]] = {
    "agency.change_pct": _AgencyChange,
    "measures.mkr_per_year": _Measures,
}
GOAL_LEVERS: dict[str, GoalLever] = {
    lv.path: _GOAL_KINDS.get(lv.path, GoalLever)(lv) for lv in goal_seek_levers()
}


def goal_lever(path: str) -> GoalLever:
    """The :class:`GoalLever` for a path; :class:`AnalysisError` naming the allowed paths."""
    if path not in GOAL_LEVERS:
        raise AnalysisError(
            f"goal seek: '{path}' is not a lever goal seek can move; allowed: {', '.join(GOAL_LEVERS)}"
        )
    return GOAL_LEVERS[path]


def scenario_with(
    scenario: Scenario,
    values: dict[str, float],
    name: str | None = None,
    description: str | None = None,
) -> Scenario:
    """The scenario with each lever path set to its value (validated as a scenario file is)."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    data.setdefault("levers", {})
    for path, value in values.items():
        lever = goal_lever(path)
        lo, hi = lever.bounds(scenario)
        lever.write(data, float(np.clip(value, lo, hi)), scenario)
    if name is not None:
        data["name"] = name[:120]
    if description is not None:
        data["description"] = description[:4000]
    return _parse_scenario(data, f"scenario '{scenario.name}'")


@dataclass
class GoalSeekResult:
    """The answer to "which value brings the deviation of ``year`` to ``target_mkr``?".

    ``value`` is the lever's value (one lever) or the share of the way, in per cent, that
    every lever has moved from its current value towards the bound that helps (several
    levers); None when the bounds do not allow the target. ``best_values`` and
    ``deviation_mkr`` are then the closest the bounds allow and ``remaining_mkr`` what is
    left (target minus that deviation)."""

    levers: tuple[str, ...]
    year: int
    target_mkr: float
    reachable: bool
    value: float | None
    best_value: float  # the value (or share of the way, in per cent) at the answer or closest
    best_values: dict[str, float]
    deviation_mkr: float
    remaining_mkr: float
    start_values: dict[str, float]
    start_deviation_mkr: float  # with every lever at its current value
    bounds: dict[str, tuple[float, float]]
    units: dict[str, str]
    scenario: Scenario
    evaluations: int
    proportional: bool = False

    @property
    def lever(self) -> str:
        return "+".join(self.levers)

    @property
    def values(self) -> dict[str, float] | None:
        return self.best_values if self.reachable else None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``balans goal-seek --json``)."""
        return {
            "lever": self.lever,
            "levers": list(self.levers),
            "year": self.year,
            "target_mkr": self.target_mkr,
            "reachable": self.reachable,
            "value": self.value,
            "values": self.values,
            "best_value": self.best_value,
            "deviation_mkr": self.deviation_mkr,
            "best_values": self.best_values,
            "remaining_mkr": self.remaining_mkr,
            "start_values": self.start_values,
            "start_deviation_mkr": self.start_deviation_mkr,
            "bounds": {k: list(v) for k, v in self.bounds.items()},
            "units": self.units,
            "proportional": self.proportional,
            "evaluations": self.evaluations,
            "tolerance_mkr": GOAL_TOLERANCE_MKR,
            "scenario": self.scenario.model_dump(mode="json", exclude_none=True),
        }


def _bracket_nearest(x: np.ndarray, gap: np.ndarray, x0: float) -> int | None:
    """Index i of the grid interval [x_i, x_i+1] where ``gap`` changes sign, nearest x0."""
    cross = np.flatnonzero(np.sign(gap[:-1]) * np.sign(gap[1:]) < 0)
    if cross.size == 0:
        return None
    mid = (x[cross] + x[cross + 1]) / 2.0
    return int(cross[np.argmin(np.abs(mid - x0))])


def solve_on_grid(
    gap_mkr: Callable[[np.ndarray], np.ndarray],
    lo: float,
    hi: float,
    x0: float,
    tolerance_mkr: float = GOAL_TOLERANCE_MKR,
) -> tuple[float, float, bool, int]:
    """Find x in [lo, hi] with ``|gap_mkr(x)| < tolerance``: a grid over the bounds as one
    batch, the sign change nearest ``x0``, then finer grids (with the secant point) inside
    the bracket. Returns ``(x, gap, reached, evaluations)``; when no sign change exists,
    the grid point nearest x0 among those whose ``|gap|`` ties with the smallest (where the
    deviation stops improving, e.g. when attrition caps a reduction)."""
    x = np.linspace(lo, hi, GOAL_GRID_POINTS)
    g = gap_mkr(x)
    evals = x.size
    hits = np.flatnonzero(np.abs(g) < tolerance_mkr)
    if hits.size:
        i = int(hits[np.argmin(np.abs(x[hits] - x0))])
        return float(x[i]), float(g[i]), True, evals
    i = _bracket_nearest(x, g, x0)
    if i is None:  # out of reach: the least move from x0 that gets closest (plateaus tie)
        near = np.flatnonzero(np.abs(g) <= np.abs(g).min() + PLATEAU_MKR)
        best = int(near[np.argmin(np.abs(x[near] - x0))])
        return float(x[best]), float(g[best]), False, evals
    a, b, ga, gb = x[i], x[i + 1], g[i], g[i + 1]
    best_x, best_g = (a, ga) if abs(ga) < abs(gb) else (b, gb)
    for _ in range(GOAL_MAX_REFINEMENTS):
        secant = a - ga * (b - a) / (gb - ga)
        inner = np.linspace(a, b, GOAL_GRID_POINTS)[1:-1]
        xs = np.sort(np.r_[inner, secant])
        gs = gap_mkr(xs)
        evals += xs.size
        j = int(np.argmin(np.abs(gs)))
        if abs(gs[j]) < abs(best_g):
            best_x, best_g = xs[j], gs[j]
        if abs(best_g) < tolerance_mkr:
            return float(best_x), float(best_g), True, evals
        X, G = np.r_[a, xs, b], np.r_[ga, gs, gb]
        k = _bracket_nearest(X, G, x0)
        if k is None:  # pragma: no cover - the ends keep their signs
            break
        a, b, ga, gb = X[k], X[k + 1], G[k], G[k + 1]
    return float(best_x), float(best_g), abs(best_g) < tolerance_mkr, evals


def goal_seek(
    scenario: Scenario,
    lever: str | Sequence[str],
    year: int,
    target_mkr: float = 0.0,
    case: CaseLike = None,
    *,
    tolerance_mkr: float = GOAL_TOLERANCE_MKR,
) -> GoalSeekResult:
    """Which value of ``lever`` brings the deviation in ``year`` to ``target_mkr`` (default 0,
    balance)? Several levers (a list) move in proportion: each the same share of the way
    from its current value to the bound that moves the deviation towards the target.
    Each lever stays within its bounds in the scenario format. The answer is also a
    scenario (``result.scenario``) that ``balans run`` reproduces."""
    if not isinstance(target_mkr, (int, float)) or not math.isfinite(target_mkr):
        raise AnalysisError(
            f"goal seek: the target {target_mkr!r} is not a finite number of mkr "
            "(e.g. 0 for balance, -100 for 100 mkr worse than budget)"
        )
    paths = (lever,) if isinstance(lever, str) else tuple(lever)
    if not paths:
        raise AnalysisError("goal seek: name at least one lever")
    if len(set(paths)) != len(paths):
        raise AnalysisError(f"goal seek: a lever is named twice ({', '.join(paths)})")
    goal = [goal_lever(p) for p in paths]
    engine = get_engine(case)
    yi = _year_index(engine, year)
    # the scenario with every lever written at its current value (e.g. a rest-rule field
    # puts the rule in force), so the grid and the answer scenario compile alike
    plain = engine.compile([scenario])
    start = {g.path: g.current(scenario, plain) for g in goal}
    base_sc = scenario_with(scenario, start)
    one = engine.compile([base_sc])
    bounds = {g.path: g.bounds(scenario) for g in goal}

    agency = scenario.levers.agency
    fixed = set(agency.categories or {}) if agency else set()
    per_mkr = None
    if "measures.mkr_per_year" in paths:
        total = start["measures.mkr_per_year"]
        if total > 0:
            per_mkr = one.measures_tkr[0] / total
        else:
            unit = scenario_with(scenario, {"measures.mkr_per_year": 1.0})
            per_mkr = engine.compile([unit]).measures_tkr[0]
    ctx = GoalContext(
        free_categories=np.array([c not in fixed for c in engine.category_ids], dtype=bool),
        measures_tkr_per_mkr=per_mkr,
    )

    def batch_at(values: dict[str, np.ndarray]) -> LeverArrays:
        n = len(next(iter(values.values())))
        L = _repeat(one, n)
        for g in goal:
            L = g.put(L, np.clip(values[g.path], *bounds[g.path]), ctx)
        return L

    def deviation(values: dict[str, np.ndarray]) -> np.ndarray:
        return engine.evaluate(batch_at(values)).deviation_by_year_mkr[:, yi]

    start_dev = float(deviation({p: np.array([v]) for p, v in start.items()})[0])
    evals = 1
    if len(goal) == 1:
        p = paths[0]
        lo, hi = bounds[p]
        x, gap, reached, n = solve_on_grid(
            lambda x: deviation({p: x}) - target_mkr, lo, hi, start[p], tolerance_mkr
        )
        evals += n
        best = {p: x}
        value = x
    else:
        # each lever alone at its low and high bound (one batch of 2 x levers rows); each
        # then moves towards the bound that moves the deviation towards the target
        k = len(goal)
        vals = {q: np.full(2 * k, start[q]) for q in paths}
        for j, q in enumerate(paths):
            vals[q][2 * j : 2 * j + 2] = bounds[q]
        d = deviation(vals).reshape(k, 2)
        evals += 2 * k
        need = target_mkr - start_dev
        ends = {
            q: start[q] if d[j, 0] == d[j, 1] else bounds[q][int((d[j, 1] > d[j, 0]) == (need > 0))]
            for j, q in enumerate(paths)
        }

        def at(t: np.ndarray) -> dict[str, np.ndarray]:
            return {q: start[q] + t * (ends[q] - start[q]) for q in paths}

        x, gap, reached, n = solve_on_grid(
            lambda t: deviation(at(t)) - target_mkr, 0.0, 1.0, 0.0, tolerance_mkr
        )
        evals += n
        best = {q: float(v[0]) for q, v in at(np.array([x])).items()}
        value = 100.0 * x
    dev = target_mkr + gap
    name = label("narrative.goal_seek.scenario_name", "sv").format(name=scenario.name, year=year)
    answer = GoalSeekResult(
        levers=paths,
        year=year,
        target_mkr=float(target_mkr),
        reachable=bool(reached),
        value=float(value) if reached else None,
        best_value=float(value),
        best_values={k: float(v) for k, v in best.items()},
        deviation_mkr=float(dev),
        remaining_mkr=0.0 if reached else float(target_mkr - dev),
        start_values=start,
        start_deviation_mkr=start_dev,
        bounds={k: (float(a), float(b)) for k, (a, b) in bounds.items()},
        units={g.path: g.unit for g in goal},
        scenario=scenario_with(scenario, best, name=name),
        evaluations=evals,
        proportional=len(goal) > 1,
    )
    # The answer's description says what the goal seek set, then what the scenario was
    # before: the old description alone would contradict the new settings ("inköp sparar
    # 30 mkr" under a measure of 500 mkr).
    from balans.presentation.narrative import goal_seek_text

    before = label("narrative.goal_seek.description_before", "sv").format(
        name=scenario.name, description=scenario.description or "–"
    )
    answer.scenario = scenario_with(
        scenario, best, name=name, description=f"{goal_seek_text(answer, 'sv')} {before}"
    )
    return answer
