"""Refuse unsafe or unreadable workbooks before any parser touches them (zip bombs, macros, entities, huge sheets)."""

from __future__ import annotations

import errno
import io
import logging
import os
import posixpath
import re
import stat
import struct
import xml.parsers.expat
import zipfile
import zlib
from dataclasses import dataclass, fields, replace
from pathlib import Path, PurePosixPath
from typing import IO
from xml.etree.ElementTree import Element

try:
    import defusedxml
    import defusedxml.ElementTree as DefusedET
except ImportError:  # pragma: no cover - a dependency; ensure_defused() turns its absence into a clear error
    defusedxml = None  # type: ignore[assignment]
    DefusedET = None  # type: ignore[assignment]

from convert.errors import FormatDataError, Phrase, UnreadableInputError, UnsafeInputError, UsageError

log = logging.getLogger(__name__)

MB = 1024 * 1024

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")

# Members smaller than this cannot bomb anyone, and tiny XML parts legitimately compress very well.
RATIO_FLOOR_BYTES = 1 * MB
# Only this much of an XML part is read to find its prolog; a real part reaches its root element long before.
PROLOG_SCAN_BYTES = 64 * 1024
# Parts parsed whole ([Content_Types].xml, xl/workbook.xml) are a few KB in any real workbook.
MAX_PARSED_PART_BYTES = 16 * MB
STREAM_CHUNK_BYTES = 256 * 1024

WORKBOOK_PART = "xl/workbook.xml"
CONTENT_TYPES_PART = "[Content_Types].xml"
XML_SUFFIXES = (".xml", ".rels", ".vml")


@dataclass(frozen=True)
class Limits:
    """Size ceilings for inputs; the defaults are far above anything a real report reaches."""

    max_file_bytes: int = 50 * MB
    # A summary of 10,000 reports is 78 MB of XML with 10,004 rows and 2.2 M cells in one sheet: the
    # defaults leave room for a province's summary, far below what a bomb or a broken file claims.
    max_uncompressed_bytes: int = 500 * MB
    max_ratio: int = 100
    max_members: int = 2000
    max_sheets: int = 50
    # Both are counted while each sheet streams (safety first, then read-back), the <dimension> only claims them.
    max_rows_per_sheet: int = 100_000
    max_cells: int = 25_000_000
    # The XML read back cell by cell: every sheet but a summary's detail sheets, the shared strings and styles,
    # shared formulas charged for expanding them (convert/xlsx.py). A report's is ~300 KB, a 10,000-report summary's under 1 MB; 16 MB
    # of the smallest elements parse in a few seconds and under 600 MB.
    max_read_xml_bytes: int = 16 * MB
    # A number cell of a workbook holds at most 12 digits before the point: a count of a trillion requests, or a
    # trillion 万元, is no real figure but a typo, a pasted ID or an attack (1e28 broke the money arithmetic).
    max_cell_value: int = 999_999_999_999
    # A report's text or HTML is tens of KB (samples: 7-11 KB); parsing is roughly linear, ~1 s per MB of junk.
    max_text_bytes: int = 10 * MB
    # A report is 2-20 pages; a PDF is read in a child process with this much more memory and time (an 8-page
    # report needs about 60 MB and 0.2 s; two workers each reading a bomb stay under 2 GB together).
    max_pdf_pages: int = 200
    max_pdf_seconds: int = 15
    max_pdf_memory_bytes: int = 512 * MB
    # A scanned report (pictures, a PDF without text) is read with OCR at a few seconds a page.
    max_scan_pages: int = 60


DEFAULT_LIMITS = Limits()


def configure_limits(overrides: dict[str, int]) -> Limits:
    """Raise (or lower) the process-wide default limits, e.g. {"max_cells": 2_000_000}; workers inherit them."""
    global DEFAULT_LIMITS
    known = {f.name for f in fields(Limits)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise UsageError("limit-unknown", names=unknown, known=sorted(known))
    if any(v <= 0 for v in overrides.values()):
        raise UsageError("limit-not-positive")
    DEFAULT_LIMITS = replace(DEFAULT_LIMITS, **overrides)
    return DEFAULT_LIMITS


def human_bytes(n: int) -> str:
    """Format a byte count as B/KB/MB/GB for messages."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover - loop always returns


def ensure_defused() -> None:
    """Refuse to go on if openpyxl would parse XML without defusedxml (entity attacks)."""
    # openpyxl picks defusedxml up at import time unless OPENPYXL_DEFUSEDXML=False or it is missing.
    # Imported here, not at the top: text reports never need openpyxl, and it costs 0.2 s to import.
    import openpyxl

    if not getattr(openpyxl, "DEFUSEDXML", False) or defusedxml is None:
        raise FormatDataError("defusedxml-off")


def _looks_like(head: bytes) -> Phrase:
    """Describe what a non-zip file seems to be, for 'not an .xlsx' messages."""
    from convert.inputs.base import describe_magic  # the input kinds know the formats; this module only refuses

    what = describe_magic(head)
    if what:
        return what
    if not head:
        return Phrase("looks-empty")
    if b"\x00" in head:
        return Phrase("looks-binary")
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return Phrase("looks-html")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(head) - 4:
            return Phrase("looks-binary-or-encoded")
    return Phrase("looks-text")


def ole_refusal(data: bytes) -> UnreadableInputError:
    """The refusal for an OLE2 file given as a workbook: password-protected, or old .xls."""
    from convert.inputs.xls import refusal  # the xls input kind words it

    return refusal(data)


def os_reason(exc: OSError) -> Phrase | str:
    """Why the system could not open a file, in the reader's language for the usual causes (else as it says)."""
    reasons = {
        errno.EACCES: Phrase("os-denied"),
        errno.EPERM: Phrase("os-denied"),
        errno.ENOENT: Phrase("os-missing"),
        errno.ENAMETOOLONG: Phrase("os-name-too-long"),
        errno.EIO: Phrase("os-io-error"),
        errno.ELOOP: Phrase("os-link-loop"),
    }
    return reasons.get(exc.errno or 0) or exc.strerror or str(exc)


def stat_input(path: Path) -> os.stat_result:
    """Stat an input, refusing anything but an existing regular file."""
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise UnreadableInputError("cannot-open-missing") from exc
    except OSError as exc:
        raise UnreadableInputError("cannot-open", reason=os_reason(exc)) from exc
    if stat.S_ISDIR(st.st_mode):
        raise UnreadableInputError("cannot-open-folder")
    if not stat.S_ISREG(st.st_mode):
        # FIFOs block and devices never end (/dev/zero); only regular files are inputs.
        raise UnreadableInputError("cannot-open-special")
    return st


def _open_path(path: Path) -> bytes:
    """Check a path is a readable regular file and return its first bytes."""
    stat_input(path)
    try:
        with path.open("rb") as fh:
            return fh.read(8)
    except OSError as exc:
        raise UnreadableInputError("cannot-open", reason=os_reason(exc)) from exc


def inspect_workbook(path: Path, limits: Limits | None = None, *, read_all: bool = False) -> None:
    """Refuse a workbook file that is unreadable or unsafe, before anything parses it.

    read_all: every sheet will be read cell by cell (openpyxl), the summary's detail sheets too.
    """
    limits = limits or DEFAULT_LIMITS  # the module global: configure_limits may have replaced it
    ensure_defused()
    path = Path(path)
    head = _open_path(path)
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise UnsafeInputError("file-too-large", size=human_bytes(size), limit=human_bytes(limits.max_file_bytes))
    if head.startswith(OLE2_MAGIC):
        # Only the OLE directory matters and it is small; the file is already size-capped.
        raise ole_refusal(path.read_bytes())
    if not head.startswith(ZIP_MAGICS):
        with path.open("rb") as fh:
            sample = fh.read(512)
        raise UnreadableInputError("not-xlsx", what=_looks_like(sample))
    with path.open("rb") as fh:
        inspect_workbook_file(fh, limits, read_all=read_all)


def inspect_workbook_bytes(data: bytes, limits: Limits | None = None) -> None:
    """Same checks as inspect_workbook, for a workbook already read into memory."""
    limits = limits or DEFAULT_LIMITS  # the module global: configure_limits may have replaced it
    ensure_defused()
    if len(data) > limits.max_file_bytes:
        raise UnsafeInputError("file-too-large", size=human_bytes(len(data)), limit=human_bytes(limits.max_file_bytes))
    if data.startswith(OLE2_MAGIC):
        raise ole_refusal(data)
    if not data.startswith(ZIP_MAGICS):
        raise UnreadableInputError("not-xlsx", what=_looks_like(data[:512]))
    inspect_workbook_file(io.BytesIO(data), limits)


# Everything zipfile and zlib may throw on damaged archives; all of them mean "corrupt".
CORRUPT_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    struct.error,
    ValueError,
    NotImplementedError,
    KeyError,
    IndexError,
    OverflowError,
    RuntimeError,
    UnicodeDecodeError,
    OSError,
)


def corrupt_error(detail: object) -> UnreadableInputError:
    """Build the one-line 'corrupt .xlsx' refusal (detail: a Phrase of ours, or a library's exception)."""
    return UnreadableInputError("xlsx-corrupt", detail=corrupt_detail(detail))


def corrupt_detail(detail: object) -> Phrase | str:
    """What is damaged, for a 'corrupt' refusal: our own words as they are, a library's first line of text."""
    if isinstance(detail, Phrase):
        return detail
    return str(detail).strip().splitlines()[0] if str(detail).strip() else type(detail).__name__


def inspect_workbook_file(fh: IO[bytes], limits: Limits | None = None, *, read_all: bool = False) -> None:
    """Run the zip-level and XML-level checks on an open binary file object."""
    limits = limits or DEFAULT_LIMITS  # the module global: configure_limits may have replaced it
    try:
        zf = zipfile.ZipFile(fh)
    except CORRUPT_ERRORS as exc:
        raise corrupt_error(exc) from exc
    with zf:
        try:
            _check_archive(zf, limits, read_all)
        except (UnreadableInputError, FormatDataError):
            raise
        except CORRUPT_ERRORS as exc:
            raise corrupt_error(exc) from exc


def check_zip_sizes(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Refuse a ZIP package (workbook, Word document) with too many members or a bomb's expansion, from its directory."""
    if len(infos) > limits.max_members:
        raise UnsafeInputError("zip-too-many-members", count=len(infos), limit=limits.max_members)
    # zipfile never yields more than a member's declared file_size (it truncates and fails the CRC),
    # so the central directory's sizes bound what any later reader can decompress.
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise UnsafeInputError(
                "zip-ratio",
                size=human_bytes(info.file_size),
                compressed=human_bytes(info.compress_size),
                name=info.filename,
            )
    if total > limits.max_uncompressed_bytes:
        raise UnsafeInputError(
            "zip-too-large", size=human_bytes(total), limit=human_bytes(limits.max_uncompressed_bytes)
        )


def _check_archive(zf: zipfile.ZipFile, limits: Limits, read_all: bool = False) -> None:
    """Central-directory checks first (no decompression), then the few XML parts that matter."""
    infos = zf.infolist()
    check_zip_sizes(infos, limits)
    names = {info.filename: info for info in infos}
    lowered = {name.lower() for name in names}
    if any(PurePosixPath(name).name == "vbaproject.bin" for name in lowered):
        raise UnsafeInputError("xlsm-macros")
    if any(info.flag_bits & 0x1 for info in infos):
        raise UnreadableInputError("workbook-password")
    if CONTENT_TYPES_PART not in names:
        raise UnreadableInputError("not-xlsx", what=zip_looks_like(lowered))

    # A DTD is the only place entities can be declared; refuse any XML part that has one.
    for info in infos:
        if info.filename.lower().endswith(XML_SUFFIXES) and not info.is_dir():
            _check_prolog(zf, info)

    content_types = _parse_part(zf, names[CONTENT_TYPES_PART])
    if b"macroenabled" in zf.read(names[CONTENT_TYPES_PART]).lower():
        raise UnsafeInputError("xlsm-macros")
    workbook_part = _workbook_part_name(content_types)
    if workbook_part not in names:
        raise UnreadableInputError("not-xlsx", what=zip_looks_like(lowered))
    workbook = _parse_part(zf, names[workbook_part])
    sheets = [el for el in workbook.iter() if _local(el.tag) == "sheet"]
    if len(sheets) > limits.max_sheets:
        raise UnsafeInputError("workbook-too-many-sheets", count=len(sheets), limit=limits.max_sheets)

    worksheets = [info for info in infos if _is_sheet(info.filename)]
    for info in worksheets:
        _check_dimension(zf, info, limits)
    # <dimension> is optional and may lie: count the rows and cells themselves, stopping at the limit. A pass of
    # its own, as fast as inflating, so that an oversized sheet is refused before expat parses all it precedes.
    read = _check_read_size(zf, names, workbook_part, workbook, limits, read_all)
    for info in worksheets:
        _count_sheet(zf, info, limits)
    # Sizes are bounded now, so reading every member once is cheap: it checks each CRC and that each XML part
    # is well-formed, turning what would fail halfway through a reader into one clear message up front. A sheet
    # nothing parses (a summary's detail sheet, up to hundreds of MB) is left out: counted above, never read.
    unread = {info.filename for info in worksheets} - read
    for info in infos:
        if not info.is_dir() and info.filename not in unread:
            _check_member(zf, info)
    if any(name.startswith("xl/externallinks/") for name in lowered):
        # Links to other workbooks are only cached values here; nothing ever follows them.
        log.info("workbook has external links; they are ignored and never followed")


def zip_looks_like(lowered_names: set[str]) -> Phrase:
    """Describe a ZIP by what it contains (for the message when it is not the document a reader expected)."""
    if "xl/workbook.xml" in lowered_names:
        return Phrase("looks-workbook")
    if "word/document.xml" in lowered_names:
        return Phrase("looks-docx")
    if "ppt/presentation.xml" in lowered_names:
        return Phrase("looks-pptx")
    if "mimetype" in lowered_names and "content.xml" in lowered_names:
        return Phrase("looks-opendocument")
    return Phrase("looks-zip")


def _local(tag: object) -> str:
    """Strip the {namespace} from an ElementTree tag."""
    text = tag if isinstance(tag, str) else ""
    return text.rsplit("}", 1)[-1]


def _workbook_part_name(content_types: Element) -> str:
    """Find the main workbook part from [Content_Types].xml, defaulting to xl/workbook.xml."""
    for el in content_types.iter():
        if _local(el.tag) != "Override":
            continue
        ctype = (el.get("ContentType") or "").lower()
        if "spreadsheetml" in ctype and (ctype.endswith(".main+xml") or "sheet.main" in ctype):
            part = (el.get("PartName") or "").lstrip("/")
            if part:
                return part
    return WORKBOOK_PART


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """Read at most cap bytes of a member (never the whole of a huge one)."""
    with zf.open(info) as member:
        return member.read(cap)


_PROLOG_ITEM = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->)", re.S)
_ROOT_START = re.compile(r"<[^\W\d][\w.:-]*[\s/>]")


def _decode_sample(sample: bytes) -> str:
    """Decode the start of an XML part well enough to find markup (UTF-8/ASCII or UTF-16)."""
    if sample.startswith((b"\xff\xfe", b"<\x00")):
        return sample.decode("utf-16-le", "replace")
    if sample.startswith((b"\xfe\xff", b"\x00<")):
        return sample.decode("utf-16-be", "replace")
    # latin-1 never fails and keeps ASCII markup where it is, which is all the scan needs.
    return sample.decode("latin-1").lstrip("\xef\xbb\xbf")


def _check_prolog(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse an XML part whose prolog has a DOCTYPE (entity declarations), or has no end."""
    sample = _read_capped(zf, info, PROLOG_SCAN_BYTES)
    text = _decode_sample(sample)
    pos = 0
    while True:
        m = _PROLOG_ITEM.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    rest = text[pos : pos + 512].lstrip()
    if rest.upper().startswith(("<!DOCTYPE", "<!ENTITY")):
        raise UnsafeInputError("xlsx-dtd", name=info.filename)
    if _ROOT_START.match(rest) or not sample.strip():
        return  # empty parts are left to the reader: they are broken, not dangerous
    if len(sample) >= PROLOG_SCAN_BYTES and rest.startswith("<"):
        # Comments or processing instructions filling the whole window: nothing real does that.
        raise UnsafeInputError("xml-no-root", name=info.filename)
    raise corrupt_error(Phrase("part-not-xml", name=info.filename))


def _refuse_dtd(*_args: object) -> None:
    """expat handler: a DOCTYPE or entity declaration anywhere is refused."""
    raise UnsafeInputError("xlsx-part-dtd")


def _check_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Stream one member to its end (zipfile verifies the CRC there); run XML parts through expat."""
    parser = None
    if info.filename.lower().endswith(XML_SUFFIXES):
        # expat without handlers builds nothing: a fast, streaming well-formedness check.
        parser = xml.parsers.expat.ParserCreate()
        parser.StartDoctypeDeclHandler = _refuse_dtd
        parser.EntityDeclHandler = _refuse_dtd
    try:
        with zf.open(info) as member:
            while chunk := member.read(STREAM_CHUNK_BYTES):
                if parser is not None:
                    parser.Parse(chunk, False)
        if parser is not None and info.file_size:
            parser.Parse(b"", True)
    except xml.parsers.expat.ExpatError as exc:
        raise corrupt_error(Phrase("part-bad-xml", name=info.filename, error=str(exc))) from exc


# The parts read whole or cell by cell besides the sheets (xl/ paths as convert.xlsx opens them).
_READ_PARTS = ("xl/_rels/workbook.xml.rels", "xl/sharedStrings.xml", "xl/styles.xml", "docProps/custom.xml")


def _check_read_size(
    zf: zipfile.ZipFile,
    names: dict[str, zipfile.ZipInfo],
    workbook_part: str,
    workbook: Element,
    limits: Limits,
    read_all: bool,
) -> set[str]:
    """Refuse a workbook whose parts read cell by cell pass max_read_xml_bytes, from the zip directory alone.

    Return those parts: every sheet (read_all) or every sheet but a summary's detail sheets, and the shared ones.
    """
    skip = ""
    if not read_all:
        from convert.outputs.template import load_template  # the summary's layout names its detail sheets

        skip = load_template().summary.prefix
    targets: dict[str, str] = {}
    rels = names.get(_READ_PARTS[0])
    if rels is not None:
        for el in _parse_part(zf, rels).iter():
            if _local(el.tag) == "Relationship":
                target = el.get("Target") or ""
                part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
                targets[el.get("Id") or ""] = part
    parts = {workbook_part, *_READ_PARTS}
    for sheet in workbook.iter():
        if _local(sheet.tag) != "sheet" or (skip and (sheet.get("name") or "").startswith(skip)):
            continue
        rid = next((v for k, v in sheet.attrib.items() if _local(k) == "id"), "")
        parts.add(targets.get(rid, ""))
    sizes = {part: names[part].file_size for part in parts if part in names}
    if sum(sizes.values()) > limits.max_read_xml_bytes:
        raise UnsafeInputError(
            "workbook-read-too-large",
            part=max(sizes, key=sizes.__getitem__),
            limit=human_bytes(limits.max_read_xml_bytes),
        )
    return parts


def _count_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> None:
    """Stream a sheet part counting its rows and cells; UnsafeInputError as soon as one passes its limit."""
    counter = _SheetCounter(info.filename, limits)
    with zf.open(info) as member:
        while chunk := member.read(STREAM_CHUNK_BYTES):
            counter.feed(chunk)


def _is_sheet(name: str) -> bool:
    low = name.lower()
    return low.startswith("xl/worksheets/") and low.endswith(".xml") and "/_rels/" not in low


# Start tags of rows and cells as Excel, LibreOffice, openpyxl and xlsxwriter write them (a prefixed, bare or
# oddly spaced tag escapes this count; read-back counts exactly the sheets it reads, and openpyxl only reads
# workbooks within a read budget). bytes.count keeps this pass near the speed of inflating; a `<c ` in a
# comment or CDATA only counts too much.
_ROW_TAGS = (b"<row ",)
_CELL_TAGS = (b"<c ",)
_TAIL = max(len(t) for t in _ROW_TAGS + _CELL_TAGS) - 1


def _count(tail: bytes, chunk: bytes, tag: bytes) -> int:
    """Count tag in chunk and across the boundary (the joined ends are shorter than two tags: no match counted twice)."""
    edge = len(tag) - 1
    return chunk.count(tag) + (tail[-edge:] + chunk[:edge]).count(tag)


class _SheetCounter:
    """Count a sheet's rows and cells chunk by chunk; refuse as soon as it passes a limit, whatever <dimension> says."""

    def __init__(self, part: str, limits: Limits) -> None:
        """Start counting one sheet part."""
        self.part = part
        self.limits = limits
        self.rows = self.cells = 0
        self.tail = b""

    def feed(self, chunk: bytes) -> None:
        """Count the tags in the next chunk, and once each tag cut by the boundary with the chunk before."""
        tail = self.tail
        self.rows += sum(_count(tail, chunk, t) for t in _ROW_TAGS)
        self.cells += sum(_count(tail, chunk, t) for t in _CELL_TAGS)
        self.tail = (tail + chunk[-_TAIL:])[-_TAIL:]
        if self.rows > self.limits.max_rows_per_sheet:
            raise UnsafeInputError("sheet-too-many-rows", sheet=self.part, limit=self.limits.max_rows_per_sheet)
        if self.cells > self.limits.max_cells:
            raise UnsafeInputError("sheet-too-many-cells", sheet=self.part, limit=self.limits.max_cells)


def _parse_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Element:
    """Parse a small XML part with defusedxml, refusing DTDs and entities."""
    if info.file_size > MAX_PARSED_PART_BYTES:
        raise UnsafeInputError("part-far-too-large", name=info.filename, size=human_bytes(info.file_size))
    data = _read_capped(zf, info, MAX_PARSED_PART_BYTES + 1)
    try:
        return DefusedET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise UnsafeInputError("xlsx-dtd", name=info.filename) from exc
    except DefusedET.ParseError as exc:
        raise corrupt_error(Phrase("part-bad-xml", name=info.filename, error=str(exc))) from exc


_DIMENSION = re.compile(r"<(?:[\w.-]+:)?dimension\b[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']", re.S)
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")


def _cell_to_rc(ref: str) -> tuple[int, int] | None:
    """Turn 'XFD1048576' into (row, column); None if it is not a cell reference."""
    m = _CELL_REF.match(ref.strip())
    if not m:
        return None
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + (ord(ch) - 64)
    return int(m.group(2)), col


def _check_dimension(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> None:
    """Refuse a sheet whose <dimension ref=…> claims more rows or cells than the limits."""
    # <dimension> comes right after <sheetPr> at the top of the part; the rest is never decompressed.
    text = _decode_sample(_read_capped(zf, info, PROLOG_SCAN_BYTES))
    m = _DIMENSION.search(text)
    if not m:
        return
    corners = [_cell_to_rc(part) for part in m.group(1).split(":")]
    if not corners or any(c is None for c in corners):
        return  # an odd ref is openpyxl's problem, not a safety one
    rows = [c[0] for c in corners if c]
    cols = [c[1] for c in corners if c]
    n_rows = max(rows) - min(rows) + 1
    n_cols = max(cols) - min(cols) + 1
    if n_rows > limits.max_rows_per_sheet or n_rows * n_cols > limits.max_cells:
        raise UnsafeInputError(
            "sheet-too-large",
            name=info.filename,
            rows=n_rows,
            columns=n_cols,
            max_rows=limits.max_rows_per_sheet,
            max_cells=limits.max_cells,
        )
