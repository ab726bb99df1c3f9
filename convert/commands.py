"""The library functions behind each command: one per command, each over many inputs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convert.atomic import output_errors
from convert.batch import Outcome, expand_inputs, guarded, prepared, run_many
from convert.errors import UsageError
from convert.record import Record

if TYPE_CHECKING:
    from convert.checks import Finding

# Imported before a batch forks its workers (each would otherwise import them again).
READERS = ("convert.reader", "convert.inputs", "convert.readback")


def read_any(path: Path) -> Record:
    """Read an input of any kind convert.inputs reads (a report, a standard workbook), deciding by content."""
    from convert.reader import read_report

    return read_report(path)


def _read_one(path: Path, debug: bool) -> Outcome:
    return guarded(path, lambda: read_any(path).dumps(), debug)


def read_inputs(paths: Sequence[str | Path], jobs: int | None = None, debug: bool = False) -> Iterator[Outcome]:
    """Read every input (files or folders) into records; yield JSON text per input, in input order."""
    files = expand_inputs(paths)
    return prepared(files, run_many(_read_one, [(p, debug) for p in files], jobs, label="read", preload=READERS), jobs)


def output_paths(inputs: list[Path], out: Path) -> list[Path]:
    """Name each input's workbook: OUT itself for one input ending in .xlsx, else OUT/<stem>.xlsx."""
    if len(inputs) == 1 and out.suffix.lower() == ".xlsx":
        return [out]
    if out.suffix.lower() == ".xlsx":
        raise UsageError("output-needs-folder", count=len(inputs), path=str(out))
    taken: set[str] = set()
    result = []
    for path in inputs:
        ext = path.suffix.lstrip(".").lower()
        # The same report as .docx and .pdf, or two folders' 城关镇.txt: each keeps its own workbook.
        options = [
            path.stem,
            f"{path.stem}-{ext}",
            f"{path.parent.name}-{path.stem}",
            f"{path.parent.name}-{path.stem}-{ext}",
        ]
        name = next((o for o in options if o and f"{o}.xlsx".lower() not in taken), None)
        n = 2
        while name is None:
            name = f"{path.stem}-{n}" if f"{path.stem}-{n}.xlsx".lower() not in taken else None
            n += 1
        taken.add(f"{name}.xlsx".lower())
        result.append(out / f"{name}.xlsx")
    return result


def _convert_one(path: Path, target: Path, force: bool, debug: bool) -> Outcome:
    def work() -> str:
        from convert.atomic import protecting
        from convert.outputs.standard import write_workbook

        record = read_any(path)
        # The batch protects all its inputs (forked workers inherit that); its own input, here too, where not.
        with protecting([path]):
            write_workbook(record, target, force=force)
        return str(target)

    return guarded(path, work, debug)


def convert_inputs(
    paths: Sequence[str | Path], out: str | Path, force: bool = False, jobs: int | None = None, debug: bool = False
) -> Iterator[Outcome]:
    """Write one standard workbook per input; yield the output path per input, in input order."""
    out = Path(out)
    files = expand_inputs(paths, outputs=[out])
    targets = output_paths(files, out)
    with output_errors(out):
        if targets and targets[0].parent != out:
            targets[0].parent.mkdir(parents=True, exist_ok=True)
        elif out.suffix.lower() != ".xlsx":
            if out.exists() and not out.is_dir():
                raise UsageError("output-not-folder", path=str(out))
            out.mkdir(parents=True, exist_ok=True)
    items = [(p, t, force, debug) for p, t in zip(files, targets, strict=True)]
    return prepared(files, run_many(_convert_one, items, jobs, label="convert"), jobs)


@dataclass
class Previous:
    """Last year's reports, kept to what the carry-over check reads, to match each report to its agency's."""

    records: list[Record] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # files that could not be read, and why
    paths: list[Path] = field(default_factory=list)  # the files given: no output may replace them

    def match(self, record: Record) -> Record | None:
        """Return the agency's report of the year before; the one report given, when only one was."""
        if len(self.records) == 1 and not self.refused:
            return self.records[0]
        for before in self.records:
            if before.agency == record.agency and (
                record.year is None or before.year is None or before.year == record.year - 1
            ):
                return before
        return None


def _carried(path: Path, debug: bool) -> Outcome:
    def work() -> Record:
        from convert.formats import known_versions, load_format

        record = read_any(path)
        # Only what the carry-over check reads: the batch sends these to every worker.
        prefixes = tuple(f"{r.table}.{r.last_year}." for v in known_versions() for r in load_format(v).continuity)
        cells = {k: v for k, v in record.cells.items() if k.startswith(prefixes)}
        return Record(format=record.format, cells=cells, agency=record.agency, year=record.year)

    return guarded(path, work, debug)


def read_previous(paths: Sequence[str | Path], jobs: int | None = None, debug: bool = False) -> Previous:
    """Read last year's reports (files or folders) for the carry-over check."""
    files = expand_inputs(paths)
    out = Previous(paths=list(files))
    for outcome in prepared(files, run_many(_carried, [(p, debug) for p in files], jobs, label="previous"), jobs):
        if outcome.ok:
            out.records.append(outcome.value)
        else:
            out.refused.append((str(outcome.path), outcome.error))
    return out


def check_path(path: Path, previous: Previous | None = None) -> tuple[Record | None, list[Any], Any]:
    """Check one report or workbook: its record, every finding (carry-over too, given last year's), its probe."""
    from convert import inputs
    from convert.checks import check_continuity, check_rules

    probe = inputs.identify(path)
    findings: list[Finding] = []
    if probe.kind is inputs.workbook.KIND:
        from convert.readback import check_workbook

        inputs.workbook.vet(probe)
        record, findings = check_workbook(path, data=probe.data)
        if record is not None:
            # The reader's doubts listed on the cover stay doubts until someone removes them there.
            seen = {(f.code, f.key) for f in findings}
            findings += [f for f in _doubts(record) if (f.code, f.key) not in seen and f.code not in _OWN_CODES]
    else:
        from convert.reader import to_record

        record = to_record(probe.kind.read(probe))
        # What the reader was unsure of is part of the check: a wrong cell must never pass unnoticed.
        findings = _quoting(check_rules(record), record) + _doubts(record)
    before = previous.match(record) if previous is not None and record is not None else None
    if before is not None and record is not None:
        findings += check_continuity(record, before)
    for f in findings:
        f.source = str(path)
    return record, findings, probe


def check_one(
    path: Path, previous: Previous | None = None, annotate: Path | None = None, force: bool = False
) -> dict[str, Any]:
    """Check one report or workbook; return its findings and a short summary of the record."""
    from convert import inputs

    record, findings, probe = check_path(path, previous)
    if annotate is not None:
        if probe.kind is not inputs.workbook.KIND:
            raise UsageError("annotate-needs-workbook")
        from convert.atomic import protecting
        from convert.outputs.annotate import annotate_workbook

        with protecting([path, *(previous.paths if previous is not None else [])]):
            annotate_workbook(path, findings, annotate, force=force)
    from convert.checks.verdict import judge

    summary = None
    if record is not None:
        summary = {"agency": record.agency, "year": record.year, "format": record.format}
    verdict = judge(record, findings)
    return {"record": summary, "verdict": verdict.to_json(), "findings": [f.to_json() for f in findings]}


# Warnings the read-back itself adds to a workbook's record; they are findings already.
_OWN_CODES = frozenset({"missing-sheet", "bad-value", "missing-name"})


def _doubts(record: Record) -> list[Any]:
    """Return the record's reader warnings as check findings (rule-failed is the check's own)."""
    from convert.checks import WARNING, Finding

    return [
        Finding(w.code, WARNING, w.fields, key=w.where, text=w.text, excerpts=list(w.excerpts))
        for w in record.warnings
        if w.code != "rule-failed"
    ]


def _quoting(findings: list[Finding], record: Record) -> list[Finding]:
    """Give each broken rule the row the reader quoted for it (its rule-failed warning): the total as printed."""
    from convert.checks import ERROR

    quoted = {w.where: w.excerpts for w in record.warnings if w.code == "rule-failed" and w.excerpts}
    for f in findings:
        if f.severity == ERROR and f.key in quoted:
            f.excerpts = list(quoted[f.key])
    return findings


def _check_one(path: Path, previous: Previous | None, annotate: Path | None, force: bool, debug: bool) -> Outcome:
    return guarded(path, lambda: check_one(path, previous, annotate, force), debug)


def check_inputs(
    paths: Sequence[str | Path],
    previous: Previous | Sequence[str | Path] | str | Path | None = None,
    annotate: str | Path | None = None,
    force: bool = False,
    jobs: int | None = None,
    debug: bool = False,
) -> Iterator[Outcome]:
    """Check every input; yield findings per input, in input order.

    previous: last year's reports (files or folders, or read_previous's result): each report is checked
    against its own agency's for the carry-over.
    """
    files = expand_inputs(paths, outputs=[annotate])
    if annotate is not None and len(files) != 1:
        raise UsageError("annotate-one-only")
    if previous is None or isinstance(previous, Previous):
        prev = previous
    else:
        prev = read_previous([previous] if isinstance(previous, str | Path) else previous, jobs, debug)
    ann = Path(annotate) if annotate else None
    return prepared(
        files,
        run_many(
            _check_one,
            [(p, prev, ann, force, debug) for p in files],
            jobs,
            label="check",
            preload=(*READERS, "convert.checks"),
        ),
        jobs,
    )
