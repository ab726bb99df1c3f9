"""Run a parser of untrusted files in a child process with a memory ceiling and a deadline.

A PDF (or any document format with compressed streams and nested objects) can be built to make a parser
allocate without end or loop for hours. Limits inside the parser cannot cover every trick, so the parser runs
in a forked child whose address space and time are capped: a bomb kills the child, never this process.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import resource
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from convert.errors import NianbaoError, Phrase, UnsafeInputError

T = TypeVar("T")

READ_BYTES = 1 << 16


def can_isolate() -> bool:
    """Tell whether this platform gives a cheap child (fork) with an enforced address-space limit (Linux)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def run_isolated(func: Callable[..., T], *args: Any, seconds: float, memory_bytes: int, what: Phrase) -> T:
    """Return func(*args) computed in a child with memory_bytes more address space and seconds of time.

    Our errors raised in the child are raised here; a child that runs out of memory, time, or crashes gives
    an UnsafeInputError naming `what` (e.g. Phrase("the-pdf")). Where fork is missing, func runs here, unguarded.
    """
    if not can_isolate():
        return func(*args)
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return func(*args)  # no process to spare (a process limit): read here rather than not at all
    if pid == 0:  # pragma: no cover - the child; coverage does not follow it
        _child(func, args, write_end, read_end, seconds, memory_bytes)
    os.close(write_end)
    finished = False
    try:
        data, finished = _collect(read_end, time.monotonic() + seconds)
    finally:
        os.close(read_end)
        if not finished:  # the deadline passed, or this process was interrupted
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if not finished:
        raise UnsafeInputError("isolate-timeout", what=what, seconds=f"{seconds:g}")
    outcome: str | None
    value: Any
    try:
        outcome, value = pickle.loads(data) if data else (None, None)
    except (pickle.UnpicklingError, EOFError, ValueError):
        outcome, value = None, None  # cut short: the child died while answering
    if outcome is None:
        cause = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.WEXITSTATUS(status)}"
        raise UnsafeInputError("isolate-crashed", what=what, megabytes=memory_bytes // (1 << 20), cause=cause)
    if outcome == "ok":
        return cast(T, value)
    if outcome == "error" and isinstance(value, BaseException):
        raise value
    if outcome == "memory":
        raise UnsafeInputError("isolate-memory", what=what, megabytes=memory_bytes // (1 << 20))
    raise RuntimeError(value)  # a bug of ours in the child, shown as an internal error


def _collect(fd: int, deadline: float) -> tuple[bytes, bool]:
    """Read the child's answer until it closes the pipe (True) or the deadline passes (False)."""
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"", False
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, READ_BYTES)
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)


def _child(
    func: Callable[..., Any], args: tuple[Any, ...], fd: int, other: int, seconds: float, memory_bytes: int
) -> None:  # pragma: no cover - runs in the child
    """Compute in the child, send (outcome, value) pickled, and leave without running the parent's exit handlers."""
    code = 0
    try:
        os.close(other)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        # A parser that aborts (out of memory) must not print its own report or a traceback dump: the parent
        # says what happened in one line.
        faulthandler.disable()
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 2)
        # Fresh streams: another thread of the parent may have held the old ones' locks at the fork.
        sys.stdout = sys.stderr = open(os.devnull, "w")  # lives until os._exit
        # The parent's deadline is what counts; the CPU limit only stops a child whose parent died.
        cpu = int(seconds) + 2
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        ceiling = _address_space() + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
        try:
            answer: tuple[str, Any] = ("ok", func(*args))
        except NianbaoError as exc:
            answer = ("error", exc)
        except MemoryError:
            answer = ("memory", None)
        except RecursionError:
            answer = ("error", UnsafeInputError("isolate-too-deep"))
        except Exception as exc:
            answer = ("bug", f"{type(exc).__name__}: {exc}")
        try:
            data = pickle.dumps(answer)
        except MemoryError:
            data = pickle.dumps(("memory", None))
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        code = 70
    finally:
        os._exit(code)


def _address_space() -> int:
    """The child's current virtual memory size in bytes (what it shares with the parent counts against it)."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
