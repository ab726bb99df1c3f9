"""Saved web pages: how well nianbao reads Word-exported pages and .mht web archives made from known records.

Every page is rendered by tests/htmlgen.py from a random record (bench/generate.py make_record): the report laid out
like the official form, written as Word's "Save as Web Page" writes it (narrow grid columns, spans, mso styles),
inside a county site's page with its metadata table, in GBK. Each page is written to a file and read as nianbao
reads any input (decoding included), then compared cell by cell with its record, so a guess is never counted right.

Figures per variant: cells exact; agency/year/format right; reports with a wrong cell that no warning names (the
cell, its row or its table in `where`); seconds per report (reading only).

Run: python bench/inputs_html.py [--n 40] [--keep DIR]     (--n pages per variant)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import make_record
from bench.score import score
from convert.errors import NianbaoError
from convert.inputs import load
from convert.reader import to_record
from convert.record import Record
from tests.docgen import DocxOptions
from tests.htmlgen import PageOptions, render_mht, render_page

Variant = Callable[[int], tuple[PageOptions, str]]


def _base(i: int) -> PageOptions:
    docx = DocxOptions(phantom=i % 3 == 1, numbering="、" if i % 4 == 3 else ".", seed=i)
    return PageOptions(docx=docx, seed=i, metadata=("table", "lines")[i % 2])


VARIANTS: dict[str, Variant] = {
    "site page, GBK": lambda i: (_base(i), ""),
    "Word's export only": lambda i: (replace(_base(i), site=False), ""),
    "site page, UTF-8": lambda i: (replace(_base(i), encoding="utf-8"), ""),
    "no report title": lambda i: (replace(_base(i), title=False, metadata="table"), ""),
    ".mht from Word": lambda i: (_base(i), "word"),
    ".mht from a browser": lambda i: (_base(i), "browser"),
    "no sizing row": lambda i: (replace(_base(i), sizing_row=False), ""),
    "no widths at all": lambda i: (replace(_base(i), sizing_row=False, widths=False), ""),
    "no widths, 2 edges": lambda i: (replace(_base(i), sizing_row=False, widths=False, drift=(2, 2)), ""),
    "no narrow columns": lambda i: (replace(_base(i), drift=(1, 1)), ""),
}


@dataclass
class Outcome:
    """What one page read back as, against its record."""

    name: str
    cells: int = 0
    exact: int = 0
    wrong: list[tuple[str, object, object]] = field(default_factory=list)
    silent: list[str] = field(default_factory=list)  # wrong cells no warning names
    meta_ok: bool = False
    seconds: float = 0.0
    error: str = ""


def measure(path: Path, truth: Record) -> Outcome:
    """Read one page and compare it with its record."""
    out = Outcome(path.name, cells=len(truth.cells))
    t = time.perf_counter()
    try:
        got = to_record(load(path))
    except NianbaoError as exc:
        out.seconds = time.perf_counter() - t
        out.error = str(exc)
        out.wrong = [(k, v, None) for k, v in truth.cells.items()]
        return out
    out.seconds = time.perf_counter() - t
    scored = score(truth, got)
    out.exact, out.wrong, out.silent, out.meta_ok = scored.exact, scored.wrong, scored.silent, scored.meta_ok
    return out


def run(n: int, folder: Path, only: list[str] | None) -> None:
    """Generate n pages per variant into folder, read them, print the figures and a few failures."""
    print(
        f"{'variant':24s} {'pages':>5s} {'cells':>8s} {'meta':>7s} {'wrong':>6s} {'silent':>6s} {'s/page':>7s} {'KB':>5s}"
    )
    every: list[Outcome] = []
    for name, variant in VARIANTS.items():
        if only and name not in only:
            continue
        outcomes = []
        size = 0
        for i in range(n):
            opts, saver = variant(i)
            truth = make_record(("2019", "2021")[i % 2], 7000 + i)
            # Reports say their year in the text too (a page without a title is read by it).
            truth.text["overview"].insert(0, f"{truth.year}年，{truth.agency}认真贯彻落实《条例》。")
            data = render_mht(truth, opts, saver) if saver else render_page(truth, opts)
            size += len(data)
            path = folder / f"{len(every) + i:05d}{'.mht' if saver else '.html'}"
            path.write_bytes(data)
            outcomes.append(measure(path, truth))
        _line(name, outcomes, size / max(1, n) / 1024)
        every += outcomes
    _line("OVERALL", every, 0)
    shown = [o for o in every if o.silent or o.error][:6] + [o for o in every if o.wrong and not o.silent][:4]
    for o in shown:
        tag = "ERROR" if o.error else ("SILENT" if o.silent else "warned")
        print(f"- {o.name}: {tag} {len(o.wrong)} wrong {o.wrong[:3]} {o.error}")


def _line(name: str, group: list[Outcome], kb: float) -> None:
    cells = sum(o.cells for o in group)
    exact = sum(o.exact for o in group)
    seconds = sum(o.seconds for o in group) / max(1, len(group))
    print(
        f"{name:24s} {len(group):5d} {100 * exact / max(1, cells):7.2f}% "
        f"{100 * sum(o.meta_ok for o in group) / max(1, len(group)):6.1f}% "
        f"{sum(bool(o.wrong) for o in group):6d} {sum(bool(o.silent) for o in group):6d} {seconds:7.3f}"
        + (f" {kb:5.0f}" if kb else "")
    )


def main() -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=40, help="pages per variant")
    ap.add_argument("--keep", type=Path, help="write the pages here and keep them")
    ap.add_argument("--only", action="append", help="a variant's name (repeatable)")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="nianbao-html-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        run(args.n, folder, args.only)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
