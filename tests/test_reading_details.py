"""Details seen in real published reports (issue #12): （六） printed as one row, label typos and variants, a
reworded heading 五, titles on two lines, a preface that names the report, a header row ending in 总计."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from convert.checks import check_rules
from convert.formats import load_format
from convert.merge import merge_inputs
from convert.parse import parse_report
from convert.readback import check_workbook, read_workbook
from convert.record import Record
from convert.render import render_report
from tests.strategies import consistent_record

COLUMNS = ["natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total"]
SUB_ROWS = ["other_no_correction", "other_unpaid_fee", "other_other"]
# The layouts whose table rows are one line each: a row can be swapped for another.
ROW_LAYOUTS = ["tabs", "markdown", "html"]


def report(version: str = "2021", seed: int = 7, layout: str = "tabs", title: str | None = None) -> tuple[Record, str]:
    """A consistent record with numbers in （六） and the text of its report."""
    record = consistent_record(version, seed=seed)
    record.agency, record.year, record.title = "洪泽区", 2023 if version == "2021" else 2019, title
    record.notes = {}
    if version == "2021":
        for row in SUB_ROWS:
            assert record.cells[f"requests.{row}.total"] is not None
    return record, render_report(record, layout)


def row_line(cells: list[str], layout: str) -> str:
    """One table row as the layout writes it."""
    if layout == "markdown":
        return "| " + " | ".join(cells) + " |"
    if layout == "html":
        return "<tr>" + "".join(f"<td>{c or '&nbsp;'}</td>" for c in cells) + "</tr>"
    return "\t".join(cells)


def six_as_one_row(text: str, values: list[str], layout: str, label: str = "（六）其他处理") -> str:
    """Print （六） as one row of numbers in place of its three sub-rows, as some 2021 reports do."""
    lines = text.split("\n")
    subs = ("1.申请人无正当理由", "2.申请人逾期未按收费", "3.其他")
    kept = [ln for ln in lines if not any(s in ln for s in subs)]
    assert len(lines) - len(kept) == 3
    at = next(i for i, ln in enumerate(kept) if "（七）总计" in ln)
    kept.insert(at, row_line(["", label, *values], layout))
    return "\n".join(kept)


def six_totals(record: Record) -> list[str]:
    return [str(sum(record.cells[f"requests.{r}.{c}"] for r in SUB_ROWS)) for c in COLUMNS]  # type: ignore[misc]


# -- （六）其他处理 of 2021 -----------------------------------------------------------------------------------------
def test_a_2021_report_holds_the_total_of_six_as_the_sum_of_its_rows() -> None:
    record, text = report()
    got = parse_report(text)
    for c in COLUMNS:
        assert got.cells[f"requests.other_total.{c}"] == sum(
            record.cells[f"requests.{r}.{c}"]
            for r in SUB_ROWS  # type: ignore[misc]
        )
    assert not [w for w in got.warnings if w.code in ("sub-rows-missing", "missing-row")]


def test_the_total_of_six_is_blank_when_a_row_of_it_is_blank() -> None:
    record, _ = report()
    record.cells["requests.other_unpaid_fee.research"] = None
    got = parse_report(render_report(record))
    # Blank is not zero: the sum of a blank and numbers is not known.
    assert got.cells["requests.other_total.research"] is None
    assert got.cells["requests.other_total.commercial"] is not None


@pytest.mark.parametrize("layout", ROW_LAYOUTS)
@pytest.mark.parametrize("label", ["（六）其他处理", "（六）其他", "(六)其他处理"])
def test_six_printed_as_one_row_keeps_its_numbers_and_the_outcome_total_checkable(layout: str, label: str) -> None:
    record, text = report(layout=layout)
    got = parse_report(six_as_one_row(text, six_totals(record), layout, label))
    assert [got.cells[f"requests.other_total.{c}"] for c in COLUMNS] == [int(v) for v in six_totals(record)]
    # Never put into 3.其他 (or any sub-row) silently: they are blank, and a warning says why.
    for row in SUB_ROWS:
        assert all(got.cells[f"requests.{row}.{c}"] is None for c in COLUMNS)
    (warning,) = [w for w in got.warnings if w.code == "sub-rows-missing"]
    assert warning.where == "requests.other_total" and "（六）其他处理" in warning.message
    # Every other cell reads as printed.
    wrong = {k: v for k, v in record.cells.items() if got.cells[k] != v and ".other_" not in k}
    assert not wrong
    # The outcome total (（七）总计 = （一）…（六）) is checked, and holds.
    outcome = load_format("2021").rule("outcome-total").title
    assert not [f for f in check_rules(got) if f.code == "outcome-total" or f.fields.get("rule") == outcome]


def test_six_printed_as_one_row_with_a_wrong_number_fails_the_outcome_total() -> None:
    record, text = report()
    values = six_totals(record)
    values[0] = str(int(values[0]) + 5)
    values[-1] = str(int(values[-1]) + 5)
    got = parse_report(six_as_one_row(text, values, "tabs"))
    failed = {w.where for w in got.warnings if w.code == "rule-failed"}
    assert "requests.total.natural_person" in failed


def test_six_printed_with_its_rows_is_checked_against_them() -> None:
    record, text = report()
    values = six_totals(record)
    values[1] = str(int(values[1]) + 1)
    values[-1] = str(int(values[-1]) + 1)
    lines = text.split("\n")
    at = next(i for i, ln in enumerate(lines) if "（七）总计" in ln)
    lines.insert(at, row_line(["", "（六）其他处理", *values], "tabs"))
    got = parse_report("\n".join(lines))
    # The printed total is kept; the rule that it sums its rows says where it does not.
    assert got.cells["requests.other_total.commercial"] == int(values[1])
    assert got.cells["requests.other_other.commercial"] == record.cells["requests.other_other.commercial"]
    failed = [w for w in got.warnings if w.code == "rule-failed" and w.where == "requests.other_total.commercial"]
    assert failed and "（六）其他处理等于其下三项之和" in failed[0].message
    assert not [w for w in got.warnings if w.code == "sub-rows-missing"]


def test_a_2019_report_keeps_six_as_its_own_row() -> None:
    record, text = report("2019")
    got = parse_report(text.replace("（六）其他处理", "（六）其他"))
    assert got.cells["requests.other_handling.total"] == record.cells["requests.other_handling.total"]
    assert "requests.other_total.total" not in got.cells


def test_mixed_summaries_count_2019s_six_under_the_2021_total_of_six(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    records = []
    for i, version in enumerate(["2019", "2019", "2021", "2021"]):
        record = consistent_record(version, seed=20 + i)
        record.agency, record.year, record.title = f"乡镇{i}镇", 2021, None
        (folder / f"r{i}.txt").write_text(render_report(record), encoding="utf-8")
        records.append(record)
    merge_inputs([folder], tmp_path / "s.xlsx", jobs=1)
    summary = read_workbook(tmp_path / "s.xlsx")
    six = sum(
        r.cells["requests.other_handling.total"]
        if r.format == "2019"
        else sum(r.cells[f"requests.{x}.total"] for x in SUB_ROWS)  # type: ignore[misc]
        for r in records
    )
    assert six and summary.cells["requests.other_total.total"] == six
    _, findings = check_workbook(tmp_path / "s.xlsx")
    assert not [f.to_json() for f in findings if f.severity == "error"]


# -- labels ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["2019", "2021"])
def test_label_typos_and_variants_are_read(version: str) -> None:
    record, text = report(version)
    text = text.replace("2.其他法律行政法规禁止公开", "2.其他法律行政止公开")
    # Sub-rows numbered 1、2、3、 instead of 1.2.3.
    text = re.sub(r"\t(\d)\.", r"\t\1、", text)
    if version == "2021":
        text = text.replace("行政规范性文件", "规范性文件")
    else:
        text = text.replace("\t规范性文件", "\t行政规范性文件").replace("\n规范性文件", "\n行政规范性文件")
    text = text.replace("结果维持", "结果维护")
    assert "1、" in text and "结果维护" in text and "其他法律行政止公开" in text
    got = parse_report(text)
    wrong = {k: (v, got.cells[k]) for k, v in record.cells.items() if got.cells[k] != v}
    assert not wrong
    assert not [w for w in got.warnings if w.code in ("missing-row", "unknown-row", "unplaced-line")]


@pytest.mark.parametrize(
    "heading",
    [
        "五、工作中存在的不足及下一步工作打算",
        "五、存在问题及改进措施",
        "五、主要问题和改进情况",
        "五、存在的主要问题及改进情况",
    ],
)
def test_a_reworded_heading_five_is_found(heading: str) -> None:
    record, text = report()
    got = parse_report(text.replace("五、存在的主要问题及改进情况", heading))
    assert got.text["problems"] == record.text["problems"]
    assert not [w for w in got.warnings if w.code in ("missing-section", "unplaced-line")]


# -- title, agency and year ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("title", "agency"),
    [
        ("洪泽区人民政府\n\n2023 年政府信息公开工作年度报告", "洪泽区"),
        ("洪泽区人民政府\n2023年度政府信息公开工作年度报告", "洪泽区"),
        ("淮安市洪泽区\n2023 年政府信息公开工作年度报告", "淮安市洪泽区"),
        ("洪泽区发展和改革委员会\n2023年政府信息公开工作年度报告", "洪泽区发展和改革委员会"),
    ],
)
def test_a_title_on_two_lines(title: str, agency: str) -> None:
    _, text = report(title="TITLE")
    got = parse_report(text.replace("TITLE", title))
    assert (got.agency, got.year) == (agency, 2023)
    assert not [w for w in got.warnings if w.code in ("agency-unknown", "year-guessed", "year-unknown")]


def test_a_line_before_a_title_that_names_its_agency_is_no_part_of_it() -> None:
    _, text = report(title="TITLE")
    got = parse_report(text.replace("TITLE", "洪泽区人民政府办公室\n洪泽区2023年政府信息公开工作年度报告"))
    assert (got.agency, got.year) == ("洪泽区", 2023)


PREFACE = "本年度报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）要求编制，全文包括总体情况等六部分。"


def test_a_preface_naming_the_report_is_no_title_and_its_agency_is_never_ben() -> None:
    _, text = report(title="TITLE")
    text = text.replace("TITLE\n", PREFACE + "\n")
    got = parse_report(text)
    assert got.agency is None and got.title is None
    assert PREFACE in got.text["preface"]
    assert "agency-unknown" in {w.code for w in got.warnings}


@pytest.mark.parametrize("title", ["洪泽区2023年政务公开工作年度报告", "本年度政府信息公开工作年度报告"])
def test_the_preface_does_not_outrank_the_title(title: str) -> None:
    _, text = report(title=title)
    got = parse_report(text.replace(title, title + "\n\n" + PREFACE, 1))
    assert got.title == title
    assert got.agency == ("洪泽区" if title.startswith("洪泽区") else None)
    assert got.agency != "本"


def test_benxi_is_an_agency_not_a_pronoun() -> None:
    _, text = report(title="本溪市2023年政府信息公开工作年度报告")
    assert parse_report(text).agency == "本溪市"


# -- the header ----------------------------------------------------------------------------------------------------------
def test_a_header_row_whose_last_cell_reads_total_is_a_header() -> None:
    record, text = report()
    lines = text.split("\n")
    at = next(i for i, ln in enumerate(lines) if ln.startswith("（本列数据"))
    # The 总计 column label merged down the header rows, printed on the first one.
    lines[at] += "\t" * 6 + "\t总计"
    lines[at + 1] = lines[at + 1].replace("\t总计", "")
    got = parse_report("\n".join(lines))
    assert [got.cells[f"requests.total.{c}"] for c in COLUMNS] == [record.cells[f"requests.total.{c}"] for c in COLUMNS]
    assert not [w for w in got.warnings if w.code in ("duplicate-row", "row-misaligned")]
