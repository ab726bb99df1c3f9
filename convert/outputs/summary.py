"""Write the summary workbook: standard total sheets over detail sheets, per-report checks, charts.

Its fixed texts and look come from the [summary] table of workbook_templates/layout.toml.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import Any

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from convert.formats import Table, also_counted, crosswalks, known_versions, load_format
from convert.merge_model import MergeRow, total, value_of
from convert.outputs.layout import CUSTOM_KIND, SUMMARY, row_height
from convert.outputs.printing import (
    DEFAULT_ROW_PT,
    column_chunks,
    fit_scale,
    keep_blocks,
    print_chunks,
    printable,
)
from convert.outputs.standard import Meta, Styles, build_workbook, page_setup, result_words
from convert.outputs.template import Summary, load_template, resolve_styles
from convert.outputs.xlsxfast import FastWorkbook, number_writer, write_atomically, write_string
from convert.record import Value, Warning_

HEADER_ROWS = 4  # title, row labels, column labels, keys


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


def _columns(table: Table, versions: list[str], mixed: bool, texts: Summary) -> list[Column]:
    """Union of the table's keys over the versions merged, in printed order, plus cross-version sums."""
    seen: dict[str, Column] = {}
    order: list[str] = []
    for v in versions:
        t = load_format(v).tables[table.key]
        prev: str | None = None
        for row in t.rows:
            for c in row.columns:
                key = f"{t.key}.{row.key}.{c}"
                if key not in seen:
                    seen[key] = Column(key, row.label, t.column(c).label)
                    # Keep a later version's extra rows next to their neighbours.
                    order.insert(order.index(prev) + 1 if prev is not None and prev in order else len(order), key)
                prev = key
    cols = [seen[k] for k in order]
    for cw in (x for x in crosswalks() if mixed and x.table == table.key):
        for col in table.columns:
            parts = tuple(f"{cw.table}.{r}.{col.key}" for r in cw.total_rows)
            cols.append(Column(f"{cw.table}.{cw.total_key}.{col.key}", cw.total_label, col.label, parts))
    return cols


@dataclass
class Extras:
    """What a merge found besides the rows: the title, the order, duplicates, and previous years."""

    title: str | None = None
    order: str = "pinyin"
    manifest: str | None = None
    same: int = 0
    conflicts: int = 0
    dropped: int = 0
    carry_over: int = 0
    # By a row's position in the rows: its agency's previous year among the rows.
    previous: dict[int, MergeRow] = field(default_factory=dict)


def write_summary(
    out: Path,
    rows: list[MergeRow],
    refused: list[tuple[str, str]],
    total_year: int | None,
    total_version: str,
    extras: Extras | None = None,
    *,
    force: bool,
) -> Path:
    """Write the summary workbook atomically."""
    extras = extras or Extras()
    texts = load_template().summary
    fmt = load_format(total_version)
    versions = sorted({r.format for r in rows})
    mixed = len(versions) > 1
    years = sorted({r.year for r in rows if r.year is not None})
    in_total = [r for r in rows if r.year == total_year]

    def build(wb: FastWorkbook) -> None:
        styles = Styles(wb)
        extra = _Styles(wb)
        details: dict[str, Detail] = {}
        # Detail sheets come after the standard ones; formulas may name them before they exist.
        sheets_to_write: list[tuple[str, str, list[Column], list[MergeRow]]] = []
        for v in versions:
            vrows = [r for r in rows if r.format == v]
            table = load_format(v).tables["proactive"]
            label = texts.proactive_version_sheet.format(version=v) if mixed else texts.proactive_sheet
            sheets_to_write.append((f"proactive:{v}", texts.prefix + label, _columns(table, [v], False, texts), vrows))
        for key, label in (("requests", texts.requests_sheet), ("appeals", texts.appeals_sheet)):
            table = load_format(versions[-1]).tables[key]
            sheets_to_write.append((key, texts.prefix + label, _columns(table, versions, mixed, texts), rows))
        # Lay out rows first (cheap), so the total sheets know the ranges they sum.
        plans = {
            tag: _plan(trows, len(years) > 1, any(r.group for r in rows), texts) for tag, _, _, trows in sheets_to_write
        }
        fixed = len(texts.detail.columns)
        for tag, name, cols, _ in sheets_to_write:
            block = plans[tag].blocks.get(total_year)
            if block is not None:
                at = {c.key: fixed + i for i, c in enumerate(cols)}
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
            extras.title or texts.title.format(year=total_year or "", count=len(in_total)),
            texts.agency.format(count=len({r.agency for r in in_total})),
            total_year,
            texts.source.format(count=n_reports),
            None,
            None,
        )
        notes = _summary_notes(rows, years, versions, total_year, total_version, refused, extras, texts)
        text = {
            "preface": [],
            "overview": notes,
            "problems": [],
            "other": [],
        }
        warnings = [Warning_("refused", {"path": path, "error": error}, "input") for path, error in refused]
        build_workbook(wb, meta, content, content, text, {}, [], warnings)
        for tag, name, cols, _ in sheets_to_write:
            ws = wb.add_streaming_worksheet(name[:31])
            _write_detail(ws, styles, extra, name, cols, plans[tag], texts, meta)
        _write_check_detail(wb, styles, extra, rows, refused, texts, meta)
        if any(rows[i].year == total_year for i in extras.previous):
            requests = next(name for tag, name, _, _ in sheets_to_write if tag == "requests")
            cols = next(cols for tag, _, cols, _ in sheets_to_write if tag == "requests")
            _write_compare(
                wb, styles, extra, rows, extras.previous, total_year, requests, cols, plans["requests"], texts, meta
            )
        _write_charts(wb, styles, in_total or rows, total_year, texts, meta)
        wb.set_custom_property(CUSTOM_KIND, SUMMARY)
        wb.set_custom_property("nianbao_reports", n_reports)

    return write_atomically(out, build, force=force, in_memory=False)


def _summary_notes(
    rows: list[MergeRow],
    years: list[int],
    versions: list[str],
    total_year: int | None,
    total_version: str,
    refused: list[tuple[str, str]],
    extras: Extras,
    texts: Summary,
) -> list[str]:
    words = texts.notes
    sep = words.separator
    in_total = sum(1 for r in rows if r.year == total_year)
    notes = [
        words.merged.format(
            count=len(rows), years=sep.join(map(str, years)) or words.unknown_years, versions=sep.join(versions)
        ),
        words.totals.format(year=total_year, count=in_total, prefix=texts.prefix),
        words.order_manifest.format(manifest=extras.manifest) if extras.manifest else words.order_pinyin,
    ]
    if len(years) > 1:
        notes.append(words.by_year)
    if len(versions) > 1:
        notes.append(
            words.mixed.format(version=total_version)
            + "".join(words.crosswalk.format(note=cw.note, label=cw.total_label) for cw in crosswalks())
        )
    sheet = texts.check_sheet_name
    if refused:
        warnings_heading = load_template().standard.cover.warnings.heading
        notes.append(words.refused.format(count=len(refused), warnings=warnings_heading, check_sheet=sheet))
    for count, template in (
        (extras.same, words.same_report),
        (extras.conflicts, words.conflicts),
        (extras.dropped, words.dropped),
        (extras.carry_over, words.carry_over),
    ):
        if count:
            notes.append(template.format(count=count, check_sheet=sheet))
    return notes


@dataclass
class _Plan:
    """The rows of a detail sheet in order: data rows and subtotal rows, each year's block, each row's place."""

    items: list[tuple[str, Any]]
    blocks: dict[int | None, tuple[int, int]]
    # The blocks a page break should not split (each group's rows and subtotal, else each year's): first, last.
    keep: list[tuple[int, int]] = field(default_factory=list)
    at: dict[int, int] = field(default_factory=dict)  # id(row) -> its sheet row


def _plan(rows: list[MergeRow], by_year: bool, by_group: bool, texts: Summary) -> _Plan:
    detail = texts.detail
    plan = _Plan([], {})
    items = plan.items
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
                    plan.at[id(row)] = r
                    r += 1
                label = detail.group_subtotal.format(group=detail.group_separator.join(group))
                items.append(("subtotal", (label, g_start, r - 1, grows)))
                plan.keep.append((g_start, r))
                r += 1
        else:
            for row in yrows:
                items.append(("row", row))
                plan.at[id(row)] = r
                r += 1
        plan.blocks[year] = (start, r - 1)
        if by_year:
            items.append(("subtotal", (detail.year_subtotal.format(year=year), start, r - 1, yrows)))
            r += 1
        if not by_group and by_year:
            plan.keep.append((start, r - 1))
    return plan


class _Styles:
    """Formats of the detail sheets (the standard ones come from convert.outputs.standard.Styles)."""

    def __init__(self, wb: Workbook) -> None:
        props = resolve_styles(load_template().summary.styles)
        self.num = wb.add_format(props["num"])
        self.text = wb.add_format(props["text"])
        self.wrap = wb.add_format(props["wrap"])
        self.title = wb.add_format(props["title"])
        self.subtotal = wb.add_format(props["subtotal"])
        self.subtotal_label = wb.add_format(props["subtotal_label"])
        self.key = wb.add_format(props["key"])
        self.bad = wb.add_format(props["bad"])
        self.review = wb.add_format(props["review"])


def _status(row: MergeRow) -> str:
    """Return the row's verdict in the workbook's words: 通过, 不通过 or 待核."""
    ok, bad, review = result_words()
    return {"pass": ok, "fail": bad}.get(row.state, review)


def _set_widths(ws: Worksheet, widths: list[float]) -> None:
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)


def _print_blocks(
    ws: Worksheet,
    widths: list[float],
    landscape: bool,
    pages: int,
    head_pt: float,
    blocks: list[tuple[int, float]],
) -> None:
    """Break pages before blocks (first row, height) that would be split and fit on a page of their own."""
    if len(blocks) < 2:
        return
    # Excel's scale when fitting these columns; LibreOffice without Excel's font may print smaller, and so
    # fits more rows on a page: a break placed here still splits no block.
    scale = fit_scale(widths, landscape, pages)
    capacity = printable(landscape).height_pt / scale - head_pt
    breaks = keep_blocks(blocks, capacity)
    if breaks:
        ws.set_h_pagebreaks(breaks[:1023])


def _write_detail(
    ws: Worksheet,
    styles: Styles,
    st: _Styles,
    name: str,
    cols: list[Column],
    plan: _Plan,
    texts: Summary,
    meta: Meta,
) -> None:
    detail = texts.detail
    fixed_cols = detail.columns
    fixed = len(fixed_cols)
    at = {c.key: i for i, c in enumerate(fixed_cols)}
    last_col = fixed + len(cols) - 1
    _, fail, review = result_words()
    # A streaming sheet (flat memory): every row is written whole and in order, so no merge spans rows.
    write_string(ws, 0, 0, detail.title.format(sheet=name.removeprefix(texts.prefix)), st.title)
    ws.set_row(1, detail.label_height)
    for c, column in enumerate(fixed_cols):
        write_string(ws, 1, c, column.header, styles.header)
    # Row labels merged over their columns, column labels below, keys for machines in the fourth row.
    c = fixed
    for label, run in groupby(cols, key=lambda col: col.row_label):
        n = len(list(run))
        if n > 1:
            ws.merge_range(1, c, 1, c + n - 1, "", styles.header)
        write_string(ws, 1, c, label, styles.header)
        c += n
    # The column labels wrap in their narrow columns: the row is as tall as the longest label needs.
    label_height = max(
        [detail.column_label_height]
        + [row_height(col.col_label, detail.column_width, detail.label_line_height, 0) for col in cols]
    )
    ws.set_row(2, label_height)
    for c in range(fixed):
        ws.write_blank(2, c, None, styles.header)
    for i, col in enumerate(cols):
        write_string(ws, 2, fixed + i, col.col_label, styles.header)
    for c, column in enumerate(fixed_cols):
        write_string(ws, 3, c, column.key, st.key)
    for i, col in enumerate(cols):
        write_string(ws, 3, fixed + i, col.key, st.key)
    widths = [c.width for c in fixed_cols] + [detail.column_width] * len(cols)
    _set_widths(ws, [c.width for c in fixed_cols])
    ws.set_column(fixed, last_col, detail.column_width)
    index = {col.key: fixed + i for i, col in enumerate(cols)}
    # Where each plain column's value sits in a row's values tuple, per format version: computed once.
    slots = {v: _slots(v, cols, fixed) for v in known_versions()}
    derived = [(fixed + i, col) for i, col in enumerate(cols) if col.parts]
    write_number = number_writer(ws)
    num = st.num
    r = HEADER_ROWS
    for kind, item in plan.items:
        if kind == "row":
            row: MergeRow = item
            # The fixed columns in their order: a streaming sheet takes each row's cells left to right.
            for column in fixed_cols:
                c = at[column.key]
                if column.key == "year":
                    if row.year is not None:
                        ws.write_number(r, c, row.year, st.text)
                else:
                    text = _status(row) if column.key == "status" else getattr(row, column.key)
                    ws.write_string(r, c, text, st.text)
            values = row.values
            for col_at, slot in slots[row.format]:
                v = values[slot]
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
    status = at["status"]
    for word, look in ((fail, st.bad), (review, st.review)):
        ws.conditional_format(
            HEADER_ROWS,
            status,
            max(r - 1, HEADER_ROWS),
            status,
            {"type": "cell", "criteria": "==", "value": f'"{word}"', "format": look},
        )
    # Print: landscape, in chunks of whole row labels that print at about the scale, the agency and the
    # labels on every page; a year's or group's block kept on one page where it fits.
    look = texts.print
    landscape = look.detail == "landscape"
    cuts = [fixed]
    for _, starts in groupby(range(len(cols)), key=lambda i: cols[i].row_label):
        cuts.append(fixed + next(starts))
    chunks = column_chunks(widths, cuts, landscape, look.detail_scale, repeat=fixed_cols[0].width)
    last_row = max(r - 1, HEADER_ROWS)
    head_pt = detail.label_height + label_height + DEFAULT_ROW_PT
    rows_pt = DEFAULT_ROW_PT * (last_row + 1 - HEADER_ROWS) + head_pt + detail.label_height
    widest = max(sum(widths[a : b + 1]) + (fixed_cols[0].width if a else 0) for a, b in chunks)
    scale = fit_scale([widest], landscape)
    # All on one page tall when it fits there at about the scale: fewer pages than fitting the width alone.
    one_page = rows_pt * min(scale, look.detail_scale / 100) <= printable(landscape).height_pt
    page_setup(ws, meta, landscape=landscape, pages_wide=1, pages_tall=1 if one_page else 0)
    ws.repeat_rows(1, HEADER_ROWS - 1)
    ws.repeat_columns(0, 0)
    if len(chunks) > 1:
        print_chunks(ws, last_row, chunks)
    else:
        ws.print_area(0, 0, last_row, last_col)
    if not one_page:
        _print_blocks(ws, [widest], landscape, 1, head_pt, [(a, (b - a + 1) * DEFAULT_ROW_PT) for a, b in plan.keep])


def _column_sums(rows: list[MergeRow]) -> dict[str, dict[str, Value]]:
    """Return, per format version, each cell key's total over the rows (None where every value is blank)."""
    out: dict[str, dict[str, Value]] = {}
    for version in sorted({r.format for r in rows}):
        keys = load_format(version).cell_keys
        columns = zip(*(r.values for r in rows if r.format == version), strict=True)
        out[version] = {k: total(col) for k, col in zip(keys, columns, strict=True)}
    return out


def _slots(version: str, cols: list[Column], fixed: int) -> list[tuple[int, int]]:
    """Return (sheet column, index in a row's values) for every plain column this version has."""
    keys = {k: i for i, k in enumerate(load_format(version).cell_keys)}
    return [(fixed + i, keys[c.key]) for i, c in enumerate(cols) if not c.parts and c.key in keys]


def _write_check_detail(
    wb: FastWorkbook,
    styles: Styles,
    st: _Styles,
    rows: list[MergeRow],
    refused: list[tuple[str, str]],
    texts: Summary,
    meta: Meta,
) -> None:
    """One row per problem of each report (its columns repeated), one for a report without any, one per refused input."""
    checks = texts.checks
    _, fail, review = result_words()
    kinds = {"error": checks.kinds.error, "review": checks.kinds.review, "note": checks.kinds.note}
    col = {c.key: i for i, c in enumerate(checks.columns)}
    widths = {c.key: c.width for c in checks.columns}
    wrapped = ("source", "where", "message")
    ws = wb.add_streaming_worksheet(texts.check_sheet_name)
    for c, column in enumerate(checks.columns):
        ws.set_column(c, c, column.width)
        write_string(ws, 0, c, column.header, styles.header)
    r = 1
    blocks: list[tuple[int, float]] = []

    def put(cells: dict[str, Any]) -> float:
        nonlocal r
        # A long position or problem wraps in its column; the row is as tall as the longest needs.
        height = max(
            row_height(str(cells.get(k) or ""), widths[k], checks.line_height, checks.min_height) for k in wrapped
        )
        ws.set_row(r, height)
        _write_check_row(ws, r, col, cells, st)
        r += 1
        return height

    for row in rows:
        first, height = r, 0.0
        report = {
            "agency": row.agency,
            "year": row.year,
            "format": row.format,
            "source": row.source,
            "status": _status(row),
        }
        shown = row.problems[: checks.max_problems]
        for problem in shown:
            cells = {
                **report,
                "kind": kinds.get(problem.kind, problem.kind),
                "where": problem.where,
                "message": problem.message,
                "actual": problem.actual,
                "expected": problem.expected,
                "code": problem.code,
            }
            height += put(cells)
        if len(row.problems) > len(shown):
            more = checks.more.format(count=len(row.problems) - len(shown))
            height += put({**report, "kind": kinds["note"], "message": more})
        if not shown:
            height += put(report)
        blocks.append((first, height))
    from convert.notice import REFUSED

    for path, error in refused:
        cells = {"source": path, "status": texts.refused, "kind": kinds["error"], "message": error, "code": REFUSED}
        blocks.append((r, put(cells)))
    status = col["status"]
    looks = ((fail, st.bad), (texts.refused, st.bad), (review, st.review))
    for value, look in looks:
        ws.conditional_format(
            1,
            status,
            max(r - 1, 1),
            status,
            {"type": "cell", "criteria": "==", "value": f'"{value}"', "format": look},
        )
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, max(r - 1, 1), len(checks.columns) - 1)
    landscape = texts.print.checks == "landscape"
    page_setup(ws, meta, landscape=landscape)
    ws.repeat_rows(0)
    # A report's rows stay on one page where they fit on one.
    _print_blocks(ws, list(widths.values()), landscape, 1, DEFAULT_ROW_PT, blocks)


def _write_check_row(ws: Worksheet, r: int, col: dict[str, int], cells: dict[str, Any], st: _Styles) -> None:
    """Write one row of the checks sheet in column order; numbers as numbers, None left blank."""
    for key, value in sorted(cells.items(), key=lambda kv: col[kv[0]]):
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            write_string(ws, r, col[key], str(value), st.wrap)
        elif isinstance(value, int | float | Decimal):
            ws.write_number(r, col[key], float(value) if isinstance(value, Decimal) else value, st.text)
        else:
            write_string(ws, r, col[key], str(value), st.wrap)


def _write_compare(
    wb: FastWorkbook,
    styles: Styles,
    st: _Styles,
    rows: list[MergeRow],
    previous: dict[int, MergeRow],
    year: int | None,
    detail_sheet: str,
    cols: list[Column],
    plan: _Plan,
    texts: Summary,
    meta: Meta,
) -> None:
    """Each agency of the total year beside its previous year: 本年新收 then and now, the change, the carry-over."""
    look = texts.compare
    ok, fail, _ = result_words()
    col = {c.key: i for i, c in enumerate(look.columns)}
    ws = wb.add_worksheet(texts.compare_sheet_name[:31])
    write_string(ws, 0, 0, look.title.format(year=year, previous=(year or 1) - 1), styles.title)
    for c, column in enumerate(look.columns):
        ws.set_column(c, c, column.width)
        write_string(ws, 1, c, column.header, styles.header)
    fixed = len(texts.detail.columns)
    at = next((fixed + i for i, c in enumerate(cols) if c.key == look.key), None)
    r = 2
    for i, row in enumerate(rows):
        if row.year != year:
            continue
        before = previous.get(i)
        write_string(ws, r, col["agency"], row.agency, styles.label)
        for key, member in (("previous", before), ("current", row)):
            value = value_of(member, look.key) if member is not None else None
            if member is None or at is None:
                ws.write_blank(r, col[key], None, styles.number)
                continue
            # Live: the detail sheet's cell, so a corrected detail row shows here too.
            ref = f"'{detail_sheet}'!{xl_rowcol_to_cell(plan.at[id(member)], at, row_abs=True, col_abs=True)}"
            ws.write_formula(
                r, col[key], f'=IF(ISNUMBER({ref}),{ref},"")', styles.number, "" if value is None else _number(value)
            )
        b, c = (xl_rowcol_to_cell(r, col[k]) for k in ("previous", "current"))
        now, then = value_of(row, look.key), value_of(before, look.key) if before is not None else None
        change = now - then if now is not None and then is not None else None
        ws.write_formula(
            r,
            col["change"],
            f'=IF(AND(ISNUMBER({b}),ISNUMBER({c})),{c}-{b},"")',
            styles.number,
            "" if change is None else _number(change),
        )
        breaks = [p for p in row.problems if p.code.startswith("carry-over")]
        carry = look.no_previous if before is None else (fail if breaks else ok)
        write_string(ws, r, col["carry"], carry, styles.result)
        detail = texts.checks.cell_separator.join(look.problem.format(where=p.where, message=p.message) for p in breaks)
        write_string(ws, r, col["detail"], detail, styles.label)
        width = look.columns[col["detail"]].width
        ws.set_row(r, row_height(detail, width, texts.checks.line_height, texts.checks.min_height))
        r += 1
    rng = f"{xl_rowcol_to_cell(2, col['carry'])}:{xl_rowcol_to_cell(max(r - 1, 2), col['carry'])}"
    ws.conditional_format(rng, {"type": "cell", "criteria": "==", "value": f'"{fail}"', "format": st.bad})
    ws.freeze_panes(2, 1)
    page_setup(ws, meta, landscape=texts.print.compare == "landscape")
    ws.repeat_rows(1)


def _chart_keys(row: MergeRow, keys: tuple[str, ...], rows: str) -> list[str]:
    if keys:
        return list(keys)
    table = load_format(row.format).tables["requests"]
    matching = [r for r in table.rows if r.key.startswith(rows)]
    # A total among them (（六）其他处理·合计 of 2021) stands for its parts: counted once, even when printed alone.
    parts = {p for r in matching for p in r.sums}
    return [f"requests.{r.key}.total" for r in matching if r.key not in parts]


def _write_charts(
    wb: FastWorkbook, styles: Styles, rows: list[MergeRow], year: int | None, texts: Summary, meta: Meta
) -> None:
    """The chart data per agency first, then each chart on a page of its own below it."""
    look = texts.chart
    sheet = texts.chart_sheet_name
    ws = wb.add_worksheet(sheet)
    shown = rows[: look.limit]
    heads = [look.agency_header] + [s.name for s in look.series]
    for c, h in enumerate(heads):
        write_string(ws, 0, c, h, styles.header)
    ws.set_column(0, 0, look.agency_width)
    for i, row in enumerate(shown, start=1):
        write_string(ws, i, 0, row.agency, styles.label)
        for c, series in enumerate(look.series, start=1):
            value = total(value_of(row, k) for k in _chart_keys(row, series.keys, series.rows))
            ws.write_number(i, c, _number(value) if value is not None else 0)
    n = len(shown)
    limited = look.limited.format(limit=look.limit) if len(rows) > look.limit else ""
    note = look.title_note.format(year=year, limited=limited)
    cats = [sheet, 1, 0, n, 0]
    column_of = {s.id: c for c, s in enumerate(look.series, start=1)}
    height = min(look.max_height, max(look.min_height, look.agency_height * n + look.height_margin))
    # Rows of the default height a chart covers (20 pixels each), and a page break before each chart.
    span = math.ceil(height / (DEFAULT_ROW_PT * 4 / 3)) + 1
    at, breaks = n + 2, []
    for spec in look.charts:
        ch = wb.add_chart({"type": spec.type, **({"subtype": spec.subtype} if spec.subtype else {})})
        for series_id in spec.series:
            c = column_of[series_id]
            ch.add_series({"name": [sheet, 0, c], "categories": cats, "values": [sheet, 1, c, n, c]})
        ch.set_title({"name": spec.title + note, "name_font": {"name": look.title_font, "size": look.title_size}})
        ch.set_size({"width": look.width, "height": height})
        ch.set_legend({"position": look.legend})
        # Every agency named on the axis, small enough to fit.
        # Every agency named on the category axis (interval 1; a value axis ignores it), small enough to fit.
        axis = {"num_font": {"size": look.axis_size}, "interval_unit": 1}
        ch.set_x_axis(axis)
        ch.set_y_axis(axis)
        breaks.append(at)
        ws.insert_chart(at, 0, ch, {"object_position": 1})
        at += span
    ws.set_h_pagebreaks(breaks)
    page_setup(ws, meta, landscape=texts.print.chart == "landscape")


__all__ = ["write_summary"]
