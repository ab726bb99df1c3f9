"""Read-back: workbook → record equals the record written; every corruption is caught with its code."""

from __future__ import annotations

import re
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings

from convert.checks import has_errors
from convert.errors import NotAReportError, UsageError
from convert.outputs.annotate import annotate_workbook
from convert.outputs.standard import write_workbook
from convert.readback import check_workbook, read_workbook
from convert.record import Record
from tests.strategies import consistent_record, record_fields, records


def _target(wb: openpyxl.Workbook, name: str) -> tuple[str, str]:
    (sheet, ref), *_ = list(wb.defined_names[name].destinations)
    return sheet, ref.replace("$", "")


def _codes(path: Path) -> set[str]:
    _, findings = check_workbook(path)
    return {f.code for f in findings}


def _edit(path: Path, change: object) -> Path:
    """Load with openpyxl, apply change(wb), save in place (as a user's tool would)."""
    wb = openpyxl.load_workbook(path)
    change(wb)  # type: ignore[operator]
    wb.save(path)
    return path


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=records())
def test_write_then_read_is_the_same_record(record: Record) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_workbook(record, Path(tmp) / "r.xlsx", revision={"record_id": "x", "revision": 2})
        back = read_workbook(path)
    assert record_fields(back) == record_fields(record)
    assert [w.to_json() for w in back.warnings] == [w.to_json() for w in record.warnings]
    assert back.source["kind"] == "workbook"
    assert back.source["origin"] == {"path": record.source["path"], "sha256": record.source["sha256"]}
    assert back.source["revision"] == {"record_id": "x", "revision": 2}


@pytest.fixture(params=["2019", "2021"])
def good(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Record, Path]:
    record = consistent_record(request.param, seed=11)
    return record, write_workbook(record, tmp_path / "good.xlsx")


def test_source_names_the_workbook(good: tuple[Record, Path]) -> None:
    import hashlib

    _, path = good
    before = path.read_bytes()
    back = read_workbook(path)
    assert back.source["path"] == str(path)
    assert back.source["sha256"] == hashlib.sha256(before).hexdigest()
    assert "revision" not in back.source
    assert path.read_bytes() == before  # never modified


def test_clean_workbook_has_no_findings(good: tuple[Record, Path]) -> None:
    _, path = good
    record, findings = check_workbook(path)
    assert record is not None
    assert findings == []


def test_reported_totals_are_what_the_report_printed(tmp_path: Path) -> None:
    record = consistent_record("2021", seed=4)
    record.cells["requests.granted.total"] = 999  # a report whose printed total is wrong
    record.cells["requests.total.research"] = None  # and one it left blank
    back = read_workbook(write_workbook(record, tmp_path / "r.xlsx"))
    assert back.cells["requests.granted.total"] == 999
    assert back.cells["requests.total.research"] is None


def test_openpyxl_resave_drops_cached_results_but_reads_the_same(good: tuple[Record, Path]) -> None:
    record, path = good
    _edit(path, lambda wb: None)
    cached = openpyxl.load_workbook(path, data_only=True)
    sheet, ref = _target(cached, "requests_total_total")
    assert cached[sheet][ref].value is None  # openpyxl keeps formulas, not their results
    back, findings = check_workbook(path)
    assert back is not None and record_fields(back) == record_fields(record)
    assert not has_errors(findings)
    assert "stale-value" not in {f.code for f in findings}


def test_formula_replaced_by_its_own_value(good: tuple[Record, Path]) -> None:
    record, path = good

    def change(wb: openpyxl.Workbook) -> None:
        sheet, ref = _target(wb, "requests_new_received_total")
        wb[sheet][ref] = record.cells["requests.new_received.total"]

    _edit(path, change)
    _, findings = check_workbook(path)
    hits = [f for f in findings if f.code == "formula-overwritten"]
    assert len(hits) == 1 and hits[0].key == "requests.new_received.total" and hits[0].severity == "error"
    assert hits[0].sheet == "三 申请处理" and hits[0].cell


def test_formula_replaced_by_a_wrong_value(good: tuple[Record, Path]) -> None:
    _, path = good

    def change(wb: openpyxl.Workbook) -> None:
        sheet, ref = _target(wb, "appeals_review_total")
        wb[sheet][ref] = 12345

    _edit(path, change)
    _, findings = check_workbook(path)
    hit = next(f for f in findings if f.code == "formula-overwritten")
    assert hit.key == "appeals.review.total" and hit.actual == 12345


def test_sum_range_shortened(good: tuple[Record, Path]) -> None:
    _, path = good

    def change(wb: openpyxl.Workbook) -> None:
        sheet, ref = _target(wb, "requests_total_natural_person")
        formula = wb[sheet][ref].value
        wb[sheet][ref] = re.sub(r"(\d+)\)$", lambda m: f"{int(m.group(1)) - 1})", formula)

    _edit(path, change)
    _, findings = check_workbook(path)
    hit = [f for f in findings if f.code == "formula-changed"]
    assert [f.key for f in hit] == ["requests.total.natural_person"]


def test_input_changed_breaks_the_balance(good: tuple[Record, Path]) -> None:
    record, path = good

    def change(wb: openpyxl.Workbook) -> None:
        sheet, ref = _target(wb, "requests_carried_over_commercial")
        wb[sheet][ref] = (record.cells["requests.carried_over.commercial"] or 0) + 7

    _edit(path, change)
    codes = _codes(path)
    assert "balance" in codes
    assert "reported-total" in codes  # the printed 上年结转 total no longer matches its parts


@pytest.mark.parametrize(
    ("bad", "code"),
    [("七", "bad-value"), (-3, "bad-value"), (2.5, "bad-value")],
)
def test_bad_values_in_a_count_cell(good: tuple[Record, Path], bad: object, code: str) -> None:
    _, path = good

    def change(wb: openpyxl.Workbook) -> None:
        sheet, ref = _target(wb, "requests_granted_research")
        wb[sheet][ref] = bad

    _edit(path, change)
    _, findings = check_workbook(path)
    hits = [f for f in findings if f.code == code and f.key == "requests.granted.research"]
    assert hits and hits[0].sheet == "三 申请处理" and hits[0].severity == "error"


def test_negative_money(tmp_path: Path) -> None:
    path = write_workbook(consistent_record("2021", seed=1), tmp_path / "m.xlsx")

    def change(wb: openpyxl.Workbook) -> None:
        sheet, ref = _target(wb, "proactive_fees_amount")
        wb[sheet][ref] = -1.5

    _edit(path, change)
    assert "bad-value" in _codes(path)


def test_missing_requests_sheet(good: tuple[Record, Path]) -> None:
    _, path = good
    _edit(path, lambda wb: wb.remove(wb["三 申请处理"]))
    record, findings = check_workbook(path)
    assert record is not None
    assert any(f.code == "missing-sheet" and f.sheet == "三 申请处理" for f in findings)
    assert all(v is None for k, v in record.cells.items() if k.startswith("requests."))


def test_label_changed(good: tuple[Record, Path]) -> None:
    _, path = good

    def change(wb: openpyxl.Workbook) -> None:
        ws = wb["三 申请处理"]
        cell = next(c for row in ws.iter_rows() for c in row if c.value == "（一）予以公开")
        cell.value = "（一）同意公开"

    _edit(path, change)
    _, findings = check_workbook(path)
    assert [f.actual for f in findings if f.code == "label-changed"] == ["（一）同意公开"]


def test_missing_name_falls_back_to_labels(good: tuple[Record, Path]) -> None:
    record, path = good
    _edit(path, lambda wb: wb.defined_names.pop("requests_rejected_repeat_legal_services"))
    back, findings = check_workbook(path)
    assert back is not None
    assert (
        back.cells["requests.rejected_repeat.legal_services"] == record.cells["requests.rejected_repeat.legal_services"]
    )
    hit = [f for f in findings if f.code == "missing-name"]
    assert len(hit) == 1 and hit[0].severity == "warning"


def test_inserted_row_is_table_shifted(good: tuple[Record, Path]) -> None:
    record, path = good

    def change(wb: openpyxl.Workbook) -> None:
        # openpyxl moves cells but, unlike Excel, not the names: move those ourselves.
        ws = wb["三 申请处理"]
        at = 10
        ws.insert_rows(at)
        for dn in wb.defined_names.values():
            text = dn.attr_text
            if "三 申请处理" in text:
                m = re.search(r"\$([A-Z]+)\$(\d+)$", text)
                if m and int(m.group(2)) >= at:
                    dn.attr_text = text[: m.start()] + f"${m.group(1)}${int(m.group(2)) + 1}"

    _edit(path, change)
    back, findings = check_workbook(path)
    assert "table-shifted" in {f.code for f in findings}
    assert back is not None
    assert (
        back.cells["requests.carried_forward.natural_person"] == record.cells["requests.carried_forward.natural_person"]
    )


def test_stale_value(good: tuple[Record, Path], tmp_path: Path) -> None:
    _, path = good
    wb = openpyxl.load_workbook(path)
    sheet, ref = _target(wb, "requests_new_received_total")
    sheet_index = wb.sheetnames.index(sheet) + 1
    out = tmp_path / "stale.xlsx"
    # Change the stored result of one formula in the XML, as a tool that edits without recalculating would.
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == f"xl/worksheets/sheet{sheet_index}.xml":
                text = data.decode()
                text, n = re.subn(rf'(<c r="{ref}"[^>]*><f>[^<]*</f><v>)(\d+)(</v>)', r"\g<1>987654\g<3>", text)
                assert n == 1
                data = text.encode()
            dst.writestr(item, data)
    _, findings = check_workbook(out)
    hits = [f for f in findings if f.code == "stale-value"]
    assert len(hits) == 1 and hits[0].severity == "warning" and hits[0].actual == 987654


def test_not_a_nianbao_workbook(tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "hello"
    wb.save(path)
    with pytest.raises(NotAReportError):
        read_workbook(path)
    record, findings = check_workbook(path)
    assert record is None and [f.code for f in findings] == ["not-a-workbook"]


def test_annotate_marks_every_finding_cell(good: tuple[Record, Path], tmp_path: Path) -> None:
    _, path = good

    def change(wb: openpyxl.Workbook) -> None:
        sheet, ref = _target(wb, "requests_granted_research")
        wb[sheet][ref] = -3
        sheet, ref = _target(wb, "appeals_review_total")
        wb[sheet][ref] = 1

    _edit(path, change)
    before = path.read_bytes()
    _, findings = check_workbook(path)
    out = annotate_workbook(path, findings, tmp_path / "annotated.xlsx")
    assert path.read_bytes() == before
    wb = openpyxl.load_workbook(out)
    located = [f for f in findings if f.sheet and f.cell]
    assert located
    for f in located:
        cell = wb[f.sheet][f.cell]
        assert cell.comment is not None and f"[{f.code}]" in cell.comment.text
        assert cell.fill.fgColor.rgb in ("FFFFC7CE", "FFFFEB9C")
    with pytest.raises(UsageError):
        annotate_workbook(path, findings, out)
    with pytest.raises(UsageError):
        annotate_workbook(path, findings, path, force=True)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# ------------------------------------------------------------------ an input cell holds a number or a blank (#18)

RESEARCH = "requests_granted_research"


def put_cell(path: Path, name: str, cell: str, out: Path) -> str:
    """Write a copy whose cell `name` is this raw XML ({ref} and {style} filled in), as another program may save it."""
    wb = openpyxl.load_workbook(path)
    sheet, ref = _target(wb, name)
    part = f"xl/worksheets/sheet{wb.sheetnames.index(sheet) + 1}.xml"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == part:
                text = data.decode()
                m = re.search(rf'<c r="{ref}"( s="\d+")?[^>]*?(/>|>.*?</c>)', text)
                assert m, ref
                data = (text[: m.start()] + cell.format(ref=ref, style=m.group(1) or "") + text[m.end() :]).encode()
            dst.writestr(item, data)
    return ref


# Each as Excel, LibreOffice or a script saves it: the formula with or without its cached result.
BAD_INPUTS = {
    "formula without a cached value": ('<c r="{ref}"{style}><f>2+3</f></c>', "formula"),
    "DDE": ("<c r=\"{ref}\"{style}><f>cmd|'/c calc'!A1</f><v>0</v></c>", "formula"),
    "WEBSERVICE": ('<c r="{ref}"{style}><f>WEBSERVICE("http://x.example/n")</f><v>0</v></c>', "formula"),
    "HYPERLINK": ('<c r="{ref}"{style}><f>HYPERLINK("http://x.example/",0)</f><v>0</v></c>', "formula"),
    "summary look-alike": (
        "<c r=\"{ref}\"{style}><f>IF(COUNT('汇总·三'!F5:F9)=0,\"\",SUBTOTAL(9,'汇总·三'!F5:F9))"
        '+WEBSERVICE("http://x.example/")</f><v>0</v></c>',
        "formula",
    ),
    "error value": ('<c r="{ref}"{style} t="e"><v>#DIV/0!</v></c>', "error"),
    "ISO date cell": ('<c r="{ref}"{style} t="d"><v>2020-01-01T00:00:00</v></c>', "date"),
    "1E+308": ('<c r="{ref}"{style}><v>1E+308</v></c>', "too-large"),
    "1e28": ('<c r="{ref}"{style}><v>1e28</v></c>', "too-large"),
    "a trillion": ('<c r="{ref}"{style}><v>1000000000000</v></c>', "too-large"),
    "text that looks like a formula": ('<c r="{ref}"{style} t="inlineStr"><is><t>=2+3</t></is></c>', "text"),
}


@pytest.mark.parametrize("label", sorted(BAD_INPUTS))
def test_anything_but_a_number_in_an_input_cell_is_an_error_naming_it(
    good: tuple[Record, Path], tmp_path: Path, label: str
) -> None:
    _, path = good
    cell, case = BAD_INPUTS[label]
    out = tmp_path / "bad.xlsx"
    ref = put_cell(path, RESEARCH, cell, out)
    record, findings = check_workbook(out)
    assert record is not None
    assert record.cells["requests.granted.research"] is None  # never a number in the record, so never in the store
    [hit] = [f for f in findings if f.code == "bad-value"]
    assert (hit.severity, hit.sheet, hit.cell, hit.key) == ("error", "三 申请处理", ref, "requests.granted.research")
    assert hit.fields["case"] == case
    assert has_errors(findings)
    back = read_workbook(out)
    assert back.cells["requests.granted.research"] is None
    assert any(w.code == "bad-value" and w.where == f"三 申请处理!{ref}" for w in back.warnings)


def test_a_date_typed_into_a_count_cell(good: tuple[Record, Path]) -> None:
    import datetime

    _, path = good

    def change(wb: openpyxl.Workbook) -> None:
        sheet, ref = _target(wb, RESEARCH)
        wb[sheet][ref] = datetime.datetime(2020, 1, 1)  # saved as 43831 in a date format

    _edit(path, change)
    record, findings = check_workbook(path)
    assert record is not None and record.cells["requests.granted.research"] is None
    [hit] = [f for f in findings if f.code == "bad-value"]
    assert hit.severity == "error" and hit.fields == {"case": "date", "value": "2020-01-01"}


def test_a_huge_amount_in_a_money_cell_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    path = write_workbook(consistent_record("2021", seed=1), tmp_path / "m.xlsx")
    out = tmp_path / "huge.xlsx"
    put_cell(path, "proactive_fees_amount", '<c r="{ref}"{style}><v>1e28</v></c>', out)
    record, findings = check_workbook(out)
    assert record is not None and record.cells["proactive.fees.amount"] is None
    assert [f.fields["case"] for f in findings if f.code == "bad-value"] == ["too-large"]


def test_the_largest_sane_number_is_a_number(good: tuple[Record, Path], tmp_path: Path) -> None:
    _, path = good
    out = tmp_path / "big.xlsx"
    put_cell(path, RESEARCH, '<c r="{ref}"{style}><v>999999999999</v></c>', out)
    record, findings = check_workbook(out)
    assert record is not None and record.cells["requests.granted.research"] == 999_999_999_999
    assert not [f for f in findings if f.code == "bad-value"]


def test_totals_stay_formulas_and_a_summary_keeps_its_totals(tmp_path: Path) -> None:
    from convert.merge import merge_inputs

    paths = []
    for seed, agency in ((1, "甲镇"), (2, "乙镇")):
        record = consistent_record("2021", seed=seed)
        record.agency = agency
        paths.append(write_workbook(record, tmp_path / f"r{seed}.xlsx"))
    summary = tmp_path / "summary.xlsx"
    merge_inputs(paths, summary)
    record, findings = check_workbook(summary)
    assert record is not None and not [f for f in findings if f.code == "bad-value"]
    assert record.cells["requests.granted.research"] == sum(
        read_workbook(p).cells["requests.granted.research"] or 0 for p in paths
    )
