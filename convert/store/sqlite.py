"""The SQLite store: every revision of every report, append-only, in one embedded database file.

All the SQL of the SQLite backend is here: schema, migrations, triggers, queries.
"""

from __future__ import annotations

import builtins
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from convert.atomic import STORE, STORE_COMPANIONS, output_failed, protect, unprotect
from convert.errors import Phrase, StoreError, UsageError
from convert.record import Record, loads
from convert.store.base import (
    AddResult,
    CellChange,
    HistoryEntry,
    LongRow,
    ReportSummary,
    RevisionInfo,
    Store,
    changed_meanwhile,
    content,
    now_utc,
    value_text,
)

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000
# PRAGMA application_id of every nianbao store ("NBAO"): what tells our file from any other SQLite database.
APPLICATION_ID = 0x4E42414F
# The tables a store made before APPLICATION_ID existed has (with user_version >= 1): ours too.
OUR_TABLES = frozenset({"reports", "revisions", "cells"})

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


class SQLiteStore(Store):
    """A store in an SQLite file, opened by connect(); the file is the whole store."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, read_only: bool = False) -> None:
        """Wrap an open connection whose schema is current (read_only: opened for reading; reopened to write)."""
        self.conn = conn
        self.path = path
        self.location = str(path)
        self.read_only = read_only
        # While the store is open no output may replace it (store dump -o nianbao.db --force).
        self._guard = protect([path], STORE, STORE_COMPANIONS)

    # -- transactions ---------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """Run a block as one write transaction: all of it is committed, or none of it."""
        if self.read_only:
            # Opened by a command that mostly reads (reconcile --apply): write access only now it writes.
            conn = _open_for_writing(self.path, create=False)
            self.conn.close()
            self.conn, self.read_only = conn, False
        try:
            # IMMEDIATE takes the write lock now, so what we re-check inside cannot change before we commit.
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError("store-busy", path=str(self.path), detail=str(exc)) from exc
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:  # SQLite may have rolled back already (a full disk)
                self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise _write_failed(self.path, exc) from exc
            raise

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
        expect_latest: int | None = None,
    ) -> AddResult:
        """Add a record: a new report, a new revision, or nothing when its content equals the latest revision."""
        if not record.agency or record.year is None:
            raise StoreError("store-no-agency", name=source_name or Phrase("the-record"))
        if not author:
            raise UsageError("store-no-author")
        agency, year = record.agency, int(record.year)
        with self._write() as conn:
            row = conn.execute("SELECT id FROM reports WHERE agency = ? AND year = ?", (agency, year)).fetchone()
            if row is None:
                # Checked inside the write lock (BEGIN IMMEDIATE): what the caller decided on still holds here.
                if expect_latest not in (None, 0):
                    raise changed_meanwhile(agency, year, expect_latest, 0)
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
                # Checked inside the write lock: of two writers that saw the same revision only the first wins.
                if expect_latest is not None and expect_latest != latest:
                    raise changed_meanwhile(agency, year, expect_latest, latest)
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
            raise StoreError("store-no-report", agency=agency, year=year, store=str(self.path))
        return row[0], row[1]

    def get(self, agency: str, year: int, revision: int | None = None) -> tuple[Record, RevisionInfo]:
        """Return a report's record and revision info: the latest revision, or the one asked for."""
        record_id, _ = self._report(agency, year)
        latest = self.conn.execute("SELECT MAX(number) FROM revisions WHERE report_id = ?", (record_id,)).fetchone()[0]
        number = latest if revision is None else revision
        row = self.conn.execute(
            f"SELECT {_REVISION_COLUMNS} FROM revisions WHERE report_id = ? AND number = ?", (record_id, number)
        ).fetchone()
        if row is None:
            raise StoreError("store-no-revision", agency=agency, year=year, revision=revision, latest=latest)
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

    def history(self, agency: str, year: int) -> builtins.list[HistoryEntry]:
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

    def long_rows(self) -> Iterator[LongRow]:
        """Yield the latest revision of every report as long rows (agency, year, format, key, value)."""
        # Report by report: one query for the latest revisions in order, then each one's cells in the record's
        # order (rowid), all in one read transaction. One joined query would sort two million rows for 10,000
        # reports and run its MAX() subquery once per cell.
        self.conn.execute("BEGIN")
        try:
            latest = self.conn.execute(
                """
                SELECT r.agency, r.year, r.format, v.id
                FROM reports r
                JOIN revisions v ON v.report_id = r.id
                 AND v.number = (SELECT MAX(number) FROM revisions WHERE report_id = r.id)
                ORDER BY r.year, r.agency
                """
            ).fetchall()
            for agency, year, fmt, revision_id in latest:
                cells = self.conn.execute(
                    "SELECT key, value FROM cells WHERE revision_id = ? ORDER BY rowid", (revision_id,)
                ).fetchall()
                for key, value in cells:
                    yield agency, year, fmt, key, value
        finally:
            self.conn.execute("COMMIT")

    def import_revisions(self, revisions: Iterable[tuple[Record, RevisionInfo]]) -> int:
        """Write revisions copied from another store as they were (ids, authors, times, bases); only into an empty store."""
        count = 0
        with self._write() as conn:
            reports = conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
            if reports:
                raise StoreError("store-migrate-not-empty", location=self.location, reports=reports)
            for record, info in revisions:
                if info.number == 1:
                    conn.execute(
                        "INSERT INTO reports (id, agency, year, format, created) VALUES (?, ?, ?, ?, ?)",
                        (info.record_id, info.agency, info.year, info.format, info.created),
                    )
                else:
                    conn.execute("UPDATE reports SET format = ? WHERE id = ?", (info.format, info.record_id))
                cur = conn.execute(
                    "INSERT INTO revisions (report_id, number, record_json, author, created, reason, source_name,"
                    " source_sha256, base_revision, forced, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        info.record_id, info.number, record.dumps(), info.author, info.created, info.reason,
                        info.source_name, info.source_sha256, info.base_revision, int(info.forced), info.note,
                    ),
                )  # fmt: skip
                assert cur.lastrowid is not None
                self._insert_cells(cur.lastrowid, record)
                count += 1
        return count

    def counts(self) -> tuple[int, int, int]:
        """Return how many reports, revisions and cell rows the store holds."""
        row = self.conn.execute(
            "SELECT (SELECT COUNT(*) FROM reports), (SELECT COUNT(*) FROM revisions), (SELECT COUNT(*) FROM cells)"
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def close(self) -> None:
        """Close the connection."""
        unprotect(self._guard)
        self.conn.close()


def _write_failed(path: Path, exc: sqlite3.OperationalError) -> UsageError:
    """Say why SQLite could not write the store (a full disk, a read-only file) as output_errors says it of a file."""
    name = getattr(exc, "sqlite_errorname", "")
    case = next((case for prefix, case in _SQLITE_FAILURES if name.startswith(prefix)), "other")
    return output_failed(path, case, str(exc))


# SQLite's error names (sqlite_errorname, Python 3.11+) for the failures output-failed explains.
_SQLITE_FAILURES = (("SQLITE_FULL", "disk-full"), ("SQLITE_READONLY", "read-only"), ("SQLITE_PERM", "denied"))


_REVISION_COLUMNS = (
    "number, author, created, reason, source_name, source_sha256, base_revision, forced, note, record_json"
)


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves, so every write is exactly one transaction.
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """Open the file for reading only: nothing in it is changed, and no store is created; read-only media too."""
    uri = path.absolute().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        conn.close()
        wal = Path(f"{path}-wal")
        if os.access(path.parent, os.W_OK) or (wal.exists() and wal.stat().st_size):
            raise
        # A WAL store on read-only media: SQLite cannot make the -shm file it reads through. Nothing can write
        # there, and no -wal holds commits the file lacks, so the file alone is the whole store.
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None)
    return conn


def _kind(conn: sqlite3.Connection) -> str:
    """Tell what an SQLite file is: OURS (a nianbao store, marked or made before the mark), EMPTY, or FOREIGN."""
    application_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if application_id == APPLICATION_ID:
        return OURS
    if application_id == 0 and version == 0 and not conn.execute("SELECT 1 FROM sqlite_master").fetchone():
        return EMPTY
    if application_id == 0 and version >= 1 and OUR_TABLES <= tables:
        return OURS
    return FOREIGN


OURS, EMPTY, FOREIGN = "ours", "empty", "foreign"


def _check_version(conn: sqlite3.Connection, path: Path) -> int:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError("store-too-new", path=str(path), version=version, ours=SCHEMA_VERSION)
    return version


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring our (or a new, empty) file to the current schema and mark it ours; refuse any other database."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Decided under the write lock: another process may have made or migrated the store while we waited.
        kind = _kind(conn)
        if kind == FOREIGN:
            raise UsageError("store-not-ours", path=str(path), case="other-database")
        version = _check_version(conn, path)
        for step in range(version, SCHEMA_VERSION):
            for statement in _statements(MIGRATIONS[step]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {step + 1}")
        if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            # A store made before the mark existed gets it with its first write.
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _open_for_writing(path: Path, *, create: bool) -> sqlite3.Connection:
    """Open our store (or a new, empty file when create) to write: current schema, marked, in WAL mode."""
    if path.exists() and path.stat().st_size:
        # Looked at read-only first: a database that is not ours is refused before anything in it changes.
        seen = _identify(path, allow_empty=create)
        if seen is not None:
            seen.close()
    elif not create:
        raise StoreError("store-missing", path=str(path))
    conn = _connect(path)
    try:
        if not _is_current(conn):
            _migrate(conn, path)
        # WAL lets readers go on while one process writes; a crash mid-write leaves the last commit intact.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
    except BaseException:
        conn.close()
        raise
    return conn


def _is_current(conn: sqlite3.Connection) -> bool:
    marked = conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    return marked and conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def _identify(path: Path, *, allow_empty: bool) -> sqlite3.Connection | None:
    """Refuse a file that is not our store (or, with allow_empty, an empty database); return a read-only connection."""
    try:
        conn = _connect_read_only(path)
    except sqlite3.DatabaseError as exc:
        raise UsageError("store-not-ours", path=str(path), case="not-a-database") from exc
    try:
        kind = _kind(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise UsageError("store-not-ours", path=str(path), case="not-a-database") from exc
    if kind == FOREIGN:
        conn.close()
        raise UsageError("store-not-ours", path=str(path), case="other-database")
    if kind == EMPTY:
        conn.close()
        if allow_empty:
            return None
        raise StoreError("store-missing", path=str(path))
    return conn


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


def connect(location: str, *, create: bool) -> SQLiteStore:
    """Open the store file at location; the caller closes it.

    create: for a command that writes: a missing or empty file becomes a new store, an older store is migrated
    (and marked ours). Otherwise the store is opened read-only, and nothing is created, migrated or changed.
    Any other file, SQLite database or not, is refused.
    """
    path = Path(location)
    if not path.exists():
        if not create:
            raise StoreError("store-missing", path=str(path))
        if not path.parent.is_dir():
            raise UsageError("folder-missing", path=str(path.parent))
    elif path.is_dir():
        raise UsageError("store-is-folder", path=str(path))
    try:
        if create:
            return SQLiteStore(_open_for_writing(path, create=True), path)
        conn = _identify(path, allow_empty=False)
        assert conn is not None
        try:
            _check_version(conn, path)
        except BaseException:
            conn.close()
            raise
        return SQLiteStore(conn, path, read_only=True)
    except sqlite3.DatabaseError as exc:
        raise StoreError("store-unopenable", path=str(path), detail=str(exc)) from exc
