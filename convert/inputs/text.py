"""The text kind: plain text, markdown and HTML reports, decoded (any usual encoding) and split into lines of cells."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

from convert.errors import NotAReportError, UnreadableInputError, UnsafeInputError
from convert.inputs.base import Document, Kind, Line, Probe, not_readable
from convert.safety import human_bytes

BINARY_MESSAGE = not_readable("binary data")


class NotTextError(UnreadableInputError):
    """The bytes are binary, not text in any encoding (the binary kind refuses them)."""


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


# ---------------------------------------------------------------- the kind


def sample_text(probe: Probe) -> str | None:
    """Decode the start of a file for detection: its text, or None when it is binary (or starts like a binary)."""
    if "text.sample" not in probe.memo:
        probe.memo["text.sample"] = _decode_sample(probe)
    return probe.memo["text.sample"]


def _decode_sample(probe: Probe) -> str | None:
    if probe.magic:
        return None
    head = probe.head
    # A head cut from a longer file may end inside a character (up to 4 bytes): try it shortened too.
    samples = [head] if probe.whole else [head[: len(head) - cut] for cut in range(4)]
    for sample in samples:
        try:
            return decode_text(sample, clean=False)[0]
        except NotTextError:
            continue
        except UnreadableInputError:
            # Text in an encoding we cannot tell (or a bad BOM): still text; reading it says what to do.
            return ""
    return None


def detect(probe: Probe) -> bool:
    """Text is what decodes to characters a report is made of (in the first 64 KB)."""
    return sample_text(probe) is not None


def read(probe: Probe) -> Document:
    """Decode the whole file and split it into lines of cells."""
    data = probe.data
    limits = probe.limits
    if len(data) > limits.max_text_bytes:
        raise UnsafeInputError(
            f"refused: text file is {human_bytes(len(data))}, over the {human_bytes(limits.max_text_bytes)} "
            "limit for a report: is this the right file?"
        )
    text, encoding = decode_text(data)
    if not text.strip():
        raise NotAReportError("file is empty (only whitespace)")
    source = {"path": str(probe.path), "name": probe.path.name, "sha256": probe.sha256, "encoding": encoding}
    return document(text, source)


def document(text: str, source: dict[str, Any] | None = None) -> Document:
    """Split the text of a report (plain, markdown or HTML) into a document; source gains its layout."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"))
    source = dict(source or {})
    source.setdefault("sha256", hashlib.sha256(text.encode("utf-8")).hexdigest())
    layout, lines = split_lines(text)
    source["layout"] = layout
    return Document(lines, source, text)


KIND = Kind("text", detect, read)


# ---------------------------------------------------------------- decoding

# Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F; the regex scans in C, fast on 50 MB texts.
_BAD_CHARS = re.compile("[\x00-\x08\x0e-\x19\x1b-\x1f\x7f-\x9f\ufffd]")


def _bad_char_count(text: str) -> int:
    """Count control characters (other than line breaks and tabs) and U+FFFD replacement chars."""
    return len(_BAD_CHARS.findall(text))


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


def decode_text(data: bytes, clean: bool = True) -> tuple[str, str]:
    """Decode report text bytes (BOM, BOM-less UTF-16/32, UTF-8, GB18030) to LF-normalised str and encoding.

    clean=False leaves BOMs, line ends and control characters as they are (detection needs only the verdict).
    """
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
            raise NotTextError(BINARY_MESSAGE)
        raise UnreadableInputError("unknown text encoding (not UTF-8, UTF-16 or GBK/GB18030): re-save it as UTF-8")
    text, encoding = decoded
    if not _looks_textual(text):
        raise NotTextError(BINARY_MESSAGE)
    return (clean_text(text) if clean else text), encoding


# ---------------------------------------------------------------- lines of cells (one pipeline for all layouts)

_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")
_FOOTER = re.compile(
    r"^\s*(?:[—\-–－]+\s*\d{1,3}\s*[—\-–－]+|第\s*\d{1,3}\s*页\s*(?:[，,/]?\s*共\s*\d{1,3}\s*页)?|\d{1,3}\s*/\s*\d{1,3})\s*$"
)
_RULE_CHARS = frozenset(" \t\u3000|+:-—=_*")
_RULE_STROKES = frozenset("-—=_*")
_MD_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_HTML = re.compile(r"<\s*(table|html|body|p|div|tr|td)\b", re.IGNORECASE)


_MARKUP_CHARS = re.compile(r"[\[*_~#\u00a0\u200b]")


def strip_markup(text: str) -> str:
    """Remove leftovers of Word, markdown and web copies that are not words of the report."""
    if not _MARKUP_CHARS.search(text):
        return text  # most lines carry none: skip the four substitutions
    text = _BOOKMARK.sub("", text)
    text = re.sub(r"\*\*|__|~~", "", text)
    text = re.sub(r"^\s{0,3}#{1,6}\s+", "", text)
    return text.replace("\u00a0", " ").replace("\u200b", "")


def is_noise(text: str) -> bool:
    """Tell whether a line is a page footer or a horizontal rule, never part of the report."""
    stripped = text.strip()
    return bool(stripped) and (bool(_FOOTER.match(stripped)) or _is_rule(stripped))


def _is_rule(text: str) -> bool:
    """Tell whether a line is a horizontal rule (------, ===, | --- |): linear, no regex backtracking."""
    return set(text) <= _RULE_CHARS and sum(ch in _RULE_STROKES for ch in text) >= 3


def detect_layout(text: str) -> str:
    """Return html, markdown or text by looking at the content."""
    head = text[:20000]
    if _HTML.search(head) and re.search(r"</\s*(table|p|div|td|body)\s*>", head, re.IGNORECASE):
        return "html"
    pipe_rows = sum(1 for line in head.splitlines() if line.strip().startswith("|") and line.count("|") >= 3)
    return "markdown" if pipe_rows >= 3 else "text"


def split_lines(text: str, layout: str | None = None) -> tuple[str, list[Line]]:
    """Split a whole report into lines of cells; return the detected layout (html, markdown, text) too."""
    layout = layout or detect_layout(text)
    if layout == "html":
        return layout, _html_lines(text)
    lines: list[Line] = []
    for no, raw in enumerate(text.split("\n"), start=1):
        if layout == "markdown" and raw.strip().startswith("|"):
            if _MD_SEPARATOR.match(raw):
                continue
            body = raw.strip()
            body = body[1:-1] if body.endswith("|") and len(body) > 1 else body[1:]
            cells = [strip_markup(c.replace("<br>", "").replace("<br/>", "")).strip() for c in body.split("|")]
            lines.append(Line(no, cells, is_row=True))
            continue
        raw = strip_markup(raw)
        if is_noise(raw):
            # Footers and rules are dropped outright: a blank line here would split a table row.
            continue
        if "\t" in raw:
            cells = raw.split("\t")
            # A line that starts with a tab and holds one cell is one cell of a one-cell-per-line table.
            lines.append(Line(no, cells, is_row=True))
        else:
            stripped = raw.strip()
            lines.append(Line(no, [stripped], continues=bool(stripped)))
    return layout, lines


def _html_lines(text: str) -> list[Line]:
    import lxml.html

    try:
        root = lxml.html.document_fromstring(text)
    except (ValueError, lxml.etree.ParserError):
        return [Line(i, [strip_markup(t).strip()]) for i, t in enumerate(text.split("\n"), start=1)]
    for bad in root.xpath("//script|//style|//head"):
        bad.getparent().remove(bad)
    out: list[Line] = []
    counter = [0]

    def emit(cells: list[str], is_row: bool) -> None:
        counter[0] += 1
        out.append(Line(counter[0], cells, is_row=is_row))

    blocks = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "section", "article", "blockquote", "pre", "br"}

    def walk(el) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == "table" and not el.xpath(".//table"):
            _table_rows(el, emit)
            emit([""], False)
            return
        has_block_child = any(
            isinstance(c.tag, str) and (c.tag in blocks or c.tag == "table") for c in el.iterchildren()
        )
        if tag in blocks - {"br"} and not has_block_child:
            for part in _text_with_breaks(el).split("\n"):
                emit([strip_markup(part).strip()], False)
            return
        if el.text and el.text.strip():
            emit([strip_markup(el.text).strip()], False)
        for child in el.iterchildren():
            walk(child)
            if child.tail and child.tail.strip():
                emit([strip_markup(child.tail).strip()], False)

    body = root.find("body")
    walk(body if body is not None else root)
    return out


def _text_with_breaks(el) -> str:
    parts: list[str] = []
    if el.text:
        parts.append(el.text)
    for child in el.iterchildren():
        if child.tag == "br":
            parts.append("\n")
        else:
            parts.append(_text_with_breaks(child))
        if child.tail:
            parts.append(child.tail)
    return "".join(parts)


def _cell_text(el) -> str:
    # A <br> inside a table cell breaks a label across lines; the label is one word again.
    text = _text_with_breaks(el).replace("\n", "")
    return re.sub(r"[ \t\r]+", " ", strip_markup(text)).strip()


def _table_rows(table, emit) -> None:
    pending: dict[int, int] = {}  # column -> rows still covered by a rowspan above
    for tr in table.xpath(".//tr"):
        cells: list[str] = []
        col = _fill_spans(cells, 0, pending)
        for td in tr.xpath("./td|./th"):
            col = _fill_spans(cells, col, pending)
            span = _int_attr(td, "colspan")
            rows = _int_attr(td, "rowspan")
            cells.append(_cell_text(td))
            # Merged cells become empty cells, as Word and WPS copies show them.
            cells.extend([""] * (span - 1))
            for k in range(span):
                if rows > 1:
                    pending[col + k] = rows - 1
            col += span
        _fill_spans(cells, col, pending)
        emit(cells, True)


def _fill_spans(cells: list[str], col: int, pending: dict[int, int]) -> int:
    """Add an empty cell for every column a rowspan above still covers; return the next free column."""
    while pending.get(col, 0) > 0:
        pending[col] -= 1
        cells.append("")
        col += 1
    return col


def _int_attr(el, name: str) -> int:
    try:
        return max(1, min(int(el.get(name, "1")), 50))
    except ValueError:
        return 1
