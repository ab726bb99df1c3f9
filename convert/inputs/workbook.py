"""The workbook kind: a standard .xlsx (one nianbao wrote, or a summary), vetted for safety and read back."""

from __future__ import annotations

from convert.inputs.base import Kind, Probe
from convert.record import Record
from convert.safety import corrupt_error, inspect_workbook_bytes


def detect(probe: Probe) -> bool:
    """An .xlsx is a ZIP with a workbook part (a macro project too: refused when read, with its own message)."""
    if not probe.is_zip():
        return False
    names = probe.zip_listing
    if not isinstance(names, frozenset):
        # A ZIP whose directory cannot be read: most likely a truncated workbook download.
        return True
    return "xl/workbook.xml" in names or any(n.endswith("vbaproject.bin") for n in names)


def vet(probe: Probe) -> None:
    """Refuse a damaged or unsafe workbook (zip bomb, macros, entities, huge sheets) before any parser sees it."""
    names = probe.zip_listing
    if not isinstance(names, frozenset):
        raise corrupt_error(names) from names
    inspect_workbook_bytes(probe.data, probe.limits)


def read(probe: Probe) -> Record:
    """Vet the workbook, then read it back into the record it was written from."""
    vet(probe)
    from convert.readback import read_workbook

    return read_workbook(probe.path, data=probe.data, limits=probe.limits)


KIND = Kind("workbook", detect, read)
