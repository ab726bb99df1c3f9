"""Merge: the summary's totals are live formulas over detail rows, read back as the cell-wise sum of the inputs."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from convert.checks import has_errors
from convert.merge import DuplicateReportError, merge_inputs
from convert.merge_model import total
from convert.outputs.template import load_template
from convert.readback import check_workbook, read_workbook
from convert.reader import read_report
from convert.record import Record
from convert.render import LAYOUTS, render_report
from tests.lo import mismatches, needs_libreoffice, recalculate
from tests.strategies import consistent_record

# The messages these tests pin are the English ones (NIANBAO_LANG=en); the Chinese are tested in test_language.py.
pytestmark = pytest.mark.usefixtures("english")

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


def test_same_agency_and_year_twice_is_an_error_naming_both(tmp_path: Path) -> None:
    write_reports(tmp_path / "a", "2019", 2, year=2019)
    write_reports(tmp_path / "b", "2019", 1, year=2019)
    with pytest.raises(
        DuplicateReportError, match=r"乡镇000镇 2019 comes twice: 乡镇000-2019.txt and 乡镇000-2019.txt"
    ):
        merge_inputs([tmp_path / "a", tmp_path / "b"], tmp_path / "s.xlsx", jobs=1)
    assert not (tmp_path / "s.xlsx").exists()
    result = merge_inputs([tmp_path / "a", tmp_path / "b"], tmp_path / "s.xlsx", jobs=1, latest=True)
    assert result.merged == 2


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
    assert "merged 3 report(s)" in result.stdout
    summary = read_workbook(out)
    records = [read_report(samples / f) for f in ("zhuzhen-2019.txt", "luoqi-2019.txt", "liancai-2019.txt")]
    assert summary.cells["proactive.procurement.projects"] == total(
        r.cells["proactive.procurement.projects"] for r in records
    )
    nothing = runner.invoke(app, ["merge", "--store", str(db), "--year", "2030", "-o", str(tmp_path / "x.xlsx")])
    assert nothing.exit_code == 2 and "no record of 2030" in nothing.stderr


def test_each_report_has_its_verdict_and_only_all_passing_exits_0(tmp_path: Path) -> None:
    samples = Path(__file__).resolve().parent.parent / "samples"
    result = merge_inputs([samples], tmp_path / "all.xlsx", jobs=1)
    assert result.states == {"pass": 3, "fail": 0, "review": 2} and result.exit_code == 1
    wb = openpyxl.load_workbook(tmp_path / "all.xlsx", read_only=True)
    rows = list(wb["汇总·逐份校验"].iter_rows(values_only=True))
    status = rows[0].index("结果")
    verdicts = {r[0]: r[status] for r in rows[1:]}
    assert verdicts["竹镇镇"] == "待核" and verdicts["洛碛镇"] == "通过"
    passing = merge_inputs([samples / "luoqi-2019.txt", samples / "fenggang-2020.txt"], tmp_path / "ok.xlsx", jobs=1)
    assert passing.states == {"pass": 2, "fail": 0, "review": 0} and passing.exit_code == 0
