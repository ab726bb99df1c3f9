"""Never lose, corrupt or double anything (issue #18): outputs never replace an input, the store or a device."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convert.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
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
