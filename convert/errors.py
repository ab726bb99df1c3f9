"""One exception hierarchy: every failure the CLI reports is one of these."""

from __future__ import annotations


class NianbaoError(Exception):
    """Base of all our errors; the message says what is wrong and what to do."""

    exit_code = 1


class UsageError(NianbaoError):
    """The command was called wrongly (bad option, output exists, nothing to read)."""

    exit_code = 2


class UnreadableInputError(NianbaoError):
    """An input cannot be opened or decoded at all (missing, binary, corrupt, encrypted)."""

    exit_code = 2


class NotAReportError(NianbaoError):
    """An input was read but is not an annual report, or lacks one of its tables."""

    exit_code = 1


class UnsafeInputError(UnreadableInputError):
    """An input was refused for safety (zip bomb, macros, entity expansion, too large)."""


class FormatDataError(NianbaoError):
    """The format data in workbook_templates/ is missing or inconsistent."""

    exit_code = 2


class StoreError(NianbaoError):
    """The records store refused an operation (conflict, unknown record, bad revision)."""

    exit_code = 1


class ConflictError(StoreError):
    """A workbook was exported from an older revision than the store's latest."""
