"""A stop signal while a summary is being written: the same end as Ctrl-C, and no part left in $TMPDIR (issue #18)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.generate import generate

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="stops a process at a chosen moment")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a folder of 60 reports: a summary of them takes a moment to write."""
    folder = tmp_path_factory.mktemp("reports")
    generate(folder, 60)
    return folder


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGKILL], ids=lambda s: s.name)
def test_merge_stopped_while_writing_leaves_no_part_behind(reports: Path, tmp_path: Path, sig: signal.Signals) -> None:
    scratch, out = tmp_path / "tmp", tmp_path / "summary.xlsx"
    scratch.mkdir()
    env = {**os.environ, "NIANBAO_LANG": "en", "TMPDIR": str(scratch)}
    run = subprocess.Popen(
        [sys.executable, "-m", "convert", "merge", str(reports), "-o", str(out), "--jobs", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )

    # The summary's parts appear in $TMPDIR once its writing starts (xlsxwriter's tmp* files, or the folder
    # that holds them): freeze it there, signal, let it go on.
    def writing() -> bool:
        return any(p.name.startswith(("tmp", "nianbao-parts-")) for p in scratch.iterdir())

    deadline = time.monotonic() + 120
    while not writing() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    os.kill(run.pid, signal.SIGSTOP)
    try:
        assert run.poll() is None and writing(), "the merge ended before its parts were seen"
        if sig == signal.SIGINT:
            os.killpg(run.pid, sig)  # Ctrl-C: the terminal signals the whole process group
        else:
            os.kill(run.pid, sig)
    finally:
        os.kill(run.pid, signal.SIGCONT)
    _, err = run.communicate(timeout=120)
    if sig == signal.SIGKILL:
        assert run.returncode == -signal.SIGKILL
    else:
        assert run.returncode == 128 + sig, err
        assert "interrupted; nothing was left half-written" in err and "Traceback" not in err, err
    deadline = time.monotonic() + 15
    while any(scratch.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)  # after kill -9, the watcher removes the parts once it sees its parent gone
    assert sorted(p.name for p in scratch.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]


@pytest.mark.parametrize("module", ["convert.formats", "convert.cli"])
def test_stopped_while_the_command_line_is_imported_says_so(module: str) -> None:
    # The kill loop found it: a stop signal that came while the message catalogue itself was half imported
    # ended in a traceback. A finder sends SIGTERM just as the module is imported (the catalogue's own
    # import of convert.formats, or the command line after the catalogue), the same moment every run.
    code = f"""
import os, signal, sys
class StopHere:
    def find_spec(self, name, path, target=None):
        if name == {module!r}:
            os.kill(os.getpid(), signal.SIGTERM)
        return None
sys.meta_path.insert(0, StopHere())
sys.argv = ["nianbao", "--help"]
from convert.__main__ import run
run()
"""
    env = {**os.environ, "NIANBAO_LANG": "zh"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == "已中断；没有留下写了一半的文件", done.stderr
