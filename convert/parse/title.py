"""The lines before the first section: the title, the preface, and from them the agency and the year."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from convert.inputs.base import Line
from convert.record import Record

_BREADCRUMB = re.compile(r"[>›»＞→]|^\s*(?:当前位置|您的位置|您现在的位置|首页)")
_TITLE_TAIL = re.compile(
    r"(?:关于)?(?:\d{4}\s*年度?)?\s*(?:政府信息公开|政务公开|信息公开)?(?:工作)?(?:年度)?(?:工作)?报告.*$"
)
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")


def title_and_preface(lines: list[Line]) -> tuple[str | None, list[str]]:
    """Find the title among the lines before the first section; the rest of them is the preface."""
    texts = [line.text for line in lines if not line.blank]
    head = texts[:8]

    def names_report(t: str) -> bool:
        # Web breadcrumbs (首页 > 政务公开 > 年度报告) name the report too, but are no title.
        return "报告" in t and ("公开" in t or "年度" in t) and len(t) <= 80 and not _BREADCRUMB.search(t)

    # Web pages put breadcrumbs before the title: the title is the line that names the report.
    idx = next((i for i, t in enumerate(head) if names_report(t) and "信息公开" in t), None)
    if idx is None:
        idx = next((i for i, t in enumerate(head) if names_report(t)), None)
    if idx is None:
        return None, texts
    title = texts[idx]
    start = idx
    # A title broken over two short lines (agency, then year and 报告) is one title.
    if (
        idx > 0
        and len(texts[idx - 1]) <= 30
        and not _YEAR.search(texts[idx - 1])
        and re.search(r"(政府|办公室|局|委员会|街道|镇|乡)$", texts[idx - 1])
    ):
        title, start = texts[idx - 1] + title, idx - 1
    return title, texts[:start] + texts[idx + 1 :]


def agency_and_year(record: Record, lines: list[Line]) -> tuple[str | None, int | None]:
    """The agency and the year from the title; the year from the text when the title has none (with a warning)."""
    title = record.title or ""
    compact = re.sub(r"\s+", "", unicodedata.normalize("NFKC", title))
    year: int | None = None
    m = _YEAR.search(compact)
    if m:
        year = int(m.group(1))
    agency = None
    if compact:
        head = _TITLE_TAIL.sub("", compact)
        head = re.sub(r"(?:19|20)\d{2}年度?", "", head).strip("：:，, ")
        head = re.sub(r"^(?:关于)", "", head)
        # 后河镇人民政府 and 后河镇政府 are the same office: keep the place name.
        head = re.sub(r"^(.+?(?:镇|乡|街道|县|市|区|州|盟|旗|省))(?:人民)?政府$", r"\1", head)
        agency = head or None
    if agency is None:
        record.warn("agency-unknown", {}, "agency")
    if year is None:
        year = _year_from_text(record, lines)
    return agency, year


def _year_from_text(record: Record, lines: list[Line]) -> int | None:
    everything = "\n".join(line.text for line in lines)
    compact = re.sub(r"\s+", "", unicodedata.normalize("NFKC", everything))
    period = re.search(r"((?:19|20)\d{2})年1月1日(?:起)?至(?:(?:19|20)\d{2}年)?12月31日", compact)
    if period:
        return int(period.group(1))
    years = Counter(int(y) for y in re.findall(r"((?:19|20)\d{2})年(?!\d)", compact))
    if not years:
        record.warn("year-unknown", {}, "year")
        return None
    year, _ = years.most_common(1)[0]
    record.warn("year-guessed", {"year": year}, "year")
    return year
