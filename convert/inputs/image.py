"""The image kind: a picture (a scanned page, a screenshot), recognised and refused until issue #14 reads scans."""

from __future__ import annotations

from convert.errors import UnreadableInputError
from convert.inputs.base import Document, Kind, Probe, not_readable
from convert.record import Record

_IMAGES = {"a PNG image", "a JPEG image", "a GIF image", "a TIFF image"}


def detect(probe: Probe) -> bool:
    """PNG, JPEG, GIF and TIFF by their magic bytes."""
    return probe.magic in _IMAGES


def read(probe: Probe) -> Document | Record:
    """Refuse, naming the image format."""
    raise UnreadableInputError(not_readable(str(probe.magic)))


KIND = Kind("image", detect, read, readable=False)
