"""The 小计 rows and the 小计 column some templates add: no cells of the record, kept in extra and checked."""

from __future__ import annotations

from typing import Any

from convert.formats import Derived, Table
from convert.parse.grouping import TableWarnings, number
from convert.parse.rows import Cell
from convert.parse.values import Parsed
from convert.record import Record, Value


class Subtotals:
    """A table's printed subtotals: where the header puts a 小计 column, and what 小计 rows and cells say."""

    def __init__(self, table: Table, record: Record, said: TableWarnings) -> None:
        self.table, self.record, self.said = table, record, said
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

    def row(self, label: Cell, cells: list[Cell], group: str | None, values: dict[str, Value]) -> None:
        """Keep a 小计 row in extra and check it against the rows of its group it sums.

        values: the row's numbers by column, as fitted to the columns like its group's rows (a cell left out is
        not compared).
        """
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
            self.said.warn("unknown-row", fields, self.table.key, cells)
            return
        wrong = []
        for column in self.table.columns:
            value = values.get(column.key)
            parts = [self.record.cells.get(f"{self.table.key}.{r}.{column.key}") for r in derived.sums]
            # A blank row is no zero: with one of them blank, the 小计 cannot be checked.
            known = [p for p in parts if p is not None]
            if value is not None and known and len(known) == len(parts) and sum(known) != value:
                wrong.append(f"{column.label} {number(value)} ≠ {number(sum(known))}")
        if wrong:
            assert group is not None  # a derived row always belongs to a group
            fields = {"case": "group", "group": self.table.group(group).label, "cells": wrong}
            self.said.warn("subtotal-mismatch", fields, self.table.key, cells)

    def check_cell(self, row_key: str, p: Parsed, token: Cell, row: list[Cell]) -> None:
        """Keep a row's 小计 cell in extra and check it against the row's cells it sums (once they are stored).

        row: the row's label and cells, which a warning quotes.
        """
        derived = self.column
        assert derived is not None  # only a row read under a header that shows the column has one
        parts = [self.record.cells.get(f"{self.table.key}.{row_key}.{c}") for c in derived.sums]
        column = next((e for e in self.record.extra if e.get("label") == derived.name), None)
        if column is None:
            column = {"table": self.table.key, "label": derived.name, "rows": {}, "line": token.line}
            self.record.extra.append(column)
        column["rows"][row_key] = token.text.strip()
        known = [v for v in parts if v is not None]
        if p.value is not None and known and len(known) == len(parts) and sum(known) != p.value:
            cell = f"「{self.table.row(row_key).label}」 {number(p.value)} ≠ {number(sum(known))}"
            fields = {"case": "org", "name": derived.name, "cells": [cell]}
            self.said.warn("subtotal-mismatch", fields, f"{self.table.key}.{row_key}", row)
