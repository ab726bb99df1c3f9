"""A table's labels (official and their variants in format.toml) → the keys of its rows, columns and groups."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import NamedTuple

from convert.formats import core, load_format, normalize

# An outline number a label starts with: Chinese (一、 （六）) or Arabic (1. 1、 (1)).
_CHINESE_NUMBER = re.compile(r"^[（(]?([一二三四五六七八九十]+)[)）、.．]")
_ARABIC_NUMBER = re.compile(r"^[（(]?(\d{1,2})[)）、.．](?!\d)")


def numbering(text: str) -> tuple[str, str] | None:
    """The outline number a label starts with, as (kind, number): ("chinese", "六"), ("arabic", "3"), or None."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    for kind, pattern in (("chinese", _CHINESE_NUMBER), ("arabic", _ARABIC_NUMBER)):
        m = pattern.match(text)
        if m:
            return kind, m.group(1)
    return None


class LabelIndex(dict[str, str]):
    """Label core → key, with a memo of lookups (labels repeat across thousands of reports)."""

    def __init__(self, items: list[tuple[str, list[str]]]) -> None:
        super().__init__()
        # Each key's official number (its first label's), and the cores of all its labels.
        self.numbers: dict[str, tuple[str, str] | None] = {}
        self.cores: dict[str, list[str]] = {}
        for key, labels in items:
            self.numbers[key] = numbering(labels[0]) if labels else None
            for label in labels:
                self.setdefault(core(label), key)
                self.cores.setdefault(key, []).append(core(label))
        self.memo: dict[str, str | None] = {}


class TableLabels(NamedTuple):
    """The label indexes of one table."""

    rows: LabelIndex
    columns: LabelIndex
    derived_columns: LabelIndex
    groups: LabelIndex
    header: tuple[str, ...]  # the words of the header's texts (corner, column labels), brackets dropped


@cache
def table_labels(version: str, table_key: str) -> TableLabels:
    """The label indexes of a table of a version (built once)."""
    table = load_format(version).tables[table_key]
    texts = [table.corner, table.column_header, *(d.label for d in table.derived_columns)]
    texts += [label for c in table.columns for label in (c.label, *c.aliases)]
    texts += [label for g in table.groups for label in (g.label, *g.aliases)]
    return TableLabels(
        LabelIndex([(r.key, [r.label, *r.aliases]) for r in table.rows]),
        LabelIndex([(c.key, [c.label, *c.aliases]) for c in table.columns]),
        LabelIndex([(d.key, [d.label]) for d in table.derived_columns]),
        LabelIndex([(g.key, [g.label, *g.aliases]) for g in table.groups]),
        tuple(dict.fromkeys(_words(t) for t in texts if t)),
    )


def _words(text: str) -> str:
    """A text's words without brackets, spaces or punctuation: a piece of it is a substring of its whole."""
    return _PUNCTUATION.sub("", normalize(text))


_PUNCTUATION = re.compile(r"[（()）\[\]【】“”\"'‘’，,、。.：:；;·\-—_*#|/]+")


def header_piece(labels: TableLabels, text: str) -> bool:
    """Tell whether a text is a piece of the table's header (a label a PDF or a copy cut over two lines)."""
    words = _words(text)
    return len(words) >= 2 and any(words in header for header in labels.header)


def lookup(index: LabelIndex, text: str) -> str | None:
    """The key a cell's text names in this index, if any."""
    if text in index.memo:
        return index.memo[text]
    c = core(text)
    found: str | None = None
    if c in index:
        found = index[c]
    elif c:
        # Provincial templates append notes without brackets; a long label that starts the cell still names it.
        hits = {v for k, v in index.items() if len(k) >= 4 and c.startswith(k) and len(c) - len(k) <= 30}
        found = hits.pop() if len(hits) == 1 else None
    if found is not None:
        found = _by_number(index, text, c, found)
    if len(index.memo) < 100_000:
        index.memo[text] = found
    return found


def _by_number(index: LabelIndex, text: str, c: str, found: str) -> str:
    """A label numbered like a group (（六）其他) names the row of that number, not a sub-row of its words (3.其他)."""
    mark = numbering(text)
    official = index.numbers.get(found)
    if mark is None or official is None or mark[0] != "chinese" or official[0] != "arabic":
        return found
    same = {k for k, n in index.numbers.items() if n == mark and any(w.startswith(c) for w in index.cores[k])}
    return same.pop() if len(same) == 1 else found
