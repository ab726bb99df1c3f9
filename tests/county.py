"""A county's January in files: townships' reports as a county office receives them, some faulty, in mixed formats.

Used by the tests of merge, notices and printing, and by bench/january.py. Every report's record is known,
and so is what is wrong with it: a total that no longer adds up, a blank count, a carry-over that does
not match last year's report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from convert.record import Record
from convert.render import render_report
from tests.strategies import consistent_record

TOWNSHIPS = (
    "城关镇 东坝镇 七星乡 三江镇 石桥镇 龙泉镇 白沙镇 青山乡 河口镇 新华乡 双河镇 长岭乡 金竹乡 柳林镇 高坪镇 "
    "桃园乡 黄桷镇 马鞍乡 红岩镇 大田乡 太平镇 永兴镇 民主乡 和平乡 安乐镇 清水镇 石门乡 铁山镇 兴隆镇 复兴镇 "
    "平安乡 红星乡 天池镇 凤凰镇 云雾乡 花桥镇 水口镇 龙门乡 仁和镇 福禄镇"
).split()


@dataclass
class Report:
    """One generated report: its record, the files it was written to, and what was made wrong in it."""

    record: Record
    files: list[Path] = field(default_factory=list)
    fault: str = ""  # "", "sum" (a total that does not add up), "blank" (a blank count), "carry" (a carry-over break)


PARTS = ("natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org")


def county_records(n: int, year: int, *, seed: int = 0) -> list[Report]:
    """Return n townships' reports of a year: most clean, every 8th a wrong total, every 10th a blank count."""
    out = []
    for i in range(n):
        rec = consistent_record("2021", seed=seed * 1000 + i)
        rec.notes = {}
        rec.extra = []
        rec.agency = TOWNSHIPS[i % len(TOWNSHIPS)] + ("" if i < len(TOWNSHIPS) else f"{i // len(TOWNSHIPS) + 1}")
        rec.year = year
        rec.title = f"{rec.agency}{year}年政府信息公开工作年度报告"
        fault = ""
        if i % 8 == 3:
            rec.cells["requests.new_received.natural_person"] += 10  # type: ignore[operator]
            fault = "sum"
        elif i % 10 == 6:
            rec.cells["requests.new_received.commercial"] = None
            fault = "blank"
        out.append(Report(rec, fault=fault))
    return out


def previous_records(reports: list[Report], *, seed: int = 1, broken: int = 13) -> list[Report]:
    """Return last year's reports of the same townships, clean, whose 结转下年度 is this year's 上年结转.

    Every `broken`-th township's (the 6th first) is off by one on 自然人: this year's report is then a
    carry-over break (its fault becomes "carry" unless it has another).
    """
    out = []
    for i, this in enumerate(reports):
        rec = consistent_record("2021", seed=seed * 1000 + i)
        rec.notes, rec.extra = {}, []
        rec.agency, rec.year = this.record.agency, (this.record.year or 1) - 1
        rec.title = f"{rec.agency}{rec.year}年政府信息公开工作年度报告"
        off = i % broken == 5
        for col in PARTS:
            forward = this.record.cells[f"requests.carried_over.{col}"] or 0
            forward += 1 if off and col == "natural_person" else 0  # type: ignore[operator]
            total = rec.cells[f"requests.total.{col}"]
            carried = min(rec.cells[f"requests.carried_over.{col}"], total + forward)  # type: ignore[operator,type-var]
            rec.cells[f"requests.carried_forward.{col}"] = forward
            rec.cells[f"requests.carried_over.{col}"] = carried
            # 一 + 二 = 三 + 四 still holds.
            rec.cells[f"requests.new_received.{col}"] = total + forward - carried  # type: ignore[operator]
        for row in ("new_received", "carried_over", "carried_forward"):
            rec.cells[f"requests.{row}.total"] = sum(rec.cells[f"requests.{row}.{c}"] for c in PARTS)  # type: ignore[misc]
        if off and not this.fault:
            this.fault = "carry"
        out.append(Report(rec))
    return out


def write_text(reports: list[Report], folder: Path, layout: str = "tabs") -> None:
    """Write each report as text (as copied from Word or a web page) into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for r in reports:
        path = folder / f"{r.record.agency}-{r.record.year}.txt"
        path.write_text(render_report(r.record, layout), encoding="utf-8")
        r.files.append(path)


def write_mixed(reports: list[Report], folder: Path, *, twins: int = 2) -> None:
    """Write reports as a county receives them: Word, PDF (printed by LibreOffice), web pages and text.

    The first `twins` reports come both as .docx and as the .pdf printed from it (one report, two files).
    """
    from tests.docgen import convert_documents, render_docx

    folder.mkdir(parents=True, exist_ok=True)
    to_print: list[Path] = []
    for i, r in enumerate(reports):
        rec = r.record
        stem = folder / f"{rec.agency}{rec.year}年报"
        kind = "docx" if i < twins else ("docx", "pdf", "html", "txt")[i % 4]
        if kind in ("docx", "pdf"):
            render_docx(rec, stem.with_suffix(".docx"))
            r.files.append(stem.with_suffix(".docx"))
            if kind == "pdf" or i < twins:
                to_print.append(stem.with_suffix(".docx"))
        elif kind == "html":
            stem.with_suffix(".html").write_text(render_report(rec, "html"), encoding="utf-8")
            r.files.append(stem.with_suffix(".html"))
        else:
            stem.with_suffix(".txt").write_text(render_report(rec, "cells"), encoding="gb18030")
            r.files.append(stem.with_suffix(".txt"))
    if to_print:
        made = convert_documents(to_print, "pdf", folder)
        by_stem = {p.stem: p for p in made}
        for i, r in enumerate(reports):
            docx_file = r.files[0]
            if docx_file.suffix == ".docx" and docx_file.stem in by_stem:
                r.files.append(by_stem[docx_file.stem])
                if i >= twins:
                    docx_file.unlink()  # this township sent only the PDF
                    r.files.remove(docx_file)
