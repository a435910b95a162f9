"""Charts of the analyses: the Monte Carlo fan chart and the tornado.

Builders in the style of :mod:`balans.presentation.charts`: each takes the analysis result (or its
frame) and returns an Altair chart with Swedish titles and labels by default (``lang``),
the language's number format and the Okabe & Ito colour-blind-safe palette. The figures
come from :mod:`balans.analysis`; nothing is computed here but the layout.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from balans.analysis import FAN_METRICS, MonteCarloResult
from balans.presentation.charts import BLACK, BLUE, GREY, HEIGHT, ORANGE, SKY, WIDTH, style
from balans.presentation.fmt import label, mkr, number, pct


def _c(key: str, lang: str) -> str:
    return label(f"narrative.charts.{key}", lang)


def _value_text(value: float, unit: str, lang: str) -> str:
    if unit == "mkr":
        return mkr(value, 1, lang)
    if unit == "pct":
        return pct(value, 1, lang)
    return number(value, 1 if unit == "fte" else 0, lang)


# --------------------------------------------------------------------------- fan chart


def fan_chart_frame(
    mc: MonteCarloResult | pd.DataFrame,
    metric: str = "cumulative_deviation_mkr",
    lang: str = "sv",
    year: int | None = None,
) -> pd.DataFrame:
    """Long table for the fan chart: per month the band (P10, P90) and one row per line
    (median, deterministic), with the texts for the tooltip."""
    fan = mc.fan_frame(metric) if isinstance(mc, MonteCarloResult) else mc
    metric = fan.attrs.get("metric", metric)
    unit = fan.attrs.get("unit", FAN_METRICS[metric][0])
    if year is not None:
        fan = fan[fan.year == year]
    rows = []
    for r in fan.itertuples():
        date = pd.Timestamp(r.month + "-01")
        band = f"{_value_text(r.p10, unit, lang)} – {_value_text(r.p90, unit, lang)}"
        for series, value in (("median", r.p50), ("deterministic", r.deterministic)):
            rows.append(
                {
                    "date": date,
                    "month": r.month,
                    "year": r.year,
                    "series": series,
                    "serie": _c(series, lang),
                    "value": value,
                    "p10": r.p10,
                    "p90": r.p90,
                    "text": _value_text(value, unit, lang),
                    "band_text": band,
                }
            )
    df = pd.DataFrame(rows)
    df.attrs.update(metric=metric, unit=unit, n_draws=fan.attrs.get("n_draws"))
    return df


def fan_chart(
    mc: MonteCarloResult | pd.DataFrame,
    metric: str = "cumulative_deviation_mkr",
    lang: str = "sv",
    year: int | None = None,
) -> alt.TopLevelMixin:
    """P10-P90 band around the median per month, the deterministic result dashed, and
    the budget (zero) as a grey rule for the deviation. ``mc``: a
    :class:`~balans.analysis.MonteCarloResult` or its ``fan_frame(metric)``."""
    df = fan_chart_frame(mc, metric, lang, year)
    metric, unit = df.attrs["metric"], df.attrs["unit"]
    names = [_c(k, lang) for k in ("band", "median", "deterministic")]
    colour_scale = alt.Scale(domain=names, range=[SKY, BLUE, BLACK])
    x = alt.X("date:T", title=_c("month", lang), axis=alt.Axis(format="%b %Y", labelAngle=0))
    y_title = label(f"narrative.charts.fan_axis.{metric}", lang)
    fmt = ",.1f" if unit in ("pct", "fte") else ",.0f"
    band_df = df[df.series == "median"].assign(band=names[0])
    band = (
        alt.Chart(band_df)
        .mark_area(opacity=0.4)
        .encode(
            x=x,
            y=alt.Y("p10:Q", title=y_title, axis=alt.Axis(format=fmt)),
            y2="p90:Q",
            detail="year:O",  # each year its own band (the cumulative figures restart)
            color=alt.Color(
                "band:N", title=None, scale=colour_scale, legend=alt.Legend(orient="bottom")
            ),
            tooltip=[
                alt.Tooltip("month:N", title=_c("month", lang)),
                alt.Tooltip("band_text:N", title=_c("band", lang)),
            ],
        )
    )
    lines = (
        alt.Chart(df)
        .mark_line(strokeWidth=2)
        .encode(
            x=x,
            y=alt.Y("value:Q"),
            detail="year:O",
            color=alt.Color("serie:N", title=None, scale=colour_scale),
            strokeDash=alt.StrokeDash(
                "serie:N",
                scale=alt.Scale(domain=names[1:], range=[[1, 0], [6, 3]]),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("month:N", title=_c("month", lang)),
                alt.Tooltip("serie:N", title=_c("series", lang)),
                alt.Tooltip("text:N", title=_c("value", lang)),
            ],
        )
    )
    layers = [band, lines]
    if metric == "cumulative_deviation_mkr":
        zero = pd.DataFrame({"zero": [0.0]})
        layers.append(alt.Chart(zero).mark_rule(color=GREY, strokeDash=[2, 2]).encode(y="zero:Q"))
    n = df.attrs.get("n_draws")
    title = alt.Title(
        text=label(f"narrative.charts.fan_title.{metric}", lang),
        subtitle=f"{number(n, 0, lang)}\u00a0{_c('draws', lang)}" if n else "",
    )
    return style(alt.layer(*layers).properties(title=title, width=WIDTH, height=HEIGHT), lang)


# --------------------------------------------------------------------------- tornado


TORNADO_BARS_WIDTH = 360


def tornado_chart_frame(frame: pd.DataFrame, lang: str = "sv") -> pd.DataFrame:
    """Long table for the tornado: two bars per input (low end, high end), each from the
    scenario's deviation to the deviation at that end of the input's range."""
    rows = []
    for order, r in enumerate(frame.itertuples()):
        name = r.label_sv if lang == "sv" else r.label_en
        for end in ("low", "high"):
            value = getattr(r, f"value_at_{end}")
            rows.append(
                {
                    "input": name,
                    "key": r.key,
                    "order": order,
                    "end": end,
                    "end_label": _c(f"tornado_{end}", lang),
                    "start_mkr": r.deviation_base_mkr,
                    "deviation_mkr": getattr(r, f"deviation_{end}_mkr"),
                    "value_text": number(value, 2, lang),
                    "deviation_text": mkr(getattr(r, f"deviation_{end}_mkr"), 1, lang),
                    "year": r.year,
                }
            )
    return pd.DataFrame(rows)


def tornado_chart(frame: pd.DataFrame, lang: str = "sv") -> alt.TopLevelMixin:
    """Horizontal bars, largest swing on top: the year's deviation with each uncertain input
    at the low (blue) and the high (orange) end of its range. ``frame``: from
    :func:`~balans.analysis.tornado`."""
    df = tornado_chart_frame(frame, lang)
    year = int(frame.year.iloc[0]) if len(frame) else ""
    ends = [_c("tornado_low", lang), _c("tornado_high", lang)]
    chart = (
        alt.Chart(df)
        .mark_bar(size=14)
        .encode(
            y=alt.Y(
                "input:N",
                sort=list(dict.fromkeys(df.input)) if len(df) else None,
                title=None,
                axis=alt.Axis(labelLimit=0),  # never cut: the app shrinks a wide chart
            ),
            x=alt.X(
                "start_mkr:Q",
                title=_c("tornado_axis", lang).format(year=year),
                axis=alt.Axis(format=",.0f"),
                scale=alt.Scale(zero=False),
            ),
            x2="deviation_mkr:Q",
            color=alt.Color(
                "end_label:N",
                title=_c("end", lang),
                scale=alt.Scale(domain=ends, range=[BLUE, ORANGE]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("input:N", title=_c("input", lang)),
                alt.Tooltip("end_label:N", title=_c("end", lang)),
                alt.Tooltip("value_text:N", title=_c("value", lang)),
                alt.Tooltip("deviation_text:N", title=_c("deviation", lang)),
            ],
        )
        .properties(
            title=_c("tornado_title", lang).format(year=year),
            # the bars narrower than the other charts': the input names beside them take
            # about 330 px, and the whole should fit a tablet's tab (and an A4 page) unscaled
            width=TORNADO_BARS_WIDTH,
            height=max(HEIGHT, 24 * max(len(frame), 1)),
        )
    )
    return style(chart, lang)
