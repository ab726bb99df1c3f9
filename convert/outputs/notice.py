"""Lay out a 整改通知 as a Word document (python-docx) and the overview of every notice as a workbook.

The texts come from workbook_templates/texts.toml (notice-*, in the user's language), the look from the
[notice] table of layout.toml. Both files are written atomically.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from convert.atomic import atomic_output
from convert.checks.catalogue import text
from convert.checks.verdict import FAIL, state_label
from convert.merge_model import ERROR, NOTE, REVIEW, MergeRow
from convert.notice import REFUSED, fix_for
from convert.outputs.layout import row_height
from convert.outputs.printing import setup_page
from convert.outputs.template import load_template
from convert.outputs.xlsxfast import FastWorkbook, write_atomically, write_string

HEADINGS = ((ERROR, "notice-errors"), (REVIEW, "notice-reviews"), (NOTE, "notice-notes"))


def write_notice(path: Path, row: MergeRow, *, issuer: str | None, due: str | None, today: date, force: bool) -> Path:
    """Write one report's notice: the report named, each problem with what to correct, a line for the reply."""
    look = load_template().notice
    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    m = look.margins
    section.left_margin, section.right_margin = Cm(m.left), Cm(m.right)
    section.top_margin, section.bottom_margin = Cm(m.top), Cm(m.bottom)
    _font(document.styles["Normal"], look.body_font, look.body_size)

    def para(words: str, *, bold: bool = False, center: bool = False, right: bool = False, indent: bool = False) -> Any:
        p = document.add_paragraph()
        run = p.add_run(words)
        run.bold = bold
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif right:
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        if indent:
            p.paragraph_format.first_line_indent = Pt(look.body_size * 2)
        return p

    title = para(text("notice-title", agency=row.agency, year=row.year or ""), bold=True, center=True)
    _font(title.runs[0], look.title_font, look.title_size)
    para(text("notice-to", agency=row.agency))
    files = text("problem-separator").join([row.source, *row.also])
    report = row.title or text("notice-title", agency=row.agency, year=row.year or "")
    para(text("notice-intro", title=report, files=files, verdict=state_label(row.state)), indent=True)
    para(text("notice-due", due=due) if due else text("notice-no-due"), indent=True)
    for kind, heading in HEADINGS:
        items = [p for p in row.problems if p.kind == kind]
        if not items:
            continue
        para(text(heading, count=len(items)), bold=True)
        for n, problem in enumerate(items, start=1):
            message = problem.message.rstrip("。.；; ")
            if problem.where:
                para(text("notice-item", number=n, where=problem.where, message=message), indent=True)
            else:
                para(text("notice-item-plain", number=n, message=message), indent=True)
            fix = fix_for(problem)
            if fix:
                p = para(text("notice-fix", fix=fix), indent=True)
                _font(p.runs[0], look.body_font, look.small_size)
    para(text("notice-reply"), bold=True)
    for _ in range(3):
        para(text("notice-reply-line"))
    para(text("notice-reply-sign"))
    if issuer:
        para(issuer, right=True)
    para(text("notice-date", year=today.year, month=f"{today.month:02d}", day=f"{today.day:02d}"), right=True)
    buf = io.BytesIO()
    document.save(buf)
    with atomic_output(path, force=force) as tmp:
        tmp.write_bytes(buf.getvalue())
    return path


def _font(target: Any, name: str, size: float) -> None:
    """Set a style's or run's font, the East Asian one too (Word picks Chinese glyphs from that)."""
    target.font.name = name
    target.font.size = Pt(size)
    rpr = target.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), name)


def write_overview(
    path: Path, written: Sequence[tuple[MergeRow, Path]], refused: Sequence[tuple[str, str]], *, force: bool
) -> Path:
    """Write the overview: one row per notice (with a link to it), one per report that could not be read."""
    look = load_template().notice.overview
    col = {c.key: i for i, c in enumerate(look.columns)}
    widths = {c.key: c.width for c in look.columns}
    sep = look.separator

    def build(wb: FastWorkbook) -> None:
        from convert.outputs.standard import Styles

        styles = Styles(wb)
        ws = wb.add_worksheet(look.sheet)
        ws.merge_range(0, 0, 0, len(look.columns) - 1, "", styles.title)
        write_string(ws, 0, 0, look.title.format(count=len(written)), styles.title)
        for c, column in enumerate(look.columns):
            ws.set_column(c, c, column.width)
            write_string(ws, 1, c, column.header, styles.header)
        r = 2
        for n, (row, notice) in enumerate(written, start=1):
            problems = [p for p in row.problems if p.kind != NOTE]
            main = sep.join(
                (text("problem-at", where=p.where, message=p.message) if p.where else p.message)
                for p in problems[: look.max_problems]
            )
            cells: dict[str, Any] = {
                "number": n,
                "agency": row.agency,
                "year": row.year,
                "source": text("problem-separator").join([row.source, *row.also]),
                "status": state_label(row.state),
                "errors": sum(p.kind == ERROR for p in row.problems),
                "reviews": sum(p.kind == REVIEW for p in row.problems),
                "problems": main,
            }
            _row(ws, r, col, cells, styles)
            ws.write_url(r, col["file"], f"external:{notice.name}", styles.link, string=notice.name)
            ws.write_blank(r, col["reply"], None, styles.text_cell)
            ws.set_row(r, row_height(main, widths["problems"], look.line_height, look.min_height))
            r += 1
        for n, (path_, error) in enumerate(refused, start=len(written) + 1):
            message = text("problem-refused", error=error)
            cells = {"number": n, "source": path_, "status": state_label(FAIL), "problems": message}
            _row(ws, r, col, cells, styles)
            write_string(ws, r, col["file"], REFUSED, styles.key)
            ws.set_row(r, row_height(message, widths["problems"], look.line_height, look.min_height))
            r += 1
        ws.freeze_panes(2, 2)
        ws.autofilter(1, 0, max(r - 1, 1), len(look.columns) - 1)
        setup_page(ws, landscape=look.orientation == "landscape", header="&C&A", footer="&C&P / &N")
        ws.repeat_rows(1)

    return write_atomically(path, build, force=force)


def _row(ws: Any, r: int, col: dict[str, int], cells: dict[str, Any], styles: Any) -> None:
    for key, c in col.items():
        value = cells.get(key)
        if value is None or key in ("file", "reply"):
            if key not in ("file", "reply"):
                ws.write_blank(r, c, None, styles.text_cell)
            continue
        if isinstance(value, int):
            ws.write_number(r, c, value, styles.number)
        else:
            write_string(ws, r, c, str(value), styles.text_cell)
