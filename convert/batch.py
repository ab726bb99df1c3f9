"""Run one job over many inputs: expand folders, use a process pool, keep input order, never stop on one bad input."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convert.errors import NianbaoError, Phrase, UnsafeInputError, UsageError


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
        import importlib
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        for module in preload:
            importlib.import_module(module)

        ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        workers = min(jobs, len(items))
        # Small chunks keep both workers busy to the end; large ones amortise pickling for big batches.
        chunk = max(1, min(16, len(items) // (workers * 16) or 1))
        from convert.checks.catalogue import language, set_language

        # A spawned worker (not forked) starts afresh: it is told the language --lang chose.
        with ProcessPoolExecutor(workers, ctx, set_language, (language(),)) as pool:
            for outcome in pool.map(_call, [(func, item) for item in items], chunksize=chunk):
                if bar:
                    bar.advance()
                yield outcome
    finally:
        if bar:
            bar.close()


def _call(job: tuple[Callable[..., Outcome], tuple[Any, ...]]) -> Outcome:
    func, item = job
    return func(*item)


def guarded(path: Path, work: Callable[[], Any], debug: bool = False) -> Outcome:
    """Run work for one input; turn our errors (and, without debug, any bug) into an Outcome."""
    try:
        return Outcome(path, work())
    except NianbaoError as exc:
        if debug:
            raise
        return Outcome(path, error=str(exc), exit_code=exc.exit_code)
    except (MemoryError, RecursionError) as exc:
        if debug:
            raise
        return Outcome(path, error=str(UnsafeInputError("input-too-deep", kind=type(exc).__name__)), exit_code=2)
    except Exception as exc:
        if debug:
            raise
        # A bug of ours must not stop the batch nor print a traceback; --debug shows it.
        error = NianbaoError("internal-error", kind=type(exc).__name__, detail=str(exc))
        return Outcome(path, error=str(error), exit_code=1)


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
