"""The data kind: JSON, JSON lines and CSV files (records, findings, dumps), which sit beside reports but are none."""

from __future__ import annotations

import json
import re

from convert.errors import UnreadableInputError
from convert.inputs.base import Document, Kind, Probe
from convert.inputs.text import sample_text
from convert.record import Record

# An object, or an array of objects, arrays or strings; a report never starts like that.
_JSON_START = re.compile(r'(?:\{|\[\s*[\[{"\]])')


def _json(text: str) -> bool:
    """Tell JSON (a document, or one per line) from text, by how it starts and whether its first line parses."""
    text = text.lstrip("\ufeff \t\r\n")
    if not _JSON_START.match(text):
        return False
    first = text.split("\n", 1)[0]
    for candidate in (first.rstrip(), text.rstrip()):
        try:
            _, end = json.JSONDecoder().raw_decode(candidate)
        except ValueError:
            continue
        if end == len(candidate):
            return True
    # A long document whose first 64 KB end mid-value: its opening is enough.
    return bool(re.match(r'(?:\{\s*"|\[\s*\{\s*")', text))


def detect(probe: Probe) -> bool:
    """JSON by content; comma-separated text by content and, as the tie-breaker, a .csv name."""
    text = sample_text(probe)
    if not text:
        return False
    return _json(text) or (probe.hint == ".csv" and "," in text.split("\n", 1)[0])


def read(probe: Probe) -> Document | Record:
    """Refuse, saying what the file is."""
    what = "JSON" if _json(sample_text(probe) or "") else "CSV"
    raise UnreadableInputError("data-not-a-report", what=what)


KIND = Kind("data", detect, read, readable=False)
