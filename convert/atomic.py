"""Write an output file atomically: into a temp file beside it, then renamed into place; nothing left on failure.

Where Linux allows it the temp file has no name at all until it is complete (O_TMPFILE), so not even a kill -9
leaves one behind; elsewhere it is a hidden .NAME.*.tmp removed on any failure or catchable signal. A failure
to write (disk full, file too large, a read-only folder, a name too long) is a UsageError naming the output.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from convert.errors import UsageError
from convert.lifecycle import deferred_stop

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
        # One literal case per kind: the catalogue checks each call's fields against its templates.
        if kind == "fifo":
            raise UsageError("output-not-a-file", path=str(path), case="fifo")
        if kind == "device":
            raise UsageError("output-not-a-file", path=str(path), case="device")
        if kind == "socket":
            raise UsageError("output-not-a-file", path=str(path), case="socket")
        raise UsageError("output-not-a-file", path=str(path), case="other")


# What went wrong writing an output, by errno: the case of the output-failed text, which says what to do.
_FAILURES = {
    errno.ENOSPC: "disk-full",
    errno.EDQUOT: "disk-full",
    errno.EFBIG: "too-large",
    errno.EROFS: "read-only",
    errno.EACCES: "denied",
    errno.EPERM: "denied",
    errno.ENAMETOOLONG: "name-too-long",
}
# Characters of the output's name kept in a named temp file's: the temp name must fit where the output's does.
_TEMP_NAME_CHARS = 40


@contextmanager
def output_errors(path: Path) -> Iterator[None]:
    """Turn an OSError met while writing the output at path into a UsageError naming it and what to do."""
    try:
        yield
    except OSError as exc:
        raise output_failed(path, _FAILURES.get(exc.errno or 0, "other"), exc.strerror or str(exc)) from exc


def output_failed(path: Path, case: str, reason: str) -> UsageError:
    """Return the error of an output that could not be written, for one of the cases of output-failed."""
    # One literal case per call: the catalogue checks each call's fields against its templates.
    if case == "disk-full":
        return UsageError("output-failed", case="disk-full", path=str(path))
    if case == "too-large":
        return UsageError("output-failed", case="too-large", path=str(path))
    if case == "read-only":
        return UsageError("output-failed", case="read-only", path=str(path))
    if case == "denied":
        return UsageError("output-failed", case="denied", path=str(path))
    if case == "name-too-long":
        return UsageError("output-failed", case="name-too-long", path=str(path))
    return UsageError("output-failed", case="other", path=str(path), reason=reason)


def check_output(path: Path, force: bool) -> None:
    """Refuse an output that is a folder, sits in a missing folder, or exists (unless force)."""
    _refuse_guarded(path)
    with output_errors(path):  # a name too long for the file system fails already here
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
    temp: _Temp | None = None
    try:
        with output_errors(path):
            with deferred_stop():
                temp = _Temp.beside(path)
            yield temp.path
            # Another process may have written the output meanwhile: still never overwrite without force.
            if path.exists() and not force:
                raise UsageError("output-exists", path=str(path))
            _refuse_guarded(path)
            keep_owner(temp.path, path)
            # mkstemp and O_TMPFILE make the file private (0o600); the output gets the permissions open() would give it.
            os.chmod(temp.path, output_mode(path))
            temp.commit(path, force)
    finally:
        if temp is not None:
            temp.discard()


@contextmanager
def atomic_stream(path: Path, *, force: bool) -> Iterator[BinaryIO]:
    """Yield a binary file to write the output at path into, atomically as atomic_output; see QuietAfterFailure."""
    with atomic_output(path, force=force) as tmp, open(tmp, "wb") as fh:
        stream = QuietAfterFailure(fh)
        try:
            yield stream  # type: ignore[misc]
        except BaseException:
            stream.failed = True  # what the writer left unclosed may write on when collected: into the void
            raise


class _Temp:
    """The temp file an output is written to: nameless where the system allows, else a hidden .NAME.*.tmp."""

    def __init__(self, path: Path, fd: int | None = None, folder: int | None = None) -> None:
        self.path, self.fd, self.folder = path, fd, folder

    @classmethod
    def beside(cls, out: Path) -> _Temp:
        """Make the temp file in the output's folder (a rename never crosses file systems)."""
        nameless = getattr(os, "O_TMPFILE", 0)
        if nameless and os.path.isdir("/proc/self/fd"):
            try:
                fd = os.open(out.parent, nameless | os.O_RDWR | getattr(os, "O_CLOEXEC", 0), 0o600)
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                    raise  # a read-only folder, a full disk: the same with a named file
            else:
                try:
                    folder = os.open(out.parent, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
                except OSError:
                    os.close(fd)
                    raise
                return cls(Path(f"/proc/self/fd/{fd}"), fd, folder)
        fd, name = tempfile.mkstemp(prefix=f".{out.name[:_TEMP_NAME_CHARS]}.", suffix=".tmp", dir=out.parent)
        os.close(fd)
        return cls(Path(name))

    def commit(self, out: Path, force: bool) -> None:
        """Put the finished file in place as out; without force never over a file that appeared meanwhile."""
        if self.fd is None:
            # Another process may have written the output meanwhile: still never overwrite without force.
            if out.exists() and not force:
                raise UsageError("output-exists", path=str(out))
            os.replace(self.path, out)
            return
        if not force:
            try:
                # linkat fails on an existing name: no window in which another process's output is replaced.
                os.link(self.path, out.name, src_dir_fd=self.folder, dst_dir_fd=self.folder, follow_symlinks=True)
            except FileExistsError:
                raise UsageError("output-exists", path=str(out)) from None
            return
        # Replacing needs a name to rename from: it exists for the moment between the link and the rename.
        name = f".{out.name[:_TEMP_NAME_CHARS]}.{secrets.token_hex(4)}.tmp"
        with deferred_stop():
            os.link(self.path, name, src_dir_fd=self.folder, dst_dir_fd=self.folder, follow_symlinks=True)
            try:
                os.replace(name, out.name, src_dir_fd=self.folder, dst_dir_fd=self.folder)
            except BaseException:
                os.unlink(name, dir_fd=self.folder)
                raise

    def discard(self) -> None:
        """Remove what is left: the named temp file, or the nameless one's descriptors."""
        if self.fd is None:
            self.path.unlink(missing_ok=True)
            return
        for fd in (self.fd, self.folder):
            if fd is not None:
                os.close(fd)
        self.fd = self.folder = None


class QuietAfterFailure:
    """A binary file that, after its first OSError (or once its output failed), ignores what is written to it.

    A zip writer (xlsxwriter, openpyxl) that fails on a full disk is left unclosed; when it is collected it
    writes again and prints a traceback. The first error is raised as usual and stops the output; later ones
    are noise.
    """

    def __init__(self, fh: BinaryIO) -> None:
        """Wrap an open binary file."""
        self.fh = fh
        self.failed = False
        self.position = 0  # after a failure, where the writer believes it is (its offsets must stay sane)

    def _do(self, name: str, *args: Any) -> Any:
        try:
            return getattr(self.fh, name)(*args)
        except OSError:
            self.failed = True
            raise

    def write(self, data: bytes) -> int:
        """Write data (nothing after a failure)."""
        if self.failed:
            self.position += len(data)
            return len(data)
        return int(self._do("write", data))

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move in the file."""
        if self.failed:
            self.position = (
                offset if whence == os.SEEK_SET else self.position + (offset if whence == os.SEEK_CUR else 0)
            )
            return self.position
        self.position = int(self._do("seek", offset, whence))
        return self.position

    def tell(self) -> int:
        """Return the position in the file."""
        if not self.failed:
            self.position = int(self._do("tell"))
        return self.position

    def flush(self) -> None:
        """Flush the buffer."""
        if not self.failed:
            self._do("flush")

    def truncate(self, size: int | None = None) -> int:
        """Cut the file at size (or here)."""
        return self.position if self.failed else int(self._do("truncate", size))

    def seekable(self) -> bool:
        """Tell that the file can seek (a zip writer then updates its headers in place)."""
        return True

    def readable(self) -> bool:
        """Tell that the file is for writing only."""
        return False

    def writable(self) -> bool:
        """Tell that the file can be written."""
        return True


# Run by a watcher process: make the folder, say its name, wait until the process that asked for it closes the
# pipe or dies, then remove it. Made by the watcher, the folder never exists without someone to remove it.
# Whatever happens meanwhile (the asker may die before reading the name: a broken pipe), the folder goes.
_WATCHER = """
import shutil, sys, tempfile
folder = tempfile.mkdtemp(prefix=sys.argv[1])
try:
    print(folder, flush=True)
    sys.stdin.buffer.read()
finally:
    shutil.rmtree(folder, ignore_errors=True)
"""


@contextmanager
def scratch_dir(prefix: str = "nianbao-") -> Iterator[Path]:
    """Yield a private folder (in $TMPDIR) for a writer's temporary parts, removed when the block ends.

    A small watcher process makes it and removes it too if this process is killed outright (kill -9, the OOM
    killer), when nothing in this process can run.
    """
    folder: Path | None = None
    watcher: subprocess.Popen[bytes] | None = None
    try:
        with deferred_stop():  # a stop signal now would leave a folder (or a watcher) nobody knows of
            watcher = _watch(prefix)
            name = watcher.stdout.readline().decode().strip() if watcher and watcher.stdout else ""
            # Without a watcher (no Python to start, or it could not make the folder) make it here, with the error.
            folder = Path(name) if name else Path(tempfile.mkdtemp(prefix=prefix))
        yield folder
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        if watcher is not None:
            for pipe in (watcher.stdin, watcher.stdout):
                if pipe is not None:
                    pipe.close()  # the watcher finds the folder gone and ends
            try:
                watcher.wait(5)
            except subprocess.TimeoutExpired:
                watcher.kill()
                watcher.wait()


def _watch(prefix: str) -> subprocess.Popen[bytes] | None:
    """Start a watcher that makes a folder; None where no Python can be started."""
    if not sys.executable:
        return None
    try:
        # Its own session: Ctrl-C and a closed terminal reach this process, never the watcher, which must outlive it.
        return subprocess.Popen(
            [sys.executable, "-S", "-c", _WATCHER, prefix],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        return None
