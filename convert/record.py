"""The record: one annual report as structured data, and its JSON form."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Value = int | Decimal | None

TEXT_KEYS = ("preface", "overview", "problems", "other")


@dataclass(frozen=True)
class Excerpt:
    """The input a warning came from: its line(s) of cells as the input kind gave them, and where they are."""

    text: str  # the cells joined by " | ", cut short (convert/parse/excerpts.py)
    line: int | None = None  # the file's own line number (a text file)
    page: int | None = None  # the page (a PDF)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form: the text, and the line and page when known."""
        out: dict[str, Any] = {"text": self.text}
        if self.line is not None:
            out["line"] = self.line
        if self.page is not None:
            out["page"] = self.page
        return out

    @classmethod
    def from_json(cls, data: Any) -> Excerpt | None:
        """Rebuild an excerpt read from a file; None for anything that is not one."""
        if not isinstance(data, Mapping) or not isinstance(data.get("text"), str):
            return None
        return cls(data["text"], _number(data.get("line")), _number(data.get("page")))


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def excerpts_from_json(data: Any) -> list[Excerpt]:
    """The excerpts of a warning read from a file (a record without them has none)."""
    found = [Excerpt.from_json(item) for item in data] if isinstance(data, list) else []
    return [e for e in found if e is not None]


@dataclass
class Warning_:
    """Something the reader was not sure of, or could not place; never silent. Its message is rendered late."""

    code: str
    fields: dict[str, Any] = field(default_factory=dict)
    where: str = ""
    text: str | None = None  # a message kept as written (read back from a workbook or JSON), shown as is
    # The input it came from (the rows it is about), when the reader read one: see Excerpt.
    excerpts: list[Excerpt] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.text is None:
            from convert.checks.catalogue import check_fields

            # A code or fields the catalogue does not know fail here, at the call, not when shown.
            check_fields(self.code, self.fields)

    @property
    def message(self) -> str:
        """Return the message in the current language."""
        if self.text is not None:
            return self.text
        from convert.checks.catalogue import render

        return render(self.code, self.fields)

    @classmethod
    def restore(
        cls, code: str, message: str, where: str = "", fields: Any = None, excerpts: list[Excerpt] | None = None
    ) -> Warning_:
        """Rebuild a warning read from a file: from its fields when they fit the catalogue, else as written."""
        from convert.checks.catalogue import fits

        fields = dict(fields) if isinstance(fields, Mapping) else {}
        if fits(code, fields):
            return cls(code, fields, where, excerpts=list(excerpts or []))
        return cls(code, where=where, text=message, excerpts=list(excerpts or []))

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (fields and excerpts too, when it has any)."""
        out: dict[str, Any] = {"code": self.code, "message": self.message, "where": self.where}
        if self.fields:
            out["fields"] = dict(self.fields)
        if self.excerpts:
            out["excerpts"] = [e.to_json() for e in self.excerpts]
        return out


@dataclass
class Record:
    """One report: metadata, every cell of its version, notes, texts and warnings."""

    format: str
    cells: dict[str, Value]
    agency: str | None = None
    year: int | None = None
    title: str | None = None
    source: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    text: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in TEXT_KEYS})
    extra: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)

    def warn(
        self, code: str, fields: Mapping[str, Any] | None = None, where: str = "", excerpts: Iterable[Excerpt] = ()
    ) -> None:
        """Add a warning: its code (in workbook_templates/messages.toml), the fields of its message, its source."""
        self.warnings.append(Warning_(code, dict(fields or {}), where, excerpts=list(excerpts)))

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready dict (money as exact JSON numbers)."""
        return {
            "source": self.source,
            "agency": self.agency,
            "year": self.year,
            "format": self.format,
            "title": self.title,
            "cells": dict(self.cells),
            "notes": dict(self.notes),
            "text": {k: list(self.text.get(k, [])) for k in TEXT_KEYS},
            "extra": self.extra,
            "warnings": [w.to_json() for w in self.warnings],
        }

    def dumps(self, indent: int | None = None) -> str:
        """Return the record as JSON text."""
        return dumps(self.to_json(), indent=indent)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        """Build a record from its JSON dict (as returned by loads)."""
        from convert.formats import load_format

        fmt = load_format(str(data["format"]))
        cells = {k: _from_json_value(v) for k, v in data["cells"].items()}
        for key, value in cells.items():
            # JSON cannot tell 24 from 24.0: money is always a Decimal in a record.
            if isinstance(value, int) and key in fmt.cell_keys and fmt.cell_type(key) == "money":
                cells[key] = Decimal(value)
        return cls(
            format=str(data["format"]),
            cells=cells,
            agency=data.get("agency"),
            year=data.get("year"),
            title=data.get("title"),
            source=dict(data.get("source") or {}),
            notes=dict(data.get("notes") or {}),
            text={k: list((data.get("text") or {}).get(k, [])) for k in TEXT_KEYS},
            extra=list(data.get("extra") or []),
            warnings=[
                Warning_.restore(
                    w["code"], w["message"], w.get("where", ""), w.get("fields"), excerpts_from_json(w.get("excerpts"))
                )
                for w in data.get("warnings") or []
            ],
        )

    @classmethod
    def loads(cls, text: str) -> Record:
        """Parse a record from JSON text."""
        return cls.from_json(loads(text))


_encode_str = json.JSONEncoder(ensure_ascii=False).encode
_LITERALS = {None: "null", True: "true", False: "false"}


def _encode(o: Any, indent: str | None, depth: int, out: list[str], seen: set[int]) -> None:
    """Append the JSON text of o, as json.dumps(o, ensure_ascii=False, indent=...) would, but Decimals exact."""
    kind = type(o)
    if kind is str:
        out.append(_encode_str(o))
    elif kind is int:
        out.append(int.__repr__(o))
    elif o is None or o is True or o is False:
        out.append(_LITERALS[o])
    elif isinstance(o, Decimal):
        # Digit for digit: 6212.40 stays 6212.40, 1E+2 is 100; the standard encoder knows no Decimals.
        out.append(format(o, "f"))
    elif isinstance(o, (list, tuple, dict)):
        if id(o) in seen:
            raise ValueError("Circular reference detected")
        if isinstance(o, dict):
            opening, closing, pairs = "{", "}", [(_encode_str(_key(k)) + ": ", v) for k, v in o.items()]
        else:
            opening, closing, pairs = "[", "]", [("", v) for v in o]
        if not pairs:
            out.append(opening + closing)
            return
        seen.add(id(o))
        inner = "" if indent is None else "\n" + indent * (depth + 1)
        separator = ", " if indent is None else "," + inner
        out.append(opening + inner)
        for i, (key, item) in enumerate(pairs):
            out.append(separator + key if i else key)
            _encode(item, indent, depth + 1, out, seen)
        out.append(("" if indent is None else "\n" + indent * depth) + closing)
        seen.discard(id(o))
    elif isinstance(o, (str, int, float)):
        # Subclasses (enums) and floats as the standard encoder prints them (NaN, Infinity included).
        out.append(json.dumps(o, ensure_ascii=False))
    else:
        raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _key(key: Any) -> str:
    """Return a dict key as JSON writes it: keys are strings, numbers and literals spelled as in JSON."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _from_json_value(v: Any) -> Value:
    if v is None or isinstance(v, (int, Decimal)):
        return v
    if isinstance(v, float):
        return Decimal(repr(v))
    if isinstance(v, str):
        return Decimal(v)
    raise ValueError(f"not a cell value: {v!r}")


def dumps(data: Any, indent: int | None = None) -> str:
    """Serialize to JSON with Decimals as exact numbers and Chinese kept readable."""
    out: list[str] = []
    _encode(data, None if indent is None else " " * indent, 0, out, set())
    return "".join(out)


def loads(text: str) -> Any:
    """Parse JSON, reading numbers with a fraction as exact Decimals."""
    return json.loads(text, parse_float=Decimal)
