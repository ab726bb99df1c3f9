"""The workbooks' look and fixed texts as data: load workbook_templates/layout.toml into typed objects."""

from __future__ import annotations

import string
import tomllib
import types
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from functools import cache
from typing import Any, Union, get_args, get_origin, get_type_hints

from convert.errors import FormatDataError
from convert.formats import templates_dir

LAYOUT_FILE = "layout.toml"

# The xlsxwriter format properties a style may set (the ones our workbooks use; more can be added).
STYLE_PROPERTIES = {
    "font_name": str,
    "font_charset": int,
    "font_size": int,
    "font_color": str,
    "bold": bool,
    "italic": bool,
    "align": str,
    "valign": str,
    "text_wrap": bool,
    "border": int,
    "bottom": int,
    "bg_color": str,
    "num_format": str,
    "underline": int,
    "locked": bool,
}


def _text(*names: str) -> Any:
    """A required text field that may use these {placeholders} (checked when loaded)."""
    return field(metadata={"placeholders": names})


@dataclass(frozen=True)
class Style:
    """A named set of xlsxwriter format properties, after those of the style it extends."""

    extends: str
    props: dict[str, Any]

    @classmethod
    def from_toml(cls, raw: Any, where: str) -> Style:
        """Check a style table: known properties of the right type."""
        if not isinstance(raw, dict):
            raise _bad(f"{where}: expected a table of format properties")
        props: dict[str, Any] = {}
        extends = ""
        for key, value in raw.items():
            if key == "extends":
                extends = _scalar(str, value, f"{where}.extends")
            elif key in STYLE_PROPERTIES:
                props[key] = _scalar(STYLE_PROPERTIES[key], value, f"{where}.{key}")
            else:
                raise _bad(f"{where}: unknown format property {key!r}; known: extends, {', '.join(STYLE_PROPERTIES)}")
        return cls(extends, props)


def resolve_styles(styles: Any) -> dict[str, dict[str, Any]]:
    """Return every style of a styles table as its full property dict (extended styles' properties first)."""
    table: dict[str, Style] = {f.name: getattr(styles, f.name) for f in fields(styles)}
    out: dict[str, dict[str, Any]] = {}

    def resolve(name: str, seen: tuple[str, ...]) -> dict[str, Any]:
        if name not in out:
            style = table[name]
            base = resolve(style.extends, (*seen, name)) if style.extends else {}
            out[name] = {**base, **style.props}
        return out[name]

    for name in table:
        resolve(name, ())
    return out


def _check_styles(styles: Any, where: str) -> None:
    names = [f.name for f in fields(styles)]
    for name in names:
        chain = [name]
        style: Style = getattr(styles, name)
        while style.extends:
            if style.extends not in names:
                raise _bad(f"{where}.{chain[-1]}: extends unknown style {style.extends!r}")
            if style.extends in chain:
                raise _bad(f"{where}.{name}: styles extend each other in a circle ({' → '.join(chain)})")
            chain.append(style.extends)
            style = getattr(styles, style.extends)


# ---------------------------------------------------------------------------------------------
# The standard workbook


@dataclass(frozen=True)
class Properties:
    """The document properties."""

    keywords: str
    comments: str = _text("version", "format")


@dataclass(frozen=True)
class Margins:
    """Page margins in inches."""

    left: float
    right: float
    top: float
    bottom: float


@dataclass(frozen=True)
class Print:
    """The page setup of every sheet."""

    paper: int
    fit_width: int
    fit_height: int
    margins: Margins
    cover: str
    check: str
    text: str
    header: str = _text("agency", "year")
    footer: str = _text("agency", "year")
    year: str = _text("year")

    def check_values(self, where: str) -> None:
        """Orientation is portrait or landscape."""
        for name in ("cover", "check", "text"):
            _orientation(getattr(self, name), f"{where}.{name}")


@dataclass(frozen=True)
class StandardStyles:
    """The formats of the standard workbook; base and cell are only extended."""

    base: Style
    cell: Style
    title: Style
    heading: Style
    subheading: Style
    header: Style
    corner: Style
    group: Style
    label: Style
    note: Style
    filler: Style
    count: Style
    formula: Style
    reported: Style
    mismatch: Style
    ok: Style
    paragraph: Style
    key: Style
    text_cell: Style
    value: Style
    result: Style
    number: Style
    money: Style
    money_formula: Style
    money_input: Style
    verdict: Style
    review: Style
    link: Style

    def check_values(self, where: str) -> None:
        """Every extended style exists, and no style extends itself."""
        _check_styles(self, where)


@dataclass(frozen=True)
class GridTable:
    """The look of 三-like table sheets."""

    orientation: str
    label_width: float
    last_label_width: float
    label_widths: dict[str, tuple[float, ...]]
    column_width: float
    reported_width: float
    header_heights: tuple[float, ...]
    reported_height: float

    def check_values(self, where: str) -> None:
        """Three header heights; label widths keyed by how many label columns, one width each."""
        _orientation(self.orientation, f"{where}.orientation")
        if len(self.header_heights) != 3:
            raise _bad(f"{where}.header_heights: needs 3 heights (top, second, third header row)")
        for depth, widths in self.label_widths.items():
            if not depth.isdigit() or int(depth) != len(widths):
                raise _bad(f"{where}.label_widths.{depth}: needs as many widths as label columns")


@dataclass(frozen=True)
class BlockTable:
    """The look of 二-like table sheets."""

    orientation: str
    corner: str
    label_width: float
    column_width: float
    group_height: float
    header_height: float
    row_height: float

    def check_values(self, where: str) -> None:
        """Orientation is portrait or landscape."""
        _orientation(self.orientation, f"{where}.orientation")


@dataclass(frozen=True)
class WideTable:
    """The look of 四-like table sheets."""

    orientation: str
    column_width: float
    row_height: float

    def check_values(self, where: str) -> None:
        """Orientation is portrait or landscape."""
        _orientation(self.orientation, f"{where}.orientation")


@dataclass(frozen=True)
class Tables:
    """The table sheets."""

    title_height: float
    reported_header: str
    reported_row_suffix: str
    label_line_height: float
    label_min_height: float
    grid: GridTable
    block: BlockTable
    wide: WideTable


@dataclass(frozen=True)
class TextSheet:
    """The text sheets (一、五、六)."""

    width: float
    heading_height: float
    line_height: float
    min_height: float
    preface_heading: str
    continued: str


@dataclass(frozen=True)
class Validation:
    """An input cell's data validation: xlsxwriter data_validation options."""

    validate: str
    criteria: str
    input_title: str
    input_message: str
    error_title: str
    error_message: str
    # Whole numbers stay whole: xlsxwriter writes the number as given (0, not 0.0).
    value: int | float | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None

    def options(self) -> dict[str, Any]:
        """Return the options for Worksheet.data_validation."""
        out: dict[str, Any] = {"validate": self.validate, "criteria": self.criteria}
        for name in ("value", "minimum", "maximum"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        out.update(
            input_title=self.input_title,
            input_message=self.input_message,
            error_title=self.error_title,
            error_message=self.error_message,
        )
        return out


@dataclass(frozen=True)
class Validations:
    """The data validation of input cells, by value type."""

    count: Validation
    signed: Validation
    money: Validation


@dataclass(frozen=True)
class Column:
    """A sheet column: what it holds (key), its header and width."""

    key: str
    header: str
    width: float


@dataclass(frozen=True)
class CheckSheet:
    """The check sheet."""

    columns: tuple[Column, ...]
    # Pass/fail texts are also written into the live formulas (IF(...,"通过","不通过")).
    pass_: str
    fail: str
    incomplete: str
    blank: str
    reported_title: str
    reported_cells: str = _text("reported", "computed")

    KEYS = ("rule", "title", "where", "left", "right", "result", "cells")

    def check_values(self, where: str) -> None:
        """Every column key once."""
        _column_keys(self.columns, self.KEYS, f"{where}.columns")

    def col(self, key: str) -> int:
        """Return the 0-based column of what a key holds."""
        return next(i for i, c in enumerate(self.columns) if c.key == key)


@dataclass(frozen=True)
class CoverField:
    """A cover field: its defined name, its printed label, where it goes and a note beside it."""

    name: str
    label: str
    # "cover", or "provenance": the last sheet, off the printed cover (source file, tool, revision).
    place: str = "cover"
    note: str = ""

    def check_values(self, where: str) -> None:
        """The place is the cover or the provenance sheet."""
        if self.place not in ("cover", "provenance"):
            raise FormatDataError(f"{where}.place: expected cover or provenance, found {self.place!r}")


@dataclass(frozen=True)
class CoverBlock:
    """A titled block of text rows on the cover."""

    heading: str
    columns: tuple[str, ...]

    def check_values(self, where: str) -> None:
        """Three columns, as the cover has."""
        if len(self.columns) != 3:
            raise _bad(f"{where}.columns: needs 3 headers (the cover has three columns)")


@dataclass(frozen=True)
class Cover:
    """The cover sheet."""

    widths: tuple[float, ...]
    title_height: float
    verdict_height: float
    block_line_height: float
    block_min_height: float
    block_width: float
    fields: tuple[CoverField, ...]
    notes: CoverBlock
    extra: CoverBlock
    warnings: CoverBlock
    tool: str = _text("version")
    block_heading: str = _text("heading", "count")

    NAMES = (
        "meta_title",
        "meta_agency",
        "meta_year",
        "meta_format",
        "meta_format_name",
        "meta_source_path",
        "meta_source_sha256",
        "meta_nianbao_version",
        "meta_revision",
        "meta_verdict",
        "meta_check_failures",
        "meta_check_unchecked",
        "meta_doubts",
        "meta_blank_tables",
    )
    # The fields whose value the workbook computes (live formulas), not the record.
    LIVE = ("meta_verdict", "meta_check_failures", "meta_check_unchecked", "meta_blank_tables")

    def check_values(self, where: str) -> None:
        """Three column widths; every field name once."""
        if len(self.widths) != 3:
            raise _bad(f"{where}.widths: needs 3 widths (the cover has three columns)")
        names = [f.name for f in self.fields]
        if sorted(names) != sorted(self.NAMES):
            raise _bad(f"{where}.fields: needs each of {', '.join(self.NAMES)} once; has {', '.join(names) or 'none'}")

    def label(self, name: str) -> str:
        """Return the printed label of a field by its defined name."""
        return next(f.label for f in self.fields if f.name == name)


@dataclass(frozen=True)
class Standard:
    """The standard workbook of one report."""

    cover_sheet: str
    check_sheet: str
    provenance_sheet: str
    default_title: str
    properties: Properties
    print: Print
    styles: StandardStyles
    tables: Tables
    text: TextSheet
    validation: Validations
    check: CheckSheet
    cover: Cover
    section_title: str = _text("number", "heading")


# ---------------------------------------------------------------------------------------------
# The summary workbook


@dataclass(frozen=True)
class SummaryNotes:
    """The paragraphs of the summary's overview."""

    unknown_years: str
    separator: str
    by_year: str
    merged: str = _text("count", "years", "versions")
    totals: str = _text("year", "count", "prefix")
    mixed: str = _text("version")
    crosswalk: str = _text("note", "label")
    refused: str = _text("count", "warnings", "check_sheet")


@dataclass(frozen=True)
class Detail:
    """The detail sheets."""

    label_height: float
    column_label_height: float
    column_width: float
    group_separator: str
    columns: tuple[Column, ...]
    title: str = _text("sheet")
    group_subtotal: str = _text("group")
    year_subtotal: str = _text("year")

    KEYS = ("agency", "year", "format", "source", "status")

    def check_values(self, where: str) -> None:
        """Every column key once."""
        _column_keys(self.columns, self.KEYS, f"{where}.columns")


@dataclass(frozen=True)
class Checks:
    """The per-report checks sheet."""

    columns: tuple[Column, ...]
    max_errors: int
    error_separator: str
    warning_separator: str

    KEYS = ("agency", "year", "format", "source", "status", "errors", "rules", "warnings")

    def check_values(self, where: str) -> None:
        """Every column key once."""
        _column_keys(self.columns, self.KEYS, f"{where}.columns")

    def col(self, key: str) -> int:
        """Return the 0-based column of what a key holds."""
        return next(i for i, c in enumerate(self.columns) if c.key == key)


@dataclass(frozen=True)
class Series:
    """A chart data column: the sum of cell keys, or of the requests rows starting with a prefix."""

    name: str
    keys: tuple[str, ...] = ()
    rows: str = ""

    def check_values(self, where: str) -> None:
        """Either keys or rows."""
        if bool(self.keys) == bool(self.rows):
            raise _bad(f"{where}: give either keys or rows")


@dataclass(frozen=True)
class Chart:
    """One chart over some series."""

    type: str
    subtype: str
    title: str
    series: tuple[str, ...]
    anchor: str


@dataclass(frozen=True)
class ChartSheet:
    """The charts sheet."""

    limit: int
    agency_header: str
    agency_width: float
    title_font: str
    title_size: int
    width: int
    min_height: int
    agency_height: int
    height_margin: int
    legend: str
    series: tuple[Series, ...]
    charts: tuple[Chart, ...]
    title_note: str = _text("year", "limited")
    limited: str = _text("limit")

    def check_values(self, where: str) -> None:
        """Charts name known series."""
        names = [s.name for s in self.series]
        for i, chart in enumerate(self.charts):
            unknown = [s for s in chart.series if s not in names]
            if unknown:
                raise _bad(f"{where}.charts[{i}].series: unknown series {', '.join(unknown)}")


@dataclass(frozen=True)
class SummaryStyles:
    """The formats of the detail, checks and chart sheets."""

    base: Style
    num: Style
    text: Style
    subtotal: Style
    subtotal_label: Style
    key: Style
    bad: Style
    review: Style

    def check_values(self, where: str) -> None:
        """Every extended style exists, and no style extends itself."""
        _check_styles(self, where)


@dataclass(frozen=True)
class Summary:
    """The summary workbook of many reports."""

    prefix: str
    proactive_sheet: str
    requests_sheet: str
    appeals_sheet: str
    check_sheet: str
    chart_sheet: str
    refused: str
    notes: SummaryNotes
    detail: Detail
    checks: Checks
    chart: ChartSheet
    styles: SummaryStyles
    proactive_version_sheet: str = _text("version")
    title: str = _text("year", "count")
    agency: str = _text("count")
    source: str = _text("count")

    @property
    def check_sheet_name(self) -> str:
        """Return the full name of the per-report checks sheet."""
        return self.prefix + self.check_sheet

    @property
    def chart_sheet_name(self) -> str:
        """Return the full name of the charts sheet."""
        return self.prefix + self.chart_sheet


@dataclass(frozen=True)
class Annotate:
    """Annotated copies: fills (ARGB) by severity and the comments' author and size in pixels."""

    author: str
    error_fill: str
    warning_fill: str
    comment_width: int
    comment_height: int


@dataclass(frozen=True)
class Template:
    """Everything in layout.toml."""

    standard: Standard
    summary: Summary
    annotate: Annotate


# ---------------------------------------------------------------------------------------------
# Loading


@cache
def load_template() -> Template:
    """Return the workbook template (loaded and checked once per process)."""
    path = templates_dir() / LAYOUT_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FormatDataError("format-data-unreadable", path=str(path), detail=str(exc)) from exc
    return parse_template(raw, LAYOUT_FILE)


def parse_template(raw: dict[str, Any], name: str = LAYOUT_FILE) -> Template:
    """Check the template's data (every key known and present, values of the right type) and type it."""
    try:
        return _build(Template, raw, "")
    except FormatDataError as exc:
        raise _bad(f"{name}: {exc}") from None


def _bad(problem: str) -> FormatDataError:
    """The error for a mistake in layout.toml: for whoever edits the file, so in English (see texts.toml)."""
    return FormatDataError("format-data-invalid", problem=problem)


def _toml_name(name: str) -> str:
    # A field named after a Python keyword carries a trailing underscore (pass_ is "pass" in the file).
    return name.removesuffix("_")


def _build(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise _bad(f"{where or 'the file'}: expected a table")
    hints = get_type_hints(cls)
    known = {_toml_name(f.name): f for f in fields(cls)}
    unknown = [k for k in raw if k not in known]
    if unknown:
        raise _bad(f"{where or 'the file'}: unknown key(s) {', '.join(unknown)}; known: {', '.join(known)}")
    values: dict[str, Any] = {}
    for key, f in known.items():
        at = f"{where}.{key}" if where else key
        if key not in raw:
            if f.default is MISSING and f.default_factory is MISSING:
                raise _bad(f"{at}: missing")
            continue
        value = _value(hints[f.name], raw[key], at)
        if "placeholders" in f.metadata:
            _check_placeholders(value, f.metadata["placeholders"], at)
        values[f.name] = value
    obj = cls(**values)
    check = getattr(obj, "check_values", None)
    if check is not None:
        check(where)
    return obj


def _value(tp: Any, raw: Any, where: str) -> Any:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        if raw is None:
            return None
        options = [a for a in get_args(tp) if a is not type(None)]
        for inner in options[:-1]:
            try:
                return _value(inner, raw, where)
            except FormatDataError:
                continue
        return _value(options[-1], raw, where)
    if isinstance(tp, type) and hasattr(tp, "from_toml"):
        return tp.from_toml(raw, where)
    if is_dataclass(tp):
        return _build(tp, raw, where)  # type: ignore[arg-type]
    if origin is tuple:
        if not isinstance(raw, list):
            raise _bad(f"{where}: expected a list")
        inner = get_args(tp)[0]
        return tuple(_value(inner, item, f"{where}[{i}]") for i, item in enumerate(raw))
    if origin is dict:
        if not isinstance(raw, dict):
            raise _bad(f"{where}: expected a table")
        inner = get_args(tp)[1]
        return {k: _value(inner, v, f"{where}.{k}") for k, v in raw.items()}
    return _scalar(tp, raw, where)


def _scalar(tp: type, raw: Any, where: str) -> Any:
    if tp is float and isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    if tp is int and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if tp in (str, bool) and isinstance(raw, tp):
        return raw
    names = {float: "a number", int: "a whole number", str: "a text", bool: "true or false"}
    raise _bad(f"{where}: expected {names.get(tp, tp.__name__)}, found {raw!r}")


def _check_placeholders(text: str, allowed: tuple[str, ...], where: str) -> None:
    try:
        used = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise _bad(f"{where}: {exc} (write a literal brace twice: {{{{ or }}}})") from None
    bad = [name for name in used if name not in allowed]
    if bad:
        known = ", ".join("{" + n + "}" for n in allowed) or "none"
        raise _bad(f"{where}: unknown placeholder(s) {', '.join('{' + b + '}' for b in bad)}; known: {known}")


def _orientation(value: str, where: str) -> None:
    if value not in ("portrait", "landscape"):
        raise _bad(f"{where}: expected portrait or landscape, found {value!r}")


def _column_keys(columns: tuple[Column, ...], keys: tuple[str, ...], where: str) -> None:
    found = [c.key for c in columns]
    if sorted(found) != sorted(keys):
        raise _bad(f"{where}: needs a column for each of {', '.join(keys)} once; has {', '.join(found)}")


__all__ = [
    "STYLE_PROPERTIES",
    "CheckSheet",
    "Standard",
    "Style",
    "Summary",
    "Template",
    "load_template",
    "parse_template",
    "resolve_styles",
]
