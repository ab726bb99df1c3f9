"""Every kind of input, in one ordered list: it decides what a file is, how it is read, which files of a folder
are taken (and why the others are skipped), and what is said when a file cannot be read.

A new kind of input is one module with `detect(probe)` and `read(probe)`, and one entry in KINDS.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from convert import safety
from convert.errors import NianbaoError, NotAReportError, UnreadableInputError, UsageError
from convert.inputs import archive, binary, data, doc, docx, image, mht, pdf, scan, text, workbook, xls
from convert.inputs.base import Document, Kind, Line, Probe
from convert.record import Record
from convert.safety import Limits

# First match wins, so the order matters: containers before what they contain, magic bytes before text, and
# the binary kind last, catching the rest. Detection is by content; a file's extension is only a tie-breaker.
KINDS: list[Kind] = [
    docx.KIND,  # ZIP with word/document.xml (a .docm too: its macro project would look like a workbook's)
    workbook.KIND,  # ZIP with xl/workbook.xml (or a ZIP too damaged to list: a truncated download)
    doc.KIND,  # OLE2 with a WordDocument stream (.doc, .wps), or an encrypted package named like a Word file
    xls.KIND,  # OLE2 with Excel's streams, or an encrypted Office package
    archive.KIND,  # any other ZIP or OLE2 file
    pdf.KIND,
    image.KIND,
    mht.KIND,  # a web archive (MIME text) before the text kinds, which would take it for text
    data.KIND,  # JSON / CSV beside the reports
    text.KIND,  # plain text, markdown, HTML in any usual encoding
    binary.KIND,  # everything else
]


def identify(path: str | Path, limits: Limits | None = None) -> Probe:
    """Read a file (refusing missing, odd, oversized or empty files) and find its kind: probe.kind."""
    limits = limits or safety.DEFAULT_LIMITS  # read at call time: --limit may have raised it
    if isinstance(path, image.PageImages) and path.pages:
        # Several pictures, one report: probed by its first page, read whole by the image kind.
        probe = Probe(path, limits, Probe.read_whole(path.pages[0], limits).data)
        probe.kind = image.KIND
        return probe
    probe = Probe.read_whole(Path(path), limits)
    if not probe.size:
        raise NotAReportError("file-empty")
    probe.kind = kind_of(probe)
    return probe


def kind_of(probe: Probe) -> Kind:
    """The first kind in KINDS that recognises the probe's content."""
    for kind in KINDS:
        if kind.detect(probe):
            return kind
    raise AssertionError("the binary kind, last in KINDS, recognises anything")  # pragma: no cover


@contextmanager
def prepared(paths: Sequence[Path], limits: Limits | None = None, jobs: int = 1) -> Iterator[None]:
    """Do up front, once for a command's inputs, what is slow one file at a time (LibreOffice for .doc/.wps).

    Enter it before a batch's workers start (jobs: how many cores it may use); reads inside it use what was prepared.
    """
    scan.configure(len(paths), jobs)
    with doc.prepared(paths, limits or safety.DEFAULT_LIMITS, jobs):
        yield


def load(path: str | Path, limits: Limits | None = None) -> Document | Record:
    """Read an input of any kind: a document (lines of cells) for a report, a record for a workbook."""
    probe = identify(path, limits)
    return probe.kind.read(probe)


@dataclass(frozen=True)
class Skipped:
    """A file in a folder that is not an input, and why (the refusal reading it would give)."""

    path: Path
    reason: NianbaoError


@dataclass
class Selection:
    """The inputs that files and folders given on the command line stand for, and the files left out."""

    files: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    # Folders in which no file was taken.
    empty: list[Path] = field(default_factory=list)

    def inputs(self) -> list[Path]:
        """The files to read; a folder that gave none is a usage error."""
        for folder in self.empty:
            raise UsageError("folder-no-reports", path=str(folder))
        return self.files


def select(
    paths: Sequence[str | Path], limits: Limits | None = None, outputs: Sequence[str | Path | None] = ()
) -> Selection:
    """Expand folders into the files of a kind we read, sorted; keep files given by name as they are.

    A folder's other files are skipped, each with the reason its kind gives (a PDF, a picture, a database …);
    hidden files and folders are not looked at, nor Office lock files (~$name). outputs: what the command
    writes (a workbook ending in .xlsx, else a folder of workbooks), never taken from a folder as an input.
    """
    if not paths:
        raise UsageError("no-inputs")
    limits = limits or safety.DEFAULT_LIMITS
    chosen = Selection()
    own = _Outputs(outputs)
    pictures: list[Path] = []  # page images named one after the other: one report

    def flush() -> None:
        if len(pictures) > 1:
            chosen.files.append(image.PageImages.of(pictures[0], pictures))
        else:
            chosen.files.extend(pictures)
        pictures.clear()

    for raw in paths:
        path = raw if isinstance(raw, image.PageImages) else Path(raw)
        if not isinstance(path, image.PageImages) and not path.is_dir() and _is_picture(path, limits):
            pictures.append(path)
            continue
        flush()
        if isinstance(path, image.PageImages) or not path.is_dir():
            chosen.files.append(path)
            continue
        before = len(chosen.files)
        companions = _page_folders(path)
        scans = _scan_folders(path, limits)
        for folder in companions:
            page = companions[folder]
            chosen.skipped.append(Skipped(folder, UnreadableInputError("skip-page-folder", page=page.name)))
        inside = own.folders_inside(path)
        chosen.skipped.extend(Skipped(folder, UsageError("skipped-output-folder")) for folder in inside)
        for member in sorted(p for p in path.rglob("*") if p.is_file()):
            if any(part.startswith(".") for part in member.relative_to(path).parts):
                continue
            if any(parent in companions or parent in inside for parent in member.parents):
                continue  # the folder was named once above
            if own.holds(member):
                chosen.skipped.append(Skipped(member, UsageError("skipped-own-output")))
                continue
            if member.parent in scans:
                pages = scans[member.parent]
                if member == pages[0]:
                    chosen.files.append(image.PageImages.of(member.parent, pages))
                continue  # a page of the folder's one report
            if member.name.startswith("~$"):
                chosen.skipped.append(Skipped(member, UnreadableInputError("skip-lock-file")))
                continue
            reason = _skip_reason(member, limits)
            if reason is None:
                chosen.files.append(member)
            else:
                chosen.skipped.append(Skipped(member, reason))
        if len(chosen.files) == before:
            chosen.empty.append(path)
    flush()
    return chosen


class _Outputs:
    """What a command writes, to leave out of its inputs: workbooks (.xlsx), and folders of workbooks."""

    def __init__(self, outputs: Sequence[str | Path | None]) -> None:
        """Resolve each output once (links followed); one not ending in .xlsx is a folder of workbooks."""
        named = [Path(o) for o in outputs if o is not None]
        self.files = {os.path.realpath(o) for o in named if o.suffix.lower() == ".xlsx"}
        self.names = {Path(f).name for f in self.files}
        self.folders = {os.path.realpath(o) for o in named if o.suffix.lower() != ".xlsx"}
        self._real: dict[Path, str] = {}

    def folders_inside(self, root: Path) -> list[Path]:
        """The output folders strictly inside root (as paths under root): all they hold is output."""
        top = os.path.realpath(root)
        return [root / os.path.relpath(f, top) for f in sorted(self.folders) if f.startswith(top + os.sep)]

    def holds(self, member: Path) -> bool:
        """Tell whether a file of a folder is (or may be) one of the outputs: never read it as an input."""
        if member.name in self.names and os.path.realpath(member) in self.files:
            return True
        if not self.folders or member.suffix.lower() != ".xlsx":
            return False
        if member.parent not in self._real:
            self._real[member.parent] = os.path.realpath(member.parent)
        return self._real[member.parent] in self.folders


def _is_picture(path: Path, limits: Limits) -> bool:
    """Tell whether a file is a page image (PNG, JPEG, GIF: by its content); an unreadable file is none (reading
    it will say why), nor a TIFF (a whole scanned document)."""
    try:
        return image.is_page(Probe(path, limits))
    except NianbaoError:
        return False


def _scan_folders(root: Path, limits: Limits) -> dict[Path, list[Path]]:
    """The folders under root (root too) holding nothing but page images, two or more: each one report's pages, in
    page order."""
    files: dict[Path, list[Path]] = {}
    for member in root.rglob("*"):
        if member.is_file() and not any(part.startswith(".") for part in member.relative_to(root).parts):
            files.setdefault(member.parent, []).append(member)
    out = {}
    for folder, members in files.items():
        if len(members) > 1 and all(_is_picture(m, limits) for m in members):
            out[folder] = sorted(members, key=image.page_order)
    return out


# What browsers and Word name the folder they save beside a web page X.htm: X_files (X.files in Chinese Word).
_PAGE_FOLDER = re.compile(r"^(?P<stem>.+)(?:_files|\.files)$", re.IGNORECASE)
_PAGE_SUFFIXES = (".htm", ".html", ".shtml", ".xhtml")


def _page_folders(root: Path) -> dict[Path, Path]:
    """The folders under root that a browser saved beside a web page (X_files beside X.htm), with that page."""
    found: dict[Path, Path] = {}
    for folder in sorted(p for p in root.rglob("*") if p.is_dir()):
        m = _PAGE_FOLDER.match(folder.name)
        hidden = any(part.startswith(".") for part in folder.relative_to(root).parts)
        if not m or hidden or any(parent in found for parent in folder.parents):
            continue
        wanted = {m["stem"].lower() + suffix for suffix in _PAGE_SUFFIXES}
        page = next((p for p in sorted(folder.parent.iterdir()) if p.name.lower() in wanted and p.is_file()), None)
        if page is not None:
            found[folder] = page
    return found


def _skip_reason(path: Path, limits: Limits) -> NianbaoError | None:
    """Why a folder's file is not an input (its kind's refusal), or None to take it."""
    try:
        probe = Probe(path, limits)
        if not probe.size:
            return None  # reading it says it is empty
        kind = kind_of(probe)
    except NianbaoError:
        # An unreadable or oversized file may well be a report: take it, so reading it says what is wrong.
        return None
    if kind is image.KIND and image.is_page(probe):
        # A folder of page images only is a report (see select); a page image among other files is none.
        return NotAReportError("image-beside-files")
    if kind.readable:
        return None
    try:
        kind.read(probe)
    except NianbaoError as exc:
        return exc
    return None  # a kind that refuses nothing after all: take the file


__all__ = ["KINDS", "Document", "Kind", "Line", "Probe", "Selection", "Skipped", "identify", "load", "select"]
