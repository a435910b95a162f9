"""What a batch writes beside the reports: summary.csv and .xlsx with its basis sheet, the
comparison chart, failures.json and the index page; each written atomically."""

from __future__ import annotations

import html
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from balans.atomic import write_text_atomic
from balans.faces.batch.atomic import atomic_path, write_json_atomic
from balans.faces.batch.outcomes import BatchResult
from balans.presentation.fmt import label, number
from balans.presentation.report import read_key_figures


def summary_frame(result: BatchResult) -> Any:
    """One row per report made: the scenario and, per year, forecast, budget, deviation,
    change against the baseline, revenue and gross cost (mkr), and the stamp."""
    import pandas as pd

    rows = []
    for o in result.outcomes:
        if not o.made:
            continue
        k = read_key_figures(result.out_dir / o.files["key_figures"])
        row: dict[str, Any] = {
            "scenario": o.name,
            "name": k["scenario"]["name"],
            "scenario_file": o.scenario_file,
            "scenario_hash": k["scenario"]["hash"],
        }
        for y in k["years"]:
            for f in (
                "forecast_net_mkr",
                "budget_net_mkr",
                "deviation_mkr",
                "change_vs_baseline_mkr",
                "revenue_mkr",
                "gross_cost_mkr",
                "year_end_agency_share_pct",
                "not_delivered_hours",
            ):
                row[f"{f}_{y['year']}"] = y[f]
        row |= {
            "model_version": k["stamp"]["model_version"],
            "data_hash": k["stamp"]["data_hash"],
            "report_html": o.files["html"],
        }
        rows.append(row)
    return pd.DataFrame(rows)


def comparison_frame(result: BatchResult) -> Any:
    """The shape :func:`balans.presentation.charts.comparison_chart` takes (as from ``compare_frame``)."""
    import pandas as pd

    rows = []
    for o in result.outcomes:
        if o.made:
            k = read_key_figures(result.out_dir / o.files["key_figures"])
            for y in k["years"]:
                rows.append(
                    {
                        "scenario": o.name,
                        "name": k["scenario"]["name"],
                        "year": y["year"],
                        "forecast_net_mkr": y["forecast_net_mkr"],
                        "budget_net_mkr": y["budget_net_mkr"],
                        "deviation_mkr": y["deviation_mkr"],
                        "change_vs_baseline_mkr": y["change_vs_baseline_mkr"],
                        "scenario_hash": k["scenario"]["hash"],
                    }
                )
    return pd.DataFrame(rows)


def failures_list(result: BatchResult) -> list[dict[str, Any]]:
    return [
        {
            "scenario": o.name,
            "scenario_file": o.scenario_file,
            "kind": "invalid scenario file" if o.status == "invalid" else "notebook failed",
            "message": o.message,
            "cell_index": o.cell_index,
            "failed_notebook": o.failed_notebook,
            "stale_report": o.stale_files.get("html"),
        }
        for o in result.failures
    ]


def write_outputs(result: BatchResult, lang: str = "sv", case: Any = None) -> None:
    """summary.csv/.xlsx, the comparison chart (SVG, PNG), failures.json and index.html,
    each written atomically. summary.csv keeps the program's column names; summary.xlsx is
    the planners' (:func:`balans.presentation.excel.summary_workbook`)."""
    from balans.presentation.excel import summary_workbook
    from balans.presentation.fmt import month_name
    from balans.presentation.summary import standing_text

    out = result.out_dir
    summary = summary_frame(result)
    with atomic_path(out / "summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    if case is not None:
        case_name, close = case.name, standing_text(case, lang)
    else:  # from the reports' own stamps (the case's id and close)
        stamps = [
            read_key_figures(out / o.files["key_figures"])["stamp"]
            for o in result.outcomes
            if o.made
        ]
        case_name = ", ".join(sorted({s["case"] for s in stamps}))
        close = ", ".join(sorted({month_name(s["cutoff"], lang) for s in stamps}))
    workbook = summary_workbook(
        summary, summary_basis_frame(summary, lang), case_name, close, lang, case
    )
    with atomic_path(out / "summary.xlsx") as tmp:
        tmp.write_bytes(workbook)
    comparison = comparison_frame(result)
    if not comparison.empty:
        import vl_convert as vlc

        from balans.presentation.charts import comparison_chart, spec

        chart = spec(comparison_chart(comparison, lang))
        write_text_atomic(out / "comparison.svg", vlc.vegalite_to_svg(chart))
        with atomic_path(out / "comparison.png") as tmp:
            tmp.write_bytes(vlc.vegalite_to_png(chart, scale=2))
    else:
        for name in ("comparison.svg", "comparison.png"):
            (out / name).unlink(missing_ok=True)
    write_json_atomic(out / "failures.json", failures_list(result))
    write_text_atomic(out / "index.html", index_html(result, summary, lang))


# the summary's figures per year: the net budget is the board's own, the rest the model's
SUMMARY_BASIS = {"budget_net_mkr": "document"}


def summary_basis_frame(summary: Any, lang: str = "sv") -> Any:
    """The summary's basis sheet: what the summary holds (board totals only; divisions and
    account budgets, allocated or derived, are in the reports), then per figure column its
    basis (document, forecast) and what that means."""
    import pandas as pd

    def t(key: str) -> str:
        return label(f"basis.{key}", lang)

    rows = [{t("sheet.column"): "", t("sheet.word"): "", t("sheet.meaning"): t("note.summary")}]
    for col in summary.columns:
        stem, _, year = col.rpartition("_")
        if not (year.isdigit() and stem):
            continue
        code = SUMMARY_BASIS.get(stem, "forecast")
        note = t("note.board_document") if code == "document" else t("note.forecast")
        rows.append(
            {t("sheet.column"): col, t("sheet.word"): t(f"word.{code}"), t("sheet.meaning"): note}
        )
    return pd.DataFrame(rows)


def index_html(result: BatchResult, summary: Any, lang: str = "sv") -> str:
    """The batch's front page: every report, the summaries, the chart, the failures. Plain
    HTML, nothing loaded from elsewhere."""
    from balans import MODEL_VERSION

    def t(key: str, **kw: Any) -> str:
        return html.escape(label(f"report.index.{key}", lang).format(**kw))

    e = html.escape
    by_name = {r["scenario"]: r for r in summary.to_dict("records")} if len(summary) else {}
    years = sorted(
        {int(c.rsplit("_", 1)[1]) for c in summary.columns if c.startswith("deviation_mkr_")}
    )
    head = "".join(
        f"<th>{t('forecast_year', year=y)}</th><th>{t('deviation_year', year=y)}</th>"
        for y in years
    )
    rows = []
    for o in result.outcomes:
        status = t(f"status_{'run' if o.status == 'ok' else o.status}")
        if o.made:
            links = " · ".join(
                f'<a href="{e(o.files[k])}">{t(text)}</a>'
                for k, text in (
                    ("html", "report"),
                    ("pdf", "pdf"),
                    ("notebook", "notebook"),
                    ("key_figures", "key_figures"),
                )
                if k in o.files
            )
            r = by_name[o.name]
            cells = "".join(
                f'<td class="n">{e(number(r[f"forecast_net_mkr_{y}"], 0, lang))}</td>'
                f'<td class="n">{e(number(r[f"deviation_mkr_{y}"], 0, lang, signed=True))}</td>'
                for y in years
            )
            name = f'<a href="{e(o.files["html"])}">{e(r["name"])}</a>'
        else:
            links, cells = "", "<td></td><td></td>" * len(years)
            name = e(o.name)
            if o.stale_files:
                links = f'<a href="{e(o.stale_files["html"])}">{t("stale_report")}</a>'
        rows.append(
            f"<tr><td>{name}</td><td><code>{e(Path(o.scenario_file).name)}</code></td>"
            f"<td>{status}</td>{cells}<td>{links}</td></tr>"
        )
    fails = []
    for o in result.failures:
        extra = (
            f' (<a href="{e(o.failed_notebook)}">{t("failed_notebook")}</a>)'
            if o.failed_notebook
            else ""
        )
        fails.append(f"<li><b>{e(o.name)}</b>{extra}<pre>{e(o.message)}</pre></li>")
    downloads = [("summary.csv", "summary_csv"), ("summary.xlsx", "summary_xlsx")]
    has_chart = (result.out_dir / "comparison.svg").is_file() and len(summary)
    if has_chart:
        downloads += [("comparison.svg", "chart_svg"), ("comparison.png", "chart_png")]
    downloads.append(("failures.json", "failures_json"))
    stamp_data = {"model_version": MODEL_VERSION, "data_hash": "–"}
    if len(summary):
        stamp_data["data_hash"] = str(summary.data_hash.iloc[0])
    created = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    style = (
        "body{font-family:'Source Sans Pro',Helvetica,Arial,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse}th,td{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:left}"
        "td.n{text-align:right}pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem}"
        "img{max-width:100%}.stamp{color:#555;font-size:.9rem}"
    )
    chart = (
        f'<h2>{t("comparison")}</h2><img src="comparison.svg" alt="{t("comparison")}">'
        if has_chart
        else ""
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{t('title')}</title><style>{style}</style></head><body>"
        f"<h1>{t('title')}</h1><p>{t('intro')}</p>"
        f"<h2>{t('reports')}</h2><table><thead><tr><th>{t('scenario')}</th><th>{t('file')}</th>"
        f"<th>{t('status')}</th>{head}<th></th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"{chart}<h2>{t('downloads')}</h2><ul>"
        + "".join(f'<li><a href="{f}">{t(k)}</a></li>' for f, k in downloads)
        + f"</ul><h2>{t('failures')}</h2>"
        + (f"<ul>{''.join(fails)}</ul>" if fails else f"<p>{t('no_failures')}</p>")
        + f'<p class="stamp">{t("stamp", created=created, **stamp_data)}</p></body></html>\n'
    )


def timings_frame(result: BatchResult) -> Any:
    """Per report that ran: kernel start, imports, execution, papermill's own work, HTML."""
    import pandas as pd

    return pd.DataFrame(
        [{"scenario": o.name, **o.timings} for o in result.outcomes if o.status == "ok"]
    )


def outcome_dicts(result: BatchResult) -> list[dict[str, Any]]:
    """Every outcome as plain data (for JSON)."""
    return [asdict(o) for o in result.outcomes]
