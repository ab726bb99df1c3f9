"""Write a record as the standard .xlsx workbook: official layout, live totals, checks, names, protection."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell, xl_rowcol_to_cell_fast
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import CellNumberTuple as _NUMBER
from xlsxwriter.worksheet import Worksheet

from convert import __version__
from convert.atomic import atomic_output, check_output
from convert.errors import UsageError
from convert.formats import Format, Section, Table, load_format
from convert.record import Record, Value, dumps

COVER_SHEET = "封面"
CHECK_SHEET = "校验"
REPORTED_HEADER = "报告所列总计"
REPORTED_ROW_SUFFIX = "·报告所列数"
PASS, FAIL, INCOMPLETE = "通过", "不通过", "缺数"
PREFACE_HEADING = "前言"
# Column of the check sheet that holds 通过/不通过 (the cover counts it).
CHECK_RESULT_COL = 5
MAX_CELL_TEXT = 32767

# Cover fields: (defined name, label). The names let read-back find them even if rows move.
META_FIELDS = (
    ("meta_title", "报告标题"),
    ("meta_agency", "机关名称"),
    ("meta_year", "报告年度"),
    ("meta_format", "格式版本"),
    ("meta_format_name", "格式名称"),
    ("meta_source_path", "来源文件"),
    ("meta_source_sha256", "来源文件SHA-256"),
    ("meta_nianbao_version", "生成工具"),
    ("meta_revision", "记录修订"),
    ("meta_check_failures", "校验不通过项数"),
)
NOTES_HEADING = "单元格说明"
EXTRA_HEADING = "未归入表格的行"
WARNINGS_HEADING = "读取提示"
CUSTOM_REVISION = "nianbao_revision_json"

# A cell's content: a constant (blank for None) or a live formula with its cached result.
CellContent = Value | tuple[str, Value]
ContentFn = Callable[[str], CellContent]


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


# ---------------------------------------------------------------------------------------------
# Layout: where every label and cell of a table sheet goes. Read-back uses the same data to find
# cells whose names are gone and to notice shifted tables.


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


def sheet_layouts(fmt: Format) -> dict[str, SheetLayout]:
    """Return the layout of every table section, by section key."""
    out: dict[str, SheetLayout] = {}
    for section in fmt.sections:
        if section.kind != "table":
            continue
        table = fmt.tables[section.key]
        if table.layout == "wide":
            out[section.key] = _wide_layout(fmt, section, table)
        elif any(len(r.columns) != len(table.columns) for r in table.rows):
            out[section.key] = _block_layout(fmt, section, table)
        else:
            out[section.key] = _grid_layout(fmt, section, table)
    return out


def _title(section: Section) -> str:
    return f"{section.number}、{section.heading}"


def _row_chain(table: Table, group: str | None) -> list[str]:
    chain: list[str] = []
    while group is not None:
        chain.insert(0, group)
        group = table.group(group).parent
    return chain


def _grid_layout(fmt: Format, section: Section, table: Table) -> SheetLayout:
    """Layout 三: label columns with merged group labels, a two-level column header, a reported column and row."""
    lay = SheetLayout(fmt, section, table, landscape=True)
    depth = max(len(_row_chain(table, r.group)) for r in table.rows) + 1
    ncols = len(table.columns)
    c0 = depth
    rep_col = c0 + ncols
    top = 1
    col_of = {c.key: c0 + i for i, c in enumerate(table.columns)}
    lay.boxes.append(Box(0, 0, 0, rep_col, _title(section), "title"))
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
    lay.boxes.append(Box(top, rep_col, top + head_rows - 1, rep_col, REPORTED_HEADER, "header"))
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
        r, c = lay.cells[key]
        if _row_sum(key, parts):
            lay.reported[key] = (r, rep_col)
            lay.row_of["reported:" + key] = lay.row_of[key]
        else:
            below[c] = key
    filled_right = {r for r, c in lay.reported.values()}
    for r in row_at.values():
        if r not in filled_right:
            lay.fillers.append((r, rep_col))
    if below:
        total_row = next(r.label for r in table.rows if row_at[r.key] == lay.cells[next(iter(below.values()))][0])
        label = total_row + REPORTED_ROW_SUFFIX
        lay.boxes.append(Box(rep_row, 0, rep_row, depth - 1, label, "label"))
        lay.row_labels["@reported"] = (label, rep_row, tuple(range(depth)))
        for c in range(c0, rep_col + 1):
            if c in below:
                lay.reported[below[c]] = (rep_row, c)
                lay.row_of["reported:" + below[c]] = "@reported"
            else:
                lay.fillers.append((rep_row, c))
    label_widths = {0: 7.0, 1: 13.0} if depth == 3 else {}
    lay.widths = [label_widths.get(i, 44.0 if i == depth - 1 else 12.0) for i in range(depth)]
    lay.widths += [10.0] * ncols + [11.0]
    lay.freeze = (first, c0)
    lay.repeat_rows = (top, first - 1)
    lay.heights = {top: 20.0, top + 1: 20.0, top + 2: 30.0, 0: 28.0}
    for r in table.rows:
        level = len(_row_chain(table, r.group))
        room = sum(lay.widths[level:depth])
        lay.heights[row_at[r.key]] = _height(r.label, room)
    lay.heights[rep_row] = 18.0
    return lay


def _block_layout(fmt: Format, section: Section, table: Table) -> SheetLayout:
    """Layout 二: one block per 第二十条 item, each with its own header row of column labels."""
    lay = SheetLayout(fmt, section, table)
    width = 1 + max(len(r.columns) for r in table.rows)
    lay.boxes.append(Box(0, 0, 0, width - 1, _title(section), "title"))
    row = 1
    order: list[str] = []
    for r in table.rows:
        if r.group not in order:
            order.append(r.group)  # type: ignore[arg-type]
    for g in order:
        rows = [r for r in table.rows if r.group == g]
        lay.boxes.append(Box(row, 0, row, width - 1, table.group(g).label, "group"))
        lay.heights[row] = 20.0
        row += 1
        lay.boxes.append(Box(row, 0, row, 0, "信息内容", "header"))
        for i, c in enumerate(rows[0].columns):
            lay.boxes.append(Box(row, 1 + i, row, 1 + i, table.column(c).label, "header"))
        lay.heights[row] = 30.0
        row += 1
        for r in rows:
            lay.boxes.append(Box(row, 0, row, 0, r.label, "label"))
            lay.row_labels[r.key] = (r.label, row, (0,))
            for i, c in enumerate(r.columns):
                key = f"{table.key}.{r.key}.{c}"
                lay.cells[key] = (row, 1 + i)
                lay.row_of[key] = r.key
            lay.heights[row] = 20.0
            row += 1
    lay.widths = [26.0] + [24.0] * (width - 1)
    lay.freeze = (1, 0)
    lay.heights[0] = 28.0
    return lay


def _wide_layout(fmt: Format, section: Section, table: Table) -> SheetLayout:
    """Layout 四: one printed row of numbers under 行政复议 | 行政诉讼(未经复议直接起诉 | 复议后起诉)."""
    lay = SheetLayout(fmt, section, table, landscape=True)
    ncols = len(table.columns)
    width = ncols * len(table.rows)
    top = 1
    lay.boxes.append(Box(0, 0, 0, width - 1, _title(section), "title"))
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
            r, c = lay.cells[key]
            lay.reported[key] = (rep_row, c)
            rep_cols.add(c)
    # Label the reported row in the gaps between reported cells, right-aligned against them.
    c = 0
    while c < width:
        if c in rep_cols:
            c += 1
            continue
        d = c
        while d + 1 < width and d + 1 not in rep_cols:
            d += 1
        lay.boxes.append(Box(rep_row, c, rep_row, d, REPORTED_HEADER, "note"))
        c = d + 1
    lay.widths = [9.5] * width
    lay.freeze = (data_row, 0)
    lay.heights = {0: 28.0, top: 20.0, top + 1: 20.0, top + 2: 20.0, data_row: 20.0, rep_row: 20.0}
    return lay


def _height(text: str, room: float, line: float = 14.5, minimum: float = 18.0) -> float:
    lines = max(1, math.ceil(text_width(text) / max(room - 1.5, 1.0)))
    return min(409.0, max(minimum, lines * line + 3.5))


# ---------------------------------------------------------------------------------------------
# Values


def money_decimals(value: Decimal) -> int:
    """Return how many decimals a money value was printed with (at least 0)."""
    exp = value.as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def money_format(decimals: int) -> str:
    """Return the number format that shows a money value with its printed decimals."""
    return "0." + "0" * decimals if decimals else "0"


def cached(content: CellContent) -> Value:
    """Return the value of a cell's content (the cached result for a formula)."""
    return content[1] if isinstance(content, tuple) else content


def sum_values(values: Iterable[Value]) -> int | Decimal:
    """Sum as a spreadsheet SUM does: blanks count as 0."""
    return sum((v for v in values if v is not None), start=0)


# ---------------------------------------------------------------------------------------------
# Styles


class Styles:
    """The formats of the workbook, created once per workbook."""

    def __init__(self, wb: Workbook) -> None:
        """Create every format on the workbook."""
        self.wb = wb
        base = {"font_name": "SimSun", "font_charset": 134, "font_size": 11, "valign": "vcenter"}
        cell = {**base, "border": 1, "text_wrap": True}
        self.base = base
        self.title = wb.add_format({**base, "bold": True, "font_size": 16, "align": "center"})
        self.heading = wb.add_format({**base, "bold": True, "font_size": 14, "text_wrap": True})
        self.subheading = wb.add_format({**base, "bold": True, "font_size": 12, "bg_color": "#DDEBF7", "bottom": 1})
        self.header = wb.add_format({**cell, "bold": True, "align": "center", "bg_color": "#DDEBF7"})
        self.corner = wb.add_format({**cell, "align": "left", "font_size": 9, "bg_color": "#DDEBF7"})
        self.group = wb.add_format({**cell, "bold": True, "align": "center", "bg_color": "#F2F2F2"})
        self.label = wb.add_format({**cell, "align": "left"})
        self.note = wb.add_format({**cell, "align": "right", "font_size": 9, "italic": True, "bg_color": "#FFF9E6"})
        self.filler = wb.add_format({**cell, "bg_color": "#D9D9D9"})
        self.count = wb.add_format({**cell, "align": "right", "num_format": "0", "locked": False})
        self.formula = wb.add_format({**cell, "align": "right", "num_format": "0", "bg_color": "#EDEDED", "bold": True})
        self.reported = wb.add_format(
            {**cell, "align": "right", "num_format": "0", "locked": False, "bg_color": "#FFF2CC"}
        )
        self.mismatch = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.ok = wb.add_format({"font_color": "#006100"})
        self.paragraph = wb.add_format({**base, "text_wrap": True, "valign": "top", "locked": False})
        self.key = wb.add_format({**cell, "align": "left", "font_size": 9})
        self.text_cell = wb.add_format({**cell, "align": "left", "valign": "top", "locked": False})
        self.value = wb.add_format({**cell, "align": "left", "locked": False})
        self.result = wb.add_format({**cell, "align": "center", "bold": True})
        self.number = wb.add_format({**cell, "align": "right", "num_format": "0"})
        self._money: dict[tuple[int, bool], Any] = {}

    def money(self, decimals: int, formula: bool = False) -> Any:
        """Return the input (or formula) format for money with this many decimals."""
        key = (decimals, formula)
        if key not in self._money:
            props = {**self.base, "border": 1, "align": "right", "num_format": money_format(decimals)}
            props.update({"bg_color": "#EDEDED"} if formula else {"locked": False})
            self._money[key] = self.wb.add_format(props)
        return self._money[key]

    def box(self, style: str) -> Any:
        """Return the format for a layout box style."""
        return {
            "title": self.title,
            "corner": self.corner,
            "header": self.header,
            "group": self.group,
            "label": self.label,
            "note": self.note,
        }[style]


# ---------------------------------------------------------------------------------------------
# Writing


@dataclass
class Meta:
    """What the cover shows about the workbook's content."""

    fmt: Format
    title: str | None = None
    agency: str | None = None
    year: int | None = None
    source_path: str | None = None
    source_sha256: str | None = None
    revision: dict[str, Any] | None = None


def write_workbook(record: Record, path: str | Path, *, force: bool = False, revision: dict | None = None) -> Path:
    """Write the record as the standard workbook at path, atomically; refuse to overwrite unless force."""
    fmt = load_format(record.format)
    path = Path(path)
    _check_target(path, force)
    source = record.source or {}
    # A record read back from a workbook names its origin report; keep pointing at the report.
    origin = (
        source.get("origin") if source.get("kind") == "workbook" and isinstance(source.get("origin"), dict) else source
    )
    meta = Meta(
        fmt,
        record.title,
        record.agency,
        record.year,
        _str_or_none(origin.get("path")),
        _str_or_none(origin.get("sha256")),
        revision,
    )

    def content(key: str) -> CellContent:
        return record.cells.get(key)

    def build(wb: Workbook) -> None:
        build_workbook(wb, meta, content, content, record.text, record.notes, record.extra, record.warnings)

    return write_atomically(path, build, force=force)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _check_target(path: Path, force: bool) -> None:
    if path.suffix.lower() != ".xlsx":
        raise UsageError(f"workbook name must end in .xlsx: {path}")
    check_output(path, force)


class _Worksheet(Worksheet):
    """A worksheet that writes our formulas as they are."""

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        # Our formulas use only SUM, SUBTOTAL, IF, COUNT, COUNTIF, ISBLANK, ISNUMBER and AND, none of which needs
        # the _xlfn. prefixes xlsxwriter otherwise scans for with ~30 regexes per formula (half of our write time).
        if formula.startswith("{"):
            formula = formula[1:]
        if formula.startswith("="):
            formula = formula[1:]
        if formula.endswith("}"):
            formula = formula[:-1]
        return formula

    def _write_cell(self, row: int, col: int, cell: Any) -> None:
        # The inner loop of a 10,000-report summary: a formatted number needs no attribute escaping.
        if type(cell) is _NUMBER and cell.format is not None:
            self.fh.write(
                f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{cell.format._get_xf_index()}"><v>{cell.number:.16G}</v></c>'
            )
            return
        super()._write_cell(row, col, cell)


_OUR_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")


class _Workbook(xlsxwriter.Workbook):
    """An xlsxwriter workbook whose sheets are _Worksheet."""

    worksheet_class = _Worksheet

    def define_name(self, name: str, formula: str) -> int:
        """Define a workbook name; ours (words joined by _) skip the checks they cannot fail."""
        # ~250 names a workbook, each run through several regexes: a tenth of our write time.
        if len(name) <= 255 and _OUR_NAME.fullmatch(name):
            self.defined_names.append([name, -1, formula.lstrip("="), False])
            return 0
        return super().define_name(name, formula)


def write_atomically(path: Path, build: Callable[[Workbook], None], *, force: bool, in_memory: bool = True) -> Path:
    """Build a workbook into a temp file beside path, then move it into place; nothing is left on failure.

    in_memory: assemble the XML in memory (fast for one report); False streams it through temp files,
    which keeps a 10,000-report summary's memory flat.
    """
    _check_target(path, force)
    with atomic_output(path, force=force) as tmp:
        wb = _Workbook(
            str(tmp),
            {
                "in_memory": in_memory,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        build(wb)
        wb.close()
    return path


def build_workbook(
    wb: Workbook,
    meta: Meta,
    cell_content: ContentFn,
    reported_content: ContentFn,
    text: dict[str, list[str]],
    notes: dict[str, str],
    extra: list[dict[str, Any]],
    warnings: Iterable[Any],
) -> None:
    """Lay out a whole workbook: cover, one sheet per section, the check sheet."""
    fmt = meta.fmt
    styles = Styles(wb)
    layouts = sheet_layouts(fmt)
    cover = wb.add_worksheet(COVER_SHEET)
    values: dict[str, Value] = {}
    refs: dict[str, str] = {}
    reported_refs: dict[str, str] = {}
    reported_values: dict[str, Value] = {}
    for section in fmt.sections:
        ws = wb.add_worksheet(section.sheet[:31])
        _page_setup(ws, meta, landscape=section.key in layouts and layouts[section.key].landscape)
        if section.kind == "text":
            keys = ["preface", section.key] if section.key == "overview" else [section.key]
            _write_text_sheet(wb, ws, styles, section, keys, text)
        else:
            lay = layouts[section.key]
            v, rv = write_table_sheet(wb, ws, styles, lay, cell_content, reported_content)
            values.update(v)
            reported_values.update(rv)
            sheet = _quote(ws.name)
            refs.update({k: f"{sheet}!{_abs(*p)}" for k, p in lay.cells.items()})
            reported_refs.update({k: f"{sheet}!{_abs(*p)}" for k, p in lay.reported.items()})
    check = wb.add_worksheet(CHECK_SHEET)
    _page_setup(check, meta, landscape=True)
    failures = _write_check_sheet(check, styles, fmt, values, refs, reported_values, reported_refs)
    _write_cover(wb, cover, styles, meta, failures, notes, extra, warnings, layouts)
    wb.set_properties(
        {
            "title": meta.title or "政府信息公开工作年度报告",
            "subject": fmt.name,
            "author": meta.agency or "",
            "company": meta.agency or "",
            "comments": f"nianbao {__version__}; format {fmt.version}",
            "keywords": "政府信息公开工作年度报告",
        }
    )
    wb.set_custom_property("nianbao_format", fmt.version)
    wb.set_custom_property("nianbao_version", __version__)
    if meta.revision is not None:
        wb.set_custom_property(CUSTOM_REVISION, dumps(meta.revision))
        for k, v in meta.revision.items():
            if isinstance(v, str | int | float | bool):
                wb.set_custom_property(f"nianbao_{k}"[:255], v)


def _quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def _abs(row: int, col: int) -> str:
    return xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)


def _page_setup(ws: Worksheet, meta: Meta, *, landscape: bool) -> None:
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
    agency = (meta.agency or "").replace("&", "&&")[:80]
    year = f"{meta.year}年度" if meta.year is not None else ""
    # No font-size codes: "&9" followed by a year would read as a font size of 92019.
    ws.set_header(f"&L{agency}&R{year}政府信息公开工作年度报告")
    ws.set_footer(f"&L{agency}&C第 &P 页，共 &N 页（&P/&N）&R{year}")


def _write_string(ws: Worksheet, row: int, col: int, text: str, fmt: Any) -> None:
    """Write report text as text, always: never a formula, number or link."""
    if len(text) > MAX_CELL_TEXT:
        raise UsageError(f"a text of {len(text)} characters exceeds the {MAX_CELL_TEXT}-character limit of a cell")
    if text == "":
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_string(row, col, text, fmt)


def _write_box(ws: Worksheet, styles: Styles, box: Box) -> None:
    style = styles.box(box.style)
    if box.row == box.last_row and box.col == box.last_col:
        _write_string(ws, box.row, box.col, box.text, style)
    else:
        # merge_range writes through write(); write the text ourselves so it stays a string.
        ws.merge_range(box.row, box.col, box.last_row, box.last_col, "", style)
        _write_string(ws, box.row, box.col, box.text, style)


def _write_value(
    ws: Worksheet, styles: Styles, row: int, col: int, kind: str, content: CellContent, *, reported: bool = False
) -> None:
    value = cached(content)
    if kind == "money":
        decimals = money_decimals(value) if isinstance(value, Decimal) else 4
        style = styles.money(decimals)
    else:
        style = styles.reported if reported else styles.count
    if isinstance(content, tuple):
        formula, result = content
        ws.write_formula(row, col, formula, style, _number(result) if result is not None else "")
    elif value is None:
        ws.write_blank(row, col, None, style)
    else:
        ws.write_number(row, col, _number(value), style)


def _number(value: Value) -> int | float:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent == 0 else float(value)
    return value  # type: ignore[return-value]


_VALIDATION = {
    "count": {
        "validate": "integer",
        "criteria": ">=",
        "value": 0,
        "input_title": "件数",
        "input_message": "填写不小于0的整数；不适用或未列的留空。",
        "error_title": "数值不正确",
        "error_message": "件数必须是不小于0的整数。",
    },
    "signed": {
        "validate": "integer",
        "criteria": "between",
        "minimum": -2147483647,
        "maximum": 2147483647,
        "input_title": "增减数",
        "input_message": "填写整数，减少填负数。",
        "error_title": "数值不正确",
        "error_message": "必须是整数。",
    },
    "money": {
        "validate": "decimal",
        "criteria": ">=",
        "value": 0,
        "input_title": "金额（万元）",
        "input_message": "填写不小于0的金额，单位万元，最多4位小数。",
        "error_title": "数值不正确",
        "error_message": "金额必须是不小于0的数。",
    },
}


def write_table_sheet(
    wb: Workbook,
    ws: Worksheet,
    styles: Styles,
    lay: SheetLayout,
    cell_content: ContentFn,
    reported_content: ContentFn,
) -> tuple[dict[str, Value], dict[str, Value]]:
    """Write one table sheet; return the values (formula results included) and reported totals by key."""
    fmt_cells = lay.cells
    for i, w in enumerate(lay.widths):
        ws.set_column(i, i, w)
    for r, h in lay.heights.items():
        ws.set_row(r, h)
    for box in lay.boxes:
        _write_box(ws, styles, box)
    for r, c in lay.fillers:
        ws.write_blank(r, c, None, styles.filler)
    fmt = lay.fmt
    formulas = {k: v for k, v in computed_keys(fmt).items() if k in fmt_cells}
    values: dict[str, Value] = {}
    validated: dict[str, list[tuple[int, int]]] = {}
    for key, (r, c) in fmt_cells.items():
        if key in formulas:
            continue
        content = cell_content(key)
        kind = fmt.cell_type(key)
        _write_value(ws, styles, r, c, kind, content)
        values[key] = cached(content)
        validated.setdefault(kind, []).append((r, c))
    # Formulas after their parts, in dependency order (a total of totals last).
    pending = dict(formulas)
    while pending:
        for key, parts in list(pending.items()):
            if any(p in pending for p in parts):
                continue
            r, c = fmt_cells[key]
            result = sum_values(values.get(p) for p in parts)
            ws.write_formula(r, c, _sum_formula([fmt_cells[p] for p in parts]), styles.formula, _number(result))
            values[key] = result
            del pending[key]
    reported: dict[str, Value] = {}
    for key, (r, c) in lay.reported.items():
        content = reported_content(key)
        _write_value(ws, styles, r, c, fmt.cell_type(key), content, reported=True)
        reported[key] = cached(content)
        validated.setdefault(fmt.cell_type(key), []).append((r, c))
        fr, fc = fmt_cells[key]
        here, there = xl_rowcol_to_cell(r, c), xl_rowcol_to_cell(fr, fc, row_abs=True, col_abs=True)
        # A printed total that disagrees with its parts shows red at once, and stays red while edited.
        ws.conditional_format(
            r,
            c,
            r,
            c,
            {"type": "formula", "criteria": f"=AND(ISNUMBER({here}),{here}<>{there})", "format": styles.mismatch},
        )
    # One validation per kind over all its cells: Excel stores it once with a list of ranges.
    for kind, cells in validated.items():
        r0, c0 = cells[0]
        refs = " ".join(xl_rowcol_to_cell(r, c) for r, c in cells)
        ws.data_validation(r0, c0, r0, c0, {**_VALIDATION[kind], "multi_range": refs})
    for key, (r, c) in fmt_cells.items():
        wb.define_name(defined_name(key), f"={_quote(ws.name)}!{_abs(r, c)}")
    for key, (r, c) in lay.reported.items():
        wb.define_name(reported_name(key), f"={_quote(ws.name)}!{_abs(r, c)}")
    ws.freeze_panes(*lay.freeze)
    if lay.repeat_rows:
        ws.repeat_rows(*lay.repeat_rows)
    ws.print_area(0, 0, max(r for r, _ in [*fmt_cells.values(), *lay.reported.values()]), lay.width - 1)
    ws.hide_gridlines(2)
    ws.protect("", {"format_columns": True, "format_rows": True})
    return values, reported


def _sum_formula(positions: list[tuple[int, int]]) -> str:
    """Return =SUM over the cells, as one range when they are contiguous in a row or column."""
    rows = {r for r, _ in positions}
    cols = {c for _, c in positions}
    if len(rows) == 1 and sorted(cols) == list(range(min(cols), max(cols) + 1)):
        r = next(iter(rows))
        return f"=SUM({xl_rowcol_to_cell(r, min(cols))}:{xl_rowcol_to_cell(r, max(cols))})"
    if len(cols) == 1 and sorted(rows) == list(range(min(rows), max(rows) + 1)):
        c = next(iter(cols))
        return f"=SUM({xl_rowcol_to_cell(min(rows), c)}:{xl_rowcol_to_cell(max(rows), c)})"
    return "=SUM(" + ",".join(xl_rowcol_to_cell(r, c) for r, c in positions) + ")"


def _write_text_sheet(
    wb: Workbook, ws: Worksheet, styles: Styles, section: Section, keys: list[str], text: dict[str, list[str]]
) -> None:
    """Write text blocks: a heading row (named) then one wrapped paragraph per row."""
    width = 100.0
    ws.set_column(0, 0, width, styles.paragraph)
    row = 0
    for key in keys:
        paragraphs = list(text.get(key, []))
        if key == "preface" and not paragraphs:
            continue
        heading = PREFACE_HEADING if key == "preface" else f"{section.number}、{section.heading}"
        _write_string(ws, row, 0, heading, styles.heading)
        ws.set_row(row, 24.0)
        wb.define_name(heading_name(key), f"={_quote(ws.name)}!{_abs(row, 0)}")
        row += 1
        for para in paragraphs:
            _write_string(ws, row, 0, para, styles.paragraph)
            ws.set_row(row, _height(para, width, line=15.0))
            row += 1
    ws.protect("", {"format_columns": True, "format_rows": True, "insert_rows": True, "delete_rows": True})


def _write_check_sheet(
    ws: Worksheet,
    styles: Styles,
    fmt: Format,
    values: dict[str, Value],
    refs: dict[str, str],
    reported_values: dict[str, Value],
    reported_refs: dict[str, str],
) -> int:
    """Write one row per rule equation and per reported total; return how many fail now."""
    heads = ["规则", "说明", "位置", "左边合计", "右边合计", "结果", "涉及单元格"]
    for c, (h, w) in enumerate(zip(heads, [14, 40, 26, 11, 11, 9, 80], strict=True)):
        ws.set_column(c, c, w)
        _write_string(ws, 0, c, h, styles.header)
    failures = 0
    row = 1

    # The rules read what the report printed: a computed cell's reported total, like the record.
    def val(key: str) -> Value:
        return reported_values[key] if key in reported_refs else values.get(key)

    equations, reported = _check_rows(fmt.version, tuple(refs.items()), tuple(reported_refs.items()))
    for rule, title, where, lefts, rights, f_left, f_right, f_result in equations:
        keys = [*lefts, *rights]
        left = sum_values(val(k) for k in lefts)
        right = sum_values(val(k) for k in rights)
        blank = any(val(k) is None for k in keys)
        result = INCOMPLETE if blank else (PASS if left == right else FAIL)
        failures += result == FAIL
        _write_string(ws, row, 0, rule, styles.key)
        _write_string(ws, row, 1, title, styles.label)
        _write_string(ws, row, 2, where, styles.key)
        ws.write_formula(row, 3, f_left, styles.number, _number(left))
        ws.write_formula(row, 4, f_right, styles.number, _number(right))
        ws.write_formula(row, CHECK_RESULT_COL, f_result, styles.result, result)
        _write_string(ws, row, 6, " ".join(f"{k}={_show(val(k))}" for k in keys), styles.key)
        row += 1
    for key, f_left, f_right, f_result, text in reported:
        rep, comp = reported_values[key], values[key]
        result = INCOMPLETE if rep is None else (PASS if rep == comp else FAIL)
        failures += result == FAIL
        _write_string(ws, row, 0, "reported-total", styles.key)
        _write_string(ws, row, 1, "报告所列总计等于按各项计算的总计", styles.label)
        _write_string(ws, row, 2, key, styles.key)
        ws.write_formula(row, 3, f_left, styles.number, _number(rep) if rep is not None else 0)
        ws.write_formula(row, 4, f_right, styles.number, _number(comp))
        ws.write_formula(row, CHECK_RESULT_COL, f_result, styles.result, result)
        _write_string(ws, row, 6, text, styles.key)
        row += 1
    rng = f"{xl_rowcol_to_cell(1, CHECK_RESULT_COL)}:{xl_rowcol_to_cell(max(row - 1, 1), CHECK_RESULT_COL)}"
    ws.conditional_format(rng, {"type": "cell", "criteria": "==", "value": f'"{FAIL}"', "format": styles.mismatch})
    ws.conditional_format(rng, {"type": "cell", "criteria": "==", "value": f'"{PASS}"', "format": styles.ok})
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(row - 1, 1), len(heads) - 1)
    ws.protect("", {"autofilter": True, "sort": True, "format_columns": True})
    return failures


@lru_cache(maxsize=16)
def _check_rows(
    version: str, refs_items: tuple[tuple[str, str], ...], reported_items: tuple[tuple[str, str], ...]
) -> tuple[list[tuple[Any, ...]], list[tuple[str, str, str, str, str]]]:
    """The check sheet's rows without their values: rules, titles and formulas depend only on the layout."""
    fmt = load_format(version)
    refs, reported_refs = dict(refs_items), dict(reported_items)
    titles = {r.id: r.title for r in fmt.rules}

    def ref(key: str) -> str:
        return reported_refs.get(key, refs[key])

    equations = []
    for row, eq in enumerate(fmt.equations(), start=1):
        keys = [*eq.left, *eq.right]
        d, e = xl_rowcol_to_cell(row, 3), xl_rowcol_to_cell(row, 4)
        equations.append(
            (
                eq.rule,
                titles[eq.rule],
                eq.where,
                eq.left,
                eq.right,
                "=SUM(" + ",".join(ref(k) for k in eq.left) + ")",
                "=SUM(" + ",".join(ref(k) for k in eq.right) + ")",
                f'=IF(COUNT({",".join(ref(k) for k in keys)})<{len(keys)},"{INCOMPLETE}",IF({d}={e},"{PASS}","{FAIL}"))',
            )
        )
    reported = [
        (
            key,
            f"={rep}",
            f"={refs[key]}",
            f'=IF(ISBLANK({rep}),"{INCOMPLETE}",IF({rep}={refs[key]},"{PASS}","{FAIL}"))',
            f"报告所列 {reported_name(key)}；公式 {defined_name(key)}",
        )
        for key, rep in reported_refs.items()
    ]
    return equations, reported


def _show(value: Value) -> str:
    return "空" if value is None else (format(value, "f") if isinstance(value, Decimal) else str(value))


def _write_cover(
    wb: Workbook,
    ws: Worksheet,
    styles: Styles,
    meta: Meta,
    failures: int,
    notes: dict[str, str],
    extra: list[dict[str, Any]],
    warnings: Iterable[Any],
    layouts: dict[str, SheetLayout],
) -> None:
    """Write the cover: metadata, live check summary, and the record's notes, extra rows and warnings."""
    fmt = meta.fmt
    _page_setup(ws, meta, landscape=False)
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 70)
    ws.set_column(2, 2, 60)
    ws.merge_range(0, 0, 0, 2, "", styles.title)
    _write_string(ws, 0, 0, meta.title or "政府信息公开工作年度报告", styles.title)
    ws.set_row(0, 30)
    revision = dumps(meta.revision) if meta.revision is not None else None
    values: dict[str, Any] = {
        "meta_title": meta.title,
        "meta_agency": meta.agency,
        "meta_year": meta.year,
        "meta_format": fmt.version,
        "meta_format_name": fmt.name,
        "meta_source_path": meta.source_path,
        "meta_source_sha256": meta.source_sha256,
        "meta_nianbao_version": f"nianbao {__version__}",
        "meta_revision": revision,
    }
    row = 2
    for name, label in META_FIELDS:
        _write_string(ws, row, 0, label, styles.header)
        if name == "meta_check_failures":
            col = xl_rowcol_to_cell(1, CHECK_RESULT_COL, col_abs=True)[:-1]
            ws.write_formula(row, 1, f'=COUNTIF({_quote(CHECK_SHEET)}!{col}:{col},"{FAIL}")', styles.number, failures)
            _write_string(ws, row, 2, "见“校验”表；0 表示全部通过或缺数", styles.label)
        else:
            value = values[name]
            if isinstance(value, int):
                ws.write_number(row, 1, value, styles.value)
            else:
                _write_string(ws, row, 1, value or "", styles.value)
            ws.write_blank(row, 2, None, styles.label)
        wb.define_name(name, f"={_quote(COVER_SHEET)}!{_abs(row, 1)}")
        row += 1
    row += 1
    places = {k: (lay.section.sheet, p) for lay in layouts.values() for k, p in lay.cells.items()}
    row = _cover_block(
        wb,
        ws,
        styles,
        row,
        "meta_notes",
        NOTES_HEADING,
        ["单元格", "位置", "说明"],
        [[k, _place(places.get(k)), v] for k, v in notes.items()],
    )
    row = _cover_block(
        wb,
        ws,
        styles,
        row,
        "meta_extra",
        EXTRA_HEADING,
        ["序号", "内容（JSON）", ""],
        [[str(i + 1), dumps(item), ""] for i, item in enumerate(extra)],
    )
    _cover_block(
        wb,
        ws,
        styles,
        row,
        "meta_warnings",
        WARNINGS_HEADING,
        ["代码", "说明", "位置"],
        [[w.code, w.message, w.where] for w in warnings],
    )
    ws.protect("", {"format_columns": True, "format_rows": True})


def _place(place: tuple[str, tuple[int, int]] | None) -> str:
    if place is None:
        return ""
    return f"{place[0]}!{xl_rowcol_to_cell(*place[1])}"


def _cover_block(
    wb: Workbook,
    ws: Worksheet,
    styles: Styles,
    row: int,
    name: str,
    heading: str,
    heads: list[str],
    rows: list[list[str]],
) -> int:
    """Write a titled block of text rows; the heading cell is named so read-back finds it."""
    ws.merge_range(row, 0, row, 2, "", styles.subheading)
    _write_string(ws, row, 0, f"{heading}（{len(rows)}）", styles.subheading)
    wb.define_name(name, f"={_quote(COVER_SHEET)}!{_abs(row, 0)}")
    row += 1
    for c, h in enumerate(heads):
        _write_string(ws, row, c, h, styles.header)
    row += 1
    for items in rows:
        for c, text in enumerate(items):
            _write_string(ws, row, c, text, styles.text_cell)
        ws.set_row(row, _height(max(items, key=text_width), 60.0, line=14.0))
        row += 1
    return row + 1


__all__ = [
    "CHECK_SHEET",
    "COVER_SHEET",
    "Box",
    "CellContent",
    "Meta",
    "SheetLayout",
    "build_workbook",
    "defined_name",
    "reported_name",
    "sheet_layouts",
    "write_atomically",
    "write_table_sheet",
    "write_workbook",
]
