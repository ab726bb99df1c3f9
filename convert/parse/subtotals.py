"""The 小计 rows and the 小计 column some templates add: no cells of the record, kept in extra and checked."""

from __future__ import annotations

from typing import Any

from convert.formats import Derived, Table
from convert.parse.rows import Cell
from convert.parse.values import Parsed, parse
from convert.record import Record


class Subtotals:
    """A table's printed subtotals: where the header puts a 小计 column, and what 小计 rows and cells say."""

    def __init__(self, table: Table, record: Record) -> None:
        self.table, self.record = table, record
        self.column: Derived | None = None  # the derived column (小计) the header shows, if any
        self.position: int | None = None  # its place among a row's numbers

    def header(self, names: list[str]) -> None:
        """Note a 小计 column among a header's column keys: it shifts the cells after it."""
        derived = next((d for d in self.table.derived_columns if d.key in names), None)
        if derived is not None:
            order = [n for n in names if n in derived.sums or n == derived.key]
            start = [c.key for c in self.table.columns].index(derived.sums[0])
            self.column, self.position = derived, start + order.index(derived.key)

    def is_column(self, col: str) -> bool:
        """Whether a slot of a row is the 小计 column."""
        return self.column is not None and col == self.column.key

    def slots(self, columns: tuple[str, ...]) -> list[str]:
        """A row's slots: its columns, with the 小计 column where the header shows it."""
        slots = list(columns)
        if self.column is not None and self.position is not None and self.column.key not in slots:
            slots.insert(self.position, self.column.key)
        return slots

    def row(self, label: Cell, cells: list[Cell], group: str | None) -> None:
        """Keep a 小计 row in extra and check it against the rows of its group it sums."""
        after = cells[cells.index(label) + 1 :]
        values = [parse(c.text).value for c in after if not c.empty and parse(c.text).is_value]
        if self.position is not None and len(values) == len(self.table.columns) + 1:
            values.pop(self.position)
        self.record.extra.append(
            {
                "table": self.table.key,
                "label": "小计",
                "group": group,
                "cells": [c.text.strip() for c in cells],
                "line": label.line,
            }
        )
        derived = next((d for d in self.table.derived_rows if d.group == group), None)
        if derived is None:
            fields: dict[str, Any] = {
                "case": "subtotal",
                "cells": " | ".join(c.text.strip() for c in cells if c.text.strip()),
            }
            self.record.warn("unknown-row", fields, f"line {label.line}")
            return
        columns = [c.key for c in self.table.columns]
        for col, value in zip(columns, values, strict=False):
            parts = [self.record.cells.get(f"{self.table.key}.{r}.{col}") for r in derived.sums]
            known = [p for p in parts if p is not None]
            if value is not None and known and sum(known) != value:
                fields = {"case": "group", "value": value, "group": group, "sum": sum(known), "column": col}
                self.record.warn("subtotal-mismatch", fields, f"line {label.line}")

    def check_cell(self, row_key: str, p: Parsed, token: Cell) -> None:
        """Keep a row's 小计 cell in extra and check it against the row's cells it sums (once they are stored)."""
        derived = self.column
        assert derived is not None  # only a row read under a header that shows the column has one
        parts = [self.record.cells.get(f"{self.table.key}.{row_key}.{c}") for c in derived.sums]
        column = next((e for e in self.record.extra if e.get("label") == derived.name), None)
        if column is None:
            column = {"table": self.table.key, "label": derived.name, "rows": {}, "line": token.line}
            self.record.extra.append(column)
        column["rows"][row_key] = token.text.strip()
        known = [v for v in parts if v is not None]
        if p.value is not None and known and sum(known) != p.value:
            self.record.warn(
                "subtotal-mismatch",
                {"case": "org", "name": derived.name, "value": p.value, "sum": sum(known)},
                f"{self.table.key}.{row_key}",
            )
