"""The 勾稽 rules of the format over a record's cells, as findings with stable codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from convert.checks.catalogue import check_fields, render
from convert.formats import Format, load_format
from convert.record import Excerpt, Record, Value

ERROR = "error"
WARNING = "warning"


@dataclass
class Finding:
    """One result of a check: a stable code, severity, where, and the fields of its message (rendered late)."""

    code: str
    severity: str
    fields: dict[str, Any] = field(default_factory=dict)
    key: str = ""
    sheet: str = ""
    cell: str = ""
    expected: Any = None
    actual: Any = None
    source: str = ""
    text: str | None = None  # a message kept as written (a warning read back from a file), shown as is
    excerpts: list[Excerpt] = field(default_factory=list)  # the input it came from (a reader warning's)

    def __post_init__(self) -> None:
        if self.text is None:
            # A code or fields the catalogue does not know fail here, at the call, not when shown.
            check_fields(self.code, self.fields)

    @property
    def message(self) -> str:
        """Return the message in the current language."""
        return self.text if self.text is not None else render(self.code, self.fields)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready dict (fields too, when the message has any)."""
        out = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "key": self.key,
            "sheet": self.sheet,
            "cell": self.cell,
            "expected": self.expected,
            "actual": self.actual,
            "source": self.source,
        }
        if self.fields:
            out["fields"] = {k: _plain(v) for k, v in self.fields.items()}
        if self.excerpts:
            out["excerpts"] = [e.to_json() for e in self.excerpts]
        return out


def total(values: list[Value]) -> Value:
    """Sum cell values, blanks as nothing; None when every value is blank."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    return sum(present, start=0)


def check_rules(record: Record, fmt: Format | None = None) -> list[Finding]:
    """Check every rule of the record's format; blanks are `missing` warnings, not failures."""
    fmt = fmt or load_format(record.format)
    cells = record.cells
    findings: list[Finding] = []
    titles = {r.id: r.title for r in fmt.rules}
    for eq in fmt.equations():
        keys = eq.left + eq.right
        blanks = [k for k in keys if cells.get(k) is None]
        if blanks:
            # A rule over blank cells is not a failure; one warning per rule instance names the blanks.
            if len(blanks) < len(keys):
                names = [_label(fmt, k, by_column=fmt.rule(eq.rule).per == "row") for k in blanks]
                fields = {"count": len(blanks), "cells": names, "rule": titles[eq.rule]}
                findings.append(Finding("missing", WARNING, fields, key=eq.where))
            continue
        left = sum((cells[k] for k in eq.left), start=0)  # type: ignore[misc]
        right = sum((cells[k] for k in eq.right), start=0)  # type: ignore[misc]
        if left != right:
            findings.append(
                Finding(
                    eq.rule,
                    ERROR,
                    {"rule": titles[eq.rule], "where": eq.where, "left": left, "right": right},
                    key=eq.left[0] if len(eq.left) == 1 else eq.where,
                    expected=_plain(right),
                    actual=_plain(left),
                )
            )
    findings.extend(check_values(record, fmt))
    return findings


def check_values(record: Record, fmt: Format | None = None) -> list[Finding]:
    """Flag negative counts and fractions in count cells (`non-negative`)."""
    fmt = fmt or load_format(record.format)
    out: list[Finding] = []
    for key in fmt.cell_keys:
        value = record.cells.get(key)
        if value is None:
            continue
        kind = fmt.cell_type(key)
        if kind != "signed" and value < 0:
            fields = {"case": "negative", "value": value}
            out.append(Finding("non-negative", ERROR, fields, key=key, actual=_plain(value)))
        elif kind != "money" and value != int(value):
            fields = {"case": "fraction", "value": value}
            out.append(Finding("non-negative", ERROR, fields, key=key, actual=_plain(value)))
    return out


def check_continuity(record: Record, previous: Record) -> list[Finding]:
    """Compare this year's 上年结转 with last year's 结转下年度继续办理, column by column."""
    out: list[Finding] = []
    fmt = load_format(record.format)
    for rule, col in ((r, c) for r in fmt.continuity for c in fmt.tables[r.table].columns):
        now = record.cells.get(f"{rule.table}.{rule.this_year}.{col.key}")
        before = previous.cells.get(f"{rule.table}.{rule.last_year}.{col.key}")
        if now is None or before is None or now == before:
            continue
        out.append(
            Finding(
                rule.id,
                ERROR,
                {"now": now, "before": before, "this_name": rule.this_name, "last_name": rule.last_name},
                key=f"{rule.table}.{rule.this_year}.{col.key}",
                expected=_plain(before),
                actual=_plain(now),
            )
        )
    return out


def _label(fmt: Format, key: str, *, by_column: bool) -> str:
    """Name a cell to an auditor: its column label within a row, or its row label within a column."""
    table, row, column = key.split(".")
    t = fmt.tables[table]
    return t.column(column).label if by_column else t.row(row).label


def has_errors(findings: list[Finding]) -> bool:
    """Tell whether any finding is an error."""
    return any(f.severity == ERROR for f in findings)


def _plain(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, Decimal):
        return int(v) if v == int(v) else float(v)
    return v
