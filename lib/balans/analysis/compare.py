"""Scenarios side by side, for a board member: the current setting against up to two
scenarios, as a table of headline figures, what differs between them in words, and the
data of the two comparison charts (:func:`balans.presentation.charts.compare_bridge_chart`,
:func:`balans.presentation.charts.compare_monthly_chart`).

Every figure comes from the results as they are (no second calculation): the forecast,
budget and deviation from :meth:`Result.years_frame`, the steps from
:meth:`Result.bridge_frame`, the levers in words from :func:`balans.presentation.narrative.lever_sentences`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from balans.model.api import Result
from balans.model.engine import STEPS
from balans.presentation.fmt import label, mkr
from balans.presentation.narrative import join_words, lever_sentences
from balans.presentation.summary import signal

MAX_OTHERS = 2  # the current setting and at most two scenarios: three columns fit a tablet
SMALLEST_STEP_MKR = 0.5
ROWS = (
    "forecast",
    "budget",
    "deviation",
    "signal",
    "change",
)  # the table's rows, in order  # a step difference below half a million is not worth a word


@dataclass(frozen=True)
class Entry:
    """One column of the comparison: its name as shown and its result."""

    name: str
    result: Result
    ref: str = ""  # how a sentence names it ("din inställning"); the name if empty

    @property
    def said(self) -> str:
        """How a sentence names it: its reference ("din inställning"), or its name quoted."""
        return self.ref or f"”{self.name}”"


def _t(key: str, lang: str, **kw: object) -> str:
    text = label(f"compare.{key}", lang)
    return text.format(**kw) if kw else text


def _year_row(r: Result, year: int) -> pd.Series:
    return r.years_frame().set_index("year").loc[year]


def _steps(r: Result, year: int) -> pd.Series:
    b = r.bridge_frame()
    return b[b.year == year].set_index("step").effect_mkr.reindex(list(STEPS), fill_value=0.0)


def check_entries(entries: list[Entry]) -> None:
    """The current setting and one or two others, all on the same case and close (a bridge
    between two cases' baselines would compare unlike with unlike)."""
    if not 2 <= len(entries) <= MAX_OTHERS + 1:
        raise ValueError(f"a comparison takes 2 to {MAX_OTHERS + 1} entries, got {len(entries)}")
    stamps = {(e.result.case.name, e.result.case.cutoff) for e in entries}
    if len(stamps) != 1:
        raise ValueError("the compared results stand on different cases or closes")


def table_html(entries: list[Entry], year: int, lang: str = "sv") -> str:
    """The headline figures of each entry for ``year`` as a table with headers (a screen
    reader reads it by row and column; it also prints): forecast, budget, deviation with
    its signal in words, and the change against the baseline."""
    check_entries(entries)
    yellow = entries[0].result.case.param("signal_yellow_deviation_pct")
    head = "".join(f'<th scope="col">{html.escape(e.name)}</th>' for e in entries)
    rows: dict[str, list[str]] = {k: [] for k in ROWS}
    for e in entries:
        y = _year_row(e.result, year)
        sig = signal(float(y.deviation_mkr), float(y.budget_net_mkr), yellow)
        rows["forecast"].append(
            f'<span class="balans-compare-value" data-value="{float(y.forecast_net_mkr)!r}">'
            f"{html.escape(mkr(y.forecast_net_mkr, 0, lang))}</span>"
        )
        rows["budget"].append(mkr(y.budget_net_mkr, 0, lang))
        rows["deviation"].append(mkr(y.deviation_mkr, 0, lang, signed=True))
        rows["signal"].append(
            f'<span class="balans-signal balans-signal-{sig}" aria-hidden="true"></span>'
            f"{html.escape(label(f'app.signal.{sig}', lang))}"
        )
        rows["change"].append(mkr(y.change_vs_baseline_mkr, 0, lang, signed=True))
    body = "".join(
        f'<tr><th scope="row">{html.escape(_t(f"row.{k}", lang, year=year))}</th>'
        + "".join(
            f'<td class="balans-compare-{k}">'
            f"{cell if k in ('signal', 'forecast') else html.escape(cell)}</td>"
            for cell in cells
        )
        + "</tr>"
        for k, cells in rows.items()
    )
    caption = html.escape(_t("table_caption", lang, year=year))
    return (
        f'<div class="balans-compare-box"><table class="balans-compare"><caption>{caption}</caption>'
        f"<thead><tr><td></td>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def difference_sentences(current: Entry, other: Entry, year: int, lang: str = "sv") -> list[str]:
    """What differs between the current setting and ``other``, in words, with the current
    setting as the subject (a step's sign is what the setting does against ``other``): the
    forecast for ``year``, the bridge steps that make the difference (largest first), and
    the levers set in one and not the other (each one's own lever sentences)."""
    a, b = _year_row(current.result, year), _year_row(other.result, year)
    diff = float(a.forecast_net_mkr) - float(b.forecast_net_mkr)
    out: list[str] = []
    names = {"current": current.said, "other": other.said, "year": year}
    if abs(diff) < SMALLEST_STEP_MKR:
        out.append(_t("same_result", lang, **names))
    else:
        out.append(
            _t(
                "better" if diff > 0 else "worse",
                lang,
                **names,
                amount=mkr(abs(diff), 0, lang),
                own=mkr(a.forecast_net_mkr, 0, lang),
                theirs=mkr(b.forecast_net_mkr, 0, lang),
            )
        )
        steps = _steps(current.result, year) - _steps(other.result, year)
        big = steps[steps.abs() >= SMALLEST_STEP_MKR]
        big = big.reindex(big.abs().sort_values(ascending=False).index)[:3]
        if len(big):
            parts = [
                f"{label(f'steps.{s}', lang).lower()} ({mkr(v, 0, lang, signed=True)})"
                for s, v in big.items()
            ]
            out.append(_t("mostly_from", lang, parts=join_words(parts, lang)))
    mine, theirs = lever_sentences(current.result, lang), lever_sentences(other.result, lang)
    only_mine = [s for s in mine if s not in theirs]
    only_other = [s for s in theirs if s not in mine]
    if not only_other and not only_mine:
        out.append(_t("same_levers", lang, **names))
    if only_mine:
        out.append(_t("only_in", lang, name=current.said) + " " + " ".join(only_mine))
    if only_other:
        out.append(_t("only_in", lang, name=other.said) + " " + " ".join(only_other))
    return [x[:1].upper() + x[1:] for x in out]  # "din inställning och …" opens a sentence


def differences_html(entries: list[Entry], year: int, lang: str = "sv") -> str:
    """Each compared scenario against the current setting (the first entry), in words."""
    check_entries(entries)
    current, *others = entries
    parts = []
    for o in others:
        title = html.escape(_t("against", lang, other=o.said, current=current.name))
        items = "".join(
            f"<li>{html.escape(s)}</li>" for s in difference_sentences(current, o, year, lang)
        )
        parts.append(f"<h4>{title}</h4><ul>{items}</ul>")
    return '<div class="balans-compare-text">' + "".join(parts) + "</div>"


def bridge_frame(entries: list[Entry], year: int, lang: str = "sv") -> pd.DataFrame:
    """One row per entry and bridge step that moves in any entry, plus the total change
    against the baseline (mkr), in the bridge's order."""
    check_entries(entries)
    steps = {e.name: _steps(e.result, year) for e in entries}
    moving = [s for s in STEPS if any(abs(v[s]) >= 0.05 for v in steps.values())]
    rows = []
    for order, s in enumerate([*moving, "total"]):
        for i, e in enumerate(entries):
            value = (
                float(_year_row(e.result, year).change_vs_baseline_mkr)
                if s == "total"
                else float(steps[e.name][s])
            )
            rows.append(
                {
                    "step": s,
                    "label": _t("total_change", lang)
                    if s == "total"
                    else label(f"steps.{s}", lang),
                    "order": order,
                    "entry": e.name,
                    "entry_order": i,
                    "effect_mkr": value,
                    "text": mkr(value, 0, lang, signed=True),
                }
            )
    return pd.DataFrame(rows)


def monthly_frame(entries: list[Entry], year: int, lang: str = "sv") -> pd.DataFrame:
    """The cumulative deviation from the periodised budget per month of ``year`` for each
    entry (actuals, then forecast; mkr), with the cumulative result it stands on."""
    check_entries(entries)
    rows = []
    for i, e in enumerate(entries):
        m = e.result.monthly_frame()
        for r in m[m.year == year].itertuples():
            rows.append(
                {
                    "date": pd.Timestamp(r.month + "-01"),
                    "month": r.month,
                    "entry": e.name,
                    "entry_order": i,
                    "deviation_mkr": float(r.cumulative_deviation_mkr),
                    "net_mkr": float(r.cumulative_net_mkr),
                    "budget_mkr": float(r.cumulative_budget_net_mkr),
                    "is_actual": bool(r.is_actual),
                }
            )
    df = pd.DataFrame(rows)
    df["text"] = [mkr(v, 0, lang, signed=True) for v in df.deviation_mkr]
    return df


def distinct_names(names: list[str]) -> list[str]:
    """Column names a reader can tell apart: the same scenario picked twice, or a
    scenario whose name equals the current setting's, gets a number."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out
