"""The records store: every revision of every report, append-only, in an embedded SQLite database.

All SQL of nianbao lives in this module, so another SQL database can be added behind the same functions.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from convert.atomic import atomic_output, check_output
from convert.errors import ConflictError, StoreError, UsageError
from convert.record import Record, Value, loads

DEFAULT_NAME = "nianbao.db"
ENV_STORE = "NIANBAO_STORE"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000
DUMP_FORMATS = ("csv", "jsonl", "parquet")
DUMP_COLUMNS = ("agency", "year", "format", "key", "value")
# Spreadsheet programs run a CSV field that starts with one of these as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Each step takes the schema from the version before it to the next; never edit a step once released.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE reports (
        id INTEGER PRIMARY KEY,
        agency TEXT NOT NULL,
        year INTEGER NOT NULL,
        format TEXT NOT NULL,
        created TEXT NOT NULL,
        UNIQUE (agency, year)
    );
    CREATE TABLE revisions (
        id INTEGER PRIMARY KEY,
        report_id INTEGER NOT NULL REFERENCES reports (id),
        number INTEGER NOT NULL CHECK (number >= 1),
        record_json TEXT NOT NULL,
        author TEXT NOT NULL,
        created TEXT NOT NULL,
        reason TEXT,
        source_name TEXT,
        source_sha256 TEXT,
        base_revision INTEGER,
        forced INTEGER NOT NULL DEFAULT 0 CHECK (forced IN (0, 1)),
        note TEXT,
        UNIQUE (report_id, number)
    );
    CREATE TABLE cells (
        revision_id INTEGER NOT NULL REFERENCES revisions (id),
        key TEXT NOT NULL,
        value TEXT,
        PRIMARY KEY (revision_id, key)
    );
    CREATE INDEX cells_by_key ON cells (key);
    CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions
        BEGIN SELECT RAISE(ABORT, 'revisions are append-only: add a new revision instead'); END;
    CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions
        BEGIN SELECT RAISE(ABORT, 'revisions are append-only: they are never deleted'); END;
    CREATE TRIGGER cells_no_update BEFORE UPDATE ON cells
        BEGIN SELECT RAISE(ABORT, 'cells are append-only: add a new revision instead'); END;
    CREATE TRIGGER cells_no_delete BEFORE DELETE ON cells
        BEGIN SELECT RAISE(ABORT, 'cells are append-only: they are never deleted'); END;
    -- A report row is what the revisions hang on; dropping it would orphan the history.
    CREATE TRIGGER reports_no_delete BEFORE DELETE ON reports
        BEGIN SELECT RAISE(ABORT, 'reports are never deleted'); END;
    """,
)


def store_path(explicit: str | Path | None = None) -> Path:
    """Return the store to use: the explicit path, else $NIANBAO_STORE, else nianbao.db in the current folder."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(ENV_STORE, "").strip()
    return Path(env) if env else Path.cwd() / DEFAULT_NAME


def default_author() -> str:
    """Return who is making a revision when nobody says: $USER, else "unknown"."""
    return os.environ.get("USER", "").strip() or "unknown"


def now_utc() -> str:
    """Return the current UTC time as ISO 8601 text."""
    return datetime.now(UTC).isoformat(timespec="seconds")


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


class Store:
    """An open store; use open_store() so the connection is closed."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        """Wrap an open connection whose schema is current."""
        self.conn = conn
        self.path = path

    # -- transactions ---------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """Run a block as one write transaction: all of it is committed, or none of it."""
        try:
            # IMMEDIATE takes the write lock now, so what we re-check inside cannot change before we commit.
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"store {self.path} is busy (another nianbao is writing); try again: {exc}") from exc
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- writing --------------------------------------------------------------------------------

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
    ) -> AddResult:
        """Add a record: a new report, a new revision, or nothing when its content equals the latest revision."""
        if not record.agency or record.year is None:
            raise StoreError(
                f"{source_name or 'record'}: no agency or year, so it cannot be stored; fix the title or cover"
            )
        if not author:
            raise UsageError("a revision needs an author")
        agency, year = record.agency, int(record.year)
        with self._write() as conn:
            row = conn.execute("SELECT id FROM reports WHERE agency = ? AND year = ?", (agency, year)).fetchone()
            if row is None:
                record_id = conn.execute(
                    "INSERT INTO reports (agency, year, format, created) VALUES (?, ?, ?, ?)",
                    (agency, year, record.format, now_utc()),
                ).lastrowid
                assert record_id is not None
                number, status = 1, "new-report"
            else:
                record_id = row[0]
                latest, latest_json = conn.execute(
                    "SELECT number, record_json FROM revisions WHERE report_id = ? ORDER BY number DESC LIMIT 1",
                    (record_id,),
                ).fetchone()
                # Checked inside the write lock: of two writers based on the same revision only the first wins.
                if base_revision is not None and base_revision != latest and not forced:
                    raise ConflictError(
                        f"{agency} {year}: the edit is based on revision {base_revision}, but revision {latest} "
                        "was stored meanwhile; export the latest revision and redo the edits, or use --force --reason"
                    )
                if content(Record.loads(latest_json)) == content(record):
                    return AddResult("identical", record_id, agency, year, latest)
                number, status = latest + 1, "new-revision"
                conn.execute("UPDATE reports SET format = ? WHERE id = ?", (record.format, record_id))
            revision_id = self._insert_revision(
                record_id, number, record, author, reason, source_name, sha256, base_revision, forced, note
            )
            self._insert_cells(revision_id, record)
        return AddResult(status, record_id, agency, year, number)

    def _insert_revision(
        self,
        record_id: int,
        number: int,
        record: Record,
        author: str,
        reason: str | None,
        source_name: str | None,
        sha256: str | None,
        base_revision: int | None,
        forced: bool,
        note: str | None,
    ) -> int:
        """Insert one revision row (inside the caller's transaction); return its id."""
        cur = self.conn.execute(
            "INSERT INTO revisions (report_id, number, record_json, author, created, reason, source_name,"
            " source_sha256, base_revision, forced, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record_id,
                number,
                record.dumps(),
                author,
                now_utc(),
                reason,
                source_name,
                sha256,
                base_revision,
                int(forced),
                note,
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def _insert_cells(self, revision_id: int, record: Record) -> None:
        """Insert every cell of a revision (inside the caller's transaction), blanks as NULL."""
        self.conn.executemany(
            "INSERT INTO cells (revision_id, key, value) VALUES (?, ?, ?)",
            [(revision_id, key, value_text(value)) for key, value in record.cells.items()],
        )

    # -- reading --------------------------------------------------------------------------------

    def _report(self, agency: str, year: int) -> tuple[int, str]:
        row = self.conn.execute(
            "SELECT id, format FROM reports WHERE agency = ? AND year = ?", (agency, year)
        ).fetchone()
        if row is None:
            raise StoreError(
                f"{agency} {year} is not in the store {self.path}; `nianbao store list` shows what is there"
            )
        return row[0], row[1]

    def find(self, agency: str, year: int) -> RevisionInfo | None:
        """Return the latest revision of a report, or None when the store does not have it."""
        try:
            return self.get(agency, year)[1]
        except StoreError:
            return None

    def get(self, agency: str, year: int, revision: int | None = None) -> tuple[Record, RevisionInfo]:
        """Return a report's record and revision info: the latest revision, or the one asked for."""
        record_id, _ = self._report(agency, year)
        latest = self.conn.execute("SELECT MAX(number) FROM revisions WHERE report_id = ?", (record_id,)).fetchone()[0]
        number = latest if revision is None else revision
        row = self.conn.execute(
            f"SELECT {_REVISION_COLUMNS} FROM revisions WHERE report_id = ? AND number = ?", (record_id, number)
        ).fetchone()
        if row is None:
            raise StoreError(f"{agency} {year} has no revision {revision}; it has revisions 1 to {latest}")
        record = Record.loads(row[-1])
        return record, self._info(record_id, agency, year, latest, row)

    def _info(self, record_id: int, agency: str, year: int, latest: int, row: tuple[Any, ...]) -> RevisionInfo:
        number, author, created, reason, source_name, sha, base, forced, note, record_json = row
        fmt = str(loads(record_json)["format"])
        return RevisionInfo(
            record_id,
            agency,
            year,
            fmt,
            number,
            latest,
            author,
            created,
            reason,
            source_name,
            sha,
            base,
            bool(forced),
            note,
        )

    def list(self, year: int | None = None) -> list[ReportSummary]:
        """Return every report (of one year, if given) with its latest revision, by year then agency."""
        sql = (
            "SELECT r.id, r.agency, r.year, r.format, v.number, v.author, v.created FROM reports r"
            " JOIN revisions v ON v.report_id = r.id"
            " AND v.number = (SELECT MAX(number) FROM revisions WHERE report_id = r.id)"
        )
        params: tuple[Any, ...] = ()
        if year is not None:
            sql += " WHERE r.year = ?"
            params = (year,)
        rows = self.conn.execute(sql + " ORDER BY r.year, r.agency", params).fetchall()
        return [ReportSummary(*row) for row in rows]

    def history(self, agency: str, year: int) -> list[HistoryEntry]:
        """Return every revision of a report, oldest first, each with the cells it changed against the one before."""
        record_id, _ = self._report(agency, year)
        rows = self.conn.execute(
            f"SELECT {_REVISION_COLUMNS}, id FROM revisions WHERE report_id = ? ORDER BY number", (record_id,)
        ).fetchall()
        latest = rows[-1][0]
        # Both sides of the comparison in SQL, in the format's order (rowid): keys whose value differs or went away.
        changes = self.conn.execute(
            """
            SELECT v.number, c.rowid, c.key, p.value, c.value
            FROM revisions v
            JOIN revisions pv ON pv.report_id = v.report_id AND pv.number = v.number - 1
            JOIN cells c ON c.revision_id = v.id
            LEFT JOIN cells p ON p.revision_id = pv.id AND p.key = c.key
            WHERE v.report_id = ? AND c.value IS NOT p.value
            UNION ALL
            SELECT v.number, p.rowid, p.key, p.value, NULL
            FROM revisions v
            JOIN revisions pv ON pv.report_id = v.report_id AND pv.number = v.number - 1
            JOIN cells p ON p.revision_id = pv.id
            WHERE v.report_id = ? AND p.value IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM cells c WHERE c.revision_id = v.id AND c.key = p.key)
            ORDER BY 1, 2
            """,
            (record_id, record_id),
        ).fetchall()
        by_number: dict[int, list[CellChange]] = {}
        for number, _, key, old, new in changes:
            # Exact text differs for 24 and 24.0; the same amount is not a change.
            if old is not None and new is not None and Decimal(old) == Decimal(new):
                continue
            by_number.setdefault(number, []).append(CellChange(key, old, new))
        return [
            HistoryEntry(self._info(record_id, agency, year, latest, row[:-1]), by_number.get(row[0], []))
            for row in rows
        ]

    def long_rows(self) -> list[tuple[str, int, str, str, str | None]]:
        """Return the latest revision of every report as long rows (agency, year, format, key, value)."""
        return self.conn.execute(
            """
            SELECT r.agency, r.year, r.format, c.key, c.value
            FROM reports r
            JOIN revisions v ON v.report_id = r.id
             AND v.number = (SELECT MAX(number) FROM revisions WHERE report_id = r.id)
            JOIN cells c ON c.revision_id = v.id
            ORDER BY r.year, r.agency, c.rowid
            """
        ).fetchall()

    # -- output ---------------------------------------------------------------------------------

    def dump(self, path: str | Path, fmt: str, *, force: bool = False) -> int:
        """Write the latest cells of every report as a long table (csv, jsonl or parquet); return the row count."""
        import pandas as pd

        if fmt not in DUMP_FORMATS:
            raise UsageError(f"unknown dump format {fmt!r}; use one of {', '.join(DUMP_FORMATS)}")
        path = Path(path)
        check_output(path, force)
        frame = pd.DataFrame(self.long_rows(), columns=list(DUMP_COLUMNS)).astype(
            {"agency": "string", "year": "int64", "format": "string", "key": "string", "value": "string"}
        )
        with atomic_output(path, force=force) as tmp:
            if fmt == "csv":
                safe = frame.copy()
                for column in ("agency", "format", "key", "value"):
                    safe[column] = safe[column].map(neutralise, na_action="ignore")
                safe.to_csv(tmp, index=False, encoding="utf-8-sig")
            elif fmt == "jsonl":
                frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
            else:
                frame.to_parquet(tmp, index=False)
        return len(frame)

    def export(self, agency: str, year: int, path: str | Path, *, force: bool = False) -> tuple[Path, RevisionInfo]:
        """Write the latest revision as a standard workbook that names its revision, for editing and reconcile."""
        from convert.outputs.standard import write_workbook

        record, info = self.get(agency, year)
        revision = {"record_id": info.record_id, "revision": info.number, "agency": agency, "year": year}
        return write_workbook(record, path, force=force, revision=revision), info

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


_REVISION_COLUMNS = (
    "number, author, created, reason, source_name, source_sha256, base_revision, forced, note, record_json"
)


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


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves, so every write is exactly one transaction.
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    # WAL lets readers go on while one process writes; a crash mid-write leaves the last commit intact.
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"store {path} has schema version {version}, newer than this nianbao ({SCHEMA_VERSION}); upgrade nianbao"
        )
    if version == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated while we waited for the lock.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for step in range(version, SCHEMA_VERSION):
            for statement in _statements(MIGRATIONS[step]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {step + 1}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit our transaction)."""
    out: list[str] = []
    buffer = ""
    for line in script.splitlines():
        if line.strip().startswith("--"):
            continue
        buffer += line + "\n"
        if sqlite3.complete_statement(buffer):
            out.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        out.append(buffer.strip())
    return out


@contextmanager
def open_store(path: str | Path | None = None, *, create: bool = True) -> Iterator[Store]:
    """Open (creating and migrating if needed) the store at path; close it when the block ends."""
    path = store_path(path)
    if not path.exists():
        if not create:
            raise StoreError(f"no store at {path}; add reports first with `nianbao store add`")
        if not path.parent.is_dir():
            raise UsageError(f"folder {path.parent} does not exist")
    elif path.is_dir():
        raise UsageError(f"{path} is a folder, not a store file")
    try:
        conn = _connect(path)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open store {path}: {exc}") from exc
    try:
        try:
            _migrate(conn, path)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path} is not a nianbao store: {exc}") from exc
        yield Store(conn, path)
    finally:
        conn.close()


def add_files(
    store: Store, paths: list[Path], *, author: str, reason: str | None = None
) -> Iterator[tuple[Path, AddResult | Exception]]:
    """Read each report (or converted workbook) and add it; yield each path with its result or its error."""
    from convert.errors import NianbaoError
    from convert.reader import read_report

    for path in paths:
        try:
            record = read_report(path)
            if record.source.get("kind") == "workbook" and record.source.get("revision"):
                raise UsageError(
                    f"{path} was exported from the store; bring its edits back with `nianbao reconcile {path}`"
                )
            result = store.add(
                record,
                author=author,
                reason=reason,
                source_name=path.name,
                sha256=record.source.get("sha256"),
            )
        except NianbaoError as exc:
            yield path, exc
        else:
            yield path, result
