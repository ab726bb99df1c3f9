"""Where every label and cell of the standard workbook's table sheets goes, and the names that find them.

The writers lay sheets out with these, and the read-back uses the same data to find cells whose names
are gone and to notice shifted tables.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from convert.formats import Format, Section, Table
from convert.outputs.template import load_template
from convert.record import Value

# The document property that holds the record revision a workbook was exported from (JSON).
CUSTOM_REVISION = "nianbao_revision_json"
# The document property that says what a workbook is: SUMMARY for one nianbao merge wrote (totals of many reports).
CUSTOM_KIND = "nianbao_kind"
SUMMARY = "summary"


def defined_name(key: str) -> str:
    """Return the workbook defined name of a cell key (dots become underscores)."""
    return key.replace(".", "_")


def reported_name(key: str) -> str:
    """Return the defined name of the reported total kept beside a computed cell."""
    return "reported_" + defined_name(key)


def heading_name(text_key: str) -> str:
    """Return the defined name of a text block's heading cell."""
    return f"heading_{text_key}"


def text_width(text: str) -> int:
    """Return the printed width of a text in narrow characters (CJK count double)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@dataclass(frozen=True)
class Box:
    """A label cell, merged over first..last row/column when larger than one cell."""

    row: int
    col: int
    last_row: int
    last_col: int
    text: str
    style: str  # title, corner, header, group, label, note


@dataclass
class SheetLayout:
    """The layout of one table sheet (0-based rows and columns)."""

    fmt: Format
    section: Section
    table: Table
    boxes: list[Box] = field(default_factory=list)
    cells: dict[str, tuple[int, int]] = field(default_factory=dict)
    reported: dict[str, tuple[int, int]] = field(default_factory=dict)
    fillers: list[tuple[int, int]] = field(default_factory=list)
    widths: list[float] = field(default_factory=list)
    heights: dict[int, float] = field(default_factory=dict)
    freeze: tuple[int, int] = (1, 0)
    repeat_rows: tuple[int, int] | None = None
    landscape: bool = False
    # Row label lookup for cells whose name is gone: row id -> (label text, row, label columns).
    row_labels: dict[str, tuple[str, int, tuple[int, ...]]] = field(default_factory=dict)
    # Cell key or reported key ("reported:" + key) -> row id used by the label fallback.
    row_of: dict[str, str] = field(default_factory=dict)

    @property
    def width(self) -> int:
        """Return the number of columns the table spans."""
        return len(self.widths)


def computed_keys(fmt: Format) -> dict[str, tuple[str, ...]]:
    """Return computed cell key -> the keys its SUM covers (the live formulas)."""
    return fmt.formulas()


def _row_sum(key: str, parts: tuple[str, ...]) -> bool:
    row = key.rsplit(".", 1)[0]
    return all(p.rsplit(".", 1)[0] == row for p in parts)


def sheet_layouts(fmt: Format, lang: str | None = None) -> dict[str, SheetLayout]:
    """Return the layout of every table section, by section key, with the texts of a language (default: the current)."""
    out: dict[str, SheetLayout] = {}
    for section in fmt.sections:
        if section.kind != "table":
            continue
        table = fmt.tables[section.key]
        if table.layout == "wide":
            out[section.key] = _wide_layout(fmt, section, table, lang)
        elif any(len(r.columns) != len(table.columns) for r in table.rows):
            out[section.key] = _block_layout(fmt, section, table, lang)
        else:
            out[section.key] = _grid_layout(fmt, section, table, lang)
    return out


def section_title(section: Section) -> str:
    """Return a section's heading as its sheet shows it (一、总体情况)."""
    return load_template().standard.section_title.format(number=section.number, heading=section.heading)


def _row_chain(table: Table, group: str | None) -> list[str]:
    chain: list[str] = []
    while group is not None:
        chain.insert(0, group)
        group = table.group(group).parent
    return chain


def _grid_layout(fmt: Format, section: Section, table: Table, lang: str | None) -> SheetLayout:
    """Layout 三: label columns with merged group labels, a two-level column header, a reported column and row."""
    tables = load_template(lang).standard.tables
    look = tables.grid
    lay = SheetLayout(fmt, section, table, landscape=look.orientation == "landscape")
    depth = max(len(_row_chain(table, r.group)) for r in table.rows) + 1
    ncols = len(table.columns)
    c0 = depth
    rep_col = c0 + ncols
    top = 1
    col_of = {c.key: c0 + i for i, c in enumerate(table.columns)}
    lay.boxes.append(Box(0, 0, 0, rep_col, section_title(section), "title"))
    has_col_groups = any(c.group for c in table.columns)
    head_rows = 3 if has_col_groups else 2
    lay.boxes.append(Box(top, 0, top + head_rows - 1, depth - 1, table.corner, "corner"))
    lay.boxes.append(Box(top, c0, top, rep_col - 1, table.column_header or "", "header"))
    i = 0
    cols = table.columns
    while i < ncols:
        group = cols[i].group
        if group is None:
            lay.boxes.append(Box(top + 1, c0 + i, top + head_rows - 1, c0 + i, cols[i].label, "header"))
            i += 1
            continue
        j = i
        while j < ncols and cols[j].group == group:
            j += 1
        lay.boxes.append(Box(top + 1, c0 + i, top + 1, c0 + j - 1, group, "header"))
        for k in range(i, j):
            lay.boxes.append(Box(top + 2, c0 + k, top + 2, c0 + k, cols[k].label, "header"))
        i = j
    lay.boxes.append(Box(top, rep_col, top + head_rows - 1, rep_col, tables.reported_header, "header"))
    first = top + head_rows
    row_at = {r.key: first + n for n, r in enumerate(table.rows)}
    rep_row = first + len(table.rows)
    # Group labels at the left, merged down over the rows they hold.
    spans: dict[str, list[int]] = {}
    for r in table.rows:
        for g in _row_chain(table, r.group):
            spans.setdefault(g, []).append(row_at[r.key])
    for g, rows in spans.items():
        level = len(_row_chain(table, g)) - 1
        lay.boxes.append(Box(min(rows), level, max(rows), level, table.group(g).label, "group"))
    for r in table.rows:
        level = len(_row_chain(table, r.group))
        lay.boxes.append(Box(row_at[r.key], level, row_at[r.key], depth - 1, r.label, "label"))
        lay.row_labels[r.key] = (r.label, row_at[r.key], tuple(range(depth)))
        for c in r.columns:
            key = f"{table.key}.{r.key}.{c}"
            lay.cells[key] = (row_at[r.key], col_of[c])
            lay.row_of[key] = r.key
    # Reported totals: row sums in the column at the right, column sums in the row below.
    formulas = computed_keys(fmt)
    below: dict[int, str] = {}
    for key, parts in formulas.items():
        if not key.startswith(table.key + "."):
            continue
        at_row, at_col = lay.cells[key]
        if _row_sum(key, parts):
            lay.reported[key] = (at_row, rep_col)
            lay.row_of["reported:" + key] = lay.row_of[key]
        else:
            below[at_col] = key
    filled_right = {at_row for at_row, _ in lay.reported.values()}
    for at_row in row_at.values():
        if at_row not in filled_right:
            lay.fillers.append((at_row, rep_col))
    if below:
        total_row = next(r.label for r in table.rows if row_at[r.key] == lay.cells[next(iter(below.values()))][0])
        label = total_row + tables.reported_row_suffix
        lay.boxes.append(Box(rep_row, 0, rep_row, depth - 1, label, "label"))
        lay.row_labels["@reported"] = (label, rep_row, tuple(range(depth)))
        for at_col in range(c0, rep_col + 1):
            if at_col in below:
                lay.reported[below[at_col]] = (rep_row, at_col)
                lay.row_of["reported:" + below[at_col]] = "@reported"
            else:
                lay.fillers.append((rep_row, at_col))
    label_widths = look.label_widths.get(str(depth))
    if label_widths is None:
        label_widths = (look.label_width,) * (depth - 1) + (look.last_label_width,)
    lay.widths = [*label_widths, *[look.column_width] * ncols, look.reported_width]
    lay.freeze = (first, c0)
    lay.repeat_rows = (top, first - 1)
    lay.heights = {top + i: h for i, h in enumerate(look.header_heights)}
    lay.heights[0] = tables.title_height
    for r in table.rows:
        level = len(_row_chain(table, r.group))
        room = sum(lay.widths[level:depth])
        lay.heights[row_at[r.key]] = row_height(r.label, room, tables.label_line_height, tables.label_min_height)
    lay.heights[rep_row] = look.reported_height
    return lay


def _block_layout(fmt: Format, section: Section, table: Table, lang: str | None) -> SheetLayout:
    """Layout 二: one block per 第二十条 item, each with its own header row of column labels."""
    tables = load_template(lang).standard.tables
    look = tables.block
    lay = SheetLayout(fmt, section, table, landscape=look.orientation == "landscape")
    width = 1 + max(len(r.columns) for r in table.rows)
    lay.boxes.append(Box(0, 0, 0, width - 1, section_title(section), "title"))
    row = 1
    order: list[str] = []
    for r in table.rows:
        if r.group not in order:
            order.append(r.group)  # type: ignore[arg-type]
    for g in order:
        rows = [r for r in table.rows if r.group == g]
        lay.boxes.append(Box(row, 0, row, width - 1, table.group(g).label, "group"))
        lay.heights[row] = look.group_height
        row += 1
        lay.boxes.append(Box(row, 0, row, 0, look.corner, "header"))
        for i, c in enumerate(rows[0].columns):
            lay.boxes.append(Box(row, 1 + i, row, 1 + i, table.column(c).label, "header"))
        lay.heights[row] = look.header_height
        row += 1
        for r in rows:
            lay.boxes.append(Box(row, 0, row, 0, r.label, "label"))
            lay.row_labels[r.key] = (r.label, row, (0,))
            for i, c in enumerate(r.columns):
                key = f"{table.key}.{r.key}.{c}"
                lay.cells[key] = (row, 1 + i)
                lay.row_of[key] = r.key
            lay.heights[row] = look.row_height
            row += 1
    lay.widths = [look.label_width] + [look.column_width] * (width - 1)
    lay.freeze = (1, 0)
    lay.heights[0] = tables.title_height
    return lay


def _wide_layout(fmt: Format, section: Section, table: Table, lang: str | None) -> SheetLayout:
    """Layout 四: one printed row of numbers under 行政复议 | 行政诉讼(未经复议直接起诉 | 复议后起诉)."""
    tables = load_template(lang).standard.tables
    look = tables.wide
    lay = SheetLayout(fmt, section, table, landscape=look.orientation == "landscape")
    ncols = len(table.columns)
    width = ncols * len(table.rows)
    top = 1
    lay.boxes.append(Box(0, 0, 0, width - 1, section_title(section), "title"))
    data_row, rep_row = top + 3, top + 4
    start: dict[str, int] = {}
    for n, r in enumerate(table.rows):
        start[r.key] = n * ncols
    done_groups: set[str] = set()
    for r in table.rows:
        c = start[r.key]
        if r.group is None:
            lay.boxes.append(Box(top, c, top + 1, c + ncols - 1, r.label, "header"))
        else:
            if r.group not in done_groups:
                members = [start[x.key] for x in table.rows if x.group == r.group]
                lay.boxes.append(
                    Box(top, min(members), top, max(members) + ncols - 1, table.group(r.group).label, "header")
                )
                done_groups.add(r.group)
            lay.boxes.append(Box(top + 1, c, top + 1, c + ncols - 1, r.label, "header"))
        for i, col in enumerate(table.columns):
            lay.boxes.append(Box(top + 2, c + i, top + 2, c + i, col.label, "header"))
            if col.key in r.columns:
                lay.cells[f"{table.key}.{r.key}.{col.key}"] = (data_row, c + i)
    formulas = computed_keys(fmt)
    rep_cols = set()
    for key in formulas:
        if key.startswith(table.key + "."):
            _, at_col = lay.cells[key]
            lay.reported[key] = (rep_row, at_col)
            rep_cols.add(at_col)
    # Label the reported row in the gaps between reported cells, right-aligned against them.
    c = 0
    while c < width:
        if c in rep_cols:
            c += 1
            continue
        d = c
        while d + 1 < width and d + 1 not in rep_cols:
            d += 1
        lay.boxes.append(Box(rep_row, c, rep_row, d, tables.reported_header, "note"))
        c = d + 1
    lay.widths = [look.column_width] * width
    lay.freeze = (data_row, 0)
    lay.heights = {0: tables.title_height}
    lay.heights.update(dict.fromkeys((top, top + 1, top + 2, data_row, rep_row), look.row_height))
    return lay


def row_height(text: str, room: float, line: float, minimum: float) -> float:
    """Return the height of a row whose text wraps in room characters: line points a line, at least minimum."""
    lines = max(1, math.ceil(text_width(text) / max(room - 1.5, 1.0)))
    return min(409.0, max(minimum, lines * line + 3.5))


def sum_values(values: Iterable[Value]) -> int | Decimal:
    """Sum as a spreadsheet SUM does: blanks count as 0."""
    return sum((v for v in values if v is not None), start=0)


__all__ = [
    "CUSTOM_KIND",
    "CUSTOM_REVISION",
    "SUMMARY",
    "Box",
    "SheetLayout",
    "computed_keys",
    "defined_name",
    "heading_name",
    "reported_name",
    "row_height",
    "section_title",
    "sheet_layouts",
    "sum_values",
    "text_width",
]
