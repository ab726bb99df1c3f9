"""Generate annual reports for benchmarks: both format versions, every layout, totals that add up."""

from __future__ import annotations

import argparse
import random
from decimal import Decimal
from pathlib import Path

from convert.formats import known_versions, load_format
from convert.record import Record
from convert.render import LAYOUTS, render_report

SUFFIX = {"tabs": ".txt", "cells": ".txt", "markdown": ".md", "html": ".html"}


def make_record(version: str, seed: int, year: int | None = None) -> Record:
    """Return a random record of a version whose every rule holds."""
    rng = random.Random(seed)
    fmt = load_format(version)
    cells: dict = {}
    derived = {f"{t.key}.{r.key}.{c}" for t in fmt.tables.values() for r in t.rows if r.sums for c in r.columns}
    for key in fmt.cell_keys:
        if key in derived:
            continue  # the sum of its rows, below
        kind = fmt.cell_type(key)
        if kind == "money":
            cells[key] = Decimal(rng.randint(0, 9_999_999)) / Decimal(10 ** rng.randint(0, 4))
        elif kind == "signed":
            cells[key] = rng.randint(-30, 30)
        else:
            cells[key] = rng.choice([0, 0, 0, rng.randint(0, 40), rng.randint(0, 400)])
    for table in fmt.tables.values():
        for row in table.rows:
            # A total the form leaves to its rows (（六）其他处理 of 2021) is their sum.
            if row.sums:
                for c in row.columns:
                    cells[f"{table.key}.{row.key}.{c}"] = sum(cells[f"{table.key}.{p}.{c}"] for p in row.sums)
    formulas = fmt.formulas()
    pending = dict(formulas)
    while pending:
        for key, parts in list(pending.items()):
            if any(p in pending for p in parts):
                continue
            cells[key] = sum(cells[p] for p in parts)
            del pending[key]
    # Make the balance hold: what was carried forward is what came in minus what was handled.
    for col in fmt.tables["requests"].columns:
        c = col.key
        inflow = cells[f"requests.new_received.{c}"] + cells[f"requests.carried_over.{c}"]
        handled = cells[f"requests.total.{c}"]
        if inflow < handled:
            cells[f"requests.new_received.{c}"] += handled - inflow
            inflow = handled
        cells[f"requests.carried_forward.{c}"] = inflow - handled
    for col in ("new_received", "carried_over", "carried_forward"):
        parts = [cells[f"requests.{col}.{c.key}"] for c in fmt.tables["requests"].columns if c.key != "total"]
        cells[f"requests.{col}.total"] = sum(parts)
    year = year or (rng.choice([2019, 2020]) if version == "2019" else rng.choice([2021, 2022, 2023]))
    return Record(
        format=version,
        cells={k: cells[k] for k in fmt.cell_keys},
        agency=f"基准{seed:05d}镇",
        year=year,
        text={
            "preface": ["本报告依据《中华人民共和国政府信息公开条例》编制。"],
            "overview": ["（一）主动公开情况", f"全年主动公开政府信息{rng.randint(10, 5000)}条。"],
            "problems": ["一是公开质量有待提高。二是解读形式单一。"],
            "other": ["本年度未收取信息处理费。"],
        },
    )


def generate(
    folder: Path, n: int, *, version: str | None = None, year: int | None = None, start: int = 0
) -> list[Path]:
    """Write n reports into folder, cycling through layouts (and versions unless one is given)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + n):
        v = version or ("2019", "2021")[i % 2]
        layout = LAYOUTS[(i // 2) % len(LAYOUTS)]
        path = folder / f"r{i:05d}{SUFFIX[layout]}"
        path.write_text(render_report(make_record(v, i, year), layout), encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    """Command line: python bench/generate.py OUT N [--version V] [--year Y]."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("n", type=int)
    ap.add_argument("--version", choices=known_versions())
    ap.add_argument("--year", type=int)
    args = ap.parse_args()
    generate(args.out, args.n, version=args.version, year=args.year)


if __name__ == "__main__":
    main()
