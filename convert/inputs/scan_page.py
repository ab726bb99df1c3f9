"""Look at one scanned page: clean it, straighten it, find its ruled tables and where its text lines are.

Pure image work (numpy and OpenCV, from the ocr extra); no text is read here (convert.inputs.scan_ocr reads it).
Every length is in pixels of the page as scanned, derived from its resolution (dpi), so a 150 dpi photo and a
300 dpi scan are looked at alike. What comes out is in points (1/72 inch) from the page's top left, as the PDF
kind measures, so both kinds share convert.inputs.pdf_layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

# Ink of a colour (a red seal, a blue or red signature) is no text: a pixel whose channels differ by this much is
# colour. Black print under a red seal stays dark in every channel, so it is kept.
COLOUR_SPREAD = 45
COLOUR_LIGHT = 110
# On paper evened out to white (255), lighter than this is paper (a seal's ink: about 220 in its brightest
# channel), and coloured ink lighter than COLOUR_LEVEL is no print.
PAPER_LEVEL = 205
COLOUR_LEVEL = 150
# Scans are straightened within this many degrees (a page more skewed than this was not fed straight).
MAX_SKEW = 3.0
# A ruling line is at least this long (inches): longer than any stroke of a character at report sizes.
MIN_RULE_INCH = 0.28
# A dark run this long (inches) is a rule wherever it is.
LONG_RULE_INCH = 1.2
# A rule is at least this much darker than paper (0-255), all along its length.
RULE_DARKNESS = 70
# A rule is joined across coloured ink this wide (inches): the rim of a seal, a stroke of a blue signature.
MAX_SEAL_GAP_INCH = 0.12
# Characters are at least this tall (inches, ~7 pt) and at most this (a title at ~29 pt).
MIN_CHAR_INCH = 0.07
MAX_CHAR_INCH = 0.40


@dataclass
class Piece:
    """A run of text on one line to be read: its box in pixels and, once read, its text and confidence."""

    x0: int
    top: int
    x1: int
    bottom: int
    text: str = ""
    confidence: float = 0.0  # the least sure step of its reading
    likeness: float = 0.0  # the mean probability of its characters


@dataclass
class CellArea:
    """One cell of a ruled table (points), and its text lines (pixels)."""

    box: tuple[float, float, float, float]
    lines: list[Piece] = field(default_factory=list)


@dataclass
class Layout:
    """What one page holds: its size in points, its tables' cells, and its lines of free text (pieces per line)."""

    number: int
    dpi: float
    width: float
    height: float
    angle: float
    tables: list[list[CellArea]]
    free: list[list[Piece]]
    em: float  # the height of a character of body text, in pixels
    image: Any = None  # the cleaned, straightened grey page the pieces are cut from (dropped once read)

    def pieces(self) -> list[Piece]:
        """Every piece to read on the page, tables first."""
        out = [p for table in self.tables for cell in table for p in cell.lines]
        return out + [p for line in self.free for p in line]


def grey(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A page in grey, and the mask (255) of its light coloured ink: a seal, a signature in colour.

    Each pixel's brightest channel: red ink is bright in red, blue ink in blue, so coloured marks fade while black
    print stays dark, even under the seal. A pixel whose channels differ much and that is not dark is coloured ink;
    the text is read with it turned to paper (see text_view), the rules are found through it (see rules).
    """
    if image.ndim == 2:
        return image, np.zeros_like(image)
    if image.shape[2] == 4:
        image = image[:, :, :3]
    r, g, b = cv2.split(np.ascontiguousarray(image))
    high = cv2.max(cv2.max(r, g), b)
    low = cv2.min(cv2.min(r, g), b)
    colour = cv2.bitwise_and(
        cv2.threshold(cv2.subtract(high, low), COLOUR_SPREAD, 255, cv2.THRESH_BINARY)[1],
        cv2.threshold(high, COLOUR_LIGHT, 255, cv2.THRESH_BINARY)[1],
    )
    return high, colour


def text_view(page: np.ndarray, colour: np.ndarray, dpi: float) -> np.ndarray:
    """The page to read: on white paper (grey paper and uneven light evened out), pale marks (a seal's ink, which
    is pale in the brightest channel, bleed-through) and light coloured ink turned to paper; print kept as it is."""
    bright = paper(page, dpi)
    even = cv2.divide(page, bright, scale=255)
    even[even > PAPER_LEVEL] = 255
    even[(colour > 0) & (even > COLOUR_LEVEL)] = 255
    return even


def paper(page: np.ndarray, dpi: float) -> np.ndarray:
    """The brightness of the paper under each pixel (grey paper, light falling off): the page with its print lifted."""
    scale = min(1.0, 50.0 / dpi)
    small = cv2.resize(page, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    k = max(3, int(0.25 * dpi * scale) | 1)  # wider than a character: the brightest around is paper
    bright = cv2.blur(cv2.dilate(small, np.ones((k, k), np.uint8)), (k, k))
    return cv2.resize(bright, (page.shape[1], page.shape[0]), interpolation=cv2.INTER_LINEAR)


def binarize(page: np.ndarray, dpi: float) -> np.ndarray:
    """Ink (255) on paper (0), robust to uneven light and JPEG noise."""
    smooth = cv2.medianBlur(page, 3)
    block = max(15, int(dpi / 6) | 1)
    ink = cv2.adaptiveThreshold(smooth, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY_INV, block, 18)
    # Faint grey (paper texture, bleed-through) is no ink, however its neighbourhood looks.
    ink[smooth > 200] = 0
    return ink


def skew_angle(ink: np.ndarray, dpi: float) -> float:
    """The angle (degrees, counter-clockwise positive) the page's lines are turned by, from its ink's profile."""
    scale = min(1.0, 100.0 / dpi)
    small = cv2.resize(ink, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = small.shape
    centre = (w / 2, h / 2)

    def score(angle: float) -> float:
        m = cv2.getRotationMatrix2D(centre, -angle, 1.0)
        turned = cv2.warpAffine(small, m, (w, h), flags=cv2.INTER_NEAREST)
        rows = turned.sum(axis=1, dtype=np.float64)
        return float(np.square(np.diff(rows)).sum())

    best = max(np.arange(-MAX_SKEW, MAX_SKEW + 0.01, 0.25), key=score)
    fine = max(np.arange(best - 0.25, best + 0.26, 0.05), key=score)
    return float(round(fine, 2))


def rotate(image: np.ndarray, angle: float, fill: int = 255) -> np.ndarray:
    """Turn a page back by angle degrees, `fill` (paper) filling the corners."""
    if abs(angle) < 0.05:
        return image
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill)


@dataclass
class Rules:
    """A page's ruling lines: horizontal and vertical segments (pixels) and the mask of their ink."""

    horizontal: list[tuple[int, int, int, int]]  # (x0, y, x1, thickness)
    vertical: list[tuple[int, int, int, int]]  # (x, y0, y1, thickness)
    mask: np.ndarray


def rules(page: np.ndarray, colour: np.ndarray, dpi: float) -> Rules:
    """Find the straight lines longer than any character stroke: the tables' rulings.

    Looked for in the grey page, not in its ink: a thin rule scanned and straightened is a faint grey line that
    a threshold breaks into dashes. Darkness is measured from the paper around; a rule's darkness is gathered from
    three rows or columns (a rule between two pixel rows is two half-dark rows), then only what stays dark all
    along a rule's length is kept. Coloured ink is pale there, so it is no rule, and a rule under it stays dark;
    where JPEG's colour blur pales a rule under the seal's rim, its pieces are joined across the coloured ink.
    """
    length = max(8, int(MIN_RULE_INCH * dpi))
    gap = max(4, int(MAX_SEAL_GAP_INCH * dpi))
    # Seal ink is bright in the page's brightest channel: little darker than paper, unlike a rule under it.
    dark = cv2.subtract(paper(page, dpi), page)
    across = _long_runs(dark, colour, (length, 1), (1, 3), gap)
    down = _long_runs(dark, colour, (1, length), (3, 1), gap)
    thick = max(3, int(dpi / 30))  # a rule is thinner than this; a solid block (a black bar, a photo) is no rule
    horizontal = []
    n, labels, stats, _ = cv2.connectedComponentsWithStats(across, connectivity=8)
    for i, (x, y, w, h, _area) in enumerate(stats[1:n], 1):
        if h <= thick:
            horizontal.append((int(x), int(y + h // 2), int(x + w), int(h)))
        else:
            across[labels == i] = 0
    vertical = []
    n, labels, stats, _ = cv2.connectedComponentsWithStats(down, connectivity=8)
    for i, (x, y, w, h, _area) in enumerate(stats[1:n], 1):
        if w <= thick:
            vertical.append((int(x + w // 2), int(y), int(y + h), int(w)))
        else:
            down[labels == i] = 0
    return Rules(horizontal, vertical, cv2.bitwise_or(across, down))


def _long_runs(
    dark: np.ndarray, colour: np.ndarray, along: tuple[int, int], across: tuple[int, int], gap: int
) -> np.ndarray:
    """The pixels (255) of dark runs at least `along` long; runs broken only by coloured ink are joined."""
    gathered = cv2.dilate(dark, cv2.getStructuringElement(cv2.MORPH_RECT, across))
    # Even out a rule's darkness along it (JPEG blocks, a dry ribbon), so a short pale stretch does not cut it.
    smooth = cv2.blur(gathered, (3, 1) if along[0] > 1 else (1, 3))
    part = (max(1, along[0] * 3 // 4), max(1, along[1] * 3 // 4))  # longer than a stroke of a character
    runs = np.where(smooth > RULE_DARKNESS, np.uint8(255), np.uint8(0))
    pieces = cv2.morphologyEx(runs, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, part))
    bridge = (gap, 1) if along[0] > 1 else (1, gap)
    closed = cv2.morphologyEx(pieces, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, bridge))
    joined = cv2.bitwise_or(pieces, cv2.bitwise_and(closed, cv2.dilate(colour, np.ones((3, 3), np.uint8))))
    return cv2.morphologyEx(joined, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, along))


def char_height(ink: np.ndarray, dpi: float) -> float:
    """The height of a character of body text (pixels): the usual height of the ink's blobs of character size."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    lo, hi = MIN_CHAR_INCH * dpi, MAX_CHAR_INCH * dpi
    heights = stats[1:n, 3]
    widths = stats[1:n, 2]
    ok = heights[(heights >= lo) & (heights <= hi) & (widths <= hi)]
    if len(ok) < 20:
        return 0.16 * dpi  # 12 pt
    return float(np.percentile(ok, 80))


def lines_in(ink: np.ndarray, em: float, split: float | None = None) -> list[list[tuple[int, int, int, int]]]:
    """The text lines in a patch of ink: per line, its pieces (x0, top, x1, bottom), split at gaps wider than
    split × em (None: one piece a line). Strokes of one character (三, 二) are one line, not several."""
    rows = np.count_nonzero(ink, axis=1)
    runs = _runs(rows > 0)
    if not runs:
        return []
    # Join runs while the joined run is no taller than a character: the strokes of 三, or a line's dots.
    merged: list[list[int]] = []
    for top, bottom in runs:
        if merged and bottom - merged[-1][0] <= 1.2 * em and top - merged[-1][1] < 0.6 * em:
            merged[-1][1] = bottom
        else:
            merged.append([top, bottom])
    out = []
    for top, bottom in merged:
        band = ink[top:bottom]
        if bottom - top < 0.25 * em and np.count_nonzero(band) < 0.02 * em * em:
            continue  # a speck of noise, not a line
        cols = np.count_nonzero(band, axis=0) > 0
        spans = _runs(cols)
        if not spans:
            continue
        pieces: list[list[int]] = []
        for x0, x1 in spans:
            if pieces and (split is None or x0 - pieces[-1][1] <= split * em):
                pieces[-1][1] = x1
            else:
                pieces.append([x0, x1])
        line = []
        for x0, x1 in pieces:
            cut = band[:, x0:x1]
            if np.count_nonzero(cut) < 0.01 * em * em:
                continue
            ys = np.flatnonzero(np.count_nonzero(cut, axis=1))
            line.append((x0, top + int(ys[0]), x1, top + int(ys[-1]) + 1))
        if line:
            out.append(line)
    return out


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """The [start, end) runs of True in a 1-D array."""
    if not flags.any():
        return []
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def analyse(views: tuple[np.ndarray, np.ndarray], dpi: float, number: int) -> Layout:
    """Straighten a page (its grey and its coloured ink, see grey()), find its tables' cells and the text lines in
    and outside them."""
    page, colour = views
    text = text_view(page, colour, dpi)
    ink = binarize(text, dpi)
    angle = skew_angle(ink, dpi)
    if angle:
        page, colour, text = rotate(page, angle), rotate(colour, angle, 0), rotate(text, angle)
        ink = binarize(text, dpi)
    found = rules(page, colour, dpi)
    pt = 72.0 / dpi
    h, w = page.shape
    cells = _cells(found, w * pt, h * pt, pt)
    # Text is the ink that is no rule: the dark runs along the cells' borders, and any run too long for a
    # character. A short run elsewhere may be strokes of characters in a row (一一): it stays text.
    near = np.zeros_like(ink)
    band = max(3, int(dpi / 50))
    for table in cells:
        for x0, top, x1, bottom in table:
            a, b, c, d = round(x0 / pt), round(top / pt), round(x1 / pt), round(bottom / pt)
            cv2.rectangle(near, (a, b), (c, d), 255, 2 * band + 1)
    mask = cv2.bitwise_and(found.mask, near)
    long = max(8, int(LONG_RULE_INCH * dpi))
    for kernel in ((long, 1), (1, long)):
        rule = cv2.morphologyEx(found.mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, kernel))
        mask = cv2.bitwise_or(mask, rule)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    text_ink = cv2.bitwise_and(ink, cv2.bitwise_not(mask))
    clean = cv2.bitwise_or(text, mask)
    em = char_height(text_ink, dpi)
    tables: list[list[CellArea]] = []
    covered = np.zeros_like(text_ink)
    pad = max(2, int(dpi / 60))
    for table in cells:
        areas = []
        for box in table:
            x0, top, x1, bottom = (round(v / pt) for v in box)
            covered[top:bottom, x0:x1] = 255
            inner = text_ink[top + pad : bottom - pad, x0 + pad : x1 - pad]
            area = CellArea(box)
            if inner.size:
                for line in lines_in(inner, em):
                    for a, b, c, d in line:
                        area.lines.append(Piece(a + x0 + pad, b + top + pad, c + x0 + pad, d + top + pad))
            areas.append(area)
        tables.append(areas)
    rest = cv2.bitwise_and(text_ink, cv2.bitwise_not(covered))
    free = [[Piece(*p) for p in line] for line in lines_in(rest, em, split=2.0)]
    return Layout(number, dpi, w * pt, h * pt, angle, tables, free, em, clean)


def _cells(found: Rules, width: float, height: float, pt: float) -> list[list[tuple[float, float, float, float]]]:
    """The cells of the page's ruled tables (points), by the PDF kind's table finder."""
    from convert.inputs.pdf import ruled_cells, ruling_edge

    edges = [ruling_edge(x0 * pt, y * pt, x1 * pt, y * pt, "h") for x0, y, x1, _ in found.horizontal]
    edges += [ruling_edge(x * pt, y0 * pt, x * pt, y1 * pt, "v") for x, y0, y1, _ in found.vertical]
    return ruled_cells(edges, width, height)


def crop(layout: Layout, piece: Piece) -> np.ndarray:
    """The piece cut from the cleaned page with a margin of paper around it, as the model was trained on."""
    img = layout.image
    h = piece.bottom - piece.top
    my = max(2, int(0.25 * h))
    mx = max(3, int(0.2 * h))
    top, bottom = max(0, piece.top - my), min(img.shape[0], piece.bottom + my)
    x0, x1 = max(0, piece.x0 - mx), min(img.shape[1], piece.x1 + mx)
    return img[top:bottom, x0:x1]
