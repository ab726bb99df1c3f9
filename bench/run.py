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
from dataclasses import dataclass
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


class _Recorder:
    """Record the xlsxwriter calls our writer makes, so bare xlsxwriter can replay exactly the same file."""

    def __init__(self) -> None:
        self.calls: list[
            tuple[int, str, tuple, dict]
        ] = []  # (target: -1 workbook or sheet index, method, args, kwargs)
        self.formats: dict[int, int] = {}
        self.depth = 0

    def wrap(self, obj: object, target: int) -> None:
        for name in dir(obj):
            attr = getattr(obj, name, None)
            if name.startswith("_") or not callable(attr) or name in ("close", "add_worksheet", "add_format"):
                continue
            setattr(obj, name, self._recording(attr, target, name))

    def _recording(self, method, target: int, name: str):
        def call(*args, **kwargs):
            if self.depth == 0:
                self.calls.append((target, name, args, kwargs))
            self.depth += 1
            try:
                return method(*args, **kwargs)
            finally:
                self.depth -= 1

        return call


def record_workbook_calls(record, path: Path) -> tuple[list, list]:
    """Write a record with our writer while recording every xlsxwriter call; return (formats, calls)."""
    import convert.outputs.standard as w
    import convert.outputs.xlsxfast as fast

    rec = _Recorder()
    formats: list[dict] = []
    base = fast.FastWorkbook

    class Recording(base):  # type: ignore[misc, valid-type]
        def add_format(self, props=None):
            fmt = super().add_format(props)
            if props and "xf_index" in props:
                return fmt  # xlsxwriter's own default format, made in its constructor
            rec.formats[id(fmt)] = len(formats)
            formats.append(dict(props or {}))
            return fmt

        def add_worksheet(self, name=None, worksheet_class=None):
            ws = super().add_worksheet(name, worksheet_class)
            rec.calls.append((-2, "add_worksheet", (name,), {}))
            rec.wrap(ws, len(self.worksheets()) - 1)
            return ws

    fast.FastWorkbook = Recording
    try:
        wb_holder: list = []
        original_build = w.build_workbook

        def build(wb, *a, **k):
            rec.wrap(wb, -1)
            wb_holder.append(wb)
            return original_build(wb, *a, **k)

        w.build_workbook = build
        w.write_workbook(record, path, force=True)
    finally:
        fast.FastWorkbook = base
        w.build_workbook = original_build

    def mark(obj):  # formats travel in arguments and inside option dicts
        if id(obj) in rec.formats and not isinstance(obj, int | str | float):
            return _FormatRef(rec.formats[id(obj)])
        if isinstance(obj, dict):
            return {k: mark(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return type(obj)(mark(v) for v in obj)
        return obj

    return formats, [(t, n, mark(args), mark(kw)) for t, n, args, kw in rec.calls]


@dataclass(frozen=True)
class _FormatRef:
    """A recorded format, by its creation order."""

    index: int


def _swap(obj, fmts: list):
    if isinstance(obj, _FormatRef):
        return fmts[obj.index]
    if isinstance(obj, dict):
        return {k: _swap(v, fmts) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_swap(v, fmts) for v in obj)
    return obj


def replay(formats: list[dict], calls: list, path: Path, same_settings: bool = False) -> None:
    """Write the recorded workbook with plain xlsxwriter (or with our formula fast path when same_settings)."""
    import xlsxwriter

    from convert.outputs.xlsxfast import FastWorkbook

    wb = (FastWorkbook if same_settings else xlsxwriter.Workbook)(
        str(path),
        {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    fmts = [wb.add_format(p) for p in formats]
    sheets: list = []
    for target, name, args, kwargs in calls:
        args, kwargs = _swap(args, fmts), _swap(kwargs, fmts)
        if target == -2:
            sheets.append(wb.add_worksheet(*args))
        else:
            getattr(wb if target == -1 else sheets[target], name)(*args, **kwargs)
    wb.close()


def bare_same_workbook(reports: list[Path], out: Path) -> tuple[float, float]:
    """Replay, with bare xlsxwriter in one process, the exact calls our writer makes for each report.

    Returns (seconds with plain xlsxwriter, seconds with our xlsxwriter settings: formulas written as they are).
    """
    from convert.reader import read_report

    out.mkdir(parents=True, exist_ok=True)
    scripts = [record_workbook_calls(read_report(p), out / f"rec{i}.xlsx") for i, p in enumerate(reports)]
    times = []
    for same in (False, True):
        start = time.perf_counter()
        for i, (formats, calls) in enumerate(scripts):
            replay(formats, calls, out / f"{i}.xlsx", same_settings=same)
        times.append(time.perf_counter() - start)
    return times[0], times[1]


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

    cells_only = bare_xlsxwriter(reports, root / "bare")
    print(
        f"{'bare xlsxwriter, data cells only, 1 process':44s} {cells_only:7.2f} s  {args.n / cells_only:7.1f} reports/s"
    )
    plain, base = bare_same_workbook(reports, root / "replay")
    print(f"{'bare xlsxwriter, same workbook, 1 process':44s} {plain:7.2f} s  {args.n / plain:7.1f} reports/s")
    print(f"{'  … with our formula fast path (the floor)':44s} {base:7.2f} s  {args.n / base:7.1f} reports/s")

    # The VM's speed drifts by tens of percent: alternate the settings and compare runs side by side.
    pairs = []
    runs: dict[int, list[tuple[float, int, int]]] = {1: [], cores: []}
    for _ in range(3):
        for jobs in dict.fromkeys((1, cores)):
            out = root / f"conv{jobs}"
            runs[jobs].append(
                run([*nianbao, "convert", str(root / "reports"), "-o", str(out), "--jobs", str(jobs), "--force"])
            )
        pairs.append(runs[1][-1][0] / runs[cores][-1][0])
    figures = {}
    for jobs, results in runs.items():
        secs, mb, code = sorted(results)[len(results) // 2]
        figures[jobs] = secs
        print(
            f"{f'nianbao convert --jobs {jobs} (median of 3)':44s} {secs:7.2f} s  {args.n / secs:7.1f} reports/s  {mb:5d} MB  exit {code}"
        )
    print(f"{'  convert (default jobs) / bare, same workbook':44s} {figures[cores] / base:7.2f} ×   (goal ≤ 1.5)")
    print(f"{'  convert (default jobs) / bare, data cells':44s} {figures[cores] / cells_only:7.2f} ×")
    if cores > 1:
        ratio = sorted(pairs)[len(pairs) // 2]
        print(f"{'  --jobs 1 / --jobs ' + str(cores) + ' (median of paired runs)':44s} {ratio:7.2f} ×   (goal ≥ 1.6)")
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
        secs, mb, code = run([*nianbao, "read", str(root / "big.xlsx")])
        print(f"{'nianbao read of that summary':44s} {secs:7.2f} s  {mb:5d} MB  exit {code}")
    helps = [run([*nianbao, "--help"])[0] for _ in range(5)]
    script = shutil.which("nianbao")
    if script:
        helps += [run([script, "--help"])[0] for _ in range(5)]
    print(f"{'nianbao --help (best of runs)':44s} {min(helps):7.2f} s   (goal < 0.5)")
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, convert.cli; print(sorted(m for m in ('openpyxl','xlsxwriter','lxml','pyarrow') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"{'heavy modules imported by the CLI at start':44s} {heavy}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
