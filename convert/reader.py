"""Read one annual report's lines of cells (from any kind of input) into a Record, anchoring every row on its label."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import cache
from itertools import combinations
from pathlib import Path
from typing import Any

from convert.errors import NotAReportError
from convert.formats import (
    Derived,
    Format,
    Section,
    Table,
    core,
    heading_words,
    known_versions,
    load_format,
    normalize,
    version_for_year,
)
from convert.inputs.base import Document, Line
from convert.record import Record, Value
from convert.values import Parsed, parse

MAX_CANDIDATES = 20000


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


def read_report(path: str | Path) -> Record:
    """Read a report file of any kind convert.inputs reads (text, markdown, HTML, a standard workbook) into a record."""
    from convert.inputs import load

    return to_record(load(Path(path)))


def to_record(got: Document | Record) -> Record:
    """The record of what an input kind read: a document's lines are parsed, a workbook's record is one already."""
    return parse_lines(got.lines, got.source, got.text) if isinstance(got, Document) else got


def parse_report(text: str, source: dict | None = None) -> Record:
    """Parse the text of a report (plain, markdown or HTML) into a record; refuse what is not an annual report."""
    from convert.inputs.text import document

    doc = document(text, source)
    return parse_lines(doc.lines, doc.source, doc.text)


def parse_lines(lines: list[Line], source: dict, text: str | None = None) -> Record:
    """Read a report's lines of cells, from any kind of input, into a record; refuse what is not an annual report.

    text: the whole document's words, where the format's marker words are looked for (default: the lines' words).
    """
    source = dict(source)
    if text is None:
        text = "\n".join(line.text for line in lines)
    version, version_note = detect_version(text)
    fmt = load_format(version)
    spans = find_sections(lines, fmt.sections)
    record = Record(format=version, cells=dict.fromkeys(fmt.cell_keys), source=source)
    first = min((start for start, _ in spans.values()), default=len(lines))
    record.title, preface = _title_and_preface(lines[:first])
    record.text["preface"] = preface
    for section in fmt.sections:
        if section.kind == "text" and section.key in spans:
            start, end = spans[section.key]
            record.text[section.key] = _paragraphs(lines[start + 1 : end])
    found_tables = 0
    for key, table in fmt.tables.items():
        if key in spans:
            start, end = spans[key]
            body, strict = lines[start + 1 : end], True
        else:
            body, strict = lines, False
        if TableReader(fmt, table, record, strict).read(body):
            found_tables += 1
        elif key not in spans:
            section = fmt.section(key)
            raise NotAReportError(
                f"no table {section.number}、{section.heading} found: "
                + (
                    "this does not look like an annual report (政府信息公开工作年度报告)"
                    if not spans
                    else "the report lacks one of its three tables"
                )
            )
    if not spans and not found_tables:
        raise NotAReportError("not an annual report (政府信息公开工作年度报告): no section headings or tables found")
    for section in fmt.sections:
        if section.key not in spans:
            record.warn("missing-section", {"number": section.number, "heading": section.heading}, section.key)
    record.agency, record.year = _agency_and_year(record, lines)
    if version_note:
        record.warn("format-uncertain", {"case": version_note}, "format")
    _decide_version_by_year(record, version_note)
    _warn_rule_failures(record, fmt)
    return record


def detect_version(text: str) -> tuple[str, str]:
    """Tell the format version by its marker words (FORMAT.md §5); a note says when unsure."""
    words = normalize(text)
    hits = {v: [m for m in load_format(v).markers if normalize(m) in words] for v in known_versions()}
    found = [v for v, markers in hits.items() if markers]
    if len(found) == 1:
        return found[0], ""
    # Several or none: the year decides later; start from the most markers, the later version on a tie.
    guess = max(reversed(hits), key=lambda v: len(hits[v]))
    return guess, "mixed" if found else "absent"


def _decide_version_by_year(record: Record, note: str) -> None:
    if not note or record.year is None:
        return
    wanted = version_for_year(record.year)
    if wanted != record.format:
        fields = {"case": "year", "year": record.year, "wanted": wanted, "format": record.format}
        record.warn("format-uncertain", fields, "format")


_SUBHEADING = re.compile(r"^\s*(?:[（(]\s*[一二三四五六七八九十\d]+\s*[)）]|\d{1,2}\s*[.、．](?!\d))")


@cache
def _any_heading(sections: tuple[Section, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p.pattern})" for s in sections for p in s.patterns))


def find_sections(lines: list[Line], sections: tuple[Section, ...]) -> dict[str, tuple[int, int]]:
    """Find each section's heading line by its words; return section key → (heading index, end index)."""
    candidates: dict[str, list[int]] = {s.key: [] for s in sections}
    # Lines numbered like sub-headings (1. （一）) name a section only when nothing else does: 「1.总体情况」.
    fallback: dict[str, list[int]] = {s.key: [] for s in sections}
    any_heading = _any_heading(sections)
    for i, line in enumerate(lines):
        words = [c for c in line.cells if c.strip()]
        if len(words) != 1:
            continue
        text = words[0].strip()
        if len(text) > 60:
            continue
        if not any_heading.search(heading_words(text)):
            continue  # one combined pattern per line; most lines are no heading at all
        into = fallback if _SUBHEADING.match(unicodedata.normalize("NFKC", text)) else candidates
        for s in sections:
            if s.matches(text):
                into[s.key].append(i)
                break
    for key, options in candidates.items():
        if not options and len(fallback[key]) == 1:
            options.append(fallback[key][0])
    chosen: dict[str, int] = {}
    last = -1
    for s in sections:
        options = candidates[s.key]
        if not options:
            continue
        # Prefer the heading that keeps the format's order; real reports sometimes reorder chapters.
        after = [i for i in options if i > last and i not in chosen.values()]
        pick = after[0] if after else next((i for i in options if i not in chosen.values()), None)
        if pick is None:
            continue
        chosen[s.key] = pick
        last = max(last, pick)
    starts = sorted(chosen.values())
    return {key: (start, next((s for s in starts if s > start), len(lines))) for key, start in chosen.items()}


def _title_and_preface(lines: list[Line]) -> tuple[str | None, list[str]]:
    texts = [line.text for line in lines if not line.blank]
    head = texts[:8]

    def names_report(t: str) -> bool:
        # Web breadcrumbs (首页 > 政务公开 > 年度报告) name the report too, but are no title.
        return "报告" in t and ("公开" in t or "年度" in t) and len(t) <= 80 and not _BREADCRUMB.search(t)

    # Web pages put breadcrumbs before the title: the title is the line that names the report.
    idx = next((i for i, t in enumerate(head) if names_report(t) and "信息公开" in t), None)
    if idx is None:
        idx = next((i for i, t in enumerate(head) if names_report(t)), None)
    if idx is None:
        return None, texts
    title = texts[idx]
    start = idx
    # A title broken over two short lines (agency, then year and 报告) is one title.
    if (
        idx > 0
        and len(texts[idx - 1]) <= 30
        and not _YEAR.search(texts[idx - 1])
        and re.search(r"(政府|办公室|局|委员会|街道|镇|乡)$", texts[idx - 1])
    ):
        title, start = texts[idx - 1] + title, idx - 1
    return title, texts[:start] + texts[idx + 1 :]


_BREADCRUMB = re.compile(r"[>›»＞→]|^\s*(?:当前位置|您的位置|您现在的位置|首页)")


def _paragraphs(lines: list[Line]) -> list[str]:
    return [line.text for line in lines if not line.blank]


_TITLE_TAIL = re.compile(
    r"(?:关于)?(?:\d{4}\s*年度?)?\s*(?:政府信息公开|政务公开|信息公开)?(?:工作)?(?:年度)?(?:工作)?报告.*$"
)
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")


def _agency_and_year(record: Record, lines: list[Line]) -> tuple[str | None, int | None]:
    title = record.title or ""
    compact = re.sub(r"\s+", "", unicodedata.normalize("NFKC", title))
    year: int | None = None
    m = _YEAR.search(compact)
    if m:
        year = int(m.group(1))
    agency = None
    if compact:
        head = _TITLE_TAIL.sub("", compact)
        head = re.sub(r"(?:19|20)\d{2}年度?", "", head).strip("：:，, ")
        head = re.sub(r"^(?:关于)", "", head)
        # 后河镇人民政府 and 后河镇政府 are the same office: keep the place name.
        head = re.sub(r"^(.+?(?:镇|乡|街道|县|市|区|州|盟|旗|省))(?:人民)?政府$", r"\1", head)
        agency = head or None
    if agency is None:
        agency = _page_agency(record)
    if agency is None:
        record.warn("agency-unknown", {}, "agency")
    if year is None:
        year = _year_from_text(record, lines)
    return agency, year


def _page_agency(record: Record) -> str | None:
    """The agency a web page's own metadata names (发布机构), when the title names none; a warning says so."""
    page = record.source.get("page")
    if not isinstance(page, dict):
        return None
    issuer = next((page[k] for k in ("发布机构", "发文机关", "发文机构", "发布单位", "发文单位") if page.get(k)), "")
    name = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(issuer)))
    # A place's government or its office (the office publishes for it) names the place, as a title does.
    name = re.sub(r"^(.+?(?:镇|乡|街道|县|市|区|州|盟|旗|省))(?:人民)?政府(?:办公室|办公厅)?$", r"\1", name)
    if not name:
        return None
    record.warn("agency-from-page", {"agency": name}, "agency")
    return name


def _year_from_text(record: Record, lines: list[Line]) -> int | None:
    everything = "\n".join(line.text for line in lines)
    compact = re.sub(r"\s+", "", unicodedata.normalize("NFKC", everything))
    period = re.search(r"((?:19|20)\d{2})年1月1日(?:起)?至(?:(?:19|20)\d{2}年)?12月31日", compact)
    if period:
        return int(period.group(1))
    years = Counter(int(y) for y in re.findall(r"((?:19|20)\d{2})年(?!\d)", compact))
    if not years:
        record.warn("year-unknown", {}, "year")
        return None
    year, _ = years.most_common(1)[0]
    record.warn("year-guessed", {"year": year}, "year")
    return year


class TableReader:
    """Read one table of a section: anchor rows on labels, then fit their cells to the columns."""

    def __init__(self, fmt: Format, table: Table, record: Record, strict: bool) -> None:
        self.fmt, self.table, self.record, self.strict = fmt, table, record, strict
        self.rows, self.columns, self.derived_cols, self.groups = _indexes(fmt.version, table.key)
        self.fixed = {core(w) for w in (table.corner, table.column_header) if w}
        self.seen: set[str] = set()
        self.current_group: str | None = None
        self.subtotal_position: int | None = None
        self.subtotal: Derived | None = None  # the derived column (小计) the header shows, if any
        self.wide_stream: list[Cell] = []
        self.shapes: dict[tuple[int, int], int] = {}  # (cells after the label, columns) -> empty cells before the data
        self.deferred: list[tuple[str, list[Cell], Cell, int]] = []
        self.peers: dict[tuple[int, int, int], int] = {}  # (label position, columns, cells) -> empty cells before data
        self.lengths: dict[tuple[int, int], Counter[int]] = {}  # (label position, columns) -> how many cells rows have
        self.shape_of: dict[str, tuple[int, int, bool]] = {}  # row -> (label position and columns, cells, pinned)
        self.first_column_at: int | None = None  # where the header puts the first column, in grid layouts

    # -- classification -------------------------------------------------------------------
    def row_key(self, text: str) -> str | None:
        """Return the row whose label this cell is, if any."""
        return _lookup(self.rows, text)

    def is_known_label(self, text: str) -> bool:
        """Tell whether a cell is a label of this table that holds no numbers."""
        c = core(text)
        if not c:
            return True
        if c in self.columns or c in self.groups or c in self.derived_cols or c in self.fixed:
            return True
        return (
            c.startswith("本列数据的勾稽关系")
            or c.startswith("信息内容")
            or bool(re.fullmatch(r"第二十条第[一二三四五六七八九十]+项", c))
        )

    def read(self, lines: list[Line]) -> bool:
        """Read the table from its section's lines; return whether any row was found."""
        for row in _segments(_rejoin(build_rows(lines), self), self):
            self._row(row)
        for row_key, tokens, label, label_at in self.deferred:
            self._fill(row_key, tokens, label, label_at, final=True)
        self._odd_lengths()
        if self.table.layout == "wide":
            self._wide()
        found = bool(self.seen)
        if found:
            for row in self.table.rows:
                if row.key not in self.seen:
                    self.record.warn("missing-row", {"row": row.label}, f"{self.table.key}.{row.key}")
        return found

    def _row(self, cells: list[Cell]) -> None:
        labels = [(i, c) for i, c in enumerate(cells) if not c.empty and not parse(c.text).is_value]
        col_hits = sum(1 for _, c in labels if _lookup(self.columns, c.text) or _lookup(self.derived_cols, c.text))
        row_hits = [(i, self.row_key(c.text)) for i, c in labels if self.row_key(c.text)]
        if col_hits >= 2 and not any(not c.empty and parse(c.text).is_value for c in cells):
            self._header(cells)
            return
        for _, c in labels:
            g = _lookup(self.groups, c.text)
            if g:
                self.current_group = g
        if self.table.layout == "wide":
            has_values = any(not c.empty and parse(c.text).is_value for c in cells)
            # A case label followed by numbers only is a row of its own (one row per case).
            if row_hits and has_values and all(c.empty or _is_value(c) for c in cells[row_hits[-1][0] + 1 :]):
                i, key = row_hits[-1]
                self._data(key, cells[i + 1 :], cells[i], i)
            elif has_values and (self.strict or not labels):
                # Inside the section, numbers after the header text (a flattened copy) are the printed row of
                # 15; searching the whole document (no heading found), only rows of bare numbers can be.
                tail = cells[labels[-1][0] + 1 :] if labels else cells
                self.wide_stream.extend(tail)
            elif row_hits:
                pass  # 行政复议 / 未经复议直接起诉 over the columns: the header of the wide row
            elif labels:
                self._unplaced(cells, labels)
            return
        if row_hits:
            i, key = row_hits[-1]
            assert key is not None
            self._data(key, cells[i + 1 :], cells[i], i)
            return
        self._unplaced(cells, labels)

    def _odd_lengths(self) -> None:
        """Warn about a row with more or fewer cells than the rows laid out like it: a cell may be lost or added."""
        by_position: dict[int, Counter[int]] = {}
        for at, length, _ in self.shape_of.values():
            by_position.setdefault(at, Counter())[length] += 1
        for row_key, (at, length, pinned) in self.shape_of.items():
            common, count = by_position[at].most_common(1)[0]
            if pinned or length == common or count < 2:
                continue
            fields = {"case": "shape", "row": self.table.row(row_key).label, "count": length, "usual": common}
            self.record.warn("row-misaligned", fields, f"{self.table.key}.{row_key}")

    def _header(self, cells: list[Cell]) -> None:
        first = self.table.columns[0].key
        at = [i for i, c in enumerate(cells) if not c.empty and _lookup(self.columns, c.text) == first]
        if at:
            self.first_column_at = at[0]
        # A 小计 column among the applicant columns shifts the cells after it: note where it sits.
        names = [_lookup(self.columns, c.text) or _lookup(self.derived_cols, c.text) for c in cells if not c.empty]
        names = [n for n in names if n]
        derived = next((d for d in self.table.derived_columns if d.key in names), None)
        if derived is not None:
            order = [n for n in names if n in derived.sums or n == derived.key]
            start = [c.key for c in self.table.columns].index(derived.sums[0])
            self.subtotal, self.subtotal_position = derived, start + order.index(derived.key)

    def _unplaced(self, cells: list[Cell], labels: list[tuple[int, Cell]]) -> None:
        unknown = [c for _, c in labels if not self.is_known_label(c.text)]
        values = [c for c in cells if not c.empty and parse(c.text).is_value]
        subtotal = next((c for _, c in labels if core(c.text) == "小计"), None)
        if subtotal is not None and values:
            self._subtotal(subtotal, cells)
            return
        if not unknown:
            if values and self.strict:
                fields = {"case": "numbers", "cells": " | ".join(c.text.strip() for c in values)}
                self.record.warn("unplaced-line", fields, f"line {values[0].line}")
            return
        label = unknown[-1]
        if values:
            self.record.extra.append(
                {
                    "table": self.table.key,
                    "label": label.text.strip(),
                    "cells": [c.text.strip() for c in cells],
                    "line": label.line,
                }
            )
            fields = {"case": "row", "row": label.text.strip(), "cells": " | ".join(c.text.strip() for c in values)}
            self.record.warn("unknown-row", fields, f"line {label.line}")
        elif self.strict:
            for c in unknown:
                fields = {"case": "text", "table": self.table.key, "text": c.text.strip()}
                self.record.warn("unplaced-line", fields, f"line {c.line}")

    def _subtotal(self, label: Cell, cells: list[Cell]) -> None:
        after = cells[cells.index(label) + 1 :]
        values = [parse(c.text).value for c in after if not c.empty and parse(c.text).is_value]
        if self.subtotal_position is not None and len(values) == len(self.table.columns) + 1:
            values.pop(self.subtotal_position)
        self.record.extra.append(
            {
                "table": self.table.key,
                "label": "小计",
                "group": self.current_group,
                "cells": [c.text.strip() for c in cells],
                "line": label.line,
            }
        )
        derived = next((d for d in self.table.derived_rows if d.group == self.current_group), None)
        if derived is None:
            fields: dict[str, Any] = {
                "case": "subtotal",
                "cells": " | ".join(c.text.strip() for c in cells if c.text.strip()),
            }
            self.record.warn("unknown-row", fields, f"line {label.line}")
            return
        columns = [c.key for c in self.table.columns]
        for col, value in zip(columns, values, strict=False):
            parts = [self.record.cells.get(f"{self.table.key}.{r}.{col}") for r in derived.sums]
            known = [p for p in parts if p is not None]
            if value is not None and known and sum(known) != value:
                fields = {
                    "case": "group",
                    "value": value,
                    "group": self.current_group,
                    "sum": sum(known),
                    "column": col,
                }
                self.record.warn("subtotal-mismatch", fields, f"line {label.line}")

    # -- values -----------------------------------------------------------------------------
    def _data(self, row_key: str, tokens: list[Cell], label: Cell, label_at: int = 0) -> None:
        if row_key in self.seen:
            fields = {"row": label.text.strip(), "cells": " | ".join(t.text.strip() for t in tokens)}
            self.record.warn("duplicate-row", fields, f"line {label.line}")
            return
        self.seen.add(row_key)
        n = len(self.table.row(row_key).columns) + (self.subtotal is not None)
        self.lengths.setdefault((label_at, n), Counter())[len(tokens)] += 1
        self._fill(row_key, tokens, label, label_at, final=False)

    def _fill(self, row_key: str, tokens: list[Cell], label: Cell, label_at: int, final: bool) -> None:
        row = self.table.row(row_key)
        where = f"{self.table.key}.{row_key}"
        slots = list(row.columns)
        if self.subtotal is not None and self.subtotal_position is not None and self.subtotal.key not in slots:
            slots.insert(self.subtotal_position, self.subtotal.key)
        kinds = [self._kind(c) for c in slots]
        parsed = [parse(t.text, "count") for t in tokens]
        eqs = self._row_equations(slots)
        if len(tokens) <= len(slots) and tokens and tokens[0].empty:
            if not final:
                self.deferred.append((row_key, tokens, label, label_at))
                return
            lengths = self.lengths.get((label_at, len(slots)), Counter())
            common, count = lengths.most_common(1)[0] if lengths else (0, 0)
            lead = self.peers.get((label_at, len(slots), common), 0)
            if count >= 2 and len(tokens) < common and lead and all(t.empty for t in tokens[:lead]):
                # Most rows laid out like this one put empty (merged) cells before the numbers: this row lost a cell.
                tokens = tokens[lead:]
        hint = self.shapes.get((len(tokens), len(slots)))
        if hint is None and final and self.first_column_at is not None:
            # No row of this shape was sure: the header row shows where the numbers start.
            hint = self.first_column_at - label_at - 1
        fitted, reading, lead = fit(tokens, parsed, len(slots), eqs, hint, final)
        if fitted is None:
            # Several placements of the row's empty cells; rows of the same shape may tell which.
            self.deferred.append((row_key, tokens, label, label_at))
            return
        if lead is not None:
            self.shapes.setdefault((len(tokens), len(slots)), lead)
            self.peers.setdefault((label_at, len(slots), len(tokens)), lead)
        if reading:
            self.record.warn("row-misaligned", {**reading, "row": label.text.strip()}, where)
        # A row whose first and last numbers are filled is pinned; blanks at its ends could have shifted.
        pinned = bool(reading) or (
            fitted[0] is not None and not fitted[0].empty and fitted[-1] is not None and not fitted[-1].empty
        )
        self.shape_of[row_key] = (label_at * 100 + len(slots), label_at + 1 + len(tokens), pinned)
        subtotal: tuple[Parsed, Cell] | None = None
        for col, kind, token in zip(slots, kinds, fitted, strict=True):
            if token is None:
                continue
            key = f"{self.table.key}.{row_key}.{col}"
            p = parse(token.text, kind, self._unit_stated(col))
            for code, fields in p.warnings:
                self.record.warn(code, fields, key)
            if self.subtotal is not None and col == self.subtotal.key:
                subtotal = (p, token)
                continue
            self.record.cells[key] = p.value
            if p.note:
                self.record.notes[key] = p.note
        if subtotal is not None:
            # Checked once the cells it sums are stored.
            self._check_org_subtotal(row_key, *subtotal)

    def _kind(self, col: str) -> str:
        if self.subtotal is not None and col == self.subtotal.key:
            return "count"
        return self.table.column(col).type

    def _unit_stated(self, col: str) -> bool:
        if self.subtotal is not None and col == self.subtotal.key:
            return False
        # The 2021 format prints （单位：万元） in the header: a bare number there is in 万元.
        return "万元" in self.table.column(col).label

    def _row_equations(self, slots: list[str]) -> list[tuple[int, list[int]]]:
        return _row_equations(self.fmt.version, self.table.key, tuple(slots))

    def _check_org_subtotal(self, row_key: str, p: Parsed, token: Cell) -> None:
        derived = self.subtotal
        assert derived is not None  # only a row read under a header that shows the column has one
        parts = [self.record.cells.get(f"{self.table.key}.{row_key}.{c}") for c in derived.sums]
        column = next((e for e in self.record.extra if e.get("label") == derived.name), None)
        if column is None:
            column = {"table": self.table.key, "label": derived.name, "rows": {}, "line": token.line}
            self.record.extra.append(column)
        column["rows"][row_key] = token.text.strip()
        known = [v for v in parts if v is not None]
        if p.value is not None and known and sum(known) != p.value:
            self.record.warn(
                "subtotal-mismatch",
                {"case": "org", "name": derived.name, "value": p.value, "sum": sum(known)},
                f"{self.table.key}.{row_key}",
            )

    def _wide(self) -> None:
        if not self.wide_stream:
            return
        rows = [r for r in self.table.rows if r.key not in self.seen]
        if not rows:
            return
        first = next((i for i, c in enumerate(self.wide_stream) if not c.empty), 0)
        tokens = self.wide_stream
        slots = [(r.key, c) for r in rows for c in r.columns]
        eqs: list[tuple[int, list[int]]] = []
        for r_i, r in enumerate(rows):
            base = r_i * len(r.columns)
            for rule in self.fmt.rules:
                if rule.table == self.table.key and rule.per == "row":
                    eqs.append((base + r.columns.index(rule.left[0]), [base + r.columns.index(c) for c in rule.right]))
        parsed = [parse(t.text, "count") for t in tokens]
        fitted, reading, _ = fit(tokens, parsed, len(slots), eqs, None, True)
        assert fitted is not None
        if reading:
            fields = {**reading, "case": f"table-{reading['case']}", "table": self.table.key}
            self.record.warn("row-misaligned", fields, f"line {tokens[first].line}")
        for (row_key, col), token in zip(slots, fitted, strict=True):
            self.seen.add(row_key)
            if token is None:
                continue
            key = f"{self.table.key}.{row_key}.{col}"
            p = parse(token.text, self.table.column(col).type)
            for code, fields in p.warnings:
                self.record.warn(code, fields, key)
            self.record.cells[key] = p.value
            if p.note:
                self.record.notes[key] = p.note


@cache
def _row_equations(version: str, table_key: str, slots: tuple[str, ...]) -> list[tuple[int, list[int]]]:
    """Return the row rules over these slots as (total index, part indexes): the same for thousands of rows."""
    fmt = load_format(version)
    table = fmt.tables[table_key]
    out = []
    for rule in fmt.rules:
        if rule.table != table.key or rule.per != "row" or len(rule.left) != 1:
            continue
        if rule.left[0] in slots and all(c in slots for c in rule.right):
            out.append((slots.index(rule.left[0]), [slots.index(c) for c in rule.right]))
    for derived in table.derived_columns:
        if derived.key in slots:
            out.append((slots.index(derived.key), [slots.index(c) for c in derived.sums]))
    return out


class _Index(dict[str, str]):
    """Label core → key, with a memo of lookups (labels repeat across thousands of reports)."""

    def __init__(self, items: list[tuple[str, list[str]]]) -> None:
        super().__init__()
        for key, labels in items:
            for label in labels:
                self.setdefault(core(label), key)
        self.memo: dict[str, str | None] = {}


@cache
def _indexes(version: str, table_key: str) -> tuple[_Index, _Index, _Index, _Index]:
    table = load_format(version).tables[table_key]
    return (
        _Index([(r.key, [r.label, *r.aliases]) for r in table.rows]),
        _Index([(c.key, [c.label, *c.aliases]) for c in table.columns]),
        _Index([(d.key, [d.label]) for d in table.derived_columns]),
        _Index([(g.key, [g.label, *g.aliases]) for g in table.groups]),
    )


def _lookup(index: _Index, text: str) -> str | None:
    if text in index.memo:
        return index.memo[text]
    c = core(text)
    found: str | None = None
    if c in index:
        found = index[c]
    elif c:
        # Provincial templates append notes without brackets; a long label that starts the cell still names it.
        hits = {v for k, v in index.items() if len(k) >= 4 and c.startswith(k) and len(c) - len(k) <= 30}
        found = hits.pop() if len(hits) == 1 else None
    if len(index.memo) < 100_000:
        index.memo[text] = found
    return found


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
            value = _is_value(cell)
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


def _is_value(cell: Cell) -> bool:
    return not cell.empty and parse(cell.text).is_value


def _rejoin(rows: list[list[Cell]], reader: TableReader) -> list[list[Cell]]:
    """Mend rows a PDF conversion broke: a label split over two lines, numbers wrapped onto the next line."""
    out: list[list[Cell]] = []
    widest = max(len(r.columns) for r in reader.table.rows) + len(reader.table.derived_columns)
    i = 0
    while i < len(rows):
        row = rows[i]
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        words = [c for c in row if not c.empty]
        after = [c for c in nxt if not c.empty] if nxt is not None else []
        if nxt is None or not words or not after or reader.table.layout == "wide":
            out.append(row)
            i += 1
            continue
        head, tail = words[-1], after[0]
        if not _is_value(tail):
            if not reader.is_known_label(tail.text) and not any(_is_value(c) for c in words):
                joined = head.text.strip() + tail.text.strip()
                if reader.row_key(joined) and not reader.row_key(tail.text):
                    # 「（三）不予」 then 「公开 …」: one label broken over two lines.
                    at = row.index(head)
                    rows[i + 1] = [*row[:at], Cell(joined, head.line), *nxt[nxt.index(tail) + 1 :]]
                    i += 1
                    continue
        elif _is_value(head) and all(_is_value(c) for c in after):
            labelled = [k for k, c in enumerate(row) if not c.empty and not _is_value(c) and reader.row_key(c.text)]
            if labelled:
                have = [c for c in row[labelled[-1] + 1 :] if not c.empty]
                if have and all(_is_value(c) for c in have) and len(have) + len(after) <= widest:
                    n = len(reader.table.row(reader.row_key(row[labelled[-1]].text) or "").columns)
                    if len(have) < n:
                        # The numbers of a long row wrapped onto the next line.
                        out.append([*row[: labelled[-1] + 1], *have, *after])
                        i += 2
                        continue
        out.append(row)
        i += 1
    return out


def _segments(rows: list[list[Cell]], reader: TableReader) -> list[list[Cell]]:
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
            elif seen_value and reader.row_key(cell.text):
                out.append(row[start:i])
                start, seen_value = i, False
        out.append(row[start:])
    return out


def fit(
    tokens: list[Cell],
    parsed: list[Parsed],
    n: int,
    eqs: list[tuple[int, list[int]]],
    hint: int | None = None,
    final: bool = True,
) -> tuple[list[Cell | None] | None, dict[str, Any] | None, int | None]:
    """Fit a row's cells to n columns; where they do not match, let the totals decide, and say so.

    Returns the cells per column, the fields of a row-misaligned warning (messages.toml) when the reading is not
    the plain one, and the number of empty cells
    skipped before the data when the totals chose it (rows of the same shape are read alike). None for the cells
    means: not final and several placements remain; ask again once other rows have shown the table's shape.
    """
    m = len(tokens)
    if m == n:
        return list(tokens), None, None
    values = [p.value for p in parsed]
    shown = " | ".join(t.text.strip() or "·" for t in tokens)
    if m > n:
        # Surplus empty cells at the ends (merged label cells, a trailing tab): which window holds the data?
        windows = [
            s
            for s in range(m - n + 1)
            if all(tokens[i].empty for i in range(s)) and all(tokens[i].empty for i in range(s + n, m))
        ]
        if windows:
            status = {s: _consistent(values[s : s + n], eqs) for s in windows}
            good = [s for s in windows if status[s] is True]
            readings = {_reading(tokens[s : s + n], values[s : s + n]) for s in windows if status[s] is not False}
            if len(good) == 1:
                return tokens[good[0] : good[0] + n], None, good[0]
            if len(readings) == 1:
                s = good[0] if good else next(s for s in windows if status[s] is not False)
                return tokens[s : s + n], None, s if len(windows) == 1 else None
            if hint in status and (status[hint] is not False or not readings):
                # Rows of the same shape (or the header) show where the numbers sit; the totals are checked later.
                return tokens[hint : hint + n], None, None
            if not final:
                return None, None, None
            if len(readings) > 1:
                # Keep what every plausible placement agrees on; blank the rest, with a warning.
                options = [s for s in windows if (status[s] is True) or (not good and status[s] is None)]
                result: list[Cell | None] = []
                for k in range(n):
                    picks = {_reading([tokens[s + k]], [values[s + k]]) for s in options}
                    result.append(tokens[options[0] + k] if len(picks) == 1 else None)
                unsure = sum(1 for c in result if c is None)
                return result, {"case": "ends", **_cells_for(m, n, shown), "unsure": unsure}, None
    inner = list(tokens)
    while inner and inner[0].empty:
        inner.pop(0)
    while inner and inner[-1].empty:
        inner.pop()
    values = [_value_of(t, parsed, tokens) for t in inner]
    shown = " | ".join(t.text.strip() or "·" for t in inner)
    m = len(inner)
    readings: list[list[int | None]] = []  # slot -> index into inner
    if m > n:
        empties = [i for i, t in enumerate(inner) if t.empty]
        combos = _bounded(combinations(range(m), n), m, n)
        if combos is None:
            return [None] * n, {"case": "too-many", **_cells_for(m, n, shown)}, None
        for keep in combos:
            slot_vals = [values[i] for i in keep]
            if _consistent(slot_vals, eqs, blank_is_zero=True):
                readings.append(list(keep))
        only_empty = [r for r in readings if set(range(m)) - set(r) <= set(empties)]
        readings = only_empty or readings
    else:
        combos = _bounded(combinations(range(n), m), n, m)
        if combos is None:
            return [None] * n, {"case": "too-many", **_cells_for(m, n, shown)}, None
        for places in combos:
            slot_idx: list[int | None] = [None] * n
            for token_i, slot in enumerate(places):
                slot_idx[slot] = token_i
            if _consistent([None if s is None else values[s] for s in slot_idx], eqs, blank_is_zero=True):
                readings.append(slot_idx)
    if not readings:
        return [None] * n, {"case": "no-reading", **_cells_for(m, n, shown)}, None
    result = []
    unsure = 0
    for slot in range(n):
        picks = {(None if r[slot] is None else (inner[r[slot]].text.strip(), values[r[slot]])) for r in readings}
        if len(picks) == 1:
            idx = readings[0][slot]
            result.append(None if idx is None else inner[idx])
        else:
            unsure += 1
            result.append(None)
    if unsure:
        return result, {"case": "totals-unsure", **_cells_for(m, n, shown), "unsure": unsure}, None
    return result, {"case": "totals", **_cells_for(m, n, shown)}, None


def _cells_for(m: int, n: int, shown: str) -> dict[str, Any]:
    """Return the fields every row-misaligned reading names: m cells for n columns, as printed."""
    return {"count": m, "columns": n, "cells": shown}


def _reading(cells: list[Cell], values: list[Value]) -> tuple:
    return tuple((c.empty, v) for c, v in zip(cells, values, strict=True))


def _bounded(it, total: int, k: int):
    from math import comb

    return None if comb(total, k) > MAX_CANDIDATES else it


def _value_of(token: Cell, parsed: list[Parsed], tokens: list[Cell]) -> Value:
    for t, p in zip(tokens, parsed, strict=True):
        if t is token:
            return p.value
    return None


def _consistent(values: list[Value], eqs: list[tuple[int, list[int]]], blank_is_zero: bool = False) -> bool | None:
    """True when every total adds up, False when one does not, None when blanks leave a total unchecked."""
    unknown = False
    for target, parts in eqs:
        if target >= len(values):
            return False
        cells = [values[target], *(values[p] for p in parts)]
        if not blank_is_zero and any(v is None for v in cells):
            unknown = True
            continue
        if (values[target] or 0) != sum((values[p] or 0) for p in parts):
            return False
    return None if unknown else True


def _warn_rule_failures(record: Record, fmt: Format) -> None:
    from convert.checks import ERROR, check_rules

    unchecked: dict[str, list[str]] = {}
    for finding in check_rules(record, fmt):
        if finding.severity == ERROR and finding.code != "non-negative":
            record.warn("rule-failed", finding.fields, finding.key)
        elif finding.code == "missing":
            unchecked.setdefault(finding.key.split(".")[0], []).append(finding.key)
    for table, where in unchecked.items():
        # A blank cell beside numbers leaves a total unchecked: a lost cell would go unnoticed, so say so.
        keys = where[:4] + (["…"] if len(where) > 4 else [])
        record.warn("rule-unchecked", {"count": len(where), "table": table, "keys": keys}, table)
