"""Write an output file atomically: into a temp file beside it, then renamed into place; nothing left on failure."""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from convert.errors import UsageError

_UMASK_LOCK = threading.Lock()


def check_output(path: Path, force: bool) -> None:
    """Refuse an output that is a folder, sits in a missing folder, or exists (unless force)."""
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
        # mkstemp makes the temp file private (0o600); the output gets the permissions open() would give it.
        os.chmod(tmp, output_mode(path))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
