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
        # Rendered late, in the language of whoever shows it.
        return _say(self.code, self.fields)


def _rebuild(cls: type[NianbaoError], code: str, fields: dict[str, Any]) -> NianbaoError:
    return cls(code, **fields)


class Phrase:
    """A part of a message that is itself a catalogue text (what a file looks like): a field value, rendered with it."""

    __slots__ = ("code", "fields")

    def __init__(self, code: str, /, **fields: Any) -> None:
        self.code = code
        self.fields = fields

    def __reduce__(self) -> tuple[Any, ...]:
        return (_phrase, (self.code, self.fields))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Phrase) and (self.code, self.fields) == (other.code, other.fields)

    def __hash__(self) -> int:
        return hash(self.code)

    def __repr__(self) -> str:
        return f"Phrase({self.code!r}, **{self.fields!r})"

    def __str__(self) -> str:
        return _say(self.code, self.fields)


def _phrase(code: str, fields: dict[str, Any]) -> Phrase:
    return Phrase(code, **fields)


def _say(code: str, fields: dict[str, Any]) -> str:
    """Render a code in the current language; never raise (an error must always be shown)."""
    from convert.checks.catalogue import DEFAULT_LANGUAGE, language, render

    try:
        try:
            lang = language()
        except UsageError:  # $NIANBAO_LANG names no language: say it (and anything else) in the default one
            lang = DEFAULT_LANGUAGE
        return render(code, fields, lang)
    except FormatDataError:
        # An unknown code or wrong fields is our bug (tests/test_messages.py walks every raise): show what we have.
        return " ".join([code, *(f"{k}={v}" for k, v in fields.items())])


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
