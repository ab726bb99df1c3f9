"""What every input kind shares: the probe it is detected from, the lines of cells a report yields, the Kind itself."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convert.errors import Phrase, UnreadableInputError, UnsafeInputError
from convert.safety import CORRUPT_ERRORS, OLE2_MAGIC, ZIP_MAGICS, Limits, human_bytes, os_reason, stat_input

if TYPE_CHECKING:
    from convert.record import Record

# Detection looks at this much of a file; a report's text is 5-20 KB, so usually at all of it.
HEAD_BYTES = 64 * 1024

# (magic prefix, what it looks like, weak) for files that are clearly neither text nor a workbook.
# Weak magics are short printable prefixes a text could start with; those files have NULs anyway.
SIGNATURES: tuple[tuple[bytes, Phrase, bool], ...] = (
    (b"%PDF", Phrase("looks-pdf"), False),
    (b"\x89PNG\r\n\x1a\n", Phrase("looks-png"), False),
    (b"\xff\xd8\xff", Phrase("looks-jpeg"), False),
    (b"GIF87a", Phrase("looks-gif"), False),
    (b"GIF89a", Phrase("looks-gif"), False),
    (b"II*\x00", Phrase("looks-tiff"), False),
    (b"MM\x00*", Phrase("looks-tiff"), False),
    (b"\x1f\x8b", Phrase("looks-gzip"), False),
    (b"7z\xbc\xaf\x27\x1c", Phrase("looks-7z"), False),
    (b"Rar!\x1a\x07", Phrase("looks-rar"), False),
    (b"\xfd7zXZ\x00", Phrase("looks-xz"), False),
    (b"\x7fELF", Phrase("looks-elf"), False),
    (b"SQLite format 3\x00", Phrase("looks-sqlite"), False),
    (b"{\\rtf", Phrase("looks-rtf"), False),
    (OLE2_MAGIC, Phrase("looks-ole"), False),
    (b"BM", Phrase("looks-bmp"), True),
    (b"MZ", Phrase("looks-exe"), True),
    (b"RIFF", Phrase("looks-riff"), True),
    (b"BZh", Phrase("looks-bzip2"), True),
)


def describe_magic(head: bytes, strong_only: bool = False) -> Phrase | None:
    """Name a well-known binary format from the first bytes, or None if none matches."""
    for magic, what, weak in SIGNATURES:
        if head.startswith(magic) and not (weak and strong_only):
            return what
    if head.startswith(ZIP_MAGICS):
        return Phrase("looks-zip")
    return None


def ole_has_stream(data: bytes, name: str) -> bool:
    """Tell whether an OLE2 compound file names a stream (directory entry names are UTF-16LE)."""
    return name.encode("utf-16-le") in data


def ole_is_encrypted(data: bytes) -> bool:
    """True if an OLE2 compound file holds an encrypted OOXML package (password-protected .xlsx/.docx)."""
    # An encrypted package always has both streams, an .xls or .doc neither.
    return ole_has_stream(data, "EncryptedPackage") or ole_has_stream(data, "EncryptionInfo")


@dataclass
class Line:
    """One line of the input: its number (1-based), its cells, whether it is a table row, and its page if known."""

    no: int
    cells: list[str]
    is_row: bool = False
    continues: bool = False
    page: int | None = None  # the page it was printed on, for an input that has pages (a PDF, a scan)

    @property
    def text(self) -> str:
        """Return the line's words, cells joined by a space."""
        return " ".join(c.strip() for c in self.cells if c.strip())

    @property
    def blank(self) -> bool:
        """Tell whether the line holds nothing."""
        return not any(c.strip() for c in self.cells)


@dataclass
class Document:
    """What a report kind yields for the one reader: numbered lines of cells and where they came from."""

    lines: list[Line]
    source: dict[str, Any]
    # The document's words as one string (the format's marker words are looked for in it); default: the lines'.
    text: str = ""
    # Whether each line's number is the file's own line number (a text file), worth telling a person.
    numbered: bool = False

    def __post_init__(self) -> None:
        if not self.text:
            self.text = "\n".join(line.text for line in self.lines)


class Probe:
    """One input file as the kinds see it: its first bytes, all its bytes on demand, its name only as a hint."""

    # Set by convert.inputs.identify: the first kind that recognised the file.
    kind: Kind

    def __init__(self, path: Path, limits: Limits, data: bytes | None = None) -> None:
        self.path = path
        self.limits = limits
        self._data = data
        if data is not None:
            self.size = len(data)
            self.head = data[:HEAD_BYTES]
        else:
            self.size = stat_input(path).st_size
            try:
                with path.open("rb") as fh:
                    self.head = fh.read(HEAD_BYTES)
            except OSError as exc:
                raise UnreadableInputError("cannot-open", reason=os_reason(exc)) from exc
        # Whatever a kind works out about the file once (a decoded sample, an archive listing) and others reuse.
        self.memo: dict[str, Any] = {}

    @classmethod
    def read_whole(cls, path: Path, limits: Limits) -> Probe:
        """Read a regular file whole, refusing missing, odd or oversized files."""
        st = stat_input(path)
        if st.st_size > limits.max_file_bytes:
            raise UnsafeInputError(
                "file-too-large", size=human_bytes(st.st_size), limit=human_bytes(limits.max_file_bytes)
            )
        return cls(path, limits, _read_capped(path, limits))

    @property
    def hint(self) -> str:
        """The file name's extension, lower case: a tie-breaker between kinds the content cannot tell apart."""
        return self.path.suffix.lower()

    @property
    def whole(self) -> bool:
        """Tell whether head holds the whole file."""
        return self.size <= len(self.head)

    @property
    def data(self) -> bytes:
        """All the file's bytes (read on first use, within the size limit)."""
        if self._data is None:
            if self.whole:
                self._data = self.head
            else:
                if self.size > self.limits.max_file_bytes:
                    raise UnsafeInputError(
                        "file-too-large", size=human_bytes(self.size), limit=human_bytes(self.limits.max_file_bytes)
                    )
                self._data = _read_capped(self.path, self.limits)
        return self._data

    @cached_property
    def sha256(self) -> str:
        """The hex SHA-256 of the file's bytes."""
        return hashlib.sha256(self.data).hexdigest()

    @cached_property
    def magic(self) -> Phrase | None:
        """What the first bytes say the file is (a PDF, a PNG image …), strong signatures only; None for none."""
        return describe_magic(self.head[:64], strong_only=True)

    def is_zip(self) -> bool:
        """Tell whether the file starts like a ZIP archive (.xlsx, .docx, .zip …)."""
        return self.head.startswith(ZIP_MAGICS)

    def is_ole(self) -> bool:
        """Tell whether the file is an OLE2 compound file (.doc, .xls, .wps, encrypted Office files)."""
        return self.head.startswith(OLE2_MAGIC)

    @cached_property
    def zip_listing(self) -> frozenset[str] | BaseException:
        """The lower-case member names of a ZIP archive, or the error that kept its directory from being read."""
        try:
            # Only the central directory is read, from the end of the file.
            source = io.BytesIO(self._data) if self._data is not None else self.path
            with zipfile.ZipFile(source) as zf:
                return frozenset(name.lower() for name in zf.namelist())
        except CORRUPT_ERRORS as exc:
            return exc

    def zip_has(self, member: str) -> bool:
        """Tell whether the file is a readable ZIP archive holding a member (lower-case name)."""
        names = self.zip_listing if self.is_zip() else None
        return isinstance(names, frozenset) and member in names


def _read_capped(path: Path, limits: Limits) -> bytes:
    """Read a file's bytes, one byte past the limit at most: the file may have grown since stat()."""
    try:
        with path.open("rb") as fh:
            data = fh.read(limits.max_file_bytes + 1)
    except OSError as exc:
        raise UnreadableInputError("cannot-open", reason=os_reason(exc)) from exc
    if len(data) > limits.max_file_bytes:
        raise UnsafeInputError("file-grew-too-large", limit=human_bytes(limits.max_file_bytes))
    return data


@dataclass(frozen=True)
class Kind:
    """One kind of input: how to tell it by content, and how to read it (or refuse it, saying what to do)."""

    name: str
    detect: Callable[[Probe], bool]
    # A report kind returns a Document (lines of cells for the reader) or a Record (a workbook is one already);
    # a kind we recognise but cannot read raises its refusal, an error saying what the file is and what to do.
    read: Callable[[Probe], Document | Record]
    # False for recognised-but-unsupported kinds: a folder's files of such a kind are skipped, with the refusal.
    readable: bool = True


def not_readable(what: Phrase) -> UnreadableInputError:
    """The refusal for a file that is clearly no report of any kind we read: what it looks like, what to give."""
    return UnreadableInputError("not-a-text-report", what=what)
