"""Word inputs: how exactly and how fast generated .docx, .doc and .wps reports read; prints figures, asserts nothing.

Documents come from tests/docgen.py (records → .docx laid out like the official form, in realistic variants; .doc
through LibreOffice). Each read is compared with the record it was made from: cells exact, reports with a wrong
cell, and of those the ones where no warning names the cell, its row or its table ("silent").

Run: python bench/inputs_word.py                 (60 .docx, a batch of 20 .doc/.wps)
     python bench/inputs_word.py --docx 200 --doc 40
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.generate import make_record  # noqa: E402 - after the path set-up
from bench.score import score  # noqa: E402
from convert.errors import NianbaoError  # noqa: E402
from convert.inputs.doc import MIN_FILES_PER_START  # noqa: E402
from convert.reader import read_report  # noqa: E402
from convert.record import Record  # noqa: E402
from tests.docgen import DocxOptions, convert_documents, render_docx  # noqa: E402

# The variants a generated document comes in, in turn (the last ones are what real documents show most).
VARIANTS: dict[str, DocxOptions] = {
    "form": DocxOptions(),
    "phantom": DocxOptions(phantom=True),
    "numbering-、": DocxOptions(numbering="、"),
    "two-line-title": DocxOptions(two_line_title=True),
    "straddle+repeat": DocxOptions(straddle=True, repeat_header=True),
    "one-line-headers": DocxOptions(split_headers=False),
    "no-money-unit": DocxOptions(money_unit=False),
    "typos": DocxOptions(typos=True),
    "all-but-typos": DocxOptions(phantom=True, numbering="、", two_line_title=True, straddle=True, repeat_header=True),
}


@dataclass
class Tally:
    """Figures for one group of reports."""

    reports: int = 0
    cells: int = 0
    exact: int = 0
    meta_ok: int = 0
    wrong_reports: int = 0
    silent_reports: int = 0
    failed: int = 0
    seconds: list[float] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    def add(self, truth: Record, got: Record | str, seconds: float) -> None:
        """Count one report read (or the error it gave)."""
        self.reports += 1
        self.seconds.append(seconds)
        self.cells += len(truth.cells)
        if isinstance(got, str):
            self.failed += 1
            self.wrong_reports += 1
            self.examples.append(got)
            return
        scored = score(truth, got)
        self.meta_ok += scored.meta_ok
        self.exact += scored.exact
        if scored.wrong:
            self.wrong_reports += 1
            if scored.silent:
                self.silent_reports += 1
                key = scored.silent[0]
                self.examples.append(f"{key}: {truth.cells[key]!r} read as {got.cells.get(key)!r}")

    def line(self, name: str) -> str:
        """One row of the figures table."""
        per = statistics.mean(self.seconds) if self.seconds else 0.0
        return (
            f"{name:18s} {self.reports:7d} {100 * self.exact / max(self.cells, 1):8.2f} "
            f"{100 * self.meta_ok / max(self.reports, 1):6.1f} {self.wrong_reports:6d} {self.silent_reports:6d} "
            f"{self.failed:6d} {per * 1000:9.1f}"
        )


HEADER = f"{'':18s} {'reports':>7s} {'cells %':>8s} {'meta %':>6s} {'wrong':>6s} {'silent':>6s} {'failed':>6s} {'ms/rep':>9s}"


def read_timed(path: Path) -> tuple[Record | str, float]:
    """Read one report with the library; its record (or error) and the seconds it took."""
    start = time.perf_counter()
    try:
        got: Record | str = read_report(path)
    except NianbaoError as exc:
        got = f"{path.name}: {exc}"
    return got, time.perf_counter() - start


def bench_docx(n: int, root: Path) -> None:
    """Generate n .docx in turn through the variants and read each one."""
    folder = root / "docx"
    folder.mkdir()
    names = list(VARIANTS)
    jobs: list[tuple[str, Record, Path]] = []
    for i in range(n):
        variant = names[i % len(names)]
        record = make_record(("2019", "2021")[i % 2], 1000 + i)
        path = folder / f"r{i:04d}.docx"
        render_docx(record, path, replace(VARIANTS[variant], seed=i))
        jobs.append((variant, record, path))
    read_report(jobs[0][2])  # imports and format data loaded once, as in a batch
    per: dict[str, Tally] = {}
    total = Tally()
    for variant, record, path in jobs:
        got, seconds = read_timed(path)
        per.setdefault(variant, Tally()).add(record, got, seconds)
        total.add(record, got, seconds)
    print(f".docx: {n} generated reports, read one by one in one process (library)")
    print(HEADER)
    for name in names:
        if name in per:
            print(per[name].line(name))
    print(total.line("all"))
    print(
        f"  seconds per .docx report: mean {statistics.mean(total.seconds):.4f}, "
        f"median {statistics.median(total.seconds):.4f}, max {max(total.seconds):.4f} (goal ≤ 0.050)"
    )
    wall = run_cli(["read", str(folder), "--jobs", "2"])
    print(f"  `nianbao read` of the folder, --jobs 2: {wall:.2f} s, {wall / n:.4f} s a report (with start-up)")
    for example in total.examples[:5]:
        print("  e.g.", example)


def bench_doc(n: int, root: Path) -> None:
    """Make n old Word files with LibreOffice (a third .wps), then time a batch read of them."""
    if shutil.which("soffice") is None:
        print(".doc/.wps: skipped, LibreOffice (soffice) is not installed")
        return
    made = root / "made"
    made.mkdir()
    records = []
    for i in range(n):
        record = make_record(("2019", "2021")[i % 2], 2000 + i)
        render_docx(record, made / f"w{i:04d}.docx", DocxOptions(phantom=i % 3 == 1, seed=i))
        records.append(record)
    docs = convert_documents(sorted(made.glob("*.docx")), "doc:MS Word 97", root / "doc")
    folder = root / "old"
    folder.mkdir()
    paths = []
    for i, doc in enumerate(docs):
        # A renamed .doc stands for a .wps: WPS Office writes Word's binary format (what LibreOffice reads).
        path = folder / (doc.stem + (".wps" if i % 3 == 2 else ".doc"))
        shutil.copyfile(doc, path)
        paths.append(path)
    wall = run_cli(["read", str(folder), "--jobs", "2"])
    goal = 1.5 + 0.2 * n
    starts = max(1, min(2, n // MIN_FILES_PER_START))
    print(f".doc/.wps: a batch of {n} ({sum(p.suffix == '.wps' for p in paths)} of them named .wps)")
    print(
        f"  `nianbao read` of the folder, --jobs 2 ({starts} LibreOffice start(s)): {wall:.2f} s, "
        f"{wall / n:.3f} s a file (goal ≤ {goal:.1f} s)"
    )
    # Accuracy, through the same one-start batch as the command line.
    from convert.inputs import prepared

    total = Tally()
    start = time.perf_counter()
    with prepared(paths):
        converted = time.perf_counter() - start
        for record, path in zip(records, paths, strict=True):
            got, seconds = read_timed(path)
            total.add(record, got, seconds)
    print(
        f"  library, one LibreOffice start: converting {converted:.2f} s, "
        f"then reading {statistics.mean(total.seconds) * 1000:.1f} ms a file"
    )
    print(HEADER)
    print(total.line("all"))
    for example in total.examples[:5]:
        print("  e.g.", example)


def run_cli(args: list[str]) -> float:
    """Run nianbao in a subprocess; its wall time in seconds."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "convert", *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    """Command line: how many documents of each kind."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docx", type=int, default=60, help=".docx reports to generate and read")
    parser.add_argument("--doc", type=int, default=20, help=".doc/.wps files in the LibreOffice batch")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-word-") as tmp:
        if args.docx:
            bench_docx(args.docx, Path(tmp))
        if args.doc:
            bench_doc(args.doc, Path(tmp))


if __name__ == "__main__":
    main()
