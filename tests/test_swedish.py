"""The Swedish a board member reads: natural Swedish, in the board's own documents' words.

Every label in ``locale/sv.yaml``, and every sentence the package writes from them for the
shipped scenarios (what the scenario changes, the result per year, the largest effects, the
risks with the feasibility warnings, the uncertainty and the most sensitive assumption, the
goal seek, the terminal summary), is read for words the board does not use:

- the programmer's words: "spakar" (say åtgärder, reglage, or name the lever), "löptakt"
  (the January–April actuals carried forward), "stämpel" (versionsuppgifter);
- "verksamhetsområden" for what the documents call divisioner (Division Kirurgi, ...);
- "hyrstopp" for anything less than a stop (halving the hours is halverad hyrpersonal);
- "beställda" hours: the board's word for ordered agency hours is avropade (delivered:
  levererade), as in the motion of 004 §102;
- an assumed threshold presented as a fact, "gränsen" (it reads: den antagna tröskeln);
- "dygnsvilan gäller från": the daily rest is old, the stricter rules (skärpta
  dygnsviloregler) took effect in October 2023;
- "ersättning för hyrpersonal", which reads as payment to the agencies;
- the code's own words: field paths (agency.change_pct), snake_case keys, raw units
  (pct_per_year), file names and hashes;

and for the number style of a Swedish finance report: the minus sign (−), the decimal
comma, a space between thousands (1 000) and before per cent (7 %), mkr.

The sentences are tested word by word, not whole, so that a change of the engine or of a
sentence's wording does not break this test; a word that comes from outside sv.yaml (a
scenario file, parameters.csv, the code) fails it just the same: the board reads it.
"""

from __future__ import annotations

import re
import string
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

import balans
from balans.analysis import GOAL_LEVERS, goal_seek, monte_carlo
from balans.presentation.fmt import label
from balans.presentation.narrative import goal_seek_text, scenario_summary
from balans.presentation.summary import summary_text

LOCALE = Path(balans.__file__).parent / "locale"
REPO = Path(__file__).parent.parent
SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))

# (pattern, what the board reads instead); case-insensitive, at word starts where it matters
WORDS = [
    (r"\bspak", "'spakar' is not the board's word: say åtgärder, reglage or name the lever"),
    (r"\blöptakt", "'löptakt': say utfallet januari–april framskrivet (kostnadstakten)"),
    (r"\bstämpel", "'stämpel': say versionsuppgifter"),
    (r"verksamhetsområde", "the documents' units are divisioner (Division Kirurgi, ...)"),
    (r"\bhyrstopp", "'hyrstopp' only for a stop: halved hours are halverad hyrpersonal"),
    (r"\bbeställd", "ordered agency hours are avropade (the board's word, 004 §102)"),
    (r"\bgränsen\b", "an assumed threshold reads as an assumption: den antagna tröskeln"),
    (r"\bdygnsvilan gäller", "the stricter rules took effect: de skärpta dygnsviloreglerna"),
    (r"\bersättning för hyr", "reads as payment to the agencies: say which hours are replaced"),
    (r"dygnsvileregl", "the documents' compound is dygnsviloregler"),
    (r"\b(?:the|and|of|with|agency|staff|lever|baseline)\b", "English in Swedish text"),
]
CODE = [
    (r"\w+_\w+", "a snake_case key of the code"),
    (r"\b(?:agency|staffing|rest|revenue|measures|drug|price)\.\w", "a field path of the code"),
    (r"\b\w+\.(?:csv|yaml|json|py)\b", "a file name"),
    (r"\b(?:pct|fte)\b", "a raw unit of the code"),
    (r"\b[0-9a-f]{12,}\b", "a hash"),
]
NUMBERS = [
    (r"(?<![\w–−])-\d", "a negative number takes the minus sign (−), not a hyphen"),
    (r"\d\.\d", "Swedish decimals take a comma"),
    (r"\b(?!(?:19|20)\d\d\b)\d{4,}\b", "thousands are separated by a space (1 000)"),
    (r"\d%", "a space before per cent (7 %)"),
    (r"\bM?SEK\b|\bmnkr\b", "amounts in mkr"),
]
RULES = WORDS + CODE + NUMBERS
PLACEHOLDER = re.compile(r"\{[a-z_0-9]*\}")


def offences(text: str) -> list[str]:
    """Every rule the text breaks, with the words that break it."""
    found = []
    for pattern, why in RULES:
        for m in re.finditer(pattern, text, flags=re.IGNORECASE):
            start, end = max(m.start() - 30, 0), m.end() + 30
            found.append(f"{why}: «{m.group(0)}» in «…{text[start:end]}…»")
    return found


def assert_board_swedish(texts: dict[str, str]) -> None:
    problems = [f"{where}: {o}" for where, text in texts.items() for o in offences(text)]
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- the labels


def load(lang: str) -> dict[str, Any]:
    return yaml.safe_load((LOCALE / f"{lang}.yaml").read_text(encoding="utf-8"))


def flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"narrative.levers.rest_rule": "…", …}``; lists (the months) stay whole."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out |= flat(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


SV, EN = flat(load("sv")), flat(load("en"))


def texts_of(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize(("pattern", "why"), RULES, ids=[why for _, why in RULES])
def test_no_label_breaks_the_rule(pattern, why):
    offenders = {
        key: text
        for key, value in SV.items()
        for text in texts_of(value)
        if re.search(pattern, PLACEHOLDER.sub("", text), flags=re.IGNORECASE)
    }
    assert not offenders, f"{why}:\n" + "\n".join(f"  {k}: {t}" for k, t in offenders.items())


def test_every_swedish_label_has_an_english_twin_and_back():
    assert sorted(set(SV) - set(EN)) == [], "Swedish labels missing in en.yaml"
    assert sorted(set(EN) - set(SV)) == [], "English labels missing in sv.yaml"


def test_swedish_and_english_labels_take_the_same_placeholders():
    # the code formats both languages with the same values: a placeholder one language lacks
    # is a figure the reader of that language never sees, one it adds is a KeyError
    differ = {
        key: (placeholders(sv), placeholders(en))
        for key in SV.keys() & EN.keys()
        for sv, en in zip(texts_of(SV[key]), texts_of(EN[key]), strict=False)
        if placeholders(sv) != placeholders(en)
    }
    assert not differ, differ
    lists = {k for k in SV.keys() & EN.keys() if isinstance(SV[k], list)}
    assert all(len(SV[k]) == len(EN[k]) for k in lists)  # twelve months in both


def test_the_labels_use_the_boards_own_terms():
    # the stricter rules, not the rest itself, took effect in October 2023
    assert "skärpta dygnsviloregler" in label("narrative.levers.rest_rule").lower()
    assert "skärpta dygnsviloregler" in label("steps.rest_rule").lower()
    # agency hours are avropade and levererade (004 §102)
    for key in ("app.fill_pct", "charts.agency_fill_shortfall_hours", "app.agency_pct"):
        assert "avropade" in label(key).lower(), key
    assert "levereras" in label("narrative.levers.fill_rate")
    # the hours replaced, not a payment for agency staff
    assert "ersätts" in label("steps.agency_replacement")
    # the threshold of care hours not delivered is an assumption, and says so
    assert "antagna tröskeln" in label("narrative.feasibility.hours_not_delivered")
    # divisions, as the documents have them
    assert "division" in label("report.divisions").lower()
    # mkr, as the documents write amounts
    assert label("unit_mkr") == "mkr"


# --------------------------------------------------------------------------- the sentences


@cache
def result(path: Path):
    return balans.run_file(path)


def without_scenario_text(text: str, r) -> str:
    """The generated text without what the scenario file wrote (tested on its own below)
    and without the version line, whose hashes identify the model, data and scenario."""
    stamp = label("summary.stamp").format(**r.stamp)
    for own in (stamp, r.scenario.description.strip(), r.scenario.name):
        if own:
            text = text.replace(own, "")
    return text


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_the_board_paper_summary_of_every_shipped_scenario(path):
    r = result(path)
    mc = monte_carlo(r.scenario, r.case, n_draws=200)
    summary = scenario_summary(r, "sv", monte_carlo=mc, sensitivity=True)
    assert "Vad scenariot ändrar" in summary and "Risker" in summary
    assert_board_swedish({f"{path.stem}, sammanfattning": without_scenario_text(summary, r)})


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_the_terminal_summary_of_every_shipped_scenario(path):
    r = result(path)
    text = summary_text(r, "sv")
    assert "helårsprognos" in text and "budgetavvikelse" in text
    assert_board_swedish({f"{path.stem}, summary_text": without_scenario_text(text, r)})


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_what_the_scenario_file_says_to_the_board(path):
    # the name and description are written in the scenario file, and the board reads them
    # first: the same words apply
    sc = result(path).scenario
    texts = {f"{path.stem}, name": sc.name, f"{path.stem}, description": sc.description}
    texts |= {f"{path.stem}, measure": m.name for m in sc.levers.measures or []}
    assert_board_swedish(texts)


def test_the_goal_seek_answers_for_every_lever():
    base = result(REPO / "scenarios" / "baseline.yaml").scenario
    year = balans.run_file(REPO / "scenarios" / "baseline.yaml").engine.years[-1]
    texts = {path: goal_seek_text(goal_seek(base, path, year, 0.0), "sv") for path in GOAL_LEVERS}
    several = ["realisation_pct", "drug_cost_growth_pct", "price_growth_pct"]
    for target in (0.0, -1000.0):
        g = goal_seek(base, several, year, target)
        texts[f"{' + '.join(several)} → {target}"] = goal_seek_text(g, "sv")
    assert_board_swedish(texts)


# --------------------------------------------------------------------------- the sources

# English a note or source would carry: common words, and the planners' own terms
ENGLISH = re.compile(
    r"\b(?:the|of|and|with|from|which|derived|assumption|benchmark|about|below|above)\b",
    flags=re.IGNORECASE,
)


def sources_texts(case, lang: str) -> dict[str, str]:
    """Every name, note and source of the sources panel (the report's table) and of the
    report's table of the documents' figures, the case's document titles taken out (they are
    the case's own names, 'HSN/1237/2023' among them)."""
    from balans.presentation.report import figures_frame, sources_frame

    titles = sorted(case.documents.values(), key=len, reverse=True)
    out = {}
    for df in (sources_frame(case, lang), figures_frame(case, lang)):
        for _, row in df.iterrows():
            out[str(row.iloc[0])] = str(row.iloc[0])
            for col in (label("report.col.note", lang), label("report.col.source", lang)):
                text = str(row[col])
                for t in titles:
                    text = text.replace(t, "")
                out[f"{row.iloc[0]}, {col}"] = text
    return out


@pytest.mark.parametrize("cutoff", ["2023-04", "2024-09"])
def test_the_sources_panel_is_swedish_for_the_shipped_case(cutoff):
    """Issue 12, item 3: the sources panel had English notes."""
    case = balans.load_case(balans.DEFAULT_CASE_DIR, cutoff=cutoff)
    texts = sources_texts(case, "sv")
    english = {k: t for k, t in texts.items() if ENGLISH.search(t)}
    assert not english, "\n".join(f"{k}: {t}" for k, t in english.items())
    assert_board_swedish(texts)


def test_the_english_check_finds_an_english_note():
    # the check above can fail: the planners' English note reads as English
    case = balans.load_case(balans.DEFAULT_CASE_DIR)
    texts = sources_texts(case, "en")
    assert sum(bool(ENGLISH.search(t)) for t in texts.values()) > len(texts) / 4
    assert offences("Derived: the share of the budget") != []


def test_english_mode_shows_the_planners_english_notes():
    from balans.presentation.report import sources_frame

    case = balans.load_case(balans.DEFAULT_CASE_DIR)
    en = sources_frame(case, "en")
    sv = sources_frame(case, "sv")
    f = case.parameters["attrition_pct_per_year"]
    assert en[label("report.col.note", "en")].tolist() == [p.note for p in case.parameters.values()]
    assert sv[label("report.col.note", "sv")].tolist() == [
        p.note_sv for p in case.parameters.values()
    ]
    assert "leave the region" in f.note and "lämnar regionen" in f.note_sv
    assert "Pay and employer costs" in en[label("report.col.source", "en")].iloc[0]
    assert "Löner och arbetsgivarkostnader" in sv[label("report.col.source", "sv")].iloc[0]


def test_a_case_with_only_note_shows_its_note_in_both_languages():
    """A case folder without note_sv/source_sv (the tiny test case, examples, the ledger
    template, every imported case) keeps its one note and source, shown as written."""
    from balans.presentation.report import sources_frame

    case = balans.load_case(REPO / "tests" / "cases" / "tiny")
    notes = [p.note for p in case.parameters.values()]
    assert any(notes) and not any(p.note_sv for p in case.parameters.values())
    for lang in ("sv", "en"):
        df = sources_frame(case, lang)
        assert df[label("report.col.note", lang)].tolist() == notes
        assert df[label("report.col.source", lang)].tolist() == [
            case.source_text(p.source) for p in case.parameters.values()
        ]


def test_a_ledger_cases_derived_budget_months_are_explained_in_swedish():
    """balans import words a plan year's phased budget in English ('derived: the 2026 annual
    budget (plan_2026_2027.csv) phased by …'); the Swedish report says it in Swedish."""
    from balans.presentation.report import basis_note

    case = balans.load_case(REPO / "tests" / "cases" / "exempel")
    sv = basis_note(case, "month", "derived", "sv")
    assert "årsbudgeten 2026 i flerårsplanen periodiserad efter 2025 års månadsbudget" in sv
    assert_board_swedish({"exempel, härledd månad": sv})
    assert "phased by 2025's monthly budget" in basis_note(case, "month", "derived", "en")
