"""Other ZIP and OLE2 containers (PowerPoint, OpenDocument, plain archives, unknown old Office files): refused."""

from __future__ import annotations

from convert.errors import UnreadableInputError
from convert.inputs.base import Document, Kind, Probe
from convert.record import Record


def detect(probe: Probe) -> bool:
    """Any ZIP or OLE2 file the kinds before this one did not claim."""
    return probe.is_zip() or probe.is_ole()


def read(probe: Probe) -> Document | Record:
    """Refuse, saying what the container seems to hold."""
    if probe.is_ole():
        raise UnreadableInputError("archive-ole")
    if probe.zip_has("ppt/presentation.xml"):
        raise UnreadableInputError("archive-pptx")
    if probe.zip_has("content.xml"):
        raise UnreadableInputError("archive-opendocument")
    raise UnreadableInputError("archive-zip")


KIND = Kind("archive", detect, read, readable=False)
