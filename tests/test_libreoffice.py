"""LibreOffice recalculates our workbooks to the results we stored, and its re-save reads back cleanly."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from convert.checks import has_errors
from convert.checks.catalogue import using_language
from convert.checks.verdict import judge
from convert.outputs.standard import write_workbook
from convert.readback import check_workbook, read_workbook
from convert.record import Record
from tests.lo import formula_cells, mismatches, needs_libreoffice, recalculate
from tests.strategies import consistent_record, record_fields

pytestmark = needs_libreoffice


def _records() -> dict[str, Record]:
    out = {f"c{v}-{s}": consistent_record(v, seed=s, blanks=True) for v in ("2019", "2021") for s in (1, 2)}
    broken = consistent_record("2021", seed=9)
    broken.cells["requests.granted.total"] = 12345  # a wrong printed total: the check sheet must say 不通过
    out["broken"] = broken
    out["full"] = consistent_record("2019", seed=4)  # every cell filled and consistent: 通过
    blank = consistent_record("2021", seed=3)
    blank.cells["requests.granted.commercial"] = None  # a rule that cannot be computed: 待核
    out["blank"] = blank
    return out


# Written in English too (--lang en): the live verdict and the check sheet's results speak it.
ENGLISH = ("broken", "full", "blank")


@pytest.fixture(scope="module")
def resaved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Record, Path, Path]]:
    root = tmp_path_factory.mktemp("lo")
    src = root / "src"
    src.mkdir()
    records = _records()
    written = {name: (rec, write_workbook(rec, src / f"{name}.xlsx")) for name, rec in records.items()}
    with using_language("en"):
        written |= {f"{n}-en": (records[n], write_workbook(records[n], src / f"{n}-en.xlsx")) for n in ENGLISH}
    copies = recalculate([p for _, p in written.values()], root)
    return {name: (rec, path, copy) for (name, (rec, path)), copy in zip(written.items(), copies, strict=True)}


def test_recalculated_results_equal_stored_results(resaved: dict[str, tuple[Record, Path, Path]]) -> None:
    for name, (_, ours, theirs) in resaved.items():
        assert len(formula_cells(ours)) > 100
        assert formula_cells(theirs).keys() == formula_cells(ours).keys(), name  # no formula lost or added
        assert not mismatches(ours, theirs), (name, mismatches(ours, theirs)[:5])


def test_libreoffice_resave_reads_back_and_checks_clean(resaved: dict[str, tuple[Record, Path, Path]]) -> None:
    for name, (record, _, theirs) in resaved.items():
        assert record_fields(read_workbook(theirs)) == record_fields(record), name
        back, findings = check_workbook(theirs)
        assert back is not None
        workbook_codes = {f.code for f in findings if f.source == "workbook"}
        assert not workbook_codes - {"reported-total"}, (name, workbook_codes)
        if name.startswith("broken"):
            assert {f.code for f in findings} >= {"row-total", "reported-total"}
        else:
            assert not has_errors(findings), (name, [f.to_json() for f in findings if f.severity == "error"])


def test_broken_total_counts_as_failure_on_the_cover(resaved: dict[str, tuple[Record, Path, Path]]) -> None:
    for name in ("broken", "broken-en"):
        _, _, theirs = resaved[name]
        wb = openpyxl.load_workbook(theirs, data_only=True)
        (sheet, ref), *_ = list(wb.defined_names["meta_check_failures"].destinations)
        assert wb[sheet][ref.replace("$", "")].value >= 2, name


def test_the_cover_verdict_is_live_and_agrees_with_the_check(resaved: dict[str, tuple[Record, Path, Path]]) -> None:
    seen = set()
    for name, (_, _, theirs) in resaved.items():
        wb = openpyxl.load_workbook(theirs, data_only=True)
        (sheet, ref), *_ = list(wb.defined_names["meta_verdict"].destinations)
        back, findings = check_workbook(theirs)
        with using_language("en" if name.endswith("-en") else "zh"):  # in the words of the workbook's language
            expected = judge(back, findings).label
        assert wb[sheet][ref.replace("$", "")].value == expected, name
        seen.add(expected)
    assert seen == {"通过", "不通过", "待核", "passed", "failed", "to review"}
