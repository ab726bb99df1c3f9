"""The binary kind, last in the list: whatever no other kind claims (archives, programs, databases, noise)."""

from __future__ import annotations

from convert.errors import UnreadableInputError
from convert.inputs.base import Document, Kind, Probe
from convert.inputs.text import BINARY_MESSAGE
from convert.record import Record


def detect(probe: Probe) -> bool:
    """Anything: this kind catches what the others leave."""
    return True


def read(probe: Probe) -> Document | Record:
    """Refuse, naming the format when its magic bytes are known."""
    if probe.magic:
        raise UnreadableInputError(f"looks like {probe.magic}, not a text report: give a .txt, .md, .html or .xlsx file")
    raise UnreadableInputError(BINARY_MESSAGE)


KIND = Kind("binary", detect, read, readable=False)
