"""The pdf kind: PDFs with a text layer read cell for cell; scans, locked, broken and hostile PDFs refused in one line.

Three makers of test PDFs: tests/pdf_typeset.py lays reports out by hand (page breaks anywhere, rows cut by the
break, one character a line, running headers), LibreOffice prints tests/docgen.py's Word documents (one start
for every PDF of the session), and small hand-written PDFs show what hostile files do.
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import struct
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.generate import make_record
from convert.cli import app
from convert.errors import NianbaoError, NotAReportError, Phrase, UnreadableInputError, UnsafeInputError, UsageError
from convert.inputs import Document, identify, load, select
from convert.inputs.pdf_layout import Glyph, NoTextLayer, PageData, document
from convert.isolate import can_isolate, run_isolated
from convert.reader import read_report, to_record
from convert.record import Record
from convert.safety import Limits
from tests.docgen import DocxOptions, convert_documents, golden_record, render_docx
from tests.lo import needs_libreoffice
from tests.pdf_goldens import PDF_GOLDENS, expected
from tests.pdf_typeset import Options, font_objects, page_content, pdf_file, stream, typeset, utf16, write_pdf
from tests.test_reader_golden import expected_cells

# The messages these tests pin are the English ones (NIANBAO_LANG=en); the Chinese are tested in test_language.py.
pytestmark = pytest.mark.usefixtures("english")

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def lines_of(pages: list[PageData]) -> list[list[str]]:
    """The cells of each line the layout gives."""
    return [line.cells for line in document(pages, {"name": "test"}).lines]


def same_record(got: Record, want: Record) -> None:
    """Every cell as generated (a blank stays blank), and the agency, year and format."""
    wrong = {k: (v, got.cells.get(k)) for k, v in want.cells.items() if got.cells.get(k) != v}
    assert not wrong, f"{len(wrong)} wrong cells: {list(wrong.items())[:6]}"
    assert (got.agency, got.year, got.format) == (want.agency, want.year, want.format)


# -- reports laid out by hand: page breaks wherever we want them ----------------------------------------------------------
# Page heights (points) whose breaks cut rows of 三 or its merged labels in two, in both versions.
HEIGHTS = (400, 450, 490, 510, 560, 690, 820, 850)


@pytest.mark.parametrize("cut", [False, True], ids=["rows-whole", "rows-cut"])
@pytest.mark.parametrize("height", HEIGHTS, ids=lambda h: f"page{h}")
@pytest.mark.parametrize("version", ["2019", "2021"])
def test_reports_read_back_cell_for_cell_wherever_the_pages_break(
    tmp_path: Path, version: str, height: int, cut: bool
) -> None:
    record = make_record(version, height)
    # Every trouble at once: rows cut by the break, header rows repeated, a running header and 「- N -」 on every
    # page, 1,234, and 三、本年度办理结果 one character a line.
    opts = Options(page_height=height, cut_rows=cut, repeat_header=True, footers=True, thousands=True)
    opts = replace(opts, narrow_groups=True)
    path = tmp_path / "report.pdf"
    path.write_bytes(write_pdf(typeset(record, opts)))
    got = read_report(path)
    same_record(got, record)
    assert got.title == f"{record.agency}{record.year}年政府信息公开工作年度报告"
    assert got.text["problems"] == record.text["problems"]
    assert got.source["layout"] == "pdf" and got.source["pages"] >= 2


def test_the_page_breaks_of_these_layouts_cut_rows_and_labels() -> None:
    """The sweep above is no sweep unless its breaks really cut rows and merged labels in two."""
    from convert.inputs import pdf_layout

    seen = {"cut row": 0, "label": 0}
    real_mend = pdf_layout._mend_break

    def texts(rows: list) -> list:  # type: ignore[type-arg]
        return [[c.text if c else None for c in row] for row in rows]

    def spy(rows, more) -> None:  # type: ignore[no-untyped-def]
        before, n = texts(rows), len(more)
        real_mend(rows, more)
        if len(more) < n:
            seen["cut row"] += 1
        elif texts(rows) != before:
            seen["label"] += 1

    pdf_layout._mend_break = spy
    try:
        for version in ("2019", "2021"):
            for height in HEIGHTS:
                opts = Options(page_height=height, cut_rows=True, repeat_header=True, narrow_groups=True)
                document(typeset(make_record(version, height), opts), {})
    finally:
        pdf_layout._mend_break = real_mend
    assert seen["cut row"] >= 3 and seen["label"] >= 3, seen


def glyphs(text: str, x: float, top: float, size: float = 10.5) -> list[Glyph]:
    """Characters of one line, Chinese full width, Latin half."""
    out = []
    for ch in text:
        w = size if ord(ch) > 0x2000 else size / 2
        if not ch.isspace():
            out.append(Glyph(ch, x, top, x + w, top + size, size))
        x += w
    return out


def ruled(cells: list[tuple[float, float, float, float, list[str]]]) -> tuple[list[Glyph], list[tuple]]:
    """A table's cells (x0, top, x1, bottom, lines of text): the characters centred in each and the boxes."""
    out: list[Glyph] = []
    for x0, top, x1, bottom, lines in cells:
        y = (top + bottom) / 2 - 7 * len(lines)
        for k, line in enumerate(lines):
            width = sum(10.5 if ord(ch) > 0x2000 else 5.25 for ch in line)
            out += glyphs(line, (x0 + x1 - width) / 2, y + 14 * k + 1.75)
    return out, [c[:4] for c in cells]


def page(number: int, *parts: tuple[list[Glyph], list[tuple]] | list[Glyph], height: float = 400) -> PageData:
    """A page of free lines (lists of characters) and tables (characters and cell boxes)."""
    chars: list[Glyph] = []
    tables = []
    for part in parts:
        if isinstance(part, tuple):
            chars += part[0]
            tables.append(part[1])
        else:
            chars += part
    return PageData(number, 300, height, chars, tables)


def test_a_cell_is_a_box_whatever_its_lines() -> None:
    table = ruled(
        [
            (0, 100, 60, 220, list("三、本年度办理结果")),  # one character a line, in a tall merged cell
            (60, 100, 200, 160, ["5.要求行政机关确认", "或重新出具已获取信息"]),  # a label that wraps
            (200, 100, 260, 160, ["1,234"]),  # its number centred beside both lines
            (60, 160, 200, 220, ["商业", "企业"]),  # a header word broken inside
            (200, 160, 260, 220, ["7"]),
        ]
    )
    filler = glyphs("文字" * 30, 0, 40)
    assert lines_of([page(1, filler, table)])[1:] == [
        ["三、本年度办理结果", "5.要求行政机关确认或重新出具已获取信息", "1,234"],
        ["", "商业企业", "7"],
        [""],
    ]


def test_a_table_goes_on_over_the_page_break_and_what_the_break_cut_is_mended() -> None:
    header = [(0, 0, 80, 20, ["项目"]), (80, 0, 140, 20, ["数量"]), (140, 0, 200, 20, ["金额"])]

    def at(top: float, rows: list[tuple]) -> list[tuple]:
        return [(x0, t + top, x1, b + top, text) for x0, t, x1, b, text in rows]

    first = page(
        1,
        glyphs("表格之前的一段文字", 0, 40),
        ruled(
            [
                *at(300, header),
                (0, 320, 80, 380, ["（一）分", "组标签"]),  # a group label whose merged cell goes on
                (80, 320, 140, 350, ["1.第一行"]),
                (140, 320, 200, 350, ["3"]),
                (80, 350, 140, 380, ["2.很长的标"]),  # a row cut by the break: label here, number there
                (140, 350, 200, 380, [""]),
            ]
        ),
        glyphs("- 1 -", 130, 385, 9),
    )
    second = page(
        2,
        glyphs("某某镇政府信息公开年度报告", 60, 10, 9),  # the running header
        ruled(
            [
                *at(30, header),  # the header repeated on the new page
                (0, 50, 80, 110, ["继续"]),
                (80, 50, 140, 80, ["签续行"]),
                (140, 50, 200, 80, ["1,234"]),
                (80, 80, 140, 110, ["3.第三行"]),
                (140, 80, 200, 110, ["5"]),
            ]
        ),
        glyphs("表格之后的一段文字", 0, 200),
        glyphs("- 2 -", 130, 385, 9),
    )
    one = page(1, glyphs("某某镇政府信息公开年度报告", 60, 10, 9), glyphs("开头的一段文字", 0, 200))
    first, second = first._replace(number=2), second._replace(number=3)
    assert lines_of([one, first, second])[:2] == [["开头的一段文字"], ["表格之前的一段文字"]]
    assert lines_of([one, first, second])[2:] == [
        ["项目", "数量", "金额"],
        ["（一）分组标签继续", "1.第一行", "3"],
        ["", "2.很长的标签续行", "1,234"],
        ["", "3.第三行", "5"],
        [""],
        ["表格之后的一段文字"],
    ]


def test_a_table_goes_on_under_a_continued_note() -> None:
    def table(top: float, texts: list[tuple[str, str]]) -> tuple[list[Glyph], list[tuple]]:
        rows = [(0, top + 20 * k, 100, top + 20 * (k + 1), [a]) for k, (a, _) in enumerate(texts)]
        rows += [(100, top + 20 * k, 160, top + 20 * (k + 1), [b]) for k, (_, b) in enumerate(texts)]
        return ruled(rows)

    first = page(1, glyphs("前面的文字" * 8, 0, 40), table(300, [("项目", "数量"), ("1.甲项", "3")]))
    second = page(2, glyphs("续表", 0, 40), table(60, [("2.乙项", "4")]), glyphs("后面的文字", 0, 200))
    assert lines_of([first, second])[1:] == [["项目", "数量"], ["1.甲项", "3"], ["2.乙项", "4"], [""], ["后面的文字"]]


def test_page_numbers_and_running_headers_are_no_lines_but_a_title_like_them_stays() -> None:
    title = "某某镇2023年政府信息公开工作年度报告"
    pages = [
        page(
            1,
            glyphs(title, 20, 10, 9),
            glyphs(title, 20, 60, 14),
            glyphs("正文第一页", 0, 100),
            glyphs("第 1 页 共 2 页", 100, 385, 9),
        ),
        page(2, glyphs(title, 20, 10, 9), glyphs("正文第二页", 0, 100), glyphs("2", 150, 385, 9)),
    ]
    assert lines_of(pages) == [[title], ["正文第一页"], ["正文第二页"]]


def test_paragraphs_are_joined_over_their_lines_and_headings_stay_apart() -> None:
    # The text is 28 characters wide (294 pt); a paragraph's first line is indented two characters.
    first = "全年主动公开政府信息，持续推进决策、执行、管理、服务"  # 26 characters
    second = "、结果公开，不断提升政务公开质量和实效，切实保障人民群众的"  # 28
    full = "第二段没有缩进也写满了一整行第二段没有缩进也写满了一整行"  # 28
    lines = [
        glyphs("一、总体情况", 0, 10),
        glyphs(first, 21, 24),
        glyphs(second, 0, 38),
        glyphs("知情权。", 0, 52),
        glyphs("（一）主动公开情况", 0, 66),
        glyphs(full, 0, 80),
        glyphs("二、存在的主要问题", 0, 94),  # after a full line, but a heading
    ]
    assert lines_of([page(1, *lines)]) == [
        ["一、总体情况"],
        [first + second + "知情权。"],
        ["（一）主动公开情况"],
        [full],
        ["二、存在的主要问题"],
    ]


def test_characters_become_words_as_printed() -> None:
    bold = glyphs("加粗", 0, 10)
    doubled = sorted(bold + [g._replace(x0=g.x0 + 0.4, x1=g.x1 + 0.4) for g in bold], key=lambda g: g.x0)
    spaced = glyphs("Word", 0, 30) + glyphs("2016", 27, 30) + glyphs("年", 50, 30)  # gaps by position, no spaces
    table_like = glyphs("规章", 0, 50) + glyphs("12", 120, 50) + glyphs("1,234", 200, 50)
    got = document([page(1, doubled, spaced, table_like, glyphs("文" * 40, 0, 200))], {}).lines
    assert [line.cells for line in got[:3]] == [["加粗"], ["Word 2016年"], ["规章", "12", "1,234"]]
    assert got[2].is_row and not got[0].is_row


def test_no_text_layer_is_a_scan(english: None) -> None:
    stamp = glyphs("第1页", 100, 385, 9)
    for pages in ([page(1)], [page(1, stamp), page(2, stamp)]):
        # The PDF kind reads it with OCR (tests/test_ocr.py).
        with pytest.raises(NoTextLayer, match=r"^looks like a scanned PDF \(no text layer, \d page\(s\)\)"):
            document(pages, {})
    unmapped = [PageData(1, 300, 400, [], [], unmapped=500)]
    with pytest.raises(UnreadableInputError, match="character map"):
        document(unmapped, {})


# -- the kind, on hand-written PDFs: scans, locks, damage, bombs ----------------------------------------------------------
def one_page(content: bytes, resources: bytes = b"", extra: dict[int, bytes] | None = None, **page: bytes) -> bytes:
    """A PDF of one A4 page with this content stream (objects 1-4) and more objects if given."""
    more = b"".join(b" /%s %s" % (k.encode(), v) for k, v in page.items())
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << %s >> /Contents 4 0 R%s >>"
        % (resources, more),
        4: content,
        **(extra or {}),
    }
    return pdf_file(objects)


def refused(path: Path, kind: type[Exception], *words: str, limits: Limits | None = None) -> str:
    """Reading the file fails with a one-line message holding these words, in well under 20 s."""
    start = time.perf_counter()
    with pytest.raises(kind) as info:
        to_record(load(path, limits))
    message = str(info.value)
    assert message and "\n" not in message
    for word in words:
        assert word in message, message
    assert time.perf_counter() - start < 20
    return message


@pytest.mark.parametrize("version", ["2019", "2021"])
def test_tables_without_ruling_lines_are_read_from_their_gaps_and_no_wrong_cell_is_silent(
    tmp_path: Path, version: str
) -> None:
    record = make_record(version, 35)
    path = tmp_path / "unruled.pdf"
    path.write_bytes(write_pdf(typeset(record), rules="none"))
    got = read_report(path)
    wheres = {w.where for w in got.warnings}
    wrong = [k for k, v in record.cells.items() if got.cells.get(k) != v]
    # Rows whose wrapped labels put their numbers on a line of their own may be lost, but never silently.
    assert all({k, k.rsplit(".", 1)[0], k.split(".")[0]} & wheres for k in wrong)
    assert not [k for k in wrong if not k.startswith("requests.")]
    assert len(wrong) < 0.25 * len(record.cells)


def test_a_pdf_of_an_image_is_refused_as_a_scan(tmp_path: Path, english: None, monkeypatch: pytest.MonkeyPatch) -> None:
    pixels = bytes(range(256)) * 16  # a 64×64 grey picture
    image = stream(
        pixels, b" /Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray /BitsPerComponent 8"
    )
    path = tmp_path / "scan.pdf"
    path.write_bytes(one_page(stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q"), b"/XObject << /Im0 5 0 R >>", {5: image}))
    # It is read with OCR (tests/test_ocr.py); without the ocr extra the one line names it.
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    refused(path, UsageError, "looks like a scanned PDF (no usable text layer)", "pip install 'nianbao[ocr]'")
    # In a folder a scan is taken like any PDF, so reading it says why it was not read.
    assert select([tmp_path]).files == [path]


def test_a_locked_pdf_is_refused_and_one_that_only_restricts_copying_is_read(tmp_path: Path) -> None:
    record = make_record("2021", 31)
    pages = typeset(record)
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(write_pdf(pages, owner=b"owner", user=b"secret"))
    refused(locked, UnreadableInputError, "password-protected")
    restricted = tmp_path / "restricted.pdf"
    restricted.write_bytes(write_pdf(pages, owner=b"owner"))
    assert b"/Encrypt" in restricted.read_bytes()
    same_record(read_report(restricted), record)


def test_damaged_pdfs_are_refused_in_one_line(tmp_path: Path) -> None:
    good = write_pdf(typeset(make_record("2019", 32)))
    cases = {
        "garbage.pdf": b"%PDF-1.7\n" + os.urandom(4000),
        "header-only.pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        "no-pages.pdf": pdf_file({1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [] /Count 0 >>"}),
        "truncated.pdf": good[: len(good) // 3],
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert identify(path).kind.name == "pdf"
        refused(path, UnreadableInputError)  # corrupt, or what little of the text is left is no report
    assert "corrupt PDF" in refused(tmp_path / "garbage.pdf", UnreadableInputError)


def test_two_thousand_pages_are_refused_at_once_unless_the_limit_is_raised(tmp_path: Path, english: None) -> None:
    n = 2000
    kids = b" ".join(b"%d 0 R" % (10 + k) for k in range(n))
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n),
        3: stream(b""),
        **{10 + k: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R >>" for k in range(n)},
    }
    path = tmp_path / "long.pdf"
    path.write_bytes(pdf_file(objects))
    start = time.perf_counter()
    message = refused(path, UnsafeInputError, "2000 pages", "200", "--limit max_pdf_pages=2000")
    assert time.perf_counter() - start < 5, message
    # With the limit raised the pages are read, hold no text, and are too many to read with OCR.
    refused(path, UnsafeInputError, "2000 pages", "max_scan_pages", limits=Limits(max_pdf_pages=n))


def deflate_bomb(megabytes: int) -> bytes:
    """A Flate stream that inflates to this many megabytes of zeros, made in milliseconds (full-flush blocks repeat)."""
    c = zlib.compressobj(9)
    chunk = b"\x00" * (1 << 20)
    first = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    size = megabytes << 20
    data = first + again * (megabytes - 1) + b"\x03\x00" + struct.pack(">I", ((size % 65521) << 16) | 1)
    return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"


def forms_bomb(depth: int) -> dict[int, bytes]:
    """Form XObjects that each draw the next ten times: 10**depth drawings from a few hundred bytes."""
    forms = {}
    for k in range(depth):
        last = k + 1 == depth
        body = b"0 0 m 10 10 l S" if last else (b"/X Do\n" * 10)
        res = b"" if last else b"/Resources << /XObject << /X %d 0 R >> >>" % (11 + k)
        forms[10 + k] = stream(body, b" /Type /XObject /Subtype /Form /BBox [0 0 100 100] " + res)
    return forms


@pytest.mark.skipif(not can_isolate(), reason="the memory ceiling needs fork and Linux")
def test_bombs_are_refused_in_bounded_time_and_memory(tmp_path: Path) -> None:
    small = Limits(max_pdf_memory_bytes=256 << 20, max_pdf_seconds=8)
    bombs = {
        # 1 GB of zeros from 1 MB: the page's content stream.
        "inflate.pdf": one_page(deflate_bomb(1024)),
        # 10**9 drawings from nested forms.
        "forms.pdf": one_page(stream(b"/X Do"), b"/XObject << /X 10 0 R >>", forms_bomb(9)),
        # 60,000 drawing objects on one page.
        "objects.pdf": one_page(stream(b"0 0 m 1 1 l S\n" * 60_000)),
        # An array nested 100,000 deep.
        "nested.pdf": one_page(stream(b"BT /F1 12 Tf (x) Tj ET"), b"/Deep " + b"[" * 100_000 + b"]" * 100_000),
    }
    for name, data in bombs.items():
        path = tmp_path / name
        path.write_bytes(data)
        # The deep array is no bomb to PDFium: its page, without text, is read as a scan (and is no report).
        refused(path, NianbaoError if name == "nested.pdf" else UnreadableInputError, limits=small)
    # The children that read them stayed under their ceiling: far below 2 GB.
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 2 * 1024 * 1024  # KB


@pytest.mark.skipif(not can_isolate(), reason="the memory ceiling needs fork and Linux")
def test_a_bomb_writes_nothing(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(one_page(deflate_bomb(1024)))
    out = tmp_path / "out"
    result = runner.invoke(app, ["--limit", "max_pdf_memory_bytes=268435456", "convert", str(bomb), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"Error: {bomb}: refused: reading the PDF needed over 256 MB")
    assert result.stderr.count("\n") == 1
    assert not out.exists() or not any(out.iterdir())


def _rules_drawn(shown: PageData, how: str) -> tuple[bytes, dict[int, bytes]]:
    """Draw a page's text and its ruled cells another way a PDF printer may: scaled, inside a form, as thin
    filled rectangles (Word's borders), or as lines without the tables' outer border."""
    text = page_content(shown._replace(tables=[]))
    boxes = [(x0, shown.height - bottom, x1 - x0, bottom - top) for t in shown.tables for x0, top, x1, bottom in t]
    if how == "scaled":
        drawn = b" ".join(b"%.3f %.3f %.3f %.3f re S" % tuple(v / 2 for v in box) for box in boxes)
        return text + b"\nq 2 0 0 2 0 0 cm 0.25 w " + drawn + b" Q", {}
    if how == "form":
        drawn = b" ".join(b"%.3f %.3f %.3f %.3f re S" % (x - 10, y - 20, w, h) for x, y, w, h in boxes)
        form = stream(drawn, b" /Type /XObject /Subtype /Form /BBox [-50 -50 700 900] /Matrix [1 0 0 1 10 20]")
        return text + b"\n/Fm Do", {9: form}
    if how == "filled":
        bars = []
        for x, y, w, h in boxes:
            bars += [(x, y, w, 0.5), (x, y + h, w, 0.5), (x, y, 0.5, h), (x + w, y, 0.5, h)]
        return text + b"\n" + b" ".join(b"%.3f %.3f %.3f %.3f re f" % bar for bar in bars), {}
    return page_content(shown, rules="inner"), {}


@pytest.mark.parametrize("how", ["scaled", "form", "filled", "frameless"])
def test_ruling_lines_count_where_they_show_however_they_are_drawn(how: str) -> None:
    from convert.inputs.pdf import extract

    (shown,) = typeset(make_record("2021", 34))[1:2]
    content, extra = _rules_drawn(shown, how)
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /Font << /F1 5 0 R >> "
        b"/XObject << /Fm 9 0 R >> >> /Contents 4 0 R >>" % (shown.width, shown.height),
        4: stream(content),
        **font_objects(5),
        **extra,
    }
    (got,) = extract(pdf_file(objects), 10)

    def cells(tables: list) -> list:  # type: ignore[type-arg]
        return sorted(cell for table in tables for cell in table)

    def near(a: tuple, b: tuple) -> bool:  # type: ignore[type-arg]
        # Lines closer than 3 pt are snapped together, even those of two tables on a page.
        return all(abs(x - y) <= 3 for x, y in zip(a, b, strict=True))

    found, drawn = cells(got.tables), cells(shown.tables)
    assert len(found) == len(drawn)
    assert all(any(near(f, d) for d in drawn) for f in found)
    assert lines_of([got]) == lines_of([shown])


def test_nothing_in_a_pdf_is_run_fetched_or_followed(tmp_path: Path) -> None:
    record = make_record("2019", 33)
    # The report with a script to run on opening (it would fetch a URL), a program to launch on closing, and an
    # attached file: read as text, and none of them run, fetched or opened.
    catalog = (
        b"/OpenAction << /S /JavaScript /JS (app.launchURL\\('http://127.0.0.1:9/x'\\);) >> "
        b"/AA << /WC << /S /Launch /F (calc.exe) >> >> "
        b"/Names << /EmbeddedFiles << /Names [(a.txt) << /Type /Filespec /F (a.txt) /EF << /F 900 0 R >> >>] >> >> "
    )
    attached = {900: stream("附件里的文字".encode("gb18030"), b" /Type /EmbeddedFile")}
    path = tmp_path / "hostile.pdf"
    path.write_bytes(write_pdf(typeset(record), catalog=catalog, extra=attached))
    same_record(read_report(path), record)
    doc = load(path)
    assert isinstance(doc, Document) and "附件" not in doc.text


def test_a_rotated_page_reads_upright(tmp_path: Path) -> None:
    # The page is shown turned 90° clockwise; its text is drawn turned back, so that it reads upright on screen.
    lines = [f"第{n}行文字内容写满十个字" for n in "一二三四五"]
    ops = b"".join(b"BT /F1 12 Tf 0 1 -1 0 %d 72 Tm %s Tj ET\n" % (100 + 20 * k, utf16(t)) for k, t in enumerate(lines))
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Rotate 90 /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        4: stream(ops),
        **font_objects(5),
    }
    from convert.inputs.pdf import extract

    (shown,) = extract(pdf_file(objects), 10)
    assert (shown.width, shown.height) == (842, 595)
    assert shown.glyphs[0].top < shown.glyphs[-1].top  # the first line above the second
    assert [line.cells for line in document([shown], {}).lines] == [[line] for line in lines]


# -- the guarded child -------------------------------------------------------------------------------------------------------
@pytest.mark.skipif(not can_isolate(), reason="needs fork and Linux")
def test_the_child_gives_back_errors_and_is_stopped_by_its_limits() -> None:
    def fail() -> None:
        raise NotAReportError("no table found")

    with pytest.raises(NotAReportError, match="no table found"):
        run_isolated(fail, seconds=5, memory_bytes=64 << 20, what=Phrase("the-pdf"))
    assert run_isolated(sum, [1, 2, 3], seconds=5, memory_bytes=64 << 20, what=Phrase("the-pdf")) == 6
    with pytest.raises(UnsafeInputError, match=r"^refused: reading the PDF took over 0.5 s"):
        run_isolated(time.sleep, 30, seconds=0.5, memory_bytes=64 << 20, what=Phrase("the-pdf"))
    with pytest.raises(UnsafeInputError, match="needed over 64 MB of memory"):
        run_isolated(bytearray, 1 << 30, seconds=5, memory_bytes=64 << 20, what=Phrase("the-pdf"))
    with pytest.raises(UnsafeInputError, match="crashed"):
        run_isolated(os.abort, seconds=5, memory_bytes=64 << 20, what=Phrase("the-pdf"))


# -- PDFs printed by LibreOffice ---------------------------------------------------------------------------------------------
@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on a file (pytest-xdist workers share the printed PDFs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


PRINTED = {
    "2019-form": ("2019", DocxOptions()),
    "2021-form": ("2021", DocxOptions()),
    "2019-straddle": ("2019", DocxOptions(straddle=True, repeat_header=True, footers=True)),
    "2021-straddle": ("2021", DocxOptions(straddle=True, footers=True, phantom=True, numbering="、", seed=4)),
    "2021-two-line-title": ("2021", DocxOptions(two_line_title=True, footers=True)),
}


def printed_record(name: str) -> Record:
    """The record a printed PDF shows."""
    version, _ = PRINTED[name]
    return make_record(version, 40 + list(PRINTED).index(name))


@pytest.fixture(scope="session")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every PDF of the LibreOffice tests, printed by one LibreOffice start for the whole session (and workers)."""
    # pytest-xdist workers share their session's folder (the parent of each one's own); alone, our own is the session's.
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "printed-pdfs"
    with locked(root / ".lock"):
        if not (root / "done").exists():
            docs = []
            for name, (_, options) in PRINTED.items():
                docs.append(root / f"{name}.docx")
                render_docx(printed_record(name), docs[-1], options)
            convert_documents(docs, "pdf", root)
            (root / "done").write_text("ok")
    return {name: root / f"{name}.pdf" for name in PRINTED}


def with_libreoffice(test):  # type: ignore[no-untyped-def]
    """Mark a test as needing LibreOffice (skipped without soffice)."""
    for mark in needs_libreoffice:
        test = mark(test)
    return test


@with_libreoffice
@pytest.mark.parametrize("name", list(PRINTED))
def test_printed_reports_read_back_cell_for_cell(printed: dict[str, Path], name: str) -> None:
    record = printed_record(name)
    got = read_report(printed[name])
    same_record(got, record)
    for section in ("overview", "problems", "other"):
        assert got.text[section] == record.text[section]
    assert not [w for w in got.warnings if w.code in ("row-misaligned", "unplaced-line", "missing-row")]


@with_libreoffice
def test_the_straddling_table_really_straddles(printed: dict[str, Path]) -> None:
    from convert.inputs.pdf import extract

    for name in ("2019-straddle", "2021-straddle"):
        pages = extract(printed[name].read_bytes(), 10)
        # Three tables in four parts: 三 is found on two pages.
        assert sum(len(p.tables) for p in pages) == 4, (name, [len(p.tables) for p in pages])


# -- the golden PDFs -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("golden", PDF_GOLDENS, ids=lambda g: g.name)
def test_golden_pdfs_hold_the_records_they_were_made_from(golden) -> None:  # type: ignore[no-untyped-def]
    spec = expected(golden)
    record = golden_record(golden)
    assert expected_cells(spec, spec["format"]) == record.cells
    got = read_report(DATA / "reports" / f"{golden.name}.pdf")
    assert got.cells == record.cells and got.title == golden.title


def test_a_folder_of_pdfs_reads_each_and_names_the_broken_one(tmp_path: Path) -> None:
    for golden in PDF_GOLDENS:
        (tmp_path / f"{golden.name}.pdf").write_bytes((DATA / "reports" / f"{golden.name}.pdf").read_bytes())
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n" + bytes(300))
    result = runner.invoke(app, ["read", str(tmp_path), "--jobs", "1"])
    assert result.exit_code == 2
    agencies = [json.loads(line)["agency"] for line in result.stdout.splitlines()]
    assert agencies == [g.agency for g in PDF_GOLDENS]
    assert f"Error: {tmp_path / 'broken.pdf'}: corrupt PDF" in result.stderr


def test_without_the_pdf_extra_a_pdf_names_the_extra_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    # As on a default install: the PDF libraries are an extra (nianbao[pdf]).
    monkeypatch.setitem(sys.modules, "pdfplumber", None)
    monkeypatch.setitem(sys.modules, "pdfplumber.table", None)
    report = Path(__file__).parent / "data" / "reports" / "pdf-form-2019.pdf"
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["convert", str(report), "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 2, result.output
    assert "pip install 'nianbao[pdf]'" in result.output
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())
