"""Accessibility (EN 301 549, i.e. WCAG 2.1 AA): the charts' text alternatives and the
accessibility statement (tillgänglighetsredogörelse).

Every chart gets a sentence that says what it shows (the chart's accessible name) and its
data as a table under it ("Diagrammet som tabell"): :func:`chart_text` reads both from the
chart's own data, so the app and the report say what the chart draws. The statement page
(:func:`statement_html`) follows the structure of DIGG's model and is served by
``balans app`` at ``/balans/tillganglighet`` (:mod:`balans.faces.serve_voila`).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from balans.presentation.fmt import label, labels, month_name, number

STATEMENT_PATH = "balans/tillganglighet"  # the statement's address, relative to the app's
STATEMENT_DATE = "2026-12-02"  # the date of the last review (update with the statement)
AXE_VERSION = "4.14.1"  # the axe-core the browser tests run (Makefile: AXE_VERSION)
STANDARD = "EN\u00a0301\u00a0549, WCAG\u00a02.1\u00a0AA"
DIGG_REPORT_URL = "https://www.digg.se/tdosanmalan"  # DIGG's form for reporting a service


def L(key: str, lang: str, **kw: Any) -> str:
    text = label(f"a11y.{key}", lang)
    return text.format(**kw) if kw else text


# --------------------------------------------------------------------------- charts


def _month(d: Any, lang: str) -> str:
    d = pd.Timestamp(d)
    return month_name(f"{d.year}-{d.month:02d}", lang)


def _units(chart: Any, data: Any = None) -> list[tuple[Any, pd.DataFrame]]:
    """The chart's unit charts in order (through layers and concatenations), each with its
    data (its own, or what it inherits: Altair lifts a layer's shared data to the top)."""
    own = getattr(chart, "data", None)
    data = own if isinstance(own, pd.DataFrame) else data
    for attr in ("layer", "hconcat", "vconcat"):
        parts = getattr(chart, attr, None)
        if isinstance(parts, list):
            return [u for p in parts for u in _units(p, data)]
    return [(chart, data if isinstance(data, pd.DataFrame) else pd.DataFrame())]


def _data(chart: Any, i: int = 0) -> pd.DataFrame:
    return _units(chart)[i][1]


def _title(chart: Any) -> str:
    for c in (chart, *(u for u, _ in _units(chart))):
        t = getattr(c, "title", None)
        if isinstance(t, str):
            return t
        text = getattr(t, "text", None)
        if isinstance(text, str):
            return text
    return ""


def _wide(df: pd.DataFrame, row: str, col: str, value: str, lang: str) -> pd.DataFrame:
    """Rows by month (or by ``row``'s own text), one column per series."""
    order = list(dict.fromkeys(df[col]))
    wide = df.pivot_table(index=row, columns=col, values=value, aggfunc="first", sort=True)
    wide = wide.reindex(columns=order).fillna("–")
    first = L("month", lang) if row == "date" else ""
    names = [_month(d, lang) for d in wide.index] if row == "date" else list(wide.index)
    return pd.DataFrame({first: names, **{c: list(wide[c]) for c in order}})


def _forecast(chart: Any, lang: str) -> tuple[str, pd.DataFrame]:
    df = _data(chart)
    table = _wide(df, "date", "serie", "text", lang)
    dates = sorted(df.date.unique())
    actual = df[df.series == "actual"].date
    standing = L("forecast_standing", lang, month=_month(actual.max(), lang)) if len(actual) else ""
    last = df[df.date == dates[-1]].set_index("series").text
    text = L(
        "forecast",
        lang,
        months=len(dates),
        first=_month(dates[0], lang),
        last=_month(dates[-1], lang),
        standing=standing or "",
        forecast=last.get("forecast", last.get("actual", "–")),
        budget=last.get("budget", "–"),
    )
    return " ".join(text.split(" ")).replace("  ", " "), table


def _bridge(chart: Any, lang: str) -> tuple[str, pd.DataFrame]:
    df = _data(chart)
    table = pd.DataFrame(
        {label("charts.step", lang): df.label, label("unit_mkr", lang): df.text}
    ).reset_index(drop=True)
    steps = df[df.kind != "total"]
    start, end = df.text.iloc[0], df.text.iloc[-1]
    if not len(steps):
        return L("bridge_none", lang, start=start), table
    big = steps.loc[steps.value_mkr.abs().idxmax()]
    text = L(
        "bridge",
        lang,
        start=start,
        steps=len(steps),
        end=end,
        largest=big.label[:1].lower() + big.label[1:],
        largest_value=big.text,
    )
    return text, table


def _curve(chart: Any, lang: str) -> tuple[str, pd.DataFrame]:
    df = _data(chart)
    table = _wide(df, "close", "series", "text", lang)
    closes = list(dict.fromkeys(df.close))
    table = table.set_index("").reindex(closes).reset_index()
    table.columns = [label("closes.col.cutoff", lang), *table.columns[1:]]
    refs = [str(d.name.iloc[0]) for _, d in _units(chart)[2:] if "name" in d and len(d)]
    refs = list(dict.fromkeys(refs))
    text = L(
        "curve",
        lang,
        closes=len(closes),
        first=closes[0],
        last=closes[-1],
        references=(", ".join(refs) + ".") if refs else "",
    )
    return text.strip(), table


def _share(chart: Any, lang: str) -> tuple[str, pd.DataFrame]:
    df = _data(chart)
    target = str(_data(chart, 1).text.iloc[0]) if len(_data(chart, 1)) else ""
    table = pd.DataFrame(
        {
            L("month", lang): [_month(d, lang) for d in df.date],
            label("charts.share", lang): list(df.text),
        }
    )
    text = L(
        "share",
        lang,
        first=_month(df.date.iloc[0], lang),
        last=_month(df.date.iloc[-1], lang),
        start=df.text.iloc[0],
        end=df.text.iloc[-1],
        target=target,
    )
    return text, table


def _staffing(chart: Any, lang: str) -> tuple[str, pd.DataFrame]:
    own, hours = _data(chart, 0), _data(chart, 1)
    hours = hours.assign(text=[number(v, 0, lang) for v in hours.hours])
    table = _wide(hours, "date", "category", "text", lang)
    table.insert(1, label("staffing.own_fte", lang), [number(v, 0, lang) for v in own.own_fte])
    per_month = hours.groupby("date").hours.sum()
    text = L(
        "staffing",
        lang,
        first=_month(own.date.iloc[0], lang),
        last=_month(own.date.iloc[-1], lang),
        own_start=number(own.own_fte.iloc[0], 0, lang),
        own_end=number(own.own_fte.iloc[-1], 0, lang),
        hours_start=number(per_month.iloc[0], 0, lang),
        hours_end=number(per_month.iloc[-1], 0, lang),
    )
    return text, table


def _access(chart: Any, lang: str) -> tuple[str, pd.DataFrame]:
    df = _data(chart)
    table = _wide(
        df.assign(text=[number(v, 0, lang) for v in df.hours]), "date", "reason", "text", lang
    )
    totals = df.groupby("date").hours.sum()
    table[L("total", lang)] = [number(v, 0, lang) for v in totals]
    dates = sorted(df.date.unique())
    text = L(
        "access",
        lang,
        first=_month(dates[0], lang),
        last=_month(dates[-1], lang),
        total=number(float(df.hours.sum()), 0, lang),
    )
    return text, table


def _fan(chart: Any, lang: str) -> tuple[str, pd.DataFrame]:
    band, lines = _data(chart, 0), _data(chart, 1)
    table = _wide(lines, "date", "serie", "text", lang)
    band_name = label("narrative.charts.band", lang)
    table[band_name] = list(band.sort_values("date").band_text)
    last = band.sort_values("date").iloc[-1]
    median = lines[(lines.date == last.date) & (lines.series == "median")].text.iloc[0]
    text = L(
        "fan",
        lang,
        first=_month(band.date.min(), lang),
        last=_month(last.date, lang),
        median=median,
        band=last.band_text,
    )
    return text, table


def _tornado(chart: Any, lang: str) -> tuple[str, pd.DataFrame]:
    df = _data(chart)
    if not len(df):
        return "", pd.DataFrame()
    low, high = df[df.end == "low"], df[df.end == "high"]
    table = pd.DataFrame(
        {
            label("narrative.charts.input", lang): list(low.input),
            L("tornado_low", lang): [
                f"{v} → {d}" for v, d in zip(low.value_text, low.deviation_text, strict=True)
            ],
            L("tornado_high", lang): [
                f"{v} → {d}" for v, d in zip(high.value_text, high.deviation_text, strict=True)
            ],
        }
    )
    text = L(
        "tornado",
        lang,
        inputs=len(low),
        largest=low.input.iloc[0],
        low=low.deviation_text.iloc[0],
        high=high.deviation_text.iloc[0],
    )
    return text, table


def _compare_bridge(chart: Any, lang: str) -> tuple[str, pd.DataFrame]:
    df = _data(chart)  # a layer: the bars' data (balans.analysis.compare.bridge_frame)
    table = _wide(df, "label", "entry", "text", lang)
    table = table.set_index("").reindex(list(dict.fromkeys(df.sort_values("order").label)))
    table = table.reset_index().rename(columns={"index": label("charts.step", lang)})
    total = df[df.step == "total"]
    changes = "; ".join(f"{e} {t}" for e, t in zip(total.entry, total.text, strict=True))
    return L("compare_bridge", lang, entries=df.entry.nunique(), changes=changes), table


def _compare_monthly(chart: Any, lang: str) -> tuple[str, pd.DataFrame]:
    df = _data(chart, 1)  # the layer's lines (the first unit is the budget's zero line)
    table = _wide(df, "date", "entry", "text", lang)
    last = df[df.date == df.date.max()]
    ends = "; ".join(f"{e} {t}" for e, t in zip(last.entry, last.text, strict=True))
    dates = sorted(df.date.unique())
    return (
        L(
            "compare_monthly",
            lang,
            first=_month(dates[0], lang),
            last=_month(dates[-1], lang),
            ends=ends,
        ),
        table,
    )


DESCRIBERS: dict[str, Callable[[Any, str], tuple[str, pd.DataFrame]]] = {
    "compare_bridge": _compare_bridge,
    "compare_monthly": _compare_monthly,
    "forecast": _forecast,
    "bridge": _bridge,
    "curve": _curve,
    "share": _share,
    "staffing": _staffing,
    "access": _access,
    "fan": _fan,
    "tornado": _tornado,
}


def chart_text(key: str, chart: Any, lang: str = "sv") -> tuple[str, pd.DataFrame]:
    """The chart's text alternative: a sentence naming it and what it shows, and its data
    as a table (the figures as the chart's tooltips show them)."""
    title = _title(chart)
    if key == "staffing":  # two charts side by side, each with its title
        title = ", ".join(t for t in (_title(u) for u, _ in _units(chart)) if t)
    sentence, table = DESCRIBERS[key](chart, lang)
    return f"{L('chart_of', lang, title=title)} {sentence}".strip(), table


def _table_html(df: pd.DataFrame) -> str:
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in df.columns)
    rows = "".join(
        "<tr>"
        + "".join(
            f'<th scope="row">{html.escape(str(v))}</th>'
            if i == 0
            else f"<td>{html.escape(str(v))}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in df.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def chart_table_html(sentence: str, table: pd.DataFrame, lang: str = "sv") -> str:
    """The chart's data as a table, folded under "Diagrammet som tabell", the sentence first
    (as wide as the text, not squeezed to the table's width as a caption would be)."""
    if not len(table):
        return ""
    return (
        f'<details class="balans-chart-table"><summary>{html.escape(L("table_summary", lang))}'
        f'</summary><p class="balans-chart-sentence">{html.escape(sentence)}</p>'
        f"{_table_html(table)}</details>"
    )


def describe(key: str, chart: Any, lang: str = "sv") -> tuple[Any, str]:
    """The chart with its sentence as its description (Vega makes it the SVG's accessible
    name) and the HTML of its table."""
    sentence, table = chart_text(key, chart, lang)
    return chart.properties(description=sentence), chart_table_html(sentence, table, lang)


def svg_with_text(svg: str, sentence: str) -> str:
    """A static SVG chart as one image with the sentence as its name: the SVG's own marks
    hidden from assistive technology (Vega marks each group as a graphic without a name)."""
    name = html.escape(sentence, quote=True)
    inner = svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)
    return f'<div class="chart-image" role="img" aria-label="{name}">{inner}</div>'


# --------------------------------------------------------------------------- the statement

STATEMENT_STYLE = """
body { font-family: system-ui, "Source Sans Pro", Helvetica, Arial, sans-serif; margin: 0;
  background: #f4f5f7; color: #1b1f24; line-height: 1.5; }
main { max-width: 46rem; margin: 2rem auto; padding: 1.5rem 2rem; background: #fff;
  border-radius: 6px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
h1 { font-size: 1.6rem; margin-top: 0; }
h2 { font-size: 1.2rem; margin-top: 1.6rem; }
h3 { font-size: 1.05rem; }
a { color: #0b5cad; }
a:focus-visible { outline: 3px solid #0b5cad; outline-offset: 2px; }
.placeholder { background: #fff4ce; border-left: 4px solid #c08a00; padding: .4rem .8rem; }
.note { color: #333; font-size: .95rem; }
"""


def case_settings(case_dir: str | Path | None = None) -> dict[str, Any]:
    """The organisation's name and the statement's contact from the case's case.yaml
    (``name``, ``accessibility_contact``), without loading the case itself."""
    from balans.inputs import yamlsafe
    from balans.resources import shipped_case_dir

    path = Path(case_dir or shipped_case_dir()) / "case.yaml"
    try:
        meta = yamlsafe.load(path.read_text(encoding="utf-8"))
    except Exception:  # the statement opens even if the case cannot be read
        meta = {}
    return meta if isinstance(meta, dict) else {}


def statement_html(
    organisation: str = "", contact: str = "", lang: str = "sv", app_href: str = "../"
) -> str:
    """The accessibility statement as a whole page (DIGG's model: the commitment, how
    accessible it is, what to do, how to report, supervision, technical information, the
    known shortcomings, how it was tested and when). ``contact`` empty: the placeholder,
    marked as one."""
    e = html.escape
    S = lambda key, **kw: e(L(f"statement.{key}", lang, **kw))  # noqa: E731
    tree = labels(lang)["a11y"]["statement"]
    organisation = organisation or label("app.title", lang)
    note = ""
    if contact.strip():
        contact_html = f"<p><b>{S('contact_label')}:</b> {e(contact.strip())}</p>"
    else:
        contact_html = (
            f'<p class="placeholder"><b>{S("contact_label")}:</b> {S("contact_placeholder")}</p>'
        )
        note = f'<p class="note">{S("contact_note")}</p>'  # said once, under the first
    shortcomings = "".join(f"<li>{e(x)}</li>" for x in tree["shortcomings"])
    tested = "".join(
        f"<li>{e(x.format(axe=AXE_VERSION, wcag='WCAG 2.1 AA'))}</li>" for x in tree["tested"]
    )
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{S('title')}</title><style>{STATEMENT_STYLE}</style></head><body>"
        f'<main class="balans-statement"><h1>{S("title")}</h1>'
        f"<p>{S('intro', organisation=organisation)}</p>"
        f"<h2>{S('how_accessible')}</h2><p>{S('how_accessible_text')}</p>"
        f"<h2>{S('what_you_can_do')}</h2><p>{S('what_you_can_do_text')}</p>{contact_html}{note}"
        f"<h2>{S('report')}</h2><p>{S('report_text')}</p>{contact_html}"
        f"<h2>{S('supervision')}</h2><p>{S('supervision_text')}</p>"
        f'<p><a href="{DIGG_REPORT_URL}">{S("supervision_link")}</a></p>'
        f"<h2>{S('technical')}</h2><p>{S('technical_text', standard=STANDARD)}</p>"
        f"<h2>{S('not_accessible')}</h2><p>{S('not_accessible_text')}</p>"
        f"<h3>{S('shortcomings_title')}</h3><ul>{shortcomings}</ul>"
        f"<h2>{S('how_tested')}</h2><p>{S('how_tested_text', date=STATEMENT_DATE)}</p>"
        f"<ul>{tested}</ul><p>{S('not_tested')}</p>"
        f"<p>{S('updated', date=STATEMENT_DATE)}</p>"
        f'<p><a href="{e(app_href, quote=True)}">{S("back")}</a></p>'
        "</main></body></html>"
    )


def footer_html(lang: str = "sv") -> str:
    """The app's footer: the link to the accessibility statement (a new tab: the app's page
    keeps its setting)."""
    return (
        f'<p class="balans-footer"><a href="{STATEMENT_PATH}?lang={lang}" target="_blank" '
        f'rel="noopener">{html.escape(L("footer_link", lang))}</a></p>'
    )
