"""What a merge reduces each report to: the rows the summary writer reads, shared by convert.merge and the writer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from convert.formats import Format, load_format
from convert.record import Value


@dataclass
class MergeRow:
    """One report reduced to what the summary needs: small enough to keep 10,000 in memory."""

    agency: str
    year: int | None
    format: str
    source: str
    values: tuple[Value, ...]
    errors: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)  # code, message fields, key
    warnings: list[str] = field(default_factory=list)
    group: tuple[str, ...] = ()
    state: str = "pass"  # the verdict: pass, fail or review (convert/checks/verdict.py)

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


__all__ = ["MergeRow", "total", "value_of"]
