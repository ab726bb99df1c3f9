"""Benchmark the web page: answer times with 1,000 records in the store, and reading 40 reports in the page vs the CLI.

Run: python bench/web.py                 (1,000 records, 40 reports, 3 rounds)
     python bench/web.py --records 200 --rounds 1   (quicker)

Reading in the page is timed in headless Chromium (Debian's, driven by Playwright) from the click on 读取并检查
to the results table, uploads included; the CLI is `nianbao check --jobs J` on the same files, process start
included. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generate import generate, make_record  # noqa: E402

from convert.web.app import STORE_PAGE  # noqa: E402
from tests.webserver import Client, running  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def fill_store(path: Path, n: int) -> list[tuple[str, int]]:
    """Add n generated records (both versions, several years) to a new store; return their agency and year."""
    from convert.store import open_store

    keys = []
    with open_store(str(path)) as st:
        for i in range(n):
            record = make_record(("2019", "2021")[i % 2], i)
            st.add(record, author="基准", reason="bench", source_name=f"r{i}.txt", sha256=None)
            keys.append((str(record.agency), int(record.year or 0)))
        # A second revision of the first record, so history and diff have something to show.
        record, _ = st.get(*keys[0])
        first = next(k for k, v in record.cells.items() if v is not None and k.startswith("requests."))
        record.cells[first] = (record.cells[first] or 0) + 1
        st.add(record, author="基准", reason="bench edit", source_name="edit.xlsx", sha256=None)
    return keys


def timed(client: Client, path: str, rounds: int) -> tuple[float, float, int]:
    """Return the median and worst answer time (ms) of a page over rounds, and its size in bytes."""
    client.get(path)  # warm: templates compiled, modules imported
    times = []
    size = 0
    for _ in range(rounds):
        t = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - t) * 1000)
        assert answer.status == 200, (path, answer.status)
        size = len(answer.body)
    return statistics.median(times), max(times), size


def read_in_page(url: str, files: list[Path]) -> float:
    """Upload and read files through the page in Chromium; return the seconds from click to results."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.set_default_timeout(300_000)
        page.goto(url + "/collect")
        page.set_input_files("#pick-files", [str(f) for f in files])
        t = time.perf_counter()
        page.click("#send")
        page.wait_for_selector("#tally")
        elapsed = time.perf_counter() - t
        rows = page.locator("tr.report-row").count()
        browser.close()
    if rows != len(files):
        print(f"  (the page shows {rows} reports of {len(files)})")
    return elapsed


def read_by_cli(folder: Path, jobs: int) -> float:
    """Return the seconds `nianbao check --jobs J FOLDER` takes, process start included."""
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "convert", "check", "--jobs", str(jobs), str(folder)],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - t


def main() -> None:
    """Print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--reports", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nianbao-bench-web-"))
    try:
        # 40 mixed reports: every golden input kind (text, HTML, .docx, PDF, .mht, markdown), the rest generated.
        folder = tmp / "reports"
        golden = sorted((ROOT / "tests" / "data" / "reports").iterdir())[: args.reports]
        folder.mkdir()
        for f in golden:
            shutil.copy(f, folder / f.name)
        generate(folder, args.reports - len(golden))
        files = sorted(folder.iterdir())

        t = time.perf_counter()
        keys = fill_store(tmp / "bench.db", args.records)
        print(f"store: {args.records} records added in {time.perf_counter() - t:.1f} s")

        with running(tmp, store=str(tmp / "bench.db"), jobs=args.jobs) as server:
            client = Client(server.port)
            client.get("/collect")
            batch = json.loads(client.post("/collect").body)
            for f in files:
                client.upload(batch["files"], f.name, f.read_bytes())
            client.post(batch["start"])
            while json.loads(client.get(batch["page"] + "/progress").body)["state"] not in ("done", "failed"):
                time.sleep(0.1)
            agency, year = keys[0]
            q = f"agency={quote(agency)}&year={year}"
            pages = {
                f"记录库 list (first {STORE_PAGE} of {args.records})": "/store",
                "one record's history": f"/store/record?{q}",
                "diff of two revisions": f"/store/diff?{q}&a=1&b=2",
                "collect page": "/collect",
                f"batch page ({len(files)} reports)": batch["page"],
                "one report (tables drawn)": f"/report/{batch['id']}/0",
                "summary choices": "/summary",
            }
            print(f"page answers ({args.rounds * 5} requests each, ms: median / worst, size):")
            for name, path in pages.items():
                median, worst, size = timed(client, path, args.rounds * 5)
                print(f"  {name:32s} {median:7.1f} / {worst:7.1f}   {size / 1024:7.1f} KB")

            if not Path(CHROMIUM).exists():
                print("reading in the page: skipped (no Chromium)")
                return
            print(f"reading {len(files)} mixed reports, --jobs {args.jobs} (s):")
            page_times, cli_times = [], []
            for _ in range(args.rounds):
                cli_times.append(read_by_cli(folder, args.jobs))
                page_times.append(read_in_page(server.url, files))
            page_s, cli_s = statistics.median(page_times), statistics.median(cli_times)
            print(f"  page (click to results, uploads included): {', '.join(f'{x:.2f}' for x in page_times)}")
            print(f"  nianbao check (process start included):     {', '.join(f'{x:.2f}' for x in cli_times)}")
            print(f"  page / CLI (medians): {page_s / cli_s:.2f} ×  (goal ≤ 1.3 ×)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
