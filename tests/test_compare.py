"""Scenarios side by side (issue 12, item 4): the current setting against up to two
scenario files, as a table of headline figures, the differences in words and two charts.
Every figure must be the scenario's own result; picking a scenario to compare with is a
view input and must not recompute the current setting."""

from __future__ import annotations

import re

import pytest
from conftest import REPO, by_year, step

from balans import load_case, load_scenario, run
from balans.analysis.compare import (
    Entry,
    bridge_frame,
    check_entries,
    difference_sentences,
    differences_html,
    monthly_frame,
    table_html,
)
from balans.faces.app import BalansApp
from balans.model.engine import STEPS
from balans.presentation.charts import compare_bridge_chart, compare_monthly_chart, spec


def result(stem: str):
    return run(load_scenario(REPO / "scenarios" / f"{stem}.yaml"))


@pytest.fixture(scope="module")
def entries():
    return [
        Entry("Din inställning: Basprognos", result("baseline"), "din inställning"),
        Entry("Hyrstopp", result("hyrstopp")),
        Entry("Balanspaket", result("balanspaket_2024")),
    ]


def plain(text: str) -> str:
    """The text as read: no-break spaces (between a figure and its unit) as spaces."""
    return text.replace("\xa0", " ")


def cells(html_text: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", plain(html_text))
    return [
        [re.sub("<[^>]+>", "", c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)]
        for r in rows
    ]


def test_the_table_shows_each_scenarios_own_headline(entries):
    t = table_html(entries, 2024)
    values = [float(v) for v in re.findall(r'class="balans-compare-value" data-value="([^"]+)"', t)]
    assert values == [by_year(e.result, "forecast_net_mkr", 2024) for e in entries]
    rows = cells(t)
    assert rows[0] == ["", "Din inställning: Basprognos", "Hyrstopp", "Balanspaket"]
    deviation = next(r for r in rows if r[0] == "Budgetavvikelse")
    assert deviation[1:] == ["−459 mkr", "−395 mkr", "−391 mkr"]
    signal = next(r for r in rows if r[0] == "Läge mot budget")
    assert all(s.startswith("Röd – ") for s in signal[1:])  # the colour said in words too
    assert '<th scope="col">' in t and '<th scope="row">' in t and "<caption>" in t


def test_the_sentences_say_how_much_better_and_which_steps_make_it(entries):
    """The current setting is the subject: a step's sign is what the setting does
    against the other scenario (the baseline here, so hyrstopp's own bridge)."""
    current = Entry("Din inställning: Hyrstopp", entries[1].result, "din inställning")
    base = Entry("Basprognos", entries[0].result)
    diff = by_year(current.result, "forecast_net_mkr", 2024) - by_year(
        base.result, "forecast_net_mkr", 2024
    )
    assert diff == pytest.approx(63.9, abs=0.05)
    first, second, *levers = map(plain, difference_sentences(current, base, 2024))
    assert first == (
        "År 2024 är prognosen 64 mkr bättre med din inställning än med ”Basprognos” "
        "(−3 747 mkr mot −3 811 mkr)."
    )
    # largest step first, with the sign of its effect in the current setting
    agency = step(current.result, "agency_reduction", 2024)
    replaced = step(current.result, "agency_replacement", 2024)
    assert second.startswith(
        f"Skillnaden kommer från minskad hyrpersonal (+{agency:.0f} mkr), "
        f"hyrtimmar som ersätts (−{-replaced:.0f} mkr)"
    )
    assert levers == [
        "Bara i din inställning: Hyrtimmarna minskar med 50 % från februari 2024. Av de "
        "hyrtimmar som försvinner ersätts 40 % med egen personal och 20 % med köpt vård; "
        "40 % ersätts inte."
    ]


def test_a_worse_setting_is_called_worse_and_each_ones_levers_are_named():
    current = Entry("Din inställning: Dygnsvila", result("dygnsvila"), "din inställning")
    other = Entry("Hyrstopp", result("hyrstopp"))
    text = [plain(s) for s in difference_sentences(current, other, 2024)]
    assert text[0].startswith(
        "År 2024 är prognosen 109 mkr sämre med din inställning än med ”Hyrstopp”"
    )
    assert any(s.startswith("Bara i ”Hyrstopp”: Hyrtimmarna minskar med 50 %") for s in text)
    assert any(s.startswith("Bara i din inställning: De skärpta dygnsviloreglerna") for s in text)


def test_the_same_scenario_twice_has_no_difference(entries):
    same = Entry("Basprognos", entries[0].result)
    assert difference_sentences(entries[0], same, 2023) == [
        "År 2023 ger din inställning och ”Basprognos” samma prognos.",
        "Din inställning och ”Basprognos” har samma inställningar.",
    ]


def test_the_bridge_side_by_side_adds_up_to_each_change(entries):
    df = bridge_frame(entries, 2024)
    for e in entries:
        own = df[df.entry == e.name].set_index("step").effect_mkr
        assert own.drop("total").sum() == pytest.approx(own["total"], abs=1e-6)
        assert own["total"] == pytest.approx(by_year(e.result, "change_vs_baseline_mkr", 2024))
    moving = [s for s in STEPS if s in set(df.step)]
    assert moving == [
        "staffing_reduction",
        "agency_reduction",
        "agency_replacement",
        "rest_rule",
        "measures",
        "realisation",
    ]  # in the bridge's order


def test_the_monthly_lines_are_each_scenarios_cumulative_deviation(entries):
    df = monthly_frame(entries, 2024)
    for e in entries:
        m = e.result.monthly_frame()
        m = m[m.year == 2024]
        got = df[df.entry == e.name].deviation_mkr.tolist()
        assert got == pytest.approx(m.cumulative_deviation_mkr.tolist())
    december = df[df.month == "2024-12"].set_index("entry").deviation_mkr
    assert december["Hyrstopp"] == pytest.approx(by_year(entries[1].result, "deviation_mkr", 2024))


def test_the_charts_name_every_scenario_and_differ_in_dash_as_well_as_colour(entries):
    bridge = spec(compare_bridge_chart(entries, 2024))
    monthly = spec(compare_monthly_chart(entries, 2024))
    names = [e.name for e in entries]
    assert bridge["layer"][0]["encoding"]["color"]["scale"]["domain"] == names
    line = monthly["layer"][1]["encoding"]
    assert line["color"]["scale"]["domain"] == line["strokeDash"]["scale"]["domain"] == names
    dashes = line["strokeDash"]["scale"]["range"]
    assert len({tuple(d) for d in dashes}) == len(names)
    assert "2024" in monthly["title"] and "2024" in bridge["title"]


def test_results_on_different_closes_are_not_compared(entries):
    later = run(load_scenario(REPO / "scenarios" / "baseline.yaml"), load_case(cutoff="2024-09"))
    with pytest.raises(ValueError, match="different cases or closes"):
        check_entries([entries[0], Entry("September", later)])
    with pytest.raises(ValueError, match="2 to 3 entries"):
        check_entries([*entries, entries[1]])


def test_english_compare_text(entries):
    en = [Entry("Your setting", entries[0].result, "your setting"), entries[1]]
    html_text = plain(differences_html(en, 2024, "en"))
    assert "In 2024 the forecast is 64 MSEK worse with your setting than with ”Hyrstopp”" in (
        html_text
    )


# ------------------------------------------------------------------ in the app


def test_the_app_compares_the_baseline_with_the_scenario_it_started_from():
    app = BalansApp(query="scenario=hyrstopp")
    assert [p.value for p in app.compare_picks] == ["baseline", ""]
    app.tabs.selected_index = 1  # the compare tab draws when it is opened
    assert "Din inställning: Halverad hyrpersonal med återrekrytering" in app.compare_table.value
    assert "Basprognos" in app.compare_text.value
    assert {"compare_bridge", "compare_monthly"} <= set(app.charts)


def test_picking_a_scenario_to_compare_does_not_recompute_the_setting(monkeypatch):
    import balans.faces.app as app_module

    app = BalansApp()
    app.tabs.selected_index = 1
    calls: list[str] = []
    real = app_module.run

    def counting(scenario, case=None):
        calls.append(scenario.name)
        return real(scenario, case)

    monkeypatch.setattr(app_module, "run", counting)
    headline = app.result
    for key in ("hyrstopp", "dygnsvila", "hyrstopp"):
        app.compare_picks[0].value = key
    assert app.result is headline  # the current setting was not run again
    # each file's result once: picking it again reuses it
    assert calls == [app.scenario_files["hyrstopp"].name, app.scenario_files["dygnsvila"].name]
    assert "Skärpta dygnsviloregler, dubbelt" not in app.compare_table.value
    assert "Halverad hyrpersonal" in app.compare_table.value


def test_moving_a_slider_redraws_the_open_compare_tab():
    app = BalansApp()
    app.tabs.selected_index = 1
    before = app.compare_table.value
    app.controls["agency_pct"].value = -60
    assert app.compare_table.value != before
    assert "(ändrad)" in app.compare_table.value


def test_the_share_link_keeps_the_picks_and_a_bad_pick_is_named():
    app = BalansApp()
    app.set_compare_picks(["dygnsvila", "lakemedel_riksniva"])
    qs = app.query_string()
    assert "compare=dygnsvila%2Clakemedel_riksniva" in qs
    again = BalansApp(query=qs)
    assert [p.value for p in again.compare_picks] == ["dygnsvila", "lakemedel_riksniva"]
    bad = BalansApp(query="compare=hyrstop")
    assert "compare=hyrstop (högst 2 scenarier, välj bland: atgardsplaner_100" in bad.message.value
    assert [p.value for p in bad.compare_picks] == ["atgardsplaner_100", ""]  # the default
    three = BalansApp(query="compare=hyrstopp,dygnsvila,baseline")
    assert "compare=hyrstopp,dygnsvila,baseline" in three.message.value


def test_nothing_picked_says_so_and_draws_no_chart():
    app = BalansApp()
    app.set_compare_picks([])
    app.tabs.selected_index = 1
    assert "Välj ett scenario att jämföra med." in app.compare_table.value
    assert app.chart_boxes["compare_bridge"].layout.display == "none"
