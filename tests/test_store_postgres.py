"""What only the PostgreSQL store has: connection errors in one line, the extra, database-side guards, and
`store migrate` between backends (which runs on every backend).

The store suite itself (test_store.py, test_reconcile.py, test_store_concurrency.py) runs on PostgreSQL too,
through tests/conftest.py STORE_BACKENDS; the tests here that need a server skip without NIANBAO_TEST_POSTGRES.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convert.cli import app
from convert.errors import StoreError, UnreadableInputError, UsageError
from convert.reader import read_report
from convert.store import open_store
from tests.conftest import STORE_BACKENDS
from tests.test_store import ZHUZHEN, load_samples, raw_counts, raw_query

# The messages these tests pin are the English ones (NIANBAO_LANG=en), as in test_store.py.
pytestmark = pytest.mark.usefixtures("english")
runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
NATURAL = "requests.new_received.natural_person"


def one_line_error(result: object) -> str:
    """Return the only line a failed command printed, checking there is one and no traceback."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]  # type: ignore[attr-defined]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output  # type: ignore[attr-defined]
    return lines[0]


@pytest.fixture
def pg_store(tmp_path: Path) -> Iterator[str]:
    """Give the URL of a new, empty PostgreSQL database on the test server."""
    with STORE_BACKENDS["postgres"](tmp_path) as url:
        yield url


# -- without a server -------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["postgresql://nianbao@db.example/reports", "postgres://db.example:5432/reports"])
def test_without_psycopg_the_store_names_its_extra(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes `import psycopg` fail, as on an install without the postgres extra.
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.delitem(sys.modules, "convert.store.postgres", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match=r"pip install 'nianbao\[postgres\]'"), open_store(url):
        pass
    result = runner.invoke(app, ["store", "list", "--store", url])
    assert result.exit_code == 2
    assert one_line_error(result) == "Error: the PostgreSQL store needs `pip install 'nianbao[postgres]'`"
    monkeypatch.setenv("NIANBAO_STORE", url)
    assert runner.invoke(app, ["store", "list"]).exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_server_is_one_line_naming_host_database_and_what_to_check(english: None) -> None:
    pytest.importorskip("psycopg")
    # Port 1 on this machine: refused at once, no server needed.
    url = "postgresql://auditor:s3cret@127.0.0.1:1/reports"
    result = runner.invoke(app, ["store", "list", "--store", url])
    assert result.exit_code == 2
    line = one_line_error(result)
    assert line.startswith("Error: cannot connect to the PostgreSQL store postgresql://auditor:***@127.0.0.1:1/reports")
    assert "host 127.0.0.1:1, database reports, user auditor" in line
    assert "check that the server runs" in line and "password" in line
    assert "s3cret" not in result.output
    with pytest.raises(UnreadableInputError), open_store(url):
        pass


def test_a_malformed_url_is_a_usage_error(english: None) -> None:
    pytest.importorskip("psycopg")
    result = runner.invoke(app, ["store", "list", "--store", "postgresql://h/db?nonsense=1"])
    assert result.exit_code == 2
    assert "is not a PostgreSQL connection URL" in one_line_error(result)


# -- with a server ----------------------------------------------------------------------------


@pytest.mark.parametrize("statement", ["TRUNCATE cells", "TRUNCATE revisions CASCADE", "TRUNCATE reports CASCADE"])
def test_truncate_is_refused_too(pg_store: str, statement: str) -> None:
    load_samples(pg_store)
    before = raw_counts(pg_store)
    with pytest.raises(Exception, match="append-only"):
        raw_query(pg_store, statement)
    assert raw_counts(pg_store) == before


def test_the_database_refuses_a_revision_out_of_turn(pg_store: str) -> None:
    load_samples(pg_store)
    insert = (
        "INSERT INTO revisions (report_id, number, record_json, author, created)"
        " SELECT id, {n}, '{{}}', 'mallory', 'now' FROM reports WHERE agency = '竹镇镇'"
    )
    for number in (1, 3):  # a repeat, a gap
        with pytest.raises(Exception, match=r"out of turn|duplicate"):
            raw_query(pg_store, insert.format(n=number))
    with pytest.raises(Exception, match="append-only"):
        raw_query(pg_store, "UPDATE reports SET agency = '别的镇' WHERE agency = '竹镇镇'")
    assert raw_counts(pg_store)[:2] == (5, 5)


def test_the_latest_cells_view_is_the_dump(pg_store: str) -> None:
    load_samples(pg_store)
    with open_store(pg_store) as store:
        rows = list(store.long_rows())
    summed = raw_query(
        pg_store,
        "SELECT sum(value::numeric) FROM latest_cells WHERE key = 'requests.new_received.total' AND year = 2019",
    )[0][0]
    assert summed == sum(int(v) for _, y, _, k, v in rows if k == "requests.new_received.total" and y == 2019)


def test_schema_is_created_once_when_several_open_a_new_database_at_once(pg_store: str) -> None:
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            with open_store(pg_store) as store:
                store.list()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert raw_query(pg_store, "SELECT version FROM nianbao_schema") == [(1,)]


def test_a_writer_held_up_too_long_is_told_the_store_is_busy(
    pg_store: str, monkeypatch: pytest.MonkeyPatch, english: None
) -> None:
    import psycopg

    import convert.store.postgres as pg

    load_samples(pg_store)
    monkeypatch.setattr(pg, "LOCK_TIMEOUT_S", 1)
    record = read_report(ZHUZHEN)
    record.cells[NATURAL] = 5
    with psycopg.connect(pg_store) as other:  # another writer, in the middle of its transaction on 竹镇镇
        other.execute("SELECT id FROM reports WHERE agency = '竹镇镇' FOR UPDATE")
        with open_store(pg_store) as store, pytest.raises(StoreError, match="is busy: another nianbao"):
            store.add(record, author="me", reason=None, source_name=None, sha256=None)
    assert raw_counts(pg_store)[:2] == (5, 5)


def test_a_lost_connection_is_one_line(pg_store: str, english: None) -> None:
    load_samples(pg_store)
    with open_store(pg_store) as store:
        pid = store.conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[attr-defined]
        raw_query(pg_store, f"SELECT pg_terminate_backend({int(pid)})")
        with pytest.raises(StoreError, match=r"failed: .*nothing of the unfinished operation was stored") as caught:
            store.list()
    assert "\n" not in str(caught.value)


def test_cli_and_merge_take_the_url_from_the_option_or_the_environment(
    pg_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    added = runner.invoke(app, ["store", "add", str(SAMPLES), "--store", pg_store, "--author", "测试"])
    assert added.exit_code == 0, added.output
    monkeypatch.setenv("NIANBAO_STORE", pg_store)
    listed = runner.invoke(app, ["store", "list", "--json"])
    assert listed.exit_code == 0 and len(json.loads(listed.stdout)) == 5
    merged = runner.invoke(app, ["merge", "--store", pg_store, "--year", "2019", "-o", str(tmp_path / "s.xlsx")])
    assert merged.exit_code == 1, merged.output  # zhuzhen and liancai are 待核, as from an SQLite store
    assert merged.stdout.startswith("merged 3 report(s)")
    assert list(tmp_path.iterdir()) == [tmp_path / "s.xlsx"]


# -- store migrate (every backend as the target) --------------------------------------------------


def history_of(location: str) -> list[dict[str, object]]:
    """Return every revision of every report with its bookkeeping and changes, as JSON."""
    with open_store(location, create=False) as store:
        return [
            {**entry.to_json(), "latest": entry.info.latest}
            for report in store.list()
            for entry in store.history(report.agency, report.year)
        ]


@pytest.fixture
def rich_sqlite(tmp_path: Path) -> str:
    """Return an SQLite store with revisions of every kind: forced, based on another, with a reason and a note."""
    location = load_samples(str(tmp_path / "old.db"))
    with open_store(location) as store:
        record = read_report(ZHUZHEN)
        record.cells[NATURAL] = 4
        store.add(record, author="王芳", reason="更正", source_name="z.xlsx", sha256="ab" * 32, base_revision=1)
        record.cells[NATURAL] = 5
        store.add(
            record, author="李明", reason="强制", source_name="z2.xlsx", sha256=None, base_revision=1, forced=True,
            note="forced over conflict: exported from revision 1",
        )  # fmt: skip
        record.format = "2019"
        record.cells["proactive.procurement.amount"] = None  # a blank stays a blank
        store.add(record, author="李明", reason=None, source_name=None, sha256=None)
    return location


def test_migrate_copies_every_revision_and_verifies(rich_sqlite: str, new_store: str, tmp_path: Path) -> None:
    before = history_of(rich_sqlite)
    result = runner.invoke(app, ["store", "migrate", "--from", rich_sqlite, "--to", new_store])
    assert result.exit_code == 0, result.output
    assert "copied 5 report(s), 8 revision(s)" in result.stdout and "verified" in result.stdout
    assert history_of(new_store) == before  # authors, times, reasons, bases, forced flags, notes, record ids
    assert raw_counts(new_store) == raw_counts(rich_sqlite)
    with open_store(new_store) as store:
        # The copy goes on like the original: a new report gets a fresh id, a revision the next number.
        record = read_report(ZHUZHEN)
        record.agency = "新的镇"
        fresh = store.add(record, author="me", reason=None, source_name=None, sha256=None)
        assert fresh.record_id not in {r["record_id"] for r in before}
        record.agency, record.cells[NATURAL] = "竹镇镇", 6
        assert store.add(record, author="me", reason=None, source_name=None, sha256=None).revision == 5
    # And back again, into a new SQLite file: the same history.
    back = str(tmp_path / "back.db")
    assert runner.invoke(app, ["store", "migrate", "--from", new_store, "--to", back]).exit_code == 0
    assert history_of(back) == history_of(new_store)


def test_migrate_refuses_a_store_that_is_not_empty_and_the_same_store(
    rich_sqlite: str, new_store: str, english: None
) -> None:
    load_samples(new_store)
    before = raw_counts(new_store)
    result = runner.invoke(app, ["store", "migrate", "--from", rich_sqlite, "--to", new_store])
    assert result.exit_code == 1
    assert "already holds 5 report(s); migrate into a new, empty store" in one_line_error(result)
    assert raw_counts(new_store) == before
    result = runner.invoke(app, ["store", "migrate", "--from", new_store, "--to", new_store])
    assert result.exit_code == 2 and "name the same store" in one_line_error(result)


def test_migrate_notices_a_copy_that_differs(
    rich_sqlite: str, new_store: str, monkeypatch: pytest.MonkeyPatch, english: None
) -> None:
    with open_store(new_store) as store:
        backend = type(store)
    real = backend.import_revisions

    def sloppy(self: object, revisions: Iterator[tuple[object, object]]) -> int:
        def altered() -> Iterator[tuple[object, object]]:
            for record, info in revisions:
                if info.author == "王芳":  # type: ignore[attr-defined]
                    info = type(info)(**{**info.to_json(), "author": "someone else"})  # type: ignore[attr-defined]
                yield record, info

        return real(self, altered())  # type: ignore[arg-type]

    monkeypatch.setattr(backend, "import_revisions", sloppy)
    result = runner.invoke(app, ["store", "migrate", "--from", rich_sqlite, "--to", new_store])
    assert result.exit_code == 1
    assert "does not match the source: the checksum of 竹镇镇 2019 differs" in one_line_error(result)
