"""The mht kind: a single-file web archive (.mht/.mhtml, MIME multipart/related) saved by Word or a browser.

Only the archive's main HTML page is read (quoted-printable or base64, any charset), then as any web page; its other
parts (pictures, styles, file lists) are ignored, and nothing it names is fetched or followed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from convert.errors import UnreadableInputError, UnsafeInputError
from convert.inputs.base import Document, Kind, Probe
from convert.inputs.text import decode_text, document
from convert.safety import human_bytes

if TYPE_CHECKING:
    from email.message import Message

# The archive's own headers come first; Word's and browsers' are a few hundred bytes.
HEADER_BYTES = 8 * 1024
# Word's archive of a report has a dozen parts, a browser's a few hundred (every picture, style, frame).
MAX_PARTS = 5000
MAX_DEPTH = 8  # multipart inside multipart

_HEADER_LINE = re.compile(rb"^(?:[A-Za-z][A-Za-z0-9-]*:[^\r\n]*|[ \t][^\r\n]*)$")


def _headers(head: bytes) -> bytes | None:
    """The archive's top header block (up to the first blank line), if the file starts with one."""
    block = re.split(rb"\r?\n\r?\n", head[:HEADER_BYTES].lstrip(b"\r\n"), maxsplit=1)[0]
    lines = block.splitlines()
    if not lines or not all(_HEADER_LINE.match(line) for line in lines):
        return None
    return block


def detect(probe: Probe) -> bool:
    """A MIME header block with MIME-Version and a multipart/related body (or a Content-Location)."""
    block = _headers(probe.head)
    if block is None:
        return False
    lowered = block.lower()
    has_version = re.search(rb"^mime-version\s*:", lowered, re.MULTILINE) is not None
    return has_version and (b"multipart/related" in lowered or b"content-location:" in lowered)


def read(probe: Probe) -> Document:
    """Take the archive's main HTML page and read it as a web page."""
    import email.parser  # 40 ms to import: only when an archive is read
    import email.policy

    data = probe.data
    limits = probe.limits
    if data.count(b"\n--") > MAX_PARTS:
        raise UnsafeInputError("mht-too-many-parts", limit=MAX_PARTS)
    if len(re.findall(rb"(?im)^content-type\s*:\s*multipart/", data)) > MAX_DEPTH:
        raise UnsafeInputError("mht-too-deep", limit=MAX_DEPTH)
    try:
        message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(data)
    except (RecursionError, ValueError, LookupError) as exc:
        raise UnreadableInputError("mht-unreadable", detail=str(exc)) from exc
    part = main_page(message)
    if part is None:
        raise UnreadableInputError("mht-no-page")
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes) or not raw.strip():
        raise UnreadableInputError("mht-empty-page")
    if len(raw) > limits.max_text_bytes:
        raise UnsafeInputError(
            "mht-page-too-large", size=human_bytes(len(raw)), limit=human_bytes(limits.max_text_bytes)
        )
    text, encoding = decode_text(raw, declared=part.get_content_charset())
    source = {
        "path": str(probe.path),
        "name": probe.path.name,
        "sha256": probe.sha256,
        "encoding": encoding,
        "archive": "mht",
    }
    location = part.get("Content-Location")
    if location:
        source["page_location"] = str(location)[:500]
    return document(text, source)


def main_page(message: Message) -> Message | None:
    """The archive's root page: the part its start parameter names, else its first text/html part."""
    start = message.get_param("start") if message.is_multipart() else None
    pages = [p for p in message.walk() if p.get_content_type() == "text/html" and not p.is_multipart()]
    if isinstance(start, str):
        wanted = start.strip().strip("<>")
        for p in pages:
            if str(p.get("Content-ID", "")).strip().strip("<>") == wanted:
                return p
    return pages[0] if pages else None


KIND = Kind("mht", detect, read)
