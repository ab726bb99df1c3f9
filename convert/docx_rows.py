"""Read a Word .docx document into rows of cells: its paragraphs and real tables, merged cells once, nothing run or fetched."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from convert import safety
from convert.errors import UnreadableInputError, UnsafeInputError
from convert.safety import (
    CORRUPT_ERRORS,
    OLE2_MAGIC,
    RATIO_FLOOR_BYTES,
    ZIP_MAGICS,
    Limits,
    describe_magic,
    human_bytes,
    ole_is_encrypted,
)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
Element = Any  # an lxml element; lxml is imported only when a document is read

# 1 mm is 56.7 twips: grid columns narrower than that are slivers a .doc round trip leaves, not columns.
PHANTOM_TWIPS = 57
# A report's word/document.xml is a few hundred KB; a 100-page one is a few MB.
MAX_DOCUMENT_PART_BYTES = 32 * safety.MB
MAX_RELS_PART_BYTES = 1 * safety.MB
# Word allows 63 columns; a report's three tables hold a few hundred cells.
MAX_GRID_COLUMNS = 256
MAX_ROWS = 200_000
MAX_CELLS = 1_000_000

# External relationships that only carry an address (a hyperlink's URL): never followed, harmless to read past.
# Every other external target (a remote template, a linked picture or object, a subdocument) is refused.
HARMLESS_EXTERNAL = frozenset({"hyperlink"})

_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u00a0]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Elements whose content a reader of the finished document never sees: deleted or moved-away text, the
# fallback copy of alternate content, ruby guide text; paragraph text is read after they are removed.
_HIDDEN = (f"{W}del", f"{W}moveFrom", f"{MC}Fallback", f"{W}rt")
# Containers that only wrap blocks or rows (content controls, custom XML, alternate content): read through them.
_WRAPPERS = frozenset({f"{W}sdt", f"{W}sdtContent", f"{W}customXml", f"{MC}AlternateContent", f"{MC}Choice"})
_EMBEDDED = (f"{W}object", f"{W}control", f"{W}altChunk", "{urn:schemas-microsoft-com:office:office}OLEObject")


def read_docx_rows(data: bytes, limits: Limits | None = None) -> list[list[str]]:
    """Return the document body in order: each paragraph a one-cell row, each table row its cells by grid position."""
    limits = limits or safety.DEFAULT_LIMITS  # read at call time: configure_limits may have replaced it
    root = _document_root(data, limits)
    embedded = next(root.iter(*_EMBEDDED), None)
    if embedded is not None:
        raise UnsafeInputError(
            f"refused: the document embeds an object ({embedded.tag.rsplit('}', 1)[-1]}); embedded objects are never "
            "opened: delete it or paste its contents as a table or text, and save the document again"
        )
    body = root.find(_BODY)
    return _Body(body).rows if body is not None else []


# -- the package --------------------------------------------------------------------------------------------------------
def _document_root(data: bytes, limits: Limits) -> Element:
    """Check the package and return the parsed main document part."""
    if len(data) > limits.max_file_bytes:
        raise UnsafeInputError(
            f"refused: file is {human_bytes(len(data))}, over the {human_bytes(limits.max_file_bytes)} limit"
        )
    if data.startswith(OLE2_MAGIC):
        if ole_is_encrypted(data):
            raise UnreadableInputError(
                "document is password-protected: remove the password in Word or WPS and save it again"
            )
        raise UnreadableInputError("looks like an old Word .doc or WPS document, not .docx: save it as .docx")
    if not data.startswith(ZIP_MAGICS):
        what = describe_magic(data[:16]) or ("plain text" if b"\x00" not in data[:512] else "binary data")
        raise UnreadableInputError(f"not a .docx document (looks like {what})")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return _check_package(zf, limits)
    except (UnreadableInputError, UnsafeInputError):
        raise
    except CORRUPT_ERRORS as exc:
        raise _corrupt(exc) from exc


def _corrupt(detail: object) -> UnreadableInputError:
    text = str(detail).strip().splitlines()[0] if str(detail).strip() else type(detail).__name__
    return UnreadableInputError(f"corrupt .docx: damaged or truncated ({text}); save it again from Word or WPS")


def _check_package(zf: zipfile.ZipFile, limits: Limits) -> Element:
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise UnsafeInputError(f"refused: archive has {len(infos)} members (limit {limits.max_members})")
    # The central directory's sizes bound what zipfile will ever decompress (it stops at file_size and fails the CRC).
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise UnsafeInputError(
                f"refused: compressed data expands to {human_bytes(info.file_size)} from "
                f"{human_bytes(info.compress_size)} in {info.filename} (possible zip bomb)"
            )
    if total > limits.max_uncompressed_bytes:
        raise UnsafeInputError(
            f"refused: compressed data expands to {human_bytes(total)}, over the "
            f"{human_bytes(limits.max_uncompressed_bytes)} limit (possible zip bomb)"
        )
    if any(info.flag_bits & 0x1 for info in infos):
        raise UnreadableInputError(
            "document is password-protected: remove the password in Word or WPS and save it again"
        )
    names = {info.filename.lower(): info for info in infos}
    for low in names:
        base = PurePosixPath(low).name
        if base.startswith("vbaproject") or base == "vbadata.xml":
            raise UnsafeInputError(".docm with macros is refused: macros are never run or kept; save it as .docx")
        if base.startswith("oleobject") or low.startswith("word/activex/"):
            raise UnsafeInputError(
                f"refused: the document embeds an object or control ({names[low].filename}); they are never opened: "
                "delete it or paste its contents as a table or text, and save the document again"
            )
    types = names.get("[content_types].xml")
    if types is None:
        raise UnreadableInputError(f"not a .docx document (looks like {_zip_looks_like(set(names))})")
    if b"macroenabled" in _read_part(zf, types, MAX_RELS_PART_BYTES).lower():
        raise UnsafeInputError(".docm with macros is refused: macros are never run or kept; save it as .docx")
    for low, info in names.items():
        if low.endswith(".rels"):
            _check_relationships(zf, info)
    main = _main_part(zf, names)
    if main is None:
        raise UnreadableInputError(f"not a .docx document (looks like {_zip_looks_like(set(names))})")
    if main.file_size > MAX_DOCUMENT_PART_BYTES:
        raise UnsafeInputError(
            f"refused: {main.filename} is {human_bytes(main.file_size)}, over the "
            f"{human_bytes(MAX_DOCUMENT_PART_BYTES)} limit (a report's is a few hundred KB)"
        )
    root = _parse(_read_part(zf, main, MAX_DOCUMENT_PART_BYTES), main.filename)
    if root.tag == "{http://purl.oclc.org/ooxml/wordprocessingml/main}document":
        raise UnreadableInputError("a Strict Open XML document: save it from Word as a Word Document (.docx)")
    if root.tag != f"{W}document":
        raise UnreadableInputError(f"not a .docx document (looks like {_zip_looks_like(set(names))})")
    return root


def _read_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    if info.file_size > cap:
        raise UnsafeInputError(f"refused: {info.filename} is {human_bytes(info.file_size)}, far too large")
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
        raise _corrupt(f"{name} is not well-formed XML: {exc}") from exc
    if root.getroottree().docinfo.doctype:
        raise _dtd_refusal(name)  # a DTD in an encoding the byte scan cannot see
    return root


def _dtd_refusal(name: str) -> UnsafeInputError:
    return UnsafeInputError(
        f"refused: {name} declares XML entities/DTD (possible entity-expansion attack); "
        "save the document again from Word or WPS"
    )


def _check_relationships(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse a relationship to anything outside the package, except a hyperlink's address."""
    root = _parse(_read_part(zf, info, MAX_RELS_PART_BYTES), info.filename)
    for rel in root.iter(f"{PKG_RELS}Relationship"):
        if (rel.get("TargetMode") or "").lower() != "external":
            continue
        kind = (rel.get("Type") or "").rstrip("/").rsplit("/", 1)[-1]
        if kind.lower() in HARMLESS_EXTERNAL:
            continue
        target = _CONTROL.sub("", rel.get("Target") or "")
        target = target if len(target) <= 80 else target[:77] + "..."
        raise UnsafeInputError(
            f"refused: the document links to outside content ({kind} → {target}); nothing is ever fetched: "
            "remove the link in Word or WPS (or save a copy as .docx without it) and try again"
        )


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


def _zip_looks_like(lowered: set[str]) -> str:
    if "xl/workbook.xml" in lowered:
        return "an Excel workbook"
    if "ppt/presentation.xml" in lowered:
        return "a PowerPoint presentation"
    if "mimetype" in lowered and "content.xml" in lowered:
        return "an OpenDocument file (.odt/.ods): save it as .docx"
    return "a ZIP archive"


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
    """Read a document body into rows, counting them so that a crafted document cannot fill memory."""

    def __init__(self, body: Element) -> None:
        self.rows: list[list[str]] = []
        self.cells = 0
        _drop_hidden(body)
        # Text boxes are read after the paragraph that anchors them, as rows of their own.
        self.boxes: dict[Element, list[Element]] = {}
        for box in list(body.iter(_TXBX)):
            anchor = next(box.iterancestors(_P), None)
            box.getparent().remove(box)
            if anchor is not None:
                self.boxes.setdefault(anchor, []).append(box)
        self.lines: dict[Element, list[str]] = {}  # paragraph -> its text, split at line breaks
        self.numbers: dict[tuple[Element, str], int] = {}  # (cell or row, gridSpan/gridBefore/gridAfter) -> value
        for root in (body, *(box for boxes in self.boxes.values() for box in boxes)):
            self.scan(root)
        self.blocks(body)

    def scan(self, root: Element) -> None:
        """Collect every paragraph's text and every span in one pass (lxml filters the elements in C)."""
        # With text boxes detached, paragraphs never nest: each text element belongs to the last paragraph seen.
        lines: list[str] = [""]
        for el in root.iter(*_SCANNED):
            tag = el.tag
            if tag == _P:
                lines = self.lines[el] = [""]
            elif tag in _TEXT:
                lines[-1] += el.text or ""
            elif tag in _BREAKS:
                lines.append("")
            elif tag in _TABS:
                lines[-1] += "\t"
            elif tag == _HYPHEN:
                lines[-1] += "-"
            else:  # w:gridSpan in w:tcPr, w:gridBefore and w:gridAfter in w:trPr
                owner = el.getparent().getparent()
                try:
                    self.numbers[(owner, tag)] = int(el.get(_VAL, ""))
                except ValueError:
                    pass

    def add(self, row: list[str]) -> None:
        self.cells += len(row)
        if len(self.rows) >= MAX_ROWS or self.cells > MAX_CELLS:
            raise UnsafeInputError(
                f"refused: the document holds over {MAX_ROWS:,} rows or {MAX_CELLS:,} cells; "
                "a report has a few hundred: is this the right file?"
            )
        self.rows.append(row)

    def blocks(self, container: Element) -> None:
        """Read block content (body, cell, text box) in order: paragraphs and tables."""
        for el in container:
            tag = el.tag
            if tag == _P:
                for line in self.lines.get(el, ("",)):
                    self.add([line.strip()])
                for box in self.boxes.get(el, ()):
                    self.blocks(box)
            elif tag == _TBL:
                self.table(el)
            elif tag in _WRAPPERS:
                self.blocks(el)

    def cell_text(self, tc: Element) -> str:
        """A cell's paragraphs joined with newlines, spaces collapsed, empty lines dropped."""
        lines: list[str] = []
        for el in tc:
            if el.tag == _P:
                lines += self.lines.get(el, ())
                for box in self.boxes.get(el, ()):
                    lines.append(self.cell_text(box))
            elif el.tag in _WRAPPERS:
                lines.append(self.cell_text(el))
        cleaned = (_SPACES.sub(" ", line).strip() for line in lines)
        return "\n".join(line for line in cleaned if line)

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
                raise UnsafeInputError(
                    f"refused: a table is over {MAX_GRID_COLUMNS} columns wide (Word allows 63); "
                    "the document is damaged or crafted"
                )
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
                    row[at] = f"{row[at]}\n{text}" if row[at] else text
            self.add(row)


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
