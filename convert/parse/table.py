"""Read one table of a report: anchor its rows on their labels, fit each row's cells to its columns."""

from __future__ import annotations

import re
from typing import Any

from convert.formats import Format, Table, core
from convert.inputs.base import Line
from convert.inputs.text import is_noise
from convert.parse.excerpts import SourceLines
from convert.parse.fit import Equation, fit, row_equations, set_aside, wide_equations
from convert.parse.grouping import TableWarnings, number
from convert.parse.labels import header_piece, lookup, numbering, table_labels
from convert.parse.rows import Cell, build_rows, is_value, rejoin, segments
from convert.parse.shapes import RowShapes
from convert.parse.subtotals import Subtotals
from convert.parse.values import Parsed, parse
from convert.record import Record

# The readings of a misaligned row that leave cells blank because several placements add up.
UNSURE = ("totals-unsure", "ends")


class TableReader:
    """Read one table of a section: anchor rows on labels, then fit their cells to the columns."""

    def __init__(
        self, fmt: Format, table: Table, record: Record, strict: bool, source: SourceLines, heading: Cell | None = None
    ) -> None:
        """source: the input's lines, which warnings quote; heading: the table's section heading, if found."""
        self.fmt, self.table, self.record, self.strict = fmt, table, record, strict
        self.heading = heading
        self.labels = table_labels(fmt.version, table.key)
        self.fixed = {core(w) for w in (table.corner, table.column_header) if w}
        self.seen: set[str] = set()
        self.current_group: str | None = None
        # Warnings are gathered while the table is read and told once it is done: one per cause.
        self.said = TableWarnings(fmt, table, record, source)
        self.read_rows: dict[str, list[Cell]] = {}  # each row's label and cells, as read
        self.subtotals = Subtotals(table, record, self.said)
        self.shapes = RowShapes()
        self.wide_stream: list[Cell] = []
        self.deferred: list[tuple[str, list[Cell], Cell, int]] = []
        self.first_column_at: int | None = None  # where the header puts the first column, in grid layouts

    # -- classification -------------------------------------------------------------------
    def row_key(self, text: str) -> str | None:
        """Return the row whose label this cell is, if any."""
        return lookup(self.labels.rows, text)

    def is_known_label(self, text: str) -> bool:
        """Tell whether a cell is a label of this table that holds no numbers."""
        c = core(text)
        if not c:
            return True
        labels = self.labels
        if c in labels.columns or c in labels.groups or c in labels.derived_columns or c in self.fixed:
            return True
        return (
            c.startswith("本列数据的勾稽关系")
            or c.startswith("信息内容")
            or bool(re.fullmatch(r"第二十条第[一二三四五六七八九十]+项", c))
        )

    def column_key(self, text: str) -> str | None:
        """Return the column (or derived column) whose label this cell is, if any."""
        return lookup(self.labels.columns, text) or lookup(self.labels.derived_columns, text)

    def read(self, lines: list[Line]) -> bool:
        """Read the table from its section's lines; return whether any row was found."""
        for row in segments(rejoin(build_rows(lines), self), self):
            self._row(row)
        for row_key, tokens, label, label_at in self.deferred:
            self._fill(row_key, tokens, label, label_at, final=True)
        for odd in self.shapes.odd():
            fields = {
                "case": "shape",
                "row": self.table.row(odd.row_key).label,
                "count": odd.length,
                "usual": odd.usual,
            }
            where = f"{self.table.key}.{odd.row_key}"
            self.said.warn("row-misaligned", fields, where, self.read_rows.get(odd.row_key, ()))
        if self.table.layout == "wide":
            self._wide()
        found = bool(self.seen)
        if found:
            # A total the form does not print is not missing, nor are its rows when it was printed instead of them.
            said = self._derived_totals()
            for missing in self.table.rows:
                if missing.key not in self.seen and not missing.sums and missing.key not in said:
                    fields = {"case": "row", "row": missing.label}
                    # Where the row should have been: the table it is missing from.
                    heading = [self.heading] if self.heading is not None else []
                    self.said.warn("missing-row", fields, f"{self.table.key}.{missing.key}", heading)
        self.said.flush()
        return found

    def _derived_totals(self) -> set[str]:
        """Fill a total the form does not print from its rows; keep it when printed instead of them, and say so.

        Returns the rows the warning names (the rows of a total printed without them).
        """
        cells = self.record.cells
        said: set[str] = set()
        for row in self.table.rows:
            if not row.sums:
                continue
            for col in row.columns:
                key = f"{self.table.key}.{row.key}.{col}"
                parts = [cells.get(f"{self.table.key}.{part}.{col}") for part in row.sums]
                # Blank is not zero: the total is known only when every part is.
                if cells.get(key) is None and all(v is not None for v in parts):
                    cells[key] = sum(v for v in parts if v is not None)
            printed = any(cells.get(f"{self.table.key}.{row.key}.{col}") is not None for col in row.columns)
            if printed and not any(part in self.seen for part in row.sums):
                fields = {"row": row.label, "count": len(row.sums)}
                where = f"{self.table.key}.{row.key}"
                self.said.warn("sub-rows-missing", fields, where, self.read_rows.get(row.key, ()))
                said.update(row.sums)
        return said

    def _row(self, cells: list[Cell]) -> None:
        labels = [(i, c) for i, c in enumerate(cells) if not c.empty and not parse(c.text).is_value]
        col_hits = sum(1 for _, c in labels if self.column_key(c.text))
        row_hits = [(i, self.row_key(c.text)) for i, c in labels if self.row_key(c.text)]
        has_values = any(not c.empty and parse(c.text).is_value for c in cells)
        if col_hits >= 2 and not has_values:
            self._header(cells)
            return
        if not has_values:
            # A header row whose last cell reads 总计 (the column) is no （七）总计 row: a bare column label is a header.
            row_hits = [
                (i, k) for i, k in row_hits if not (self.column_key(cells[i].text) and not numbering(cells[i].text))
            ]
        for _, c in labels:
            g = lookup(self.labels.groups, c.text)
            if g:
                self.current_group = g
        if self.table.layout == "wide":
            self._wide_row(cells, labels, row_hits)
            return
        if row_hits:
            i, key = row_hits[-1]
            assert key is not None
            self._data(key, cells[i + 1 :], cells[i], i)
            return
        self._unplaced(cells, labels)

    def _header(self, cells: list[Cell]) -> None:
        first = self.table.columns[0].key
        at = [i for i, c in enumerate(cells) if not c.empty and lookup(self.labels.columns, c.text) == first]
        if at:
            self.first_column_at = at[0]
        # A 小计 column among the applicant columns shifts the cells after it: note where it sits.
        names = [self.column_key(c.text) for c in cells if not c.empty]
        self.subtotals.header([n for n in names if n])

    def _unplaced(self, cells: list[Cell], labels: list[tuple[int, Cell]]) -> None:
        """A row without a row label: a 小计 row, a leftover label, numbers without a row, or an unknown row."""
        unknown = [c for _, c in labels if not self.is_known_label(c.text)]
        values = [c for c in cells if not c.empty and parse(c.text).is_value]
        subtotal = next((c for _, c in labels if core(c.text) == "小计"), None)
        if subtotal is not None and values:
            self._subtotal_row(subtotal, cells)
            return
        if not unknown:
            if values and self.strict:
                printed = "「" + " | ".join(c.text.strip() for c in values) + "」"
                fields = {"case": "numbers", "table": self.said.name, "cells": [printed]}
                self.said.warn("unplaced-line", fields, self.table.key, cells)
            return
        label = unknown[-1]
        if values:
            self.record.extra.append(
                {
                    "table": self.table.key,
                    "label": label.text.strip(),
                    "cells": [c.text.strip() for c in cells],
                    "line": label.line,
                }
            )
            fields = {"case": "row", "row": label.text.strip(), "cells": " | ".join(c.text.strip() for c in values)}
            self.said.warn("unknown-row", fields, self.table.key, cells)
        elif self.strict:
            # A page number, or a piece of a header label a PDF or a copy cut over two lines, is no text of the report.
            words = [c for c in unknown if not is_noise(c.text) and not header_piece(self.labels, c.text)]
            if words:
                texts = [f"「{c.text.strip()}」" for c in words]
                fields = {"case": "text", "table": self.said.name, "texts": texts}
                self.said.warn("unplaced-line", fields, self.table.key, words)

    def _subtotal_row(self, label: Cell, cells: list[Cell]) -> None:
        """Fit a 小计 row's cells to the columns as its group's rows are fitted, and check it against them."""
        tokens = cells[cells.index(label) + 1 :]
        slots = self.subtotals.slots(tuple(c.key for c in self.table.columns))
        parsed = [parse(t.text, "count") for t in tokens]
        hint = self.shapes.lead(len(tokens), len(slots))
        fitted, _, _ = fit(tokens, parsed, len(slots), self._row_equations(slots), hint, True)
        # A cell the fit could not place is not compared: a misread 小计 would only say the reading was wrong.
        values = {s: parse(c.text).value for s, c in zip(slots, fitted or [], strict=False) if c is not None}
        self.subtotals.row(label, cells, self.current_group, values)

    # -- values -----------------------------------------------------------------------------
    def _data(self, row_key: str, tokens: list[Cell], label: Cell, label_at: int = 0) -> None:
        if row_key in self.seen:
            fields = {"row": label.text.strip(), "cells": " | ".join(t.text.strip() for t in tokens)}
            self.said.warn("duplicate-row", fields, f"{self.table.key}.{row_key}", [label, *tokens])
            return
        self.seen.add(row_key)
        self.read_rows[row_key] = [label, *tokens]
        n = len(self.table.row(row_key).columns) + (self.subtotals.column is not None)
        self.shapes.count(label_at, n, len(tokens))
        self._fill(row_key, tokens, label, label_at, final=False)

    def _fill(self, row_key: str, tokens: list[Cell], label: Cell, label_at: int, final: bool) -> None:
        """Fit a row's cells to its slots and store their values; defer a row whose placement is open."""
        slots = self.subtotals.slots(self.table.row(row_key).columns)
        if len(tokens) <= len(slots) and tokens and tokens[0].empty:
            if not final:
                self.deferred.append((row_key, tokens, label, label_at))
                return
            tokens = self.shapes.without_lost_cell(tokens, label_at, len(slots))
        parsed = [parse(t.text, "count") for t in tokens]
        hint = self.shapes.lead(len(tokens), len(slots))
        if hint is None and final and self.first_column_at is not None:
            # No row of this shape was sure: the header row shows where the numbers start.
            hint = self.first_column_at - label_at - 1
        fitted, reading, lead = fit(tokens, parsed, len(slots), self._row_equations(slots), hint, final)
        if fitted is None:
            # Several placements of the row's empty cells; rows of the same shape may tell which.
            self.deferred.append((row_key, tokens, label, label_at))
            return
        if lead is not None:
            self.shapes.learn(label_at, len(slots), len(tokens), lead)
        if reading:
            labels = [self._slot_label(s) for s in slots]
            row = label.text.strip()
            where = f"{self.table.key}.{row_key}"
            self._misaligned({**reading, "row": row}, tokens, parsed, fitted, labels, row, where, [label, *tokens])
        # A row whose first and last numbers are filled is pinned; blanks at its ends could have shifted.
        pinned = bool(reading) or (
            fitted[0] is not None and not fitted[0].empty and fitted[-1] is not None and not fitted[-1].empty
        )
        self.shapes.note(row_key, label_at, len(slots), len(tokens), pinned)
        self._store(row_key, slots, fitted, [label, *tokens])

    def _store(self, row_key: str, slots: list[str], fitted: list[Cell | None], row: list[Cell]) -> None:
        """Store a fitted row's values (with their notes and warnings); check its 小计 cell once they are stored.

        row: the row's label and cells, which a warning about a value quotes.
        """
        subtotal = None
        for col, token in zip(slots, fitted, strict=True):
            if token is None:
                continue
            key = f"{self.table.key}.{row_key}.{col}"
            if self.subtotals.is_column(col):
                p = parse(token.text, "count", False)
                for code, fields in p.warnings:
                    self.said.warn(code, fields, key, row)
                subtotal = (p, token)
                continue
            column = self.table.column(col)
            # The 2021 format prints （单位：万元） in the header: a bare number there is in 万元.
            p = parse(token.text, column.type, "万元" in column.label)
            for code, fields in p.warnings:
                self.said.warn(code, fields, key, row)
            self.record.cells[key] = p.value
            keep_provenance(self.record, key, token)
            if p.note:
                self.record.notes[key] = p.note
        if subtotal is not None:
            self.subtotals.check_cell(row_key, *subtotal, row)

    def _row_equations(self, slots: list[str]) -> list[Equation]:
        return row_equations(self.fmt.version, self.table.key, tuple(slots))

    def _slot_label(self, slot: str) -> str:
        """The label of a row's slot: a column's, or the 小计 column's a template adds."""
        if self.subtotals.is_column(slot):
            assert self.subtotals.column is not None
            return self.subtotals.column.label
        return self.table.column(slot).label

    def _misaligned(
        self,
        reading: dict[str, Any],
        tokens: list[Cell],
        parsed: list[Parsed],
        fitted: list[Cell | None],
        labels: list[str],
        row: str,
        where: str,
        cells: list[Cell],
    ) -> None:
        """Say how a row with more or fewer cells than columns was read; a non-zero number set aside is a finding.

        cells: the row's cells as printed (its label too), which the warning quotes.
        """
        dropped, moved = set_aside(tokens, parsed, fitted)
        if not dropped and not moved:
            self.said.warn("row-misaligned", reading, where, cells)
            return
        how = reading["case"].removeprefix("table-")
        case = "moved" if not dropped else "dropped" if how == "totals" else "unsure" if how in UNSURE else "unread"
        # The reading's own fields: how many cells for how many columns, and the row as printed.
        fields: dict[str, Any] = {"case": case, "row": row}
        fields |= {"count": reading["count"], "columns": reading["columns"], "cells": reading["cells"]}
        if case == "moved":
            fields["moves"] = [f"{number(v)} ({labels[a]} → {labels[b]})" for v, a, b in moved]
        else:
            fields["numbers"] = [v for _, v in dropped]
        if case in ("dropped", "unsure"):
            fields["positions"] = [at for at, _ in dropped]
        if case == "unsure":
            fields["unsure"] = reading["unsure"]
        self.said.warn("number-set-aside", fields, where, cells)

    # -- the wide table (四: one printed row of fifteen cells per case) ---------------------
    def _wide_row(
        self, cells: list[Cell], labels: list[tuple[int, Cell]], row_hits: list[tuple[int, str | None]]
    ) -> None:
        has_values = any(not c.empty and parse(c.text).is_value for c in cells)
        # A case label followed by numbers only is a row of its own (one row per case).
        if row_hits and has_values and all(c.empty or is_value(c) for c in cells[row_hits[-1][0] + 1 :]):
            i, key = row_hits[-1]
            assert key is not None
            self._data(key, cells[i + 1 :], cells[i], i)
        elif has_values and (self.strict or not labels):
            # Inside the section, numbers after the header text (a flattened copy) are the printed row of
            # 15; searching the whole document (no heading found), only rows of bare numbers can be.
            tail = cells[labels[-1][0] + 1 :] if labels else cells
            self.wide_stream.extend(tail)
        elif row_hits:
            pass  # 行政复议 / 未经复议直接起诉 over the columns: the header of the wide row
        elif labels:
            self._unplaced(cells, labels)

    def _wide(self) -> None:
        """Read the numbers of a flattened wide table, in the order of its rows not yet read."""
        if not self.wide_stream:
            return
        rows = [r for r in self.table.rows if r.key not in self.seen]
        if not rows:
            return
        tokens = self.wide_stream
        slots = [(r.key, c) for r in rows for c in r.columns]
        eqs = wide_equations(self.fmt, self.table.key, rows)
        parsed = [parse(t.text, "count") for t in tokens]
        fitted, reading, _ = fit(tokens, parsed, len(slots), eqs, None, True)
        assert fitted is not None
        if reading:
            fields = {**reading, "case": f"table-{reading['case']}", "table": self.said.name}
            labels = [f"{self.table.row(r).label}·{self.table.column(c).label}" for r, c in slots]
            self._misaligned(fields, tokens, parsed, fitted, labels, self.said.name, self.table.key, tokens)
        for (row_key, col), token in zip(slots, fitted, strict=True):
            self.seen.add(row_key)
            if token is None:
                continue
            key = f"{self.table.key}.{row_key}.{col}"
            p = parse(token.text, self.table.column(col).type)
            for code, fields in p.warnings:
                self.said.warn(code, fields, key, [token])
            self.record.cells[key] = p.value
            keep_provenance(self.record, key, token)
            if p.note:
                self.record.notes[key] = p.note


def keep_provenance(record: Record, key: str, token: Cell) -> None:
    """Note where a value came from when its input says (a cell read by OCR: its page and confidence)."""
    origin = getattr(token.text, "provenance", None)
    if origin:
        record.source.setdefault("values", {})[key] = dict(origin)
