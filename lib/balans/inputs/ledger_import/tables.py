"""Building the case's tables from the exports' rows: ledger, budget plan, agency, staff, figures.

:func:`_build` reads every export the mapping names (:mod:`.read`), maps its codes
(:mod:`.codes`), and makes the rows of the case's CSV files, which :mod:`.write` writes:

- ledger.csv has a cell for every month x account x division from the first ledger month
  through December of the horizon's last year. Each cell is the exact sum of its rows rounded
  to whole kronor so that the cells of a month add up to the export's own month total rounded
  to the krona (largest remainder; with whole-krona exports every cell is exact). Amounts are
  written in tkr with three decimals. A month, account and unit with a figure in two files
  is an error (overlapping exports would count it twice).
- The cut-off is the last month with a non-zero actual (or ``cutoff_month:``; actuals after
  it are an error). Every month from the first ledger month to the cut-off must have actuals.
- Every horizon year needs a budget: twelve months from the ledger, or an annual budget from
  ``plan_budget`` (rows year x account code [x unit]) phased over months (and divisions, if the
  plan has no unit column) by the latest ledger year's monthly budget of the account, to
  whole kronor that add up to the plan exactly; such cells have basis ``derived: ...``
  (:func:`_plan`).
- Agency (:func:`_agency`): the codes of the account with role ``agency`` are split into
  categories by ``agency.categories[].codes``; hours come from the optional hours export
  (month x category), matched by ``hours_label`` (default the Swedish name) or the category id.
- Staff (:func:`_staff`, optional): employees and/or FTE per month, summed over the export's
  rows; written as month-end dates. Without a staff export staff.csv has only its header and
  case.yaml no ``employees_date`` (the report says so).
- provenance.yaml ``totals`` holds, per month with ledger figures, the export's own sums in
  kr (exact decimals as strings; ``null`` where the month has no actual or no budget);
  ``plan_totals`` the plan's annual sums, which the derived months add up to exactly;
  ``ignored`` the rows kept out on purpose, with their sums. figures.csv (:func:`_figures`)
  holds the ledger's yearly totals (``ledger_actual_<year>_{revenue,gross_cost,net_cost}_tkr``,
  likewise ``ledger_budget_…``; a year cut off by the cut-off says so in its note) and the
  board's own forecasts from ``board_forecasts:``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from balans.errors import DataError
from balans.inputs.ledger_import.checks import _check_parameters, _scenarios
from balans.inputs.ledger_import.codes import _resolve, _Target, _targets
from balans.inputs.ledger_import.mapping import TEMPLATE_DIR, Account, Division, Mapping
from balans.inputs.ledger_import.messages import ImportReport, _kerr, _Problems, _rows_text
from balans.inputs.ledger_import.read import (
    FileRecord,
    _cell,
    _columns,
    _ledger_rows,
    _norm,
    _read_table,
    _resolved,
    _Row,
)
from balans.inputs.ledger_import.values import (
    _UNIT_FACTOR,
    MONTH_ALLOWED,
    Month,
    _code_cell,
    _kr_text,
    _m,
    _month_end,
    _months_between,
    _num,
    _round_kr,
    _tkr,
    amount_allowed,
    apportion,
    parse_month,
    parse_number,
)


@dataclass
class _Cell:
    actual: Decimal = Decimal(0)
    budget: Decimal = Decimal(0)
    rows: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))


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
        rows += _ledger_rows(table, spec.columns, cols, opts)
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
