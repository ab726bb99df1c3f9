"""The image kind: a picture (a scanned page, a screenshot), recognised and refused until issue #14 reads scans."""

from __future__ import annotations

from convert.errors import Phrase
from convert.inputs.base import Document, Kind, Probe, not_readable
from convert.record import Record

_IMAGES = {Phrase("looks-png"), Phrase("looks-jpeg"), Phrase("looks-gif"), Phrase("looks-tiff")}


def detect(probe: Probe) -> bool:
    """PNG, JPEG, GIF and TIFF by their magic bytes."""
    return probe.magic in _IMAGES


def read(probe: Probe) -> Document | Record:
    """Refuse, naming the image format."""
    raise not_readable(probe.magic or Phrase("looks-binary"))


KIND = Kind("image", detect, read, readable=False)
