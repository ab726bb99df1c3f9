"""Outputs are written atomically and get the permissions any new file would get (0o666 less the umask)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convert import atomic
from convert.atomic import atomic_output, current_umask
from convert.cli import app


@pytest.fixture(params=[0o022, 0o077, 0o002], ids=["022", "077", "002"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """Run the test under the given umask, then restore the old one."""
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    """Return the permission bits of path."""
    return stat.S_IMODE(path.stat().st_mode)


def test_current_umask_reads_without_changing_it(umask: int) -> None:
    assert current_umask() == umask
    assert current_umask() == umask


def test_current_umask_without_proc(umask: int, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_proc(*args: object, **kwargs: object) -> None:
        raise OSError("no /proc here")

    monkeypatch.setattr(atomic, "open", no_proc, raising=False)
    assert current_umask() == umask
    assert current_umask() == umask


def test_new_output_gets_the_umask_mode(tmp_path: Path, umask: int) -> None:
    out = tmp_path / "a.txt"
    with atomic_output(out, force=False) as tmp:
        tmp.write_text("x", encoding="utf-8")
    assert out.read_text(encoding="utf-8") == "x"
    assert mode(out) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_replaced_output_keeps_its_mode(tmp_path: Path, umask: int) -> None:
    out = tmp_path / "a.txt"
    out.write_text("old", encoding="utf-8")
    out.chmod(0o640)
    with atomic_output(out, force=True) as tmp:
        tmp.write_text("new", encoding="utf-8")
    assert out.read_text(encoding="utf-8") == "new"
    assert mode(out) == 0o640


def test_converted_workbook_is_readable_as_any_new_file(tmp_path: Path, samples: Path, umask: int) -> None:
    result = CliRunner().invoke(app, ["convert", str(samples / "zhuzhen-2019.txt"), "-o", str(tmp_path), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert mode(tmp_path / "zhuzhen-2019.xlsx") == 0o666 & ~umask


def test_failed_output_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "a.txt"
    with pytest.raises(RuntimeError), atomic_output(out, force=False) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []
