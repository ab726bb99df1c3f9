"""Reconcile edited workbooks into the store: the diff, apply, conflicts, findings, force, concurrency."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from convert.cli import app
from convert.errors import ConflictError, StoreError, UsageError
from convert.outputs.standard import write_workbook
from convert.reconcile import reconcile
from convert.store import add_files, open_store

# The messages these tests pin are the English ones (NIANBAO_LANG=en); the Chinese are tested in test_language.py.
pytestmark = pytest.mark.usefixtures("english")

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
ZHUZHEN = SAMPLES / "zhuzhen-2019.txt"
OVER = "requests_carried_over_natural_person"
FORWARD = "requests_carried_forward_natural_person"


def edit(book: Path, out: Path, **values: Any) -> Path:
    """Set cells found by their defined names, as a person editing in a spreadsheet would; save as out."""
    wb = openpyxl.load_workbook(book)
    for name, value in values.items():
        [(sheet, ref)] = list(wb.defined_names[name].destinations)
        wb[sheet][ref.replace("$", "")].value = value
    wb.save(out)
    return out


def cli(*args: str) -> Any:
    """Run nianbao with the given arguments."""
    return runner.invoke(app, list(args))


def history(db: str) -> list[dict[str, Any]]:
    """Return 竹镇镇 2019's history as JSON."""
    result = cli("store", "history", "竹镇镇", "2019", "--json", "--store", db)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def db(new_store: str) -> str:
    """Return a store (of each backend) holding the five samples."""
    result = cli("store", "add", str(SAMPLES), "--store", new_store, "--author", "loader")
    assert result.exit_code == 0, result.output
    return new_store


@pytest.fixture
def exported(db: str, tmp_path: Path) -> Path:
    """Return 竹镇镇 2019 exported from the store (revision 1)."""
    book = tmp_path / "zhuzhen.xlsx"
    result = cli("store", "export", "竹镇镇", "2019", "-o", str(book), "--store", db)
    assert result.exit_code == 0, result.output
    assert "revision 1" in result.stdout
    return book


def test_end_to_end_edit_reconcile_apply_and_refuse(db: str, exported: Path, tmp_path: Path) -> None:
    edited = edit(exported, tmp_path / "edited.xlsx", **{OVER: 1, FORWARD: 1})

    # Dry run: exactly the two cells, nothing written.
    result = cli("reconcile", str(edited), "--json", "--store", db)
    assert result.exit_code == 0, result.output
    [dry] = json.loads(result.stdout)
    assert dry["status"] == "dry-run"
    assert [(c["key"], c["old"], c["new"]) for c in dry["diff"]["cells"]] == [
        ("requests.carried_over.natural_person", "0", "1"),
        ("requests.carried_forward.natural_person", "0", "1"),
    ]
    assert "上年结转" in dry["diff"]["cells"][0]["label"] and "自然人" in dry["diff"]["cells"][0]["label"]
    assert dry["diff"]["texts"] == [] and dry["diff"]["meta"] == []
    assert len(history(db)) == 1
    result = cli("reconcile", str(edited), "--store", db)
    assert result.exit_code == 0
    assert "requests.carried_over.natural_person" in result.stdout and "would change" in result.stdout

    # Apply with author and reason.
    result = cli("reconcile", str(edited), "--apply", "--author", "王芳", "--reason", "更正结转", "--store", db)
    assert result.exit_code == 0, result.output
    assert "applied: 竹镇镇 2019 revision 2 by 王芳" in result.stdout
    entries = history(db)
    assert [(e["number"], e["author"], e["reason"], e["base_revision"]) for e in entries] == [
        (1, "loader", None, None),
        (2, "王芳", "更正结转", 1),
    ]
    assert {c["key"] for c in entries[1]["changed"]} == {
        "requests.carried_over.natural_person",
        "requests.carried_forward.natural_person",
    }
    result = cli("store", "history", "竹镇镇", "2019", "--store", db)
    assert result.exit_code == 0 and "王芳" in result.stdout

    # show has the new values; revision 1 still the old ones.
    shown = json.loads(cli("store", "show", "竹镇镇", "2019", "--json", "--store", db).stdout)
    assert shown["revision"]["number"] == 2
    assert shown["record"]["cells"]["requests.carried_over.natural_person"] == 1
    assert shown["record"]["cells"]["requests.carried_forward.natural_person"] == 1
    old = json.loads(cli("store", "show", "竹镇镇", "2019", "--revision", "1", "--json", "--store", db).stdout)
    assert old["record"]["cells"]["requests.carried_over.natural_person"] == 0
    assert old["record"]["cells"]["requests.carried_forward.natural_person"] == 0

    # The same workbook again is stale now: a conflict, and the history does not move.
    result = cli("reconcile", str(edited), "--apply", "--author", "王芳", "--store", db)
    assert result.exit_code == 1
    assert "exported from revision 1" in result.stderr and "revision 2" in result.stderr
    assert "nianbao store export 竹镇镇 2019" in result.stderr and "--force" in result.stderr
    assert len(history(db)) == 2

    # A fresh export edited so the balance breaks: refused with the finding, history unchanged.
    fresh = tmp_path / "fresh.xlsx"
    assert cli("store", "export", "竹镇镇", "2019", "-o", str(fresh), "--store", db).exit_code == 0
    broken = edit(fresh, tmp_path / "broken.xlsx", **{OVER: 5})
    result = cli("reconcile", str(broken), "--apply", "--author", "王芳", "--store", db)
    assert result.exit_code == 1
    assert "balance" in result.stdout and "refused" in result.stdout
    assert len(history(db)) == 2
    result = cli("reconcile", str(broken), "--store", db)
    assert result.exit_code == 1 and "would be refused" in result.stdout


def test_unchanged_export_has_nothing_to_apply(db: str, exported: Path) -> None:
    with open_store(db) as store:
        result = reconcile(exported, store, apply=True, author="x")
        assert (result.status, result.exit_code) == ("nothing-to-apply", 0)
        assert result.diff.empty
        assert store.get("竹镇镇", 2019)[1].latest == 1


def test_every_sample_round_trips_through_export_without_a_diff(db: str, tmp_path: Path) -> None:
    with open_store(db) as store:
        for report in store.list():
            book = tmp_path / f"{report.record_id}.xlsx"
            store.export(report.agency, report.year, book)
            result = reconcile(book, store)
            assert result.status == "nothing-to-apply", (report.agency, result.diff.to_json())


def test_unknown_record_is_refused_unless_add(new_store: str, tmp_path: Path) -> None:
    db = new_store
    with open_store(db) as store:
        list(add_files(store, [SAMPLES / "luoqi-2019.txt"], author="x"))
    from convert.reader import read_report

    book = write_workbook(read_report(ZHUZHEN), tmp_path / "converted.xlsx")
    result = cli("reconcile", str(book), "--apply", "--store", db)
    assert result.exit_code == 1 and "not in the store" in result.stderr and "--add" in result.stderr
    result = cli("reconcile", str(book), "--apply", "--add", "--author", "me", "--store", db)
    assert result.exit_code == 0, result.output
    with open_store(db) as store:
        record, info = store.get("竹镇镇", 2019)
    assert (info.number, info.author, info.source_name) == (1, "me", "converted.xlsx")
    assert record.cells["proactive.procurement.amount"] == read_report(ZHUZHEN).cells["proactive.procurement.amount"]


def test_a_workbook_not_exported_from_the_store_is_a_conflict_unless_forced(db: str, tmp_path: Path) -> None:
    from convert.reader import read_report

    record = read_report(ZHUZHEN)
    record.cells["requests.new_received.natural_person"] = 2
    record.cells["requests.granted.natural_person"] = 2
    book = write_workbook(record, tmp_path / "converted.xlsx")
    with open_store(db) as store:
        dry = reconcile(book, store)
        assert dry.exit_code == 1 and "not exported from the store" in str(dry.conflict)
        with pytest.raises(ConflictError, match="not exported"):
            reconcile(book, store, apply=True, author="x")
        with pytest.raises(UsageError, match="--reason"):
            reconcile(book, store, apply=True, author="x", force=True)
        assert store.get("竹镇镇", 2019)[1].latest == 1
        result = reconcile(book, store, apply=True, author="x", force=True, reason="re-keyed from the paper copy")
        assert (result.status, result.revision, result.forced) == ("applied", 2, True)
        _, info = store.get("竹镇镇", 2019)
    assert info.forced and info.reason == "re-keyed from the paper copy" and info.base_revision is None
    assert "conflict" in (info.note or "")


def test_force_applies_over_error_findings_and_marks_the_revision(db: str, exported: Path, tmp_path: Path) -> None:
    broken = edit(exported, tmp_path / "broken.xlsx", **{OVER: 5})
    result = cli("reconcile", str(broken), "--apply", "--force", "--store", db)
    assert result.exit_code == 2 and "--reason" in result.stderr
    result = cli(
        "reconcile", str(broken), "--apply", "--force", "--reason", "as printed", "--author", "a", "--store", db
    )
    assert result.exit_code == 0, result.output
    [_, forced] = history(db)
    assert forced["forced"] is True and "error finding" in forced["note"]
    assert "yes" in cli("store", "history", "竹镇镇", "2019", "--store", db).stdout


def test_force_without_anything_to_override_is_not_marked_forced(db: str, exported: Path, tmp_path: Path) -> None:
    edited = edit(exported, tmp_path / "e.xlsx", **{OVER: 1, FORWARD: 1})
    with open_store(db) as store:
        result = reconcile(edited, store, apply=True, author="a", force=True, reason="r")
        assert result.status == "applied" and not result.forced
        assert not store.get("竹镇镇", 2019)[1].forced


def test_changed_texts_and_metadata_are_in_the_diff(db: str, exported: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(exported)
    [(sheet, ref)] = list(wb.defined_names["meta_title"].destinations)
    wb[sheet][ref.replace("$", "")].value = "竹镇镇2019年政府信息公开工作年度报告（修订）"
    ws = wb["六 其他事项"]
    cell = next(c for row in ws.iter_rows() for c in row if c.value == "无")
    cell.value = "本年度无其他需要报告的事项。"
    wb.save(tmp_path / "t.xlsx")
    with open_store(db) as store:
        result = reconcile(tmp_path / "t.xlsx", store)
    assert result.diff.cells == []
    assert [(t.name, t.old, t.new) for t in result.diff.texts] == [("other", ["无"], ["本年度无其他需要报告的事项。"])]
    assert [m.name for m in result.diff.meta] == ["title"]


def test_cover_without_agency_is_a_store_error(db: str, exported: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(exported)
    [(sheet, ref)] = list(wb.defined_names["meta_agency"].destinations)
    wb[sheet][ref.replace("$", "")].value = None
    wb.save(tmp_path / "noagency.xlsx")
    with open_store(db) as store, pytest.raises(StoreError, match="agency"):
        reconcile(tmp_path / "noagency.xlsx", store)


def _race(db: str, book: str, author: str, barrier: Any, results: Any) -> None:
    """Reconcile with apply, but wait at the barrier just before writing so both processes race for the lock."""
    try:
        with open_store(db) as store:
            real_add = store.add

            def add_after_barrier(*args: Any, **kwargs: Any) -> Any:
                barrier.wait(60)
                return real_add(*args, **kwargs)

            store.add = add_after_barrier  # type: ignore[method-assign]
            result = reconcile(book, store, apply=True, author=author, reason="race")
        results.put((author, result.status, result.revision))
    except ConflictError as exc:
        results.put((author, "conflict", str(exc)))
    except Exception as exc:  # report anything else to the test instead of hanging it
        results.put((author, "error", repr(exc)))


def test_two_processes_applying_at_once_one_wins_one_conflicts(
    db: str, exported: Path, tmp_path: Path, english: None
) -> None:
    a = edit(exported, tmp_path / "a.xlsx", **{OVER: 1, FORWARD: 1})
    b = edit(exported, tmp_path / "b.xlsx", **{OVER: 2, FORWARD: 2})
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_race, args=(db, str(book), who, barrier, results)) for book, who in ((a, "甲"), (b, "乙"))
    ]
    for p in procs:
        p.start()
    outcomes = sorted([results.get(timeout=120) for _ in procs], key=lambda o: o[1])
    for p in procs:
        p.join(60)
    statuses = [o[1] for o in outcomes]
    assert statuses == ["applied", "conflict"], outcomes
    winner = outcomes[0][0]
    assert outcomes[0][2] == 2
    assert "revision 2" in outcomes[1][2]
    entries = history(db)
    assert [e["author"] for e in entries] == ["loader", winner]


def test_a_formula_in_an_input_cell_never_reaches_the_store(db: str, exported: Path, tmp_path: Path) -> None:
    from tests.test_readback import put_cell

    # 上年结转 made a DDE formula whose cached result would balance the table if it were taken as the value.
    book = tmp_path / "dde.xlsx"
    ref = put_cell(exported, OVER, "<c r=\"{ref}\"{style}><f>cmd|'/c calc'!A1</f><v>0</v></c>", book)
    result = cli("check", str(book))
    assert result.exit_code == 1 and "bad-value" in result.stdout and f"三 申请处理!{ref}" in result.stdout
    result = cli("reconcile", str(book), "--apply", "--author", "a", "--store", db)
    assert result.exit_code == 1 and "--force" in result.output
    assert len(history(db)) == 1
    result = cli("reconcile", str(book), "--apply", "--force", "--reason", "r", "--author", "a", "--store", db)
    assert result.exit_code == 0, result.output
    with open_store(db) as store:
        cells = store.get("竹镇镇", 2019)[0].cells
    assert cells["requests.carried_over.natural_person"] is None  # forced, the formula is still no number


def _race_with(db: str, book: str, author: str, barrier: Any, results: Any, options: dict[str, Any]) -> None:
    """Reconcile with apply and the given options, all processes reaching the store's write at the same moment."""
    try:
        with open_store(db) as store:
            real_add = store.add
            waited = []

            def add_after_barrier(*args: Any, **kwargs: Any) -> Any:
                if not waited:  # only the first attempt waits: the others come after another writer won
                    waited.append(True)
                    barrier.wait(60)
                return real_add(*args, **kwargs)

            store.add = add_after_barrier  # type: ignore[method-assign]
            result = reconcile(book, store, apply=True, author=author, **options)
        results.put((author, result.status, result.revision))
    except ConflictError as exc:
        results.put((author, "conflict", str(exc)))
    except Exception as exc:  # report anything else to the test instead of hanging it
        results.put((author, "error", repr(exc)))


def _run_race(db: str, books: list[Path], options: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Run one process per workbook (authors 甲, 乙, 丙 …) through _race_with; return their outcomes by status."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(len(books)), ctx.Queue()
    authors = "甲乙丙丁戊"
    procs = [
        ctx.Process(target=_race_with, args=(db, str(book), authors[i], barrier, results, options))
        for i, book in enumerate(books)
    ]
    for p in procs:
        p.start()
    outcomes = sorted([results.get(timeout=180) for _ in procs], key=lambda o: (o[1], str(o[2])))
    for p in procs:
        p.join(60)
    return outcomes


def test_forced_applies_racing_each_other_are_all_stored_and_marked(db: str, exported: Path, tmp_path: Path) -> None:
    # Issue #18: a --force --reason apply that lost the race for the write lock was refused with a message
    # telling the user to use --force --reason. Each must be stored; those that overrode a newer revision say so.
    books = [edit(exported, tmp_path / f"{n}.xlsx", **{OVER: n, FORWARD: n}) for n in (1, 2, 3)]
    outcomes = _run_race(db, books, {"force": True, "reason": "as printed"})
    assert [(status, revision) for _, status, revision in outcomes] == [("applied", 2), ("applied", 3), ("applied", 4)]
    entries = history(db)
    assert [e["number"] for e in entries] == [1, 2, 3, 4]
    assert [e["base_revision"] for e in entries[1:]] == [1, 1, 1]
    assert [e["forced"] for e in entries] == [False, False, True, True]
    assert all("conflict" in e["note"] for e in entries[2:])


def _new_agency_book(tmp_path: Path, name: str, n: int) -> Path:
    from convert.reader import read_report

    record = read_report(ZHUZHEN)
    record.agency = "新设镇"
    record.title = f"新设镇2019年政府信息公开工作年度报告（第{n}稿）"
    return write_workbook(record, tmp_path / name)


def test_adds_of_the_same_new_record_racing_each_other_store_one(db: str, tmp_path: Path) -> None:
    # Issue #18: concurrent `reconcile --apply --add` of one new agency stored 2–4 unforced revisions with no base.
    books = [_new_agency_book(tmp_path, f"new{n}.xlsx", n) for n in (1, 2, 3)]
    outcomes = _run_race(db, books, {"add": True})
    assert [status for _, status, _ in outcomes] == ["applied", "conflict", "conflict"], outcomes
    assert outcomes[0][2] == 1
    assert all("--force" in message for _, _, message in outcomes[1:])
    with open_store(db) as store:
        assert [e.info.number for e in store.history("新设镇", 2019)] == [1]


def test_forced_adds_of_the_same_new_record_are_one_new_record_then_forced_revisions(db: str, tmp_path: Path) -> None:
    books = [_new_agency_book(tmp_path, f"new{n}.xlsx", n) for n in (1, 2, 3)]
    outcomes = _run_race(db, books, {"add": True, "force": True, "reason": "re-keyed"})
    assert [(status, revision) for _, status, revision in outcomes] == [("applied", 1), ("applied", 2), ("applied", 3)]
    with open_store(db) as store:
        entries = store.history("新设镇", 2019)
    assert [(e.info.number, e.info.forced) for e in entries] == [(1, False), (2, True), (3, True)]
    assert all("conflict" in (e.info.note or "") for e in entries[1:])


def test_reconcile_goes_on_after_an_unexpected_error_in_one_input(
    db: str, exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue #18: one workbook's unexpected failure is its own error line; the other workbooks are reconciled.
    import convert.readback

    edited = edit(exported, tmp_path / "edited.xlsx", **{OVER: 1, FORWARD: 1})
    crashing = edit(exported, tmp_path / "crashing.xlsx", **{OVER: 2, FORWARD: 2})
    real = convert.readback.check_workbook

    def check_or_crash(path: Path, *args: Any, **kwargs: Any) -> Any:
        if Path(path).name == "crashing.xlsx":
            raise ZeroDivisionError("a bug met on this input")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(convert.readback, "check_workbook", check_or_crash)
    result = cli("reconcile", str(crashing), str(edited), "--apply", "--author", "a", "--store", db)
    assert result.exit_code == 1
    [line] = [line for line in result.stderr.splitlines() if "crashing.xlsx" in line]
    assert "ZeroDivisionError" in line and "--debug" in line
    assert "applied: 竹镇镇 2019 revision 2" in result.stdout
    result = cli("reconcile", str(crashing), "--json", "--store", db)
    assert result.exit_code == 1
    [refused] = json.loads(result.stdout)
    assert refused["status"] == "refused" and "ZeroDivisionError" in refused["message"]
