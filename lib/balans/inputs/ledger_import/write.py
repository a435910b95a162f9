"""Writing the case folder: its files from the built tables, whole or not at all.

The folder of ``spec_ledger_case.md``: case.yaml, accounts.csv, divisions.csv, ledger.csv,
agency.csv, agency_months.csv, staff.csv, figures.csv, parameters.csv (copied byte for
byte), provenance.yaml (each file's hash, the export's own sums per month) and scenarios/.

The folder is written into a temporary sibling and renamed into place
(:func:`balans.atomic.atomic_folder`); an existing non-empty folder is refused unless
``force=True``, and is then swapped out by two renames (the old one is kept until the new
one is in place). Before the rename the written ledger.csv is read back and reconciled
per month to the krona against the export, and the whole folder is loaded as a case
(:mod:`.checks`): a case the loader refuses is never written.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from balans.atomic import atomic_folder
from balans.errors import DataError
from balans.inputs.ledger_import.checks import _load_back, _reconcile_written
from balans.inputs.ledger_import.codes import _targets
from balans.inputs.ledger_import.mapping import TEMPLATE_DIR, Mapping
from balans.inputs.ledger_import.values import _m

if TYPE_CHECKING:
    from balans.inputs.ledger_import.tables import _Built


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
    from balans import __version__

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


def _write_folder(out: Path, force: bool, m: Mapping, b: _Built, mapping_path: Path) -> None:
    """Write the case into a temporary sibling of ``out``, check it there, then rename it
    into place (:func:`balans.atomic.atomic_folder`); see the module docstring."""
    started = False
    try:
        with atomic_folder(out) as tmp:
            started = True
            _write_case(tmp, m, b, mapping_path)
            _reconcile_written(tmp, b)
            _load_back(tmp, out)
            _check_out(out, force)  # nothing came in the meantime
    except OSError as exc:
        what = "cannot write the case folder" if started else "cannot create the folder"
        raise DataError(str(out), f"{what} ({exc.strerror})") from None
