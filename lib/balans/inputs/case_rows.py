"""The rows of a case folder's CSV files: one row model per file, and the reader.

A row model names a file and describes its columns: each column's name, type (text, number,
whole number, one of a list, a month), whether its cell may be empty, whether the column may
be absent, and the range a number must lie in. :func:`read_rows` reads a file against its
model and returns every problem it finds, each naming the file, the line, the column, the
value and what is allowed; it never raises. What the rows mean together (the accounts add up
to the documents' totals, a category's ``part_of`` names a category) is checked by the named
rules in ``case_rules.py``.

The shipped-style case (``accounts.csv`` with year-to-date figures) and the ledger case that
``balans import`` writes (``ledger.csv`` per month) share ``figures.csv`` and
``parameters.csv``; their other files have models of their own.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from balans.errors import DataError

SIDES = ("revenue", "cost")
ROLES = ("revenue", "personnel", "agency", "drugs", "purchased_care", "other")
DRIVERS = ("none", "pay", "agency", "drugs", "price")
METHODS = ("run_rate", "budget")
# benchmark: a national figure (e.g. the pay benchmark, märket), not the region's own.
KINDS = ("document", "derived", "benchmark", "assumption")
LINES = ("revenue", "gross_cost", "net_cost")

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")

Row = dict[str, Any]
"""One parsed row: column name -> value (None for an empty cell), ``_line`` (its line in
the file, the header being line 1) and ``_absent`` (the optional columns the file lacks)."""


def parse_month(text: str) -> tuple[int, int] | None:
    """``(year, month)`` of a ``YYYY-MM`` text, or None."""
    m = _MONTH_RE.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None
    return int(m.group(1)), int(m.group(2))


@dataclass(frozen=True)
class Col:
    """One column of a row model."""

    name: str
    kind: str = "str"  # str | float | int | choice | month
    required: bool = True  # must the cell be non-empty
    optional: bool = False  # may the column itself be absent (read as empty cells)
    choices: tuple[str, ...] = ()
    lo: float | None = None
    hi: float | None = None


@dataclass(frozen=True)
class RowModel:
    """A CSV file of a case folder: its name and its columns, in the file's order."""

    file: str
    columns: tuple[Col, ...]
    allow_empty: bool = False  # may the file hold a header and no rows

    def names(self) -> str:
        return ", ".join(c.name for c in self.columns)


# --------------------------------------------------------------------------- the models

ACCOUNTS = RowModel(
    "accounts.csv",
    (
        Col("account"),
        Col("name_sv"),
        Col("name_en"),
        Col("side", "choice", choices=SIDES),
        Col("role", "choice", choices=ROLES),
        Col("driver", "choice", choices=DRIVERS),
        Col("baseline_method", "choice", choices=METHODS),
        Col("actual_ytd_tkr", "float"),
        Col("budget_ytd_tkr", "float"),
        Col("actual_ytd_prior_year_tkr", "float", required=False),  # empty: no document gives it
        Col("doc_diff_budget_tkr", "float", required=False),
        Col("doc_diff_prior_year_tkr", "float", required=False),
        Col("source"),
        Col("note", required=False),
    ),
)
DIVISION_VALUE_COLS = (
    "last_month_actual_mkr",
    "last_month_budget_mkr",
    "ytd_actual_mkr",
    "ytd_budget_mkr",
    "ytd_prior_year_actual_mkr",
    "budget_first_year_mkr",
)
DIVISIONS = RowModel(
    "divisions.csv",
    (
        Col("division"),
        Col("name_sv"),
        Col("name_en"),
        Col("line", "choice", choices=LINES),
        *[
            Col(c, "float", required=c.startswith(("ytd_actual", "budget_first")))
            for c in DIVISION_VALUE_COLS
        ],
        Col("source"),
    ),
)
AGENCY = RowModel(
    "agency.csv",
    (
        Col("category"),
        Col("name_sv"),
        Col("name_en"),
        Col("part_of", required=False),
        Col("cost_ytd_two_years_ago_mkr", "float", required=False, hi=0),
        Col("cost_ytd_prior_year_mkr", "float", required=False, hi=0),
        Col("cost_ytd_mkr", "float", hi=0),
        Col("forecast_first_year_mkr", "float", required=False, hi=0),
        Col("fte_prior_year", "float", required=False, lo=0),
        Col("fte_ytd", "float", lo=0),
        Col("agency_share_pct", "float", required=False, lo=0, hi=100),
        Col("agency_share_target_pct", "float", required=False, lo=0, hi=100),
        Col("source"),
        Col("note", required=False),
    ),
)
STAFF = RowModel(
    "staff.csv",
    (
        Col("date"),
        Col("employees", "float", lo=0),
        Col("women", "float", required=False, lo=0),
        Col("men", "float", required=False, lo=0),
        Col("source"),
    ),
)
FIGURES = RowModel(
    "figures.csv",
    (
        Col("key"),
        Col("label_sv", required=False, optional=True),
        Col("value", "float"),
        Col("unit"),
        Col("kind", "choice", choices=KINDS),
        Col("source"),
        Col("note", required=False),
        Col("note_sv", required=False, optional=True),
        Col("source_sv", required=False, optional=True),
    ),
)
PARAMETERS = RowModel(
    "parameters.csv",
    (
        Col("key"),
        Col("value"),  # a number, or a YYYY-MM month for *_start (rule parameter_values)
        Col("unit"),
        Col("kind", "choice", choices=KINDS),
        Col("low", "float", required=False),
        Col("high", "float", required=False),
        Col("label_sv"),
        Col("label_en"),
        Col("source"),
        Col("note", required=False),
        Col("distribution", "choice", required=False, choices=("triangular", "uniform")),
        Col("note_sv", required=False, optional=True),
        Col("source_sv", required=False, optional=True),
    ),
)

# a ledger case's files (balans import writes them; see ledger.py)
LEDGER_ACCOUNTS = RowModel(
    "accounts.csv",
    (
        Col("account"),
        Col("name_sv"),
        Col("name_en"),
        Col("side", "choice", choices=SIDES),
        Col("role", "choice", choices=ROLES),
        Col("driver", "choice", choices=DRIVERS),
        Col("baseline_method", "choice", choices=METHODS),
        Col("source"),
        Col("note", required=False),
    ),
)
LEDGER_DIVISIONS = RowModel(
    "divisions.csv", (Col("division"), Col("name_sv"), Col("name_en"), Col("source"))
)
LEDGER = RowModel(
    "ledger.csv",
    (
        Col("month", "month"),
        Col("account"),
        Col("division"),
        Col("actual_tkr", "float", required=False),
        Col("budget_tkr", "float", required=False),
        Col("basis"),
        Col("source"),
    ),
)
LEDGER_AGENCY = RowModel(
    "agency.csv",
    (
        Col("category"),
        Col("name_sv"),
        Col("name_en"),
        Col("part_of", required=False),
        Col("agency_share_target_pct", "float", required=False, lo=0, hi=100),
        Col("source"),
        Col("note", required=False),
    ),
)
AGENCY_MONTHS = RowModel(
    "agency_months.csv",
    (
        Col("month", "month"),
        Col("category"),
        Col("cost_tkr", "float", hi=0),
        Col("hours", "float", required=False, lo=0),
        Col("basis"),
        Col("source"),
    ),
)
LEDGER_STAFF = RowModel(
    "staff.csv",
    (
        Col("date"),
        Col("employees", "float", required=False, lo=0),
        Col("fte", "float", required=False, lo=0),
        Col("source"),
    ),
    allow_empty=True,  # ledger_rules.staff_is_given names an empty file in its own words
)
LEDGER_FIGURES = replace(FIGURES, allow_empty=True)

CASE_MODELS = (ACCOUNTS, DIVISIONS, AGENCY, STAFF, FIGURES, PARAMETERS)
LEDGER_MODELS = (
    LEDGER_ACCOUNTS,
    LEDGER_DIVISIONS,
    LEDGER,
    LEDGER_AGENCY,
    AGENCY_MONTHS,
    LEDGER_FIGURES,
    PARAMETERS,
    LEDGER_STAFF,
)


# --------------------------------------------------------------------------- the reader


def read_rows(folder: Path, model: RowModel) -> tuple[list[Row] | None, list[DataError]]:
    """The file's rows as its model reads them, and every problem found.

    A problem with the file as a whole (missing, not UTF-8, empty, not comma-separated, an
    unknown or missing column) stops the reading there; a problem with a cell is named and
    the reading goes on to the next cell. The rows are None when the file has any problem:
    the rules that read it are then not checked (and say so)."""
    path = folder / model.file
    file = str(path)
    if not path.is_file():
        return None, [
            DataError(
                file, "the file is missing", allowed=f"a CSV file with columns {model.names()}"
            )
        ]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [
            DataError(file, f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})")
        ]
    lines = text.splitlines()
    if not lines:
        return None, [DataError(file, "the file is empty", allowed=f"a header {model.names()}")]
    if ";" in lines[0] and "," not in lines[0]:
        return None, [
            DataError(
                file,
                "the header is separated by ';'",
                row=1,
                allowed="comma-separated values (save as 'CSV UTF-8, comma')",
            )
        ]
    reader = csv.DictReader(io.StringIO(text))
    header: list[str] = []
    try:  # csv refuses a cell over 131 072 characters: name the row
        header = list(reader.fieldnames or [])
        records = list(reader)
    except csv.Error as exc:
        return None, [
            DataError(
                file,
                f"not readable as CSV ({exc})",
                row=reader.line_num + 1 if header else 1,
                allowed="cells of at most 131 072 characters, every quote closed",
            )
        ]
    known = {c.name for c in model.columns}
    problems = [
        DataError(file, "unknown column", row=1, column=h, allowed=f"columns {model.names()}")
        for h in header
        if h not in known
    ]
    problems += [
        DataError(file, "a column is missing", row=1, column=c.name)
        for c in model.columns
        if c.name not in header and not c.optional
    ]
    if problems:
        return None, problems
    absent = frozenset(c.name for c in model.columns if c.name not in header)
    rows = []
    for line_no, raw in enumerate(records, start=2):
        if None in raw:
            problems.append(
                DataError(
                    file, "the row has more cells than the header", row=line_no, value=raw[None]
                )
            )
            continue
        row: Row = {"_line": line_no, "_absent": absent}
        for c in model.columns:
            cell = (raw.get(c.name) or "").strip()
            row[c.name], problem = parse_cell(file, line_no, c, cell)
            if problem is not None:
                problems.append(problem)
        rows.append(row)
    if not rows and not model.allow_empty and not problems:
        problems.append(DataError(file, "the file has no rows"))
    return (None if problems else rows), problems


def parse_cell(file: str, line_no: int, c: Col, cell: str) -> tuple[Any, DataError | None]:
    """A cell's value as its column reads it, or None and the problem."""

    def bad(
        problem: str, allowed: str | None = None, value: object = cell
    ) -> tuple[None, DataError]:
        return None, DataError(
            file, problem, row=line_no, column=c.name, value=value, allowed=allowed
        )

    if cell == "":
        return (None, None) if not c.required else bad("the cell is empty", value=None)
    if c.kind == "str":
        return cell, None
    if c.kind == "choice":
        return (
            (cell, None) if cell in c.choices else bad("not a known value", " | ".join(c.choices))
        )
    if c.kind == "month":
        return (cell, None) if parse_month(cell) is not None else bad("not a month", "YYYY-MM")
    number = parse_number(cell)
    if number is None:
        return bad("not a number", "a number with '.' as decimal point, e.g. -1234.5")
    if not math.isfinite(number):
        return bad("not a finite number")
    if c.kind == "int" and number != int(number):
        return bad("not a whole number")
    if (c.lo is not None and number < c.lo) or (c.hi is not None and number > c.hi):
        return bad("out of range", range_text(c.lo, c.hi))
    return number, None


def parse_number(cell: str) -> float | None:
    """A number as a Swedish spreadsheet may write it (a minus sign, spaces between
    thousands), or None."""
    try:
        return float(cell.replace("\u2212", "-").replace(" ", "").replace("\u00a0", ""))
    except ValueError:
        return None


def range_text(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"{lo:g} to {hi:g}"
    return f"at least {lo:g}" if lo is not None else f"at most {hi:g}"
