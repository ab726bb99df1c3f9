"""Typeset reports straight into what the PDF kind extracts (characters and ruled cells per page), for layout tests.

A tiny stand-in for Word's or WPS's PDF printer: paragraphs wrap at the margins, tables are drawn from
tests/docgen.py's grids (merged cells and all), rows go onto the next page when they do not fit, or are cut in
two by the break (as Word does by default), header rows may repeat on each page, and pages may carry a running
header and a page number 「- 3 -」. Every character's box is known, so the layout of PDFs is tested without
LibreOffice, with page breaks wherever a test wants them.
"""

from __future__ import annotations

import hashlib
import math
import re
import zlib
from dataclasses import dataclass, field

from convert.formats import load_format
from convert.inputs.pdf_layout import Glyph, PageData
from convert.record import Record
from tests.docgen import LEFT, UP, DocxOptions, FormTable, form_table

CJK = re.compile("[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef“”]")


def advance(ch: str, size: float) -> float:
    """The width of a character: full width for Chinese, half for Latin letters and digits."""
    return size if CJK.match(ch) else size / 2


def width(text: str, size: float) -> float:
    """The width of a run of text."""
    return sum(advance(ch, size) for ch in text)


def wrap(text: str, room: float, size: float, indent: float = 0.0) -> list[str]:
    """Break text into lines no wider than room (the first line indented), character by character."""
    lines, line, used = [], "", indent
    for ch in text:
        w = advance(ch, size)
        if line and used + w > room + 0.01:
            lines.append(line)
            line, used = "", 0.0
        line += ch
        used += w
    if line or not lines:
        lines.append(line)
    return lines


@dataclass
class Options:
    """How the stand-in printer lays out a report."""

    page_height: float = 841.9
    page_width: float = 595.3
    margin: float = 72.0  # top and bottom
    left: float = 51.0
    right: float = 544.3
    size: float = 10.5  # table text
    body: float = 12.0  # paragraphs
    cut_rows: bool = False  # a row that does not fit is cut by the page break (else it goes onto the next page)
    repeat_header: bool = False  # the table's header rows repeat on every page
    footers: bool = False  # a running header (the title) and 「- N -」 at the foot of every page
    thousands: bool = False  # numbers of four digits or more printed 1,234
    narrow_groups: bool = False  # 三's first column one character wide: 三、本年度办理结果 one character a line


@dataclass
class _Piece:
    """Where a stretch of the table's continuous height went: the page, and the page's y of its top."""

    page: int
    start: float  # in table coordinates (the table as one endless strip)
    end: float
    top: float  # on the page


@dataclass
class Typesetter:
    """Lay out blocks of text and tables over pages; collect each page's characters and table cells."""

    opts: Options = field(default_factory=Options)
    pages: list[PageData] = field(default_factory=list)
    y: float = 0.0

    def __post_init__(self) -> None:
        self._new_page()

    @property
    def bottom(self) -> float:
        return self.opts.page_height - self.opts.margin

    def _new_page(self) -> None:
        n = len(self.pages) + 1
        self.pages.append(PageData(n, self.opts.page_width, self.opts.page_height, [], []))
        self.y = self.opts.margin

    def _glyphs(self, text: str, x: float, top: float, size: float) -> None:
        page = self.pages[-1]
        for ch in text:
            w = advance(ch, size)
            if not ch.isspace():
                page.glyphs.append(Glyph(ch, x, top, x + w, top + size, size))
            x += w

    def paragraph(self, text: str, size: float | None = None, center: bool = False, indent: bool = True) -> None:
        """A paragraph: first line indented two characters, wrapped at the right margin; or one centred line."""
        size = size or self.opts.body
        room = self.opts.right - self.opts.left
        first = 2 * size if indent and not center else 0.0
        for i, line in enumerate(wrap(text, room, size, first)):
            if self.y + 1.5 * size > self.bottom:
                self._new_page()
            x = self.opts.left + (first if i == 0 else 0.0)
            if center:
                x = self.opts.left + (room - width(line, size)) / 2
            self._glyphs(line, x, self.y, size)
            self.y += 1.5 * size
        self.y += 0.3 * size

    def table(self, grid: FormTable) -> None:
        """Draw a table grid (merged cells from LEFT/UP markers) over as many pages as it needs."""
        o = self.opts
        size, pad, line_h = o.size, 3.0, o.size * 1.25
        xs = [o.left]
        for w in grid.widths:
            xs.append(xs[-1] + w / 20)
        n_rows, n_cols = len(grid.rows), len(grid.widths)
        cells = []  # (row, col, rows spanned, cols spanned, lines)
        for r, row in enumerate(grid.rows):
            for c, text in enumerate(row):
                if text in (LEFT, UP):
                    continue
                span = 1
                while c + span < n_cols and row[c + span] == LEFT:
                    span += 1
                down = 1
                while r + down < n_rows and grid.rows[r + down][c] == UP:
                    down += 1
                room = xs[c + span] - xs[c] - 2 * pad
                lines = [piece for part in text.split("\n") for piece in wrap(part, room, size)] if text else []
                cells.append((r, c, down, span, lines))
        heights = [17.0] * n_rows
        for r, _c, down, _span, lines in sorted(cells, key=lambda cell: cell[2]):
            need = len(lines) * line_h + 2 * pad
            have = sum(heights[r : r + down])
            if need > have:
                heights[r + down - 1] += need - have
        starts = [0.0]
        for h in heights:
            starts.append(starts[-1] + h)
        header = grid.header_rows if o.repeat_header else 0
        pieces, repeats = self._place_rows(starts, header, line_h + pad)
        for r, c, down, span, lines in cells:
            top, end = starts[r], starts[r + down]
            mine = [p for p in pieces if p.end > top and p.start < end]
            boxes = {p.page: (p.top + max(top, p.start) - p.start, p.top + min(end, p.end) - p.start) for p in mine}
            x0, x1 = xs[c], xs[c + span]
            for page, (t, b) in boxes.items():
                self.pages[page - 1].tables[-1].append((x0, t, x1, b))
            # The text is centred in the whole cell as if the table were one strip, and flows: a line that would
            # cross a page break starts the cell's part on the next page, pushing the lines after it down.
            pos = top + (end - top - len(lines) * line_h) / 2
            for line in lines:
                piece = next((p for p in mine if p.start <= pos < p.end), mine[-1] if pos >= top else mine[0])
                if pos + line_h > piece.end and piece is not mine[-1]:
                    piece = mine[mine.index(piece) + 1]
                    pos = piece.start + pad
                y = piece.top + pos - piece.start
                x = x0 + (x1 - x0 - width(line, size)) / 2
                self.pages[piece.page - 1].glyphs.extend(_run(line, x, y + (line_h - size) / 2, size))
                pos += line_h
            if r < header:
                for page, at in repeats:
                    t, b = at + starts[r], at + starts[r + down]
                    self.pages[page - 1].tables[-1].append((x0, t, x1, b))
                    y = t + (b - t - len(lines) * line_h) / 2
                    for k, line in enumerate(lines):
                        x = x0 + (x1 - x0 - width(line, size)) / 2
                        self.pages[page - 1].glyphs.extend(_run(line, x, y + k * line_h + (line_h - size) / 2, size))
        self.y += 0.5 * size

    def _place_rows(
        self, starts: list[float], header: int, least: float
    ) -> tuple[list[_Piece], list[tuple[int, float]]]:
        """Put the rows onto pages: a row that does not fit goes onto the next page, or is cut by the break.

        Returns the pieces (which stretch of the table went where) and, per later page, where the repeated
        header rows start."""
        o = self.opts
        pieces: list[_Piece] = []
        repeats: list[tuple[int, float]] = []
        self.pages[-1].tables.append([])
        piece = _Piece(self.pages[-1].number, 0.0, 0.0, self.y)
        fresh = False
        for r in range(len(starts) - 1):
            top, end = starts[r], starts[r + 1]
            while True:
                if piece.top + end - piece.start <= self.bottom:
                    piece.end = end
                    break
                # Cut at a line boundary (as Word does): whole lines stay, the rest go on the next page.
                lines = (self.bottom - (piece.top + top - piece.start) - 3.0) // (least - 3.0)
                cut = top + 3.0 + lines * (least - 3.0)
                if o.cut_rows and r >= 3 and lines >= 1 and end - cut >= least:
                    piece.end = top = cut
                elif fresh and piece.end == piece.start:
                    piece.end = end  # a row taller than a page stays whole
                    break
                if piece.end > piece.start:
                    pieces.append(piece)
                self._new_page()
                self.pages[-1].tables.append([])
                if header:
                    repeats.append((self.pages[-1].number, self.y))
                    self.y += starts[header]
                piece = _Piece(self.pages[-1].number, top, top, self.y)
                fresh = True
            fresh = False
        pieces.append(piece)
        self.y = piece.top + piece.end - piece.start
        return pieces, repeats

    def finish(self, title: str = "") -> list[PageData]:
        """The pages, with running headers and page numbers if asked."""
        if self.opts.footers:
            for page in self.pages:
                if title:
                    x = (page.width - width(title, 9)) / 2
                    page.glyphs.extend(_run(title, x, 40.0, 9.0))
                number = f"- {page.number} -"
                page.glyphs.extend(_run(number, (page.width - width(number, 9)) / 2, page.height - 50, 9.0))
        for page in self.pages:
            page.tables[:] = [t for t in page.tables if t]
        return self.pages


def _run(text: str, x: float, top: float, size: float) -> list[Glyph]:
    out = []
    for ch in text:
        w = advance(ch, size)
        if not ch.isspace():
            out.append(Glyph(ch, x, top, x + w, top + size, size))
        x += w
    return out


def _thousands(text: str) -> str:
    return re.sub(r"(?<![\d.])(\d{4,})", lambda m: f"{int(m.group(1)):,}", text)


def typeset(record: Record, opts: Options | None = None, docx: DocxOptions | None = None) -> list[PageData]:
    """Lay out a record as a report, like tests/docgen.py's document printed to PDF."""
    opts = opts or Options()
    docx = docx or DocxOptions()
    fmt = load_format(record.format)
    ts = Typesetter(opts)
    title = record.title or f"{record.agency or ''}{record.year or ''}年政府信息公开工作年度报告"
    ts.paragraph(title, size=18, center=True)
    for text in record.text.get("preface", []):
        ts.paragraph(text)
    for section in fmt.sections:
        ts.paragraph(f"{section.number}、{section.heading}", indent=False)
        if section.kind == "text":
            for text in record.text.get(section.key, []):
                ts.paragraph(text)
            continue
        grid = form_table(fmt, section.key, record, docx)
        if opts.thousands:
            grid.rows = [[_thousands(c) if c not in (LEFT, UP) else c for c in row] for row in grid.rows]
        if opts.narrow_groups and section.key == "requests":
            spare = grid.widths[0] - math.ceil(opts.size * 20 + 6 * 20)
            grid.widths[0] -= spare
            grid.widths[2] += spare
        ts.table(grid)
    return ts.finish(title if opts.footers else "")


# -- writing PDFs by hand -----------------------------------------------------------------------------------------------
def font_objects(first: int) -> dict[int, bytes]:
    """A Chinese font every PDF reader knows without embedding it, as objects first (the font) to first + 2.

    Adobe's STSong-Light with the UCS-2 CMap: each character is its own UTF-16 code. CIDs below 814 (Latin
    letters, digits) are half as wide as the ideographs.
    """
    return {
        first: b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [%d 0 R] >>" % (first + 1),
        first + 1: b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) "
        b"/Ordering (GB1) /Supplement 4 >> /FontDescriptor %d 0 R /DW 1000 /W [1 813 500] >>" % (first + 2),
        first + 2: b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [0 -200 1000 900] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>",
    }


def stream(data: bytes, extra: bytes = b"", compress: bool = True) -> bytes:
    """A stream object's text (Flate-compressed unless asked not to)."""
    if compress:
        data = zlib.compress(data)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def pdf_file(objects: dict[int, bytes], root: int = 1, trailer: bytes = b"") -> bytes:
    """A PDF of numbered objects with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    size = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for i in range(1, size):
        out += (b"%010d 00000 n \n" % offsets[i]) if i in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (size, root, trailer, xref)
    return bytes(out)


def utf16(text: str) -> bytes:
    """A string operand for the UCS-2 font: the text's UTF-16 code units in hex."""
    return b"<" + text.encode("utf-16-be").hex().upper().encode() + b">"


def page_content(page: PageData, rules: str = "boxes") -> bytes:
    """Draw a typeset page: each character where the typesetter put it, and the tables' rules: each cell's box
    ("boxes"), only the lines inside each table, without its outer border ("inner"), or none ("none")."""
    ops = []
    for g in page.glyphs:
        baseline = page.height - g.bottom + 0.12 * g.size  # the font's descent is 0.12 of its size
        ops.append(b"BT /F1 %.2f Tf 1 0 0 1 %.2f %.2f Tm %s Tj ET" % (g.size, g.x0, baseline, utf16(g.text)))
    if rules != "none":
        ops.append(b"0.5 w")
    h = page.height
    for table in page.tables if rules != "none" else []:
        left, top = min(c[0] for c in table), min(c[1] for c in table)
        right, bottom = max(c[2] for c in table), max(c[3] for c in table)
        for x0, y0, x1, y1 in table:
            if rules == "boxes":
                ops.append(b"%.2f %.2f %.2f %.2f re S" % (x0, h - y1, x1 - x0, y1 - y0))
                continue
            for (ax, ay), (bx, by) in (
                ((x0, y0), (x1, y0)),
                ((x0, y1), (x1, y1)),
                ((x0, y0), (x0, y1)),
                ((x1, y0), (x1, y1)),
            ):
                if (ay == by and ay in (top, bottom)) or (ax == bx and ax in (left, right)):
                    continue  # the outer border is not drawn
                ops.append(b"%.2f %.2f m %.2f %.2f l S" % (ax, h - ay, bx, h - by))
    return b"\n".join(ops)


def write_pdf(
    pages: list[PageData],
    rules: str = "boxes",
    owner: bytes | None = None,
    user: bytes = b"",
    catalog: bytes = b"",
    extra: dict[int, bytes] | None = None,
) -> bytes:
    """A PDF of typeset pages, as a PDF printer would write it (text with a character map, ruled tables; rules
    as page_content takes them).

    owner: encrypt it (RC4, 40 bits, the standard security handler revision 2) with this owner password; it
    opens without a password unless user is given too. catalog: more entries of the catalog; extra: more objects
    (numbered from 900).
    """
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R %s>>" % catalog,
        **font_objects(3),
        **(extra or {}),
    }
    lock = _Lock(owner, user) if owner is not None else None
    kids = []
    for k, page in enumerate(pages):
        num = 6 + 2 * k
        kids.append(b"%d 0 R" % num)
        objects[num] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents %d 0 R >>" % (page.width, page.height, num + 1)
        )
        data = zlib.compress(page_content(page, rules))
        if lock is not None:
            data = lock.seal(num + 1, data)
        objects[num + 1] = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(pages))
    if lock is None:
        return pdf_file(objects)
    encrypt = 6 + 2 * len(pages)
    objects[encrypt] = lock.dictionary()
    ident = lock.id.hex().encode()
    return pdf_file(objects, trailer=b"/Encrypt %d 0 R /ID [<%s> <%s>] " % (encrypt, ident, ident))


_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    box = list(range(256))
    j = 0
    for i in range(256):
        j = (j + box[i] + key[i % len(key)]) % 256
        box[i], box[j] = box[j], box[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + box[i]) % 256
        box[i], box[j] = box[j], box[i]
        out.append(byte ^ box[(box[i] + box[j]) % 256])
    return bytes(out)


class _Lock:
    """The standard security handler, revision 2 (PDF 1.7, algorithms 2, 3 and 4)."""

    def __init__(self, owner: bytes, user: bytes) -> None:
        self.id = hashlib.md5(b"nianbao test").digest()
        self.permissions = -3904  # printing allowed, copying not
        self.o = _rc4(hashlib.md5((owner + _PAD)[:32]).digest()[:5], (user + _PAD)[:32])
        p = self.permissions.to_bytes(4, "little", signed=True)
        self.key = hashlib.md5((user + _PAD)[:32] + self.o + p + self.id).digest()[:5]
        self.u = _rc4(self.key, _PAD)

    def seal(self, num: int, data: bytes) -> bytes:
        """Encrypt an object's string or stream with the object's own key."""
        key = hashlib.md5(self.key + num.to_bytes(3, "little") + (0).to_bytes(2, "little")).digest()[:10]
        return _rc4(key, data)

    def dictionary(self) -> bytes:
        return b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>" % (
            self.o.hex().encode(),
            self.u.hex().encode(),
            self.permissions,
        )
