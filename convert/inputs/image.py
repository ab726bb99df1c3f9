"""The image kind: scanned or photographed report pages (PNG, JPEG, TIFF, GIF), read with OCR (the ocr extra).

One report's pages are one input: a TIFF (a scanner's multi-page file), a folder that holds nothing but the report's
page images, two or more (named in order: 第1页.jpg … 第10页.jpg, page-01.png …), or page images named one after the
other on the command line (one alone is a report of one page). convert.inputs.select groups them into a PageImages
path; a page image among other files of a folder is skipped, saying how to give it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convert.errors import Phrase
from convert.inputs.base import Document, Kind, Probe
from convert.record import Record

_IMAGES = {Phrase("looks-png"), Phrase("looks-jpeg"), Phrase("looks-gif"), Phrase("looks-tiff")}
_PAGES = _IMAGES - {Phrase("looks-tiff")}

if TYPE_CHECKING:
    _PathBase = Path
else:
    _PathBase = type(Path())  # PosixPath or WindowsPath: Path itself cannot be subclassed before Python 3.12


class PageImages(_PathBase):
    """The pages of one report given as several images: the path names them (their folder, or the first page
    named on the command line) and `pages` lists them in order. It pickles with its pages, so --jobs keeps them."""

    pages: tuple[Path, ...] = ()

    @classmethod
    def of(cls, where: Path, pages: Sequence[Path]) -> PageImages:
        """The report at `where` made of `pages`, in that order."""
        out = cls(where)
        out.pages = tuple(Path(p) for p in pages)
        return out

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (str(self), tuple(str(p) for p in self.pages)))


def _rebuild(where: str, pages: tuple[str, ...]) -> PageImages:
    return PageImages.of(Path(where), [Path(p) for p in pages])


def detect(probe: Probe) -> bool:
    """PNG, JPEG, GIF and TIFF by their magic bytes."""
    return probe.magic in _IMAGES


def is_page(probe: Probe) -> bool:
    """Tell whether a picture is one page (PNG, JPEG, GIF) rather than a whole scanned document (a TIFF)."""
    return probe.magic in _PAGES


def page_order(path: Path) -> tuple[Any, ...]:
    """Sort key for page images: numbers in the name by value (第2页 before 第10页), then the name."""
    parts = re.split(r"(\d+)", path.name.lower())
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)


def read(probe: Probe) -> Document | Record:
    """Read the picture (or all pages of a PageImages input) with OCR into lines of cells."""
    from convert.inputs import scan

    paths = list(probe.path.pages) if isinstance(probe.path, PageImages) and probe.path.pages else [probe.path]
    datas = [probe.data] if len(paths) == 1 else [Probe.read_whole(p, probe.limits).data for p in paths]
    digest = hashlib.sha256()
    for data in datas:
        digest.update(data)
    source: dict[str, Any] = {"path": str(probe.path), "name": probe.path.name, "sha256": digest.hexdigest()}
    if len(paths) > 1:
        source["images"] = [
            {"name": p.name, "sha256": hashlib.sha256(d).hexdigest()} for p, d in zip(paths, datas, strict=True)
        ]
    return scan.read_images(datas, [p.name for p in paths], source, probe.limits)


KIND = Kind("image", detect, read)
