"""Outputs are written atomically and get the permissions any new file would get (0o666 less the umask)."""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


# ---------------------------------------------------------------------------------------------
# Issue #18 item 9: a failure to write reads as such (what failed, on which output, what to do), exit 2,
# and leaves no temp file.

ROOT = Path(__file__).resolve().parent.parent
ZHUZHEN = ROOT / "samples" / "zhuzhen-2019.txt"


def nianbao(*args: str, env: dict[str, str] | None = None, wrap: list[str] | None = None, **kw: Any) -> Any:
    """Run `python -m convert ARGS` from the checkout (in English), optionally under a wrapper command."""
    import subprocess
    import sys

    cmd = [*(wrap or []), sys.executable, "-m", "convert", *args]
    full_env = {**os.environ, "NIANBAO_LANG": "en", **(env or {})}
    return subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120, **kw)


@functools.cache
def _mount_wrapper() -> list[str] | None:
    """Return the command that runs a program in a private mount namespace where it may mount, or None."""
    import shutil
    import subprocess

    if not shutil.which("unshare"):
        return None
    for wrapper in (["unshare", "-m"], ["unshare", "-rm"]):
        probe = subprocess.run(
            [
                *wrapper,
                "sh",
                "-c",
                'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d"; rmdir "$d"',
            ],
            capture_output=True,
        )
        if probe.returncode == 0:
            return wrapper
    return None


def on_small_disk(folder: Path, size: str, *args: str, read_only: bool = False, **kw: Any) -> Any:
    """Run nianbao with folder a fresh tmpfs of the given size (read-only if asked), in a private mount namespace."""
    wrapper = _mount_wrapper()
    if wrapper is None:
        pytest.skip("needs a private mount namespace (unshare -m) to mount a small tmpfs")
    options = f"size={size}" + (",ro" if read_only else "")
    mount = ["sh", "-c", f'mount -t tmpfs -o {options} tmpfs "$0" && exec "$@"', str(folder)]
    return nianbao(*args, wrap=[*wrapper, *mount], **kw)


def assert_refused_cleanly(result: Any, output: Path, what: str) -> None:
    """Exit 2, one error line naming the output (never its temp file) and saying what failed; no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert str(output) in result.stderr and what in result.stderr, result.stderr
    assert ".tmp" not in result.stderr and "internal error" not in result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr


def leftovers(folder: Path) -> list[str]:
    """Return the names in folder (a temp file left behind would be one)."""
    return sorted(p.name for p in folder.iterdir())


def test_a_full_disk_names_the_output_and_leaves_nothing(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    out = disk / "z.xlsx"
    # Checked inside the namespace, where the tmpfs is: nothing may be left on it.
    result = on_small_disk(disk, "16k", "convert", str(ZHUZHEN), "-o", str(out), "--jobs", "1")
    assert_refused_cleanly(result, out, "the disk is full")
    assert leftovers(disk) == []


def test_a_full_disk_under_merge_parts_names_the_summary(tmp_path: Path) -> None:
    # The summary's streamed parts go to $TMPDIR: when that fills, the summary is what failed.
    scratch, out = tmp_path / "scratch", tmp_path / "summary.xlsx"
    scratch.mkdir()
    script = f"merge {ROOT / 'samples'} -o {out}".split()
    result = on_small_disk(scratch, "40k", *script, env={"TMPDIR": str(scratch)})
    assert_refused_cleanly(result, out, "the disk is full")
    assert not out.exists() and leftovers(tmp_path) == ["scratch"]


def test_a_full_disk_under_the_store_names_the_store(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    db = disk / "nianbao.db"
    result = on_small_disk(disk, "120k", "store", "add", str(ROOT / "samples"), "--store", str(db), "--author", "a")
    assert result.returncode == 2 and "internal error" not in result.stderr, result.stderr
    assert result.stderr.count(f"cannot write {db}: the disk is full") == 5, result.stderr


def test_a_read_only_folder_names_the_output(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    out = ro / "z.xlsx"
    result = on_small_disk(ro, "1m", "convert", str(ZHUZHEN), "-o", str(out), read_only=True)
    assert_refused_cleanly(result, out, "read-only file system")
    folder = ro / "out"
    result = on_small_disk(ro, "1m", "convert", str(ROOT / "samples"), "-o", f"{folder}/", read_only=True)
    assert_refused_cleanly(result, folder, "read-only file system")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in any folder whatever its mode")
def test_a_folder_without_write_permission_names_the_output(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        out = locked / "z.xlsx"
        assert_refused_cleanly(nianbao("convert", str(ZHUZHEN), "-o", str(out)), out, "you may not write")
    finally:
        locked.chmod(0o755)
    assert leftovers(locked) == []


def test_a_file_size_limit_names_the_output_and_leaves_nothing(tmp_path: Path) -> None:
    import resource

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    out = tmp_path / "z.xlsx"
    result = nianbao("convert", str(ZHUZHEN), "-o", str(out), "--jobs", "1", preexec_fn=small_files)
    assert_refused_cleanly(result, out, "larger than")
    assert leftovers(tmp_path) == []
    assert nianbao("convert", str(ZHUZHEN), "-o", str(out)).returncode == 0
    copy = tmp_path / "annotated.xlsx"
    result = nianbao("check", str(out), "--annotate", str(copy), preexec_fn=small_files)
    assert_refused_cleanly(result, copy, "larger than")
    assert leftovers(tmp_path) == ["z.xlsx"]


def test_a_name_too_long_is_said_so(tmp_path: Path) -> None:
    out = tmp_path / ("长" * 100 + ".xlsx")  # 300 bytes: over the 255 of a name
    for command in (["convert", str(ZHUZHEN), "-o", str(out)], ["merge", str(ROOT / "samples"), "-o", str(out)]):
        assert_refused_cleanly(nianbao(*command), out, "name is too long")
    folder = tmp_path / ("长" * 100)
    assert_refused_cleanly(nianbao("convert", str(ROOT / "samples"), "-o", f"{folder}/"), folder, "name is too long")
    assert leftovers(tmp_path) == []


def test_a_long_name_that_fits_is_written_and_replaced(tmp_path: Path) -> None:
    # The temp file's name must fit wherever the output's does (it used to add ~15 characters to it).
    out = tmp_path / ("长" * 80 + ".xlsx")  # 245 bytes
    for extra in ([], ["--force"]):
        result = nianbao("convert", str(ZHUZHEN), "-o", str(out), *extra)
        assert result.returncode == 0, result.stderr
    assert leftovers(tmp_path) == [out.name]


def test_a_failed_write_is_a_usage_error_naming_the_output(tmp_path: Path, english: None) -> None:
    import errno

    from convert.errors import UsageError

    out = tmp_path / "a.txt"
    with pytest.raises(UsageError) as failed, atomic_output(out, force=False) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
    assert str(failed.value).startswith(f"cannot write {out}: the disk is full")
    assert failed.value.exit_code == 2
    assert list(tmp_path.iterdir()) == []
