"""Turn an input path into decoded text or a checked workbook, or a clear one-line refusal."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from convert import safety
from convert.errors import NotAReportError, UnreadableInputError, UnsafeInputError
from convert.safety import (
    CORRUPT_ERRORS,
    OLE2_MAGIC,
    ZIP_MAGICS,
    Limits,
    corrupt_error,
    describe_magic,
    human_bytes,
    inspect_workbook_bytes,
    ole_is_encrypted,
    stat_input,
)

# Above this share of control/replacement characters, a "text" is really binary that happened to decode.
MAX_BAD_CHAR_RATIO = 0.05
# How much of the file the UTF-16/32 NUL-pattern heuristics look at.
SNIFF_BYTES = 64 * 1024

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its LE BOM starts with the UTF-16 LE BOM.
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)

_ZIP_MESSAGES = (
    ("word/document.xml", "looks like a Word .docx document, not text: save it as plain text (.txt) or HTML"),
    ("ppt/presentation.xml", "looks like a PowerPoint .pptx presentation: save the report as plain text (.txt)"),
    ("content.xml", "looks like an OpenDocument file (.odt/.ods): save it as .txt or .xlsx"),
)


@dataclass
class Loaded:
    """An input file read into memory: its bytes, hash, kind and (for text) the decoded text."""

    path: Path
    data: bytes
    sha256: str
    kind: Literal["text", "workbook"]
    text: str | None
    encoding: str | None


def _read_bytes(path: Path, limits: Limits) -> bytes:
    """Read a regular file's bytes, refusing missing, odd or oversized files."""
    st = stat_input(path)
    if st.st_size > limits.max_file_bytes:
        raise UnsafeInputError(
            f"refused: file is {human_bytes(st.st_size)}, over the {human_bytes(limits.max_file_bytes)} limit"
        )
    try:
        with path.open("rb") as fh:
            # Read one byte past the limit: the file may have grown since stat().
            data = fh.read(limits.max_file_bytes + 1)
    except OSError as exc:
        raise UnreadableInputError(f"cannot open: {exc.strerror or exc}") from exc
    if len(data) > limits.max_file_bytes:
        raise UnsafeInputError(f"refused: file is over the {human_bytes(limits.max_file_bytes)} limit")
    return data


def load_input(path: Path, limits: Limits | None = None) -> Loaded:
    """Read a file and classify it by content: decoded text, a checked workbook, or a refusal."""
    limits = limits or safety.DEFAULT_LIMITS  # read at call time: --limit may have raised it
    path = Path(path)
    data = _read_bytes(path, limits)
    digest = hashlib.sha256(data).hexdigest()
    if not data:
        raise NotAReportError("file is empty")
    if data.startswith(ZIP_MAGICS):
        _classify_zip(data, limits)
        return Loaded(path, data, digest, "workbook", None, None)
    if data.startswith(OLE2_MAGIC):
        raise UnreadableInputError(_ole_message(data))
    if len(data) > limits.max_text_bytes:
        raise UnsafeInputError(
            f"refused: text file is {human_bytes(len(data))}, over the {human_bytes(limits.max_text_bytes)} "
            "limit for a report: is this the right file?"
        )
    text, encoding = decode_text(data)
    if not text.strip():
        raise NotAReportError("file is empty (only whitespace)")
    return Loaded(path, data, digest, "text", text, encoding)


def _classify_zip(data: bytes, limits: Limits) -> None:
    """Accept a ZIP only if it is an .xlsx that passes the safety checks."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = {name.lower() for name in zf.namelist()}
    except CORRUPT_ERRORS as exc:
        # A damaged central directory: most likely a truncated workbook download.
        raise corrupt_error(exc) from exc
    if "xl/workbook.xml" in names or any(n.endswith("vbaproject.bin") for n in names):
        inspect_workbook_bytes(data, limits)
        return
    for member, message in _ZIP_MESSAGES:
        if member in names:
            raise UnreadableInputError(message)
    raise UnreadableInputError("looks like a ZIP archive: unpack it and give the report file itself")


def _ole_message(data: bytes) -> str:
    """Say which old Office file an OLE2 compound file is, from its UTF-16 stream names."""
    if ole_is_encrypted(data):
        return "workbook is password-protected: remove the password and save again"
    if "WordDocument".encode("utf-16-le") in data:
        return "looks like an old Word .doc document, not text: save it as plain text (.txt) or HTML"
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return "old Excel 97-2003 .xls is not supported: open it in Excel/WPS/LibreOffice and save as .xlsx"
    return "looks like an old Office file (.doc/.xls) or an encrypted workbook: save it as .xlsx or .txt"


def _binary_refusal(what: str = "binary data") -> UnreadableInputError:
    """The one-line refusal for non-text content."""
    if what == "a PDF":
        return UnreadableInputError("looks like a PDF: convert it to text or markdown first")
    if what == "binary data":
        return UnreadableInputError("looks like binary data, not a text report: give a .txt, .md, .html or .xlsx file")
    return UnreadableInputError(f"looks like {what}, not a text report: give a .txt, .md, .html or .xlsx file")


# Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F; the regex scans in C, fast on 50 MB texts.
_BAD_CHARS = re.compile("[\x00-\x08\x0e-\x19\x1b-\x1f\x7f-\x9f\ufffd]")


def _bad_char_count(text: str) -> int:
    """Count control characters (other than line breaks and tabs) and U+FFFD replacement chars."""
    return sum(1 for _ in _BAD_CHARS.finditer(text))


def _looks_textual(text: str) -> bool:
    """True unless the decoded text is mostly control or replacement characters."""
    if not text:
        return True
    return _bad_char_count(text) <= MAX_BAD_CHAR_RATIO * len(text)


def _try(data: bytes, encoding: str) -> str | None:
    """Strict decode, None on failure."""
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, ValueError):
        return None


# Code point ranges a Chinese report is made of: ASCII, Latin-1 punctuation, general and CJK punctuation,
# CJK ideographs (with extension A), full-width forms, and the supplementary planes (rare ideographs).
_PLAUSIBLE_RANGES = (
    (0x09, 0x0D),
    (0x20, 0x7E),
    (0xA0, 0xFF),
    (0x2000, 0x206F),
    (0x2150, 0x22FF),
    (0x2460, 0x27BF),
    (0x3000, 0x33FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
    (0x20000, 0x3FFFF),
)
# A correctly decoded report scores ~1.0; the wrong byte order of the same text scores far lower.
MIN_WIDE_PLAUSIBILITY = 0.8
# Real reports in UTF-16 are 12-21% NUL bytes (every digit, space and newline has one).
MIN_WIDE_NUL_SHARE = 0.02


def _plausibility(text: str) -> float:
    """Share of characters (in a sample) that a Chinese report plausibly contains."""
    sample = text[:SNIFF_BYTES]
    if not sample:
        return 0.0
    good = sum(1 for ch in sample if any(lo <= ord(ch) <= hi for lo, hi in _PLAUSIBLE_RANGES))
    return good / len(sample)


def _decode_wide(data: bytes) -> tuple[str, str] | None:
    """Decode BOM-less UTF-16/UTF-32 (the file has NULs): the byte order that gives the most plausible text."""
    # Every ASCII character (digit, newline) leaves NULs in UTF-16/32, but NUL parity alone misleads on short
    # texts because common ideographs (一 U+4E00, 　 U+3000) hold NULs on the other side; so score both orders.
    sample = data[:SNIFF_BYTES]
    if sample.count(0) < MIN_WIDE_NUL_SHARE * len(sample):
        # A stray NUL or two in UTF-8 text; read as UTF-16, plain ASCII would look like plausible ideographs.
        return None
    candidates = []
    names = ["utf-16-le", "utf-16-be"] if len(data) % 2 == 0 else []
    if len(data) % 4 == 0:
        names = ["utf-32-le", "utf-32-be", *names]
    for name in names:
        text = _try(data, name)
        if text is not None:
            candidates.append((_plausibility(text), name, text))
    if not candidates:
        return None
    score, name, text = max(candidates)
    return (text, name) if score >= MIN_WIDE_PLAUSIBILITY else None


# Page and vertical-tab breaks become newlines; other controls go, since they carry no text and make
# XML/HTML parsers (lxml) refuse the whole string.
_BREAKS = re.compile("[\v\f]")
_DROP = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]+")


def clean_text(text: str) -> str:
    """Strip leading BOMs, make every line end LF, and drop control characters a text report never means."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    # Regex substitutions run in C; str.translate with a dict costs seconds on a 50 MB text.
    return _DROP.sub("", _BREAKS.sub("\n", text))


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode report text bytes (BOM, BOM-less UTF-16/32, UTF-8, GB18030) to LF-normalised str and encoding."""
    what = describe_magic(data[:64], strong_only=True)
    if what:
        raise _binary_refusal(what)
    decoded: tuple[str, str] | None = None
    for bom, name in _BOMS:
        if data.startswith(bom):
            text = _try(data, name)
            if text is None:
                raise UnreadableInputError(
                    f"text starts with a {name} mark but is not valid {name}: re-save it as UTF-8"
                )
            decoded = (text, name)
            break
    has_nul = b"\x00" in data
    if decoded is None and has_nul:
        decoded = _decode_wide(data)
    if decoded is None:
        # GB18030 is a superset of GBK and GB2312, the usual encodings of Chinese government text files.
        for name in ("utf-8", "gb18030"):
            text = _try(data, name)
            if text is not None:
                decoded = (text, name)
                break
    if decoded is None:
        if has_nul:
            raise _binary_refusal()
        raise UnreadableInputError("unknown text encoding (not UTF-8, UTF-16 or GBK/GB18030): re-save it as UTF-8")
    text, encoding = decoded
    if not _looks_textual(text):
        raise _binary_refusal()
    return clean_text(text), encoding
