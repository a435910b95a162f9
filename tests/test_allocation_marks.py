"""Allocations are marked: what the documents do not give per division, per account or per
month is marked allocated or derived wherever it is shown, with what the mark means.

The shipped case's documents give January–April actuals and budgets per account, divisions
only as January–April totals, and annual budgets only as the board's totals (2023 revenue,
gross cost and net; 2024 net only)."""

from __future__ import annotations

import io
import re
from html import escape

import openpyxl
import pytest
import yaml
from conftest import REPO, TINY

from balans import load_case, parse_scenario, run, run_file
from balans.faces.app import excel_bytes, tables_html
from balans.model.api import BASES, figure_basis
from balans.presentation import report as rep
from balans.presentation.charts import forecast_frame, forecast_vs_budget_chart
from balans.presentation.fmt import label


def note(case, kind: str, code: str, lang: str = "sv") -> str:
    """The explanation a mark carries (the wording lives in locale/<lang>.yaml, basis:)."""
    return rep.basis_note(case, kind, code, lang)


def test_the_explanations_say_what_the_figures_are(case):
    division = note(case, "division", "allocated")
    assert division.startswith("fördelad") and "januari–april 2023" in division
    account = note(case, "account", "allocated")
    assert account.startswith("fördelad") and "januari–april 2023" in account
    assert note(case, "account", "derived").startswith("härledd")
    assert note(case, "division", "allocated", "en").startswith("allocated")
    assert "January–April 2023" in note(case, "division", "allocated", "en")


@pytest.fixture(scope="module")
def package():
    return run_file(REPO / "scenarios" / "balanspaket_2024.yaml")


@pytest.fixture(scope="module")
def tiny():
    return run(parse_scenario({"name": "tiny"}), TINY)


def _own(html_text: str) -> str:
    """The section without its charts' text alternatives (each chart's data as a table)."""
    return re.sub(r'<details class="balans-chart-table">.*?</details>', "", html_text, flags=re.S)


def _rows(table_html: str) -> list[list[str]]:
    body = re.search(r"<tbody>(.*?)</tbody>", _own(table_html), re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def _head(table_html: str) -> list[str]:
    head = re.search(r"<thead>(.*?)</thead>", _own(table_html)).group(1)
    return re.findall(r"<th>(.*?)</th>", head)


# --------------------------------------------------------------------------- the frames


def test_every_division_row_of_a_run_is_marked_allocated(package, tiny):
    for r in (package, tiny):
        d = r.divisions_frame()
        assert len(d) == len(r.case.divisions) * len(r.case.years)
        assert set(d.basis) == {"allocated"}


def test_account_budgets_are_allocated_and_the_second_year_derived(package):
    a = package.accounts_frame()
    assert set(a[a.year == 2023].budget_basis) == {"allocated"}
    assert set(a[a.year == 2024].budget_basis) == {"derived"}  # 004 gives only the net
    y = package.years_frame().set_index("year")
    assert y.loc[2023, "budget_revenue_basis"] == "document"
    assert y.loc[2024, "budget_revenue_basis"] == "derived"  # held at 2023's
    assert y.loc[2024, "budget_gross_cost_basis"] == "derived"  # net - revenue


def test_months_within_the_year_to_date_are_derived_unless_the_documents_give_them(package):
    m = package.monthly_frame().set_index("month")
    # Jan-Mar: a split of the Jan-Apr totals; April: the document's own April figures
    assert list(m.loc["2023-01":"2023-03", "actual_basis"]) == ["derived"] * 3
    assert m.loc["2023-04", "actual_basis"] == "document"
    assert set(m.loc["2023-05":, "actual_basis"]) == {"forecast"}
    assert set(m.budget_basis) == {"derived"}  # the budget's monthly phasing
    # running totals: the year to date and the year's net budget are the documents' own
    assert m.loc["2023-04", "cumulative_actual_basis"] == "document"
    assert m.loc["2023-03", "cumulative_actual_basis"] == "derived"
    assert m.loc["2023-04", "cumulative_budget_basis"] == "document"
    assert m.loc["2024-12", "cumulative_budget_basis"] == "document"
    assert m.loc["2024-06", "cumulative_budget_basis"] == "derived"
    for col in ("actual_basis", "budget_basis", "cumulative_actual_basis"):
        assert set(m[col]) <= set(BASES)


def test_the_marks_follow_the_case_not_the_shipped_months(case_copy, tiny):
    # the tiny case gives no last-month totals: its April is derived like January-March
    assert tiny.monthly_frame().set_index("month").loc["2023-04", "actual_basis"] == "derived"
    # a region whose documents give the second year's revenue budget: revenue accounts are
    # allocated that year, the cost side (net - revenue) stays derived
    meta_path = case_copy / "case.yaml"
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
    meta["budget"][2024]["revenue"] = meta["budget"][2023]["revenue"]
    meta.pop("last_actual_month_totals", None)
    meta_path.write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    r = run(parse_scenario({"name": "other region"}), load_case(case_copy))
    a = r.accounts_frame()
    a24 = a[a.year == 2024]
    assert set(a24[a24.side == "revenue"].budget_basis) == {"allocated"}
    assert set(a24[a24.side == "cost"].budget_basis) == {"derived"}
    assert r.monthly_frame().set_index("month").loc["2023-04", "actual_basis"] == "derived"


def test_the_decision_is_one_documented_function(case):
    assert "allocated" in figure_basis.__doc__ and "derived" in figure_basis.__doc__
    assert figure_basis(case, "division") == "allocated"
    assert figure_basis(case, "account_budget", year=2023, side="cost") == "allocated"
    assert figure_basis(case, "board_budget", year=2024, side="net") == "document"
    with pytest.raises(ValueError, match="unknown figure"):
        figure_basis(case, "per_ward", t=0)


# --------------------------------------------------------------------------- the report


def test_the_report_marks_every_division_and_explains_the_mark(package):
    html = str(rep.Report(package, rep.check_parameters("x.yaml", "out")).divisions())
    head = _head(html)
    assert head[1] == label("basis.column")
    rows = _rows(html)
    assert len(rows) == len(package.case.divisions)
    assert all(row[1] == "fördelad" for row in rows)
    assert escape(note(package.case, "division", "allocated")) in html


def test_the_report_marks_account_budgets_per_year(package):
    html = str(rep.Report(package, rep.check_parameters("x.yaml", "out")).accounts())
    head = _head(html)
    mark = label("basis.budget_year")
    i23, i24 = head.index(mark.format(year=2023)), head.index(mark.format(year=2024))
    assert head[i23 - 1] == "Budget 2023"  # the mark sits beside the figure it marks
    rows = _rows(html)
    assert len(rows) == len(package.case.accounts)
    assert {row[i23] for row in rows} == {"fördelad"}
    assert {row[i24] for row in rows} == {"härledd"}
    assert escape(note(package.case, "account", "allocated")) in html
    assert escape(note(package.case, "account", "derived")) in html


def test_the_report_marks_the_second_years_revenue_budget_and_the_months(package):
    html = str(rep.Report(package, rep.check_parameters("x.yaml", "out", "en")).forecast())
    head = _head(html)
    rows = {row[0]: row for row in _rows(html)}
    mark = label("basis.budget_year", "en")
    revenue, net = label("lines.revenue", "en"), label("lines.net_cost", "en")
    col = head.index(mark.format(year=2024))
    assert rows[revenue][col] == "derived" and rows[net][col] == "document"
    assert rows[revenue][head.index(mark.format(year=2023))] == "document"
    assert escape(label("basis.chart_lead", "en")) in html
    assert escape(note(package.case, "month", "derived", "en")) in html
    assert escape(note(package.case, "board", "derived", "en")) in html


def test_english_report_marks_divisions_allocated(tiny):
    html = str(rep.Report(tiny, rep.check_parameters("x.yaml", "out", "en")).divisions())
    assert {row[1] for row in _rows(html)} == {"allocated"}
    assert escape(note(tiny.case, "division", "allocated", "en")) in html


# --------------------------------------------------------------------------- the app


def test_the_apps_tables_mark_every_row_and_explain_the_marks(package):
    html = tables_html(package, 2024)
    acc_table, div_table = re.findall(r"<table>.*?</table>", html, re.S)
    assert _head(acc_table)[-1] == label("basis.budget_year").format(year=2024)
    assert {row[-1] for row in _rows(acc_table)} == {"härledd"}
    assert _head(div_table)[-1] == label("basis.column")
    div_rows = _rows(div_table)
    assert len(div_rows) == len(package.case.divisions)
    assert {row[-1] for row in div_rows} == {"fördelad"}
    below_divisions = html.split(div_table)[1]
    assert escape(note(package.case, "division", "allocated")) in below_divisions
    assert escape(note(package.case, "account", "derived")) in html.split(div_table)[0]
    first_year = tables_html(package, 2023)
    assert {row[-1] for row in _rows(re.findall(r"<table>.*?</table>", first_year, re.S)[0])} == {
        "fördelad"
    }


# --------------------------------------------------------------------------- Excel


def test_the_apps_excel_has_the_basis_columns_and_a_sheet_that_explains_them(package):
    wb = openpyxl.load_workbook(io.BytesIO(excel_bytes(package)))
    assert wb.sheetnames[0] == "Om filen" and wb.sheetnames[-1] == "Underlag"
    division_note = note(package.case, "division", "allocated")
    ws = wb["Divisioner"]
    header = [c.value for c in ws[1]]
    j = header.index("Underlag") + 1
    values = {ws.cell(row=i, column=j).value for i in range(2, ws.max_row + 1)}
    assert values == {"fördelad"}
    assert division_note in ws.cell(row=1, column=j).comment.text
    acc = wb["Kostnadsslag"]
    acc_header = [c.value for c in acc[1]]
    assert "Underlag budget" in acc_header
    notes = list(wb["Underlag"].iter_rows(values_only=True))
    division_row = next(row for row in notes if row[:2] == ("Divisioner", "Underlag"))
    assert division_row == ("Divisioner", "Underlag", "fördelad", division_note)
    account_rows = {
        row[2]: row[3] for row in notes if row[:2] == ("Kostnadsslag", "Underlag budget")
    }
    assert account_rows == {
        "fördelad": note(package.case, "account", "allocated"),
        "härledd": note(package.case, "account", "derived"),
    }


def test_the_batch_summary_excel_says_what_its_figures_are(tmp_path, tiny):
    from balans.faces.batch import BatchResult, Outcome, write_outputs

    reports = tmp_path / "reports"
    reports.mkdir()
    rep.write_key_figures(tiny, reports / "tiny.key_figures.json", "tiny.yaml")
    outcome = Outcome(
        "tiny",
        "tiny.yaml",
        "ok",
        files={
            "key_figures": "reports/tiny.key_figures.json",
            "html": "reports/tiny.html",
            "notebook": "reports/tiny.ipynb",
        },
    )
    write_outputs(BatchResult(tmp_path, [outcome]))
    wb = openpyxl.load_workbook(tmp_path / "summary.xlsx")
    assert wb.sheetnames == ["Om filen", "Sammanställning", "Kolumner", "Underlag"]
    about = dict(wb["Om filen"].iter_rows(values_only=True))
    assert about["Fall"] == tiny.case.id  # from the report's own stamp
    rows = list(wb["Underlag"].iter_rows(values_only=True))
    by_column = {r[0]: r for r in rows[1:] if r[0]}
    assert by_column["Budget netto 2024"][1] == "dokument"
    assert by_column["Helårsprognos netto 2024"][1] == "prognos"
    assert by_column["Budgetavvikelse 2023"][1] == "prognos"
    assert rows[1][2] == label("basis.note.summary")  # what the summary holds, and not


# --------------------------------------------------------------------------- charts


def test_the_forecast_charts_tooltip_encodes_the_basis(package):
    spec = forecast_vs_budget_chart(package, 2023, cumulative=False).to_dict()
    line = spec["layer"][0]
    tips = {t["field"]: t.get("title") for t in line["encoding"]["tooltip"]}
    assert tips["basis_text"] == label("basis.column")
    df = forecast_frame(package, 2023, cumulative=False)
    actual = df[df.series == "actual"].set_index("date").basis_text
    assert actual.iloc[0] == label("basis.tooltip.derived")  # January: a split of Jan-Apr
    assert actual.iloc[0].startswith("Härledd")
    assert actual.iloc[3] == label("basis.tooltip.document")  # April: the document's own
    assert set(df[df.series == "budget"].basis) == {"derived"}
    cum = forecast_frame(package, 2023, cumulative=True)
    assert set(cum[(cum.series == "budget") & (cum.date.dt.month == 12)].basis) == {"document"}
    # the tooltip text is in the data Vega-Lite draws from
    data = next(iter(spec["datasets"].values()))
    assert {"Härledd", "Dokument", "Prognos"} <= {d["basis_text"].split(" ")[0] for d in data}
