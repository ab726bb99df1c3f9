"""The PostgreSQL store: every revision of every report, append-only, in a database a team shares.

All the SQL of the PostgreSQL backend is here: schema, migrations, triggers, queries. Each operation is one
explicit transaction (`_transaction`): writers take a row lock on their report, so the conflict check, the
numbering and the insert of a revision happen under it; readers see one snapshot. The database itself refuses
to update or delete history and to number a revision out of turn, whoever connects to it.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict

from convert.errors import NianbaoError, Phrase, StoreError, UnreadableInputError, UsageError
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
LOCK_TIMEOUT_S = 30
CONNECT_TIMEOUT_S = 10
LONG_ROWS_BATCH = 10_000
# pg_advisory_xact_lock key taken while migrating, so two nianbaos opening a new database do not both create it.
MIGRATION_LOCK = 0x6E69616E62616F  # "nianbao"
SCHEMA_TABLE = "nianbao_schema"
OUR_TABLES = ("reports", "revisions", "cells")

# Each step takes the schema from the version before it to the next; never edit a step once released.
# Text is COLLATE "C" (code-point order, as SQLite's), so lists, dumps and merges come out in the same order
# on both backends whatever the server's locale. Times are ISO 8601 text, exactly as the SQLite store keeps them.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE reports (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        agency text COLLATE "C" NOT NULL,
        year integer NOT NULL,
        format text COLLATE "C" NOT NULL,
        created text NOT NULL,
        UNIQUE (agency, year)
    );
    CREATE TABLE revisions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        report_id bigint NOT NULL REFERENCES reports (id),
        number integer NOT NULL CHECK (number >= 1),
        record_json text NOT NULL,
        author text NOT NULL,
        created text NOT NULL,
        reason text,
        source_name text,
        source_sha256 text,
        base_revision integer,
        forced boolean NOT NULL DEFAULT false,
        note text,
        UNIQUE (report_id, number)
    );
    -- Every cell of every revision, blanks as NULL, values as exact text; position is the record's cell order.
    CREATE TABLE cells (
        revision_id bigint NOT NULL REFERENCES revisions (id),
        position integer NOT NULL,
        key text COLLATE "C" NOT NULL,
        value text,
        PRIMARY KEY (revision_id, key)
    );
    CREATE INDEX cells_by_key ON cells (key);
    -- Reports in the dump's order: the cells of 10,000 reports are then sorted report by report (an
    -- incremental sort), never two million rows at once.
    CREATE INDEX reports_in_order ON reports (year, agency);
    -- The latest revision's cells of every report: what `store dump` writes, for SQL users.
    CREATE VIEW latest_cells AS
        SELECT r.agency, r.year, r.format, c.key, c.value, v.number AS revision, c.position
        FROM reports r
        JOIN LATERAL (SELECT id, number FROM revisions WHERE report_id = r.id ORDER BY number DESC LIMIT 1) v ON true
        JOIN cells c ON c.revision_id = v.id;

    CREATE FUNCTION nianbao_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% are append-only: % refused; add a new revision instead (history is never changed)',
            TG_TABLE_NAME, TG_OP USING ERRCODE = 'integrity_constraint_violation';
    END $$;
    CREATE TRIGGER revisions_append_only BEFORE UPDATE OR DELETE ON revisions
        FOR EACH ROW EXECUTE FUNCTION nianbao_append_only();
    CREATE TRIGGER cells_append_only BEFORE UPDATE OR DELETE ON cells
        FOR EACH ROW EXECUTE FUNCTION nianbao_append_only();
    -- TRUNCATE skips row triggers; it gets its own.
    CREATE TRIGGER revisions_no_truncate BEFORE TRUNCATE ON revisions
        FOR EACH STATEMENT EXECUTE FUNCTION nianbao_append_only();
    CREATE TRIGGER cells_no_truncate BEFORE TRUNCATE ON cells
        FOR EACH STATEMENT EXECUTE FUNCTION nianbao_append_only();
    -- A report row is what the revisions hang on: never deleted; only its format follows the latest revision.
    CREATE TRIGGER reports_no_delete BEFORE DELETE ON reports
        FOR EACH ROW EXECUTE FUNCTION nianbao_append_only();
    CREATE TRIGGER reports_no_truncate BEFORE TRUNCATE ON reports
        FOR EACH STATEMENT EXECUTE FUNCTION nianbao_append_only();
    CREATE FUNCTION nianbao_report_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (NEW.id, NEW.agency, NEW.year, NEW.created) IS DISTINCT FROM (OLD.id, OLD.agency, OLD.year, OLD.created) THEN
            RAISE EXCEPTION 'reports are append-only: only the format of a report follows its latest revision'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$;
    CREATE TRIGGER reports_update BEFORE UPDATE ON reports
        FOR EACH ROW EXECUTE FUNCTION nianbao_report_update();
    -- Revisions are numbered 1, 2, 3 … per report: with UNIQUE (report_id, number), no gap and no repeat.
    CREATE FUNCTION nianbao_revision_number() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        latest integer;
    BEGIN
        EXECUTE format('SELECT max(number) FROM %I.revisions WHERE report_id = $1', TG_TABLE_SCHEMA)
            INTO latest USING NEW.report_id;
        IF NEW.number <> coalesce(latest, 0) + 1 THEN
            RAISE EXCEPTION 'revision % of report % is out of turn: the next is %', NEW.number, NEW.report_id,
                coalesce(latest, 0) + 1 USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$;
    CREATE TRIGGER revisions_numbered BEFORE INSERT ON revisions
        FOR EACH ROW EXECUTE FUNCTION nianbao_revision_number();
    """,
)

_REVISION_COLUMNS = (
    "number, author, created, reason, source_name, source_sha256, base_revision, forced, note, record_json"
)


class PostgresStore(Store):
    """A store in a PostgreSQL database, opened by connect(); the caller closes it."""

    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]], location: str) -> None:
        """Wrap an open connection (autocommit: every transaction is begun and ended here) whose schema is current."""
        self.conn = conn
        self.location = location

    # -- transactions ---------------------------------------------------------------------------

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        """Run a block as one transaction: a writer at READ COMMITTED (it locks what it reads), a reader on one snapshot."""
        # READ COMMITTED for writers: after waiting for a report's row lock, the next statement sees what the
        # writer before committed, so the latest revision is re-read under the lock (REPEATABLE READ would
        # have fixed its snapshot before the wait). Readers get REPEATABLE READ: all their queries agree.
        begin = (
            # One round trip: a writer waits for a report's lock at most LOCK_TIMEOUT_S (then: busy).
            f"BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE; SET LOCAL lock_timeout = '{LOCK_TIMEOUT_S}s'"
            if write
            else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        )
        with self._errors():
            self.conn.execute(begin)
        try:
            yield self.conn
        except BaseException:
            if not self.conn.closed:
                try:
                    self.conn.execute("ROLLBACK")
                except psycopg.Error:
                    pass  # the connection is gone: the server has rolled the transaction back itself
            raise
        with self._errors():
            self.conn.execute("COMMIT")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn a database failure (the server gone, a refused statement) into one line; ours pass through."""
        try:
            yield
        except NianbaoError:
            raise
        except psycopg.Error as exc:
            raise StoreError("pg-failed", location=self.location, reason=_reason(exc)) from exc

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
        with self._transaction(write=True) as conn, self._errors(), self._busy(agency, year):
            record_id = self._lock_report(agency, year)
            if record_id is None:
                # A new report; ON CONFLICT: another writer may be adding it now: then we wait and take its row.
                row = conn.execute(
                    "INSERT INTO reports (agency, year, format, created) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (agency, year) DO NOTHING RETURNING id",
                    (agency, year, record.format, now_utc()),
                ).fetchone()
                record_id = row[0] if row else self._lock_report(agency, year)
                assert record_id is not None
            latest_row = conn.execute(
                "SELECT number, record_json FROM revisions WHERE report_id = %s ORDER BY number DESC LIMIT 1",
                (record_id,),
            ).fetchone()
            # Checked under the report's row lock: of two writers that saw the same revision only the first wins,
            # and of two adding the same new report the second waits for the first's row, then finds it taken.
            latest = 0 if latest_row is None else int(latest_row[0])
            if expect_latest is not None and expect_latest != latest:
                raise changed_meanwhile(agency, year, expect_latest, latest)
            if latest_row is None:
                number, status = 1, "new-report"
            else:
                latest_json = latest_row[1]
                if content(Record.loads(latest_json)) == content(record):
                    return AddResult("identical", record_id, agency, year, latest)
                number, status = latest + 1, "new-revision"
                conn.execute(
                    "UPDATE reports SET format = %s WHERE id = %s AND format <> %s",
                    (record.format, record_id, record.format),
                )
            revision_id = self._insert_revision(
                record_id, number, record, author, now_utc(), reason, source_name, sha256, base_revision, forced, note
            )
            self._insert_cells(revision_id, record)
        return AddResult(status, record_id, agency, year, number)

    def _lock_report(self, agency: str, year: int) -> int | None:
        """Return a report's id with its row locked until the transaction ends; None when there is no such report."""
        # NO KEY UPDATE: the strongest lock a writer needs (it may change the format), and it still lets the
        # foreign-key checks of our own inserts through.
        row = self.conn.execute(
            "SELECT id FROM reports WHERE agency = %s AND year = %s FOR NO KEY UPDATE", (agency, year)
        ).fetchone()
        return None if row is None else int(row[0])

    @contextmanager
    def _busy(self, agency: str, year: int) -> Iterator[None]:
        """Say in one line that another writer held the report longer than the lock timeout."""
        try:
            yield
        except pg_errors.LockNotAvailable as exc:
            raise StoreError(
                "pg-busy", location=self.location, agency=agency, year=year, seconds=LOCK_TIMEOUT_S
            ) from exc

    def _insert_revision(
        self,
        record_id: int,
        number: int,
        record: Record,
        author: str,
        created: str,
        reason: str | None,
        source_name: str | None,
        sha256: str | None,
        base_revision: int | None,
        forced: bool,
        note: str | None,
    ) -> int:
        """Insert one revision row (inside the caller's transaction); return its id."""
        row = self.conn.execute(
            "INSERT INTO revisions (report_id, number, record_json, author, created, reason, source_name,"
            " source_sha256, base_revision, forced, note) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " RETURNING id",
            (
                record_id,
                number,
                record.dumps(),
                author,
                created,
                reason,
                source_name,
                sha256,
                base_revision,
                forced,
                note,
            ),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def _insert_cells(self, revision_id: int, record: Record) -> None:
        """Insert every cell of a revision (inside the caller's transaction), blanks as NULL, in the record's order."""
        # COPY: one round trip for the ~200 cells of a report instead of one statement each.
        with (
            self.conn.cursor() as cur,
            cur.copy("COPY cells (revision_id, position, key, value) FROM STDIN") as copy,
        ):
            for position, (key, value) in enumerate(record.cells.items()):
                copy.write_row((revision_id, position, key, value_text(value)))

    def import_revisions(self, revisions: Iterable[tuple[Record, RevisionInfo]]) -> int:
        """Write revisions copied from another store as they were (ids, authors, times, bases); only into an empty store."""
        count = 0
        with self._transaction(write=True) as conn, self._errors():
            # No other writer may start a report while the copy goes in: it would take an id the copy needs.
            conn.execute("LOCK TABLE reports IN EXCLUSIVE MODE")
            reports = conn.execute("SELECT count(*) FROM reports").fetchone()
            if reports and reports[0]:
                raise StoreError("store-migrate-not-empty", location=self.location, reports=reports[0])
            formats: dict[int, str] = {}
            for record, info in revisions:
                if info.number == 1:
                    conn.execute(
                        "INSERT INTO reports (id, agency, year, format, created) OVERRIDING SYSTEM VALUE"
                        " VALUES (%s, %s, %s, %s, %s)",
                        (info.record_id, info.agency, info.year, info.format, info.created),
                    )
                elif formats[info.record_id] != info.format:
                    conn.execute("UPDATE reports SET format = %s WHERE id = %s", (info.format, info.record_id))
                formats[info.record_id] = info.format
                revision_id = self._insert_revision(
                    info.record_id, info.number, record, info.author, info.created, info.reason, info.source_name,
                    info.source_sha256, info.base_revision, info.forced, info.note,
                )  # fmt: skip
                self._insert_cells(revision_id, record)
                count += 1
            # New reports take ids after the copied ones.
            conn.execute(
                "SELECT setval(pg_get_serial_sequence('reports', 'id'), greatest(max(id), 1), max(id) IS NOT NULL)"
                " FROM reports"
            )
        return count

    # -- reading --------------------------------------------------------------------------------

    def _report(self, agency: str, year: int) -> int:
        row = self.conn.execute("SELECT id FROM reports WHERE agency = %s AND year = %s", (agency, year)).fetchone()
        if row is None:
            raise StoreError("store-no-report", agency=agency, year=year, store=self.location)
        return int(row[0])

    def get(self, agency: str, year: int, revision: int | None = None) -> tuple[Record, RevisionInfo]:
        """Return a report's record and revision info: the latest revision, or the one asked for."""
        with self._transaction(write=False) as conn, self._errors():
            record_id = self._report(agency, year)
            latest = conn.execute("SELECT max(number) FROM revisions WHERE report_id = %s", (record_id,)).fetchone()[0]  # type: ignore[index]
            number = latest if revision is None else revision
            row = conn.execute(
                f"SELECT {_REVISION_COLUMNS} FROM revisions WHERE report_id = %s AND number = %s", (record_id, number)
            ).fetchone()
        if row is None:
            raise StoreError("store-no-revision", agency=agency, year=year, revision=revision, latest=latest)
        return Record.loads(row[-1]), _info(record_id, agency, year, latest, row)

    def list(self, year: int | None = None) -> list[ReportSummary]:
        """Return every report (of one year, if given) with its latest revision, by year then agency."""
        sql = (
            "SELECT r.id, r.agency, r.year, r.format, v.number, v.author, v.created FROM reports r"
            " JOIN LATERAL (SELECT number, author, created FROM revisions WHERE report_id = r.id"
            " ORDER BY number DESC LIMIT 1) v ON true"
        )
        params: tuple[Any, ...] = ()
        if year is not None:
            sql += " WHERE r.year = %s"
            params = (year,)
        with self._transaction(write=False) as conn, self._errors():
            rows = conn.execute(sql + " ORDER BY r.year, r.agency", params).fetchall()
        return [ReportSummary(*row) for row in rows]

    def history(self, agency: str, year: int) -> builtins.list[HistoryEntry]:
        """Return every revision of a report, oldest first, each with the cells it changed against the one before."""
        with self._transaction(write=False) as conn, self._errors():
            record_id = self._report(agency, year)
            rows = conn.execute(
                f"SELECT {_REVISION_COLUMNS} FROM revisions WHERE report_id = %s ORDER BY number", (record_id,)
            ).fetchall()
            # Both sides of the comparison in SQL, in the record's cell order: keys whose value differs or went away.
            changes = conn.execute(
                """
                SELECT v.number, c.position, c.key, p.value, c.value
                FROM revisions v
                JOIN revisions pv ON pv.report_id = v.report_id AND pv.number = v.number - 1
                JOIN cells c ON c.revision_id = v.id
                LEFT JOIN cells p ON p.revision_id = pv.id AND p.key = c.key
                WHERE v.report_id = %(id)s AND c.value IS DISTINCT FROM p.value
                UNION ALL
                SELECT v.number, p.position, p.key, p.value, NULL
                FROM revisions v
                JOIN revisions pv ON pv.report_id = v.report_id AND pv.number = v.number - 1
                JOIN cells p ON p.revision_id = pv.id
                WHERE v.report_id = %(id)s AND p.value IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM cells c WHERE c.revision_id = v.id AND c.key = p.key)
                ORDER BY 1, 2
                """,
                {"id": record_id},
            ).fetchall()
        latest = rows[-1][0]
        by_number: dict[int, list[CellChange]] = {}
        for number, _, key, old, new in changes:
            # Exact text differs for 24 and 24.0; the same amount is not a change.
            if old is not None and new is not None and Decimal(old) == Decimal(new):
                continue
            by_number.setdefault(number, []).append(CellChange(key, old, new))
        return [HistoryEntry(_info(record_id, agency, year, latest, row), by_number.get(row[0], [])) for row in rows]

    def long_rows(self) -> Iterator[LongRow]:
        """Yield the latest revision of every report as long rows (agency, year, format, key, value)."""
        # A server-side cursor in one read-only transaction: one snapshot, fetched 10,000 rows at a time.
        with self._transaction(write=False) as conn, self._errors(), conn.cursor(name="long_rows") as cur:
            cur.itersize = LONG_ROWS_BATCH
            cur.execute("SELECT agency, year, format, key, value FROM latest_cells ORDER BY year, agency, position")
            yield from cur

    def counts(self) -> tuple[int, int, int]:
        """Return how many reports, revisions and cell rows the store holds."""
        with self._transaction(write=False) as conn, self._errors():
            row = conn.execute(
                "SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM revisions), (SELECT count(*) FROM cells)"
            ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2])

    def close(self) -> None:
        """Close the connection (an unfinished transaction is rolled back by the server)."""
        self.conn.close()


def _info(record_id: int, agency: str, year: int, latest: int, row: tuple[Any, ...]) -> RevisionInfo:
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


# -- opening --------------------------------------------------------------------------------


def _reason(exc: BaseException) -> str:
    """Return a driver message as one line (libpq's come over several, with tabs)."""
    text = " ".join(part.strip() for part in str(exc).splitlines() if part.strip())
    return text or type(exc).__name__


def shown(location: str) -> str:
    """Return a connection URL as a person may see it: any password replaced by ***."""
    try:
        parts = urlsplit(location)
    except ValueError:
        return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", location)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        if ":" in userinfo:
            netloc = userinfo.split(":", 1)[0] + ":***@" + hostport
    query = re.sub(r"(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _migrate(conn: psycopg.Connection[tuple[Any, ...]], location: str, *, create: bool) -> None:
    """Bring the schema to SCHEMA_VERSION (creating it when create), in one transaction; refuse what is not ours."""
    version = _version(conn)
    if version == SCHEMA_VERSION:
        return
    if version is None and not create:
        raise StoreError("store-missing", path=location)
    if version is not None and version > SCHEMA_VERSION:
        raise StoreError("store-too-new", path=location, version=version, ours=SCHEMA_VERSION)
    # A session lock taken before the transaction begins: the transaction then starts after any other
    # nianbao's migration committed and sees its tables (one begun before the wait could miss them).
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        with conn.transaction():
            version = _version(conn)
            if version is None:
                taken = [
                    name
                    for (name,) in conn.execute(
                        "SELECT c.relname FROM pg_class c WHERE c.relname = ANY(%s) AND pg_table_is_visible(c.oid)",
                        (list(OUR_TABLES),),
                    ).fetchall()
                ]
                if taken:
                    raise UsageError("pg-foreign-tables", location=location, tables=sorted(taken))
                conn.execute(f"CREATE TABLE {SCHEMA_TABLE} (version integer PRIMARY KEY, applied text NOT NULL)")
                version = 0
            if version > SCHEMA_VERSION:
                raise StoreError("store-too-new", path=location, version=version, ours=SCHEMA_VERSION)
            for step in range(version, SCHEMA_VERSION):
                conn.execute(MIGRATIONS[step])  # no parameters: sent as one script
                conn.execute(f"INSERT INTO {SCHEMA_TABLE} (version, applied) VALUES (%s, %s)", (step + 1, now_utc()))
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def _version(conn: psycopg.Connection[tuple[Any, ...]]) -> int | None:
    """Return the store's schema version, None when the database holds no store."""
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (SCHEMA_TABLE,)).fetchone()
    if not row or not row[0]:
        return None
    found = conn.execute(f"SELECT max(version) FROM {SCHEMA_TABLE}").fetchone()
    return int(found[0]) if found and found[0] is not None else 0


def connect(location: str, *, create: bool) -> PostgresStore:
    """Open (creating and migrating the schema if needed, when create) the store at a postgresql:// URL."""
    where = shown(location)
    try:
        params = conninfo_to_dict(location)
    except psycopg.Error as exc:
        raise UsageError("pg-bad-url", location=where, reason=_reason(exc)) from exc
    options: dict[str, Any] = {"autocommit": True, "application_name": "nianbao"}
    if "connect_timeout" not in params:
        options["connect_timeout"] = CONNECT_TIMEOUT_S
    try:
        conn = psycopg.connect(location, **options)
    except psycopg.Error as exc:
        raise UnreadableInputError(
            "pg-cannot-connect",
            location=where,
            host=_host(params),
            database=params.get("dbname") or params.get("user") or "(default)",
            user=params.get("user") or "(default)",
            reason=_reason(exc),
        ) from exc
    try:
        _migrate(conn, where, create=create)
    except NianbaoError:
        conn.close()
        raise
    except psycopg.Error as exc:
        conn.close()
        raise StoreError("pg-failed", location=where, reason=_reason(exc)) from exc
    except BaseException:
        conn.close()
        raise
    return PostgresStore(conn, where)


def _host(params: dict[str, Any]) -> str:
    """Return where the server is, as the URL says: host:port, or the socket folder."""
    host = str(params.get("host") or params.get("hostaddr") or "localhost")
    port = params.get("port")
    return f"{host}:{port}" if port else host
