"""The library functions behind each command: one per command, each over many inputs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from convert.batch import Outcome, expand_inputs, guarded, prepared, run_many
from convert.errors import UsageError
from convert.record import Record

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
    if targets and targets[0].parent != out:
        targets[0].parent.mkdir(parents=True, exist_ok=True)
    elif out.suffix.lower() != ".xlsx":
        if out.exists() and not out.is_dir():
            raise UsageError("output-not-folder", path=str(out))
        out.mkdir(parents=True, exist_ok=True)
    items = [(p, t, force, debug) for p, t in zip(files, targets, strict=True)]
    return prepared(files, run_many(_convert_one, items, jobs, label="convert"), jobs)


def check_one(
    path: Path, previous: Path | None = None, annotate: Path | None = None, force: bool = False
) -> dict[str, Any]:
    """Check one report or workbook; return its findings and a short summary of the record."""
    from convert import inputs
    from convert.checks import Finding, check_continuity, check_rules

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
        findings = check_rules(record) + _doubts(record)
    if previous is not None and record is not None:
        findings += check_continuity(record, read_any(previous))
    for f in findings:
        f.source = str(path)
    if annotate is not None:
        if probe.kind is not inputs.workbook.KIND:
            raise UsageError("annotate-needs-workbook")
        from convert.atomic import protecting
        from convert.outputs.annotate import annotate_workbook

        with protecting([path, previous]):
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
        Finding(w.code, WARNING, w.fields, key=w.where, text=w.text) for w in record.warnings if w.code != "rule-failed"
    ]


def _check_one(path: Path, previous: Path | None, annotate: Path | None, force: bool, debug: bool) -> Outcome:
    return guarded(path, lambda: check_one(path, previous, annotate, force), debug)


def check_inputs(
    paths: Sequence[str | Path],
    previous: str | Path | None = None,
    annotate: str | Path | None = None,
    force: bool = False,
    jobs: int | None = None,
    debug: bool = False,
) -> Iterator[Outcome]:
    """Check every input; yield findings per input, in input order."""
    files = expand_inputs(paths, outputs=[annotate])
    if annotate is not None and len(files) != 1:
        raise UsageError("annotate-one-only")
    prev = Path(previous) if previous else None
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
