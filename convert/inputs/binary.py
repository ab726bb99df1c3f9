"""The binary kind, last in the list: whatever no other kind claims (archives, programs, databases, noise)."""

from __future__ import annotations

from convert.errors import Phrase
from convert.inputs.base import Document, Kind, Probe, not_readable
from convert.record import Record


def detect(probe: Probe) -> bool:
    """Anything: this kind catches what the others leave."""
    return True


def read(probe: Probe) -> Document | Record:
    """Refuse, naming the format when its magic bytes are known."""
    raise not_readable(probe.magic or Phrase("looks-binary"))


KIND = Kind("binary", detect, read, readable=False)
