"""The county office's January, as a new user would try it: 40 townships' reports in mixed formats.

Generates a folder as the office receives it (Word, PDFs printed from Word, web pages, GBK text; two
reports sent both as .docx and .pdf, one township sending a corrected second file, a few reports with a
wrong total, a blank count or a carry-over break), last year's reports and a grouping manifest saved in
GBK, then runs the three commands an officer runs and times them:

    nianbao check  2025/ --previous 2024/
    nianbao notice 2025/ --previous 2024/ -o notices/
    nianbao merge  2025/ --title … --group-by 片区.csv -o summary.xlsx     (and 2024/ 2025/ together)

It prints each command's exit code, time and last lines (exit 2 or an "internal error" is a run that
stopped), then prints the summaries to PDF with LibreOffice and counts their pages per sheet.
Run: python bench/january.py [--n 40] [--keep DIR]. Needs LibreOffice (soffice) for the PDFs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.county import county_records, previous_records, write_mixed, write_text  # noqa: E402
from tests.docgen import convert_documents  # noqa: E402

TITLE = "某某县2025年度政府信息公开工作年度报告汇总"


def make_folder(root: Path, n: int) -> dict[str, Path]:
    """Write this year's mixed folder, last year's reports and a GBK manifest; return where they are."""
    now = county_records(n, 2025)
    before = previous_records(now)
    write_mixed(now, root / "2025", twins=2)
    write_text(before, root / "2024")
    # A township that sent a corrected report as a second file: the same agency and year, other numbers.
    fixed = next(r for r in now if r.fault == "sum")
    fixed.record.cells["requests.new_received.total"] += 10  # type: ignore[operator]
    from convert.render import render_report

    (root / "2025" / f"{fixed.record.agency}2025年报（更正）.txt").write_text(
        render_report(fixed.record), encoding="utf-8"
    )
    lines = ["机关,片区"] + [f"{r.record.agency},{'东西南北'[i % 4]}片" for i, r in enumerate(now)]
    (root / "片区.csv").write_bytes("\r\n".join(lines).encode("gbk"))  # as Excel saves it on Chinese Windows
    kinds = Counter(p.suffix for p in (root / "2025").iterdir())
    print(f"generated {n} townships: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    return {"now": root / "2025", "before": root / "2024", "manifest": root / "片区.csv"}


def run(label: str, args: list[str]) -> tuple[float, int]:
    """Run one nianbao command; print its exit code, time and last lines."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "convert", *args], capture_output=True, text=True, cwd=REPO, timeout=1800
    )
    secs = time.perf_counter() - t0
    stopped = proc.returncode >= 2 or "internal error" in proc.stderr or "Traceback" in proc.stderr
    print(f"{label:52s} exit {proc.returncode}  {secs:6.1f} s  {'STOPPED' if stopped else 'ran through'}")
    for line in (proc.stdout.strip().splitlines() + proc.stderr.strip().splitlines())[-3:]:
        print(f"    {line[:150]}")
    return secs, proc.returncode


def pages(pdf: Path) -> Counter[str]:
    """Count a PDF's pages per sheet (the sheet's name is in each page's header)."""
    from tests.test_print import _pages

    return Counter(p["sheet"] for p in _pages(pdf))


def main() -> None:
    """Generate the folder, run the officer's commands, print the summaries to PDF."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40, help="townships (default 40)")
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="nianbao-january-"))
    if args.keep and root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    where = make_folder(root, args.n)
    print(f"  ({time.perf_counter() - t0:.1f} s, in {root})")
    jobs = ["--jobs", str(args.jobs)]
    now, before = str(where["now"]), str(where["before"])
    run("nianbao check 2025/ --previous 2024/", ["check", now, "--previous", before, *jobs])
    run("nianbao notice 2025/ --previous 2024/ -o notices/", ["notice", now, "--previous", before, "-o",
                                                            str(root / "notices"), *jobs])  # fmt: skip
    summary, both = root / "summary.xlsx", root / "summary-2024-2025.xlsx"
    run("nianbao merge 2025/ --title … --group-by 片区.csv", ["merge", now, "--title", TITLE, "--group-by",
                                                            str(where["manifest"]), "-o", str(summary), *jobs])  # fmt: skip
    run("nianbao merge 2024/ 2025/ --title …", ["merge", before, now, "--title", TITLE, "-o", str(both), *jobs])
    notices = sorted(p.name for p in (root / "notices").glob("*.docx"))
    print(f"notices: {len(notices)} ({', '.join(notices[:4])}{' …' if len(notices) > 4 else ''})")
    if shutil.which("soffice") is None:
        print("LibreOffice is not installed: no PDFs")
        return
    t0 = time.perf_counter()
    pdfs = convert_documents([summary, both], "pdf", root / "pdf")
    print(f"printed both summaries to PDF with LibreOffice in {time.perf_counter() - t0:.1f} s")
    for pdf in pdfs:
        count = pages(pdf)
        print(f"{pdf.name}: {sum(count.values())} A4 pages — " + ", ".join(f"{k} {v}" for k, v in count.items()))


if __name__ == "__main__":
    main()
