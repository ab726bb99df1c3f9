"""Merge many reports into one summary workbook: detail rows per report, live totals in the standard layout."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convert.batch import Outcome, expand_inputs, guarded, prepared, run_many
from convert.errors import NianbaoError, UsageError
from convert.formats import known_versions, load_format
from convert.merge_model import MergeRow
from convert.record import Record


class DuplicateReportError(NianbaoError):
    """The same agency and year came from two inputs."""

    exit_code = 1


@dataclass
class MergeResult:
    """What a merge wrote and what it refused."""

    path: Path
    merged: int
    refused: list[tuple[str, str]]
    total_year: int | None
    total_version: str
    years: list[int]
    versions: list[str]
    findings: list[dict[str, Any]]

    @property
    def exit_code(self) -> int:
        """Return 1 when an input was refused or a report fails a rule, else 0."""
        return 1 if self.refused or any(f["severity"] == "error" for f in self.findings) else 0


def _row_from_record(record: Record, source: str) -> MergeRow:
    from convert.checks import ERROR, check_rules

    fmt = load_format(record.format)
    errors = [(f.code, f.fields, f.key) for f in check_rules(record, fmt) if f.severity == ERROR]
    return MergeRow(
        agency=record.agency or Path(source).stem,
        year=record.year,
        format=record.format,
        source=source,
        values=tuple(record.cells.get(k) for k in fmt.cell_keys),
        errors=errors,
        warnings=sorted({w.code for w in record.warnings}),
    )


def _read_row(path: Path, debug: bool) -> Outcome:
    def work() -> MergeRow:
        from convert.commands import read_any

        return _row_from_record(read_any(path), path.name)

    return guarded(path, work, debug)


def merge_inputs(
    paths: Sequence[str | Path],
    out: str | Path,
    *,
    year: int | None = None,
    latest: bool = False,
    group_by: str | Path | None = None,
    force: bool = False,
    jobs: int | None = None,
    debug: bool = False,
) -> MergeResult:
    """Read reports and workbooks (files or folders, in any mix) and write one summary workbook."""
    files = expand_inputs(paths)
    out = Path(out)
    _check_out(out, force)
    outcomes = prepared(
        files,
        run_many(
            _read_row, [(p, debug) for p in files], jobs, label="merge", preload=("convert.reader", "convert.checks")
        ),
        jobs,
    )
    return merge_rows(outcomes, out, year=year, latest=latest, group_by=group_by, force=force)


def merge_store(
    store: str | Path | None, year: int, out: str | Path, *, group_by: str | Path | None = None, force: bool = False
) -> MergeResult:
    """Merge the latest revision of every record of one year in a store."""
    from convert.store import open_store

    out = Path(out)
    _check_out(out, force)
    with open_store(store, create=False) as db:
        entries = db.list(year=year)
        outcomes = []
        for entry in entries:
            agency, yr = _entry_key(entry)
            record, info = db.get(agency, yr)
            name = f"store:{agency}/{yr}#{getattr(info, 'number', '')}"
            outcomes.append(Outcome(Path(name), _row_from_record(record, name)))
    if not outcomes:
        raise UsageError(f"the store holds no record of {year}")
    return merge_rows(outcomes, out, year=year, latest=False, group_by=group_by, force=force)


def _entry_key(entry: Any) -> tuple[str, int]:
    if isinstance(entry, dict):
        return entry["agency"], int(entry["year"])
    return entry.agency, int(entry.year)


def _check_out(out: Path, force: bool) -> None:
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"the summary must be an .xlsx file: {out}")
    if out.exists() and not force:
        raise UsageError(f"{out} already exists; use --force to replace it")


def merge_rows(
    outcomes: Iterable[Outcome],
    out: Path,
    *,
    year: int | None = None,
    latest: bool = False,
    group_by: str | Path | None = None,
    force: bool = False,
) -> MergeResult:
    """Dedupe, sort and write merge rows (one per report) as a summary workbook."""
    groups = _manifest(Path(group_by)) if group_by else None
    rows: list[MergeRow] = []
    refused: list[tuple[str, str]] = []
    seen: dict[tuple[str, int | None], int] = {}
    for outcome in outcomes:
        if not outcome.ok:
            refused.append((str(outcome.path), outcome.error))
            continue
        row: MergeRow = outcome.value
        if year is not None and row.year != year:
            continue
        key = (row.agency, row.year)
        if key in seen:
            if not latest:
                raise DuplicateReportError(
                    f"{row.agency} {row.year} comes twice: {rows[seen[key]].source} and {row.source}; "
                    "remove one, or use --latest to keep the later input"
                )
            rows[seen[key]] = row
            continue
        seen[key] = len(rows)
        if groups is not None:
            row.group = (
                groups.get(row.source) or groups.get(Path(row.source).stem) or groups.get(row.agency) or ("未分组",)
            )
        rows.append(row)
    if not rows:
        raise UsageError("nothing to merge: no input could be read" + (f" for {year}" if year else ""))
    # Groups keep the manifest's order (the office's own order of counties), not the alphabet's.
    rank = {g: i for i, g in enumerate(dict.fromkeys((groups or {}).values()))}
    rows.sort(key=lambda r: (r.year or 0, rank.get(r.group, len(rank)), r.group, r.agency))
    years = sorted({r.year for r in rows if r.year is not None})
    total_year = year if year is not None else (years[-1] if years else None)
    in_total = [r for r in rows if r.year == total_year] or rows
    versions = sorted({r.format for r in rows})
    total_versions = sorted({r.format for r in in_total})
    total_version = total_versions[0] if len(total_versions) == 1 else known_versions()[-1]
    findings = _continuity(rows)
    from convert.outputs.summary import write_summary

    write_summary(out, rows, refused, findings, total_year, total_version, force=force)
    return MergeResult(out, len(rows), refused, total_year, total_version, years, versions, findings)


def _manifest(path: Path) -> dict[str, tuple[str, ...]]:
    """Read MANIFEST.csv: a file or agency column, then the group columns (county, city …)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header or len(header) < 2:
                raise UsageError(f"{path}: a manifest needs a header with a file or agency column and a group column")
            out = {}
            for line in reader:
                if line and line[0].strip():
                    out[line[0].strip()] = tuple(c.strip() for c in line[1:])
            return out
    except OSError as exc:
        raise UsageError(f"cannot read manifest {path}: {exc.strerror or exc}") from exc


def _continuity(rows: list[MergeRow]) -> list[dict[str, Any]]:
    """Check carry-over continuity wherever consecutive years of the same agency are present."""
    from convert.checks import check_continuity

    by_key = {(r.agency, r.year): r for r in rows}
    out: list[dict[str, Any]] = []
    for (agency, yr), row in by_key.items():
        before = by_key.get((agency, yr - 1)) if yr is not None else None
        if before is None:
            continue
        now = Record(format=row.format, cells=row.cells(), agency=agency, year=yr)
        prev = Record(format=before.format, cells=before.cells(), agency=agency, year=yr - 1)  # type: ignore[operator]
        for f in check_continuity(now, prev):
            item = f.to_json()
            item["source"] = row.source
            item["agency"] = agency
            item["year"] = yr
            out.append(item)
    return out
