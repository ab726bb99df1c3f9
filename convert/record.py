"""The record: one annual report as structured data, and its JSON form."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Value = int | Decimal | None

TEXT_KEYS = ("preface", "overview", "problems", "other")


@dataclass
class Warning_:
    """Something the reader was not sure of, or could not place; never silent. Its message is rendered late."""

    code: str
    fields: dict[str, Any] = field(default_factory=dict)
    where: str = ""
    text: str | None = None  # a message kept as written (read back from a workbook or JSON), shown as is

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
    def restore(cls, code: str, message: str, where: str = "", fields: Any = None) -> Warning_:
        """Rebuild a warning read from a file: from its fields when they fit the catalogue, else as written."""
        from convert.checks.catalogue import fits

        fields = dict(fields) if isinstance(fields, Mapping) else {}
        if fits(code, fields):
            return cls(code, fields, where)
        return cls(code, where=where, text=message)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (fields too, when the message has any)."""
        out: dict[str, Any] = {"code": self.code, "message": self.message, "where": self.where}
        if self.fields:
            out["fields"] = dict(self.fields)
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

    def warn(self, code: str, fields: Mapping[str, Any] | None = None, where: str = "") -> None:
        """Add a warning: its code (in workbook_templates/messages.toml) and the fields of its message."""
        self.warnings.append(Warning_(code, dict(fields or {}), where))

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
                Warning_.restore(w["code"], w["message"], w.get("where", ""), w.get("fields"))
                for w in data.get("warnings") or []
            ],
        )

    @classmethod
    def loads(cls, text: str) -> Record:
        """Parse a record from JSON text."""
        return cls.from_json(loads(text))


class _ExactDecimal(float):
    """A float that prints the Decimal it came from, digit for digit."""

    def __new__(cls, value: Decimal) -> _ExactDecimal:
        obj = super().__new__(cls, value)
        obj.text = format(value, "f")
        return obj

    def __repr__(self) -> str:
        return self.text


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            return _ExactDecimal(o)
        return super().default(o)

    def iterencode(self, o: Any, _one_shot: bool = False):  # type: ignore[override]
        # The C encoder prints floats itself; the Python one calls repr, which keeps decimals exact.
        return json.encoder._make_iterencode(  # type: ignore[attr-defined]
            {},
            self.default,
            json.encoder.encode_basestring if not self.ensure_ascii else json.encoder.encode_basestring_ascii,
            self.indent if self.indent is None or isinstance(self.indent, str) else " " * self.indent,
            _floatstr,
            self.key_separator,
            self.item_separator,
            self.sort_keys,
            self.skipkeys,
            _one_shot,
        )(o, 0)


def _floatstr(o: float) -> str:
    if isinstance(o, _ExactDecimal):
        return o.text
    return float.__repr__(o)


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
    return _Encoder(ensure_ascii=False, indent=indent).encode(data)


def loads(text: str) -> Any:
    """Parse JSON, reading numbers with a fraction as exact Decimals."""
    return json.loads(text, parse_float=Decimal)
