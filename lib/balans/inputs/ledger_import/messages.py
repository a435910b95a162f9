"""What ``balans import`` says: the problems it reports, and its report when it is done.

- Every problem is a :class:`~balans.errors.DataError` naming the file, row, column, value
  and what is allowed. :class:`_Problems` collects them, up to ``MAX_PROBLEMS`` of one file,
  and :class:`LedgerImportError` reports them together, the same problem on many rows as
  one line (``rows 3-22, column 'Utfall': not an amount``).
- :func:`_kerr` is a problem with a key of the mapping file (``accounts[3].codes: …``).
- :class:`ImportReport` is what an import read and wrote; its ``text()`` is what
  ``balans import`` prints.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from balans.errors import BalansError, DataError

if TYPE_CHECKING:
    from balans.inputs.ledger_import.read import FileRecord

MAX_PROBLEMS = 20


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


def _shown(value: object) -> str:
    """A cell's value as a controller wrote it: a date as YYYY-MM-DD, text quoted."""
    if isinstance(value, dt.datetime | dt.date):
        return repr(value.strftime("%Y-%m-%d"))
    return repr(value)


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
