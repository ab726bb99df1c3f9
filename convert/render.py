"""Render a record as report text in each layout real reports come in (tabs, one cell per line, markdown, HTML)."""

from __future__ import annotations

import html
from decimal import Decimal

from convert.formats import Format, Table, load_format
from convert.record import Record, Value

LAYOUTS = ("tabs", "cells", "markdown", "html")


def render_report(record: Record, layout: str = "tabs") -> str:
    """Return the record as the text of an annual report in the given layout."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    fmt = load_format(record.format)
    title = record.title or f"{record.agency or ''}{record.year or ''}年政府信息公开工作年度报告"
    blocks: list[tuple[str, object]] = [("title", title)]
    blocks += [("para", p) for p in record.text.get("preface", [])]
    for section in fmt.sections:
        blocks.append(("heading", f"{section.number}、{section.heading}"))
        if section.kind == "text":
            blocks += [("para", p) for p in record.text.get(section.key, [])]
        else:
            blocks.append(("table", _table_rows(fmt, fmt.tables[section.key], record)))
    return _emit(blocks, layout)


def _value(record: Record, key: str, kind: str) -> str:
    v: Value = record.cells.get(key)
    if v is None:
        return ""
    note = record.notes.get(key, "")
    if kind == "money" and isinstance(v, Decimal):
        return f"{format(v, 'f')}万元{note}"
    return f"{v}{note}"


def _table_rows(fmt: Format, table: Table, record: Record) -> list[list[str]]:
    """Lay out a table as rows of cells, with group labels in front as in the printed format."""
    rows: list[list[str]] = []
    if table.key == "appeals":
        cols = [c.label for c in table.columns]
        rows.append(["行政复议", "", "", "", "", "行政诉讼"] + [""] * 9)
        rows.append([*cols, "未经复议直接起诉", "", "", "", "", "复议后起诉", "", "", "", ""])
        rows.append(["", "", "", "", "", *cols, *cols])
        rows.append([_value(record, f"appeals.{r.key}.{c.key}", c.type) for r in table.rows for c in table.columns])
        return rows
    if table.key == "requests":
        rows.append([table.corner, "", "申请人情况"])
        rows.append(["", "", "自然人", "法人或其他组织", "", "", "", "", "总计"])
        rows.append(["", "", "", *[c.label for c in table.columns[1:6]], ""])
        last_group: str | None = None
        for row in table.form_rows:
            group = table.group(row.group) if row.group else None
            lead = ["", ""]
            if group and group.key != last_group:
                if group.parent:
                    lead = [table.group(group.parent).label if last_group is None else "", group.label]
                else:
                    lead = [group.label, ""]
            last_group = row.group or last_group
            label = row.label
            cells = [_value(record, f"requests.{row.key}.{c.key}", c.type) for c in table.columns]
            if group and group.parent:
                rows.append([*lead, label, *cells])
            else:
                rows.append([lead[0], label, *cells] if lead[0] else ["", label, *cells])
        return rows
    last_group = None
    for row in table.rows:
        if row.group != last_group:
            rows.append([table.group(row.group).label] if row.group else [])
            rows.append(["信息内容", *[table.column(c).label for c in row.columns]])
            last_group = row.group
        rows.append(
            [row.label, *[_value(record, f"{table.key}.{row.key}.{c}", table.column(c).type) for c in row.columns]]
        )
    return rows


def _emit(blocks: list[tuple[str, object]], layout: str) -> str:
    if layout == "html":
        return _emit_html(blocks)
    out: list[str] = []
    for kind, content in blocks:
        if kind in ("title", "heading"):
            out += [f"# {content}" if layout == "markdown" and kind == "title" else str(content), ""]
        elif kind == "para":
            out += [str(content), ""]
        else:
            rows: list[list[str]] = content  # type: ignore[assignment]
            if layout == "tabs":
                out += ["\t".join(r) for r in rows] + [""]
            elif layout == "markdown":
                width = max(len(r) for r in rows)
                for i, r in enumerate(rows):
                    cells = [c.replace("|", "｜") for c in r] + [""] * (width - len(r))
                    out.append("| " + " | ".join(cells) + " |")
                    if i == 0:
                        out.append("|" + "---|" * width)
                out.append("")
            else:
                for r in rows:
                    out += [f"\t{c}" for c in r] + [""]
    return "\n".join(out) + "\n"


def _emit_html(blocks: list[tuple[str, object]]) -> str:
    parts = ["<html><head><meta charset='utf-8'><title>report</title></head><body>"]
    for kind, content in blocks:
        if kind == "title":
            parts.append(f"<h1>{html.escape(str(content))}</h1>")
        elif kind == "heading":
            parts.append(f"<h2><strong>{html.escape(str(content))}</strong></h2>")
        elif kind == "para":
            parts.append(f"<p>{html.escape(str(content))}</p>")
        else:
            rows: list[list[str]] = content  # type: ignore[assignment]
            parts.append("<table border='1'>")
            for r in rows:
                cells = "".join(f"<td>{html.escape(c) if c else '&nbsp;'}</td>" for c in r)
                parts.append(f"<tr>{cells}</tr>")
            parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
