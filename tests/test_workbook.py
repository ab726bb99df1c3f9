"""The standard workbook as written: sheets, names, formulas with cached values, text, protection, look."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

import convert.outputs.standard as standard
from convert.errors import UsageError
from convert.formats import load_format
from convert.outputs.standard import write_workbook
from convert.record import Record
from tests.strategies import consistent_record

VERSIONS = ("2019", "2021")


def _target(wb: openpyxl.Workbook, name: str) -> tuple[Worksheet, str]:
    (sheet, ref), *_ = list(wb.defined_names[name].destinations)
    return wb[sheet], ref.replace("$", "")


def _same(stored: object, value: object) -> bool:
    if isinstance(value, Decimal) and isinstance(stored, int | float):
        return Decimal(repr(float(stored))) == value
    return stored == value


def _blank_record(version: str) -> Record:
    fmt = load_format(version)
    return Record(format=version, cells=dict.fromkeys(fmt.cell_keys))


@pytest.fixture(params=VERSIONS)
def written(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Record, Path]:
    record = consistent_record(request.param, seed=3)
    record.cells["requests.granted.commercial"] = None  # one blank among the parts
    record.cells["requests.granted.total"] = None  # a total the report left blank
    return record, write_workbook(record, tmp_path / "out.xlsx", revision={"record_id": "r-1", "revision": 4})


def test_sheets_in_order(written: tuple[Record, Path]) -> None:
    record, path = written
    fmt = load_format(record.format)
    names = openpyxl.load_workbook(path).sheetnames
    assert names == ["封面", *[s.sheet for s in fmt.sections], "校验", "来源"]
    assert all(len(n) <= 31 for n in names)


def test_every_cell_key_has_a_name_pointing_at_its_value(written: tuple[Record, Path]) -> None:
    record, path = written
    fmt = load_format(record.format)
    wb = openpyxl.load_workbook(path, data_only=True)
    formulas = fmt.formulas()
    for key in fmt.cell_keys:
        ws, ref = _target(wb, key.replace(".", "_"))
        if key in formulas:
            ws2, ref2 = _target(wb, "reported_" + key.replace(".", "_"))
            assert ws2.title == ws.title and ref2 != ref
            assert ws2[ref2].value == record.cells[key]
        else:
            assert _same(ws[ref].value, record.cells[key]), key
    assert "requests_new_received_natural_person" in wb.defined_names
    assert "appeals_review_total" in wb.defined_names


def test_totals_are_live_formulas_with_stored_results(written: tuple[Record, Path]) -> None:
    record, path = written
    fmt = load_format(record.format)
    formulas_wb = openpyxl.load_workbook(path)
    values_wb = openpyxl.load_workbook(path, data_only=True)

    def computed(key: str) -> int:
        parts = fmt.formulas()[key]
        return sum(computed(p) if p in fmt.formulas() else (record.cells[p] or 0) for p in parts)

    assert len(fmt.formulas()) > 30
    for key in fmt.formulas():
        ws, ref = _target(formulas_wb, key.replace(".", "_"))
        assert str(ws[ref].value).startswith("=SUM("), key
        ws, ref = _target(values_wb, key.replace(".", "_"))
        assert ws[ref].value == computed(key), key
    # The blank reported total stays blank, while its formula still shows the parts' sum.
    ws, ref = _target(values_wb, "reported_requests_granted_total")
    assert ws[ref].value is None
    ws, ref = _target(values_wb, "requests_granted_total")
    assert ws[ref].value == computed("requests.granted.total")


def test_sum_covers_exactly_the_parts(written: tuple[Record, Path]) -> None:
    record, path = written
    wb = openpyxl.load_workbook(path)
    ws, ref = _target(wb, "requests_total_natural_person")
    _, first = _target(wb, "requests_granted_natural_person")
    last_key = [k for k in load_format(record.format).formulas()["requests.total.natural_person"]][-1]
    _, last = _target(wb, last_key.replace(".", "_"))
    assert ws[ref].value == f"=SUM({first}:{last})"


def test_blank_stays_blank(written: tuple[Record, Path]) -> None:
    _, path = written
    for data_only in (False, True):
        wb = openpyxl.load_workbook(path, data_only=data_only)
        ws, ref = _target(wb, "requests_granted_commercial")
        assert ws[ref].value is None


def test_all_blank_record_writes_no_zeros(tmp_path: Path) -> None:
    record = _blank_record("2021")
    path = write_workbook(record, tmp_path / "blank.xlsx")
    wb = openpyxl.load_workbook(path)
    fmt = load_format("2021")
    for key in fmt.cell_keys:
        ws, ref = _target(wb, key.replace(".", "_"))
        if key not in fmt.formulas():
            assert ws[ref].value is None, key


def test_formula_looking_text_stays_text(tmp_path: Path) -> None:
    record = consistent_record("2019", seed=1)
    record.text["overview"] = ["=SUM(A1:A2)", "+86 10 1234", "-1", "@agency", "=1+1"]
    record.text["other"] = ["2021", "0012"]
    record.title = "=HYPERLINK(1)"
    record.agency = "+机关"
    record.notes = {"requests.granted.natural_person": "=note"}
    path = write_workbook(record, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["一 总体情况"]
    cells = [c for c in ws["A"] if c.value is not None]
    texts = [c.value for c in cells]
    for para in record.text["overview"] + record.text["preface"]:
        assert para in texts
    assert all(c.data_type == "s" for c in cells)
    other = [c for c in wb["六 其他事项"]["A"] if c.value in ("2021", "0012")]
    assert len(other) == 2 and all(c.data_type == "s" for c in other)
    cover_text = [c for row in wb["封面"].iter_rows() for c in row if c.value in ("=HYPERLINK(1)", "+机关", "=note")]
    assert len(cover_text) >= 3 and all(c.data_type == "s" for c in cover_text)


def test_protection_locks_labels_and_formulas_only(written: tuple[Record, Path]) -> None:
    record, path = written
    fmt = load_format(record.format)
    wb = openpyxl.load_workbook(path)
    for section in fmt.sections:
        ws = wb[section.sheet]
        assert ws.protection.sheet is True
        assert not ws.protection.password
    for key in fmt.cell_keys:
        ws, ref = _target(wb, key.replace(".", "_"))
        assert ws[ref].protection.locked is (key in fmt.formulas()), key
    ws = wb["三 申请处理"]
    label = next(c for row in ws.iter_rows() for c in row if c.value == "（一）予以公开")
    assert label.protection.locked is True


def test_data_validation_on_every_input(written: tuple[Record, Path]) -> None:
    record, path = written
    fmt = load_format(record.format)
    wb = openpyxl.load_workbook(path)
    expected = {
        "count": ("whole", "greaterThanOrEqual"),
        "signed": ("whole", "between"),
        "money": ("decimal", "greaterThanOrEqual"),
    }
    inputs = [k for k in fmt.cell_keys if k not in fmt.formulas()]
    for key in inputs + ["reported_" + k for k in fmt.formulas()]:
        ws, ref = _target(wb, key.replace(".", "_"))
        kind = fmt.cell_type(key.removeprefix("reported_"))
        rules = [dv for dv in ws.data_validations.dataValidation if ref in dv.sqref]
        assert len(rules) == 1, key
        # "between" is the default operator and is left out of the file.
        assert (rules[0].type, rules[0].operator or "between") == expected[kind], key
    assert any(fmt.cell_type(k) == "signed" for k in inputs) or record.format == "2021"


def test_fonts_borders_and_print_setup(written: tuple[Record, Path]) -> None:
    record, path = written
    wb = openpyxl.load_workbook(path)
    ws = wb["三 申请处理"]
    _, ref = _target(wb, "requests_new_received_natural_person")
    for cell in (ws[ref], ws["A2"]):
        assert cell.font.name == "SimSun"
        assert cell.font.charset == 134
        assert cell.border.left.style == "thin"
    assert ws.page_setup.paperSize == 9
    assert ws.page_setup.orientation == "landscape"
    assert wb["四 复议诉讼"].page_setup.orientation == "landscape"
    assert wb["二 主动公开"].page_setup.orientation == "portrait"
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    assert record.agency in ws.oddHeader.left.text
    assert ws.freeze_panes == "D5"
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert "D2:J2" in merged  # 申请人情况 over the seven columns
    assert "E3:I3" in merged  # 法人或其他组织 over its five


def test_money_keeps_exact_decimals_and_format(tmp_path: Path) -> None:
    record = consistent_record("2021", seed=2)
    record.cells["proactive.fees.amount"] = Decimal("12.3400")
    path = write_workbook(record, tmp_path / "m.xlsx")
    wb = openpyxl.load_workbook(path)
    ws, ref = _target(wb, "proactive_fees_amount")
    assert ws[ref].value == pytest.approx(12.34)
    assert ws[ref].number_format == "0.0000"


def test_cover_has_metadata_and_live_check_summary(written: tuple[Record, Path]) -> None:
    record, path = written
    wb = openpyxl.load_workbook(path)
    cover = wb["封面"]
    values = [c.value for row in cover.iter_rows() for c in row if c.value is not None]
    assert record.agency in values and record.year in values and record.format in values
    # Provenance is off the printed cover, on the last sheet.
    assert record.source["sha256"] not in values
    ws, ref = _target(wb, "meta_source_sha256")
    assert ws.title == "来源" and ws[ref].value == record.source["sha256"]
    ws, ref = _target(wb, "meta_check_failures")
    assert str(ws[ref].value).startswith("=COUNTIF(")
    ws, ref = _target(wb, "meta_verdict")
    assert ws.title == "封面" and ref == "B3" and str(ws[ref].value).startswith("=IF(")
    cached = openpyxl.load_workbook(path, data_only=True)
    ws, ref = _target(cached, "meta_check_failures")
    assert ws[ref].value == 0  # a consistent record with one blank total: nothing fails
    ws, ref = _target(cached, "meta_check_unchecked")
    assert ws[ref].value >= 1  # … but the rules over the blank total cannot be computed
    ws, ref = _target(cached, "meta_verdict")
    assert ws[ref].value == "待核"
    props = {p.name: p.value for p in wb.custom_doc_props}
    assert props["nianbao_record_id"] == "r-1" and props["nianbao_revision"] == 4


def test_check_sheet_one_row_per_equation(written: tuple[Record, Path]) -> None:
    record, path = written
    fmt = load_format(record.format)
    ws = openpyxl.load_workbook(path, data_only=True)["校验"]
    header, *rows = list(ws.iter_rows(min_row=1, values_only=True))
    code, result, where = header.index("代码"), header.index("结果"), header.index("位置")
    rule_rows = [r for r in rows if r[code] != "reported-total"]
    assert len(rule_rows) == len(fmt.equations())
    assert len(rows) - len(rule_rows) == len(fmt.formulas())
    assert {r[result] for r in rows} <= {"通过", "待核"}
    # Positions in the table's words, each linking to a cell of its sheet.
    assert all(str(r[where]).startswith("「") and not re.search("[a-z]", str(r[where])) for r in rows)
    links = openpyxl.load_workbook(path)["校验"]
    column = links.cell(1, where + 1).column_letter
    target = links[f"{column}2"].hyperlink.location
    sheet, cell = target.rsplit("!", 1)
    assert sheet.strip("'") in {s.sheet for s in fmt.sections} and cell.startswith("$")


def test_check_sheet_counts_a_failure(tmp_path: Path) -> None:
    record = consistent_record("2019", seed=5)
    record.cells["requests.new_received.natural_person"] = record.cells["requests.new_received.natural_person"] + 1  # type: ignore[operator]
    path = write_workbook(record, tmp_path / "f.xlsx")
    wb = openpyxl.load_workbook(path, data_only=True)
    ws, ref = _target(wb, "meta_check_failures")
    assert ws[ref].value >= 2  # the balance of that column and the row total


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"keep me")
    with pytest.raises(UsageError):
        write_workbook(consistent_record("2019"), path)
    assert path.read_bytes() == b"keep me"
    write_workbook(consistent_record("2019"), path, force=True)
    assert path.read_bytes()[:2] == b"PK"


def test_refuses_wrong_suffix(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        write_workbook(consistent_record("2019"), tmp_path / "x.xls")


def test_atomic_nothing_left_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(standard, "_write_check_sheet", boom)
    with pytest.raises(RuntimeError):
        write_workbook(consistent_record("2021"), tmp_path / "a.xlsx")
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "b.xlsx"
    old.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        write_workbook(consistent_record("2021"), old, force=True)
    assert [p.name for p in tmp_path.iterdir()] == ["b.xlsx"] and old.read_bytes() == b"old"


def test_too_long_text_refused_without_leftovers(tmp_path: Path) -> None:
    record = consistent_record("2019")
    record.title = "字" * 40000  # one cell, not a paragraph (those go over several rows): refused
    with pytest.raises(UsageError):
        write_workbook(record, tmp_path / "long.xlsx")
    assert list(tmp_path.iterdir()) == []
