"""Load a *ledger case*: a case folder whose figures are a region's monthly ledger.

``balans import`` writes such a folder from ledger exports and a mapping file (see
``ledger_import.py`` and ``data/README.md``). Its figures are the ledger's own: actual and
budget per month x account x division (``ledger.csv``), agency cost and hours per month and
category (``agency_months.csv``), staff per month (``staff.csv``). Nothing is allocated:
divisions are real, and every cell names the export rows it sums (``source``).

The loader checks the folder as the shipped case's loader does (types, ranges, one row per
month x account x division, every actual month complete) and reconciles:

- the ledger's months to the export's own totals in ``provenance.yaml``, to the krona;
- the agency categories to the agency account, month by month, to the krona.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from balans.errors import DataError
from balans.inputs import yamlsafe
from balans.inputs.case import (
    LINES,
    REQUIRED_PARAMETERS,
    Account,
    AgencyCategory,
    Case,
    Division,
    _months,
    board_forecasts,
    figures_of,
    parameters_of,
)
from balans.inputs.case_rows import LEDGER_MODELS, parse_month
from balans.inputs.case_rules import LEDGER_RULES, check, read_case_files

_parse_month = parse_month

# half a krona, in tkr: "to the krona"
KRONA_TKR = 0.0005

# How balans import words a derived budget month (ledger.csv's basis), and the same in Swedish
# for the board: the plan's file name is left out (the planners' text keeps it).
_DERIVED_BUDGET = re.compile(
    r"the (?P<year>\d{4}) annual budget \(.*\) phased by (?P<ref>\d{4})'s monthly budget "
    r"of the account(?P<division> and division)?"
)


def _derived_budget_sv(how: str) -> str:
    """A derived budget month's basis as the board reads it; a basis worded otherwise (not
    by balans import) is shown as written."""
    m = _DERIVED_BUDGET.fullmatch(how)
    if m is None:
        return how
    unit = " och divisionen" if m["division"] else ""
    return (
        f"årsbudgeten {m['year']} i flerårsplanen periodiserad efter {m['ref']} års "
        f"månadsbudget för kontot{unit}"
    )


LEDGER_FILES = (
    "case.yaml",
    "accounts.csv",
    "divisions.csv",
    "ledger.csv",
    "agency.csv",
    "agency_months.csv",
    "staff.csv",
    "figures.csv",
    "parameters.csv",
    "provenance.yaml",
)


def _ym(ym: tuple[int, int]) -> str:
    return f"{ym[0]}-{ym[1]:02d}"


def load_ledger_case(
    folder: Path, hash_: str, meta: dict[str, Any], cutoff: str | None = None
) -> Case:
    """Read, check and reconcile a ledger case folder (see the module docstring) at the close
    ``cutoff`` (default: ``cutoff_month``, the ledger's last actual month): an earlier close
    takes the ledger's actuals through ``cutoff`` and forecasts the months after it."""
    meta_path = str(folder / "case.yaml")
    months, latest = _months(meta_path, meta, cutoff_in_first_year=False)
    c = latest
    if cutoff is not None:
        ym = _parse_month(cutoff)
        if ym is None or ym not in months or months.index(ym) > latest:
            raise DataError(
                meta_path,
                "the ledger has no close at that cut-off",
                column="cutoff",
                value=cutoff,
                allowed=f"{_ym(months[0])} to {_ym(months[latest])} (the ledger's actual months)",
            )
        c = months.index(ym)
    T = len(months)
    years = sorted({y for y, _ in months})
    cut = months[c]
    ys = months.index((cut[0], 1))

    # -- every file's rows and the rules every case keeps, all problems at once
    files, problems = read_case_files(folder, meta, months, LEDGER_MODELS, REQUIRED_PARAMETERS)
    found, skipped = check(files, LEDGER_RULES)
    if problems or found:
        raise DataError.every(str(folder), problems + found, skipped)
    acc_rows = files.rows["accounts.csv"]
    acc_ids = [r["account"] for r in acc_rows]
    A = len(acc_ids)
    div_rows = files.rows["divisions.csv"]
    div_ids = [r["division"] for r in div_rows]
    D = len(div_ids)

    # -- the ledger
    led_file = str(folder / "ledger.csv")
    led_rows = files.rows["ledger.csv"]
    first_ym = months[0]
    prior_year = cut[0] - 1
    actual = np.zeros((T, A, D))
    budget = np.zeros((T, A, D))
    have_actual = np.zeros((T, A, D), dtype=bool)
    have_budget = np.zeros((T, A, D), dtype=bool)
    budget_derived = np.zeros(T, dtype=bool)
    prior = np.zeros((12, A))
    have_prior = np.zeros((12, A, D), dtype=bool)
    seen: dict[tuple[str, str, str], int] = {}
    row_problems: list[DataError] = []  # every bad ledger row at once
    for r in led_rows:
        line = r["_line"]
        key = (r["month"], r["account"], r["division"])
        if key in seen:
            row_problems.append(
                DataError(
                    led_file,
                    f"month, account and division repeat row {seen[key]}",
                    row=line,
                    value=", ".join(key),
                )
            )
            continue
        seen[key] = line
        if r["account"] not in acc_ids:
            row_problems.append(
                DataError(
                    led_file,
                    "names an account accounts.csv does not have",
                    row=line,
                    column="account",
                    value=r["account"],
                    allowed=", ".join(acc_ids),
                )
            )
            continue
        if r["division"] not in div_ids:
            row_problems.append(
                DataError(
                    led_file,
                    "names a division divisions.csv does not have",
                    row=line,
                    column="division",
                    value=r["division"],
                    allowed=", ".join(div_ids),
                )
            )
            continue
        basis = r["basis"]
        if basis != "ledger" and not basis.startswith("derived:"):
            row_problems.append(
                DataError(
                    led_file,
                    "not a basis",
                    row=line,
                    column="basis",
                    value=basis,
                    allowed="ledger | derived: <how>",
                )
            )
            continue
        ym = _parse_month(r["month"])
        a, d = acc_ids.index(r["account"]), div_ids.index(r["division"])
        if ym is not None and ym[0] == prior_year and r["actual_tkr"] is not None:
            prior[ym[1] - 1, a] += r["actual_tkr"]
            have_prior[ym[1] - 1, a, d] = True
        if ym is None or ym < first_ym:
            continue  # before the horizon: the prior year only
        if ym > months[-1]:
            row_problems.append(
                DataError(
                    led_file,
                    "the month lies after the horizon",
                    row=line,
                    column="month",
                    value=r["month"],
                    allowed=f"up to {_ym(months[-1])} (case.yaml last_month)",
                )
            )
            continue
        t = months.index(ym)
        if r["actual_tkr"] is not None and not c < t <= latest:  # later: forecast at this close
            if t > c:
                row_problems.append(
                    DataError(
                        led_file,
                        "an actual after the cut-off",
                        row=line,
                        column="actual_tkr",
                        value=r["actual_tkr"],
                        allowed=f"actuals through {_ym(months[latest])} (case.yaml cutoff_month); "
                        "move the cut-off to the ledger's last closed month",
                    )
                )
                continue
            actual[t, a, d] = r["actual_tkr"]
            have_actual[t, a, d] = True
        if r["budget_tkr"] is not None:
            budget[t, a, d] = r["budget_tkr"]
            have_budget[t, a, d] = True
            budget_derived[t] |= basis.startswith("derived:")
    if row_problems:
        raise DataError.every(str(folder), row_problems)
    for what, have, upto in (("an actual", have_actual, c), ("a budget", have_budget, T - 1)):
        missing = np.argwhere(~have[: upto + 1])
        if len(missing):
            t, a, d = missing[0]
            raise DataError(
                led_file,
                f"{what} is missing for month {_ym(months[t])}, account '{acc_ids[a]}', "
                f"division '{div_ids[d]}' ({len(missing)} cells missing in all)",
                allowed="one row per month x account x division, with an actual through the "
                "cut-off and a budget for every month of the horizon",
            )
    has_prior = bool(have_prior.all())
    if have_prior.any() and not has_prior:
        m, a, d = np.argwhere(~have_prior)[0]
        raise DataError(
            led_file,
            f"the prior year {prior_year} is incomplete: no actual for month "
            f"{prior_year}-{m + 1:02d}, account '{acc_ids[a]}', division '{div_ids[d]}' "
            f"({int((~have_prior).sum())} cells missing in all)",
            allowed=f"all twelve months of {prior_year} for every account and division (they give "
            "the seasonal profile), or none",
        )

    # -- signs: revenue positive, costs negative (a mapping with the wrong sign convention)
    side_of = [r["side"] for r in acc_rows]
    ytd_acc = actual[ys : c + 1].sum(axis=(0, 2))
    for side, sign, word in (("revenue", 1.0, "positive"), ("cost", -1.0, "negative")):
        total = float(sum(v for v, sd in zip(ytd_acc, side_of, strict=True) if sd == side))
        if total * sign < 0:
            raise DataError(
                led_file,
                f"the {side} accounts add up to {_kr(total * 1000)} kr for {cut[0]} through the "
                f"cut-off: {side} must be {word} in a case",
                allowed="the mapping's sign convention as the ledger has it (format: costs: "
                "positive | negative), then import again",
            )

    # -- reconcile to the export's own totals
    prov_path = folder / "provenance.yaml"
    provenance = _read_yaml(prov_path)
    totals = provenance.get("totals") or {}
    if not isinstance(totals, dict) or not totals:
        raise DataError(
            str(prov_path),
            "the export's monthly totals are missing",
            column="totals",
            allowed="month: {actual_kr, budget_kr}, as balans import writes them",
        )
    notes: list[str] = []
    for t, ym in enumerate(months):
        want = totals.get(_ym(ym))
        if want is None:
            continue
        if not isinstance(want, dict):
            raise DataError(
                str(prov_path),
                "not a mapping of totals",
                column=f"totals.{_ym(ym)}",
                value=str(want)[:60],
                allowed="{actual_kr: ..., budget_kr: ...}",
            )
        for col, arr, on in (
            ("actual_kr", actual, t <= c),
            ("budget_kr", budget, not budget_derived[t]),
        ):
            if not on or want.get(col) is None:
                continue
            w = _number(str(prov_path), f"totals.{_ym(ym)}.{col}", want[col]) / 1000.0
            got = float(arr[t].sum())
            if abs(got - w) > KRONA_TKR * A * D + KRONA_TKR:
                raise DataError(
                    led_file,
                    f"month {_ym(ym)}: the ledger's {col[:-3]} adds up to {_kr(got * 1000)} kr, "
                    f"not the export's {_kr(w * 1000)} kr",
                    allowed="equal to the krona (provenance.yaml totals)",
                )
    if has_prior:  # the prior year's months shape the season: they reconcile too
        for m in range(12):
            month = f"{prior_year}-{m + 1:02d}"
            want = totals.get(month)
            if not isinstance(want, dict) or want.get("actual_kr") is None:
                raise DataError(
                    str(prov_path),
                    f"the export's total for {month} is missing",
                    column="totals",
                    allowed="a total per month of the prior year, as balans import writes them",
                )
            w = _number(str(prov_path), f"totals.{month}.actual_kr", want["actual_kr"])
            got = float(prior[m].sum()) * 1000.0
            if abs(got - w) > 0.5 * (A * D + 1):
                raise DataError(
                    led_file,
                    f"month {month}: the ledger's actual adds up to {_kr(got)} kr, not the "
                    f"export's {_kr(w)} kr",
                    allowed="equal to the krona (provenance.yaml totals)",
                )
    notes.append(
        f"ledger: every month equals the export's totals to the krona ({len(totals)} months)"
    )

    # -- agency categories and their months
    ag_rows = files.rows["agency.csv"]
    top_ids = [r["category"] for r in ag_rows if not r["part_of"]]
    am_file = str(folder / "agency_months.csv")
    am_rows = files.rows["agency_months.csv"]
    all_ids = [r["category"] for r in ag_rows]
    cost = {k: np.zeros(T) for k in all_ids}
    hours = {k: np.zeros(T) for k in all_ids}
    have_hours = {k: np.zeros(T, dtype=bool) for k in all_ids}
    for r in am_rows:
        if r["category"] not in all_ids:
            raise DataError(
                am_file,
                "names a category agency.csv does not have",
                row=r["_line"],
                column="category",
                value=r["category"],
                allowed=", ".join(all_ids),
            )
        ym = _parse_month(r["month"])
        if ym is None or ym not in months or months.index(ym) > c:
            continue
        t = months.index(ym)
        cost[r["category"]][t] += r["cost_tkr"]
        if r["hours"] is not None:
            hours[r["category"]][t] += r["hours"]
            have_hours[r["category"]][t] = True
    i_agency = next(i for i, r in enumerate(acc_rows) if r["role"] == "agency")
    for t in range(c + 1):
        got = sum(cost[k][t] for k in top_ids)
        want = float(actual[t, i_agency].sum())
        if abs(got - want) > KRONA_TKR * (len(top_ids) + D) + KRONA_TKR:
            raise DataError(
                am_file,
                f"month {_ym(months[t])}: the categories' cost adds up to {_kr(got * 1000)} kr, "
                f"not the agency account's {_kr(want * 1000)} kr",
                column="cost_tkr",
                allowed="equal to the krona",
            )
    cats = []
    for r in ag_rows:
        k = r["category"]
        months_ytd = slice(ys, c + 1)
        some = have_hours[k][months_ytd].any()
        if some and not have_hours[k][months_ytd].all() and cost[k][months_ytd].sum() < 0:
            raise DataError(
                am_file,
                f"category '{k}' has hours for some months of {cut[0]} through the cut-off but "
                "not for others",
                column="hours",
                allowed="the agency hours of every actual month (they price the agency lever), "
                "or none (then they are derived from the cost)",
            )
        cats.append(
            AgencyCategory(
                id=k,
                name_sv=r["name_sv"],
                name_en=r["name_en"],
                part_of=r["part_of"] or "",
                cost_ytd_mkr=float(cost[k][months_ytd].sum()) / 1000.0,
                fte_ytd=0.0,  # set below from the hours
                forecast_first_year_mkr=None,
                cost_ytd_prior_year_mkr=None,
                fte_prior_year=None,
                agency_share_pct=None,
                agency_share_target_pct=r["agency_share_target_pct"],
                source=r["source"],
                note=r["note"] or "",
                hours_ytd=float(hours[k][months_ytd].sum()) if some else None,
            )
        )

    # -- figures, parameters, staff
    figures = figures_of(files.rows["figures.csv"])
    parameters = parameters_of(files.rows["parameters.csv"])
    H = float(parameters["hours_per_fte_year"].value)
    n_ytd = c - ys + 1

    staff_file = str(folder / "staff.csv")
    staff_rows = files.rows["staff.csv"]
    if not staff_rows:
        raise DataError(
            staff_file,
            "the file has no staff figures",
            allowed="employees or FTE per month through the cut-off (give the import a staff "
            "export: the own-staff base prices the staffing and rest-rule levers)",
        )
    for r in staff_rows:
        if r["employees"] is None and r["fte"] is None:
            raise DataError(
                staff_file, "neither employees nor fte is given", row=r["_line"], column="employees"
            )
    cut_text = _ym(cut)
    own_date = bool(meta.get("employees_date")) and c == latest
    if own_date:
        emp = [r for r in staff_rows if r["date"] == str(meta["employees_date"])]
    else:  # the latest row at or before the cut-off
        emp = sorted((r for r in staff_rows if r["date"][:7] <= cut_text), key=lambda r: r["date"])[
            -1:
        ]
    if not emp:
        raise DataError(
            staff_file,
            "no row for the case's staff date"
            + ("" if own_date else f" (none at or before the cut-off {cut_text})"),
            column="date",
            value=str(meta["employees_date"]) if own_date else cut_text,
            allowed=", ".join(r["date"] for r in staff_rows[-3:]),
        )
    fte_given = emp[0]["fte"]
    employees = emp[0]["employees"]
    if not (fte_given or employees):
        raise DataError(
            staff_file,
            "the own staff at the cut-off is zero",
            row=emp[0]["_line"],
            column="fte" if fte_given is not None else "employees",
            value=0,
            allowed="more than 0 (the staffing and rest-rule levers act on the own staff)",
        )
    if employees is None:  # FTE only: employees as FTE / fte_per_employee
        employees = fte_given / float(parameters["fte_per_employee"].value)

    # agency hours: the export's, or (none given) derived from the cost at the assumed
    # agency/own-staff price ratio, labelled
    i_pers = next(i for i, r in enumerate(acc_rows) if r["role"] == "personnel")
    own_fte = fte_given if fte_given else employees * float(parameters["fte_per_employee"].value)
    own_kr_hour = -float(actual[ys : c + 1, i_pers].sum()) * 1000.0 / (own_fte * H * n_ytd / 12.0)
    per_fte_mkr = own_kr_hour * H / 1e6  # personnel cost a year per own FTE
    if not 0.2 <= per_fte_mkr <= 3.0:
        raise DataError(
            led_file,
            f"the personnel account comes to {per_fte_mkr:.3g} mkr a year per own FTE "
            f"({own_fte:g} FTE at the cut-off): not a plausible cost of a member of staff",
            allowed="0.2 to 3 mkr (a Swedish region pays about 0.6-0.9 mkr with employer's "
            "contributions); check the mapping's unit (kr, tkr, mkr), the personnel codes and "
            "the staff export",
        )
    ratio = float(parameters["agency_to_own_cost_ratio"].value)
    derived_hours = [cat.id for cat in cats if cat.hours_ytd is None and cat.cost_ytd_mkr < 0]
    cats = [
        replace(cat, hours_ytd=-cat.cost_ytd_mkr * 1e6 / (own_kr_hour * ratio))
        if cat.id in derived_hours
        else cat
        for cat in cats
    ]
    cats = [_with_fte(cat, H, n_ytd) for cat in cats]
    top = tuple(cat for cat in cats if not cat.part_of)
    subsets = tuple(cat for cat in cats if cat.part_of)

    # -- accounts and divisions in the shape every face reads
    acc_actual = actual.sum(axis=2)
    acc_budget = budget.sum(axis=2)
    ytd = slice(ys, c + 1)
    accounts = tuple(
        Account(
            id=r["account"],
            name_sv=r["name_sv"],
            name_en=r["name_en"],
            side=r["side"],
            role=r["role"],
            driver=r["driver"],
            baseline_method=r["baseline_method"],
            actual_ytd_tkr=float(acc_actual[ytd, a].sum()),
            budget_ytd_tkr=float(acc_budget[ytd, a].sum()),
            actual_ytd_prior_year_tkr=float(prior[: cut[1], a].sum()) if has_prior else None,
            source=r["source"],
            note=r["note"] or "",
        )
        for a, r in enumerate(acc_rows)
    )
    is_rev = np.array([r["side"] == "revenue" for r in acc_rows])
    cut_year = np.array([y == cut[0] for y, _ in months])
    divisions = []
    for d, r in enumerate(div_rows):
        figs: dict[str, dict[str, float]] = {}
        for line, cols in (("revenue", is_rev), ("gross_cost", ~is_rev)):
            figs[line] = {
                "ytd_actual_mkr": float(actual[ytd][:, cols, d].sum()) / 1000.0,
                "ytd_budget_mkr": float(budget[ytd][:, cols, d].sum()) / 1000.0,
                "budget_first_year_mkr": float(budget[cut_year][:, cols, d].sum()) / 1000.0,
            }
        figs["net_cost"] = {k: figs["revenue"][k] + figs["gross_cost"][k] for k in figs["revenue"]}
        divisions.append(Division(r["division"], r["name_sv"], r["name_en"], figs, r["source"]))

    budget_net = {y: float(acc_budget[[yy == y for yy, _ in months]].sum()) / 1000.0 for y in years}
    budget_rev = {
        y: float(acc_budget[[yy == y for yy, _ in months]][:, is_rev].sum()) / 1000.0 for y in years
    }
    board, board_made = board_forecasts(files)
    rev_month = int(float(parameters["pay_revision_month"].value))
    paid = meta.get("pay_revision_paid")
    if paid is not None and not isinstance(paid, bool):
        raise DataError(meta_path, "not true or false", column="pay_revision_paid", value=paid)
    latest_ym = months[latest]
    if c == latest:
        if paid is None and cut[1] >= rev_month:
            # the ledger cannot tell, and a wrong guess moves the forecast by the revision
            raise DataError(
                meta_path,
                f"the cut-off {_ym(cut)} lies at or after the pay revision month ({rev_month}): "
                "say whether the actuals already hold that year's revision",
                column="pay_revision_paid",
                allowed="true (paid, back pay included) or false (still to be paid); in the "
                "mapping file: pay_revision_paid",
            )
        paid = bool(paid)
    else:
        # an earlier close: before or in the revision month the revision is still to be paid
        # (back pay comes the month after, as Swedish payrolls do); after it, as at the latest
        # close of the same year, else paid
        paid = cut[1] > rev_month and (paid is not False or cut[0] != latest_ym[0])
    derivations = {}
    if derived_hours:
        derivations["agency_hours"] = (
            f"agency hours of {', '.join(derived_hours)} derived from their cost: cost / "
            f"(own-staff cost per hour x agency_to_own_cost_ratio {ratio:g}); the export gives "
            "no hours"
        )
    if budget_derived.any():
        how = sorted(
            {
                r["basis"].removeprefix("derived:").strip()
                for r in led_rows
                if r["basis"] != "ledger"
            }
        )
        derivations["budget_months"] = "; ".join(how)
        derivations["budget_months_sv"] = "; ".join(_derived_budget_sv(h) for h in how)
    return Case(
        folder=folder,
        id=str(meta["id"]),
        name=str(meta["name"]),
        short_name=str(meta.get("short_name", meta["name"])),
        months=months,
        cutoff_index=c,
        accounts=accounts,
        divisions=tuple(divisions),
        agency=top,
        agency_subsets=subsets,
        employees=float(employees),
        figures=figures,
        parameters=parameters,
        budget_net_mkr=budget_net,
        budget_revenue_mkr=budget_rev,
        budget_given={y: frozenset(LINES) for y in years},
        board_forecast_net_mkr=board,
        board_forecast_made=board_made,
        last_month_share={},
        data_hash=hash_,
        ytd_start_index=ys,
        actual_tkr=acc_actual,
        budget_tkr=acc_budget,
        month_actual_basis=tuple("document" if t <= c else "forecast" for t in range(T)),
        month_budget_basis=tuple("derived" if budget_derived[t] else "document" for t in range(T)),
        division_actual_tkr=actual,
        division_budget_tkr=budget,
        prior_year_tkr=prior if has_prior else None,
        pay_revision_paid=paid,
        own_fte_given=fte_given,
        synthetic=bool(meta.get("synthetic", False)),
        derivations=derivations,
        provenance=provenance,
        reconciliation=tuple(notes),
    )


def _with_fte(cat: AgencyCategory, hours_per_fte_year: float, n_ytd: int) -> AgencyCategory:
    if cat.hours_ytd is None:
        return cat
    return replace(cat, fte_ytd=cat.hours_ytd / (hours_per_fte_year * n_ytd / 12.0))


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DataError(
            str(path), "the file is missing", allowed="the provenance balans import writes"
        )
    try:
        data = yamlsafe.load(path.read_text(encoding="utf-8"))
    except (yamlsafe.YamlProblem, UnicodeDecodeError) as exc:
        raise DataError(str(path), f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise DataError(str(path), "expected a mapping", value=type(data).__name__)
    return data


def _kr(x: float) -> str:
    """``-1 234 567``: whole kronor with a space between thousands."""
    return f"{x:,.0f}".replace(",", " ")


def _number(file: str, key: str, value: Any) -> float:
    try:
        x = float(str(value).replace(" ", ""))
    except ValueError:
        raise DataError(file, "not a number", column=key, value=value) from None
    if not math.isfinite(x):
        raise DataError(file, "not a finite number", column=key, value=value)
    return x
