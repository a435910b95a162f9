"""Accessibility without a browser (issue 12, item 7): every chart's text alternative (a
sentence and its data as a table) in the app and the report, the headline's signal in words,
and the accessibility statement's content. The browser half is in test_app_browser.py."""

from __future__ import annotations

import re

import pytest
from conftest import REPO

from balans.analysis import monte_carlo, tornado
from balans.analysis.closes import curve_frame
from balans.inputs.scenario import load_scenario
from balans.model.api import run
from balans.presentation import a11y, charts
from balans.presentation.analysis_charts import fan_chart, tornado_chart


@pytest.fixture(scope="module")
def result():
    return run(load_scenario(REPO / "scenarios" / "balanspaket_2024.yaml"))


def all_charts(r, lang):
    mc = monte_carlo(r.scenario, r.case, n_draws=300)
    return {
        "forecast": charts.forecast_vs_budget_chart(r, None, cumulative=False, lang=lang),
        "bridge": charts.bridge_chart(r, 2024, lang),
        "curve": charts.forecast_curve_chart(curve_frame(r.case.root, r.scenario), 2024, lang),
        "share": charts.agency_share_chart(r, lang),
        "staffing": charts.staffing_chart(r, lang),
        "access": charts.access_chart(r, lang),
        "fan": fan_chart(mc, lang=lang, year=2024),
        "tornado": tornado_chart(tornado(r.scenario, r.case, year=2024), lang=lang),
        "compare_bridge": charts.compare_bridge_chart(entries(r), 2024, lang),
        "compare_monthly": charts.compare_monthly_chart(entries(r), 2024, lang),
    }


def entries(r):
    """The compare tab's charts: the setting beside the baseline."""
    from balans.analysis.compare import Entry

    return [
        Entry("Din inställning", r, "din inställning"),
        Entry("Basprognos", run(load_scenario(REPO / "scenarios" / "baseline.yaml"))),
    ]


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_chart_has_a_sentence_and_its_data_as_a_table(result, lang):
    assert set(a11y.DESCRIBERS) == {"forecast", "bridge", "curve", "share", "staffing"} | {
        "access",
        "fan",
        "tornado",
        "compare_bridge",
        "compare_monthly",
    }
    months = len(result.monthly_frame())
    for key, chart in all_charts(result, lang).items():
        sentence, table = a11y.chart_text(key, chart, lang)
        assert sentence.startswith("Diagram: " if lang == "sv" else "Chart: "), key
        assert len(sentence) > 40 and "  " not in sentence, (key, sentence)
        assert "nan" not in sentence.lower() and "_" not in sentence, (key, sentence)
        assert len(table) > 0 and len(table.columns) >= 2, key
        if key in ("forecast", "share", "staffing", "access"):
            assert len(table) == months, key  # a row per month the chart draws
        html_table = a11y.chart_table_html(sentence, table, lang)
        summary = "Diagrammet som tabell" if lang == "sv" else "The chart as a table"
        assert f"<summary>{summary}</summary>" in html_table
        assert html_table.count('<th scope="row">') == len(table)


def test_the_tables_hold_the_figures_the_charts_draw(result):
    lang = "sv"
    c = all_charts(result, lang)
    sentence, table = a11y.chart_text("bridge", c["bridge"], lang)
    frame = charts.bridge_frame(result, 2024, lang)
    assert list(table.iloc[:, 0]) == list(frame.label)  # every step, in the chart's order
    assert list(table.iloc[:, 1]) == list(frame.text)
    assert frame.text.iloc[0] in sentence and frame.text.iloc[-1] in sentence
    _, fc = a11y.chart_text("forecast", c["forecast"], lang)
    assert list(fc.columns) == ["Månad", "Utfall", "Budget", "Prognos", "Basprognos"] or set(
        fc.columns
    ) >= {"Månad", "Utfall", "Budget"}
    assert fc.iloc[0, 0] == "januari 2023"
    _, share = a11y.chart_text("share", c["share"], lang)
    assert share.iloc[-1, 1] == charts.agency_share_chart(result, lang).layer[0].data.text.iloc[-1]


def test_the_app_gives_each_chart_its_name_and_table():
    from balans.faces.app import BalansApp

    app = BalansApp()
    for key in ("forecast", "bridge"):
        assert key in app.charts, key
        assert app.charts[key].spec["description"].startswith("Diagram: ")
        assert "Diagrammet som tabell" in app.chart_tables[key].value
        assert app.chart_boxes[key].children[1] is app.chart_tables[key]
    before = app.chart_tables["bridge"].value
    app.controls["staff_pct"].value = 3.0  # the table follows the chart
    assert app.chart_tables["bridge"].value != before
    assert "Tillgänglighetsredogörelse" in app.footer.value
    assert 'href="balans/tillganglighet?lang=sv"' in app.footer.value
    app.lang_switch.value = "en"
    assert "Accessibility statement" in app.footer.value and "lang=en" in app.footer.value
    assert app.charts["forecast"].spec["description"].startswith("Chart: ")


@pytest.mark.parametrize("sig", ["green", "yellow", "red"])
def test_the_signal_is_said_in_words_not_colour_alone(monkeypatch, sig):
    import balans.faces.app as app_module

    app = app_module.BalansApp()
    monkeypatch.setattr(app_module, "signal", lambda *a: sig)
    cards = app._cards_html(app.result, 2024)
    word = {"green": "Grön", "yellow": "Gul", "red": "Röd"}[sig]
    dot = re.search(r'<span class="balans-signal balans-signal-(\w+)"([^>]*)>', cards)
    assert dot and dot.group(1) == sig and 'aria-hidden="true"' in dot.group(2)
    note = cards[dot.end() :].removeprefix("</span>").split("</div>", 1)[0]
    assert note.startswith(f"{word} – ")  # the colour's name and what it means, in words


def test_the_report_charts_are_images_with_a_name_and_a_table(result):
    from balans.presentation.report import chart_svg

    block = chart_svg(charts.bridge_chart(result, 2024, "sv"), "bridge", "sv")
    assert re.search(r'<div class="chart-image" role="img" aria-label="Diagram: [^"]+">', block)
    assert '<svg aria-hidden="true"' in block  # Vega's unnamed mark groups hidden
    assert "<summary>Diagrammet som tabell</summary>" in block
    plain = chart_svg(charts.bridge_chart(result, 2024, "sv"))
    assert 'role="img"' not in plain


def test_the_paper_leaves_the_chart_tables_to_its_appendix():
    from balans.presentation.paper import PAPER_STYLE

    assert ".balans-chart-table { display: none; }" in PAPER_STYLE


DIGG_SECTIONS = [
    "Hur tillgänglig är webbplatsen?",
    "Vad kan du göra om du inte kan använda delar av webbplatsen?",
    "Rapportera brister i webbplatsens tillgänglighet",
    "Tillsyn",
    "Teknisk information om webbplatsens tillgänglighet",
    "Innehåll som inte är tillgängligt",
    "Hur vi testat webbplatsen",
]


def test_the_statement_follows_diggs_model_and_is_honest():
    page = a11y.statement_html("Region Exempel", "", "sv")
    assert page.startswith('<!DOCTYPE html><html lang="sv">')
    assert "<h1>Tillgänglighetsredogörelse för Balans</h1>" in page
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings == DIGG_SECTIONS
    assert "Region Exempel står bakom Balans" in page
    assert (
        '<a href="https://www.digg.se/tdosanmalan">Anmäl bristande tillgänglighet till '
        "Myndigheten för digital förvaltning</a>" in page
    )
    assert "inte provats med skärmläsare" in page and "axe-core 4.14.1" in page
    assert "Inte provat: skärmläsare" in page
    assert f"senast den {a11y.STATEMENT_DATE}" in page
    # no contact given: the placeholder, said to be one
    assert page.count('class="placeholder"') == 2 and "[Regionen fyller i:" in page
    assert "<script" not in page
    given = a11y.statement_html("Region Exempel", "balans@region.example, 010-123 45 67", "sv")
    assert 'class="placeholder"' not in given and given.count("balans@region.example") == 2
    en = a11y.statement_html("Region Exempel", "", "en")
    assert '<html lang="en">' in en and "<h2>Supervision</h2>" in en
    assert a11y.AXE_VERSION in (REPO / "Makefile").read_text()  # the version the tests run


def test_the_contact_is_a_case_setting(tmp_path):
    from balans.inputs.case import meta_problems

    assert meta_problems({"accessibility_contact": "balans@region.example"}) == []
    assert meta_problems({"accessibility_contact": ""})  # text, not empty
    (tmp_path / "case.yaml").write_text(
        "name: Region Exempel\naccessibility_contact: balans@region.example\n", encoding="utf-8"
    )
    meta = a11y.case_settings(tmp_path)
    assert meta["accessibility_contact"] == "balans@region.example"
    assert a11y.case_settings(tmp_path / "missing") == {}
    shipped = a11y.case_settings()
    assert shipped["name"].startswith("Region Jämtland Härjedalen")


def test_the_chart_sentences_are_board_swedish(result):
    from test_swedish import assert_board_swedish

    texts = {}
    for key, chart in all_charts(result, "sv").items():
        sentence, table = a11y.chart_text(key, chart, "sv")
        texts[f"{key}, mening"] = sentence
        texts[f"{key}, tabellhuvud"] = " | ".join(map(str, table.columns))
    assert_board_swedish(texts)
