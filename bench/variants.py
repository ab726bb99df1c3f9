"""Perturbed reports as real ones come: label variants, odd layouts, leftovers, shredded tables; and how well we read them.

Every report is rendered here from a random record (bench/generate.py make_record) through a grid with merged
cells, then perturbed by named transforms (combinable, seeded). The measure compares what the reader returns with
the record the text was rendered from, so a guess is never counted as right.

Run: python bench/variants.py --n 300             (figures per transform and overall, a few failures)
     python bench/variants.py --show 17 --transforms footers,pdf   (print one perturbed report)
"""

from __future__ import annotations

import argparse
import html
import random
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import make_record
from convert.errors import NotAReportError
from convert.formats import load_format
from convert.parse import parse_report
from convert.record import Record, Value

LEFT, UP = "\x00<", "\x00^"  # a cell merged with the one on its left / above
LAYOUTS = ("tabs", "cells", "markdown", "html", "pdf")

PLACES = [
    ("隆德县联财镇", "town"),
    ("凤冈县进化镇", "town"),
    ("某市某区竹镇镇", "town"),
    ("某某县后河乡", "town"),
    ("某某市某某区", "county"),
    ("某某县", "county"),
    ("某某市某某区东华街道", "street"),
]
OFFICES = ["发展和改革局", "人力资源和社会保障局", "自然资源局", "卫生健康委员会", "人民政府办公室"]

# Label variants seen in real reports, by official label (or its key words).
ALIASES = {
    "社会公益组织": ["社会组织", "社会公益"],
    "2.其他法律行政法规禁止公开": ["2.其他法律法规禁止公开"],
    "（六）其他处理": ["（六）其他"],
    "四、结转下年度继续办理": ["四、结转下一年度继续办理", "结转下一年度继续办理"],
    "（七）总计": ["七、总计"],
    "结果维持": ["结果维护"],
    "规范性文件": ["行政规范性文件"],
}
PROBLEM_HEADINGS = [
    "五、存在的主要问题及改进情况",
    "存在的主要问题及改进情况",
    "五、存在的问题及下一步打算",
    "五、政府信息公开工作存在的主要问题及改进情况",
]


@dataclass
class Doc:
    """A report before it is written out: title lines, blocks, and the record it must read back as."""

    truth: Record
    layout: str
    rng: random.Random
    title: list[str] = field(default_factory=list)
    blocks: list[tuple[str, object]] = field(default_factory=list)  # (title|para|heading|table|rule, content)
    opts: dict = field(default_factory=dict)


TRANSFORMS: dict[str, tuple[str, object]] = {}  # name -> (stage, function)
# Transforms applied only when named (--transforms), never drawn at random: the random reports stay as they were.
OPT_IN: set[str] = set()


def transform(stage: str, drawn: bool = True):
    """Register a named transform applied at a stage: record, grid, doc or text (drawn at random unless not)."""

    def wrap(fn):
        name = fn.__name__.removeprefix("t_")
        TRANSFORMS[name] = (stage, fn)
        if not drawn:
            OPT_IN.add(name)
        return fn

    return wrap


# -- record stage: change what the report says (the truth changes with it) ---------------------------------------
@transform("record")
def t_blank_cells(doc: Doc) -> None:
    """Some cells left empty (blank is never zero)."""
    keys = list(doc.truth.cells)
    for k in doc.rng.sample(keys, max(1, len(keys) // 15)):
        doc.truth.cells[k] = None


@transform("record")
def t_blank_column(doc: Doc) -> None:
    """A whole column left empty: one applicant column of 三, or one column of 二."""
    fmt = load_format(doc.truth.format)
    table = doc.rng.choice(["requests", "requests", "proactive"])
    col = doc.rng.choice([c.key for c in fmt.tables[table].columns if c.key != "total"])
    for k in doc.truth.cells:
        if k.startswith(f"{table}.") and k.endswith(f".{col}"):
            doc.truth.cells[k] = None


@transform("record")
def t_placeholders(doc: Doc) -> None:
    """Empty cells written as —, / or 无."""
    doc.opts["placeholder"] = doc.rng.choice(["—", "/", "无", "——"])
    keys = list(doc.truth.cells)
    for k in doc.rng.sample(keys, max(1, len(keys) // 20)):
        doc.truth.cells[k] = None


@transform("record")
def t_big_numbers(doc: Doc) -> None:
    """Large offices: four-digit counts, written with thousands separators."""
    doc.opts["thousands"] = True
    # Scale the request table so totals run into the thousands; rules still hold when every cell scales.
    for k, v in list(doc.truth.cells.items()):
        if k.startswith("requests.") and isinstance(v, int):
            doc.truth.cells[k] = v * 7


@transform("record", drawn=False)
def t_six_one_row(doc: Doc) -> None:
    """2021: （六）其他处理 printed as one row of its totals, without its three sub-rows."""
    if doc.truth.format != "2021":
        return
    table = load_format("2021").tables["requests"]
    for row in (r for r in table.rows if r.sums):
        for c in row.columns:
            parts = [doc.truth.cells.get(f"requests.{p}.{c}") for p in row.sums]
            doc.truth.cells[f"requests.{row.key}.{c}"] = None if None in parts else sum(parts)  # type: ignore[arg-type]
            for p in row.sums:
                doc.truth.cells[f"requests.{p}.{c}"] = None
    doc.opts["six_one_row"] = True


# -- grid stage: options for the tables ----------------------------------------------------------------------------
@transform("grid")
def t_label_aliases(doc: Doc) -> None:
    """Labels as local templates word them (社会组织, 其他法律法规禁止公开, 七、总计, 结果维护 …)."""
    doc.opts["aliases"] = True


@transform("grid", drawn=False)
def t_label_typos(doc: Doc) -> None:
    """Typos and numbering of published reports: 2.其他法律行政止公开, sub-rows numbered 1、2、3、."""
    doc.opts["typos"] = True


@transform("grid", drawn=False)
def t_header_total(doc: Doc) -> None:
    """三's 总计 column label on the first header row, merged down (a header row whose last cell reads 总计)."""
    doc.opts["header_total"] = True


@transform("grid")
def t_label_spaces(doc: Doc) -> None:
    """Labels with spaces inside (规    章, 自 然 人)."""
    doc.opts["spaces"] = True


@transform("grid")
def t_halfwidth(doc: Doc) -> None:
    """Half-width brackets (一) and numbering without 、."""
    doc.opts["halfwidth"] = True


@transform("grid")
def t_label_broken(doc: Doc) -> None:
    """Labels broken across lines (（三）不予 / 公开, 本年新 / 制作数量)."""
    doc.opts["broken"] = True


@transform("grid")
def t_annotation(doc: Doc) -> None:
    """Provincial notes after labels: 规章(设区的市、自治州人民政府应提供相关数据)."""
    doc.opts["annotation"] = True


@transform("grid")
def t_extra_row(doc: Doc) -> None:
    """A provincial extra row 其他主动公开文件 in 二, with numbers."""
    doc.opts["extra_row"] = True


@transform("grid")
def t_subtotal_col(doc: Doc) -> None:
    """A 小计 column for 法人或其他组织 in 三."""
    doc.opts["subtotal_col"] = True


@transform("grid")
def t_subtotal_rows(doc: Doc) -> None:
    """小计 rows under （三）（四）（五）（六） in 三."""
    doc.opts["subtotal_rows"] = True


@transform("grid")
def t_word_merges(doc: Doc) -> None:
    """A Word/WPS copy: horizontally merged cells collapse into one cell."""
    doc.opts["collapse"] = True


@transform("grid")
def t_misaligned(doc: Doc) -> None:
    """Rows of 三 with a cell too many (a stray empty cell) or one too few (a lost empty cell), numbers non-zero."""
    doc.opts["misaligned"] = doc.rng.randint(1, 3)


# -- doc stage: headings, titles, order -----------------------------------------------------------------------------
@transform("doc")
def t_headings(doc: Doc) -> None:
    """Headings renumbered, unnumbered or reworded."""
    doc.opts["headings"] = True


@transform("doc")
def t_narrative_first(doc: Doc) -> None:
    """Narrative chapters first, numbering restarted at the tables."""
    doc.opts["narrative_first"] = True


@transform("doc")
def t_title_gov(doc: Doc) -> None:
    """Title 「XX镇人民政府2021年政府信息公开工作年度报告」."""
    doc.opts["title"] = "gov"


@transform("doc")
def t_title_noyear(doc: Doc) -> None:
    """Title without a year; the year from the statistics period."""
    doc.opts["title"] = "noyear"


@transform("doc")
def t_title_broken(doc: Doc) -> None:
    """Title broken over two lines."""
    doc.opts["title"] = "broken"


@transform("doc", drawn=False)
def t_title_two_lines(doc: Doc) -> None:
    """Title on two lines with a space before 年 (洪泽区人民政府 / 2023 年…报告); the preface starts 本年度报告根据…."""
    doc.opts["title"] = "two_lines"


@transform("doc")
def t_breadcrumbs(doc: Doc) -> None:
    """Web breadcrumbs and page chrome before the title."""
    doc.opts["breadcrumbs"] = True


# -- text stage: leftovers in the written text ----------------------------------------------------------------------
@transform("text")
def t_footers(doc: Doc) -> None:
    """Page footers 「— 3 —」 and 「第 3 页 共 7 页」 falling between rows of a table."""
    doc.opts["footers"] = True


@transform("text")
def t_markup(doc: Doc) -> None:
    """**bold**, [bookmark: _GoBack], ------- rules."""
    doc.opts["markup"] = True


@transform("text")
def t_nbsp(doc: Doc) -> None:
    """Non-breaking and ideographic spaces around numbers."""
    doc.opts["nbsp"] = True


HARD = {"misaligned", "blank_column", "subtotal_col", "narrative_first"}


# -- building ---------------------------------------------------------------------------------------------------------
def printed_cells(truth: Record) -> dict[str, Value]:
    """The truth's cells the report prints: not a total the form leaves to its rows (（六）其他处理 of 2021)."""
    fmt = load_format(truth.format)
    derived = {f"{t.key}.{r.key}." for t in fmt.tables.values() for r in t.rows if r.sums}
    return {k: v for k, v in truth.cells.items() if not k.startswith(tuple(derived))}


def build(seed: int, layout: str | None = None, names: list[str] | None = None, p: float = 0.22) -> Doc:
    """Return a perturbed report: a random record, a layout and a random set of transforms (or the named ones)."""
    rng = random.Random(seed * 7919 + 17)
    version = ("2019", "2021")[seed % 2]
    truth = make_record(version, seed)
    # The truth is what the report prints: a total the form leaves to its rows is the reader's to derive.
    truth.cells = printed_cells(truth)
    place, kind = rng.choice(PLACES)
    if kind == "county" and rng.random() < 0.6:
        truth.agency = place + rng.choice(OFFICES)
    else:
        truth.agency = place
    truth.text = _texts(rng, truth)
    layout = layout or rng.choice(LAYOUTS)
    doc = Doc(truth, layout, rng)
    if names is None:
        names = [n for n in TRANSFORMS if n not in OPT_IN and rng.random() < p]
        titles = [n for n in names if n.startswith("title_")]
        for extra in titles[1:]:
            names.remove(extra)
    doc.opts["names"] = names
    for stage in ("record", "grid", "doc", "text"):
        for name in names:
            st, fn = TRANSFORMS[name]
            if st == stage:
                fn(doc)  # type: ignore[operator]
    _assemble(doc)
    return doc


def _texts(rng: random.Random, rec: Record) -> dict[str, list[str]]:
    n = rng.randint(10, 5000)
    return {
        "preface": ["本报告依据《中华人民共和国政府信息公开条例》编制，由总体情况、主动公开政府信息情况等部分组成。"],
        "overview": [
            "（一）主动公开情况",
            f"全年主动公开政府信息{n}条，其中通过门户网站公开{n // 2}条。",
            "（二）依申请公开情况",
            "全年收到政府信息公开申请，均在法定期限内答复。",
            "（三）政府信息管理",
            "严格落实公开前保密审查机制。",
        ][: rng.choice([2, 4, 6])],
        "problems": ["一是公开内容不够全面。二是解读形式较为单一。", "下一步，我们将加强培训，提高公开质量。"][
            : rng.choice([1, 2])
        ],
        "other": [rng.choice(["本年度未收取信息处理费。", "无。", "本机关无其他需要报告的事项。"])],
    }


def _assemble(doc: Doc) -> None:
    rec, o, rng = doc.truth, doc.opts, doc.rng
    fmt = load_format(rec.format)
    agency, year = rec.agency or "", rec.year
    gov = agency if agency.endswith(("镇", "乡", "街道", "县", "区")) else None
    style = o.get("title")
    if style == "gov" and gov:
        doc.title = [f"{gov}人民政府{year}年政府信息公开工作年度报告"]
    elif style == "broken":
        doc.title = [f"{gov}人民政府" if gov else agency, f"{year}年政府信息公开工作年度报告"]
    elif style == "noyear":
        doc.title = [f"{agency}政府信息公开工作年度报告"]
    elif style == "two_lines":
        doc.title = [f"{gov}人民政府" if gov else agency, f"{year} 年政府信息公开工作年度报告"]
        rec.text["preface"] = ["本年度报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）要求编制。"]
    else:
        doc.title = [f"{agency}{year}年政府信息公开工作年度报告"]
    if o.get("breadcrumbs"):
        doc.title = ["首页 > 政务公开 > 政府信息公开 > 年度报告", "发布时间：2022-01-20  来源：本站", *doc.title]
    preface = list(rec.text["preface"])
    if style == "noyear":
        preface.append(f"本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。")
        rec.text["preface"] = preface
    blocks: list[tuple[str, object]] = [("para", p) for p in preface]
    heads = {s.key: f"{s.number}、{s.heading}" for s in fmt.sections}
    if o.get("headings"):
        heads["problems"] = rng.choice(PROBLEM_HEADINGS)
        heads["overview"] = rng.choice(["一、总体情况", "总体情况", "1.总体情况"])
        heads["appeals"] = rng.choice([heads["appeals"], "四、因政府信息公开申请引起的行政复议、行政诉讼情况"])
    sections = [s.key for s in fmt.sections]
    if o.get("narrative_first"):
        text_keys = [k for k in sections if fmt.section(k).kind == "text"]
        table_keys = [k for k in sections if fmt.section(k).kind == "table"]
        nums = "一二三四五六"
        for i, k in enumerate(text_keys):
            heads[k] = nums[i] + "、" + re.sub(r"^[一二三四五六七八九十]+、", "", heads[k])
        for i, k in enumerate(table_keys):
            heads[k] = nums[i] + "、" + re.sub(r"^[一二三四五六七八九十]+、", "", heads[k])
        sections = text_keys + table_keys
    for key in sections:
        section = fmt.section(key)
        blocks.append(("heading", heads[key]))
        if section.kind == "text":
            blocks += [("para", p) for p in rec.text.get(key, [])]
        else:
            blocks.append(("table", _grid(doc, fmt, key)))
        if o.get("markup") and rng.random() < 0.3:
            blocks.append(("rule", "-------"))
    doc.blocks = blocks


def _val(doc: Doc, key: str, kind: str) -> str:
    v: Value = doc.truth.cells.get(key)
    if v is None:
        return doc.opts.get("placeholder", "") if doc.rng.random() < 0.7 else ""
    if kind == "money":
        s = format(v, "f")
        return s + ("万元" if doc.rng.random() < 0.5 else "")
    s = f"{v:,}" if doc.opts.get("thousands") and isinstance(v, int) else str(v)
    if doc.opts.get("nbsp") and doc.rng.random() < 0.3:
        s = doc.rng.choice(["\u00a0", " ", "\u3000"]) + s + doc.rng.choice(["", "\u00a0"])
    return s


def _label(doc: Doc, text: str, where: str = "row") -> str:
    o, rng = doc.opts, doc.rng
    if o.get("aliases"):
        for official, variants in ALIASES.items():
            if text == official and rng.random() < 0.7:
                text = rng.choice(variants)
                break
    if o.get("typos"):
        text = re.sub(r"^(\d)\.", r"\1、", text.replace("其他法律行政法规禁止公开", "其他法律行政止公开"))
    if o.get("halfwidth"):
        text = text.replace("（", "(").replace("）", ")")
        if rng.random() < 0.5:
            text = re.sub(r"^\(([一二三四五六七])\)", r"(\1) ", text)
    if o.get("spaces") and len(text) <= 5 and rng.random() < 0.6:
        text = (" " * rng.choice([1, 2, 4])).join(text)
    if o.get("broken") and len(text) >= 6 and rng.random() < 0.4:
        cut = rng.randint(2, len(text) - 2)
        text = text[:cut] + "\n" + text[cut:]
    return text


def _grid(doc: Doc, fmt, key: str) -> list[list[str]]:
    table = fmt.tables[key]
    if key == "proactive":
        return _proactive(doc, table)
    if key == "appeals":
        return _appeals(doc, table)
    return _requests(doc, table)


def _proactive(doc: Doc, table) -> list[list[str]]:
    width = 1 + max(len(r.columns) for r in table.rows)
    rows: list[list[str]] = []
    last = None
    for row in table.rows:
        if row.group != last:
            rows.append([table.group(row.group).label] + [LEFT] * (width - 1))
            heads = [_label(doc, table.column(c).label, "col") for c in row.columns]
            rows.append(["信息内容", *heads] + ([LEFT] * (width - 1 - len(heads)) if heads else []))
            last = row.group
        label = _label(doc, row.label)
        if doc.opts.get("annotation") and row.key == "regulations":
            label += "(设区的市、自治州人民政府应提供相关数据)"
        vals = [_val(doc, f"proactive.{row.key}.{c}", table.column(c).type) for c in row.columns]
        fill = LEFT if len(vals) == 1 else ""
        rows.append([label, *vals] + [fill] * (width - 1 - len(vals)))
        if doc.opts.get("extra_row") and row.key == "normative_documents":
            n = doc.rng.randint(1, 30)
            rows.append(["其他主动公开文件", str(n), str(n), str(n * 3)][:width] + [""] * (width - 4))
    return rows


def _appeals(doc: Doc, table) -> list[list[str]]:
    cols = [_label(doc, c.label, "col") for c in table.columns]
    rows = [
        ["行政复议", *[LEFT] * 4, "行政诉讼", *[LEFT] * 9],
        [*cols, "未经复议直接起诉", *[LEFT] * 4, "复议后起诉", *[LEFT] * 4],
        [*[UP] * 5, *cols, *[_label(doc, c.label, "col") for c in table.columns]],
        [_val(doc, f"appeals.{r.key}.{c.key}", c.type) for r in table.rows for c in table.columns],
    ]
    return rows


def _requests(doc: Doc, table) -> list[list[str]]:
    o, rec = doc.opts, doc.truth
    sub = bool(o.get("subtotal_col"))
    cols = [c for c in table.columns]
    orgs = [c for c in cols if c.group]
    header = [
        [table.corner, LEFT, LEFT, "申请人情况", *[LEFT] * (len(cols) - 1 + sub)],
        [UP, UP, UP, _label(doc, "自然人", "col"), "法人或其他组织", *[LEFT] * (len(orgs) - 1 + sub), "总计"],
        [UP, UP, UP, UP, *(["小计"] if sub else []), *[_label(doc, c.label, "col") for c in orgs], UP],
    ]
    if o.get("header_total"):
        header[0][-1], header[1][-1] = "总计", UP
    rows = list(header)

    def values(row_key: str) -> list[str]:
        vals = [_val(doc, f"requests.{row_key}.{c.key}", c.type) for c in cols]
        if sub:
            parts = [rec.cells.get(f"requests.{row_key}.{c.key}") for c in orgs]
            s = "" if all(v is None for v in parts) else str(sum(v or 0 for v in parts))
            vals.insert(1, s)
        return vals

    def subtotal(group: str, keys: list[str]) -> list[str]:
        vals = []
        for c in cols:
            parts = [rec.cells.get(f"requests.{k}.{c.key}") for k in keys]
            vals.append("" if all(v is None for v in parts) else str(sum(v or 0 for v in parts)))
        if sub:
            parts = [rec.cells.get(f"requests.{k}.{c.key}") for k in keys for c in orgs]
            vals.insert(1, "" if all(v is None for v in parts) else str(sum(v or 0 for v in parts)))
        return vals

    results_started = False
    group_seen: set[str] = set()
    data_rows = table.form_rows
    if o.get("six_one_row"):
        # The total in place of the rows it sums, labelled as the form labels （六）.
        parts = {p for r in table.rows for p in r.sums}
        data_rows = tuple(r for r in table.rows if r.key not in parts)
    for i, row in enumerate(data_rows):
        label = _label(doc, row.aliases[0] if row.sums else row.label)
        if row.group is None:
            rows.append([label, LEFT, LEFT, *values(row.key)])
            continue
        g1 = UP if results_started else _label(doc, table.group("results").label)
        results_started = True
        if row.group == "results":
            rows.append([g1, label, LEFT, *values(row.key)])
            continue
        grp = table.group(row.group)
        g2 = UP if row.group in group_seen else _label(doc, grp.label)
        group_seen.add(row.group)
        rows.append([g1, g2, label, *values(row.key)])
        nxt = data_rows[i + 1] if i + 1 < len(data_rows) else None
        if o.get("subtotal_rows") and (nxt is None or nxt.group != row.group):
            keys = [r.key for r in data_rows if r.group == row.group]
            rows.append([UP, UP, "小计", *subtotal(row.group, keys)])
    if o.get("misaligned"):
        data_idx = [i for i, r in enumerate(rows) if i >= 3 and r[2] != "小计" and any(c.strip() for c in r[3:])]
        for i in doc.rng.sample(data_idx, min(len(data_idx), o["misaligned"])):
            r = rows[i]
            vals = r[3:]
            if doc.rng.random() < 0.5:
                pos = doc.rng.randint(0, len(vals))
                vals.insert(pos, "")  # a stray empty cell
            else:
                zeros = [j for j, v in enumerate(vals) if v.strip() in ("0", "")]
                if not zeros:
                    continue
                vals.pop(doc.rng.choice(zeros))  # a lost empty or zero cell
            rows[i] = [*r[:3], *vals]
    return rows


# -- writing ----------------------------------------------------------------------------------------------------------
def _cells(row: list[str], collapse: bool, lost: bool = False) -> list[str]:
    out = []
    for c in row:
        if c == LEFT and (collapse or lost):
            continue
        if c == UP and lost:
            continue
        out.append("" if c in (LEFT, UP) else c)
    return out


def write(doc: Doc) -> str:
    """Write the document in its layout, with the text-stage leftovers."""
    if doc.layout == "html":
        return _html(doc)
    o, rng = doc.opts, doc.rng
    out: list[str] = []
    md = doc.layout in ("markdown", "pdf")
    out += [("# " if md and len(doc.title) == 1 and rng.random() < 0.5 else "") + t for t in doc.title] + [""]
    page = [1]

    def footer() -> str:
        page[0] += 1
        return rng.choice([f"— {page[0]} —", f"第 {page[0]} 页 共 9 页", f"- {page[0]} -"])

    for kind, content in doc.blocks:
        if kind == "heading":
            h = str(content)
            out += [("## " if md else "**" if o.get("markup") and rng.random() < 0.3 else "") + h, ""]
            if out[-2].startswith("**"):
                out[-2] += "**"
        elif kind == "para":
            p = str(content)
            if o.get("markup"):
                r = rng.random()
                if r < 0.2:
                    p = f"**{p}**"
                elif r < 0.3:
                    p = p + "[bookmark: _GoBack]"
            out += [p, ""] if doc.layout != "pdf" or rng.random() < 0.5 else [p]
        elif kind == "rule":
            out += ["-------", ""]
        else:
            rows: list[list[str]] = content  # type: ignore[assignment]
            out += _table_text(doc, rows, footer)
    return "\n".join(out) + "\n"


def _table_text(doc: Doc, rows: list[list[str]], footer) -> list[str]:
    o, rng, layout = doc.opts, doc.rng, doc.layout
    out: list[str] = []
    footer_at = rng.randint(2, max(2, len(rows) - 1)) if o.get("footers") and len(rows) > 3 else -1
    if layout == "pdf":
        return _shredded(doc, rows, footer_at, footer)
    collapse = bool(o.get("collapse"))
    width = max(len(_cells(r, collapse)) for r in rows)
    for i, r in enumerate(rows):
        if i == footer_at:
            out += ["", footer(), ""] if layout != "tabs" else [footer()]
        cells = _cells(r, collapse)
        if layout == "tabs":
            out.append("\t".join(c.replace("\n", "") for c in cells))
        elif layout == "markdown":
            cells = [c.replace("\n", "<br>").replace("|", "｜") for c in cells] + [""] * (width - len(cells))
            out.append("| " + " | ".join(cells) + " |")
            if i == 0:
                out.append("|" + "---|" * width)
        else:  # cells: one cell per line, a blank line between rows
            for c in cells:
                out += [f"\t{part}" if j == 0 else part for j, part in enumerate(c.split("\n"))]
            out.append("")
    if layout == "markdown":
        out.append("")
    return [*out, ""]


def _shredded(doc: Doc, rows: list[list[str]], footer_at: int, footer) -> list[str]:
    """A PDF turned into markdown: merged cells lost, long rows split over two lines, columns ragged."""
    rng = doc.rng
    lines: list[list[str]] = []
    for i, r in enumerate(rows):
        if i == footer_at:
            lines.append(["\x01" + footer()])
        cells = [c.replace("\n", "") for c in _cells(r, collapse=True, lost=True)]
        labels = [j for j, c in enumerate(cells) if c and not re.fullmatch(r"[\d,.\-—/无\s\u00a0\u3000万元]*", c)]
        long = [j for j in labels if len(cells[j]) >= 12]
        roll = rng.random()
        if long and roll < 0.25:
            # The label wraps: its head alone on a line, its tail with the numbers.
            j = long[-1]
            cut = rng.randint(4, len(cells[j]) - 4)
            lines.append([*cells[:j], cells[j][:cut]])
            lines.append([cells[j][cut:], *cells[j + 1 :]])
        elif labels and len(cells) - labels[-1] > 6 and roll < 0.35:
            # The numbers wrap onto the next line.
            k = rng.randint(labels[-1] + 3, len(cells) - 2)
            lines.append(cells[:k])
            lines.append(cells[k:])
        else:
            lines.append(cells)
    width = max(len(x) for x in lines)
    out: list[str] = []
    for i, cells in enumerate(lines):
        if cells and cells[0].startswith("\x01"):
            out += ["", cells[0][1:], ""]
            continue
        padded = [c.replace("|", "｜") for c in cells] + [""] * (width - len(cells))
        out.append("| " + " | ".join(padded) + " |")
        if i == 0:
            out.append("|" + "---|" * width)
    return [*out, ""]


def _html(doc: Doc) -> str:
    o, rng = doc.opts, doc.rng
    parts = ["<html><head><meta charset='utf-8'><title>年度报告</title></head><body>"]
    for t in doc.title:
        parts.append(f"<p class='title'><strong>{html.escape(t)}</strong></p>")
    for kind, content in doc.blocks:
        if kind == "heading":
            parts.append(f"<h3>{html.escape(str(content))}</h3>")
        elif kind == "para":
            p = html.escape(str(content))
            if o.get("markup") and rng.random() < 0.3:
                p = f"<b>{p}</b>"
            parts.append(f"<p style='text-indent:2em'>{p}</p>")
        elif kind == "rule":
            parts.append("<hr/>")
        else:
            rows: list[list[str]] = content  # type: ignore[assignment]
            footer_at = rng.randint(2, len(rows) - 1) if o.get("footers") and len(rows) > 3 else -1
            parts.append("<table border='1' cellspacing='0'>")
            for i, r in enumerate(rows):
                if i == footer_at:
                    parts.append(f"</table><p>— {i} —</p><table border='1'>")
                tds = []
                for j, c in enumerate(r):
                    if c in (LEFT, UP):
                        continue
                    cs = 1
                    while j + cs < len(r) and r[j + cs] == LEFT:
                        cs += 1
                    rs = 1
                    while i + rs < len(rows) and j < len(rows[i + rs]) and rows[i + rs][j] == UP:
                        rs += 1
                    attrs = (f" colspan='{cs}'" if cs > 1 else "") + (f" rowspan='{rs}'" if rs > 1 else "")
                    text = html.escape(c).replace("\n", "<br/>").replace("\u00a0", "&nbsp;")
                    tds.append(f"<td{attrs}><p>{text or '&nbsp;'}</p></td>")
                parts.append("<tr>" + "".join(tds) + "</tr>")
            parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


# -- measuring --------------------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What one report read back as, against its truth."""

    seed: int
    layout: str
    names: list[str]
    cells: int = 0
    exact: int = 0
    wrong: list[tuple[str, Value, Value]] = field(default_factory=list)
    meta_ok: bool = True
    meta: str = ""
    paras: int = 0
    paras_ok: int = 0
    warned: bool = False
    warned_tables: set[str] = field(default_factory=set)
    warnings: int = 0  # how many warnings the reader gave: a person reads each
    error: str = ""

    @property
    def silent(self) -> bool:
        """A wrong cell and no warning at all."""
        return bool(self.wrong) and not self.warned

    @property
    def silent_table(self) -> bool:
        """A wrong cell in a table no warning points at (stricter)."""
        return any(k.split(".")[0] not in self.warned_tables for k, _, _ in self.wrong)


def measure(doc: Doc, text: str, seed: int) -> Outcome:
    """Read a perturbed report and compare it with its truth."""
    truth = doc.truth
    out = Outcome(seed, doc.layout, list(doc.opts["names"]))
    try:
        got = parse_report(text, {"name": f"v{seed}"})
    except NotAReportError as e:
        out.error = str(e)
        out.cells = len(truth.cells)
        out.wrong = [(k, v, None) for k, v in truth.cells.items()][:3]
        out.warned = True
        out.warned_tables = {"proactive", "requests", "appeals"}
        out.meta_ok = False
        return out
    out.cells = len(truth.cells)
    for k, want in truth.cells.items():
        have = got.cells.get(k)
        if have == want and (have is None) == (want is None):
            out.exact += 1
        else:
            out.wrong.append((k, want, have))
    out.meta_ok = (got.agency, got.year, got.format) == (truth.agency, truth.year, truth.format)
    if not out.meta_ok:
        out.meta = f"{(got.agency, got.year, got.format)} != {(truth.agency, truth.year, truth.format)}"
    for section in ("overview", "problems", "other"):
        for p in truth.text.get(section, []):
            out.paras += 1
            out.paras_ok += p in got.text.get(section, [])
    out.warned = bool(got.warnings)
    out.warnings = len(got.warnings)
    for w in got.warnings:
        where = w.where or ""
        head = where.split(".")[0]
        if head in ("proactive", "requests", "appeals"):
            out.warned_tables.add(head)
        elif where.startswith("line") or w.code in ("format-uncertain",):
            out.warned_tables |= {"proactive", "requests", "appeals"}
    return out


def run(n: int, names: list[str] | None, layout: str | None, examples: int) -> list[Outcome]:
    """Build, write, read and measure n reports; print the figures."""
    outcomes = []
    t0 = time.perf_counter()
    read_time = 0.0
    for seed in range(n):
        doc = build(seed, layout, names)
        text = write(doc)
        t = time.perf_counter()
        outcomes.append(measure(doc, text, seed))
        read_time += time.perf_counter() - t
    per: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        per["layout:" + o.layout].append(o)
        for name in o.names or ["(none)"]:
            per[name].append(o)
    print(
        f"{'':22s} {'reports':>7s} {'cells':>8s} {'meta':>7s} {'paras':>7s} {'wrong':>6s} {'silent':>6s} {'s-tbl':>6s}"
        f" {'warn/r':>6s}"
    )
    for name in sorted(per, key=lambda k: (not k.startswith("layout:"), k)):
        _line(name, per[name])
    _line("OVERALL", outcomes)
    print(f"read: {1000 * read_time / max(1, n):.1f} ms per report; total {time.perf_counter() - t0:.1f} s")
    bad = [o for o in outcomes if o.silent] + [o for o in outcomes if o.wrong and not o.silent][:examples]
    bad += [o for o in outcomes if not o.meta_ok and not o.error][:3]
    bad += [o for o in outcomes if o.paras_ok < o.paras][:3]
    for o in bad[: examples + 6]:
        tag = "SILENT" if o.silent else "warned"
        print(f"- seed {o.seed} {o.layout} {','.join(o.names) or '-'}: {tag} {len(o.wrong)} wrong", end="")
        print(f" e.g. {o.wrong[:3]}" if o.wrong else "", end="")
        print(f" meta {o.meta}" if o.meta else "", end="")
        print(f" paras {o.paras_ok}/{o.paras}" if o.paras_ok < o.paras else "", end="")
        print(f" error {o.error}" if o.error else "")
    return outcomes


def _line(name: str, group: list[Outcome]) -> None:
    cells = sum(o.cells for o in group)
    exact = sum(o.exact for o in group)
    paras = sum(o.paras for o in group)
    print(
        f"{name:22s} {len(group):7d} {100 * exact / max(1, cells):7.2f}% "
        f"{100 * sum(o.meta_ok for o in group) / len(group):6.1f}% "
        f"{100 * sum(o.paras_ok for o in group) / max(1, paras):6.1f}% "
        f"{sum(bool(o.wrong) for o in group):6d} {sum(o.silent for o in group):6d} "
        f"{sum(o.silent_table for o in group):6d} {sum(o.warnings for o in group) / len(group):6.1f}"
    )


def main() -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--transforms", help="comma-separated names to apply to every report (default: random)")
    ap.add_argument("--layout", choices=LAYOUTS)
    ap.add_argument("--show", type=int, help="print the report of this seed and what it reads as")
    ap.add_argument("--examples", type=int, default=8)
    ap.add_argument("--list", action="store_true", help="list the transforms")
    args = ap.parse_args()
    names = args.transforms.split(",") if args.transforms else None
    if args.list:
        for name, (stage, fn) in TRANSFORMS.items():
            named = " (only when named)" if name in OPT_IN else ""
            print(f"{name:16s} {stage:7s} {(fn.__doc__ or '').strip()}{named}")  # type: ignore[union-attr]
        return
    if args.show is not None:
        doc = build(args.show, args.layout, names)
        text = write(doc)
        print(text)
        o = measure(doc, text, args.show)
        print("transforms:", doc.opts["names"], "layout:", doc.layout)
        print("wrong:", o.wrong[:20], "meta:", o.meta, "paras:", o.paras_ok, "/", o.paras, o.error)
        got = parse_report(text)
        for w in got.warnings:
            print("  warning", w.code, w.where, w.message[:150])
        return
    run(args.n, names, args.layout, args.examples)


if __name__ == "__main__":
    main()
