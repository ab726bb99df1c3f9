"""Benchmark the PDF kind on generated reports: cells exact, silent wrong cells, seconds, beside pdftotext -layout.

Reports are rendered as .docx laid out like the official form (tests/docgen.py) and printed to PDF by LibreOffice,
both format versions, with and without a 三 table straddling a page break; overview paragraphs of varying length
move the page break through every row of 三, and some reports carry page headers and footers, phantom columns,
repeated header rows, sub-rows numbered 「1、」 and a two-line title. A second printer (tests/pdf_typeset.py)
does what LibreOffice does not: rows cut in two by the page break (page heights from 400 to 850 pt), 三、本年度
办理结果 one character a line, 1,234, and tables without their outer border. Prints figures, asserts nothing.

Run: python bench/inputs_pdf.py                 (24 seeds × 2 versions × 2 = 96 PDFs, cached in /tmp)
     python bench/inputs_pdf.py --seeds 6 --show 3   (quicker; show three failing reports)
Needs LibreOffice (soffice) and poppler's pdftotext.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import make_record  # noqa: E402
from bench.score import score  # noqa: E402
from convert.record import Record, Value  # noqa: E402
from tests.docgen import DocxOptions, convert_documents, render_docx  # noqa: E402
from tests.pdf_typeset import Options, typeset, write_pdf  # noqa: E402

FILLER = (
    "全年共召开政务公开专题会议，研究部署政务公开工作，持续推进决策、执行、管理、服务、结果公开，"
    "不断提升政务公开质量和实效，切实保障人民群众的知情权、参与权、表达权和监督权。"
)


@dataclass
class Case:
    """One generated report: its record, options, and where its PDF is."""

    name: str
    record: Record
    options: DocxOptions
    group: str
    pdf: Path = Path()


@dataclass
class Outcome:
    """What one PDF read back as, against its record."""

    case: Case
    pages: int = 0
    seconds: float = 0.0
    floor: float = 0.0
    cells: int = 0
    exact: int = 0
    wrong: list[tuple[str, Value, Value]] = field(default_factory=list)
    unnamed: list[str] = field(default_factory=list)
    meta_ok: bool = True
    error: str = ""


def cases(seeds: int) -> list[Case]:
    """The reports to generate: every seed in both versions, plain and with 三 over a page break."""
    out = []
    for seed in range(seeds):
        for version in ("2019", "2021"):
            for straddle in (False, True):
                record = make_record(version, 1000 + seed)
                # 0-11 paragraphs of filler before 二 move the page break through 三 from seed to seed.
                record.text["overview"] = [*record.text["overview"], *[FILLER] * (seed % 12)]
                options = DocxOptions(
                    straddle=straddle,
                    repeat_header=straddle and seed % 2 == 0,
                    footers=seed % 3 != 0,
                    phantom=seed % 4 == 1,
                    numbering="、" if seed % 5 == 3 else ".",
                    two_line_title=seed % 6 == 5,
                    seed=seed,
                )
                name = f"{version}-{'straddle' if straddle else 'plain'}-{seed:03d}"
                out.append(Case(name, record, options, f"{version} {'straddle' if straddle else 'plain'}"))
    # The second printer: page breaks anywhere, rows cut by them.
    for seed in range(seeds):
        for version in ("2019", "2021"):
            record = make_record(version, 3000 + seed)
            height = 400 + (seed * 37) % 450
            out.append(Case(f"{version}-typeset-{seed:03d}", record, DocxOptions(seed=height), f"{version} typeset"))
    # Reports of 8 pages: long texts around the tables, as county reports have.
    for seed in range(max(2, seeds // 4)):
        for version in ("2019", "2021"):
            record = make_record(version, 2000 + seed)
            record.text["overview"] = [*record.text["overview"], *[FILLER] * (40 + seed)]
            record.text["problems"] = [*record.text["problems"], *[FILLER] * 20]
            options = DocxOptions(footers=True, straddle=seed % 2 == 1, seed=seed)
            out.append(Case(f"{version}-long-{seed:03d}", record, options, f"{version} 8 pages"))
    return out


def build(all_cases: list[Case], folder: Path) -> None:
    """Render the documents and print the missing PDFs with one LibreOffice start (PDFs already there are kept)."""
    folder.mkdir(parents=True, exist_ok=True)
    todo = []
    for case in all_cases:
        case.pdf = folder / f"{case.name}.pdf"
        if case.group.endswith("typeset"):
            height = case.options.seed
            opts = Options(page_height=height, cut_rows=True, repeat_header=height % 2 == 0, footers=True)
            opts = replace(opts, thousands=True, narrow_groups=height % 3 == 0)
            case.pdf.write_bytes(write_pdf(typeset(case.record, opts), rules="inner" if height % 5 == 0 else "boxes"))
            continue
        docx = folder / f"{case.name}.docx"
        data = render_docx(case.record, None, case.options)
        if not docx.exists() or docx.read_bytes() != data or not case.pdf.exists():
            docx.write_bytes(data)
            todo.append(docx)
    if todo:
        start = time.perf_counter()
        convert_documents(todo, "pdf", folder, timeout=60 + 10 * len(todo))
        print(f"LibreOffice printed {len(todo)} PDFs in {time.perf_counter() - start:.1f} s")


def measure(case: Case) -> Outcome:
    """Read one PDF and compare it with its record."""
    from convert.errors import NianbaoError
    from convert.inputs import load
    from convert.reader import to_record

    out = Outcome(case)
    truth = case.record
    start = time.perf_counter()
    try:
        doc = load(case.pdf)
        got = to_record(doc)
    except NianbaoError as exc:
        out.seconds = time.perf_counter() - start
        out.error = str(exc)
        out.cells = len(truth.cells)
        return out
    out.seconds = time.perf_counter() - start
    out.pages = int(got.source.get("pages", 0))
    out.cells = len(truth.cells)
    scored = score(truth, got)
    out.exact, out.wrong, out.unnamed, out.meta_ok = scored.exact, scored.wrong, scored.silent, scored.meta_ok
    return out


def floor_seconds(pdf: Path) -> float:
    """Seconds for pdftotext -layout (the C floor of just getting the text out), best of three."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def pdfminer_seconds(pdf: Path) -> float:
    """Seconds for pdfplumber's own parse (pdfminer) to list the characters: what reading through it would cost."""
    import pdfplumber

    start = time.perf_counter()
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            _ = page.chars, page.edges
    return time.perf_counter() - start


def report(outcomes: list[Outcome], show: int, pdfminer: dict[str, float]) -> None:
    """Print the figures per group and in total, and the first failing reports."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[o.case.group].append(o)
    groups["all LibreOffice"] = [o for o in outcomes if not o.case.group.endswith("typeset")]
    groups["all"] = outcomes
    print(
        f"{'':18s} {'PDFs':>5s} {'pages':>6s} {'cells exact':>13s} {'meta':>6s} {'wrong':>6s} {'silent':>6s} "
        f"{'refused':>7s} {'s/report':>9s} {'s/page':>7s} {'pdftotext':>9s} {'ratio':>6s}"
    )
    for name, group in groups.items():
        cells = sum(o.cells for o in group)
        exact = sum(o.exact for o in group)
        pages = sum(o.pages for o in group)
        secs = sum(o.seconds for o in group)
        floor = sum(o.floor for o in group)
        print(
            f"{name:18s} {len(group):5d} {pages / len(group):6.1f} {exact:6d} {100 * exact / cells:5.2f}% "
            f"{sum(o.meta_ok for o in group):6d} {sum(bool(o.wrong) for o in group):6d} "
            f"{sum(bool(o.unnamed) for o in group):6d} {sum(bool(o.error) for o in group):7d} "
            f"{secs / len(group):9.3f} {secs / max(pages, 1):7.3f} {floor / len(group):9.3f} {secs / floor:6.1f}"
        )
    if any(o.case.group.endswith("typeset") for o in outcomes):
        print(
            "(typeset PDFs draw each character as its own text object, and poppler lacks their font's language "
            "pack, so pdftotext skips their text: its time is no floor there)"
        )
    eight = [o for o in outcomes if o.pages >= 8]
    if eight:
        print(
            f"reports of 8+ pages: median {statistics.median(o.seconds for o in eight):.3f} s, "
            f"max {max(o.seconds for o in eight):.3f} s; pdftotext -layout median "
            f"{statistics.median(o.floor for o in eight):.3f} s"
        )
    print(
        f"all reports: median {statistics.median(o.seconds for o in outcomes):.3f} s, "
        f"max {max(o.seconds for o in outcomes):.3f} s ({max(outcomes, key=lambda o: o.seconds).pages} pages)"
    )
    if pdfminer:
        mine = sum(pdfminer.values()) / len(pdfminer)
        ours = statistics.mean(o.seconds for o in outcomes if o.case.name in pdfminer)
        print(
            f"pdfplumber's own parse (pdfminer), chars and edges only: {mine:.3f} s/report (ours, all in: {ours:.3f})"
        )
    bad = [o for o in outcomes if o.wrong or o.error or not o.meta_ok]
    for o in bad[:show]:
        print(f"\n{o.case.name} ({o.case.options}) {o.case.pdf}")
        if o.error:
            print("  refused:", o.error)
        for key, want, have in o.wrong[:10]:
            print(f"  {key}: want {want!r} got {have!r}{'' if key not in o.unnamed else '  (no warning names it)'}")


def main() -> None:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=24)
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "nianbao-bench-pdf")
    ap.add_argument("--show", type=int, default=5, help="failing reports to show")
    ap.add_argument("--pdfminer", type=int, default=4, help="reports to time with pdfplumber's own parse too")
    args = ap.parse_args()
    if not shutil.which("soffice") or not shutil.which("pdftotext"):
        raise SystemExit("needs soffice (LibreOffice) and pdftotext (poppler) on PATH")
    all_cases = cases(args.seeds)
    build(all_cases, args.out)
    start = time.perf_counter()
    import convert.inputs.pdf as kind

    kind._load_libraries()
    print(f"importing pypdfium2 and pdfplumber: {time.perf_counter() - start:.3f} s once per process")
    measure(all_cases[0])  # warm caches (format data, label indexes)
    outcomes = []
    for case in all_cases:
        o = measure(case)
        o.floor = floor_seconds(case.pdf)
        outcomes.append(o)
    pdfminer = {c.name: pdfminer_seconds(c.pdf) for c in all_cases[: args.pdfminer]}
    report(outcomes, args.show, pdfminer)


if __name__ == "__main__":
    main()
