"""How every sheet we write prints on A4: fit to the page's width, headers, repeated labels, page breaks.

The values come from [standard.print] of workbook_templates/layout.toml. Widths are laid out in Excel's
own unit (the digit width of the workbook's default font, Calibri 11: 7 pixels, plus 5 of padding), the
unit Excel and WPS print by; LibreOffice without that font's metrics draws columns wider, which only
lowers the scale that fitting to the width gives, never cuts text off.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from xlsxwriter.worksheet import Worksheet

from convert.outputs.template import Print, load_template

CHAR_PX = 7  # a column width unit in pixels (Calibri 11's digit)
PAD_PX = 5  # Excel adds this much to every column
PX_PER_INCH = 96
PT_PER_INCH = 72
DEFAULT_ROW_PT = 15.0  # a row whose height is not set


def column_px(width: float) -> float:
    """Return a column's width in pixels, as Excel draws it."""
    return width * CHAR_PX + PAD_PX


@dataclass(frozen=True)
class Area:
    """The printable part of a page: its width in pixels and its height in points."""

    width_px: float
    height_pt: float


def printable(landscape: bool, setup: Print | None = None) -> Area:
    """Return the printable area of a page within the margins."""
    setup = setup or load_template().standard.print
    width, height = setup.page.width, setup.page.height
    if landscape:
        width, height = height, width
    m = setup.margins
    return Area((width - m.left - m.right) * PX_PER_INCH, (height - m.top - m.bottom) * PT_PER_INCH)


def pages_wide(widths: Iterable[float], landscape: bool, scale: int) -> int:
    """Return how many pages wide a sheet must print for its columns to print at about scale percent."""
    total = sum(column_px(w) for w in widths)
    room = printable(landscape).width_px * 100 / scale
    return max(1, math.ceil(total / room))


def fit_scale(widths: Iterable[float], landscape: bool, pages: int = 1) -> float:
    """Return the scale (at most 1) at which columns fit this many pages wide."""
    total = sum(column_px(w) for w in widths)
    return min(1.0, pages * printable(landscape).width_px / total) if total else 1.0


def column_chunks(
    widths: Sequence[float], cuts: Sequence[int], landscape: bool, scale: int, repeat: float = 0.0
) -> list[tuple[int, int]]:
    """Split a sheet's columns into page-wide chunks, cut only where allowed, as even as the cuts allow.

    widths: every column's width; cuts: the columns a chunk may start at (a label merged over several
    columns is never cut); repeat: the width of the columns printed again on each page. A chunk is at most
    as wide as a page holds at about scale percent (unless one uncut run is wider). Returns (first, last).
    """
    px = [column_px(w) for w in widths]
    room = printable(landscape).width_px * 100 / scale
    extra = column_px(repeat) if repeat else 0.0
    allowed = sorted({c for c in cuts if 0 < c < len(px)})
    # Greedy: how many chunks it takes.
    starts, used = [0], 0.0
    for c in range(len(px)):
        if c in allowed and used + _run(px, c, allowed) > room:
            starts.append(c)
            used = extra
        used += px[c]
    k = len(starts)
    if k > 1:
        # Even chunks: each page prints at about the same scale (LibreOffice fits each chunk by itself).
        before = [sum(px[:c]) for c in allowed]
        total = sum(px)
        even = [0]
        for j in range(1, k):
            target = total * j / k
            best = min(
                (c for c, at in zip(allowed, before, strict=True) if c > even[-1]),
                default=None,
                key=lambda c: abs(sum(px[:c]) - target),
            )
            if best is None:
                break
            even.append(best)
        spans = list(zip(even, [*even[1:], len(px)], strict=True))
        if len(even) == k and all(sum(px[a:b]) + (extra if a else 0) <= room for a, b in spans):
            starts = even
    return [(a, b - 1) for a, b in zip(starts, [*starts[1:], len(px)], strict=True)]


def _run(px: Sequence[float], start: int, allowed: Sequence[int]) -> float:
    """Return the width of the uncut run of columns starting at start."""
    end = next((c for c in allowed if c > start), len(px))
    return sum(px[start:end])


def print_chunks(ws: Worksheet, last_row: int, chunks: Sequence[tuple[int, int]]) -> None:
    """Print each chunk of columns as a print area of its own: it starts a page, and is fit to its width."""
    from xlsxwriter.utility import xl_range_abs

    name = "'" + ws.name.replace("'", "''") + "'"
    # xlsxwriter takes one print range; a defined print area may hold several, which Excel and LibreOffice print
    # one after the other, each from a new page.
    ws.print_area_range = ",".join(f"{name}!{xl_range_abs(0, a, last_row, b)}" for a, b in chunks)


def keep_blocks(blocks: Sequence[tuple[int, float]], capacity: float) -> list[int]:
    """Return the rows to break before so that no block is split that would fit on one page.

    blocks: (first row, height in points) in order; capacity: the points a page holds for them.
    """
    breaks: list[int] = []
    used = 0.0
    for first, height in blocks:
        if used and used + height > capacity and height <= capacity:
            breaks.append(first)
            used = 0.0
        used += height
        while used > capacity:
            used -= capacity
    return breaks


def setup_page(
    ws: Worksheet,
    *,
    landscape: bool,
    header: str,
    footer: str,
    pages_wide: int | None = None,
    pages_tall: int | None = None,
) -> None:
    """Set paper, orientation, margins, header and footer, and fit the sheet to the page's width."""
    setup = load_template().standard.print
    ws.set_paper(setup.paper)
    ws.fit_to_pages(
        setup.fit_width if pages_wide is None else pages_wide, setup.fit_height if pages_tall is None else pages_tall
    )
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    m = setup.margins
    ws.set_margins(left=m.left, right=m.right, top=m.top, bottom=m.bottom)
    ws.set_header(header)
    ws.set_footer(footer)


__all__ = [
    "CHAR_PX",
    "DEFAULT_ROW_PT",
    "Area",
    "column_chunks",
    "column_px",
    "fit_scale",
    "keep_blocks",
    "pages_wide",
    "print_chunks",
    "printable",
    "setup_page",
]
