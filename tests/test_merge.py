"""Merge: the summary's totals are live formulas over detail rows, read back as the cell-wise sum of the inputs."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from convert.checks import has_errors
from convert.checks.catalogue import text
from convert.merge import merge_inputs
from convert.merge_model import total
from convert.notice import printed_cell
from convert.outputs.template import load_template
from convert.readback import check_workbook, read_workbook
from convert.reader import read_report
from convert.record import Record
from convert.render import LAYOUTS, render_report
from tests.county import county_records, previous_records, write_text
from tests.lo import mismatches, needs_libreoffice, recalculate
from tests.strategies import consistent_record

# The workbooks these tests read are written in the default language, Chinese (the English summary is tested in
# test_workbook_language.py).
CHECK_DETAIL_SHEET = load_template().summary.check_sheet_name


def write_reports(
    folder: Path, version: str, n: int, *, year: int, start: int = 0, prefix: str = "乡镇"
) -> list[Record]:
    """Write n generated reports (every layout in turn) and return what the reader makes of them."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(start, start + n):
        rec = consistent_record(version, seed=i, blanks=i % 3 == 0)
        rec.agency, rec.year, rec.title = f"{prefix}{i:03d}镇", year, None
        path = folder / f"{prefix}{i:03d}-{year}.txt"
        path.write_text(render_report(rec, LAYOUTS[i % len(LAYOUTS)]), encoding="utf-8")
        out.append(read_report(path))
    return out


def test_summary_reads_back_as_the_sum_of_its_inputs(tmp_path: Path) -> None:
    records = write_reports(tmp_path / "in", "2021", 24, year=2022)
    result = merge_inputs([tmp_path / "in"], tmp_path / "summary.xlsx", jobs=2)
    assert result.merged == 24 and not result.refused
    summary = read_workbook(tmp_path / "summary.xlsx")
    assert summary.format == "2021" and summary.year == 2022
    for key, value in summary.cells.items():
        assert value == total(r.cells[key] for r in records), key
    _, findings = check_workbook(tmp_path / "summary.xlsx")
    assert not has_errors(findings), [f.to_json() for f in findings if f.severity == "error"]


def test_correcting_a_detail_row_updates_the_totals(tmp_path: Path) -> None:
    write_reports(tmp_path / "in", "2019", 3, year=2019)
    out = merge_inputs([tmp_path / "in"], tmp_path / "s.xlsx", jobs=1).path
    wb = openpyxl.load_workbook(out)
    dest = next(iter(wb.defined_names["requests_granted_natural_person"].destinations))
    formula = wb[dest[0]][dest[1].replace("$", "")].value
    assert formula.startswith("=IF(COUNT('汇总·三 申请处理'!") and "SUBTOTAL(9," in formula


def test_same_agency_and_year_with_other_numbers_is_a_conflict_on_its_row(tmp_path: Path) -> None:
    write_reports(tmp_path / "a", "2019", 2, year=2019)
    write_reports(tmp_path / "b", "2019", 1, year=2019, start=7)
    (tmp_path / "b" / "乡镇007-2019.txt").rename(tmp_path / "b" / "乡镇000-2019b.txt")
    text = (tmp_path / "b" / "乡镇000-2019b.txt").read_text(encoding="utf-8").replace("乡镇007镇", "乡镇000镇")
    (tmp_path / "b" / "乡镇000-2019b.txt").write_text(text, encoding="utf-8")
    result = merge_inputs([tmp_path / "a", tmp_path / "b"], tmp_path / "s.xlsx", jobs=1)
    # Not an error that stops the merge: the first file counts, the row says which other file differs.
    assert result.merged == 2 and result.conflicts == 1 and result.exit_code == 1
    rows = _check_rows(tmp_path / "s.xlsx")
    conflict = [r for r in rows if r["代码"] == "same-report-differs"]
    assert len(conflict) == 1 and conflict[0]["机关"] == "乡镇000镇" and conflict[0]["结论"] == "不通过"
    assert conflict[0]["来源文件"] == "乡镇000-2019.txt" and "乡镇000-2019b.txt" in conflict[0]["问题"]
    where = printed_cell("proactive.regulations.made", "2019")
    assert f"{where}本文件 0，另一份 176" in conflict[0]["问题"]
    latest = merge_inputs([tmp_path / "a", tmp_path / "b"], tmp_path / "l.xlsx", jobs=1, latest=True)
    assert latest.merged == 2 and latest.conflicts == 0 and latest.dropped == ["乡镇000-2019.txt"]
    dropped = [r for r in _check_rows(tmp_path / "l.xlsx") if r["代码"] == "dropped-duplicate"]
    assert dropped[0]["来源文件"] == "乡镇000-2019b.txt" and "乡镇000-2019.txt" in dropped[0]["问题"]


def _check_rows(path: Path) -> list[dict[str, object]]:
    """Return the summary's checks sheet as dicts by header."""
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb[CHECK_DETAIL_SHEET].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_mixed_versions_and_years(tmp_path: Path) -> None:
    old = write_reports(tmp_path / "in", "2019", 3, year=2020)
    new = write_reports(tmp_path / "in", "2021", 3, year=2021)
    extra = write_reports(tmp_path / "in", "2019", 2, year=2021, start=10, prefix="旧版")
    result = merge_inputs([tmp_path / "in"], tmp_path / "s.xlsx", jobs=2)
    assert (result.total_year, result.total_version, result.years) == (2021, "2021", [2020, 2021])
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    # 二 is summarised per version, never mixed; 三 carries both versions and a cross-version （六） column.
    assert {"汇总·二 主动公开 2019版", "汇总·二 主动公开 2021版", "汇总·三 申请处理", CHECK_DETAIL_SHEET} <= set(
        wb.sheetnames
    )
    keys = [c.value for c in wb["汇总·三 申请处理"][4]]
    assert "requests.other_handling.total" in keys and "requests.other_other.total" in keys
    assert "requests.other_all.total" in keys
    summary = read_workbook(tmp_path / "s.xlsx")
    in_2021 = new + extra
    # 三 totals cross versions (2019's （六）其他处理 counted under （六）3.其他); 二 only the 2021 reports.
    assert summary.cells["requests.new_received.total"] == total(
        r.cells["requests.new_received.total"] for r in in_2021
    )
    assert summary.cells["requests.other_other.total"] == total(
        [
            *(r.cells["requests.other_other.total"] for r in new),
            *(r.cells["requests.other_handling.total"] for r in extra),
        ]
    )
    assert summary.cells["proactive.licensing.decisions"] == total(
        r.cells["proactive.licensing.decisions"] for r in new
    )
    assert len(old) == 3
    only_2020 = merge_inputs([tmp_path / "in"], tmp_path / "y.xlsx", jobs=1, year=2020)
    assert only_2020.merged == 3 and only_2020.total_version == "2019"


def test_carry_over_continuity_across_years(tmp_path: Path) -> None:
    rec = consistent_record("2019", seed=5)
    rec.agency, rec.year = "连续镇", 2019
    nxt = consistent_record("2019", seed=6)
    nxt.agency, nxt.year = "连续镇", 2020
    (tmp_path / "in").mkdir()
    for r in (rec, nxt):
        r.title = None
        (tmp_path / "in" / f"{r.year}.txt").write_text(render_report(r), encoding="utf-8")
    result = merge_inputs([tmp_path / "in"], tmp_path / "s.xlsx", jobs=1)
    want = rec.cells["requests.carried_forward.total"] != nxt.cells["requests.carried_over.total"]
    assert any(f["code"] == "carry-over-continuity" for f in result.findings) == want
    assert want  # the generated pair differs, so the check has something to find


def test_a_carry_over_break_is_on_the_townships_own_row_beside_last_years_numbers(tmp_path: Path) -> None:
    now = county_records(14, 2025)
    before = previous_records(now)
    write_text(now, tmp_path / "2025")
    write_text(before, tmp_path / "2024")
    broken = next(r.record for r in now if r.fault == "carry")
    result = merge_inputs([tmp_path / "2024", tmp_path / "2025"], tmp_path / "s.xlsx", jobs=2)
    assert result.total_year == 2025 and {f["agency"] for f in result.findings} == {broken.agency}
    rows = _check_rows(tmp_path / "s.xlsx")
    mine = [r for r in rows if r["机关"] == broken.agency and r["年度"] == 2025]
    # The break is a problem of the township's own row, whose verdict it makes 不通过; no row says 通过 beside it.
    assert {r["结论"] for r in mine} == {"不通过"}
    assert [r["代码"] for r in mine] == ["carry-over-continuity"] * 2
    words = [printed_cell(f"requests.carried_over.{c}", "2021") for c in ("natural_person", "total")]
    assert [r["位置"] for r in mine] == words
    assert not [r for r in rows if not r["机关"]]
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    cached = openpyxl.load_workbook(tmp_path / "s.xlsx", data_only=True)
    name = load_template().summary.compare_sheet_name
    sheet, values = wb[name], cached[name]
    head = [c.value for c in sheet[2]]
    table = {r[0]: r for r in values.iter_rows(min_row=3, values_only=True)}
    assert len(table) == 14
    for this, last in zip(now, before, strict=True):
        got = table[this.record.agency]
        new, old = this.record.cells["requests.new_received.total"], last.record.cells["requests.new_received.total"]
        assert got[head.index("上年本年新收")] == old and got[head.index("本年新收")] == new
        assert got[head.index("增减")] == new - old  # type: ignore[operator]
        assert got[head.index("结转衔接")] == ("不通过" if this.record is broken else "通过")
    # The change is live: a formula over the detail sheet's cells.
    formula = sheet.cell(3, head.index("上年本年新收") + 1).value
    assert str(formula).startswith("=IF(ISNUMBER('汇总·三 申请处理'!")


def test_townships_are_ordered_by_pinyin_and_the_title_is_the_countys(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i, name in enumerate(["七星乡", "三江镇", "东坝镇", "城关镇"]):
        rec = consistent_record("2021", seed=i)
        rec.agency, rec.year, rec.title = name, 2025, None
        (folder / f"{i}.txt").write_text(render_report(rec), encoding="utf-8")
    title = "某某县2025年度政府信息公开工作年度报告汇总"
    result = merge_inputs([folder], tmp_path / "s.xlsx", jobs=1, title=title)
    assert result.order == "pinyin"
    ws = openpyxl.load_workbook(tmp_path / "s.xlsx")["汇总·三 申请处理"]
    # 城关 cheng < 东坝 dong < 七星 qi < 三江 san (code points would give 七星, 三江, 东坝, 城关).
    assert [r[0].value for r in ws.iter_rows(min_row=5)] == ["城关镇", "东坝镇", "七星乡", "三江镇"]
    cover = openpyxl.load_workbook(tmp_path / "s.xlsx")["封面"]
    assert cover["A1"].value == title
    assert title == read_workbook(tmp_path / "s.xlsx").title


@pytest.mark.parametrize(
    ("encoding", "separator"),
    [("gbk", ","), ("gb18030", ","), ("utf-8-sig", ","), ("utf-16", "\t")],
)
def test_a_grouping_manifest_reads_in_the_encodings_excel_saves(tmp_path: Path, encoding: str, separator: str) -> None:
    write_reports(tmp_path / "in", "2019", 4, year=2019)
    lines = [
        ["机关", "片区"],
        ["乡镇003镇", "北片"],
        ["乡镇001镇", "北片"],
        ["乡镇002镇", "南片"],
        ["乡镇000镇", "南片"],
    ]
    manifest = tmp_path / "片区.csv"
    manifest.write_bytes("\r\n".join(separator.join(line) for line in lines).encode(encoding))
    result = merge_inputs([tmp_path / "in"], tmp_path / "s.xlsx", jobs=1, group_by=manifest)
    assert result.order == "manifest"
    ws = openpyxl.load_workbook(tmp_path / "s.xlsx")["汇总·三 申请处理"]
    labels = [r[0].value for r in ws.iter_rows(min_row=5)]
    # The manifest's order, within and between groups: not the alphabet's, not 拼音's.
    assert labels == ["乡镇003镇", "乡镇001镇", "北片 小计", "乡镇002镇", "乡镇000镇", "南片 小计"]


def test_an_unreadable_manifest_is_one_line_naming_it(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from convert.cli import app

    write_reports(tmp_path / "in", "2019", 1, year=2019)
    (tmp_path / "bad.csv").write_bytes(b"\x00\x01\x02\x03" * 50)
    (tmp_path / "one.csv").write_text("只有一列\n乡镇000镇\n", encoding="utf-8")
    runner = CliRunner()
    for name, code in (("bad.csv", "manifest-unreadable"), ("one.csv", "manifest-no-header")):
        got = runner.invoke(app, ["merge", str(tmp_path / "in"), "-o", str(tmp_path / "s.xlsx"), "--group-by",
                                  str(tmp_path / name)])  # fmt: skip
        assert got.exit_code == 2 and name in got.stderr, got.output
        # The message's own words, up to the reason.
        fields = {"path": str(tmp_path / name)} | ({"reason": ""} if code == "manifest-unreadable" else {})
        assert text(code, **fields).rstrip(": ") in got.stderr, got.output
        assert "internal error" not in got.output


@needs_libreoffice[0]
@needs_libreoffice[1]
def test_the_same_report_as_docx_and_pdf_is_one_report(tmp_path: Path) -> None:
    from tests.docgen import render_docx, to_pdf

    folder = tmp_path / "in"
    folder.mkdir()
    reports = county_records(4, 2025)
    write_text(reports[1:], folder)
    twin = reports[0].record
    render_docx(twin, folder / "城关镇年报.docx")
    to_pdf(folder / "城关镇年报.docx")
    result = merge_inputs([folder], tmp_path / "s.xlsx", jobs=2)
    assert result.merged == 4 and result.same == 1 and result.conflicts == 0 and not result.refused
    rows = [r for r in _check_rows(tmp_path / "s.xlsx") if r["机关"] == twin.agency]
    note = next(r for r in rows if r["代码"] == "same-report")
    files = {rows[0]["来源文件"], *[f for f in ("城关镇年报.docx", "城关镇年报.pdf") if f in str(note["问题"])]}
    assert files == {"城关镇年报.docx", "城关镇年报.pdf"}
    summary = read_workbook(tmp_path / "s.xlsx")
    assert summary.cells["requests.total.total"] == total(r.record.cells["requests.total.total"] for r in reports)


def test_refused_input_is_listed_and_the_rest_merge(tmp_path: Path) -> None:
    write_reports(tmp_path / "in", "2019", 2, year=2019)
    (tmp_path / "in" / "junk.txt").write_text("不是年度报告\n", encoding="utf-8")
    result = merge_inputs([tmp_path / "in"], tmp_path / "s.xlsx", jobs=1)
    assert result.merged == 2 and len(result.refused) == 1 and result.exit_code == 1
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    statuses = [row[4].value for row in wb[CHECK_DETAIL_SHEET].iter_rows(min_row=2)]
    assert "拒绝" in statuses


def test_group_by_manifest_adds_subtotal_rows(tmp_path: Path) -> None:
    records = write_reports(tmp_path / "in", "2019", 4, year=2019)
    manifest = tmp_path / "groups.csv"
    manifest.write_text(
        "agency,county\n乡镇000镇,甲县\n乡镇001镇,甲县\n乡镇002镇,乙县\n乡镇003镇,乙县\n", encoding="utf-8"
    )
    merge_inputs([tmp_path / "in"], tmp_path / "s.xlsx", jobs=1, group_by=manifest)
    ws = openpyxl.load_workbook(tmp_path / "s.xlsx")["汇总·三 申请处理"]
    labels = [r[0].value for r in ws.iter_rows(min_row=5)]
    assert labels == ["乡镇000镇", "乡镇001镇", "甲县 小计", "乡镇002镇", "乡镇003镇", "乙县 小计"]
    summary = read_workbook(tmp_path / "s.xlsx")
    # Group subtotals sit inside the summed range; SUBTOTAL keeps them from counting twice.
    assert summary.cells["requests.total.total"] == total(r.cells["requests.total.total"] for r in records)


@needs_libreoffice[0]
@needs_libreoffice[1]
def test_libreoffice_recalculates_the_summary_to_our_values(tmp_path: Path) -> None:
    write_reports(tmp_path / "a", "2021", 6, year=2021)
    write_reports(tmp_path / "b", "2019", 4, year=2020, prefix="旧")
    manifest = tmp_path / "groups.csv"
    manifest.write_text(
        "agency,county\n" + "".join(f"乡镇{i:03d}镇,{'甲乙'[i % 2]}县\n" for i in range(6)), encoding="utf-8"
    )
    one = merge_inputs([tmp_path / "a"], tmp_path / "one.xlsx", jobs=1).path
    mixed = merge_inputs([tmp_path / "a", tmp_path / "b"], tmp_path / "mixed.xlsx", jobs=1, group_by=manifest).path
    for ours, theirs in zip((one, mixed), recalculate([one, mixed], tmp_path), strict=True):
        assert not mismatches(ours, theirs), (ours.name, mismatches(ours, theirs)[:5])


def test_merge_a_store_year(tmp_path: Path) -> None:
    samples = Path(__file__).resolve().parent.parent / "samples"
    from typer.testing import CliRunner

    from convert.cli import app

    runner = CliRunner()
    db = tmp_path / "nianbao.db"
    added = runner.invoke(app, ["store", "add", str(samples), "--store", str(db), "--author", "测试"])
    assert added.exit_code == 0, added.output
    out = tmp_path / "s2019.xlsx"
    result = runner.invoke(app, ["merge", "--store", str(db), "--year", "2019", "-o", str(out)])
    assert result.exit_code == 1, result.output  # zhuzhen and liancai are 待核 (blank cells, a missing section)
    assert "已把 3 份报告汇总到" in result.stdout
    summary = read_workbook(out)
    records = [read_report(samples / f) for f in ("zhuzhen-2019.txt", "luoqi-2019.txt", "liancai-2019.txt")]
    assert summary.cells["proactive.procurement.projects"] == total(
        r.cells["proactive.procurement.projects"] for r in records
    )
    nothing = runner.invoke(app, ["merge", "--store", str(db), "--year", "2030", "-o", str(tmp_path / "x.xlsx")])
    assert nothing.exit_code == 2 and "记录库中没有 2030 年的记录" in nothing.stderr


def test_each_report_has_its_verdict_and_only_all_passing_exits_0(tmp_path: Path) -> None:
    samples = Path(__file__).resolve().parent.parent / "samples"
    result = merge_inputs([samples], tmp_path / "all.xlsx", jobs=1)
    assert result.states == {"pass": 3, "fail": 0, "review": 2} and result.exit_code == 1
    verdicts = {r["机关"]: r["结论"] for r in _check_rows(tmp_path / "all.xlsx")}
    assert verdicts["竹镇镇"] == "待核" and verdicts["洛碛镇"] == "通过"
    passing = merge_inputs([samples / "luoqi-2019.txt", samples / "fenggang-2020.txt"], tmp_path / "ok.xlsx", jobs=1)
    assert passing.states == {"pass": 2, "fail": 0, "review": 0} and passing.exit_code == 0
