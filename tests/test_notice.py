"""整改通知: a Word document for each report that is not 通过, read back with python-docx; and check --previous."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import docx
import openpyxl
import pytest
from typer.testing import CliRunner

from convert.cli import app
from convert.commands import check_one
from convert.merge import merge_inputs
from convert.notice import printed_cell, write_notices
from convert.outputs.template import load_template
from tests.county import county_records, previous_records, write_text

runner = CliRunner()


def _text(path: Path) -> str:
    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


@pytest.fixture
def county(tmp_path: Path) -> Path:
    """Ten townships' reports: 三江镇 has a total that does not add up, 白沙镇 a blank count."""
    reports = county_records(10, 2025)
    assert [r.record.agency for r in reports if r.fault] == ["三江镇", "白沙镇"]
    write_text(reports, tmp_path / "in")
    return tmp_path / "in"


def test_a_notice_names_every_finding_with_its_printed_cell(county: Path, tmp_path: Path) -> None:
    result = write_notices(
        [county], tmp_path / "out", issuer="某某县政务公开办", due="2026年1月31日", today=date(2026, 1, 15), jobs=1
    )
    assert [row.agency for row, _ in result.written] == ["白沙镇", "三江镇"]  # 拼音: bai < san
    assert len(result.passed) == 8 and result.exit_code == 1
    for row, path in result.written:
        text = _text(path)
        source = county / row.source
        assert f"{row.agency}2025年度政府信息公开工作年度报告的整改通知" in text
        assert row.source in text and "2026年1月31日" in text and "某某县政务公开办" in text
        assert "整改情况回复" in text and "2026年01月15日" in text
        checked = check_one(source)
        assert checked["findings"]
        for finding in checked["findings"]:
            where = printed_cell(finding["key"], "2021") if finding["key"] else ""
            if finding["severity"] == "error":
                assert where in text and str(finding["actual"]) in text and str(finding["expected"]) in text, finding
            else:
                assert where in text and finding["message"].rstrip("。") in text, finding
    sanjiang = _text(next(p for r, p in result.written if r.agency == "三江镇"))
    rec = next(r.record for r in county_records(10, 2025) if r.record.agency == "三江镇")
    total, parts = rec.cells["requests.new_received.total"], rec.cells["requests.new_received.natural_person"]
    assert parts is not None and total is not None
    assert (
        f"表三「一、本年新收政府信息公开申请数量」行「总计」列：报告 {total}，按勾稽关系“总计等于各类申请人之和”应为 {total + 10}"
        in sanjiang
    )
    assert "整改要求：核对该数与参与计算的各项，更正有误的数字。" in sanjiang
    baisha = _text(next(p for r, p in result.written if r.agency == "白沙镇"))
    assert "需要核实的问题" in baisha and "「商业企业」" in baisha and "补填空白的单元格" in baisha


def test_the_overview_lists_every_notice_with_a_link(county: Path, tmp_path: Path) -> None:
    result = write_notices([county], tmp_path / "out", jobs=1)
    look = load_template().notice.overview
    ws = openpyxl.load_workbook(result.overview)[look.sheet]
    head = [c.value for c in ws[2]]
    rows = [r for r in ws.iter_rows(min_row=3) if r[0].value is not None]
    assert [r[head.index("机关")].value for r in rows] == ["白沙镇", "三江镇"]
    for r, (_, path) in zip(rows, result.written, strict=True):
        link = r[head.index("通知文件")]
        assert link.hyperlink is not None and link.hyperlink.target == path.name
        assert r[head.index("结论")].value in ("不通过", "待核")
    sanjiang = rows[1]
    assert sanjiang[head.index("需更正")].value == 2 and "表三" in sanjiang[head.index("主要问题")].value


def test_notices_from_a_summary_workbook_name_the_same_problems(county: Path, tmp_path: Path) -> None:
    summary = merge_inputs([county], tmp_path / "s.xlsx", jobs=1).path
    direct = write_notices([county], tmp_path / "a", jobs=1)
    from_summary = write_notices([summary], tmp_path / "b", jobs=1)
    assert [r.agency for r, _ in from_summary.written] == [r.agency for r, _ in direct.written]
    for (row, _), (_, mine) in zip(direct.written, from_summary.written, strict=True):
        text = _text(mine)
        assert row.source in text
        for problem in row.problems:
            if problem.kind == "error":
                assert problem.where in text and problem.message in text


def test_the_same_report_in_two_files_gets_one_notice_naming_both(tmp_path: Path) -> None:
    reports = county_records(4, 2025)
    write_text(reports, tmp_path / "in")
    sanjiang = next(r for r in reports if r.record.agency == "三江镇")
    write_text([sanjiang], tmp_path / "in2", layout="cells")
    copy = tmp_path / "in" / "三江镇-2025-copy.txt"
    (tmp_path / "in2" / "三江镇-2025.txt").rename(copy)
    result = write_notices([tmp_path / "in"], tmp_path / "out", jobs=1)
    assert len(result.written) == 1
    _, path = result.written[0]
    text = _text(path)
    assert "三江镇-2025.txt" in text and "三江镇-2025-copy.txt" in text


def test_notice_command(county: Path, tmp_path: Path) -> None:
    got = runner.invoke(app, ["notice", str(county), "-o", str(tmp_path / "out"), "--due", "2026年1月31日"])
    assert got.exit_code == 1, got.output
    assert "三江镇" in got.stdout and "共 10 份报告：2 份需整改" in got.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "三江镇2025年度报告整改通知.docx",
        "整改通知一览.xlsx",
        "白沙镇2025年度报告整改通知.docx",
    ]
    again = runner.invoke(app, ["notice", str(county), "-o", str(tmp_path / "out")])
    assert again.exit_code == 2 and "--force" in again.stderr  # outputs are kept unless --force
    (tmp_path / "file").write_text("x", encoding="utf-8")
    wrong = runner.invoke(app, ["notice", str(county), "-o", str(tmp_path / "file")])
    assert wrong.exit_code == 2 and "不是文件夹" in wrong.stderr
    clean = tmp_path / "clean"
    clean.mkdir()
    for name in ("城关镇-2025.txt", "东坝镇-2025.txt"):
        (clean / name).write_bytes((county / name).read_bytes())
    ok = runner.invoke(app, ["notice", str(clean), "-o", str(tmp_path / "none")])
    assert ok.exit_code == 0 and "共 2 份报告：0 份需整改" in ok.stdout, ok.output


def test_check_previous_matches_each_report_to_its_agencys_last_year(tmp_path: Path) -> None:
    now = county_records(8, 2025)
    before = previous_records(now)
    write_text(now, tmp_path / "2025")
    write_text(before[1:], tmp_path / "2024")  # 城关镇 sent nothing last year
    got = runner.invoke(app, ["check", str(tmp_path / "2025"), "--previous", str(tmp_path / "2024"), "--json"])
    results = {Path(r["path"]).name: r for r in json.loads(got.stdout)}
    breaks = {name for name, r in results.items() if any(f["code"] == "carry-over-continuity" for f in r["findings"])}
    assert breaks == {"龙泉镇-2025.txt"}  # the 6th township's carry-over is off by one
    assert results["龙泉镇-2025.txt"]["verdict"]["state"] == "fail"
    # One file each way: compared whatever the agency, as before.
    one = runner.invoke(app, ["check", str(now[5].files[0]), "--previous", str(before[5].files[0]), "--json"])
    assert any(f["code"] == "carry-over-continuity" for f in json.loads(one.stdout)[0]["findings"])
