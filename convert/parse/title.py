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
_PRONOUN = re.compile(r"(?:本|我|该)(?:年度?|机关|单位|部门|镇|乡|街道|局|委|办|院|所)?")
# A sentence of the preface names the report too (本年度报告根据《条例》…编制。), but is no title.
_SENTENCE = re.compile(r"^本(?:年度)?报告|^本年报|[根依]据《|按照《|[。；]")
# The end of an agency's name: the line before a title that has none of its own (洪泽区人民政府 / 2023 年…报告).
_AGENCY_END = re.compile(
    r"(?:政府|办公室|局|委员会|委|街道|镇|乡|区|县|市|州|盟|旗|省|厅|办|中心|院|所|站|队|处|管委会|管理委员会)$"
)
# What a title says besides the agency: year, 关于, the report's name.
_NOT_AGENCY = re.compile(r"^(?:关于)?(?:(?:19|20)\d{2}年度?)?(?:关于)?(?:政府信息公开|政务公开|信息公开)")


def title_and_preface(lines: list[Line]) -> tuple[str | None, list[str]]:
    """Find the title among the lines before the first section; the rest of them is the preface."""
    texts = [line.text for line in lines if not line.blank]
    head = texts[:8]

    def names_report(t: str) -> bool:
        # Web breadcrumbs (首页 > 政务公开 > 年度报告) and the preface's sentences name the report too, but are no title.
        return (
            "报告" in t
            and ("公开" in t or "年度" in t)
            and len(t) <= 80
            and not _BREADCRUMB.search(t)
            and not _SENTENCE.search(t)
        )

    # Web pages put breadcrumbs before the title: the title is the line that names the report.
    idx = next((i for i, t in enumerate(head) if names_report(t) and "信息公开" in t), None)
    if idx is None:
        idx = next((i for i, t in enumerate(head) if names_report(t)), None)
    if idx is None:
        return None, texts
    title = texts[idx]
    start = idx
    # A title broken over two short lines (agency, then year and 报告) is one title.
    if idx > 0 and _agency_line(texts[idx - 1], title):
        title, start = texts[idx - 1] + title, idx - 1
    return title, texts[:start] + texts[idx + 1 :]


def _agency_line(before: str, title: str) -> bool:
    """Whether the line before the title is the first line of it: the agency, when the title line lacks one."""
    words = re.sub(r"\s+", "", unicodedata.normalize("NFKC", before))
    if (
        len(before) > 30
        or _YEAR.search(words)
        or _BREADCRUMB.search(before)
        or re.search(r"[:：。，,;；!！?？]", words)
    ):
        return False
    # 「洪泽区人民政府」 then 「2023 年政府信息公开工作年度报告」: the title line starts with its year or its name.
    return bool(_AGENCY_END.search(words)) and bool(_NOT_AGENCY.match(re.sub(r"\s+", "", title)))


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
        # 本年度 / 本机关 / 我局 name no agency: the title had none (a preface taken for it would say 本).
        agency = None if _PRONOUN.fullmatch(head) else head or None
    if agency is None:
        agency = _page_agency(record)
    if agency is None:
        record.warn("agency-unknown", {}, "agency")
    if year is None:
        year = _year_from_text(record, lines)
    return agency, year


def _page_agency(record: Record) -> str | None:
    """The agency a web page's own metadata names (发布机构), when the title names none; a warning says so."""
    page = record.source.get("page")
    if not isinstance(page, dict):
        return None
    issuer = next((page[k] for k in ("发布机构", "发文机关", "发文机构", "发布单位", "发文单位") if page.get(k)), "")
    name = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(issuer)))
    # A place's government or its office (the office publishes for it) names the place, as a title does.
    name = re.sub(r"^(.+?(?:镇|乡|街道|县|市|区|州|盟|旗|省))(?:人民)?政府(?:办公室|办公厅)?$", r"\1", name)
    if not name:
        return None
    record.warn("agency-from-page", {"agency": name}, "agency")
    return name


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
