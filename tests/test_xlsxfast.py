"""The xlsxwriter fast paths (convert/outputs/xlsxfast.py) write exactly what stock xlsxwriter writes.

The fast paths override xlsxwriter internals (formula preparation, the cell writer, define_name, the
constant_memory switch of a sheet, the unchecked number writer). Each workbook below is written twice:
once as nianbao writes it, once with stock xlsxwriter classes and only its public API, and every part
of the two files is compared byte for byte. The only thing left out is docProps/core.xml, which holds
the creation time. No other normalisation is needed: the stock run streams the same sheets, through
xlsxwriter's own constant_memory option, so both write the same inline strings there.

A failure here after an xlsxwriter upgrade means a patched internal changed: check the overrides against
the new version before widening the xlsxwriter bound in pyproject.toml.
"""

from __future__ import annotations

import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

import convert.outputs.summary as summary
import convert.outputs.xlsxfast as xlsxfast
from convert.merge import merge_inputs
from convert.outputs.standard import write_workbook
from convert.reader import read_report
from tests.strategies import consistent_record

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "samples").glob("*.txt"))


class StockWorkbook(xlsxwriter.Workbook):
    """Stock xlsxwriter: stock Worksheet everywhere; a streaming sheet uses the documented constant_memory option."""

    def add_streaming_worksheet(self, name: str) -> Worksheet:
        """Add a stock sheet in constant_memory mode (the option is read when a sheet is added)."""
        self.constant_memory = True
        try:
            ws = self.add_worksheet(name)
        finally:
            self.constant_memory = False
        assert type(ws) is Worksheet
        return ws


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def _assert_same(fast: Path, stock: Path) -> None:
    a, b = _parts(fast), _parts(stock)
    assert sorted(a) == sorted(b)
    differ = [name for name in a if a[name] != b[name]]
    assert not differ, f"{fast.name}: parts differ from stock xlsxwriter: {differ}"


@pytest.fixture
def use_stock(monkeypatch: pytest.MonkeyPatch):
    """Return a function that switches the writers to stock xlsxwriter for the rest of the test."""

    def switch() -> None:
        monkeypatch.setattr(xlsxfast, "FastWorkbook", StockWorkbook)
        # The detail sheets write numbers through the checked public method.
        monkeypatch.setattr(summary, "number_writer", lambda ws: ws.write_number)

    return switch


def _records() -> list:
    records = [read_report(p) for p in SAMPLES]
    for version in ("2019", "2021"):
        record = consistent_record(version, seed=5, blanks=True)
        record.notes = {record_key: "说明" for record_key in list(record.cells)[:3]}
        record.extra = [{"text": "未归入的一行", "line": 3}]
        # Sixteen significant digits: every digit of a number's text counts.
        money = "proactive.procurement.amount" if version == "2019" else "proactive.fees.amount"
        record.cells[money] = Decimal("123456789012.3457")
        records.append(record)
    return records


def test_standard_workbooks_are_what_stock_xlsxwriter_writes(tmp_path: Path, use_stock) -> None:
    records = _records()
    revision = {"record_id": "r-1", "revision": 2, "agency": "某镇"}
    (tmp_path / "fast").mkdir()
    (tmp_path / "stock").mkdir()
    for i, record in enumerate(records):
        write_workbook(record, tmp_path / "fast" / f"{i}.xlsx", revision=revision if i % 2 else None)
    use_stock()
    for i, record in enumerate(records):
        write_workbook(record, tmp_path / "stock" / f"{i}.xlsx", revision=revision if i % 2 else None)
    for i in range(len(records)):
        _assert_same(tmp_path / "fast" / f"{i}.xlsx", tmp_path / "stock" / f"{i}.xlsx")


def test_summary_workbooks_are_what_stock_xlsxwriter_writes(tmp_path: Path, use_stock) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for p in SAMPLES:
        shutil.copy(p, inputs / p.name)
    # An input that is refused, so the checks sheet has every kind of row.
    (inputs / "notes.txt").write_text("不是年度报告", encoding="utf-8")
    manifest = tmp_path / "groups.csv"
    manifest.write_text("file,county\nzhuzhen-2019.txt,甲县\nluoqi-2019.txt,乙县\n", encoding="utf-8")
    runs = [{}, {"year": 2019}, {"group_by": manifest}]
    for i, options in enumerate(runs):
        merge_inputs([inputs], tmp_path / f"fast{i}.xlsx", jobs=1, **options)
    use_stock()
    for i, options in enumerate(runs):
        merge_inputs([inputs], tmp_path / f"stock{i}.xlsx", jobs=1, **options)
    for i in range(len(runs)):
        _assert_same(tmp_path / f"fast{i}.xlsx", tmp_path / f"stock{i}.xlsx")


def test_the_fast_paths_are_in_use(tmp_path: Path) -> None:
    # Without this the comparisons above could pass by comparing stock output with itself.
    seen: list[type] = []

    def build(wb: xlsxwriter.Workbook) -> None:
        seen.append(type(wb))
        seen.append(type(wb.add_worksheet("a")))
        seen.append(type(wb.add_streaming_worksheet("b")))

    xlsxfast.write_atomically(tmp_path / "x.xlsx", build, force=False)
    assert seen == [xlsxfast.FastWorkbook, xlsxfast.FastWorksheet, xlsxfast.StreamingWorksheet]
