"""Benchmark the records store on each backend, side by side: `store add` of many reports, then `store dump`.

Run: python bench/store.py --postgres postgresql://USER@HOST/DB     (10,000 reports; 500 through the CLI)
     python bench/store.py --n 1000 --files 100                     (quicker; SQLite only without a server)

The server given (default: $NIANBAO_TEST_POSTGRES) gets a throwaway database for the run, dropped at the
end. For a fair comparison use a server that syncs to disk as SQLite does (synchronous = FULL), e.g. one
started by `source .ci/postgres; PG_TEST_DURABLE=1 pg_test_start` (the test server skips fsync).

What is measured, for each backend:
- add: Store.add of N generated reports (bench/generate.py make_record), one transaction each, exactly what
  `nianbao store add` does after reading a file; reading files is the same for both backends and slower than
  either, so it is measured apart:
- add via CLI: `nianbao store add FOLDER` of --files generated report files (reading included), per report;
- dump csv / parquet: `nianbao store dump` of the N reports (wall time, peak memory of the process);
- the store's size on disk. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generate import generate, make_record

from convert.store import open_store

# Runs the CLI in a child and prints its peak memory on stderr's last line, whatever the command's exit.
RUN_CLI = (
    "import resource, runpy, sys\n"
    "sys.argv = ['nianbao', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('convert', run_name='__main__')\n"
    "finally:\n"
    "    print('maxrss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
)


def cli(*args: str) -> tuple[float, int]:
    """Run nianbao with args in a child; return its wall time and peak memory (MB)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", RUN_CLI, *args], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"nianbao {' '.join(args)} failed:\n{done.stderr}")
    rss = int(done.stderr.strip().splitlines()[-1].split()[1])
    return seconds, rss // 1024


@contextmanager
def postgres_database(server: str) -> Iterator[str]:
    """Create a throwaway database on the server; give its URL; drop it afterwards."""
    import psycopg

    name = f"nianbao_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        settings = admin.execute("SELECT current_setting('fsync'), current_setting('synchronous_commit')").fetchone()
    print(f"PostgreSQL: fsync={settings[0]}, synchronous_commit={settings[1]}")  # type: ignore[index]
    parts = urlsplit(server)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def size_mb(location: str) -> float:
    """Return the store's size on disk in MB (the SQLite file with its WAL, or the PostgreSQL database)."""
    if location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(location) as conn:
            return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 1e6  # type: ignore[index]
    return sum(p.stat().st_size for p in Path(location).parent.glob(Path(location).name + "*")) / 1e6


def bench(location: str, n: int, files: Path, work: Path) -> dict[str, str]:
    """Measure one backend; return its figures as text by row name."""
    records = [make_record(("2019", "2021")[i % 2], i) for i in range(n)]
    cells = sum(len(r.cells) for r in records)
    with open_store(location) as store:
        start = time.perf_counter()
        for record in records:
            store.add(record, author="bench", reason="bench", source_name=f"{record.agency}.txt", sha256=None)
        add_s = time.perf_counter() - start
    out: dict[str, str] = {
        f"add {n:,} reports (Store.add)": f"{add_s:.1f} s ({n / add_s:,.0f}/s, {cells / add_s / 1e3:,.0f}k cells/s)"
    }
    # The CLI adds the files into the same store: new agencies (another seed range), so every one is added.
    cli_s, _ = cli("store", "add", str(files), "--store", location, "--author", "bench")
    count = len(list(files.iterdir()))
    out[f"`store add` of {count} files (CLI)"] = f"{cli_s:.1f} s ({cli_s / count * 1000:.0f} ms a report)"
    total = n + count
    for fmt in ("csv", "parquet"):
        target = work / f"{uuid.uuid4().hex}.{fmt}"
        seconds, rss = cli("store", "dump", "--format", fmt, "-o", str(target), "--store", location)
        out[f"`store dump --format {fmt}` ({total:,} reports)"] = (
            f"{seconds:.1f} s, {rss:,} MB peak, {target.stat().st_size / 1e6:.0f} MB"
        )
        target.unlink()
    seconds, _ = cli("store", "list", "--store", location, "--json")
    out[f"`store list` ({total:,} reports)"] = f"{seconds:.1f} s"
    out["size on disk"] = f"{size_mb(location):,.0f} MB"
    return out


def main() -> None:
    """Command line: python bench/store.py [--n N] [--files N] [--postgres URL]."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000, help="reports added with Store.add (default 10,000)")
    ap.add_argument("--files", type=int, default=500, help="report files added with the CLI (default 500)")
    ap.add_argument("--postgres", default=os.environ.get("NIANBAO_TEST_POSTGRES"), help="a server URL")
    args = ap.parse_args()
    results: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = work / "files"
        generate(files, args.files, start=args.n)  # seeds after the N records: agencies the store has not seen
        print(f"{args.n:,} reports + {args.files} files; Python {sys.version.split()[0]}, {os.cpu_count()} cores")
        results["SQLite"] = bench(str(work / "bench.db"), args.n, files, work)
        if args.postgres:
            with postgres_database(args.postgres) as url:
                results["PostgreSQL"] = bench(url, args.n, files, work)
        else:
            print("PostgreSQL: skipped (give --postgres URL or set NIANBAO_TEST_POSTGRES)")
    backends = list(results)
    rows = list(results[backends[0]])
    width = max(len(r) for r in rows)
    print("| job | " + " | ".join(backends) + " |")
    print("|---|" + "---|" * len(backends))
    for row in rows:
        print(f"| {row:<{width}} | " + " | ".join(results[b][row] for b in backends) + " |")


if __name__ == "__main__":
    main()
