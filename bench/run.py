"""Benchmark nianbao against bare xlsxwriter: convert, read-back, check, merge; prints figures, asserts nothing.

Run: python bench/run.py            (200 reports, merge of 10,000)
     python bench/run.py --n 50 --merge-n 1000   (quicker)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate


def tree_rss_kb(pid: int) -> int:
    """Return the resident memory of a process and all its descendants, in KB."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack += [int(x) for x in fh.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def run(cmd: list[str], **kw) -> tuple[float, int, int]:
    """Run a command; return wall seconds, peak memory of its process tree (MB), exit code."""
    peak = 0
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kb(proc.pid))
            time.sleep(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    _, err = proc.communicate()
    done.set()
    t.join()
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        print(f"  ! {' '.join(cmd[:3])} … exit {proc.returncode}: {err.decode()[-300:]}")
    return seconds, peak // 1024, proc.returncode


def bare_xlsxwriter(reports: list[Path], out: Path) -> float:
    """Write the same cells (values, formulas with stored results, texts) with bare xlsxwriter, one process."""
    import xlsxwriter

    from convert.formats import load_format
    from convert.reader import read_report

    records = [read_report(p) for p in reports]  # parsing is not part of the baseline
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for i, rec in enumerate(records):
        fmt = load_format(rec.format)
        formulas = fmt.formulas()
        wb = xlsxwriter.Workbook(str(out / f"{i}.xlsx"), {"in_memory": True})
        ws = wb.add_worksheet("cells")
        pos = {k: (n, 1) for n, k in enumerate(fmt.cell_keys)}
        for key, (r, c) in pos.items():
            v = rec.cells.get(key)
            ws.write_string(r, 0, key)
            if key in formulas:
                parts = ",".join(f"B{pos[p][0] + 1}" for p in formulas[key])
                ws.write_formula(r, c, f"=SUM({parts})", None, 0)
                if v is not None:
                    ws.write_number(r, 2, float(v) if isinstance(v, Decimal) else v)
            elif v is not None:
                ws.write_number(r, c, float(v) if isinstance(v, Decimal) else v)
        texts = wb.add_worksheet("text")
        row = 0
        for paras in rec.text.values():
            for p in paras:
                texts.write_string(row, 0, p)
                row += 1
        wb.close()
    return time.perf_counter() - start


def main() -> None:
    """Generate reports, time every job, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="reports for convert/read/check (default 200)")
    ap.add_argument("--merge-n", type=int, default=10000, help="reports for the large merge (default 10000)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    nianbao = [sys.executable, "-m", "convert.cli"]
    root = Path(tempfile.mkdtemp(prefix="nianbao-bench-"))
    cores = os.cpu_count() or 1
    print(
        f"nianbao benchmark — {args.n} reports, merge of {args.merge_n}; {cores} cores; python {sys.version.split()[0]}"
    )
    reports = generate(root / "reports", args.n)
    print(f"generated {args.n} reports (both versions, layouts tabs/cells/markdown/html) in {root}")

    base = bare_xlsxwriter(reports, root / "bare")
    print(f"{'bare xlsxwriter, same cells, 1 process':44s} {base:7.2f} s  {args.n / base:7.1f} reports/s")

    figures = {}
    for jobs in (1, cores):
        out = root / f"conv{jobs}"
        secs, mb, code = run([*nianbao, "convert", str(root / "reports"), "-o", str(out), "--jobs", str(jobs)])
        figures[jobs] = secs
        print(
            f"{f'nianbao convert --jobs {jobs}':44s} {secs:7.2f} s  {args.n / secs:7.1f} reports/s  {mb:5d} MB  exit {code}"
        )
    print(f"{'  convert (default jobs) / bare xlsxwriter':44s} {figures[cores] / base:7.2f} ×   (goal ≤ 1.5)")
    if cores > 1:
        print(f"{'  --jobs 1 / --jobs ' + str(cores):44s} {figures[1] / figures[cores]:7.2f} ×   (goal ≥ 1.6)")
    secs, mb, code = run([*nianbao, "read", str(root / f"conv{cores}")])
    print(
        f"{'nianbao read (workbooks back)':44s} {secs:7.2f} s  {args.n / secs:7.1f} reports/s  {mb:5d} MB  exit {code}"
    )
    secs, mb, code = run([*nianbao, "check", "--json", str(root / f"conv{cores}")])
    print(f"{'nianbao check (workbooks)':44s} {secs:7.2f} s  {args.n / secs:7.1f} reports/s  {mb:5d} MB  exit {code}")
    secs, mb, code = run([*nianbao, "merge", str(root / "reports"), "-o", str(root / "summary.xlsx")])
    print(
        f"{f'nianbao merge {args.n} reports':44s} {secs:7.2f} s  {args.n / secs:7.1f} reports/s  {mb:5d} MB  exit {code}"
    )
    if args.merge_n:
        big = root / "big"
        t0 = time.perf_counter()
        generate(big, args.merge_n, version="2021", year=2022)
        print(f"generated {args.merge_n} reports for the large merge in {time.perf_counter() - t0:.1f} s")
        secs, mb, code = run([*nianbao, "merge", str(big), "-o", str(root / "big.xlsx")])
        print(
            f"{f'nianbao merge {args.merge_n} reports':44s} {secs:7.2f} s  {args.merge_n / secs:7.1f} reports/s  "
            f"{mb:5d} MB  exit {code}   (goals: ≥ 200/s, < 60 s, < 1024 MB)"
        )
    helps = [run([*nianbao, "--help"])[0] for _ in range(5)]
    script = shutil.which("nianbao")
    if script:
        helps += [run([script, "--help"])[0] for _ in range(5)]
    print(f"{'nianbao --help (best of runs)':44s} {min(helps):7.2f} s   (goal < 0.5)")
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, convert.cli; print(sorted(m for m in ('pandas','openpyxl','xlsxwriter','lxml','pyarrow') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"{'heavy modules imported by the CLI at start':44s} {heavy}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
