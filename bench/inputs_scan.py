"""Benchmark scanned reports (OCR): cells exact, wrong cells no warning names, agency/year, seconds a page, per dpi.

Reports are generated (bench/generate.py), laid out like the official form (tests/docgen.py), printed to PDF by
LibreOffice and scanned by tests/scangen.py at 150, 200 and 300 dpi: fed 0.5-2° askew, the red seal over the
date (and over a table in one report of three), a signature in black or blue, grey paper, noise, JPEG at quality
45-85 (PNG in one of five), printed in a sans or a serif face; one report of four is bound into an image-only PDF.
Each report is read as its folder of page images (or its PDF) by `nianbao read`'s own code with --jobs spreading
the reports over the cores. Prints figures, asserts nothing.

Run: python bench/inputs_scan.py                       (8 reports a dpi, both versions; scans cached in /tmp)
     python bench/inputs_scan.py --n 4 --dpi 200 --show 3   (quicker; show three reports with wrong cells)
Needs LibreOffice (soffice), poppler's pdftoppm and the ocr extra.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import make_record  # noqa: E402
from bench.score import score  # noqa: E402
from convert.record import Record, Value  # noqa: E402
from tests.docgen import DocxOptions  # noqa: E402
from tests.scangen import ScanOptions, pdf_pages, print_reports, save_pages, save_pdf, scan  # noqa: E402


@dataclass
class Case:
    """One scanned report: its record, how it was scanned, and the input that stands for it."""

    name: str
    record: Record
    options: ScanOptions
    as_pdf: bool
    printed: int  # which printed report (several dpi scan the same print)
    path: Path = Path()
    pages: int = 0


@dataclass
class Outcome:
    """What one scanned report read back as, against its record."""

    case: Case
    cells: int = 0
    exact: int = 0
    wrong: list[tuple[str, Value, Value]] = field(default_factory=list)
    unnamed: list[str] = field(default_factory=list)
    meta_ok: bool = False
    error: str = ""
    review: int = 0  # review warnings (the report is 待核)


def cases(n: int, dpis: list[int]) -> tuple[list[Case], list[Record], list[DocxOptions], list[str]]:
    """n reports per dpi (half of each version), each scanned its own way; the prints they are scanned from."""
    records: list[Record] = []
    forms: list[DocxOptions] = []
    fonts: list[str] = []
    out = []
    for i in range(n):
        version = ("2019", "2021")[i % 2]
        records.append(make_record(version, 7000 + i))
        forms.append(DocxOptions(numbering="、" if i % 5 == 3 else ".", seed=i))
        fonts.append("serif" if i % 3 == 1 else "sans")
    for dpi in dpis:
        for i in range(n):
            rng = random.Random(dpi * 1000 + i)
            angle = rng.choice([-1, 1]) * rng.uniform(0.5, 2.0)
            options = ScanOptions(
                dpi=dpi,
                angle=angle,
                seal_on_table=i % 3 == 2,
                signature=("black", "blue")[i % 2],
                quality=None if i % 5 == 4 else rng.randint(45, 85),
                noise=rng.uniform(2.0, 6.0),
                font=fonts[i],
                seed=dpi + i,
            )
            out.append(Case(f"{dpi}dpi-{i:03d}", records[i], options, as_pdf=i % 4 == 3, printed=i))
    return out, records, forms, fonts


def build(
    all_cases: list[Case], records: list[Record], forms: list[DocxOptions], fonts: list[str], folder: Path
) -> None:
    """Print the reports (one LibreOffice start, kept between runs) and scan each case once (kept too)."""
    start = time.perf_counter()
    pdfs = print_reports(records, folder / "printed", forms, fonts)
    printed = time.perf_counter() - start
    renders: dict[tuple[int, int], list] = {}
    made = 0
    for case in all_cases:
        target = folder / "scans" / case.name
        case.path = target.with_suffix(".pdf") if case.as_pdf else target
        marker = folder / "scans" / f"{case.name}.done"
        if marker.exists() and marker.read_text() == repr(case.options):
            case.pages = len(pdf_pages_count(case.path)) if case.as_pdf else len(list(target.iterdir()))
            continue
        key = (case.printed, case.options.dpi)
        if key not in renders:
            renders[key] = pdf_pages(pdfs[case.printed], case.options.dpi)
        pages = scan(renders[key], case.options)
        case.pages = len(pages)
        if case.as_pdf:
            save_pdf(pages, case.path, case.options)
        else:
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            save_pages(pages, target / "page", case.options)
        marker.write_text(repr(case.options))
        made += 1
    if made:
        print(f"printed {len(records)} reports ({printed:.1f} s) and scanned {made} cases into {folder}")


def pdf_pages_count(path: Path) -> list[int]:
    """The pages of a PDF (for its count)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return list(range(len(pdf)))
    finally:
        pdf.close()


def measure(group: list[Case], jobs: int) -> tuple[list[Outcome], float, float]:
    """Read a group of cases as one `nianbao read` batch; return the outcomes, wall seconds and CPU seconds."""
    from convert.checks.catalogue import needs_review
    from convert.commands import read_inputs
    from convert.inputs import select

    inputs = select([c.path for c in group]).inputs()
    # Several scanned folders given together would be one report if they were page images: each is its own.
    assert len(inputs) == len(group), (len(inputs), len(group))
    before = os.times()
    start = time.perf_counter()
    results = list(read_inputs(inputs, jobs=jobs))
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.user - before.user) + (after.children_user - before.children_user)
    cpu += (after.system - before.system) + (after.children_system - before.children_system)
    out = []
    for case, result in zip(group, results, strict=True):
        o = Outcome(case, cells=len(case.record.cells))
        if not result.ok:
            o.error = result.error
        else:
            got = Record.from_json(json.loads(result.value))
            s = score(case.record, got)
            o.exact, o.wrong, o.unnamed, o.meta_ok = s.exact, s.wrong, s.silent, s.meta_ok
            o.review = sum(1 for w in got.warnings if needs_review(w.code))
        out.append(o)
    return out, wall, cpu


def main() -> None:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=8, help="reports per dpi")
    ap.add_argument("--dpi", type=int, nargs="*", default=[150, 200, 300])
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "nianbao-bench-scan")
    ap.add_argument("--show", type=int, default=5, help="reports with wrong cells to show")
    args = ap.parse_args()
    if not shutil.which("soffice") or not shutil.which("pdftoppm"):
        raise SystemExit("needs soffice (LibreOffice) and pdftoppm (poppler) on PATH")
    all_cases, records, forms, fonts = cases(args.n, args.dpi)
    build(all_cases, records, forms, fonts, args.out)
    load = os.getloadavg()[0]
    print(f"reading with --jobs {args.jobs} on {os.cpu_count()} cores (load average before: {load:.1f})")
    by_dpi: dict[int, list[Case]] = defaultdict(list)
    for case in all_cases:
        by_dpi[case.options.dpi].append(case)
    print(
        f"{'dpi':>4s} {'reports':>7s} {'pages':>5s} {'cells exact':>17s} {'wrong':>5s} {'silent':>6s} "
        f"{'agency+year':>11s} {'待核':>4s} {'refused':>7s} {'s/page':>6s} {'cpu s/page':>10s}"
    )
    outcomes: list[Outcome] = []
    totals = [0, 0, 0, 0, 0, 0, 0.0, 0.0]
    for dpi, group in sorted(by_dpi.items()):
        got, wall, cpu = measure(group, args.jobs)
        outcomes += got
        pages = sum(c.pages for c in group)
        cells = sum(o.cells for o in got)
        exact = sum(o.exact for o in got)
        wrong = sum(len(o.wrong) for o in got)
        silent = sum(len(o.unnamed) for o in got)
        meta = sum(o.meta_ok for o in got)
        print(
            f"{dpi:4d} {len(group):7d} {pages:5d} {exact:6d}/{cells:<5d} {100 * exact / cells:5.1f}% {wrong:5d} "
            f"{silent:6d} {meta:5d} ({100 * meta / len(group):3.0f}%) {sum(o.review > 0 for o in got):4d} "
            f"{sum(bool(o.error) for o in got):7d} {wall / pages:6.2f} {cpu / pages:10.2f}"
        )
        for k, v in enumerate((len(group), pages, cells, exact, wrong, silent, wall, cpu)):
            totals[k] += v
    n, pages, cells, exact, wrong, silent, wall, cpu = totals
    meta = sum(o.meta_ok for o in outcomes)
    print(
        f"all: {int(n)} reports, {int(pages)} pages: {100 * exact / cells:.2f}% of cells exact, {int(wrong)} wrong "
        f"({int(silent)} with no warning naming the cell, row or table), agency+year right {100 * meta / n:.0f}%, "
        f"{wall / pages:.2f} s a page ({cpu / pages:.2f} CPU s a page); load average after: {os.getloadavg()[0]:.1f}"
    )
    bad = [o for o in outcomes if o.wrong or o.error or not o.meta_ok]
    for o in bad[: args.show]:
        print(f"\n{o.case.name} {o.case.path} ({o.case.options})")
        if o.error:
            print("  refused:", o.error)
        if not o.meta_ok:
            print("  agency/year/format wrong")
        for key, want, have in o.wrong[:10]:
            print(f"  {key}: want {want!r} got {have!r}{'' if key not in o.unnamed else '  (no warning names it)'}")


if __name__ == "__main__":
    main()
