"""The board paper: an A4 PDF in Swedish whose main part fits on four pages with no table
cut, the long tables in an appendix, rendered offline; a picture of its first page is kept
under build/look/."""

from __future__ import annotations

import pytest
from conftest import REPO

from balans.presentation import report
from balans.presentation.paper import main_pages, paper_html, render

LOOK = REPO / "build" / "look"
A4_PX = (793.7, 1122.5)  # 210 x 297 mm at 96 CSS px per inch


@pytest.fixture(scope="module", params=["balanspaket_2024", "baseline"])
def paper(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("paper")
    rep = report.Report.from_parameters(
        str(REPO / "scenarios" / f"{request.param}.yaml"), str(out), "sv", ""
    )
    return request.param, rep, render(rep)


def _boxes(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from _boxes(child)


def test_the_main_part_fits_on_four_a4_pages_and_the_appendix_follows(paper) -> None:
    _name, _rep, doc = paper
    assert 1 <= main_pages(doc) <= 4
    assert len(doc.pages) > main_pages(doc)  # the appendix is there, after the main part
    for page in doc.pages:
        assert (round(page.width, 1), round(page.height, 1)) == A4_PX


def test_no_table_is_cut_at_the_edge_or_split_in_the_main_part(paper) -> None:
    _name, _rep, doc = paper
    seen: dict[int, set[int]] = {}
    for number, page in enumerate(doc.pages):
        box = page._page_box
        right = box.content_box_x() + box.width
        for b in _boxes(box):
            if getattr(b, "element_tag", None) == "table" and hasattr(b, "margin_width"):
                assert b.position_x + b.margin_width() <= right + 0.5, f"page {number + 1}"
                seen.setdefault(id(b.element), set()).add(number)
    main = main_pages(doc)
    split = [pages for pages in seen.values() if min(pages) < main and len(pages) > 1]
    assert split == [], "a table of the main part runs over a page"


def test_the_paper_is_swedish_dated_and_stamped(paper) -> None:
    _name, rep, _doc = paper
    text = paper_html(rep)
    r = rep.result
    for words in (
        "Nämndunderlag, utskrivet",
        "Utfall till och med april 2023",
        "Sammanfattning",
        "Från basprognos till scenario",
        "Risker och osäkerhet",
        "Bilaga: tabeller och underlag",
        "Källor för alla standardvärden",
        r.scenario.name,
        r.stamp["data_hash"],
        r.scenario.hash,
    ):
        assert words in text, words
    assert "Sida " in text and "counter(pages)" in text


def test_nothing_in_the_paper_loads_from_elsewhere(paper) -> None:
    _name, rep, _doc = paper
    text = paper_html(rep)
    assert "http://" not in text.replace("http://www.w3.org", "")
    assert "https://" not in text


def test_the_pdf_reads_back_and_its_first_page_is_kept_as_a_picture(paper) -> None:
    import pypdfium2 as pdfium

    name, _rep, doc = paper
    pdf = pdfium.PdfDocument(doc.write_pdf())
    assert len(pdf) == len(doc.pages)
    first = pdf[0].get_textpage().get_text_range()
    assert "Sida 1 av" in first and "Sammanfattning" in first
    LOOK.mkdir(parents=True, exist_ok=True)
    pdf[0].render(scale=1.5).to_pil().save(LOOK / f"paper_{name}_page1.png")
    assert (LOOK / f"paper_{name}_page1.png").stat().st_size > 10_000


def test_a_scenario_name_cannot_break_out_of_the_paper(tmp_path) -> None:
    hostile = tmp_path / "elak.yaml"
    hostile.write_text(
        'name: "x\\" }</style><h1 id=bilaga>inbrott</h1><style>"\n', encoding="utf-8"
    )
    rep = report.Report.from_parameters(str(hostile), str(tmp_path), "sv", "")
    text = paper_html(rep)
    assert "<h1 id=bilaga>" not in text
    assert "inbrott</h1><style>" not in text  # the name is text wherever it shows
