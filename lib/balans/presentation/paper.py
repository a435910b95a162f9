"""The board paper: one scenario as an A4 PDF a board member prints (nämndunderlag).

The main part (at most four pages: the summary, the headline, the monthly forecast and the
bridge, the risks) comes first, the long tables in an appendix after a page break; every
page carries the case, the scenario, the close and the date, and its page number. The
sections are :class:`balans.presentation.report.Report`'s own, so the paper says what the HTML report
says, in the same words and figures.

The renderer is WeasyPrint: it implements CSS paged media (``@page`` sizes and margins,
running headers and footers, page counters, ``break-inside: avoid`` for tables and charts),
draws the charts from their SVG, runs in the batch's worker processes and offline, and
needs no browser; what it needs from the system is Pango, which Debian and the common
Python images ship. A headless Chromium would print the same HTML but has no page counters
in the margins or running headers, and would put a browser into every batch worker.
"""

from __future__ import annotations

import html
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from balans.presentation.fmt import label, month_name

if TYPE_CHECKING:
    from balans.presentation.report import Report

APPENDIX_ID = "bilaga"

PAPER_STYLE = """
@page {
  size: A4;
  margin: 20mm 16mm 18mm 16mm;
  @top-left { content: "%(head)s"; font-size: 8pt; color: #444; }
  @bottom-right { content: "%(page)s " counter(page) " %(of)s " counter(pages);
    font-size: 8pt; color: #444; }
}
html { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 9.5pt;
  color: #111; }
h1 { font-size: 16pt; margin: 0 0 2mm 0; }
h2 { font-size: 12pt; margin: 5mm 0 2mm 0; break-after: avoid; }
h3, h4 { font-size: 10pt; margin: 3mm 0 1mm 0; break-after: avoid; }
p { margin: 1mm 0 2mm 0; }
h2 + p { break-after: avoid; }  /* a heading, its lead and the chart after stay together */
table { border-collapse: collapse; margin: 1mm 0 3mm 0; font-size: 8pt; break-inside: avoid;
  max-width: 100%%; }
table.long { break-inside: auto; }
table.text { table-layout: fixed; width: 100%%; }
table.text td { overflow-wrap: anywhere; }
table:not(.long):not(.text) td:first-child { white-space: nowrap; }  /* a year, whole */
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { padding: 0.6mm 1.6mm; border-bottom: 0.3pt solid #bbb; text-align: right;
  vertical-align: top; }
th:first-child, td:first-child, table.text td, table.text th { text-align: left; }
.chart { break-inside: avoid; margin: 1mm 0 2mm 0; }
.chart svg { width: 100%%; height: auto; max-height: 95mm; }
.balans-chart-table { display: none; }  /* the charts' tables: in the appendix already */
.stamp, .basis-note, .meta { color: #333; font-size: 8pt; }
.synthetic { border: 0.6pt solid #a33; padding: 1mm 2mm; }
.appendix { break-before: page; }
section.risks { break-inside: avoid; }
"""


def _css_string(text: str) -> str:
    """Text for a CSS string literal ("...") inside <style>: backslashes, quotes, line breaks
    and "<" escaped (a scenario's name can never close the style element)."""
    return (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", " ")
        .replace("<", "\\3c ")
        .replace(">", "\\3e ")
    )


def paper_html(rep: Report, made: date | None = None) -> str:
    """The board paper as one HTML document for print."""
    r, lang = rep.result, rep.lang
    made = made or date.today()
    head = label("paper.head", lang).format(
        case=r.case.short_name,
        scenario=r.scenario.name,
        close=month_name(r.case.cutoff, lang),
        date=made.isoformat(),
    )
    esc = html.escape
    main = [
        str(rep.title()),
        f'<p class="meta">{esc(label("paper.made", lang).format(date=made.isoformat()))}</p>',
        str(rep.summary()),
        str(rep.headline()),
        str(rep.forecast_charts()),
        str(rep.bridge()),
        f'<section class="risks">{rep.risks()}</section>',
    ]
    appendix = [
        f'<h1 id="{APPENDIX_ID}" class="appendix">{esc(label("paper.appendix", lang))}</h1>',
        f"<p>{esc(label('paper.appendix_note', lang))}</p>",
        str(rep.forecast_table()),
        str(rep.closes()),
        str(rep.staffing()),
        str(rep.access()),
        str(rep.uncertainty()),
        str(rep.divisions()),
        str(rep.accounts()),
        str(rep.sources()),
        str(rep.stamp()),
    ]
    style = PAPER_STYLE % {
        "head": _css_string(head),
        "page": label("paper.page", lang),
        "of": label("paper.of", lang),
    }
    # the appendix's long tables may run over a page, their header repeated on each
    body = "".join(main) + "".join(appendix).replace("<table>", '<table class="long">')
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{esc(head)}</title><style>{style}</style></head><body>{body}</body></html>"
    )


def render(rep: Report, made: date | None = None) -> Any:
    """The board paper laid out in pages (a WeasyPrint document)."""
    from weasyprint import HTML

    return HTML(string=paper_html(rep, made)).render()


def main_pages(document: Any) -> int:
    """How many pages the main part takes: the pages before the appendix's heading."""
    for page_no, page in enumerate(document.pages):
        if any(anchor == APPENDIX_ID for anchor in page.anchors):
            return page_no
    return len(document.pages)


def paper_pdf(rep: Report, made: date | None = None) -> bytes:
    """The board paper as PDF bytes (A4)."""
    return render(rep, made).write_pdf()


def write_paper(rep: Report, path: str | Path) -> Path:
    """Write the board paper to ``path`` atomically."""
    from balans.atomic import write_bytes_atomic

    path = Path(path)
    write_bytes_atomic(path, paper_pdf(rep))
    return path
