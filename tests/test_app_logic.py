"""The app's logic without a browser: controls to scenario and back, links, the signal."""

from __future__ import annotations

import pytest
from conftest import REPO, by_year

from balans import get_engine, load_scenario, run
from balans.faces.app import (
    BalansApp,
    parse_query,
    scenario_from_values,
    signal,
    widget_values_from_scenario,
)
from balans.presentation.fmt import label


def test_signal_follows_the_deviation():
    # budget -2 895 mkr, yellow up to 1 % = 28,95 mkr worse than budget
    assert signal(0.0, -2895, 1.0) == "green"
    assert signal(12.0, -2895, 1.0) == "green"
    assert signal(-28.0, -2895, 1.0) == "yellow"
    assert signal(-30.0, -2895, 1.0) == "red"


@pytest.mark.parametrize(
    "stem",
    ["baseline", "hyrstopp", "balanspaket_2024", "atgardsplaner_37", "dygnsvila_utglesad_helg"],
)
def test_untouched_controls_give_back_the_file(case, stem):
    sc = load_scenario(REPO / "scenarios" / f"{stem}.yaml")
    values = widget_values_from_scenario(case, sc, "2023-05")
    again = scenario_from_values(case, sc, values, dict(values))
    assert again == sc  # nothing touched: exactly the file


def test_moving_a_control_rebuilds_only_its_lever(case):
    sc = load_scenario(REPO / "scenarios" / "balanspaket_2024.yaml")
    loaded = widget_values_from_scenario(case, sc, "2023-05")
    moved = scenario_from_values(case, sc, loaded, loaded | {"staff_pct": 8.0})
    assert moved.levers.staffing_reduction.target_pct == 8.0
    assert moved.levers.agency == sc.levers.agency and moved.levers.measures == sc.levers.measures
    assert moved.name.endswith("(ändrad)")


def test_reset_to_zero_gives_the_baseline_to_the_krona(case, engine):
    base = load_scenario(REPO / "scenarios" / "baseline.yaml")
    loaded = widget_values_from_scenario(case, base, "2023-05")
    there = scenario_from_values(case, base, loaded, loaded | {"staff_pct": 5.0})
    back = scenario_from_values(case, base, loaded, loaded | {"staff_pct": 0.0})
    assert there.levers.staffing_reduction is not None
    assert back.levers.staffing_reduction is None
    assert (run(back)._by_account == engine.baseline).all()


def test_a_link_with_bad_values_names_them_and_keeps_the_good_ones():
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    values, problems = parse_query(
        "staff_pct=4&agency_pct=-500&rest_on=2&foo=1&staff_start=1999-01", months, ["baseline"]
    )
    assert values == {"staff_pct": 4.0}
    assert any(p.startswith("agency_pct=-500") and "−100,0–50,0" in p for p in problems)
    assert any(p.startswith("rest_on=2") for p in problems)
    assert any("foo=1" in p and label("app.unknown_key") in p for p in problems)
    assert any(p.startswith("staff_start=1999-01") and "2024-01–2024-12" in p for p in problems)


def test_odd_query_values_are_named_and_the_page_still_opens():
    """Issue 13: ?year=² broke the page (a digit to str.isdigit, not to int); year=9999 and
    lang=xx were ignored without a word."""
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    values, problems = parse_query(
        "year=%C2%B2&lang=xx&staff_pct=3", months, ["baseline"], years=[2023, 2024]
    )
    assert values == {"staff_pct": 3.0}
    assert "year=² (2023 | 2024)" in problems and "lang=xx (sv | en)" in problems
    assert parse_query("year=9999", months, [], years=[2023, 2024])[1] == [
        "year=9999 (2023 | 2024)"
    ]
    app = BalansApp(query="year=%C2%B2&lang=xx&year=2023")
    assert app.year.value == 2023
    assert "year=²" in app.message.value and "lang=xx" in app.message.value
    assert "balans-headline" in app.cards.value


def test_a_scenario_file_name_cannot_put_script_in_the_page(tmp_path):
    import shutil

    from conftest import REPO

    folder = tmp_path / "scenarios"
    folder.mkdir()
    evil = 'x" onmouseover="alert(1)'
    shutil.copy(REPO / "scenarios" / "hyrstopp.yaml", folder / f"{evil}.yaml")
    app = BalansApp(scenarios_dir=folder)
    app.load_scenario(evil)
    link = app._yaml_link()
    assert 'onmouseover="alert(1)' not in link and "&quot;" in link


def test_the_app_round_trips_its_own_link():
    app = BalansApp()
    app.load_scenario("hyrstopp")
    app.controls["agency_pct"].value = -70.0
    app.controls["rest_on"].value = True
    link = app.query_string()
    other = BalansApp(query=link)
    assert other.scenario == app.scenario
    assert other.cards.value == app.cards.value


def test_the_rest_rule_box_starts_ticked_because_the_rule_is_in_the_baseline():
    engine = get_engine()
    case = engine.case
    base = load_scenario(REPO / "scenarios" / "baseline.yaml")
    values = widget_values_from_scenario(case, base, "2023-05")
    assert values["rest_on"] is True
    # ticked at the defaults is the baseline itself; unticked is the rule with no extra need
    same = scenario_from_values(case, base, values, values | {"staff_pct": 0.0})
    assert same.levers.rest_rule is None
    off = scenario_from_values(case, base, values, values | {"rest_on": False})
    assert off.levers.rest_rule is not None and off.levers.rest_rule.extra_need_pct == 0
    assert by_year(run(off), "change_vs_baseline_mkr", 2024) > 40  # the rule's 45 mkr gone


def test_a_failure_in_the_app_is_logged_for_the_server_not_streamed_to_the_viewer(
    monkeypatch, capsys
):
    import sys

    import balans.faces.app as app_module

    app = BalansApp()

    def broken(*_a, **_k):
        raise RuntimeError("/usr/lib/python3.11/site-packages/secret")

    monkeypatch.setattr(app_module, "run", broken)
    app.controls["staff_pct"].value = 3.0  # an update that fails
    handler = app_module.log.handlers[0]
    assert handler.stream is sys.__stderr__  # the kernel's own stderr: the server's log
    assert "secret" not in capsys.readouterr().err  # nothing on the kernel's sys.stderr
    assert "balans-error" in app.message.value and "secret" not in app.message.value


def test_a_source_beside_a_slider_is_its_default_or_named_as_a_reference():
    """Issue 12: "Källa: 7,0 %" stood under a slider that starts at 0."""
    app = BalansApp()
    staff = app.sources["staff_pct"].value
    assert "Källa" not in staff and "Personalomsättning" in staff and "7,0" in staff
    real = app.sources["realisation"].value
    assert "Källa" not in real and "Realisering av åtgärdsplaner 2023" in real
    drug = app.sources["drug_pct"].value
    assert '<div class="balans-source"><details><summary>Källa: 11,0' in drug
    assert app.controls["drug_pct"].value == 11.0  # the default is the source's figure


def test_the_sources_panel_has_headers_titles_and_units_in_words():
    panel = BalansApp().sources_panel.value
    for head in ("Parameter", "Värde", "Rimligt intervall", "Slag", "Källa"):
        assert f"<th>{head}</th>" in panel
    assert "Delårsrapport januari–april 2023, Ekonomisk analys" in panel
    assert "002_ee4227a21ff1ffd4.txt" not in panel and "pct_per_year" not in panel


def test_the_sources_are_swedish_in_swedish_and_english_in_english():
    """Issue 12, item 3: no English note in the Swedish sources panel, nor under a slider."""
    sv, en = BalansApp(), BalansApp(lang="en")
    attrition = sv.case.parameters["attrition_pct_per_year"]
    for text in (sv.sources_panel.value, sv.sources["staff_pct"].value):
        assert attrition.note_sv.split(":")[0] in text and attrition.note not in text
        assert "Assumption" not in text and "Derived" not in text
    assert "Antagande" in sv.sources_panel.value
    for text in (en.sources_panel.value, en.sources["staff_pct"].value):
        assert attrition.note.split(":")[0] in text and attrition.note_sv not in text


def test_every_control_says_what_it_means_in_both_languages():
    from balans.faces.app import CONTROLS

    for lang in ("sv", "en"):
        app = BalansApp(lang=lang)
        for c in CONTROLS:
            text = app.sources[c.key].value
            assert text.startswith('<div class="balans-help">') and len(text) > 60, (lang, c.key)
        for y in app.case.years:
            assert str(y) in app.sources[f"pay_{y}"].value


def test_the_top_of_the_page_says_what_the_scenario_is_and_what_follows():
    app = BalansApp()
    app.load_scenario("balanspaket_2024")
    top = app.orientation.value
    assert "<b>Balanspaket 2024, historisk realisering</b>" in top
    assert "realiseras till 37 %" in top  # its description
    assert "2024: helårsprognosen blir" in top and "bättre än basprognosen" in top
    app.year.value = 2023
    assert "2023: helårsprognosen blir" in app.orientation.value


def test_the_downloads_are_named_in_words_and_hold_the_board_paper():
    import base64
    import re

    app = BalansApp()
    app._make_downloads()
    links = app.downloads.value
    assert "Diagram: Nettokostnad mot budget (SVG)" in links
    assert "Diagram: Prognosutveckling (PNG)" in links
    assert "forecast (SVG)" not in links
    pdf = re.search(r'href="data:application/pdf;base64,([^"]+)"', links).group(1)
    assert base64.b64decode(pdf)[:5] == b"%PDF-"


# ------------------------------------------------------------------ work done once (issue 14)


def count_runs(monkeypatch) -> list[str]:
    """Every engine run the app makes from now on, by scenario name."""
    import balans.faces.app as app_module

    calls: list[str] = []
    real = app_module.run

    def counting(scenario, case=None):
        calls.append(scenario.name)
        return real(scenario, case)

    monkeypatch.setattr(app_module, "run", counting)
    return calls


def test_the_page_computes_once_on_open_and_once_for_a_shared_link(monkeypatch):
    calls = count_runs(monkeypatch)
    BalansApp()
    assert len(calls) == 1  # the picker's own first value no longer loads a second scenario
    calls.clear()
    app = BalansApp(query="scenario=hyrstopp&agency_pct=-60&lang=en&year=2023&compare=dygnsvila")
    assert calls == ["Halverad hyrpersonal med återrekrytering (changed)"]  # the link's, only
    assert (app.lang, app.year.value) == ("en", 2023)


def test_the_year_and_the_cumulative_box_only_redraw(monkeypatch):
    app = BalansApp()
    calls = count_runs(monkeypatch)
    app.year.value = 2023
    assert 'data-year="2023"' in app.cards.value  # redrawn for the year shown
    app.cumulative.value = True
    assert calls == []  # the same result, drawn again
    app.controls["agency_pct"].value = -20
    assert len(calls) == 1  # a lever: one computation


def test_a_file_beyond_a_sliders_range_opens_as_it_is(tmp_path):
    """Issue 14: two measures of 600 mkr opened as '(ändrad)' with 1 000 mkr, because the
    slider's cap (1 000) is below what the schema allows in sum. The slider now widens."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "baseline.yaml").write_text("name: Basprognos\n", encoding="utf-8")
    (folder / "stora.yaml").write_text(
        "name: Två stora åtgärder\nlevers:\n  measures:\n"
        "    - {name: Inköp, mkr_per_year: 600}\n    - {name: Lokaler, mkr_per_year: 600}\n",
        encoding="utf-8",
    )
    app = BalansApp(scenarios_dir=folder, query="scenario=stora")
    assert app.controls["measures_mkr"].value == 1200 and app.controls["measures_mkr"].max == 1200
    assert app.scenario == load_scenario(folder / "stora.yaml")  # not "(ändrad)", not rescaled
    assert app.result.years_frame().equals(run(app.scenario).years_frame())
    app.load_scenario("baseline")
    assert app.controls["measures_mkr"].max == 1000  # the usual range again


def test_a_share_link_may_carry_the_measures_sum_a_file_may_hold_and_no_more():
    """The measures' slider is their sum: a link from a widened slider (two measures of
    600 mkr) opens, and one beyond 50 measures of 1 000 mkr is named with what is allowed."""
    values, problems = parse_query("measures_mkr=1200", [], [])
    assert values == {"measures_mkr": 1200.0} and problems == []
    values, problems = parse_query("measures_mkr=50001&staff_pct=21", [], [])
    assert values == {}
    # each range with its unit (the Swedish editor: "0,0–20,0" alone said nothing)
    assert problems == [
        "measures_mkr=50001 (0,0–50\u00a0000,0 mkr per år)",
        "staff_pct=21 (0,0–20,0 %)",
    ]
