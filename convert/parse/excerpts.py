"""What a warning quotes of the input: the line(s) of cells it came from, as every input kind gives them.

Every kind (text, web page, Word, PDF, and whatever comes next) reaches the reader as numbered lines of cells
(convert/inputs/base.py); a cell the reader holds knows its line. So a warning names the cells it is about, and
its excerpt is those cells' lines, whatever the kind: nothing here knows one kind from another.
"""

from __future__ import annotations

from collections.abc import Iterable

from convert.inputs.base import Line
from convert.parse.values import parse
from convert.record import Excerpt

# An excerpt is for finding the place in the report, not for reading it all: a row, cut short.
EXCERPT_CHARS = 200
SEPARATOR = " | "
ELLIPSIS = "…"


class SourceLines:
    """The input's lines of cells by number, to quote the ones a warning's cells came from."""

    def __init__(self, lines: list[Line], numbered: bool) -> None:
        self.lines = lines
        self.numbered = numbered
        self.index: dict[int, int] = {}
        for i, line in enumerate(lines):
            self.index.setdefault(line.no, i)

    def quote(self, numbers: Iterable[int]) -> Excerpt | None:
        """The excerpt of the lines from the first to the last of these line numbers (a row over several lines)."""
        at = [self.index[n] for n in set(numbers) if n in self.index]
        if not at:
            return None
        first, last = min(at), max(at)
        pieces: list[str] = []
        size = 0
        start = None
        for line in self.lines[first : last + 1]:
            shown = _cells(line)
            if not shown:
                continue
            start = start or line
            pieces.append(shown)
            size += len(shown) + len(SEPARATOR)
            if size > EXCERPT_CHARS:
                break  # the rest would be cut anyway
        if start is None:
            return None  # only blank lines: nothing to show
        text = SEPARATOR.join(pieces)
        if len(text) > EXCERPT_CHARS:
            text = text[: EXCERPT_CHARS - len(ELLIPSIS)].rstrip() + ELLIPSIS
        return Excerpt(text, start.no if self.numbered else None, start.page)


def _cells(line: Line) -> str:
    """A line's cells as one readable text, cells apart: a blank cell between two numbers stays, a gap between
    separators, as the empty box it is on the page; other empty cells (the rest of a merged label) go."""
    cells = [" ".join(c.split()) for c in line.cells]
    kept = []
    for i, cell in enumerate(cells):
        if not cell:
            left = next((c for c in reversed(cells[:i]) if c), "")
            right = next((c for c in cells[i + 1 :] if c), "")
            if not (left and right and parse(left).is_value and parse(right).is_value):
                continue
        kept.append(cell)
    return SEPARATOR.join(kept)


def unique(excerpts: Iterable[Excerpt | None], most: int) -> list[Excerpt]:
    """The excerpts that were found, each once, in order, at most `most` of them."""
    return list(dict.fromkeys(e for e in excerpts if e is not None))[:most]
