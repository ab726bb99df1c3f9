"""Run one job over many inputs: expand folders, use a process pool, keep input order, never stop on one bad input."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convert.errors import InternalError, NianbaoError, Phrase, UnreadableInputError, UsageError
from convert.lifecycle import deferred_stop

if TYPE_CHECKING:
    from multiprocessing.connection import Connection


@dataclass
class Outcome:
    """What one input gave: a value, or an error message with its exit code."""

    path: Path
    value: Any = None
    error: str = ""
    exit_code: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Tell whether the input was handled."""
        return not self.error


def expand_inputs(paths: Sequence[str | Path], outputs: Sequence[str | Path | None] = ()) -> list[Path]:
    """Expand folders into the files of a kind convert.inputs reads, sorted; keep files as given.

    convert.inputs.select also says why each other file of a folder was skipped; outputs (a workbook, or
    a folder of workbooks) are what the command writes, never taken from a folder as its inputs.
    """
    from convert.inputs import select

    return select(paths, outputs=outputs).inputs()


def prepared(files: Sequence[Path], outcomes: Iterator[Outcome], jobs: int | None = None) -> Iterator[Outcome]:
    """Yield a batch's outcomes, doing first what its inputs need once (LibreOffice converts every .doc/.wps)."""
    from convert.atomic import protecting
    from convert.inputs import prepared as prepare

    # Entered at the first outcome asked for, so before run_many forks its workers; left when the batch ends.
    # While it runs no output may replace one of its inputs (the workers inherit the guard).
    with prepare(files, jobs=default_jobs() if jobs is None else max(1, jobs)), protecting(files):
        yield from outcomes


def default_jobs() -> int:
    """Return the number of worker processes to use by default: the machine's cores."""
    return max(1, os.cpu_count() or 1)


def run_many(
    func: Callable[..., Outcome],
    items: Sequence[tuple[Any, ...]],
    jobs: int | None = None,
    *,
    label: str = "",
    progress: bool | None = None,
    preload: Sequence[str] = (),
) -> Iterator[Outcome]:
    """Call func(*item) for every item, in a process pool when jobs > 1; yield outcomes in input order.

    preload: modules to import before the workers fork, so each worker does not import them again.
    """
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise UsageError("jobs-too-few")
    show = sys.stderr.isatty() and len(items) > 1 if progress is None else progress
    bar = _Progress(len(items), label) if show else None
    try:
        if jobs == 1 or len(items) < 2:
            for item in items:
                outcome = func(*item)
                if bar:
                    bar.advance()
                yield outcome
            return
        yield from _pool(func, items, jobs, preload, bar)
    finally:
        if bar:
            bar.close()


def _pool(
    func: Callable[..., Outcome],
    items: Sequence[tuple[Any, ...]],
    jobs: int,
    preload: Sequence[str],
    bar: _Progress | None,
) -> Iterator[Outcome]:
    """Run items over worker processes; a worker that dies fails the input it was on, and the batch goes on.

    Each worker gets a chunk of item numbers and answers item by item, so a lost worker's current input is known;
    the rest of its chunk goes to the others. Workers die with this process (a kill -9 included), and when this
    process is interrupted or the caller stops early they are stopped with SIGTERM, which removes their temp files.
    """
    import importlib
    import multiprocessing
    from multiprocessing.connection import wait

    for module in preload:
        importlib.import_module(module)
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    size = min(jobs, len(items))
    # Small chunks keep both workers busy to the end; large ones amortise the messages for big batches.
    chunk = max(1, min(16, len(items) // (size * 16) or 1))
    pending = deque(range(len(items)))
    done: dict[int, Outcome] = {}
    workers: list[_Worker] = []

    def feed(worker: _Worker) -> None:
        numbers = [pending.popleft() for _ in range(min(chunk, len(pending)))]
        worker.give(numbers or None)

    def start() -> None:
        try:
            # A stop signal between the fork and this note would leave a worker nobody stops.
            with deferred_stop():
                workers.append(_Worker.start(ctx, func, items, workers))
        except OSError:
            if workers:
                return  # no process to spare (a process limit): the running workers take the rest
            number = pending.popleft()  # none at all: this process does the work, one input at a time
            done[number] = func(*items[number])
            return
        feed(workers[-1])

    try:
        for _ in range(size):
            start()
        following = 0
        while following < len(items):
            while following in done:
                if bar:
                    bar.advance()
                yield done.pop(following)
                following += 1
            if following == len(items):
                break
            if not workers:
                start()
                continue
            ready = set(wait([w.conn for w in workers] + [w.process.sentinel for w in workers]))
            for worker in list(workers):
                if worker.conn in ready:
                    try:
                        number, outcome = worker.conn.recv()
                    except (EOFError, OSError):
                        ready.add(worker.process.sentinel)  # it is gone: its end is seen below
                    else:
                        done[number] = outcome
                        worker.assigned.remove(number)
                        if not worker.assigned:
                            feed(worker)
                        continue
                if worker.process.sentinel in ready:
                    workers.remove(worker)
                    for number, outcome in worker.lost(items):
                        if outcome is None:
                            pending.appendleft(number)
                        else:
                            done[number] = outcome
                    if pending and len(workers) < size:
                        start()
    finally:
        _stop_all(workers)


def _stop_all(workers: list[_Worker]) -> None:
    """Stop the workers still running (SIGTERM: they remove their temp files), and wait for them to end."""
    for worker in workers:
        if worker.process.is_alive() and worker.assigned:
            worker.process.terminate()
        else:
            worker.give(None)
    deadline = time.monotonic() + STOP_SECONDS
    for worker in workers:
        worker.process.join(max(0.0, deadline - time.monotonic()))
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()


# How long stopped workers get to remove their temp files before they are killed.
STOP_SECONDS = 10.0


class _Worker:
    """One worker process: the pipe to it and the item numbers it was given and has not answered yet."""

    def __init__(self, process: Any, conn: Connection) -> None:
        self.process, self.conn = process, conn
        self.assigned: deque[int] = deque()

    @classmethod
    def start(
        cls, ctx: Any, func: Callable[..., Outcome], items: Sequence[tuple[Any, ...]], others: list[_Worker]
    ) -> _Worker:
        """Start a worker; forked, it inherits func and items (nothing is pickled) and drops the others' pipes."""
        ours, theirs = ctx.Pipe()
        # A forked worker inherits every pipe end of this process: it keeps only its own end, so it sees EOF.
        drop = [ours, *(w.conn for w in others)] if ctx.get_start_method() == "fork" else []
        # Daemon: were one ever left running, exiting would terminate it rather than wait for it for ever.
        process = ctx.Process(
            target=_serve, args=(func, items, theirs, os.getpid(), drop), name="nianbao-worker", daemon=True
        )
        try:
            process.start()
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        return cls(process, ours)

    def give(self, numbers: list[int] | None) -> None:
        """Send item numbers to do (None: nothing more, end)."""
        if numbers:
            self.assigned.extend(numbers)
        try:
            self.conn.send(numbers)
        except (BrokenPipeError, OSError):
            pass  # it died meanwhile: its end is seen by the pool's wait

    def lost(self, items: Sequence[tuple[Any, ...]]) -> Iterator[tuple[int, Outcome | None]]:
        """After the worker ended: its current input failed, the rest of its chunk (None) is to do again."""
        self.process.join()
        self.conn.close()
        if not self.assigned:
            return
        current = self.assigned.popleft()
        code = self.process.exitcode or 0
        if code < 0:
            error = WorkerLostError("worker-lost", case="signal", signal=_signal_name(-code))
        else:
            error = WorkerLostError("worker-lost", case="exit", status=code)
        yield current, Outcome(Path(str(items[current][0])), error=str(error), exit_code=error.exit_code)
        for number in reversed(self.assigned):
            yield number, None
        self.assigned.clear()


class WorkerLostError(UnreadableInputError):
    """The worker process reading an input died (the OOM killer, a crash in a library): that input failed."""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _serve(
    func: Callable[..., Outcome], items: Sequence[tuple[Any, ...]], conn: Connection, parent: int, drop: list[Any]
) -> None:  # pragma: no cover - runs in the worker; coverage does not follow it
    """A worker: do the item numbers sent, answer each as it is done, end at None or when the parent ends."""
    from convert.lifecycle import as_worker, die_with_parent

    as_worker()
    die_with_parent(parent)  # SIGTERM, so what it was writing is removed (the signal unwinds like Ctrl-C)
    for other in drop:
        other.close()  # the parent's end of a pipe, inherited by the fork
    try:
        while True:
            numbers = conn.recv()
            if numbers is None:
                return
            for number in numbers:
                outcome = func(*items[number])
                try:
                    conn.send((number, outcome))
                except (BrokenPipeError, EOFError):
                    raise
                except Exception as exc:  # an answer that cannot be sent (pickled) is that input's error
                    error = failure(exc)
                    conn.send((number, Outcome(outcome.path, error=str(error), exit_code=error.exit_code)))
    except (BrokenPipeError, EOFError):
        return  # the parent is gone
    except KeyboardInterrupt as exc:  # stopped by a signal; every finally has run
        sys.exit(getattr(exc, "exit_code", 130))


def failure(exc: Exception) -> NianbaoError:
    """Return what one input failed with as one of our errors: ours as they are, anything else as a bug."""
    if isinstance(exc, NianbaoError):
        return exc
    if isinstance(exc, MemoryError | RecursionError):
        return UnreadableInputError("input-too-large", kind=type(exc).__name__)
    # A bug of ours must not stop the batch nor print a traceback; --debug shows it.
    return InternalError("internal-error", kind=type(exc).__name__, detail=str(exc))


def guarded(path: Path, work: Callable[[], Any], debug: bool = False) -> Outcome:
    """Run work for one input; turn our errors (and, without debug, any bug) into an Outcome."""
    try:
        return Outcome(path, work())
    except Exception as exc:
        if debug:
            raise
        error = failure(exc)
        return Outcome(path, error=str(error), exit_code=error.exit_code)


# What the bar says it is doing, for each batch label, in the reader's language.
_LABELS = {
    "read": Phrase("progress-read"),
    "convert": Phrase("progress-convert"),
    "check": Phrase("progress-check"),
    "merge": Phrase("progress-merge"),
}


class _Progress:
    """A rich progress bar on stderr, only for terminals."""

    def __init__(self, total: int, label: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self.progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.progress.start()
        self.task = self.progress.add_task(str(_LABELS.get(label, Phrase("progress-working"))), total=total)

    def advance(self) -> None:
        """Count one input done."""
        self.progress.advance(self.task)

    def close(self) -> None:
        """Remove the bar."""
        self.progress.stop()
