"""The pdf kind: a PDF with a text layer (what Word, WPS and PDF printers make), read into lines of cells.

PDFium (pypdfium2, installed with pdfplumber) gives each character's box and each ruling line, quickly and in C;
pdfplumber's table finder (the lines strategy) turns the ruling lines into cells; convert.inputs.pdf_layout
puts characters into cells and cells into rows. The parse runs in a child process with a memory ceiling and a
deadline (convert.isolate), so a bomb costs a one-line refusal. Nothing in the file is run, fetched or followed:
no form environment is created (so no JavaScript), links, attachments and embedded files are never looked at.
"""

from __future__ import annotations

import ctypes
import math
from typing import Any

from convert.errors import Phrase, UnreadableInputError, UnsafeInputError, UsageError
from convert.inputs.base import Document, Kind, Probe
from convert.inputs.pdf_layout import Glyph, NoTextLayer, PageData, document
from convert.isolate import run_isolated

# A page of a report holds a few hundred to a few thousand drawing objects (text runs, lines); far more is a bomb.
MAX_OBJECTS_PER_PAGE = 50_000
# Forms inside forms: real files nest two or three deep.
MAX_FORM_DEPTH = 16
# Segments of all paths of a page (a table is a few hundred).
MAX_SEGMENTS_PER_PAGE = 200_000
# Table-finder settings: pdfplumber's lines strategy. Lines closer than 3 pt are one line, so the thin
# "phantom" columns that .doc round trips leave (< 1 mm) vanish.
SNAP_TOLERANCE = 3
TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines", "snap_tolerance": SNAP_TOLERANCE}
# A segment this close to horizontal or vertical (in points over its length) is a ruling line.
AXIS_SLACK = 0.5


def detect(probe: Probe) -> bool:
    """A PDF starts with %PDF- (after a stray byte-order mark or blank space, as some downloads have)."""
    return probe.head[:1024].lstrip(b"\xef\xbb\xbf\x00\t\n\r\x0c ").startswith(b"%PDF-")


def read(probe: Probe) -> Document:
    """Read the PDF's characters and ruling lines (in a guarded child process) and lay them out as lines of cells."""
    limits = probe.limits
    data = probe.data
    _load_libraries()  # before the fork, so each PDF does not import them again
    source = {"path": str(probe.path), "name": probe.path.name, "sha256": probe.sha256, "layout": "pdf"}
    try:
        return run_isolated(
            lay_out,
            data,
            limits.max_pdf_pages,
            source,
            seconds=limits.max_pdf_seconds,
            memory_bytes=limits.max_pdf_memory_bytes,
            what=Phrase("the-pdf"),
        )
    except NoTextLayer as exc:
        # A scan: its pages are pictures, read with OCR (the ocr extra).
        from convert.inputs import scan

        return scan.read_pdf(data, source, limits, int(exc.fields.get("pages") or 1))


KIND = Kind("pdf", detect, read)


def _load_libraries() -> None:
    try:
        import pdfplumber.table  # noqa: F401
        import pypdfium2  # noqa: F401
    except ImportError as exc:
        # An extra, so that a default install stays light; the message names it.
        raise UsageError("pdf-extra-missing") from exc


# ---------------------------------------------------------------- in the child


def lay_out(data: bytes, max_pages: int, source: dict[str, Any]) -> Document:
    """Extract the pages and lay them out (both in the child: the parent gets a few hundred lines back)."""
    return document(extract(data, max_pages), source, truncated=b"%%EOF" not in data[-2048:])


def extract(data: bytes, max_pages: int) -> list[PageData]:
    """Every page's characters (display coordinates, points from the top left) and the cells of its ruled tables."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise _open_error(getattr(exc, "err_code", None), raw) from exc
    try:
        count = len(pdf)
        if count > max_pages:
            raise UnsafeInputError("pdf-too-many-pages", count=count, limit=max_pages)
        if count == 0:
            raise UnreadableInputError("pdf-no-pages")
        pages = []
        for index in range(count):
            try:
                page = pdf[index]
            except pdfium.PdfiumError as exc:
                raise UnreadableInputError("pdf-page-unreadable", page=index + 1) from exc
            try:
                pages.append(_page(page, index + 1, raw))
            finally:
                page.close()
        return pages
    finally:
        pdf.close()


def _open_error(code: int | None, raw: Any) -> UnreadableInputError:
    if code == raw.FPDF_ERR_PASSWORD:
        return UnreadableInputError("pdf-password")
    if code == raw.FPDF_ERR_SECURITY:
        return UnreadableInputError("pdf-encrypted")
    return UnreadableInputError("pdf-corrupt")


class _Transform:
    """From PDF user space (y up, any origin, page /Rotate) to the page as displayed: points from its top left."""

    def __init__(self, left: float, bottom: float, right: float, top: float, quarter: int) -> None:
        self.box = (left, bottom, right, top)
        self.quarter = quarter % 4
        across, down = right - left, top - bottom
        self.width, self.height = (across, down) if self.quarter % 2 == 0 else (down, across)

    def point(self, x: float, y: float) -> tuple[float, float]:
        """Return (x, y) of a user-space point on the displayed page, y growing downwards."""
        left, bottom, right, top = self.box
        q = self.quarter
        if q == 0:
            return x - left, top - y
        if q == 1:  # shown turned 90° clockwise
            return y - bottom, x - left
        if q == 2:
            return right - x, y - bottom
        return top - y, right - x

    def rect(self, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        """Return (x0, top, x1, bottom) on the displayed page of a user-space rectangle (x0 < x1, y0 < y1)."""
        left, bottom, right, top = self.box
        q = self.quarter
        if q == 0:  # nearly every page: no rotation
            return x0 - left, top - y1, x1 - left, top - y0
        if q == 1:
            return y0 - bottom, x0 - left, y1 - bottom, x1 - left
        if q == 2:
            return right - x1, y0 - bottom, right - x0, y1 - bottom
        return top - y1, right - x1, top - y0, right - x0


def _page(page: Any, number: int, raw: Any) -> PageData:
    rect = raw.FS_RECTF()
    if not raw.FPDF_GetPageBoundingBox(page.raw, rect):
        raise UnreadableInputError("pdf-page-no-size", page=number)
    left, right = sorted((rect.left, rect.right))
    bottom, top = sorted((rect.bottom, rect.top))
    tf = _Transform(left, bottom, right, top, raw.FPDFPage_GetRotation(page.raw))
    glyphs, unmapped = _glyphs(page, tf, raw)
    edges = _edges(page, tf, raw, number)
    tables = ruled_cells(edges, tf.width, tf.height)
    return PageData(number, tf.width, tf.height, glyphs, tables, unmapped)


def _glyphs(page: Any, tf: _Transform, raw: Any) -> tuple[list[Glyph], int]:
    """The page's characters as drawn (PDFium's generated spaces and line breaks left out); count unmapped ones."""
    textpage = page.get_textpage()
    try:
        tp = textpage.raw
        count = raw.FPDFText_CountChars(tp)
        text = _page_text(tp, count, raw)
        box = raw.FS_RECTF()
        # Upright text on the displayed page has this angle in user space (PDFium measures clockwise).
        upright = (4 - tf.quarter) % 4 * math.pi / 2
        out: list[Glyph] = []
        unmapped = 0
        rect = tf.rect
        for k in range(count):
            ch = text[k] if text is not None else chr(raw.FPDFText_GetUnicode(tp, k))
            if ch.isspace() and raw.FPDFText_IsGenerated(tp, k) == 1:
                continue
            code = ord(ch)
            if code in (0, 0xFFFD) or 0xE000 <= code <= 0xF8FF:
                unmapped += 1
                continue
            if code < 32:
                continue
            angle = raw.FPDFText_GetCharAngle(tp, k)
            if angle != upright and abs(math.remainder(angle - upright, 2 * math.pi)) > 0.1:
                continue  # a watermark or a stamp at an angle, not a word of the report
            if not raw.FPDFText_GetLooseCharBox(tp, k, box):
                continue
            x0, y0, x1, y1 = rect(box.left, box.bottom, box.right, box.top)
            out.append(Glyph(ch, x0, y0, x1, y1, raw.FPDFText_GetFontSize(tp, k) or (y1 - y0)))
        return out, unmapped
    finally:
        textpage.close()


def _page_text(tp: Any, count: int, raw: Any) -> str | None:
    """All the page's characters in one call, one per character index; None when some lie outside the BMP."""
    buf = (ctypes.c_ushort * (count + 1))()
    raw.FPDFText_GetText(tp, 0, count, buf)
    text = ctypes.string_at(buf, 2 * count).decode("utf-16-le", "surrogatepass")
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        return None  # a character outside the BMP takes two units: ask per character
    return text


def _edges(page: Any, tf: _Transform, raw: Any, number: int) -> list[dict[str, Any]]:
    """The page's ruling lines as pdfplumber edges (display coordinates)."""
    edges: list[dict[str, Any]] = []
    budget = {"objects": MAX_OBJECTS_PER_PAGE, "segments": MAX_SEGMENTS_PER_PAGE}
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    rgba = [ctypes.c_uint() for _ in range(4)]
    matrix = raw.FS_MATRIX()
    point = (ctypes.c_float(), ctypes.c_float())

    def refuse() -> UnsafeInputError:
        return UnsafeInputError(
            "pdf-page-too-busy", page=number, objects=MAX_OBJECTS_PER_PAGE, segments=MAX_SEGMENTS_PER_PAGE
        )

    def walk(count: int, get: Any, outer: tuple[float, ...], depth: int) -> None:
        if depth > MAX_FORM_DEPTH:
            raise UnsafeInputError("pdf-forms-too-deep", page=number, limit=MAX_FORM_DEPTH)
        for i in range(count):
            budget["objects"] -= 1
            if budget["objects"] < 0:
                raise refuse()
            obj = get(i)
            kind = raw.FPDFPageObj_GetType(obj)
            if kind == raw.FPDF_PAGEOBJ_FORM:
                m = _matrix(obj, raw, matrix, outer)
                n = raw.FPDFFormObj_CountObjects(obj)
                walk(n, lambda j, form=obj: raw.FPDFFormObj_GetObject(form, j), m, depth + 1)
            elif kind == raw.FPDF_PAGEOBJ_PATH:
                if not raw.FPDFPath_GetDrawMode(obj, ctypes.byref(fill), ctypes.byref(stroke)):
                    continue
                if not stroke.value:
                    if fill.value == 0:
                        continue  # a clipping path: draws nothing
                    if raw.FPDFPageObj_GetFillColor(obj, *map(ctypes.byref, rgba)) and (
                        rgba[3].value == 0 or all(c.value >= 250 for c in rgba[:3])
                    ):
                        continue  # a white or clear area (a page background) draws no line
                m = _matrix(obj, raw, matrix, outer)
                n = raw.FPDFPath_CountSegments(obj)
                budget["segments"] -= max(n, 0)
                if budget["segments"] < 0:
                    raise refuse()
                _path_edges(obj, n, m, tf, raw, point, edges)

    identity = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    count = raw.FPDFPage_CountObjects(page.raw)
    if count > MAX_OBJECTS_PER_PAGE:
        raise refuse()
    walk(count, lambda j: raw.FPDFPage_GetObject(page.raw, j), identity, 0)
    return edges


def _matrix(obj: Any, raw: Any, buf: Any, outer: tuple[float, ...]) -> tuple[float, ...]:
    """The object's matrix composed with its container's: object space to user space."""
    if not raw.FPDFPageObj_GetMatrix(obj, buf):
        return outer
    a, b, c, d, e, f = buf.a, buf.b, buf.c, buf.d, buf.e, buf.f
    oa, ob, oc, od, oe, of = outer
    return (
        a * oa + b * oc,
        a * ob + b * od,
        c * oa + d * oc,
        c * ob + d * od,
        e * oa + f * oc + oe,
        e * ob + f * od + of,
    )


def _path_edges(
    obj: Any, count: int, m: tuple[float, ...], tf: _Transform, raw: Any, point: Any, edges: list[dict[str, Any]]
) -> None:
    """Add the horizontal and vertical straight pieces of a path (curves and slants are no ruling lines)."""
    a, b, c, d, e, f = m
    x, y = point
    start = current = None
    for i in range(count):
        seg = raw.FPDFPath_GetPathSegment(obj, i)
        if not seg or not raw.FPDFPathSegment_GetPoint(seg, ctypes.byref(x), ctypes.byref(y)):
            continue
        here = tf.point(a * x.value + c * y.value + e, b * x.value + d * y.value + f)
        kind = raw.FPDFPathSegment_GetType(seg)
        if kind == raw.FPDF_SEGMENT_MOVETO:
            start = current = here
            continue
        if kind == raw.FPDF_SEGMENT_LINETO and current is not None:
            _addruling_edge(current, here, edges)
        current = here
        if raw.FPDFPathSegment_GetClose(seg) and start is not None:
            _addruling_edge(current, start, edges)
            current = start


def _addruling_edge(p: tuple[float, float], q: tuple[float, float], edges: list[dict[str, Any]]) -> None:
    x0, x1 = sorted((p[0], q[0]))
    top, bottom = sorted((p[1], q[1]))
    if bottom - top <= AXIS_SLACK and x1 - x0 > AXIS_SLACK:
        mid = (top + bottom) / 2
        edges.append(ruling_edge(x0, mid, x1, mid, "h"))
    elif x1 - x0 <= AXIS_SLACK and bottom - top > AXIS_SLACK:
        mid = (x0 + x1) / 2
        edges.append(ruling_edge(mid, top, mid, bottom, "v"))


def ruling_edge(x0: float, top: float, x1: float, bottom: float, orientation: str) -> dict[str, Any]:
    """A ruling line as pdfplumber's table finder takes it (from a PDF's drawing, or found on a scanned page)."""
    return {
        "x0": x0,
        "x1": x1,
        "top": top,
        "bottom": bottom,
        "width": x1 - x0,
        "height": bottom - top,
        "orientation": orientation,
        "object_type": "line",
    }


class _EdgePage:
    """What pdfplumber's TableFinder asks of a page for the lines strategy: its edges and its box."""

    def __init__(self, edges: list[dict[str, Any]], width: float, height: float) -> None:
        self.edges = edges
        self.bbox = (0.0, 0.0, width, height)


def ruled_cells(
    edges: list[dict[str, Any]], width: float, height: float
) -> list[list[tuple[float, float, float, float]]]:
    """The cells (x0, top, x1, bottom) of each ruled table of a page, found by pdfplumber's lines strategy.

    edges: ruling lines as pdfplumber edges (see edge()), in points; a scanned page's lines come here too."""
    if len(edges) < 3:
        return []
    from pdfplumber.table import TableFinder, merge_edges

    snap = SNAP_TOLERANCE
    merged = merge_edges(edges, snap, snap, snap, snap)
    finder = TableFinder(_EdgePage(merged + _frames(merged, snap), width, height), TABLE_SETTINGS)  # type: ignore[arg-type]
    return [[tuple(map(float, cell)) for cell in table.cells] for table in finder.tables]  # type: ignore[misc]


def _frames(edges: list[dict[str, Any]], tolerance: float) -> list[dict[str, Any]]:
    """The outer frame of each group of crossing lines: tables printed without their outer border (only the
    lines inside) still close their outer cells. Where the border is there, the frame lies on it."""
    horizontal = [e for e in edges if e["orientation"] == "h"]
    vertical = [e for e in edges if e["orientation"] == "v"]
    if len(horizontal) * len(vertical) > 250_000:
        return []  # not a table's lines; and too many to pair up cheaply
    group = list(range(len(edges)))

    def find(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    index = {id(e): k for k, e in enumerate(edges)}
    for h in horizontal:
        for v in vertical:
            if (
                h["x0"] - tolerance <= v["x0"] <= h["x1"] + tolerance
                and v["top"] - tolerance <= h["top"] <= v["bottom"] + tolerance
            ):
                group[find(index[id(h)])] = find(index[id(v)])
    members: dict[int, list[dict[str, Any]]] = {}
    for k, e in enumerate(edges):
        members.setdefault(find(k), []).append(e)
    frames = []
    for lines in members.values():
        if sum(e["orientation"] == "h" for e in lines) < 1 or sum(e["orientation"] == "v" for e in lines) < 1:
            continue
        if len(lines) < 3:
            continue  # one line crossing another (a mark, a signature line): no table
        x0, x1 = min(e["x0"] for e in lines), max(e["x1"] for e in lines)
        top, bottom = min(e["top"] for e in lines), max(e["bottom"] for e in lines)
        frames += [
            ruling_edge(x0, top, x1, top, "h"),
            ruling_edge(x0, bottom, x1, bottom, "h"),
            ruling_edge(x0, top, x0, bottom, "v"),
            ruling_edge(x1, top, x1, bottom, "v"),
        ]
    return frames
