"""Load a case folder (``data/<case>/``): read, validate and reconcile its figures.

A case is one healthcare board's sourced figures in plain CSV files and one ``case.yaml``.
Loading checks types and ranges (each file's row model, ``case_rows.py``; a bad cell is
named by file, line and column) and reconciles the figures (the named rules of
``case_rules.py``) against the documents' own totals: the cost accounts add up to the
year-to-date totals, the divisions to the board total, the budgets to the net budgets.
Nothing about the shipped region is hard-coded here: another region's folder of the same
shape loads the same way (``load_case(path)``).

Files (see ``data/README.md`` for every column):

- ``case.yaml``: months of the horizon, the cut-off, the budget rule per year, reconciliation keys.
- ``accounts.csv``: year-to-date actual, budget and prior year per cost account (tkr).
- ``divisions.csv``: revenue, gross cost and net cost per division (mkr).
- ``agency.csv``: agency staff cost (mkr) and FTE equivalents per category.
- ``staff.csv``: employees per date.
- ``figures.csv``: the documents' totals and reference figures.
- ``parameters.csv``: drivers and lever defaults, each a document figure, a derivation or a
  labelled assumption with its plausible range.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from balans.errors import DataError, DataProblems
from balans.inputs import yamlsafe
from balans.inputs.case_rows import (  # noqa: F401  (Col, KINDS, METHODS, SIDES: read from here too)
    CASE_MODELS,
    DRIVERS,
    KINDS,
    LINES,
    METHODS,
    ROLES,
    SIDES,
    Col,
    Row,
    parse_month,
)
from balans.inputs.case_rules import (  # noqa: F401  (POSITIVE_PARAMETERS, REQUIRED_ROLES: read from here too)
    CASE_RULES,
    POSITIVE_PARAMETERS,
    REQUIRED_ROLES,
    CaseFiles,
    account_reconciliation,
    agency_totals,
    budgets,
    check,
    division_lines,
    division_reconciliation,
    figure_lookup,
    last_month_shares,
    parameter_value,
    read_case_files,
    thousands,
)
from balans.resources import shipped_case_dir

DEFAULT_CASE_DIR = shipped_case_dir()  # package data: balans/data/rjh_hsn

# The parameters a case must define, each with the rooms that read it (the engine's
# arithmetic, the warnings, the app's controls and signal, the narrative, the analyses):
# tests/test_data.py proves each room named here reads its key.
PARAMETER_READERS: dict[str, tuple[str, ...]] = {
    "pay_revision_month": ("engine",),
    "drug_cost_growth_pct": ("engine", "app", "narrative", "analysis"),
    "national_drug_cost_growth_pct": ("app", "narrative"),  # a reference, not a default
    "price_growth_pct": ("engine", "narrative", "analysis"),
    "hours_per_fte_year": ("engine",),
    "fte_per_employee": ("engine",),
    "attrition_pct_per_year": ("engine", "app"),
    "agency_to_own_cost_ratio": ("engine",),
    "purchased_care_to_own_cost_ratio": ("engine",),
    "overtime_cost_factor": ("engine",),
    "rest_rule_start": ("engine", "app"),
    "rest_rule_share_24_7_pct": ("engine",),
    "rest_rule_extra_need_pct": ("engine", "app", "analysis"),
    "rest_rule_weekend_mitigation_pct": ("engine", "app", "analysis"),
    "rest_rule_overtime_pct": ("engine",),
    "rest_rule_agency_pct": ("engine",),
    "agency_replacement_own_staff_pct": ("engine", "app"),
    "agency_replacement_purchased_care_pct": ("engine", "app"),
    "agency_replacement_not_replaced_pct": ("engine",),
    "agency_fill_rate_pct": ("engine", "app", "analysis"),
    "care_not_delivered_cost_to_own_ratio": ("engine",),
    "realisation_history_pct": ("app", "narrative", "analysis"),  # history, for comparison
    "agency_share_target_pct": ("feasibility", "api"),  # the warning and the staffing table
    "recruitment_capacity_fte_per_year": ("feasibility",),
    "hours_not_delivered_threshold_hours_per_year": ("feasibility",),
    "signal_yellow_deviation_pct": ("app", "compare"),  # the headline card's colour
}
REQUIRED_PARAMETERS = tuple(PARAMETER_READERS)

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_parse_month = parse_month


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Figure:
    """One sourced figure: a value with its unit, kind (document/derived/assumption) and source."""

    key: str
    value: float | str
    unit: str
    kind: str
    source: str
    note: str = ""
    low: float | None = None
    high: float | None = None
    label_sv: str = ""
    label_en: str = ""
    distribution: str | None = None  # triangular (low/value/high) | uniform (low..high) | None
    note_sv: str = ""  # the note in Swedish, as the board reads it (column note_sv)
    source_sv: str = ""  # the source in Swedish (column source_sv): the same reference

    def source_in(self, lang: str) -> str:
        """The source in the language shown: ``source_sv`` where the case gives it (the same
        documents and places as ``source``, its explanations in Swedish), else ``source``."""
        if lang == "sv" and self.source_sv:
            return self.source_sv
        return self.source

    def note_in(self, lang: str) -> str:
        """The note in the language shown: Swedish (``note_sv``) where the case gives it,
        else the one note the case has (``note``, in whatever language its author wrote it:
        a case folder without a ``note_sv`` column, or a row the column leaves empty)."""
        if lang == "sv" and self.note_sv:
            return self.note_sv
        return self.note


@dataclass(frozen=True)
class Account:
    id: str
    name_sv: str
    name_en: str
    side: str  # revenue | cost
    role: str
    driver: str
    baseline_method: str
    actual_ytd_tkr: float
    budget_ytd_tkr: float
    actual_ytd_prior_year_tkr: float | None  # None where the data has no prior year
    source: str
    note: str


@dataclass(frozen=True)
class Division:
    id: str
    name_sv: str
    name_en: str
    # line (revenue, gross_cost, net_cost) -> column -> mkr
    figures: dict[str, dict[str, float]]
    source: str


@dataclass(frozen=True)
class AgencyCategory:
    id: str
    name_sv: str
    name_en: str
    part_of: str
    cost_ytd_mkr: float
    fte_ytd: float
    forecast_first_year_mkr: float | None
    cost_ytd_prior_year_mkr: float | None
    fte_prior_year: float | None
    agency_share_pct: float | None
    agency_share_target_pct: float | None
    source: str
    note: str
    hours_ytd: float | None = None  # where the ledger gives hours (else fte_ytd prices them)


@dataclass(frozen=True, eq=False)
class Case:
    """A loaded, validated and reconciled case. Months are ``(year, month)`` tuples.

    Whatever the files' detail, a case holds the same monthly shape: actuals per month and
    account through the cut-off (``actual_tkr``), the budget per month and account for every
    month of the horizon (``budget_tkr``), per division where the ledger has them, and for
    each month whether its figures are the ledger's own (*document*) or *derived* from a
    coarser period (``month_actual_basis``, ``month_budget_basis``; ``derivations`` says how).
    """

    folder: Path
    id: str
    name: str
    short_name: str
    months: tuple[tuple[int, int], ...]
    cutoff_index: int
    accounts: tuple[Account, ...]
    divisions: tuple[Division, ...]
    agency: tuple[AgencyCategory, ...]  # top-level categories (part_of empty)
    agency_subsets: tuple[AgencyCategory, ...]
    employees: float
    figures: dict[str, Figure]
    parameters: dict[str, Figure]
    budget_net_mkr: dict[int, float]
    budget_revenue_mkr: dict[int, float]
    budget_given: dict[int, frozenset[str]]  # year -> the budget lines the documents give
    board_forecast_net_mkr: dict[int, float]
    board_forecast_made: dict[int, str]  # year -> the month the board made that forecast
    last_month_share: dict[str, float]  # side -> share of year-to-date in the last actual month
    data_hash: str
    # the monthly ledger (see the class docstring)
    ytd_start_index: int  # January of the cut-off year: the run-rate's first month
    actual_tkr: np.ndarray  # (T, A) tkr, zero after the cut-off
    budget_tkr: np.ndarray  # (T, A) tkr
    month_actual_basis: tuple[str, ...]  # (T,) document | derived | forecast
    month_budget_basis: tuple[str, ...]  # (T,) document | derived
    division_actual_tkr: np.ndarray | None  # (T, A, D) where the ledger has account x division
    division_budget_tkr: np.ndarray | None  # (T, A, D)
    prior_year_tkr: np.ndarray | None  # (12, A) the cut-off year's previous year, per month
    pay_revision_paid: bool  # the cut-off year's pay revision is in the actuals already
    own_fte_given: float | None  # own staff FTE at employees_date where staff.csv gives it
    synthetic: bool
    derivations: dict[str, str]  # what is derived -> how (shown beside derived figures)
    provenance: dict[str, Any]
    reconciliation: tuple[str, ...] = field(default=())
    closes: tuple[str, ...] = field(default=())  # YYYY-MM of every close the case holds
    home: Path | None = None  # the case's own folder, for a close kept in closes/<YYYY-MM>/
    documents: dict[str, str] = field(default_factory=dict)  # source file -> its title

    def source_text(self, source: str) -> str:
        """A source as a board member reads it: each document's file name as its title
        (``documents:`` in case.yaml), "002_….txt › Ekonomisk analys" as "Delårsrapport
        januari–april 2023, Ekonomisk analys"."""
        if not self.documents:
            return source
        names = sorted(self.documents, key=len, reverse=True)
        pattern = re.compile("(" + "|".join(re.escape(n) for n in names) + ")( › )?")
        return pattern.sub(
            lambda m: self.documents[m.group(1)] + (", " if m.group(2) else ""), source
        )

    @property
    def root(self) -> Path:
        """The case's own folder: where its vintages and closes live (``folder`` is the
        close's folder, which for a close kept in ``closes/<YYYY-MM>/`` is that sub-folder)."""
        return self.home if self.home is not None else self.folder

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted({y for y, _ in self.months}))

    @property
    def cutoff(self) -> tuple[int, int]:
        return self.months[self.cutoff_index]

    @property
    def ytd_months(self) -> int:
        """Months with actuals in the cut-off year (the run-rate's months)."""
        return self.cutoff_index - self.ytd_start_index + 1

    @property
    def divisions_real(self) -> bool:
        """Whether divisions are the ledger's own figures (not allocated from totals)."""
        return self.division_actual_tkr is not None

    @property
    def is_ledger(self) -> bool:
        return self.division_actual_tkr is not None

    @property
    def scenarios_dir(self) -> Path:
        """The case's own scenario files (``<case>/scenarios/``)."""
        return self.folder / "scenarios"

    def measure_account(self) -> str:
        """The account a measure acts on when the scenario names none: the first cost
        account with role ``other`` (else the last cost account)."""
        others = [a.id for a in self.accounts if a.role == "other"]
        if others:
            return others[0]
        return [a.id for a in self.accounts if a.side == "cost"][-1]

    @property
    def rest_rule_in_baseline(self) -> bool:
        """Whether the stricter rest rule was decided before the cut-off and so is part of the
        baseline (``rest_rule_in_baseline`` = 1 in parameters.csv)."""
        fig = self.parameters.get("rest_rule_in_baseline")
        return fig is not None and float(fig.value) == 1.0

    def param(self, key: str) -> float:
        return float(self.parameters[key].value)

    def account_index(self, role: str) -> int:
        return next(i for i, a in enumerate(self.accounts) if a.role == role)

    def month_position(self, text: str) -> int:
        """The index a ``YYYY-MM`` month would have in the horizon, negative before it (for
        a rule or price in force before the horizon: already in the actuals)."""
        ym = _parse_month(text)
        if ym is None:
            raise ValueError(f"not a month: {text!r}")
        return (ym[0] - self.months[0][0]) * 12 + ym[1] - self.months[0][1]

    def month_index(self, text: str) -> int | None:
        """Index of a ``YYYY-MM`` month in the horizon, or None."""
        m = _MONTH_RE.match(text)
        if not m:
            return None
        ym = (int(m.group(1)), int(m.group(2)))
        return self.months.index(ym) if ym in self.months else None


DATA_FILES = (
    "case.yaml",
    "accounts.csv",
    "divisions.csv",
    "agency.csv",
    "staff.csv",
    "figures.csv",
    "parameters.csv",
    # a ledger case's own files (balans import)
    "ledger.csv",
    "agency_months.csv",
    "provenance.yaml",
)
LEDGER_ONLY_FILES = ("ledger.csv", "agency_months.csv", "provenance.yaml")


def data_hash(folder: Path) -> str:
    """sha256 over the case's data files (name and bytes), first 16 hex digits."""
    h = hashlib.sha256()
    for name in DATA_FILES:
        p = folder / name
        if name in LEDGER_ONLY_FILES and not p.is_file():
            continue  # a case without a ledger keeps the hash it had before ledgers existed
        h.update(name.encode())
        data = p.read_bytes() if p.is_file() else b"<missing>"
        if name == "provenance.yaml":  # when it was imported is not what it holds
            data = b"".join(
                ln for ln in data.splitlines(keepends=True) if not ln.startswith(b"imported_at:")
            )
        h.update(data)
    return h.hexdigest()[:16]


_CACHE: dict[tuple[str, str], Case] = {}


def load_case(folder: str | Path | None = None, cutoff: str | None = None) -> Case:
    """Load, validate and reconcile the case in ``folder`` (default: the shipped case) at the
    close ``cutoff`` (``YYYY-MM``; default: the latest close).

    A ledger case closes at any month its ledger has actuals for: an earlier close is the
    same ledger with the later months still forecast. A case without a ledger keeps each
    earlier close as a case folder of its own in ``closes/<YYYY-MM>/``.

    Raises one :class:`DataError` naming every problem of the folder (``problems``), each
    with its file, row, column, value and what is allowed, and the rules not checked because
    a file they read had problems. A broken case.yaml is named alone: every file is read
    against its months.
    Loading is cached per folder, content hash and close.
    """
    folder = Path(folder) if folder is not None else DEFAULT_CASE_DIR
    if not folder.is_dir():
        raise DataError(
            str(folder), "the case folder does not exist", allowed="a folder like data/rjh_hsn"
        )
    if cutoff is not None and _parse_month(str(cutoff)) is None:
        raise DataError(
            str(folder), "not a month", column="cutoff", value=cutoff, allowed="YYYY-MM"
        )
    key = (str(folder.resolve()), data_hash(folder), cutoff)
    if key not in _CACHE:
        _CACHE[key] = _load(folder, key[1], cutoff)
    return _CACHE[key]


def _closes(folder: Path, meta: dict[str, Any]) -> tuple[str, ...]:
    """The case's closes: its cut-off, the closes it lists (``closes:`` in case.yaml), the
    closes kept in ``vintages.csv`` and, without a ledger, the ``closes/<YYYY-MM>/`` folders."""
    found = {str(meta["cutoff_month"])}
    listed = meta.get("closes") or []
    if isinstance(listed, list):
        found |= {str(c) for c in listed if _parse_month(str(c))}
    vint = folder / "vintages.csv"
    if vint.is_file():
        try:
            rows = csv.DictReader(io.StringIO(vint.read_text(encoding="utf-8")))
            found |= {r.get("cutoff", "") for r in rows if _parse_month(r.get("cutoff") or "")}
        except (OSError, UnicodeDecodeError, csv.Error):
            pass  # closes.read_vintages names the problem when the vintages are read
    sub = folder / "closes"
    if sub.is_dir():
        found |= {p.name for p in sub.iterdir() if p.is_dir() and _parse_month(p.name)}
    return tuple(sorted(found))


def _load_yaml_meta(folder: Path) -> dict[str, Any]:
    path = folder / "case.yaml"
    if not path.is_file():
        raise DataError(
            str(path),
            "the file is missing",
            allowed="case.yaml with the case's months and budget rules",
        )
    try:
        meta = yamlsafe.load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise DataError(str(path), f"not UTF-8 text (byte {exc.start})") from None
    except yamlsafe.YamlProblem as exc:
        where = f", line {exc.line}" if exc.line else ""
        raise DataError(f"{path}{where}", f"not valid YAML: {exc.problem}") from None
    if not isinstance(meta, dict):
        raise DataError(str(path), "expected a mapping of settings", value=type(meta).__name__)
    needed = ["id", "name", "first_month", "cutoff_month", "last_month"]
    if not meta.get("ledger"):  # a ledger case's staff.csv is monthly: the cut-off's row
        needed += ["employees_date", "budget"]
    problems = [(k, None, "a setting is missing", "") for k in needed if k not in meta]
    problems += meta_problems(meta)
    if problems:
        raise DataProblems(str(path), problems)
    return meta


# case.yaml's settings and what each must be (meta_problems checks them all at once)
META_TEXT = ("id", "name", "short_name", "ledger", "accessibility_contact")
META_MONTHS = ("first_month", "cutoff_month", "last_month", "default_close")
META_FLAGS = ("synthetic", "pay_revision_paid")
META_MAPS = ("budget", "reconcile", "last_actual_month_totals", "board_forecasts", "documents")
META_KNOWN = (*META_TEXT, *META_MONTHS, *META_FLAGS, *META_MAPS, "employees_date", "closes")


def meta_problems(meta: dict[str, Any]) -> list[tuple[str, object, str, str]]:
    """Every setting of case.yaml that has the wrong type or shape: (place, value, problem,
    allowed). The values' meaning (a figure key figures.csv has, a month in the horizon) is
    checked where it is used."""
    out: list[tuple[str, object, str, str]] = []

    def month(place: str, v: object) -> None:
        if not (isinstance(v, str) and _parse_month(v)):
            out.append((place, v, "not a month", "YYYY-MM, e.g. 2024-09"))

    def key(place: str, v: object) -> None:
        if not isinstance(v, str) or not v.strip():
            out.append((place, v, "not a figure key", "a key of figures.csv"))

    def year(place: str, v: object) -> bool:
        ok = (isinstance(v, int) and not isinstance(v, bool)) or (
            isinstance(v, str) and v.isdigit() and len(v) == 4
        )
        if not ok:
            out.append((place, v, "not a year", "a year like 2024"))
        return ok

    def lines(place: str, v: object, names: tuple[str, ...]) -> None:
        if not isinstance(v, dict):
            out.append((place, v, "not a mapping", f"{{{', '.join(n + ': key' for n in names)}}}"))
            return
        for ln, k in v.items():
            if ln not in names:
                out.append((f"{place}.{ln}", None, "unknown line", " | ".join(names)))
            else:
                key(f"{place}.{ln}", k)

    for k in meta:
        if k not in META_KNOWN:
            out.append((str(k), None, "unknown setting", ", ".join(META_KNOWN)))
    for k in META_TEXT:
        if k in meta and (not isinstance(meta[k], str) or not meta[k].strip()):
            out.append((k, meta[k], "not text", "a name or file name"))
    for k in META_MONTHS:
        if k in meta:
            month(k, meta[k])
    for k in META_FLAGS:
        if k in meta and not isinstance(meta[k], bool):
            out.append((k, meta[k], "not true or false", "true | false"))
    if "employees_date" in meta and not isinstance(meta["employees_date"], (str, date)):
        out.append(("employees_date", meta["employees_date"], "not a date", "YYYY-MM-DD"))
    if "closes" in meta:
        if isinstance(meta["closes"], list):
            for i, c in enumerate(meta["closes"]):
                month(f"closes[{i}]", c)
        else:
            out.append(("closes", meta["closes"], "not a list", "a list of months YYYY-MM"))
    for k in META_MAPS:
        v = meta.get(k)
        if v is None:
            continue
        if not isinstance(v, dict):
            out.append((k, v, "not a mapping", "settings one per line, indented"))
            continue
        for sub, spec in v.items():
            place = f"{k}.{sub}"
            if k == "documents":
                if not isinstance(spec, str) or not spec.strip():
                    out.append((place, spec, "not a title", "the document's title, as text"))
            elif k == "budget":
                if year(place, sub):
                    lines(place, spec, LINES)
            elif k == "reconcile":
                lines(place, spec, LINES)
            elif k == "last_actual_month_totals":
                if sub not in ("revenue", "gross_cost"):
                    out.append((place, None, "unknown line", "revenue | gross_cost"))
                else:
                    key(place, spec)
            elif year(place, sub):  # board_forecasts
                if isinstance(spec, dict):
                    for kk in spec:
                        if kk not in ("figure", "made"):
                            out.append((f"{place}.{kk}", None, "unknown setting", "figure, made"))
                    key(f"{place}.figure", spec.get("figure"))
                    if "made" in spec:
                        month(f"{place}.made", spec["made"])
                else:
                    key(place, spec)
    return out


def _months(
    path: str, meta: dict[str, Any], *, cutoff_in_first_year: bool
) -> tuple[tuple[tuple[int, int], ...], int]:
    """The horizon's months (whole years, January to December) and the cut-off's index.

    The cut-off may be any month of the horizon but its last (something must be forecast).
    A case without a monthly ledger gives only the first year's year-to-date, so its cut-off
    lies in the first year (``cutoff_in_first_year``)."""
    parsed = {}
    for k in ("first_month", "cutoff_month", "last_month"):
        ym = _parse_month(str(meta[k]))
        if ym is None:
            raise DataError(path, "not a month", column=k, value=meta[k], allowed="YYYY-MM")
        parsed[k] = ym
    first, cut, last = parsed["first_month"], parsed["cutoff_month"], parsed["last_month"]
    if first[1] != 1:
        raise DataError(
            path,
            "the horizon must start in January",
            column="first_month",
            value=meta["first_month"],
        )
    if last[1] != 12 or last < first:
        raise DataError(
            path,
            "the horizon must end in December of its last year",
            column="last_month",
            value=meta["last_month"],
            allowed=f"{first[0]}-12 or a later December",
        )
    fmt = f"{first[0]}-01 to {last[0]}-11"
    if cutoff_in_first_year:
        fmt = (
            f"{first[0]}-01 to {first[0]}-12"
            if last[0] > first[0]
            else f"{first[0]}-01 to {first[0]}-11"
        )
    if not first <= cut < last or (cutoff_in_first_year and cut[0] != first[0]):
        raise DataError(
            path,
            "the cut-off must lie in the horizon, before its last month"
            + (
                " (a case without a monthly ledger: in the first year)"
                if cutoff_in_first_year
                else ""
            ),
            column="cutoff_month",
            value=meta["cutoff_month"],
            allowed=fmt,
        )
    months = tuple((y, m) for y in range(first[0], last[0] + 1) for m in range(1, 13))
    return months, months.index(cut)


def default_close(folder: Path, meta: dict[str, Any]) -> str:
    """The close a face stands on when none is asked for: ``default_close`` in case.yaml
    where the case names one, else the latest close the case can be loaded at."""
    if meta.get("ledger"):
        loadable = None  # any month of the ledger up to its cut-off
        latest = str(meta["cutoff_month"])
    else:
        sub = folder / "closes"
        loadable = {str(meta["cutoff_month"])} | (
            {p.name for p in sub.iterdir() if (p / "case.yaml").is_file()}
            if sub.is_dir()
            else set()
        )
        latest = max(loadable)
    chosen = meta.get("default_close")
    if chosen is None:
        return latest
    chosen = str(chosen)
    if _parse_month(chosen) is None or (
        chosen not in loadable if loadable is not None else chosen > latest
    ):
        raise DataError(
            str(folder / "case.yaml"),
            "default_close is not a close the case holds",
            column="default_close",
            value=chosen,
            allowed=", ".join(sorted(loadable)) if loadable else f"a month up to {latest}",
        )
    return chosen


def _load(folder: Path, hash_: str, cutoff: str | None = None) -> Case:
    """Read, check and build the case (see :func:`load_case`): case.yaml first (every other
    file is read against its months), then every file's rows and every rule of
    ``case_rules.CASE_RULES``; all their problems are raised at once, as one DataError."""
    meta = _load_yaml_meta(folder)
    closes = _closes(folder, meta)
    documents = {str(k): str(v) for k, v in (meta.get("documents") or {}).items()}
    if cutoff is None:  # the case's own months first: a bad cut-off is named as such
        _months(str(folder / "case.yaml"), meta, cutoff_in_first_year=not meta.get("ledger"))
        cutoff = default_close(folder, meta)
    if meta.get("ledger"):
        from balans.inputs.ledger import load_ledger_case

        return replace(
            load_ledger_case(folder, hash_, meta, cutoff), closes=closes, documents=documents
        )
    if cutoff != str(meta["cutoff_month"]):
        sub = folder / "closes" / cutoff
        if not (sub / "case.yaml").is_file():
            raise DataError(
                str(folder / "case.yaml"),
                "the case has no close at that cut-off",
                column="cutoff",
                value=cutoff,
                allowed=", ".join(closes),
            )
        later = load_case(sub)
        return replace(
            later, closes=closes, home=folder, documents={**documents, **later.documents}
        )
    months, cutoff_index = _months(str(folder / "case.yaml"), meta, cutoff_in_first_year=True)
    files, problems = read_case_files(folder, meta, months, CASE_MODELS, REQUIRED_PARAMETERS)
    found, skipped = check(files, CASE_RULES)
    if problems or found:
        raise DataError.every(str(folder), problems + found, skipped)

    accounts = accounts_of(files.rows["accounts.csv"])
    figures = figures_of(files.rows["figures.csv"])
    parameters = parameters_of(files.rows["parameters.csv"])
    budget_net, budget_rev, budget_given, _ = budgets(files)
    last_share, _ = last_month_shares(files)
    board, board_made = board_forecasts(files)
    top, subsets = agency_of(files.rows["agency.csv"])
    employees = next(
        r["employees"] for r in files.rows["staff.csv"] if r["date"] == str(meta["employees_date"])
    )
    return Case(
        folder=folder,
        id=str(meta["id"]),
        name=str(meta["name"]),
        short_name=str(meta.get("short_name", meta["name"])),
        months=months,
        cutoff_index=cutoff_index,
        accounts=accounts,
        divisions=divisions_of(files),
        agency=top,
        agency_subsets=subsets,
        employees=employees,
        figures=figures,
        parameters=parameters,
        budget_net_mkr=budget_net,
        budget_revenue_mkr=budget_rev,
        budget_given=budget_given,
        board_forecast_net_mkr=board,
        board_forecast_made=board_made,
        last_month_share=last_share,
        data_hash=hash_,
        ytd_start_index=0,
        actual_tkr=_coarse_actual(accounts, len(months), cutoff_index, last_share),
        budget_tkr=_coarse_budget(accounts, months, cutoff_index, budget_net, budget_rev),
        month_actual_basis=tuple(
            "forecast"
            if t > cutoff_index
            else (
                "document"
                if cutoff_index == 0
                or (t == cutoff_index and {"revenue", "cost"} <= set(last_share))
                else "derived"
            )
            for t in range(len(months))
        ),
        month_budget_basis=tuple(
            "document" if cutoff_index == 0 and t == 0 else "derived" for t in range(len(months))
        ),
        division_actual_tkr=None,
        division_budget_tkr=None,
        prior_year_tkr=None,
        pay_revision_paid=bool(meta.get("pay_revision_paid", False)),
        own_fte_given=None,
        synthetic=bool(meta.get("synthetic", False)),
        derivations=dict(COARSE_DERIVATIONS),
        provenance={},
        reconciliation=reconciliation_notes(files),
        closes=closes,
        documents=documents,
    )


# --------------------------------------------------------------------------- the records built
# from rows the rules have passed (none of these checks or raises)


def accounts_of(rows: list[Row]) -> tuple[Account, ...]:
    """accounts.csv's rows as accounts."""
    return tuple(
        Account(
            id=r["account"],
            name_sv=r["name_sv"],
            name_en=r["name_en"],
            side=r["side"],
            role=r["role"],
            driver=r["driver"],
            baseline_method=r["baseline_method"],
            actual_ytd_tkr=r["actual_ytd_tkr"],
            budget_ytd_tkr=r["budget_ytd_tkr"],
            actual_ytd_prior_year_tkr=r["actual_ytd_prior_year_tkr"],
            source=r["source"],
            note=r["note"] or "",
        )
        for r in rows
    )


def _given(r: Row, column: str) -> str:
    """An optional column's text (empty where the file lacks the column)."""
    return "" if column in r["_absent"] else (r[column] or "").strip()


def figures_of(rows: list[Row]) -> dict[str, Figure]:
    """figures.csv's rows by key."""
    return {
        r["key"]: Figure(
            r["key"],
            r["value"],
            r["unit"],
            r["kind"],
            r["source"],
            r["note"] or "",
            label_sv=_given(r, "label_sv"),
            note_sv=_given(r, "note_sv"),
            source_sv=_given(r, "source_sv"),
        )
        for r in rows
    }


def parameters_of(rows: list[Row]) -> dict[str, Figure]:
    """parameters.csv's rows by key, each value a number or (``…_start``) a month."""
    return {
        r["key"]: Figure(
            r["key"],
            parameter_value(r),  # type: ignore[arg-type]
            r["unit"],
            r["kind"],
            r["source"],
            r["note"] or "",
            r["low"],
            r["high"],
            r["label_sv"],
            r["label_en"],
            r["distribution"],
            note_sv=_given(r, "note_sv"),
            source_sv=_given(r, "source_sv"),
        )
        for r in rows
    }


def agency_of(rows: list[Row]) -> tuple[tuple[AgencyCategory, ...], tuple[AgencyCategory, ...]]:
    """agency.csv's rows as the top-level categories and their subsets."""
    cats = [
        AgencyCategory(
            r["category"],
            r["name_sv"],
            r["name_en"],
            r["part_of"] or "",
            r["cost_ytd_mkr"],
            r["fte_ytd"],
            r["forecast_first_year_mkr"],
            r["cost_ytd_prior_year_mkr"],
            r["fte_prior_year"],
            r["agency_share_pct"],
            r["agency_share_target_pct"],
            r["source"],
            r["note"] or "",
        )
        for r in rows
    ]
    return tuple(c for c in cats if not c.part_of), tuple(c for c in cats if c.part_of)


def divisions_of(files: CaseFiles) -> tuple[Division, ...]:
    """divisions.csv's rows (one per division and line) as divisions, in the file's order."""
    first = {}
    for r in files.rows["divisions.csv"]:
        first.setdefault(r["division"], r)
    lines = division_lines(files)
    return tuple(
        Division(
            did,
            r["name_sv"],
            r["name_en"],
            {
                ln: {k: v for k, v in lines[did][ln].items() if not k.startswith("_")}
                for ln in LINES
            },
            r["source"],
        )
        for did, r in first.items()
    )


def board_forecasts(files: CaseFiles) -> tuple[dict[int, float], dict[int, str]]:
    """Year -> the board's own full-year forecast (mkr), and year -> the month it was made."""
    board: dict[int, float] = {}
    board_made: dict[int, str] = {}
    for y, spec in (files.meta.get("board_forecasts") or {}).items():
        key = spec.get("figure") if isinstance(spec, dict) else spec
        value, _ = figure_lookup(files, key, f"board_forecasts.{y}.figure")
        if value is not None:
            board[int(y)] = value
        if isinstance(spec, dict) and spec.get("made"):
            board_made[int(y)] = str(spec["made"])
    return board, board_made


def reconciliation_notes(files: CaseFiles) -> tuple[str, ...]:
    """What reconciled, and how closely: the accounts to the documents' totals, the
    divisions to the board total, the agency categories to the agency account."""
    notes = [
        f"{col} {line}: accounts {thousands(got)} tkr, document {thousands(want)} tkr, "
        f"difference {thousands(got - want, '+')} tkr"
        for col, line, got, want, _, _ in account_reconciliation(files)
    ]
    notes += [
        f"divisions {c} {line}: {got:g} mkr against board total {want:.1f} mkr"
        for c, line, got, want, _ in division_reconciliation(files)
    ]
    totals = agency_totals(files)
    if totals is not None:
        notes.append(
            f"agency categories: {totals[0]:g} mkr against the account's {totals[1]:.3f} mkr"
        )
    return tuple(notes)


# How a case without a monthly ledger derives its months and divisions (data/README.md).
COARSE_DERIVATIONS = {
    "actual_months": "the year-to-date actuals split into months: the last actual month takes "
    "its share of the documents' last-month totals where given, the other months share the rest evenly",
    "budget_months": "each account keeps its share of the year-to-date budget of its side; the "
    "year-to-date months keep the year-to-date budget, the remaining months share the rest of the "
    "year's budget evenly; later years keep that monthly profile",
    "divisions": "each division takes its share of the year-to-date actual revenue and gross cost "
    "(the budget: of the first year's budget)",
}


def _coarse_actual(
    accounts: tuple[Account, ...], T: int, c: int, last_share: dict[str, float]
) -> np.ndarray:
    """Actual months split from the year-to-date figures: the last month takes its share of
    the documents' last-month totals (if given), the others share the rest evenly. (T, A) tkr."""
    out = np.zeros((T, len(accounts)))
    ytd = np.array([a.actual_ytd_tkr for a in accounts])
    is_rev = np.array([a.side == "revenue" for a in accounts])
    for s, cols in (("revenue", is_rev), ("cost", ~is_rev)):
        share = last_share.get(s)
        if share is None or c == 0:
            w = np.full(c + 1, 1.0 / (c + 1))
        else:
            w = np.r_[np.full(c, (1.0 - share) / c), share]
        out[: c + 1, cols] = w[:, None] * ytd[cols][None, :]
    return out


def _coarse_budget(
    accounts: tuple[Account, ...],
    months: tuple[tuple[int, int], ...],
    c: int,
    budget_net: dict[int, float],
    budget_rev: dict[int, float],
) -> np.ndarray:
    """Monthly budget per account (tkr): the year-to-date budget per account, the rest of
    the year's budget spread evenly over the remaining months, each account keeping its
    share of the year-to-date budget of its side; later years keep that monthly profile."""
    A = len(accounts)
    years = sorted({y for y, _ in months})
    year_idx = np.array([years.index(y) for y, _ in months])
    budget_ytd = np.array([a.budget_ytd_tkr for a in accounts])
    side = np.array([a.side for a in accounts])
    is_rev = side == "revenue"
    out = np.zeros((len(months), A))
    side_ytd = {s: budget_ytd[side == s].sum() for s in ("revenue", "cost")}
    profile = np.zeros((12, A))
    for yi, y in enumerate(years):
        rev = budget_rev[y] * 1000.0
        cost = (budget_net[y] - budget_rev[y]) * 1000.0
        annual = np.where(
            is_rev,
            rev * budget_ytd / side_ytd["revenue"],
            cost * budget_ytd / side_ytd["cost"],
        )
        if yi == 0:
            rest = max(11 - c, 1)  # a December cut-off: the year-to-date is the year
            monthly = np.where(
                (np.arange(12) <= c)[:, None],
                (budget_ytd / (c + 1))[None, :],
                ((annual - budget_ytd) / rest)[None, :],
            )
            with np.errstate(divide="ignore", invalid="ignore"):
                profile = np.where(annual != 0, monthly / annual, 1.0 / 12.0)
        else:
            monthly = profile * annual[None, :]
        out[year_idx == yi] = monthly
    return out
