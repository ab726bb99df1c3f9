"""What the pages show, built from the library's own data: the official tables as grids, findings in words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from convert.checks.positions import describe, located, place
from convert.formats import Format, load_format
from convert.outputs.layout import SheetLayout, computed_keys, section_title, sheet_layouts, sum_values
from convert.record import TEXT_KEYS, Record, Value
from convert.store import local_time, value_text

ERROR = "error"


@dataclass
class Note:
    """One finding or warning as the page lists it: a number, its severity, where in words, the message."""

    number: int
    severity: str
    code: str
    where: str
    message: str
    excerpt: str = ""  # the words the message quotes, for a finding that kept no source text
    key: str = ""  # the record key it is about, to mark its cells
    sources: list[Source] = field(default_factory=list)  # the input it came from, each with where it is


@dataclass(frozen=True)
class Source:
    """A piece of the input a warning came from, as the reader quoted it, and where it is (第 12 行, 第 3 页)."""

    text: str
    at: str = ""


@dataclass
class Cell:
    """One cell of a drawn table: a label (th) or a value (td), merged like the workbook's, maybe marked."""

    text: str = ""
    tag: str = "td"
    rowspan: int = 1
    colspan: int = 1
    kind: str = ""  # title, corner, header, group, label, note (labels); value, formula, reported, filler
    marks: list[Note] = field(default_factory=list)
    mismatch: bool = False

    @property
    def classes(self) -> str:
        """Return the CSS classes: what the cell is, and the worst severity of its findings."""
        names = [f"c-{self.kind}"] if self.kind else []
        if self.marks:
            names.append("mark-error" if any(n.severity == ERROR for n in self.marks) else "mark-warning")
        if self.mismatch:
            names.append("mismatch")
        return " ".join(names)

    @property
    def tooltip(self) -> str:
        """Return the messages of the cell's findings, one a line."""
        return "\n".join(f"{n.number}. {n.message}" for n in self.marks)


@dataclass
class Grid:
    """One official table drawn as the workbook's sheet draws it, with its findings."""

    key: str
    title: str
    rows: list[list[Cell]]
    notes: list[Note]


def notes(record: Record | None, findings: Iterable[Any]) -> list[Note]:
    """Number every finding, errors first, each with its position in the official table's words."""
    fmt = _format(record)
    ordered = sorted(findings, key=lambda f: f.severity != ERROR)
    out = []
    for n, f in enumerate(ordered, 1):
        fields = getattr(f, "fields", None) or {}
        sources = [Source(e.text, located(e)) for e in getattr(f, "excerpts", None) or []]
        out.append(Note(n, f.severity, f.code, where(f, fmt), f.message, _excerpt(fields), f.key or "", sources))
    return out


def where(finding: Any, fmt: Format | None) -> str:
    """Name where a finding is: its sheet and cell, and the key in words when it names a table, row or cell."""
    parts = [place(finding.key, fmt)] if finding.key else []
    if finding.sheet and finding.cell:
        parts.append(f"{finding.sheet}!{finding.cell}")
    return " ".join(parts)


def _excerpt(fields: dict[str, Any]) -> str:
    """Return the source text a warning quotes (the cells or words it was read from), if it names any."""
    for name in ("text", "texts", "cells", "numbers"):
        value = fields.get(name)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, list | tuple) and value:
            return "、".join(str(v) for v in value)
    return ""


def _format(record: Record | None) -> Format | None:
    if record is None:
        return None
    try:
        return load_format(record.format)
    except Exception:  # a record read back with an unknown format version: positions stay keys
        return None


def grids(record: Record, listed: list[Note]) -> list[Grid]:
    """Draw every table of the record as its workbook sheet lays it out, each finding's cells marked."""
    fmt = load_format(record.format)
    values = shown_values(fmt, record.cells)
    out = []
    for key, lay in sheet_layouts(fmt).items():
        out.append(_grid(lay, values, record.cells, [n for n in listed if _table_of(n) == key]))
    return out


def shown_values(fmt: Format, cells: dict[str, Value]) -> dict[str, Value]:
    """Return each cell as the workbook shows it: totals as the SUM of their parts (blank when every part is)."""
    values = dict(cells)
    pending = dict(computed_keys(fmt))
    while pending:
        for key, parts in list(pending.items()):
            if any(p in pending for p in parts):
                continue
            present = [values.get(p) for p in parts]
            # A SUM over blanks shows 0 in a spreadsheet; here a blank stays blank: it is not a zero.
            values[key] = sum_values(present) if any(v is not None for v in present) else None
            del pending[key]
    return values


def _table_of(note: Note) -> str:
    return note.key.partition(".")[0]


def _targets(key: str, lay: SheetLayout) -> set[tuple[int, int]]:
    """Return where a finding's key is drawn: a cell (and its printed total), a row's label or a column's header."""
    parts = key.split(".")
    if len(parts) == 3 and "*" not in parts:
        return {p for p in (lay.cells.get(key), lay.reported.get(key)) if p is not None}
    if len(parts) == 2 or (len(parts) == 3 and parts[2] == "*"):
        found = lay.row_labels.get(parts[1])
        if found is None:
            return set()
        return {(b.row, b.col) for b in lay.boxes if b.style == "label" and b.row == found[1]}
    if len(parts) == 3 and parts[1] == "*":
        columns = {c for k, (_, c) in lay.cells.items() if k.split(".")[2] == parts[2]}
        heads: dict[int, tuple[int, int]] = {}
        for b in lay.boxes:
            # The lowest header over exactly that column: its own label, not the group above it.
            if b.style == "header" and b.col == b.last_col and b.col in columns:
                if b.col not in heads or b.row > heads[b.col][0]:
                    heads[b.col] = (b.row, b.col)
        return set(heads.values())
    return set()


def _grid(lay: SheetLayout, values: dict[str, Value], printed: dict[str, Value], listed: list[Note]) -> Grid:
    fmt = lay.fmt
    height = 1 + max(
        [b.last_row for b in lay.boxes] + [r for r, _ in (*lay.cells.values(), *lay.reported.values(), *lay.fillers)]
    )
    covered: set[tuple[int, int]] = set()
    starts = {}
    for box in lay.boxes:
        if box.style == "title":
            continue  # the table's caption
        starts[(box.row, box.col)] = box
        covered.update((r, c) for r in range(box.row, box.last_row + 1) for c in range(box.col, box.last_col + 1))
    cell_at = {pos: key for key, pos in lay.cells.items()}
    reported_at = {pos: key for key, pos in lay.reported.items()}
    fillers = set(lay.fillers)
    formulas = computed_keys(fmt)
    marks: dict[tuple[int, int], list[Note]] = {}
    for note in listed:
        for pos in _targets(note.key, lay):
            marks.setdefault(pos, []).append(note)
    rows: list[list[Cell]] = []
    for r in range(1, height):
        row: list[Cell] = []
        for c in range(lay.width):
            pos = (r, c)
            if pos in starts:
                b = starts[pos]
                span = (b.last_row - b.row + 1, b.last_col - b.col + 1)
                row.append(Cell(b.text, "th", *span, kind=b.style, marks=marks.get(pos, [])))
            elif pos in covered:
                continue
            elif pos in cell_at:
                key = cell_at[pos]
                kind = "formula" if key in formulas else "value"
                row.append(Cell(value_text(values.get(key)) or "", kind=kind, marks=marks.get(pos, [])))
            elif pos in reported_at:
                key = reported_at[pos]
                shown, given = values.get(key), printed.get(key)
                row.append(
                    Cell(
                        value_text(given) or "",
                        kind="reported",
                        marks=marks.get(pos, []),
                        mismatch=given is not None and shown != given,
                    )
                )
            elif pos in fillers:
                row.append(Cell(kind="filler"))
            else:
                row.append(Cell())
        rows.append(row)
    return Grid(lay.section.key, section_title(lay.section), rows, listed)


def texts(record: Record) -> list[tuple[str, list[str]]]:
    """Return the narrative sections as printed: each heading with its paragraphs (the preface first)."""
    fmt = load_format(record.format)
    out: list[tuple[str, list[str]]] = []
    preface = record.text.get("preface") or []
    if preface:
        out.append(("", list(preface)))
    for section in fmt.sections:
        if section.kind == "text" and section.key in TEXT_KEYS:
            out.append((section_title(section), list(record.text.get(section.key) or [])))
    return out


__all__ = [
    "Cell",
    "Grid",
    "Note",
    "Source",
    "describe",
    "grids",
    "local_time",
    "notes",
    "shown_values",
    "texts",
    "value_text",
    "where",
]
