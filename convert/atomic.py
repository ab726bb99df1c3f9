"""Write an output file atomically: into a temp file beside it, then renamed into place; nothing left on failure."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from convert.errors import UsageError


def check_output(path: Path, force: bool) -> None:
    """Refuse an output that is a folder, sits in a missing folder, or exists (unless force)."""
    if path.is_dir():
        raise UsageError(f"{path} is a folder, not a file")
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; use --force to replace it")
    if not path.parent.is_dir():
        raise UsageError(f"folder {path.parent} does not exist")


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
            raise UsageError(f"{path} already exists; use --force to replace it")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
