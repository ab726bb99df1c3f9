"""Values read from a picture (OCR): confirm each one by the 勾稽 rules, or name it in a warning.

A value read by OCR carries its page and confidence (record.source.values, kept by the table reader). It counts as
confirmed when every rule it takes part in adds up and it was read with some confidence; a value in no rule that
can be checked (二's cells, a row with a blank) needs a high confidence instead. Every other value gets a warning
naming its cell: one whose row and column both fail is the likely misread; one in a failing rule is unconfirmed.
The warnings are review warnings, so the report is 待核 until someone has looked. No digit is guessed: a value is
kept as read, only flagged.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from convert.formats import Format
from convert.record import Record, Value

# Below this a value is unsure even where the rules hold (the model hesitated between characters).
FLOOR = 0.6
# A value no rule checks must be read at least this surely.
SURE = 0.93


def review(record: Record, fmt: Format) -> None:
    """Warn about every value read by OCR that is not confirmed (a no-op for inputs not read by OCR)."""
    if record.source.get("layout") != "scan":
        return
    origins: dict[str, dict[str, Any]] = record.source.get("values") or {}
    cells = record.cells
    titles = {r.id: r.title for r in fmt.rules}
    rules: dict[str, list[bool]] = defaultdict(list)  # key -> whether each checkable rule over it holds
    failing: list[tuple[str, list[str]]] = []
    for eq in fmt.equations():
        keys = [*eq.left, *eq.right]
        values = [cells.get(k) for k in keys]
        if any(v is None for v in values):
            continue  # a blank leaves the rule unchecked (the reader says so)
        holds = sum(values[: len(eq.left)], start=0) == sum(values[len(eq.left) :], start=0)  # type: ignore[arg-type]
        for k in keys:
            rules[k].append(holds)
        if not holds:
            failing.append((titles[eq.rule], keys))
    # A value whose row and column both fail explains both: it is the one to look at, the others are confirmed
    # by their other rule. A failing rule without such a value names all its values.
    suspects = {k for k, held in rules.items() if len(held) >= 2 and not any(held)}
    named: dict[str, dict[str, Any]] = {}
    for title, keys in failing:
        if any(k in suspects for k in keys):
            for k in keys:
                if k in suspects:
                    named[k] = {"case": "suspect"}
        else:
            for k in keys:
                named.setdefault(k, {"case": "rule", "rule": title})
    derived = {f"{t.key}.{row.key}." for t in fmt.tables.values() for row in t.rows if row.sums}
    for key in fmt.cell_keys:
        value = cells.get(key)
        if value is None:
            continue
        origin = origins.get(key)
        if origin is None:
            if not any(key.startswith(prefix) for prefix in derived):
                record.warn("ocr-unconfirmed", {"case": "unknown", "value": _show(value)}, key)
            continue
        page, confidence = origin.get("page"), float(origin.get("confidence", 0.0))
        if key in named:
            record.warn("ocr-unconfirmed", {**named[key], "value": _show(value), "page": page}, key)
        elif confidence < (FLOOR if rules.get(key) else SURE):
            record.warn("ocr-unsure", {"value": _show(value), "page": page, "confidence": confidence}, key)


def _show(value: Value) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)
