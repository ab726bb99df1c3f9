"""The workbooks speak the command's language: our own texts follow --lang, the official form's words stay as printed,
and a workbook written in one language reads back, checks, reconciles, is stored and merged in the other alike."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from convert.checks.catalogue import using_language
from convert.checks.verdict import judge
from convert.cli import app
from convert.formats import crosswalks, known_versions, load_format
from convert.merge import merge_inputs
from convert.outputs.standard import write_workbook
from convert.readback import check_workbook, is_summary, read_workbook
from convert.reader import read_report
from convert.record import Record, dumps
from tests.strategies import consistent_record, record_fields
from tests.test_language import chinese_left, official_words

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
runner = CliRunner()
OTHER = {"zh": "en", "en": "zh"}


def _record() -> Record:
    """A 2021 report with a blank cell (待核), a note, an unplaced row, a reader warning and a paragraph over a cell."""
    record = consistent_record("2021", seed=3)
    record.cells["requests.granted.commercial"] = None
    record.text["overview"].append("很长的一段。" * 6000)  # 36,000 characters: goes on in a second row
    record.warn("year-guessed", {"year": 2021}, "year")
    return record


def _strings(wb: openpyxl.Workbook) -> Iterator[tuple[str, str]]:
    """Yield every text a reader of the workbook meets: sheet names, cells, headers and footers, input prompts."""
    for ws in wb.worksheets:
        yield ws.title, ws.title
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    yield f"{ws.title}!{cell.coordinate}", cell.value
        for part in (ws.oddHeader, ws.oddFooter):
            for side in (part.left, part.center, part.right):
                if side.text:
                    yield f"{ws.title} header/footer", side.text
        for rule in ws.data_validations.dataValidation:
            for words in (rule.promptTitle, rule.prompt, rule.errorTitle, rule.error):
                if words:
                    yield f"{ws.title} validation", words
    yield "keywords", wb.properties.keywords or ""


def _official() -> set[str]:
    """Every word of the official form as format.toml holds it: labels, groups, headers, names, notes."""
    words = official_words() | {"信息内容"}  # the corner of 二's blocks, as the form prints it
    for version in known_versions():
        fmt = load_format(version)
        words |= {fmt.name, *(s.number for s in fmt.sections)}  # the form numbers its sections 一 … 六
        for table in fmt.tables.values():
            words |= {table.corner, table.column_header, *(g.label for g in table.groups)}
    for cw in crosswalks():
        words |= {cw.note, cw.total_label}
    return {w for w in words if w}


def _chinese(wb: openpyxl.Workbook, content: set[str]) -> dict[str, list[str]]:
    """Return the Chinese that is neither the report's content nor an official label, by where it is."""
    allowed = sorted(_official() | content, key=len, reverse=True)
    left = {}
    for where, words in _strings(wb):
        for word in allowed:  # before quotes are taken out: a label may hold some (3.危及“三安全一稳定”)
            words = words.replace(word, " ")
        if found := chinese_left(words, set()):
            left[where] = found
    return left


def _content(record: Record) -> set[str]:
    """The report's own words: its agency, title, notes, texts and unplaced rows."""
    words = {record.agency or "", record.title or "", *record.notes.values(), *map(dumps, record.extra)}
    for paragraphs in record.text.values():
        words |= set(paragraphs)
        words |= {p[i : i + 32767] for p in paragraphs for i in range(0, len(p), 32767)}  # a paragraph over cells
    return {w for w in words if w}


def _named(wb: openpyxl.Workbook, name: str) -> Any:
    (sheet, ref), *_ = list(wb.defined_names[name].destinations)
    return wb[sheet][ref.replace("$", "")]


def test_an_english_standard_workbook(tmp_path: Path) -> None:
    record = _record()
    with using_language("en"):
        path = write_workbook(record, tmp_path / "en.xlsx", revision={"record_id": "r-1", "revision": 2})
    wb = openpyxl.load_workbook(path)
    fmt = load_format("2021")
    assert wb.sheetnames == ["Cover", *[s.sheet for s in fmt.sections], "Checks", "Source"]
    cover = wb["Cover"]
    labels = [c.value for c in cover["A"]]
    assert labels[2:7] == ["Verdict", "Failed checks", "Checks that cannot be computed", "Mostly blank tables",
                           "Numbers in doubt"]  # fmt: skip
    assert {"Report title", "Agency", "Year", "Format version", "Reader warnings (1)", "Cell notes (1)"} <= set(labels)
    verdict = _named(wb, "meta_verdict")
    assert verdict.value == '=IF($B$4>0,"failed",IF($B$5+$B$6+$B$7>0,"to review","passed"))'  # live, in English
    assert _named(openpyxl.load_workbook(path, data_only=True), "meta_verdict").value == "to review"
    assert [c.value for c in wb["Source"]["A"]] == ["Source file", "Source file SHA-256", "Written by",
                                                     "Record revision"]  # fmt: skip
    checks = wb["Checks"]
    assert [c.value for c in checks[1]] == ["Result", "Cross-check", "Position", "Left total", "Right total",
                                            "Cells", "Code"]  # fmt: skip
    results = {c.value for c in openpyxl.load_workbook(path, data_only=True)["Checks"]["A"][1:]}
    assert results == {"passed", "to review"}
    link = checks["C2"]
    assert link.hyperlink is not None and link.hyperlink.location.startswith("'三 申请处理'!")
    assert "三、收到和处理政府信息公开申请情况" in link.value  # the position in the form's own words
    requests = wb["三 申请处理"]
    texts = {c.value for row in requests.iter_rows() for c in row if isinstance(c.value, str)}
    assert "Printed total" in texts and "（七）总计 · as printed" in texts and "自然人" in texts
    assert requests.oddHeader.right.text == "Annual report 2021" and requests.oddFooter.center.text == "Page &P of &N"
    assert requests.data_validations.dataValidation[0].promptTitle == "Count"
    overview = wb["一 总体情况"]
    assert overview["A1"].value == "Preface" and "(continued)" in [c.value for c in overview["B"]]
    assert _chinese(wb, _content(record)) == {}


def test_an_english_summary_workbook(tmp_path: Path) -> None:
    with using_language("en"):
        merge_inputs([SAMPLES], tmp_path / "en.xlsx", jobs=1)
    wb = openpyxl.load_workbook(tmp_path / "en.xlsx")
    assert {"Cover", "Checks", "Source", "Summary·二 主动公开 2019", "Summary·二 主动公开 2021", "Summary·三 申请处理",
            "Summary·四 复议诉讼", "Summary·Checks", "Summary·Charts"} <= set(wb.sheetnames)  # fmt: skip
    assert not [n for n in wb.sheetnames if n.startswith("汇总")]
    checks = list(wb["Summary·Checks"].iter_rows(values_only=True))
    assert list(checks[0]) == ["Agency", "Year", "Format", "Source file", "Verdict", "Kind", "Position", "Problem",
                               "Reported", "Expected", "Code"]  # fmt: skip
    assert {r[4] for r in checks[1:]} == {"passed", "to review"}
    assert {r[5] for r in checks[1:]} == {"to verify", "note", None}
    detail = list(wb["Summary·三 申请处理"].iter_rows(values_only=True))
    assert detail[0][0] == "三 申请处理 — per report" and list(detail[1][:5]) == [
        "Agency", "Year", "Format", "Source file", "Verdict"
    ]  # fmt: skip
    assert any(row[0] == "2021 total" for row in detail)
    assert wb["Cover"]["A1"].value == "Summary of 1 government information disclosure annual reports, 2021"
    overview = [c.value for c in wb["一 总体情况"]["A"] if c.value]
    assert overview[1].startswith("This summary merges 5 reports (years: 2019, 2020, 2021; formats: 2019, 2021).")
    content = {word for sample in SAMPLES.iterdir() for word in _content(read_report(sample))}
    assert _chinese(wb, content) == {}
    # Read back in Chinese, it is a summary (never one report), with the same totals as a Chinese summary.
    merge_inputs([SAMPLES], tmp_path / "zh.xlsx", jobs=1)
    back, chinese = read_workbook(tmp_path / "en.xlsx"), read_workbook(tmp_path / "zh.xlsx")
    assert is_summary(back) and back.cells == chinese.cells
    with using_language("en"):
        assert is_summary(read_workbook(tmp_path / "zh.xlsx"))


def _findings(path: Path) -> tuple[dict[str, Any], list[tuple[Any, ...]], str]:
    record, findings = check_workbook(path)
    assert record is not None
    shown = sorted((f.code, f.severity, f.key, f.sheet, f.cell, json.dumps(f.fields, default=str)) for f in findings)
    return record_fields(record), shown, judge(record, findings).state


@pytest.mark.parametrize("written_in", ["en", "zh"])
def test_a_workbook_reads_back_and_checks_alike_in_the_other_language(tmp_path: Path, written_in: str) -> None:
    broken = _record()
    broken.cells["requests.total.natural_person"] = 999  # a wrong printed total: errors on both sides
    for name, record in (("blank", _record()), ("broken", broken), ("full", consistent_record("2019", seed=4))):
        with using_language(written_in):
            theirs = write_workbook(record, tmp_path / f"{name}-{written_in}.xlsx")
        with using_language(OTHER[written_in]):
            ours = write_workbook(record, tmp_path / f"{name}-{OTHER[written_in]}.xlsx")
            back = _findings(theirs)
            assert back == _findings(ours), name
        assert back[0] == record_fields(record), name
        assert back[2] == {"blank": "review", "broken": "fail", "full": "pass"}[name]


@pytest.mark.parametrize("written_in", ["en", "zh"])
def test_without_its_names_a_workbook_reads_back_by_the_other_languages_labels(tmp_path: Path, written_in: str) -> None:
    # A program that drops the defined names leaves the labels: the cover's fields and blocks, the printed totals.
    record = _record()
    with using_language(written_in):
        path = write_workbook(record, tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(path)
    for name in list(wb.defined_names):
        del wb.defined_names[name]
    wb.save(tmp_path / "nameless.xlsx")
    with using_language(OTHER[written_in]):
        back, findings = check_workbook(tmp_path / "nameless.xlsx")
    assert back is not None and record_fields(back) == record_fields(record)
    assert [w.code for w in back.warnings if w.code != "missing-name"] == ["year-guessed"]
    assert {f.code for f in findings if f.source == "workbook"} == {"missing-name"}  # no label-changed, no shift


def _cli(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result


@pytest.mark.parametrize("written_in", ["en", "zh"])
def test_check_store_reconcile_merge_and_notice_take_a_workbook_of_either_language(
    tmp_path: Path, written_in: str
) -> None:
    lang, other = ["--lang", written_in], ["--lang", OTHER[written_in]]
    books, mine = tmp_path / "theirs", tmp_path / "mine"
    assert _cli(*lang, "convert", str(SAMPLES), "-o", str(books), "--jobs", "1").exit_code == 0
    assert _cli(*other, "convert", str(SAMPLES), "-o", str(mine), "--jobs", "1").exit_code == 0

    def checked(folder: Path) -> list[Any]:
        result = _cli(*other, "check", "--json", str(folder), "--jobs", "1")
        assert result.exit_code == 1  # two samples are 待核
        return [
            (Path(r["path"]).name, r["verdict"]["state"], sorted((f["code"], f.get("cell")) for f in r["findings"]))
            for r in json.loads(result.stdout)
        ]

    assert checked(books) == checked(mine)
    # Stored, exported in the writer's language, edited and reconciled in the other.
    db = str(tmp_path / "nb.db")
    added = _cli(*other, "store", "add", str(books), "--store", db, "--author", "李明")
    assert added.exit_code == 0 and added.stdout.count("\n") == 5, added.output
    book = tmp_path / "zhuzhen.xlsx"
    assert _cli(*lang, "store", "export", "竹镇镇", "2019", "-o", str(book), "--store", db).exit_code == 0
    wb = openpyxl.load_workbook(book)
    _named(wb, "requests_carried_over_natural_person").value = 1
    _named(wb, "requests_carried_forward_natural_person").value = 1
    wb.save(book)
    applied = _cli(*other, "reconcile", str(book), "--apply", "--author", "王芳", "--json", "--store", db)
    assert applied.exit_code == 0, applied.output
    changes = json.loads(applied.stdout)[0]["diff"]["cells"]
    assert sorted(c["key"] for c in changes) == [
        "requests.carried_forward.natural_person", "requests.carried_over.natural_person"
    ]  # fmt: skip
    # Merged in the other language: the same totals as the other language's own workbooks give.
    theirs, ours = tmp_path / "s-theirs.xlsx", tmp_path / "s-ours.xlsx"
    assert _cli(*other, "merge", str(books), "-o", str(theirs), "--jobs", "1").exit_code == 1
    assert _cli(*other, "merge", str(mine), "-o", str(ours), "--jobs", "1").exit_code == 1
    assert read_workbook(theirs).cells == read_workbook(ours).cells
    # A summary of either language is never merged or stored as a report, and its notices read back.
    with using_language(written_in):
        merge_inputs([SAMPLES], tmp_path / "summary.xlsx", jobs=1)
    skipped = _cli(*other, "store", "add", str(tmp_path / "summary.xlsx"), "--store", db, "--author", "李明")
    assert skipped.exit_code == 0 and "summary.xlsx" in skipped.stderr and not skipped.stdout.strip()
    notices = _cli(*other, "notice", str(tmp_path / "summary.xlsx"), "-o", str(tmp_path / "notices"))
    assert notices.exit_code == 1 and len(list((tmp_path / "notices").glob("*.docx"))) == 2, notices.output
