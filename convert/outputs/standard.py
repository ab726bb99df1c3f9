"""Write a record as the standard .xlsx workbook: official layout, live totals, checks, names, protection.

Where things go comes from convert.outputs.layout, their look and fixed texts from
workbook_templates/layout.toml (convert.outputs.template).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from convert import __version__
from convert.checks.positions import describe
from convert.checks.verdict import FAIL, PASS, REVIEW, doubtful, state_label
from convert.formats import Format, Section, load_format
from convert.outputs.layout import (
    CUSTOM_KIND,
    CUSTOM_REVISION,
    SUMMARY,
    Box,
    SheetLayout,
    computed_keys,
    defined_name,
    heading_name,
    reported_name,
    row_height,
    section_title,
    sheet_layouts,
    sum_values,
)
from convert.outputs.printing import setup_page
from convert.outputs.template import CheckSheet, load_template, resolve_styles
from convert.outputs.xlsxfast import cell_chunks, check_target, write_atomically, write_string
from convert.record import Record, Value, dumps

# A cell's content: a constant (blank for None) or a live formula with its cached result.
CellContent = Value | tuple[str, Value]
ContentFn = Callable[[str], CellContent]


# ---------------------------------------------------------------------------------------------
# Values


def money_decimals(value: Decimal) -> int:
    """Return how many decimals a money value was printed with (at least 0)."""
    exp = value.as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def money_format(decimals: int) -> str:
    """Return the number format that shows a money value with its printed decimals."""
    return "0." + "0" * decimals if decimals else "0"


def result_words() -> tuple[str, str, str]:
    """Return the words of a check's results, passed, failed and to review: the verdict's, in the current language."""
    return state_label(PASS), state_label(FAIL), state_label(REVIEW)


def cached(content: CellContent) -> Value:
    """Return the value of a cell's content (the cached result for a formula)."""
    return content[1] if isinstance(content, tuple) else content


# ---------------------------------------------------------------------------------------------
# Styles


class Styles:
    """The formats of the workbook (from layout.toml), created once per workbook."""

    def __init__(self, wb: Workbook) -> None:
        """Create every format on the workbook."""
        self.wb = wb
        props = resolve_styles(load_template().standard.styles)
        self._props = props
        # base and cell are only extended; the order is the order the formats were always made in.
        self.title = wb.add_format(props["title"])
        self.heading = wb.add_format(props["heading"])
        self.subheading = wb.add_format(props["subheading"])
        self.header = wb.add_format(props["header"])
        self.corner = wb.add_format(props["corner"])
        self.group = wb.add_format(props["group"])
        self.label = wb.add_format(props["label"])
        self.note = wb.add_format(props["note"])
        self.filler = wb.add_format(props["filler"])
        self.count = wb.add_format(props["count"])
        self.formula = wb.add_format(props["formula"])
        self.reported = wb.add_format(props["reported"])
        self.mismatch = wb.add_format(props["mismatch"])
        self.ok = wb.add_format(props["ok"])
        self.paragraph = wb.add_format(props["paragraph"])
        self.key = wb.add_format(props["key"])
        self.text_cell = wb.add_format(props["text_cell"])
        self.value = wb.add_format(props["value"])
        self.result = wb.add_format(props["result"])
        self.number = wb.add_format(props["number"])
        self.verdict = wb.add_format(props["verdict"])
        self.review = wb.add_format(props["review"])
        self.link = wb.add_format(props["link"])
        self._money: dict[tuple[int, bool], Any] = {}

    def money(self, decimals: int, formula: bool = False) -> Any:
        """Return the input (or formula) format for money with this many decimals."""
        key = (decimals, formula)
        if key not in self._money:
            extra = self._props["money_formula" if formula else "money_input"]
            props = {**self._props["money"], "num_format": money_format(decimals), **extra}
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
    check_target(path, force)
    source = record.source or {}
    # A record read back from a workbook names its origin report; keep pointing at the report.
    named = source.get("origin")
    origin = named if source.get("kind") == "workbook" and isinstance(named, dict) else source
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
        if source.get(SUMMARY):
            # The totals of a summary stay a summary's: never merged or stored as one report.
            wb.set_custom_property(CUSTOM_KIND, SUMMARY)
        if source.get("layout") == "scan":
            mark_scanned(wb, fmt, source)

    return write_atomically(path, build, force=force)


def mark_scanned(wb: Workbook, fmt: Format, source: dict[str, Any]) -> None:
    """Show an auditor which numbers came from a picture: a comment on each (its page and the OCR's confidence),
    and one on the cover's source saying so. A printed total's comment is on the printed (yellow) cell."""
    from convert.checks.catalogue import text

    std = load_template().standard
    values = source.get("values") or {}
    for section_key, lay in sheet_layouts(fmt).items():
        ws = wb.get_worksheet_by_name(fmt.section(section_key).sheet[:31])
        for key, origin in values.items():
            at = lay.reported.get(key) or lay.cells.get(key)
            if ws is None or at is None or not isinstance(origin, dict):
                continue
            note = text("ocr-cell-comment", page=origin.get("page"), confidence=origin.get("confidence"))
            ws.write_comment(*at, note, {"author": "nianbao", "x_scale": 1.6})
    # On the cover's verdict (seen first) and on the source path (on whichever sheet the layout puts it).
    rows = field_rows(std.cover)
    sheets = {"cover": std.cover_sheet, "provenance": std.provenance_sheet}
    for name in ("meta_verdict", "meta_source_path"):
        place, row = rows[name]
        ws = wb.get_worksheet_by_name(sheets[place])
        if ws is not None:
            ws.write_comment(row, 1, text("ocr-cover-comment", count=len(values)), {"x_scale": 3, "y_scale": 2})


def field_rows(cover: Any) -> dict[str, tuple[str, int]]:
    """Where each cover field goes: its place (the cover, or the provenance sheet) and its row there."""
    rows: dict[str, tuple[str, int]] = {}
    next_row = {"cover": 2, "provenance": 0}  # the cover's title and a gap come first
    for item in cover.fields:
        rows[item.name] = (item.place, next_row[item.place])
        next_row[item.place] += 1
    return rows


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


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
    std = load_template().standard
    styles = Styles(wb)
    layouts = sheet_layouts(fmt)
    cover = wb.add_worksheet(std.cover_sheet)
    values: dict[str, Value] = {}
    refs: dict[str, str] = {}
    reported_refs: dict[str, str] = {}
    reported_values: dict[str, Value] = {}
    for section in fmt.sections:
        ws = wb.add_worksheet(section.sheet[:31])
        landscape = layouts[section.key].landscape if section.key in layouts else std.print.text == "landscape"
        page_setup(ws, meta, landscape=landscape)
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
    check = wb.add_worksheet(std.check_sheet)
    page_setup(check, meta, landscape=std.print.check == "landscape")
    counts = _write_check_sheet(check, styles, fmt, values, refs, reported_values, reported_refs)
    warnings = list(warnings)
    counts["meta_doubts"] = sum(doubtful(w.code) for w in warnings)
    counts["meta_blank_tables"], blank_formula = _blank_tables(fmt, values, refs)
    _write_cover(wb, cover, styles, meta, counts, blank_formula, notes, extra, warnings, layouts)
    wb.set_properties(
        {
            "title": meta.title or std.default_title,
            "subject": fmt.name,
            "author": meta.agency or "",
            "company": meta.agency or "",
            "comments": std.properties.comments.format(version=__version__, format=fmt.version),
            "keywords": std.properties.keywords,
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


def page_setup(
    ws: Worksheet, meta: Meta, *, landscape: bool, pages_wide: int | None = None, pages_tall: int | None = None
) -> None:
    """Set up a sheet's printing: A4, fit to the width (or pages_wide pages), the agency and year in the header."""
    setup = load_template().standard.print
    # & starts a code in a header: an agency's own & is doubled; the header has room for 255 characters.
    agency = (meta.agency or "").replace("&", "&&")[:80]
    year = setup.year.format(year=meta.year) if meta.year is not None else ""
    setup_page(
        ws,
        landscape=landscape,
        header=setup.header.format(agency=agency, year=year),
        footer=setup.footer.format(agency=agency, year=year),
        pages_wide=pages_wide,
        pages_tall=pages_tall,
    )


def _write_box(ws: Worksheet, styles: Styles, box: Box) -> None:
    style = styles.box(box.style)
    if box.row == box.last_row and box.col == box.last_col:
        write_string(ws, box.row, box.col, box.text, style)
    else:
        # merge_range writes through write(); write the text ourselves so it stays a string.
        ws.merge_range(box.row, box.col, box.last_row, box.last_col, "", style)
        write_string(ws, box.row, box.col, box.text, style)


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
    validation = load_template().standard.validation
    for kind, cells in validated.items():
        r0, c0 = cells[0]
        refs = " ".join(xl_rowcol_to_cell(r, c) for r, c in cells)
        ws.data_validation(r0, c0, r0, c0, {**getattr(validation, kind).options(), "multi_range": refs})
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
    look = load_template().standard.text
    width = look.width
    ws.set_column(0, 0, width, styles.paragraph)
    ws.set_column(1, 1, load_template().standard.print.spare_column)
    row = 0
    for key in keys:
        paragraphs = list(text.get(key, []))
        if key == "preface" and not paragraphs:
            continue
        heading = look.preface_heading if key == "preface" else section_title(section)
        write_string(ws, row, 0, heading, styles.heading)
        ws.set_row(row, look.heading_height)
        wb.define_name(heading_name(key), f"={_quote(ws.name)}!{_abs(row, 0)}")
        row += 1
        for para in paragraphs:
            # A paragraph longer than a cell holds goes on in the rows below, each marked; read-back joins them.
            for i, chunk in enumerate(cell_chunks(para)):
                write_string(ws, row, 0, chunk, styles.paragraph)
                if i:
                    write_string(ws, row, 1, look.continued, styles.paragraph)
                ws.set_row(row, row_height(chunk, width, look.line_height, look.min_height))
                row += 1
    # The spare column inside the print area: LibreOffice fits a sheet to the width only over columns.
    ws.print_area(0, 0, max(row - 1, 0), 1)
    ws.protect("", {"format_columns": True, "format_rows": True, "insert_rows": True, "delete_rows": True})


def _write_check_sheet(
    ws: Worksheet,
    styles: Styles,
    fmt: Format,
    values: dict[str, Value],
    refs: dict[str, str],
    reported_values: dict[str, Value],
    reported_refs: dict[str, str],
) -> dict[str, int]:
    """Write one row per rule equation and per reported total; return how many fail and cannot be computed now."""
    check = load_template().standard.check
    col = {c.key: i for i, c in enumerate(check.columns)}
    for c, column in enumerate(check.columns):
        ws.set_column(c, c, column.width)
        write_string(ws, 0, c, column.header, styles.header)
    counts = {"meta_check_failures": 0, "meta_check_unchecked": 0}
    ok, bad, blank = result_words()
    tally = {bad: "meta_check_failures", blank: "meta_check_unchecked"}
    row = 1

    # The rules read what the report printed: a computed cell's reported total, like the record.
    def val(key: str) -> Value:
        return reported_values[key] if key in reported_refs else values.get(key)

    def show(value: Value) -> str:
        return check.blank if value is None else (format(value, "f") if isinstance(value, Decimal) else str(value))

    def where(position: str, key: str) -> str:
        # The position in the table's words, linking to its first cell.
        ref = reported_refs.get(key) or refs.get(key)
        words = describe(position, fmt)
        if ref is None:
            write_string(ws, row, col["where"], words, styles.key)
        else:
            ws.write_url(row, col["where"], f"internal:{ref}", styles.link, string=words)
        return words

    widths = {c.key: c.width for c in check.columns}
    # A smaller font puts more characters on a line, and needs less height for it.
    props = resolve_styles(load_template().standard.styles)
    base = props["base"]["font_size"]
    ratio = {"title": 1.0, "where": props["link"]["font_size"] / base, "cells": props["key"]["font_size"] / base}

    def wrap(title: str, words: str, cells: str) -> None:
        # A long text wraps in its column: the row is as tall as its longest one needs, so lines never overlap.
        texts = ((title, "title"), (words, "where"), (cells, "cells"))
        ws.set_row(
            row,
            max(row_height(t, widths[k] / ratio[k], check.line_height * ratio[k], check.min_height) for t, k in texts),
        )

    equations, reported = _check_rows(
        check, (ok, bad, blank), fmt.version, tuple(refs.items()), tuple(reported_refs.items())
    )
    for rule, title, position, lefts, rights, f_left, f_right, f_result in equations:
        keys = [*lefts, *rights]
        left = sum_values(val(k) for k in lefts)
        right = sum_values(val(k) for k in rights)
        result = blank if any(val(k) is None for k in keys) else (ok if left == right else bad)
        if result in tally:
            counts[tally[result]] += 1
        write_string(ws, row, col["rule"], rule, styles.key)
        write_string(ws, row, col["title"], title, styles.label)
        words = where(position, keys[0])
        ws.write_formula(row, col["left"], f_left, styles.number, _number(left))
        ws.write_formula(row, col["right"], f_right, styles.number, _number(right))
        ws.write_formula(row, col["result"], f_result, styles.result, result)
        by_column = fmt.rule(rule).per == "row"
        cells = "  ".join(f"{_short(fmt, k, by_column)}={show(val(k))}" for k in keys)
        write_string(ws, row, col["cells"], cells, styles.key)
        wrap(title, words, cells)
        row += 1
    for key, f_left, f_right, f_result, text in reported:
        rep, comp = reported_values[key], values[key]
        result = blank if rep is None else (ok if rep == comp else bad)
        if result in tally:
            counts[tally[result]] += 1
        write_string(ws, row, col["rule"], REPORTED_RULE, styles.key)
        write_string(ws, row, col["title"], check.reported_title, styles.label)
        words = where(key, key)
        ws.write_formula(row, col["left"], f_left, styles.number, _number(rep) if rep is not None else 0)
        ws.write_formula(row, col["right"], f_right, styles.number, _number(comp))
        ws.write_formula(row, col["result"], f_result, styles.result, result)
        write_string(ws, row, col["cells"], text, styles.key)
        wrap(check.reported_title, words, text)
        row += 1
    result_col = col["result"]
    rng = f"{xl_rowcol_to_cell(1, result_col)}:{xl_rowcol_to_cell(max(row - 1, 1), result_col)}"
    for value, look in ((bad, styles.mismatch), (blank, styles.review), (ok, styles.ok)):
        ws.conditional_format(rng, {"type": "cell", "criteria": "==", "value": f'"{value}"', "format": look})
    ws.freeze_panes(1, 0)
    ws.repeat_rows(0)
    ws.autofilter(0, 0, max(row - 1, 1), len(check.columns) - 1)
    ws.protect("", {"autofilter": True, "sort": True, "format_columns": True})
    return counts


def _short(fmt: Format, key: str, by_column: bool) -> str:
    """Name a cell within its rule's row (by its column) or column (by its row), as the check sheet lists it."""
    table, row, column = key.split(".")
    t = fmt.tables[table]
    return t.column(column).label if by_column else t.row(row).label


def _blank_tables(fmt: Format, values: dict[str, Value], refs: dict[str, str]) -> tuple[int, str]:
    """Count the tables with more than half of their input cells blank: now, and as a live formula."""
    computed = set(fmt.formulas())
    now, terms = 0, []
    for table in fmt.tables.values():
        inputs = [k for k in table.cell_keys() if k not in computed and k in refs]
        if not inputs:
            continue
        filled = sum(values.get(k) is not None for k in inputs)
        now += 2 * filled < len(inputs)
        # COUNT takes at most 255 arguments in Excel: count in slices.
        count = "+".join(
            "COUNT(" + ",".join(refs[k] for k in inputs[i : i + 200]) + ")" for i in range(0, len(inputs), 200)
        )
        terms.append(f"(2*({count})<{len(inputs)})")
    return now, "=" + ("+".join(terms) or "0")


# The rule id of a check-sheet row that compares a printed total with the live one (like a rule's id).
REPORTED_RULE = "reported-total"


@lru_cache(maxsize=16)
def _check_rows(
    check: CheckSheet,
    words: tuple[str, str, str],
    version: str,
    refs_items: tuple[tuple[str, str], ...],
    reported_items: tuple[tuple[str, str], ...],
) -> tuple[list[tuple[Any, ...]], list[tuple[str, str, str, str, str]]]:
    """The check sheet's rows without their values: rules, titles and formulas depend only on the layout and words."""
    fmt = load_format(version)
    ok, bad, blank = words
    refs, reported_refs = dict(refs_items), dict(reported_items)
    titles = {r.id: r.title for r in fmt.rules}

    def ref(key: str) -> str:
        return reported_refs.get(key, refs[key])

    equations = []
    for row, eq in enumerate(fmt.equations(), start=1):
        keys = [*eq.left, *eq.right]
        d, e = xl_rowcol_to_cell(row, check.col("left")), xl_rowcol_to_cell(row, check.col("right"))
        equations.append(
            (
                eq.rule,
                titles[eq.rule],
                eq.where,
                eq.left,
                eq.right,
                "=SUM(" + ",".join(ref(k) for k in eq.left) + ")",
                "=SUM(" + ",".join(ref(k) for k in eq.right) + ")",
                f'=IF(COUNT({",".join(ref(k) for k in keys)})<{len(keys)},"{blank}",IF({d}={e},"{ok}","{bad}"))',
            )
        )
    reported = [
        (
            key,
            f"={rep}",
            f"={refs[key]}",
            f'=IF(ISBLANK({rep}),"{blank}",IF({rep}={refs[key]},"{ok}","{bad}"))',
            check.reported_cells.format(reported=reported_name(key), computed=defined_name(key)),
        )
        for key, rep in reported_refs.items()
    ]
    return equations, reported


def _write_cover(
    wb: Workbook,
    ws: Worksheet,
    styles: Styles,
    meta: Meta,
    counts: dict[str, int],
    blank_formula: str,
    notes: dict[str, str],
    extra: list[dict[str, Any]],
    warnings: list[Any],
    layouts: dict[str, SheetLayout],
) -> None:
    """Write the cover (the verdict first, live) and the provenance sheet; then notes, extra rows and warnings."""
    std = load_template().standard
    cover = std.cover
    check = std.check
    ok, bad, review = result_words()
    fmt = meta.fmt
    page_setup(ws, meta, landscape=std.print.cover == "landscape")
    for c, width in enumerate(cover.widths):
        ws.set_column(c, c, width)
    ws.merge_range(0, 0, 0, 2, "", styles.title)
    write_string(ws, 0, 0, meta.title or std.default_title, styles.title)
    ws.set_row(0, cover.title_height)
    provenance = wb.add_worksheet(std.provenance_sheet)
    page_setup(provenance, meta, landscape=False)
    for c, width in enumerate(cover.widths):
        provenance.set_column(c, c, width)
    revision = dumps(meta.revision) if meta.revision is not None else None
    values: dict[str, Any] = {
        "meta_title": meta.title,
        "meta_agency": meta.agency,
        "meta_year": meta.year,
        "meta_format": fmt.version,
        "meta_format_name": fmt.name,
        "meta_source_path": meta.source_path,
        "meta_source_sha256": meta.source_sha256,
        "meta_nianbao_version": cover.tool.format(version=__version__),
        "meta_revision": revision,
        **counts,
    }
    # Where each field goes, first: the verdict's formula refers to the counts below it.
    rows = {name: (ws if place == "cover" else provenance, r) for name, (place, r) in field_rows(cover).items()}
    here = {name: _abs(r, 1) for name, (_, r) in rows.items()}
    result = xl_rowcol_to_cell(1, check.col("result"), col_abs=True)[:-1]
    column = f"{_quote(std.check_sheet)}!{result}:{result}"
    formulas = {
        "meta_check_failures": f'=COUNTIF({column},"{bad}")',
        "meta_check_unchecked": f'=COUNTIF({column},"{review}")',
        "meta_blank_tables": blank_formula,
        "meta_verdict": (
            f'=IF({here["meta_check_failures"]}>0,"{bad}",IF({here["meta_check_unchecked"]}'
            f'+{here["meta_blank_tables"]}+{here["meta_doubts"]}>0,"{review}","{ok}"))'
        ),
    }
    failed = counts["meta_check_failures"] > 0
    unsure = counts["meta_check_unchecked"] + counts["meta_blank_tables"] + counts["meta_doubts"] > 0
    values["meta_verdict"] = bad if failed else (review if unsure else ok)
    for item in cover.fields:
        sheet, row = rows[item.name]
        name = item.name
        write_string(sheet, row, 0, item.label, styles.header)
        # A label, value or note longer than its column wraps: the row is as tall as the longest needs.
        shown = (item.label, "" if name in formulas else str(values[name] or ""), item.note)
        height = _wrapped_height(shown, cover.widths, cover.block_line_height, cover.block_min_height)
        if name == "meta_verdict":
            sheet.write_formula(row, 1, formulas[name], styles.verdict, values[name])
            sheet.set_row(row, max(cover.verdict_height, height))
            cell = _abs(row, 1)
            for value, look in ((bad, styles.mismatch), (review, styles.review), (ok, styles.ok)):
                sheet.conditional_format(
                    cell, {"type": "cell", "criteria": "==", "value": f'"{value}"', "format": look}
                )
        elif name in formulas:
            sheet.write_formula(row, 1, formulas[name], styles.number, values[name])
            sheet.set_row(row, height)
        else:
            sheet.set_row(row, height)
            value = values[name]
            if isinstance(value, int):
                sheet.write_number(row, 1, value, styles.value if name == "meta_year" else styles.number)
            else:
                write_string(sheet, row, 1, value or "", styles.value)
        if item.note:
            write_string(sheet, row, 2, item.note, styles.label)
        else:
            sheet.write_blank(row, 2, None, styles.label)
        wb.define_name(name, f"={_quote(sheet.name)}!{_abs(row, 1)}")
    row = 1 + max(r for place, r in field_rows(cover).values() if place == "cover") + 1
    places = {k: (lay.section.sheet, p) for lay in layouts.values() for k, p in lay.cells.items()}
    blocks = (
        ("meta_notes", cover.notes, [[k, _place(places.get(k)), v] for k, v in notes.items()]),
        ("meta_extra", cover.extra, [[str(i + 1), dumps(item), ""] for i, item in enumerate(extra)]),
        ("meta_warnings", cover.warnings, [[w.code, w.message, w.where] for w in warnings]),
    )
    # Each warning's source text (the report's rows it came from) as a comment on its message: seen on hover,
    # printed nowhere, and never read back as a value.
    quotes = {"meta_warnings": [_quotes(w) for w in warnings]}
    for name, block, block_rows in blocks:
        row = _cover_block(wb, ws, styles, row, name, block.heading, list(block.columns), block_rows, quotes.get(name))
    ws.protect("", {"format_columns": True, "format_rows": True})
    provenance.protect("", {"format_columns": True, "format_rows": True})


def _quotes(warning: Any) -> str | None:
    """The source text a warning quotes, one line a row, or None when it quotes none."""
    from convert.checks.positions import quoted

    excerpts = getattr(warning, "excerpts", None) or ()
    return "\n".join(quoted(e) for e in excerpts) or None


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
    comments: list[str | None] | None = None,
) -> int:
    """Write a titled block of text rows (a row's comment, if any, on its second cell); the heading is named."""
    std = load_template().standard
    cover = std.cover
    ws.merge_range(row, 0, row, 2, "", styles.subheading)
    write_string(ws, row, 0, cover.block_heading.format(heading=heading, count=len(rows)), styles.subheading)
    wb.define_name(name, f"={_quote(std.cover_sheet)}!{_abs(row, 0)}")
    row += 1
    for c, h in enumerate(heads):
        write_string(ws, row, c, h, styles.header)
    row += 1
    for n, items in enumerate(rows):
        if comments and comments[n]:
            ws.write_comment(row, 1, comments[n], {"author": "nianbao", "x_scale": 3, "y_scale": 1.5})
        # A text longer than a cell holds goes on in the rows below, under a blank first column; read-back joins them.
        pieces = [cell_chunks(text) for text in items]
        for i in range(max(len(p) for p in pieces)):
            line = [p[i] if i < len(p) else "" for p in pieces]
            for c, text in enumerate(line):
                write_string(ws, row, c, text, styles.text_cell)
            ws.set_row(row, _wrapped_height(line, cover.widths, cover.block_line_height, cover.block_min_height))
            row += 1
    return row + 1


def _wrapped_height(texts: Iterable[str], widths: Iterable[float], line: float, minimum: float) -> float:
    """Return the height of a row whose texts wrap in columns of these widths: the tallest one's."""
    return max(row_height(t, w, line, minimum) for t, w in zip(texts, widths, strict=False))


__all__ = [
    "REPORTED_RULE",
    "CellContent",
    "ContentFn",
    "Meta",
    "Styles",
    "build_workbook",
    "cached",
    "money_decimals",
    "money_format",
    "result_words",
    "write_table_sheet",
    "write_workbook",
]
