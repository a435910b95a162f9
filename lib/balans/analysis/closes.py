"""The monthly close: forecast vintages, the forecast curve, accuracy, and what changed.

A *close* is the case with actuals through a cut-off month (``load_case(folder, cutoff=…)``).
Closing a month records a *vintage*: the full-year forecast made at that close for every
year of its horizon, with the model version and the data hash it was made with, beside the
budget and the board's own forecast made then (``vintages.csv`` in the case folder). A
vintage is kept as it was made, so a later model or data change shows against it.

- :func:`record_close` computes and keeps the vintage of a close (``balans close``).
- :func:`vintages_frame` lists every close and year: the kept vintage (or, for a close never
  recorded, the forecast computed now, marked so), the budget, the board's forecast, the
  outcome once the year is closed, and the accuracy (``balans vintages``).
- :func:`close_bridge` explains the move of a year's forecast between two closes in steps
  that add up exactly: the months that turned from forecast to actual (per account), the
  re-estimate of the months still ahead on the new actuals, the levers and assumptions the
  board changed, and the model or data version.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from balans.atomic import write_text_atomic
from balans.errors import DataError
from balans.inputs.case import Case, load_case
from balans.inputs.scenario import Scenario, baseline_scenario
from balans.model.api import run

VINTAGES_FILE = "vintages.csv"
VINTAGE_COLUMNS = (
    "cutoff",
    "year",
    "scenario",
    "scenario_hash",
    "forecast_net_mkr",
    "budget_net_mkr",
    "board_forecast_net_mkr",
    "model_version",
    "data_hash",
    "made_at",
)
BASELINE = "baseline"  # the scenario column of the model's own (no lever moved) forecast


@dataclass(frozen=True)
class Vintage:
    """One year's full-year forecast as made at one close."""

    cutoff: str  # YYYY-MM
    year: int
    scenario: str  # "baseline" or the scenario's file stem / name
    scenario_hash: str
    forecast_net_mkr: float
    budget_net_mkr: float
    board_forecast_net_mkr: float | None
    model_version: str
    data_hash: str
    made_at: str  # ISO time, or "" for a forecast computed now and not kept

    def row(self) -> dict[str, object]:
        return {
            "cutoff": self.cutoff,
            "year": self.year,
            "scenario": self.scenario,
            "scenario_hash": self.scenario_hash,
            "forecast_net_mkr": repr(self.forecast_net_mkr),  # exact: a vintage is kept as made
            "budget_net_mkr": repr(self.budget_net_mkr),
            "board_forecast_net_mkr": ""
            if self.board_forecast_net_mkr is None
            else repr(self.board_forecast_net_mkr),
            "model_version": self.model_version,
            "data_hash": self.data_hash,
            "made_at": self.made_at,
        }


def _ym(ym: tuple[int, int]) -> str:
    return f"{ym[0]}-{ym[1]:02d}"


def make_vintages(
    case: Case, scenario: Scenario | None = None, key: str = BASELINE, made_at: str = ""
) -> list[Vintage]:
    """The vintage of ``case``'s close (its cut-off) for every year of its horizon."""
    from balans import MODEL_VERSION

    sc = scenario or baseline_scenario()
    r = run(sc, case)
    cut = _ym(case.cutoff)
    out = []
    for y in r.years_frame().itertuples():
        made = case.board_forecast_made.get(int(y.year))
        board = case.board_forecast_net_mkr.get(int(y.year)) if made == cut else None
        out.append(
            Vintage(
                cutoff=cut,
                year=int(y.year),
                scenario=key,
                scenario_hash=sc.hash,
                forecast_net_mkr=float(y.forecast_net_mkr),
                budget_net_mkr=float(y.budget_net_mkr),
                board_forecast_net_mkr=board,
                model_version=MODEL_VERSION,
                data_hash=case.data_hash,
                made_at=made_at,
            )
        )
    return out


def read_vintages(folder: str | Path) -> list[Vintage]:
    """The vintages kept in ``<case>/vintages.csv`` (none if the file is absent)."""
    path = Path(folder) / VINTAGES_FILE
    if not path.is_file():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(str(path), f"cannot be read ({exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in VINTAGE_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DataError(str(path), "a column is missing", row=1, column=missing[0])
    out = []
    for line, r in enumerate(reader, start=2):
        try:
            board = r["board_forecast_net_mkr"]
            out.append(
                Vintage(
                    cutoff=r["cutoff"],
                    year=int(r["year"]),
                    scenario=r["scenario"],
                    scenario_hash=r["scenario_hash"],
                    forecast_net_mkr=_finite(r["forecast_net_mkr"]),
                    budget_net_mkr=_finite(r["budget_net_mkr"]),
                    board_forecast_net_mkr=_finite(board) if board else None,
                    model_version=r["model_version"],
                    data_hash=r["data_hash"],
                    made_at=r["made_at"],
                )
            )
        except (TypeError, ValueError) as exc:
            raise DataError(str(path), f"not a vintage row ({exc})", row=line) from None
    return out


def _finite(text: str) -> float:
    x = float(text)
    if not np.isfinite(x):
        raise ValueError(f"not a finite number: {text!r}")
    return x


def write_vintages(folder: str | Path, vintages: list[Vintage]) -> Path:
    """Write ``vintages.csv`` whole (atomically), sorted by close, scenario and year."""
    path = Path(folder) / VINTAGES_FILE
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(VINTAGE_COLUMNS), lineterminator="\n")
    w.writeheader()
    for v in sorted(vintages, key=lambda v: (v.cutoff, v.scenario, v.year)):
        w.writerow(v.row())
    write_text_atomic(path, buf.getvalue())
    return path


def record_close(
    folder: str | Path,
    cutoff: str | None = None,
    scenario: Scenario | None = None,
    key: str = BASELINE,
) -> list[Vintage]:
    """Compute the vintage of the close at ``cutoff`` (default: the case's latest) and keep
    it in ``vintages.csv``, replacing an earlier vintage of the same close and scenario."""
    case = load_case(folder, cutoff=cutoff) if cutoff is not None else latest_close(folder)
    made_at = datetime.now(UTC).isoformat(timespec="seconds")
    new = make_vintages(case, scenario, key, made_at)
    cut = new[0].cutoff
    kept = [v for v in read_vintages(case.root) if not (v.cutoff == cut and v.scenario == key)]
    try:
        write_vintages(case.root, kept + new)
    except OSError as exc:
        raise DataError(
            str(Path(case.root) / VINTAGES_FILE),
            f"the vintage cannot be kept ({exc.strerror or exc})",
            allowed="a case folder you can write to (copy the case to your own folder)",
        ) from None
    return new


def latest_close(folder: str | Path | None = None) -> Case:
    """The case at its latest close (which need not be the close it opens on)."""
    case = load_case(folder)
    last = max(case.closes)
    return case if _ym(case.cutoff) == last else load_case(case.root, cutoff=last)


def outcome_net_mkr(case: Case) -> dict[int, float]:
    """The net cost of every year the case's latest close has wholly as actuals (mkr)."""
    c = case.cutoff_index
    out = {}
    for y in case.years:
        idx = [t for t, (yy, _m) in enumerate(case.months) if yy == y]
        if idx[-1] <= c:
            out[y] = float(case.actual_tkr[idx].sum()) / 1000.0
    return out


def vintages_frame(folder: str | Path | None = None, scenario: str = BASELINE) -> pd.DataFrame:
    """Every close and year: ``cutoff``, ``year``, ``forecast_net_mkr``, ``budget_net_mkr``,
    ``board_forecast_net_mkr`` (None where the board made none then), ``outcome_net_mkr``
    (None until the year is closed), ``accuracy_mkr`` and ``accuracy_pct`` (forecast minus
    outcome, once the outcome is in; until then forecast minus the latest close's forecast,
    ``accuracy_against`` says which), and ``kept`` (a vintage made at the close, with its
    model version and data hash; False: computed now, no vintage was kept)."""
    latest = latest_close(folder)
    kept = {(v.cutoff, v.year): v for v in read_vintages(latest.root) if v.scenario == scenario}
    cutoffs = sorted({c for c, _y in kept} | set(latest.closes))
    rows: dict[tuple[str, int], Vintage] = dict(kept)
    for cut in cutoffs:
        if not any(c == cut for c, _y in kept):
            for v in make_vintages(load_case(latest.root, cutoff=cut)):
                rows[(cut, v.year)] = v
    outcome = outcome_net_mkr(latest)
    last_cut = cutoffs[-1]
    out = []
    for (cut, year), v in sorted(rows.items()):
        if year in outcome:
            against, ref = "outcome", outcome[year]
        else:
            ref_v = rows.get((last_cut, year))
            against, ref = "latest_close", (ref_v.forecast_net_mkr if ref_v else None)
        acc = None if ref is None else v.forecast_net_mkr - ref
        out.append(
            {
                "cutoff": cut,
                "year": year,
                "forecast_net_mkr": v.forecast_net_mkr,
                "budget_net_mkr": v.budget_net_mkr,
                "board_forecast_net_mkr": v.board_forecast_net_mkr,
                "outcome_net_mkr": outcome.get(year),
                "accuracy_mkr": acc,
                "accuracy_pct": None if acc is None or ref == 0 else 100.0 * acc / abs(ref),
                "accuracy_against": against,
                "kept": bool(v.made_at),
                "model_version": v.model_version,
                "data_hash": v.data_hash,
                "made_at": v.made_at or None,
            }
        )
    return pd.DataFrame(out)


CLOSE_STEPS = ("new_actuals", "re_estimate", "levers", "model_or_data")


def close_bridge(
    folder: str | Path,
    earlier: str,
    later: str,
    year: int,
    scenario_earlier: Scenario | None = None,
    scenario_later: Scenario | None = None,
) -> pd.DataFrame:
    """What moved ``year``'s full-year forecast from the close ``earlier`` to ``later``,
    in steps that add up exactly to the difference (mkr):

    - ``model_or_data``: the earlier close's kept vintage against the same close computed
      now (a model change or re-booked data since; 0 where no vintage was kept);
    - ``new_actuals``, one row per account: the months that turned from forecast to actual,
      actual minus what the earlier close forecast for them;
    - ``re_estimate``: the months still ahead at the later close, forecast on the new
      actuals with the earlier close's levers, against the earlier close's forecast of them;
    - ``levers``: the later close's levers and assumptions against the earlier close's, on
      the later close's data (what the board decided since; 0 for two baselines).
    """
    case_a = load_case(folder, cutoff=earlier)
    case_b = load_case(folder, cutoff=later)
    if case_a.cutoff >= case_b.cutoff:
        raise DataError(
            str(case_a.folder),
            f"the earlier close {earlier} is not before the later close {later}",
            column="cutoff",
        )
    if year not in case_a.years or year not in case_b.years:
        raise DataError(
            str(case_a.folder),
            f"{year} is not a year of both closes",
            column="year",
            value=year,
            allowed=", ".join(str(y) for y in sorted(set(case_a.years) & set(case_b.years))),
        )
    sa = scenario_earlier or baseline_scenario()
    sb = scenario_later or baseline_scenario()
    ra = run(sa, case_a)
    rb_old = run(sa, case_b)  # the earlier levers on the later data
    rb = run(sb, case_b)
    ta = [t for t, (y, _m) in enumerate(case_a.months) if y == year]
    tb = [t for t, (y, _m) in enumerate(case_b.months) if y == year]
    if [case_a.months[t] for t in ta] != [case_b.months[t] for t in tb]:  # pragma: no cover
        raise DataError(str(case_a.folder), f"the closes' months of {year} differ")
    fa = ra._by_account[ta]  # (12, A) tkr
    fb_old = rb_old._by_account[tb]
    fb = rb._by_account[tb]
    moy_a, moy_b = case_a.cutoff, case_b.cutoff
    turned = np.array(
        [moy_a < (year, m) <= moy_b for m in range(1, 13)]
    )  # months actual at b, forecast at a
    ahead = np.array([(year, m) > moy_b for m in range(1, 13)])
    kept = {
        v.year: v
        for v in read_vintages(case_a.root)
        if v.cutoff == _ym(case_a.cutoff) and v.scenario_hash == sa.hash
    }
    now_a = float(fa.sum()) / 1000.0
    kept_a = kept[year].forecast_net_mkr if year in kept else now_a
    rows = [
        {
            "step": "model_or_data",
            "account": "",
            "effect_mkr": now_a - kept_a,
        }
    ]
    for a, acc in enumerate(case_b.accounts):
        rows.append(
            {
                "step": "new_actuals",
                "account": acc.id,
                "effect_mkr": float((fb_old[turned, a] - fa[turned, a]).sum()) / 1000.0,
            }
        )
    rows.append(
        {
            "step": "re_estimate",
            "account": "",
            "effect_mkr": float((fb_old[ahead] - fa[ahead]).sum()) / 1000.0,
        }
    )
    rows.append(
        {"step": "levers", "account": "", "effect_mkr": float((fb - fb_old).sum()) / 1000.0}
    )
    df = pd.DataFrame(rows)
    df.attrs["from_mkr"] = kept_a
    df.attrs["to_mkr"] = float(fb.sum()) / 1000.0
    return df


# --------------------------------------------------------------------------- texts


def since_text(folder: str | Path, earlier: str, later: str, year: int, lang: str = "sv") -> str:
    """One sentence: what moved ``year``'s baseline forecast from the close ``earlier`` to
    ``later``, in the bridge's steps ("" when the year is not in both closes)."""
    from balans.errors import BalansError
    from balans.presentation.fmt import label, mkr, month_name

    try:
        b = close_bridge(folder, earlier, later, year)
    except BalansError:
        return ""
    steps = b.groupby("step", sort=False).effect_mkr.sum()
    return label("closes.since", lang).format(
        month=month_name(earlier, lang),
        before=mkr(b.attrs["from_mkr"], 0, lang),
        change=mkr(b.attrs["to_mkr"] - b.attrs["from_mkr"], 1, lang, True),
        new_actuals=mkr(steps["new_actuals"], 1, lang, True),
        re_estimate=mkr(steps["re_estimate"], 1, lang, True),
        levers=mkr(steps["levers"], 1, lang, True),
        model=mkr(steps["model_or_data"], 1, lang, True),
    )


def close_text(folder: str | Path, cutoff: str, lang: str = "sv") -> str:
    """What ``balans close`` says: the close, the forecast per year against budget, and what
    moved each year's forecast since the close before it (the bridge's steps)."""
    from balans.presentation.fmt import label, mkr, month_name

    t = lambda key, **kw: label(f"closes.{key}", lang).format(**kw)  # noqa: E731
    case = load_case(folder, cutoff=cutoff)
    lines = [t("closed", month=month_name(cutoff, lang), case=case.name)]
    earlier = [c for c in case.closes if c < cutoff]
    made = {v.year: v for v in read_vintages(case.root) if v.cutoff == cutoff}
    for year, v in sorted(made.items()):
        lines.append(
            t(
                "year",
                year=year,
                forecast=mkr(v.forecast_net_mkr, 0, lang),
                budget=mkr(v.budget_net_mkr, 0, lang),
                deviation=mkr(v.forecast_net_mkr - v.budget_net_mkr, 0, lang, True),
            )
        )
        since = since_text(case.root, earlier[-1], cutoff, year, lang) if earlier else ""
        if since:
            lines.append("  " + since)
    return "\n".join(lines)


def vintages_text(frame: pd.DataFrame, lang: str = "sv") -> str:
    """The vintages as a plain table (``balans vintages``)."""
    from balans.presentation.fmt import label, mkr, month_name

    t = lambda key: label(f"closes.col.{key}", lang)  # noqa: E731
    cols = ("cutoff", "year", "forecast", "budget", "board", "outcome", "accuracy")
    rows = [[t(c) for c in cols]]
    for r in frame.itertuples():
        rows.append(
            [
                month_name(r.cutoff, lang) + ("" if r.kept else " *"),
                str(r.year),
                mkr(r.forecast_net_mkr, 0, lang),
                mkr(r.budget_net_mkr, 0, lang),
                mkr(r.board_forecast_net_mkr, 0, lang)
                if r.board_forecast_net_mkr is not None
                and r.board_forecast_net_mkr == r.board_forecast_net_mkr
                else "–",
                mkr(r.outcome_net_mkr, 0, lang)
                if r.outcome_net_mkr is not None and r.outcome_net_mkr == r.outcome_net_mkr
                else "–",
                mkr(r.accuracy_mkr, 0, lang, True)
                if r.accuracy_mkr is not None and r.accuracy_mkr == r.accuracy_mkr
                else "–",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(cols))]
    text = "\n".join(
        "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    )
    notes = [label("closes.note_accuracy", lang)]
    if not frame.kept.all():
        notes.append(label("closes.note_not_kept", lang))
    return text + "\n" + "\n".join(notes)


def curve_frame(
    folder: str | Path | None = None,
    scenario: Scenario | None = None,
    vintages: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The forecast curve's figures: :func:`vintages_frame` (or ``vintages``, made once by
    the caller), with ``scenario_net_mkr`` the scenario's full-year forecast at each close,
    computed now (None at a close where the scenario cannot stand, e.g. a lever that starts
    before that close's cut-off)."""
    from balans.errors import BalansError

    frame = (vintages_frame(folder) if vintages is None else vintages).copy()
    if scenario is None or scenario.is_baseline:
        return frame
    root = latest_close(folder).root
    by_close: dict[tuple[str, int], float] = {}
    for cut in frame.cutoff.unique():
        try:
            r = run(scenario, load_case(root, cutoff=cut))
        except BalansError:
            continue
        for y in r.years_frame().itertuples():
            by_close[(cut, int(y.year))] = float(y.forecast_net_mkr)
    frame["scenario_net_mkr"] = [
        by_close.get((c, y)) for c, y in zip(frame.cutoff, frame.year, strict=True)
    ]
    frame.attrs["scenario_name"] = scenario.name
    return frame
