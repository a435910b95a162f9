"""Workbooks for planners: the app's download and the batch's ``summary.xlsx``.

Each workbook opens on a sheet naming what it holds (the scenario, the case, the close it
stands on and the stamp) and ends with one explaining every column (header, unit, meaning)
and one explaining the basis marks (document, derived, allocated, forecast). Headers are
the language's own words, figures are rounded as a planner reads them (0.1 mkr, whole
hours, one decimal for FTE and per cent), codes are words (a bridge step's label, a basis
mark's word); the figures themselves are the model's, unchanged but for the rounding.
"""

from __future__ import annotations

import io
import re
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from balans.presentation.fmt import label, labels
from balans.presentation.summary import standing_text

if TYPE_CHECKING:
    from balans.inputs.case import Case
    from balans.model.api import Result

DECIMALS = {"mkr": 1, "hours": 0, "fte": 1, "pct": 1}
_CATEGORY_COL = re.compile(
    r"^(?P<cat>.+)_(?P<kind>agency_hours|agency_share_pct|agency_share_target_pct)$"
)
_YEAR_COL = re.compile(r"^(?P<col>.+)_(?P<year>\d{4})$")
SHEET_FRAMES = ("years", "bridge", "accounts", "divisions", "monthly", "staffing", "access")


def unit_of(col: str) -> str:
    """A column's unit from its name, as every column of Balans names it (``_mkr``,
    ``_hours``, ``_fte``, ``_pct``; ``year``, ``month``): mkr, hours, fte, pct, year, month,
    months or text."""
    col = _YEAR_COL.sub(r"\g<col>", col)
    for suffix, unit in (("_mkr", "mkr"), ("_hours", "hours"), ("_fte", "fte"), ("_pct", "pct")):
        if col.endswith(suffix):
            return unit
    return {"year": "year", "month": "month", "board_forecast_made": "month"}.get(
        col, "months" if col == "actual_months" else "text"
    )


def _column(col: str, case: Case | None, lang: str) -> tuple[str, str, str]:
    """(header, unit code, meaning) of a column; a per-category or per-year column takes its
    category's name or its year."""
    cols = labels(lang)["excel"]["col"]
    if col in cols:
        head, meaning = cols[col]
        return str(head), unit_of(col), str(meaning)
    m = _YEAR_COL.match(col)
    if m and m.group("col") in cols:
        head, unit, meaning = _column(m.group("col"), case, lang)
        return f"{head} {m.group('year')}", unit, f"{meaning} ({m.group('year')})"
    m = _CATEGORY_COL.match(col)
    if m and case is not None:
        names = {c.id: (c.name_sv if lang == "sv" else c.name_en) for c in case.agency}
        if m.group("cat") in names:
            head, meaning = cols[f"category_{m.group('kind')}"]
            name = names[m.group("cat")]
            return str(head).format(name=name), unit_of(col), str(meaning).format(name=name)
    return col, "text", ""  # pragma: no cover - every column of the frames is labelled (tested)


def board_frame(df: pd.DataFrame, case: Case | None, lang: str = "sv") -> pd.DataFrame:
    """A frame as a planner reads it: codes as words, figures rounded, headers in words.
    Identifier columns only a program needs (account and division ids, English names) go."""
    out = df.drop(columns=[c for c in ("account", "division", "name_en") if c in df.columns])
    words = labels(lang)
    for col in out.columns:
        _head, unit, _ = _column(col, case, lang)
        if col == "step":
            out[col] = [words["steps"].get(s, s) for s in out[col]]
        elif col.endswith("basis"):
            out[col] = [words["basis"]["word"].get(str(v), str(v)) for v in out[col]]
        elif col == "side":
            out[col] = [words["excel"]["side"].get(str(v), str(v)) for v in out[col]]
        elif col == "is_actual":
            out[col] = [words["excel"]["actual"][str(bool(v))] for v in out[col]]
        elif unit in DECIMALS:
            numbers = pd.to_numeric(out[col], errors="coerce").round(DECIMALS[unit])
            out[col] = numbers + 0.0  # -0.0 is shown as 0
    return out.rename(columns={c: _column(c, case, lang)[0] for c in out.columns})


def columns_frame(sheets: dict[str, pd.DataFrame], case: Case | None, lang: str) -> pd.DataFrame:
    """One row per column of every sheet: the sheet, the header, its unit and its meaning."""
    t = labels(lang)["excel"]
    rows = []
    for sheet, df in sheets.items():
        for col in df.columns:
            if col in ("account", "division", "name_en"):
                continue
            head, unit, meaning = _column(col, case, lang)
            rows.append(
                {
                    t["head"]["sheet"]: t["sheets"][sheet],
                    t["head"]["column"]: head,
                    t["head"]["unit"]: t["unit"].get(unit, unit),
                    t["head"]["meaning"]: meaning,
                }
            )
    return pd.DataFrame(rows)


def _about(rows: list[tuple[str, str]], lang: str) -> pd.DataFrame:
    t = labels(lang)["excel"]
    return pd.DataFrame([{t["field"]: k, t["value"]: v} for k, v in rows])


def _write(
    sheets: list[tuple[str, pd.DataFrame]], notes: dict[tuple[str, str], str] | None = None
) -> bytes:
    """The sheets as a workbook: bold headers, column widths to fit, the header row frozen,
    and on a header the note ``notes[(sheet, header)]`` (what the column means)."""
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    notes = notes or {}
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        for name, df in sheets:
            df.to_excel(xl, sheet_name=name[:31], index=False)
            ws = xl.sheets[name[:31]]
            for j, col in enumerate(df.columns, start=1):
                ws.cell(row=1, column=j).font = Font(bold=True)
                if (name, str(col)) in notes:
                    ws.cell(row=1, column=j).comment = Comment(notes[(name, str(col))], "Balans")
                width = max([len(str(col))] + [len(str(v)) for v in df[col].head(200)])
                ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = min(
                    max(10, width + 2), 80
                )
            ws.freeze_panes = "A2"
    return buf.getvalue()


def result_workbook(r: Result, lang: str = "sv") -> bytes:
    """The app's download: what the workbook holds, the result's tables and their columns."""
    from balans.presentation.report import basis_frame

    t = labels(lang)["excel"]
    sc, case = r.scenario, r.case
    d = r.to_dict()
    frames = {k: getattr(r, f"{k}_frame")() for k in SHEET_FRAMES}
    about = _about(
        [
            (t["about"]["title"], ""),
            (t["about"]["scenario"], sc.name),
            (t["about"]["description"], sc.description or ""),
            (t["about"]["case"], case.name),
            (t["about"]["close"], standing_text(case, lang)),
            (t["about"]["model_version"], d["stamp"]["model_version"]),
            (t["about"]["data_hash"], d["stamp"]["data_hash"]),
            (t["about"]["scenario_hash"], sc.hash),
            (t["about"]["made"], date.today().isoformat()),
            (t["about"]["units"], t["rounding"]),
            (t["about"]["basis"], t["sheets"]["notes"]),
        ],
        lang,
    )
    basis = _basis_notes(basis_frame(r, lang), lang)
    sheets = [(t["about_sheet"], about)]
    sheets += [(t["sheets"][k], board_frame(df, case, lang)) for k, df in frames.items()]
    sheets.append((t["columns_sheet"], columns_frame(frames, case, lang)))
    sheets.append((t["sheets"]["notes"], basis))
    return _write(sheets, _header_notes(frames, basis, case, lang))


def _header_notes(
    frames: dict[str, pd.DataFrame], basis: pd.DataFrame, case: Case | None, lang: str
) -> dict[tuple[str, str], str]:
    """Per (sheet, header): what the column means, and for a basis column what each of its
    marks means."""
    t = labels(lang)["excel"]
    sheet_col, col_col = label("basis.sheet.sheet", lang), label("basis.sheet.column", lang)
    meaning_col = label("basis.sheet.meaning", lang)
    out = {}
    for sheet, df in frames.items():
        for col in df.columns:
            if col in ("account", "division", "name_en"):
                continue
            head, _unit, meaning = _column(col, case, lang)
            marks = basis[(basis[sheet_col] == t["sheets"][sheet]) & (basis[col_col] == head)]
            out[(t["sheets"][sheet], head)] = "\n".join([meaning, *marks[meaning_col]])
    return out


def _basis_notes(notes: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The basis explanations with the sheet and column in words, not codes."""
    t = labels(lang)["excel"]
    sheet_col, col_col = label("basis.sheet.sheet", lang), label("basis.sheet.column", lang)
    out = notes.copy()
    out[sheet_col] = [t["sheets"].get(s, s) for s in out[sheet_col]]
    out[col_col] = [_column(c, None, lang)[0] for c in out[col_col]]
    return out.drop(columns=[label("basis.sheet.value", lang)])


def summary_workbook(
    summary: pd.DataFrame,
    notes: pd.DataFrame,
    case_name: str,
    close: str,
    lang: str = "sv",
    case: Case | None = None,
) -> bytes:
    """The batch's ``summary.xlsx``: the batch's case, close and stamp, one row per scenario
    with Swedish headers and rounded figures, every column explained."""
    t = labels(lang)["excel"]
    models = sorted(set(summary.get("model_version", pd.Series(dtype=str))))
    hashes = sorted(set(summary.get("data_hash", pd.Series(dtype=str))))
    about = _about(
        [
            (t["about"]["title"], ""),
            (t["about"]["case"], case_name),
            (t["about"]["close"], close),
            (t["about"]["scenarios"], str(len(summary))),
            (t["about"]["model_version"], ", ".join(models)),
            (t["about"]["data_hash"], ", ".join(hashes)),
            (t["about"]["made"], date.today().isoformat()),
            (t["about"]["units"], t["rounding"]),
        ],
        lang,
    )
    col_col = label("basis.sheet.column", lang)
    notes = notes.copy()
    notes[col_col] = [_column(c, case, lang)[0] if c else "" for c in notes[col_col]]
    return _write(
        [
            (t["about_sheet"], about),
            (t["sheets"]["summary"], board_frame(summary, case, lang)),
            (t["columns_sheet"], columns_frame({"summary": summary}, case, lang)),
            (t["sheets"]["notes"], notes),
        ]
    )
