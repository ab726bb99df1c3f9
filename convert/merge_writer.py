"""Write the summary workbook: standard total sheets over detail sheets, per-report checks, charts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import Any

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from convert.checks.catalogue import render
from convert.formats import Table, also_counted, crosswalks, known_versions, load_format
from convert.merge import (
    CHART_LIMIT,
    CHART_SHEET,
    CHECK_DETAIL_SHEET,
    FIXED_COLUMNS,
    SUMMARY_PREFIX,
    MergeRow,
    total,
    value_of,
)
from convert.record import Value, Warning_

HEADER_ROWS = 4  # title, row labels, column labels, keys


def _streaming_sheet_class() -> type:
    from convert.workbook import _Worksheet

    class StreamingWorksheet(_Worksheet):
        """A sheet written row by row to a temp file (xlsxwriter's constant_memory), for one row per report."""

        def _initialize(self, init_data: dict[str, Any]) -> None:
            super()._initialize({**init_data, "constant_memory": True})

    return StreamingWorksheet


@dataclass
class Column:
    """A detail column: a cell key with its two header labels, or a derived per-row sum."""

    key: str
    row_label: str
    col_label: str
    parts: tuple[str, ...] = ()  # derived: the keys summed on each row


@dataclass
class Detail:
    """Where the total year's rows of a detail sheet are, per key."""

    sheet: str
    col: dict[str, int]
    first: int
    last: int

    def ref(self, key: str) -> str:
        """Return the absolute range of one key's column over the total year's block."""
        letter = xl_col_to_name(self.col[key], col_abs=True)
        return f"'{self.sheet}'!{letter}${self.first + 1}:{letter}${self.last + 1}"


def _number(v: Value) -> int | float:
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v  # type: ignore[return-value]


def _columns(table: Table, versions: list[str], mixed: bool) -> list[Column]:
    """Union of the table's keys over the versions merged, in printed order, plus cross-version sums."""
    seen: dict[str, Column] = {}
    order: list[str] = []
    for v in versions:
        t = load_format(v).tables[table.key]
        prev = None
        for row in t.rows:
            for c in row.columns:
                key = f"{t.key}.{row.key}.{c}"
                if key not in seen:
                    seen[key] = Column(key, row.label, t.column(c).label)
                    # Keep a later version's extra rows next to their neighbours.
                    order.insert(order.index(prev) + 1 if prev in order else len(order), key)
                prev = key
    cols = [seen[k] for k in order]
    for cw in (x for x in crosswalks() if mixed and x.table == table.key):
        for c in table.columns:
            parts = tuple(f"{cw.table}.{r}.{c.key}" for r in cw.total_rows)
            cols.append(Column(f"{cw.table}.{cw.total_key}.{c.key}", cw.total_label, c.label, parts))
    return cols


_StreamingWorksheet = _streaming_sheet_class()


def write_summary(
    out: Path,
    rows: list[MergeRow],
    refused: list[tuple[str, str]],
    findings: list[dict[str, Any]],
    total_year: int | None,
    total_version: str,
    *,
    force: bool,
) -> Path:
    """Write the summary workbook atomically."""
    from convert.workbook import Meta, Styles, build_workbook, write_atomically

    fmt = load_format(total_version)
    versions = sorted({r.format for r in rows})
    mixed = len(versions) > 1
    years = sorted({r.year for r in rows if r.year is not None})
    in_total = [r for r in rows if r.year == total_year]

    def build(wb: Workbook) -> None:
        styles = Styles(wb)
        extra = _Styles(wb)
        details: dict[str, Detail] = {}
        # Detail sheets come after the standard ones; formulas may name them before they exist.
        sheets_to_write: list[tuple[str, str, list[Column], list[MergeRow]]] = []
        for v in versions:
            vrows = [r for r in rows if r.format == v]
            table = load_format(v).tables["proactive"]
            name = f"{SUMMARY_PREFIX}二 主动公开 {v}版" if mixed else f"{SUMMARY_PREFIX}二 主动公开"
            sheets_to_write.append((f"proactive:{v}", name, _columns(table, [v], False), vrows))
        for key, label in (("requests", "三 申请处理"), ("appeals", "四 复议诉讼")):
            table = load_format(versions[-1]).tables[key]
            sheets_to_write.append((key, f"{SUMMARY_PREFIX}{label}", _columns(table, versions, mixed), rows))
        # Lay out rows first (cheap), so the total sheets know the ranges they sum.
        plans = {tag: _plan(trows, len(years) > 1, any(r.group for r in rows)) for tag, _, _, trows in sheets_to_write}
        for tag, name, cols, _ in sheets_to_write:
            block = plans[tag].blocks.get(total_year)
            if block is not None:
                at = {c.key: len(FIXED_COLUMNS) + i for i, c in enumerate(cols)}
                details[tag] = Detail(name, at, block[0], block[1])

        def detail_for(key: str) -> Detail | None:
            return (
                details.get(f"proactive:{total_version}")
                if key.startswith("proactive.")
                else details.get(key.split(".")[0])
            )

        sums = _column_sums(in_total)

        def content(key: str) -> Any:
            detail = detail_for(key)
            keys = [key]
            if mixed:
                # An older version's row is counted under its newer row in a mixed summary (see the cover note).
                keys.extend(also_counted(key))
            if detail is None or not any(k in detail.col for k in keys):
                return None
            refs = ",".join(detail.ref(k) for k in keys if k in detail.col)
            versions_summed = [total_version] if key.startswith("proactive.") else list(sums)
            values = [sums[v].get(k) for v in versions_summed for k in keys]
            return (f'=IF(COUNT({refs})=0,"",SUBTOTAL(9,{refs}))', total(values))

        n_reports = len(rows)
        meta = Meta(
            fmt,
            f"{total_year or ''}年政府信息公开工作年度报告汇总（{len(in_total)}份）",
            f"汇总（{len({r.agency for r in in_total})}个机关）",
            total_year,
            f"{n_reports} 份报告",
            None,
            None,
        )
        notes = _summary_notes(rows, years, versions, total_year, total_version, refused)
        text = {
            "preface": [],
            "overview": notes,
            "problems": [],
            "other": [],
        }
        warnings = [Warning_("refused", {"path": path, "error": error}, "input") for path, error in refused]
        build_workbook(wb, meta, content, content, text, {}, [], warnings)
        for tag, name, cols, _ in sheets_to_write:
            ws = wb.add_worksheet(name[:31], worksheet_class=_StreamingWorksheet)
            _write_detail(wb, ws, styles, extra, name, cols, plans[tag])
        _write_check_detail(wb, styles, extra, rows, refused, findings)
        _write_charts(wb, styles, in_total or rows, total_year)
        wb.set_custom_property("nianbao_kind", "summary")
        wb.set_custom_property("nianbao_reports", n_reports)

    return write_atomically(out, build, force=force, in_memory=False)


def _summary_notes(
    rows: list[MergeRow],
    years: list[int],
    versions: list[str],
    total_year: int | None,
    total_version: str,
    refused: list[tuple[str, str]],
) -> list[str]:
    in_total = sum(1 for r in rows if r.year == total_year)
    notes = [
        f"本汇总表合并了 {len(rows)} 份报告（年度：{'、'.join(map(str, years)) or '未知'}；格式：{'、'.join(versions)}版）。",
        f"各表为 {total_year} 年 {in_total} 份报告的合计，单元格是对“{SUMMARY_PREFIX}”明细表的实时公式：修改明细中某机关的数字，合计随之更新。",
    ]
    if len(years) > 1:
        notes.append("明细表按年度分块，每块末行为该年度合计（SUBTOTAL），合计表只汇总上述年度。")
    if len(versions) > 1:
        notes.append(
            f"2019版与2021版混合：三、四两表跨版本合并；二表按版本分别汇总，合计表的二表只含{total_version}版报告。"
            + "".join(f"{cw.note}，明细表另有“{cw.total_label}”列。" for cw in crosswalks())
        )
    if refused:
        notes.append(f"{len(refused)} 份输入未能读取，未计入合计，原因见封面“读取提示”和“{CHECK_DETAIL_SHEET}”。")
    return notes


@dataclass
class _Plan:
    """The rows of a detail sheet in order: data rows and subtotal rows, and each year's block."""

    items: list[tuple[str, Any]]
    blocks: dict[int | None, tuple[int, int]]


def _plan(rows: list[MergeRow], by_year: bool, by_group: bool) -> _Plan:
    items: list[tuple[str, Any]] = []
    blocks: dict[int | None, tuple[int, int]] = {}
    r = HEADER_ROWS
    for year, yrows_iter in groupby(rows, key=lambda x: x.year):
        yrows = list(yrows_iter)
        start = r
        if by_group:
            for group, grows_iter in groupby(yrows, key=lambda x: x.group):
                grows = list(grows_iter)
                g_start = r
                for row in grows:
                    items.append(("row", row))
                    r += 1
                items.append(("subtotal", ("/".join(group) + " 小计", g_start, r - 1, grows)))
                r += 1
        else:
            for row in yrows:
                items.append(("row", row))
                r += 1
        blocks[year] = (start, r - 1)
        if by_year:
            items.append(("subtotal", (f"{year}年 合计", start, r - 1, yrows)))
            r += 1
    return _Plan(items, blocks)


class _Styles:
    """Formats of the detail sheets (the standard ones come from convert.workbook.Styles)."""

    def __init__(self, wb: Workbook) -> None:
        base = {"font_name": "SimSun", "font_charset": 134, "font_size": 10, "valign": "vcenter"}
        self.num = wb.add_format({**base, "num_format": "0.####"})
        self.text = wb.add_format(base)
        self.subtotal = wb.add_format({**base, "bold": True, "bg_color": "#F2F2F2", "num_format": "0.####"})
        self.subtotal_label = wb.add_format({**base, "bold": True, "bg_color": "#F2F2F2"})
        self.key = wb.add_format({**base, "font_size": 8, "font_color": "#7F7F7F", "border": 1})
        self.bad = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})


def _write_detail(
    wb: Workbook, ws: Worksheet, styles: Any, st: _Styles, name: str, cols: list[Column], plan: _Plan
) -> None:
    from convert.workbook import _write_string

    fixed = len(FIXED_COLUMNS)
    last_col = fixed + len(cols) - 1
    # A streaming sheet (flat memory): every row is written whole and in order, so no merge spans rows.
    _write_string(ws, 0, 0, name.removeprefix(SUMMARY_PREFIX) + " — 逐份明细", styles.title)
    ws.set_row(1, 45)
    for c, (_, label) in enumerate(FIXED_COLUMNS):
        _write_string(ws, 1, c, label, styles.header)
    # Row labels merged over their columns, column labels below, keys for machines in the fourth row.
    c = fixed
    for label, run in groupby(cols, key=lambda col: col.row_label):
        n = len(list(run))
        if n > 1:
            ws.merge_range(1, c, 1, c + n - 1, "", styles.header)
        _write_string(ws, 1, c, label, styles.header)
        c += n
    ws.set_row(2, 30)
    for c in range(fixed):
        ws.write_blank(2, c, None, styles.header)
    for i, col in enumerate(cols):
        _write_string(ws, 2, fixed + i, col.col_label, styles.header)
    for c, (key, _) in enumerate(FIXED_COLUMNS):
        _write_string(ws, 3, c, key, st.key)
    for i, col in enumerate(cols):
        _write_string(ws, 3, fixed + i, col.key, st.key)
    ws.set_column(0, 0, 24)
    ws.set_column(1, 2, 7)
    ws.set_column(3, 3, 22)
    ws.set_column(4, 4, 8)
    ws.set_column(fixed, last_col, 9)
    index = {col.key: fixed + i for i, col in enumerate(cols)}
    # Where each plain column's value sits in a row's values tuple, per format version: computed once.
    slots = {v: _slots(v, cols) for v in known_versions()}
    derived = [(fixed + i, col) for i, col in enumerate(cols) if col.parts]
    write_number = ws._write_number  # the checked public wrapper costs more than the write itself
    num = st.num
    r = HEADER_ROWS
    for kind, item in plan.items:
        if kind == "row":
            row: MergeRow = item
            ws.write_string(r, 0, row.agency, st.text)
            if row.year is not None:
                ws.write_number(r, 1, row.year, st.text)
            ws.write_string(r, 2, row.format, st.text)
            ws.write_string(r, 3, row.source, st.text)
            ws.write_string(r, 4, row.status, st.text)
            values = row.values
            for col_at, at in slots[row.format]:
                v = values[at]
                if v is not None:
                    write_number(r, col_at, float(v) if isinstance(v, Decimal) else v, num)
            for col_at, col in derived:
                refs = ",".join(xl_rowcol_to_cell(r, index[p]) for p in col.parts if p in index)
                value = total(value_of(row, p) for p in col.parts)
                ws.write_formula(
                    r, col_at, f'=IF(COUNT({refs})=0,"",SUM({refs}))', num, "" if value is None else _number(value)
                )
        else:
            label, first, last, members = item
            ws.write_string(r, 0, label, st.subtotal_label)
            for c in range(1, fixed):
                ws.write_blank(r, c, None, st.subtotal_label)
            for i, col in enumerate(cols):
                letter = xl_col_to_name(fixed + i)
                parts = col.parts or (col.key,)
                value = total(value_of(m, p) for m in members for p in parts)
                rng = f"{letter}{first + 1}:{letter}{last + 1}"
                ws.write_formula(
                    r,
                    fixed + i,
                    f'=IF(COUNT({rng})=0,"",SUBTOTAL(9,{rng}))',
                    st.subtotal,
                    "" if value is None else _number(value),
                )
        r += 1
    ws.freeze_panes(HEADER_ROWS, 1)
    ws.autofilter(3, 0, max(r - 1, 3), last_col)
    ws.conditional_format(
        HEADER_ROWS,
        4,
        max(r - 1, HEADER_ROWS),
        4,
        {"type": "cell", "criteria": "==", "value": '"不通过"', "format": st.bad},
    )


def _column_sums(rows: list[MergeRow]) -> dict[str, dict[str, Value]]:
    """Return, per format version, each cell key's total over the rows (None where every value is blank)."""
    out: dict[str, dict[str, Value]] = {}
    for version in sorted({r.format for r in rows}):
        keys = load_format(version).cell_keys
        columns = zip(*(r.values for r in rows if r.format == version), strict=True)
        out[version] = {k: total(col) for k, col in zip(keys, columns, strict=True)}
    return out


def _slots(version: str, cols: list[Column]) -> list[tuple[int, int]]:
    """Return (sheet column, index in a row's values) for every plain column this version has."""
    keys = {k: i for i, k in enumerate(load_format(version).cell_keys)}
    fixed = len(FIXED_COLUMNS)
    return [(fixed + i, keys[c.key]) for i, c in enumerate(cols) if not c.parts and c.key in keys]


def _write_check_detail(
    wb: Workbook,
    styles: Any,
    st: _Styles,
    rows: list[MergeRow],
    refused: list[tuple[str, str]],
    findings: list[dict[str, Any]],
) -> None:
    from convert.workbook import _write_string

    ws = wb.add_worksheet(CHECK_DETAIL_SHEET, worksheet_class=_StreamingWorksheet)
    heads = ["机关", "年度", "格式", "来源文件", "结果", "错误数", "不符合的规则", "读取提示"]
    widths = [24, 7, 7, 26, 9, 7, 80, 40]
    for c, (h, w) in enumerate(zip(heads, widths, strict=True)):
        ws.set_column(c, c, w)
        _write_string(ws, 0, c, h, styles.header)
    r = 1
    for row in rows:
        _write_string(ws, r, 0, row.agency, st.text)
        if row.year is not None:
            ws.write_number(r, 1, row.year, st.text)
        _write_string(ws, r, 2, row.format, st.text)
        _write_string(ws, r, 3, row.source, st.text)
        _write_string(ws, r, 4, row.status, st.text)
        ws.write_number(r, 5, len(row.errors), st.text)
        _write_string(
            ws, r, 6, "；".join(f"[{code}] {render(code, fields)}" for code, fields, _ in row.errors[:10]), st.text
        )
        _write_string(ws, r, 7, "、".join(row.warnings), st.text)
        r += 1
    for path, error in refused:
        _write_string(ws, r, 3, path, st.text)
        _write_string(ws, r, 4, "拒绝", st.text)
        _write_string(ws, r, 6, error, st.text)
        r += 1
    for f in findings:
        _write_string(ws, r, 0, str(f.get("agency", "")), st.text)
        if f.get("year") is not None:
            ws.write_number(r, 1, f["year"], st.text)
        _write_string(ws, r, 3, str(f.get("source", "")), st.text)
        _write_string(ws, r, 4, "不通过", st.text)
        ws.write_number(r, 5, 1, st.text)
        _write_string(ws, r, 6, f"[{f['code']}] {f['key']}: {f['message']}", st.text)
        r += 1
    for value in ("不通过", "拒绝"):
        ws.conditional_format(
            1, 4, max(r - 1, 1), 4, {"type": "cell", "criteria": "==", "value": f'"{value}"', "format": st.bad}
        )
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, max(r - 1, 1), len(heads) - 1)


CHART_SERIES = (
    ("本年新收申请", ("requests.new_received.total",)),
    ("予以公开", ("requests.granted.total",)),
    ("部分公开", ("requests.partially_granted.total",)),
    ("不予公开", "denied_"),
    ("无法提供", "unable_"),
    ("不予处理", "rejected_"),
    ("其他处理", "other_"),
    ("行政复议", ("appeals.review.total",)),
    ("行政诉讼", ("appeals.suit_direct.total", "appeals.suit_after_review.total")),
)


def _chart_keys(row: MergeRow, spec: tuple[str, ...] | str) -> list[str]:
    if isinstance(spec, tuple):
        return list(spec)
    table = load_format(row.format).tables["requests"]
    return [f"requests.{r.key}.total" for r in table.rows if r.key.startswith(spec)]


def _write_charts(wb: Workbook, styles: Any, rows: list[MergeRow], year: int | None) -> None:
    from convert.workbook import _write_string

    ws = wb.add_worksheet(CHART_SHEET)
    shown = rows[:CHART_LIMIT]
    heads = ["机关"] + [name for name, _ in CHART_SERIES]
    for c, h in enumerate(heads):
        _write_string(ws, 0, c, h, styles.header)
    ws.set_column(0, 0, 22)
    for i, row in enumerate(shown, start=1):
        _write_string(ws, i, 0, row.agency, styles.label)
        for c, (_, spec) in enumerate(CHART_SERIES, start=1):
            value = total(value_of(row, k) for k in _chart_keys(row, spec))
            ws.write_number(i, c, _number(value) if value is not None else 0)
    n = len(shown)
    note = f"（{year}年{'，前' + str(CHART_LIMIT) + '个机关' if len(rows) > CHART_LIMIT else ''}）"
    cats = [CHART_SHEET, 1, 0, n, 0]

    def chart(kind: str, subtype: str | None, title: str, cols: list[int], anchor: str) -> None:
        ch = wb.add_chart({"type": kind, **({"subtype": subtype} if subtype else {})})
        for c in cols:
            ch.add_series({"name": [CHART_SHEET, 0, c], "categories": cats, "values": [CHART_SHEET, 1, c, n, c]})
        ch.set_title({"name": title + note, "name_font": {"name": "SimSun", "size": 12}})
        ch.set_size({"width": 760, "height": max(320, 18 * n + 120)})
        ch.set_legend({"position": "bottom"})
        ws.insert_chart(anchor, ch)

    chart("bar", None, "各机关本年新收政府信息公开申请数量", [1], "L2")
    chart("bar", "stacked", "各机关申请办理结果", [2, 3, 4, 5, 6, 7], "L30")
    chart("column", None, "各机关行政复议、行政诉讼", [8, 9], "L58")
