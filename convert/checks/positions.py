"""Name a record key in the words of the official table: section · row · column, never `requests.total.x`."""

from __future__ import annotations

import re
from typing import Any

from convert.checks.catalogue import text
from convert.errors import Phrase
from convert.formats import Format, Table, known_versions, load_format
from convert.record import Excerpt

# Between the section, row and column of a position; the same in every language, as on the page.
SEPARATOR = " · "


def describe(key: str, fmt: Format | str) -> str:
    """Return 「三、…申请情况 · 一、本年新收… · 自然人」 for a cell, row, column (`t.*.c`) or table key."""
    fmt = load_format(fmt) if isinstance(fmt, str) else fmt
    table_key, _, rest = key.partition(".")
    table = fmt.tables.get(table_key)
    if table is None:
        return key
    parts = [section_name(fmt, table_key)]
    row_key, _, column_key = rest.partition(".")
    if row_key and row_key != "*":
        parts += row_labels(table, row_key) or [row_key]
    if column_key and column_key != "*":
        column = _column(table, column_key)
        if column is None:
            return key
        parts.append(column if row_key and row_key != "*" else text("position-column", column=column))
    return text("position", parts=SEPARATOR.join(parts))


def section_name(fmt: Format, table_key: str) -> str:
    """Return the section heading of a table, as printed: 三、收到和处理政府信息公开申请情况."""
    for section in fmt.sections:
        if section.key == table_key:
            return f"{section.number}、{section.heading}"
    return table_key


def row_labels(table: Table, row_key: str) -> list[str] | None:
    """Return a row's label after its groups' labels (outermost first); None for a row the table lacks."""
    try:
        row = table.row(row_key)
    except KeyError:
        return None
    words = [row.label]
    group = row.group
    # Row labels like （一）予以公开 repeat under several groups: the group names which one.
    while group:
        g = table.group(group)
        words.insert(0, g.label)
        group = g.parent
    return words


def _column(table: Table, column_key: str) -> str | None:
    try:
        return table.column(column_key).label
    except KeyError:
        return None


def cell_labels(key: str, fmt: Format | str) -> tuple[str, str, str] | None:
    """Return a cell's section, row (its groups first, joined by ·) and column as printed; None for no table cell."""
    fmt = load_format(fmt) if isinstance(fmt, str) else fmt
    table_key, _, rest = key.partition(".")
    row_key, _, column_key = rest.partition(".")
    table = fmt.tables.get(table_key)
    column = _column(table, column_key) if table is not None and column_key else None
    if table is None or column is None:
        return None
    return section_name(fmt, table_key), SEPARATOR.join(row_labels(table, row_key) or [row_key]), column


def place(key: str, fmt: Format | str | None) -> str:
    """Name any `where` of a finding or warning in words: a cell, row, column or table (see describe), a section,
    a line of the input (第 966 行), a field of the report (年度); anything else as it is."""
    m = re.fullmatch(r"line (\d+)", key)
    if m:
        return text("position-line", number=int(m.group(1)))
    if key in _FIELDS:
        return str(_FIELDS[key])
    if isinstance(fmt, str):
        fmt = load_format(fmt) if fmt in known_versions() else None
    if fmt is None:
        return key
    if key.partition(".")[0] in fmt.tables:
        return describe(key, fmt)
    if any(s.key == key for s in fmt.sections):
        return text("position", parts=section_name(fmt, key))
    return key


# The record's own fields, in words.
_FIELDS = {
    "agency": Phrase("field-agency"),
    "year": Phrase("field-year"),
    "title": Phrase("field-title"),
    "format": Phrase("field-format"),
}


def quoted(excerpt: Excerpt, *, limit: int | None = None, more: Any = "") -> str:
    """A warning's source text as a user reads it: 原文（第 12 行）：… (cut to limit characters, when given)."""
    shown = excerpt.text
    if limit is not None and len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    at = located(excerpt)
    if at:
        return text("check-excerpt", case="at", at=at, text=shown, more=more)
    return text("check-excerpt", case="plain", text=shown, more=more)


def located(excerpt: Excerpt) -> str:
    """Where a warning's source text is, in words: 第 12 行, 第 3 页 (empty when the input does not say)."""
    if excerpt.line is not None and excerpt.page is not None:
        return text("excerpt-at", case="both", line=excerpt.line, page=excerpt.page)
    if excerpt.line is not None:
        return text("excerpt-at", case="line", line=excerpt.line)
    if excerpt.page is not None:
        return text("excerpt-at", case="page", page=excerpt.page)
    return ""
