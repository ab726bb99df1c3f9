"""Fit a row's cells to its columns: where their count differs, the readings whose totals add up decide."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from itertools import combinations
from math import comb
from typing import Any

from convert.formats import Format, Row, load_format
from convert.parse.rows import Cell
from convert.parse.values import Parsed
from convert.record import Value

MAX_CANDIDATES = 20000

# A total's place among the row's slots and the places of the parts it sums.
Equation = tuple[int, list[int]]
# What fit returns: the cell per column (None: left blank), a row-misaligned warning's fields, the lead it chose.
Fitted = tuple[list[Cell | None] | None, dict[str, Any] | None, int | None]


@cache
def row_equations(version: str, table_key: str, slots: tuple[str, ...]) -> list[Equation]:
    """Return the row rules over these slots as (total index, part indexes): the same for thousands of rows."""
    fmt = load_format(version)
    table = fmt.tables[table_key]
    out = []
    for rule in fmt.rules:
        if rule.table != table.key or rule.per != "row" or len(rule.left) != 1:
            continue
        if rule.left[0] in slots and all(c in slots for c in rule.right):
            out.append((slots.index(rule.left[0]), [slots.index(c) for c in rule.right]))
    for derived in table.derived_columns:
        if derived.key in slots:
            out.append((slots.index(derived.key), [slots.index(c) for c in derived.sums]))
    return out


def wide_equations(fmt: Format, table_key: str, rows: list[Row]) -> list[Equation]:
    """Return the row rules of a wide table's rows printed one after another as one stream of cells."""
    eqs: list[Equation] = []
    for r_i, r in enumerate(rows):
        base = r_i * len(r.columns)
        for rule in fmt.rules:
            if rule.table == table_key and rule.per == "row":
                eqs.append((base + r.columns.index(rule.left[0]), [base + r.columns.index(c) for c in rule.right]))
    return eqs


def fit(
    tokens: list[Cell],
    parsed: list[Parsed],
    n: int,
    eqs: list[Equation],
    hint: int | None = None,
    final: bool = True,
) -> Fitted:
    """Fit a row's cells to n columns; where they do not match, let the totals decide, and say so.

    Returns the cells per column, the fields of a row-misaligned warning (messages.toml) when the reading is not
    the plain one, and the number of empty cells
    skipped before the data when the totals chose it (rows of the same shape are read alike). None for the cells
    means: not final and several placements remain; ask again once other rows have shown the table's shape.
    """
    m = len(tokens)
    if m == n:
        return list(tokens), None, None
    if m > n:
        windows = [
            s
            for s in range(m - n + 1)
            if all(tokens[i].empty for i in range(s)) and all(tokens[i].empty for i in range(s + n, m))
        ]
        if windows:
            got = _fit_window(tokens, parsed, n, eqs, windows, hint, final)
            if got is not None:
                return got
    return _fit_by_totals(tokens, parsed, n, eqs)


def _fit_window(
    tokens: list[Cell],
    parsed: list[Parsed],
    n: int,
    eqs: list[Equation],
    windows: list[int],
    hint: int | None,
    final: bool,
) -> Fitted | None:
    """Surplus empty cells at the ends (merged label cells, a trailing tab): which window holds the data?

    None when no window adds up and nothing else tells: the row is then read by its totals.
    """
    m = len(tokens)
    values = [p.value for p in parsed]
    status = {s: _consistent(values[s : s + n], eqs) for s in windows}
    good = [s for s in windows if status[s] is True]
    readings = {_reading(tokens[s : s + n], values[s : s + n]) for s in windows if status[s] is not False}
    if len(good) == 1:
        return list(tokens[good[0] : good[0] + n]), None, good[0]
    if len(readings) == 1:
        s = good[0] if good else next(s for s in windows if status[s] is not False)
        return list(tokens[s : s + n]), None, s if len(windows) == 1 else None
    if hint in status and (status[hint] is not False or not readings):
        # Rows of the same shape (or the header) show where the numbers sit; the totals are checked later.
        return list(tokens[hint : hint + n]), None, None
    if not final:
        return None, None, None
    if len(readings) > 1:
        # Keep what every plausible placement agrees on; blank the rest, with a warning.
        options = [s for s in windows if (status[s] is True) or (not good and status[s] is None)]
        result: list[Cell | None] = []
        for k in range(n):
            picks = {_reading([tokens[s + k]], [values[s + k]]) for s in options}
            result.append(tokens[options[0] + k] if len(picks) == 1 else None)
        unsure = sum(1 for c in result if c is None)
        return result, {"case": "ends", **_cells_for(m, n, _shown(tokens)), "unsure": unsure}, None
    return None


def _fit_by_totals(tokens: list[Cell], parsed: list[Parsed], n: int, eqs: list[Equation]) -> Fitted:
    """Try every placement of the row's cells (blank ends dropped) and keep what the readings that add up agree on."""
    lo, hi = 0, len(tokens)
    while lo < hi and tokens[lo].empty:
        lo += 1
    while hi > lo and tokens[hi - 1].empty:
        hi -= 1
    inner = tokens[lo:hi]
    values = [p.value for p in parsed[lo:hi]]
    shown = _shown(inner)
    m = len(inner)
    readings: list[list[int | None]] = []  # slot -> index into inner
    if m > n:
        empties = [i for i, t in enumerate(inner) if t.empty]
        combos = _bounded(combinations(range(m), n), m, n)
        if combos is None:
            return [None] * n, {"case": "too-many", **_cells_for(m, n, shown)}, None
        for keep in combos:
            if _consistent([values[i] for i in keep], eqs, blank_is_zero=True):
                readings.append(list(keep))
        only_empty = [r for r in readings if set(range(m)) - set(r) <= set(empties)]
        readings = only_empty or readings
    else:
        combos = _bounded(combinations(range(n), m), n, m)
        if combos is None:
            return [None] * n, {"case": "too-many", **_cells_for(m, n, shown)}, None
        for places in combos:
            slot_idx: list[int | None] = [None] * n
            for token_i, slot in enumerate(places):
                slot_idx[slot] = token_i
            if _consistent([None if s is None else values[s] for s in slot_idx], eqs, blank_is_zero=True):
                readings.append(slot_idx)
    if not readings:
        return [None] * n, {"case": "no-reading", **_cells_for(m, n, shown)}, None
    result: list[Cell | None] = []
    unsure = 0
    for slot in range(n):
        picks = {None if (i := r[slot]) is None else (inner[i].text.strip(), values[i]) for r in readings}
        if len(picks) == 1:
            idx = readings[0][slot]
            result.append(None if idx is None else inner[idx])
        else:
            unsure += 1
            result.append(None)
    if unsure:
        return result, {"case": "totals-unsure", **_cells_for(m, n, shown), "unsure": unsure}, None
    return result, {"case": "totals", **_cells_for(m, n, shown)}, None


def _shown(cells: list[Cell]) -> str:
    """The cells as printed, for a warning: empty ones as ·."""
    return " | ".join(t.text.strip() or "·" for t in cells)


def _cells_for(m: int, n: int, shown: str) -> dict[str, Any]:
    """Return the fields every row-misaligned reading names: m cells for n columns, as printed."""
    return {"count": m, "columns": n, "cells": shown}


def _reading(cells: list[Cell], values: list[Value]) -> tuple[tuple[bool, Value], ...]:
    return tuple((c.empty, v) for c, v in zip(cells, values, strict=True))


def _bounded(it: Iterable[tuple[int, ...]], total: int, k: int) -> Iterator[tuple[int, ...]] | None:
    """The candidates, or None when there would be too many to try."""
    return None if comb(total, k) > MAX_CANDIDATES else iter(it)


def _consistent(values: list[Value], eqs: list[Equation], blank_is_zero: bool = False) -> bool | None:
    """True when every total adds up, False when one does not, None when blanks leave a total unchecked."""
    unknown = False
    for target, parts in eqs:
        if target >= len(values):
            return False
        cells = [values[target], *(values[p] for p in parts)]
        if not blank_is_zero and any(v is None for v in cells):
            unknown = True
            continue
        if (values[target] or 0) != sum((values[p] or 0) for p in parts):
            return False
    return None if unknown else True


def set_aside(
    tokens: list[Cell], parsed: list[Parsed], fitted: list[Cell | None]
) -> tuple[list[tuple[int, Value]], list[tuple[Value, int, int]]]:
    """What a reading did to the row's non-zero numbers, beyond setting aside or adding blanks and zeros.

    Returns those it left out of every cell, as (their place among the row's numbers, 1 first; value), and, in
    a row with fewer cells than columns, those it put in another column than the one they stand under counted
    from the left, as (value, that column, the column it went to). A row with more cells than columns sheds
    cells: the numbers after a shed blank or zero move up, and that is the reading, not a move.
    """
    placed = {id(cell): slot for slot, cell in enumerate(fitted) if cell is not None}
    lo, hi = 0, len(tokens)
    while lo < hi and tokens[lo].empty:
        lo += 1
    while hi > lo and tokens[hi - 1].empty:
        hi -= 1
    fewer = hi - lo < len(fitted)
    dropped: list[tuple[int, Value]] = []
    moved: list[tuple[Value, int, int]] = []
    number = 0
    for at in range(lo, hi):
        if tokens[at].empty:
            continue
        number += 1
        value = parsed[at].value
        if value is None or value == 0:
            continue
        slot = placed.get(id(tokens[at]))
        if slot is None:
            dropped.append((number, value))
        elif fewer and slot != at - lo:
            moved.append((value, at - lo, slot))
    return dropped, moved
