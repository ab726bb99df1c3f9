"""One exception hierarchy: every failure the CLI reports is one of these."""

from __future__ import annotations

from typing import Any


class NianbaoError(Exception):
    """Base of all our errors: a catalogue code and its fields; the message says what is wrong and what to do."""

    exit_code = 1

    def __init__(self, code: str, /, **fields: Any) -> None:
        super().__init__(code)
        self.code = code
        self.fields = fields

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross process boundaries (--jobs, the isolated reader): keep the code and the fields.
        return (_rebuild, (type(self), self.code, self.fields))

    def __str__(self) -> str:
        from convert.checks.catalogue import known, render

        # Rendered late, in the language of whoever shows it; a text that is no code is shown as written.
        return render(self.code, self.fields) if known(self.code) else self.code


def _rebuild(cls: type[NianbaoError], code: str, fields: dict[str, Any]) -> NianbaoError:
    return cls(code, **fields)


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


class InternalError(NianbaoError):
    """A bug of ours (or of a library) met on one input: that input fails, the batch goes on; --debug shows it."""

    exit_code = 1
