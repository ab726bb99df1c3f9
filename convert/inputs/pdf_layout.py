"""Lay out a PDF's characters and ruled cells as the lines of cells every report kind yields.

Input: per page, the characters with their boxes and the cells of each ruled table (convert.inputs.pdf finds
them). A table cell is a box: all text inside it is one cell, whatever its lines (a label that wraps, 商业/企业
on two lines, 三、本年度办理结果 set one character a line). Rows are placed on one grid per table, so a merged
cell is blank after its first grid position, as the HTML path gives them. What real PDFs do at page breaks is
mended: a table that runs onto the next page goes on (its repeated header rows dropped), a row or a merged
label cut in two by the break is one again, and page headers and footers (「- 3 -」) are no lines at all.
Text outside tables becomes one line per paragraph, the lines a paragraph wraps over joined again.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from typing import Any, NamedTuple

from convert.errors import UnreadableInputError
from convert.formats import core, known_versions, load_format
from convert.inputs.base import Document, Line
from convert.inputs.text import is_noise
from convert.parse.values import parse


class Glyph(NamedTuple):
    """One character as displayed: its text and box in points from the page's top left, and its font size."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float


class PageData(NamedTuple):
    """What extraction gives of one page: its characters, the cells of each ruled table, and how many characters
    had no Unicode value (fonts without a character map)."""

    number: int
    width: float
    height: float
    glyphs: list[Glyph]
    tables: list[list[tuple[float, float, float, float]]]
    unmapped: int = 0


# Fewer characters than this (or this many a page) is no text layer: a scan, perhaps with a page number.
MIN_CHARACTERS = 40
MIN_CHARACTERS_PER_PAGE = 15
# Page headers and footers live in this share of the page's height at its top and bottom.
MARGIN_BAND = 0.12
# A gap wider than this many font sizes splits a line of free text into cells (a table without rules).
CELL_GAP = 2.0
# A gap wider than this many font sizes between two digits splits a line of free text too (numbers in columns).
NUMBER_GAP = 0.8
_NUMBER_CHARS = frozenset("0123456789,.-%")
# A gap wider than this many font sizes between two Latin letters or digits is a space.
SPACE_GAP = 0.25
# A paragraph's lines are joined only in a text column at least this many characters wide.
MIN_COLUMN = 15
# Cell edges and column positions closer than this (points) are the same.
SNAP = 2.0

_CJK = re.compile("[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u3000-\u303f\u201c\u201d\u2018\u2019]")
_PAGE_NUMBER = re.compile(r"^\s*(?:\d{1,4}|[-—–－·•]\s*\d{1,4}\s*[-—–－·•]|第\s*\d{1,4}\s*页.*|page\s*\d+.*)\s*$", re.I)
# A label or line numbered like a row or a heading of its own: 「（三）」「一、」「1.」「1、」 (not 「1.5万元」).
_NUMBERED = re.compile(
    r"^\s*(?:[（(][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十]{1,3}\s*[、.．]|\d{1,2}\s*[.、．](?!\d))"
)


# A line above the rest of a table: 「续表」「续上表」「（续表）」「表1（续）」.
_CONTINUED = re.compile(r"^\s*[（(]?(?:续上?表|.{0,8}[（(]续[)）])[)）]?\s*\S{0,12}$")


# ---------------------------------------------------------------- blocks of a page


@dataclass
class TextLine:
    """A line of text outside tables: its cells (one, or several split at wide gaps) and where it sits."""

    page: int
    top: float
    bottom: float
    x0: float
    x1: float
    size: float
    cells: list[str]

    @property
    def text(self) -> str:
        """The line's words, cells joined by a space."""
        return " ".join(self.cells)


@dataclass
class Box:
    """One cell of a ruled table: its box and its text."""

    x0: float
    top: float
    x1: float
    bottom: float
    text: str


@dataclass
class TablePart:
    """The part of a ruled table on one page: its cells, row by row (a merged cell in the row where it starts)."""

    page: int
    top: float
    bottom: float
    x0: float
    x1: float
    rows: list[list[Box]]

    def starts(self) -> list[float]:
        """The left edges of its cells and its right edge: where its columns are."""
        return sorted({round(b.x0, 1) for row in self.rows for b in row} | {round(self.x1, 1)})


@dataclass
class Table:
    """A ruled table, over one page or several."""

    parts: list[TablePart] = field(default_factory=list)

    @property
    def top(self) -> float:
        """Where it starts on its first page."""
        return self.parts[0].top


Block = TextLine | Table


def document(pages: list[PageData], source: dict[str, Any], truncated: bool = False) -> Document:
    """Lay out the pages as lines of cells; refuse a PDF without a text layer."""
    _require_text(pages, truncated)
    return from_blocks([_blocks(page) for page in pages], pages, source)


def from_blocks(per_page: list[list[Block]], pages: list[PageData], source: dict[str, Any]) -> Document:
    """Lay out each page's tables and lines of free text (a scan's, read by OCR, come here too) as lines of cells."""
    _drop_running_lines(per_page, pages)
    blocks = _join_pages(per_page)
    lines = _emit(blocks)
    source = {**source, "pages": len(pages)}
    return Document(lines, source)


def _require_text(pages: list[PageData], truncated: bool) -> None:
    count = sum(1 for p in pages for g in p.glyphs if not g.text.isspace())
    if count >= max(MIN_CHARACTERS, MIN_CHARACTERS_PER_PAGE * len(pages)):
        return
    unmapped = sum(p.unmapped for p in pages)
    if unmapped > count:
        # Its fonts have no character map: the pages can only be read as pictures.
        raise NoTextLayer("pdf-no-text-layer", case="fonts", pages=len(pages))
    if truncated and not count:
        raise UnreadableInputError("pdf-corrupt")
    raise NoTextLayer("pdf-no-text-layer", case="scan", pages=len(pages))


class NoTextLayer(UnreadableInputError):
    """A PDF whose pages are pictures (a scan), or whose text cannot be decoded: the PDF kind reads it with OCR."""


def _blocks(page: PageData) -> list[Block]:
    """The page's tables and lines of free text, top to bottom."""
    glyphs = page.glyphs
    taken = [False] * len(glyphs)
    blocks: list[Block] = []
    for boxes in page.tables:
        part = _table_part(page.number, boxes, glyphs, taken)
        if part is not None:
            blocks.append(Table([part]))
    free = [g for g, t in zip(glyphs, taken, strict=True) if not t]
    for line in _group_lines(free):
        cells = _split_cells(line)
        if not cells:
            continue
        size = max(g.size for g in line)
        blocks.append(
            TextLine(
                page.number,
                min(g.top for g in line),
                max(g.bottom for g in line),
                min(g.x0 for g in line),
                max(g.x1 for g in line),
                size,
                cells,
            )
        )
    blocks.sort(key=lambda b: b.top)
    return blocks


def _table_part(
    page: int, cells: list[tuple[float, float, float, float]], glyphs: list[Glyph], taken: list[bool]
) -> TablePart | None:
    """Put each character whose centre lies in a cell into that cell; group the cells into rows."""
    if len(cells) < 2:
        return None
    xs = sorted({c[0] for c in cells} | {c[2] for c in cells})
    ys = sorted({c[1] for c in cells} | {c[3] for c in cells})
    slot: dict[tuple[int, int], int] = {}
    for k, (x0, top, x1, bottom) in enumerate(cells):
        for i in range(xs.index(x0), xs.index(x1)):
            for j in range(ys.index(top), ys.index(bottom)):
                slot[i, j] = k
    inside: list[list[Glyph]] = [[] for _ in cells]
    left, right, top, bottom = xs[0], xs[-1], ys[0], ys[-1]
    for n, g in enumerate(glyphs):
        cx, cy = (g.x0 + g.x1) / 2, (g.top + g.bottom) / 2
        if not (left < cx < right and top < cy < bottom):
            continue
        owner = slot.get((bisect_right(xs, cx) - 1, bisect_right(ys, cy) - 1))
        if owner is not None:
            inside[owner].append(g)
            taken[n] = True
    boxes = [Box(x0, t, x1, b, _box_text(inside[k])) for k, (x0, t, x1, b) in enumerate(cells)]
    return TablePart(page, top, bottom, left, right, box_rows(boxes))


def box_rows(boxes: list[Box]) -> list[list[Box]]:
    """Group a table's cell boxes into rows (tops within SNAP), top to bottom, each row left to right."""
    rows: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (b.top, b.x0)):
        if rows and abs(rows[-1][0].top - box.top) <= SNAP:
            rows[-1].append(box)
        else:
            rows.append([box])
    for row in rows:
        row.sort(key=lambda b: b.x0)
    return rows


# ---------------------------------------------------------------- characters into text


def _is_cjk(ch: str) -> bool:
    return bool(_CJK.match(ch))


def _group_lines(glyphs: list[Glyph]) -> list[list[Glyph]]:
    """Group characters into lines (by their vertical centres), each line left to right."""
    if not glyphs:
        return []
    ordered = sorted(glyphs, key=lambda g: (g.top + g.bottom) / 2)
    lines: list[list[Glyph]] = []
    centre = -1e9
    tolerance = 0.0
    for g in ordered:
        c = (g.top + g.bottom) / 2
        if lines and c - centre <= tolerance:
            lines[-1].append(g)
        else:
            lines.append([g])
            centre = c
            tolerance = max(1.0, 0.45 * (g.bottom - g.top))
    for line in lines:
        line.sort(key=lambda g: g.x0)
    return lines


def _pieces(line: list[Glyph], split_at: float | None) -> list[str]:
    """The text of a line of characters (fake-bold doubles dropped); split at gaps wider than split_at sizes."""
    pieces: list[list[str]] = [[]]
    prev: Glyph | None = None
    for g in line:
        if prev is not None:
            size = min(g.size, prev.size) or 1.0
            if g.text == prev.text and abs(g.x0 - prev.x0) < 0.2 * size and abs(g.top - prev.top) < 0.2 * size:
                continue  # the same character drawn again a hair to the side: a bold imitation
            gap = g.x0 - prev.x1
            numbers = g.text in _NUMBER_CHARS and prev.text in _NUMBER_CHARS
            if split_at is not None and gap > (NUMBER_GAP if numbers else split_at) * size:
                pieces.append([])  # two numbers are never one: a gap wider than a space splits them
            elif gap > SPACE_GAP * size and not (
                _is_cjk(g.text) or _is_cjk(prev.text) or g.text.isspace() or prev.text.isspace()
            ):
                pieces[-1].append(" ")
        pieces[-1].append(g.text)
        prev = g
    out = [re.sub(r"\s+", " ", "".join(p)).strip() for p in pieces]
    return [p for p in out if p]


def _join_wrapped(parts: list[str]) -> str:
    """Join the lines of a cell or paragraph: no space in Chinese or numbers, one between Latin words."""
    text = ""
    for part in parts:
        if text and text[-1].isascii() and text[-1].isalpha() and part[0].isascii() and part[0].isalpha():
            text += " "
        text += part
    return text


def _box_text(glyphs: list[Glyph]) -> str:
    """The text of one table cell: its lines joined (a box holds one cell, however its text wraps)."""
    if not glyphs:
        return ""
    parts = [" ".join(_pieces(line, None)) for line in _group_lines(glyphs)]
    return _join_wrapped([p for p in parts if p])


def _split_cells(line: list[Glyph]) -> list[str]:
    return _pieces(line, CELL_GAP)


# ---------------------------------------------------------------- page headers and footers


def _drop_running_lines(per_page: list[list[Block]], pages: list[PageData]) -> None:
    """Remove page numbers and running headers and footers: the lines at a page's top and bottom, within its
    margin bands, that are a page number or repeat (numbers aside, in the same size) on several pages."""

    def shape(line: TextLine) -> tuple[str, int]:
        return re.sub(r"\d+", "#", re.sub(r"\s+", "", line.text)), round(line.size)

    def in_band(block: Block, page: PageData) -> bool:
        band = MARGIN_BAND * page.height
        return isinstance(block, TextLine) and (block.top < band or block.bottom > page.height - band)

    seen: Counter[tuple[str, int]] = Counter()
    for blocks, page in zip(per_page, pages, strict=True):
        seen.update({shape(b) for b in blocks if isinstance(b, TextLine) and in_band(b, page)})

    def running(block: Block, page: PageData, dropped: set[tuple[str, int]]) -> bool:
        if not isinstance(block, TextLine) or not in_band(block, page):
            return False
        if _PAGE_NUMBER.match(block.text) or is_noise(block.text):
            return True
        key = shape(block)
        # Once a page: a title that reads like the running header above it stays.
        if len(pages) > 1 and seen[key] > 1 and key not in dropped:
            dropped.add(key)
            return True
        return False

    for i, (blocks, page) in enumerate(zip(per_page, pages, strict=True)):
        start, end = 0, len(blocks)
        dropped: set[tuple[str, int]] = set()
        while start < end and running(blocks[start], page, dropped):
            start += 1
        dropped = set()
        while end > start and running(blocks[end - 1], page, dropped):
            end -= 1
        per_page[i] = blocks[start:end]


# ---------------------------------------------------------------- over page breaks


def _join_pages(per_page: list[list[Block]]) -> list[Block]:
    """Chain the pages' blocks; a table that ends one page and starts the next is one table."""
    out: list[Block] = []
    for blocks in per_page:
        # 「续表」 above the rest of a table says what the layout shows anyway.
        head = 1 if len(blocks) > 1 and isinstance(blocks[0], TextLine) and _CONTINUED.match(blocks[0].text) else 0
        if len(blocks) > head and out and isinstance(out[-1], Table) and isinstance(blocks[head], Table):
            below = blocks[head]
            assert isinstance(below, Table)
            if _continues(out[-1].parts[-1], below.parts[0]):
                out[-1].parts.extend(below.parts)
                blocks = blocks[head + 1 :]
        out.extend(blocks)
    return out


def _continues(above: TablePart, below: TablePart) -> bool:
    """Tell whether a table part at the top of a page goes on from the one at the bottom of the page before."""
    if abs(above.x0 - below.x0) > 3 * SNAP or abs(above.x1 - below.x1) > 3 * SNAP:
        return False
    ours, theirs = above.starts(), below.starts()
    matched = sum(1 for x in theirs if any(abs(x - y) <= 3 * SNAP for y in ours))
    return matched >= 0.6 * len(theirs)


class Slot:
    """A cell placed on a table's grid: its text and how many grid columns it spans."""

    __slots__ = ("span", "text")

    def __init__(self, text: str, span: int) -> None:
        self.text = text
        self.span = span

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Slot) and (self.text, self.span) == (other.text, other.span)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Slot({self.text!r}, {self.span})"


# A row on the grid: a Slot where a cell starts, None where a merged cell (from the left or above) covers.
GridRow = list[Slot | None]


def _grid(table: Table) -> list[list[GridRow]]:
    """Each part's rows on the table's one grid (columns where any part's cells start)."""
    starts = sorted({b.x0 for part in table.parts for row in part.rows for b in row})
    columns: list[float] = []
    for x in starts:
        if not columns or x - columns[-1] > SNAP:
            columns.append(x)

    def column(x: float) -> int:
        k = bisect_right(columns, x + SNAP) - 1
        return max(k, 0)

    out = []
    for part in table.parts:
        rows = []
        for row in part.rows:
            cells: GridRow = [None] * len(columns)
            for box in row:
                k = column(box.x0)
                span = max(1, column(box.x1 - 2 * SNAP) - k + 1)
                old = cells[k]
                cells[k] = Slot(box.text, span) if old is None else Slot(_join_wrapped([old.text, box.text]), old.span)
            rows.append(cells)
        out.append(rows)
    return out


def table_rows(table: Table) -> list[tuple[int, list[str]]]:
    """The rows of a table with the page each starts on, its parts joined: repeated header rows dropped, rows and
    labels cut by a break mended."""
    parts = _grid(table)
    rows = parts[0]
    pages = [table.parts[0].page] * len(rows)
    for part, more in zip(table.parts[1:], parts[1:], strict=True):
        more = more[_repeated_header(rows, more) :]
        if more and rows:
            _mend_break(rows, more)
        rows.extend(more)
        pages += [part.page] * len(more)
    out = [(page, [c.text if c else "" for c in row]) for page, row in zip(pages, rows, strict=True)]
    return [(page, row) for page, row in out if any(row)]


def _repeated_header(rows: list[GridRow], more: list[GridRow]) -> int:
    """How many first rows of a continued part repeat the table's first rows (a header repeated on each page)."""
    n = 0
    while n < min(len(rows), len(more) - 1) and more[n] == rows[n] and not _has_value(rows[n]):
        n += 1
    return n


def _text(cell: Slot | None) -> str:
    return cell.text if cell else ""


def _has_value(row: GridRow) -> bool:
    return any(c and c.text and parse(c.text).is_value for c in row)


def _label_columns(row: GridRow) -> list[int]:
    """The positions of a row's non-empty label cells: those before its first number."""
    out = []
    for k, c in enumerate(row):
        if not c or not c.text:
            continue
        if parse(c.text).is_value:
            break
        out.append(k)
    return out


def _mend_break(rows: list[GridRow], more: list[GridRow]) -> None:
    """Mend what a page break cut: the rest of the last row (the page after starts with it), or the rest of a
    merged label cell (the first row's group label goes on from the cell above the break)."""
    last, first = rows[-1], more[0]
    labels = _label_columns(first)
    if _is_cut_row(last, first, labels):
        for k, cell in enumerate(first):
            if cell and cell.text:
                _append_up(rows, k, cell, len(rows) - 1)
        more.pop(0)
        return
    # A group label (a label left of the row's own) that is not numbered goes on from above the break, unless
    # both halves are labels of their own (two groups, one without its number).
    for k in labels[:-1]:
        cell = first[k]
        if cell and not _NUMBERED.match(cell.text) and _append_up(rows, k, cell, len(rows) - 1):
            first[k] = Slot("", cell.span)


def _is_cut_row(last: GridRow, first: GridRow, labels: list[int]) -> bool:
    """Tell whether the first row after a break is the rest of the last row before it: the same cells (or cells
    merged from above), its own label goes on (does not start a row), the numbers in one half only."""
    if not labels and not any(c and c.text for c in first):
        return False
    if labels and _starts_row(_text(first[labels[-1]])):
        return False  # its own label (the last before the numbers) starts a row; group labels may start anywhere
    if _has_value(first) and _has_value(last):
        return False
    for k, cell in enumerate(first):
        above = last[k]
        if cell is not None and above is not None and above.span != cell.span:
            return False  # another column structure: a header row above a row, not one row cut in two
    ends = [_label_end(last), _label_end(first)]
    # Past the labels, text in both halves of one column is a header row above a row.
    return not any(_text(last[k]) and _text(first[k]) for k in range(min(ends), len(first)))


def _label_end(row: GridRow) -> int:
    """The position of a row's first number (its length when it has none)."""
    return next((k for k, c in enumerate(row) if c and c.text and parse(c.text).is_value), len(row))


def _starts_row(text: str) -> bool:
    """Tell whether a label starts a row of its own: numbered like one (「（三）」「1.」) or a label of the format."""
    return bool(_NUMBERED.match(text)) or _is_label(text)


def _is_label(text: str) -> bool:
    """Tell whether a text is a label of the format all by itself (numbering aside)."""
    return core(text) in known_labels()


@cache
def known_labels() -> frozenset[str]:
    """The cores of every row, group and column label (and alias) of every format version."""
    out: set[str] = set()
    for version in known_versions():
        for table in load_format(version).tables.values():
            labels = [(x.label, *x.aliases) for x in table.rows]
            labels += [(x.label, *x.aliases) for x in table.groups]
            labels += [(x.label, *x.aliases) for x in table.columns]
            out.update(core(label) for group in labels for label in group)
    out.discard("")
    return frozenset(out)


def _covered_across(row: GridRow, col: int) -> bool:
    """Tell whether a grid position is covered by a cell of the same row that starts to its left."""
    return any(c is not None and k + c.span > col for k, c in enumerate(row[:col]))


def _append_up(rows: list[GridRow], col: int, cell: Slot, start: int) -> bool:
    """Append a cell's text to the cell of the same width that covers (start, col): in that row, or the nearest
    above it whose merged cell reaches down to it. Return whether there was one."""
    for r in range(start, -1, -1):
        above = rows[r][col]
        if above is None:
            if _covered_across(rows[r], col):
                return False
            continue  # covered by a cell merged down from above
        if above.span != cell.span or (_is_label(above.text) and _is_label(cell.text)):
            return False
        above.text = _join_wrapped([above.text, cell.text]) if above.text else cell.text
        return True
    return False


# ---------------------------------------------------------------- paragraphs and the lines


def _emit(blocks: list[Block]) -> list[Line]:
    """Number the document's lines: table rows (is_row), a blank line after each table, one line a paragraph."""
    lines: list[Line] = []
    margins = _margins(blocks)
    prev: TextLine | None = None
    for block in blocks:
        if isinstance(block, Table):
            for page, row in table_rows(block):
                lines.append(Line(len(lines) + 1, row, is_row=True, page=page))
            lines.append(Line(len(lines) + 1, [""]))
            prev = None
            continue
        if prev is not None and _wraps_into(prev, block, margins):
            last = lines[-1]
            last.cells[-1] = _join_wrapped([last.cells[-1], block.cells[0]])
        elif len(block.cells) > 1:
            lines.append(Line(len(lines) + 1, list(block.cells), is_row=True, page=block.page))
        else:
            lines.append(Line(len(lines) + 1, list(block.cells), page=block.page))
        prev = block if len(block.cells) == 1 else None
    return lines


def _margins(blocks: list[Block]) -> tuple[float, float]:
    """The text column: the leftmost start and the rightmost end that at least two lines of free text share (a
    single line sticking out is no margin). Without such a column, no lines are joined."""
    lines = [b for b in blocks if isinstance(b, TextLine)]
    if len(lines) < 2:
        return 0.0, 0.0
    sizes = sorted(b.size for b in lines)
    tolerance = 0.6 * sizes[len(sizes) // 2]

    def shared(values: list[float]) -> float | None:
        for a, b in pairwise(values):
            if abs(a - b) <= tolerance:
                return a
        return None

    left = shared(sorted(b.x0 for b in lines))
    right = shared(sorted((b.x1 for b in lines), reverse=True))
    return (left, right) if left is not None and right is not None else (0.0, 0.0)


def _wraps_into(prev: TextLine, line: TextLine, margins: tuple[float, float]) -> bool:
    """Tell whether a line goes on with the paragraph of the line before: that one ran to the right margin and
    this one starts at the left margin (no first-line indent) and not like a heading, in the same size, close below."""
    if len(line.cells) != 1 or abs(prev.size - line.size) > 0.6 or _NUMBERED.match(line.cells[0]):
        return False
    left, right = margins
    if right - left < MIN_COLUMN * line.size:
        return False  # no text column wide enough to tell a full line from a short one
    if prev.x1 < right - 1.5 * prev.size or line.x0 > left + 0.5 * line.size:
        return False
    return line.page != prev.page or line.top - prev.bottom <= 1.2 * line.size
