"""Write an output file atomically: into a temp file beside it, then renamed into place; nothing left on failure."""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from convert.errors import UsageError

_UMASK_LOCK = threading.Lock()

INPUT = "input"
STORE = "store"
# The files SQLite keeps beside a store: an output written there would corrupt or lose it.
STORE_COMPANIONS = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class _Guarded:
    """A file no output may replace while a command runs: an input, or the store and its companions."""

    path: Path
    role: str
    names: frozenset[str]
    ids: frozenset[tuple[int, int]]


# What the running command reads: every output is checked against it (check_output). Workers forked by a
# batch inherit it, so an output written in a worker is checked too.
_GUARDED: list[_Guarded] = []
_GUARD_LOCK = threading.Lock()


def protect(
    paths: Iterable[str | Path | None], role: str = INPUT, companions: tuple[str, ...] = ()
) -> tuple[_Guarded, ...]:
    """Protect files from being replaced by any output until unprotect(token); role: INPUT or STORE."""
    entries = []
    for raw in paths:
        if raw is None:
            continue
        path = Path(raw)
        names, ids = set(), set()
        for suffix in ("", *companions):
            named = Path(f"{path}{suffix}")
            names.add(os.path.realpath(named))
            identity = _identity(named)
            if identity is not None:
                ids.add(identity)
        entries.append(_Guarded(path, role, frozenset(names), frozenset(ids)))
    with _GUARD_LOCK:
        _GUARDED.extend(entries)
    return tuple(entries)


def unprotect(token: tuple[_Guarded, ...]) -> None:
    """Stop protecting the files protect() returned this token for."""
    with _GUARD_LOCK:
        for entry in token:
            if entry in _GUARDED:
                _GUARDED.remove(entry)


@contextmanager
def protecting(
    paths: Iterable[str | Path | None], role: str = INPUT, companions: tuple[str, ...] = ()
) -> Iterator[None]:
    """Protect files from being replaced by any output inside the block."""
    token = protect(paths, role, companions)
    try:
        yield
    finally:
        unprotect(token)


def _identity(path: Path) -> tuple[int, int] | None:
    """Return the file a path leads to (device, inode), links followed; None when there is none."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


_NOT_A_FILE = ((stat.S_ISFIFO, "fifo"), (stat.S_ISCHR, "device"), (stat.S_ISBLK, "device"), (stat.S_ISSOCK, "socket"))


def _refuse_guarded(path: Path) -> None:
    """Refuse an output that is (by name, link or hard link) a file the command reads, or a non-regular file."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        st = None
    name = os.path.realpath(path)
    identity = None if st is None else (st.st_dev, st.st_ino)
    with _GUARD_LOCK:
        hit = next((g for g in _GUARDED if name in g.names or identity in g.ids), None)
    if hit is not None:
        if hit.role == STORE:
            raise UsageError("output-is-store", path=str(path), store=str(hit.path))
        raise UsageError("output-is-input", path=str(path), input=str(hit.path))
    if st is not None and not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        kind = next((k for test, k in _NOT_A_FILE if test(st.st_mode)), "other")
        raise UsageError("output-not-a-file", path=str(path), case=kind)


def check_output(path: Path, force: bool) -> None:
    """Refuse an output that is a folder, sits in a missing folder, or exists (unless force)."""
    _refuse_guarded(path)
    if path.is_dir():
        raise UsageError("output-is-folder", path=str(path))
    if path.exists() and not force:
        raise UsageError("output-exists", path=str(path))
    if not path.parent.is_dir():
        raise UsageError("folder-missing", path=str(path.parent))


def current_umask() -> int:
    """Return the process umask without leaving it changed."""
    try:
        # Linux shows it here: reading it changes nothing, so no other thread can be caught by a changed mask.
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:
        # The only portable way to read it is to set it; 0o077 meanwhile makes a file another thread
        # creates in that instant private rather than open to all.
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def output_mode(path: Path) -> int:
    """Return the permissions an output at path gets: those of the file it replaces, else 0o666 less the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~current_umask()


def keep_owner(tmp: Path, path: Path) -> None:
    """Give tmp the owner and group of the file at path it will replace, as far as this user may."""
    try:
        old, new = path.stat(), tmp.stat()
    except OSError:
        return  # nothing replaced: the output is the user's own, as any new file
    if (old.st_uid, old.st_gid) == (new.st_uid, new.st_gid):
        return
    # Only root may give a file to another user; anyone may give it a group of theirs. Set before the mode:
    # a change of owner clears the set-id bits.
    for uid in (old.st_uid, -1):
        try:
            os.chown(tmp, uid, old.st_gid)
            return
        except OSError:
            continue


@contextmanager
def atomic_output(path: Path, *, force: bool) -> Iterator[Path]:
    """Yield a temp path beside path; on success it replaces path, on any failure it is removed."""
    check_output(path, force)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        # Another process may have written the output meanwhile: still never overwrite without force.
        if path.exists() and not force:
            raise UsageError("output-exists", path=str(path))
        _refuse_guarded(path)
        keep_owner(tmp, path)
        # mkstemp makes the temp file private (0o600); the output gets the permissions open() would give it.
        os.chmod(tmp, output_mode(path))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
