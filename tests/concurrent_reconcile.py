"""The worker of tests/test_store_concurrency.py, in a module the fork server imports once (warming it up)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from convert.errors import ConflictError
from convert.outputs.standard import write_workbook
from convert.readback import check_workbook
from convert.reader import read_report
from convert.reconcile import reconcile
from convert.store import open_store

# The edit: carried over and carried forward by the same amount, so the 勾稽 rules still hold and it applies.
OVER = "requests.carried_over.natural_person"
FORWARD = "requests.carried_forward.natural_person"
SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "zhuzhen-2019.txt"


def worker(location: str, folder: str, who: str, report: tuple[str, int], value: int, barrier: Any, out: Any) -> None:
    """Export the latest revision with an edit, wait for the others, then reconcile it with --apply."""
    try:
        with open_store(location) as store:
            record, info = store.get(*report)
            record.cells[OVER] = record.cells[FORWARD] = value
            book = Path(folder) / f"{who}.xlsx"
            revision = {"record_id": info.record_id, "revision": info.number, "agency": report[0], "year": report[1]}
            write_workbook(record, book, revision=revision)
            barrier.wait(120)
            result = reconcile(book, store, apply=True, author=who, reason="concurrent edit")
        out.put((who, result.status, result.revision, result.message))
    except ConflictError as exc:
        out.put((who, "conflict", None, str(exc)))
    except BaseException as exc:  # tell the test instead of hanging it
        out.put((who, "error", None, repr(exc)))


def _warm_up() -> None:
    """Write and read back one workbook, filling the caches (format, layout, catalogue) every worker needs."""
    try:
        import convert.store.postgres  # noqa: F401  (when psycopg is installed)
    except ImportError:
        pass
    with tempfile.TemporaryDirectory() as folder:
        book = Path(folder) / "warm.xlsx"
        write_workbook(read_report(SAMPLE), book)
        check_workbook(book)


_warm_up()
