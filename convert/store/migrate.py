"""Copy a whole store into another, empty one (SQLite to PostgreSQL, or back), then verify the copy."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from convert.errors import StoreError, UsageError
from convert.record import Record, dumps
from convert.store.base import RevisionInfo, Store

# What a revision is, apart from where it sits (its row ids): the checksum covers exactly this.
_COPIED = ("number", "author", "created", "reason", "source_name", "source_sha256", "base_revision", "forced", "note")


@dataclass
class MigrateResult:
    """What was copied: reports, revisions and cells (every revision's, blanks included)."""

    source: str
    target: str
    reports: int
    revisions: int
    cells: int

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready dict."""
        return asdict(self)


def migrate(source: str | Path, target: str | Path) -> MigrateResult:
    """Copy every revision of every report from source into the empty store target; verify counts and checksums."""
    from convert.store import open_store, store_location

    if _same(store_location(source), store_location(target)):
        raise UsageError("store-migrate-same", location=str(source))
    with open_store(source, create=False) as src, open_store(target) as dst:
        expected: dict[tuple[str, int], tuple[int, str]] = {}
        cells = 0

        def copied() -> Iterator[tuple[Record, RevisionInfo]]:
            nonlocal cells
            # Checksums of the source are taken from what is copied, so a writer busy on the source meanwhile
            # cannot make the copy look wrong.
            for key, revisions in _revisions(src):
                digest = hashlib.sha256()
                for record, info in revisions:
                    _feed(digest, record, info)
                    cells += len(record.cells)
                    yield record, info
                expected[key] = (info.number, digest.hexdigest())

        count = dst.import_revisions(copied())
        _verify(dst, expected, (len(expected), count, cells))
    return MigrateResult(src.location, dst.location, len(expected), count, cells)


def _revisions(store: Store) -> Iterator[tuple[tuple[str, int], Iterator[tuple[Record, RevisionInfo]]]]:
    """Yield each report's key with its revisions, oldest first."""
    for report in store.list():

        def each(agency: str = report.agency, year: int = report.year, n: int = report.revisions) -> Iterator[Any]:
            for number in range(1, n + 1):
                yield store.get(agency, year, number)

        yield (report.agency, report.year), each()


def _feed(digest: Any, record: Record, info: RevisionInfo) -> None:
    """Add one revision to a report's checksum: its bookkeeping and its whole record."""
    digest.update(dumps({name: getattr(info, name) for name in _COPIED}).encode())
    digest.update(b"\0")
    digest.update(record.dumps().encode())
    digest.update(b"\0")


def _verify(store: Store, expected: dict[tuple[str, int], tuple[int, str]], totals: tuple[int, int, int]) -> None:
    """Read the copy back and compare, report by report, with what was copied; StoreError at the first difference."""
    where = store.location
    found = store.counts()
    if found != totals:
        raise StoreError(
            "store-migrate-mismatch", case="totals", location=where, source=_slash(totals), target=_slash(found)
        )
    for report in store.list():
        number, checksum = expected.get((report.agency, report.year), (0, ""))
        if report.revisions != number:
            raise StoreError(
                "store-migrate-mismatch", case="revisions", location=where, agency=report.agency,
                year=report.year, source=number, target=report.revisions,
            )  # fmt: skip
        digest = hashlib.sha256()
        for n in range(1, report.revisions + 1):
            _feed(digest, *store.get(report.agency, report.year, n))
        if digest.hexdigest() != checksum:
            raise StoreError(
                "store-migrate-mismatch", case="checksum", location=where, agency=report.agency,
                year=report.year, source=checksum[:12], target=digest.hexdigest()[:12],
            )  # fmt: skip


def _slash(numbers: tuple[int, ...]) -> str:
    return "/".join(map(str, numbers))


def _same(a: str, b: str) -> bool:
    """Tell whether two locations name the same store (the same file, or the same URL)."""
    if "://" in a or "://" in b:
        return a == b
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False
