"""What the rows of a table read so far show of its layout: where the numbers start, how many cells rows have."""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

from convert.parse.rows import Cell


class OddRow(NamedTuple):
    """A row with more or fewer cells than the rows laid out like it."""

    row_key: str
    length: int
    usual: int


class RowShapes:
    """The shapes of a table's rows, so that rows laid out alike are read alike."""

    def __init__(self) -> None:
        self.leads: dict[tuple[int, int], int] = {}  # (cells after the label, columns) -> empty cells before the data
        self.peers: dict[tuple[int, int, int], int] = {}  # (label position, columns, cells) -> empty cells before data
        self.lengths: dict[tuple[int, int], Counter[int]] = {}  # (label position, columns) -> how many cells rows have
        self.of_row: dict[str, tuple[int, int, bool]] = {}  # row -> (label position and columns, cells, pinned)

    def count(self, label_at: int, columns: int, cells: int) -> None:
        """Count a row's cells among the rows whose label sits at the same place."""
        self.lengths.setdefault((label_at, columns), Counter())[cells] += 1

    def without_lost_cell(self, tokens: list[Cell], label_at: int, columns: int) -> list[Cell]:
        """Drop the empty cells before a row's numbers when the rows like it show the row lost one of its cells."""
        lengths = self.lengths.get((label_at, columns), Counter())
        common, count = lengths.most_common(1)[0] if lengths else (0, 0)
        lead = self.peers.get((label_at, columns, common), 0)
        if count >= 2 and len(tokens) < common and lead and all(t.empty for t in tokens[:lead]):
            # Most rows laid out like this one put empty (merged) cells before the numbers: this row lost a cell.
            return tokens[lead:]
        return tokens

    def lead(self, cells: int, columns: int) -> int | None:
        """The empty cells before the data in a row of this shape that was read for sure, if any."""
        return self.leads.get((cells, columns))

    def learn(self, label_at: int, columns: int, cells: int, lead: int) -> None:
        """Remember where the totals put a row's data, for the rows of the same shape."""
        self.leads.setdefault((cells, columns), lead)
        self.peers.setdefault((label_at, columns, cells), lead)

    def note(self, row_key: str, label_at: int, columns: int, cells: int, pinned: bool) -> None:
        """Note a row read: where its label sits, its cells, and whether its ends are filled (pinned)."""
        self.of_row[row_key] = (label_at * 100 + columns, label_at + 1 + cells, pinned)

    def odd(self) -> list[OddRow]:
        """The rows with more or fewer cells than the rows laid out like them: a cell may be lost or added."""
        by_position: dict[int, Counter[int]] = {}
        for at, length, _ in self.of_row.values():
            by_position.setdefault(at, Counter())[length] += 1
        out = []
        for row_key, (at, length, pinned) in self.of_row.items():
            common, count = by_position[at].most_common(1)[0]
            if pinned or length == common or count < 2:
                continue
            out.append(OddRow(row_key, length, common))
        return out
