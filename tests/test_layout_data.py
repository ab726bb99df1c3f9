"""The workbooks' look and texts are data (workbook_templates/layout.toml): checked when loaded, used when written."""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from convert.checks.catalogue import using_language
from convert.errors import FormatDataError
from convert.formats import known_versions, load_format, templates_dir
from convert.outputs.standard import write_workbook
from convert.outputs.template import parse_template
from tests.strategies import consistent_record

# The messages these tests pin are the English ones (NIANBAO_LANG=en); the Chinese are tested in test_language.py.
pytestmark = pytest.mark.usefixtures("english")

RAW = tomllib.loads((templates_dir() / "layout.toml").read_text(encoding="utf-8"))


def _edited(path: str, value: Any = None, *, delete: bool = False, base: dict | None = None) -> dict[str, Any]:
    """Return a copy of the data (the shipped one by default) with one item set or deleted.

    path: dotted, with [i] for a list item (summary.chart.series[3].name).
    """
    raw = copy.deepcopy(RAW if base is None else base)
    *parents, last = path.split(".")
    node: Any = raw
    for part in parents:
        name, _, index = part.partition("[")
        node = node[name]
        if index:
            node = node[int(index.rstrip("]"))]
    if delete:
        del node[last]
    else:
        node[last] = value
    return raw


def _error(raw: dict[str, Any]) -> str:
    with pytest.raises(FormatDataError) as exc:
        parse_template(raw)
    return str(exc.value)


def test_the_shipped_layout_loads_in_each_language() -> None:
    t = parse_template(RAW, lang="zh")
    assert t.standard.cover_sheet == "封面" and t.summary.check_sheet_name == "汇总·逐份校验"
    t = parse_template(RAW, lang="en")
    assert t.standard.cover_sheet == "Cover" and t.summary.check_sheet_name == "Summary·Checks"
    assert parse_template(RAW).standard.cover_sheet == "Cover"  # the current language (English in this module)


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("standard.cover_sheet2", "standard: unknown key(s) cover_sheet2"),
        ("standard.cover.notes.title", "standard.cover.notes: unknown key(s) title"),
        ("summary.chart.series[3].total", "summary.chart.series[3]: unknown key(s) total"),
        ("annotate.colour", "annotate: unknown key(s) colour"),
        ("extra", "unknown key(s) extra"),
    ],
)
def test_an_unknown_key_is_named(path: str, named: str) -> None:
    assert named in _error(_edited(path, "x"))


@pytest.mark.parametrize(
    "path",
    ["standard.check_sheet", "standard.check.blank", "standard.cover.fields[2].label", "summary.prefix", "annotate"],
)
def test_a_missing_item_is_named(path: str) -> None:
    assert f"{path}: missing" in _error(_edited(path, delete=True))


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("standard.tables.title_height", "tall", "standard.tables.title_height: expected a number"),
        ("standard.print.paper", 9.5, "standard.print.paper: expected a whole number"),
        ("standard.styles.title.bold", "yes", "standard.styles.title.bold: expected true or false"),
        ("standard.styles.title.strikeout", 1, "standard.styles.title: unknown format property 'strikeout'"),
        ("standard.styles.title.extends", "headline", "standard.styles.title: extends unknown style 'headline'"),
        ("standard.styles.base.extends", "cell", "extend each other in a circle"),
        ("standard.print.cover", "sideways", "standard.print.cover: expected portrait or landscape"),
        # Placeholders are checked in every language, not only the one loaded.
        (
            "standard.check.reported_cells",
            {"zh": "{reported} {computed}", "en": "{reported} {formula}"},
            "standard.check.reported_cells: unknown placeholder(s) {formula}",
        ),
        ("summary.title", {"zh": "{year", "en": "{year}"}, "summary.title: "),
        ("standard.check.columns[0].key", "rules", "standard.check.columns: needs a column for each of rule"),
        ("summary.detail.columns[4].key", "agency", "summary.detail.columns: needs a column for each"),
        ("standard.cover.fields[0].name", "meta_subtitle", "standard.cover.fields: needs each of meta_title"),
        ("summary.chart.charts[1].series", ["granted", "dismissed"], "charts[1].series: unknown series dismissed"),
        ("summary.chart.series[0].rows", "granted", "summary.chart.series[0]: give either keys or rows"),
        ("standard.tables.grid.label_widths", {"3": [7.0, 44.0]}, "standard.tables.grid.label_widths.3"),
    ],
)
def test_a_bad_value_is_named(path: str, value: Any, named: str) -> None:
    message = _error(_edited(path, value))
    assert message.startswith("layout.toml: ") and named in message, message


# ---------------------------------------------------------------------------------------------
# The tool's own texts come in every language; the official form's words (format.toml's) stay as printed.


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("standard.check.blank.en", None, "standard.check.blank: missing the en text"),
        ("standard.cover.fields[2].label.zh", None, "standard.cover.fields[2].label: missing the zh text"),
        ("summary.checks.columns[7].header.en", None, "summary.checks.columns[7].header: missing the en text"),
        ("standard.cover.warnings.columns", ["代码", "说明", "位置"], "standard.cover.warnings.columns[0]: expected a"),
        ("standard.cover_sheet", "Cover", "standard.cover_sheet: expected a text in each language"),
        ("standard.check.blank.fr", "vide", "standard.check.blank: unknown language(s) fr"),
        ("standard.check.blank.en", 0, "standard.check.blank.en: expected a text"),
    ],
)
def test_a_text_needs_every_language(path: str, value: Any, named: str) -> None:
    message = _error(_edited(path, value, delete=value is None))
    assert named in message, message


def _strings(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Yield every text of a loaded template, with where it is."""
    if isinstance(node, str):
        yield where, node
    elif isinstance(node, tuple | list):
        for i, item in enumerate(node):
            yield from _strings(item, f"{where}[{i}]")
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from _strings(item, f"{where}.{key}")
    elif hasattr(node, "__dataclass_fields__"):
        for name in node.__dataclass_fields__:
            yield from _strings(getattr(node, name), f"{where}.{name}".lstrip("."))


def test_in_english_only_the_official_forms_words_stay_chinese() -> None:
    # A text of ours left in one language (a plain string, or the same Chinese under en) would show here.
    official = {w for v in known_versions() for w in _official(v)}
    english = parse_template(RAW, lang="en")
    left = {
        where: words
        for where, words in _strings(english)
        if re.search(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]", _without(words, official))
    }
    # The official form numbers its sections 一、二、…: the heading of a section as its sheet prints it.
    assert left == {"standard.section_title": "{number}、{heading}"}, left
    chinese = parse_template(RAW, lang="zh")
    assert chinese.standard.check.blank == "空" and english.standard.check.blank == "blank"


def _official(version: str) -> set[str]:
    fmt = load_format(version)
    words = {s.sheet for s in fmt.sections} | {s.heading for s in fmt.sections}
    for table in fmt.tables.values():
        words |= {table.corner or "", *(r.label for r in table.rows), *(c.label for c in table.columns)}
    return {w for w in words if w} | {"信息内容"}  # the corner of 二's blocks, as the form prints it


def _without(text: str, words: set[str]) -> str:
    for word in sorted(words, key=len, reverse=True):
        text = text.replace(word, " ")
    return text


def test_each_language_has_its_own_words_in_one_process(tmp_path: Path) -> None:
    # Nothing computed in one language (cached check-sheet formulas) may leak into a workbook of another.
    record = consistent_record("2019", seed=4)
    books = {}
    for lang in ("zh", "en", "zh"):
        with using_language(lang):
            books[lang] = openpyxl.load_workbook(write_workbook(record, tmp_path / f"{lang}{len(books)}.xlsx"))
    english, chinese = books["en"], books["zh"]
    assert english.sheetnames[0] == "Cover" and english.sheetnames[-2:] == ["Checks", "Source"]
    assert chinese.sheetnames[0] == "封面" and chinese.sheetnames[-2:] == ["校验", "来源"]
    assert '"passed"' in english["Checks"]["A2"].value and "通过" not in english["Checks"]["A2"].value
    assert '"通过"' in chinese["校验"]["A2"].value and "passed" not in chinese["校验"]["A2"].value
