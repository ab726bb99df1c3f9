"""Merge many reports into one summary workbook: detail rows per report, live totals in the standard layout."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convert.atomic import check_output, protecting
from convert.batch import Outcome, expand_inputs, guarded, prepared, run_many
from convert.errors import NianbaoError, NotAReportError, UsageError
from convert.formats import known_versions, load_format
from convert.inputs import Skipped
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
    skipped: list[tuple[str, str]] = field(default_factory=list)  # inputs left out on purpose (summaries), why
    states: dict[str, int] = field(default_factory=dict)  # how many reports are pass, fail, review

    @property
    def exit_code(self) -> int:
        """Return 0 only when every report is 通过 and nothing was refused or broke continuity, else 1."""
        unsure = any(n for state, n in self.states.items() if state != "pass")
        return 1 if self.refused or unsure or any(f["severity"] == "error" for f in self.findings) else 0


def _row_from_record(record: Record, source: str) -> MergeRow:
    from convert.checks import ERROR, WARNING, Finding, check_rules
    from convert.checks.verdict import judge

    fmt = load_format(record.format)
    findings = check_rules(record, fmt)
    errors = [(f.code, f.fields, f.key) for f in findings if f.severity == ERROR]
    doubts = [Finding(w.code, WARNING, w.fields, key=w.where, text=w.text) for w in record.warnings]
    return MergeRow(
        agency=record.agency or Path(source).stem,
        year=record.year,
        format=record.format,
        source=source,
        values=tuple(record.cells.get(k) for k in fmt.cell_keys),
        errors=errors,
        warnings=sorted({w.code for w in record.warnings}),
        state=judge(record, findings + doubts, fmt).state,
    )


def _read_row(path: Path, debug: bool) -> Outcome:
    def work() -> MergeRow | Skipped:
        from convert.commands import read_any
        from convert.readback import is_summary

        record = read_any(path)
        if is_summary(record):
            # A summary's totals are the sum of reports: merging it again would count them twice.
            return Skipped(path, NotAReportError("skipped-summary"))
        return _row_from_record(record, path.name)

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
    out = Path(out)
    files = expand_inputs(paths, outputs=[out])
    with protecting([*files, group_by]):
        _check_out(out, force)
    outcomes = prepared(
        files,
        run_many(
            _read_row, [(p, debug) for p in files], jobs, label="merge", preload=("convert.reader", "convert.checks")
        ),
        jobs,
    )
    # The summary is written after the batch ends: its inputs stay protected until then.
    with protecting([*files, group_by]):
        return merge_rows(outcomes, out, year=year, latest=latest, group_by=group_by, force=force)


def merge_store(
    store: str | Path | None, year: int, out: str | Path, *, group_by: str | Path | None = None, force: bool = False
) -> MergeResult:
    """Merge the latest revision of every record of one year in a store."""
    from convert.store import open_store

    out = Path(out)
    _check_out(out, force)
    with open_store(store, create=False) as db, protecting([group_by]):
        entries = db.list(year=year)
        outcomes = []
        for entry in entries:
            agency, yr = _entry_key(entry)
            record, info = db.get(agency, yr)
            name = f"store:{agency}/{yr}#{getattr(info, 'number', '')}"
            outcomes.append(Outcome(Path(name), _row_from_record(record, name)))
        if not outcomes:
            raise UsageError("merge-store-empty", year=year)
        # Written while the store is open, so the summary can never replace it.
        return merge_rows(outcomes, out, year=year, latest=False, group_by=group_by, force=force)


def _entry_key(entry: Any) -> tuple[str, int]:
    if isinstance(entry, dict):
        return entry["agency"], int(entry["year"])
    return entry.agency, int(entry.year)


def _check_out(out: Path, force: bool) -> None:
    if out.suffix.lower() != ".xlsx":
        raise UsageError("merge-not-xlsx", path=str(out))
    check_output(out, force)


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
    skipped: list[tuple[str, str]] = []
    seen: dict[tuple[str, int | None], int] = {}
    for outcome in outcomes:
        if not outcome.ok:
            refused.append((str(outcome.path), outcome.error))
            continue
        if isinstance(outcome.value, Skipped):
            skipped.append((str(outcome.path), str(outcome.value.reason)))
            continue
        row: MergeRow = outcome.value
        if year is not None and row.year != year:
            continue
        key = (row.agency, row.year)
        if key in seen:
            if not latest:
                raise DuplicateReportError(
                    "merge-duplicate", agency=row.agency, year=row.year, first=rows[seen[key]].source, second=row.source
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
        if year:
            raise UsageError("merge-nothing-of-year", year=year)
        raise UsageError("merge-nothing")
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
    from convert.checks.verdict import tally

    states = tally(r.state for r in rows)
    return MergeResult(out, len(rows), refused, total_year, total_version, years, versions, findings, skipped, states)


def _manifest(path: Path) -> dict[str, tuple[str, ...]]:
    """Read MANIFEST.csv: a file or agency column, then the group columns (county, city …)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header or len(header) < 2:
                raise UsageError("manifest-no-header", path=str(path))
            out = {}
            for line in reader:
                if line and line[0].strip():
                    out[line[0].strip()] = tuple(c.strip() for c in line[1:])
            return out
    except OSError as exc:
        from convert.safety import os_reason

        raise UsageError("manifest-unreadable", path=str(path), reason=os_reason(exc)) from exc


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
