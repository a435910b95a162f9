"""The account, division and source tables, built once for every face.

Each table is made here, once: its rows (:func:`account_rows`, :func:`division_rows`,
:func:`sources_frame`), its Swedish and English headers (``locale/<lang>.yaml``), its basis
marks and their explanations, and its figures formatted through :mod:`balans.presentation.fmt`. The
faces only lay the rows out: the board report prints every year side by side
(:func:`accounts_table`, :func:`divisions_table`), the app shows one year
(:func:`year_tables_html`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from balans.model.engine import STEPS
from balans.presentation.fmt import label, labels, mkr, number, short
from balans.presentation.narrative import period_text

if TYPE_CHECKING:
    from balans.inputs.case import Case
    from balans.model.api import Result

DECIMALS = 1  # the accounts' and divisions' figures: mkr with one decimal


def L(key: str, lang: str) -> str:
    """A report label, ``report.<key>``."""
    return label(f"report.{key}", lang)


# --------------------------------------------------------------------------- basis marks


def basis_word(code: str, lang: str = "sv") -> str:
    """The short word that marks a figure's basis (``fördelad``, ``härledd``, ``dokument``)."""
    return label(f"basis.word.{code}", lang)


def basis_note(case: Case, kind: str, code: str, lang: str = "sv") -> str:
    """What a mark means for a kind of figure (``division``, ``account`` budget, ``board``
    budget, ``month``), starting with the mark's word: ``fördelad: …``."""
    if code == "forecast":
        key = "forecast"
    elif kind == "division":
        key = "division" if code == "allocated" else "board_document"
        if case.divisions_real:
            key = "ledger_division"
    else:
        key = f"{kind}_{code}"
        if case.is_ledger and kind == "month":
            key = f"ledger_month_{code}"
        elif case.is_ledger and kind in ("board", "account") and code == "document":
            key = "ledger_budget_document"
    how = case.derivations.get(f"budget_months_{lang}") or case.derivations.get("budget_months", "")
    return label(f"basis.note.{key}", lang).format(
        period=period_text(case, lang), first_year=case.years[0], how=how
    )


def basis_notes_html(case: Case, kind: str, codes: Sequence[str], lang: str = "sv") -> str:
    """The explanation of every mark in ``codes`` (each once, in order), as paragraphs."""
    seen = list(dict.fromkeys(codes))
    return "".join(
        f'<p class="basis-note">{html.escape(basis_note(case, kind, c, lang))}</p>' for c in seen
    )


# --------------------------------------------------------------------------- the rows


@dataclass(frozen=True)
class LineRow:
    """One account's or division's figures in one year (mkr), with its basis mark's code:
    an account's the budget's, a division's the whole row's."""

    id: str
    name: str
    year: int
    forecast_mkr: float
    budget_mkr: float
    deviation_mkr: float
    baseline_mkr: float | None  # None for a division: the baseline is not split by division
    basis: str


def account_rows(result: Result, lang: str = "sv") -> list[LineRow]:
    """Every account in every year, in the result's order, named in ``lang``."""
    name = "name_sv" if lang == "sv" else "name_en"
    return [
        LineRow(
            a.account,
            str(getattr(a, name)),
            int(a.year),
            float(a.forecast_mkr),
            float(a.budget_mkr),
            float(a.deviation_mkr),
            float(a.baseline_mkr),
            str(a.budget_basis),
        )
        for a in result.accounts_frame().itertuples()
    ]


def division_rows(result: Result, lang: str = "sv") -> list[LineRow]:
    """Every division in every year, in the result's order, named in ``lang``."""
    names = {
        div.id: (div.name_sv if lang == "sv" else div.name_en) for div in result.case.divisions
    }
    return [
        LineRow(
            d.division,
            names.get(d.division, d.name_sv),
            int(d.year),
            float(d.net_mkr),
            float(d.budget_net_mkr),
            float(d.deviation_mkr),
            None,
            str(d.basis),
        )
        for d in result.divisions_frame().itertuples()
    ]


def figure(value: float | None, lang: str, signed: bool = False, unit: bool = False) -> str:
    """An account's or division's figure: ``−12,3`` (``−12,3 mkr`` with its ``unit``)."""
    if unit:
        return mkr(value, DECIMALS, lang, signed)
    return number(value, DECIMALS, lang, signed)


# --------------------------------------------------------------------------- the report's shape


def _per_year_table(rows: Sequence[LineRow], lang: str, mark: str) -> pd.DataFrame:
    """One line per account or division, and per year the forecast, budget, deviation; the
    mark after the name (``mark="row"``: the first year's) or after each year's budget
    (``mark="budget"``)."""
    first: dict[str, LineRow] = {}
    by_year: dict[int, dict[str, LineRow]] = {}
    for r in rows:
        first.setdefault(r.id, r)
        by_year.setdefault(r.year, {})[r.id] = r
    ids = list(first)
    table: dict[str, list[str]] = {L("col.name", lang): [first[i].name for i in ids]}
    if mark == "row":
        table[label("basis.column", lang)] = [basis_word(first[i].basis, lang) for i in ids]
    for y in sorted(by_year):
        part = [by_year[y][i] for i in ids]
        table[L("col.forecast_year", lang).format(year=y)] = [
            figure(r.forecast_mkr, lang) for r in part
        ]
        table[L("col.budget_year", lang).format(year=y)] = [
            figure(r.budget_mkr, lang) for r in part
        ]
        if mark == "budget":
            table[label("basis.budget_year", lang).format(year=y)] = [
                basis_word(r.basis, lang) for r in part
            ]
        table[L("col.deviation_year", lang).format(year=y)] = [
            figure(r.deviation_mkr, lang, signed=True) for r in part
        ]
    return pd.DataFrame(table)


def accounts_table(result: Result, lang: str = "sv") -> pd.DataFrame:
    """Per account: forecast, budget with its mark (allocated, derived) and deviation per
    year (mkr)."""
    return _per_year_table(account_rows(result, lang), lang, mark="budget")


def divisions_table(result: Result, lang: str = "sv") -> pd.DataFrame:
    """Per division: its mark (allocated), net cost forecast, budget and deviation per year
    (mkr)."""
    return _per_year_table(division_rows(result, lang), lang, mark="row")


def division_bridge_table(result: Result, lang: str = "sv") -> pd.DataFrame | None:
    """Per year and division, each step of the bridge that moves anything (mkr); a step
    aimed at the division is marked. None when no step moves (the baseline)."""
    b = result.division_bridge_frame()
    moving = [s for s in STEPS if b[b.step == s].effect_mkr.abs().max() >= 0.05]
    if not moving:
        return None
    names = {
        div.id: (div.name_sv if lang == "sv" else div.name_en) for div in result.case.divisions
    }
    rows = []
    for (y, d), part in b.groupby(["year", "division"], sort=False):
        p = part.set_index("step")
        row = {L("col.year", lang): str(y), L("col.name", lang): names[d]}
        for s in moving:
            mark = " *" if p.loc[s, "aimed"] else ""
            row[label(f"steps.{s}", lang)] = (
                figure(float(p.loc[s, "effect_mkr"]), lang, signed=True) + mark
            )
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- sources


def _unit(unit: str, lang: str) -> str:
    return str(labels(lang).get("units", {}).get(unit, unit))


def _value(value: float | str, unit: str, lang: str) -> str:
    if isinstance(value, str):
        return value
    return f"{short(value, lang)} {_unit(unit, lang)}".strip()


def sources_frame(case: Case, lang: str = "sv") -> pd.DataFrame:
    """Every default a scenario can leave out (``parameters.csv``): its value, unit, plausible
    range, kind (document, derived, assumption), source and note, in ``lang``: the Swedish
    columns (``source_sv``, ``note_sv``) for ``sv`` where the case has them, else the case's
    one source and note as written (:meth:`balans.inputs.case.Figure.note_in`)."""
    rows = []
    for f in case.parameters.values():
        rng = "" if f.low is None else f"{short(f.low, lang)}–{short(f.high, lang)}"
        rows.append(
            {
                L("col.parameter", lang): (f.label_sv if lang == "sv" else f.label_en) or f.key,
                L("col.value", lang): _value(f.value, f.unit, lang),
                L("col.range", lang): rng,
                L("col.kind", lang): L(f"kind.{f.kind}", lang),
                L("col.source", lang): case.source_text(f.source_in(lang)),
                L("col.note", lang): f.note_in(lang),
            }
        )
    return pd.DataFrame(rows)


def figures_frame(case: Case, lang: str = "sv") -> pd.DataFrame:
    """The documents' own figures the case is built and reconciled from, with sources; in
    Swedish named by ``label_sv`` where figures.csv gives it (else by key)."""
    rows = [
        {
            L("col.figure", lang): (f.label_sv if lang == "sv" else "") or f.key,
            L("col.value", lang): _value(f.value, f.unit, lang),
            L("col.kind", lang): L(f"kind.{f.kind}", lang),
            L("col.source", lang): case.source_text(f.source_in(lang)),
            L("col.note", lang): f.note_in(lang),
        }
        for f in case.figures.values()
    ]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- HTML


def table_html(df: pd.DataFrame, text: bool = False) -> str:
    """A plain HTML table, every cell escaped; ``text`` left-aligns every column."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in df.itertuples(index=False)
    )
    cls = ' class="text"' if text else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _year_row(cells: list[str]) -> str:
    return (
        "<tr>"
        + "".join(
            f"<td style='text-align:{'left' if i == 0 else 'right'}'>{c}</td>"
            for i, c in enumerate(cells)
        )
        + "</tr>"
    )


def _year_table(rows: Sequence[LineRow], mark_head: str, lang: str) -> str:
    """One year's lines: name, budget, baseline, forecast, deviation (mkr) and the mark."""
    head = [label(f"lines.{k}", lang) for k in ("budget", "baseline", "forecast", "deviation")]
    cells = "".join(f"<th>{html.escape(x)}</th>" for x in [*head, mark_head])
    body = "".join(
        _year_row(
            [
                html.escape(r.name),
                figure(r.budget_mkr, lang, unit=True),
                "" if r.baseline_mkr is None else figure(r.baseline_mkr, lang, unit=True),
                figure(r.forecast_mkr, lang, unit=True),
                figure(r.deviation_mkr, lang, signed=True, unit=True),
                f'<span class="balans-basis">{html.escape(basis_word(r.basis, lang))}</span>',
            ]
        )
        for r in rows
    )
    return f"<table><thead><tr><th></th>{cells}</tr></thead><tbody>{body}</tbody></table>"


def year_tables_html(result: Result, year: int, lang: str = "sv") -> str:
    """The app's shape: the year's accounts and divisions, each row with its basis mark (the
    budget's per account, the whole row's per division), the marks' explanation under each
    table, then the year's bridge per division where there is one."""
    acc = [r for r in account_rows(result, lang) if r.year == year]
    div = [r for r in division_rows(result, lang) if r.year == year]
    case = result.case
    acc_head = label("basis.budget_year", lang).format(year=year)
    acc_notes = basis_notes_html(case, "account", [r.basis for r in acc], lang)
    div_notes = basis_notes_html(case, "division", [r.basis for r in div], lang)
    return (
        f"<h4>{html.escape(label('report.accounts', lang))}</h4>"
        + _year_table(acc, acc_head, lang)
        + f'<div class="balans-source balans-basis-notes">{acc_notes}</div>'
        + f"<h4>{html.escape(label('report.divisions', lang))}</h4>"
        + _year_table(div, label("basis.column", lang), lang)
        + f'<div class="balans-source balans-basis-notes">{div_notes}</div>'
        + _division_bridge_html(result, year, lang)
    )


def _division_bridge_html(result: Result, year: int, lang: str) -> str:
    """The year's bridge per division, where a lever is aimed at one or the divisions are
    the ledger's own (else every step is the board's split by the same keys: nothing new)."""
    if not result.case.divisions_real:
        return ""
    table = division_bridge_table(result, lang)
    if table is None:
        return ""
    year_col = L("col.year", lang)
    part = table[table[year_col] == str(year)].drop(columns=[year_col])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in part.columns)
    body = "".join(
        _year_row([html.escape(str(v)) for v in row]) for row in part.itertuples(index=False)
    )
    return (
        f"<h4>{html.escape(label('report.division_bridge', lang))} {year}</h4>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f'<div class="balans-source">{html.escape(label("report.division_bridge_note", lang))}</div>'
    )
