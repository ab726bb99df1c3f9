"""The xls kind: an old Excel 97-2003 workbook, or a password-protected (encrypted) Office file: refused."""

from __future__ import annotations

from convert.errors import UnreadableInputError
from convert.inputs.base import Document, Kind, Probe, ole_has_stream, ole_is_encrypted
from convert.record import Record


def detect(probe: Probe) -> bool:
    """An OLE2 file holding an encrypted package, or Excel's workbook stream."""
    if not probe.is_ole():
        return False
    data = probe.data
    if ole_is_encrypted(data):
        return True
    # Word files (whose text may say "Book" anywhere) were claimed by the doc kind, before this one in KINDS.
    return ole_has_stream(data, "Workbook") or ole_has_stream(data, "Book")


def refusal(data: bytes) -> UnreadableInputError:
    """The refusal for an OLE2 file given as a workbook: password-protected, or old .xls."""
    if ole_is_encrypted(data):
        return UnreadableInputError("workbook-password")
    return UnreadableInputError("xls-unsupported")


def read(probe: Probe) -> Document | Record:
    """Refuse, saying how to make an .xlsx of it."""
    raise refusal(probe.data)


KIND = Kind("xls", detect, read, readable=False)
