"""Every layout real reports come in reads back to the same cells; odd rows are decided by the totals, with a warning."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convert.checks.catalogue import needs_review
from convert.errors import NotAReportError
from convert.formats import load_format
from convert.parse import parse_report
from convert.parse.fit import fit
from convert.parse.rows import Cell
from convert.parse.values import parse
from convert.reader import read_report
from convert.record import Record
from convert.render import LAYOUTS, render_report
from tests.strategies import count_values, money_values, signed_values

DATA = Path(__file__).parent / "data"


@st.composite
def plain_records(draw: st.DrawFn) -> Record:
    """A record with random cells (blanks included) and plain texts."""
    version = draw(st.sampled_from(["2019", "2021"]))
    fmt = load_format(version)
    kinds = {"count": count_values(), "signed": signed_values(), "money": money_values()}
    cells = {k: draw(kinds[fmt.cell_type(k)]) for k in fmt.cell_keys}
    for table in fmt.tables.values():
        for row in table.rows:
            # A total the form leaves to its rows is read as their sum, known when every one of them is.
            for c in row.columns if row.sums else ():
                parts = [cells[f"{table.key}.{p}.{c}"] for p in row.sums]
                cells[f"{table.key}.{row.key}.{c}"] = None if None in parts else sum(parts)  # type: ignore[arg-type]
    year = draw(st.integers(2019, 2020) if version == "2019" else st.integers(2021, 2025))
    return Record(
        format=version,
        cells=cells,
        agency=draw(st.sampled_from(["竹镇镇", "隆德县联财镇", "某市某区", "某县人民政府办公室"])),
        year=year,
        text={"preface": [], "overview": ["全年主动公开信息。"], "problems": ["存在不足。"], "other": ["无"]},
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=plain_records(), layout=st.sampled_from(LAYOUTS))
def test_any_record_in_any_layout_reads_back(record: Record, layout: str) -> None:
    got = parse_report(render_report(record, layout))
    assert got.format == record.format
    assert (got.agency, got.year) == (record.agency, record.year)
    assert got.cells == record.cells
    assert got.text["problems"] == record.text["problems"]
    assert not [w for w in got.warnings if w.code in ("row-misaligned", "unplaced-line", "missing-row")]


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-16", "utf-16-le", "utf-8-sig"])
def test_encodings_read_the_same(tmp_path: Path, encoding: str) -> None:
    source = DATA / "reports" / "md-county-2021.md"
    want = read_report(source)
    path = tmp_path / "report.txt"
    path.write_bytes(source.read_text(encoding="utf-8").encode(encoding))
    got = read_report(path)
    assert got.cells == want.cells and got.agency == want.agency and got.text == want.text


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_line_endings_read_the_same(tmp_path: Path, newline: str) -> None:
    source = DATA / "reports" / "zhuzhen-2019.txt"
    want = read_report(source)
    path = tmp_path / "report.txt"
    path.write_bytes(source.read_text(encoding="utf-8").replace("\n", newline).encode("utf-8"))
    got = read_report(path)
    assert got.cells == want.cells and got.text == want.text


def _requests_row(line: str) -> str:
    base = (DATA / "reports" / "md-county-2021.md").read_text(encoding="utf-8")
    old = "| 一、本年新收政府信息公开申请数量 | | | 30 | 5 | 1 | 2 | 1 | 1 | 40 |"
    assert old in base
    return base.replace(old, line)


def test_a_row_with_an_extra_cell_is_read_by_its_total() -> None:
    # A stray empty cell inside the row: the total (40 = 30+5+1+2+1+1) tells which cell is spurious.
    rec = parse_report(_requests_row("| 一、本年新收政府信息公开申请数量 | | | 30 | 5 | | 1 | 2 | 1 | 1 | 40 |"))
    cells = [
        rec.cells[f"requests.new_received.{c}"]
        for c in ("natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total")
    ]
    assert cells == [30, 5, 1, 2, 1, 1, 40]
    assert any(w.code == "row-misaligned" and w.where == "requests.new_received" for w in rec.warnings)


def test_a_short_row_keeps_only_what_the_totals_fix(english: None) -> None:
    # Two numbers for seven columns: only the total is certain; the rest stays blank, and the 40 no column
    # holds is named in a warning that asks for a review.
    rec = parse_report(_requests_row("| 一、本年新收政府信息公开申请数量 | 40 | 40 |"))
    assert rec.cells["requests.new_received.total"] == 40
    assert rec.cells["requests.new_received.natural_person"] is None
    (warning,) = [w for w in rec.warnings if w.code == "number-set-aside"]
    assert (warning.where, warning.fields["numbers"], warning.fields["positions"]) == (
        "requests.new_received",
        [40],
        [1],
    )
    assert "40 (number 1 of the row) could not be placed" in warning.message
    assert "6 cell(s) left blank" in warning.message
    assert needs_review(warning.code)


def test_a_row_no_reading_explains_is_left_blank(english: None) -> None:
    rec = parse_report(_requests_row("| 一、本年新收政府信息公开申请数量 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 |"))
    assert all(rec.cells[f"requests.new_received.{c}"] is None for c in ("natural_person", "total"))
    (warning,) = [w for w in rec.warnings if w.code == "number-set-aside"]
    assert warning.fields["numbers"] == [1, 2, 3, 4, 5, 6, 7, 8, 9] and "no reading" in warning.message


def test_balance_failure_is_a_warning_naming_the_cells() -> None:
    rec = parse_report(_requests_row("| 一、本年新收政府信息公开申请数量 | | | 31 | 5 | 1 | 2 | 1 | 1 | 41 |"))
    assert rec.cells["requests.new_received.natural_person"] == 31
    assert any(w.code == "rule-failed" for w in rec.warnings)


def test_subtotal_mismatch_is_reported() -> None:
    text = (DATA / "reports" / "tab-subtotal-2020.txt").read_text(encoding="utf-8")
    text = text.replace("\t\t小计\t1\t1\t1\t0\t0\t0\t0\t2", "\t\t小计\t3\t1\t1\t0\t0\t0\t0\t4")
    rec = parse_report(text)
    assert any(w.code == "subtotal-mismatch" for w in rec.warnings)


def test_unplaced_text_in_a_table_is_a_warning() -> None:
    text = (DATA / "reports" / "tab-subtotal-2020.txt").read_text(encoding="utf-8")
    text = text.replace("行政强制\t0\t0\t0", "行政强制\t0\t0\t0\n注：本表数据来源于统计系统")
    rec = parse_report(text)
    assert any(w.code == "unplaced-line" and "注：本表数据来源于统计系统" in w.message for w in rec.warnings)


def test_reworded_and_unnumbered_headings() -> None:
    text = (DATA / "reports" / "zhuzhen-2019.txt").read_text(encoding="utf-8")
    text = text.replace("五、存在的主要问题及改进情况", "五、政府信息公开工作存在的主要问题及改进情况").replace(
        "一、总体情况", "总体情况"
    )
    rec = parse_report(text)
    assert rec.text["problems"][0].startswith("下一步，竹镇镇")
    assert rec.text["overview"][0] == "（一）坚持公开透明，加强解读回应工作"


def test_not_a_report_is_refused() -> None:
    with pytest.raises(NotAReportError, match=r"不是政府信息公开工作年度报告"):
        parse_report("会议纪要\n\n今天开会讨论了三件事。\n")


def test_a_missing_table_is_named() -> None:
    text = (DATA / "reports" / "liancai-2019.txt").read_text(encoding="utf-8")
    start = text.index("四、政府信息公开行政复议")
    end = text.index("五、存在的问题")
    with pytest.raises(NotAReportError, match="四、政府信息公开行政复议、行政诉讼情况"):
        parse_report(text[:start] + text[end:])


def test_a_blank_total_beside_surplus_empty_cells_is_placed_like_the_other_rows() -> None:
    # Two empty cells before the numbers and a blank total: the other rows show the numbers start after the
    # merged label cells, so 30 is 自然人 (not shifted into a blank first column), and the blank total is said.
    rec = parse_report(_requests_row("| 一、本年新收政府信息公开申请数量 | | | 30 | 5 | 1 | 2 | 1 | 1 | |"))
    assert rec.cells["requests.new_received.natural_person"] == 30
    assert rec.cells["requests.new_received.other_org"] == 1
    assert rec.cells["requests.new_received.total"] is None
    assert any(w.code == "rule-unchecked" and w.where == "requests" for w in rec.warnings)


def test_surplus_empty_cells_that_could_sit_on_either_side_leave_cells_blank() -> None:
    # ·|3|5|·|8|·  for 5 columns, no other row to compare with: either placement is possible, so no silent guess.
    texts = ["", "3", "5", "", "8", ""]
    tokens = [Cell(t, 1) for t in texts]
    eqs = [(4, [0, 1, 2, 3])]
    fitted, reading, _ = fit(tokens, [parse(t) for t in texts], 5, eqs, None, True)
    assert fitted is not None and reading and reading["case"] == "ends" and reading["unsure"] == 5
    assert fitted == [None] * 5
    # With a row of the same shape read for sure, the same reading is taken without a warning.
    fitted, reading, _ = fit(tokens, [parse(t) for t in texts], 5, eqs, 0, True)
    assert fitted is not None and not reading and [c.text for c in fitted if c] == ["", "3", "5", "", "8"]


def test_a_wrong_subtotal_column_is_checked_against_the_cells_it_sums() -> None:
    text = (DATA / "reports" / "tab-subtotal-2020.txt").read_text(encoding="utf-8")
    old = "一、本年新收政府信息公开申请数量\t\t6\t3\t2\t0\t1\t0\t0\t9"
    assert old in text
    rec = parse_report(text.replace(old, old.replace("\t6\t3\t", "\t6\t4\t")))
    assert rec.cells["requests.new_received.commercial"] == 2
    assert any(w.code == "subtotal-mismatch" and w.where == "requests.new_received" for w in rec.warnings)


def test_a_lost_cell_padded_back_at_the_end_is_not_silent() -> None:
    # A converter dropped one 0 and padded the row: the reading shifts and the total comes out blank, with a warning.
    base = "| | | 2.重复申请 | 1 | 0 | 0 | 0 | 0 | 0 | 1 |"
    text = (DATA / "reports" / "md-county-2021.md").read_text(encoding="utf-8")
    assert base in text
    rec = parse_report(text.replace(base, "| | | 2.重复申请 | 1 | 0 | 0 | 0 | 0 | 1 | |"))
    assert rec.cells["requests.rejected_repeat.total"] is None
    assert any(w.code == "rule-unchecked" for w in rec.warnings)


def test_breadcrumbs_and_an_arabic_numbered_chapter() -> None:
    text = (DATA / "reports" / "zhuzhen-2019.txt").read_text(encoding="utf-8")
    want = parse_report(text)
    text = "当前位置：首页 > 政务公开 > 政府信息公开年度报告\n" + text.replace("一、总体情况", "1.总体情况")
    rec = parse_report(text)
    assert (rec.agency, rec.year, rec.title) == (want.agency, want.year, want.title)
    assert rec.text["overview"] == want.text["overview"]
    assert rec.cells == want.cells


def test_a_huge_rule_like_line_does_not_stall_the_reader() -> None:
    # A regex with overlapping classes needed minutes for this line; it is plain junk, so it stays text.
    text = (DATA / "reports" / "luoqi-2019.txt").read_text(encoding="utf-8")
    junk = "-" * 100_000 + "x"
    rec = parse_report(junk + "\n" + text)
    assert rec.cells["proactive.procurement.projects"] == 315
    assert rec.text["preface"] == [junk]
