"""Name a record key in the words of the official table: section · row · column, never `requests.total.x`."""

from __future__ import annotations

from convert.checks.catalogue import text
from convert.formats import Format, Table, load_format

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
        parts += _row_words(table, row_key)
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


def _row_words(table: Table, row_key: str) -> list[str]:
    try:
        row = table.row(row_key)
    except KeyError:
        return [row_key]
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
