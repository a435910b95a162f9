"""Plain-language summaries in Swedish (or English), generated, ready for a board paper.

:func:`scenario_summary` says what a scenario changes against the baseline, where it ends
each year against the budget, which levers matter most, and the risks: the feasibility
warnings, what history's realisation would give, and (when given) the uncertainty from a
Monte Carlo run and the largest input of the tornado. :func:`goal_seek_text` puts a goal
seek's answer in one or two sentences. Every sentence comes from ``locale/<lang>.yaml``
(``narrative:``) and every number from :mod:`balans.presentation.fmt` (Swedish: decimal comma, a
non-breaking space between thousands, the minus sign U+2212).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from balans.analysis import GoalSeekResult, MonteCarloResult, tornado
from balans.analysis.feasibility import FeasibilityWarning, check_feasibility, month_label
from balans.model.api import Result
from balans.model.engine import SAVING_STEPS, STEPS, LeverArrays
from balans.model.levers import BY_PATH
from balans.presentation.fmt import (
    auto_decimals,
    label,
    labels,
    money,
    number,
    pct_auto,
    pct_signed,
)

_SHOWN_MKR = 0.05  # effects smaller than this round to 0,0 mkr and are not named


def _t(key: str, lang: str) -> str:
    return label(f"narrative.{key}", lang)


def join_words(items: list[str], lang: str = "sv") -> str:
    """``a``, ``a och b``, ``a, b och c`` (``and`` in English)."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {_t('and', lang)} {items[-1]}"


def unit_text(value: float, unit: str, lang: str = "sv") -> str:
    """A parameter value with its unit where it has one: ``7 %``, ``2``, ``1 700``."""
    if unit.startswith("pct"):
        return pct_auto(value, lang, 2)
    return number(value, auto_decimals(value, 2), lang)


def range_text(low: float, high: float, unit: str, lang: str = "sv") -> str:
    """A plausible range: ``9–12 %`` or ``1,5–3``."""
    lo = number(low, auto_decimals(low, 2), lang)
    return f"{lo}–{unit_text(high, unit, lang)}"


def _levers(result: Result) -> LeverArrays:
    return result.batch.levers.take(result.index)


# --------------------------------------------------------------------------- what changes


def lever_sentences(result: Result, lang: str = "sv") -> list[str]:
    """One sentence per lever the scenario moves, with the values the model uses (defaults
    filled in from the case)."""
    sc, case, e = result.scenario, result.case, result.engine
    lv, L = sc.levers, _levers(result)
    t = lambda key, **kw: _t(f"levers.{key}", lang).format(**kw)  # noqa: E731
    month = lambda idx: month_label(result, int(idx), lang)  # noqa: E731
    out: list[str] = []
    div_names = {d.id: (d.name_sv if lang == "sv" else d.name_en) for d in case.divisions}

    def aimed(division: str | None, account: int) -> None:
        if division in div_names:
            share = e.div_account_share[account, e.division_ids.index(division)] * 100.0
            acc = case.accounts[account]
            name = acc.name_sv if lang == "sv" else acc.name_en
            div = div_names[division]
            if lang == "sv" and div.startswith("Division "):  # in running text: divisionen X
                div = "divisionen " + div.removeprefix("Division ")
            out.append(t("aimed", division=div, share=pct_auto(share, lang), account=name))

    if lv.staffing_reduction is not None:
        out.append(
            t(
                "staffing_reduction",
                target=pct_auto(float(L.staff_target_pct[0]), lang),
                start=month(L.staff_start[0]),
                ramp=number(max(float(L.staff_ramp_months[0]), 1.0), 0, lang),
            )
        )
        aimed(lv.staffing_reduction.division, e.i_pers)
    if (a := lv.agency) is not None:
        ramp_months = float(L.agency_ramp_months[0])
        ramp = t("agency_ramp", months=number(ramp_months, 0, lang)) if ramp_months > 0 else ""
        changes = L.agency_change_pct[0]
        if a.categories:
            items = [
                f"{(c.name_sv if lang == 'sv' else c.name_en).lower()} {pct_signed(float(v), lang)}"
                for c, v in zip(case.agency, changes, strict=True)
                if v != 0
            ]
            out.append(
                t(
                    "agency_categories",
                    start=month(L.agency_start[0]),
                    ramp=ramp,
                    list=", ".join(items),
                )
            )
        elif a.change_pct:
            out.append(
                t(
                    "agency_down" if a.change_pct < 0 else "agency_up",
                    change=pct_auto(abs(float(a.change_pct)), lang),
                    start=month(L.agency_start[0]),
                    ramp=ramp,
                )
            )
        aimed(a.division, e.i_agency)
        if np.any(changes < 0):
            out.append(
                t(
                    "agency_replacement",
                    own=pct_auto(float(L.replace_own_pct[0]), lang),
                    purchased=pct_auto(float(L.replace_purchased_pct[0]), lang),
                    none=pct_auto(float(L.replace_none_pct[0]), lang),
                )
            )
        if a.fill_rate_pct is not None:
            out.append(
                t(
                    "fill_rate",
                    fill=pct_auto(float(a.fill_rate_pct), lang),
                    start=month(L.agency_start[0]),
                )
            )
    if lv.drug_cost_growth_pct is not None:
        out.append(
            t(
                "drug_cost_growth",
                pct=pct_auto(lv.drug_cost_growth_pct, lang),
                base=pct_auto(case.param("drug_cost_growth_pct"), lang),
                national=pct_auto(case.param("national_drug_cost_growth_pct"), lang),
            )
        )
    if lv.price_growth_pct is not None:
        out.append(
            t(
                "price_growth",
                pct=pct_auto(lv.price_growth_pct, lang),
                base=pct_auto(case.param("price_growth_pct"), lang),
            )
        )
    if lv.rest_rule is not None:
        mitigation = float(L.rest_mitigation_pct[0])
        out.append(
            t(
                "rest_rule" if mitigation > 0 else "rest_rule_plain",  # no "tar bort 0 %"
                start=month(L.rest_start[0]),
                need=pct_auto(float(L.rest_need_pct[0]), lang),
                mitigation=pct_auto(mitigation, lang),
                overtime=pct_auto(float(L.rest_overtime_pct[0]), lang),
                agency=pct_auto(float(L.rest_agency_pct[0]), lang),
            )
        )
    if lv.measures:
        items = [
            f"{m.name} {money(m.mkr_per_year, lang)}"
            + (f" ({div_names[m.division]})" if m.division in div_names else "")
            for m in lv.measures
        ]
        total = sum(m.mkr_per_year for m in lv.measures)
        out.append(t("measures", total=money(total, lang), list=", ".join(items)))
    if lv.realisation_pct is not None:
        out.append(
            t(
                "realisation",
                pct=pct_auto(lv.realisation_pct, lang),
                history=pct_auto(case.param("realisation_history_pct"), lang),
            )
        )
    if lv.pay_revision_pct is not None:
        pay = [
            f"{pct_auto(float(v), lang)} {y}" for y, v in zip(e.years, L.pay_pct[0], strict=True)
        ]
        base = [pct_auto(case.param(f"pay_revision_pct_{y}"), lang) for y in e.years]
        out.append(t("pay_revision", list=join_words(pay, lang), base=join_words(base, lang)))
    if (r := lv.revenue) is not None:
        if r.change_pct:
            out.append(
                t(
                    "revenue_pct",
                    pct=pct_signed(r.change_pct, lang),
                    start=month(L.revenue_start[0]),
                )
            )
        if r.mkr_per_year:
            out.append(
                t(
                    "revenue_mkr",
                    mkr=money(r.mkr_per_year, lang, signed=True),
                    start=month(L.revenue_start[0]),
                )
            )
    if sc.assumptions:
        items = []
        for key, value in sc.assumptions.items():
            fig = case.parameters[key]
            items.append(
                t(
                    "assumption_item",
                    label=fig.label_sv if lang == "sv" else fig.label_en,
                    value=unit_text(value, fig.unit, lang),
                    default=unit_text(float(fig.value), fig.unit, lang),
                )
            )
        out.append(t("assumptions", list="; ".join(items)))
    return out


# --------------------------------------------------------------------------- result


def year_sentences(result: Result, lang: str = "sv") -> dict[int, list[str]]:
    """Per year, its sentences: forecast against budget and the deviation; the change
    against the baseline; the board's own forecast where the documents give one."""
    out: dict[int, list[str]] = {}
    for row in result.years_frame().itertuples():
        parts = [
            _t("result_year", lang).format(
                year=row.year,
                forecast=money(row.forecast_net_mkr, lang),
                budget=money(row.budget_net_mkr, lang),
                deviation=money(row.deviation_mkr, lang, signed=True),
            )
        ]
        if not result.scenario.is_baseline:
            change = float(row.change_vs_baseline_mkr)
            key = (
                "result_same"
                if abs(change) < _SHOWN_MKR
                else "result_better"
                if change > 0
                else "result_worse"
            )
            parts.append(_t(key, lang).format(change=money(abs(change), lang)))
        board = row.board_forecast_net_mkr
        if board is not None and board == board:
            parts.append(_t("result_board", lang).format(year=row.year, board=money(board, lang)))
        out[int(row.year)] = parts
    return out


def result_sentences(result: Result, lang: str = "sv") -> list[str]:
    """Per year, one paragraph of :func:`year_sentences`."""
    return [" ".join(parts) for parts in year_sentences(result, lang).values()]


def largest_effects_sentence(result: Result, year: int, lang: str = "sv", top: int = 3) -> str:
    """The ``top`` bridge steps of ``year`` with the largest realised effect, largest first:
    a saving is quoted at the scenario's realisation, not at 100 % of plan."""
    b = result.bridge_frame(realised=True)
    b = b[(b.year == year) & (b.effect_mkr.abs() >= _SHOWN_MKR)]
    if b.empty:
        return _t("no_effects", lang).format(year=year)
    b = b.reindex(b.effect_mkr.abs().sort_values(ascending=False, kind="stable").index).head(top)
    items = [
        f"{label(f'steps.{r.step}', lang).lower()} ({money(r.effect_mkr, lang, signed=True)})"
        for r in b.itertuples()
    ]
    realisation = result.scenario.levers.realisation_pct
    if realisation is not None and realisation != 100 and any(s in SAVING_STEPS for s in b.step):
        # the bridge shows plans at 100 %; this sentence the realised part: say which
        return _t("effects_realised", lang).format(
            year=year, list=join_words(items, lang), pct=pct_auto(realisation, lang)
        )
    return _t("effects", lang).format(year=year, list=join_words(items, lang))


# --------------------------------------------------------------------------- risks


def realisation_risk_sentence(result: Result, year: int, lang: str = "sv") -> str | None:
    """If the scenario plans savings at a realisation above history's: the deviation of
    ``year`` with history's realisation instead (the same scenario, one more evaluation)."""
    e, L = result.engine, _levers(result)
    yi = e.years.index(year)
    history = result.case.param("realisation_history_pct")
    real = float(L.realisation_pct[0])
    plan = sum(
        abs(float(result.batch.bridge_mkr[result.index, STEPS.index(s), yi])) for s in SAVING_STEPS
    )
    if real <= history or plan < _SHOWN_MKR:
        return None
    at_history = e.evaluate(replace(L, realisation_pct=np.array([history])))
    return _t("risk_realisation", lang).format(
        real=pct_auto(real, lang),
        history=pct_auto(history, lang),
        year=year,
        deviation=money(float(at_history.deviation_by_year_mkr[0, yi]), lang, signed=True),
        planned=money(
            float(result.batch.deviation_by_year_mkr[result.index, yi]), lang, signed=True
        ),
    )


def monte_carlo_sentence(mc: MonteCarloResult, year: int, lang: str = "sv") -> str:
    """P10-P90 and median of the year's deviation and the probability of balance."""
    row = mc.summary_frame().set_index("year").loc[year]
    return _t("risk_uncertainty", lang).format(
        n=number(mc.n_draws, 0, lang),
        year=year,
        p10=money(row.deviation_p10_mkr, lang, signed=True),
        p50=money(row.deviation_p50_mkr, lang, signed=True),
        p90=money(row.deviation_p90_mkr, lang, signed=True),
        prob=pct_auto(float(row.balance_probability_pct), lang, 0),
    )


def tornado_sentence(frame: pd.DataFrame, lang: str = "sv") -> str | None:
    """The input with the largest swing in a :func:`~balans.analysis.tornado` frame."""
    if frame.empty or frame.swing_mkr.iloc[0] < _SHOWN_MKR:
        return None
    r = frame.iloc[0]
    return _t("risk_tornado", lang).format(
        year=int(r.year),
        input=(r.label_sv if lang == "sv" else r.label_en).lower(),
        range=range_text(r.low, r.high, r.unit, lang),
        dev_low=money(r.deviation_low_mkr, lang, signed=True),
        dev_high=money(r.deviation_high_mkr, lang, signed=True),
    )


def risk_sentences(
    result: Result,
    lang: str = "sv",
    *,
    warnings: list[FeasibilityWarning] | None = None,
    monte_carlo: MonteCarloResult | None = None,
    tornado_frame: pd.DataFrame | None = None,
) -> list[str]:
    """The feasibility warnings, then realisation, uncertainty and sensitivity, for the
    horizon's last year."""
    year = result.engine.years[-1]
    warnings = check_feasibility(result) if warnings is None else warnings
    out = [w.message(lang) for w in warnings] or [_t("risk_none", lang)]
    for s in (
        realisation_risk_sentence(result, year, lang),
        monte_carlo_sentence(monte_carlo, year, lang) if monte_carlo is not None else None,
        tornado_sentence(tornado_frame, lang) if tornado_frame is not None else None,
    ):
        if s:
            out.append(s)
    return out


# --------------------------------------------------------------------------- the summary


def period_text(case, lang: str = "sv") -> str:
    """The run-rate's months with actuals, e.g. ``januari–april 2023`` (``januari 2023`` for
    one month, ``januari–december 2024`` for a full year): the case's own months."""
    names = labels(lang)["narrative"]["months"]
    (y0, m0), (y1, m1) = case.months[case.ytd_start_index], case.cutoff
    if (y0, m0) == (y1, m1):
        return f"{names[m1 - 1]} {y1}"
    start = names[m0 - 1] if y0 == y1 else f"{names[m0 - 1]} {y0}"
    return f"{start}–{names[m1 - 1]} {y1}"


@dataclass(frozen=True)
class SummaryBlock:
    """One part of the summary, kept as what it is (the faces render it; nothing has to
    guess a heading back from text): ``kind`` is title, description, changes, result,
    risks or stamp; ``items`` a list (the risks), else ``text`` a paragraph."""

    kind: str
    text: str = ""
    heading: str = ""
    items: tuple[str, ...] = ()

    def as_text(self) -> str:
        body = "\n".join(f"- {x}" for x in self.items) if self.items else self.text
        return f"{self.heading}\n{body}" if self.heading else body

    def as_html(self) -> str:
        head = f"<h4>{html.escape(self.heading)}</h4>" if self.heading else ""
        if self.items:
            return (
                head + "<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in self.items) + "</ul>"
            )
        return head + f"<p>{html.escape(self.text)}</p>"


def summary_blocks(
    result: Result,
    lang: str = "sv",
    *,
    monte_carlo: MonteCarloResult | None = None,
    sensitivity: bool = True,
) -> list[SummaryBlock]:
    """The board-paper summary as its parts: title, description, what changes, the result
    per year, the largest effects, the risks and the stamp. ``monte_carlo``: add the
    uncertainty (run :func:`~balans.analysis.monte_carlo` first); ``sensitivity``: add the
    tornado's largest input (one small batch)."""
    sc = result.scenario
    year = result.engine.years[-1]
    blocks = [SummaryBlock("title", _t("title", lang).format(name=sc.name))]
    if sc.description:
        blocks.append(SummaryBlock("description", " ".join(sc.description.split())))
    changes = lever_sentences(result, lang) if not sc.is_baseline else []
    blocks.append(
        SummaryBlock(
            "changes",
            " ".join(changes)
            or _t("no_changes", lang).format(period=period_text(result.case, lang)),
            heading=_t("heading_changes", lang),
        )
    )
    body = result_sentences(result, lang)
    if not sc.is_baseline:
        body.append(largest_effects_sentence(result, year, lang))
    blocks.append(SummaryBlock("result", " ".join(body), heading=_t("heading_result", lang)))
    frame = tornado(sc, result.case, year=year) if sensitivity else None
    risks = risk_sentences(result, lang, monte_carlo=monte_carlo, tornado_frame=frame)
    blocks.append(SummaryBlock("risks", heading=_t("heading_risks", lang), items=tuple(risks)))
    blocks.append(SummaryBlock("stamp", label("summary.stamp", lang).format(**result.stamp)))
    return blocks


def scenario_summary(
    result: Result,
    lang: str = "sv",
    *,
    monte_carlo: MonteCarloResult | None = None,
    sensitivity: bool = True,
) -> str:
    """The summary (:func:`summary_blocks`) as plain text, for the terminal and notebooks."""
    blocks = summary_blocks(result, lang, monte_carlo=monte_carlo, sensitivity=sensitivity)
    return "\n\n".join(b.as_text() for b in blocks)


# --------------------------------------------------------------------------- goal seek


def lever_name(path: str, lang: str = "sv") -> str:
    """The lever's name in words, e.g. ``personalneddragningen`` (the registry's
    :attr:`~balans.model.levers.Lever.name_key`; a path the registry does not know, as it is)."""
    lever = BY_PATH.get(path)
    return path if lever is None else label(lever.name_key, lang)


def lever_value_text(value: float, unit: str, lang: str = "sv") -> str:
    """A lever value with its unit: ``6,25 %``, ``9 % per år``, ``884,2 mkr per år``."""
    if unit == "pct":
        return pct_auto(value, lang, 2)
    if unit == "pct_per_year":
        return f"{pct_auto(value, lang, 2)} {_t('per_year', lang)}"
    if unit == "mkr_per_year":
        return f"{money(value, lang)} {_t('per_year', lang)}"
    return number(value, 2, lang)  # pragma: no cover - every goal lever has one of the above


def goal_seek_text(gs: GoalSeekResult, lang: str = "sv") -> str:
    """The goal seek's answer in plain words: the value, or that the bounds do not allow the
    target, the closest they allow and what is left."""
    f = lambda v: money(v, lang, signed=True)  # noqa: E731
    values = {p: lever_value_text(v, gs.units[p], lang) for p, v in gs.best_values.items()}
    listed = ", ".join(f"{lever_name(p, lang)} {v}" for p, v in values.items())
    target = money(gs.target_mkr, lang, signed=True)
    common = {"year": gs.year, "target": target, "deviation": f(gs.deviation_mkr)}
    key = "narrative.goal_seek." + ("reachable" if gs.reachable else "unreachable")
    if gs.proportional:
        return label(key + "_many", lang).format(
            **common,
            share=pct_auto(gs.best_value, lang),
            list=listed,
            levers=join_words([lever_name(p, lang) for p in gs.levers], lang),
            start_deviation=f(gs.start_deviation_mkr),
            remaining=money(gs.remaining_mkr, lang),
        )
    p = gs.levers[0]
    lo, hi = gs.bounds[p]
    return label(key, lang).format(
        **common,
        lever=lever_name(p, lang),
        value=values[p],
        best=f"{lever_name(p, lang)} {values[p]}",
        start=lever_value_text(gs.start_values[p], gs.units[p], lang),
        start_deviation=f(gs.start_deviation_mkr),
        low=lever_value_text(lo, gs.units[p], lang),
        high=lever_value_text(hi, gs.units[p], lang),
        remaining=money(gs.remaining_mkr, lang),
    )
