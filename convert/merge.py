"""Merge many reports into one summary workbook: detail rows per report, live totals in the standard layout.

Reports are ordered as a person expects: by a grouping manifest's order when one is given, else by the
拼音 of the agency's name (pypinyin), names that read the same keeping their input order. The same
agency and year from two files is one report when the numbers agree (a .docx and its .pdf); when they
differ it is a conflict shown on the township's row, never an error that stops the merge.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from convert.atomic import check_output, output_errors, protecting
from convert.batch import Outcome, expand_inputs, guarded, prepared, run_many
from convert.errors import NianbaoError, NotAReportError, UsageError
from convert.formats import known_versions, load_format
from convert.inputs import Skipped
from convert.merge_model import ERROR, NOTE, MergeRow, Problem
from convert.record import Record, Value

# How the rows of a summary are ordered (MergeResult.order): a manifest's order, or 拼音.
BY_MANIFEST, BY_PINYIN = "manifest", "pinyin"


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
    order: str = BY_PINYIN
    same: int = 0  # reports that came as two files with the same numbers (counted once)
    conflicts: int = 0  # agencies and years that came twice with different numbers
    dropped: list[str] = field(default_factory=list)  # files --latest left out

    @property
    def exit_code(self) -> int:
        """Return 0 only when every report is 通过 and nothing was refused or broke continuity, else 1."""
        unsure = any(n for state, n in self.states.items() if state != "pass")
        return 1 if self.refused or unsure or any(f["severity"] == "error" for f in self.findings) else 0


def row_from(record: Record, findings: Iterable[Any], source: str, *, each: bool = False) -> MergeRow:
    """Reduce a report and its findings to a merge row: its cells, its problems in words, its verdict.

    each: every problem one by one (a notice), not the summary's short list of them.
    """
    from convert.notice import problems_of

    fmt = load_format(record.format)
    problems, verdict = problems_of(record, findings, fmt, each=each)
    return MergeRow(
        agency=record.agency or Path(source).stem,
        year=record.year,
        format=record.format,
        source=source,
        values=tuple(record.cells.get(k) for k in fmt.cell_keys),
        problems=problems,
        state=verdict.state,
        title=record.title,
    )


def _row_from_record(record: Record, source: str) -> MergeRow:
    from convert.checks import WARNING, Finding, check_rules

    fmt = load_format(record.format)
    # The reader's own rule-failed warnings say again what check_rules finds.
    doubts = [
        Finding(w.code, WARNING, w.fields, key=w.where, text=w.text) for w in record.warnings if w.code != "rule-failed"
    ]
    return row_from(record, check_rules(record, fmt) + doubts, source)


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
    title: str | None = None,
    force: bool = False,
    jobs: int | None = None,
    debug: bool = False,
) -> MergeResult:
    """Read reports and workbooks (files or folders, in any mix) and write one summary workbook."""
    out = Path(out)
    files = expand_inputs(paths, outputs=[out])
    with protecting([*files, group_by]):
        _check_out(out, force)
        manifest = read_manifest(Path(group_by)) if group_by else None
    outcomes = prepared(
        files,
        run_many(
            _read_row, [(p, debug) for p in files], jobs, label="merge", preload=("convert.reader", "convert.checks")
        ),
        jobs,
    )
    # The summary is written after the batch ends: its inputs stay protected until then.
    with protecting([*files, group_by]):
        return merge_rows(outcomes, out, year=year, latest=latest, manifest=manifest, title=title, force=force)


def merge_store(
    store: str | Path | None,
    year: int,
    out: str | Path,
    *,
    group_by: str | Path | None = None,
    title: str | None = None,
    force: bool = False,
) -> MergeResult:
    """Merge the latest revision of every record of one year in a store."""
    from convert.store import open_store

    out = Path(out)
    _check_out(out, force)
    manifest = read_manifest(Path(group_by)) if group_by else None
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
        return merge_rows(outcomes, out, year=year, latest=False, manifest=manifest, title=title, force=force)


def _entry_key(entry: Any) -> tuple[str, int]:
    if isinstance(entry, dict):
        return entry["agency"], int(entry["year"])
    return entry.agency, int(entry.year)


def _check_out(out: Path, force: bool) -> None:
    if out.suffix.lower() != ".xlsx":
        raise UsageError("merge-not-xlsx", path=str(out))
    with output_errors(out):  # a name too long for the file system fails already here
        check_output(out, force)


# ---------------------------------------------------------------------------------------------
# One row per report: the same report from two files is one, two different ones a conflict


@dataclass
class Combined:
    """The rows of a batch, one per agency and year, and what combining them found."""

    rows: list[MergeRow]
    refused: list[tuple[str, str]]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # inputs left out on purpose (summaries), why
    same: int = 0
    conflicts: int = 0
    dropped: list[str] = field(default_factory=list)


def combine(outcomes: Iterable[Outcome], *, year: int | None = None, latest: bool = False) -> Combined:
    """Keep one row per agency and year, in input order; say on the row what its other files were."""
    from convert.checks.verdict import RANK
    from convert.outputs.template import load_template

    checks = load_template().summary.checks
    out = Combined([], [])
    seen: dict[tuple[str, int | None], int] = {}
    for outcome in outcomes:
        if not outcome.ok:
            out.refused.append((str(outcome.path), outcome.error))
            continue
        if isinstance(outcome.value, Skipped):
            out.skipped.append((str(outcome.path), str(outcome.value.reason)))
            continue
        row: MergeRow = outcome.value
        if year is not None and row.year != year:
            continue
        key = (row.agency, row.year)
        if key not in seen:
            seen[key] = len(out.rows)
            out.rows.append(row)
            continue
        kept = out.rows[seen[key]]
        differ = _differences(kept, row)
        if not differ:
            # One report in two files (a .docx and its .pdf): the one read with fewer doubts counts.
            better, other = (row, kept) if RANK[row.state] > RANK[kept.state] else (kept, row)
            better.also.append(other.source)
            better.problems.append(Problem(NOTE, "same-report", "", checks.same_report.format(file=other.source)))
            out.rows[seen[key]] = better
            out.same += 1
        elif latest:
            row.also.append(kept.source)
            row.problems.append(
                Problem(NOTE, "dropped-duplicate", "", checks.dropped.format(file=kept.source, kept=row.source))
            )
            out.rows[seen[key]] = row
            out.dropped.append(kept.source)
        else:
            # Two different reports of one agency and year: the first counts until a person says which is right.
            kept.also.append(row.source)
            cells = checks.cell_separator.join(
                checks.conflict_cell.format(where=where, this=_show(a), other=_show(b)) for where, a, b in differ[:5]
            ) + ("…" if len(differ) > 5 else "")
            message = checks.conflict.format(file=row.source, count=len(differ), cells=cells)
            kept.problems.insert(0, Problem(ERROR, "same-report-differs", "", message))
            kept.state = "fail"
            out.conflicts += 1
    return out


def _differences(a: MergeRow, b: MergeRow) -> list[tuple[str, Value, Value]]:
    """Return the cells two rows of one agency and year disagree on, in words, with both values."""
    if a.format == b.format and a.values == b.values:
        return []
    if not a.values or not b.values:
        return []  # a row read back from a summary's checks sheet has no cells to compare
    from convert.notice import printed_cell

    cells_a, cells_b = a.cells(), b.cells()
    keys = list(dict.fromkeys([*cells_a, *cells_b]))
    return [
        (printed_cell(k, a.format if k in cells_a else b.format), cells_a.get(k), cells_b.get(k))
        for k in keys
        if cells_a.get(k) != cells_b.get(k)
    ]


def _show(value: Value) -> str:
    from convert.outputs.template import load_template

    return load_template().standard.check.blank if value is None else str(value)


# ---------------------------------------------------------------------------------------------
# Order: a manifest's, else 拼音


@dataclass
class Manifest:
    """A grouping manifest: per file or agency its group columns, and its line's place in the file."""

    path: Path
    groups: dict[str, tuple[str, ...]]
    order: dict[str, int]

    def find(self, row: MergeRow) -> str | None:
        """Return the manifest's name for a row: its file name, its file's stem, or its agency."""
        for name in (row.source, Path(row.source).stem, row.agency):
            if name in self.groups:
                return name
        return None


def read_manifest(path: Path) -> Manifest:
    """Read a grouping manifest (CSV, or tab-separated as Excel's Unicode text), decoded like report text.

    Excel on Chinese Windows saves CSV in GBK and Unicode text in UTF-16; both read, as UTF-8 with or
    without BOM does. The first column names a file or an agency, the next ones its groups.
    """
    from convert.inputs.text import decode_text

    try:
        text, _ = decode_text(path.read_bytes())
    except OSError as exc:
        from convert.safety import os_reason

        raise UsageError("manifest-unreadable", path=str(path), reason=os_reason(exc)) from exc
    except NianbaoError as exc:
        raise UsageError("manifest-unreadable", path=str(path), reason=str(exc)) from exc
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    lines = [[c.strip() for c in line] for line in csv.reader(io.StringIO(text), delimiter=delimiter)]
    if not lines or len(lines[0]) < 2:
        raise UsageError("manifest-no-header", path=str(path))
    groups: dict[str, tuple[str, ...]] = {}
    order: dict[str, int] = {}
    for n, line in enumerate(lines[1:]):
        if line and line[0] and line[0] not in groups:
            groups[line[0]] = tuple(line[1:])
            order[line[0]] = n
    return Manifest(path, groups, order)


_DIGITS = re.compile(r"(\d+)")


@lru_cache(maxsize=65536)
def pinyin_key(name: str) -> tuple[tuple[int, int, str], ...]:
    """Return a name's sort key by 拼音 with tones (东 dong1 < 七 qi1 < 三 san1); digits by their number."""
    from pypinyin import Style, lazy_pinyin

    key: list[tuple[int, int, str]] = []
    for syllable in lazy_pinyin(name, style=Style.TONE3, neutral_tone_with_five=True):
        for part in _DIGITS.split(syllable.lower()):
            if part.isdigit():
                key.append((0, int(part), part))
            elif part:
                key.append((1, 0, part))
    return tuple(key)


def order_rows(rows: list[MergeRow], manifest: Manifest | None) -> str:
    """Sort rows in place: by year, then the manifest's groups and lines, else 拼音; return which order."""
    if manifest is not None:
        from convert.outputs.template import load_template

        ungrouped = (load_template().summary.detail.ungrouped,)
        for row in rows:
            name = manifest.find(row)
            row.group = manifest.groups[name] if name is not None else ungrouped
    # Groups keep the manifest's order (the office's own order of counties), not the alphabet's.
    rank = {g: i for i, g in enumerate(dict.fromkeys((manifest.groups if manifest else {}).values()))}

    def key(row: MergeRow) -> tuple[Any, ...]:
        name = manifest.find(row) if manifest is not None else None
        line = manifest.order[name] if manifest is not None and name is not None else len(rows)
        return (row.year or 0, rank.get(row.group, len(rank)), row.group, line, pinyin_key(row.agency))

    rows.sort(key=key)  # stable: names that read the same keep their input order
    return BY_MANIFEST if manifest is not None else BY_PINYIN


# ---------------------------------------------------------------------------------------------
# The summary


def merge_rows(
    outcomes: Iterable[Outcome],
    out: Path,
    *,
    year: int | None = None,
    latest: bool = False,
    manifest: Manifest | None = None,
    title: str | None = None,
    force: bool = False,
) -> MergeResult:
    """Combine, order and write merge rows (one per report) as a summary workbook."""
    combined = combine(outcomes, year=year, latest=latest)
    rows = combined.rows
    if not rows:
        if year:
            raise UsageError("merge-nothing-of-year", year=year)
        raise UsageError("merge-nothing")
    order = order_rows(rows, manifest)
    years = sorted({r.year for r in rows if r.year is not None})
    total_year = year if year is not None else (years[-1] if years else None)
    in_total = [r for r in rows if r.year == total_year] or rows
    versions = sorted({r.format for r in rows})
    total_versions = sorted({r.format for r in in_total})
    total_version = total_versions[0] if len(total_versions) == 1 else known_versions()[-1]
    findings, previous = attach_continuity(rows)
    from convert.outputs.summary import Extras, write_summary

    extras = Extras(
        title=title,
        order=order,
        manifest=manifest.path.name if manifest is not None else None,
        same=combined.same,
        conflicts=combined.conflicts,
        dropped=len(combined.dropped),
        carry_over=len({(f["agency"], f["year"]) for f in findings}),
        previous=previous,
    )
    write_summary(out, rows, combined.refused, total_year, total_version, extras, force=force)
    from convert.checks.verdict import tally

    states = tally(r.state for r in rows)
    return MergeResult(
        out,
        len(rows),
        combined.refused,
        total_year,
        total_version,
        years,
        versions,
        findings,
        combined.skipped,
        states,
        order,
        combined.same,
        combined.conflicts,
        combined.dropped,
    )


def attach_continuity(rows: list[MergeRow]) -> tuple[list[dict[str, Any]], dict[int, MergeRow]]:
    """Check carry-over wherever an agency's previous year is among the rows; each break is its row's problem.

    Return the findings (JSON, as --json shows them) and, by a row's position, its agency's previous year.
    """
    from convert.checks import check_continuity
    from convert.notice import problems_of

    by_key = {(r.agency, r.year): r for r in rows}
    out: list[dict[str, Any]] = []
    previous: dict[int, MergeRow] = {}
    for i, row in enumerate(rows):
        before = by_key.get((row.agency, row.year - 1)) if row.year is not None else None
        if before is None:
            continue
        previous[i] = before
        now = Record(format=row.format, cells=row.cells(), agency=row.agency, year=row.year)
        prev = Record(format=before.format, cells=before.cells(), agency=before.agency, year=before.year)
        found = check_continuity(now, prev)
        if not found:
            continue
        breaks, _ = problems_of(None, found, load_format(row.format))
        # The township's own row carries the break and its verdict: never 通过 beside a break.
        row.problems[:0] = [p for p in breaks if p.kind == ERROR]
        row.state = "fail"
        for f in found:
            item = f.to_json()
            item["source"] = row.source
            item["agency"] = row.agency
            item["year"] = row.year
            out.append(item)
    return out, previous


__all__ = [
    "BY_MANIFEST",
    "BY_PINYIN",
    "Combined",
    "Manifest",
    "MergeResult",
    "attach_continuity",
    "combine",
    "merge_inputs",
    "merge_rows",
    "merge_store",
    "order_rows",
    "pinyin_key",
    "read_manifest",
    "row_from",
]
