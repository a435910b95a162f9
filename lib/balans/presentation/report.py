"""The board report of one scenario: what ``notebooks/report.ipynb`` shows, built here.

The notebook holds no formula: each of its cells calls one method of :class:`Report`, which
returns a block of HTML (a heading, a static SVG chart, a table) that renders in JupyterLab
and survives nbconvert's HTML export offline, without JavaScript or a CDN. The same module
records the report's key figures as JSON beside the report (:func:`key_figures`), the
figures ``balans batch`` collects into ``summary.csv``.

Labels come from ``locale/<lang>.yaml`` (``report:``), numbers from :mod:`balans.presentation.fmt`.
"""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from balans.atomic import write_text_atomic
from balans.errors import BalansError
from balans.inputs.case import load_case
from balans.inputs.scenario import load_scenario
from balans.model.api import Result, figure_basis, json_safe, run
from balans.model.engine import STEPS
from balans.presentation import charts
from balans.presentation.fmt import LANGUAGES, label, month_name, number, pct
from balans.presentation.narrative import scenario_summary, summary_blocks
from balans.presentation.summary import season_text
from balans.presentation.tables import (  # the tables the app shows too, made once (balans.presentation.tables)
    L,
    accounts_table,
    basis_note,
    basis_notes_html,
    basis_word,
    division_bridge_table,
    divisions_table,
    figures_frame,
    sources_frame,
    table_html,
)
from balans.resources import scenarios_dir

KEY_FIGURES_FORMAT = "balans.key_figures/1"
KEY_FIGURES_SUFFIX = ".key_figures.json"
# the columns of Result.years_frame() a key-figures record keeps, per year (mkr)
KEY_YEAR_FIELDS = (
    "forecast_net_mkr",
    "budget_net_mkr",
    "deviation_mkr",
    "baseline_net_mkr",
    "change_vs_baseline_mkr",
    "revenue_mkr",
    "gross_cost_mkr",
    "budget_revenue_mkr",
    "budget_gross_cost_mkr",
)


class ReportError(BalansError):
    """A report parameter is wrong (the message names it, its value and what is allowed)."""


@dataclass(frozen=True)
class ReportParameters:
    """The report notebook's parameters, checked."""

    scenario_file: Path
    out_dir: Path
    lang: str
    case_dir: Path | None

    @property
    def name(self) -> str:
        """The report's file name stem: the scenario file's."""
        return self.scenario_file.stem

    @property
    def key_figures_path(self) -> Path:
        return self.out_dir / f"{self.name}{KEY_FIGURES_SUFFIX}"


def check_parameters(
    scenario_file: str | Path, out_dir: str | Path, lang: str = "sv", case_dir: str | Path = ""
) -> ReportParameters:
    """Check the notebook's parameters; raise :class:`ReportError` naming a bad one.

    An empty ``scenario_file`` is the case's baseline, ``<case>/scenarios/baseline.yaml`` (the
    notebook's default: it ships inside the package, so no path relative to it would do)."""
    if lang not in LANGUAGES:
        raise ReportError(f"report parameter lang = {lang!r}: allowed {', '.join(LANGUAGES)}")
    case = Path(case_dir) if str(case_dir).strip() else None
    if not str(scenario_file).strip():
        scenario_file = scenarios_dir(case) / "baseline.yaml"
        if not scenario_file.is_file():
            raise ReportError(
                f"report parameter scenario_file is empty and {scenario_file} does not exist: "
                "give a scenario YAML file"
            )
    if not str(out_dir).strip():
        raise ReportError("report parameter out_dir is empty: give a folder for the key figures")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ReportError(f"report parameter out_dir = {str(out)!r}: exists and is not a folder")
    return ReportParameters(Path(scenario_file), out, lang, case)


# --------------------------------------------------------------------------- key figures


def year_end_staffing(result: Result) -> pd.DataFrame:
    """Per year, the last month's staffing: own and agency FTE, the agency shares and targets."""
    s = result.staffing_frame()
    return s.groupby("year", sort=True).tail(1).reset_index(drop=True)


def key_figures(result: Result, scenario_file: str | Path | None = None) -> dict[str, Any]:
    """The report's figures as plain JSON-ready data: per year the forecast, budget,
    deviation, revenue and gross cost (the same numbers as ``balans run --json``), year-end
    staffing, care hours not delivered, and the stamp."""
    years = result.years_frame()
    staffing = year_end_staffing(result).set_index("year")
    access = result.access_frame().groupby("year").not_delivered_hours.sum()
    share_cols = [c for c in staffing.columns if c.endswith("_agency_share_pct")]
    rows = []
    for y in years.itertuples():
        st = staffing.loc[y.year]
        rows.append(
            {
                "year": int(y.year),
                **{f: float(getattr(y, f)) for f in KEY_YEAR_FIELDS},
                "year_end_own_fte": float(st.own_fte),
                "year_end_agency_fte": float(st.agency_fte),
                "year_end_agency_share_pct": float(st.agency_share_pct),
                "agency_share_target_pct": float(st.agency_share_target_pct),
                **{f"year_end_{c}": float(st[c]) for c in share_cols},
                "not_delivered_hours": float(access.loc[y.year]),
            }
        )
    return json_safe(
        {
            "format": KEY_FIGURES_FORMAT,
            "scenario": {
                "name": result.scenario.name,
                "hash": result.scenario.hash,
                "file": str(scenario_file) if scenario_file is not None else None,
            },
            "stamp": dict(result.stamp),
            "years": rows,
        }
    )


def write_key_figures(
    result: Result, path: str | Path, scenario_file: str | Path | None = None
) -> Path:
    """Write :func:`key_figures` as JSON, atomically (never a half-written file)."""
    path = Path(path)
    text = json.dumps(key_figures(result, scenario_file), ensure_ascii=False, indent=1)
    write_text_atomic(path, text + "\n")
    return path


def read_key_figures(path: str | Path) -> dict[str, Any]:
    """Read a key-figures file written by :func:`write_key_figures`."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("format") != KEY_FIGURES_FORMAT:
        raise ReportError(f"{path}: not a Balans key-figures file (format {data.get('format')!r})")
    return data


# --------------------------------------------------------------------------- basis marks


def basis_frame(result: Result, lang: str = "sv") -> pd.DataFrame:
    """Every basis column of the result's tables (as in the Excel download): the sheet, the
    column, each value it takes, its word and what it means."""
    kinds = {
        ("years", "budget_revenue_basis"): "board",
        ("years", "budget_gross_cost_basis"): "board",
        ("accounts", "budget_basis"): "account",
        ("divisions", "basis"): "division",
    }
    frames = {
        "years": result.years_frame(),
        "accounts": result.accounts_frame(),
        "divisions": result.divisions_frame(),
        "monthly": result.monthly_frame(),
    }
    rows = []
    for sheet, df in frames.items():
        for col in (c for c in df.columns if c.endswith("basis")):
            kind = kinds.get((sheet, col), "month")
            for code in dict.fromkeys(df[col]):
                rows.append(
                    {
                        label("basis.sheet.sheet", lang): sheet,
                        label("basis.sheet.column", lang): col,
                        label("basis.sheet.value", lang): code,
                        label("basis.sheet.word", lang): basis_word(code, lang),
                        label("basis.sheet.meaning", lang): basis_note(
                            result.case, kind, code, lang
                        ),
                    }
                )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- tables


def _mkr(v: float, decimals: int = 0, lang: str = "sv", signed: bool = False) -> str:
    return number(v, decimals, lang, signed)


def headline_frame(result: Result, lang: str = "sv") -> pd.DataFrame:
    """Per year: the full-year forecast, the budget, the deviation, the change against the
    baseline and the board's own forecast (mkr, formatted)."""
    rows = []
    for y in result.years_frame().itertuples():
        board = y.board_forecast_net_mkr
        has_board = board is not None and board == board
        rows.append(
            {
                L("col.year", lang): str(y.year),
                L("col.forecast_net", lang): _mkr(y.forecast_net_mkr, 0, lang),
                L("col.budget_net", lang): _mkr(y.budget_net_mkr, 0, lang),
                L("col.deviation", lang): _mkr(y.deviation_mkr, 0, lang, True),
                L("col.baseline_net", lang): _mkr(y.baseline_net_mkr, 0, lang),
                L("col.change_vs_baseline", lang): _mkr(y.change_vs_baseline_mkr, 1, lang, True),
                L("col.board_forecast", lang): (
                    f"{_mkr(board, 0, lang)} ({y.board_forecast_made})" if has_board else "–"
                ),
            }
        )
    return pd.DataFrame(rows)


def forecast_vs_budget_frame(result: Result, lang: str = "sv") -> pd.DataFrame:
    """Revenue, gross cost and net cost: forecast, budget and deviation per year (mkr)."""
    years = result.years_frame()
    lines = (
        ("revenue", "revenue_mkr", "budget_revenue_mkr"),
        ("gross_cost", "gross_cost_mkr", "budget_gross_cost_mkr"),
        ("net_cost", "forecast_net_mkr", "budget_net_mkr"),
    )
    rows = []
    for key, fc, bud in lines:
        row = {L("col.line", lang): label(f"lines.{key}", lang)}
        for y in years.itertuples():
            f, b = float(getattr(y, fc)), float(getattr(y, bud))
            row[L("col.forecast_year", lang).format(year=y.year)] = _mkr(f, 0, lang)
            row[L("col.budget_year", lang).format(year=y.year)] = _mkr(b, 0, lang)
            row[label("basis.budget_year", lang).format(year=y.year)] = basis_word(
                _board_budget_basis(result, y, key), lang
            )
            row[L("col.deviation_year", lang).format(year=y.year)] = _mkr(f - b, 0, lang, True)
        rows.append(row)
    return pd.DataFrame(rows)


def _board_budget_basis(result: Result, year_row: Any, line: str) -> str:
    if line == "net_cost":
        return figure_basis(result.case, "board_budget", year=year_row.year, side="net")
    return str(getattr(year_row, f"budget_{line}_basis"))


def bridge_table(result: Result, lang: str = "sv") -> pd.DataFrame:
    """The bridge in its fixed order: the baseline, each step's effect, the forecast (mkr)."""
    years = result.years_frame().set_index("year")
    b = result.bridge_frame()
    rows = [{L("col.step", lang): label("lines.baseline", lang)}]
    for s in STEPS:
        rows.append({L("col.step", lang): label(f"steps.{s}", lang)})
    rows.append({L("col.step", lang): label("lines.forecast", lang)})
    for y in years.index:
        col = str(y)
        eff = b[b.year == y].set_index("step").effect_mkr
        rows[0][col] = _mkr(years.loc[y, "baseline_net_mkr"], 1, lang)
        for i, s in enumerate(STEPS, start=1):
            rows[i][col] = _mkr(float(eff[s]), 1, lang, True)
        rows[-1][col] = _mkr(years.loc[y, "forecast_net_mkr"], 1, lang)
    return pd.DataFrame(rows)


def staffing_targets_frame(result: Result, lang: str = "sv") -> pd.DataFrame:
    """At each year's end: own and agency FTE, and every agency share against its target."""
    st = year_end_staffing(result)
    cats = {c.id: c for c in result.case.agency}
    rows: list[dict[str, str]] = []

    def share_row(name: str, values: Sequence[float], targets: Sequence[float]) -> None:
        row = {L("col.measure", lang): name}
        known = False
        for y, v, t in zip(st.year, values, targets, strict=True):
            if v is None or v != v:  # the share is unknown (the case lacks the own-staff split)
                row[str(y)] = "–"
                continue
            known = True
            status = L("over_target" if v > t + 1e-9 else "within_target", lang)
            row[str(y)] = (
                f"{pct(v, 1, lang)} ({L('target_at_most', lang)} {pct(t, 1, lang)}: {status})"
            )
        if known:
            rows.append(row)

    rows.append(
        {L("col.measure", lang): label("staffing.own_fte", lang)}
        | {str(y): number(v, 0, lang) for y, v in zip(st.year, st.own_fte, strict=True)}
    )
    rows.append(
        {L("col.measure", lang): L("agency_fte", lang)}
        | {str(y): number(v, 0, lang) for y, v in zip(st.year, st.agency_fte, strict=True)}
    )
    share_row(label("staffing.agency_share", lang), st.agency_share_pct, st.agency_share_target_pct)
    for cid, cat in cats.items():
        col = f"{cid}_agency_share_pct"
        if col in st.columns:
            name = L("category_share", lang).format(
                category=(cat.name_sv if lang == "sv" else cat.name_en).lower()
            )
            share_row(name, st[col], st[f"{cid}_agency_share_target_pct"])
    return pd.DataFrame(rows)


def access_year_frame(result: Result, lang: str = "sv") -> pd.DataFrame:
    """Care hours not delivered per year, by reason and in total."""
    a = result.access_frame().groupby("year").sum(numeric_only=True)
    reasons = (
        "agency_not_replaced_hours",
        "agency_fill_shortfall_hours",
        "rest_rule_uncovered_hours",
    )
    rows = []
    for r in reasons:
        rows.append(
            {L("col.reason", lang): label(f"charts.{r}", lang)}
            | {str(y): number(a.loc[y, r], 0, lang) for y in a.index}
        )
    rows.append(
        {L("col.reason", lang): L("total", lang)}
        | {str(y): number(a.loc[y, "not_delivered_hours"], 0, lang) for y in a.index}
    )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- HTML blocks


STYLE = """<style>
.balans-report { font-family: "Source Sans Pro", Helvetica, Arial, sans-serif; max-width: 62rem; }
.balans-report table { border-collapse: collapse; margin: 0.4rem 0 1rem 0; font-size: 0.9rem; }
.balans-report th, .balans-report td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #ddd;
  text-align: right; vertical-align: top; }
.balans-report th:first-child, .balans-report td:first-child { text-align: left; }
.balans-report table.text td, .balans-report table.text th { text-align: left; }
.balans-report .stamp { color: #444; font-size: 0.85rem; }
.balans-report .chart svg { max-width: 100%; height: auto; }
.balans-report .balans-chart-table { margin: 0.2rem 0 1rem 0; }
.balans-report .balans-chart-sentence { font-size: 0.85rem; color: #333; max-width: 56rem; }
.balans-report .balans-chart-table th[scope="row"] { text-align: left; font-weight: normal; }
.balans-report pre.summary { white-space: pre-wrap; font-family: inherit; }
.balans-report p.basis-note { font-size: 0.85rem; color: #333; max-width: 56rem; }
</style>"""


class Html:
    """A block of HTML that a notebook displays (``_repr_html_``) and nbconvert keeps."""

    def __init__(self, body: str) -> None:
        self.body = body

    def _repr_html_(self) -> str:
        return f'<div class="balans-report">{self.body}</div>'

    def __str__(self) -> str:
        return self._repr_html_()


def chart_svg(chart: Any, key: str | None = None, lang: str = "sv") -> str:
    """A chart as a static SVG (vl-convert): no JavaScript, renders offline. With its
    ``key`` (:data:`balans.presentation.a11y.DESCRIBERS`) it has a text alternative: the sentence as the
    image's name and its data as a table under it (folded; the paper leaves it out)."""
    import vl_convert as vlc

    from balans.presentation.a11y import chart_table_html, chart_text, svg_with_text

    svg = vlc.vegalite_to_svg(charts.spec(chart))
    if key is None:
        return f'<div class="chart">{svg}</div>'
    sentence, table = chart_text(key, chart, lang)
    return (
        f'<div class="chart">{svg_with_text(svg, sentence)}'
        f"{chart_table_html(sentence, table, lang)}</div>"
    )


def plain_summary(result: Result, lang: str = "sv", monte_carlo: Any = None) -> str:
    """The generated plain-language summary (:func:`balans.presentation.narrative.scenario_summary`: what
    the scenario changes, what follows, the risks, and the uncertainty when given)."""
    return scenario_summary(result, lang, monte_carlo=monte_carlo)


# --------------------------------------------------------------------------- the report


def _section(method: Callable[[Report], Html]) -> Callable[[Report], Html]:
    """A report section made once per report: the notebook's cells and the board paper
    (:mod:`balans.presentation.paper`) show the same section without computing its charts twice."""

    @functools.wraps(method)
    def made(self: Report) -> Html:
        key = method.__name__
        if key not in self._sections:
            self._sections[key] = method(self)
        return self._sections[key]

    return made


class Report:
    """One scenario's board report: each method is one section of the notebook."""

    def __init__(self, result: Result, params: ReportParameters) -> None:
        self.result = result
        self.params = params
        self.lang = params.lang
        self._sections: dict[str, Html] = {}

    @classmethod
    def from_parameters(
        cls,
        scenario_file: str | Path,
        out_dir: str | Path,
        lang: str = "sv",
        case_dir: str | Path = "",
        cutoff: str = "",
    ) -> Report:
        """Check the parameters, read the scenario and the case at its close (``cutoff``,
        empty: the latest), run the model."""
        params = check_parameters(scenario_file, out_dir, lang, case_dir)
        scenario = load_scenario(params.scenario_file)
        case = load_case(params.case_dir, cutoff=str(cutoff).strip() or None)
        return cls(run(scenario, case, source=str(params.scenario_file)), params)

    def _h(self, key: str) -> str:
        return f"<h2>{html.escape(L(key, self.lang))}</h2>"

    @_section
    def title(self) -> Html:
        r, lang = self.result, self.lang
        sub = L("subtitle", lang).format(case=r.case.name, cutoff=month_name(r.case.cutoff, lang))
        synthetic = (
            f'<p class="synthetic"><b>{html.escape(L("synthetic", lang))}</b></p>'
            if r.case.synthetic
            else ""
        )
        return Html(
            STYLE
            + f"<h1>{html.escape(L('title', lang).format(name=r.scenario.name))}</h1>"
            + synthetic
            + f"<p>{html.escape(sub)}</p>"
        )

    @cached_property
    def monte_carlo(self) -> Any:
        """10 000 seeded draws of the uncertain inputs (reproducible: the same report twice
        gives the same figures)."""
        from balans.analysis import monte_carlo

        return monte_carlo(self.result.scenario, self.result.case)

    @_section
    def summary(self) -> Html:
        blocks = summary_blocks(self.result, self.lang, monte_carlo=self.monte_carlo)
        # the report's title names the scenario and its last section holds the stamp
        shown = (b for b in blocks if b.kind not in ("title", "stamp"))
        return Html(self._h("summary") + "".join(b.as_html() for b in shown))

    @_section
    def headline(self) -> Html:
        return Html(self._h("headline") + table_html(headline_frame(self.result, self.lang)))

    @_section
    def forecast(self) -> Html:
        """The monthly forecast against budget: a chart per year, the table per line."""
        return Html(
            self._h("forecast")
            + self._forecast_charts_part(heading=False)
            + self._forecast_table_part(heading=False)
        )

    @_section
    def forecast_charts(self) -> Html:
        """The monthly charts alone, with what their months stand on (the board paper)."""
        return Html(self._forecast_charts_part(True))

    @_section
    def forecast_table(self) -> Html:
        """The forecast against budget per line and year (the board paper's appendix)."""
        return Html(self._forecast_table_part(heading=True))

    def _forecast_charts_part(self, heading: bool) -> str:
        r, lang = self.result, self.lang
        parts = [self._h("forecast")] if heading else []
        parts += [
            chart_svg(charts.forecast_vs_budget_chart(r, y, lang=lang), "forecast", lang)
            for y in self._years
        ]
        m = r.monthly_frame()
        months = [c for c in (*m.actual_basis, *m.budget_basis) if c != "forecast"]
        parts.append(
            f'<p class="basis-note"><b>{html.escape(label("basis.chart_lead", lang))}</b></p>'
        )
        parts.append(basis_notes_html(r.case, "month", months, lang))
        return "".join(parts)

    def _forecast_table_part(self, heading: bool) -> str:
        r, lang = self.result, self.lang
        parts = [self._h("forecast")] if heading else []
        parts.append(table_html(forecast_vs_budget_frame(r, lang)))
        years = r.years_frame()
        board = [*years.budget_revenue_basis, *years.budget_gross_cost_basis]
        parts.append(basis_notes_html(r.case, "board", board, lang))
        return "".join(parts)

    @_section
    def risks(self) -> Html:
        """What could go wrong, in board words: the feasibility warnings as sentences and
        the deviation's P10, median and P90 per year with the chance of balance."""
        lang = self.lang
        return Html(
            f"<h2>{html.escape(label('paper.risks', lang))}</h2>"
            + self._warnings_html()
            + f"<p>{html.escape(L('uncertainty_note', lang))}</p>"
            + table_html(self._spread())
        )

    def write_pdf(self) -> Path:
        """The board paper beside the report (``<out_dir>/<scenario>.pdf``)."""
        from balans.presentation.paper import write_paper

        return write_paper(self, self.params.out_dir / f"{self.params.name}.pdf")

    @_section
    def bridge(self) -> Html:
        parts = [self._h("bridge"), f"<p>{html.escape(L('bridge_note', self.lang))}</p>"]
        parts += [
            chart_svg(charts.bridge_chart(self.result, y, self.lang), "bridge", self.lang)
            for y in self._years
        ]
        parts.append(table_html(bridge_table(self.result, self.lang)))
        return Html("".join(parts))

    @_section
    def closes(self) -> Html:
        """The forecast curve per year (the forecast at each close against budget, the
        board's forecasts and the scenario), the vintages with their accuracy, and what
        moved each year's forecast since the close before this one. Empty for a case with
        one close."""
        from balans.analysis.closes import close_bridge, curve_frame, vintages_text

        r, lang = self.result, self.lang
        case = r.case
        if len(case.closes) < 2:
            return Html("")
        frame = curve_frame(case.root, r.scenario)
        parts = [self._h("closes"), f"<p>{html.escape(L('closes_note', lang))}</p>"]
        parts += [
            chart_svg(charts.forecast_curve_chart(frame, y, lang), "curve", lang)
            for y in self._years
            if (frame.year == y).sum() >= 2
        ]
        parts.append(f"<pre>{html.escape(vintages_text(frame, lang))}</pre>")
        cut = f"{case.cutoff[0]}-{case.cutoff[1]:02d}"
        earlier = [c for c in case.closes if c < cut]
        if earlier:
            rows = []
            for y in self._years:
                try:
                    b = close_bridge(case.root, earlier[-1], cut, y)
                except BalansError:
                    continue
                steps = b.groupby("step", sort=False).effect_mkr.sum()
                rows.append(
                    {L("col.year", lang): str(y)}
                    | {
                        label(f"closes.step.{k}", lang): _mkr(float(steps[k]), 1, lang, True)
                        for k in ("new_actuals", "re_estimate", "levers", "model_or_data")
                    }
                    | {
                        label("closes.step.total", lang): _mkr(
                            b.attrs["to_mkr"] - b.attrs["from_mkr"], 1, lang, True
                        )
                    }
                )
            if rows:
                parts.append(
                    f"<h3>{html.escape(L('closes_bridge', lang).format(month=month_name(earlier[-1], lang)))}</h3>"
                    + table_html(pd.DataFrame(rows))
                )
        return Html("".join(parts))

    @_section
    def staffing(self) -> Html:
        return Html(
            self._h("staffing")
            + chart_svg(charts.agency_share_chart(self.result, self.lang), "share", self.lang)
            + chart_svg(charts.staffing_chart(self.result, self.lang), "staffing", self.lang)
            + table_html(staffing_targets_frame(self.result, self.lang))
        )

    @_section
    def access(self) -> Html:
        return Html(
            self._h("access")
            + f"<p>{html.escape(L('access_note', self.lang))}</p>"
            + chart_svg(charts.access_chart(self.result, self.lang), "access", self.lang)
            + table_html(access_year_frame(self.result, self.lang))
        )

    @_section
    def uncertainty(self) -> Html:
        """Monte Carlo P10/P50/P90 and the chance of balance, the fan of the last year, the
        tornado, and the feasibility warnings."""
        from balans.analysis import tornado
        from balans.presentation.analysis_charts import fan_chart, tornado_chart

        mc, lang, year = self.monte_carlo, self.lang, self._years[-1]
        parts = [
            self._h("uncertainty"),
            f"<p>{html.escape(L('uncertainty_note', lang))}</p>",
            table_html(self._spread()),
            chart_svg(fan_chart(mc, lang=lang, year=year), "fan", lang),
            chart_svg(
                tornado_chart(
                    tornado(self.result.scenario, self.result.case, year=year), lang=lang
                ),
                "tornado",
                lang,
            ),
            f"<h3>{html.escape(L('warnings', lang))}</h3>",
            self._warnings_html(),
        ]
        return Html("".join(parts))

    def _spread(self) -> pd.DataFrame:
        """The deviation's P10, median and P90 per year and the chance of balance, in words."""
        lang = self.lang
        t = lambda key: label(f"paper.col.{key}", lang)  # noqa: E731
        summary = self.monte_carlo.summary_frame()
        return pd.DataFrame(
            {
                t("year"): summary.year,
                t("p10"): [_mkr(v, 0, lang) for v in summary.deviation_p10_mkr],
                t("p50"): [_mkr(v, 0, lang) for v in summary.deviation_p50_mkr],
                t("p90"): [_mkr(v, 0, lang) for v in summary.deviation_p90_mkr],
                t("balance"): [number(v, 0, lang) for v in summary.balance_probability_pct],
            }
        )

    def _warnings_html(self) -> str:
        """The feasibility warnings as the sentences a board member reads."""
        from balans.analysis.feasibility import feasibility_frame

        warnings = feasibility_frame(self.result, self.lang)
        if not len(warnings):
            return f"<p>{html.escape(L('no_warnings', self.lang))}</p>"
        return "<ul>" + "".join(f"<li>{html.escape(m)}</li>" for m in warnings.message) + "</ul>"

    @_section
    def divisions(self) -> Html:
        r = self.result
        note = "divisions_note_ledger" if r.case.divisions_real else "divisions_note"
        bridge = division_bridge_table(r, self.lang)
        return Html(
            self._h("divisions")
            + f"<p>{html.escape(L(note, self.lang))}</p>"
            + table_html(divisions_table(r, self.lang))
            + basis_notes_html(r.case, "division", r.divisions_frame().basis, self.lang)
            + (
                f"<h3>{html.escape(L('division_bridge', self.lang))}</h3>"
                f"<p>{html.escape(L('division_bridge_note', self.lang))}</p>" + table_html(bridge)
                if bridge is not None
                else ""
            )
        )

    @_section
    def accounts(self) -> Html:
        r = self.result
        return Html(
            self._h("accounts")
            + table_html(accounts_table(r, self.lang))
            + basis_notes_html(r.case, "account", r.accounts_frame().budget_basis, self.lang)
        )

    @_section
    def sources(self) -> Html:
        case, lang = self.result.case, self.lang
        return Html(
            self._h("sources")
            + f"<p>{html.escape(season_text(self.result.engine, lang))}</p>"
            + table_html(sources_frame(case, lang), text=True)
            + f"<h3>{html.escape(L('figures', lang))}</h3>"
            + table_html(figures_frame(case, lang), text=True)
        )

    def record_key_figures(self) -> Path:
        """Write the key figures beside the report (``<out_dir>/<scenario>.key_figures.json``)."""
        return write_key_figures(
            self.result, self.params.key_figures_path, self.params.scenario_file
        )

    def stamp(self) -> Html:
        st = self.result.stamp
        text = label("summary.stamp", self.lang).format(**st)
        note = L("key_figures_file", self.lang).format(file=self.params.key_figures_path.name)
        return Html(
            self._h("stamp")
            + f'<p class="stamp">{html.escape(text)} · {html.escape(st["case"])} · '
            + f"{html.escape(L('cutoff', self.lang))} {html.escape(st['cutoff'])}</p>"
            + f'<p class="stamp">{html.escape(note)}</p>'
        )

    @property
    def _years(self) -> tuple[int, ...]:
        return tuple(self.result.engine.years)
