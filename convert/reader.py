"""Read a report file of any kind into a record: the input kind reads it (convert/inputs/), the parser makes the record."""

from __future__ import annotations

from pathlib import Path

from convert.inputs.base import Document
from convert.parse import parse_lines
from convert.record import Record


def read_report(path: str | Path) -> Record:
    """Read a report file of any kind convert.inputs reads (text, markdown, HTML, a standard workbook) into a record."""
    from convert.inputs import load

    return to_record(load(path if isinstance(path, Path) else Path(path)))  # keep a PageImages path


def to_record(got: Document | Record) -> Record:
    """The record of what an input kind read: a document's lines are parsed, a workbook's record is one already."""
    return parse_lines(got.lines, got.source, got.text, got.numbered) if isinstance(got, Document) else got
