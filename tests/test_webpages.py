"""Saved web pages: Word-exported HTML and .mht archives read cell for cell, the site's metadata kept apart,
a browser's _files folder skipped once, and table grids bounded."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.generate import make_record
from convert.checks.catalogue import text
from convert.cli import app
from convert.errors import UnreadableInputError, UnsafeInputError
from convert.inputs import identify, load, select
from convert.inputs.text import decode_text
from convert.inputs.webpage import read_page
from convert.reader import read_report
from convert.record import Record
from tests.docgen import DocxOptions
from tests.htmlgen import PageOptions, render_mht, render_page

# The messages these tests pin are the English ones (NIANBAO_LANG=en); the Chinese are tested in test_language.py.
pytestmark = pytest.mark.usefixtures("english")

runner = CliRunner()


def record(version: str, seed: int) -> Record:
    """A random record whose text says its year, as reports do."""
    rec = make_record(version, seed)
    rec.text["preface"] = []
    rec.text["overview"].insert(0, f"{rec.year}年，{rec.agency}认真贯彻落实《条例》。")
    return rec


def wrong_cells(got: Record, want: Record) -> dict[str, tuple[object, object]]:
    """The cells a reading got wrong: (wanted, got) by key; blank and zero differ."""
    return {
        k: (v, got.cells.get(k))
        for k, v in want.cells.items()
        if got.cells.get(k) != v or (got.cells.get(k) is None) != (v is None)
    }


# ---------------------------------------------------------------- whole pages, cell for cell

PAGES = {
    "site page, GBK, 2019": ("2019", PageOptions(seed=1), ""),
    "site page, GBK, 2021, phantom columns": ("2021", PageOptions(seed=2, docx=DocxOptions(phantom=True, seed=2)), ""),
    "Word's export alone, 2021": ("2021", PageOptions(seed=3, site=False), ""),
    "site page, UTF-8, metadata lines, 2019": ("2019", PageOptions(seed=4, encoding="utf-8", metadata="lines"), ""),
    "no widths: grid columns counted, 2021": ("2021", PageOptions(seed=5, widths=False, sizing_row=False), ""),
    ".mht saved by Word, 2019": ("2019", PageOptions(seed=6, docx=DocxOptions(numbering="、")), "word"),
    ".mht saved by a browser (base64), 2021": ("2021", PageOptions(seed=7), "browser"),
    ".mht saved by a browser (quoted-printable), 2019": ("2019", PageOptions(seed=8, encoding="utf-8"), "browser"),
}


@pytest.mark.parametrize("case", sorted(PAGES))
def test_a_saved_page_reads_as_the_record_it_was_made_from(case: str, tmp_path: Path) -> None:
    version, opts, saver = PAGES[case]
    want = record(version, 100 + opts.seed)
    path = tmp_path / ("report.mht" if saver else "report.htm")
    path.write_bytes(render_mht(want, opts, saver) if saver else render_page(want, opts))

    got = read_report(path)
    assert not wrong_cells(got, want)
    assert (got.agency, got.year, got.format) == (want.agency, want.year, want.format)
    assert got.title == f"{want.agency}{want.year}年政府信息公开工作年度报告"
    assert got.source["layout"] == "html"
    assert got.source["encoding"] == ("utf-8" if opts.encoding == "utf-8" else "gb18030")
    assert got.text["problems"] == want.text["problems"]


def test_word_grid_columns_become_one_cell_per_real_column() -> None:
    # Word's export of a small table: each real column cut into narrow grid columns, every row cut differently.
    page = """<html><body><table border=1>
     <tr><td colspan=3 rowspan=2>项目</td><td colspan=5>申请人</td><td colspan=2 rowspan=2>总计</td></tr>
     <tr><td colspan=2>自然人</td><td colspan=3>法人</td></tr>
     <tr><td colspan=2>一、新收</td><td colspan=3>1</td><td colspan=2>2</td><td colspan=3>3</td></tr>
     <tr><td colspan=4>二、结转</td><td>4</td><td colspan=3>5</td><td colspan=2>9</td></tr>
     <![if !supportMisalignedColumns]><tr height=0><td width=40></td><td width=5></td><td width=10></td>
     <td width=5></td><td width=40></td><td width=10></td><td width=40></td><td width=10></td>
     <td width=40></td><td width=10></td></tr><![endif]>
    </table></body></html>"""
    rows = [line.cells for line in read_page(page).lines if line.is_row]
    assert rows == [
        ["项目", "申请人", "", "总计"],
        ["", "自然人", "法人", ""],
        ["一、新收", "1", "2", "3"],
        ["二、结转", "4", "5", "9"],
    ]


def test_spans_o_p_nbsp_and_conditional_comments_are_markup_not_words() -> None:
    page = """<html><body><div class=WordSection1>
    <p class=MsoNormal align=center><b><span style='font-family:宋体'>某某县</span><span lang=EN-US>2021</span><span
    style='font-family:宋体'>年政府信息公开工作年度</span><span>报
    告</span></b><span lang=EN-US><o:p></o:p></span></p>
    <p><!--[if gte vml 1]><v:shape><v:imagedata src="a.png"/>印章</v:shape><![endif]--><![if !vml]><img
    src="a.png"><![endif]></p>
    <table><tr><td><p><![if !supportLists]><span>1.</span><![endif]><span style='mso-bidi-font-family:宋体'>属于</span><span
    lang=EN-US><span style='mso-spacerun:yes'>&nbsp;</span></span><span>国家<o:p></o:p>秘密</span></p></td>
    <td><p><span lang=EN-US>12<o:p></o:p></span></p></td><td><p><span lang=EN-US><o:p>&nbsp;</o:p></span></p></td></tr>
    </table></div></body></html>"""
    lines = read_page(page).lines
    texts = [line.text for line in lines if not line.blank]
    assert texts[0] == "某某县2021年政府信息公开工作年度报告"  # the break inside 报告 is no space
    assert not any("if" in t or "印章" in t or "endif" in t for t in texts)
    assert [line.cells for line in lines if line.is_row] == [["1.属于 国家秘密", "12", ""]]


# ---------------------------------------------------------------- the site's metadata


def test_the_sites_metadata_table_is_neither_the_title_nor_a_table(tmp_path: Path) -> None:
    want = record("2021", 31)
    opts = PageOptions(seed=31, issuer="示例县人民政府办公室", wrap=False)
    page = render_page(want, opts).decode("gb18030")
    # The metadata's own title differs from the report's: the report's is the title.
    cell = f"<td class='td_value'>{want.agency}"
    assert page.count(cell) == 1
    path = tmp_path / "page.html"
    path.write_bytes(page.replace(cell, f"<td class='td_value'>转发：{want.agency}").encode("gb18030"))

    got = read_report(path)
    assert got.title == f"{want.agency}{want.year}年政府信息公开工作年度报告"
    assert got.agency == want.agency
    assert not wrong_cells(got, want)
    meta = got.source["page"]
    assert meta["发布机构"] == "示例县人民政府办公室"
    assert meta["索引号"].startswith("11320829MB")
    assert meta["标题"].startswith("转发：") and meta["标题"].endswith("年度报告")
    everything = json.dumps([got.text, got.extra, [w.fields for w in got.warnings]], ensure_ascii=False)
    assert "索引号" not in everything and "发布机构" not in everything and "11320829MB" not in everything


def test_metadata_lines_are_kept_apart_too(tmp_path: Path) -> None:
    want = record("2019", 32)
    path = tmp_path / "page.html"
    path.write_bytes(render_page(want, PageOptions(seed=32, metadata="lines")))
    got = read_report(path)
    assert got.source["page"]["发布日期"].count("-") == 2
    assert (got.title, got.agency) == (f"{want.agency}{want.year}年政府信息公开工作年度报告", want.agency)
    assert not any("发布日期" in p for p in got.text["preface"])


def test_without_a_title_the_agency_comes_from_the_pages_issuer_with_a_warning(tmp_path: Path) -> None:
    want = record("2021", 33)
    path = tmp_path / "page.html"
    path.write_bytes(render_page(want, PageOptions(seed=33, title=False, issuer=f"{want.agency}人民政府")))
    got = read_report(path)
    assert got.title is None
    assert (got.agency, got.year) == (want.agency, want.year)
    assert [w.fields for w in got.warnings if w.code == "agency-from-page"] == [{"agency": want.agency}]
    assert not wrong_cells(got, want)


# ---------------------------------------------------------------- encodings and archives


def test_the_declared_charset_decides_when_bytes_read_both_ways() -> None:
    # 「一一」 in GBK is also valid UTF-8 (「һһ」): only the page's own declaration tells them apart.
    body = "<html><head>{meta}</head><body><p>一一</p></body></html>"
    gbk = body.format(meta='<meta http-equiv="Content-Type" content="text/html; charset=gb2312">').encode("gbk")
    assert decode_text(gbk) == (gbk.decode("gbk"), "gb18030")
    undeclared = body.format(meta="").encode("gbk")
    assert decode_text(undeclared)[1] == "utf-8"
    # A page declaring UTF-8 whose bytes are not UTF-8 is still read (the declaration is wrong, the bytes are not).
    wrong = body.format(meta='<meta charset="utf-8">').replace("一一", "年度报告").encode("gbk")
    assert decode_text(wrong) == (wrong.decode("gbk"), "gb18030")


def test_a_web_archive_is_told_by_its_content_whatever_its_name(tmp_path: Path) -> None:
    want = record("2019", 41)
    path = tmp_path / "report.txt"
    path.write_bytes(render_mht(want, PageOptions(seed=41), "word"))
    assert identify(path).kind.name == "mht"
    got = read_report(path)
    assert not wrong_cells(got, want)
    assert got.source["archive"] == "mht"
    # A report that mentions MIME headers in its text is still a text report.
    text = tmp_path / "notes.mht"
    text.write_text("说明\nMIME-Version: 1.0 是网页存档的格式。\nContent-Location: 本地\n", encoding="utf-8")
    assert identify(text).kind.name == "text"


def test_a_web_archive_without_a_page_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pictures.mht"
    path.write_bytes(
        b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Location: file:///a.png\r\nContent-Type: image/png\r\n\r\nxx\r\n--b--\r\n"
    )
    with pytest.raises(UnreadableInputError, match=r"holds no HTML page"):
        load(path)


# ---------------------------------------------------------------- the folder a browser saves beside a page


def test_the_folder_saved_beside_a_page_is_skipped_with_one_notice(tmp_path: Path) -> None:
    want = record("2021", 51)
    folder = tmp_path / "reports"
    files = folder / "城关镇年报_files"
    files.mkdir(parents=True)
    (folder / "城关镇年报.htm").write_bytes(render_page(want, PageOptions(seed=51)))
    (files / "image001.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    (files / "filelist.xml").write_text('<xml><o:MainFile HRef="../城关镇年报.htm"/></xml>', encoding="utf-8")
    (files / "header.htm").write_text("<html><body><p>页眉</p></body></html>", encoding="utf-8")
    (files / "sub").mkdir()
    (files / "sub" / "style.css").write_text("p{}", encoding="utf-8")
    # Chinese Word names it X.files; a folder named so without its page is an ordinary folder.
    (folder / "old.files").mkdir()
    (folder / "old.files" / "scan.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))

    chosen = select([folder])
    assert chosen.inputs() == [folder / "城关镇年报.htm"]
    assert [(s.path, str(s.reason)) for s in chosen.skipped] == [
        (files, "the pictures and styles a browser or Word saved with 城关镇年报.htm: no report"),
        (folder / "old.files" / "scan.png", text("image-beside-files")),
    ]

    result = runner.invoke(app, ["read", str(folder), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["agency"] for x in result.stdout.splitlines()] == [want.agency]
    assert result.stderr.count(f"Skipped: {files}:") == 1
    assert "image001" not in result.stderr and "header.htm" not in result.stderr


# ---------------------------------------------------------------- bounded grids (issue #18, item 6)


def test_rowspan_and_colspan_cannot_blow_a_table_up(tmp_path: Path) -> None:
    # 0.7 MB of cells spanning 50 rows and 50 columns each: once 36 s and 4.2 GB; now a one-line refusal.
    row = "<tr>" + '<td colspan="50" rowspan="50">x</td>' * 10 + "</tr>"
    path = tmp_path / "bomb.html"
    path.write_text(f"<html><body><table>{row * 1900}</table></body></html>", encoding="utf-8")
    assert path.stat().st_size > 700_000
    with pytest.raises(UnsafeInputError, match=r"^refused: a table is over 1000 grid columns wide") as err:
        load(path)
    assert "\n" not in str(err.value)


def test_a_table_of_too_many_grid_cells_is_refused(tmp_path: Path) -> None:
    row = '<tr><td colspan="900">x</td></tr>'
    path = tmp_path / "tall.html"
    path.write_text(f"<html><body><table>{row * 300}</table></body></html>", encoding="utf-8")
    with pytest.raises(UnsafeInputError, match=r"^refused: the page's tables are over 200,000 grid cells"):
        load(path)
    result = runner.invoke(app, ["read", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {path}: refused: the page's tables are over 200,000 grid cells")


def test_a_report_table_within_the_bounds_is_read(tmp_path: Path) -> None:
    # The bound leaves room: Word's widest export of the form (fifteen columns cut four ways) is far below it.
    want = record("2021", 61)
    path = tmp_path / "wide.htm"
    path.write_bytes(render_page(want, replace(PageOptions(seed=61), drift=(4, 4))))
    assert not wrong_cells(read_report(path), want)
