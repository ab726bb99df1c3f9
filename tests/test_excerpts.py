"""A reader warning quotes the input it came from: the row as the input kind gave it, and where it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.generate import make_record
from convert.cli import app
from convert.inputs.base import Line
from convert.parse import parse_report
from convert.parse.excerpts import EXCERPT_CHARS, SourceLines
from convert.reader import read_report
from convert.record import Excerpt, Record
from convert.render import render_report
from convert.store import open_store

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "reports"
runner = CliRunner()

# A count the reader cannot read, in the first row of 三 (一、本年新收政府信息公开申请数量).
KEY = "requests.new_received.natural_person"
UNREADABLE = "约7"
LABEL = "一、本年新收政府信息公开申请数量"


def unreadable_record(version: str = "2021") -> Record:
    """A report whose 三 has 「约7」 where the natural persons' new applications are."""
    record = make_record(version, 5)
    record.text["overview"].insert(0, f"{record.year}年，{record.agency}认真贯彻落实《条例》。")
    record.cells[KEY] = UNREADABLE  # type: ignore[assignment]  # the generators print a cell as it is
    return record


def quoted(record: Record, code: str) -> list[Excerpt]:
    """The excerpts of the record's warnings of a code (there must be one)."""
    found = [w for w in record.warnings if w.code == code]
    assert found, [w.code for w in record.warnings]
    return [e for w in found for e in w.excerpts]


def the_row(record: Record) -> Excerpt:
    """The excerpt of the unreadable value's warning: its row, label and cell included."""
    [excerpt] = quoted(record, "unreadable-value")
    assert LABEL in excerpt.text and UNREADABLE in excerpt.text, excerpt
    assert " | " in excerpt.text  # cells apart, readably
    return excerpt


@pytest.mark.parametrize("layout", ["tabs", "cells", "markdown"])
def test_text_quotes_the_row_and_its_line(layout: str) -> None:
    text = render_report(unreadable_record(), layout)
    record = parse_report(text)
    excerpt = the_row(record)
    # The file's own line number: the line of the row's label.
    assert excerpt.line is not None and LABEL in text.split("\n")[excerpt.line - 1]
    assert excerpt.page is None


def test_a_web_page_quotes_the_table_row(tmp_path: Path) -> None:
    from tests.htmlgen import render_page

    path = tmp_path / "report.html"
    path.write_bytes(render_page(unreadable_record()))
    excerpt = the_row(read_report(path))
    # A web page's lines are no lines a person would count.
    assert excerpt.line is None and excerpt.page is None


def test_a_word_document_quotes_the_table_row(tmp_path: Path) -> None:
    from tests.docgen import render_docx

    path = tmp_path / "report.docx"
    render_docx(unreadable_record("2019"), path)
    excerpt = the_row(read_report(path))
    assert excerpt.line is None and excerpt.page is None


def test_a_pdf_quotes_the_table_row_and_its_page(tmp_path: Path) -> None:
    pytest.importorskip("pdfplumber")
    from tests.pdf_typeset import Options, typeset, write_pdf

    path = tmp_path / "report.pdf"
    # Short pages: 三 starts after the title, 二 and the texts, on a later page than the first.
    pages = typeset(unreadable_record(), Options(page_height=450))
    path.write_bytes(write_pdf(pages))
    excerpt = the_row(read_report(path))
    on = [i + 1 for i, page in enumerate(pages) if any(g.text == "约" for g in page.glyphs)]
    assert excerpt.page == on[0] and excerpt.page > 1
    assert excerpt.line is None


def test_a_misaligned_row_quotes_the_row_with_its_gap() -> None:
    text = (DATA / "houhe-2021.txt").read_text(encoding="utf-8")
    record = parse_report(text)
    excerpts = quoted(record, "row-misaligned")
    # Four rows read alike are one warning quoting each of them.
    assert len(excerpts) == 4
    first = excerpts[0]
    assert first.text == LABEL + " | 0" * 8
    assert first.line is not None and text.split("\n")[first.line - 1].startswith(LABEL)


def report_lines() -> tuple[list[str], int]:
    """A report's lines as tab-separated text, and the index of the line of one row of 三."""
    lines = render_report(make_record("2021", 5)).split("\n")
    return lines, next(i for i, line in enumerate(lines) if "2.其他法律行政法规禁止公开" in line)


def test_a_number_set_aside_quotes_its_row() -> None:
    lines, at = report_lines()
    lines[at] += "\t99"  # a number past the row's columns: set aside, never lost
    record = parse_report("\n".join(lines))
    [excerpt] = quoted(record, "number-set-aside")
    assert excerpt.line == at + 1 and excerpt.text.endswith("| 99")
    assert excerpt.text.startswith("2.其他法律行政法规禁止公开 | ")


def test_a_blank_cell_between_numbers_shows_as_a_gap_a_merged_label_does_not() -> None:
    # As the page shows them: the empty box among the numbers, not the positions a merged label covers.
    lines = [Line(7, ["三、本年度办理结果", "", "（一）予以公开", "", "3", "", "", "5", ""], is_row=True, page=2)]
    excerpt = SourceLines(lines, numbered=False).quote([7])
    assert excerpt == Excerpt("三、本年度办理结果 | （一）予以公开 | 3 |  |  | 5", None, 2)


def test_a_long_row_is_cut_short() -> None:
    lines, at = report_lines()
    lines[at] += "\t" + "很长的备注" * 100
    record = parse_report("\n".join(lines))
    excerpts = [e for w in record.warnings for e in w.excerpts if "很长的备注" in e.text]
    assert excerpts and all(len(e.text) <= EXCERPT_CHARS and e.text.endswith("…") for e in excerpts)


def test_excerpts_round_trip_through_json_and_the_store(new_store: str) -> None:
    record = parse_report((DATA / "tab-subtotal-2020.txt").read_text(encoding="utf-8"))
    assert any(w.excerpts for w in record.warnings)
    again = Record.loads(record.dumps())
    assert [w.excerpts for w in again.warnings] == [w.excerpts for w in record.warnings]
    assert again.to_json() == record.to_json()
    with open_store(new_store) as store:
        store.add(record, author="tester", reason=None, source_name="x.txt", sha256=None)
        stored, _ = store.get(record.agency or "", record.year or 0)
    assert [w.excerpts for w in stored.warnings] == [w.excerpts for w in record.warnings]


def test_records_without_excerpts_or_with_odd_ones_still_load() -> None:
    data = json.loads(parse_report((DATA / "tab-subtotal-2020.txt").read_text(encoding="utf-8")).dumps())
    old = json.loads(json.dumps(data))
    for w in old["warnings"]:
        w.pop("excerpts", None)
    assert all(not w.excerpts for w in Record.from_json(old).warnings)
    data["warnings"][0]["excerpts"] = [{"text": "规范性文件 | 2", "line": "11"}, "odd", {"line": 3}, {"text": "x"}]
    assert Record.from_json(data).warnings[0].excerpts == [Excerpt("规范性文件 | 2"), Excerpt("x")]


def test_read_and_check_print_the_excerpts_as_json(tmp_path: Path) -> None:
    path = tmp_path / "report.txt"
    path.write_text(render_report(unreadable_record()), encoding="utf-8")
    read = runner.invoke(app, ["read", str(path)])
    [warning] = [w for w in json.loads(read.output)["warnings"] if w["code"] == "unreadable-value"]
    assert UNREADABLE in warning["excerpts"][0]["text"] and isinstance(warning["excerpts"][0]["line"], int)
    check = runner.invoke(app, ["check", "--json", str(path)])
    [finding] = [f for f in json.loads(check.output)[0]["findings"] if f["code"] == "unreadable-value"]
    assert finding["excerpts"] == warning["excerpts"]


def test_a_broken_rule_quotes_the_row_of_its_total(tmp_path: Path) -> None:
    record = make_record("2021", 5)
    record.cells["requests.new_received.total"] += 1  # type: ignore[operator]
    path = tmp_path / "report.txt"
    path.write_text(render_report(record), encoding="utf-8")
    check = runner.invoke(app, ["check", "--json", str(path)])
    errors = [f for f in json.loads(check.output)[0]["findings"] if f["key"] == "requests.new_received.total"]
    assert errors and errors[0]["severity"] == "error"
    assert errors[0]["excerpts"][0]["text"].startswith(LABEL)


def test_the_check_printout_shows_one_short_line_of_source(tmp_path: Path) -> None:
    path = tmp_path / "report.txt"
    path.write_text(render_report(unreadable_record()), encoding="utf-8")
    result = runner.invoke(app, ["check", str(path)])
    lines = result.output.splitlines()
    at = next(i for i, line in enumerate(lines) if f"「{UNREADABLE}」" in line)
    below = lines[at + 1].strip()
    assert below.startswith("原文（第 ") and LABEL in below and UNREADABLE in below
    # A warning whose message already holds its row says it once.
    tab = runner.invoke(app, ["check", str(DATA / "tab-subtotal-2020.txt")]).output
    assert "行「其他主动公开文件」不属于标准格式" in tab and "原文（第 11 行）：规范性文件 | 2 | 2 | 十二" in tab
    assert not any(line.strip().startswith("原文") and "其他主动公开文件" in line for line in tab.splitlines())


def test_the_check_printout_in_english(tmp_path: Path, english: None) -> None:
    path = tmp_path / "report.txt"
    path.write_text(render_report(unreadable_record()), encoding="utf-8")
    result = runner.invoke(app, ["check", str(path)])
    assert any(line.strip().startswith("source (line ") for line in result.output.splitlines())


def test_a_value_read_by_ocr_and_left_in_doubt_quotes_its_row() -> None:
    from tests.test_ocr import scanned_lines

    record = make_record("2021", 8)
    misread = record.cells["requests.granted.research"] + 5  # type: ignore[operator]
    got = scanned_lines(record, {"requests.granted.research": (str(misread), 0.97)})
    [doubt] = [w for w in got.warnings if w.code == "ocr-unconfirmed"]
    [excerpt] = doubt.excerpts
    assert "（一）予以公开 | " in excerpt.text and f" | {misread} | " in excerpt.text


def test_the_workbook_cover_shows_each_warnings_source_text_on_hover(tmp_path: Path) -> None:
    # An auditor with only the workbook sees where a warning came from: a comment on its message, never a value.
    import openpyxl

    from convert.outputs.standard import write_workbook
    from convert.readback import read_workbook

    record = parse_report(render_report(unreadable_record(), "tabs"))
    excerpt = the_row(record)
    book = write_workbook(record, tmp_path / "report.xlsx")
    wb = openpyxl.load_workbook(book)
    cover = wb.worksheets[0]
    [message] = [w.message for w in record.warnings if w.code == "unreadable-value"]
    [cell] = [c for c in cover["B"] if c.value == message]
    assert cell.comment is not None
    assert cell.comment.text == f"原文（第 {excerpt.line} 行）：{excerpt.text}"
    # Comments are not read back: the record from the workbook holds the same warnings' messages.
    back = read_workbook(book)
    assert [w.message for w in back.warnings] == [w.message for w in record.warnings]
