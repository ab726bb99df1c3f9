"""The long work of the page, off the request: reading a batch of uploads in the worker pool, with its progress.

Every browser's upload is its own batch with its own id, so two people working at once each get their results.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convert.batch import Outcome, guarded
from convert.record import Record
from convert.web.workspace import Workspace, new_id

UPLOADING, READING, DONE, FAILED = "uploading", "reading", "done", "failed"


@dataclass
class Item:
    """One uploaded file that was read: a report (its record, findings and verdict) or why it is none."""

    index: int
    name: str
    path: Path
    record: Record | None = None
    findings: list[Any] = field(default_factory=list)
    verdict: Any = None
    error: str = ""

    @property
    def report(self) -> bool:
        """Tell whether the file was read as a report (or a standard workbook of one)."""
        return self.record is not None

    @property
    def errors(self) -> int:
        """Count the error findings."""
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        """Count the other findings."""
        return len(self.findings) - self.errors


@dataclass
class Batch:
    """The files one browser sent at once, and what reading them gave."""

    id: str
    folder: Path
    created: float = field(default_factory=time.time)
    state: str = UPLOADING
    names: dict[Path, str] = field(default_factory=dict)
    size: int = 0
    total: int = 0
    done: int = 0
    items: list[Item] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    error: str = ""
    stored: list[tuple[str, str, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def shown(self, path: Path) -> str:
        """Return the name the user gave a file (its folder path included), not where it lies on the server."""
        name = self.names.get(path)
        if name is None:
            try:
                name = path.relative_to(self.folder).as_posix()
            except ValueError:
                name = path.name
        return name

    def reports(self) -> list[Item]:
        """Return the items read as reports."""
        return [i for i in self.items if i.report]

    def progress(self) -> dict[str, Any]:
        """Return what the page polls: the state and how far reading is."""
        return {"state": self.state, "done": self.done, "total": self.total}


@dataclass
class Upload:
    """An edited workbook sent to be reconciled into the store."""

    id: str
    path: Path
    name: str


@dataclass
class Summary:
    """A summary workbook made from selected reports."""

    id: str
    path: Path
    result: Any
    sources: list[str]


def examine_file(path: Path, debug: bool = False) -> Outcome:
    """Read and check one file in a worker, as `nianbao check` does: its record and every finding."""

    def work() -> tuple[Record | None, list[Any]]:
        from convert.commands import check_path

        record, findings, _ = check_path(path)
        return record, findings

    return guarded(path, work, debug)


class Jobs:
    """The batches, uploads and summaries of this server, and the threads that read batches."""

    def __init__(self, workspace: Workspace, jobs: int | None = None, workers: int = 2) -> None:
        self.workspace = workspace
        self.jobs = jobs
        self.batches: dict[str, Batch] = {}
        self.uploads: dict[str, Upload] = {}
        self.summaries: dict[str, Summary] = {}
        self._lock = threading.Lock()
        # Two batches may be read at once (two browsers); a third waits for a thread.
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nianbao-read")

    def new_batch(self) -> Batch:
        """Start a batch with its own folder."""
        bid = new_id()
        batch = Batch(bid, self.workspace.folder("batches", bid))
        with self._lock:
            self.batches[bid] = batch
        return batch

    def batch(self, bid: str) -> Batch | None:
        """Return a batch by id, or None."""
        return self.batches.get(bid)

    def all_batches(self) -> list[Batch]:
        """Return every batch, newest first."""
        return sorted(self.batches.values(), key=lambda b: b.created, reverse=True)

    def start(self, batch: Batch) -> bool:
        """Start reading a batch off the request; False when it was started already."""
        with batch.lock:
            if batch.state != UPLOADING:
                return False
            batch.state = READING
        self._threads.submit(self._read, batch)
        return True

    def _read(self, batch: Batch) -> None:
        try:
            for item in self._items(batch):
                with batch.lock:
                    batch.items.append(item)
                    batch.done += 1
            batch.state = DONE
        except Exception as exc:  # a bug of ours must not leave the page waiting for ever
            batch.error = str(exc) or type(exc).__name__
            batch.state = FAILED

    def _items(self, batch: Batch) -> Iterator[Item]:
        from convert.batch import prepared, run_many
        from convert.checks.verdict import judge
        from convert.commands import READERS
        from convert.inputs import select

        # The folder stands for the reports in it, exactly as a folder given to `nianbao check` does.
        chosen = select([batch.folder])
        batch.skipped = [(batch.shown(s.path), str(s.reason)) for s in chosen.skipped]
        files = chosen.files
        batch.total = len(files)
        outcomes = run_many(
            examine_file,
            [(p,) for p in files],
            self.jobs,
            label="web",
            progress=False,
            preload=(*READERS, "convert.checks"),
        )
        for n, outcome in enumerate(prepared(files, outcomes, self.jobs)):
            item = Item(n, batch.shown(outcome.path), outcome.path)
            if outcome.ok:
                item.record, item.findings = outcome.value
                item.verdict = judge(item.record, item.findings)
                if item.record is None:
                    item.error = next((f.message for f in item.findings), "")
            else:
                item.error = outcome.error
            yield item

    def add_upload(self, upload: Upload) -> None:
        """Keep an uploaded workbook for reconcile."""
        with self._lock:
            self.uploads[upload.id] = upload

    def add_summary(self, summary: Summary) -> None:
        """Keep a summary made for download."""
        with self._lock:
            self.summaries[summary.id] = summary

    def close(self) -> None:
        """Stop taking work; a batch being read finishes in its thread."""
        self._threads.shutdown(wait=False, cancel_futures=True)
