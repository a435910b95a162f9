"""A readable summary of a result, in Swedish (or English), for the terminal and reports."""

from __future__ import annotations

from balans.model.api import Result
from balans.model.engine import STEPS
from balans.presentation.fmt import label, mkr, number, pct


def standing_text(case, lang: str = "sv") -> str:
    """What the figures stand on: ``HSN Region Exempel. Utfall t.o.m. augusti 2025, prognos
    därefter.`` (with "Syntetiskt exempel." for a made-up case)."""
    from balans.presentation.fmt import month_name

    text = label("summary.standing", lang).format(
        case=case.short_name, month=month_name(case.cutoff, lang)
    )
    if case.synthetic:
        text = label("report.synthetic", lang) + " " + text
    return text


def summary_text(result: Result, lang: str = "sv") -> str:
    """Headline figures per year, the bridge, staffing and access, and the stamp."""
    L = lambda key: label(key, lang)  # noqa: E731
    years = result.years_frame()
    bridge = result.bridge_frame()
    staffing = result.staffing_frame()
    access = result.access_frame()
    out = [L("summary.title").format(name=result.scenario.name)]
    out.append(standing_text(result.case, lang))
    if result.scenario.description:
        out.append(result.scenario.description.strip())
    if result.scenario.is_baseline:
        out.append(L("summary.baseline_note"))
    out.append("")
    for row in years.itertuples():
        out.append(
            L("summary.year_line").format(
                year=row.year,
                forecast=mkr(row.forecast_net_mkr, lang=lang),
                budget=mkr(row.budget_net_mkr, lang=lang),
                deviation=mkr(row.deviation_mkr, lang=lang, signed=True),
            )
        )
        if (
            row.board_forecast_net_mkr is not None
            and row.board_forecast_net_mkr == row.board_forecast_net_mkr
        ):
            out.append(
                L("summary.board_line").format(
                    board=mkr(row.board_forecast_net_mkr, lang=lang),
                    made=result.case.board_forecast_made.get(row.year, "?"),
                )
            )
        if not result.scenario.is_baseline:
            out.append(
                L("summary.change_line").format(
                    change=mkr(row.change_vs_baseline_mkr, 1, lang=lang, signed=True)
                )
            )
    if not result.scenario.is_baseline:
        for row in years.itertuples():
            out.append("")
            out.append(
                L("summary.bridge_title").format(
                    year=row.year,
                    baseline=mkr(row.baseline_net_mkr, lang=lang),
                    forecast=mkr(row.forecast_net_mkr, lang=lang),
                )
            )
            steps = bridge[bridge.year == row.year].set_index("step")["effect_mkr"]
            width = max(len(L(f"steps.{s}")) for s in STEPS)
            for s in STEPS:
                if abs(steps[s]) >= 0.05:
                    out.append(
                        f"  {L(f'steps.{s}'):<{width}}  {mkr(steps[s], 1, lang=lang, signed=True):>14}"
                    )
    out.append("")
    for year in result.engine.years:
        last = staffing[staffing.year == year].iloc[-1]
        out.append(
            L("summary.staffing_line").format(
                year=year,
                own_fte=number(last.own_fte, 0, lang),
                agency_fte=number(last.agency_fte, 0, lang),
                share=pct(last.agency_share_pct, 1, lang),
                target=pct(last.agency_share_target_pct, 1, lang),
            )
        )
    for year in result.engine.years:
        hours = access.loc[access.year == year, "not_delivered_hours"].sum()
        out.append(L("summary.access_line").format(year=year, hours=number(hours, 0, lang)))
    out.append("")
    out.append(L("summary.stamp").format(**result.stamp))
    return "\n".join(out)


def season_text(engine, lang: str = "sv") -> str:
    """Where the forecast's seasonal profile comes from (the prior year's months in the
    ledger, the budget's own phasing, or none: flat), in one sentence."""
    year = engine.case.cutoff[0]
    return label(f"report.season.{engine.season_basis}", lang).format(prior=year - 1, year=year)


def signal(deviation_mkr: float, budget_mkr: float, yellow_pct: float) -> str:
    """green: at or better than budget; yellow: worse by at most ``yellow_pct`` % of the
    budget's size; red: worse than that."""
    if deviation_mkr >= 0:
        return "green"
    return "yellow" if -deviation_mkr <= abs(budget_mkr) * yellow_pct / 100 else "red"
