"""Turn report text (plain, markdown, HTML) into numbered lines of cells, one pipeline for all layouts."""

from __future__ import annotations

import re
from dataclasses import dataclass

_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")
_FOOTER = re.compile(
    r"^\s*(?:[—\-–－]+\s*\d{1,3}\s*[—\-–－]+|第\s*\d{1,3}\s*页\s*(?:[，,/]?\s*共\s*\d{1,3}\s*页)?|\d{1,3}\s*/\s*\d{1,3})\s*$"
)
_RULE_CHARS = frozenset(" \t\u3000|+:-—=_*")
_RULE_STROKES = frozenset("-—=_*")
_MD_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_HTML = re.compile(r"<\s*(table|html|body|p|div|tr|td)\b", re.IGNORECASE)


@dataclass
class Line:
    """One line of the input: its number (1-based), its cells, and whether it is a table row."""

    no: int
    cells: list[str]
    is_row: bool = False
    continues: bool = False

    @property
    def text(self) -> str:
        """Return the line's words, cells joined by a space."""
        return " ".join(c.strip() for c in self.cells if c.strip())

    @property
    def blank(self) -> bool:
        """Tell whether the line holds nothing."""
        return not any(c.strip() for c in self.cells)


_MARKUP_CHARS = re.compile(r"[\[*_~#\u00a0\u200b]")


def strip_markup(text: str) -> str:
    """Remove leftovers of Word, markdown and web copies that are not words of the report."""
    if not _MARKUP_CHARS.search(text):
        return text  # most lines carry none: skip the four substitutions
    text = _BOOKMARK.sub("", text)
    text = re.sub(r"\*\*|__|~~", "", text)
    text = re.sub(r"^\s{0,3}#{1,6}\s+", "", text)
    return text.replace("\u00a0", " ").replace("\u200b", "")


def is_noise(text: str) -> bool:
    """Tell whether a line is a page footer or a horizontal rule, never part of the report."""
    stripped = text.strip()
    return bool(stripped) and (bool(_FOOTER.match(stripped)) or _is_rule(stripped))


def _is_rule(text: str) -> bool:
    """Tell whether a line is a horizontal rule (------, ===, | --- |): linear, no regex backtracking."""
    return set(text) <= _RULE_CHARS and sum(ch in _RULE_STROKES for ch in text) >= 3


def detect_kind(text: str) -> str:
    """Return html, markdown or text by looking at the content."""
    head = text[:20000]
    if _HTML.search(head) and re.search(r"</\s*(table|p|div|td|body)\s*>", head, re.IGNORECASE):
        return "html"
    pipe_rows = sum(1 for line in head.splitlines() if line.strip().startswith("|") and line.count("|") >= 3)
    return "markdown" if pipe_rows >= 3 else "text"


def split_lines(text: str, kind: str | None = None) -> tuple[str, list[Line]]:
    """Split a whole report into lines of cells; return the detected kind too."""
    kind = kind or detect_kind(text)
    if kind == "html":
        return kind, _html_lines(text)
    lines: list[Line] = []
    for no, raw in enumerate(text.split("\n"), start=1):
        if kind == "markdown" and raw.strip().startswith("|"):
            if _MD_SEPARATOR.match(raw):
                continue
            body = raw.strip()
            body = body[1:-1] if body.endswith("|") and len(body) > 1 else body[1:]
            cells = [strip_markup(c.replace("<br>", "").replace("<br/>", "")).strip() for c in body.split("|")]
            lines.append(Line(no, cells, is_row=True))
            continue
        raw = strip_markup(raw)
        if is_noise(raw):
            # Footers and rules are dropped outright: a blank line here would split a table row.
            continue
        if "\t" in raw:
            cells = raw.split("\t")
            # A line that starts with a tab and holds one cell is one cell of a one-cell-per-line table.
            lines.append(Line(no, cells, is_row=True))
        else:
            stripped = raw.strip()
            lines.append(Line(no, [stripped], continues=bool(stripped)))
    return kind, lines


def _html_lines(text: str) -> list[Line]:
    import lxml.html

    try:
        root = lxml.html.document_fromstring(text)
    except (ValueError, lxml.etree.ParserError):
        return [Line(i, [strip_markup(t).strip()]) for i, t in enumerate(text.split("\n"), start=1)]
    for bad in root.xpath("//script|//style|//head"):
        bad.getparent().remove(bad)
    out: list[Line] = []
    counter = [0]

    def emit(cells: list[str], is_row: bool) -> None:
        counter[0] += 1
        out.append(Line(counter[0], cells, is_row=is_row))

    blocks = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "section", "article", "blockquote", "pre", "br"}

    def walk(el) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == "table" and not el.xpath(".//table"):
            _table_rows(el, emit)
            emit([""], False)
            return
        has_block_child = any(
            isinstance(c.tag, str) and (c.tag in blocks or c.tag == "table") for c in el.iterchildren()
        )
        if tag in blocks - {"br"} and not has_block_child:
            for part in _text_with_breaks(el).split("\n"):
                emit([strip_markup(part).strip()], False)
            return
        if el.text and el.text.strip():
            emit([strip_markup(el.text).strip()], False)
        for child in el.iterchildren():
            walk(child)
            if child.tail and child.tail.strip():
                emit([strip_markup(child.tail).strip()], False)

    body = root.find("body")
    walk(body if body is not None else root)
    return out


def _text_with_breaks(el) -> str:
    parts: list[str] = []
    if el.text:
        parts.append(el.text)
    for child in el.iterchildren():
        if child.tag == "br":
            parts.append("\n")
        else:
            parts.append(_text_with_breaks(child))
        if child.tail:
            parts.append(child.tail)
    return "".join(parts)


def _cell_text(el) -> str:
    # A <br> inside a table cell breaks a label across lines; the label is one word again.
    text = _text_with_breaks(el).replace("\n", "")
    return re.sub(r"[ \t\r]+", " ", strip_markup(text)).strip()


def _table_rows(table, emit) -> None:
    pending: dict[int, int] = {}  # column -> rows still covered by a rowspan above
    for tr in table.xpath(".//tr"):
        cells: list[str] = []
        col = _fill_spans(cells, 0, pending)
        for td in tr.xpath("./td|./th"):
            col = _fill_spans(cells, col, pending)
            span = _int_attr(td, "colspan")
            rows = _int_attr(td, "rowspan")
            cells.append(_cell_text(td))
            # Merged cells become empty cells, as Word and WPS copies show them.
            cells.extend([""] * (span - 1))
            for k in range(span):
                if rows > 1:
                    pending[col + k] = rows - 1
            col += span
        _fill_spans(cells, col, pending)
        emit(cells, True)


def _fill_spans(cells: list[str], col: int, pending: dict[int, int]) -> int:
    """Add an empty cell for every column a rowspan above still covers; return the next free column."""
    while pending.get(col, 0) > 0:
        pending[col] -= 1
        cells.append("")
        col += 1
    return col


def _int_attr(el, name: str) -> int:
    try:
        return max(1, min(int(el.get(name, "1")), 50))
    except ValueError:
        return 1
