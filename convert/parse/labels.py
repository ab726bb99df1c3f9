"""A table's labels (official and their variants in format.toml) → the keys of its rows, columns and groups."""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from convert.formats import core, load_format


class LabelIndex(dict[str, str]):
    """Label core → key, with a memo of lookups (labels repeat across thousands of reports)."""

    def __init__(self, items: list[tuple[str, list[str]]]) -> None:
        super().__init__()
        for key, labels in items:
            for label in labels:
                self.setdefault(core(label), key)
        self.memo: dict[str, str | None] = {}


class TableLabels(NamedTuple):
    """The label indexes of one table."""

    rows: LabelIndex
    columns: LabelIndex
    derived_columns: LabelIndex
    groups: LabelIndex


@cache
def table_labels(version: str, table_key: str) -> TableLabels:
    """The label indexes of a table of a version (built once)."""
    table = load_format(version).tables[table_key]
    return TableLabels(
        LabelIndex([(r.key, [r.label, *r.aliases]) for r in table.rows]),
        LabelIndex([(c.key, [c.label, *c.aliases]) for c in table.columns]),
        LabelIndex([(d.key, [d.label]) for d in table.derived_columns]),
        LabelIndex([(g.key, [g.label, *g.aliases]) for g in table.groups]),
    )


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
    if len(index.memo) < 100_000:
        index.memo[text] = found
    return found
