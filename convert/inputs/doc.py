"""The doc kind: an old Word 97-2003 .doc or a WPS Office .wps document, converted to .docx by LibreOffice and read as one.

Both are OLE2 compound files with a WordDocument stream (WPS writes Word's binary format and signs it with its own
KSOProductBuildVer property); an OLE2 file a Word name gives, holding an encrypted package, is a password-protected
.docx. Before LibreOffice sees a file, its directory is read here: encrypted, macro-carrying and object-embedding
files are refused. A command converts all its .doc/.wps inputs before its workers begin, in one LibreOffice start
(one a core for many files, see prepared()); read() then finds the conversion by the file's sha256, or converts the
one file alone.
"""

from __future__ import annotations

import re
import struct
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from convert.errors import NianbaoError, Phrase, UnreadableInputError, UnsafeInputError
from convert.inputs import docx, libreoffice
from convert.inputs.base import Document, Kind, Probe, ole_has_stream, ole_is_encrypted
from convert.safety import Limits

# The extensions of Word files, old and new: an encrypted package (password-protected .docx) tells no more.
WORD_NAMES = frozenset({".doc", ".dot", ".wps", ".wpt", *docx.WORD_SUFFIXES})
# WPS Office writes this property into every document it saves.
WPS_MARKS = (b"KSOProductBuildVer", "KSOProductBuildVer".encode("utf-16-le"))


def detect(probe: Probe) -> bool:
    """An OLE2 file with a WordDocument stream, or an encrypted Office package with a Word file's name."""
    if not probe.is_ole():
        return False
    data = probe.data
    if ole_is_encrypted(data) and probe.hint in WORD_NAMES:
        return True
    try:
        # The directory decides where it can be read: a workbook may hold the words "WordDocument" in a cell.
        return _Compound(data).entry("WordDocument", _STREAM) is not None
    except (ValueError, struct.error, IndexError):
        return ole_has_stream(data, "WordDocument")  # damaged: the name alone, and reading it says what is wrong


def read(probe: Probe) -> Document:
    """Refuse what must never be opened, have LibreOffice make a .docx of the rest, and read that."""
    what = inspect(probe.data)
    converted = _batch.get(probe.sha256)
    if converted is not None and converted.is_file():
        data = converted.read_bytes()
    else:
        data = _convert_alone(probe.data, what)
    return docx.document(docx.read_lines(data, probe.limits), probe, what)


KIND = Kind("doc", detect, read)


# -- conversion: once per command for all its files, or one file alone ---------------------------------------------------
# sha256 of a .doc/.wps input → the .docx LibreOffice made of it in this command's batch (see prepared()).
_batch: dict[str, Path] = {}


# A LibreOffice start costs about as much as converting this many files: a batch is split only into shares this big.
MIN_FILES_PER_START = 8


@contextmanager
def prepared(paths: Sequence[Path], limits: Limits, jobs: int = 1) -> Iterator[None]:
    """Convert every .doc/.wps among paths to .docx up front, for read() to find while inside.

    One LibreOffice start converts them all; with several cores (jobs) and many files, one start per core converts
    a share of at least MIN_FILES_PER_START each, at the same time. Run before a batch's workers start (forked
    workers inherit what was converted). Files that cannot be read, are refused, or fail to convert are left out:
    read() converts them alone and says what is wrong.
    """
    sources: dict[str, bytes] = {}
    for path in paths:
        try:
            probe = Probe(path, limits)
            if not (probe.is_ole() and detect(probe)):
                continue
            inspect(probe.data)
            sources.setdefault(probe.sha256, probe.data)
        except NianbaoError:
            continue
    if len(sources) < 2 or libreoffice.executable() is None:
        yield  # one file converts alone just as fast; without LibreOffice each read says what to install
        return
    starts = max(1, min(jobs, len(sources) // MIN_FILES_PER_START))
    names = list(sources)
    shares = [{sha: sources[sha] for sha in names[i::starts]} for i in range(starts)]
    with tempfile.TemporaryDirectory(prefix="nianbao-docx-") as tmp:
        made: dict[str, Path | Phrase] = {}
        # The threads only wait for the LibreOffice processes, each with a profile of its own.
        with ThreadPoolExecutor(max_workers=starts) as pool:
            for part in pool.map(lambda share: libreoffice.convert_to_docx(share, Path(tmp)), shares):
                made.update(part)
        done = {sha: out for sha, out in made.items() if isinstance(out, Path)}
        _batch.update(done)
        try:
            yield
        finally:
            for sha in done:
                _batch.pop(sha, None)


def _convert_alone(data: bytes, what: str) -> bytes:
    """Have LibreOffice make a .docx of one file; its bytes."""
    with tempfile.TemporaryDirectory(prefix="nianbao-docx-") as tmp:
        out = libreoffice.convert_to_docx({"input": data}, Path(tmp))["input"]
        if isinstance(out, Phrase):
            raise UnreadableInputError("libreoffice-failed", suffix=f".{what}", detail=out)
        return out.read_bytes()


# -- what the compound file holds -----------------------------------------------------------------------------------------
def inspect(data: bytes) -> str:
    """Refuse an encrypted, macro-carrying or object-embedding file; return "wps" for a WPS document, else "doc"."""
    what = "wps" if any(mark in data for mark in WPS_MARKS) else "doc"
    label = f".{what}"
    try:
        ole = _Compound(data)
        word = ole.entry("WordDocument", _STREAM)
        fib = ole.head(word, 12) if word is not None else b""
    except (ValueError, struct.error, IndexError) as exc:
        if ole_is_encrypted(data):
            raise UnreadableInputError("docx-password") from exc
        raise UnreadableInputError("doc-corrupt", suffix=label, detail=str(exc)) from exc
    if ole.entry("EncryptedPackage", _STREAM) is not None:
        raise UnreadableInputError("docx-password")  # a password-protected .docx
    if word is None or len(fib) < 12:
        raise UnreadableInputError("doc-no-stream", suffix=label)
    (flags,) = struct.unpack_from("<H", fib, 0x0A)
    if flags & (_F_ENCRYPTED | _F_OBFUSCATED):
        raise UnreadableInputError("docx-password")
    names = {e.name for e in ole.entries}
    if names & {"Macros", "_VBA_PROJECT", "VBA"}:
        raise UnsafeInputError("doc-macros", suffix=label)
    if any(e.kind == _STORAGE and _OBJECT_STORAGE.match(e.name) for e in ole.entries):
        raise UnsafeInputError("doc-embedded-object", suffix=label)
    return what


# FIB flags (the word at offset 0x0A of the WordDocument stream): a password to open, or XOR obfuscation.
_F_ENCRYPTED, _F_OBFUSCATED = 0x0100, 0x8000
# An embedded object lives in a storage of the ObjectPool named _ and its number (_1234567890).
_OBJECT_STORAGE = re.compile(r"_\d+$")
_STORAGE, _STREAM, _ROOT = 1, 2, 5
_END_OF_CHAIN = 0xFFFFFFFE
_MAX_CHAIN = 1 << 20  # more sectors than a 50 MB file has: the chain loops


@dataclass(frozen=True)
class _Entry:
    name: str
    kind: int
    start: int
    size: int


class _Compound:
    """The directory of an OLE2 compound file (MS-CFB) and the first bytes of its streams; nothing else is read."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.shift = struct.unpack_from("<H", data, 0x1E)[0]
        if self.shift not in (9, 12):
            raise ValueError("the file header is damaged")
        self.size = 1 << self.shift
        per = self.size // 4
        n_fat, first_dir = struct.unpack_from("<II", data, 0x2C)
        self.cutoff, first_minifat, n_minifat, first_difat, n_difat = struct.unpack_from("<IIIII", data, 0x38)
        n_fat = min(n_fat, len(data) // self.size)  # a crafted count cannot make us read more than the file
        fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < _END_OF_CHAIN]
        sector, seen = first_difat, set[int]()
        while sector < _END_OF_CHAIN and len(fat_sectors) < n_fat and len(seen) < n_difat:
            if sector in seen:
                raise ValueError("a broken sector chain")
            seen.add(sector)
            more = struct.unpack_from(f"<{per}I", data, self.offset(sector))
            fat_sectors += [s for s in more[:-1] if s < _END_OF_CHAIN]
            sector = more[-1]
        self.fat: list[int] = []
        for s in fat_sectors[:n_fat]:
            self.fat += struct.unpack_from(f"<{per}I", data, self.offset(s))
        self.entries: list[_Entry] = []
        for s in self.chain(first_dir):
            for at in range(self.offset(s), self.offset(s) + self.size, 128):
                name_len, kind = struct.unpack_from("<HB", data, at + 0x40)
                if kind not in (_STORAGE, _STREAM, _ROOT):
                    continue
                name = data[at : at + min(max(name_len - 2, 0), 62)].decode("utf-16-le", "replace")
                start, size = struct.unpack_from("<IQ", data, at + 0x74)
                # Version 3 files (512-byte sectors) may leave junk in the size's high half.
                self.entries.append(_Entry(name, kind, start, size if self.shift == 12 else size & 0xFFFFFFFF))
        self.minifat_start = first_minifat if n_minifat else _END_OF_CHAIN

    def offset(self, sector: int) -> int:
        """Where a sector starts in the file (the header takes the first sector's place)."""
        at = (sector + 1) << self.shift
        if at + self.size > len(self.data):
            raise ValueError("a sector lies past the end of the file")
        return at

    def chain(self, start: int, table: list[int] | None = None) -> list[int]:
        """The sectors of a chain, refusing loops and chains that leave the table."""
        table = self.fat if table is None else table
        out: list[int] = []
        seen: set[int] = set()
        sector = start
        while sector < _END_OF_CHAIN:
            if sector in seen or sector >= len(table) or len(out) >= _MAX_CHAIN:
                raise ValueError("a broken sector chain")
            seen.add(sector)
            out.append(sector)
            sector = table[sector]
        return out

    def entry(self, name: str, kind: int) -> _Entry | None:
        """The first directory entry of that name and kind."""
        return next((e for e in self.entries if e.name == name and e.kind == kind), None)

    def head(self, entry: _Entry, n: int) -> bytes:
        """The first n bytes of a stream (from the mini stream when it is small)."""
        n = min(n, entry.size)
        if entry.size >= self.cutoff:
            sectors = self.chain(entry.start)[: n // self.size + 1]
            return b"".join(self.data[self.offset(s) : self.offset(s) + self.size] for s in sectors)[:n]
        root = self.entries[0] if self.entries and self.entries[0].kind == _ROOT else None
        if root is None:
            raise ValueError("no root entry")
        minifat: list[int] = []
        for s in self.chain(self.minifat_start):
            minifat += struct.unpack_from(f"<{self.size // 4}I", self.data, self.offset(s))
        mini = 64
        stream = b"".join(self.data[self.offset(s) : self.offset(s) + self.size] for s in self.chain(root.start))
        parts = [stream[m * mini : (m + 1) * mini] for m in self.chain(entry.start, minifat)[: n // mini + 1]]
        return b"".join(parts)[:n]
