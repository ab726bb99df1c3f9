"""The docx kind: a Word .docx (or .dotx) document read into lines of cells from its own structure, nothing run or fetched.

Paragraphs are one-cell lines; each table row is a row of cells placed by grid position, a merged cell (w:gridSpan
across, w:vMerge down) once and blank after its first position, as the HTML path reads rowspan and colspan. Macros,
embedded objects, links to outside content and XML entity declarations are refused before the body is read.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from convert import safety
from convert.errors import NotAReportError, Phrase, UnreadableInputError, UnsafeInputError
from convert.inputs.base import Document, Kind, Line, Probe, describe_magic, ole_is_encrypted
from convert.safety import CORRUPT_ERRORS, OLE2_MAGIC, ZIP_MAGICS, Limits, human_bytes

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
Element = Any  # an lxml element; lxml is imported only when a document is read

# Names a Word package goes by: the extension decides only for a ZIP too damaged to list its members.
WORD_SUFFIXES = frozenset({".docx", ".docm", ".dotx", ".dotm"})

# 1 mm is 56.7 twips: grid columns narrower than that are slivers a .doc round trip leaves, not columns.
PHANTOM_TWIPS = 57
# A report's word/document.xml is a few hundred KB; a 100-page one is a few MB.
MAX_DOCUMENT_PART_BYTES = 32 * safety.MB
MAX_RELS_PART_BYTES = 1 * safety.MB
# Word allows 63 columns; a report's three tables hold a few hundred cells.
MAX_GRID_COLUMNS = 256
MAX_ROWS = 200_000
MAX_CELLS = 1_000_000


_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u00a0]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Elements whose content a reader of the finished document never sees: deleted or moved-away text, the
# fallback copy of alternate content, ruby guide text; paragraph text is read after they are removed.
_HIDDEN = (f"{W}del", f"{W}moveFrom", f"{MC}Fallback", f"{W}rt")
# Containers that only wrap blocks or rows (content controls, custom XML, alternate content): read through them.
_WRAPPERS = frozenset({f"{W}sdt", f"{W}sdtContent", f"{W}customXml", f"{MC}AlternateContent", f"{MC}Choice"})
_EMBEDDED = (f"{W}object", f"{W}control", f"{W}altChunk", "{urn:schemas-microsoft-com:office:office}OLEObject")


# -- the kind -----------------------------------------------------------------------------------------------------------
def detect(probe: Probe) -> bool:
    """A .docx is a ZIP with a word/document.xml part (or, too damaged to list, a ZIP named like one)."""
    if not probe.is_zip():
        return False
    names = probe.zip_listing
    if not isinstance(names, frozenset):
        return probe.hint in WORD_SUFFIXES
    return "word/document.xml" in names


def read(probe: Probe) -> Document:
    """Vet the package, then read its body into lines of cells."""
    return document(read_lines(probe.data, probe.limits), probe, "docx")


def document(lines: list[Line], probe: Probe, layout: str) -> Document:
    """The document of a Word file's lines; one with no words at all is no report."""
    if not any(not line.blank for line in lines):
        raise NotAReportError("docx-empty")
    source = {"path": str(probe.path), "name": probe.path.name, "sha256": probe.sha256, "layout": layout}
    return Document(lines, source)


KIND = Kind("docx", detect, read)


def read_lines(data: bytes, limits: Limits | None = None) -> list[Line]:
    """Return the document body in order: each paragraph a one-cell line, each table row a row by grid position."""
    limits = limits or safety.DEFAULT_LIMITS  # read at call time: configure_limits may have replaced it
    root = _document_root(data, limits)
    embedded = next(root.iter(*_EMBEDDED), None)
    if embedded is not None:
        raise UnsafeInputError("docx-embedded-object", name=embedded.tag.rsplit("}", 1)[-1])
    body = root.find(_BODY)
    return _Body(body).lines if body is not None else []


# -- the package --------------------------------------------------------------------------------------------------------
def _document_root(data: bytes, limits: Limits) -> Element:
    """Check the package and return the parsed main document part."""
    if len(data) > limits.max_file_bytes:
        raise UnsafeInputError("file-too-large", size=human_bytes(len(data)), limit=human_bytes(limits.max_file_bytes))
    if data.startswith(OLE2_MAGIC):
        if ole_is_encrypted(data):
            raise UnreadableInputError("docx-password")
        raise UnreadableInputError("docx-is-doc")
    if not data.startswith(ZIP_MAGICS):
        what = describe_magic(data[:16]) or (
            Phrase("looks-text") if b"\x00" not in data[:512] else Phrase("looks-binary")
        )
        raise UnreadableInputError("docx-not-docx", what=what)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return _check_package(zf, limits)
    except (UnreadableInputError, UnsafeInputError):
        raise
    except CORRUPT_ERRORS as exc:
        raise _corrupt(exc) from exc


def _corrupt(detail: object) -> UnreadableInputError:
    return UnreadableInputError("docx-corrupt", detail=safety.corrupt_detail(detail))


def _check_package(zf: zipfile.ZipFile, limits: Limits) -> Element:
    infos = zf.infolist()
    safety.check_zip_sizes(infos, limits)
    if any(info.flag_bits & 0x1 for info in infos):
        raise UnreadableInputError("docx-password")
    names = {info.filename.lower(): info for info in infos}
    for low in names:
        base = PurePosixPath(low).name
        if base.startswith("vbaproject") or base == "vbadata.xml":
            raise UnsafeInputError("docx-macros")
        if base.startswith("oleobject") or low.startswith("word/activex/"):
            raise UnsafeInputError("docx-embedded-control", name=names[low].filename)
    types = names.get("[content_types].xml")
    if types is None:
        raise UnreadableInputError("docx-not-docx", what=safety.zip_looks_like(set(names)))
    if b"macroenabled" in _read_part(zf, types, MAX_RELS_PART_BYTES).lower():
        raise UnsafeInputError("docx-macros")
    for low, info in names.items():
        if low.endswith(".rels"):
            _check_relationships(zf, info)
    main = _main_part(zf, names)
    if main is None:
        raise UnreadableInputError("docx-not-docx", what=safety.zip_looks_like(set(names)))
    if main.file_size > MAX_DOCUMENT_PART_BYTES:
        raise UnsafeInputError(
            "docx-part-too-large",
            name=main.filename,
            size=human_bytes(main.file_size),
            limit=human_bytes(MAX_DOCUMENT_PART_BYTES),
        )
    root = _parse(_read_part(zf, main, MAX_DOCUMENT_PART_BYTES), main.filename)
    if root.tag == "{http://purl.oclc.org/ooxml/wordprocessingml/main}document":
        raise UnreadableInputError("docx-strict")
    if root.tag != f"{W}document":
        raise UnreadableInputError("docx-not-docx", what=safety.zip_looks_like(set(names)))
    return root


def _read_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    if info.file_size > cap:
        raise UnsafeInputError("part-far-too-large", name=info.filename, size=human_bytes(info.file_size))
    return zf.read(info)  # verifies the CRC


def _parse(xml: bytes, name: str) -> Element:
    """Parse an XML part with entities, DTDs and the network all off; a DTD anywhere is refused."""
    from lxml import etree

    if _DTD.search(xml):
        raise _dtd_refusal(name)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
        remove_comments=True, remove_pis=True,
    )  # fmt: skip
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise _corrupt(Phrase("part-bad-xml", name=name, error=str(exc))) from exc
    if root.getroottree().docinfo.doctype:
        raise _dtd_refusal(name)  # a DTD in an encoding the byte scan cannot see
    return root


def _dtd_refusal(name: str) -> UnsafeInputError:
    return UnsafeInputError("docx-dtd", name=name)


def _check_relationships(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse a relationship to anything outside the package, except the harmless ones (never followed)."""
    root = _parse(_read_part(zf, info, MAX_RELS_PART_BYTES), info.filename)
    for rel in root.iter(f"{PKG_RELS}Relationship"):
        if (rel.get("TargetMode") or "").lower() != "external":
            continue
        kind = (rel.get("Type") or "").rstrip("/").rsplit("/", 1)[-1]
        target = _CONTROL.sub("", rel.get("Target") or "")
        if _harmless_external(kind, target):
            continue
        target = target if len(target) <= 80 else target[:77] + "..."
        raise UnsafeInputError("docx-external-link", kind=kind, target=target)


def _harmless_external(kind: str, target: str) -> bool:
    """A hyperlink's address, or the template Word last used from this computer's disk: text nobody loads."""
    kind = kind.lower()
    if kind == "hyperlink":
        return True
    if kind != "attachedtemplate":
        return False
    path = target.strip().replace("\\", "/")
    if path.lower().startswith("file:"):
        rest = path[5:]
        # file:///C:/… and file:/… name this computer's disk; file://host/… is a share on the network.
        return not rest.startswith("//") or rest.startswith("///") or rest.lower().startswith("//localhost/")
    return False


def _main_part(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo]) -> zipfile.ZipInfo | None:
    """The main document part named by _rels/.rels (word/document.xml in every Word and WPS file)."""
    rels = names.get("_rels/.rels")
    if rels is not None:
        root = _parse(_read_part(zf, rels, MAX_RELS_PART_BYTES), rels.filename)
        for rel in root.iter(f"{PKG_RELS}Relationship"):
            if (rel.get("Type") or "").endswith("/officeDocument"):
                target = (rel.get("Target") or "").lstrip("/").lower()
                if target in names:
                    return names[target]
    return names.get("word/document.xml")


# -- the body -----------------------------------------------------------------------------------------------------------
_BODY, _P, _TBL, _TR, _TC, _TXBX = (f"{W}{n}" for n in ("body", "p", "tbl", "tr", "tc", "txbxContent"))
_GRID, _GRIDCOL, _VAL, _WIDTH = f"{W}tblGrid", f"{W}gridCol", f"{W}val", f"{W}w"
_SPAN, _BEFORE, _AFTER = f"{W}gridSpan", f"{W}gridBefore", f"{W}gridAfter"
_DEL, _TRPR = f"{W}del", f"{W}trPr"
_TEXT = frozenset({f"{W}t", f"{M}t"})
_BREAKS = frozenset({f"{W}br", f"{W}cr"})
_TABS = frozenset({f"{W}tab", f"{W}ptab"})
_HYPHEN = f"{W}noBreakHyphen"
_SCANNED = (_P, *_TEXT, *_BREAKS, *_TABS, _HYPHEN, _SPAN, _BEFORE, _AFTER)


class _Body:
    """Read a document body into lines, counting them so that a crafted document cannot fill memory."""

    def __init__(self, body: Element) -> None:
        self.lines: list[Line] = []
        self.cells = 0
        _drop_hidden(body)
        # Text boxes are read after the paragraph that anchors them, as lines of their own.
        self.boxes: dict[Element, list[Element]] = {}
        for box in list(body.iter(_TXBX)):
            anchor = next(box.iterancestors(_P), None)
            box.getparent().remove(box)
            if anchor is not None:
                self.boxes.setdefault(anchor, []).append(box)
        self.texts: dict[Element, list[str]] = {}  # paragraph -> its text, split at line breaks
        self.numbers: dict[tuple[Element, str], int] = {}  # (cell or row, gridSpan/gridBefore/gridAfter) -> value
        for root in (body, *(box for boxes in self.boxes.values() for box in boxes)):
            self.scan(root)
        self.blocks(body)

    def scan(self, root: Element) -> None:
        """Collect every paragraph's text and every span in one pass (lxml filters the elements in C)."""
        # With text boxes detached, paragraphs never nest: each text element belongs to the last paragraph seen.
        parts: list[str] = [""]
        for el in root.iter(*_SCANNED):
            tag = el.tag
            if tag == _P:
                parts = self.texts[el] = [""]
            elif tag in _TEXT:
                parts[-1] += el.text or ""
            elif tag in _BREAKS:
                parts.append("")
            elif tag in _TABS:
                parts[-1] += "\t"
            elif tag == _HYPHEN:
                parts[-1] += "-"
            else:  # w:gridSpan in w:tcPr, w:gridBefore and w:gridAfter in w:trPr
                owner = el.getparent().getparent()
                try:
                    self.numbers[(owner, tag)] = int(el.get(_VAL, ""))
                except ValueError:
                    pass

    def add(self, cells: list[str], is_row: bool) -> None:
        self.cells += len(cells)
        if len(self.lines) >= MAX_ROWS or self.cells > MAX_CELLS:
            raise UnsafeInputError("docx-too-many-rows", rows=f"{MAX_ROWS:,}", cells=f"{MAX_CELLS:,}")
        self.lines.append(Line(len(self.lines) + 1, cells, is_row=is_row))

    def paragraph(self, text: str) -> None:
        """One line of a paragraph: one cell, or a row where tabs set words apart (as a copy to text gives it)."""
        cells = [c.strip() for c in text.split("\t")]
        if sum(1 for c in cells if c) > 1:
            self.add(cells, True)
        else:
            self.add(["".join(cells)], False)  # a tab that only indents is no column

    def blocks(self, container: Element) -> None:
        """Read block content (body, cell, text box) in order: paragraphs and tables."""
        for el in container:
            tag = el.tag
            if tag == _P:
                for text in self.texts.get(el, ("",)):
                    self.paragraph(text)
                for box in self.boxes.get(el, ()):
                    self.blocks(box)
            elif tag == _TBL:
                self.table(el)
            elif tag in _WRAPPERS:
                self.blocks(el)

    def cell_text(self, tc: Element) -> str:
        """A cell's words: its paragraphs and lines joined with nothing (商业/企业 is 商业企业), spaces collapsed."""
        parts: list[str] = []
        for el in tc:
            if el.tag == _P:
                parts += self.texts.get(el, ())
                for box in self.boxes.get(el, ()):
                    parts.append(self.cell_text(box))
            elif el.tag in _WRAPPERS:
                parts.append(self.cell_text(el))
        # A line break inside a cell breaks a label across lines, as <br> does in HTML: the label is one word again.
        return "".join(_SPACES.sub(" ", part).strip() for part in parts)

    def table(self, tbl: Element) -> None:
        """Emit a table's rows with each cell at its grid position; a table holding tables is read as plain blocks."""
        if next(tbl.iterdescendants(_TBL), None) is not None:
            # Layout tables (a page wrapped in one big cell) hold the real tables: read their cells as blocks.
            for tr in _children(tbl, _TR):
                for tc in _children(tr, _TC):
                    self.blocks(tc)
            return
        widths: list[int] = []
        grid = tbl.find(_GRID)
        if grid is not None:
            for col in grid.iter(_GRIDCOL):
                try:
                    widths.append(int(float(col.get(_WIDTH, "0"))))
                except ValueError:
                    widths.append(0)
        placed: list[list[tuple[int, int, str]]] = []  # per row: (grid column, span, text)
        extent = len(widths)
        for tr in _children(tbl, _TR):
            pos = max(0, self.numbers.get((tr, _BEFORE), 0))
            cells: list[tuple[int, int, str]] = []
            for tc in _children(tr, _TC):
                span = max(1, self.numbers.get((tc, _SPAN), 1))
                # A continuation of a vertical merge (w:vMerge without restart) is empty: "" below the merged
                # cell's text, as rowspan reads in HTML. Text left in one (rare) is kept where it is, never lost.
                cells.append((pos, span, self.cell_text(tc)))
                pos += span
                if pos > MAX_GRID_COLUMNS:
                    break
            extent = max(extent, pos + max(0, self.numbers.get((tr, _AFTER), 0)))
            if extent > MAX_GRID_COLUMNS:
                raise UnsafeInputError("docx-table-too-wide", columns=MAX_GRID_COLUMNS)
            placed.append(cells)
        keep = _kept_columns(widths, extent, placed)
        index: list[int | None] = []
        n = 0
        for k in keep:
            index.append(n if k else None)
            n += k
        for cells in placed:
            row = [""] * n
            for pos, span, text in cells:
                if not text:
                    continue
                at = next((index[c] for c in range(pos, pos + span) if index[c] is not None), None)
                if at is not None:
                    # Cells never share a grid position in a sound table; in a broken one both texts are kept.
                    row[at] = f"{row[at]} {text}" if row[at] else text
            self.add(row, True)
        self.add([""], False)  # the end of the table, as the HTML path marks it


def _drop_hidden(body: Element) -> None:
    for el in list(body.iter(*_HIDDEN)):
        parent = el.getparent()
        if parent is None:
            continue
        if el.tag == _DEL and parent.tag == _TRPR:
            row = parent.getparent()  # a deleted table row: gone once the changes are accepted
            if row is not None and row.getparent() is not None:
                row.getparent().remove(row)
            continue
        parent.remove(el)


def _children(el: Element, tag: str) -> Iterator[Element]:
    """Children with this tag, looking through content controls and custom XML around them."""
    for child in el:
        if child.tag == tag:
            yield child
        elif child.tag in _WRAPPERS:
            yield from _children(child, tag)


def _kept_columns(widths: list[int], extent: int, placed: list[list[tuple[int, int, str]]]) -> list[bool]:
    """Which grid columns are real: not a sliver under 1 mm, unless some text sits only in slivers."""
    if not any(widths):
        return [True] * extent  # no widths given: every column counts
    narrow = [c < len(widths) and widths[c] < PHANTOM_TWIPS for c in range(extent)]
    keep = [not x for x in narrow]
    for cells in placed:
        for pos, span, text in cells:
            end = min(pos + span, extent)
            if text and pos < end and all(narrow[pos:end]):
                keep[pos] = True  # a cell that lies only in slivers still holds words: never lose them
    return keep
