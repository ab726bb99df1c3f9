"""How one report read back compares with the record it was made from: the cell-level score every bench prints."""

from __future__ import annotations

from dataclasses import dataclass, field

from convert.record import Record


@dataclass
class Score:
    """Cells exact, the wrong ones (key, wanted, read), those no warning names, and agency/year/format."""

    exact: int = 0
    wrong: list[tuple[str, object, object]] = field(default_factory=list)
    silent: list[str] = field(default_factory=list)
    meta_ok: bool = False


def named(key: str, wheres: set[str]) -> bool:
    """Tell whether a warning's `where` names the cell, its row or its table."""
    table, row, _ = key.split(".", 2)
    return bool({key, f"{table}.{row}", table} & wheres)


def score(truth: Record, got: Record) -> Score:
    """Compare a record read back with its truth, cell by cell (a blank is never a zero)."""
    out = Score()
    wheres = {w.where for w in got.warnings if w.where}
    for key, want in truth.cells.items():
        have = got.cells.get(key)
        if have == want and (have is None) == (want is None):
            out.exact += 1
        else:
            out.wrong.append((key, want, have))
            if not named(key, wheres):
                out.silent.append(key)
    out.meta_ok = (got.agency, got.year, got.format) == (truth.agency, truth.year, truth.format)
    return out
