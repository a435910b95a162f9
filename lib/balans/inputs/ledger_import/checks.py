"""Checks of what goes into the case besides the ledger, and of the case once written.

- :func:`_check_parameters`: parameters.csv (default: the template shipped in
  ``balans/templates/ledger_case/``) holds every required parameter and a pay revision for
  each horizon year; it is then copied byte for byte.
- :func:`_scenarios`: the scenario files under ``scenarios:`` are valid and name only the
  case's accounts and agency categories; they are then copied.
- :func:`_reconcile_written`: the written ledger.csv, read back, adds up per month to the
  export's own totals to the krona, and agency_months.csv to the agency account. A
  difference is a bug in Balans, not bad input, and is said so.
- :func:`_load_back`: the written folder loads as a case, as every face will load it: a case
  the loader refuses (e.g. a sign convention the mapping got wrong) is never written.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from balans.errors import BalansError, DataError
from balans.inputs.case import REQUIRED_PARAMETERS
from balans.inputs.ledger_import.messages import _kerr, _Problems

if TYPE_CHECKING:
    from balans.inputs.ledger_import.mapping import Mapping
    from balans.inputs.ledger_import.tables import _Built


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
    from balans.inputs.scenario import load_scenario

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


def _load_back(tmp: Path, out: Path) -> None:
    """Load the written folder as every face will, before it goes into place: a case the
    loader refuses (e.g. a sign convention the mapping got wrong) is never written."""
    from balans.inputs.case import load_case

    try:
        load_case(tmp)
    except DataError as exc:
        message = str(exc).replace(str(tmp), str(out))
        raise DataError(
            str(out), f"the imported case does not load, so nothing was written: {message}"
        ) from None
