"""The text kind: plain text, markdown and HTML reports, decoded (any usual encoding) and split into lines of cells."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

from convert.errors import NotAReportError, Phrase, UnreadableInputError, UnsafeInputError
from convert.inputs.base import Document, Kind, Line, Probe
from convert.safety import human_bytes


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
        raise UnsafeInputError("text-too-large", size=human_bytes(len(data)), limit=human_bytes(limits.max_text_bytes))
    text, encoding = decode_text(data)
    if not text.strip():
        raise NotAReportError("file-blank")
    source = {"path": str(probe.path), "name": probe.path.name, "sha256": probe.sha256, "encoding": encoding}
    return document(text, source)


def document(text: str, source: dict[str, Any] | None = None) -> Document:
    """Split the text of a report (plain, markdown or HTML) into a document; source gains its layout."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"))
    source = dict(source or {})
    source.setdefault("sha256", hashlib.sha256(text.encode("utf-8")).hexdigest())
    layout = detect_layout(text)
    if layout == "html":
        from convert.inputs.webpage import read_page

        page = read_page(text)
        lines = page.lines
        if page.meta:
            # The site's metadata (索引号, 发布机构 …): kept with the source, never read as the report.
            source["page"] = page.meta
    else:
        _, lines = split_lines(text, layout)
    source["layout"] = layout
    # A page's words are its lines' (in its markup, Word splits words across spans); a text's are the text.
    return Document(lines, source, "" if layout == "html" else text, numbered=layout != "html")


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


# An HTML page's declared charset (<meta charset>, http-equiv, an XML declaration) sits in its first bytes.
CHARSET_SNIFF_BYTES = 8 * 1024
_DECLARED = re.compile(
    rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([a-z0-9_.:-]{1,40})|<\?xml[^>]{0,200}?encoding\s*=\s*["']([a-z0-9_.:-]{1,40})""",
    re.IGNORECASE,
)
# Names pages give GBK by; GB18030 reads all of them.
_GB_NAMES = frozenset({"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "ms936", "windows-936", "euc-cn", "csgb2312"})
# Other Chinese encodings a page may declare: tried only when the page says so and UTF-8 does not fit.
_OTHER_CJK = {"big5": "big5", "big5-hkscs": "big5hkscs", "x-x-big5": "big5"}


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML page declares in its first bytes (lower case), or None."""
    m = _DECLARED.search(data[:CHARSET_SNIFF_BYTES])
    if not m:
        return None
    return (m.group(1) or m.group(2)).decode("ascii").lower()


def _candidates(data: bytes, declared: str | None) -> list[str]:
    """Encodings to try, in order: UTF-8 then GB18030, unless the page declares GBK (where both would decode)."""
    declared = (declared or declared_charset(data) or "").lower()
    if declared in _GB_NAMES:
        return ["gb18030", "utf-8"]
    if declared in _OTHER_CJK:
        return ["utf-8", _OTHER_CJK[declared], "gb18030"]
    return ["utf-8", "gb18030"]


def decode_text(data: bytes, clean: bool = True, declared: str | None = None) -> tuple[str, str]:
    """Decode report text bytes (BOM, BOM-less UTF-16/32, UTF-8, GB18030) to LF-normalised str and encoding.

    A page's declared charset (declared, else its <meta charset>) decides between UTF-8 and GBK when both decode.
    clean=False leaves BOMs, line ends and control characters as they are (detection needs only the verdict).
    """
    decoded: tuple[str, str] | None = None
    for bom, name in _BOMS:
        if data.startswith(bom):
            text = _try(data, name)
            if text is None:
                raise UnreadableInputError("text-bad-bom", encoding=name)
            decoded = (text, name)
            break
    has_nul = b"\x00" in data
    if decoded is None and has_nul:
        decoded = _decode_wide(data)
    if decoded is None:
        # GB18030 is a superset of GBK and GB2312, the usual encodings of Chinese government text files.
        for name in _candidates(data, declared):
            text = _try(data, name)
            if text is not None:
                decoded = (text, name)
                break
    if decoded is None:
        if has_nul:
            raise NotTextError("not-a-text-report", what=Phrase("looks-binary"))
        raise UnreadableInputError("text-unknown-encoding")
    text, encoding = decoded
    if not _looks_textual(text):
        raise NotTextError("not-a-text-report", what=Phrase("looks-binary"))
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
        from convert.inputs.webpage import read_page

        return layout, read_page(text).lines
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
