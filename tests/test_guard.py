"""Never lose, corrupt or double anything (issue #18): outputs, foreign stores, reruns, long texts, permissions."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from convert.cli import app
from convert.outputs.standard import write_workbook
from convert.outputs.xlsxfast import MAX_CELL_TEXT, cell_chunks
from convert.readback import read_workbook
from convert.reader import read_report
from convert.record import Record
from convert.store.sqlite import APPLICATION_ID

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
# A merge of the 2019 samples exits 1: zhuzhen and liancai are 待核 (blank cells, a missing section).
MERGED = 1
SAMPLES = ROOT / "samples"
ZHUZHEN = SAMPLES / "zhuzhen-2019.txt"


def run(*args: str | Path) -> object:
    """Run nianbao with these arguments (one worker, so the test sees every line)."""
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """Return a store holding the five samples."""
    db = tmp_path / "nb.db"
    result = run("store", "add", SAMPLES, "--store", db, "--author", "tester")
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """Return a converted workbook of 竹镇镇 2019."""
    out = tmp_path / "zhuzhen.xlsx"
    result = run("convert", ZHUZHEN, "-o", out, "--jobs", "1")
    assert result.exit_code == 0, result.output
    return out


def revisions(db: Path) -> int:
    """Return how many revisions the store file holds, read with plain SQLite."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT COUNT(*) FROM revisions").fetchone()[0]
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# 1. An output is never the store, an input of the command, or an existing non-regular file.


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal"])
def test_a_dump_over_the_store_is_refused(store: Path, suffix: str) -> None:
    target = Path(f"{store}{suffix}")
    existed = target.exists()
    result = run("store", "dump", "--format", "csv", "-o", target, "--store", store, "--force")
    assert result.exit_code == 2, result.output
    assert str(target) in result.stderr and "仓库" in result.stderr
    assert revisions(store) == 5
    assert target.exists() == existed


def test_a_dump_over_a_hard_link_or_symlink_to_the_store_is_refused(store: Path, tmp_path: Path) -> None:
    hard, soft = tmp_path / "hard.csv", tmp_path / "soft.csv"
    os.link(store, hard)
    soft.symlink_to(store)
    for target in (hard, soft):
        result = run("store", "dump", "--format", "jsonl", "-o", target, "--store", store, "--force")
        assert result.exit_code == 2, result.output
    assert revisions(store) == 5 and soft.is_symlink()


def test_an_export_over_the_store_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "store.xlsx"  # a store may be named anything
    assert run("store", "add", ZHUZHEN, "--store", db).exit_code == 0
    result = run("store", "export", "竹镇镇", "2019", "-o", db, "--store", db, "--force")
    assert result.exit_code == 2, result.output
    assert revisions(db) == 1


def test_convert_never_replaces_its_own_input(book: Path) -> None:
    before = book.read_bytes()
    result = run("convert", book, "-o", book, "--force", "--jobs", "1")
    assert result.exit_code == 2, result.output
    assert "输入" in result.stderr
    assert book.read_bytes() == before


def test_convert_never_replaces_an_input_through_a_hard_link(book: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.xlsx"
    os.link(book, link)
    before = book.read_bytes()
    result = run("convert", book, "-o", link, "--force", "--jobs", "1")
    assert result.exit_code == 2, result.output
    assert book.read_bytes() == before and os.path.samefile(book, link)


def test_convert_of_a_batch_refuses_only_the_output_that_is_an_input(tmp_path: Path, book: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "zhuzhen.txt").write_bytes(ZHUZHEN.read_bytes())
    (folder / "luoqi.txt").write_bytes((SAMPLES / "luoqi-2019.txt").read_bytes())
    # The workbook given by name would be written to in/zhuzhen.xlsx ... and in/zhuzhen.xlsx is the input.
    (folder / "zhuzhen.xlsx").write_bytes(book.read_bytes())
    before = (folder / "zhuzhen.xlsx").read_bytes()
    result = run("convert", folder / "zhuzhen.xlsx", folder / "luoqi.txt", "-o", folder, "--force", "--jobs", "2")
    assert result.exit_code == 2, result.output
    assert (folder / "zhuzhen.xlsx").read_bytes() == before
    assert (folder / "luoqi.xlsx").exists()


def test_merge_never_replaces_its_own_input(book: Path, tmp_path: Path) -> None:
    other = tmp_path / "luoqi.xlsx"
    assert run("convert", SAMPLES / "luoqi-2019.txt", "-o", other, "--jobs", "1").exit_code == 0
    before = book.read_bytes()
    result = run("merge", book, other, "-o", book, "--force", "--jobs", "1")
    assert result.exit_code == 2, result.output
    assert book.read_bytes() == before


def test_annotate_never_replaces_the_workbook_checked_or_the_previous_year(book: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.xlsx"
    os.link(book, link)
    before = book.read_bytes()
    for args in (["--annotate", link], ["--previous", book, "--annotate", book]):
        result = run("check", book, *args, "--force", "--jobs", "1")
        assert result.exit_code == 2, result.output
    prev = tmp_path / "prev.xlsx"
    prev.write_bytes(before)
    result = run("check", book, "--previous", prev, "--annotate", prev, "--force", "--jobs", "1")
    assert result.exit_code == 2, result.output
    assert book.read_bytes() == before and prev.read_bytes() == before


def test_an_existing_fifo_is_never_replaced(tmp_path: Path, store: Path) -> None:
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    for args in (
        ["convert", ZHUZHEN, "-o", fifo, "--jobs", "1"],
        ["store", "export", "竹镇镇", "2019", "-o", fifo, "--store", store],
        ["store", "dump", "--format", "csv", "-o", fifo, "--store", store],
        ["merge", SAMPLES, "-o", fifo, "--jobs", "1"],
    ):
        result = run(*args, "--force")
        assert result.exit_code == 2, (args, result.output)
        assert "不是普通文件" in result.stderr, result.stderr
        assert fifo.is_fifo()


def test_the_refusals_speak_english_too(book: Path, english: None) -> None:
    result = run("convert", book, "-o", book, "--force", "--jobs", "1")
    assert result.exit_code == 2 and "is an input of this command" in result.stderr, result.stderr


# ---------------------------------------------------------------------------------------------
# 2. Only our own stores are opened: marked with PRAGMA application_id; read-only commands change nothing.


def foreign_database(path: Path) -> bytes:
    """Make another program's SQLite database (rollback journal, a table of its own); return its bytes."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('keep me')")
    conn.commit()
    conn.close()
    return path.read_bytes()


def pragma(db: Path, name: str) -> object:
    """Return a PRAGMA's value, read with plain SQLite."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def every_store_command(db: Path, tmp_path: Path, book: Path) -> list[list[str | Path]]:
    """Return one call of every command that opens a store, reading or writing."""
    return [
        ["store", "list", "--store", db],
        ["store", "show", "竹镇镇", "2019", "--store", db],
        ["store", "history", "竹镇镇", "2019", "--store", db],
        ["store", "export", "竹镇镇", "2019", "-o", tmp_path / "e.xlsx", "--store", db],
        ["store", "dump", "--format", "csv", "-o", tmp_path / "d.csv", "--store", db],
        ["merge", "--store", db, "--year", "2019", "-o", tmp_path / "m.xlsx"],
        ["reconcile", book, "--store", db],
        ["reconcile", book, "--store", db, "--apply", "--add", "--author", "me"],
        ["store", "add", ZHUZHEN, "--store", db],
    ]


def test_a_foreign_database_is_refused_and_left_unchanged(tmp_path: Path, book: Path) -> None:
    db = tmp_path / "other.db"
    before = foreign_database(db)
    for args in every_store_command(db, tmp_path, book):
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "不是 nianbao 仓库" in result.stderr, (args, result.stderr)
        assert db.read_bytes() == before, args
        assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db", "zhuzhen.xlsx"], args
    assert pragma(db, "journal_mode") == "delete"


def test_a_file_that_is_no_database_is_refused_and_left_unchanged(tmp_path: Path, book: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_text("my notes, not a database\n" * 200, encoding="utf-8")
    before = db.read_bytes()
    for args in every_store_command(db, tmp_path, book):
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert db.read_bytes() == before, args


def test_reading_commands_never_create_a_store(tmp_path: Path, book: Path) -> None:
    db = tmp_path / "typo.db"
    for args in every_store_command(db, tmp_path, book)[:7]:
        result = run(*args)
        assert result.exit_code == 1, (args, result.output)
        assert not db.exists(), args
    empty = tmp_path / "empty.db"
    empty.touch()
    assert run("store", "list", "--store", empty).exit_code == 1
    assert run("merge", "--store", empty, "--year", "2019", "-o", tmp_path / "m.xlsx").exit_code == 1
    assert empty.stat().st_size == 0 and not (tmp_path / "m.xlsx").exists()
    # An empty file is a store to start: a writing command makes it one.
    assert run("store", "add", ZHUZHEN, "--store", empty).exit_code == 0
    assert pragma(empty, "application_id") == APPLICATION_ID


def test_our_stores_are_marked(store: Path) -> None:
    assert pragma(store, "application_id") == APPLICATION_ID


def test_a_store_made_before_the_mark_still_opens_and_is_marked_when_written(store: Path, tmp_path: Path) -> None:
    conn = sqlite3.connect(store)
    conn.execute("PRAGMA application_id = 0")  # what nianbao wrote before issue #18
    conn.close()
    result = run("store", "list", "--store", store)
    assert result.exit_code == 0 and "5 report(s)" in result.stdout
    for args in (
        ["store", "show", "竹镇镇", "2019", "--store", store],
        ["store", "dump", "--format", "csv", "-o", tmp_path / "d.csv", "--store", store],
        ["merge", "--store", store, "--year", "2019", "-o", tmp_path / "m.xlsx"],
    ):
        # merge exits 1: zhuzhen and liancai are 待核; what matters here is that it ran on the store.
        assert run(*args).exit_code == (1 if args[0] == "merge" else 0), args
    assert pragma(store, "application_id") == 0  # reading marks nothing
    assert run("store", "add", SAMPLES / "luoqi-2019.txt", "--store", store).exit_code == 0
    assert pragma(store, "application_id") == APPLICATION_ID


def test_reconcile_apply_writes_through_a_store_opened_for_reading(store: Path, tmp_path: Path) -> None:
    import openpyxl

    book = tmp_path / "z.xlsx"
    assert run("store", "export", "竹镇镇", "2019", "-o", book, "--store", store).exit_code == 0
    wb = openpyxl.load_workbook(book)
    for name in ("requests_carried_over_natural_person", "requests_carried_forward_natural_person"):
        [(sheet, ref)] = list(wb.defined_names[name].destinations)
        wb[sheet][ref.replace("$", "")].value = 1
    wb.save(book)
    conn = sqlite3.connect(store)
    conn.execute("PRAGMA application_id = 0")  # made before issue #18
    conn.close()
    assert run("reconcile", book, "--store", store).exit_code == 0
    assert pragma(store, "application_id") == 0 and revisions(store) == 5  # a dry run writes nothing
    result = run("reconcile", book, "--store", store, "--apply", "--author", "me")
    assert result.exit_code == 0, result.output
    assert revisions(store) == 6 and pragma(store, "application_id") == APPLICATION_ID


# ---------------------------------------------------------------------------------------------
# 3. A rerun never doubles anything: a summary is never a report, an output is never an input.


def total(book: Path) -> int:
    """Return 三's new applications total (requests.new_received.total) as nianbao reads the workbook."""
    import json

    result = run("read", book)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["cells"]["requests.new_received.total"]


@pytest.fixture
def books(tmp_path: Path) -> Path:
    """Return a folder of the five samples converted to workbooks."""
    folder = tmp_path / "books"
    result = run("convert", SAMPLES, "-o", folder, "--jobs", "1")
    assert result.exit_code == 0, result.output
    return folder


def test_merging_again_into_the_same_folder_does_not_double_the_totals(books: Path) -> None:
    summary = books / "summary.xlsx"
    first = run("merge", books, "-o", summary, "--year", "2019", "--jobs", "1")
    assert first.exit_code == MERGED, first.output
    once = total(summary)
    again = run("merge", books, "-o", summary, "--year", "2019", "--force", "--jobs", "1")
    assert again.exit_code == MERGED, again.output
    assert "merged 3 report(s)" in again.stdout
    assert total(summary) == once
    assert f"Skipped: {summary}: " in again.stderr


def test_a_summary_is_never_merged_as_a_report(books: Path, tmp_path: Path) -> None:
    summary = tmp_path / "s.xlsx"
    assert run("merge", books, "-o", summary, "--year", "2019", "--jobs", "1").exit_code == MERGED
    copy = books / "old-summary.xlsx"
    copy.write_bytes(summary.read_bytes())
    for args in ([books], [copy, *sorted(books.glob("*-2019.xlsx"))]):
        result = run("merge", *args, "-o", tmp_path / "again.xlsx", "--year", "2019", "--force", "--jobs", "2")
        assert result.exit_code == MERGED, result.output
        assert "merged 3 report(s)" in result.stdout
        assert f"Skipped: {copy}: " in result.stderr and "汇总" in result.stderr
        assert total(tmp_path / "again.xlsx") == total(summary)


def test_a_summary_is_never_stored_as_a_report(books: Path, tmp_path: Path) -> None:
    summary = tmp_path / "s.xlsx"
    assert run("merge", books, "-o", summary, "--jobs", "1").exit_code == MERGED
    db = tmp_path / "nb.db"
    result = run("store", "add", summary, "--store", db)
    assert result.exit_code == 0, result.output
    assert f"Skipped: {summary}: " in result.stderr
    assert "0 report(s)" in run("store", "list", "--store", db).stdout  # nothing was stored
    assert run("store", "add", ZHUZHEN, "--store", db).exit_code == 0
    result = run("reconcile", summary, "--store", db, "--apply", "--add", "--author", "me")
    assert result.exit_code == 1, result.output
    assert revisions(db) == 1


def test_a_summary_converted_again_is_still_a_summary(books: Path, tmp_path: Path) -> None:
    summary = tmp_path / "s.xlsx"
    assert run("merge", books, "-o", summary, "--year", "2019", "--jobs", "1").exit_code == MERGED
    standard = tmp_path / "again" / "standard.xlsx"
    standard.parent.mkdir()
    assert run("convert", summary, "-o", standard, "--jobs", "1").exit_code == 0
    result = run("merge", standard, *sorted(books.glob("*-2019.xlsx")), "-o", tmp_path / "m.xlsx", "--jobs", "1")
    assert result.exit_code == MERGED and "merged 3 report(s)" in result.stdout, result.output


def test_read_and_check_of_a_summary_still_give_its_totals(books: Path, tmp_path: Path) -> None:
    summary = tmp_path / "s.xlsx"
    assert run("merge", books, "-o", summary, "--year", "2019", "--jobs", "1").exit_code == MERGED
    parts = sum(total(b) for b in sorted(books.glob("*-2019.xlsx")))
    assert total(summary) == parts
    result = run("check", summary, "--json")
    assert result.exit_code == 0, result.output


def test_converting_a_folder_into_a_folder_inside_it_twice_reads_no_output(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    for sample in sorted(SAMPLES.glob("*.txt"))[:2]:
        (folder / sample.name).write_bytes(sample.read_bytes())
    out = folder / "out"
    first = run("convert", folder, "-o", out, "--jobs", "1")
    assert first.exit_code == 0, first.output
    made = sorted(p.name for p in out.iterdir())
    again = run("convert", folder, "-o", out, "--force", "--jobs", "1")
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in out.iterdir()) == made  # no out/x-xlsx.xlsx from reading out/x.xlsx
    assert "converted 2 inputs" in again.stderr
    assert f"Skipped: {out}: " in again.stderr


def test_converting_a_folder_into_itself_twice_reads_no_output(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    for sample in sorted(SAMPLES.glob("*.txt"))[:2]:
        (folder / sample.name).write_bytes(sample.read_bytes())
    assert run("convert", folder, "-o", folder, "--jobs", "1").exit_code == 0
    made = sorted(p.name for p in folder.iterdir())
    again = run("convert", folder, "-o", folder, "--force", "--jobs", "1")
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in folder.iterdir()) == made
    assert again.stderr.count("Skipped: ") == 2


# ---------------------------------------------------------------------------------------------
# 5. A text longer than a cell holds (32,767 characters) goes over several rows and is joined on reading.


LONG = "一是" + ("坚持公开透明，便民服务，" * 9000)[:99_990] + "。"  # 100,000 characters


def long_report(folder: Path) -> Path:
    """Return 竹镇镇 2019 with its first overview paragraph 100,000 characters long."""
    lines = ZHUZHEN.read_text(encoding="utf-8").split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("一是充分保障"))
    lines[at] = LONG
    path = folder / "long.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def every_cell_fits(book: Path) -> None:
    """Assert that no cell of the workbook holds more than Excel's limit."""
    import openpyxl

    wb = openpyxl.load_workbook(book)
    longest = max(len(str(c.value)) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None)
    assert longest <= MAX_CELL_TEXT


def test_a_100000_character_paragraph_converts_and_reads_back_exactly(tmp_path: Path) -> None:
    report = long_report(tmp_path)
    record = read_report(report)
    assert LONG in record.text["overview"]
    out = tmp_path / "long.xlsx"
    result = run("convert", report, "-o", out, "--jobs", "1")
    assert result.exit_code == 0, result.output
    every_cell_fits(out)
    back = read_workbook(out)
    assert back.text == record.text and back.cells == record.cells
    result = run("check", out)
    assert result.exit_code == 0, result.output


def test_a_100000_character_paragraph_goes_through_the_store(tmp_path: Path) -> None:
    report = long_report(tmp_path)
    db = tmp_path / "nb.db"
    assert run("store", "add", report, "--store", db).exit_code == 0
    book = tmp_path / "export.xlsx"
    result = run("store", "export", "竹镇镇", "2019", "-o", book, "--store", db)
    assert result.exit_code == 0, result.output
    every_cell_fits(book)
    result = run("reconcile", book, "--store", db, "--json")
    assert result.exit_code == 0, result.output
    assert '"status": "nothing-to-apply"' in result.stdout
    result = run("reconcile", book, "--store", db, "--apply", "--author", "me")
    assert result.exit_code == 0 and revisions(db) == 1, result.output
    # Edit another cell: the long paragraph is stored again as it was, in one piece.
    import openpyxl

    wb = openpyxl.load_workbook(book)
    for name in ("requests_carried_over_natural_person", "requests_carried_forward_natural_person"):
        [(sheet, ref)] = list(wb.defined_names[name].destinations)
        wb[sheet][ref.replace("$", "")].value = 1
    wb.save(book)
    result = run("reconcile", book, "--store", db, "--apply", "--author", "me")
    assert result.exit_code == 0 and revisions(db) == 2, result.output
    import json

    shown = json.loads(run("store", "show", "竹镇镇", "2019", "--store", db, "--json").stdout)
    assert LONG in shown["record"]["text"]["overview"]
    assert shown["record"]["text"] == read_report(report).text


def test_long_notes_unplaced_rows_and_warnings_read_back_exactly(tmp_path: Path) -> None:
    record = read_report(ZHUZHEN)
    key = next(iter(record.cells))
    record.notes = {key: "注：" + "说明" * 40_000}
    record.extra = [{"table": "requests", "label": "未列明的行" * 10_000, "cells": ["1"] * 3, "line": 7}]
    record.warnings = []
    record.warn("unplaced-line", {"case": "text", "table": "requests", "texts": ["长" * 70_000]}, "line 9")
    out = write_workbook(record, tmp_path / "x.xlsx")
    every_cell_fits(out)
    back = read_workbook(out)
    assert back.notes == record.notes and back.extra == record.extra
    assert [w.message for w in back.warnings if w.code == "unplaced-line"] == [record.warnings[0].message]


# Characters of every width: CJK, ASCII, a character outside the BMP (a surrogate pair in UTF-16), a combining mark.
PIECES = st.sampled_from(["政", "a", " ", "𠀀", "é", "\u0301", "，", "1"])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lengths=st.lists(st.integers(0, 3 * MAX_CELL_TEXT + 5), min_size=1, max_size=3),
    pattern=st.lists(PIECES, min_size=1, max_size=8).map("".join),
)
def test_paragraphs_of_any_length_round_trip_through_a_workbook(
    tmp_path: Path, lengths: list[int], pattern: str
) -> None:
    paragraphs = [(pattern * (n // len(pattern) + 1))[:n].strip() or "x" for n in lengths]
    for para in paragraphs:
        chunks = cell_chunks(para)
        assert "".join(chunks) == para
        assert all(len(c.encode("utf-16-le")) <= 2 * MAX_CELL_TEXT for c in chunks)
    record = read_report(ZHUZHEN)
    record.text["overview"] = [*paragraphs, "after"]
    record.text["problems"] = list(reversed(paragraphs))
    out = write_workbook(record, tmp_path / "p.xlsx", force=True)
    back: Record = read_workbook(out)
    assert back.text["overview"] == record.text["overview"]
    assert back.text["problems"] == record.text["problems"]


# ---------------------------------------------------------------------------------------------
# 14. Outputs get ordinary permissions and keep those (and the owner) of the file they replace; a store on
# read-only media can be read; a suggested command line is quoted.


def every_output(tmp_path: Path, store: Path, book: Path) -> list[tuple[Path, list[str | Path]]]:
    """Return each kind of output with the command that writes it."""
    out = tmp_path / "outputs"
    out.mkdir(exist_ok=True)
    return [
        (out / "c.xlsx", ["convert", ZHUZHEN, "-o", out / "c.xlsx", "--jobs", "1"]),
        (out / "m.xlsx", ["merge", SAMPLES, "-o", out / "m.xlsx", "--jobs", "1"]),
        (out / "a.xlsx", ["check", book, "--annotate", out / "a.xlsx"]),
        (out / "e.xlsx", ["store", "export", "竹镇镇", "2019", "-o", out / "e.xlsx", "--store", store]),
        (out / "d.csv", ["store", "dump", "--format", "csv", "-o", out / "d.csv", "--store", store]),
        (out / "d.jsonl", ["store", "dump", "--format", "jsonl", "-o", out / "d.jsonl", "--store", store]),
    ]


def test_every_output_gets_the_permissions_of_any_new_file(tmp_path: Path, store: Path, book: Path) -> None:
    old = os.umask(0o002)
    try:
        for path, args in every_output(tmp_path, store, book):
            result = run(*args)
            # 1 is a 待核 or 不通过 verdict (merge, check of the samples): the output is written either way.
            assert result.exit_code in (0, 1), (args, result.output)
            assert stat.S_IMODE(path.stat().st_mode) == 0o664, args
    finally:
        os.umask(old)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_force_keeps_the_mode_and_owner_of_the_file_it_replaces(tmp_path: Path, store: Path, book: Path) -> None:
    for path, args in every_output(tmp_path, store, book):
        path.write_text("old", encoding="utf-8")
        path.chmod(0o640)
        os.chown(path, 65534, 65534)
        result = run(*args, "--force")
        assert result.exit_code in (0, 1), (args, result.output)  # 1: a 待核 verdict; written either way
        st = path.stat()
        assert path.read_bytes() != b"old", args
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, 65534, 65534), args


def test_force_keeps_the_group_a_user_may_give(tmp_path: Path, book: Path) -> None:
    groups = [g for g in os.getgroups() if g != os.getegid()] or ([65534] if os.geteuid() == 0 else [])
    if not groups:
        pytest.skip("the user belongs to no other group")
    path = tmp_path / "c.xlsx"
    path.write_text("old", encoding="utf-8")
    os.chown(path, -1, groups[0])
    result = run("convert", ZHUZHEN, "-o", path, "--force", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert path.stat().st_gid == groups[0]


def read_only_run(folder: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run nianbao with folder on read-only media: a read-only bind mount (root), else a folder without write rights."""
    command = [sys.executable, "-m", "convert", *map(str, args)]
    env = {**os.environ, "NIANBAO_LANG": "en"}
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
        finally:
            folder.chmod(0o755)
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("needs unshare to mount a folder read-only")
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
    done = subprocess.run(
        [unshare, "-m", "sh", "-c", script, "sh", str(folder), *command],
        capture_output=True, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    if "mount" in done.stderr and done.returncode != 0 and "Read-only" not in done.stderr:
        pytest.skip(f"cannot mount read-only here: {done.stderr.strip()}")
    return done


def test_a_store_on_read_only_media_can_be_read(store: Path, tmp_path: Path) -> None:
    media = store.parent
    before = store.read_bytes()
    result = read_only_run(media, "store", "list", "--store", store)
    assert result.returncode == 0, result.stderr
    assert "5 report(s)" in result.stdout
    out = tmp_path.parent / f"{tmp_path.name}-out.csv"
    try:
        result = read_only_run(media, "store", "dump", "--format", "csv", "-o", out, "--store", store)
        assert result.returncode == 0, result.stderr
    finally:
        out.unlink(missing_ok=True)
    result = read_only_run(media, "store", "add", SAMPLES / "luoqi-2019.txt", "--store", store)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert store.read_bytes() == before


def test_the_conflict_message_quotes_the_agency_for_the_shell(tmp_path: Path) -> None:
    import shlex

    agency = "竹镇镇 $(touch pwned) [x]"
    record = read_report(ZHUZHEN)
    record.agency = agency
    book = write_workbook(record, tmp_path / "b.xlsx")
    db = tmp_path / "nb.db"
    result = run("reconcile", book, "--store", db, "--apply", "--add", "--author", "me")
    assert result.exit_code == 0, result.output
    result = run("reconcile", book, "--store", db, "--apply", "--author", "me")  # not exported: a conflict
    assert result.exit_code == 1, result.output
    suggested = result.stderr.split("`")[1]
    words = shlex.split(suggested)
    assert words[:3] == ["nianbao", "store", "export"] and agency in words, suggested
    assert words[words.index(agency) + 1] == "2019"


def test_a_suggested_command_line_is_what_the_shell_reads() -> None:
    import shlex

    from convert.store.base import command_line

    for words in (
        ["nianbao", "store", "export", "竹镇镇", "2019"],
        ["a b", "$(x)", "it's", "[x]", "-", "\u3000", "a\nb"],
    ):
        assert shlex.split(command_line(*words)) == words
    assert command_line("nianbao", "store", "export", "竹镇镇", "2019") == "nianbao store export 竹镇镇 2019"


def test_an_agency_that_looks_like_an_option_is_suggested_after_double_dash(tmp_path: Path) -> None:
    import shlex

    record = read_report(ZHUZHEN)
    record.agency = "-x 镇"
    book = write_workbook(record, tmp_path / "b.xlsx")
    db = tmp_path / "nb.db"
    assert run("reconcile", book, "--store", db, "--apply", "--add", "--author", "me").exit_code == 0
    result = run("reconcile", book, "--store", db, "--apply", "--author", "me")
    words = shlex.split(result.stderr.split("`")[1])
    # Run as suggested (the export refuses nothing but the existing file): the agency is found.
    words[words.index("BOOK.xlsx")] = str(tmp_path / "again.xlsx")
    exported = run(*words[1:3], "--store", db, *words[3:])
    assert exported.exit_code == 0, (words, exported.output)
