"""The workbooks' look and texts are data (workbook_templates/layout.toml): checked when loaded, used when written."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import convert.outputs.template as template
from convert.errors import FormatDataError
from convert.formats import templates_dir
from convert.merge import merge_inputs
from convert.outputs.standard import write_workbook
from convert.outputs.template import parse_template
from convert.readback import check_workbook, read_workbook
from tests.strategies import consistent_record

# The messages these tests pin are the English ones (NIANBAO_LANG=en); the Chinese are tested in test_language.py.
pytestmark = pytest.mark.usefixtures("english")

ROOT = Path(__file__).resolve().parent.parent
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


def test_the_shipped_layout_loads() -> None:
    t = parse_template(RAW)
    assert t.standard.cover_sheet == "封面" and t.summary.check_sheet_name == "汇总·逐份校验"


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
    ["standard.check_sheet", "standard.check.pass", "standard.cover.fields[2].label", "summary.prefix", "annotate"],
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
        ("standard.check.reported_cells", "{reported} {formula}", "unknown placeholder(s) {formula}"),
        ("summary.title", "{year", "summary.title: "),
        ("standard.check.columns[0].key", "rules", "standard.check.columns: needs a column for each of rule"),
        ("summary.detail.columns[4].key", "agency", "summary.detail.columns: needs a column for each"),
        ("standard.cover.fields[0].name", "meta_subtitle", "standard.cover.fields: needs each of meta_title"),
        ("summary.chart.charts[1].series", ["予以公开", "驳回"], "summary.chart.charts[1].series: unknown series 驳回"),
        ("summary.chart.series[0].rows", "granted", "summary.chart.series[0]: give either keys or rows"),
        ("standard.tables.grid.label_widths", {"3": [7.0, 44.0]}, "standard.tables.grid.label_widths.3"),
    ],
)
def test_a_bad_value_is_named(path: str, value: Any, named: str) -> None:
    message = _error(_edited(path, value))
    assert message.startswith("layout.toml: ") and named in message, message


# ---------------------------------------------------------------------------------------------
# The writers and the read-back take their texts from the data: a translated layout just works.

TRANSLATED = {
    "standard.cover_sheet": "Cover",
    "standard.check_sheet": "Checks",
    "standard.check.pass": "PASS",
    "standard.check.fail": "FAIL",
    "standard.check.incomplete": "BLANK",
    "standard.cover.notes.heading": "Notes",
    "standard.cover.warnings.heading": "Reader warnings",
    "standard.cover.fields[1].label": "Agency",
    "standard.text.preface_heading": "Preface",
    "standard.tables.reported_header": "Printed total",
    "standard.section_title": "{number}. {heading}",
    "summary.prefix": "Sum·",
    "summary.check_sheet": "checks",
    "summary.detail.columns[0].header": "Agency",
}


@pytest.fixture
def translated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    raw = RAW
    for path, value in TRANSLATED.items():
        raw = _edited(path, value, base=raw)
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "layout.toml").write_text(_dump(raw), encoding="utf-8")
    monkeypatch.setattr(template, "templates_dir", lambda: folder)
    template.load_template.cache_clear()
    yield
    template.load_template.cache_clear()


def _dump(raw: dict[str, Any]) -> str:
    """Write the data back as TOML (tables as inline tables: enough for these tests)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return "{" + ", ".join(f"{json_key(k)} = {value(x)}" for k, x in v.items()) + "}"

    def json_key(k: str) -> str:
        return k if k.replace("_", "").isalnum() and k.isascii() else value(k)

    return "\n".join(f"{json_key(k)} = {value(v)}" for k, v in raw.items()) + "\n"


def test_a_translated_layout_writes_and_reads_back(tmp_path: Path, translated: None) -> None:
    record = consistent_record("2021", seed=2)
    record.text["preface"] = ["前言一段。"]
    path = write_workbook(record, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "Cover" and wb.sheetnames[-2] == "Checks"
    cover_labels = [c.value for c in wb["Cover"]["A"]]
    assert "Agency" in cover_labels and any(str(v).startswith("Notes（") for v in cover_labels)
    assert wb["一 总体情况"]["A1"].value == "Preface" and wb["一 总体情况"]["A3"].value == "一. 总体情况"
    results = {c.value for c in openpyxl.load_workbook(path, data_only=True)["Checks"]["A"][1:]}
    assert results <= {"PASS", "FAIL", "BLANK"} and "PASS" in results
    back, findings = check_workbook(path)
    assert back is not None and back.cells == record.cells and back.text["preface"] == ["前言一段。"]
    assert not [f for f in findings if f.source == "workbook"], findings
    assert read_workbook(path).agency == record.agency


def test_a_translated_summary(tmp_path: Path, translated: None) -> None:
    merge_inputs([ROOT / "samples"], tmp_path / "s.xlsx", jobs=1)
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx", read_only=True)
    assert "Sum·checks" in wb.sheetnames and "Sum·三 申请处理" in wb.sheetnames
    assert next(wb["Sum·三 申请处理"].iter_rows(min_row=2, max_row=2, values_only=True))[0] == "Agency"
    # The read-back skips the detail sheets by the same prefix and reads the totals.
    assert read_workbook(tmp_path / "s.xlsx").cells["requests.new_received.total"] is not None


def test_texts_do_not_outlive_their_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing computed from one layout (cached check-sheet formulas) may leak into a workbook of another.
    record = consistent_record("2019", seed=4)
    raw = RAW
    for path, value in TRANSLATED.items():
        raw = _edited(path, value, base=raw)
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "layout.toml").write_text(_dump(raw), encoding="utf-8")
    books = []
    for where in (folder, templates_dir()):
        monkeypatch.setattr(template, "templates_dir", lambda where=where: where)
        template.load_template.cache_clear()
        books.append(write_workbook(record, tmp_path / f"{len(books)}.xlsx"))
    template.load_template.cache_clear()
    translated, shipped = (openpyxl.load_workbook(p) for p in books)
    assert '"PASS"' in translated["Checks"]["A2"].value
    assert '"通过"' in shipped["校验"]["A2"].value and "PASS" not in shipped["校验"]["A2"].value
