"""The account and division tables are made once (balans.presentation.tables): the app's table for a
year and the report's column for that year hold the same rows, in the same order, with
the same figures and marks."""

from __future__ import annotations

import html
import re

import pytest
from conftest import REPO

from balans import run_file
from balans.faces.app import tables_html
from balans.presentation.fmt import NBSP, label
from balans.presentation.report import accounts_table, divisions_table


def _cells(table: str) -> list[list[str]]:
    rows = re.findall(r"<tbody>(.*?)</tbody>", table, re.S)[0]
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)]
        for r in re.findall(r"<tr>(.*?)</tr>", rows, re.S)
    ]


def _no_unit(text: str, lang: str) -> str:
    return text.removesuffix(NBSP + label("unit_mkr", lang))


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_app_and_the_report_give_the_same_table_rows(lang):
    r = run_file(REPO / "scenarios" / "hyrstopp.yaml")
    year = r.engine.years[-1]
    acc_html, div_html = re.findall(r"<table>.*?</table>", tables_html(r, year, lang), re.S)[:2]

    def col(key: str) -> str:
        return label(key, lang).format(year=year)

    acc = accounts_table(r, lang)
    app_acc = [
        (name, _no_unit(fc, lang), _no_unit(bud, lang), _no_unit(dev, lang), mark)
        for name, bud, _base, fc, dev, mark in _cells(acc_html)
    ]
    report_acc = list(
        zip(
            acc[col("report.col.name")],
            acc[col("report.col.forecast_year")],
            acc[col("report.col.budget_year")],
            acc[col("report.col.deviation_year")],
            acc[col("basis.budget_year")],
            strict=True,
        )
    )
    assert app_acc == report_acc and len(app_acc) == len(r.case.accounts)

    div = divisions_table(r, lang)
    app_div = [
        (name, _no_unit(fc, lang), _no_unit(bud, lang), _no_unit(dev, lang))
        for name, bud, _base, fc, dev, _mark in _cells(div_html)
    ]
    report_div = list(
        zip(
            div[col("report.col.name")],
            div[col("report.col.forecast_year")],
            div[col("report.col.budget_year")],
            div[col("report.col.deviation_year")],
            strict=True,
        )
    )
    assert app_div == report_div and len(app_div) == len(r.case.divisions)
