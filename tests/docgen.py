"""Render records as Word documents laid out like the official form, and turn them into .pdf or .doc with LibreOffice.

Used by tests and bench to make report documents whose every cell is known. The tables are built like the
official blank form's: one Word table per section with real merged cells (w:gridSpan across, w:vMerge down),
row labels 三、本年度办理结果 / （三）不予公开 spanning their rows, the two-level 申请人情况 header, and 四's fifteen
columns under two header levels. Options add what real documents show: phantom grid columns, sub-rows numbered
「1、」, label typos, a title on two lines, a 三 table that straddles a page break in the PDF.

Run from the repository root: python -m tests.docgen          (rewrite the golden documents and their records)
                               python -m tests.docgen OUT N    (write N documents of both versions into OUT)
"""

from __future__ import annotations

import io
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import docx  # python-docx (nianbao writes its notices with it)
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt

from convert.formats import Format, Table, load_format
from convert.record import Record, Value, dumps

ROOT = Path(__file__).resolve().parent.parent
LEFT, UP = "\x00<", "\x00^"  # a grid position merged with the cell on its left / above
PHANTOM_TWIPS = (18, 28, 40)  # < 57 twips (1 mm): what .doc round trips leave between real columns
DATA = ROOT / "tests" / "data"


@dataclass(frozen=True)
class DocxOptions:
    """Realistic variants of a generated document; the defaults are the official form, filled in."""

    phantom: bool = False  # thin grid columns (< 1 mm) that some rows' cells span on the left, others on the right
    numbering: str = "."  # "、" numbers sub-rows 「1、2、3、」 instead of 「1.2.3.」
    typos: bool = False  # 「2.其他法律行政止公开」, 「结果维护」, 规范性文件 for 行政规范性文件 (2021)
    # 商业/企业 and 科研/机构 as two paragraphs in their header cell, as the form prints them.
    split_headers: bool = True
    two_line_title: bool = False  # 「…人民政府」 / 「2023 年政府信息公开工作年度报告」 as two paragraphs
    straddle: bool = False  # 二 starts a new page, so 三 (after 二) runs over a page break in the PDF
    repeat_header: bool = False  # 三's three header rows repeat on every page (w:tblHeader)
    footers: bool = False  # a running header (the title) and a page number 「- 3 -」 at the foot of every page
    money_unit: bool = True  # money values printed with 万元, as convert/render.py does
    seed: int = 0  # which cell absorbs each phantom column, row by row


@dataclass
class FormTable:
    """One table as a grid: column widths in twips and, per row, text, LEFT or UP at each grid position."""

    key: str
    widths: list[int]
    rows: list[list[str]]
    header_rows: int = 0


def render_docx(record: Record, path: Path | None = None, options: DocxOptions | None = None) -> bytes:
    """Return the record as a .docx document laid out like the official form (and write it to path if given)."""
    opts = options or DocxOptions()
    fmt = load_format(record.format)
    document = docx.Document()
    _setup(document)
    title = record.title or f"{record.agency or ''}{record.year or ''}年政府信息公开工作年度报告"
    if opts.footers:
        _running_lines(document, title)
    for line in _title_lines(title, opts):
        _paragraph(document, line, size=18, bold=True, center=True)
    for text in record.text.get("preface", []):
        _paragraph(document, text, indent=True)
    for section in fmt.sections:
        heading = _paragraph(document, f"{section.number}、{section.heading}", bold=True)
        if opts.straddle and section.key == "proactive":
            heading.paragraph_format.page_break_before = True
        if section.kind == "text":
            for text in record.text.get(section.key, []):
                _paragraph(document, text, indent=True)
        else:
            _add_table(document, form_table(fmt, section.key, record, opts), opts)
            document.add_paragraph()  # Word keeps a paragraph after every table
    buf = io.BytesIO()
    document.save(buf)
    data = _stable_zip(buf.getvalue())
    if path is not None:
        Path(path).write_bytes(data)
    return data


def _stable_zip(data: bytes) -> bytes:
    """Rewrite the package with fixed member times, so the same record always gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(
                zipfile.ZipInfo(info.filename, date_time=(2021, 1, 1, 0, 0, 0)), src.read(info), zipfile.ZIP_DEFLATED
            )
    return out.getvalue()


def form_table(fmt: Format, key: str, record: Record, opts: DocxOptions | None = None) -> FormTable:
    """Lay out one table of the form as a grid with merge markers (phantom columns included if asked)."""
    opts = opts or DocxOptions()
    table = fmt.tables[key]
    build = {"proactive": _proactive, "requests": _requests, "appeals": _appeals}[key]
    grid = build(table, record, opts)
    if opts.phantom:
        rng = random.Random(f"{opts.seed}-{key}")
        # Right after the label columns (where .doc round trips leave them) and after the last column.
        after = {"proactive": [0], "requests": [2], "appeals": [4]}[key] + [len(grid.widths) - 1]
        for k in sorted(after, reverse=True):
            _add_phantom(grid, k, rng)
    return grid


# -- the three tables ---------------------------------------------------------------------------------------------------
def _proactive(table: Table, record: Record, opts: DocxOptions) -> FormTable:
    width = 1 + max(len(r.columns) for r in table.rows)
    rows: list[list[str]] = []
    last = None
    for row in table.rows:
        if row.group != last:
            rows.append([table.group(row.group).label if row.group else "", *[LEFT] * (width - 1)])
            rows.append(["信息内容", *_spread([table.column(c).label for c in row.columns], width - 1)])
            last = row.group
        values = [_value(record, f"proactive.{row.key}.{c}", table.column(c).type, opts) for c in row.columns]
        rows.append([_label(row.label, opts, record.format), *_spread(values, width - 1)])
    return FormTable("proactive", [9740 // width] * width, rows)


def _spread(cells: list[str], width: int) -> list[str]:
    """Place n cells over width grid columns, the last one spanning what is left (as the form does)."""
    return [*cells, *[LEFT] * (width - len(cells))] if cells else [""] * width


def _requests(table: Table, record: Record, opts: DocxOptions) -> FormTable:
    cols = list(table.columns)
    orgs = [c for c in cols if c.group]
    org_labels = [_header_word(c.label, opts) for c in orgs]
    rows = [
        [table.corner, LEFT, LEFT, table.column_header, *[LEFT] * (len(cols) - 1)],
        [UP, UP, UP, "自然人", orgs[0].group or "", *[LEFT] * (len(orgs) - 1), "总计"],
        [UP, UP, UP, UP, *org_labels, UP],
    ]
    results_started = False
    seen: set[str] = set()
    for row in table.form_rows:
        label = _label(row.label, opts, record.format)
        values = [_value(record, f"requests.{row.key}.{c.key}", c.type, opts) for c in cols]
        if row.group is None:
            rows.append([label, LEFT, LEFT, *values])
            continue
        outer = UP if results_started else table.group("results").label
        results_started = True
        if row.group == "results":
            rows.append([outer, label, LEFT, *values])
            continue
        inner = UP if row.group in seen else table.group(row.group).label
        seen.add(row.group)
        rows.append([outer, inner, label, *values])
    return FormTable("requests", [754, 921, 3271, *[685] * len(cols)], rows, header_rows=3)


def _appeals(table: Table, record: Record, opts: DocxOptions) -> FormTable:
    labels = [_label(c.label, opts, record.format) for c in table.columns]
    n = len(labels)
    suits = [r for r in table.rows if r.group]
    rows = [
        [table.rows[0].label, *[LEFT] * (n - 1), table.group("suits").label, *[LEFT] * (n * len(suits) - 1)],
        [*labels, *[x for r in suits for x in (r.label, *[LEFT] * (n - 1))]],
        [*[UP] * n, *labels * len(suits)],
        [_value(record, f"appeals.{r.key}.{c.key}", c.type, opts) for r in table.rows for c in table.columns],
    ]
    width = n * len(table.rows)
    return FormTable("appeals", [649] * 7 + [650] * (width - 7), rows, header_rows=3)


def _value(record: Record, key: str, kind: str, opts: DocxOptions) -> str:
    v: Value = record.cells.get(key)
    if v is None:
        return ""  # a blank cell is not a zero
    note = record.notes.get(key, "")
    if kind == "money" and isinstance(v, Decimal):
        return f"{format(v, 'f')}{'万元' if opts.money_unit else ''}{note}"
    return f"{v}{note}"


TYPOS = {
    "2.其他法律行政法规禁止公开": "2.其他法律行政止公开",
    "结果维持": "结果维护",
}


def _label(label: str, opts: DocxOptions, version: str) -> str:
    if opts.typos:
        label = TYPOS.get(label, label)
        if version == "2021" and label == "行政规范性文件":
            label = "规范性文件"
    if opts.numbering != ".":
        label = re.sub(r"^(\d{1,2})\.", rf"\1{opts.numbering}", label)
    return label


def _header_word(label: str, opts: DocxOptions) -> str:
    # The form breaks these four-character words over two lines: two paragraphs in one cell.
    if opts.split_headers and label in ("商业企业", "科研机构"):
        return f"{label[:2]}\n{label[2:]}"
    return label


def _add_phantom(grid: FormTable, k: int, rng: random.Random) -> None:
    """Insert a thin grid column after column k; per row, the cell on its left or on its right spans it."""
    owner = "L"
    for r, row in enumerate(grid.rows):
        a = row[k]
        b = row[k + 1] if k + 1 < len(row) else None
        if b is None:
            new = UP if a == UP else LEFT
        elif a == UP and b == UP:
            new = UP
        elif a == UP or b == UP:
            # A cell merged down keeps (or keeps out) the column as in the row where it started.
            if owner == "L":
                new = UP if a == UP else LEFT
            elif b == UP:
                new = UP
            else:
                new, row[k + 1] = b, LEFT
        elif b == LEFT:
            new = LEFT  # one cell covers both sides
        else:
            owner = rng.choice("LR") if r >= grid.header_rows else "L"
            if owner == "R":
                new, row[k + 1] = b, LEFT
            else:
                new = LEFT
        row.insert(k + 1, new)
    grid.widths.insert(k + 1, rng.choice(PHANTOM_TWIPS))


# -- writing the document -----------------------------------------------------------------------------------------------
def _setup(document: Any) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(1.8)
    section.top_margin = section.bottom_margin = Cm(2.5)
    normal = document.styles["Normal"]
    normal.font.size = Pt(12)
    normal.font.name = "Times New Roman"
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), "宋体")  # LibreOffice substitutes an installed CJK font


def _paragraph(
    document: Any, text: str, *, size: int = 0, bold: bool = False, center: bool = False, indent: bool = False
) -> Any:
    p = document.add_paragraph()
    run = p.add_run(text)
    run.bold = bold or None
    if size:
        run.font.size = Pt(size)
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if indent:
        p.paragraph_format.first_line_indent = Pt(24)
    return p


def _running_lines(document: Any, title: str) -> None:
    """A header with the title and a footer 「- N -」 (a PAGE field) on every page, as published reports have."""
    section = document.sections[0]
    head = section.header.paragraphs[0]
    head.text = title
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    foot.add_run("- ")
    foot._p.append(parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr="PAGE"><w:r><w:t>1</w:t></w:r></w:fldSimple>'))
    foot.add_run(" -")


def _title_lines(title: str, opts: DocxOptions) -> list[str]:
    m = re.search(r"(?:19|20)\d{2}", title)
    if not opts.two_line_title or not m or m.start() == 0:
        return [title]
    # As printed by 洪泽区: the agency on one line, 「2023 年…报告」 (with a space) on the next.
    return [title[: m.start()], f"{m.group(0)} {title[m.end() :]}"]


def _add_table(document: Any, grid: FormTable, opts: DocxOptions) -> None:
    """Append the grid as a Word table: one w:tc per cell, w:gridSpan across and w:vMerge down, as Word writes them."""
    # Written as XML rather than through python-docx's cell.merge(), which recomputes the grid on every call
    # (seconds per document); the markup is the same.
    n_rows, n_cols = len(grid.rows), len(grid.widths)
    style = document.styles["Table Grid"].style_id
    parts = [
        f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblStyle w:val="{style}"/>'
        f'<w:tblW w:w="{sum(grid.widths)}" w:type="dxa"/><w:jc w:val="center"/>'
        '<w:tblLayout w:type="fixed"/><w:tblCellMar><w:left w:w="28" w:type="dxa"/><w:right w:w="28" w:type="dxa"/></w:tblCellMar><w:tblLook w:val="04A0"/></w:tblPr><w:tblGrid>',
        *(f'<w:gridCol w:w="{w}"/>' for w in grid.widths),
        "</w:tblGrid>",
    ]
    for r, row in enumerate(grid.rows):
        assert len(row) == n_cols, (grid.key, r, len(row), n_cols)
        # At least 0.6 cm a row, as the form sets it; header rows may repeat on every page.
        header = "<w:tblHeader/>" if opts.repeat_header and r < grid.header_rows else ""
        parts.append(f'<w:tr><w:trPr><w:trHeight w:val="340" w:hRule="atLeast"/>{header}</w:trPr>')
        c = 0
        while c < n_cols:
            text = row[c]
            assert text != LEFT, (grid.key, r, c)
            top = r
            while grid.rows[top][c] == UP:
                top -= 1
            span = 1
            while c + span < n_cols and grid.rows[top][c + span] == LEFT:
                span += 1
            below = r + 1 < n_rows and grid.rows[r + 1][c] == UP
            merge = "<w:vMerge/>" if top < r else ('<w:vMerge w:val="restart"/>' if below else "")
            width = sum(grid.widths[c : c + span])
            gridspan = f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
            parts.append(f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{gridspan}{merge}')
            parts.append('<w:vAlign w:val="center"/></w:tcPr>')
            for line in ("" if text == UP else text).split("\n"):
                run = f'<w:r><w:rPr><w:sz w:val="21"/></w:rPr><w:t xml:space="preserve">{escape(line)}</w:t></w:r>'
                parts.append(f'<w:p><w:pPr><w:jc w:val="center"/></w:pPr>{run if line else ""}</w:p>')
            parts.append("</w:tc>")
            c += span
        parts.append("</w:tr>")
    parts.append("</w:tbl>")
    body = document.element.body
    body.sectPr.addprevious(parse_xml("".join(parts)))


# -- LibreOffice --------------------------------------------------------------------------------------------------------
def soffice() -> str | None:
    """Return the LibreOffice command, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_documents(paths: Iterable[Path], target: str, outdir: Path, timeout: float = 300) -> list[Path]:
    """Convert documents with one headless LibreOffice start (private profile, timeout); return the new files."""
    paths = [Path(p).resolve() for p in paths]
    exe = soffice()
    if exe is None:
        raise RuntimeError("LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui")
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nianbao-lo-") as profile:
        cmd = [
            exe,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            target,
            "--outdir",
            str(outdir),
            *map(str, paths),
        ]
        # Its own session, so a timeout kills soffice.bin too, not only the wrapper script.
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise RuntimeError(
                f"LibreOffice did not finish converting {len(paths)} file(s) in {timeout:.0f} s"
            ) from None
    suffix = "." + target.split(":", 1)[0]
    made = [outdir / f"{p.stem}{suffix}" for p in paths]
    missing = [p.name for p in made if not p.is_file()]
    if proc.returncode or missing:
        detail = (err or out).decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"LibreOffice failed (exit {proc.returncode}; missing {missing}): {detail[-1:] or ''}")
    return made


def to_pdf(docx_path: Path, outdir: Path | None = None, timeout: float = 180) -> Path:
    """Print a document to PDF with LibreOffice; return the PDF's path (beside the document unless outdir)."""
    docx_path = Path(docx_path)
    return convert_documents([docx_path], "pdf", outdir or docx_path.parent, timeout)[0]


def to_doc(docx_path: Path, outdir: Path | None = None, timeout: float = 180) -> Path:
    """Save a document as Word 97-2003 .doc with LibreOffice; return the .doc's path."""
    docx_path = Path(docx_path)
    return convert_documents([docx_path], "doc:MS Word 97", outdir or docx_path.parent, timeout)[0]


# -- golden documents ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Golden:
    """A committed golden document: its name, the record's version, seed, metadata and the variants it shows."""

    name: str
    version: str
    seed: int
    agency: str
    year: int
    title: str
    options: DocxOptions


GOLDENS = (
    Golden(
        "docx-form-2021",
        "2021",
        2101,
        "示例县城关镇",
        2021,
        "示例县城关镇人民政府2021年政府信息公开工作年度报告",
        DocxOptions(),
    ),
    Golden(
        "docx-phantom-2019",
        "2019",
        1902,
        "示例市某某区",
        2019,
        "示例市某某区2019年政府信息公开工作年度报告",
        DocxOptions(phantom=True, numbering="、", seed=7),
    ),
    Golden(
        "docx-blanks-2021",
        "2021",
        2203,
        "示例县某某乡",
        2022,
        "示例县某某乡人民政府2022年政府信息公开工作年度报告",
        DocxOptions(phantom=True, repeat_header=True, seed=3),
    ),
)


def golden_record(golden: Golden) -> Record:
    """Return the record a golden document is rendered from (blank cells in one of them: blank is not zero)."""
    from bench.generate import make_record

    record = make_record(golden.version, golden.seed, golden.year)
    record.agency, record.title = golden.agency, golden.title
    record.text = {
        "preface": [],
        "overview": [
            f"{golden.year}年，{golden.agency}认真贯彻落实《中华人民共和国政府信息公开条例》。",
            "（一）主动公开情况",
        ],
        "problems": ["一是公开质量有待提高。", "二是解读形式单一。"],
        "other": ["本年度未收取信息处理费。"],
    }
    if golden.name == "docx-blanks-2021":
        # Cells left empty in the printed table (their value was 0, so every rule still holds).
        rng = random.Random(golden.seed)
        zeros = sorted(k for k, v in record.cells.items() if v == 0 and k.startswith(("requests.denied_", "appeals.")))
        for key in rng.sample(zeros, min(8, len(zeros))):
            record.cells[key] = None
        record.cells["proactive.fees.amount"] = None
    return record


def expected_spec(golden: Golden, record: Record) -> dict[str, Any]:
    """The expected-record file of a golden document (the format of tests/test_reader_golden.py)."""
    return {
        "agency": golden.agency,
        "year": golden.year,
        "format": golden.version,
        "title": golden.title,
        "cells_default": None,
        "cells": {
            k: (format(v, "f") if isinstance(v, Decimal) else v) for k, v in record.cells.items() if v is not None
        },
        "blank": [],
        "notes": {},
        "text": {k: record.text[k] for k in ("overview", "problems", "other")},
        "warnings_include": [],
        "warnings_exclude": ["rule-failed", "row-misaligned", "unplaced-line", "missing-row"],
    }


def write_goldens(data: Path = DATA) -> list[Path]:
    """Write every golden document and its expected-record file; return the documents' paths."""
    out = []
    for golden in GOLDENS:
        record = golden_record(golden)
        path = data / "reports" / f"{golden.name}.docx"
        render_docx(record, path, golden.options)
        spec = data / "expected" / f"{golden.name}.json"
        spec.write_text(dumps(expected_spec(golden, record), indent=2) + "\n", encoding="utf-8")
        out.append(path)
    return out


def main(argv: list[str]) -> None:
    """Command line: no arguments rewrites the goldens; OUT N writes N generated documents."""
    if not argv:
        for path in write_goldens():
            print(path.relative_to(ROOT))
        return
    from bench.generate import make_record

    out, n = Path(argv[0]), int(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        version = ("2019", "2021")[i % 2]
        opts = replace(DocxOptions(), phantom=i % 3 == 1, numbering="、" if i % 4 == 3 else ".", seed=i)
        render_docx(make_record(version, i), out / f"r{i:05d}.docx", opts)


if __name__ == "__main__":
    main(sys.argv[1:])
