"""The shipped case: every figure sourced, reconciled to the documents' totals, and
bad data files named by file, row and column."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY

from balans import DataError, get_engine, load_case, parse_scenario, run
from balans.inputs.case import DEFAULT_CASE_DIR

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def test_accounts_add_up_to_the_documents_totals(case):
    rev = sum(a.actual_ytd_tkr for a in case.accounts if a.side == "revenue")
    cost = sum(a.actual_ytd_tkr for a in case.accounts if a.side == "cost")
    assert rev == 548_443  # 002, Ekonomisk analys, Summa Intäkter
    assert cost == pytest.approx(
        -1_659_906, abs=1
    )  # the rows sum to -1 659 905: the document rounds
    assert rev + cost == pytest.approx(-1_111_463, abs=1)
    budget = sum(a.budget_ytd_tkr for a in case.accounts)
    assert budget == -968_854


def test_budgets_match_the_documents(engine):
    yearly = engine.year_matrix @ engine.budget.sum(axis=1) / 1000
    assert yearly.tolist() == pytest.approx([-2895.0, -3352.0], abs=1e-9)
    rev = engine.year_matrix @ engine.budget[:, engine.is_rev].sum(axis=1) / 1000
    assert rev[0] == pytest.approx(1417.0, abs=1e-9)
    # the year-to-date budget months keep the documents' Jan-Apr budget per account
    assert engine.budget[:4].sum(axis=0) == pytest.approx(engine.budget_ytd)


def test_divisions_add_up_to_the_board(case):
    for line, total in (("revenue", 548.4), ("gross_cost", -1659.9), ("net_cost", -1111.5)):
        got = sum(d.figures[line]["ytd_actual_mkr"] for d in case.divisions)
        assert got == pytest.approx(total, abs=2.0)  # four figures rounded to whole mkr
    assert sum(
        d.figures["net_cost"]["budget_first_year_mkr"] for d in case.divisions
    ) == pytest.approx(-2895, abs=2)


def test_actual_months_add_up_to_the_year_to_date(engine):
    assert engine.actual[:4].sum(axis=0) == pytest.approx(engine.ytd)
    # April takes the document's April figures: revenue 143, gross cost -426 mkr
    assert engine.actual[3, engine.is_rev].sum() / 1000 == pytest.approx(143.0)
    assert engine.actual[3, engine.is_cost].sum() / 1000 == pytest.approx(-426.0)


def test_agency_prices_are_plausible_and_hours_back_test(engine, case):
    prices = dict(zip(engine.category_ids, engine.agency_price, strict=True))
    # 2-3 times own staff; the national framework sets doctors 1 125-1 625 kr/h before travel (FACTS.md)
    assert 1500 < prices["doctors"] < 2200
    assert 800 < prices["nurses"] < 1200
    # back-test: May-Aug 2023 agency hours were about 74 000 (003); the baseline's run-rate is near it
    may_aug = engine.baseline_agency_hours[4:8].sum()
    assert may_aug == pytest.approx(case.figures["agency_hours_mayaug_2023_hours"].value, rel=0.15)


def _rows(name):
    return _read(DEFAULT_CASE_DIR, name)


def test_every_figure_names_its_source_and_kind():
    for name in (
        "accounts.csv",
        "divisions.csv",
        "agency.csv",
        "staff.csv",
        "figures.csv",
        "parameters.csv",
    ):
        for row in _rows(name):
            assert row["source"].strip(), f"{name}: a row without a source: {row}"
    for row in _rows("parameters.csv"):
        assert row["kind"] in {"document", "derived", "benchmark", "assumption"}
        if row["kind"] in {"derived", "benchmark", "assumption"}:
            assert len(row["note"]) > 20, f"{row['key']}: a {row['kind']} must say how or why"
        if row["kind"] == "assumption" and row["unit"] == "month":
            # a month's plausible range is given in words (the numeric columns hold numbers)
            assert re.search(r"within \w+ 20\d\d to \w+ 20\d\d", row["note"]), (
                f"{row['key']}: an assumed month needs its plausible range in the note"
            )
        elif row["kind"] == "assumption":
            assert row["low"] and row["high"], (
                f"{row['key']}: an assumption needs its plausible range"
            )


def _seed_text(name: str) -> str:
    """A source document as one line: whitespace runs as one space, words hyphenated across
    a line break joined ("pri- märvård" -> "primärvård")."""
    return _joined(re.sub(r"\s+", " ", (SEEDS / name).read_text(encoding="utf-8")))


def _joined(text: str) -> str:
    return re.sub(r"(?<=[a-zåäö])- (?=[a-zåäö])", "", text)


def _signed(value: float, unit: str = "") -> re.Pattern:
    """The value as the documents print it, sign included: "-834 911", "548 443", "37,3"."""
    a = abs(value)
    if a == int(a):
        forms = {f"{a:,.0f}".replace(",", " "), f"{a:.0f}"}
    else:
        forms = {f"{a:.1f}".replace(".", ","), f"{a:.1f}"}
    body = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    sign = r"(?<![\d,.])[-−] ?" if value < 0 else r"(?<![-−\d,.])\+?"
    return re.compile(rf"{sign}(?:{body})(?![\d]|,\d)")


def _in_order(segment: str, values: list[float]) -> bool:
    pos = 0
    for v in values:
        m = _signed(v).search(segment, pos)
        if m is None:
            return False
        pos = m.end()
    return True


def _numbers_after(text: str, label: str) -> list[str]:
    """The runs of figures that follow ``label`` in a document (a table row's cells)."""
    runs = []
    for m in re.finditer(re.escape(label) + " ", text):
        run = re.split(r"[A-Za-zÅÄÖåäö]", text[m.end() : m.end() + 160], maxsplit=1)[0]
        if len(re.findall(r"\d+", run)) >= 3:
            runs.append(run)
    return runs


# Table rows: the label a row carries in its document and its cells in the document's order.
ROW_COLUMNS = {
    "accounts.csv": (
        "name_sv",
        [
            "actual_ytd_tkr",
            "budget_ytd_tkr",
            "doc_diff_budget_tkr",
            "actual_ytd_prior_year_tkr",
            "doc_diff_prior_year_tkr",
        ],
    ),
    "divisions.csv": (
        "name_sv",
        [
            "last_month_actual_mkr",
            "last_month_budget_mkr",
            "ytd_actual_mkr",
            "ytd_budget_mkr",
            "ytd_prior_year_actual_mkr",
            "budget_first_year_mkr",
        ],
    ),
    "agency.csv": (
        "name_sv",
        [
            "cost_ytd_two_years_ago_mkr",
            "cost_ytd_prior_year_mkr",
            "cost_ytd_mkr",
            "forecast_first_year_mkr",
            "fte_prior_year",
            "fte_ytd",
        ],
    ),
}
# Figures whose sign the document states in words, not with a minus: the word, before the value.
SIGN_IN_WORDS = {
    "deviation_jansep_2024_net_cost_mkr": "översteg",
    "deviation_jansep_2024_net_cost_tkr": "översteg",
    "deviation_jansep_2024_gross_cost_tkr": "kostnadsökning",
    "deviation_jansep_2024_revenue_tkr": "intäktsökning",
}


def _section(text: str, source: str) -> list[str]:
    """The parts of a document after each place the source's heading appears (the whole
    document where the source names no heading)."""
    source = source.split(";")[0]  # the first of several sources is the document's
    if "›" not in source:
        return [text]
    heading = source.split("›")[-1].split("(")[0].strip()
    starts = [m.start() for m in re.finditer(re.escape(heading), text)]
    if not starts:  # a heading over two lines of the document ("§102" ... "Sammanfattning")
        pos = 0
        for part in heading.split(" "):
            found = text.find(part, pos)
            if found < 0:
                break
            pos = found
        else:
            starts = [pos]
    assert starts, f"the heading {heading!r} of {source!r} is not in the document"
    return [text[i : i + 8000] for i in starts]


def test_the_source_documents_are_beside_the_repository():
    assert SEEDS.is_dir(), (
        f"{SEEDS}: the source documents belong beside the repository (../shared/seeds); "
        "the figures cannot be checked against them without it"
    )


def _read(folder: Path, name: str) -> list[dict[str, str]]:
    with open(folder / name, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _row_problems(folder: Path) -> tuple[list[str], int]:
    """Every figure of a table row must be in its document's row of the same name, in the
    document's column order and with its sign. The problems found, and the figures checked."""
    problems, checked = [], 0
    for name, (label_col, cols) in ROW_COLUMNS.items():
        blocks_seen: dict[str, int] = {}
        for row in _read(folder, name):
            doc = row["source"].split(" ")[0]
            values = [float(row[c]) for c in cols if row.get(c)]
            runs = _numbers_after(_seed_text(doc), _joined(row[label_col]))
            where = [i for i, run in enumerate(runs) if _in_order(run, values)]
            checked += len(values)
            if not where:
                problems.append(f"{name} {row[label_col]!r}: {values} is no row of {doc}")
            if name == "divisions.csv":  # one table, three blocks: revenue, cost, net
                k = blocks_seen.get(row["division"], 0)
                blocks_seen[row["division"]] = k + 1
                if where and k not in where:
                    problems.append(f"{name} {row['division']} {row['line']}: another block's row")
    staff = _read(folder, "staff.csv")
    values = [float(r["employees"]) for r in staff]
    if not _in_order(_seed_text(staff[0]["source"].split(" ")[0]), values):
        problems.append(f"staff.csv employees {values}: not the document's row")
    return problems, checked + len(values)


def _figure_problems(folder: Path) -> tuple[list[str], int]:
    """Every document figure of figures.csv and parameters.csv must be in the section of the
    document its source names, with its sign (or the word that states it)."""
    problems, checked = [], 0
    for name in ("figures.csv", "parameters.csv"):
        for row in _read(folder, name):
            if row["kind"] != "document" or not row["source"].startswith("00"):
                continue
            if row["unit"] == "month":
                continue  # a month, checked as a date by the loader
            doc = row["source"].split(" ")[0]
            value, key = float(row["value"]), row["key"]
            candidates = [value]
            if row["unit"] == "tkr":
                candidates.append(value / 1000.0)  # a tkr figure the text gives in mkr
            parts = _section(_seed_text(doc), row["source"])
            if key in SIGN_IN_WORDS:
                word = SIGN_IN_WORDS[key]
                found = value < 0 or key.endswith("revenue_tkr")
                found = found and any(
                    (m := _signed(abs(v)).search(p))
                    and word in p[max(0, m.start() - 160) : m.start()]
                    for p in parts
                    for v in candidates
                )
            else:
                found = any(_signed(v).search(p) for p in parts for v in candidates)
            checked += 1
            if not found:
                problems.append(f"{folder.name}/{name} {key}={row['value']} not in {row['source']}")
    return problems, checked


@pytest.mark.skipif(not SEEDS.is_dir(), reason="named by the test above")
def test_table_rows_are_the_documents_rows_with_their_signs():
    problems, checked = _row_problems(DEFAULT_CASE_DIR)
    assert problems == []
    assert checked > 150


@pytest.mark.skipif(not SEEDS.is_dir(), reason="named by the test above")
def test_document_figures_are_in_the_section_they_name_with_their_signs():
    closes = sorted((DEFAULT_CASE_DIR / "closes").iterdir())
    found = [_figure_problems(f) for f in (DEFAULT_CASE_DIR, *closes)]
    assert [p for problems, _ in found for p in problems] == []
    assert sum(n for _, n in found) > 30


@pytest.mark.skipif(not SEEDS.is_dir(), reason="named by the test above")
@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        # a sign error: the personnel cost written as a gain
        ("accounts.csv", "run_rate,-834911,", "run_rate,834911,"),
        # a figure from the wrong row: drugs' budget in place of purchased care's
        ("accounts.csv", "-159339,-145826,", "-159339,-175017,"),
        # the division's net figures swapped into its cost block
        (
            "divisions.csv",
            "gross_cost,-118,-99,-448,-390,-391,-1153",
            "gross_cost,-107,-91,-411,-359,-358,-1070",
        ),
        # the agency nurses' cost from the doctors' row
        ("agency.csv", "-12,-17,-50,-96", "-35,-40,-54,-199"),
    ],
    ids=["sign", "wrong_row", "wrong_block", "wrong_category"],
)
def test_a_table_figure_from_the_wrong_row_or_with_the_wrong_sign_is_caught(
    case_copy, name, old, new
):
    _edit(case_copy, name, old, new)
    problems, _ = _row_problems(case_copy)
    assert len(problems) >= 1


@pytest.mark.skipif(not SEEDS.is_dir(), reason="named by the test above")
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("budget_2023_gross_cost_mkr,-4312,", "budget_2023_gross_cost_mkr,4312,"),
        ("budget_2023_revenue_mkr,1417,", "budget_2023_revenue_mkr,1455,"),  # the forecast's
    ],
    ids=["sign", "another_figure"],
)
def test_a_document_figure_with_the_wrong_sign_or_from_elsewhere_is_caught(case_copy, old, new):
    _edit(case_copy, "figures.csv", old, new)
    problems, _ = _figure_problems(case_copy)
    assert len(problems) == 1


def test_a_second_region_runs_by_pointing_at_its_folder():
    r = run(parse_scenario({"name": "x"}), TINY)
    assert r.case.id == "tiny"
    assert r.years_frame().forecast_net_mkr.tolist() == pytest.approx([-8.4, -8.4])


def test_a_copied_folder_gives_the_same_numbers(case_copy, engine):
    other = get_engine(load_case(case_copy))
    assert np.array_equal(other.baseline, engine.baseline)
    assert other.case.data_hash == engine.case.data_hash


# ----------------------------------------------------------------- broken data files


def _edit(folder: Path, name: str, old: str, new: str) -> None:
    p = folder / name
    text = p.read_text(encoding="utf-8")
    assert old in text, old
    p.write_text(text.replace(old, new, 1), encoding="utf-8")


BROKEN = {
    "bad_number": (
        "accounts.csv",
        "38106",
        "38 1O6",
        ["accounts.csv", "row 2", "column 'actual_ytd_tkr'", "'38 1O6'", "not a number"],
    ),
    "unknown_side": (
        "accounts.csv",
        "revenue,revenue,none",
        "income,revenue,none",
        ["accounts.csv", "row 2", "column 'side'", "revenue | cost"],
    ),
    "does_not_reconcile": (
        "figures.csv",
        "actual_janapr_2023_gross_cost_tkr,-1659906",
        "actual_janapr_2023_gross_cost_tkr,-1660906",
        [
            "accounts.csv",
            "actual_ytd_tkr",
            "gross cost accounts add up to -1 659 905 tkr",
            "-1 660 906",
            "within",
        ],
    ),
    "document_diff_mismatch": (
        "accounts.csv",
        "-6899",
        "-6999",
        ["accounts.csv", "row 2", "doc_diff_budget_tkr", "-6999"],
    ),
    "division_off": (
        "divisions.csv",
        "kirurgi,Division Kirurgi,Surgery division,revenue,11,8,37",
        "kirurgi,Division Kirurgi,Surgery division,revenue,11,8,47",
        [
            "divisions.csv",
            "row 10",
            "division 'kirurgi'",
            "revenue + gross cost (-401) is not net cost",
        ],
    ),
    "parameter_outside_its_range": (
        "parameters.csv",
        "drug_cost_growth_pct,11.0",
        "drug_cost_growth_pct,31.0",
        ["parameters.csv", "row 5", "column 'value'", "8.8 to 12.0"],
    ),
    "assumption_without_reason": (
        "parameters.csv",
        "Assumption,Antagande,Overtime hours cost this many times an ordinary hour including"
        " social fees.,En övertidstimme kostar så här många gånger en vanlig timme med sociala"
        " avgifter.,",
        "Assumption,Antagande,,,",
        ["parameters.csv", "column 'note'", "assumption must say why"],
    ),
    "unit_mismatch": (
        "figures.csv",
        "actual_janapr_2023_revenue_tkr,548443,tkr",
        "actual_janapr_2023_revenue_tkr,548443,mkr",
        ["figures.csv", "row 2", "column 'unit'", "the key says tkr"],
    ),
    "agency_does_not_reconcile": (
        "agency.csv",
        "doctors,Läkare,Doctors,,-35,-40,-54",
        "doctors,Läkare,Doctors,,-35,-40,-64",
        ["agency.csv", "cost_ytd_mkr", "-116 mkr"],
    ),
    "bad_case_yaml": (
        "case.yaml",
        "cutoff_month: 2023-04",
        "cutoff_month: 2024-04",
        ["case.yaml", "cutoff_month", "2023-01 to 2023-12"],
    ),
    "agency_price_start_outside_the_horizon": (
        "parameters.csv",
        "agency_price_start,2024-05",
        "agency_price_start,2026-05",
        [
            "parameters.csv",
            "agency_price_start lies after the horizon",
            "2026-05",
            "up to 2024-12",
        ],
    ),
    "agency_price_change_for_an_unknown_category": (
        "parameters.csv",
        "agency_price_change_pct_nurses,",
        "agency_price_change_pct_midwives,",
        ["parameters.csv", "agency_price_change_pct_midwives", "agency_price_change_pct_nurses"],
    ),
    "rest_rule_in_baseline_neither_0_nor_1": (
        "parameters.csv",
        "rest_rule_in_baseline,1,flag,document,0,1",
        "rest_rule_in_baseline,0.5,flag,document,0,1",
        ["parameters.csv", "rest_rule_in_baseline must be 0 or 1", "0.5"],
    ),
    "duplicate_account": (
        "accounts.csv",
        "sales,Försäljning",
        "patient_fees,Försäljning",
        ["accounts.csv", "row 3", "duplicate account", "first on line 2"],
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_data_file_message(case_copy, name):
    file, old, new, expected = BROKEN[name]
    _edit(case_copy, file, old, new)
    with pytest.raises(DataError) as info:
        load_case(case_copy)
    message = str(info.value)
    for part in expected:
        assert part in message, f"{part!r} not in: {message}"


def test_missing_file(case_copy):
    (case_copy / "agency.csv").unlink()
    with pytest.raises(DataError, match=r"agency\.csv: the file is missing"):
        load_case(case_copy)


def test_semicolon_csv_from_a_swedish_spreadsheet(case_copy):
    p = case_copy / "staff.csv"
    p.write_text(p.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    with pytest.raises(DataError, match="separated by ';'"):
        load_case(case_copy)


def test_unknown_column(case_copy):
    _edit(case_copy, "staff.csv", "date,employees", "datum,employees")
    with pytest.raises(DataError, match=r"staff\.csv, row 1, column 'datum': unknown column"):
        load_case(case_copy)


def test_missing_required_parameter(case_copy):
    p = case_copy / "parameters.csv"
    lines = [
        ln
        for ln in p.read_text(encoding="utf-8").splitlines()
        if not ln.startswith("attrition_pct_per_year")
    ]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"required parameter is missing.*attrition_pct_per_year"):
        load_case(case_copy)


def test_every_wrong_setting_of_case_yaml_is_named_at_once(case_copy):
    meta = case_copy / "case.yaml"
    text = meta.read_text(encoding="utf-8")
    text = text.replace("first_month: 2023-01", "first_month: 202301")
    text = text.replace("2023: {figure: board_forecast_2023_net_cost_mkr", "tjugo: {figure: 12")
    text += "pay_revision_paid: ja\ndefualt_close: 2023-04\n"
    meta.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_case(case_copy)
    said = str(err.value)
    assert said.startswith(f"{meta}: 4 problems")
    for place in (
        "first_month = 202301",
        "board_forecasts.tjugo",
        "pay_revision_paid",
        "defualt_close",
    ):
        assert place in said, place
    assert len(said) < 2048


def test_a_cell_too_long_for_csv_is_named_with_its_row(case_copy):
    path = case_copy / "accounts.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] += "x" * 200_000  # the note of the third row: past csv's 131 072 characters
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_case(case_copy)
    said = str(err.value)
    assert said.startswith(f"{path}, row 3: not readable as CSV") and len(said) < 2048


@pytest.mark.parametrize("cutoff", ["2023-04", "2024-09"])
def test_every_shipped_note_and_source_is_in_swedish_too(cutoff):
    """The board reads note_sv and source_sv (issue 12, item 3): the shipped case gives both
    on every parameter, in both closes, and keeps the planners' English beside them."""
    case = load_case(DEFAULT_CASE_DIR, cutoff=cutoff)
    for p in case.parameters.values():
        assert p.note_sv and p.note and p.note_sv != p.note, p.key
        assert p.source_sv and p.source, p.key
        assert p.note_in("sv") == p.note_sv and p.note_in("en") == p.note, p.key


def _parameter_rows(folder: Path) -> tuple[list[str], list[dict[str, str]]]:
    with (folder / "parameters.csv").open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _write_parameter_rows(folder: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with (folder / "parameters.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ("note_sv", r"row 14, column 'note_sv': the note has no Swedish"),
        ("source_sv", r"row 14, column 'source_sv': the source has no Swedish"),
        ("note", r"row 14, column 'note': the Swedish note has no English"),
    ],
)
def test_a_missing_swedish_note_or_source_is_named(case_copy, column, message):
    header, rows = _parameter_rows(case_copy)
    row = next(r for r in rows if r["key"] == "overtime_cost_factor")
    row[column] = ""
    if column == "note":
        row["kind"] = "document"  # else the assumption's own rule speaks first
    _write_parameter_rows(case_copy, header, rows)
    with pytest.raises(DataError, match=message):
        load_case(case_copy)


def test_a_case_without_the_swedish_columns_still_loads_with_its_one_note(case_copy):
    """Backwards compatible: a parameters.csv with only note and source (every case folder
    before note_sv) loads, and shows that note and source whatever the language."""
    header, rows = _parameter_rows(case_copy)
    for r in rows:
        del r["note_sv"], r["source_sv"]
    _write_parameter_rows(case_copy, [h for h in header if h not in ("note_sv", "source_sv")], rows)
    case = load_case(case_copy)
    p = case.parameters["attrition_pct_per_year"]
    assert not p.note_sv and not p.source_sv
    assert p.note_in("sv") == p.note_in("en") == p.note and "leave the region" in p.note
    assert p.source_in("sv") == p.source


def test_every_required_parameter_is_read_where_the_loader_says():
    """Issue 14: REQUIRED_PARAMETERS said "parameters the engine reads" and listed five the
    engine never reads. Each key now names the rooms that read it; each must read it (its
    key appears in that module's source) and no room reading it goes unnamed among the
    engine, the app, the warnings and the narrative. A lever's default, reference or
    uncertain input is read through the lever registry (balans.model.levers) by the rooms that
    import it."""
    import balans
    from balans.inputs.case import PARAMETER_READERS
    from balans.model.levers import LEVERS

    via_registry = {
        k for lv in LEVERS for k in (lv.default_param, lv.reference_param, lv.uncertainty) if k
    }

    src = Path(balans.__file__).parent
    rooms_files = {
        "engine": ("model/engine.py", "model/engine_data.py"),  # with its data preparation
        "app": ("faces/app.py",),
        "narrative": ("presentation/narrative.py",),
        "analysis": ("analysis/__init__.py",),
        "feasibility": ("analysis/feasibility.py",),
        "api": ("model/api.py",),
        "compare": ("analysis/compare.py",),
    }
    text = {
        room: "".join((src / f).read_text(encoding="utf-8") for f in files)
        for room, files in rooms_files.items()
    }
    for key, rooms in PARAMETER_READERS.items():
        quoted = (f'"{key}"', f"'{key}'")
        for room in rooms:
            reads = any(q in text[room] for q in quoted) or (
                key in via_registry and "from balans.model.levers import" in text[room]
            )
            assert reads, f"{rooms_files[room][0]} does not read {key}"
        for room in ("engine", "app", "feasibility", "narrative"):
            if room not in rooms:
                assert not any(q in text[room] for q in quoted), (
                    f"{rooms_files[room][0]} reads {key} unnamed"
                )


# --------------------------------------------------------------------------- every problem at once


def test_three_problems_in_two_files_are_named_in_one_message(case_copy):
    """Issue 14: a planner who fixes one cell should not have to load again to find the
    next. Two bad cells in accounts.csv and one parameter out of its range in
    parameters.csv: one error names all three, each with file, line, field and value."""
    _edit(case_copy, "accounts.csv", "38106,45005", "38 1O6,45005")  # a letter O for a zero
    _edit(
        case_copy,
        "accounts.csv",
        "sales,Försäljning,Sales of care and services,revenue,revenue,price",
        "sales,Försäljning,Sales of care and services,income,revenue,price",
    )
    _edit(case_copy, "parameters.csv", "drug_cost_growth_pct,11.0", "drug_cost_growth_pct,31.0")
    with pytest.raises(DataError) as info:
        load_case(case_copy)
    err = info.value
    said = str(err)
    assert said.startswith(f"{case_copy}: 3 problems in 2 files"), said
    accounts, parameters = case_copy / "accounts.csv", case_copy / "parameters.csv"
    for place, value, allowed in (
        (f"{accounts}, row 2, column 'actual_ytd_tkr': not a number", "'38 1O6'", "a number"),
        (f"{accounts}, row 3, column 'side': not a known value", "'income'", "revenue | cost"),
        (f"{parameters}, row 5, column 'value'", "'31.0'", "8.8 to 12.0"),
    ):
        line = next(ln for ln in said.splitlines() if place in ln)
        assert f"(value: {value})" in line and allowed in line, line
    assert [(p.file, p.row, p.column) for p in err.problems] == [
        (str(accounts), 2, "actual_ytd_tkr"),
        (str(accounts), 3, "side"),
        (str(parameters), 5, "value"),
    ]


def test_rules_over_a_file_with_bad_rows_are_named_as_not_checked(case_copy):
    """A reconciliation cannot add up a column with a bad cell: the message says which
    rules it did not check, rather than a sum that is wrong for another reason."""
    _edit(
        case_copy,
        "agency.csv",
        "doctors,Läkare,Doctors,,-35,-40,-54",
        "doctors,Läkare,Doctors,,-35,-40,+54",
    )
    with pytest.raises(DataError) as info:
        load_case(case_copy)
    said = str(info.value)
    assert (
        "agency.csv, row 2, column 'cost_ytd_mkr': out of range (value: '+54'); allowed: at most 0"
        in said
    )
    assert "not checked, since a file they read has problems" in said
    assert (
        "  - agency.csv: the top-level agency categories add up to the agency account's year-to-date cost\n"
        in said
    )
    assert len(info.value.problems) == 1


def test_rules_over_clean_files_all_speak(case_copy):
    """Two rules broken in two files, neither a bad cell: both are named, with what the
    documents say and the tolerance."""
    _edit(
        case_copy,
        "figures.csv",
        "actual_janapr_2023_gross_cost_tkr,-1659906",
        "actual_janapr_2023_gross_cost_tkr,-1660906",
    )
    _edit(case_copy, "staff.csv", "2023-04-30", "2023-04-29")
    with pytest.raises(DataError) as info:
        load_case(case_copy)
    said = str(info.value)
    assert "gross cost accounts add up to -1 659 905 tkr, not the document's -1 660 906 tkr" in said
    assert (
        "staff.csv, column 'date': no row for the case's employees_date (value: '2023-04-30')"
        in said
    )
    assert "not checked" not in said


def test_every_rule_states_itself_in_one_sentence():
    """Each rule's docstring says what it holds in one sentence: the message that skips a
    rule quotes it."""
    from balans.inputs.case_rules import CASE_RULES, LEDGER_RULES

    for rule in {*CASE_RULES, *LEDGER_RULES}:
        doc = rule.says
        assert doc.endswith(".") and ". " not in doc and doc[0].isupper(), rule.name
        assert rule.reads, rule.name


def _cells():
    for name in (
        "accounts.csv",
        "divisions.csv",
        "agency.csv",
        "staff.csv",
        "figures.csv",
        "parameters.csv",
    ):
        with (DEFAULT_CASE_DIR / name).open(encoding="utf-8") as f:
            for column in next(csv.reader(f)):
                yield name, column


@pytest.mark.parametrize(("name", "column"), list(_cells()))
def test_a_garbled_cell_anywhere_is_a_data_error_naming_its_file(case_copy, name, column):
    """No cell of the shipped case's files, garbled, gives a traceback: every rule returns
    its problems and skips what it cannot read, so the message is a DataError naming the file."""
    header, rows = _header_and_rows(case_copy / name)
    rows[0][column] = "x;1e999"
    with (case_copy / name).open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    try:
        load_case(case_copy)
    except DataError as exc:
        assert name in str(exc) and len(str(exc)) < 2048, str(exc)


def _header_and_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)
