"""What a merge reduces each report to: the rows the summary writer reads, shared by convert.merge and the writer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from convert.formats import Format, load_format
from convert.record import Value

# A problem's kind: an error to correct, a number to verify (its report is 待核), a note for reference.
ERROR, REVIEW, NOTE = "error", "review", "note"
KINDS = (ERROR, REVIEW, NOTE)


@dataclass
class Problem:
    """One problem of a report in words, as the summary's checks sheet and the notices show it."""

    kind: str  # error, review or note
    code: str  # the finding's stable code
    where: str  # the printed cell, row, column or table in words (表三「…」行「自然人」列); "" for the report
    message: str
    actual: Any = None  # what the report printed
    expected: Any = None  # what the rules make it


@dataclass
class MergeRow:
    """One report reduced to what the summary needs: small enough to keep 10,000 in memory."""

    agency: str
    year: int | None
    format: str
    source: str
    values: tuple[Value, ...]
    problems: list[Problem] = field(default_factory=list)
    group: tuple[str, ...] = ()
    state: str = "pass"  # the verdict: pass, fail or review (convert/checks/verdict.py)
    title: str | None = None  # the report's own title, for the notice that names it
    also: list[str] = field(default_factory=list)  # other files of the same report (a .pdf of the .docx)

    def cells(self) -> dict[str, Value]:
        """Return the cells by key."""
        return dict(zip(load_format(self.format).cell_keys, self.values, strict=True))


_INDEX: dict[str, dict[str, int]] = {}


def _index(fmt: Format) -> dict[str, int]:
    if fmt.version not in _INDEX:
        _INDEX[fmt.version] = {k: i for i, k in enumerate(fmt.cell_keys)}
    return _INDEX[fmt.version]


def value_of(row: MergeRow, key: str) -> Value:
    """Return a row's value for a key, None when its version has no such cell."""
    idx = _index(load_format(row.format)).get(key)
    return None if idx is None else row.values[idx]


def total(values: Iterable[Value]) -> Value:
    """Sum values; None when all are blank (a blank stays blank in the summary too)."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    return sum(present, start=Decimal(0) if any(isinstance(v, Decimal) for v in present) else 0)


__all__ = ["ERROR", "KINDS", "NOTE", "REVIEW", "MergeRow", "Problem", "total", "value_of"]
