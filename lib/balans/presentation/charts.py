"""Chart builders: each takes a :class:`~balans.model.api.Result` and returns an Altair chart.

The app, the workbench and the report draw the same charts from these functions; the
tests check their specs (marks, encodings, titles, number formats). Labels come from
``locale/<lang>.yaml``; numbers use the language's decimal mark and thousands separator
(Vega's locale config); the palette (Okabe & Ito) stays distinguishable for colour-blind
readers, and lines differ in dash as well as colour.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from balans.model.api import Result
from balans.model.engine import STEPS
from balans.presentation.fmt import label, mkr, month_name, pct

# Okabe & Ito, "Color Universal Design": safe for the common colour-vision deficiencies.
BLUE, ORANGE, GREEN, VERMILLION, SKY, PURPLE, GREY, BLACK = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#56B4E9",
    "#CC79A7",
    "#7F7F7F",
    "#000000",
)
BETTER, WORSE, TOTAL = BLUE, VERMILLION, GREY

_NUMBER_LOCALE = {
    "sv": {
        "decimal": ",",
        "thousands": "\u00a0",
        "grouping": [3],
        "currency": ["", "\u00a0kr"],
        "minus": "\u2212",
    },
    "en": {
        "decimal": ".",
        "thousands": ",",
        "grouping": [3],
        "currency": ["", " SEK"],
        "minus": "-",
    },
}
_TIME_LOCALE = {
    "sv": {
        "dateTime": "%A den %d %B %Y %X",
        "date": "%Y-%m-%d",
        "time": "%H:%M:%S",
        "periods": ["fm", "em"],
        "days": ["söndag", "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag"],
        "shortDays": ["sön", "mån", "tis", "ons", "tor", "fre", "lör"],
        "months": [
            "januari",
            "februari",
            "mars",
            "april",
            "maj",
            "juni",
            "juli",
            "augusti",
            "september",
            "oktober",
            "november",
            "december",
        ],
        "shortMonths": [
            "jan",
            "feb",
            "mar",
            "apr",
            "maj",
            "jun",
            "jul",
            "aug",
            "sep",
            "okt",
            "nov",
            "dec",
        ],
    },
    "en": {
        "dateTime": "%x, %X",
        "date": "%-m/%-d/%Y",
        "time": "%-I:%M:%S %p",
        "periods": ["AM", "PM"],
        "days": ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
        "shortDays": ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
        "months": [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        "shortMonths": [
            "Jan",
            "Feb",
            "Mar",
            "Apr",
            "May",
            "Jun",
            "Jul",
            "Aug",
            "Sep",
            "Oct",
            "Nov",
            "Dec",
        ],
    },
}
WIDTH, HEIGHT = 520, 240

# vega-embed's menu without the links to the online Vega editor (nothing leaves the machine)
EMBED_OPTIONS = {"actions": {"export": True, "source": False, "compiled": False, "editor": False}}


def render_offline() -> None:
    """Draw every chart a notebook shows with no network: Altair's ``jupyter`` renderer,
    each chart a JupyterChart widget whose Vega, Vega-Lite and vega-embed come from the
    bundle vl-convert ships, not from a CDN. Altair's default renderer loads them from
    cdn.jsdelivr.net, which fails on a machine without internet ("Error loading script"),
    and JupyterLab's own Vega extension draws only Vega-Lite 5, not this Altair's 6.
    The workbench calls it in its first cell; it needs JupyterLab's widget manager."""
    alt.renderers.enable("jupyter", offline=True, embed_options=EMBED_OPTIONS)


def chart_label(key: str, lang: str) -> str:
    return label(f"charts.{key}", lang)


def style(chart: alt.TopLevelMixin, lang: str = "sv") -> alt.TopLevelMixin:
    """The house style: the language's number and month format, font and sizes. Legend
    labels are never cut with an ellipsis (Vega's default limit is 160 px, too short for
    "Avropade men ej levererade hyrtimmar"); a chart wider than its place in the app
    shrinks to fit instead."""
    return (
        chart.configure(
            locale={"number": _NUMBER_LOCALE[lang], "time": _TIME_LOCALE[lang]},
            font="Source Sans Pro, Helvetica, Arial, sans-serif",
        )
        .configure_view(stroke=None)
        .configure_legend(labelLimit=0)
    )


def _month_dates(months: pd.Series) -> pd.Series:
    return pd.to_datetime(months + "-01")


# --------------------------------------------------------------------------- forecast vs budget


def forecast_frame(
    result: Result, year: int | None = None, cumulative: bool = True, lang: str = "sv"
) -> pd.DataFrame:
    """Long table for the forecast chart: one row per month and series (mkr), with the
    figure's ``basis`` (document, derived, forecast: :func:`balans.model.api.figure_basis`) and
    its tooltip text."""
    m = result.monthly_frame()
    if year is not None:
        m = m[m.year == year]
    pre = "cumulative_" if cumulative else ""
    rows = []
    last_actual = m[m.is_actual].month.max() if m.is_actual.any() else None
    for r in m.itertuples():
        date = pd.Timestamp(r.month + "-01")
        net = getattr(r, pre + "net_mkr")
        kind = "actual" if r.is_actual else "forecast"
        actual_basis = getattr(r, pre + "actual_basis")
        rows.append({"date": date, "series": kind, "value_mkr": net, "basis": actual_basis})
        if kind == "actual" and r.month == last_actual:  # join the lines
            rows.append(
                {"date": date, "series": "forecast", "value_mkr": net, "basis": actual_basis}
            )
        rows.append(
            {
                "date": date,
                "series": "budget",
                "value_mkr": getattr(r, pre + "budget_net_mkr"),
                "basis": getattr(r, pre + "budget_basis"),
            }
        )
        if (
            not r.is_actual or r.month == last_actual
        ):  # the baseline is the actuals up to the cut-off
            rows.append(
                {
                    "date": date,
                    "series": "baseline",
                    "value_mkr": getattr(r, pre + "baseline_net_mkr"),
                    "basis": actual_basis,
                }
            )
    df = pd.DataFrame(rows)
    df["basis_text"] = df.basis.map(lambda c: label(f"basis.tooltip.{c}", lang))
    names = {
        "actual": label("lines.actual", lang),
        "forecast": label("lines.forecast", lang),
        "budget": label("lines.budget", lang),
        "baseline": label("lines.baseline", lang),
    }
    df["serie"] = df.series.map(names)
    df["text"] = [mkr(v, 0, lang) for v in df.value_mkr]
    return df


def forecast_vs_budget_chart(
    result: Result, year: int | None = None, cumulative: bool = True, lang: str = "sv"
) -> alt.TopLevelMixin:
    """Net result per month (cumulative within the year by default): actuals as a solid line
    with points, the forecast dashed, the budget and the baseline in grey."""
    df = forecast_frame(result, year, cumulative, lang)
    order = [label(f"lines.{k}", lang) for k in ("actual", "forecast", "budget", "baseline")]
    colour = alt.Color(
        "serie:N",
        title=None,
        scale=alt.Scale(domain=order, range=[BLACK, BLUE, ORANGE, GREY]),
        legend=alt.Legend(orient="bottom"),
    )
    dash = alt.StrokeDash(
        "serie:N",
        scale=alt.Scale(domain=order, range=[[1, 0], [6, 3], [1, 0], [2, 2]]),
        legend=None,
    )
    base = alt.Chart(df).encode(
        x=alt.X(
            "date:T", title=None, axis=alt.Axis(format="%b %Y", labelAngle=0, tickCount="month")
        ),
        y=alt.Y(
            "value_mkr:Q",
            title=f"{label('lines.net_cost', lang)}, {label('unit_mkr', lang)}",
            scale=alt.Scale(zero=cumulative),
            axis=alt.Axis(format=",.0f"),
        ),
        color=colour,
        tooltip=[
            alt.Tooltip("serie:N", title=chart_label("series", lang)),
            alt.Tooltip("date:T", format="%B %Y", title=chart_label("month", lang)),
            alt.Tooltip("text:N", title=label("unit_mkr", lang)),
            alt.Tooltip("basis_text:N", title=label("basis.column", lang)),
        ],
    )
    lines = base.mark_line(strokeWidth=2.5).encode(strokeDash=dash)
    points = base.transform_filter(alt.datum.series == "actual").mark_point(filled=True, size=50)
    key = "forecast_title_cumulative" if cumulative else "forecast_title_monthly"
    title = chart_label(key, lang) + (f" {year}" if year else "")
    return style(alt.layer(lines, points).properties(title=title, width=WIDTH, height=HEIGHT), lang)


# --------------------------------------------------------------------------- bridge


def bridge_frame(
    result: Result, year: int, lang: str = "sv", min_abs_mkr: float = 0.05
) -> pd.DataFrame:
    """The waterfall's bars: the baseline, every step that moves, the scenario forecast."""
    years = result.years_frame().set_index("year")
    b = result.bridge_frame()
    b = b[b.year == year].set_index("step").effect_mkr
    base = float(years.loc[year, "baseline_net_mkr"])
    rows = [
        {
            "label": label("lines.baseline", lang),
            "start": 0.0,
            "end": base,
            "kind": "total",
            "value_mkr": base,
        }
    ]
    level = base
    for s in STEPS:
        e = float(b[s])
        if abs(e) < min_abs_mkr:
            continue
        rows.append(
            {
                "label": label(f"steps.{s}", lang),
                "start": level,
                "end": level + e,
                "kind": "better" if e > 0 else "worse",
                "value_mkr": e,
            }
        )
        level += e
    final = float(years.loc[year, "forecast_net_mkr"])
    rows.append(
        {
            "label": label("lines.forecast", lang),
            "start": 0.0,
            "end": final,
            "kind": "total",
            "value_mkr": final,
        }
    )
    df = pd.DataFrame(rows)
    df["order"] = range(len(df))
    df["text"] = [
        mkr(v, 1, lang, signed=(k != "total")) for v, k in zip(df.value_mkr, df.kind, strict=True)
    ]
    df["kind_label"] = df.kind.map(
        {k: chart_label(f"bridge_{k}", lang) for k in ("total", "better", "worse")}
    )
    return df


def bridge_chart(result: Result, year: int, lang: str = "sv") -> alt.TopLevelMixin:
    """Waterfall from the baseline through each lever to the scenario's full-year forecast."""
    df = bridge_frame(result, year, lang)
    kinds = [chart_label(f"bridge_{k}", lang) for k in ("total", "better", "worse")]
    lo = min(df.start.min(), df.end.min()) if (df.kind != "total").any() else df.end.min()
    hi = max(
        df[df.kind != "total"][["start", "end"]].max().max()
        if (df.kind != "total").any()
        else df.end.max(),
        df.end.max(),
    )
    pad = max((hi - lo) * 0.15, 10.0)
    scale = alt.Scale(domain=[lo - pad, hi + pad], zero=False)
    totals_start = df.kind == "total"
    df.loc[totals_start, "start"] = lo - pad  # total bars rise from the bottom of the visible scale
    base = alt.Chart(df).encode(
        x=alt.X(
            "label:N",
            sort=alt.SortField("order"),
            title=None,
            axis=alt.Axis(labelAngle=-30, labelLimit=160),
        )
    )
    bars = base.mark_bar(size=34).encode(
        y=alt.Y(
            "start:Q",
            scale=scale,
            title=f"{label('lines.net_cost', lang)}, {label('unit_mkr', lang)}",
            axis=alt.Axis(format=",.0f"),
        ),
        y2="end:Q",
        color=alt.Color(
            "kind_label:N",
            title=None,
            scale=alt.Scale(domain=kinds, range=[TOTAL, BETTER, WORSE]),
            legend=alt.Legend(orient="bottom"),
        ),
        tooltip=[
            alt.Tooltip("label:N", title=chart_label("step", lang)),
            alt.Tooltip("text:N", title=label("unit_mkr", lang)),
        ],
    )
    text = (
        base.mark_text(dy=-8, fontSize=11)
        .encode(y=alt.Y("top:Q", scale=scale), text="text:N")
        .transform_calculate(top="max(datum.start, datum.end)")
    )
    return style(
        alt.layer(bars, text).properties(
            title=f"{chart_label('bridge_title', lang)} {year}", width=WIDTH, height=HEIGHT
        ),
        lang,
    )


# --------------------------------------------------------------------------- staffing and access


def agency_share_chart(result: Result, lang: str = "sv") -> alt.TopLevelMixin:
    """Agency cost as a share of own personnel cost per month, against the target."""
    s = result.staffing_frame()
    df = pd.DataFrame(
        {"date": _month_dates(s.month), "share_pct": s.agency_share_pct, "actual": s.is_actual}
    )
    target = float(s.agency_share_target_pct.iloc[0])
    df["text"] = [pct(v, 1, lang) for v in df.share_pct]
    line = (
        alt.Chart(df)
        .mark_line(color=BLUE, strokeWidth=2.5, point=True)
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format="%b %Y", labelAngle=0)),
            y=alt.Y(
                "share_pct:Q",
                title=chart_label("share_axis", lang),
                scale=alt.Scale(zero=True),
                axis=alt.Axis(format=",.1f"),
            ),
            tooltip=[
                alt.Tooltip("date:T", format="%B %Y", title=chart_label("month", lang)),
                alt.Tooltip("text:N", title=chart_label("share", lang)),
            ],
        )
    )
    rule_df = pd.DataFrame(
        {
            "target_pct": [target],
            "text": [f"{label('staffing.target', lang)} {pct(target, 1, lang)}"],
        }
    )
    rule = (
        alt.Chart(rule_df)
        .mark_rule(color=VERMILLION, strokeDash=[6, 3], strokeWidth=2)
        .encode(y="target_pct:Q")
    )
    rule_text = (
        alt.Chart(rule_df)
        .mark_text(align="left", dx=4, dy=-6, color=VERMILLION)
        .encode(y="target_pct:Q", text="text:N", x=alt.value(0))
    )
    return style(
        alt.layer(line, rule, rule_text).properties(
            title=label("staffing.agency_share", lang), width=WIDTH, height=200
        ),
        lang,
    )


def staffing_chart(result: Result, lang: str = "sv") -> alt.TopLevelMixin:
    """Own FTE (line) beside agency hours per category (stacked bars), per month."""
    s = result.staffing_frame()
    cats = [c for c in result.case.agency]
    dates = _month_dates(s.month)
    hours = pd.concat(
        [
            pd.DataFrame(
                {
                    "date": dates,
                    "category": (c.name_sv if lang == "sv" else c.name_en),
                    "hours": s[f"{c.id}_agency_hours"],
                }
            )
            for c in cats
        ],
        ignore_index=True,
    )
    names = [c.name_sv if lang == "sv" else c.name_en for c in cats]
    bars = (
        alt.Chart(hours)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(date):T", title=None, axis=alt.Axis(format="%b %Y", labelAngle=-45)),
            y=alt.Y(
                "sum(hours):Q",
                title=label("staffing.agency_hours", lang),
                axis=alt.Axis(format=",.0f"),
            ),
            color=alt.Color(
                "category:N",
                title=None,
                scale=alt.Scale(domain=names, range=[BLUE, ORANGE, GREEN, PURPLE][: len(names)]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("category:N", title=chart_label("category", lang)),
                alt.Tooltip("sum(hours):Q", format=",.0f", title=chart_label("hours", lang)),
            ],
        )
        .properties(title=label("staffing.agency_hours", lang), width=WIDTH // 2, height=200)
    )
    fte = (
        alt.Chart(pd.DataFrame({"date": dates, "own_fte": s.own_fte}))
        .mark_line(color=BLACK, strokeWidth=2.5, point=True)
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format="%b %Y", labelAngle=-45)),
            y=alt.Y(
                "own_fte:Q",
                title=label("staffing.own_fte", lang),
                scale=alt.Scale(zero=False),
                axis=alt.Axis(format=",.0f"),
            ),
            tooltip=[
                alt.Tooltip("date:T", format="%B %Y", title=chart_label("month", lang)),
                alt.Tooltip("own_fte:Q", format=",.0f", title=label("staffing.own_fte", lang)),
            ],
        )
        .properties(title=label("staffing.own_fte", lang), width=WIDTH // 2, height=200)
    )
    return style(alt.hconcat(fte, bars).resolve_scale(color="independent"), lang)


def access_chart(result: Result, lang: str = "sv") -> alt.TopLevelMixin:
    """Care hours not delivered per month, by reason (stacked bars)."""
    a = result.access_frame()
    reasons = (
        "agency_not_replaced_hours",
        "agency_fill_shortfall_hours",
        "rest_rule_uncovered_hours",
    )
    names = [chart_label(r, lang) for r in reasons]
    df = pd.concat(
        [
            pd.DataFrame({"date": _month_dates(a.month), "reason": n, "hours": a[r]})
            for r, n in zip(reasons, names, strict=True)
        ],
        ignore_index=True,
    )
    chart = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(date):T", title=None, axis=alt.Axis(format="%b %Y", labelAngle=-45)),
            y=alt.Y("sum(hours):Q", title=chart_label("hours", lang), axis=alt.Axis(format=",.0f")),
            color=alt.Color(
                "reason:N",
                title=None,
                scale=alt.Scale(domain=names, range=[VERMILLION, ORANGE, PURPLE]),
                legend=alt.Legend(orient="bottom", columns=1),
            ),
            tooltip=[
                alt.Tooltip("reason:N", title=chart_label("reason", lang)),
                alt.Tooltip("sum(hours):Q", format=",.0f", title=chart_label("hours", lang)),
            ],
        )
        .properties(title=label("access.not_delivered_hours", lang), width=WIDTH, height=200)
    )
    return style(chart, lang)


def comparison_chart(frame: pd.DataFrame, lang: str = "sv") -> alt.TopLevelMixin:
    """Deviation from budget per scenario and year (bars), from :func:`balans.model.api.compare_frame`."""
    df = frame.copy()
    df["text"] = [mkr(v, 0, lang, signed=True) for v in df.deviation_mkr]
    df["year"] = df.year.astype(str)
    years = sorted(df.year.unique())
    chart = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y(
                "name:N", title=None, sort=alt.SortField("scenario"), axis=alt.Axis(labelLimit=320)
            ),
            yOffset=alt.YOffset("year:N", sort=years),
            x=alt.X(
                "deviation_mkr:Q",
                title=f"{label('lines.deviation', lang)}, {label('unit_mkr', lang)}",
                axis=alt.Axis(format=",.0f"),
            ),
            color=alt.Color(
                "year:N",
                title=None,
                scale=alt.Scale(domain=years, range=[SKY, BLUE, ORANGE, GREEN][: len(years)]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("name:N", title=chart_label("series", lang)),
                alt.Tooltip("year:N"),
                alt.Tooltip("text:N", title=label("lines.deviation", lang)),
            ],
        )
        .properties(title=chart_label("comparison_title", lang), width=WIDTH, height=alt.Step(14))
    )
    rule = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color=BLACK).encode(x="x:Q")
    return style(alt.layer(chart, rule), lang)


# --------------------------------------------------------------------------- scenarios side by side

# the current setting, then the two compared scenarios; the budget in grey. Lines differ in
# dash as well as colour, bars carry their figure as text: colour is never the only signal.
COMPARE_COLOURS = [BLUE, ORANGE, GREEN]
COMPARE_DASHES = [[1, 0], [6, 3], [2, 2]]


def compare_bridge_chart(entries: list, year: int, lang: str = "sv") -> alt.TopLevelMixin:
    """The bridge of each compared entry (:class:`balans.analysis.compare.Entry`) side by side: one
    group of bars per step that moves in any of them, and the total change against the
    baseline, each bar labelled with its figure."""
    from balans.analysis.compare import bridge_frame

    df = bridge_frame(entries, year, lang)
    df["shown"] = [t if abs(v) >= 0.05 else "" for t, v in zip(df.text, df.effect_mkr, strict=True)]
    names = [e.name for e in entries]
    steps = list(dict.fromkeys(df.sort_values("order").label))
    t = lambda k: label(f"compare.{k}", lang)  # noqa: E731
    base = alt.Chart(df).encode(
        y=alt.Y("label:N", sort=steps, title=None, axis=alt.Axis(labelLimit=220)),
        yOffset=alt.YOffset("entry:N", sort=names),
        x=alt.X(
            "effect_mkr:Q",
            title=t("bridge_axis"),
            axis=alt.Axis(format=",.0f"),
            scale=alt.Scale(nice=True, padding=30),
        ),
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "entry:N",
            title=None,
            sort=names,
            scale=alt.Scale(domain=names, range=COMPARE_COLOURS[: len(names)]),
            legend=alt.Legend(orient="bottom", direction="vertical"),
        ),
        tooltip=[
            alt.Tooltip("entry:N", title=t("series")),
            alt.Tooltip("label:N", title=chart_label("step", lang)),
            alt.Tooltip("text:N", title=label("unit_mkr", lang)),
        ],
    )
    text = (
        base.mark_text(align="left", dx=4, fontSize=10)
        .encode(text="shown:N", x=alt.X("label_x:Q"))
        .transform_calculate(label_x="max(datum.effect_mkr, 0)")
    )
    rule = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color=BLACK).encode(x="x:Q")
    return style(
        alt.layer(bars, text, rule).properties(
            title=label("compare.bridge_title", lang).format(year=year),
            width=WIDTH,
            height=alt.Step(13),
        ),
        lang,
    )


def compare_monthly_chart(entries: list, year: int, lang: str = "sv") -> alt.TopLevelMixin:
    """The cumulative deviation from the periodised budget month by month of ``year`` for
    each compared entry (actuals, then forecast, as one line), against the budget at zero:
    where the lines part shows when and by how much the scenarios differ."""
    from balans.analysis.compare import monthly_frame

    df = monthly_frame(entries, year, lang)
    names = [e.name for e in entries]
    colours, dashes = COMPARE_COLOURS[: len(names)], COMPARE_DASHES[: len(names)]
    t = lambda k: label(f"compare.{k}", lang)  # noqa: E731
    lines = (
        alt.Chart(df)
        .mark_line(strokeWidth=2.5)
        .encode(
            x=alt.X(
                "date:T",
                title=None,
                axis=alt.Axis(format="%b", labelAngle=0, tickCount="month"),
            ),
            y=alt.Y("deviation_mkr:Q", title=t("monthly_axis"), axis=alt.Axis(format=",.0f")),
            color=alt.Color(
                "entry:N",
                title=None,
                sort=names,
                scale=alt.Scale(domain=names, range=colours),
                legend=alt.Legend(
                    orient="bottom", direction="vertical", symbolType="stroke", symbolStrokeWidth=3
                ),
            ),
            strokeDash=alt.StrokeDash(
                "entry:N", sort=names, scale=alt.Scale(domain=names, range=dashes), title=None
            ),
            tooltip=[
                alt.Tooltip("entry:N", title=t("series")),
                alt.Tooltip("date:T", format="%B %Y", title=chart_label("month", lang)),
                alt.Tooltip("text:N", title=t("monthly_axis")),
            ],
        )
    )
    budget = (
        alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color=GREY, strokeWidth=2).encode(y="y:Q")
    )
    return style(
        alt.layer(budget, lines).properties(
            title=t("monthly_title").format(year=year), width=WIDTH, height=HEIGHT
        ),
        lang,
    )


def forecast_curve_chart(vintages: pd.DataFrame, year: int, lang: str = "sv") -> alt.TopLevelMixin:
    """The forecast curve (prognoskurva) of ``year``: the full-year forecast at each close
    (the model's baseline as a line, the board's own as points) against the budget and,
    once the year is closed, the outcome (rules), from :func:`balans.analysis.closes.vintages_frame`."""
    v = vintages[vintages.year == year].sort_values("cutoff")
    closes = [month_name(c, lang) for c in v.cutoff]
    model = label("closes.series.model", lang)
    board = label("closes.series.board", lang)
    rows = [
        {"close": d, "value": x, "series": model, "text": mkr(x, 0, lang)}
        for d, x in zip(closes, v.forecast_net_mkr, strict=True)
    ] + [
        {"close": d, "value": x, "series": board, "text": mkr(x, 0, lang)}
        for d, x in zip(closes, v.board_forecast_net_mkr, strict=True)
        if x is not None and x == x
    ]
    domain, palette = [model, board], [BLUE, ORANGE]
    if "scenario_net_mkr" in v:
        scen = vintages.attrs.get("scenario_name") or label("closes.series.scenario", lang)
        rows += [
            {"close": d, "value": x, "series": scen, "text": mkr(x, 0, lang)}
            for d, x in zip(closes, v.scenario_net_mkr, strict=True)
            if x is not None and x == x
        ]
        domain, palette = [model, scen, board], [BLUE, GREEN, ORANGE]
    df = pd.DataFrame(rows)
    colors = alt.Scale(domain=domain, range=palette)
    x = alt.X(
        "close:O",
        sort=closes,
        title=label("closes.col.cutoff", lang),
        axis=alt.Axis(labelAngle=0),
        scale=alt.Scale(padding=0.3),
    )
    y = alt.Y(
        "value:Q",
        title=f"{label('lines.forecast', lang)} {year}, {label('unit_mkr', lang)}",
        scale=alt.Scale(zero=False, padding=12),
        axis=alt.Axis(format=",.0f"),
    )
    tip = [
        alt.Tooltip("series:N", title=chart_label("series", lang)),
        alt.Tooltip("close:O", title=label("closes.col.cutoff", lang)),
        alt.Tooltip("text:N", title=label("lines.forecast", lang)),
    ]
    base = alt.Chart(df).encode(x=x, y=y, color=alt.Color("series:N", scale=colors, title=None))
    line = base.transform_filter(alt.datum.series != board).mark_line(point=True)
    points = base.transform_filter(alt.datum.series == board).mark_point(
        size=80, filled=True, shape="diamond"
    )
    layers = [line.encode(tooltip=tip), points.encode(tooltip=tip)]
    refs = [(label("lines.budget", lang), float(v.budget_net_mkr.iloc[-1]), GREY)]
    outcome = v.outcome_net_mkr.dropna()
    if len(outcome):
        refs.append((label("closes.col.outcome", lang), float(outcome.iloc[-1]), BLACK))
    for name, value, color in refs:
        ref = pd.DataFrame({"value": [value], "name": [f"{name} {mkr(value, 0, lang)}"]})
        rule = alt.Chart(ref).mark_rule(color=color, strokeDash=[4, 3]).encode(y="value:Q")
        text = (
            alt.Chart(ref)
            .mark_text(align="left", dx=4, dy=-6, color=color)
            .encode(y="value:Q", text="name:N", x=alt.value(0))
        )
        layers += [rule, text]
    chart = alt.layer(*layers).properties(
        title=label("closes.curve_title", lang).format(year=year), width=WIDTH, height=HEIGHT
    )
    return style(chart.configure_legend(orient="bottom"), lang)


def spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The Vega-Lite spec as a dict (for tests and for vl-convert)."""
    return chart.to_dict()
