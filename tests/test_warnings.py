"""Reader warnings: one per problem, each naming its cell, row or table; a number set aside to fit a row is a finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from convert.checks.catalogue import needs_review
from convert.formats import load_format
from convert.parse import parse_report
from convert.reader import read_report
from convert.record import Record

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "tests" / "data" / "reports"
HOUHE = (ROOT / "samples" / "houhe-2021.txt").read_text(encoding="utf-8")
# 后河镇 prints eight cells for the seven columns of four rows of 三; all zeros, they add up however read.
NEW_RECEIVED = "一、本年新收政府信息公开申请数量\t\t0\t0\t0\t0\t0\t0\t0\t0\t"
NEW_KEYS = [f"requests.new_received.{c}" for c in load_format("2021").tables["requests"].row("new_received").columns]
# 四 printed as one row of fifteen numbers.
APPEALS = "0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\n"


def _only(record: Record, code: str):  # type: ignore[no-untyped-def]
    found = [w for w in record.warnings if w.code == code]
    assert len(found) == 1, [(w.code, w.where, w.message) for w in record.warnings]
    return found[0]


def test_the_same_misalignment_on_several_rows_is_one_warning_naming_them() -> None:
    record = read_report(ROOT / "samples" / "houhe-2021.txt")
    warning = _only(record, "row-misaligned")
    assert warning.where == "requests"
    rows = [
        "一、本年新收政府信息公开申请数量",
        "二、上年结转政府信息公开申请数量",
        "(七) 总计",
        "四、结转下年度继续办理",
    ]
    assert warning.fields["rows"] == [f"「{r}」" for r in rows] and warning.fields["count"] == 4
    assert warning.message.startswith("表「三、收到和处理政府信息公开申请情况」中 4 行") and all(
        r in warning.message for r in rows
    )
    # Only zeros were set aside: nothing for a person to decide, the report need not be reviewed for it.
    assert not needs_review(warning.code) and len(record.warnings) == 1


def test_a_number_set_aside_to_make_a_row_add_up_is_named_and_asks_for_a_review(english: None) -> None:
    # A 5 where the row's 总计 says 0: the only reading that adds up drops the 5. That is a finding, not a repair.
    record = parse_report(HOUHE.replace(NEW_RECEIVED, NEW_RECEIVED.replace("0\t0\t0\t0\t0\t", "0\t0\t0\t0\t5\t", 1)))
    assert [record.cells[k] for k in NEW_KEYS] == [0] * 7
    warning = _only(record, "number-set-aside")
    assert warning.where == "requests.new_received" and needs_review(warning.code)
    assert (warning.fields["case"], warning.fields["numbers"], warning.fields["positions"]) == ("dropped", [5], [5])
    assert "5 (number 5 of the row) was set aside and is in no cell" in warning.message
    assert (
        "「一、本年新收政府信息公开申请数量」: 8 cells for 7 columns (0 | 0 | 0 | 0 | 5 | 0 | 0 | 0)" in warning.message
    )
    # The three rows that only shed a zero are still one ordinary warning.
    assert _only(record, "row-misaligned").fields["count"] == 3


def test_the_set_aside_number_is_named_in_chinese() -> None:
    record = parse_report(HOUHE.replace(NEW_RECEIVED, NEW_RECEIVED.replace("0\t0\t0\t0\t0\t", "0\t0\t0\t0\t5\t", 1)))
    assert "为使合计相符，第 5 个数 5 被舍去，未计入任何单元格" in _only(record, "number-set-aside").message


def test_numbers_moved_to_other_columns_are_named_with_both_columns(english: None) -> None:
    # Fourteen numbers for fifteen columns: the totals put the lost cell in 行政复议, so the 1s after it move right.
    record = parse_report(HOUHE.replace(APPEALS, "0\t0\t0\t0\t1\t0\t0\t0\t1\t0\t0\t0\t0\t0\n"))
    assert (record.cells["appeals.suit_direct.upheld"], record.cells["appeals.suit_direct.total"]) == (1, 1)
    warning = _only(record, "number-set-aside")
    assert warning.where == "appeals" and warning.fields["case"] == "moved"
    assert warning.fields["moves"] == [
        "1 (行政复议·总计 → 未经复议直接起诉·结果维持)",
        "1 (未经复议直接起诉·尚未审结 → 未经复议直接起诉·总计)",
    ]


def test_numbers_set_aside_on_several_rows_are_one_warning_naming_each_row_and_number(english: None) -> None:
    text = HOUHE
    for row, value in (("一、本年新收政府信息公开申请数量", "5"), ("二、上年结转政府信息公开申请数量", "7")):
        old = f"{row}\t\t0\t0\t0\t0\t0\t0\t0\t0\t"
        text = text.replace(old, old.replace("\t0\t0\t0\t", f"\t0\t{value}\t0\t", 1))
    warning = _only(parse_report(text), "number-set-aside")
    assert warning.where == "requests" and warning.fields["case"] == "rows"
    assert warning.fields["rows"] == [
        "「一、本年新收政府信息公开申请数量」 5",
        "「二、上年结转政府信息公开申请数量」 7",
    ]
    assert "2 rows of table 「三、收到和处理政府信息公开申请情况」" in warning.message


def test_placeholders_in_many_cells_of_a_table_are_one_warning_naming_their_rows_and_columns(english: None) -> None:
    record = read_report(REPORTS / "tab-subtotal-2020.txt")
    warning = _only(record, "placeholder")
    assert warning.where == "proactive" and warning.fields["count"] == 6
    assert warning.fields["texts"] == ["「—」", "「/」"] and warning.fields["rows"] == [
        "「规章」",
        "「其他对外管理服务事项」",
    ]
    assert warning.message.startswith("6 cells of table 「二、主动公开政府信息情况」 read 「—」, 「/」: taken as blank")
    # One cell alone is named by its key.
    text = (REPORTS / "md-county-2021.md").read_text(encoding="utf-8")
    old = "| 行政事业性收费 | 1.2345 | | |"
    assert old in text
    single = _only(parse_report(text.replace(old, "| 行政事业性收费 | — | | |")), "placeholder")
    assert (single.where, single.message) == ("proactive.fees.amount", "「—」 read as a blank cell, not zero")


def test_page_numbers_and_header_labels_cut_in_two_are_no_warnings() -> None:
    text = (REPORTS / "md-county-2021.md").read_text(encoding="utf-8")
    old = "| 信息内容 | 本年收费金额（单位：万元） | | |\n"
    assert old in text
    record = parse_report(
        text.replace(old, "| 信息内容 | 本年收费金额（单 | | |\n| 位：万元） | | | |\n| — 3 — | | | |\n")
    )
    assert record.cells["proactive.fees.amount"] is not None and not record.warnings
    # Text that is no part of the header is still said, by its table.
    record = parse_report(text.replace(old, old + "| 注：本表数据来源于统计系统 | | | |\n"))
    warning = _only(record, "unplaced-line")
    assert warning.where == "proactive" and warning.fields["texts"] == ["「注：本表数据来源于统计系统」"]


def test_a_subtotal_row_is_compared_column_by_column_as_printed() -> None:
    text = (REPORTS / "tab-subtotal-2020.txt").read_text(encoding="utf-8")
    old = "\t\t小计\t1\t1\t1\t0\t0\t0\t0\t2"
    assert old in text
    # A blank 科研机构 cell in the 小计 row: the numbers after it stay in their columns, nothing is wrong.
    assert not [
        w
        for w in parse_report(text.replace(old, "\t\t小计\t1\t1\t1\t\t0\t0\t0\t2")).warnings
        if w.code == "subtotal-mismatch"
    ]
    wrong = _only(parse_report(text.replace(old, "\t\t小计\t1\t1\t1\t\t0\t0\t5\t2")), "subtotal-mismatch")
    assert (wrong.where, wrong.fields["group"], wrong.fields["cells"]) == ("requests", "（四）无法提供", ["其他 5 ≠ 0"])
    # The report contradicts itself: which number is wrong only a person can tell.
    assert needs_review(wrong.code)


def test_a_cell_that_holds_no_number_asks_for_a_review_and_a_placeholder_does_not() -> None:
    text = (REPORTS / "md-county-2021.md").read_text(encoding="utf-8")
    old = "| 行政事业性收费 | 1.2345 | | |"
    unreadable = _only(parse_report(text.replace(old, "| 行政事业性收费 | 不详 | | |")), "unreadable-value")
    assert unreadable.where == "proactive.fees.amount" and needs_review(unreadable.code)
    placeholder = _only(parse_report(text.replace(old, "| 行政事业性收费 | — | | |")), "placeholder")
    assert not needs_review(placeholder.code)


def _allowed_wheres(version: str) -> set[str]:
    fmt = load_format(version)
    out = {"year", "agency", "format", *(s.key for s in fmt.sections)}
    for table in fmt.tables.values():
        out |= {table.key, *(f"{table.key}.{r.key}" for r in table.rows), *table.cell_keys()}
        out |= {f"{table.key}.*.{c.key}" for c in table.columns}
    return out


@pytest.mark.parametrize("path", sorted(REPORTS.iterdir()), ids=lambda p: p.name)
def test_every_warning_names_a_cell_a_row_a_table_or_a_field_of_the_record(path: Path) -> None:
    record = read_report(path)
    allowed = _allowed_wheres(record.format)
    assert [(w.code, w.where) for w in record.warnings if w.where not in allowed] == []


def test_warnings_of_a_messy_report_name_places_never_lines() -> None:
    text = (REPORTS / "md-county-2021.md").read_text(encoding="utf-8")
    messy = text.replace(
        "| 行政事业性收费 | 1.2345 | | |",
        "| 行政事业性收费 | 1.2345 | | |\n| 5 | 6 | | |\n| 其他主动公开文件 | 3 | | |",
    )
    record = parse_report(messy)
    codes = {w.code for w in record.warnings}
    assert {"unplaced-line", "unknown-row"} <= codes
    allowed = _allowed_wheres(record.format)
    assert all(w.where in allowed for w in record.warnings), [(w.code, w.where) for w in record.warnings]
