"""How a nianbao process ends: a stop signal unwinds it like Ctrl-C (every temp file removed), a worker dies
with the process that started it, and a library's late complaints about what a failure left open stay quiet.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

# The signals a user, a terminal or the system sends to stop a program: all can be caught, so all clean up.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
# Linux prctl option: send this process a signal when its parent dies.
PR_SET_PDEATHSIG = 1
# How often the fallback watch (where prctl is missing) looks whether the parent is still there.
PARENT_POLL_SECONDS = 0.5


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived: unwind as Ctrl-C does (finally blocks remove temp files), exit with 128 + signal."""

    def __init__(self, signum: int) -> None:
        """Remember which signal it was."""
        super().__init__(signum)
        self.signum = signum
        self.exit_code = 128 + signum


_running = 0  # commands running in this process (stoppable blocks): a stop signal unwinds them


@contextmanager
def stoppable() -> Iterator[None]:
    """Run a command whose stop (a signal, Ctrl-C) unwinds it as Interrupted, to be reported by its caller."""
    global _running
    _running += 1
    try:
        yield
    finally:
        _running -= 1


_deferring = 0  # deferred_stop blocks entered: a stop signal waits for the last one to end
_pending: int | None = None  # the stop signal that came meanwhile


@contextmanager
def deferred_stop() -> Iterator[None]:
    """Hold a stop signal until the block ends: for the few steps that make a temp file and take note of it."""
    # A signal between the making and the noting would leave a file nobody removes.
    global _deferring, _pending
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if not _deferring and _pending is not None:
            signum, _pending = _pending, None
            _deliver(signum)


def as_worker() -> None:
    """Set up a forked worker: its stop unwinds it (its caller ends quietly); nothing of its parent's state held."""
    # The fork happened inside the parent's command and inside a deferred_stop block, neither of which the
    # worker ever leaves: its stop would otherwise wait for ever, or print the parent's message.
    global _running, _deferring, _pending
    _running, _deferring, _pending = 1, 0, None
    catch_stop_signals()


def _stop(signum: int, frame: FrameType | None) -> None:
    global _pending
    # Once: a second signal while the first one's cleanup runs must not cut that cleanup short.
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    if _deferring:
        _pending = signum
        return
    _deliver(signum)


def _deliver(signum: int) -> None:
    if not _running:
        # Before a command starts (its arguments being parsed) or after it ended: nothing to unwind, and the
        # command line's own handling would turn the interrupt into a silent exit 130.
        try:
            from convert.checks.catalogue import text

            message = text("interrupted")
        except Exception:
            # Stopped while the catalogue itself was being imported: unwind that import first; the caller
            # (convert.__main__.run) says it once the catalogue can be imported afresh.
            raise Interrupted(signum) from None
        print(message, file=sys.stderr)
        raise SystemExit(128 + signum)
    raise Interrupted(signum)


def catch_stop_signals() -> None:
    """Turn SIGINT, SIGTERM and SIGHUP into Interrupted in this process (main thread only); keep those ignored."""
    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) is signal.SIG_IGN:
            continue  # nohup, or a parent that wants this process to outlive a closed terminal
        signal.signal(sig, _stop)


def die_with_parent(parent: int, sig: int = signal.SIGTERM) -> None:
    """Have this process get sig when the process parent (its parent) ends, however it ends (kill -9 too).

    Linux tells the kernel (prctl PR_SET_PDEATHSIG); elsewhere a thread watches the parent's pid.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) == 0:
                if os.getppid() != parent:  # the parent ended before the kernel was asked
                    os.kill(os.getpid(), sig)
                return
        except (OSError, AttributeError):
            pass
    threading.Thread(target=_watch_parent, args=(parent, sig), name="parent-watch", daemon=True).start()


def _watch_parent(parent: int, sig: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os.kill(os.getpid(), sig)


def quiet_leftovers(show: Callable[[], bool]) -> None:
    """Print what Python reports of objects collected after a failure (a zip writer left open) only if show()."""
    # After a full disk, a library's half-written zip or XML writer complains again when it is collected, with a
    # traceback, after the one-line error already said what failed; --debug (show) keeps those reports.

    def hook(unraisable: Any) -> None:
        if show():
            sys.__unraisablehook__(unraisable)

    sys.unraisablehook = hook


__all__ = [
    "STOP_SIGNALS",
    "Interrupted",
    "as_worker",
    "catch_stop_signals",
    "deferred_stop",
    "die_with_parent",
    "quiet_leftovers",
    "stoppable",
]
