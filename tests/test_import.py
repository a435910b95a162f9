"""`balans import`: a controller's ledger exports become a case folder, exactly and traceably.

Each export convention a Swedish region's Excel produces imports to the same ledger; the case
adds up to the export per month, to the krona; every figure names its file and rows; bad
input gives a short message that names the file, row, column and value, and never touches a
folder already written.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from conftest import REPO, TESTS

from balans.errors import DataError
from balans.faces.cli import main
from balans.inputs.case import REQUIRED_PARAMETERS
from balans.inputs.ledger_import import (
    TEMPLATE_DIR,
    import_ledger,
    load_mapping,
    parse_month,
    parse_number,
)

EXAMPLE = REPO / "examples" / "exempel_region"
EXEMPEL_CASE = TESTS / "cases" / "exempel"
SHIPPED_ACCOUNT_IDS = {
    "patient_fees", "sales", "grants_received", "other_revenue", "personnel", "agency",
    "drugs", "purchased_care", "other_costs",
}  # fmt: skip

# ---------------------------------------------------------------- a small region's ledger

CODES = {
    "3010": "Patientavgifter",
    "5011": "Månadslön",
    "4551": "Inhyrda läkare",
    "4552": "Inhyrda sjuksköterskor",
    "4110": "Läkemedel",
    "4010": "Köpt vård",
}
UNITS = {"1110": "Ortopedi", "2010": "Hälsocentral Åsen"}
ACCOUNTS = [
    {"id": "avgifter", "name_sv": "Avgifter", "side": "revenue", "role": "revenue",
     "driver": "none", "codes": ["3000-3999"]},
    {"id": "lon", "name_sv": "Lön", "side": "cost", "role": "personnel", "driver": "pay",
     "codes": ["50-59"]},
    {"id": "hyr", "name_sv": "Hyrpersonal", "side": "cost", "role": "agency",
     "driver": "agency", "codes": ["455"]},
    {"id": "lakemedel", "name_sv": "Läkemedel", "side": "cost", "role": "drugs",
     "driver": "drugs", "codes": ["41"]},
    {"id": "kopt", "name_sv": "Köpt vård", "side": "cost", "role": "purchased_care",
     "driver": "price", "codes": ["40"]},
]  # fmt: skip
DIVISIONS = [
    {"id": "sjukhus", "name_sv": "Sjukhuset", "units": ["1000-1999"]},
    {"id": "primarvard", "name_sv": "Primärvården", "units": ["2000-2999"]},
]
CATEGORIES = [
    {"id": "lakare", "name_sv": "Läkare", "codes": ["4551"]},
    {"id": "ssk", "name_sv": "Sjuksköterskor", "codes": ["4552"]},
]


def ledger_rows() -> list[tuple[tuple[int, int], str, str, Decimal | None, Decimal]]:
    """(month, code, unit, actual, budget) in kr, the ledger's sign (costs positive).

    Actuals January-March 2025, a budget for all of 2025; öre, millions and a credit."""
    rows = []
    for m in range(1, 13):
        for i, code in enumerate(CODES):
            for j, unit in enumerate(UNITS):
                kr = Decimal(123456 * (i + 1) * (10 if i % 2 else 1) + 311 * m + 17 * j)
                kr += Decimal(25 * ((i + j + m) % 4)) / 100
                sign = -1 if code.startswith("3") else 1
                actual = sign * kr if m <= 3 else None
                if (m, code, unit) == (2, "4010", "2010"):
                    actual = Decimal("-5000.50")  # a credit on a cost account
                rows.append(((2025, m), code, unit, actual, sign * (kr + 1000)))
    return rows


def fmt_amount(v: Decimal | None, *, decimal=",", thousands=" ", minus="-", scale=1) -> str:
    if v is None:
        return ""
    v = v / scale
    whole, _, frac = f"{abs(v):f}".partition(".")
    frac = frac.rstrip("0")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    text = thousands.join([whole, *groups]) + (decimal + frac if frac else "")
    return (minus if v < 0 else "") + text


def write_ledger(
    path: Path,
    *,
    encoding="utf-8",
    sep=";",
    month=lambda y, m: f"{y}-{m:02d}",
    costs="positive",
    rows=None,
    header=("Period", "Konto", "Kontonamn", "Ansvar", "Ansvarsnamn", "Utfall", "Budget"),
    **amount,
) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    buf.write("# test ledger, made up\r\n")
    w.writerow(header)
    for (y, m), code, unit, actual, budget in rows or ledger_rows():
        flip = -1 if costs == "negative" else 1
        a = None if actual is None else flip * actual
        w.writerow([month(y, m), code, CODES.get(code, "?"), unit, UNITS.get(unit, "?"),
                    fmt_amount(a, **amount), fmt_amount(flip * budget, **amount)])  # fmt: skip
    path.write_bytes(buf.getvalue().encode(encoding))


def write_case_folder(
    folder: Path, *, ledger: dict | None = None, extra: dict | None = None, staff=True
) -> Path:
    """A controller's folder: the mapping, a ledger (unless one is given) and a staff file."""
    folder.mkdir(parents=True, exist_ok=True)
    mapping = {
        "case": {"id": "test_hsn", "name": "Testregionen – HSN", "short_name": "HSN Test",
                 "synthetic": True},
        "horizon": {"first_year": 2025, "last_year": 2025},
        "ledger": [{"file": "huvudbok.csv", **(ledger or {})}],
        "staff": "personal.csv",
        "accounts": ACCOUNTS,
        "divisions": DIVISIONS,
        "agency": {"categories": CATEGORIES},
    }  # fmt: skip
    mapping.update(extra or {})
    (folder / "mapping.yaml").write_text(yaml.safe_dump(mapping, allow_unicode=True), "utf-8")
    if not (folder / "huvudbok.csv").exists() and not (ledger or {}).get("file"):
        write_ledger(folder / "huvudbok.csv")
    if staff:
        (folder / "personal.csv").write_text(
            "Period;Anställda\n2025-01;120\n2025-02;121\n2025-03;119\n", "utf-8"
        )
    return folder / "mapping.yaml"


def figures(out: Path) -> list[tuple[str, ...]]:
    """ledger.csv without its source column (which names the file and rows)."""
    with (out / "ledger.csv").open(encoding="utf-8") as fh:
        return [tuple(r[:6]) for r in csv.reader(fh)]


def problem(mapping: Path, tmp_path: Path) -> str:
    with pytest.raises(DataError) as err:
        import_ledger(mapping, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    return str(err.value)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> list[tuple[str, ...]]:
    base = tmp_path_factory.mktemp("reference")
    import_ledger(write_case_folder(base / "in"), base / "out")
    return figures(base / "out")


# ---------------------------------------------------------------- conventions

SV_ABBR = ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]
SV_NAMES = ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
            "september", "oktober", "november", "december"]  # fmt: skip
CONVENTIONS = {
    "utf8_semicolon_decimal_comma_space": ({}, {}),
    "utf8_bom": ({"encoding": "utf-8-sig"}, {}),
    "cp1252": ({"encoding": "cp1252"}, {}),
    "latin1": ({"encoding": "latin-1"}, {}),
    "utf16_tab": ({"encoding": "utf-16", "sep": "\t"}, {}),
    "comma_decimal_point": ({"sep": ",", "decimal": ".", "thousands": ""}, {}),
    "comma_decimal_point_thousands_comma": ({"sep": ",", "decimal": ".", "thousands": ","}, {}),
    "tab_separated": ({"sep": "\t"}, {}),
    "nbsp_thousands": ({"thousands": "\u00a0"}, {}),
    "narrow_nbsp_thousands": ({"thousands": "\u202f"}, {}),
    "no_thousands": ({"thousands": ""}, {}),
    "minus_sign_u2212": ({"minus": "\u2212"}, {}),
    "month_compact": ({"month": lambda y, m: f"{y}{m:02d}"}, {}),
    "month_date": ({"month": lambda y, m: f"{y}-{m:02d}-28"}, {}),
    "month_datetime_text": ({"month": lambda y, m: f"{y}-{m:02d}-01 00:00:00"}, {}),
    "month_swedish_abbreviation": (
        {"month": lambda y, m: f"{SV_ABBR[m - 1]} {y}"},
        {},
    ),
    "month_swedish_name": (
        {"month": lambda y, m: f"{SV_NAMES[m - 1]} {y}"},
        {},
    ),
    "month_excel_short": ({"month": lambda y, m: dt.date(y, m, 1).strftime("%b-%y")}, {}),
    "tkr": ({"scale": 1000}, {"unit": "tkr"}),
    "mkr": ({"scale": 1_000_000}, {"unit": "mkr"}),
    "costs_negative": ({"costs": "negative"}, {"costs": "negative"}),
    "decimal_point_said_by_mapping": ({"decimal": "."}, {"decimal": "."}),
}  # fmt: skip


@pytest.mark.parametrize("name", CONVENTIONS)
def test_each_export_convention_imports_to_the_same_ledger(name, tmp_path, reference):
    writer, fmt = CONVENTIONS[name]
    (tmp_path / "in").mkdir()
    write_ledger(tmp_path / "in" / "huvudbok.csv", **writer)
    mapping = write_case_folder(tmp_path / "in", ledger=fmt)
    import_ledger(mapping, tmp_path / "out")
    assert figures(tmp_path / "out") == reference


@pytest.mark.parametrize("text_cells", [False, True], ids=["numbers_and_dates", "swedish_text"])
def test_an_xlsx_export_imports_to_the_same_ledger(text_cells, tmp_path, reference):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Huvudbok"
    ws.append(["Utdrag ur huvudboken (test, påhittat)"])
    ws.append(["Period", "Konto", "Ansvar", "Utfall", "Budget"])
    for (y, m), code, unit, actual, budget in ledger_rows():
        if text_cells:
            ws.append([f"{y}{m:02d}", code, unit, fmt_amount(actual), fmt_amount(budget)])
        else:
            ws.append([dt.datetime(y, m, 1), int(code), int(unit),
                       None if actual is None else float(actual), float(budget)])  # fmt: skip
    (tmp_path / "in").mkdir()
    wb.save(tmp_path / "in" / "huvudbok.xlsx")
    mapping = write_case_folder(
        tmp_path / "in", ledger={"file": "huvudbok.xlsx", "sheet": "Huvudbok", "skip_rows": 1}
    )
    import_ledger(mapping, tmp_path / "out")
    assert figures(tmp_path / "out") == reference
    prov = yaml.safe_load((tmp_path / "out" / "provenance.yaml").read_text("utf-8"))
    assert prov["files"][0]["sheet"] == "Huvudbok"
    assert "huvudbok.xlsx › Huvudbok › rows" in (tmp_path / "out" / "ledger.csv").read_text()


@pytest.mark.parametrize(
    ("text", "month"),
    [("2024-08", (2024, 8)), ("202408", (2024, 8)), ("2024-08-31", (2024, 8)),
     ("2024-08-01 00:00:00", (2024, 8)), ("aug 2024", (2024, 8)), ("augusti 2024", (2024, 8)),
     ("Aug-24", (2024, 8)), ("okt 2025", (2025, 10)), ("maj-25", (2025, 5)),
     (dt.datetime(2024, 12, 1), (2024, 12)), ("2024-13", None), ("2024-02-30", None),
     ("augusty 2024", None), ("Q3 2024", None)],
)  # fmt: skip
def test_month_cells(text, month):
    assert parse_month(text) == month


@pytest.mark.parametrize(
    ("text", "decimal", "kr"),
    [("-1 234 567,89", ",", "-1234567.89"), ("−1\u00a0234", ",", "-1234"),
     ("1234-", ",", "-1234"), ("(1 234,5)", ",", "-1234.5"), ("1,234,567.5", ".", "1234567.5"),
     ("0,05", ",", "0.05")],
)  # fmt: skip
def test_amount_cells(text, decimal, kr):
    assert parse_number(text, decimal) == Decimal(kr)


@pytest.mark.parametrize("text", ["1.234", "1 23", "12,3,4", "-", "abc", "1e5"])
def test_amounts_that_are_refused_not_guessed(text):
    with pytest.raises(ValueError):
        parse_number(text, ",")


# ---------------------------------------------------------------- exact and traceable


def test_the_case_reconciles_to_the_ledger_per_month_to_the_krona(tmp_path):
    mapping = write_case_folder(tmp_path / "in")
    report = import_ledger(mapping, tmp_path / "out")
    exact: dict[str, Decimal] = {}
    for (y, m), _code, _u, actual, _b in ledger_rows():
        if actual is not None:  # the ledger's sign: costs positive
            exact[f"{y}-{m:02d}"] = exact.get(f"{y}-{m:02d}", Decimal(0)) - actual
    case: dict[str, Decimal] = {}
    for row in csv.DictReader((tmp_path / "out" / "ledger.csv").open(encoding="utf-8")):
        if row["actual_tkr"]:
            case[row["month"]] = case.get(row["month"], Decimal(0)) + Decimal(row["actual_tkr"])
    assert set(case) == set(exact) == {"2025-01", "2025-02", "2025-03"}
    for month in exact:
        assert abs(case[month] * 1000 - exact[month]) <= Decimal("0.5"), month
        assert report.reconciled[month][0] == exact[month]
    prov = yaml.safe_load((tmp_path / "out" / "provenance.yaml").read_text("utf-8"))
    assert {
        m: Decimal(t["actual_kr"]) for m, t in prov["totals"].items() if t["actual_kr"]
    } == exact


def test_every_figure_names_the_rows_it_sums(tmp_path):
    mapping = write_case_folder(tmp_path / "in")
    import_ledger(mapping, tmp_path / "out")
    lines = (tmp_path / "in" / "huvudbok.csv").read_text("utf-8").splitlines()
    checked = 0
    for row in csv.DictReader((tmp_path / "out" / "ledger.csv").open(encoding="utf-8")):
        src = re.fullmatch(r"huvudbok\.csv › rows ([\d, -]+)", row["source"])
        assert src, row
        total = Decimal(0)
        for part in src.group(1).split(", "):
            a, _, b = part.partition("-")
            for n in range(int(a), int(b or a) + 1):
                cells = lines[n - 1].split(";")
                total += parse_number(cells[6], ",")  # the budget: every month has one
        assert abs(Decimal(row["budget_tkr"]) * 1000 + total) < 1  # whole kronor
        checked += 1
    assert checked == 12 * len(ACCOUNTS) * len(DIVISIONS)


def test_provenance_holds_each_file_with_its_sha256(tmp_path):
    mapping = write_case_folder(tmp_path / "in")
    import_ledger(mapping, tmp_path / "out")
    prov = yaml.safe_load((tmp_path / "out" / "provenance.yaml").read_text("utf-8"))
    assert dt.datetime.fromisoformat(prov["imported_at"]).tzinfo is not None
    for f in prov["files"]:
        assert f["sha256"] == hashlib.sha256((tmp_path / "in" / f["file"]).read_bytes()).hexdigest()
    assert [(f["file"], f["rows"], f["role"]) for f in prov["files"]] == [
        ("huvudbok.csv", 12 * len(CODES) * len(UNITS), "ledger"),
        ("personal.csv", 3, "staff"),
    ]
    assert prov["mapping"]["sha256"] == hashlib.sha256(mapping.read_bytes()).hexdigest()


# ---------------------------------------------------------------- the documented example


def test_the_example_is_a_three_year_plan_with_an_august_cut_off():
    meta = yaml.safe_load((EXEMPEL_CASE / "case.yaml").read_text("utf-8"))
    assert (meta["first_month"], meta["cutoff_month"], meta["last_month"]) == (
        "2025-01", "2025-08", "2027-12",
    )  # fmt: skip
    assert meta["synthetic"] is True and meta["ledger"] == "ledger.csv"
    accounts = list(csv.DictReader((EXEMPEL_CASE / "accounts.csv").open(encoding="utf-8")))
    shipped = {r["account"] for r in csv.DictReader((REPO / "data/rjh_hsn/accounts.csv").open())}
    assert not {a["account"] for a in accounts} & (SHIPPED_ACCOUNT_IDS | shipped)
    assert len(list(csv.DictReader((EXEMPEL_CASE / "divisions.csv").open()))) == 5
    assert len(list(csv.DictReader((EXEMPEL_CASE / "agency.csv").open()))) == 2
    for name in ("huvudbok_2024_2025.csv", "plan_2026_2027.csv"):
        assert (EXAMPLE / name).read_bytes().decode("cp1252").startswith("# SYNTETISKT EXEMPEL")
    assert "SYNTETISKT EXEMPEL" in (EXAMPLE / "personal.csv").read_text("utf-8-sig")
    assert "SYNTETISKT EXEMPEL" in (EXAMPLE / "mapping.yaml").read_text("utf-8")


def test_the_example_is_shaped_like_a_region(tmp_path):
    ledger = list(csv.DictReader((EXEMPEL_CASE / "ledger.csv").open(encoding="utf-8")))

    def total(year: str, q: str, account: str | None = None) -> float:
        return sum(
            float(r[q]) for r in ledger
            if r["month"].startswith(year) and r[q] and account in (None, r["account"])
        ) / 1000  # fmt: skip

    assert 1900 < -total("2024", "actual_tkr") < 2100  # net cost, mkr
    agency_share = total("2024", "actual_tkr", "hyrpersonal") / total(
        "2024", "actual_tkr", "lon_po"
    )
    assert 0.04 < agency_share < 0.06
    jan_aug = [r for r in ledger if "2025-01" <= r["month"] <= "2025-08"]
    act = sum(float(r["actual_tkr"]) for r in jan_aug)
    bud = sum(float(r["budget_tkr"]) for r in jan_aug)
    assert 0.03 < act / bud - 1 < 0.05  # worse than budget by 3-5 %
    staff = list(csv.DictReader((EXEMPEL_CASE / "staff.csv").open(encoding="utf-8")))
    assert 1400 < int(staff[-1]["employees"]) < 1650
    assert all(r["basis"].startswith("derived:") for r in ledger if r["month"] >= "2026")


def test_the_example_plan_years_add_up_to_the_plan(tmp_path):
    plan = (EXAMPLE / "plan_2026_2027.csv").read_bytes().decode("cp1252").splitlines()[2:]
    want: dict[str, Decimal] = {}
    for line in plan:
        year, _code, _name, tkr = line.split(";")
        want[year] = want.get(year, Decimal(0)) - parse_number(tkr, ",")
    got: dict[str, Decimal] = {}
    for r in csv.DictReader((EXEMPEL_CASE / "ledger.csv").open(encoding="utf-8")):
        if r["month"] >= "2026":
            got[r["month"][:4]] = got.get(r["month"][:4], Decimal(0)) + Decimal(r["budget_tkr"])
    assert got == want


def test_the_example_agency_months_add_up_to_the_agency_account():
    agency: dict[str, Decimal] = {}
    for r in csv.DictReader((EXEMPEL_CASE / "ledger.csv").open(encoding="utf-8")):
        if r["account"] == "hyrpersonal" and r["actual_tkr"]:
            agency[r["month"]] = agency.get(r["month"], Decimal(0)) + Decimal(r["actual_tkr"])
    cats: dict[str, Decimal] = {}
    for r in csv.DictReader((EXEMPEL_CASE / "agency_months.csv").open(encoding="utf-8")):
        cats[r["month"]] = cats.get(r["month"], Decimal(0)) + Decimal(r["cost_tkr"])
        assert float(r["hours"]) > 0
    assert cats == agency and len(cats) == 20


def test_the_committed_example_case_is_what_the_import_writes(tmp_path):
    import_ledger(EXAMPLE / "mapping.yaml", tmp_path / "out")
    written = sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*"))
    assert written == sorted(p.relative_to(EXEMPEL_CASE) for p in EXEMPEL_CASE.rglob("*"))
    for rel in written:
        if (tmp_path / "out" / rel).is_dir():
            continue
        new, old = (
            (tmp_path / "out" / rel).read_text("utf-8"),
            (EXEMPEL_CASE / rel).read_text("utf-8"),
        )
        if rel.name == "provenance.yaml":
            new, old = (re.sub(r"imported_at: .*", "", t) for t in (new, old))
        assert new == old, (
            f"{rel} differs: run balans import examples/exempel_region/mapping.yaml --out tests/cases/exempel --force"
        )


def test_the_case_loader_reads_the_example_with_the_ledger_s_own_totals():
    import balans.inputs.case

    case = balans.inputs.case.load_case(EXEMPEL_CASE)
    figures = {k: float(f.value) for k, f in case.figures.items()}
    y2025 = [t for t, (y, _m) in enumerate(case.months) if y == 2025]
    actual = case.actual_tkr[y2025].sum()
    budget = case.budget_tkr[y2025].sum()
    assert actual == pytest.approx(figures["ledger_actual_2025_net_cost_tkr"], abs=0.001)
    assert budget == pytest.approx(figures["ledger_budget_2025_net_cost_tkr"], abs=0.001)
    assert case.month_budget_basis[case.months.index((2026, 1))] == "derived"
    assert case.month_budget_basis[case.months.index((2025, 1))] == "document"


def test_the_template_mapping_and_parameters_are_complete():
    mapping = load_mapping(TEMPLATE_DIR / "mapping.yaml")
    assert mapping.ledger[0].columns.account == "Konto"
    rows = list(csv.DictReader((TEMPLATE_DIR / "parameters.csv").open(encoding="utf-8")))
    keys = {r["key"] for r in rows}
    assert set(REQUIRED_PARAMETERS) <= keys
    assert {f"pay_revision_pct_{y}" for y in range(2024, 2029)} <= keys
    kinds = {r["key"]: r["kind"] for r in rows}
    assert kinds["pay_revision_pct_2025"] == kinds["national_drug_cost_growth_pct"] == "benchmark"
    assert kinds["attrition_pct_per_year"] == kinds["drug_cost_growth_pct"] == "assumption"


# ---------------------------------------------------------------- bad input


def test_an_unmapped_account_code_is_named_with_its_rows(tmp_path):
    rows = [*ledger_rows(), ((2025, 1), "8999", "1110", Decimal(5), Decimal(5)),
            ((2025, 2), "8999", "2010", Decimal(7), Decimal(7))]  # fmt: skip
    (tmp_path / "in").mkdir()
    write_ledger(tmp_path / "in" / "huvudbok.csv", rows=rows)
    msg = problem(write_case_folder(tmp_path / "in"), tmp_path)
    assert "huvudbok.csv: account code 8999 maps to nothing (rows 147-148)" in msg
    assert "add it to the codes of one of the mapping's accounts, or to ignore_accounts" in msg


def test_ignored_codes_are_counted_not_dropped(tmp_path):
    rows = [*ledger_rows(), ((2025, 1), "1510", "1110", Decimal(5), Decimal(5))]
    (tmp_path / "in").mkdir()
    write_ledger(tmp_path / "in" / "huvudbok.csv", rows=rows)
    mapping = write_case_folder(
        tmp_path / "in", extra={"ignore_accounts": [{"codes": ["1-2"], "reason": "Balanskonton"}]}
    )
    report = import_ledger(mapping, tmp_path / "out")
    assert report.ignored[0]["rows"] == 1 and report.ignored[0]["actual_kr"] == "5.00"
    assert "ignored on purpose: 1 rows of ignore_accounts[0] (1-2) (Balanskonton)" in report.text()


def test_a_code_mapped_twice_is_an_error(tmp_path):
    accounts = [dict(a) for a in ACCOUNTS]
    accounts[3]["codes"] = ["41", "4551"]
    msg = problem(write_case_folder(tmp_path / "in", extra={"accounts": accounts}), tmp_path)
    assert "account code 4551 is mapped twice: by accounts[2] (hyr: 455) and by accounts[3]" in msg


def test_exclude_cuts_a_code_out_of_a_range(tmp_path):
    accounts = [dict(a) for a in ACCOUNTS]
    accounts[3]["codes"] = ["41-45"]
    accounts[3]["exclude"] = ["455"]
    import_ledger(write_case_folder(tmp_path / "in", extra={"accounts": accounts}), tmp_path / "o")
    text = (tmp_path / "o" / "accounts.csv").read_text("utf-8")
    assert "mapping.yaml › accounts[3] (codes 41-45 minus 455)" in text


def test_an_unmapped_unit_is_named_with_its_rows(tmp_path):
    rows = [*ledger_rows(), ((2025, 3), "5011", "7777", Decimal(1), Decimal(1))]
    (tmp_path / "in").mkdir()
    write_ledger(tmp_path / "in" / "huvudbok.csv", rows=rows)
    msg = problem(write_case_folder(tmp_path / "in"), tmp_path)
    assert "huvudbok.csv: unit 7777 maps to nothing (rows 147)" in msg


def test_an_agency_code_without_a_category_is_an_error(tmp_path):
    rows = [*ledger_rows(), ((2025, 1), "4559", "1110", Decimal(1), Decimal(1))]
    (tmp_path / "in").mkdir()
    write_ledger(tmp_path / "in" / "huvudbok.csv", rows=rows)
    msg = problem(write_case_folder(tmp_path / "in"), tmp_path)
    assert "agency account code 4559 belongs to no agency category (rows 147)" in msg


@pytest.mark.parametrize(
    ("cell", "column", "expected"),
    [
        ("2025-13", 0, "row 3, column 'Period': not a month (value: '2025-13'); allowed: a month such as 2024-08"),
        ("12,3,4", 5, "row 3, column 'Utfall': not an amount: not a number (value: '12,3,4')"),
        ("1.234", 5, "a '.' in an amount where ',' is the decimal mark"),
        ("", 1, "row 3, column 'Konto': the account code is empty"),
        ("x" * 200, 6, "(value: '" + "x" * 59 + "…')"),
    ],
    ids=["bad_month", "bad_amount", "decimal_point", "empty_code", "long_value_cut"],
)  # fmt: skip
def test_a_bad_cell_is_named_by_row_column_and_value(cell, column, expected, tmp_path):
    (tmp_path / "in").mkdir()
    write_ledger(tmp_path / "in" / "huvudbok.csv")
    path = tmp_path / "in" / "huvudbok.csv"
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    cells = lines[2].split(";")
    cells[column] = cell
    lines[2] = ";".join(cells)
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    msg = problem(write_case_folder(tmp_path / "in"), tmp_path)
    assert msg.startswith("huvudbok.csv")
    assert expected in msg
    assert len(msg) < 600


def test_many_bad_rows_are_reported_together_and_briefly(tmp_path):
    (tmp_path / "in").mkdir()
    write_ledger(tmp_path / "in" / "huvudbok.csv", month=lambda y, m: f"{y}/{m:02d}/x")
    msg = problem(write_case_folder(tmp_path / "in"), tmp_path)
    assert msg.startswith("huvudbok.csv: 20+ problems")
    assert "rows 3-22, column 'Period': not a month (values: '2025/01/x', '2025/02/x')" in msg
    assert "only the first 20 are shown" in msg and len(msg.splitlines()) == 3


def test_a_missing_column_names_the_header(tmp_path):
    (tmp_path / "in").mkdir()
    header = ("Period", "Konto", "Kontonamn", "Ansvarsenhet", "Ansvarsnamn", "Utfall", "Budget")
    write_ledger(tmp_path / "in" / "huvudbok.csv", header=header)
    msg = problem(write_case_folder(tmp_path / "in"), tmp_path)
    assert "huvudbok.csv, row 2, column 'Ansvar': a column is missing" in msg
    assert "'Ansvarsenhet'" in msg and "mapping.yaml › ledger[0].columns.unit" in msg


def test_column_names_come_from_the_mapping(tmp_path, reference):
    (tmp_path / "in").mkdir()
    header = ("Månad", "Konto", "Kontonamn", "Ansvarsenhet", "Ansvarsnamn", "Utfall", "Budget")
    write_ledger(tmp_path / "in" / "huvudbok.csv", header=header)
    mapping = write_case_folder(
        tmp_path / "in", ledger={"columns": {"month": "Månad", "unit": "Ansvarsenhet"}}
    )
    import_ledger(mapping, tmp_path / "out")
    assert figures(tmp_path / "out") == reference


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"ledger": [{"file": "huvudbok.csv", "colums": {}}]},
         "mapping.yaml: ledger[0].colums: unknown key; allowed: did you mean 'columns'?"),
        ({"divisions": [{"id": "a", "name_sv": "A", "units": ["1999-1000"]}]},
         "divisions[0].units: range '1999-1000' runs from 1999 down to 1000; allowed: from <= to"),
        ({"divisions": [{"id": "a", "name_sv": "A", "units": ["100-1999"]}]},
         "both ends need the same number of digits"),
        ({"horizon": {"first_year": 2025}}, "horizon.last_year: a required key is missing"),
        ({"accounts": ACCOUNTS[:4]}, "accounts: 0 accounts have role purchased_care"),
        ({"ledger": ["saknas.csv"]}, "ledger[0].file: the file does not exist (value: 'saknas.csv')"),
    ],
    ids=["unknown_key", "range_from_above_to", "range_widths", "missing_key", "role_missing",
         "missing_file"],
)  # fmt: skip
def test_a_bad_mapping_names_the_key(extra, expected, tmp_path):
    msg = problem(write_case_folder(tmp_path / "in", extra=extra), tmp_path)
    assert expected in msg, msg


def test_actuals_after_the_cut_off_are_an_error_not_dropped(tmp_path):
    mapping = write_case_folder(tmp_path / "in", extra={"cutoff_month": "2025-02"})
    msg = problem(mapping, tmp_path)
    assert "the ledger has actuals after the cut-off 2025-02" in msg


def test_a_month_without_actuals_before_the_cut_off_is_an_error(tmp_path):
    rows = [r for r in ledger_rows() if r[0] != (2025, 2) or r[3] is None] + [
        ((2025, 2), c, u, None, b) for (mo, c, u, a, b) in ledger_rows() if mo == (2025, 2)
    ]
    (tmp_path / "in").mkdir()
    write_ledger(tmp_path / "in" / "huvudbok.csv", rows=rows)
    msg = problem(write_case_folder(tmp_path / "in"), tmp_path)
    assert "months up to the cut-off without actuals: 2025-02" in msg


def test_a_horizon_year_without_a_budget_is_an_error(tmp_path):
    extra = {"horizon": {"first_year": 2025, "last_year": 2026}}
    msg = problem(write_case_folder(tmp_path / "in", extra=extra), tmp_path)
    assert "the horizon's year 2026 has no budget" in msg


def test_a_plan_year_is_phased_by_the_ledger_budget(tmp_path):
    (tmp_path / "in").mkdir()
    plan = "År;Konto;Budget\n" + "".join(
        f"2026;{c};{'-' if c.startswith('3') else ''}1 200 000\n" for c in CODES
    )
    (tmp_path / "in" / "plan.csv").write_text(plan, "utf-8")
    extra = {"horizon": {"first_year": 2025, "last_year": 2026}, "plan_budget": "plan.csv"}
    import_ledger(write_case_folder(tmp_path / "in", extra=extra), tmp_path / "out")
    rows = [
        r for r in csv.DictReader((tmp_path / "out" / "ledger.csv").open()) if r["month"] >= "2026"
    ]
    assert len(rows) == 12 * len(ACCOUNTS) * len(DIVISIONS)
    assert all(
        r["actual_tkr"] == "" and r["basis"].startswith("derived: the 2026 annual budget")
        for r in rows
    )
    lon = sum(Decimal(r["budget_tkr"]) for r in rows if r["account"] == "lon")
    assert lon == Decimal("-1200.000")  # exact to the krona after phasing


def test_a_missing_parameter_is_named(tmp_path):
    text = (TEMPLATE_DIR / "parameters.csv").read_text("utf-8")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "parameters.csv").write_text(
        "\n".join(ln for ln in text.splitlines() if not ln.startswith("pay_revision_pct_2025")),
        "utf-8",
    )
    mapping = write_case_folder(tmp_path / "in", extra={"parameters": "parameters.csv"})
    msg = problem(mapping, tmp_path)
    assert "column 'key': a required parameter is missing (value: 'pay_revision_pct_2025')" in msg


def test_an_unknown_hours_category_is_named(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "timmar.csv").write_text(
        "Period;Kategori;Timmar\n2025-01;Läkare;100,5\n2025-01;Barnmorskor;40\n", "utf-8"
    )
    mapping = write_case_folder(tmp_path / "in", extra={"agency_hours": "timmar.csv"})
    msg = problem(mapping, tmp_path)
    assert (
        "timmar.csv, row 3, column 'Kategori': not an agency category (value: 'Barnmorskor')" in msg
    )


def test_staff_is_needed_and_may_be_fte_only(tmp_path):
    # without staff the case cannot run its staffing and rest-rule levers: nothing is written
    mapping = write_case_folder(tmp_path / "a", staff=False, extra={"staff": None})
    with pytest.raises(DataError, match=r"staff\.csv: the file has no staff figures"):
        import_ledger(mapping, tmp_path / "a" / "out")
    assert not (tmp_path / "a" / "out").exists()
    mapping = write_case_folder(
        tmp_path / "b", staff=False,
        extra={"staff": {"file": "personal.csv", "columns": {"employees": None, "fte": "Åa"}}},
    )  # fmt: skip
    (tmp_path / "b" / "personal.csv").write_text("Period;Åa\nmars 2025;101,5\n", "utf-8")
    import_ledger(mapping, tmp_path / "b" / "out")
    staff = (tmp_path / "b" / "out" / "staff.csv").read_text("utf-8").splitlines()
    assert staff[1] == "2025-03-31,,101.5,personal.csv › rows 2"


# ---------------------------------------------------------------- the output folder


def test_an_existing_folder_is_not_touched_when_the_import_fails(tmp_path):
    out = tmp_path / "data" / "min_region"
    out.mkdir(parents=True)
    (out / "ledger.csv").write_text("the earlier import", "utf-8")
    mapping = write_case_folder(tmp_path / "in", extra={"cutoff_month": "2025-02"})
    with pytest.raises(DataError):
        import_ledger(mapping, out, force=True)
    assert [p.name for p in out.iterdir()] == ["ledger.csv"]
    assert (out / "ledger.csv").read_text("utf-8") == "the earlier import"
    assert [p.name for p in out.parent.iterdir()] == ["min_region"]  # no temporary left


def test_a_non_empty_folder_is_refused_without_force_and_replaced_with_it(tmp_path):
    out = tmp_path / "case"
    out.mkdir()
    (out / "old.txt").write_text("keep me", "utf-8")
    mapping = write_case_folder(tmp_path / "in")
    with pytest.raises(DataError, match="exists and is not empty; nothing was written"):
        import_ledger(mapping, out)
    assert (out / "old.txt").read_text("utf-8") == "keep me"
    import_ledger(mapping, out, force=True)
    assert not (out / "old.txt").exists() and (out / "ledger.csv").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case", "in"]


def test_the_command_line_reports_and_exits_0(tmp_path, capsys):
    mapping = write_case_folder(tmp_path / "in")
    assert main(["import", str(mapping), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "huvudbok.csv: 144 rows (ledger; UTF-8, ';', decimal ',')" in out
    assert "reconciled per month to the krona: OK (3 months of actuals" in out


def test_the_command_line_exits_2_with_the_message_and_no_traceback(tmp_path, capsys):
    rows = [*ledger_rows(), ((2025, 1), "8999", "1110", Decimal(5), Decimal(5))]
    (tmp_path / "in").mkdir()
    write_ledger(tmp_path / "in" / "huvudbok.csv", rows=rows)
    mapping = write_case_folder(tmp_path / "in")
    assert main(["import", str(mapping), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("balans: huvudbok.csv: account code 8999 maps to nothing")
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_schema_prints_the_scenario_or_the_mapping(capsys):
    assert main(["schema"]) == 0
    assert '"title": "Balans scenario"' in capsys.readouterr().out
    assert main(["schema", "mapping"]) == 0
    schema = capsys.readouterr().out
    assert (
        '"title": "Balans ledger mapping"' in schema and '"additionalProperties": false' in schema
    )
