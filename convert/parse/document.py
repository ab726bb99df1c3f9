"""A report's lines of cells → a record: its version, sections, title, texts and tables."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

from convert.errors import NotAReportError
from convert.formats import Format, Section, heading_words, known_versions, load_format, normalize, version_for_year
from convert.inputs.base import Line
from convert.parse.excerpts import SourceLines
from convert.parse.grouping import quoted, table_name
from convert.parse.rows import Cell
from convert.parse.table import TableReader
from convert.parse.title import agency_and_year, title_and_preface
from convert.parse.trust import review
from convert.record import Record


def parse_report(text: str, source: dict[str, Any] | None = None) -> Record:
    """Parse the text of a report (plain, markdown or HTML) into a record; refuse what is not an annual report."""
    from convert.inputs.text import document

    doc = document(text, source)
    return parse_lines(doc.lines, doc.source, doc.text, doc.numbered)


def parse_lines(lines: list[Line], source: dict[str, Any], text: str | None = None, numbered: bool = False) -> Record:
    """Read a report's lines of cells, from any kind of input, into a record; refuse what is not an annual report.

    text: the whole document's words, where the format's marker words are looked for (default: the lines' words).
    numbered: whether the lines' numbers are the file's own (a text file), which warnings then tell.
    """
    source = dict(source)
    if text is None:
        text = "\n".join(line.text for line in lines)
    version, version_note = detect_version(text)
    fmt = load_format(version)
    spans = find_sections(lines, fmt.sections)
    record = Record(format=version, cells=dict.fromkeys(fmt.cell_keys), source=source)
    first = min((start for start, _ in spans.values()), default=len(lines))
    record.title, preface = title_and_preface(lines[:first])
    record.text["preface"] = preface
    for section in fmt.sections:
        if section.kind == "text" and section.key in spans:
            start, end = spans[section.key]
            record.text[section.key] = [line.text for line in lines[start + 1 : end] if not line.blank]
    # Every kind's lines reach the reader here: what a warning quotes of the input comes from them.
    quoted_lines = SourceLines(lines, numbered)
    rows = _read_tables(lines, fmt, spans, record, quoted_lines)
    for section in fmt.sections:
        if section.key not in spans:
            record.warn("missing-section", {"number": section.number, "heading": section.heading}, section.key)
    record.agency, record.year = agency_and_year(record, lines)
    if version_note:
        record.warn("format-uncertain", {"case": version_note}, "format")
    _decide_version_by_year(record, version_note)
    _warn_rule_failures(record, fmt)
    review(record, fmt)  # values read by OCR: confirmed by the rules, or named
    _quote_rows(record, rows, quoted_lines)
    return record


def _quote_rows(record: Record, rows: dict[str, list[Cell]], source: SourceLines) -> None:
    """Give each warning about a row or cell that quotes nothing (a broken rule, a value read by OCR) its row.

    rows: the cells of each row read (table.row), source: the input's lines they are quoted from.
    """
    for warning in record.warnings:
        cells = rows.get(".".join(warning.where.split(".")[:2]))
        if cells and not warning.excerpts:
            excerpt = source.quote(c.line for c in cells)
            warning.excerpts = [excerpt] if excerpt is not None else []


def _read_tables(
    lines: list[Line], fmt: Format, spans: dict[str, tuple[int, int]], record: Record, source: SourceLines
) -> dict[str, list[Cell]]:
    """Read every table in its section (or, its heading not found, anywhere); refuse a document without them.

    Return the cells of each row read (table.row → its label and cells).
    """
    found_tables = 0
    rows: dict[str, list[Cell]] = {}
    for key, table in fmt.tables.items():
        heading = None
        if key in spans:
            start, end = spans[key]
            body, strict = lines[start + 1 : end], True
            heading = Cell(lines[start].text, lines[start].no)
        else:
            body, strict = lines, False
        reader = TableReader(fmt, table, record, strict, source, heading)
        if reader.read(body):
            found_tables += 1
            rows.update((f"{key}.{row}", cells) for row, cells in reader.read_rows.items())
        elif key not in spans:
            section = fmt.section(key)
            if not spans:
                raise NotAReportError("no-table-no-report", number=section.number, heading=section.heading)
            raise NotAReportError("no-table", number=section.number, heading=section.heading)
    if not spans and not found_tables:
        raise NotAReportError("not-a-report")
    return rows


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
        totals = quoted(_total_label(fmt, key) for key in dict.fromkeys(where))
        fields = {
            "count": len(where),
            "table": table_name(fmt, table),
            "totals": totals[:4] + ["…"] * (len(totals) > 4),
        }
        record.warn("rule-unchecked", fields, table)


def _total_label(fmt: Format, where: str) -> str:
    """Name a total a rule checks: its row's label (a row's total) or its column's (a column's total)."""
    table, row, *column = where.split(".")
    t = fmt.tables[table]
    return t.column(column[0]).label if row == "*" and column else t.row(row).label
