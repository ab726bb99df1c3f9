"""Printing: every sheet of a single report's workbook and of a 40-report summary, printed to A4 by LibreOffice.

The PDF is read back with PDFium (pypdfium2): no character may lie beyond the page's margins (text cut at the
edge), the summary must fit its page budget, the wide sheets print landscape with their labels on every
page, and each chart has a page of its own. Each page says its sheet's name in its header (&A).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from convert.merge import merge_inputs
from convert.outputs.standard import write_workbook
from convert.outputs.template import load_template
from convert.reader import read_report
from tests.county import county_records, write_text
from tests.docgen import convert_documents
from tests.lo import needs_libreoffice

pdfium = pytest.importorskip("pypdfium2")

pytestmark = needs_libreoffice
LAYOUT = load_template()
PT = 72  # points per inch
# A character's box may stick out by its side bearing; more than this is text past the margin.
TOLERANCE = 2.0


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """Print a single report's workbook and a 40-report summary (one LibreOffice start); return their pages."""
    root = tmp_path_factory.mktemp("print")
    reports = county_records(40, 2025)
    write_text(reports, root / "in")
    title = "某某县2025年度政府信息公开工作年度报告汇总"
    summary = merge_inputs([root / "in"], root / "summary.xlsx", title=title, jobs=2).path
    samples = Path(__file__).resolve().parent.parent / "samples"
    single = write_workbook(read_report(samples / "houhe-2021.txt"), root / "single.xlsx")
    pdfs = convert_documents([single, summary], "pdf", root / "pdf")
    return {name: _pages(pdf) for name, pdf in zip(("single", "summary"), pdfs, strict=True)}


def _pages(pdf: Path) -> list[dict[str, Any]]:
    """Return each page's size, its characters' extent and median size, its header's sheet name and its text.

    Read with PDFium (pdfplumber's engine for the reader, and ten times faster than pdfminer on these pages).
    """
    sheets = _sheet_names()
    out = []
    doc = pdfium.PdfDocument(str(pdf))
    try:
        for page in doc:
            width, height = page.get_size()
            text = page.get_textpage()
            boxes, sizes = [], []
            for i in range(text.count_chars()):
                left, bottom, right, top = text.get_charbox(i)
                # What lies off the page is not printed (LibreOffice leaves the page's neighbours' charts in
                # its content, clipped away): only what is on it counts.
                if right <= left or right <= 0 or left >= width or top <= 0 or bottom >= height:
                    continue
                boxes.append((left, right))
                if 0.6 * PT < bottom and top < height - 0.6 * PT:
                    sizes.append(pdfium.raw.FPDFText_GetFontSize(text.raw, i))
            header = text.get_text_bounded(0, height - 0.6 * PT, width, height)
            sizes.sort()
            out.append(
                {
                    "width": width,
                    "height": height,
                    "left": min((b[0] for b in boxes), default=width),
                    "right": max((b[1] for b in boxes), default=0.0),
                    "sheet": next((s for s in sheets if s in header), ""),
                    "size": sizes[len(sizes) // 2] if sizes else 0.0,
                    "text": text.get_text_range(),
                    "top": text.get_text_bounded(0, height * 3 / 4, width, height),
                }
            )
            text.close()
            page.close()
    finally:
        doc.close()
    return out


def _sheet_names() -> list[str]:
    """Every sheet name a page header can show, the longest first (汇总·三 申请处理 before 三 申请处理)."""
    from convert.formats import known_versions, load_format

    std, summary = LAYOUT.standard, LAYOUT.summary
    names = {std.cover_sheet, std.check_sheet, std.provenance_sheet}
    names |= {s.sheet for v in known_versions() for s in load_format(v).sections}
    names |= {summary.check_sheet_name, summary.chart_sheet_name, summary.compare_sheet_name}
    names |= {summary.prefix + s for s in (summary.proactive_sheet, summary.requests_sheet, summary.appeals_sheet)}
    return sorted(names, key=len, reverse=True)


def test_no_text_past_the_margins(printed: dict[str, list[dict[str, Any]]]) -> None:
    margins = LAYOUT.standard.print.margins
    for name, pages in printed.items():
        for n, page in enumerate(pages, start=1):
            right = page["width"] - margins.right * PT + TOLERANCE
            assert page["right"] <= right, (name, n, page["sheet"], page["right"], right)
            assert page["left"] >= margins.left * PT - TOLERANCE, (name, n, page["sheet"], page["left"])


def test_every_sheet_prints_and_names_itself(printed: dict[str, list[dict[str, Any]]]) -> None:
    from convert.formats import load_format

    std = LAYOUT.standard
    expected = {std.cover_sheet, std.check_sheet, std.provenance_sheet} | {
        s.sheet for s in load_format("2021").sections
    }
    for name, pages in printed.items():
        assert all(p["sheet"] for p in pages), (name, [p["text"][:40] for p in pages if not p["sheet"]])
        assert expected <= {p["sheet"] for p in pages}, name


def test_single_report_cover_and_text_sheets_print_readably(printed: dict[str, list[dict[str, Any]]]) -> None:
    pages = printed["single"]
    per_sheet = Counter(p["sheet"] for p in pages)
    std = LAYOUT.standard
    assert per_sheet[std.cover_sheet] == 1
    cover = next(p for p in pages if p["sheet"] == std.cover_sheet)
    # 11-point text at (nearly) its size: the cover is laid out for a portrait page at 100 % (LibreOffice
    # without Excel's default font draws columns a little wider, hence the margin).
    assert cover["height"] > cover["width"] and cover["size"] >= 8.0, cover["size"]
    overview = next(p for p in pages if p["sheet"] == "一 总体情况")
    assert overview["size"] >= 8.0 and "总体情况" in overview["text"]
    # The wide sheets print landscape.
    for page in pages:
        if page["sheet"] in ("三 申请处理", "四 复议诉讼", std.check_sheet):
            assert page["width"] > page["height"], page["sheet"]


def test_summary_of_40_reports_fits_its_page_budget(printed: dict[str, list[dict[str, Any]]]) -> None:
    pages = printed["summary"]
    per_sheet = Counter(p["sheet"] for p in pages)
    assert len(pages) <= 30, per_sheet
    for totals in ("二 主动公开", "三 申请处理", "四 复议诉讼", LAYOUT.standard.cover_sheet):
        assert 1 <= per_sheet[totals] <= 2, (totals, per_sheet)
    assert "某某县2025年度政府信息公开工作年度报告汇总" in next(
        p["text"] for p in pages if p["sheet"] == LAYOUT.standard.cover_sheet
    )


def test_wide_detail_sheets_print_landscape_with_their_labels_on_every_page(
    printed: dict[str, list[dict[str, Any]]],
) -> None:
    summary = LAYOUT.summary
    detail = summary.prefix + summary.requests_sheet
    pages = [p for p in printed["summary"] if p["sheet"] == detail]
    assert len(pages) > 1
    agency = summary.detail.columns[0].header
    for page in pages:
        assert page["width"] > page["height"]
        # The agency column and the row labels repeat on each page of columns.
        assert agency in page["text"] and "城关镇" in page["text"] and "福禄镇" in page["text"]
        assert "自然人" in page["text"]


def test_each_chart_prints_on_its_own_page(printed: dict[str, list[dict[str, Any]]]) -> None:
    chart = LAYOUT.summary.chart
    pages = [p for p in printed["summary"] if p["sheet"] == LAYOUT.summary.chart_sheet_name]
    titles = [c.title for c in chart.charts]
    # A chart's title at the top of its page. (LibreOffice also leaves the next chart in a page's content,
    # clipped away below its print range: text extraction sees it near the bottom, so only the top counts.)
    starts = [[t for t in titles if t in p["top"].replace("\r", "").replace("\n", "")] for p in pages]
    assert [t for found in starts for t in found] == titles, starts
    assert all(len(found) <= 1 for found in starts), starts
    assert len(pages) == len(titles) + 1  # the data, then a page per chart
