"""xlsxwriter with our fast paths, and writing a workbook atomically.

The subclasses below override xlsxwriter internals (underscore methods) to skip work our workbooks
never need; tests/test_xlsxfast.py checks that they write the same XML as stock xlsxwriter, and
pyproject.toml bounds xlsxwriter to the versions that test was run against.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import CellNumberTuple, Worksheet

from convert.atomic import atomic_output, check_output
from convert.errors import UsageError

# Excel's limit on the characters of one cell.
MAX_CELL_TEXT = 32767


class FastWorksheet(Worksheet):
    """A worksheet that writes our formulas as they are, and formatted numbers without the general path."""

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        # Our formulas use only SUM, SUBTOTAL, IF, COUNT, COUNTIF, ISBLANK, ISNUMBER and AND, none of which needs
        # the _xlfn. prefixes xlsxwriter otherwise scans for with ~30 regexes per formula (half of our write time).
        if formula.startswith("{"):
            formula = formula[1:]
        if formula.startswith("="):
            formula = formula[1:]
        if formula.endswith("}"):
            formula = formula[:-1]
        return formula

    def _write_cell(self, row: int, col: int, cell: Any) -> None:
        # The inner loop of a 10,000-report summary: a formatted number needs no attribute escaping.
        if type(cell) is CellNumberTuple and cell.format is not None:
            self.fh.write(
                f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{cell.format._get_xf_index()}"><v>{cell.number:.16G}</v></c>'
            )
            return
        super()._write_cell(row, col, cell)


class StreamingWorksheet(FastWorksheet):
    """A sheet written row by row to a temp file (xlsxwriter's constant_memory), for one row per report."""

    def _initialize(self, init_data: dict[str, Any]) -> None:
        # constant_memory is a workbook-wide option in xlsxwriter; only our detail sheets, written in row
        # order, may stream (the standard sheets write merged labels out of order).
        super()._initialize({**init_data, "constant_memory": True})


_OUR_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")


class FastWorkbook(xlsxwriter.Workbook):
    """An xlsxwriter workbook whose sheets are FastWorksheet, with streaming sheets on request."""

    worksheet_class = FastWorksheet

    def define_name(self, name: str, formula: str) -> int:
        """Define a workbook name; ours (words joined by _) skip the checks they cannot fail."""
        # ~250 names a workbook, each run through several regexes: a tenth of our write time.
        if len(name) <= 255 and _OUR_NAME.fullmatch(name):
            self.defined_names.append([name, -1, formula.lstrip("="), False])
            return 0
        return super().define_name(name, formula)

    def add_streaming_worksheet(self, name: str) -> Worksheet:
        """Add a sheet that is written to disk row by row: write each row whole, in order."""
        return self.add_worksheet(name, worksheet_class=StreamingWorksheet)


def number_writer(ws: Worksheet) -> Callable[[int, int, float, Format | None], Any]:
    """Return the sheet's number writer without the argument checks (for rows of thousands of numbers)."""
    # The checked public wrapper (write_number) costs more than the write itself.
    return ws._write_number


def cell_chunks(text: str) -> list[str]:
    """Cut a text into the fewest pieces of at most MAX_CELL_TEXT UTF-16 units (as Excel counts); joined, the text."""
    if len(text) <= MAX_CELL_TEXT // 2 or len(text.encode("utf-16-le")) <= 2 * MAX_CELL_TEXT:
        return [text]
    chunks, start, units = [], 0, 0
    for i, ch in enumerate(text):
        width = 2 if ord(ch) > 0xFFFF else 1  # outside the BMP: a surrogate pair, never cut in two
        if units + width > MAX_CELL_TEXT:
            chunks.append(text[start:i])
            start, units = i, 0
        units += width
    chunks.append(text[start:])
    return chunks


def write_string(ws: Worksheet, row: int, col: int, text: str, fmt: Any) -> None:
    """Write report text as text, always: never a formula, number or link."""
    if len(text) > MAX_CELL_TEXT:
        raise UsageError("cell-text-too-long", length=len(text), limit=MAX_CELL_TEXT)
    if text == "":
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_string(row, col, text, fmt)


def check_target(path: Path, force: bool) -> None:
    """Refuse a workbook name without .xlsx, or an output that exists (unless force) or has no folder."""
    if path.suffix.lower() != ".xlsx":
        raise UsageError("workbook-not-xlsx", path=str(path))
    check_output(path, force)


def write_atomically(path: Path, build: Callable[[FastWorkbook], None], *, force: bool, in_memory: bool = True) -> Path:
    """Build a workbook into a temp file beside path, then move it into place; nothing is left on failure.

    in_memory: assemble the XML in memory (fast for one report); False streams it through temp files,
    which keeps a 10,000-report summary's memory flat.
    """
    check_target(path, force)
    with atomic_output(path, force=force) as tmp:
        wb = FastWorkbook(
            str(tmp),
            {
                "in_memory": in_memory,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        build(wb)
        wb.close()
    return path


__all__ = [
    "MAX_CELL_TEXT",
    "FastWorkbook",
    "FastWorksheet",
    "StreamingWorksheet",
    "cell_chunks",
    "check_target",
    "number_writer",
    "write_atomically",
    "write_string",
]
