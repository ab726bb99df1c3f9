"""The store interface every backend implements, its result types, and the helpers that need no database."""

from __future__ import annotations

import builtins
import os
import re
import shlex
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convert.errors import ConflictError, NianbaoError, NotAReportError, StoreError
from convert.record import Record, Value

if TYPE_CHECKING:
    from convert.inputs import Skipped

# Spreadsheet programs run a CSV field that starts with one of these as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

LongRow = tuple[str, int, str, str, str | None]


# A word a POSIX shell takes as it is: letters and digits of any script, and these signs.
_SHELL_WORD = re.compile(r"[\w@%+=:,./-]+")


def command_line(*words: str) -> str:
    """Return a command line to suggest: a word a shell would read otherwise (space, $, quotes …) is quoted."""
    return " ".join(w if _SHELL_WORD.fullmatch(w) and w.isprintable() else shlex.quote(w) for w in words)


def default_author() -> str:
    """Return who is making a revision when nobody says: $USER, $USERNAME (Windows) or $LOGNAME, else "unknown"."""
    for name in ("USER", "USERNAME", "LOGNAME"):
        who = os.environ.get(name, "").strip()
        if who:
            return who
    return "unknown"


def now_utc() -> str:
    """Return the current UTC time as ISO 8601 text."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def local_time(stamp: str) -> str:
    """Show a stored UTC time in this machine's zone the way people write it: 2026-01-15 09:30."""
    try:
        moment = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return stamp  # not ours to reinterpret: show it as stored
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the store writes UTC
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def value_text(value: Value) -> str | None:
    """Return a cell value as exact text (money keeps its digits); None for a blank."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def content(record: Record) -> dict[str, Any]:
    """Return what a revision records of a report: everything but where it was read from and reader warnings."""
    data = record.to_json()
    data.pop("source", None)
    data.pop("warnings", None)
    return data


def neutralise(text: str) -> str:
    """Return text a spreadsheet will not run as a formula: a leading = + - @ tab or CR gets a quote before it."""
    if not text.startswith(FORMULA_PREFIXES):
        return text
    try:
        # A plain number such as -3 is data, not a formula; spreadsheets read it as the number.
        if Decimal(text).is_finite():
            return text
    except ArithmeticError:
        pass
    return "'" + text


@dataclass
class RevisionInfo:
    """One revision's bookkeeping: who, when, why, from what file, based on which revision."""

    record_id: int
    agency: str
    year: int
    format: str
    number: int
    latest: int
    author: str
    created: str
    reason: str | None = None
    source_name: str | None = None
    source_sha256: str | None = None
    base_revision: int | None = None
    forced: bool = False
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready dict."""
        return asdict(self)


@dataclass
class AddResult:
    """What Store.add did: a new report, a new revision of a known one, or nothing (identical content)."""

    status: str  # "new-report" | "new-revision" | "identical"
    record_id: int
    agency: str
    year: int
    revision: int

    @property
    def added(self) -> bool:
        """Tell whether a revision was written."""
        return self.status != "identical"

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready dict."""
        return asdict(self)


@dataclass
class ReportSummary:
    """One report in the store, with its latest revision."""

    record_id: int
    agency: str
    year: int
    format: str
    revisions: int
    author: str
    updated: str

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready dict."""
        return asdict(self)


@dataclass
class CellChange:
    """One cell that differs between two revisions (values as exact text, None for blank)."""

    key: str
    old: str | None
    new: str | None

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready dict."""
        return asdict(self)


@dataclass
class HistoryEntry:
    """One revision and the cells it changed against the revision before it."""

    info: RevisionInfo
    changed: list[CellChange] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready dict."""
        return {**self.info.to_json(), "changed": [c.to_json() for c in self.changed]}


class Store(ABC):
    """An open store of every revision of every report, append-only; use open_store() so it is closed."""

    #: Where the store is, as a person would name it in a message (a file path, a database URL without password).
    location: str

    # -- what each backend implements -----------------------------------------------------------

    @abstractmethod
    def add(
        self,
        record: Record,
        *,
        author: str,
        reason: str | None,
        source_name: str | None,
        sha256: str | None,
        base_revision: int | None = None,
        forced: bool = False,
        note: str | None = None,
        expect_latest: int | None = None,
    ) -> AddResult:
        """Add a record: a new report, a new revision, or nothing when its content equals the latest revision."""
        # One transaction. No agency or year is a StoreError, no author a UsageError. expect_latest is what the
        # caller decided on: the latest revision number it saw (0: the report was not in the store); when the
        # store holds another by the time of writing, that is changed_meanwhile()'s ConflictError, checked in the
        # same transaction as the insert (of two writers that saw the same revision only the first wins), before
        # the identical-content check. None checks nothing (store add). base_revision and forced are only recorded.

    @abstractmethod
    def get(self, agency: str, year: int, revision: int | None = None) -> tuple[Record, RevisionInfo]:
        """Return a report's record and revision info: the latest revision, or the one asked for."""
        # An unknown report or revision is a StoreError that says what the store does have (find relies on it).

    @abstractmethod
    def list(self, year: int | None = None) -> list[ReportSummary]:
        """Return every report (of one year, if given) with its latest revision, by year then agency."""

    @abstractmethod
    def history(self, agency: str, year: int) -> builtins.list[HistoryEntry]:
        """Return every revision of a report, oldest first, each with the cells it changed against the one before."""

    @abstractmethod
    def long_rows(self) -> Iterator[LongRow]:
        """Yield the latest revision of every report as long rows (agency, year, format, key, value)."""
        # By year, agency, then the record's cell order; values as exact text (value_text), None for blank.
        # Streamed: a store of 10,000 reports has two million of them.

    @abstractmethod
    def import_revisions(self, revisions: Iterable[tuple[Record, RevisionInfo]]) -> int:
        """Write revisions copied from another store as they were (ids, authors, times, bases); return how many."""
        # One transaction, only into an empty store (else a StoreError store-migrate-not-empty); each report's
        # revisions come oldest first, and the report keeps its record_id (workbooks exported before still match).

    @abstractmethod
    def counts(self) -> tuple[int, int, int]:
        """Return how many reports, revisions and cell rows the store holds."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    # -- the same for every backend -------------------------------------------------------------

    def find(self, agency: str, year: int) -> RevisionInfo | None:
        """Return the latest revision of a report, or None when the store does not have it."""
        try:
            return self.get(agency, year)[1]
        except StoreError:
            return None

    def dump(self, path: str | Path, fmt: str, *, force: bool = False) -> int:
        """Write the latest cells of every report as a long table (csv, jsonl or parquet); return the row count."""
        from convert.store.dump import write_long_table

        return write_long_table(self.long_rows, Path(path), fmt, force=force)

    def export(
        self, agency: str, year: int, path: str | Path, *, force: bool = False, number: int | None = None
    ) -> tuple[Path, RevisionInfo]:
        """Write the latest (or a given) revision as a standard workbook that names its revision, for reconcile."""
        from convert.outputs.standard import write_workbook

        record, info = self.get(agency, year, number)
        revision = {"record_id": info.record_id, "revision": info.number, "agency": agency, "year": year}
        return write_workbook(record, path, force=force, revision=revision), info


def changed_meanwhile(agency: str, year: int, expected: int, latest: int) -> ConflictError:
    """Return the error of a write whose caller saw revision `expected` (0: none) while the store is at `latest`."""
    if expected == 0:
        return ConflictError("store-added-meanwhile", agency=agency, year=year, latest=latest)
    return ConflictError("store-changed-meanwhile", agency=agency, year=year, expected=expected, latest=latest)


def add_files(
    store: Store, paths: list[Path], *, author: str, reason: str | None = None, debug: bool = False
) -> Iterator[tuple[Path, AddResult | NianbaoError | Skipped]]:
    """Read each report (or converted workbook) and add it; yield each path with its result, error or skip reason.

    One input's failure, a bug included, is its error and the rest go on; with debug a bug is raised.
    """
    from convert.inputs import prepared

    with prepared(paths):
        yield from _add_each(store, paths, author=author, reason=reason, debug=debug)


def _add_each(
    store: Store, paths: list[Path], *, author: str, reason: str | None, debug: bool
) -> Iterator[tuple[Path, AddResult | NianbaoError | Skipped]]:
    from convert.batch import failure
    from convert.errors import UsageError
    from convert.inputs import Skipped
    from convert.readback import is_summary
    from convert.reader import read_report

    for path in paths:
        try:
            record = read_report(path)
            if is_summary(record):
                # A summary's totals are many reports' sum, never one report.
                yield path, Skipped(path, NotAReportError("skipped-summary"))
                continue
            if record.source.get("kind") == "workbook" and record.source.get("revision"):
                raise UsageError(
                    "store-add-exported", path=str(path), command=command_line("nianbao", "reconcile", str(path))
                )
            result = store.add(
                record,
                author=author,
                reason=reason,
                source_name=path.name,
                sha256=record.source.get("sha256"),
            )
        except Exception as exc:
            if debug and not isinstance(exc, NianbaoError):
                raise
            yield path, failure(exc)
        else:
            yield path, result
