"""Scanned reports: page images (pictures, or a PDF without a text layer) read with OCR into lines of cells.

Each page is cleaned (coloured ink such as the red seal turned to paper), straightened, and its ruled tables are
found from their lines as the PDF kind finds them (convert.inputs.scan_page); each table cell's text lines are
cut out and read inside their box, so a number lands in the cell it was printed in and a merged label stays one
cell (convert.inputs.scan_ocr). The tables and the free text then become lines of cells through the PDF kind's
layout (pages joined, page numbers dropped), for the same reader as every other input.

Every cell text read carries its confidence (the Read string); the reader keeps it per value in the record's
source (source.values) and convert.parse.trust flags each value that is unsure or does not add up.
Needs the ocr extra (pip install 'nianbao[ocr]'): RapidOCR's bundled model, onnxruntime, OpenCV, Pillow.
"""

from __future__ import annotations

import functools
import io
import multiprocessing
import re
import sys
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from convert.errors import Phrase, UnreadableInputError, UnsafeInputError
from convert.inputs.base import Document
from convert.safety import Limits

if TYPE_CHECKING:
    import numpy as np

    from convert.inputs.pdf_layout import Block
    from convert.inputs.scan_page import Layout, Piece

# Pictures are read at their own resolution between these (dpi); a finer one is scaled down to MAX_DPI first.
MIN_DPI, MAX_DPI, DEFAULT_DPI = 100, 300, 200
# A picture larger than this is refused before it is decoded (a 600 dpi A3 scan is 70 megapixels).
MAX_PIXELS = 80_000_000
# A piece of free text whose characters were read with less probability than this (on average) is no text: a
# signature, a stain, the seal's rim. A piece of one or two characters (a pen stroke reads as 人 or 1) needs more.
MIN_FREE_LIKENESS = 0.6
SHORT_FREE_LIKENESS = 0.9
# A label read this alike to one of the format's (difflib's ratio) is that label.
LABEL_LIKENESS = 0.8
_CJK = re.compile("[\u3400-\u9fff\uf900-\ufaff]")

# How many processes one report's pages may be read in (set by configure() for a batch).
_page_workers = 1


class Read(str):
    """Text read by OCR, with its page and the confidence (0-1) of its least sure character: its provenance, which
    the reader keeps for each value in the record's source (source.values)."""

    provenance: dict[str, Any]

    def __new__(cls, text: str, confidence: float, page: int) -> Read:
        out = super().__new__(cls, text)
        out.provenance = {"page": page, "confidence": round(float(confidence), 3)}
        return out

    def __reduce__(self) -> tuple[Any, ...]:
        return (Read, (str(self), self.provenance["confidence"], self.provenance["page"]))


def configure(reports: int, jobs: int) -> None:
    """Share the cores between a batch's reports: with fewer reports than cores, a report's pages are spread."""
    global _page_workers
    _page_workers = max(1, jobs // max(1, min(jobs, reports)))


def require(case: str = "image") -> None:
    """Fail with the one-line refusal naming the extra unless the OCR libraries are installed."""
    from convert.inputs.scan_ocr import missing_extra, model_path

    try:
        import cv2  # noqa: F401
        import numpy  # noqa: F401
        import onnxruntime  # noqa: F401
        import PIL.Image  # noqa: F401
    except ImportError as exc:
        raise missing_extra(case) from exc
    if not model_path(case).is_file():
        raise missing_extra("model")


# ---------------------------------------------------------------- pages


@dataclass
class Page:
    """One page to read, loaded only when it is read (a long scan is never all in memory): a frame of a picture
    file, or a PDF page rendered in grey (its two views compressed, see scan_page.grey)."""

    data: bytes | tuple[bytes, bytes]
    name: str
    frame: int = 0
    shape: tuple[int, int] = (0, 0)
    dpi: float = 0.0

    def load(self) -> tuple[tuple[np.ndarray, np.ndarray], float]:
        """The page's grey views and its resolution (dpi)."""
        import numpy as np

        if isinstance(self.data, tuple):
            views = [np.frombuffer(zlib.decompress(v), np.uint8).reshape(self.shape) for v in self.data]
            return (views[0], views[1]), self.dpi
        return decode(self.data, self.name, self.frame)


# ---------------------------------------------------------------- pictures


def read_images(datas: Sequence[bytes], names: Sequence[str], source: dict[str, Any], limits: Limits) -> Document:
    """Read the page images of one report (each file one page, a TIFF maybe several), in order."""
    require()
    pages: list[Page] = []
    for data, name in zip(datas, names, strict=True):
        pages.extend(Page(data, name, k) for k in range(frames(data, name)))
        if len(pages) > limits.max_scan_pages:
            raise UnsafeInputError("scan-too-many-pages", pages=len(pages), limit=limits.max_scan_pages)
    return read_pages(pages, {**source, "layout": "scan"})


def frames(data: bytes, name: str) -> int:
    """How many pages a picture holds (a TIFF may hold several), each checked for a sane size."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(data))
        count = 0
        for frame in ImageSequence.Iterator(img):
            width, height = frame.size
            if width * height > MAX_PIXELS:
                raise UnsafeInputError(
                    "image-too-large", name=name, width=width, height=height, limit=MAX_PIXELS // 1_000_000
                )
            count += 1
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise UnreadableInputError("image-unreadable", name=name) from exc
    return count


def decode(data: bytes, name: str, frame: int = 0) -> tuple[tuple[np.ndarray, np.ndarray], float]:
    """A frame of a picture as its grey views (scan_page.grey) at its resolution, scaled down to MAX_DPI at most."""
    import numpy as np
    from PIL import Image

    from convert.inputs.scan_page import grey

    try:
        img = Image.open(io.BytesIO(data))
        img.seek(frame)
        width, height = img.size
        dpi = _dpi(img.info.get("dpi"), width, height)
        mode = "L" if img.mode in ("1", "L", "I;16", "I", "F") else "RGB"
        array = np.asarray(img.convert(mode))
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise UnreadableInputError("image-unreadable", name=name) from exc
    if dpi > MAX_DPI:
        import cv2

        scale = MAX_DPI / dpi
        array = cv2.resize(array, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        dpi = MAX_DPI
    return grey(array), dpi


def _dpi(stated: Any, width: int, height: int) -> float:
    """The picture's resolution: as stored when that makes a page of report size, else as if it were A4."""
    try:
        dpi = float(stated[0])
    except (TypeError, ValueError, IndexError):
        dpi = 0.0
    if dpi and 7.0 <= max(width, height) / dpi <= 17.5:
        return max(float(MIN_DPI), dpi)
    # No (or a nonsense) resolution: a page's long side is A4's 11.7 inches.
    return max(float(MIN_DPI), max(width, height) / 11.69)


# ---------------------------------------------------------------- PDFs without a text layer


def read_pdf(data: bytes, source: dict[str, Any], limits: Limits, pages: int) -> Document:
    """Render a PDF's pages (in a guarded child, as the PDF kind parses) and read them with OCR."""
    if pages > limits.max_scan_pages:
        raise UnsafeInputError("scan-too-many-pages", pages=pages, limit=limits.max_scan_pages)
    require("pdf")
    from convert.isolate import run_isolated

    rendered = run_isolated(
        render_pdf,
        data,
        limits.max_scan_pages,
        seconds=limits.max_pdf_seconds + 2.0 * pages,
        memory_bytes=limits.max_pdf_memory_bytes,
        what=Phrase("the-pdf"),
    )
    name = str(source.get("name", ""))
    images = [Page(views, name, k, shape, dpi) for k, (views, shape, dpi) in enumerate(rendered)]
    return read_pages(images, {**source, "layout": "scan"})


def render_pdf(data: bytes, max_pages: int) -> list[tuple[tuple[bytes, bytes], tuple[int, int], float]]:
    """Each page's two grey views (see scan_page.grey) at its scan's resolution, compressed."""
    import pypdfium2 as pdfium

    from convert.inputs.scan_page import grey

    pdf = pdfium.PdfDocument(data)
    try:
        out = []
        for index in range(min(len(pdf), max_pages)):
            page = pdf[index]
            try:
                dpi = _scan_dpi(page)
                bitmap = page.render(scale=dpi / 72.0)
                views = grey(
                    bitmap.to_numpy()[:, :, 2::-1] if bitmap.mode in ("BGRA", "BGRX", "BGR") else bitmap.to_numpy()
                )
                packed = (_pack(views[0]), _pack(views[1]))
                out.append((packed, (views[0].shape[0], views[0].shape[1]), dpi))
            finally:
                page.close()
        return out
    finally:
        pdf.close()


def _pack(view: Any) -> bytes:
    import numpy as np

    return zlib.compress(np.ascontiguousarray(view).tobytes(), 1)


def _scan_dpi(page: Any) -> float:
    """The resolution of the largest picture on a page (its scan), within MIN_DPI..MAX_DPI; DEFAULT_DPI if none."""
    import pypdfium2.raw as raw

    width_pt = page.get_width() or 595.0
    best = 0.0
    for index in range(min(raw.FPDFPage_CountObjects(page.raw), 200)):
        obj = raw.FPDFPage_GetObject(page.raw, index)
        if raw.FPDFPageObj_GetType(obj) != raw.FPDF_PAGEOBJ_IMAGE:
            continue
        w = _image_pixels(obj, raw)[0]
        left, _, right, _ = _bounds(obj, raw)
        if w and right - left > 0.5 * width_pt:
            best = max(best, w / ((right - left) / 72.0))
    if not best:
        return float(DEFAULT_DPI)
    return float(min(MAX_DPI, max(MIN_DPI, round(best))))


def _image_pixels(obj: Any, raw: Any) -> tuple[int, int]:
    import ctypes

    w, h = ctypes.c_uint(), ctypes.c_uint()
    if raw.FPDFImageObj_GetImagePixelSize(obj, ctypes.byref(w), ctypes.byref(h)):
        return int(w.value), int(h.value)
    return 0, 0


def _bounds(obj: Any, raw: Any) -> tuple[float, float, float, float]:
    import ctypes

    box = [ctypes.c_float() for _ in range(4)]
    if raw.FPDFPageObj_GetBounds(obj, *map(ctypes.byref, box)):
        return box[0].value, box[1].value, box[2].value, box[3].value
    return 0.0, 0.0, 0.0, 0.0


# ---------------------------------------------------------------- pages to lines


def read_pages(pages: list[Page], source: dict[str, Any]) -> Document:
    """Analyse and read every page (spread over processes when configured), and lay the pages out as lines."""
    from convert.inputs.pdf_layout import PageData, from_blocks
    from convert.inputs.scan_ocr import session_info

    if not pages:
        raise UnreadableInputError("image-unreadable", name=str(source.get("name", "")))
    layouts = _map(_read_page, pages)
    per_page = [_blocks(layout) for layout in layouts]
    datas = [PageData(layout.number, layout.width, layout.height, [], []) for layout in layouts]
    info = {
        **session_info(),
        "dpi": [round(layout.dpi) for layout in layouts],
        "skew": [layout.angle for layout in layouts],
    }
    return from_blocks(per_page, datas, {**source, "ocr": info})


def _read_page(number: int, page: Page) -> Layout:
    """Load and analyse one page and read its pieces (in whichever process runs it)."""
    from convert.inputs.scan_page import analyse, crop

    views, dpi = page.load()
    layout = analyse(views, dpi, number)
    pieces = layout.pieces()
    results = _recognizer().read([crop(layout, p) for p in pieces])
    for piece, (text, confidence, likeness) in zip(pieces, results, strict=True):
        piece.text, piece.confidence, piece.likeness = text, confidence, likeness
    layout.image = None  # the page image goes no further (nor back to the parent process)
    return layout


_RECOGNIZER: Any = None


def _recognizer() -> Any:
    """The recognition model of this process, loaded on first use (never before a fork: each process its own)."""
    global _RECOGNIZER
    if _RECOGNIZER is None:
        from convert.inputs.scan_ocr import Recognizer

        _RECOGNIZER = Recognizer(threads=1)
    return _RECOGNIZER


_PAGES: list[Page] = []


def _map(func: Callable[[int, Page], Layout], pages: list[Page]) -> list[Layout]:
    """func over the pages, numbered from 1: in forked processes when this report has cores of its own."""
    workers = min(_page_workers, len(pages))
    if workers < 2 or multiprocessing.current_process().daemon or not sys.platform.startswith("linux"):
        return [func(i + 1, page) for i, page in enumerate(pages)]
    global _PAGES
    _PAGES = pages  # the forked workers see the pages without their being pickled
    try:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_fresh_worker) as pool:
            return list(pool.map(_page_in_worker, range(len(pages))))
    finally:
        _PAGES = []


def _fresh_worker() -> None:
    """A forked worker loads the model itself: a session made before the fork is not safe to use after it."""
    global _RECOGNIZER
    _RECOGNIZER = None


def _page_in_worker(index: int) -> Layout:
    return _read_page(index + 1, _PAGES[index])


def _blocks(layout: Layout) -> list[Block]:
    """A page's tables and lines of free text as the PDF kind's blocks, top to bottom."""
    from convert.inputs.pdf_layout import Box, Table, TablePart, TextLine, box_rows

    pt = 72.0 / layout.dpi
    blocks: list[Block] = []
    for cells in layout.tables:
        boxes = [Box(*cell.box, _cell_text(cell.lines, layout)) for cell in cells]
        if len(boxes) < 2:
            continue
        rows = box_rows(boxes)
        top, bottom = min(b.top for b in boxes), max(b.bottom for b in boxes)
        x0, x1 = min(b.x0 for b in boxes), max(b.x1 for b in boxes)
        blocks.append(Table([TablePart(layout.number, top, bottom, x0, x1, rows)]))
    body = layout.em * pt / 0.9  # the font size whose characters are em tall
    for line in layout.free:
        kept = [p for p in line if _is_text(p, layout.em)]
        if not kept:
            continue
        height = max(p.bottom - p.top for p in kept) * pt / 0.9
        size = body if 0.75 * body <= height <= 1.3 * body else height
        blocks.append(
            TextLine(
                layout.number,
                min(p.top for p in kept) * pt,
                max(p.bottom for p in kept) * pt,
                min(p.x0 for p in kept) * pt,
                max(p.x1 for p in kept) * pt,
                round(size, 1),
                [Read(p.text, p.confidence, layout.number) for p in kept],
            )
        )
    blocks.sort(key=lambda b: b.top)
    return blocks


def _is_text(piece: Piece, em: float) -> bool:
    """Tell whether a piece of free text was read as text, not as a signature, a stain or the seal's rim: its
    characters read surely enough; with no Chinese in it (a pen's loops read as MMMN), surely and no taller than
    a line of print."""
    if len(piece.text) <= 2:
        return piece.likeness >= SHORT_FREE_LIKENESS
    if not _CJK.search(piece.text):
        return piece.likeness >= SHORT_FREE_LIKENESS and piece.bottom - piece.top <= 2 * em
    return piece.likeness >= MIN_FREE_LIKENESS


def _cell_text(lines: list[Piece], layout: Layout) -> str:
    """A table cell's text: its lines joined (no space in Chinese, one between Latin words or numbers); its
    confidence the least of theirs. Ink that reads as nothing is shown as 「?」, so the cell is flagged, never taken
    as blank; a speck (lower than half a character) that reads as nothing is no text."""
    kept = [p for p in lines if p.text or p.bottom - p.top >= 0.5 * layout.em]
    if not kept:
        return ""
    text = ""
    for piece in kept:
        part = piece.text or "?"
        if text and text[-1].isascii() and part[0].isascii() and text[-1].isalnum() and part[0].isalnum():
            # Latin words, or two numbers (a rule between two rows lost: never one number of their digits).
            text += " "
        text += part
    return Read(_snap_label(text), min(p.confidence for p in kept), layout.number)


def _snap_label(text: str) -> str:
    """A label misread in a character or two (a stroke lost under the seal) as the format's label it must be: the
    one known label (row, group or column, any version) within a few characters' difference; else as read."""
    import difflib

    from convert.formats import core, normalize, strip_numbering
    from convert.parse.values import parse

    if parse(text).is_value:
        return text
    words = core(text)
    labels = _labels()
    if not words or words in labels or len(words) < 4:
        return text
    near = difflib.get_close_matches(words, labels, n=2, cutoff=LABEL_LIKENESS)
    if len(near) != 1:
        return text  # none, or two alike: keep what was read
    whole = normalize(text)
    rest = strip_numbering(whole)
    return whole[: len(whole) - len(rest)] + near[0]


@functools.cache
def _labels() -> list[str]:
    """The words (core) of every row, group and column label and alias of every format version, sorted."""
    from convert.inputs.pdf_layout import known_labels

    return sorted(known_labels())
