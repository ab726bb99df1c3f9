"""Reconcile an edited workbook into the store: what changed against the revision it came from, and apply it safely."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convert.checks import Finding, has_errors
from convert.checks.positions import describe
from convert.errors import ConflictError, NotAReportError, Phrase, StoreError, UsageError
from convert.formats import load_format
from convert.record import TEXT_KEYS, Record, Value
from convert.store import Store, default_author, local_time, value_text
from convert.store.base import command_line

APPLIED = "applied"
NOTHING = "nothing-to-apply"
DRY_RUN = "dry-run"
REFUSED = "refused"
META_FIELDS = ("format", "title", "notes", "extra")


@dataclass
class CellDiff:
    """One cell the workbook changes: its key, its label in the official format, old and new value."""

    key: str
    label: str
    old: Value
    new: Value

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready dict (values as exact text)."""
        return {"key": self.key, "label": self.label, "old": value_text(self.old), "new": value_text(self.new)}


@dataclass
class FieldChange:
    """A text block or a metadata field the workbook changes."""

    name: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready dict."""
        return {"name": self.name, "old": self.old, "new": self.new}


@dataclass
class Diff:
    """Every difference between the stored record and the workbook: cells, texts, metadata."""

    cells: list[CellDiff] = field(default_factory=list)
    texts: list[FieldChange] = field(default_factory=list)
    meta: list[FieldChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Tell whether nothing differs."""
        return not (self.cells or self.texts or self.meta)

    def summary(self) -> list[Phrase]:
        """Return a short count of what changed (a list field of a message)."""
        parts = [Phrase("changed-cells", count=len(self.cells))]
        if self.texts:
            parts.append(Phrase("changed-texts", count=len(self.texts)))
        if self.meta:
            parts.append(Phrase("changed-metadata", names=[m.name for m in self.meta]))
        return parts

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready dict."""
        return {
            "cells": [c.to_json() for c in self.cells],
            "texts": [t.to_json() for t in self.texts],
            "meta": [m.to_json() for m in self.meta],
        }


@dataclass
class ReconcileResult:
    """What reconcile found and did for one workbook, and the exit code it deserves."""

    path: Path
    status: str
    agency: str | None
    year: int | None
    message: Phrase
    findings: list[Finding] = field(default_factory=list)
    diff: Diff = field(default_factory=Diff)
    base_revision: int | None = None
    latest_revision: int | None = None
    revision: int | None = None
    conflict: Phrase | None = None
    forced: bool = False
    format: str | None = None  # the format version of the workbook's record

    @property
    def exit_code(self) -> int:
        """Return 0 for applied, nothing to apply or a clean dry run; 1 for findings, a conflict or a refusal."""
        if self.status in (APPLIED, NOTHING):
            return 0
        if self.status == DRY_RUN:
            return 1 if (self.conflict or has_errors(self.findings)) else 0
        return 1

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready dict."""
        return {
            "path": str(self.path),
            "status": self.status,
            "exit_code": self.exit_code,
            "agency": self.agency,
            "year": self.year,
            "message": str(self.message),
            "base_revision": self.base_revision,
            "latest_revision": self.latest_revision,
            "revision": self.revision,
            "conflict": None if self.conflict is None else str(self.conflict),
            "forced": self.forced,
            "diff": self.diff.to_json(),
            "findings": [f.to_json() for f in self.findings],
        }


def cell_label(fmt_version: str, key: str) -> str:
    """Return a cell's label as the official format prints it: sheet, row, column."""
    try:
        fmt = load_format(fmt_version)
        table_key, row_key, col_key = key.split(".")
        table = fmt.tables[table_key]
        row, col = table.row(row_key), table.column(col_key)
    except (KeyError, ValueError, StopIteration):
        return key
    sheet = fmt.section(table_key).sheet
    column = f"{col.group}·{col.label}" if col.group else col.label
    return f"{sheet}：{row.label} / {column}"


def diff_records(old: Record, new: Record) -> Diff:
    """Compare two records: cells by value (24 equals 24.0), texts and metadata as written."""
    diff = Diff()
    keys = list(old.cells) + [k for k in new.cells if k not in old.cells]
    for key in keys:
        before, after = old.cells.get(key), new.cells.get(key)
        if before != after:
            diff.cells.append(CellDiff(key, cell_label(new.format, key), before, after))
    for key in TEXT_KEYS:
        before_text, after_text = list(old.text.get(key, [])), list(new.text.get(key, []))
        if before_text != after_text:
            diff.texts.append(FieldChange(key, before_text, after_text))
    for name in META_FIELDS:
        before_meta, after_meta = getattr(old, name), getattr(new, name)
        if before_meta != after_meta:
            diff.meta.append(FieldChange(name, before_meta, after_meta))
    return diff


def _export_revision(record: Record) -> dict[str, Any] | None:
    """Return the store revision the workbook was exported from, as its cover and properties say."""
    rev = record.source.get("revision")
    if isinstance(rev, dict) and isinstance(rev.get("revision"), int):
        return rev
    return None


def _conflict(
    store: Store, record: Record, rev: dict[str, Any] | None, latest_number: int, record_id: int
) -> Phrase | None:
    """Say why the workbook is not an edit of the latest revision, or None when it is."""
    agency, year = record.agency, record.year
    # The agency is data: quoted for the shell, and after -- should it start like an option.
    words = [str(agency), str(year), "-o", "BOOK.xlsx"]
    if str(agency).startswith("-"):
        words = [*words[2:], "--", *words[:2]]
    how = Phrase("conflict-how", command=command_line("nianbao", "store", "export", *words))
    if rev is None:
        return Phrase("conflict-no-revision", how=how)
    if rev.get("record_id") != record_id or rev.get("agency") != agency or rev.get("year") != year:
        return Phrase(
            "conflict-other-record",
            other=rev.get("record_id"),
            other_agency=rev.get("agency"),
            other_year=rev.get("year"),
            agency=agency,
            year=year,
            record=record_id,
            how=how,
        )
    number = rev["revision"]
    if number == latest_number:
        return None
    if number > latest_number:
        return Phrase("conflict-future-revision", number=number, latest=latest_number, how=how)
    old, _ = store.get(agency, year, number)  # type: ignore[arg-type]
    latest, info = store.get(agency, year)  # type: ignore[arg-type]
    since = diff_records(old, latest)
    keys = [describe(c.key, latest.format) for c in since.cells[:5]] + (["…"] if len(since.cells) > 5 else [])
    return Phrase(
        "conflict-stale",
        number=number,
        latest=latest_number,
        author=info.author,
        created=local_time(info.created),
        changes=since.summary(),
        keys=Phrase("in-parentheses", text=keys) if keys else "",
        how=how,
    )


def reconcile(
    book_path: str | Path,
    store: Store,
    *,
    apply: bool = False,
    author: str | None = None,
    reason: str | None = None,
    force: bool = False,
    add: bool = False,
) -> ReconcileResult:
    """Compare an edited workbook with its record in the store; with apply, store it as a new revision if safe."""
    from convert.readback import check_workbook, is_summary

    path = Path(book_path)
    if force and not (reason and reason.strip()):
        raise UsageError("force-needs-reason")
    author = author or default_author()
    record, findings = check_workbook(path)
    if record is None:
        return ReconcileResult(path, REFUSED, None, None, Phrase("reconcile-not-workbook"), findings)
    if is_summary(record):
        raise NotAReportError("summary-not-a-report")
    agency, year = record.agency, record.year
    if not agency or year is None:
        raise StoreError("reconcile-no-agency", path=str(path))
    rev = _export_revision(record)
    base = rev["revision"] if rev else None
    result = ReconcileResult(
        path, DRY_RUN, agency, year, Phrase("reconcile-nothing"), findings, base_revision=base, format=record.format
    )
    errors = has_errors(findings)

    current = store.find(agency, year)
    if current is None:
        if not add:
            raise StoreError("reconcile-not-in-store", agency=agency, year=year, store=store.location)
        stored = Record(format=record.format, cells={}, agency=agency, year=year, text={k: [] for k in TEXT_KEYS})
        conflict = None
        base = None  # a new record has nothing to be based on
    else:
        stored, _ = store.get(agency, year)
        result.latest_revision = current.number
        conflict = _conflict(store, record, rev, current.number, current.record_id)
    result.conflict = conflict
    result.diff = diff_records(stored, record)

    n_errors = sum(f.severity == "error" for f in findings)
    if not apply:
        problems = [p for p in (conflict, Phrase("error-findings", count=n_errors) if errors else None) if p]
        if problems:
            what = (
                Phrase("no-changes") if result.diff.empty else Phrase("changes-differ", changes=result.diff.summary())
            )
            result.message = Phrase("reconcile-dry-run-refused", what=what, problems=_both(problems))
        elif result.diff.empty:
            result.status = NOTHING
            result.message = Phrase("reconcile-nothing")
        else:
            result.message = Phrase("reconcile-dry-run", changes=result.diff.summary())
        return result

    overridden: list[Phrase] = []
    if conflict:
        if not force:
            raise ConflictError("reconcile-conflict", conflict=conflict)
        overridden.append(Phrase("forced-conflict", conflict=conflict))
    if errors:
        if not force:
            result.status = REFUSED
            result.message = Phrase("reconcile-refused-findings", count=n_errors)
            return result
        overridden.append(Phrase("error-findings", count=n_errors))
    if result.diff.empty and not conflict:
        result.status = NOTHING
        result.message = Phrase("reconcile-nothing")
        return result
    added = store.add(
        record,
        author=author,
        reason=reason,
        source_name=path.name,
        sha256=record.source.get("sha256"),
        base_revision=base,
        forced=bool(overridden),
        note=str(Phrase("forced-over", what=_both(overridden))) if overridden else None,
    )
    result.forced = bool(overridden)
    if not added.added:
        result.status = NOTHING
        result.message = Phrase("reconcile-identical", revision=added.revision)
        return result
    result.status = APPLIED
    result.revision = added.revision
    result.message = Phrase(
        "reconcile-applied",
        agency=agency,
        year=year,
        revision=added.revision,
        author=author,
        changes=result.diff.summary(),
    )
    return result


def _both(problems: list[Phrase]) -> Phrase:
    """One problem, or two joined the way the language joins clauses."""
    return problems[0] if len(problems) == 1 else Phrase("two-problems", first=problems[0], second=problems[1])
