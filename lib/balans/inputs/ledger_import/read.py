"""Reading an export: encodings, CSV dialects, xlsx, columns, and the ledger's rows.

- Encoding: a byte-order mark decides (UTF-8 with BOM, UTF-16); else the file is read as
  strict UTF-8; else as cp1252 (Windows Excel's "CSV (semikolonavgränsad)"), which covers
  Latin-1's letters. ``encoding:`` in the mapping overrides this.
- Separator: the header line decides: ``;`` if it has one, else a tab, else ``,``.
- Decimal mark: ``,`` in a ``;``- or tab-separated file and in xlsx text cells, ``.`` in a
  ``,``-separated file; ``decimal:`` overrides (the numbers themselves: :mod:`.values`).
- Lines whose first cell starts with ``#`` are comments (``comment:``); blank rows are
  skipped; ``skip_rows:`` skips title rows above the header. Row numbers in messages and
  sources are the file's own line numbers (Excel's row numbers).
- Columns are found by their header, ignoring case, spacing and a BOM; a missing one names
  the header's columns and the mapping key that names it.

A file's own format keys win over the mapping's ``format:``, which wins over the defaults
(:func:`_resolved`). :func:`_ledger_rows` turns a ledger export into :class:`_Row` s in kr,
every bad cell a problem with its row and column.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from balans.errors import DataError
from balans.inputs.ledger_import.mapping import Format, LedgerColumns, _File
from balans.inputs.ledger_import.messages import _kerr, _Problems, _short
from balans.inputs.ledger_import.values import (
    _UNIT_FACTOR,
    MONTH_ALLOWED,
    Month,
    _code_cell,
    amount_allowed,
    parse_month,
    parse_number,
)


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


@dataclass(frozen=True)
class FileRecord:
    file: str
    sheet: str | None
    rows: int
    sha256: str
    role: str
    described: str = ""


@dataclass
class _Row:
    file: str
    row: int
    month: Month
    account: str
    unit: str
    actual: Decimal | None
    budget: Decimal | None


def _ledger_rows(
    table: _Table,
    colspec: LedgerColumns,
    cols: dict[str, int | None],
    opts: dict[str, Any],
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
