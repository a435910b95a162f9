"""The generated summary for a board paper, in Swedish and English, with figures from the engine.

The tiny plan below (tests/cases/tiny) is worked out in tests/test_levers_by_hand.py: in
2024 the staffing reduction saves 0.285 mkr, halving agency hours 0.6 mkr, replacing them
costs 0.3 mkr, the measure plans 1.2 mkr and half of the planned savings is not realised.
"""

from __future__ import annotations

import pytest
from conftest import REPO, TINY, by_year

from balans import load_scenario, parse_scenario, run
from balans.analysis import goal_seek, monte_carlo
from balans.presentation.fmt import label
from balans.presentation.narrative import (
    goal_seek_text,
    join_words,
    largest_effects_sentence,
    lever_sentences,
    money,
    scenario_summary,
)

MINUS, NBSP = "\u2212", "\u00a0"

PLAN = {
    "name": "Liten plan",
    "description": "Hyrtimmarna halveras och personalen minskar.",
    "levers": {
        "agency": {"change_pct": -50, "start": "2024-01"},
        "staffing_reduction": {"target_pct": 6, "start": "2024-01", "ramp_months": 3},
        "measures": [{"name": "Inköp", "mkr_per_year": 1.2, "start": "2024-01"}],
        "realisation_pct": 50,
    },
}


@pytest.fixture(scope="module")
def plan():
    return run(parse_scenario(PLAN), TINY)


def scenario(name: str):
    return load_scenario(REPO / "scenarios" / f"{name}.yaml")


def test_swedish_number_format():
    assert money(-3497.2) == f"{MINUS}3{NBSP}497{NBSP}mkr"
    assert money(46.43, signed=True) == f"+46,4{NBSP}mkr"
    assert money(0.6) == f"0,6{NBSP}mkr"
    assert money(-0.87, "en") == "-0.87\u00a0MSEK"
    assert join_words(["a", "b", "c"]) == "a, b och c"
    assert join_words(["a", "b"], "en") == "a and b"


def test_what_the_plan_changes(plan):
    s = lever_sentences(plan)
    assert s[0] == (
        f"Den egna personalen minskas med 6{NBSP}% genom naturlig avgång från januari 2024, "
        "med full effekt efter 3 månader."
    )
    assert s[1] == f"Hyrtimmarna minskar med 50{NBSP}% från januari 2024."
    # the replacement mix is the tiny case's default, 50/25/25
    assert s[2] == (
        f"Av de hyrtimmar som försvinner ersätts 50{NBSP}% med egen personal och 25{NBSP}% med "
        f"köpt vård; 25{NBSP}% ersätts inte."
    )
    assert s[3] == f"Åtgärder på sammanlagt 1,2{NBSP}mkr per år: Inköp 1,2{NBSP}mkr."
    assert s[4] == (
        f"Alla besparingar i scenariot (personalneddragning, minskade hyrtimmar och åtgärder) "
        f"räknas med 50{NBSP}% realiserad effekt (historiskt 40{NBSP}%)."
    )
    en = lever_sentences(plan, "en")
    assert en[0].startswith("Own staff are reduced by 6% through natural attrition")


def test_the_largest_effects_by_hand(plan):
    # board texts quote realised effects: at 50 % the measures give +0.6 of 1.2, the agency
    # cut +0.3 of 0.6 and its replacement -0.16875 of -0.3375 (the staffing +0.1425 is fourth)
    step = {k: label(f"steps.{k}").lower() for k in ("measures", "agency_reduction")}
    repl = label("steps.agency_replacement").lower()
    assert largest_effects_sentence(plan, 2024) == (
        f"Störst effekt 2024, när 50{NBSP}% av de planerade besparingarna blir verklighet, har "
        f"{step['measures']} (+0,6{NBSP}mkr), {step['agency_reduction']} "
        f"(+0,3{NBSP}mkr) och {repl} ({MINUS}0,17{NBSP}mkr)."
    )


def test_the_summary_reads_like_a_board_paper(plan):
    text = scenario_summary(plan)
    assert text.startswith("Sammanfattning: Liten plan\n\nHyrtimmarna halveras")
    for heading in ("Vad scenariot ändrar", "Resultat", "Risker"):
        assert f"\n\n{heading}\n" in text
    # realised: 0.1425 + 0.3 - 0.16875 + 0.6 = 0.87375; -8.4 + 0.874 = -7.526 against -9.0
    assert (
        f"2024: helårsprognosen blir {MINUS}7,53{NBSP}mkr mot budgeten {MINUS}9{NBSP}mkr, "
        f"en budgetavvikelse på +1,47{NBSP}mkr." in text
    )
    # the feasibility warnings are the risks
    assert "Målet nås först i juni 2024 i stället för mars 2024." in text
    # history's 40 % of each effect at 100 %: staffing 0.4 x 0.285, agency 0.4 x 0.6,
    # replacement 0.4 x -0.3375, measures 0.4 x 1.2: 0.6 + 0.699 = +1.299 mkr
    assert (
        f"40{NBSP}% blir budgetavvikelsen 2024 +1,3{NBSP}mkr i stället för +1,47{NBSP}mkr" in text
    )
    assert text.endswith(plan.stamp["scenario_hash"])


def test_english_summary(plan):
    text = scenario_summary(plan, "en")
    assert text.startswith("Summary: Liten plan")
    assert "What the scenario changes" in text and "Risks" in text
    assert "a deviation of +1.47\u00a0MSEK" in text


def test_baseline_summary_says_no_lever_is_moved():
    text = scenario_summary(run(parse_scenario({"name": "Bas"}), TINY))
    assert label("narrative.no_changes").split(":")[0] in text
    assert "Störst effekt" not in text


def test_realisation_risk_equals_the_plan_at_history_realisation():
    # the plans at 100 % against the same plans at history's 37.4 % (a shipped scenario)
    text = scenario_summary(run(scenario("atgardsplaner_100")), sensitivity=False)
    at_history = by_year(run(scenario("atgardsplaner_37")), "deviation_mkr", 2024)
    assert f"37,4{NBSP}% blir budgetavvikelsen 2024 {money(at_history, signed=True)}" in text


def test_uncertainty_and_sensitivity_in_the_risks():
    r = run(scenario("balanspaket_2024"))
    mc = monte_carlo(r.scenario, n_draws=1000, seed=4)
    s = mc.summary_frame().set_index("year").loc[2024]
    text = scenario_summary(r, monte_carlo=mc)
    assert (
        f"mellan {money(s.deviation_p10_mkr, signed=True)} och {money(s.deviation_p90_mkr, signed=True)}"
        in text
    )
    assert "(1\u00a0000 dragningar)" in text
    assert "Störst osäkerhet 2024 ger realisering av åtgärdsplaner 2023" in text


def test_goal_seek_in_words_reachable_and_not():
    base = parse_scenario({"name": "t"})
    g = goal_seek(base, "revenue.mkr_per_year", 2024, 1.2, TINY, tolerance_mkr=1e-9)
    assert goal_seek_text(g) == (
        f"Budgetavvikelsen 2024 blir +1,2{NBSP}mkr (mål +1,2{NBSP}mkr) när intäktsökningen är "
        f"0,6{NBSP}mkr per år; i dag är den 0{NBSP}mkr per år och budgetavvikelsen +0,6{NBSP}mkr. "
        f"Gränser: {MINUS}500{NBSP}mkr per år till 500{NBSP}mkr per år."
    )
    # +20 % of 3.6 mkr is at most +0.72: 0.6 + 0.72 = 1.32, 3.68 short of +5
    g = goal_seek(base, "revenue.change_pct", 2024, 5.0, TINY)
    assert goal_seek_text(g) == (
        f"Målet +5{NBSP}mkr för 2024 nås inte med intäktsförändringen inom gränserna "
        f"{MINUS}20{NBSP}% till 20{NBSP}%. Närmast kommer intäktsförändringen 20{NBSP}%, med "
        f"budgetavvikelsen +1,32{NBSP}mkr; det återstår 3,68{NBSP}mkr."
    )
    assert "cannot be reached" in goal_seek_text(g, "en")


def test_the_summary_is_kept_as_parts_so_no_face_guesses_a_heading():
    """Issue 14: the report turned the summary's text back into HTML by guessing that a
    short first line was a heading. A description whose first line is short now stays a
    paragraph, and the risks stay a list."""
    from balans.presentation.narrative import summary_blocks
    from balans.presentation.report import Report, check_parameters

    sc = parse_scenario(
        {
            "name": "Kort rad",
            "description": "Hyrstopp i norr\noch i söder, från hösten",
            "levers": {"agency": {"change_pct": -50}},
        }
    )
    r = run(sc)
    blocks = summary_blocks(r, sensitivity=False)
    assert [b.kind for b in blocks] == [
        "title",
        "description",
        "changes",
        "result",
        "risks",
        "stamp",
    ]
    assert scenario_summary(r, sensitivity=False) == "\n\n".join(b.as_text() for b in blocks)
    html_text = str(Report(r, check_parameters("x.yaml", "out")).summary())
    assert "<p>Hyrstopp i norr och i söder, från hösten</p>" in html_text
    assert "<h4>Hyrstopp i norr</h4>" not in html_text
    assert html_text.count("<h4>") == 3 and "<ul><li>" in html_text  # changes, result, risks
    assert "Sammanfattning: Kort rad" not in html_text  # the report's own title names it
