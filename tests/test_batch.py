"""Batches over worker processes: a lost worker fails only its own input, workers die with their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from convert.batch import Outcome, run_many

ROOT = Path(__file__).resolve().parent.parent


def alive(pid: int) -> bool:
    """Tell whether a process runs (a zombie waiting to be reaped does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _die_on_three(path: Path) -> Outcome:
    """Read an input; the worker on input 3 is killed outright, as the OOM killer would."""
    if path.name == "3":
        os.kill(os.getpid(), signal.SIGKILL)
    return Outcome(path, f"read {path.name}")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kills a forked worker")
def test_a_lost_worker_fails_its_own_input_and_the_batch_goes_on(english: None) -> None:
    # Issue #18: one worker dying aborted the whole batch with BrokenProcessPool.
    items = [(Path(str(n)),) for n in range(40)]
    outcomes = list(run_many(_die_on_three, items, jobs=2, progress=False))
    assert [o.path.name for o in outcomes] == [str(n) for n in range(40)]
    lost = outcomes[3]
    assert not lost.ok and lost.exit_code == 2 and "SIGKILL" in lost.error and "killed" in lost.error
    assert [o.value for o in outcomes if o.ok] == [f"read {n}" for n in range(40) if n != 3]


def _exit_on_even(path: Path) -> Outcome:
    """Read an input; the worker on an even input ends abruptly with status 3 (a crash in a library)."""
    if int(path.name) % 2 == 0:
        os._exit(3)
    return Outcome(path, path.name)


def test_workers_lost_again_and_again_still_give_every_input_an_outcome(english: None) -> None:
    items = [(Path(str(n)),) for n in range(12)]
    outcomes = list(run_many(_exit_on_even, items, jobs=2, progress=False))
    assert [o.ok for o in outcomes] == [n % 2 == 1 for n in range(12)]
    assert all("exit status 3" in o.error for o in outcomes if not o.ok)


WORKERS_SCRIPT = """
import os, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from convert.batch import Outcome, run_many

def slow(path):
    Path({marks!r}, str(os.getpid())).write_text("")
    time.sleep(60)
    return Outcome(path)

for _ in run_many(slow, [(Path(str(n)),) for n in range(8)], jobs=2, progress=False):
    pass
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_parent_killed_outright(tmp_path: Path) -> None:
    # Issue #18: after the main process was killed, --jobs workers went on writing, then hung for ever.
    marks = tmp_path / "marks"
    marks.mkdir()
    script = WORKERS_SCRIPT.format(root=str(ROOT), marks=str(marks))
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)])
    try:
        deadline = time.monotonic() + 60
        while len(list(marks.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = [int(p.name) for p in marks.iterdir()]
        assert len(workers) == 2 and all(alive(pid) for pid in workers)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in workers if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "workers outlived their parent"


ISOLATED_SCRIPT = """
import sys, time
sys.path.insert(0, {root!r})
from convert.isolate import run_isolated

run_isolated(time.sleep, 60, seconds=120, memory_bytes=1 << 30, what="the test")
"""


def children(pid: int) -> list[int]:
    """Return the pids of a process's children."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_an_isolated_reader_dies_with_its_parent() -> None:
    # A PDF parsed in a child held to a deadline: the deadline is the parent's, so the child must not outlive it.
    script = ISOLATED_SCRIPT.format(root=str(ROOT))
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)])
    try:
        deadline = time.monotonic() + 60
        while not children(parent.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        [child] = children(parent.pid)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(child):
        os.kill(child, signal.SIGKILL)
        pytest.fail("the isolated reader outlived its parent")
