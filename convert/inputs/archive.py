"""Other ZIP and OLE2 containers (PowerPoint, OpenDocument, plain archives, unknown old Office files): refused."""

from __future__ import annotations

from convert.errors import UnreadableInputError
from convert.inputs.base import Document, Kind, Probe
from convert.record import Record

_ZIP_MESSAGES = (
    ("ppt/presentation.xml", "looks like a PowerPoint .pptx presentation: save the report as plain text (.txt)"),
    ("content.xml", "looks like an OpenDocument file (.odt/.ods): save it as .txt or .xlsx"),
)


def detect(probe: Probe) -> bool:
    """Any ZIP or OLE2 file the kinds before this one did not claim."""
    return probe.is_zip() or probe.is_ole()


def read(probe: Probe) -> Document | Record:
    """Refuse, saying what the container seems to hold."""
    if probe.is_ole():
        raise UnreadableInputError(
            "looks like an old Office file (.doc/.xls) or an encrypted workbook: save it as .xlsx or .txt"
        )
    for member, message in _ZIP_MESSAGES:
        if probe.zip_has(member):
            raise UnreadableInputError(message)
    raise UnreadableInputError("looks like a ZIP archive: unpack it and give the report file itself")


KIND = Kind("archive", detect, read, readable=False)
