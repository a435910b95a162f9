"""``balans import``: build a ledger case folder from a region's ledger exports.

A controller has monthly ledger exports (huvudbok: one row per month x account x unit, with
the actual and the budget), perhaps an hours export for agency staff, a staff export and a
multi-year plan. A *mapping file* (YAML, :class:`Mapping`; ``balans schema mapping`` prints
its JSON Schema) names those files, relative to the mapping file so that the controller's
folder describes itself, says how they are written, and maps the region's account codes to
Balans accounts and its unit codes (ansvar) to divisions. :func:`import_ledger` reads them and
writes the case folder of ``spec_ledger_case.md`` (case.yaml, accounts.csv, divisions.csv,
ledger.csv, agency.csv, agency_months.csv, staff.csv, figures.csv, parameters.csv,
provenance.yaml and scenarios/).

Reading (decided here, and said again in the mapping template's comments):

- Encoding: a byte-order mark decides (UTF-8 with BOM, UTF-16); else the file is read as
  strict UTF-8; else as cp1252 (Windows Excel's "CSV (semikolonavgränsad)"), which covers
  Latin-1's letters. ``encoding:`` in the mapping overrides this.
- Separator: the header line decides: ``;`` if it has one, else a tab, else ``,``.
- Decimal mark: ``,`` in a ``;``- or tab-separated file and in xlsx text cells, ``.`` in a
  ``,``-separated file; ``decimal:`` overrides. A ``.`` in an amount where ``,`` is the
  decimal mark is an error, never a guess (``1.234`` could be either).
- Thousands separators: space, no-break space (U+00A0, U+202F, U+2009) or none, in groups of
  three; ``,`` too where ``.`` is the decimal mark. Minus: ``-``, ``−`` (U+2212), a trailing
  minus (``1234-``) or parentheses (``(1 234)``). A lone dash is an error, not a zero.
- Months: ``2024-08``, ``202408``, ``2024-08-31``, ``2024-08-01 00:00:00``, xlsx dates,
  ``aug 2024``, ``augusti 2024``, ``Aug-24`` (Swedish and English month names).
- Lines whose first cell starts with ``#`` are comments (``comment:``); blank rows are
  skipped; ``skip_rows:`` skips title rows above the header. Row numbers in messages and
  sources are the file's own line numbers (Excel's row numbers).
- Amounts are ``decimal.Decimal`` in kr from the start (``unit: kr | tkr | mkr``), summed
  exactly, and signed by the mapping's convention (``costs: positive`` is the ledger's own,
  debit-positive one; revenue is then negative unless ``revenue:`` says otherwise). The case
  has the documents' signs: revenue positive, cost negative.
- Codes: an account or unit code entry is a code (``"4551"``, matching 4551 and every longer
  code that starts with it, as in Region-Bas) or a range of codes of one length
  (``"4000-4999"``, matching any code whose first four digits lie in it); ``exclude:`` takes
  codes out again (``40-49`` minus ``455``). A code that maps to nothing, or to two things, is
  an error naming the code and its rows; overlapping entries are an error even before any row
  uses them. Rows the region wants out of the case (balance accounts, other boards' units) are
  listed under ``ignore_accounts`` / ``ignore_units`` with a reason, and counted in the report
  and in ``provenance.yaml``: nothing is dropped silently. A code cell such as ``4551
  Hyrläkare`` is read as its first word.

Writing:

- ledger.csv has a cell for every month x account x division from the first ledger month
  through December of the horizon's last year. Each cell is the exact sum of its rows rounded
  to whole kronor so that the cells of a month add up to the export's own month total rounded
  to the krona (largest remainder; with whole-krona exports every cell is exact). Amounts are
  written in tkr with three decimals.
- The cut-off is the last month with a non-zero actual (or ``cutoff_month:``; actuals after
  it are an error). Every month from the first ledger month to the cut-off must have actuals.
- Every horizon year needs a budget: twelve months from the ledger, or an annual budget from
  ``plan_budget`` (rows year x account code [x unit]) phased over months (and divisions, if the
  plan has no unit column) by the latest ledger year's monthly budget of the account, to
  whole kronor that add up to the plan exactly; such cells have basis ``derived: ...``.
- Agency: the codes of the account with role ``agency`` are split into categories by
  ``agency.categories[].codes``; hours come from the optional hours export (month x
  category), matched by ``hours_label`` (default the Swedish name) or the category id.
- Staff (optional): employees and/or FTE per month, summed over the export's rows; written
  as month-end dates. Without a staff export staff.csv has only its header and case.yaml no
  ``employees_date`` (the report says so).
- provenance.yaml ``totals`` holds, per month with ledger figures, the export's own sums in
  kr (exact decimals as strings; ``null`` where the month has no actual or no budget);
  ``plan_totals`` the plan's annual sums, which the derived months add up to exactly;
  ``ignored`` the rows kept out on purpose, with their sums. figures.csv holds the ledger's
  yearly totals (``ledger_actual_<year>_{revenue,gross_cost,net_cost}_tkr``, likewise
  ``ledger_budget_…``; a year cut off by the cut-off says so in its note) and the board's
  own forecasts from ``board_forecasts:``.
- parameters.csv is copied byte for byte from the file the mapping names (default: the
  template shipped in ``balans/templates/ledger_case/``) after checking it holds every
  required parameter and a pay revision for each horizon year. Scenario files under
  ``scenarios:`` are validated and copied.
- The folder is written into a temporary sibling and renamed into place; an existing
  non-empty folder is refused unless ``force=True``, and is then swapped out by two renames
  (the old one is kept until the new one is in place). Before the rename the written
  ledger.csv is read back and reconciled per month to the krona against the export, and
  the whole folder is loaded as a case: a case the loader refuses is never written.
- Every problem is a :class:`~balans.errors.DataError` naming the file, row, column, value
  and what is allowed; up to 20 problems of one file are reported together.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import io
import math
import os
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .. import yamlsafe
from ..case import DRIVERS, METHODS, REQUIRED_PARAMETERS, ROLES
from ..errors import BalansError, DataError, shown

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "ledger_case"
MAX_PROBLEMS = 20
_ID = r"^[a-z][a-z0-9_]*$"
_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"

# --------------------------------------------------------------------------- the mapping


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _code_str(v: Any) -> Any:
    """YAML reads 4551 as a number; a code is text."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return str(v)
    return v


CodeEntry = Annotated[
    str,
    Field(
        description="A code ('4551': it and every longer code starting with it) or a range of "
        "codes of one length ('4000-4999'). Quote codes with leading zeros ('0123')."
    ),
]


def _check_codes(v: Any) -> Any:
    if not isinstance(v, list):
        v = [v]
    out = []
    for x in v:
        x = _code_str(x)
        if isinstance(x, str):
            _parse_code_entry(x)  # raises ValueError with the reason
        out.append(x)
    return out


class Format(_Model):
    """How an export is written. Every key is optional; a file's own keys win over the
    mapping's ``format:``, which wins over the defaults (auto, ``#``, kr, costs positive)."""

    encoding: Literal["auto", "utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"] | None = Field(
        default=None,
        description="auto (default): BOM, else strict UTF-8, else cp1252.",
    )
    separator: Literal["auto", ";", ",", "\t", "tab"] | None = Field(
        default=None, description="auto (default): ';' if the header has one, else tab, else ','."
    )
    decimal: Literal["auto", ",", "."] | None = Field(
        default=None,
        description="auto (default): ',' with ';' or tab separators and in xlsx text, '.' with ','.",
    )
    comment: str | None = Field(
        default=None,
        max_length=3,
        description="Rows whose first cell starts with this are skipped (default '#'; '' = none).",
    )
    unit: Literal["kr", "tkr", "mkr"] | None = Field(
        default=None, description="Unit of the amounts (default kr)."
    )
    costs: Literal["positive", "negative"] | None = Field(
        default=None,
        description="Sign of costs in the export (default positive: the ledger's debit sign).",
    )
    revenue: Literal["positive", "negative"] | None = Field(
        default=None, description="Sign of revenue in the export (default: opposite of costs)."
    )


class _File(Format):
    file: str = Field(min_length=1, description="Path relative to the mapping file.")
    sheet: str | None = Field(default=None, description="xlsx only: the sheet (default the first).")
    skip_rows: int = Field(default=0, ge=0, le=100, description="Title rows above the header.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return {"file": v} if isinstance(v, str) else v


class LedgerColumns(_Model):
    month: str = "Period"
    account: str = "Konto"
    unit: str = "Ansvar"
    actual: str | None = Field(default="Utfall", description="null: the file has no actuals.")
    budget: str | None = Field(default="Budget", description="null: the file has no budget.")


class LedgerFile(_File):
    """A ledger export: one row per month x account x unit, actual and/or budget."""

    columns: LedgerColumns = LedgerColumns()


class HoursColumns(_Model):
    month: str = "Period"
    category: str = "Kategori"
    hours: str = "Timmar"


class HoursFile(_File):
    """Agency hours per month and category."""

    columns: HoursColumns = HoursColumns()


class StaffColumns(_Model):
    month: str = "Period"
    employees: str | None = Field(default="Anställda", description="null: the export has FTE only.")
    fte: str | None = Field(default=None, description="Full-time equivalents (årsarbetare).")


class StaffFile(_File):
    """Own staff per month: employees (headcount) and optionally FTE."""

    columns: StaffColumns = StaffColumns()


class PlanColumns(_Model):
    year: str = "År"
    account: str = "Konto"
    unit: str | None = Field(default=None, description="null (default): spread over divisions.")
    budget: str = "Budget"


class PlanFile(_File):
    """Annual budget of later years (a multi-year plan), per account code (and unit)."""

    columns: PlanColumns = PlanColumns()


class CaseInfo(_Model):
    id: str = Field(pattern=_ID, max_length=40)
    name: str = Field(min_length=1, max_length=120)
    short_name: str = Field(min_length=1, max_length=60)
    synthetic: bool = False


class Horizon(_Model):
    first_year: int = Field(ge=2000, le=2100)
    last_year: int = Field(ge=2000, le=2100)


class Account(_Model):
    """A Balans account and the region's codes that it sums."""

    id: str = Field(pattern=_ID, max_length=40)
    name_sv: str = Field(min_length=1)
    name_en: str = ""
    side: Literal["revenue", "cost"]
    role: Literal[ROLES]  # type: ignore[valid-type]
    driver: Literal[DRIVERS]  # type: ignore[valid-type]
    baseline_method: Literal[METHODS] = "run_rate"  # type: ignore[valid-type]
    codes: list[CodeEntry] = Field(min_length=1)
    exclude: list[CodeEntry] = Field(default_factory=list)
    source: str = Field(default="", description="Where the codes come from, e.g. Region-Bas.")
    note: str = ""

    @field_validator("codes", "exclude", mode="before")
    @classmethod
    def _code_entries(cls, v: Any) -> Any:
        return _check_codes(v)


class Division(_Model):
    """A division and the unit codes (ansvar) that belong to it."""

    id: str = Field(pattern=_ID, max_length=40)
    name_sv: str = Field(min_length=1)
    name_en: str = ""
    units: list[CodeEntry] = Field(min_length=1)
    exclude: list[CodeEntry] = Field(default_factory=list)

    @field_validator("units", "exclude", mode="before")
    @classmethod
    def _code_entries(cls, v: Any) -> Any:
        return _check_codes(v)


class AgencyCategory(_Model):
    """An agency staff category: its codes within the agency account, its hours label."""

    id: str = Field(pattern=_ID, max_length=40)
    name_sv: str = Field(min_length=1)
    name_en: str = ""
    codes: list[CodeEntry] = Field(min_length=1)
    hours_label: str | None = Field(
        default=None, description="The hours export's category value (default name_sv)."
    )
    agency_share_target_pct: float | None = Field(default=None, ge=0, le=100)
    note: str = ""

    @field_validator("codes", mode="before")
    @classmethod
    def _code_entries(cls, v: Any) -> Any:
        return _check_codes(v)


class Agency(_Model):
    categories: list[AgencyCategory] = Field(min_length=1)


class Ignore(_Model):
    """Codes whose rows stay out of the case, on purpose, with the reason."""

    codes: list[CodeEntry] = Field(min_length=1)
    reason: str = Field(min_length=3)

    @field_validator("codes", mode="before")
    @classmethod
    def _code_entries(cls, v: Any) -> Any:
        return _check_codes(v)


class BoardForecast(_Model):
    net_cost_mkr: float
    made: str = Field(pattern=_MONTH)
    source: str = Field(min_length=1)


class Mapping(_Model):
    """A region's ledger exports and how their codes map to Balans (``balans import``)."""

    case: CaseInfo
    horizon: Horizon
    cutoff_month: str | None = Field(
        default=None, pattern=_MONTH, description="Default: the last month with actuals."
    )
    employees_date: dt.date | None = Field(
        default=None, description="Default: the end of the cut-off month (or the last before)."
    )
    pay_revision_paid: bool | None = None
    format: Format = Format()
    ledger: list[LedgerFile] = Field(min_length=1)
    agency_hours: HoursFile | None = None
    staff: StaffFile | None = Field(
        default=None,
        description="Default none: staff.csv is then empty (the staffing lever needs it).",
    )
    plan_budget: list[PlanFile] = Field(default_factory=list)
    parameters: str | None = Field(
        default=None, description="Default: the parameters.csv of Balans' ledger-case template."
    )
    scenarios: str | None = Field(default=None, description="A folder of scenario files.")
    accounts: list[Account] = Field(min_length=1)
    divisions: list[Division] = Field(min_length=1)
    agency: Agency
    ignore_accounts: list[Ignore] = Field(default_factory=list)
    ignore_units: list[Ignore] = Field(default_factory=list)
    board_forecasts: dict[int, BoardForecast] = Field(default_factory=dict)

    @field_validator("ledger", "plan_budget", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return v if isinstance(v, list) else [v]


def mapping_schema() -> dict[str, Any]:
    """JSON Schema of the mapping file (``balans schema mapping``)."""
    schema = Mapping.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Balans ledger mapping"
    return schema


# --------------------------------------------------------------------------- codes


@dataclass(frozen=True)
class _Code:
    text: str
    lo: int | None = None  # digit entries: the range of the first `width` digits
    hi: int | None = None
    width: int = 0

    def matches(self, code: str) -> bool:
        if self.lo is None:
            return code.startswith(self.text)
        head = code[: self.width]
        return len(head) == self.width and head.isdigit() and self.lo <= int(head) <= self.hi


_RANGE = re.compile(r"^\s*(\d+)\s*[-–]\s*(\d+)\s*$")


def _parse_code_entry(text: str) -> _Code:
    m = _RANGE.match(text)
    if m:
        a, b = m.groups()
        if len(a) != len(b):
            raise ValueError(
                f"range {text!r}: both ends need the same number of digits, e.g. '4000-4999'"
            )
        if int(a) > int(b):
            raise ValueError(f"range {text!r} runs from {a} down to {b}; allowed: from <= to")
        return _Code(text.strip(), int(a), int(b), len(a))
    t = text.strip()
    if not t or any(ch.isspace() for ch in t):
        raise ValueError(f"{text!r} is not a code; allowed: a code such as '4551' or '4000-4999'")
    if t.isdigit():
        return _Code(t, int(t), int(t), len(t))
    return _Code(t)


@dataclass
class _Target:
    kind: str  # account | division | ignore | category
    id: str
    path: str  # mapping path, e.g. accounts[3]
    include: list[_Code]
    exclude: list[_Code]

    def matches(self, code: str) -> bool:
        return any(c.matches(code) for c in self.include) and not any(
            c.matches(code) for c in self.exclude
        )

    def describe(self) -> str:
        s = ", ".join(c.text for c in self.include)
        if self.exclude:
            s += " minus " + ", ".join(c.text for c in self.exclude)
        return s


def _targets(items: Iterable[Any], kind: str, path: str, attr: str) -> list[_Target]:
    out = []
    for i, it in enumerate(items):
        tid = getattr(it, "id", None) or f"{path}[{i}]"
        out.append(
            _Target(
                kind,
                tid,
                f"{path}[{i}]",
                [_parse_code_entry(c) for c in getattr(it, attr)],
                [_parse_code_entry(c) for c in getattr(it, "exclude", [])],
            )
        )
    return out


def _intervals(t: _Target, depth: int) -> list[tuple[int, int]]:
    """The digit codes of a target as closed intervals of ``depth``-digit numbers."""

    def iv(codes: list[_Code]) -> list[tuple[int, int]]:
        out = []
        for c in codes:
            if c.lo is None:
                continue
            k = 10 ** (depth - c.width)
            out.append((c.lo * k, (c.hi + 1) * k - 1))
        return sorted(out)

    inc = iv(t.include)
    for lo_x, hi_x in iv(t.exclude):
        nxt = []
        for lo, hi in inc:
            if hi < lo_x or lo > hi_x:
                nxt.append((lo, hi))
                continue
            if lo < lo_x:
                nxt.append((lo, lo_x - 1))
            if hi > hi_x:
                nxt.append((hi_x + 1, hi))
        inc = nxt
    return inc


def _overlaps(targets: list[_Target], what: str) -> list[str]:
    """Pairs of targets whose code entries share a code (before any row uses it)."""
    widths = [c.width for t in targets for c in (*t.include, *t.exclude) if c.lo is not None]
    problems = []
    if widths:
        depth = max(widths)
        ivs = [_intervals(t, depth) for t in targets]
        for i in range(len(targets)):
            for j in range(i + 1, len(targets)):
                hit = _first_common(ivs[i], ivs[j])
                if hit is not None:
                    a, b = targets[i], targets[j]
                    w = max(
                        [c.width for c in (*a.include, *b.include) if c.lo is not None] or [depth]
                    )
                    code = str(hit // 10 ** (depth - w)).zfill(w)
                    problems.append(
                        f"{what} code {code} is mapped twice: by {a.path} ({a.id}: {a.describe()}) "
                        f"and by {b.path} ({b.id}: {b.describe()})"
                    )
    lits = [(t, c) for t in targets for c in t.include if c.lo is None]
    for i, (ta, ca) in enumerate(lits):
        for tb, cb in lits[i + 1 :]:
            if ta is not tb and (ca.text.startswith(cb.text) or cb.text.startswith(ca.text)):
                problems.append(
                    f"{what} code {max(ca.text, cb.text, key=len)} is mapped twice: by {ta.path} "
                    f"({ta.id}) and by {tb.path} ({tb.id})"
                )
    return problems


def _first_common(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> int | None:
    best = None
    for lo1, hi1 in a:
        for lo2, hi2 in b:
            lo, hi = max(lo1, lo2), min(hi1, hi2)
            if lo <= hi and (best is None or lo < best):
                best = lo
    return best


# --------------------------------------------------------------------------- problems


def _short(value: Any, n: int = 60) -> Any:
    s = value if isinstance(value, str) else repr(value) if value is not None else None
    if isinstance(s, str) and len(s) > n:
        return s[: n - 1] + "…"
    return value


class LedgerImportError(DataError):
    """Several problems of one input file, reported together (``problems``)."""

    def __init__(self, problems: list[DataError], more: bool = False) -> None:
        first = problems[0]
        self.problems = problems
        self.file, self.row, self.column, self.value, self.allowed = (
            first.file,
            first.row,
            first.column,
            first.value,
            first.allowed,
        )
        if len(problems) == 1:
            BalansError.__init__(self, str(first))
            return
        files = {p.file for p in problems}
        one_file = len(files) == 1
        # the same problem in the same column on many rows is one line: rows 3-22, …
        groups: dict[tuple[Any, ...], list[DataError]] = {}
        for p in problems:
            what = getattr(p, "problem", None)
            key = (p.file, p.column, what, p.allowed) if what and p.row else (id(p),)
            groups.setdefault(key, []).append(p)
        lines = []
        for group in groups.values():
            p = group[0]
            if len(group) == 1:
                text = str(p)
                if one_file and text.startswith((p.file + ", ", p.file + ": ")):
                    text = text[len(p.file) + 2 :]
            else:
                rows = _rows_text([q.row for q in group if q.row], 60)
                values = list(dict.fromkeys(_shown(q.value) for q in group if q.value is not None))
                text = "" if one_file else f"{p.file}, "
                text += f"rows {rows}"
                text += f", column '{p.column}'" if p.column else ""
                text += f": {p.problem}"
                if values:
                    text += f" (values: {', '.join(values[:3])}{', …' if len(values) > 3 else ''})"
                text += f"; allowed: {p.allowed}" if p.allowed else ""
            lines.append(f"  - {text}")
        n = f"{len(problems)}{'+' if more else ''} problems"
        lines.insert(0, f"{first.file}: {n}" if one_file else n)
        if more:
            lines.append(f"  (only the first {MAX_PROBLEMS} are shown)")
        BalansError.__init__(self, "\n".join(lines))


def _kerr(file: str, problem: str, *, key: str | None = None, **kw: Any) -> DataError:
    """A DataError about a key of the mapping file: ``mapping.yaml: accounts[3].codes: …``."""
    if "value" in kw:
        kw["value"] = _short(kw["value"])
    err = DataError(file, f"{key}: {problem}" if key else problem, **kw)
    err.column = key
    return err


class _Problems:
    def __init__(self) -> None:
        self.items: list[DataError] = []
        self.more = False

    def add(self, file: str, problem: str, **kw: Any) -> None:
        if len(self.items) >= MAX_PROBLEMS:
            self.more = True
            raise LedgerImportError(self.items, more=True)
        if "key" in kw:
            self.items.append(_kerr(file, problem, **kw))
            return
        if "value" in kw:
            kw["value"] = _short(kw["value"])
        err = DataError(file, problem, **kw)
        err.problem = problem  # type: ignore[attr-defined]
        self.items.append(err)

    def raise_if_any(self) -> None:
        if self.items:
            raise LedgerImportError(self.items, self.more)


def _rows_text(rows: list[int], limit: int = 200) -> str:
    """``2-4, 37, 90-92``; cut with ``… (N rows)`` past ``limit`` characters."""
    rows = sorted(set(rows))
    parts: list[str] = []
    i = 0
    while i < len(rows):
        j = i
        while j + 1 < len(rows) and rows[j + 1] == rows[j] + 1:
            j += 1
        parts.append(str(rows[i]) if i == j else f"{rows[i]}-{rows[j]}")
        i = j + 1
    text = ", ".join(parts)
    if len(text) <= limit:
        return text
    kept = []
    n = 0
    for p in parts:
        if n + len(p) + 2 > limit - 20:
            break
        kept.append(p)
        n += len(p) + 2
    return ", ".join(kept) + f", … ({len(rows)} rows)"


# --------------------------------------------------------------------------- values

_MONTH_NAMES = {
    **dict.fromkeys(["jan", "januari", "january"], 1),
    **dict.fromkeys(["feb", "febr", "februari", "february"], 2),
    **dict.fromkeys(["mar", "mars", "march"], 3),
    **dict.fromkeys(["apr", "april"], 4),
    **dict.fromkeys(["maj", "may"], 5),
    **dict.fromkeys(["jun", "juni", "june"], 6),
    **dict.fromkeys(["jul", "juli", "july"], 7),
    **dict.fromkeys(["aug", "augusti", "august"], 8),
    **dict.fromkeys(["sep", "sept", "september"], 9),
    **dict.fromkeys(["okt", "oktober", "oct", "october"], 10),
    **dict.fromkeys(["nov", "november"], 11),
    **dict.fromkeys(["dec", "december"], 12),
}
MONTH_ALLOWED = "a month such as 2024-08, 202408, 2024-08-31, aug 2024, augusti 2024 or Aug-24"
_M_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})$")
_M_COMPACT = re.compile(r"^(\d{4})(\d{2})$")
_M_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_M_NAME_YEAR = re.compile(r"^([a-zåäö]+)\.?[\s\-/]*(\d{4}|\d{2})$")
_M_YEAR_NAME = re.compile(r"^(\d{4})[\s\-/]*([a-zåäö]+)\.?$")


def parse_month(value: Any) -> tuple[int, int] | None:
    """(year, month) of a month cell, or None if it is not one (see ``MONTH_ALLOWED``)."""
    if isinstance(value, dt.date):  # datetime too
        return value.year, value.month
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or value is None:
        return None
    s = str(value).strip().lower().replace("\u00a0", " ")
    y = mo = None
    if m := (_M_ISO.match(s) or _M_COMPACT.match(s)):
        y, mo = int(m.group(1)), int(m.group(2))
    elif m := _M_DATE.match(s):
        y, mo = int(m.group(1)), int(m.group(2))
        try:
            dt.date(y, mo, int(m.group(3)))
        except ValueError:
            return None
    elif m := _M_NAME_YEAR.match(s):
        mo = _MONTH_NAMES.get(m.group(1))
        y = int(m.group(2))
        y = 2000 + y if y < 100 else y
    elif m := _M_YEAR_NAME.match(s):
        y, mo = int(m.group(1)), _MONTH_NAMES.get(m.group(2))
    if y is None or mo is None or not 1 <= mo <= 12 or not 1990 <= y <= 2100:
        return None
    return y, mo


_SPACES = " \u00a0\u202f\u2009"
_NUM_COMMA = re.compile(rf"^(\d{{1,3}}(?:[{_SPACES}]\d{{3}})+|\d+)(?:,(\d+))?$")
_NUM_POINT = re.compile(rf"^(\d{{1,3}}(?:[{_SPACES},]\d{{3}})+|\d+)(?:\.(\d+))?$")
_MINUSES = "-\u2212"


def amount_allowed(decimal: str) -> str:
    if decimal == ",":
        return (
            "a number such as -1 234 567,89, 1234567 or −1 234 (decimal mark ',', thousands "
            "separated by a space or not at all)"
        )
    return "a number such as -1234567.89 or 1,234,567 (decimal mark '.')"


def parse_number(value: Any, decimal: str) -> Decimal | None:
    """A Decimal from a cell, None if empty; ValueError(reason) if not a number."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    s = str(value).strip()
    if not s:
        return None
    neg = False
    if len(s) > 2 and s[0] == "(" and s[-1] == ")":
        neg, s = True, s[1:-1].strip()
    if s and s[0] in _MINUSES:
        neg, s = not neg, s[1:].lstrip()
    elif s and s[0] == "+":
        s = s[1:].lstrip()
    elif len(s) > 1 and s[-1] in _MINUSES:
        neg, s = not neg, s[:-1].rstrip()
    m = (_NUM_COMMA if decimal == "," else _NUM_POINT).match(s)
    if not m:
        if decimal == "," and "." in s and re.fullmatch(r"[\d\s.]+", s):
            raise ValueError(
                "a '.' in an amount where ',' is the decimal mark (set decimal: '.' for the file "
                "in the mapping if the export uses a decimal point)"
            )
        raise ValueError("not a number")
    whole = re.sub(rf"[{_SPACES},]", "", m.group(1))
    number = Decimal(whole + ("." + m.group(2) if m.group(2) else ""))
    return -number if neg else number


_UNIT_FACTOR = {"kr": Decimal(1), "tkr": Decimal(1000), "mkr": Decimal(1_000_000)}


def _code_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    s = str(value).strip()
    first = s.split(maxsplit=1)
    if len(first) == 2 and first[0].isdigit():
        return first[0]  # '4551 Hyrläkare'
    return s


# --------------------------------------------------------------------------- reading files


@dataclass
class _Table:
    file: str  # as the mapping names it
    sheet: str | None
    header: list[str]
    rows: list[tuple[int, list[Any]]]  # (the file's row number, cells)
    sha256: str
    decimal: str
    described: str  # e.g. "cp1252, ';', decimal ','"
    header_row: int

    def label(self) -> str:
        return f"{self.file} › {self.sheet}" if self.sheet else self.file


def _resolved(spec: _File, fmt: Format) -> dict[str, Any]:
    out = {
        "encoding": "auto",
        "separator": "auto",
        "decimal": "auto",
        "comment": "#",
        "unit": "kr",
        "costs": "positive",
        "revenue": None,
    }
    for src in (fmt, spec):
        for k in out:
            v = getattr(src, k)
            if v is not None:
                out[k] = v
    if out["revenue"] is None:
        out["revenue"] = "negative" if out["costs"] == "positive" else "positive"
    if out["separator"] == "tab":
        out["separator"] = "\t"
    return out


def _read_table(base: Path, spec: _File, opts: dict[str, Any], where: str) -> _Table:
    path = base / spec.file
    mfile, _, mkey = where.partition(" › ")
    if not path.is_file():
        raise _kerr(
            mfile,
            "the file does not exist",
            key=f"{mkey}.file",
            value=spec.file,
            allowed=f"a file beside the mapping ({base})",
        )
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, spec, opts, sha)
    if spec.sheet is not None:
        raise _kerr(
            mfile,
            "a sheet is given for a file that is not xlsx",
            key=f"{mkey}.sheet",
            value=spec.sheet,
            allowed="sheet only with .xlsx files",
        )
    text, enc = _decode(data, opts["encoding"], spec.file)
    lines = text.splitlines()
    comment = opts["comment"]
    # comments and skipped rows become blank lines, so line numbers stay the file's own
    cleaned = [
        "" if i < spec.skip_rows or (comment and ln.lstrip().startswith(comment)) else ln
        for i, ln in enumerate(lines)
    ]
    header_line = next((ln for ln in cleaned if ln.strip()), None)
    if header_line is None:
        raise DataError(spec.file, "the file has no header row and no rows")
    sep = opts["separator"]
    if sep == "auto":
        sep = ";" if ";" in header_line else "\t" if "\t" in header_line else ","
    decimal = opts["decimal"]
    if decimal == "auto":
        decimal = "," if sep in ";\t" else "."
    if sep == decimal:
        raise DataError(
            spec.file,
            "the separator and the decimal mark are the same",
            value=sep,
            allowed="decimal ',' with ';' or tab, '.' with ','",
        )
    reader = csv.reader(io.StringIO("\n".join(cleaned)), delimiter=sep)
    header: list[str] | None = None
    header_row = 0
    rows: list[tuple[int, list[Any]]] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header, header_row = cells, reader.line_num
            else:
                rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise DataError(spec.file, f"not readable as CSV ({exc})", row=reader.line_num) from None
    described = f"{enc}, {'tab' if sep == chr(9) else repr(sep)}, decimal {decimal!r}"
    return _Table(spec.file, None, header or [], rows, sha, decimal, described, header_row)


def _decode(data: bytes, encoding: str, file: str) -> tuple[str, str]:
    if encoding == "auto":
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:].decode("utf-8", errors="strict"), "UTF-8 with BOM"
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return data.decode("utf-16"), "UTF-16"
        try:
            return data.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            pass
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            return data.decode("latin-1"), "Latin-1"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        raise DataError(
            file,
            f"not {encoding} text ({exc.reason} at byte {exc.start})",
            allowed="UTF-8, UTF-8 with BOM, cp1252 or Latin-1 (encoding: auto in the mapping)",
        ) from None


def _read_xlsx(path: Path, spec: _File, opts: dict[str, Any], sha: str) -> _Table:
    try:
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a broken or non-xlsx file: openpyxl raises many kinds
        raise DataError(
            spec.file,
            f"not a readable xlsx workbook ({type(exc).__name__})",
            allowed="an Excel workbook (.xlsx) saved by Excel or LibreOffice",
        ) from None
    try:
        if spec.sheet is None:
            ws = wb.worksheets[0]
        elif spec.sheet in wb.sheetnames:
            ws = wb[spec.sheet]
        else:
            raise DataError(
                spec.file,
                "no such sheet",
                value=spec.sheet,
                allowed=", ".join(wb.sheetnames),
            )
        comment = opts["comment"]
        header: list[str] | None = None
        header_row = 0
        rows: list[tuple[int, list[Any]]] = []
        for r, cells in enumerate(ws.iter_rows(values_only=True), start=1):
            if r <= spec.skip_rows:
                continue
            cells = ["" if c is None else c for c in cells]
            if not any(str(c).strip() for c in cells):
                continue
            first = next(c for c in cells if str(c).strip())
            if comment and isinstance(first, str) and first.lstrip().startswith(comment):
                continue
            if header is None:
                header, header_row = [str(c) for c in cells], r
            else:
                rows.append((r, list(cells)))
        title = ws.title
    finally:
        wb.close()
    decimal = "," if opts["decimal"] == "auto" else opts["decimal"]
    return _Table(spec.file, title, header or [], rows, sha, decimal, "xlsx", header_row)


def _norm(name: str) -> str:
    return " ".join(str(name).replace("\u00a0", " ").replace("\ufeff", "").split()).casefold()


def _columns(table: _Table, wanted: dict[str, str | None], where: str) -> dict[str, int | None]:
    """Index of each wanted column (None where the mapping says the file has none)."""
    if not table.header:
        raise DataError(table.label(), "the file has no header row")
    index: dict[str, int] = {}
    for i, h in enumerate(table.header):
        if _norm(h):
            index.setdefault(_norm(h), i)
    found: dict[str, int | None] = {}
    missing: list[tuple[str, str]] = []
    for key, name in wanted.items():
        if name is None:
            found[key] = None
        elif _norm(name) not in index:
            missing.append((key, name))
        else:
            found[key] = index[_norm(name)]
    if missing:
        shown = _short(", ".join(repr(h) for h in table.header if str(h).strip()), 120)
        if len(missing) == 1:
            key, name = missing[0]
            raise DataError(
                table.label(),
                "a column is missing",
                row=table.header_row,
                column=name,
                allowed=f"the header's columns {shown}; or name the {key} column in "
                f"{where}.columns.{key}",
            )
        raise DataError(
            table.label(),
            "columns are missing: " + ", ".join(repr(n) for _, n in missing),
            row=table.header_row,
            allowed=f"the header's columns {shown}; or name them in {where}.columns (is this "
            "the right file, and the right header row? skip_rows skips title rows)",
        )
    return found


def _cell(cells: list[Any], i: int | None) -> Any:
    if i is None or i >= len(cells):
        return None
    v = cells[i]
    return None if isinstance(v, str) and not v.strip() else v


# --------------------------------------------------------------------------- the import


@dataclass(frozen=True)
class FileRecord:
    file: str
    sheet: str | None
    rows: int
    sha256: str
    role: str
    described: str = ""


@dataclass
class ImportReport:
    """What ``import_ledger`` read and wrote; ``text()`` is the command line's report."""

    out_dir: Path
    case_name: str
    files: list[FileRecord]
    first_ledger_month: str
    cutoff_month: str
    first_month: str
    last_month: str
    accounts: int
    divisions: int
    categories: int
    actual_months: int
    budget_months: int
    derived_budget_years: list[int]
    reconciled: dict[str, tuple[Decimal | None, Decimal | None]]  # month -> (actual, budget) kr
    ignored: list[dict[str, Any]] = field(default_factory=list)
    scenarios: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"balans import: {self.case_name} -> {self.out_dir}"]
        for f in self.files:
            label = f"{f.file} › {f.sheet}" if f.sheet else f.file
            lines.append(f"  {label}: {f.rows} rows ({f.role}; {f.described})")
        lines.append(
            f"  months {self.first_ledger_month} to {self.last_month}: actuals through "
            f"{self.cutoff_month} (cut-off), horizon {self.first_month} to {self.last_month}"
        )
        lines.append(
            f"  {self.accounts} accounts, {self.divisions} divisions, {self.categories} agency "
            "categories" + (f", {len(self.scenarios)} scenarios" if self.scenarios else "")
        )
        if self.derived_budget_years:
            years = ", ".join(map(str, self.derived_budget_years))
            lines.append(f"  budget {years}: the plan's annual budget phased by month (derived)")
        for ig in self.ignored:
            lines.append(
                f"  ignored on purpose: {ig['rows']} rows of {ig['what']} ({ig['reason']})"
            )
        lines += [f"  note: {n}" for n in self.notes]
        lines.append(
            f"  reconciled per month to the krona: OK ({self.actual_months} months of actuals, "
            f"{self.budget_months} months of budget from the ledger)"
        )
        return "\n".join(lines)


@dataclass
class _Cell:
    actual: Decimal = Decimal(0)
    budget: Decimal = Decimal(0)
    rows: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))


Month = tuple[int, int]


def _m(m: Month) -> str:
    return f"{m[0]}-{m[1]:02d}"


def _months_between(a: Month, b: Month) -> list[Month]:
    out = []
    y, mo = a
    while (y, mo) <= b:
        out.append((y, mo))
        y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
    return out


def _month_end(m: Month) -> dt.date:
    nxt = dt.date(m[0] + 1, 1, 1) if m[1] == 12 else dt.date(m[0], m[1] + 1, 1)
    return nxt - dt.timedelta(days=1)


def _tkr(kr: Decimal) -> str:
    return f"{(kr / 1000).quantize(Decimal('0.001')):.3f}"


def _kr_text(kr: Decimal) -> str:
    return f"{kr.quantize(Decimal('0.01')):.2f}"


def _round_kr(x: Decimal) -> Decimal:
    return x.quantize(Decimal(1), rounding=ROUND_HALF_UP)


def _shown(value: object) -> str:
    """A cell's value as a controller wrote it: a date as YYYY-MM-DD, text quoted."""
    import datetime as _dt

    if isinstance(value, _dt.datetime | _dt.date):
        return repr(value.strftime("%Y-%m-%d"))
    return repr(value)


def apportion(values: list[Decimal], total: Decimal) -> list[Decimal]:
    """Whole kronor near ``values`` that add up to the whole-krona ``total`` exactly
    (largest remainder; ties to the earlier value)."""
    floors = [v.to_integral_value(rounding=ROUND_FLOOR) for v in values]
    rest = int(total - sum(floors, Decimal(0)))
    if not values:
        return []
    out = list(floors)
    n = len(values)
    base, extra = divmod(rest, n)
    if base:
        out = [v + base for v in out]
    order = sorted(range(n), key=lambda i: (-(values[i] - floors[i]), i))
    for i in order[:extra]:
        out[i] += 1
    return out


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping file; a bad one raises a DataError naming the key."""
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise DataError(name, "the mapping file does not exist", allowed="a YAML file")
    try:
        data = yamlsafe.load(path.read_text(encoding="utf-8-sig"), _UniqueKeyLoader)
    except UnicodeDecodeError as exc:
        raise DataError(name, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except yamlsafe.YamlProblem as exc:
        raise DataError(name, f"not valid YAML ({exc.problem})", row=exc.line) from None
    if not isinstance(data, dict):
        raise DataError(name, "the mapping must be a YAML mapping of keys", value=_short(data))
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        raise LedgerImportError(_pydantic_problems(exc, name)) from None
    _check_mapping(mapping, name)
    return mapping


class _UniqueKeyLoader(yamlsafe.Loader):
    pass


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        yamlsafe.check_key(key, key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {shown(key)} appears twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _all_fields() -> set[str]:
    names: set[str] = set()
    for model in (
        Mapping,
        CaseInfo,
        Horizon,
        Format,
        LedgerFile,
        LedgerColumns,
        HoursFile,
        HoursColumns,
        StaffFile,
        StaffColumns,
        PlanFile,
        PlanColumns,
        Account,
        Division,
        AgencyCategory,
        Agency,
        Ignore,
        BoardForecast,
    ):
        names |= set(model.model_fields)
    return names


def _pydantic_problems(exc: ValidationError, file: str) -> list[DataError]:
    out = []
    fields = _all_fields()
    for err in exc.errors()[:MAX_PROBLEMS]:
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        path = ""
        for p in loc:
            path += f"[{p}]" if isinstance(p, int) else (f".{p}" if path else str(p))
        kind = err["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1])
            near = difflib.get_close_matches(key, fields, n=1)
            out.append(
                _kerr(
                    file,
                    "unknown key",
                    key=path,
                    allowed=f"did you mean '{near[0]}'?" if near else "see `balans schema mapping`",
                )
            )
            continue
        if kind == "missing":
            out.append(_kerr(file, "a required key is missing", key=path))
            continue
        msg = err["msg"].removeprefix("Value error, ")
        if kind == "model_type":
            msg = "expected keys here (a file entry may also be just a file name)"
        out.append(_kerr(file, msg, key=path or None, value=_short(err.get("input"))))
    return out


def _check_mapping(m: Mapping, file: str) -> None:
    p = _Problems()
    for what, items in (
        ("accounts", m.accounts),
        ("divisions", m.divisions),
        ("agency.categories", m.agency.categories),
    ):
        seen: dict[str, int] = {}
        for i, it in enumerate(items):
            if it.id in seen:
                p.add(
                    file,
                    f"the id is used twice (also {what}[{seen[it.id]}])",
                    key=f"{what}[{i}].id",
                    value=it.id,
                    allowed="a different id for each",
                )
            seen.setdefault(it.id, i)
    if m.horizon.first_year > m.horizon.last_year:
        p.add(
            file,
            "the horizon ends before it starts",
            key="horizon.last_year",
            value=m.horizon.last_year,
            allowed=f"{m.horizon.first_year} or later",
        )
    if (
        m.cutoff_month
        and not m.horizon.first_year <= int(m.cutoff_month[:4]) <= m.horizon.last_year
    ):
        p.add(
            file,
            "the cut-off lies outside the horizon",
            key="cutoff_month",
            value=m.cutoff_month,
            allowed=f"a month of {m.horizon.first_year} to {m.horizon.last_year}",
        )
    for i, a in enumerate(m.accounts):
        col = f"accounts[{i}]"
        if a.side == "revenue" and a.role != "revenue":
            p.add(
                file,
                "a revenue account has role revenue",
                key=f"{col}.role",
                value=a.role,
                allowed="revenue",
            )
        if a.role == "revenue" and a.side != "revenue":
            p.add(
                file,
                "role revenue is for revenue accounts",
                key=f"{col}.side",
                value=a.side,
                allowed="revenue",
            )
        want = {"personnel": "pay", "agency": "agency"}.get(a.role)
        if want and a.driver != want:
            p.add(
                file,
                f"the {a.role} account has driver {want}",
                key=f"{col}.driver",
                value=a.driver,
                allowed=want,
            )
    for role in ("personnel", "agency", "drugs", "purchased_care"):
        n = sum(a.role == role for a in m.accounts)
        if n != 1:
            p.add(
                file,
                f"{n} accounts have role {role}",
                key="accounts",
                allowed=f"exactly one account with role {role}",
            )
    acc = _targets(m.accounts, "account", "accounts", "codes") + _targets(
        m.ignore_accounts, "ignore", "ignore_accounts", "codes"
    )
    div = _targets(m.divisions, "division", "divisions", "units") + _targets(
        m.ignore_units, "ignore", "ignore_units", "codes"
    )
    cats = _targets(m.agency.categories, "category", "agency.categories", "codes")
    for problem in _overlaps(acc, "account") + _overlaps(div, "unit") + _overlaps(cats, "agency"):
        p.add(file, problem, allowed="each code in one place only (use exclude: to cut a range)")
    agency = [t for t, a in zip(acc, m.accounts, strict=False) if a.role == "agency"]
    if agency:
        widths = [c.width for t in (*cats, *agency) for c in t.include if c.lo is not None]
        depth = max(widths, default=0)
        ag = _intervals(agency[0], depth)
        for t in cats:
            for lo, hi in _intervals(t, depth):
                inside = sum(
                    max(0, min(hi, b) - max(lo, a) + 1) for a, b in ag
                )  # intervals are disjoint
                if inside != hi - lo + 1:
                    p.add(
                        file,
                        "an agency category's codes lie outside the agency account",
                        key=f"{t.path}.codes",
                        value=t.describe(),
                        allowed=f"codes within {agency[0].describe()}",
                    )
                    break
    years = range(m.horizon.first_year, m.horizon.last_year + 1)
    for y in m.board_forecasts:
        if y not in years:
            p.add(
                file,
                "a board forecast for a year outside the horizon",
                key=f"board_forecasts.{y}",
                value=y,
            )
    p.raise_if_any()


@dataclass
class _Row:
    file: str
    row: int
    month: Month
    account: str
    unit: str
    actual: Decimal | None
    budget: Decimal | None


def import_ledger(
    mapping_path: str | Path,
    out_dir: str | Path,
    *,
    force: bool = False,
    parameters: str | Path | None = None,
) -> ImportReport:
    """Read the exports a mapping names and write the ledger case folder ``out_dir``.

    ``parameters`` overrides the mapping's parameters file. Raises a
    :class:`~balans.errors.DataError` (never writes anything) on bad input.
    """
    mapping_path = Path(mapping_path)
    out = Path(out_dir).absolute()
    _check_out(out, force, str(out_dir))
    m = load_mapping(mapping_path)
    base = mapping_path.parent
    built = _build(m, base, str(mapping_path), parameters)
    report = built.report
    report.out_dir = Path(out_dir)
    _write_folder(out, force, lambda tmp: _write_case(tmp, m, built, mapping_path))
    return report


def _check_out(out: Path, force: bool, shown: str | None = None) -> None:
    shown = shown or str(out)
    if out.exists() and not out.is_dir():
        raise DataError(shown, "the output exists and is not a folder", allowed="a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise DataError(
            shown,
            "the output folder exists and is not empty; nothing was written",
            allowed="a new or empty folder, or --force to replace it",
        )


def _load_back(tmp: Path, out: Path) -> None:
    """Load the written folder as every face will, before it goes into place: a case the
    loader refuses (e.g. a sign convention the mapping got wrong) is never written."""
    from ..case import load_case

    try:
        load_case(tmp)
    except DataError as exc:
        message = str(exc).replace(str(tmp), str(out))
        raise DataError(
            str(out), f"the imported case does not load, so nothing was written: {message}"
        ) from None


def _write_folder(out: Path, force: bool, write: Callable[[Path], None]) -> None:
    """Write into a temporary sibling, then rename it into place (see module docstring)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as exc:
        raise DataError(str(out), f"cannot create the folder ({exc.strerror})") from None
    try:
        write(tmp)
        _load_back(tmp, out)
        _check_out(out, force)
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rename(out, old / out.name)
            os.rename(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataError(str(out), f"cannot write the case folder ({exc.strerror})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@dataclass
class _Built:
    report: ImportReport
    accounts: list[Account]
    divisions: list[Division]
    acc_targets: list[_Target]
    div_targets: list[_Target]
    months: list[Month]
    first: Month
    cutoff: Month
    last: Month
    employees_date: dt.date | None
    ledger_rows: list[list[str]]
    agency_rows: list[list[str]]
    staff_rows: list[list[str]]
    figure_rows: list[list[str]]
    files: list[FileRecord]
    totals: dict[str, dict[str, str | None]]
    plan_totals: dict[int, dict[str, str]]
    ignored: list[dict[str, Any]]
    parameters_path: Path
    scenario_files: list[Path]
    check_actual: dict[str, Decimal]
    check_budget: dict[str, Decimal]
    check_agency: dict[str, Decimal]


def _build(m: Mapping, base: Path, mname: str, parameters: str | Path | None) -> _Built:
    first = (m.horizon.first_year, 1)
    last = (m.horizon.last_year, 12)
    acc_t = _targets(m.accounts, "account", "accounts", "codes")
    ign_a = _targets(m.ignore_accounts, "ignore", "ignore_accounts", "codes")
    div_t = _targets(m.divisions, "division", "divisions", "units")
    ign_u = _targets(m.ignore_units, "ignore", "ignore_units", "codes")
    cat_t = _targets(m.agency.categories, "category", "agency.categories", "codes")
    side = {a.id: a.side for a in m.accounts}
    agency_id = next(a.id for a in m.accounts if a.role == "agency")
    files: list[FileRecord] = []

    # ---- ledger rows
    rows: list[_Row] = []
    for i, spec in enumerate(m.ledger):
        opts = _resolved(spec, m.format)
        table = _read_table(base, spec, opts, f"{mname} › ledger[{i}]")
        cols = _columns(table, spec.columns.model_dump(), f"{mname} › ledger[{i}]")
        if cols["actual"] is None and cols["budget"] is None:
            raise _kerr(
                mname,
                "a ledger file needs an actual or a budget column",
                key=f"ledger[{i}].columns",
            )
        rows += _ledger_rows(table, spec.columns, cols, opts, side, acc_t, ign_a)
        files.append(
            FileRecord(
                table.file, table.sheet, len(table.rows), table.sha256, "ledger", table.described
            )
        )

    # ---- map codes (each distinct code once), collecting every problem with its rows
    acc_of, div_of, cat_of, ignored = _resolve(rows, acc_t + ign_a, div_t + ign_u, cat_t, agency_id)
    kept = [r for r in rows if acc_of[r.account] != "" and div_of[r.unit] != ""]
    if not kept:
        raise DataError(
            ", ".join(s.file for s in m.ledger),
            "every row is ignored",
            allowed="rows of the mapping's accounts and divisions",
        )

    # sign: the documents' signs (revenue +, cost -)
    by_file_opts = {spec.file: _resolved(spec, m.format) for spec in m.ledger}

    def signed(r: _Row, v: Decimal | None) -> Decimal | None:
        if v is None:
            return None
        o = by_file_opts[r.file]
        s = side[acc_of[r.account]]
        positive = o["revenue"] if s == "revenue" else o["costs"]
        want_positive = s == "revenue"
        return v if (positive == "positive") == want_positive else -v

    # ---- months, cut-off
    has_actual: dict[Month, bool] = defaultdict(bool)
    has_budget: dict[Month, bool] = defaultdict(bool)
    for r in kept:
        if r.actual is not None and r.actual != 0:
            has_actual[r.month] = True
        if r.budget is not None:
            has_budget[r.month] = True
    actual_months = sorted(mo for mo, v in has_actual.items() if v)
    if not actual_months:
        raise DataError(
            ", ".join(s.file for s in m.ledger),
            "the ledger has no actuals",
            allowed="rows with a non-zero actual",
        )
    first_ledger = min(min(r.month for r in kept), first)
    if m.cutoff_month:
        cutoff = (int(m.cutoff_month[:4]), int(m.cutoff_month[5:]))
        late = [r for r in kept if r.month > cutoff and r.actual]
        if late:
            f0 = late[0].file
            raise DataError(
                f0,
                f"the ledger has actuals after the cut-off {m.cutoff_month} (rows "
                f"{_rows_text([r.row for r in late if r.file == f0], 80)})",
                value=_m(max(r.month for r in late)),
                allowed="a cutoff_month at or after the last month with actuals, or an export "
                "that ends at the cut-off",
            )
    else:
        cutoff = actual_months[-1]
    if not first <= cutoff <= last:
        raise _kerr(
            mname,
            "the cut-off lies outside the horizon",
            key="cutoff_month",
            value=_m(cutoff),
            allowed=f"a month of {first[0]} to {last[0]}",
        )
    missing = [mo for mo in _months_between(first_ledger, cutoff) if not has_actual[mo]]
    if missing:
        raise DataError(
            ", ".join(s.file for s in m.ledger),
            "months up to the cut-off without actuals: " + ", ".join(map(_m, missing[:12])),
            allowed="every month from the first ledger month to the cut-off "
            f"({_m(first_ledger)} to {_m(cutoff)})",
        )
    after = [r for r in kept if r.month > last]
    if after:
        raise DataError(
            after[0].file,
            "a row for a month after the horizon",
            row=after[0].row,
            value=_m(after[0].month),
            allowed=f"months up to {_m(last)}",
        )

    # ---- cells
    cells: dict[tuple[Month, str, str], _Cell] = defaultdict(_Cell)
    seen_in: dict[tuple[Month, str, str, str], str] = {}
    dup = _Problems()
    for r in kept:
        key = (r.month, acc_of[r.account], div_of[r.unit])
        c = cells[key]
        for q, v in (("actual", r.actual), ("budget", r.budget)):
            if v is None:
                continue
            k2 = (r.month, r.account, r.unit, q)
            if seen_in.setdefault(k2, r.file) != r.file:
                dup.add(
                    r.file,
                    f"the same month, account and unit has a {q} in "
                    f"{seen_in[k2]} too (files that overlap would count it twice)",
                    row=r.row,
                    value=f"{_m(r.month)} {r.account} {r.unit}",
                    allowed="each month's actuals and budget in one file only",
                )
            setattr(c, q, getattr(c, q) + signed(r, v))
        c.rows[r.file].append(r.row)
    dup.raise_if_any()

    # ---- budget years: ledger (12 months) or plan
    years = list(range(first[0], last[0] + 1))
    ledger_budget_years = []
    for y in years:
        months_y = [(y, mo) for mo in range(1, 13)]
        n = sum(has_budget[mo] for mo in months_y)
        if n == 12:
            ledger_budget_years.append(y)
        elif n:
            raise DataError(
                ", ".join(s.file for s in m.ledger),
                f"the ledger has a budget for only some months of {y}: missing "
                + ", ".join(_m(mo) for mo in months_y if not has_budget[mo]),
                allowed="a budget for all twelve months of a year, or none (then plan_budget)",
            )
    plan_cells, plan_totals, plan_years, plan_basis = _plan(
        m, base, mname, files, acc_t, div_t, ign_a, ign_u, side, cells, ledger_budget_years
    )
    for y in years:
        if y not in ledger_budget_years and y not in plan_years:
            raise _kerr(
                mname,
                f"the horizon's year {y} has no budget",
                key="plan_budget",
                allowed="a monthly budget for the year in the ledger, or an annual budget in a "
                "plan_budget file",
            )

    # ---- ledger.csv: every month x account x division, rounded per month to the krona
    months = _months_between(first_ledger, last)
    acc_ids = [a.id for a in m.accounts]
    div_ids = [d.id for d in m.divisions]
    ledger_rows: list[list[str]] = []
    totals: dict[str, dict[str, str | None]] = {}
    check_actual: dict[str, Decimal] = {}
    check_budget: dict[str, Decimal] = {}
    written_actual: dict[tuple[Month, str, str], Decimal] = {}
    reconciled: dict[str, tuple[Decimal | None, Decimal | None]] = {}
    for mo in months:
        keys = [(mo, a, d) for a in acc_ids for d in div_ids]
        is_actual = mo <= cutoff
        is_budget = has_budget[mo]
        act_exact = [cells[k].actual if k in cells else Decimal(0) for k in keys]
        bud_exact = [cells[k].budget if k in cells else Decimal(0) for k in keys]
        act_total = sum(act_exact, Decimal(0))
        bud_total = sum(bud_exact, Decimal(0))
        act = apportion(act_exact, _round_kr(act_total)) if is_actual else None
        if is_budget:
            bud = apportion(bud_exact, _round_kr(bud_total))
        elif mo in plan_cells:
            bud = [plan_cells[mo].get((a, d), Decimal(0)) for _, a, d in keys]
        else:
            bud = None
        if is_actual or is_budget:
            totals[_m(mo)] = {
                "actual_kr": _kr_text(act_total) if is_actual else None,
                "budget_kr": _kr_text(bud_total) if is_budget else None,
            }
            reconciled[_m(mo)] = (
                act_total if is_actual else None,
                bud_total if is_budget else None,
            )
        for i, (_, a, d) in enumerate(keys):
            k = (mo, a, d)
            if act is not None:
                written_actual[k] = act[i]
            derived = bud is not None and not is_budget
            if derived:
                basis = plan_basis[mo[0]]
                src = plan_cells[mo].get(("__src__", a, d), "")
            else:
                basis = "ledger"
                src = _source(cells[k].rows, files) if k in cells else "no rows in the ledger"
            ledger_rows.append(
                [
                    _m(mo),
                    a,
                    d,
                    _tkr(act[i]) if act is not None else "",
                    _tkr(bud[i]) if bud is not None else "",
                    basis,
                    src,
                ]
            )
        if act is not None:
            check_actual[_m(mo)] = sum(act, Decimal(0))
        if bud is not None and is_budget:
            check_budget[_m(mo)] = sum(bud, Decimal(0))

    # ---- agency months
    agency_rows, check_agency = _agency(
        m,
        base,
        mname,
        files,
        kept,
        acc_of,
        cat_of,
        agency_id,
        written_actual,
        div_ids,
        cutoff,
        first_ledger,
        signed,
    )

    # ---- staff
    staff_rows, employees_date = _staff(m, base, mname, files, cutoff)

    # ---- figures: the ledger's yearly totals
    figure_rows = _figures(m, ledger_rows, files, cutoff, plan_years, plan_totals, side)

    # ---- parameters and scenarios
    par = Path(parameters) if parameters else (base / m.parameters if m.parameters else None)
    par = par or TEMPLATE_DIR / "parameters.csv"
    _check_parameters(par, years)
    scen = _scenarios(m, base, mname)

    ign_summary = []
    for t in ign_a + ign_u:
        hit = [r for r in rows if ignored.get((r.file, r.row)) == t.path]
        ign_summary.append(
            {
                "what": f"{t.path} ({t.describe()})",
                "reason": (m.ignore_accounts + m.ignore_units)[(ign_a + ign_u).index(t)].reason,
                "rows": len(hit),
                "actual_kr": _kr_text(sum((r.actual or Decimal(0) for r in hit), Decimal(0))),
                "budget_kr": _kr_text(sum((r.budget or Decimal(0) for r in hit), Decimal(0))),
            }
        )
    report = ImportReport(
        out_dir=Path("."),
        case_name=m.case.name,
        files=files,
        first_ledger_month=_m(first_ledger),
        cutoff_month=_m(cutoff),
        first_month=_m(first),
        last_month=_m(last),
        accounts=len(m.accounts),
        divisions=len(m.divisions),
        categories=len(m.agency.categories),
        actual_months=sum(1 for v in reconciled.values() if v[0] is not None),
        budget_months=sum(1 for v in reconciled.values() if v[1] is not None),
        derived_budget_years=sorted(plan_years),
        reconciled=reconciled,
        ignored=ign_summary,
        scenarios=[p.name for p in scen],
        notes=[
            *(
                ["no staff export: staff.csv has only its header (the staffing lever needs it)"]
                if m.staff is None
                else []
            ),
            *(
                [
                    "no agency hours export: agency_months.csv has no hours (they price the agency "
                    "lever)"
                ]
                if m.agency_hours is None
                else []
            ),
        ],
    )
    return _Built(
        report,
        list(m.accounts),
        list(m.divisions),
        acc_t,
        div_t,
        months,
        first,
        cutoff,
        last,
        employees_date,
        ledger_rows,
        agency_rows,
        staff_rows,
        figure_rows,
        files,
        totals,
        plan_totals,
        ign_summary,
        par,
        scen,
        check_actual,
        check_budget,
        check_agency,
    )


def _ledger_rows(
    table: _Table,
    colspec: LedgerColumns,
    cols: dict[str, int | None],
    opts: dict[str, Any],
    side: dict[str, str],
    acc_t: list[_Target],
    ign_a: list[_Target],
) -> list[_Row]:
    p = _Problems()
    factor = _UNIT_FACTOR[opts["unit"]]
    out = []
    label = table.label()
    for rn, cells in table.rows:
        raw_m = _cell(cells, cols["month"])
        month = parse_month(raw_m)
        if month is None:
            p.add(
                label,
                "not a month" if raw_m is not None else "the month is empty",
                row=rn,
                column=colspec.month,
                value=raw_m,
                allowed=MONTH_ALLOWED,
            )
        account = _code_cell(_cell(cells, cols["account"]))
        unit = _code_cell(_cell(cells, cols["unit"]))
        if not account:
            p.add(
                label,
                "the account code is empty",
                row=rn,
                column=colspec.account,
                allowed="an account code (a totals row? delete it from the export)",
            )
        if not unit:
            p.add(
                label,
                "the unit code is empty",
                row=rn,
                column=colspec.unit,
                allowed="a unit code (ansvar)",
            )
        vals = {}
        for q, name in (("actual", colspec.actual), ("budget", colspec.budget)):
            raw = _cell(cells, cols[q])
            try:
                v = parse_number(raw, table.decimal)
            except ValueError as exc:
                p.add(
                    label,
                    f"not an amount: {exc}",
                    row=rn,
                    column=name,
                    value=raw,
                    allowed=amount_allowed(table.decimal),
                )
                v = None
            vals[q] = v * factor if v is not None else None
        if month and account and unit:
            out.append(_Row(table.file, rn, month, account, unit, vals["actual"], vals["budget"]))
    p.raise_if_any()
    if not out:
        raise DataError(label, "the file has no rows", allowed="one row per month x account x unit")
    return out


def _resolve(
    rows: list[_Row],
    acc: list[_Target],
    div: list[_Target],
    cats: list[_Target],
    agency_id: str,
) -> tuple[dict[str, str], dict[str, str], dict[str, str], dict[tuple[str, int], str]]:
    """Each account code -> account id ('' = ignored); unit -> division; agency code -> category.

    Raises one problem per code that maps to nothing or to two things, naming its rows."""
    p = _Problems()
    acc_of: dict[str, str] = {}
    div_of: dict[str, str] = {}
    cat_of: dict[str, str] = {}
    ignored_by: dict[str, str] = {}

    def check(kind: str, rows_: list[_Row], targets: list[_Target], store: dict[str, str]) -> None:
        what, key = ("account code", "accounts") if kind == "a" else ("unit", "divisions")
        where: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for r in rows_:
            where[r.account if kind == "a" else r.unit][r.file].append(r.row)
        for code in sorted(where):
            hits = [t for t in targets if t.matches(code)]
            if len(hits) == 1:
                t = hits[0]
                store[code] = "" if t.kind == "ignore" else t.id
                if t.kind == "ignore":
                    ignored_by[f"{kind}:{code}"] = t.path
                continue
            files = where[code]
            f0 = next(iter(files))
            rtext = _rows_text(files[f0], 80)
            if len(files) > 1:
                rtext += "; and rows in " + ", ".join(list(files)[1:])
            if not hits:
                p.add(
                    f0,
                    f"{what} {code} maps to nothing (rows {rtext})",
                    value=code,
                    allowed=f"add it to the codes of one of the mapping's {key}, or to "
                    f"ignore_{'accounts' if kind == 'a' else 'units'} with a reason",
                )
            else:
                both = " and ".join(f"{t.path} ({t.id})" for t in hits)
                p.add(
                    f0,
                    f"{what} {code} maps to two things: {both} (rows {rtext})",
                    value=code,
                    allowed="each code in one place only (use exclude: to cut a range)",
                )

    check("a", rows, acc, acc_of)
    p.raise_if_any()
    # rows of ignored accounts (balance accounts, say) may carry any unit
    check("u", [r for r in rows if acc_of[r.account] != ""], div, div_of)
    p.raise_if_any()
    agency_rows = [r for r in rows if acc_of[r.account] == agency_id]
    by_code: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for r in agency_rows:
        by_code[r.account][r.file].append(r.row)
    for code in sorted(by_code):
        hits = [t for t in cats if t.matches(code)]
        if len(hits) == 1:
            cat_of[code] = hits[0].id
            continue
        f0 = next(iter(by_code[code]))
        p.add(
            f0,
            f"agency account code {code} belongs to "
            + ("no agency category" if not hits else "two agency categories")
            + f" (rows {_rows_text(by_code[code][f0], 80)})",
            value=code,
            allowed="add it to the codes of exactly one of agency.categories",
        )
    p.raise_if_any()
    ignored: dict[tuple[str, int], str] = {}
    for r in rows:
        path = ignored_by.get(f"a:{r.account}") or ignored_by.get(f"u:{r.unit}")
        if path:
            ignored[(r.file, r.row)] = path
    return acc_of, div_of, cat_of, ignored


def _source(rows_by_file: dict[str, list[int]], files: list[FileRecord]) -> str:
    sheet = {f.file: f.sheet for f in files}
    parts = []
    for f, rows in rows_by_file.items():
        label = f"{f} › {sheet[f]}" if sheet.get(f) else f
        parts.append(f"{label} › rows {_rows_text(rows, 200 - len(label))}")
    return "; ".join(parts)


def _plan(
    m: Mapping,
    base: Path,
    mname: str,
    files: list[FileRecord],
    acc_t: list[_Target],
    div_t: list[_Target],
    ign_a: list[_Target],
    ign_u: list[_Target],
    side: dict[str, str],
    cells: dict[tuple[Month, str, str], _Cell],
    ledger_budget_years: list[int],
) -> tuple[dict[Month, dict[Any, Any]], dict[int, dict[str, str]], set[int], dict[int, str]]:
    """The plan's annual budgets phased into whole-krona cells per month (x division)."""
    plan_cells: dict[Month, dict[Any, Any]] = defaultdict(dict)
    plan_totals: dict[int, dict[str, str]] = {}
    basis: dict[int, str] = {}
    if not m.plan_budget:
        return plan_cells, plan_totals, set(), basis
    horizon = range(m.horizon.first_year, m.horizon.last_year + 1)
    div_ids = [d.id for d in m.divisions]
    # group -> (kr, {file: rows}); group = (year, account, division or None)
    groups: dict[tuple[int, str, str | None], tuple[list[Decimal], dict[str, list[int]]]] = {}
    year_file: dict[int, str] = {}
    for i, spec in enumerate(m.plan_budget):
        where = f"{mname} › plan_budget[{i}]"
        opts = _resolved(spec, m.format)
        table = _read_table(base, spec, opts, where)
        cols = _columns(table, spec.columns.model_dump(), where)
        files.append(
            FileRecord(
                table.file,
                table.sheet,
                len(table.rows),
                table.sha256,
                "plan_budget",
                table.described,
            )
        )
        factor = _UNIT_FACTOR[opts["unit"]]
        p = _Problems()
        label = table.label()
        for rn, row in table.rows:
            raw_y = _cell(row, cols["year"])
            try:
                y = int(parse_number(raw_y, "."))  # type: ignore[arg-type]
                if raw_y is None or not 1990 <= y <= 2100:
                    raise ValueError
            except (ValueError, TypeError, ArithmeticError):
                p.add(
                    label,
                    "not a year",
                    row=rn,
                    column=spec.columns.year,
                    value=raw_y,
                    allowed="a year such as 2026",
                )
                continue
            if y not in horizon:
                p.add(
                    label,
                    "a plan year outside the horizon",
                    row=rn,
                    column=spec.columns.year,
                    value=raw_y,
                    allowed=f"{horizon.start} to {horizon.stop - 1}",
                )
                continue
            if y in ledger_budget_years:
                p.add(
                    label,
                    f"the ledger already has a monthly budget for {y}",
                    row=rn,
                    column=spec.columns.year,
                    value=raw_y,
                    allowed="plan years after the ledger's budget years",
                )
                continue
            code = _code_cell(_cell(row, cols["account"]))
            hits = [t for t in acc_t + ign_a if t.matches(code)]
            if len(hits) != 1:
                p.add(
                    label,
                    f"account code {code} maps to " + ("nothing" if not hits else "two things"),
                    row=rn,
                    column=spec.columns.account,
                    value=code,
                    allowed="a code of exactly one of the mapping's accounts",
                )
                continue
            if hits[0].kind == "ignore":
                continue
            acc = hits[0].id
            div = None
            if cols["unit"] is not None:
                ucode = _code_cell(_cell(row, cols["unit"]))
                uh = [t for t in div_t + ign_u if t.matches(ucode)]
                if len(uh) != 1:
                    p.add(
                        label,
                        f"unit {ucode} maps to " + ("nothing" if not uh else "two things"),
                        row=rn,
                        column=spec.columns.unit,
                        value=ucode,
                        allowed="a unit of exactly one of the mapping's divisions",
                    )
                    continue
                if uh[0].kind == "ignore":
                    continue
                div = uh[0].id
            raw_b = _cell(row, cols["budget"])
            try:
                v = parse_number(raw_b, table.decimal)
            except ValueError as exc:
                p.add(
                    label,
                    f"not an amount: {exc}",
                    row=rn,
                    column=spec.columns.budget,
                    value=raw_b,
                    allowed=amount_allowed(table.decimal),
                )
                continue
            if v is None:
                continue
            kr = v * factor
            s = side[acc]
            pos = opts["revenue"] if s == "revenue" else opts["costs"]
            kr = kr if (pos == "positive") == (s == "revenue") else -kr
            g = groups.setdefault((y, acc, div), ([], defaultdict(list)))
            g[0].append(kr)
            g[1][table.file].append(rn)
            year_file.setdefault(y, table.file)
        p.raise_if_any()
    if not ledger_budget_years:
        raise _kerr(
            mname,
            "plan_budget needs a year with a monthly budget in the ledger to phase it by",
            key="plan_budget",
            allowed="a ledger with twelve months of budget of an earlier year",
        )
    ref = max(ledger_budget_years)
    plan_years = {y for (y, _, _) in groups}
    for y in sorted(plan_years):
        if y < ref:
            raise DataError(
                year_file[y],
                f"a plan year before the ledger's budget year {ref}",
                value=y,
                allowed=f"years after {ref}",
            )
        unit_cols = any(g[2] is not None for g in groups if g[0] == y)
        basis[y] = (
            f"derived: the {y} annual budget ({year_file[y]}) phased by {ref}'s monthly budget "
            f"of the account{' and division' if unit_cols else ''}"
        )
        plan_totals[y] = {
            "budget_kr": _kr_text(
                sum((sum(v[0], Decimal(0)) for k, v in groups.items() if k[0] == y), Decimal(0))
            )
        }
    for (y, acc, div), (amounts, rows_by_file) in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")
    ):
        total = _round_kr(sum(amounts, Decimal(0)))
        slots = [
            ((ref, mo), d) for mo in range(1, 13) for d in ([div] if div is not None else div_ids)
        ]
        weights = [
            cells[(mo_, acc, d)].budget if (mo_, acc, d) in cells else Decimal(0)
            for mo_, d in slots
        ]
        wsum = sum(weights, Decimal(0))
        if wsum == 0:
            if div is None:
                raise DataError(
                    year_file[y],
                    f"cannot phase the {y} budget of account {acc}: it has no "
                    f"budget in {ref} to spread over months and divisions",
                    value=acc,
                    allowed="a unit column in the plan (columns.unit) or a budget in the ledger",
                )
            weights = [Decimal(1)] * len(slots)
            wsum = Decimal(len(slots))
        values = apportion([total * w / wsum for w in weights], total)
        src = _source(rows_by_file, files)
        for ((_, mo), d), v in zip(slots, values, strict=True):
            key = (acc, d)
            plan_cells[(y, mo)][key] = plan_cells[(y, mo)].get(key, Decimal(0)) + v
            plan_cells[(y, mo)][("__src__", acc, d)] = src
    return plan_cells, plan_totals, plan_years, basis


def _agency(
    m: Mapping,
    base: Path,
    mname: str,
    files: list[FileRecord],
    kept: list[_Row],
    acc_of: dict[str, str],
    cat_of: dict[str, str],
    agency_id: str,
    written_actual: dict[tuple[Month, str, str], Decimal],
    div_ids: list[str],
    cutoff: Month,
    first_ledger: Month,
    signed: Callable[[_Row, Decimal | None], Decimal | None],
) -> tuple[list[list[str]], dict[str, Decimal]]:
    cats = [c.id for c in m.agency.categories]
    cost: dict[tuple[Month, str], Decimal] = defaultdict(Decimal)
    cost_rows: dict[tuple[Month, str], dict[str, list[int]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for r in kept:
        if acc_of[r.account] == agency_id and r.actual is not None and r.month <= cutoff:
            k = (r.month, cat_of[r.account])
            cost[k] += signed(r, r.actual)  # type: ignore[operator]
            cost_rows[k][r.file].append(r.row)
    hours: dict[tuple[Month, str], Decimal] = {}
    hours_rows: dict[tuple[Month, str], list[int]] = defaultdict(list)
    hours_label = ""
    actual_months = _months_between(first_ledger, cutoff)
    if m.agency_hours is not None:
        spec = m.agency_hours
        where = f"{mname} › agency_hours"
        opts = _resolved(spec, m.format)
        table = _read_table(base, spec, opts, where)
        cols = _columns(table, spec.columns.model_dump(), where)
        files.append(
            FileRecord(
                table.file,
                table.sheet,
                len(table.rows),
                table.sha256,
                "agency_hours",
                table.described,
            )
        )
        hours_label = table.label()
        labels = {}
        for c in m.agency.categories:
            labels[_norm(c.id)] = c.id
            labels[_norm(c.hours_label or c.name_sv)] = c.id
        p = _Problems()
        for rn, row in table.rows:
            raw_m = _cell(row, cols["month"])
            mo = parse_month(raw_m)
            if mo is None:
                p.add(
                    hours_label,
                    "not a month",
                    row=rn,
                    column=spec.columns.month,
                    value=raw_m,
                    allowed=MONTH_ALLOWED,
                )
            elif mo not in actual_months:
                p.add(
                    hours_label,
                    "hours for a month without actuals",
                    row=rn,
                    column=spec.columns.month,
                    value=raw_m,
                    allowed=f"{_m(first_ledger)} to {_m(cutoff)}",
                )
                mo = None
            raw_c = _cell(row, cols["category"])
            cat = labels.get(_norm(raw_c or ""))
            if cat is None:
                p.add(
                    hours_label,
                    "not an agency category",
                    row=rn,
                    column=spec.columns.category,
                    value=raw_c,
                    allowed=", ".join(c.hours_label or c.name_sv for c in m.agency.categories)
                    + " (agency.categories[].hours_label)",
                )
            raw_h = _cell(row, cols["hours"])
            try:
                h = parse_number(raw_h, table.decimal)
                if h is not None and h < 0:
                    raise ValueError("hours are never negative")
            except ValueError as exc:
                p.add(
                    hours_label,
                    f"not a number of hours: {exc}",
                    row=rn,
                    column=spec.columns.hours,
                    value=raw_h,
                    allowed="hours, 0 or more, e.g. 1 234,5",
                )
                h = None
            if mo and cat and h is not None:
                hours[(mo, cat)] = hours.get((mo, cat), Decimal(0)) + h
                hours_rows[(mo, cat)].append(rn)
        p.raise_if_any()
    out = []
    check: dict[str, Decimal] = {}
    for mo in actual_months:
        exact = [cost.get((mo, c), Decimal(0)) for c in cats]
        total = sum((written_actual[(mo, agency_id, d)] for d in div_ids), Decimal(0))
        rounded = apportion(exact, total)
        check[_m(mo)] = sum(rounded, Decimal(0))
        for c, v in zip(cats, rounded, strict=True):
            h = hours.get((mo, c))
            src = _source(cost_rows[(mo, c)], files) if (mo, c) in cost_rows else "no rows"
            if h is not None:
                src += f"; hours: {hours_label} › rows {_rows_text(hours_rows[(mo, c)], 60)}"
            if h is None and m.agency_hours is not None:
                src += f"; no hours in {hours_label}"
            basis = "ledger"
            out.append([_m(mo), c, _tkr(v), _num(h) if h is not None else "", basis, src])
    return out, check


def _num(x: Decimal) -> str:
    x = x.normalize()
    return f"{x:f}" if x != x.to_integral_value() else str(int(x))


def _staff(
    m: Mapping, base: Path, mname: str, files: list[FileRecord], cutoff: Month
) -> tuple[list[list[str]], dt.date | None]:
    spec = m.staff
    if spec is None:
        return [], None
    where = f"{mname} › staff"
    opts = _resolved(spec, m.format)
    table = _read_table(base, spec, opts, where)
    cols = _columns(table, spec.columns.model_dump(), where)
    if cols["employees"] is None and cols["fte"] is None:
        raise _kerr(
            mname,
            "the staff export needs an employees or an fte column",
            key="staff.columns",
            allowed="employees: Anställda and/or fte: Årsarbetare",
        )
    files.append(
        FileRecord(table.file, table.sheet, len(table.rows), table.sha256, "staff", table.described)
    )
    label = table.label()
    p = _Problems()
    emp: dict[Month, Decimal] = defaultdict(Decimal)
    fte: dict[Month, Decimal] = defaultdict(Decimal)
    rows_of: dict[Month, list[int]] = defaultdict(list)
    for rn, row in table.rows:
        raw_m = _cell(row, cols["month"])
        mo = parse_month(raw_m)
        if mo is None:
            p.add(
                label,
                "not a month",
                row=rn,
                column=spec.columns.month,
                value=raw_m,
                allowed=MONTH_ALLOWED,
            )
        for key, name, store in (
            ("employees", spec.columns.employees, emp),
            ("fte", spec.columns.fte, fte),
        ):
            if cols[key] is None:
                continue
            raw = _cell(row, cols[key])
            try:
                v = parse_number(raw, table.decimal)
                if v is None:
                    raise ValueError("the cell is empty")
                if v < 0 or (key == "employees" and v != v.to_integral_value()):
                    raise ValueError(
                        "not a whole number of 0 or more" if key == "employees" else "negative"
                    )
            except ValueError as exc:
                p.add(
                    label,
                    f"not a number of {key}: {exc}",
                    row=rn,
                    column=name,
                    value=raw,
                    allowed="a whole number of employees"
                    if key == "employees"
                    else "FTE, 0 or more, e.g. 1 391,5",
                )
                continue
            if mo:
                store[mo] += v
        if mo:
            rows_of[mo].append(rn)
    p.raise_if_any()
    if not rows_of:
        raise DataError(label, "the file has no rows", allowed="one row per month")
    out = []
    for mo in sorted(rows_of):
        out.append(
            [
                _month_end(mo).isoformat(),
                str(int(emp[mo])) if cols["employees"] is not None else "",
                _num(fte[mo]) if cols["fte"] is not None else "",
                f"{label} › rows {_rows_text(rows_of[mo], 120)}",
            ]
        )
    if m.employees_date is not None:
        d = m.employees_date
        if (d.year, d.month) not in rows_of or d != _month_end((d.year, d.month)):
            raise _kerr(
                mname,
                "not a month-end of the staff export",
                key="employees_date",
                value=d.isoformat(),
                allowed=", ".join(_month_end(mo).isoformat() for mo in sorted(rows_of)[-6:]),
            )
    else:
        before = [mo for mo in rows_of if mo <= cutoff]
        if not before:
            raise DataError(
                label,
                f"no staff figure at or before the cut-off {_m(cutoff)}",
                allowed="employees per month up to the cut-off",
            )
        d = _month_end(max(before))
    return out, d


def _figures(
    m: Mapping,
    ledger_rows: list[list[str]],
    files: list[FileRecord],
    cutoff: Month,
    plan_years: set[int],
    plan_totals: dict[int, dict[str, str]],
    side: dict[str, str],
) -> list[list[str]]:
    sums: dict[tuple[str, int, str], Decimal] = defaultdict(Decimal)
    months_with: dict[tuple[str, int], set[int]] = defaultdict(set)
    for mo, acc, _d, act, bud, _b, _s in ledger_rows:
        y, mm = int(mo[:4]), int(mo[5:])
        line = "revenue" if side[acc] == "revenue" else "gross_cost"
        for q, v in (("actual", act), ("budget", bud)):
            if v:
                sums[(q, y, line)] += Decimal(v)
                months_with[(q, y)].add(mm)
    ledger_files = ", ".join(f.file for f in files if f.role == "ledger")
    plan_files = ", ".join(f.file for f in files if f.role == "plan_budget")
    names = (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    )
    out = []
    for q in ("actual", "budget"):
        for y in sorted({k[1] for k in months_with if k[0] == q}):
            ms = sorted(months_with[(q, y)])
            if q == "budget" and y in plan_years:
                src, kind = plan_files, "document"
                note = "The plan's annual budget; its months are derived (phased, see ledger.csv)."
            else:
                src, kind = ledger_files, "document"
                span = (
                    "January-December"
                    if ms == list(range(1, 13))
                    else (
                        f"January-{names[ms[-1] - 1]}"
                        if ms == list(range(1, ms[-1] + 1))
                        else f"months {', '.join(map(str, ms))}"
                    )
                )
                if q == "actual" and (y, ms[-1]) == cutoff and ms[-1] != 12:
                    span += " (actuals through the cut-off)"
                note = f"Sum of the export's rows, {span}."
            rev = sums[(q, y, "revenue")]
            cost = sums[(q, y, "gross_cost")]
            for line, v in (("revenue", rev), ("gross_cost", cost), ("net_cost", rev + cost)):
                out.append(
                    [
                        f"ledger_{q}_{y}_{line}_tkr",
                        f"{v:.3f}",
                        "tkr",
                        kind,
                        f"{src} (see provenance.yaml)",
                        note,
                    ]
                )
    for y, bf in sorted(m.board_forecasts.items()):
        out.append(
            [
                f"board_forecast_{y}_net_cost_mkr",
                f"{bf.net_cost_mkr:g}",
                "mkr",
                "document",
                bf.source,
                f"The board's own forecast made {bf.made}.",
            ]
        )
    _ = plan_totals
    return out


def _check_parameters(path: Path, years: list[int]) -> None:
    if not path.is_file():
        raise DataError(
            str(path),
            "the parameters file does not exist",
            allowed="a parameters.csv as in balans/templates/ledger_case/",
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "key" not in reader.fieldnames:
        raise DataError(
            str(path),
            "no 'key' column",
            row=1,
            allowed="key,value,unit,kind,low,high,label_sv,label_en,source,note,distribution",
        )
    keys = {row["key"] for row in reader}
    p = _Problems()
    for k in (*REQUIRED_PARAMETERS, *(f"pay_revision_pct_{y}" for y in years)):
        if k not in keys:
            p.add(
                str(path),
                "a required parameter is missing",
                column="key",
                value=k,
                allowed="add the row (see balans/templates/ledger_case/parameters.csv)",
            )
    p.raise_if_any()


def _scenarios(m: Mapping, base: Path, mname: str) -> list[Path]:
    if not m.scenarios:
        return []
    folder = base / m.scenarios
    if not folder.is_dir():
        raise _kerr(
            mname,
            "the scenarios folder does not exist",
            key="scenarios",
            value=m.scenarios,
            allowed="a folder of scenario YAML files",
        )
    from ..scenario import load_scenario

    files = sorted(folder.glob("*.yaml"))
    accounts = {a.id for a in m.accounts}
    cats = {c.id for c in m.agency.categories}
    p = _Problems()
    for f in files:
        s = load_scenario(f)  # raises a ScenarioError naming the field
        lev = s.levers
        for i, meas in enumerate(lev.measures or []):
            if meas.account is not None and meas.account not in accounts:
                p.add(
                    str(f),
                    "not an account of this case",
                    column=f"levers.measures[{i}].account",
                    value=meas.account,
                    allowed=", ".join(sorted(accounts)),
                )
        if lev.agency and lev.agency.categories:
            for c in lev.agency.categories:
                if c not in cats:
                    p.add(
                        str(f),
                        "not an agency category of this case",
                        column=f"levers.agency.categories.{c}",
                        value=c,
                        allowed=", ".join(sorted(cats)),
                    )
    p.raise_if_any()
    return files


# --------------------------------------------------------------------------- writing


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _write_case(tmp: Path, m: Mapping, b: _Built, mapping_path: Path) -> None:
    mname = mapping_path.name

    def put(name: str, text: str) -> None:
        (tmp / name).write_text(text, encoding="utf-8")

    meta: dict[str, Any] = {
        "id": m.case.id,
        "name": m.case.name,
        "short_name": m.case.short_name,
    }
    if m.case.synthetic:
        meta["synthetic"] = True
    meta |= {
        "first_month": _m(b.first),
        "cutoff_month": _m(b.cutoff),
        "last_month": _m(b.last),
    }
    if b.employees_date is not None:
        meta["employees_date"] = b.employees_date
    if m.pay_revision_paid is not None:
        meta["pay_revision_paid"] = m.pay_revision_paid
    meta["ledger"] = "ledger.csv"
    if m.board_forecasts:
        meta["board_forecasts"] = {
            y: {"figure": f"board_forecast_{y}_net_cost_mkr", "made": bf.made}
            for y, bf in sorted(m.board_forecasts.items())
        }
    head = ""
    if m.case.synthetic:
        head += "# Synthetic: a fictional region, made up for tests and the documented example.\n"
    head += (
        f"# Written by `balans import` from {mname}; change the mapping or the exports and\n"
        "# import again rather than editing this folder (provenance.yaml says what was read).\n"
    )
    put("case.yaml", head + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False))

    acc_t = {t.id: t for t in b.acc_targets}
    put(
        "accounts.csv",
        _csv_text(
            [
                "account",
                "name_sv",
                "name_en",
                "side",
                "role",
                "driver",
                "baseline_method",
                "source",
                "note",
            ],
            [
                [
                    a.id,
                    a.name_sv,
                    a.name_en or a.name_sv,
                    a.side,
                    a.role,
                    a.driver,
                    a.baseline_method,
                    f"{mname} › {acc_t[a.id].path} ({(a.source + ' ') if a.source else ''}"
                    f"codes {acc_t[a.id].describe()})",
                    a.note,
                ]
                for a in b.accounts
            ],
        ),
    )
    div_t = {t.id: t for t in b.div_targets}
    put(
        "divisions.csv",
        _csv_text(
            ["division", "name_sv", "name_en", "source"],
            [
                [
                    d.id,
                    d.name_sv,
                    d.name_en or d.name_sv,
                    f"{mname} › {div_t[d.id].path} (units {div_t[d.id].describe()})",
                ]
                for d in b.divisions
            ],
        ),
    )
    put(
        "ledger.csv",
        _csv_text(
            ["month", "account", "division", "actual_tkr", "budget_tkr", "basis", "source"],
            b.ledger_rows,
        ),
    )
    cats = _targets(m.agency.categories, "category", "agency.categories", "codes")
    put(
        "agency.csv",
        _csv_text(
            [
                "category",
                "name_sv",
                "name_en",
                "part_of",
                "agency_share_target_pct",
                "source",
                "note",
            ],
            [
                [
                    c.id,
                    c.name_sv,
                    c.name_en or c.name_sv,
                    "",
                    "" if c.agency_share_target_pct is None else f"{c.agency_share_target_pct:g}",
                    f"{mname} › {t.path} (codes {t.describe()})",
                    c.note,
                ]
                for c, t in zip(m.agency.categories, cats, strict=True)
            ],
        ),
    )
    put(
        "agency_months.csv",
        _csv_text(["month", "category", "cost_tkr", "hours", "basis", "source"], b.agency_rows),
    )
    put("staff.csv", _csv_text(["date", "employees", "fte", "source"], b.staff_rows))
    put("figures.csv", _csv_text(["key", "value", "unit", "kind", "source", "note"], b.figure_rows))
    shutil.copyfile(b.parameters_path, tmp / "parameters.csv")
    if b.scenario_files:
        (tmp / "scenarios").mkdir()
        for f in b.scenario_files:
            shutil.copyfile(f, tmp / "scenarios" / f.name)
    from .. import __version__

    prov: dict[str, Any] = {
        "imported_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "balans_version": __version__,
        "mapping": {"file": mname, "sha256": hashlib.sha256(mapping_path.read_bytes()).hexdigest()},
        "parameters": {
            "file": b.parameters_path.name
            if b.parameters_path.parent != TEMPLATE_DIR
            else "balans/templates/ledger_case/parameters.csv",
            "sha256": hashlib.sha256(b.parameters_path.read_bytes()).hexdigest(),
        },
        "files": [
            {"file": f.file, "sheet": f.sheet, "rows": f.rows, "sha256": f.sha256, "role": f.role}
            for f in b.files
        ],
        "totals": b.totals,
    }
    if b.plan_totals:
        prov["plan_totals"] = b.plan_totals
    if b.ignored:
        prov["ignored"] = b.ignored
    text = "# What `balans import` read: each file's hash, and the export's own sums per month\n"
    text += "# (kr, exact) that ledger.csv adds up to, to the krona.\n"
    put("provenance.yaml", text + yaml.safe_dump(prov, allow_unicode=True, sort_keys=False))
    _reconcile_written(tmp, b)


def _reconcile_written(tmp: Path, b: _Built) -> None:
    """Read ledger.csv back and check it against the export per month, to the krona."""
    act: dict[str, Decimal] = defaultdict(Decimal)
    bud: dict[str, Decimal] = defaultdict(Decimal)
    agency_kr: dict[str, Decimal] = defaultdict(Decimal)
    agency_id = next(a.id for a in b.accounts if a.role == "agency")
    with (tmp / "ledger.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["actual_tkr"]:
                act[row["month"]] += Decimal(row["actual_tkr"]) * 1000
                if row["account"] == agency_id:
                    agency_kr[row["month"]] += Decimal(row["actual_tkr"]) * 1000
            if row["budget_tkr"] and row["basis"] == "ledger":
                bud[row["month"]] += Decimal(row["budget_tkr"]) * 1000
    cat_kr: dict[str, Decimal] = defaultdict(Decimal)
    with (tmp / "agency_months.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            cat_kr[row["month"]] += Decimal(row["cost_tkr"]) * 1000
    for month, tot in b.totals.items():
        for q, got in (("actual_kr", act[month]), ("budget_kr", bud[month])):
            if tot[q] is not None and abs(got - Decimal(tot[q])) > Decimal("0.5"):
                raise BalansError(  # a bug, not bad input: say so plainly
                    f"balans import: ledger.csv does not reconcile for {month} ({q}: "
                    f"{got} against the export's {tot[q]}); please report this"
                )
    for month, v in cat_kr.items():
        if v != agency_kr[month]:
            raise BalansError(
                f"balans import: agency_months.csv does not add up to the agency account for "
                f"{month}; please report this"
            )
