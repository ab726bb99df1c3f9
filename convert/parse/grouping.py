"""A table's warnings, gathered while it is read and told once: the same cause on many rows is one warning."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from convert.formats import Format, Table
from convert.parse.excerpts import SourceLines, unique
from convert.parse.rows import Cell
from convert.record import Excerpt, Record

# A list in a message shows this many items, then …: the rest is in the report, the record and the workbook.
SHOWN = 6

# Warnings of one cell's value (convert/parse/values.py): several cells of a table with the same code are one
# warning (case cells) naming their rows and columns.
CELL_CODES = frozenset({"placeholder", "chinese-numeral", "unreadable-value", "unexpected-unit", "not-whole"})

# row-misaligned cases of one row → the case of several rows of a table read alike.
ROWS_CASE = {
    "totals": "rows",
    "totals-unsure": "rows-blank",
    "ends": "rows-blank",
    "too-many": "rows-blank",
    "no-reading": "rows-blank",
    "shape": "rows-shape",
}

Item = tuple[str, dict[str, Any], str]


def table_name(fmt: Format, key: str) -> str:
    """Name a table as the report does: its section's number and heading (三、收到和处理政府信息公开申请情况)."""
    section = fmt.section(key)
    return f"{section.number}、{section.heading}"


def quoted(labels: Iterable[str]) -> list[str]:
    """Labels as a message lists them, each in 「」 (labels hold the list separator 、 themselves)."""
    return [f"「{label}」" for label in labels]


def shown(items: list[str]) -> list[str]:
    """The first SHOWN items, then … when there are more."""
    return items[:SHOWN] + (["…"] if len(items) > SHOWN else [])


def number(value: object) -> str:
    """A number as a message shows it: exact decimals, no exponent."""
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


class TableWarnings:
    """The warnings of one table: gathered while it is read, grouped by cause when it is done."""

    def __init__(self, fmt: Format, table: Table, record: Record, source: SourceLines) -> None:
        self.fmt, self.table, self.record, self.source = fmt, table, record, source
        self.name = table_name(fmt, table.key)
        self.items: list[Item] = []
        self.excerpts: list[Excerpt | None] = []  # each item's, from the lines of the cells it is about

    def warn(self, code: str, fields: dict[str, Any], where: str, cells: Iterable[Cell] = ()) -> None:
        """Gather a warning about this table (where: a cell, a row or the table; cells: the cells it is about,
        whose lines it quotes); flush tells it."""
        self.items.append((code, dict(fields), where))
        self.excerpts.append(self.source.quote(c.line for c in cells))

    def flush(self) -> None:
        """Add the gathered warnings to the record: one per cause, in the order their causes were first met."""
        groups: dict[tuple[Any, ...], list[int]] = {}
        for i, item in enumerate(self.items):
            groups.setdefault(self._cause(item) or ("", i), []).append(i)
        for cause, at in groups.items():
            items = [self.items[i] for i in at]
            # A warning of several rows quotes each of them, as many as its message lists.
            excerpts = unique((self.excerpts[i] for i in at), SHOWN)
            if len(items) == 1:
                self.record.warn(*items[0], excerpts)
            else:
                self.record.warn(*self._grouped(cause, items), excerpts)
        self.items.clear()
        self.excerpts.clear()

    def _cause(self, item: Item) -> tuple[Any, ...] | None:
        """What makes warnings one problem, or None for a warning told on its own."""
        code, fields, _ = item
        case = fields.get("case")
        if code in CELL_CODES and case == "cell":
            return ("cells", code)
        if code == "row-misaligned" and case in ROWS_CASE:
            return ("rows", ROWS_CASE[case])
        if code == "number-set-aside":
            return ("set-aside", "rows-moved" if case == "moved" else "rows")
        if code == "missing-row" or (code == "unknown-row" and case == "row"):
            return ("rows", code)
        if code == "unplaced-line" or (code == "subtotal-mismatch" and case == "org"):
            return ("lists", code, case, fields.get("name"))
        return None

    def _grouped(self, cause: tuple[Any, ...], items: list[Item]) -> Item:
        """One warning for several of the same cause."""
        code, fields, _ = items[0]
        table = self.table.key
        if cause[0] == "cells":
            keys = [where for _, _, where in items]
            rows = _unique(k.split(".")[1] for k in keys)
            columns = _unique(k.split(".")[2] for k in keys)
            cells: dict[str, Any] = {
                "case": "cells",
                "table": self.name,
                "count": len(items),
                "texts": shown(quoted(_unique(f["text"] for _, f, _ in items))),
                "rows": shown(quoted(self.table.row(r).label for r in rows)),
                "columns": shown(quoted(self._column_label(c) for c in columns)),
            }
            return code, cells, f"{table}.{rows[0]}" if len(rows) == 1 else table
        if code == "row-misaligned":
            grouped: dict[str, Any] = {"case": cause[1], "table": self.name, "count": len(items)}
            grouped["rows"] = shown(quoted(f["row"] for _, f, _ in items))
            if cause[1] == "rows-blank":
                # No reading at all leaves every column of the row blank.
                blank = [f["unsure"] if "unsure" in f else f["columns"] for _, f, _ in items]
                grouped["unsure"] = sum(blank)
            return code, grouped, table
        if cause[0] == "set-aside":
            # Each row with the numbers it set aside (or moved), so that a person can find every one of them.
            rows = [
                f"「{f['row']}」 " + " / ".join(f["moves"] if "moves" in f else (number(v) for v in f["numbers"]))
                for _, f, _ in items
            ]
            return code, {"case": cause[1], "table": self.name, "count": len(items), "rows": rows}, table
        if cause[0] == "rows":
            rows = shown(quoted(f["row"] for _, f, _ in items))
            return code, {"case": "rows", "table": self.name, "count": len(items), "rows": rows}, table
        # Warnings whose fields are lists already (unplaced lines, 小计 cells): one list of them all.
        merged = dict(fields)
        for name, value in fields.items():
            if isinstance(value, list):
                merged[name] = shown(_unique(v for _, f, _ in items for v in f[name] if v != "…"))
        return code, merged, table

    def _column_label(self, key: str) -> str:
        """A column's label; a 小计 column the template adds is no column of the format."""
        derived = next((d for d in self.table.derived_columns if d.key == key), None)
        return derived.label if derived is not None else self.table.column(key).label
