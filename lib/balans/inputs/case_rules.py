"""The rules a case folder's figures must keep, one small named function each.

Each rule's docstring states it in one sentence; each reads the rows of the files it names
(``@rule("accounts.csv", "figures.csv")``) and returns the problems it finds, never raising.
:func:`check` runs a list of rules over a folder's rows: a rule that reads a file with
problems of its own (a bad cell, a missing column) is not checked, and is named as such, so
that one error can list every problem of a folder at once without the noise of a rule
reading half a file. A rule that needs another rule's facts (the agency account, the first
year's budget) and finds them wrong returns nothing: that other rule names the problem.

``CASE_RULES`` are the rules of a case folder with year-to-date figures (the shipped case);
``LEDGER_RULES`` those of a ledger case (``balans import``) that read the same files.
``ledger.py`` checks what only a ledger has (months, the export's totals) itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from balans.errors import DataError
from balans.inputs.case_rows import (
    DIVISION_VALUE_COLS,
    LINES,
    Row,
    RowModel,
    parse_month,
    read_rows,
)

Problems = list[DataError]

# The roles the engine needs exactly one account of.
REQUIRED_ROLES = ("personnel", "agency", "drugs", "purchased_care")

# Parameters the engine divides by: a zero would make every figure infinite.
POSITIVE_PARAMETERS = ("hours_per_fte_year", "fte_per_employee", "overtime_cost_factor")

_UNIT_SUFFIX = ("_tkr", "_mkr", "_pct", "_hours", "_fte")

RECONCILABLE = ("actual_ytd_tkr", "budget_ytd_tkr", "actual_ytd_prior_year_tkr")


@dataclass(frozen=True)
class CaseFiles:
    """What the rules read: the folder, its case.yaml settings (already checked), the
    horizon's months, and the rows of each file that read without problems."""

    folder: Path
    meta: dict[str, Any]
    months: tuple[tuple[int, int], ...]
    rows: dict[str, list[Row]]
    required_parameters: tuple[str, ...] = ()

    def path(self, name: str) -> str:
        return str(self.folder / name)

    @property
    def years(self) -> list[int]:
        return sorted({y for y, _ in self.months})

    def figure_values(self) -> dict[str, float]:
        return {r["key"]: float(r["value"]) for r in self.rows.get("figures.csv", [])}


@dataclass(frozen=True)
class Rule:
    """A named rule: the function, and the files whose rows it reads."""

    check: Callable[[CaseFiles], Problems]
    reads: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.check.__name__

    @property
    def says(self) -> str:
        """The rule in one sentence (its docstring)."""
        return " ".join((self.check.__doc__ or self.name).split())


def rule(*reads: str) -> Callable[[Callable[[CaseFiles], Problems]], Rule]:
    """Make a function a :class:`Rule` that reads the files ``reads``."""

    def wrap(fn: Callable[[CaseFiles], Problems]) -> Rule:
        return Rule(fn, reads)

    return wrap


def check(files: CaseFiles, rules: tuple[Rule, ...]) -> tuple[Problems, list[str]]:
    """Every problem the rules find, and the rules not checked because a file they read had
    problems, each as "<the files>: <the rule's sentence>"."""
    problems: Problems = []
    skipped: list[str] = []
    for r in rules:
        bad = [f for f in r.reads if f != "case.yaml" and f not in files.rows]
        if bad:
            says = r.says.rstrip(".")
            skipped.append(f"{', '.join(bad)}: {says[0].lower()}{says[1:]}")
            continue
        problems += r.check(files)
    return problems, skipped


def thousands(x: float, sign: str = "") -> str:
    """``-1 659 905``: whole units, a space between thousands (``sign="+"``: always signed)."""
    return f"{x:{sign},.0f}".replace(",", " ")


def figure_lookup(
    files: CaseFiles, key: Any, setting: str
) -> tuple[float | None, DataError | None]:
    """The value of the figure a case.yaml setting names, or the problem."""
    values = files.figure_values()
    if key not in values:
        return None, DataError(
            files.path("case.yaml"),
            "names a figure that figures.csv does not have",
            column=setting,
            value=key,
        )
    return values[key], None


# --------------------------------------------------------------------------- any one file


def _unique(file: str, rows: list[Row], col: str) -> Problems:
    seen: dict[str, int] = {}
    out = []
    for r in rows:
        if r[col] in seen:
            out.append(
                DataError(
                    file,
                    f"duplicate {col} (first on line {seen[r[col]]})",
                    row=r["_line"],
                    column=col,
                    value=r[col],
                )
            )
        else:
            seen[r[col]] = r["_line"]
    return out


def _units(file: str, rows: list[Row]) -> Problems:
    out = []
    for r in rows:
        key, unit = r["key"], r["unit"]
        for suffix in _UNIT_SUFFIX:
            if key.endswith(suffix) and not unit.startswith(suffix[1:]):
                out.append(
                    DataError(
                        file,
                        f"the key says {suffix[1:]} but the unit column says otherwise",
                        row=r["_line"],
                        column="unit",
                        value=unit,
                        allowed=f"{suffix[1:]}…",
                    )
                )
    return out


def _swedish(file: str, rows: list[Row], columns: tuple[str, ...]) -> Problems:
    """A file with a ``note_sv`` column gives every note in both languages: a row with a
    note (English, the planner's) and no Swedish one would show the board English, and one
    the other way round would show the planner nothing. A file with ``source_sv`` (or
    figures.csv's ``label_sv``) gives every row's source (or name) in Swedish too."""
    out = []
    for r in rows:
        for column in columns:
            if column in r["_absent"]:
                continue
            if column == "note_sv":
                note, note_sv = (r["note"] or "").strip(), (r["note_sv"] or "").strip()
                if note and not note_sv:
                    out.append(
                        DataError(
                            file,
                            "the note has no Swedish (note_sv)",
                            row=r["_line"],
                            column="note_sv",
                            allowed="the note in Swedish, as the board reads it (or drop the column)",
                        )
                    )
                if note_sv and not note:
                    out.append(
                        DataError(
                            file,
                            "the Swedish note has no English (note)",
                            row=r["_line"],
                            column="note",
                            allowed="the note in English, as the planners read it",
                        )
                    )
            elif not (r[column] or "").strip():
                what = "source" if column == "source_sv" else "figure"
                out.append(
                    DataError(
                        file,
                        f"the {what} has no Swedish ({column})",
                        row=r["_line"],
                        column=column,
                        allowed=f"the {what} in Swedish, as the board reads it (or drop the column)",
                    )
                )
    return out


# --------------------------------------------------------------------------- accounts.csv


@rule("accounts.csv")
def accounts_are_unique(files: CaseFiles) -> Problems:
    """Each account appears once in accounts.csv."""
    return _unique(files.path("accounts.csv"), files.rows["accounts.csv"], "account")


@rule("accounts.csv")
def side_matches_role(files: CaseFiles) -> Problems:
    """An account has role 'revenue' exactly when it lies on side 'revenue'."""
    return [
        DataError(
            files.path("accounts.csv"),
            "side and role disagree",
            row=r["_line"],
            column="role",
            value=r["role"],
            allowed="role 'revenue' exactly on side 'revenue'",
        )
        for r in files.rows["accounts.csv"]
        if (r["side"] == "revenue") != (r["role"] == "revenue")
    ]


@rule("accounts.csv")
def drivers_match_roles(files: CaseFiles) -> Problems:
    """The agency account has driver 'agency' and the personnel account driver 'pay'."""
    out = []
    for r in files.rows["accounts.csv"]:
        need = {"agency": "agency", "personnel": "pay"}.get(r["role"])
        if need and r["driver"] != need:
            out.append(
                DataError(
                    files.path("accounts.csv"),
                    f"the {r['role']} account must have driver '{need}'",
                    row=r["_line"],
                    column="driver",
                    value=r["driver"],
                )
            )
    return out


@rule("accounts.csv")
def one_account_per_required_role(files: CaseFiles) -> Problems:
    """Exactly one account has each role the engine prices (personnel, agency, drugs,
    purchased care)."""
    out = []
    for role in REQUIRED_ROLES:
        n = sum(r["role"] == role for r in files.rows["accounts.csv"])
        if n != 1:
            out.append(
                DataError(
                    files.path("accounts.csv"),
                    f"exactly one account must have role '{role}' (found {n})",
                    column="role",
                )
            )
    return out


@rule("accounts.csv")
def document_differences_match(files: CaseFiles) -> Problems:
    """A document's difference (actual minus budget, minus prior year) is the accounts'
    own, within 1 tkr."""
    out = []
    file = files.path("accounts.csv")
    for r in files.rows["accounts.csv"]:
        actual, prior = r["actual_ytd_tkr"], r["actual_ytd_prior_year_tkr"]
        for col, diff in (
            ("doc_diff_budget_tkr", actual - r["budget_ytd_tkr"]),
            ("doc_diff_prior_year_tkr", None if prior is None else actual - prior),
        ):
            if r[col] is None:
                continue
            if diff is None:
                out.append(
                    DataError(
                        file,
                        "a difference against the prior year needs the prior year's actual",
                        row=r["_line"],
                        column="actual_ytd_prior_year_tkr",
                        allowed="the prior year's year-to-date actual, or both cells empty",
                    )
                )
            elif abs(r[col] - diff) > 1.0:
                out.append(
                    DataError(
                        file,
                        "the document's difference does not match actual minus the compared "
                        f"figure ({diff:.0f})",
                        row=r["_line"],
                        column=col,
                        value=r[col],
                        allowed="within 1 tkr of rounding",
                    )
                )
    return out


# --------------------------------------------------------------------------- figures.csv


@rule("figures.csv")
def figures_are_unique(files: CaseFiles) -> Problems:
    """Each figure key appears once in figures.csv."""
    return _unique(files.path("figures.csv"), files.rows["figures.csv"], "key")


@rule("figures.csv")
def figure_units_match_keys(files: CaseFiles) -> Problems:
    """A figure whose key names a unit (…_tkr, …_mkr, …_pct) has that unit."""
    return _units(files.path("figures.csv"), files.rows["figures.csv"])


@rule("figures.csv")
def figures_are_in_swedish(files: CaseFiles) -> Problems:
    """Where figures.csv has the Swedish columns, every figure gives its name, note and
    source in Swedish too."""
    return _swedish(
        files.path("figures.csv"), files.rows["figures.csv"], ("label_sv", "note_sv", "source_sv")
    )


# --------------------------------------------------------------------------- parameters.csv


def parameter_value(r: Row) -> float | str | None:
    """A parameter's value: a ``YYYY-MM`` month for a ``…_start`` key, else a finite number
    (None where it is neither; :func:`parameter_values` names it)."""
    if r["key"].endswith("_start"):
        return r["value"] if parse_month(r["value"]) is not None else None
    try:
        value = float(r["value"])
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


@rule("parameters.csv")
def parameters_are_unique(files: CaseFiles) -> Problems:
    """Each parameter key appears once in parameters.csv."""
    return _unique(files.path("parameters.csv"), files.rows["parameters.csv"], "key")


@rule("parameters.csv")
def parameter_units_match_keys(files: CaseFiles) -> Problems:
    """A parameter whose key names a unit (…_pct, …_hours) has that unit."""
    return _units(files.path("parameters.csv"), files.rows["parameters.csv"])


@rule("parameters.csv")
def parameter_values(files: CaseFiles) -> Problems:
    """Each parameter's value is a month (…_start) or a finite number inside its own range
    (low to high), a month of the year for the pay revision and above 0 where it divides."""
    file = files.path("parameters.csv")
    out = []
    for r in files.rows["parameters.csv"]:

        def bad(problem: str, allowed: str | None = None, r: Row = r) -> None:
            out.append(
                DataError(
                    file, problem, row=r["_line"], column="value", value=r["value"], allowed=allowed
                )
            )

        if r["key"].endswith("_start"):
            if parse_month(r["value"]) is None:
                bad("not a month", "YYYY-MM")
            continue
        try:
            value = float(r["value"])
        except ValueError:
            bad("not a number")
            continue
        if value != value or abs(value) == float("inf"):
            bad("not a finite number")
            continue
        if r["key"] == "pay_revision_month" and value not in range(1, 13):
            bad("not a month of the year", "a whole number 1 to 12")
        if r["key"] in POSITIVE_PARAMETERS and value <= 0:
            bad(f"{r['key']} must be above 0 (it divides)", "more than 0")
        lo, hi = r["low"], r["high"]
        if lo is not None and hi is not None and lo > hi:
            out.append(
                DataError(
                    file,
                    "low is above high",
                    row=r["_line"],
                    column="low",
                    value=lo,
                    allowed=f"at most {hi}",
                )
            )
        elif (lo is not None and value < lo) or (hi is not None and value > hi):
            bad("the value lies outside its own range", f"{lo} to {hi}")
    return out


@rule("parameters.csv")
def assumptions_say_why(files: CaseFiles) -> Problems:
    """A parameter that is an assumption says why in its note."""
    return [
        DataError(
            files.path("parameters.csv"),
            "an assumption must say why (note)",
            row=r["_line"],
            column="note",
        )
        for r in files.rows["parameters.csv"]
        if r["kind"] == "assumption" and not (r["note"] or "").strip()
    ]


@rule("parameters.csv")
def parameters_are_in_swedish(files: CaseFiles) -> Problems:
    """Where parameters.csv has the Swedish columns, every parameter gives its note and
    source in Swedish too."""
    return _swedish(
        files.path("parameters.csv"), files.rows["parameters.csv"], ("note_sv", "source_sv")
    )


@rule("parameters.csv")
def required_parameters_are_given(files: CaseFiles) -> Problems:
    """Every parameter the engine and the faces read is given, and a pay revision for each
    year of the horizon."""
    file = files.path("parameters.csv")
    keys = {r["key"] for r in files.rows["parameters.csv"]}
    out = [
        DataError(file, "a required parameter is missing", column="key", value=k)
        for k in files.required_parameters
        if k not in keys
    ]
    for y in files.years:
        k = f"pay_revision_pct_{y}"
        if k not in keys:
            out.append(
                DataError(file, f"the pay revision for {y} is missing", column="key", value=k)
            )
    return out


def _parameter_values(files: CaseFiles) -> dict[str, float | str | None]:
    return {r["key"]: parameter_value(r) for r in files.rows["parameters.csv"]}


@rule("parameters.csv")
def starts_lie_in_the_horizon(files: CaseFiles) -> Problems:
    """The rest rule and the agency price change start no later than the horizon's last
    month (a start before it is already in the actuals)."""
    values = _parameter_values(files)
    last = f"{files.months[-1][0]}-{files.months[-1][1]:02d}"
    out = []
    for key in ("rest_rule_start", "agency_price_start"):
        start = values.get(key)
        if isinstance(start, str) and start > last:
            out.append(
                DataError(
                    files.path("parameters.csv"),
                    f"{key} lies after the horizon",
                    column="value",
                    value=start,
                    allowed=f"a month YYYY-MM up to {last} (before the horizon: already in the "
                    "actuals)",
                )
            )
    return out


@rule("parameters.csv")
def rest_rule_in_baseline_is_a_flag(files: CaseFiles) -> Problems:
    """The flag rest_rule_in_baseline, where given, is 0 (a scenario lever) or 1 (decided)."""
    flag = _parameter_values(files).get("rest_rule_in_baseline")
    if flag is None or flag in (0.0, 1.0):
        return []
    return [
        DataError(
            files.path("parameters.csv"),
            "rest_rule_in_baseline must be 0 or 1",
            column="value",
            value=flag,
            allowed="0 (a scenario lever) or 1 (decided, in the baseline)",
        )
    ]


@rule("parameters.csv")
def replacement_mix_adds_up_to_100(files: CaseFiles) -> Problems:
    """The agency replacement defaults (own staff, purchased care, not replaced) add up to
    100 per cent."""
    values = _parameter_values(files)
    parts = [
        values.get(f"agency_replacement_{k}_pct")
        for k in ("own_staff", "purchased_care", "not_replaced")
    ]
    if not all(isinstance(p, float) for p in parts):
        return []  # required_parameters_are_given or parameter_values names it
    mix = sum(parts)  # type: ignore[arg-type]
    if abs(mix - 100) <= 1e-9:
        return []
    return [
        DataError(
            files.path("parameters.csv"),
            "the agency replacement defaults must add up to 100",
            column="value",
            value=mix,
        )
    ]


@rule("parameters.csv", "agency.csv")
def price_changes_name_categories(files: CaseFiles) -> Problems:
    """An agency price change (agency_price_change_pct_<category>) names a top-level agency
    category."""
    cat_ids = {r["category"] for r in files.rows["agency.csv"] if not r["part_of"]}
    return [
        DataError(
            files.path("parameters.csv"),
            "the agency price change names a category the case does not have",
            column="key",
            value=r["key"],
            allowed=", ".join(f"agency_price_change_pct_{c}" for c in sorted(cat_ids)),
        )
        for r in files.rows["parameters.csv"]
        if r["key"].startswith("agency_price_change_pct_")
        and r["key"].removeprefix("agency_price_change_pct_") not in cat_ids
    ]


# --------------------------------------------------------------------------- agency.csv


@rule("agency.csv")
def agency_categories_are_unique(files: CaseFiles) -> Problems:
    """Each agency category appears once in agency.csv."""
    return _unique(files.path("agency.csv"), files.rows["agency.csv"], "category")


@rule("agency.csv")
def part_of_names_a_category(files: CaseFiles) -> Problems:
    """A category's part_of, where given, names a top-level category."""
    top = [r["category"] for r in files.rows["agency.csv"] if not r["part_of"]]
    return [
        DataError(
            files.path("agency.csv"),
            "part_of names no top-level category",
            row=r["_line"],
            column="part_of",
            value=r["part_of"],
            allowed=" | ".join(top),
        )
        for r in files.rows["agency.csv"]
        if r["part_of"] and r["part_of"] not in top
    ]


@rule("agency.csv")
def agency_cost_has_fte(files: CaseFiles) -> Problems:
    """A top-level category with cost has FTE equivalents to price its hours."""
    return [
        DataError(
            files.path("agency.csv"),
            "a category with cost needs FTE equivalents to price its hours",
            row=r["_line"],
            column="fte_ytd",
            value=r["fte_ytd"],
            allowed="more than 0",
        )
        for r in files.rows["agency.csv"]
        if not r["part_of"] and r["cost_ytd_mkr"] < 0 and r["fte_ytd"] <= 0
    ]


def agency_totals(files: CaseFiles) -> tuple[float, float, float] | None:
    """The top-level categories' cost, the agency account's and the tolerance (mkr); None
    without exactly one agency account."""
    agency = [r for r in files.rows["accounts.csv"] if r["role"] == "agency"]
    if len(agency) != 1:
        return None  # one_account_per_required_role names it
    top = [r for r in files.rows["agency.csv"] if not r["part_of"]]
    got = sum(r["cost_ytd_mkr"] for r in top)
    return got, agency[0]["actual_ytd_tkr"] / 1000, 0.5 * len(top) + 0.5


@rule("agency.csv", "accounts.csv")
def agency_categories_add_up_to_the_account(files: CaseFiles) -> Problems:
    """The top-level agency categories add up to the agency account's year-to-date cost."""
    totals = agency_totals(files)
    if totals is None:
        return []
    got, want, tol = totals
    if abs(got - want) <= tol:
        return []
    return [
        DataError(
            files.path("agency.csv"),
            f"the categories add up to {got:g} mkr, not the agency account's {want:.1f} mkr",
            column="cost_ytd_mkr",
            allowed=f"within {tol:g} mkr of rounding",
        )
    ]


# --------------------------------------------------------------------------- case.yaml's figures


def budgets(
    files: CaseFiles,
) -> tuple[dict[int, float], dict[int, float], dict[int, frozenset[str]], Problems]:
    """The budget per year (net cost and revenue, mkr) from case.yaml's ``budget`` rules and
    figures.csv, the lines the documents give, and the problems found."""
    meta_path = files.path("case.yaml")
    net: dict[int, float] = {}
    rev: dict[int, float] = {}
    given: dict[int, frozenset[str]] = {}
    out: Problems = []
    rules = files.meta.get("budget")
    if not isinstance(rules, dict):
        return (
            net,
            rev,
            given,
            [DataError(meta_path, "budget must map years to figure keys", column="budget")],
        )
    for y in files.years:
        rule_ = rules.get(y, rules.get(str(y)))
        if not isinstance(rule_, dict) or "net_cost" not in rule_:
            out.append(
                DataError(
                    meta_path, f"the budget for {y} needs at least net_cost", column=f"budget.{y}"
                )
            )
            continue
        given[y] = frozenset(k for k in LINES if k in rule_)
        v, p = figure_lookup(files, rule_["net_cost"], f"budget.{y}.net_cost")
        out += [p] if p else []
        if v is not None:
            net[y] = v
        if "revenue" in rule_:
            v, p = figure_lookup(files, rule_["revenue"], f"budget.{y}.revenue")
            out += [p] if p else []
            if v is not None:
                rev[y] = v
        elif y - 1 in rev:
            rev[y] = rev[y - 1]
        else:
            out.append(
                DataError(
                    meta_path,
                    f"the first year's budget needs revenue ({y})",
                    column=f"budget.{y}.revenue",
                )
            )
        if "gross_cost" in rule_:
            gross, p = figure_lookup(files, rule_["gross_cost"], f"budget.{y}.gross_cost")
            out += [p] if p else []
            if gross is not None and y in rev and y in net and abs(rev[y] + gross - net[y]) > 1.0:
                out.append(
                    DataError(
                        meta_path,
                        f"budget {y}: revenue + gross cost ({rev[y] + gross:.1f}) is not net cost",
                        column=f"budget.{y}",
                        value=net[y],
                        allowed="within 1 mkr",
                    )
                )
    return net, rev, given, out


@rule("case.yaml", "figures.csv")
def budgets_name_figures(files: CaseFiles) -> Problems:
    """Each year's budget names figures.csv's net cost and revenue (the first year's own),
    and revenue plus gross cost is net cost within 1 mkr."""
    return budgets(files)[3]


def _account_value(r: Row, col: str) -> float | None:
    if col == "deviation_ytd_tkr":  # actual minus budget: a document's deviation
        return r["actual_ytd_tkr"] - r["budget_ytd_tkr"]
    return r[col]


def account_reconciliation(files: CaseFiles) -> Iterator[tuple[str, str, float, float, float, Any]]:
    """(column, line, the accounts' sum, the document's figure, tolerance, figure key) of
    each reconcile rule in case.yaml whose figure figures.csv has (tkr)."""
    rows = files.rows["accounts.csv"]
    tol_rev = 0.5 * sum(r["side"] == "revenue" for r in rows) + 0.5
    tol_cost = 0.5 * sum(r["side"] == "cost" for r in rows) + 0.5
    values = files.figure_values()
    for col, keys in (files.meta.get("reconcile") or {}).items():
        if col not in (*RECONCILABLE, "deviation_ytd_tkr"):
            continue
        if any(_account_value(r, col) is None for r in rows):
            continue
        rev = sum(_account_value(r, col) for r in rows if r["side"] == "revenue")  # type: ignore[misc]
        cost = sum(_account_value(r, col) for r in rows if r["side"] == "cost")  # type: ignore[misc]
        for line, got, tol in (
            ("revenue", rev, tol_rev),
            ("gross_cost", cost, tol_cost),
            ("net_cost", rev + cost, tol_rev + tol_cost),
        ):
            if line in keys and keys[line] in values:
                yield col, line, got, values[keys[line]], tol, keys[line]


@rule("case.yaml", "accounts.csv", "figures.csv")
def accounts_add_up_to_the_documents_totals(files: CaseFiles) -> Problems:
    """The accounts add up to the documents' totals that case.yaml's reconcile names, within
    half a tkr of rounding per account."""
    meta_path, acc_file = files.path("case.yaml"), files.path("accounts.csv")
    out: Problems = []
    rows = files.rows["accounts.csv"]
    for col, keys in (files.meta.get("reconcile") or {}).items():
        if col not in (*RECONCILABLE, "deviation_ytd_tkr"):
            out.append(
                DataError(
                    meta_path,
                    "unknown reconcile column",
                    column=f"reconcile.{col}",
                    allowed=" | ".join((*RECONCILABLE, "deviation_ytd_tkr")),
                )
            )
            continue
        if any(_account_value(r, col) is None for r in rows):
            out.append(
                DataError(
                    acc_file,
                    f"reconcile.{col} in case.yaml needs the column filled for every account",
                    column=col,
                    allowed="a figure in every row, or no reconcile rule for the column",
                )
            )
            continue
        for line in LINES:
            if line in keys:
                p = figure_lookup(files, keys[line], f"reconcile.{col}.{line}")[1]
                out += [p] if p else []
    for col, line, got, want, tol, key in account_reconciliation(files):
        if abs(got - want) > tol:
            out.append(
                DataError(
                    acc_file,
                    f"column {col}: the {line.replace('_', ' ')} accounts add up to "
                    f"{thousands(got)} tkr, not the document's {thousands(want)} tkr ({key})",
                    column=col,
                    allowed=f"within {tol:g} tkr of rounding",
                )
            )
    return out


@rule("case.yaml", "figures.csv")
def board_forecasts_name_figures(files: CaseFiles) -> Problems:
    """Each board forecast in case.yaml names a figure of figures.csv."""
    out = []
    for y, spec in (files.meta.get("board_forecasts") or {}).items():
        key = spec.get("figure") if isinstance(spec, dict) else spec
        p = figure_lookup(files, key, f"board_forecasts.{y}.figure")[1]
        out += [p] if p else []
    return out


def ytd_totals_mkr(files: CaseFiles) -> dict[str, float]:
    """The accounts' year-to-date actual revenue, gross cost and net cost (mkr)."""
    rows = files.rows["accounts.csv"]
    totals = {"revenue": sum(r["actual_ytd_tkr"] for r in rows if r["side"] == "revenue") / 1000}
    totals["gross_cost"] = sum(r["actual_ytd_tkr"] for r in rows if r["side"] == "cost") / 1000
    totals["net_cost"] = totals["revenue"] + totals["gross_cost"]
    return totals


def last_month_shares(files: CaseFiles) -> tuple[dict[str, float], Problems]:
    """Side -> the last actual month's share of the year to date (from case.yaml's
    ``last_actual_month_totals``), and the problems found."""
    shares: dict[str, float] = {}
    out: Problems = []
    lm = files.meta.get("last_actual_month_totals") or {}
    totals = ytd_totals_mkr(files)
    for side, line in (("revenue", "revenue"), ("cost", "gross_cost")):
        if line not in lm:
            continue
        v, p = figure_lookup(files, lm[line], f"last_actual_month_totals.{line}")
        if p:
            out.append(p)
            continue
        share = v / totals[line] if totals[line] else float("nan")  # type: ignore[operator]
        if not 0 < share < 1:
            out.append(
                DataError(
                    files.path("case.yaml"),
                    f"the last month's {line} is not a share of the year to date",
                    column=f"last_actual_month_totals.{line}",
                    value=v,
                )
            )
            continue
        shares[side] = share
    return shares, out


@rule("case.yaml", "accounts.csv", "figures.csv")
def last_month_is_a_share_of_the_year_to_date(files: CaseFiles) -> Problems:
    """The documents' last actual month (revenue, gross cost) is a share between 0 and 1 of
    the accounts' year to date."""
    return last_month_shares(files)[1]


# --------------------------------------------------------------------------- divisions.csv


def division_lines(files: CaseFiles) -> dict[str, dict[str, dict[str, Any]]]:
    """Division -> line -> its values (and ``_line``), in the file's order (a line given
    twice: the last)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in files.rows["divisions.csv"]:
        lines = out.setdefault(r["division"], {})
        lines[r["line"]] = {c: r[c] for c in DIVISION_VALUE_COLS} | {"_line": r["_line"]}
    return out


@rule("divisions.csv")
def each_division_has_each_line_once(files: CaseFiles) -> Problems:
    """Each division has one row each for revenue, gross cost and net cost."""
    file = files.path("divisions.csv")
    out = []
    seen: set[tuple[str, str]] = set()
    for r in files.rows["divisions.csv"]:
        if (r["division"], r["line"]) in seen:
            out.append(
                DataError(
                    file,
                    "the division has this line twice",
                    row=r["_line"],
                    column="line",
                    value=r["line"],
                )
            )
        seen.add((r["division"], r["line"]))
    for did, lines in division_lines(files).items():
        missing = [ln for ln in LINES if ln not in lines]
        if missing:
            out.append(
                DataError(
                    file, f"division '{did}' lacks the line(s) {', '.join(missing)}", column="line"
                )
            )
    return out


@rule("divisions.csv")
def division_revenue_and_cost_make_net_cost(files: CaseFiles) -> Problems:
    """A division's revenue plus gross cost is its net cost within 1 mkr, year to date and
    in the first year's budget."""
    out = []
    for did, lines in division_lines(files).items():
        if any(ln not in lines for ln in LINES):
            continue  # each_division_has_each_line_once names it
        for c in ("ytd_actual_mkr", "budget_first_year_mkr"):
            rv, gc, nc = (lines[ln][c] for ln in LINES)
            if abs(rv + gc - nc) > 1.0:
                out.append(
                    DataError(
                        files.path("divisions.csv"),
                        f"division '{did}': revenue + gross cost ({rv + gc:g}) is not net cost",
                        row=lines["net_cost"]["_line"],
                        column=c,
                        value=nc,
                        allowed="within 1 mkr of rounding",
                    )
                )
    return out


def division_reconciliation(files: CaseFiles) -> Iterator[tuple[str, str, float, float, float]]:
    """(column, line, the divisions' sum, the board total, tolerance) in mkr, for the year
    to date (against the accounts) and the first year's budget (against case.yaml's)."""
    by_div = division_lines(files)
    if any(ln not in lines for lines in by_div.values() for ln in LINES):
        return
    ytd = ytd_totals_mkr(files)
    net, rev, _, _ = budgets(files)
    first = files.years[0]
    budget = None
    if first in net and first in rev:
        budget = {
            "revenue": rev[first],
            "net_cost": net[first],
            "gross_cost": net[first] - rev[first],
        }
    tol = 0.5 * len(by_div) + 0.5
    for line in LINES:
        for c, want in (
            ("ytd_actual_mkr", ytd[line]),
            ("budget_first_year_mkr", None if budget is None else budget[line]),
        ):
            if want is not None:
                got = sum(lines[line][c] for lines in by_div.values())
                yield c, line, got, want, tol


@rule("case.yaml", "divisions.csv", "accounts.csv", "figures.csv")
def divisions_add_up_to_the_board_total(files: CaseFiles) -> Problems:
    """The divisions add up to the board total: the accounts' year to date and the first
    year's budget."""
    return [
        DataError(
            files.path("divisions.csv"),
            f"the divisions' {line.replace('_', ' ')} add up to {got:g} mkr, not the board "
            f"total {want:.1f} mkr",
            column=c,
            allowed=f"within {tol:g} mkr of rounding",
        )
        for c, line, got, want, tol in division_reconciliation(files)
        if abs(got - want) > tol
    ]


# --------------------------------------------------------------------------- staff.csv


@rule("case.yaml", "staff.csv")
def own_staff_at_employees_date(files: CaseFiles) -> Problems:
    """The staff file has a row for case.yaml's employees_date, with more than 0 employees."""
    file = files.path("staff.csv")
    date = str(files.meta.get("employees_date"))
    emp = [r for r in files.rows["staff.csv"] if r["date"] == date]
    if not emp:
        return [DataError(file, "no row for the case's employees_date", column="date", value=date)]
    if emp[0]["employees"] <= 0:
        return [
            DataError(
                file,
                "the own staff at employees_date is zero",
                row=emp[0]["_line"],
                column="employees",
                value=emp[0]["employees"],
                allowed="more than 0 (the staffing and rest-rule levers act on the own staff)",
            )
        ]
    return []


# --------------------------------------------------------------------------- the lists

CASE_RULES = (
    accounts_are_unique,
    side_matches_role,
    drivers_match_roles,
    document_differences_match,
    one_account_per_required_role,
    figures_are_unique,
    figure_units_match_keys,
    figures_are_in_swedish,
    parameters_are_unique,
    parameter_units_match_keys,
    parameter_values,
    assumptions_say_why,
    parameters_are_in_swedish,
    required_parameters_are_given,
    starts_lie_in_the_horizon,
    rest_rule_in_baseline_is_a_flag,
    replacement_mix_adds_up_to_100,
    budgets_name_figures,
    accounts_add_up_to_the_documents_totals,
    each_division_has_each_line_once,
    division_revenue_and_cost_make_net_cost,
    divisions_add_up_to_the_board_total,
    agency_categories_are_unique,
    part_of_names_a_category,
    agency_cost_has_fte,
    agency_categories_add_up_to_the_account,
    own_staff_at_employees_date,
    last_month_is_a_share_of_the_year_to_date,
    board_forecasts_name_figures,
    price_changes_name_categories,
)
"""The rules of a case folder with year-to-date figures, in the order they are reported."""


@rule("divisions.csv")
def divisions_are_unique(files: CaseFiles) -> Problems:
    """Each division appears once in a ledger case's divisions.csv."""
    return _unique(files.path("divisions.csv"), files.rows["divisions.csv"], "division")


LEDGER_RULES = (
    accounts_are_unique,
    side_matches_role,
    drivers_match_roles,
    one_account_per_required_role,
    divisions_are_unique,
    agency_categories_are_unique,
    part_of_names_a_category,
    figures_are_unique,
    figure_units_match_keys,
    figures_are_in_swedish,
    parameters_are_unique,
    parameter_units_match_keys,
    parameter_values,
    assumptions_say_why,
    parameters_are_in_swedish,
    required_parameters_are_given,
    starts_lie_in_the_horizon,
    rest_rule_in_baseline_is_a_flag,
    replacement_mix_adds_up_to_100,
    price_changes_name_categories,
    board_forecasts_name_figures,
)
"""The rules a ledger case shares with every case (ledger.py checks its months itself)."""


def read_case_files(
    folder: Path,
    meta: dict[str, Any],
    months: tuple[tuple[int, int], ...],
    models: tuple[RowModel, ...],
    required_parameters: tuple[str, ...],
) -> tuple[CaseFiles, Problems]:
    """Read every file of ``models`` in ``folder``: what the rules read, and every problem
    the files' rows have (a file with problems is left out of ``rows``)."""
    rows: dict[str, list[Row]] = {}
    problems: Problems = []
    for model in models:
        got, found = read_rows(folder, model)
        problems += found
        if got is not None:
            rows[model.file] = got
    return CaseFiles(folder, meta, months, rows, required_parameters), problems
