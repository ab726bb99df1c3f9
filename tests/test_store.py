"""The records store: revisions, identical adds, history, dumps, append-only triggers, atomic writes."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from convert.cli import app
from convert.errors import StoreError, UsageError
from convert.reader import read_report
from convert.record import Record
from convert.store import SCHEMA_VERSION, Store, add_files, neutralise, open_store, store_path

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
ZHUZHEN = SAMPLES / "zhuzhen-2019.txt"


def counts(db: Path) -> tuple[int, int, int]:
    """Return the number of reports, revisions and cells, read with plain SQLite."""
    conn = sqlite3.connect(db)
    try:
        return tuple(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("reports", "revisions", "cells"))  # type: ignore[return-value]
    finally:
        conn.close()


def add(store: Store, record: Record, author: str = "tester") -> object:
    """Add a record with the bookkeeping a test does not care about."""
    return store.add(record, author=author, reason=None, source_name="x.txt", sha256=None)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Return a store path holding the five samples (revision 1 each)."""
    path = tmp_path / "nb.db"
    with open_store(path) as store:
        results = list(add_files(store, sorted(SAMPLES.glob("*.txt")), author="loader"))
    assert all(not isinstance(r, Exception) and r.status == "new-report" for _, r in results)
    return path


def test_store_path_explicit_then_env_then_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NIANBAO_STORE", raising=False)
    assert store_path(None) == tmp_path / "nianbao.db"
    monkeypatch.setenv("NIANBAO_STORE", str(tmp_path / "env.db"))
    assert store_path(None) == tmp_path / "env.db"
    assert store_path("given.db") == Path("given.db")


def test_schema_is_versioned_in_wal_mode(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
    reports, revisions, cells = counts(db)
    assert (reports, revisions) == (5, 5)
    assert cells > 5 * 100  # every cell of every revision, blanks included


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer"), open_store(path):
        pass


def test_not_a_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("just some text, not SQLite\n" * 100, encoding="utf-8")
    with pytest.raises(StoreError), open_store(path):
        pass


def test_reading_commands_do_not_create_a_store(tmp_path: Path) -> None:
    result = runner.invoke(app, ["store", "list", "--store", str(tmp_path / "none.db")])
    assert result.exit_code == 1
    assert "no store" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_identical_add_says_so_and_adds_nothing(db: Path) -> None:
    before = counts(db)
    result = runner.invoke(app, ["store", "add", str(ZHUZHEN), "--store", str(db)])
    assert result.exit_code == 0, result.output
    assert "identical to revision 1; nothing added" in result.stdout
    assert counts(db) == before


def test_changed_content_adds_a_revision_and_old_revisions_stay(db: Path) -> None:
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


def test_source_and_warnings_do_not_make_a_revision(db: Path) -> None:
    record = read_report(ZHUZHEN)
    record.source = {"path": "elsewhere.txt"}
    record.warn("year-guessed", {"year": 2019}, "year")
    with open_store(db) as store:
        assert add(store, record).status == "identical"  # type: ignore[attr-defined]
        record.title = "另一个标题"
        assert add(store, record).status == "new-revision"  # type: ignore[attr-defined]


def test_money_is_stored_exactly(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        value = conn.execute(
            "SELECT c.value FROM cells c JOIN revisions v ON v.id = c.revision_id JOIN reports r ON r.id = v.report_id"
            " WHERE r.agency = '竹镇镇' AND c.key = 'proactive.procurement.amount'"
        ).fetchone()[0]
    finally:
        conn.close()
    assert value == "6212.4"
    with open_store(db) as store:
        record, _ = store.get("竹镇镇", 2019)
    assert record.cells["proactive.procurement.amount"] == Decimal("6212.4")


def test_unknown_record_and_revision_are_store_errors(db: Path) -> None:
    with open_store(db) as store:
        with pytest.raises(StoreError, match="not in the store"):
            store.get("无此镇", 2019)
        with pytest.raises(StoreError, match="no revision 9"):
            store.get("竹镇镇", 2019, 9)
    result = runner.invoke(app, ["store", "show", "竹镇镇", "2019", "--revision", "9", "--store", str(db)])
    assert result.exit_code == 1
    assert "no revision 9" in result.stderr


def test_history_names_changed_cells(db: Path) -> None:
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
    result = runner.invoke(app, ["store", "history", "竹镇镇", "2019", "--json", "--store", str(db)])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [e["author"] for e in data] == ["loader", "王五"]


def test_list_filters_by_year(db: Path) -> None:
    result = runner.invoke(app, ["store", "list", "--year", "2019", "--json", "--store", str(db)])
    assert result.exit_code == 0
    assert sorted(r["agency"] for r in json.loads(result.stdout)) == sorted(["竹镇镇", "洛碛镇", "隆德县联财镇"])
    result = runner.invoke(app, ["store", "list", "--store", str(db)])
    assert result.exit_code == 0 and "后河镇" in result.stdout and "5 report(s)" in result.stdout


def test_dump_formats_read_back_to_the_same_long_table(db: Path, tmp_path: Path) -> None:
    frames = {}
    for fmt in ("csv", "jsonl", "parquet"):
        out = tmp_path / f"cells.{fmt}"
        result = runner.invoke(app, ["store", "dump", "--format", fmt, "-o", str(out), "--store", str(db)])
        assert result.exit_code == 0, result.output
        if fmt == "csv":
            frame = pd.read_csv(
                out, dtype={"agency": str, "format": str, "key": str, "value": str}, encoding="utf-8-sig"
            )
        elif fmt == "jsonl":
            frame = pd.read_json(out, lines=True, dtype={"agency": str, "format": str, "key": str, "value": str})
        else:
            frame = pd.read_parquet(out)
        frame = frame.astype(object).where(frame.notna(), None)
        frame["year"] = frame["year"].astype(int)
        frames[fmt] = frame.reset_index(drop=True)
    assert list(frames["csv"].columns) == ["agency", "year", "format", "key", "value"]
    pd.testing.assert_frame_equal(frames["csv"], frames["jsonl"])
    pd.testing.assert_frame_equal(frames["csv"], frames["parquet"])
    table = frames["parquet"]
    row = table[(table.agency == "竹镇镇") & (table.key == "proactive.procurement.amount")]
    assert row.value.tolist() == ["6212.4"]
    assert table[(table.agency == "竹镇镇") & (table.key == "requests.new_received.commercial")].value.tolist() == [
        None
    ]
    assert set(table.agency) == {"竹镇镇", "洛碛镇", "隆德县联财镇", "凤岗镇", "后河镇"}


def test_dump_refuses_to_overwrite_and_unknown_formats(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "cells.csv"
    out.write_text("keep me", encoding="utf-8")
    result = runner.invoke(app, ["store", "dump", "--format", "csv", "-o", str(out), "--store", str(db)])
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert out.read_text(encoding="utf-8") == "keep me"
    result = runner.invoke(app, ["store", "dump", "--format", "xml", "-o", str(tmp_path / "c.xml"), "--store", str(db)])
    assert result.exit_code == 2 and "unknown dump format" in result.stderr


def test_csv_dump_neutralises_formula_looking_text(tmp_path: Path) -> None:
    db = tmp_path / "nb.db"
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
def test_triggers_refuse_changing_history(db: Path, statement: str) -> None:
    before = counts(db)
    conn = sqlite3.connect(db)
    try:
        with pytest.raises(sqlite3.DatabaseError, match=r"never|append-only"):
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()
    assert counts(db) == before
    with open_store(db) as store:
        assert store.get("竹镇镇", 2019)[1].author == "loader"


def test_an_error_in_the_middle_of_add_leaves_the_store_unchanged(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = []

    def broken(self: Store, revision_id: int, record: Record) -> None:
        # The revision row is in by now; the failure must take it (and a new report row) back out.
        seen.append(self.conn.execute("SELECT COUNT(*) FROM revisions WHERE id = ?", (revision_id,)).fetchone()[0])
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Store, "_insert_cells", broken)
    new_report = read_report(ZHUZHEN)
    new_report.agency = "新的镇"
    new_revision = read_report(ZHUZHEN)
    new_revision.cells["requests.new_received.natural_person"] = 9
    before = counts(db)
    with open_store(db) as store:
        for record in (new_report, new_revision):
            with pytest.raises(RuntimeError):
                add(store, record)
    assert seen == [1, 1]
    assert counts(db) == before
    with open_store(db) as store:
        assert store.find("新的镇", 2019) is None
        assert store.get("竹镇镇", 2019)[1].latest == 1


def _die_in_the_middle(db: str) -> None:
    """Add a revision, but the process dies after the revision row is written (as if killed)."""

    def die(self: Store, revision_id: int, record: Record) -> None:
        os._exit(3)

    Store._insert_cells = die  # type: ignore[method-assign]
    record = read_report(ZHUZHEN)
    record.cells["requests.new_received.natural_person"] = 9
    with open_store(db) as store:
        add(store, record)


def test_a_process_killed_mid_write_leaves_the_store_as_it_was(db: Path) -> None:
    before = counts(db)
    proc = multiprocessing.get_context("spawn").Process(target=_die_in_the_middle, args=(str(db),))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 3
    assert counts(db) == before
    with open_store(db) as store:
        assert store.get("竹镇镇", 2019)[0].cells["requests.new_received.natural_person"] == 1


def test_show_prints_values_and_json(db: Path) -> None:
    result = runner.invoke(app, ["store", "show", "竹镇镇", "2019", "--store", str(db)])
    assert result.exit_code == 0, result.output
    assert "revision 1 of 1" in result.stdout and "6212.4" in result.stdout
    result = runner.invoke(app, ["store", "show", "竹镇镇", "2019", "--json", "--store", str(db)])
    data = json.loads(result.stdout)
    assert data["revision"]["number"] == 1
    assert data["record"]["cells"]["proactive.procurement.amount"] == 6212.4


def test_add_reports_unreadable_inputs_and_keeps_going(tmp_path: Path) -> None:
    bad = tmp_path / "minutes.txt"
    bad.write_text("会议纪要\n今天开会。\n", encoding="utf-8")
    db = tmp_path / "nb.db"
    result = runner.invoke(app, ["store", "add", str(bad), str(ZHUZHEN), "--store", str(db), "--author", "me"])
    assert result.exit_code == 1
    assert "minutes.txt" in result.stderr
    assert "竹镇镇 2019 revision 1 (new record)" in result.stdout
    assert counts(db)[:2] == (1, 1)


def test_add_refuses_a_workbook_exported_from_the_store(db: Path, tmp_path: Path) -> None:
    book = tmp_path / "z.xlsx"
    with open_store(db) as store:
        store.export("竹镇镇", 2019, book)
        [(_, outcome)] = list(add_files(store, [book], author="me"))
    assert isinstance(outcome, UsageError) and "reconcile" in str(outcome)


def test_export_refuses_to_overwrite(db: Path, tmp_path: Path) -> None:
    book = tmp_path / "z.xlsx"
    args = ["store", "export", "竹镇镇", "2019", "-o", str(book), "--store", str(db)]
    assert runner.invoke(app, args).exit_code == 0
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0
