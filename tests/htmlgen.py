"""Render records as web pages the way county sites publish them: Word-exported HTML, and .mht web archives.

Used by tests and bench to make saved web pages whose every cell is known. The report is laid out like the official
form (the grids of tests/docgen.py, merged cells included) and written as Word's "Save as Web Page" writes it: every
real column of a table cut into 2-4 narrow grid columns because each row's cell edges sit a little apart, cells
spanning them (differently in every row), Word's last row of grid widths, every text in spans (labels split across
them), mso- styles, <o:p> tags, conditional comments, source lines wrapped inside words. Around it, optionally, the
site's page: navigation, breadcrumbs and the metadata table (索引号, 发布机构, 标题 …) before the report. GBK encoded,
declared by <meta http-equiv>. As .mht: Word's single-file web page (quoted-printable GBK HTML, a picture, a file
list) or a browser's (the site's page).

Run from the repository root: python -m tests.htmlgen          (rewrite the golden pages and their records)
                               python -m tests.htmlgen OUT N    (write N pages of both versions into OUT)
"""

from __future__ import annotations

import base64
import html
import itertools
import quopri
import random
import re
import sys
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from convert.formats import load_format
from convert.record import Record, dumps
from tests.docgen import LEFT, UP, DocxOptions, form_table

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
TWIPS_PER_PX = 15  # 96 dpi


@dataclass(frozen=True)
class PageOptions:
    """Variants of a generated page; the defaults are a Word-exported report on a county site, in GBK."""

    encoding: str = "gbk"
    site: bool = True  # the site's page around the report (navigation, breadcrumbs, footer)
    metadata: str = "table"  # the site's metadata before the report: "table", "lines" or "" for none
    title: bool = True  # the report's own title; without it only the metadata's 发布机构 names the agency
    drift: tuple[int, int] = (2, 4)  # edge positions per column boundary over the rows: 1 = no narrow columns
    sizing_row: bool = True  # Word's last row <tr height=0> with every grid column's width
    widths: bool = True  # width attributes and styles on the cells
    wrap: bool = True  # source lines wrapped at ~76 characters, inside Chinese words too, as Word does
    issuer: str = ""  # 发布机构 in the metadata (default: the agency's 人民政府办公室)
    lean: bool = False  # shorter styles (Word's markup, a third of its size: for the committed goldens)
    docx: DocxOptions = field(default_factory=DocxOptions)  # the tables' layout (phantom columns, numbering …)
    seed: int = 0


# ---------------------------------------------------------------------------------------------------- the Word body
MSO_CELL = (
    "vertical-align:middle;border:solid windowtext 1.0pt;border-top:none;mso-border-top-alt:solid windowtext .5pt;"
    "mso-border-alt:solid windowtext .5pt;padding:0cm 1.4pt 0cm 1.4pt"
)
FONT_CN = (
    "font-size:10.5pt;font-family:宋体;mso-ascii-font-family:&quot;Times New Roman&quot;;mso-bidi-font-family:宋体"
)
PARA_CELL = " style='text-align:center;mso-pagination:widow-orphan'"
LEAN_CELL = "border:solid windowtext 1.0pt;mso-border-alt:solid windowtext .5pt"
LEAN_CN = "font-family:宋体"
FONT_BODY = "font-size:16.0pt;font-family:仿宋_GB2312;mso-hansi-font-family:&quot;Times New Roman&quot;"


def _runs(text: str, rng: random.Random, style: str) -> str:
    """Text as Word writes it: ASCII in <span lang=EN-US>, Chinese in styled spans, split at random points."""
    pieces = re.findall(r"[\x00-\x7f]+|[^\x00-\x7f]+", text)
    out: list[str] = []
    for piece in pieces:
        if piece.isascii():
            out.append(f"<span lang=EN-US style='{style}'>{html.escape(piece, quote=False)}</span>")
            continue
        cuts = (
            sorted(rng.sample(range(1, len(piece)), min(len(piece) - 1, rng.randint(0, 2)))) if len(piece) > 1 else []
        )
        parts = [piece[a:b] for a, b in zip([0, *cuts], [*cuts, len(piece)], strict=True)]
        for part in parts:
            esc = html.escape(part, quote=False)
            if rng.random() < 0.25:
                # Word nests a run in another when only one property changes (a bookmark, a kerning).
                esc = f"<span style='mso-font-kerning:0pt'>{esc}</span>"
            out.append(f"<span style='{style}'>{esc}</span>")
    return "".join(out)


def _paragraph(text: str, rng: random.Random, *, style: str = FONT_BODY, align: str = "", bold: bool = False) -> str:
    attrs = f" align={align} style='text-align:{align}'" if align else " style='text-indent:32.0pt;line-height:28.0pt'"
    body = _runs(text, rng, style) if text else ""
    if text and not align and rng.random() < 0.3:
        body = "<span style='mso-spacerun:yes'>&nbsp;&nbsp; </span>" + body  # spaces typed to indent
    if bold and body:
        body = f"<b>{body}</b>"
    return f"<p class=MsoNormal{attrs}>{body}<span lang=EN-US><o:p>{'' if text else '&nbsp;'}</o:p></span></p>"


def _edges(widths: list[int], rows: list[list[str]], rng: random.Random, opts: PageOptions) -> list[list[int]]:
    """Per row, the position (twips) of every column boundary: each boundary has a few positions over the rows.

    A cell merged down keeps its edges in the rows below; every other edge takes one of its boundary's positions.
    """
    n = len(widths)
    at = [0]
    for w in widths:
        at.append(at[-1] + w)
    choices: list[list[int]] = [[0]]
    for k in range(1, n):
        room = max(1, min(widths[k - 1], widths[k]) // 8)  # small beside the cells (phantom columns are thin)
        want = rng.randint(*opts.drift) if room >= 5 else 1
        offsets = [d for d in range(-room, room + 1) if d]
        choices.append([0, *rng.sample(offsets, min(len(offsets), want - 1))])
    choices.append([0])
    per_row: list[list[int]] = []
    for r, row in enumerate(rows):
        pos = [at[k] + rng.choice(choices[k]) for k in range(n + 1)]
        for c in range(n):
            if row[c] == UP:
                # The cell above reaches into this row: its edges hold.
                top = r
                while rows[top][c] == UP:
                    top -= 1
                left = c
                while left > 0 and rows[top][left] == LEFT:
                    left -= 1
                right = c + 1
                while right < n and rows[top][right] == LEFT:
                    right += 1
                pos[left], pos[right] = per_row[top][left], per_row[top][right]
        per_row.append(pos)
    return per_row


def word_table(record: Record, key: str, rng: random.Random, opts: PageOptions) -> str:
    """One table of the form as Word's HTML export writes it: narrow grid columns, cells spanning them."""
    fmt = load_format(record.format)
    ft = form_table(fmt, key, record, opts.docx)
    rows, n = ft.rows, len(ft.widths)
    edges = _edges(ft.widths, rows, rng, opts)
    # The grid is every edge position any row uses.
    used: set[int] = set()
    cells: list[list[tuple[int, int, int, str]]] = []  # per row: (left, right, rowspan, text)
    for r, row in enumerate(rows):
        out = []
        c = 0
        while c < n:
            if row[c] in (LEFT, UP):
                c += 1
                continue
            span = 1
            while c + span < n and row[c + span] == LEFT:
                span += 1
            down = 1
            while r + down < len(rows) and rows[r + down][c] == UP:
                down += 1
            left, right = edges[r][c], edges[r][c + span]
            used |= {left, right}
            out.append((left, right, down, row[c]))
            c += span
        cells.append(out)
    grid = sorted(used)
    index = {x: i for i, x in enumerate(grid)}
    total = grid[-1]
    parts = [
        f"<table class=MsoNormalTable border=1 cellspacing=0 cellpadding=0 width={total // TWIPS_PER_PX} "
        f"style='width:{total / 20:.1f}pt;border-collapse:collapse;border:none;mso-border-alt:solid windowtext .5pt;"
        "mso-yfti-tbllook:1184;mso-padding-alt:0cm 1.4pt 0cm 1.4pt'>"
    ]
    for r, row in enumerate(cells):
        first = ";mso-yfti-firstrow:yes" if r == 0 else ""
        parts.append(f" <tr style='mso-yfti-irow:{r}{first};height:17.0pt'>")
        for left, right, down, text in row:
            attrs = ""
            twips = right - left
            if opts.widths:
                attrs += f" width={round(twips / TWIPS_PER_PX)}"
            span = index[right] - index[left]
            if span > 1:
                attrs += f" colspan={span}"
            if down > 1:
                attrs += f" rowspan={down}"
            style = (f"width:{twips / 20:.1f}pt;" if opts.widths else "") + (LEAN_CELL if opts.lean else MSO_CELL)
            font = LEAN_CN if opts.lean else FONT_CN
            paras = []
            for line in text.split("\n"):
                body = _runs(line, rng, font) if line else ""
                if line and rng.random() < 0.15:
                    body = f"<b style='mso-bidi-font-weight:normal'>{body}</b>"
                p = "<p class=MsoNormal align=center" + ("" if opts.lean else PARA_CELL) + ">"
                paras.append(f"{p}{body}<span lang=EN-US><o:p>{'' if line else '&nbsp;'}</o:p></span></p>")
            parts.append(f"  <td{attrs} style='{style}'>\n  {''.join(paras)}\n  </td>")
        parts.append(" </tr>")
    if opts.sizing_row:
        # Word's row of grid widths, for browsers that do not lay misaligned columns out themselves.
        widths = "".join(
            f"  <td width={round((b - a) / TWIPS_PER_PX)} style='border:none'></td>\n"
            for a, b in itertools.pairwise(grid)
        )
        parts.append(f" <![if !supportMisalignedColumns]>\n <tr height=0>\n{widths} </tr>\n <![endif]>")
    parts.append("</table>")
    return "\n".join(parts)


def word_body(record: Record, opts: PageOptions, rng: random.Random) -> str:
    """The report as the body of Word's HTML export (the <div class=WordSection1>)."""
    fmt = load_format(record.format)
    parts = ["<div class=WordSection1 style='layout-grid:15.6pt'>"]
    if opts.title:
        title = record.title or f"{record.agency or ''}{record.year or ''}年政府信息公开工作年度报告"
        parts.append(_paragraph(title, rng, style="font-size:22.0pt;font-family:方正小标宋简体", align="center"))
        parts.append(_paragraph("", rng))
    for text in record.text.get("preface", []):
        parts.append(_paragraph(text, rng))
    for section in fmt.sections:
        parts.append(_paragraph(f"{section.number}、{section.heading}", rng, style="font-family:黑体", bold=True))
        if section.kind == "text":
            parts += [_paragraph(text, rng) for text in record.text.get(section.key, [])]
        else:
            parts.append(word_table(record, section.key, rng, opts))
            parts.append(_paragraph("", rng))
    # A drawing Word keeps as VML for itself and as a picture for browsers.
    parts.append(
        '<p class=MsoNormal><!--[if gte vml 1]><v:shape id="_x0000_i1025" type="#_x0000_t75">'
        '<v:imagedata src="report.files/image001.png" o:title="印章"/></v:shape><![endif]--><![if !vml]>'
        '<img width=120 height=120 src="report.files/image002.png" v:shapes="_x0000_i1025"><![endif]>'
        "<span lang=EN-US><o:p></o:p></span></p>"
    )
    parts.append("</div>")
    return "\n".join(parts)


WORD_HEAD = """<meta name=ProgId content=Word.Document>
<meta name=Generator content="Microsoft Word 15">
<meta name=Originator content="Microsoft Word 15">
<link rel=File-List href="report.files/filelist.xml">
<!--[if gte mso 9]><xml>
 <o:DocumentProperties>
  <o:Author>办公室</o:Author>
  <o:Pages>5</o:Pages>
 </o:DocumentProperties>
</xml><![endif]-->
<style>
<!--
 /* Style Definitions */
 p.MsoNormal, li.MsoNormal, div.MsoNormal
	{mso-style-unhide:no;margin:0cm;text-align:justify;text-justify:inter-ideograph;
	font-size:10.5pt;font-family:"Calibri",sans-serif;mso-font-kerning:1.0pt;}
@page WordSection1
	{size:595.3pt 841.9pt;margin:72.0pt 90.0pt 72.0pt 90.0pt;}
div.WordSection1
	{page:WordSection1;}
-->
</style>
<!--[if gte mso 10]>
<style>
 table.MsoNormalTable {mso-style-name:普通表格;mso-tstyle-rowband-size:0;}
</style>
<![endif]-->"""


def _wrap(text: str, rng: random.Random, width: int = 76) -> str:
    """Wrap long source lines as Word does: at spaces, and inside runs of Chinese text too."""
    out: list[str] = []
    for line in text.split("\n"):
        while len(line) > width:
            cut = line.rfind(" ", 0, width)
            if cut <= 0:
                # No space: break between two Chinese characters outside a tag (shown as nothing).
                m = [i for i in range(width // 2, width) if _cjk(line[i - 1]) and _cjk(line[i]) and _in_text(line, i)]
                if not m:
                    break
                cut = rng.choice(m)
                out.append(line[:cut])
                line = line[cut:]
                continue
            out.append(line[:cut])
            line = line[cut + 1 :]
        out.append(line)
    return "\n".join(out)


def _cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _in_text(line: str, i: int) -> bool:
    """Tell whether position i of a source line is in text, not inside a tag."""
    return line.rfind("<", 0, i) <= line.rfind(">", 0, i)


def word_html(record: Record, opts: PageOptions | None = None) -> str:
    """The report as Word's own HTML export (what Word writes as report.htm), as text."""
    opts = opts or PageOptions()
    rng = random.Random(f"word-{opts.seed}")
    charset = "gb2312" if opts.encoding.lower() in ("gbk", "gb2312", "gb18030") else opts.encoding
    text = (
        '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:w="urn:schemas-microsoft-com:office:word" xmlns="http://www.w3.org/TR/REC-html40">\n<head>\n'
        f'<meta http-equiv=Content-Type content="text/html; charset={charset}">\n{WORD_HEAD}\n</head>\n'
        "<body lang=ZH-CN style='tab-interval:21.0pt;text-justify-trim:punctuation'>\n"
        f"{word_body(record, opts, rng)}\n</body>\n</html>\n"
    )
    return _wrap(text, rng) if opts.wrap else text


# ---------------------------------------------------------------------------------------------------- the site
def metadata(record: Record, opts: PageOptions) -> list[tuple[str, str]]:
    """The site's metadata of the page, as (label, value) pairs."""
    issuer = opts.issuer or f"{record.agency}人民政府办公室"
    year = (record.year or 2021) + 1
    title = record.title or f"{record.agency}{record.year}年政府信息公开工作年度报告"
    return [
        ("索 引 号", f"11320829MB{opts.seed % 10000:04d}567X/{year}-00{opts.seed % 90 + 10}"),
        ("主题分类", "综合政务\\政务公开"),
        ("发布机构", issuer),
        ("发布日期", f"{year}-01-{opts.seed % 20 + 10}"),
        ("标　　题", title),
        ("文　　号", ""),
    ]


def site_page(record: Record, opts: PageOptions | None = None) -> str:
    """The site's page of the report: navigation, breadcrumbs, metadata, then Word's body, then the footer."""
    opts = opts or PageOptions()
    rng = random.Random(f"site-{opts.seed}")
    charset = "gb2312" if opts.encoding.lower() in ("gbk", "gb2312", "gb18030") else opts.encoding
    meta = metadata(record, opts)
    if opts.metadata == "table":
        rows = [meta[i : i + 2] for i in range(0, len(meta), 2)]
        cells = "\n".join(
            "<tr>"
            + "".join(f"<td class='td_label'>{a}：</td><td class='td_value'>{html.escape(b)}</td>" for a, b in row)
            + "</tr>"
            for row in rows
        )
        info = f"<table class='xxgk_table' width='100%' border='0' cellspacing='1' cellpadding='0'>\n{cells}\n</table>"
    elif opts.metadata == "lines":
        info = "\n".join(f"<li><span>{a}：</span><span>{html.escape(b)}</span></li>" for a, b in meta)
        info = f"<ul class='xxgk_info'>\n{info}\n</ul>"
    else:
        info = ""
    body = word_body(record, opts, rng)
    text = (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        f'<html xmlns="http://www.w3.org/1999/xhtml">\n<head>\n'
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}" />\n'
        f"<title>{html.escape(record.agency or '')}人民政府</title>\n"
        '<script type="text/javascript">var _hmt = _hmt || []; document.write("一、总体情况");</script>\n'
        "<style>.xxgk_table td{border:1px solid #ddd} .TRS_Editor p{line-height:2}</style>\n</head>\n<body>\n"
        f"<div class='header'><div class='logo'><img src='images/logo.png' alt='{html.escape(record.agency or '')}人民政府'/></div>\n"
        "<ul class='nav'><li><a href='/'>首页</a></li><li><a href='/zwgk/'>政务公开</a></li>"
        "<li><a href='/hdjl/'>互动交流</a></li></ul></div>\n"
        "<div class='position'>您现在的位置：<a href='/'>首页</a> &gt; <a href='/zwgk/'>政府信息公开</a> &gt; "
        "<a href='/zwgk/ndbg/'>政府信息公开年报</a></div>\n"
        f"{info}\n<div class='article'><div class='TRS_Editor'>\n{body}\n</div></div>\n"
        "<div class='share'>【字体：<a>大</a> <a>中</a> <a>小</a>】 <a href='javascript:window.print()'>打印本页</a></div>\n"
        f"<div class='footer'><p>主办单位：{html.escape(record.agency or '')}人民政府办公室 网站标识码：3208290001</p>"
        "<p>苏ICP备05012345号-1</p></div>\n</body>\n</html>\n"
    )
    return _wrap(text, rng) if opts.wrap else text


def render_page(record: Record, opts: PageOptions | None = None) -> bytes:
    """The saved web page (the site's page, or Word's own export without the site) in its encoding."""
    opts = opts or PageOptions()
    text = site_page(record, opts) if opts.site else word_html(record, opts)
    return text.encode(_codec(opts.encoding))


def _codec(encoding: str) -> str:
    return "gb18030" if encoding.lower() in ("gbk", "gb2312", "gb18030") else encoding


# ---------------------------------------------------------------------------------------------------- .mht
PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def render_mht(record: Record, opts: PageOptions | None = None, saver: str = "word") -> bytes:
    """The report as a single-file web archive: Word's (its HTML quoted-printable) or a browser's (the site)."""
    opts = opts or PageOptions()
    codec = _codec(opts.encoding)
    charset = "gb2312" if codec == "gb18030" else opts.encoding
    boundary = f"----=_NextPart_01D8{opts.seed:04X}.5A3B2C10"
    if saver == "word":
        page = word_html(record, replace(opts, site=False)).encode(codec)
        head = [
            "MIME-Version: 1.0",
            "X-Document-Type: Document",
            f'Content-Type: multipart/related; boundary="{boundary}"',
            "",
            "此文档为“单个文件网页”，也称为“Web 档案”文件。".encode(codec).decode("latin-1"),
        ]
        location = "file:///C:/D8A1B2C3/report.htm"
        encoding = "quoted-printable"
        extra = [
            ("file:///C:/D8A1B2C3/report.files/image002.png", "image/png", PNG_1x1),
            (
                "file:///C:/D8A1B2C3/report.files/filelist.xml",
                'text/xml; charset="utf-8"',
                b'<xml xmlns:o="urn:schemas-microsoft-com:office:office">\n <o:MainFile HRef="../report.htm"/>\n</xml>',
            ),
        ]
    else:
        page = site_page(record, opts).encode(codec)
        head = [
            "From: <Saved by Blink>",
            "Snapshot-Content-Location: http://www.example.gov.cn/zwgk/ndbg/202201/t20220120_123.html",
            "Subject: =?utf-8?Q?=E5=B9=B4=E5=BA=A6=E6=8A=A5=E5=91=8A?=",
            "Date: Thu, 20 Jan 2022 08:00:00 +0800",
            "MIME-Version: 1.0",
            "Content-Type: multipart/related;",
            '\ttype="text/html";',
            f'\tboundary="{boundary}"',
            "",
        ]
        location = "http://www.example.gov.cn/zwgk/ndbg/202201/t20220120_123.html"
        encoding = "base64" if opts.seed % 2 else "quoted-printable"
        extra = [("http://www.example.gov.cn/images/logo.png", "image/png", PNG_1x1)]
    if encoding == "base64":
        body = base64.encodebytes(page).decode("ascii")
    else:
        body = quopri.encodestring(page).decode("ascii")
    parts = ["\r\n".join(head), ""]
    parts += [
        f"--{boundary}",
        f"Content-Location: {location}",
        f"Content-Transfer-Encoding: {encoding}",
        f'Content-Type: text/html; charset="{charset}"',
        "",
        body,
    ]
    for where, ctype, data in extra:
        parts += [
            f"--{boundary}",
            f"Content-Location: {where}",
            "Content-Transfer-Encoding: base64",
            f"Content-Type: {ctype}",
            "",
            base64.encodebytes(data).decode("ascii"),
        ]
    parts.append(f"--{boundary}--\r\n")
    return "\r\n".join(p.replace("\r\n", "\n").replace("\n", "\r\n") for p in parts).encode("latin-1")


# ---------------------------------------------------------------------------------------------------- goldens
@dataclass(frozen=True)
class Golden:
    """A committed golden page: its file name, the record's version, seed, metadata and the page's variants."""

    name: str
    version: str
    seed: int
    agency: str
    year: int
    title: str
    options: PageOptions
    saver: str = ""  # "" for a page, "word" or "browser" for an .mht


GOLDENS = (
    Golden(
        "web-word-2021.html",
        "2021",
        2111,
        "示例县城南镇",
        2021,
        "示例县城南镇人民政府2021年政府信息公开工作年度报告",
        PageOptions(seed=11, issuer="示例县人民政府办公室", lean=True),
    ),
    Golden(
        "web-archive-2019.mht",
        "2019",
        1911,
        "示例市某某区",
        2020,
        "示例市某某区2020年政府信息公开工作年度报告",
        PageOptions(seed=12, lean=True, docx=DocxOptions(phantom=True, numbering="、", seed=5)),
        saver="word",
    ),
)


def golden_record(golden: Golden) -> Record:
    """Return the record a golden page is rendered from (a few cells blank: blank is not zero)."""
    from bench.generate import make_record

    record = make_record(golden.version, golden.seed, golden.year)
    record.agency, record.title = golden.agency, golden.title
    record.text = {
        "preface": [],
        "overview": [f"{golden.year}年，{golden.agency}认真贯彻落实《中华人民共和国政府信息公开条例》。"],
        "problems": ["一是公开质量有待提高。", "二是解读形式单一。"],
        "other": ["本年度未收取信息处理费。"],
    }
    rng = random.Random(golden.seed)
    zeros = sorted(k for k, v in record.cells.items() if v == 0 and k.startswith(("requests.denied_", "appeals.")))
    for key in rng.sample(zeros, min(6, len(zeros))):
        record.cells[key] = None
    return record


def render_golden(golden: Golden, record: Record) -> bytes:
    """The bytes of a golden page."""
    if golden.saver:
        return render_mht(record, golden.options, golden.saver)
    return render_page(record, golden.options)


def expected_spec(golden: Golden, record: Record) -> dict[str, Any]:
    """The expected-record file of a golden page (the format of tests/test_reader_golden.py)."""
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
        "text": {
            "overview": record.text["overview"],
            "problems": record.text["problems"],
            "other_first": record.text["other"][0],
        },
        "warnings_include": [],
        "warnings_exclude": ["rule-failed", "row-misaligned", "unplaced-line", "missing-row", "agency-unknown"],
    }


def write_goldens(data: Path = DATA) -> list[Path]:
    """Write every golden page and its expected-record file; return the pages' paths."""
    out = []
    for golden in GOLDENS:
        record = golden_record(golden)
        path = data / "reports" / golden.name
        path.write_bytes(render_golden(golden, record))
        spec = data / "expected" / f"{Path(golden.name).stem}.json"
        spec.write_text(dumps(expected_spec(golden, record), indent=2) + "\n", encoding="utf-8")
        out.append(path)
    return out


def variant(i: int) -> tuple[PageOptions, str]:
    """The i-th page of a generated batch: its options, and "" (a page) or the saver of an .mht."""
    # Label typos are the reader's business, not the page's: left out here.
    docx = DocxOptions(phantom=i % 3 == 1, numbering="、" if i % 4 == 3 else ".", seed=i)
    opts = PageOptions(
        encoding="utf-8" if i % 6 == 5 else "gbk",
        site=i % 4 != 2,
        metadata=("table", "lines", "table", "")[i % 4],
        docx=docx,
        seed=i,
    )
    return opts, ("", "", "", "word", "", "browser")[i % 6]


def main(argv: list[str]) -> None:
    """Command line: no arguments rewrites the goldens; OUT N writes N generated pages."""
    if not argv:
        for path in write_goldens():
            print(path.relative_to(ROOT))
        return
    from bench.generate import make_record

    out, n = Path(argv[0]), int(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        opts, saver = variant(i)
        record = make_record(("2019", "2021")[i % 2], i)
        data = render_mht(record, opts, saver) if saver else render_page(record, opts)
        (out / f"r{i:05d}{'.mht' if saver else '.html'}").write_bytes(data)


if __name__ == "__main__":
    main(sys.argv[1:])
