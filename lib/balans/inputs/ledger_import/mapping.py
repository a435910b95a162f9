"""The mapping file: the region's exports, how they are written, and its codes (``Mapping``).

A *mapping file* (YAML; ``balans schema mapping`` prints its JSON Schema) names the exports,
relative to the mapping file so that the controller's folder describes itself, says how
they are written (:class:`Format`: encoding, separator, decimal mark, unit, signs), and maps
the region's account codes to Balans accounts and its unit codes (ansvar) to divisions, by
Region-Bas code entries and ranges (:mod:`.codes`).

:func:`load_mapping` reads one: a key that appears twice, an unknown key (with the nearest
known one), a missing key or a value out of range is a problem naming the key's path; then
:func:`_check_mapping` checks what the schema cannot: ids used twice, the horizon, sides and
roles and drivers that go together, one account of each required role, code entries that
overlap, agency categories within the agency account. The commented template a new region
starts from is ``TEMPLATE_DIR/mapping.yaml``.
"""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from balans.errors import DataError, shown
from balans.inputs import yamlsafe
from balans.inputs.case import DRIVERS, METHODS, ROLES
from balans.inputs.ledger_import.codes import _intervals, _overlaps, _parse_code_entry, _targets
from balans.inputs.ledger_import.messages import (
    MAX_PROBLEMS,
    LedgerImportError,
    _kerr,
    _Problems,
    _short,
)

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "ledger_case"


_ID = r"^[a-z][a-z0-9_]*$"


_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


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
