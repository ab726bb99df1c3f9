"""A table's lines → rows of cells: tab rows or one cell per line, mended where a copy broke them."""

from __future__ import annotations

from typing import Protocol

from convert.formats import Table
from convert.inputs.base import Line
from convert.parse.values import parse


class Cell:
    """A table cell's text, the input line it came from, and whether it holds nothing."""

    __slots__ = ("empty", "line", "text")

    def __init__(self, text: str, line: int) -> None:
        self.text = text
        self.line = line
        # Asked hundreds of thousands of times in a batch: computed once.
        self.empty = not text.strip()

    def __repr__(self) -> str:
        return f"Cell({self.text!r}, {self.line})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cell) and (self.text, self.line) == (other.text, other.line)

    __hash__ = None  # type: ignore[assignment]


class Labels(Protocol):
    """What mending rows needs to know of a table: its rows and which cells are its labels."""

    @property
    def table(self) -> Table:
        """The table read."""
        ...

    def row_key(self, text: str) -> str | None:
        """The row whose label this cell is, if any."""
        ...

    def is_known_label(self, text: str) -> bool:
        """Whether a cell is a label of this table that holds no numbers."""
        ...


def is_value(cell: Cell) -> bool:
    """Tell whether a cell holds a value (a number, a placeholder), not a label."""
    return not cell.empty and parse(cell.text).is_value


def build_rows(lines: list[Line]) -> list[list[Cell]]:
    """Group a table's lines into rows of cells: tab rows, or one cell per line with blank lines between rows."""
    single = sum(1 for ln in lines if ln.is_row and len(ln.cells) == 2 and not ln.cells[0].strip())
    multi = sum(1 for ln in lines if ln.is_row and (len(ln.cells) >= 3 or (len(ln.cells) == 2 and ln.cells[0].strip())))
    rows: list[list[Cell]] = []
    if not any(ln.is_row for ln in lines) and sum(not ln.blank for ln in lines) > 3:
        return _line_stream(lines)
    if single > multi:
        current: list[Cell] = []
        for ln in lines:
            if ln.blank and not ln.is_row:
                if current:
                    rows.append(current)
                current = []
            elif ln.is_row:
                current.extend(Cell(c, ln.no) for c in ln.cells[1:])
            elif current and not current[-1].empty:
                # A label broken across lines (本年新 / 制作数量) continues the cell above.
                current[-1] = Cell(current[-1].text.rstrip() + ln.cells[0].strip(), current[-1].line)
            else:
                current.append(Cell(ln.cells[0], ln.no))
        if current:
            rows.append(current)
        return rows
    for ln in lines:
        if ln.blank:
            continue
        rows.append([Cell(c, ln.no) for c in ln.cells])
    return rows


def _line_stream(lines: list[Line]) -> list[list[Cell]]:
    """Cut a table copied as one cell per line, without tabs, into rows.

    A blank line is an empty cell (web copies write empty cells so); a row ends where a label follows a
    number, so the next block's header or group label starts a row of its own.
    """
    rows: list[list[Cell]] = []
    current: list[Cell] = []
    seen_value = False
    for ln in lines:
        cell = Cell(ln.cells[0] if ln.cells else "", ln.no)
        if not cell.empty:
            value = is_value(cell)
            if not value and seen_value:
                rows.append(current)
                current, seen_value = [], False
            seen_value = seen_value or value
        current.append(cell)
    # Blank lines after a table's last number separate it from what follows; they are no cells.
    while current and current[-1].empty:
        current.pop()
    if current:
        rows.append(current)
    return rows


def rejoin(rows: list[list[Cell]], labels: Labels) -> list[list[Cell]]:
    """Mend rows a PDF conversion broke: a label split over two lines, numbers wrapped onto the next line."""
    table = labels.table
    out: list[list[Cell]] = []
    widest = max(len(r.columns) for r in table.rows) + len(table.derived_columns)
    i = 0
    while i < len(rows):
        row = rows[i]
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        words = [c for c in row if not c.empty]
        after = [c for c in nxt if not c.empty] if nxt is not None else []
        if nxt is None or not words or not after or table.layout == "wide":
            out.append(row)
            i += 1
            continue
        head, tail = words[-1], after[0]
        if not is_value(tail):
            if not labels.is_known_label(tail.text) and not any(is_value(c) for c in words):
                joined = head.text.strip() + tail.text.strip()
                if labels.row_key(joined) and not labels.row_key(tail.text):
                    # 「（三）不予」 then 「公开 …」: one label broken over two lines.
                    at = row.index(head)
                    rows[i + 1] = [*row[:at], Cell(joined, head.line), *nxt[nxt.index(tail) + 1 :]]
                    i += 1
                    continue
        elif is_value(head) and all(is_value(c) for c in after):
            labelled = [k for k, c in enumerate(row) if not c.empty and not is_value(c) and labels.row_key(c.text)]
            if labelled:
                have = [c for c in row[labelled[-1] + 1 :] if not c.empty]
                if have and all(is_value(c) for c in have) and len(have) + len(after) <= widest:
                    n = len(table.row(labels.row_key(row[labelled[-1]].text) or "").columns)
                    if len(have) < n:
                        # The numbers of a long row wrapped onto the next line.
                        out.append([*row[: labelled[-1] + 1], *have, *after])
                        i += 2
                        continue
        out.append(row)
        i += 1
    return out


def segments(rows: list[list[Cell]], labels: Labels) -> list[list[Cell]]:
    """Split a row that holds several labelled rows (lost blank lines) at each later row label."""
    out: list[list[Cell]] = []
    for row in rows:
        start = 0
        seen_value = False
        for i, cell in enumerate(row):
            if cell.empty:
                continue
            if parse(cell.text).is_value:
                seen_value = True
            elif seen_value and labels.row_key(cell.text):
                out.append(row[start:i])
                start, seen_value = i, False
        out.append(row[start:])
    return out
