"""Kill nianbao at random moments (kill -9, SIGTERM, SIGHUP, Ctrl-C): nothing half-written, nothing left behind.

Issue #18: convert, merge, store add and reconcile, 30 signals in all at random moments of a run, each checked
for: no temp file in the output folders or in the private $TMPDIR given to the command, no process of the run
left (workers, watchers), every workbook present complete, and a consistent store (SQLite's integrity check,
revisions numbered 1..n with their cells). Select it with `-m kill_loop` (or leave it out with `-m "not kill_loop"`);
NIANBAO_KILL_SEED=N replays one sequence of moments.
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest

from bench.generate import SUFFIX, make_record
from convert.outputs.standard import write_workbook
from convert.render import LAYOUTS, render_report

pytestmark = [
    pytest.mark.kill_loop,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find what a run left"),
]

ROOT = Path(__file__).resolve().parent.parent
REPORTS = 8
ROUNDS = 30
SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
# How long what a killed run leaves may take to go away (workers unwinding, the parts watcher): a bound, not a pace.
SETTLE_SECONDS = 15.0
MARK = "NIANBAO_KILL_LOOP_RUN"
T = TypeVar("T")


@dataclass
class Arena:
    """The folders of the loop and the commands it runs, each with the time it takes when left alone."""

    root: Path
    commands: dict[str, list[str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def tmp(self) -> Path:
        """The private $TMPDIR of every run."""
        return self.root / "tmp"

    @property
    def store(self) -> Path:
        """The store file."""
        return self.root / "store" / "nb.db"

    @property
    def output_folders(self) -> list[Path]:
        """Every folder a command writes into."""
        return [self.root / "out", self.root / "merged", self.root / "store"]


def _reports(folder: Path, variant: str) -> None:
    """Write the same agencies' reports, told apart by a line of text (so each set stores a new revision)."""
    folder.mkdir(parents=True)
    for i in range(REPORTS):
        record = make_record(("2019", "2021")[i % 2], i)
        record.text["other"] = [f"本年度未收取信息处理费。（{variant}）"]
        layout = LAYOUTS[(i // 2) % len(LAYOUTS)]
        (folder / f"r{i:02d}{SUFFIX[layout]}").write_text(render_report(record, layout), encoding="utf-8")
        if variant == "c":
            write_workbook(record, folder / f"r{i:02d}.xlsx")
            (folder / f"r{i:02d}{SUFFIX[layout]}").unlink()


def start(arena: Arena, name: str, mark: str) -> tuple[subprocess.Popen[bytes], Path]:
    """Start one command in its own session (so Ctrl-C can go to its whole process group, as a terminal's does).

    Its stderr goes to a file: a pipe would keep the test waiting for whatever process of the run holds it.
    """
    env = {**os.environ, "NIANBAO_LANG": "en", "TMPDIR": str(arena.tmp), MARK: mark}
    log = arena.root / "logs" / f"{mark}.txt"
    with log.open("wb") as err:
        run = subprocess.Popen(
            [sys.executable, "-m", "convert", *arena.commands[name]],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    return run, log


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory) -> Arena:
    """Make the inputs and run each command once to the end (it must succeed), timing it."""
    root = tmp_path_factory.mktemp("kill-loop")
    arena = Arena(root)
    for folder in (arena.tmp, root / "logs", *arena.output_folders):
        folder.mkdir()
    for variant in "abc":
        _reports(root / variant, variant)
    store = ["--store", str(arena.store), "--author", "loop"]
    arena.commands = {
        "convert": ["convert", str(root / "a"), "-o", f"{root / 'out'}/", "--force", "--jobs", "2"],
        "merge": ["merge", str(root / "a"), "-o", str(root / "merged" / "summary.xlsx"), "--force", "--jobs", "2"],
        "store add": ["store", "add", str(root / "a"), *store],
        "store add b": ["store", "add", str(root / "b"), *store],
        "reconcile": ["reconcile", str(root / "c"), "--apply", "--force", "--reason", "loop", *store],
    }
    for name in arena.commands:
        began = time.monotonic()
        run, log = start(arena, name, f"calibration-{name.replace(' ', '-')}")
        assert run.wait(300) == 0, (name, log.read_text(encoding="utf-8"))
        arena.seconds[name] = time.monotonic() - began
    return arena


def processes_marked(mark: str) -> list[int]:
    """Return the processes (not zombies) whose environment carries the mark: what a run started and left."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


def temp_files(arena: Arena) -> list[str]:
    """Return the temp files and folders left: anything in $TMPDIR, and .NAME.*.tmp in an output folder."""
    left = [str(p) for p in arena.tmp.iterdir()]
    for folder in arena.output_folders:
        # The store's -wal and -shm are its journal (kept for recovery after a kill), not temp files.
        left += [str(p) for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp")]
    return left


def settled(check: Callable[[], list[T]], seconds: float = SETTLE_SECONDS) -> list[T]:
    """Return check() once it is empty, or what it still returns after seconds."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def workbooks_complete(arena: Arena) -> list[str]:
    """Return the workbooks in the output folders that are not a complete zip (a half-written one)."""
    broken = []
    for folder in arena.output_folders[:2]:
        for book in folder.glob("*.xlsx"):
            try:
                with zipfile.ZipFile(book) as z:
                    if z.testzip() is not None:
                        broken.append(str(book))
            except zipfile.BadZipFile:
                broken.append(str(book))
    return broken


def store_problems(db: Path) -> list[str]:
    """Return what is wrong with the store: SQLite's integrity check, gaps in revision numbers, revisions without cells."""
    conn = sqlite3.connect(db)
    try:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
        for report, numbers in conn.execute(
            "SELECT report_id, group_concat(number) FROM (SELECT report_id, number FROM revisions ORDER BY number)"
            " GROUP BY report_id"
        ):
            got = [int(n) for n in numbers.split(",")]
            if got != list(range(1, len(got) + 1)):
                problems.append(f"report {report}: revisions {got}")
        empty = conn.execute(
            "SELECT COUNT(*) FROM revisions v WHERE NOT EXISTS (SELECT 1 FROM cells c WHERE c.revision_id = v.id)"
        ).fetchone()[0]
        if empty:
            problems.append(f"{empty} revision(s) without cells")
        return problems
    finally:
        conn.close()


def test_killed_at_random_moments_nothing_is_half_written_or_left(arena: Arena) -> None:
    seed = int(os.environ.get("NIANBAO_KILL_SEED") or secrets.randbits(32))
    rng = random.Random(seed)
    names = ["convert", "merge", "store add", "reconcile"]
    failures: list[str] = []
    for n in range(ROUNDS):
        name = names[n % 4]
        if name == "store add" and n % 8 >= 4:
            name = "store add b"  # the other set: a new revision of every report to write
        sig = SIGNALS[(n + n // 4) % 4]  # every command meets every signal
        # From the start (imports) to a little after the end (a run that finished first is fine too).
        delay = rng.uniform(0.05, 1.1) * arena.seconds[name]
        mark = secrets.token_hex(8)
        run, log = start(arena, name, mark)
        time.sleep(delay)
        if run.poll() is None:
            if sig == signal.SIGINT:
                os.killpg(run.pid, sig)  # Ctrl-C: the terminal signals the whole foreground group
            else:
                os.kill(run.pid, sig)
        try:
            run.wait(120)
        except subprocess.TimeoutExpired:
            run.kill()
            run.wait()
            failures.append(f"round {n} (seed {seed}): {name} did not end within 120 s of {signal.Signals(sig).name}")
        err = log.read_text(encoding="utf-8")
        where = (
            f"round {n} (seed {seed}): {name}, {signal.Signals(sig).name} after {delay:.2f} s, exit {run.returncode}"
        )
        if run.returncode == 128 + sig and "interrupted" not in err:
            failures.append(f"{where}: no word of the interruption: {err!r}")
        if "internal error" in err or "Traceback" in err:
            failures.append(f"{where}: {err!r}")
        pids = settled(lambda: processes_marked(mark))  # noqa: B023 - called before mark changes
        if pids:
            failures.append(f"{where}: processes left: {pids}")
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
        files = settled(lambda: temp_files(arena))
        if files:
            failures.append(f"{where}: temp files left: {files}")
        for broken in workbooks_complete(arena):
            failures.append(f"{where}: half-written workbook {broken}")
        failures += [f"{where}: store: {p}" for p in store_problems(arena.store)]
        if failures:
            break  # the first round that failed says most; the state after it is suspect
    assert not failures, "\n".join(failures)
