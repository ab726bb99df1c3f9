"""The records store: revisions, identical adds, history, dumps, append-only triggers, atomic writes.

Tests that take `db` or `new_store` run on every backend (tests/conftest.py STORE_BACKENDS), looking into
each database with its own driver where they check what the database itself enforces; the ones that take
`sqlite_db` check what only the SQLite file store has (its journal mode).
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import sqlite3
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convert.cli import app
from convert.errors import StoreError, UsageError
from convert.reader import read_report
from convert.record import Record
from convert.store import DUMP_COLUMNS, Store, add_files, neutralise, open_store, store_location, value_text
from convert.store.sqlite import SCHEMA_VERSION

# The messages these tests pin are the English ones (NIANBAO_LANG=en); the Chinese are tested in test_language.py.
pytestmark = pytest.mark.usefixtures("english")

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
ZHUZHEN = SAMPLES / "zhuzhen-2019.txt"


def is_postgres(location: str | Path) -> bool:
    """Tell whether a test store is a PostgreSQL one (a URL) rather than an SQLite file."""
    return str(location).startswith("postgresql://")


def raw_query(location: str | Path, sql: str) -> list[tuple[object, ...]]:
    """Run one statement with the database's own driver (not through the store) and commit; return its rows."""
    if is_postgres(location):
        import psycopg

        with psycopg.connect(str(location), autocommit=True) as pg:
            cur = pg.execute(sql)  # type: ignore[call-overload]
            return cur.fetchall() if cur.description else []
    conn = sqlite3.connect(location)
    try:
        rows = conn.execute(sql).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


def raw_counts(location: str | Path) -> tuple[int, ...]:
    """Return the number of reports, revisions and cells, read with the database's own driver."""
    return tuple(raw_query(location, f"SELECT COUNT(*) FROM {t}")[0][0] for t in ("reports", "revisions", "cells"))  # type: ignore[misc]


def schema_version(location: str | Path) -> int:
    """Return the schema version the database records."""
    if is_postgres(location):
        return raw_query(location, "SELECT max(version) FROM nianbao_schema")[0][0]  # type: ignore[return-value]
    return raw_query(location, "PRAGMA user_version")[0][0]  # type: ignore[return-value]


def database_is_empty(location: str | Path) -> bool:
    """Tell whether the database holds no table at all (or, for SQLite, does not exist)."""
    if is_postgres(location):
        return raw_query(location, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")[0][0] == 0
    return not Path(location).exists()


def counts(location: str) -> tuple[int, int]:
    """Return the number of reports and revisions, read through the store."""
    with open_store(location, create=False) as store:
        reports = store.list()
    return len(reports), sum(r.revisions for r in reports)


def add(store: Store, record: Record, author: str = "tester") -> object:
    """Add a record with the bookkeeping a test does not care about."""
    return store.add(record, author=author, reason=None, source_name="x.txt", sha256=None)


def load_samples(location: str) -> str:
    """Add the five samples (revision 1 each) to the store at location; return it."""
    with open_store(location) as store:
        results = list(add_files(store, sorted(SAMPLES.glob("*.txt")), author="loader"))
    assert all(not isinstance(r, Exception) and r.status == "new-report" for _, r in results)
    return location


@pytest.fixture
def db(new_store: str) -> str:
    """Return the location of a store (of each backend) holding the five samples."""
    return load_samples(new_store)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    """Return the path of an SQLite store holding the five samples."""
    return Path(load_samples(str(tmp_path / "sqlite.db")))


def test_store_location_explicit_then_env_then_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NIANBAO_STORE", raising=False)
    assert store_location(None) == str(tmp_path / "nianbao.db")
    monkeypatch.setenv("NIANBAO_STORE", str(tmp_path / "env.db"))
    assert store_location(None) == str(tmp_path / "env.db")
    assert store_location("given.db") == "given.db"
    # A URL stays a URL (a Path would fold its // into one).
    assert store_location("postgresql://me@db.example/reports") == "postgresql://me@db.example/reports"


def test_a_path_with_a_colon_is_still_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "copy:old").mkdir()
    with open_store("copy:old/nb.db") as store:
        add(store, read_report(ZHUZHEN))
    assert (tmp_path / "copy:old" / "nb.db").is_file()


def test_schema_is_versioned_and_cells_are_rows(db: str) -> None:
    assert schema_version(db) == SCHEMA_VERSION
    reports, revisions, cells = raw_counts(db)
    assert (reports, revisions) == (5, 5)
    assert cells > 5 * 100  # every cell of every revision, blanks included
    # The cells are rows anyone can query with SQL, values as exact text.
    [(value,)] = raw_query(
        db,
        "SELECT c.value FROM cells c JOIN revisions v ON v.id = c.revision_id JOIN reports r ON r.id = v.report_id"
        " WHERE r.agency = '竹镇镇' AND c.key = 'proactive.procurement.amount'",
    )
    assert value == "6212.4"


def test_sqlite_store_is_in_wal_mode(sqlite_db: Path) -> None:
    assert raw_query(sqlite_db, "PRAGMA journal_mode") == [("wal",)]


def test_a_newer_schema_is_refused(new_store: str, english: None) -> None:
    with open_store(new_store):
        pass
    if is_postgres(new_store):
        raw_query(new_store, f"INSERT INTO nianbao_schema VALUES ({SCHEMA_VERSION + 1}, 'later')")
    else:
        raw_query(new_store, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer"), open_store(new_store):
        pass


def test_not_a_store_is_refused(new_store: str, english: None) -> None:
    if is_postgres(new_store):
        # Another application's table of the same name: never taken over, never written to.
        raw_query(new_store, "CREATE TABLE reports (title text)")
    else:
        Path(new_store).write_text("just some text, not SQLite\n" * 100, encoding="utf-8")
    with pytest.raises(UsageError, match="not a nianbao store"), open_store(new_store):
        pass
    if is_postgres(new_store):
        assert raw_query(new_store, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == [("reports",)]


def test_reading_commands_do_not_create_a_store(new_store: str, english: None) -> None:
    result = runner.invoke(app, ["store", "list", "--store", new_store])
    assert result.exit_code == 1
    assert "no store" in result.stderr
    assert database_is_empty(new_store)


def test_identical_add_says_so_and_adds_nothing(db: str) -> None:
    before = counts(db)
    result = runner.invoke(app, ["store", "add", str(ZHUZHEN), "--store", db])
    assert result.exit_code == 0, result.output
    assert "identical to revision 1; nothing added" in result.stdout
    assert counts(db) == before == (5, 5)


def test_changed_content_adds_a_revision_and_old_revisions_stay(db: str) -> None:
    record = read_report(ZHUZHEN)
    record.cells["requests.new_received.natural_person"] = 7
    with open_store(db) as store:
        result = store.add(record, author="李四", reason="typo", source_name="fix.txt", sha256="ab")
        assert (result.status, result.revision) == ("new-revision", 2)
        old, info1 = store.get("竹镇镇", 2019, 1)
        new, info2 = store.get("竹镇镇", 2019)
    assert old.cells["requests.new_received.natural_person"] == 1
    assert new.cells["requests.new_received.natural_person"] == 7
    assert (info2.number, info2.latest, info2.author, info2.reason) == (2, 2, "李四", "typo")
    assert info1.author == "loader" and info1.latest == 2


def test_source_and_warnings_do_not_make_a_revision(db: str) -> None:
    record = read_report(ZHUZHEN)
    record.source = {"path": "elsewhere.txt"}
    record.warn("year-guessed", {"year": 2019}, "year")
    with open_store(db) as store:
        assert add(store, record).status == "identical"  # type: ignore[attr-defined]
        record.title = "另一个标题"
        assert add(store, record).status == "new-revision"  # type: ignore[attr-defined]


def test_money_is_stored_exactly(db: str) -> None:
    with open_store(db) as store:
        record, _ = store.get("竹镇镇", 2019)
        [value] = [
            v
            for agency, _, _, key, v in store.long_rows()
            if (agency, key) == ("竹镇镇", "proactive.procurement.amount")
        ]
    assert value == "6212.4"
    assert record.cells["proactive.procurement.amount"] == Decimal("6212.4")


def test_unknown_record_and_revision_are_store_errors(db: str, english: None) -> None:
    with open_store(db) as store:
        with pytest.raises(StoreError, match="not in the store"):
            store.get("无此镇", 2019)
        with pytest.raises(StoreError, match="no revision 9"):
            store.get("竹镇镇", 2019, 9)
    result = runner.invoke(app, ["store", "show", "竹镇镇", "2019", "--revision", "9", "--store", db])
    assert result.exit_code == 1
    assert "no revision 9" in result.stderr


def test_history_names_changed_cells(db: str) -> None:
    record = read_report(ZHUZHEN)
    record.cells["requests.new_received.natural_person"] = 2
    record.cells["requests.new_received.commercial"] = 5
    with open_store(db) as store:
        add(store, record, author="王五")
        history = store.history("竹镇镇", 2019)
    assert [h.info.number for h in history] == [1, 2]
    assert history[0].changed == []
    assert {(c.key, c.old, c.new) for c in history[1].changed} == {
        ("requests.new_received.natural_person", "1", "2"),
        ("requests.new_received.commercial", None, "5"),
    }
    result = runner.invoke(app, ["store", "history", "竹镇镇", "2019", "--json", "--store", db])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [e["author"] for e in data] == ["loader", "王五"]


def test_list_filters_by_year(db: str) -> None:
    result = runner.invoke(app, ["store", "list", "--year", "2019", "--json", "--store", db])
    assert result.exit_code == 0
    assert sorted(r["agency"] for r in json.loads(result.stdout)) == sorted(["竹镇镇", "洛碛镇", "隆德县联财镇"])
    result = runner.invoke(app, ["store", "list", "--store", db])
    assert result.exit_code == 0 and "后河镇" in result.stdout and "5 report(s)" in result.stdout


def stored_cells(location: str) -> list[dict[str, object]]:
    """Return the latest cells of every report as the dump's rows, built from store.get (not from a dump)."""
    rows: list[dict[str, object]] = []
    with open_store(location, create=False) as store:
        for report in store.list():
            record, _ = store.get(report.agency, report.year)
            rows += [
                {
                    "agency": report.agency,
                    "year": report.year,
                    "format": record.format,
                    "key": key,
                    "value": value_text(v),
                }
                for key, v in record.cells.items()
            ]
    return rows


def dump(location: str, out: Path, fmt: str) -> None:
    """Run `nianbao store dump` and check it reports the rows it wrote."""
    result = runner.invoke(app, ["store", "dump", "--format", fmt, "-o", str(out), "--store", location])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("wrote ")


def test_csv_and_jsonl_dumps_read_back_to_the_stores_cells(db: str, tmp_path: Path) -> None:
    expected = stored_cells(db)
    assert len(expected) > 5 * 100 and any(r["value"] is None for r in expected)
    dump(db, tmp_path / "cells.csv", "csv")
    dump(db, tmp_path / "cells.jsonl", "jsonl")
    raw = (tmp_path / "cells.csv").read_bytes()
    # The BOM makes Excel read UTF-8; the official labels of each cell follow the long table's columns.
    assert raw.startswith(b"\xef\xbb\xbfagency,year,format,key,value,section_label,row_label,column_label")
    with (tmp_path / "cells.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    [labelled] = [r for r in rows if (r["agency"], r["key"]) == ("竹镇镇", "requests.new_received.natural_person")]
    assert (labelled["section_label"], labelled["row_label"], labelled["column_label"]) == (
        "三、收到和处理政府信息公开申请情况",
        "一、本年新收政府信息公开申请数量",
        "自然人",
    )
    [nested] = [r for r in rows if (r["agency"], r["key"]) == ("竹镇镇", "requests.denied_state_secret.natural_person")]
    assert nested["row_label"] == "三、本年度办理结果 · （三）不予公开 · 1.属于国家秘密"
    # CSV has no null: a blank cell is an empty field (no stored value is the empty text).
    from_csv = [
        {k: (int(v) if k == "year" else v or None if k == "value" else v) for k, v in r.items() if k in DUMP_COLUMNS}
        for r in rows
    ]
    lines = (tmp_path / "cells.jsonl").read_text(encoding="utf-8").splitlines()
    from_jsonl = [json.loads(line) for line in lines]
    assert from_csv == expected
    assert from_jsonl == expected
    [zhuzhen] = [r for r in from_jsonl if (r["agency"], r["key"]) == ("竹镇镇", "proactive.procurement.amount")]
    assert zhuzhen["value"] == "6212.4"
    assert {r["agency"] for r in from_jsonl} == {"竹镇镇", "洛碛镇", "隆德县联财镇", "凤岗镇", "后河镇"}


def test_parquet_dump_reads_back_to_the_stores_cells(db: str, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    dump(db, tmp_path / "cells.parquet", "parquet")
    table = pq.read_table(tmp_path / "cells.parquet")
    assert table.column_names == ["agency", "year", "format", "key", "value"]
    assert str(table.schema.field("year").type) == "int64"
    assert table.to_pylist() == stored_cells(db)


def test_parquet_dump_without_pyarrow_says_how_to_install_it(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes `import pyarrow` fail, as on an install without the parquet extra.
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = runner.invoke(
        app, ["store", "dump", "--format", "parquet", "-o", str(out_dir / "cells.parquet"), "--store", db]
    )
    assert result.exit_code == 2
    assert "pip install 'nianbao[parquet]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert list(out_dir.iterdir()) == []


def test_an_empty_store_dumps_the_columns_and_no_row(new_store: str, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    with open_store(new_store):
        pass
    for fmt in ("csv", "jsonl", "parquet"):
        result = runner.invoke(
            app, ["store", "dump", "--format", fmt, "-o", str(tmp_path / f"c.{fmt}"), "--store", new_store]
        )
        assert result.exit_code == 0 and result.stdout.startswith("wrote 0 rows"), result.output
    [header] = (tmp_path / "c.csv").read_text(encoding="utf-8-sig").splitlines()
    assert header.startswith("agency,year,format,key,value")
    assert (tmp_path / "c.jsonl").read_text(encoding="utf-8") == ""
    table = pq.read_table(tmp_path / "c.parquet")
    assert (table.num_rows, table.column_names) == (0, ["agency", "year", "format", "key", "value"])


def test_dump_refuses_to_overwrite_and_unknown_formats(db: str, tmp_path: Path) -> None:
    out = tmp_path / "cells.csv"
    out.write_text("keep me", encoding="utf-8")
    result = runner.invoke(app, ["store", "dump", "--format", "csv", "-o", str(out), "--store", db])
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert out.read_text(encoding="utf-8") == "keep me"
    result = runner.invoke(app, ["store", "dump", "--format", "xml", "-o", str(tmp_path / "c.xml"), "--store", db])
    assert result.exit_code == 2 and "unknown dump format" in result.stderr


def test_csv_dump_neutralises_formula_looking_text(new_store: str, tmp_path: Path) -> None:
    db = new_store
    record = read_report(ZHUZHEN)
    record.agency = '=HYPERLINK("http://evil.example","x")'
    with open_store(db) as store:
        add(store, record)
        store.dump(tmp_path / "cells.csv", "csv")
        store.dump(tmp_path / "cells.jsonl", "jsonl")
    text = (tmp_path / "cells.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    # Only the CSV (for spreadsheets) is neutralised; the JSON lines keep the data as it is.
    assert '"agency":"=HYPERLINK' in (tmp_path / "cells.jsonl").read_text(encoding="utf-8")
    assert neutralise("-3") == "-3" and neutralise("@SUM(A1)") == "'@SUM(A1)" and neutralise("+1+1") == "'+1+1"
    assert neutralise("-Infinity") == "'-Infinity" and neutralise("竹镇镇") == "竹镇镇"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE revisions SET author = 'mallory'",
        "DELETE FROM revisions",
        "UPDATE cells SET value = '999'",
        "DELETE FROM cells",
        "DELETE FROM reports",
    ],
)
def test_triggers_refuse_changing_history(db: str, statement: str) -> None:
    before = raw_counts(db)
    with pytest.raises(Exception, match=r"never|append-only"):
        raw_query(db, statement)
    assert raw_counts(db) == before
    with open_store(db) as store:
        assert store.get("竹镇镇", 2019)[1].author == "loader"


def test_an_error_in_the_middle_of_add_leaves_the_store_unchanged(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []

    def broken(self: Store, revision_id: int, record: Record) -> None:
        # The revision row is in by now; the failure must take it (and a new report row) back out.
        query = f"SELECT COUNT(*) FROM revisions WHERE id = {int(revision_id)}"
        seen.append(self.conn.execute(query).fetchone()[0])  # type: ignore[attr-defined]
        raise RuntimeError("disk on fire")

    new_report = read_report(ZHUZHEN)
    new_report.agency = "新的镇"
    new_revision = read_report(ZHUZHEN)
    new_revision.cells["requests.new_received.natural_person"] = 9
    before = raw_counts(db)
    with open_store(db) as store:
        monkeypatch.setattr(type(store), "_insert_cells", broken)
        for record in (new_report, new_revision):
            with pytest.raises(RuntimeError):
                add(store, record)
    assert seen == [1, 1]
    assert raw_counts(db) == before
    with open_store(db) as store:
        assert store.find("新的镇", 2019) is None
        assert store.get("竹镇镇", 2019)[1].latest == 1


def _die_in_the_middle(db: str) -> None:
    """Add a revision, but the process dies after the revision row is written (as if killed)."""

    def die(self: Store, revision_id: int, record: Record) -> None:
        os._exit(3)

    record = read_report(ZHUZHEN)
    record.cells["requests.new_received.natural_person"] = 9
    with open_store(db) as store:
        type(store)._insert_cells = die  # type: ignore[attr-defined]
        add(store, record)


def test_a_process_killed_mid_write_leaves_the_store_as_it_was(db: str) -> None:
    before = raw_counts(db)
    proc = multiprocessing.get_context("spawn").Process(target=_die_in_the_middle, args=(db,))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 3
    assert raw_counts(db) == before
    with open_store(db) as store:
        assert store.get("竹镇镇", 2019)[0].cells["requests.new_received.natural_person"] == 1


def test_show_prints_values_and_json(db: str) -> None:
    result = runner.invoke(app, ["store", "show", "竹镇镇", "2019", "--store", db])
    assert result.exit_code == 0, result.output
    assert "revision 1 of 1" in result.stdout and "6212.4" in result.stdout
    result = runner.invoke(app, ["store", "show", "竹镇镇", "2019", "--json", "--store", db])
    data = json.loads(result.stdout)
    assert data["revision"]["number"] == 1
    assert data["record"]["cells"]["proactive.procurement.amount"] == 6212.4


def test_add_reports_unreadable_inputs_and_keeps_going(new_store: str, tmp_path: Path) -> None:
    bad = tmp_path / "minutes.txt"
    bad.write_text("会议纪要\n今天开会。\n", encoding="utf-8")
    db = new_store
    result = runner.invoke(app, ["store", "add", str(bad), str(ZHUZHEN), "--store", db, "--author", "me"])
    assert result.exit_code == 1
    assert "minutes.txt" in result.stderr
    assert "竹镇镇 2019 revision 1 (new record)" in result.stdout
    assert counts(db) == (1, 1)


def test_add_refuses_a_workbook_exported_from_the_store(db: str, tmp_path: Path) -> None:
    book = tmp_path / "z.xlsx"
    with open_store(db) as store:
        store.export("竹镇镇", 2019, book)
        [(_, outcome)] = list(add_files(store, [book], author="me"))
    assert isinstance(outcome, UsageError) and "reconcile" in str(outcome)


def test_export_refuses_to_overwrite(db: str, tmp_path: Path) -> None:
    book = tmp_path / "z.xlsx"
    args = ["store", "export", "竹镇镇", "2019", "-o", str(book), "--store", db]
    assert runner.invoke(app, args).exit_code == 0
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0


def test_add_writes_only_if_the_store_still_holds_what_the_caller_saw(db: str) -> None:
    # Issue #18: the conflict decision is taken inside the write transaction (expect_latest), on every backend.
    from convert.errors import ConflictError

    changed = read_report(ZHUZHEN)
    changed.cells["requests.new_received.natural_person"] = 9
    with open_store(db) as store:
        with pytest.raises(ConflictError) as new:
            store.add(changed, author="a", reason=None, source_name="x", sha256=None, expect_latest=0)
        assert (new.value.code, new.value.fields["latest"]) == ("store-added-meanwhile", 1)
        with pytest.raises(ConflictError) as stale:
            store.add(changed, author="a", reason=None, source_name="x", sha256=None, expect_latest=2)
        assert (stale.value.code, stale.value.fields["expected"], stale.value.fields["latest"]) == (
            "store-changed-meanwhile",
            2,
            1,
        )
        assert store.get("竹镇镇", 2019)[1].latest == 1
        done = store.add(changed, author="a", reason=None, source_name="x", sha256=None, expect_latest=1)
        assert (done.status, done.revision) == ("new-revision", 2)
        fresh = read_report(ZHUZHEN)
        fresh.agency = "新设镇"
        assert store.add(fresh, author="a", reason=None, source_name="x", sha256=None, expect_latest=0).revision == 1
        # Without expect_latest nothing is checked: `store add` appends whatever the store holds.
        changed.cells["requests.new_received.natural_person"] = 10
        assert store.add(changed, author="a", reason=None, source_name="x", sha256=None).revision == 3


def test_add_goes_on_after_an_unexpected_error_in_one_input(
    new_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue #18: one input's unexpected failure (a bug, a crash of a library) is its own error line; the rest go on.
    import convert.reader

    real = convert.reader.read_report

    def read_or_crash(path: str | Path) -> Record:
        if Path(path).name == "luoqi-2019.txt":
            raise ZeroDivisionError("a bug met on this input")
        return real(path)

    monkeypatch.setattr(convert.reader, "read_report", read_or_crash)
    inputs = [str(SAMPLES / "luoqi-2019.txt"), str(ZHUZHEN)]
    result = runner.invoke(app, ["store", "add", *inputs, "--store", new_store, "--author", "me"])
    assert result.exit_code == 1
    [line] = [line for line in result.stderr.splitlines() if "luoqi-2019.txt" in line]
    assert "ZeroDivisionError" in line and "--debug" in line
    assert "Traceback" not in result.output
    assert "竹镇镇 2019 revision 1 (new record)" in result.stdout
    assert counts(new_store) == (1, 1)
    result = runner.invoke(app, ["--debug", "store", "add", *inputs, "--store", new_store, "--author", "me"])
    assert isinstance(result.exception, ZeroDivisionError)
