"""The workbooks' look and fixed texts as data: load workbook_templates/layout.toml into typed objects."""

from __future__ import annotations

import string
import tomllib
import types
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

from convert.checks.catalogue import language, languages
from convert.errors import FormatDataError
from convert.formats import templates_dir

LAYOUT_FILE = "layout.toml"

# A text of the tool's own (a label, a heading, a note): one per language of the catalogue in the file
# ({ zh = "封面", en = "Cover" }); a loaded template holds the one of its language. A plain str is the same in
# every language: a look (a font, a key) or the official form's own words (format.toml's, as printed).
TEXT = "text"
Text = Annotated[str, TEXT]

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
    "shrink": bool,
    "border": int,
    "bottom": int,
    "bg_color": str,
    "num_format": str,
    "underline": int,
    "locked": bool,
}


def _text(*names: str) -> Any:
    """A required field that may use these {placeholders} (checked when loaded, in every language)."""
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

    keywords: Text
    comments: Text = _text("version", "format")


@dataclass(frozen=True)
class Margins:
    """Page margins in inches."""

    left: float
    right: float
    top: float
    bottom: float


@dataclass(frozen=True)
class Page:
    """The paper's size in inches (portrait), to lay out page breaks and charts."""

    width: float
    height: float


@dataclass(frozen=True)
class Print:
    """The page setup of every sheet."""

    paper: int
    page: Page
    fit_width: int
    fit_height: int
    margins: Margins
    cover: str
    check: str
    text: str
    spare_column: float
    header: Text = _text("agency", "year")
    footer: Text = _text("agency", "year")
    year: Text = _text("year")

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
    corner: str  # the official form's own word (信息内容): the same in every language
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
    reported_header: Text
    reported_row_suffix: Text
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
    preface_heading: Text
    continued: Text


@dataclass(frozen=True)
class Validation:
    """An input cell's data validation: xlsxwriter data_validation options."""

    validate: str
    criteria: str
    input_title: Text
    input_message: Text
    error_title: Text
    error_message: Text
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
    header: Text
    width: float


@dataclass(frozen=True)
class CheckSheet:
    """The check sheet."""

    columns: tuple[Column, ...]
    # The results are the verdict's words of the catalogue (verdict-pass …), also inside the live formulas.
    blank: Text
    reported_title: Text
    line_height: float
    min_height: float
    reported_cells: Text = _text("reported", "computed")

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
    label: Text
    # "cover", or "provenance": the last sheet, off the printed cover (source file, tool, revision).
    place: str = "cover"
    note: Text = ""

    def check_values(self, where: str) -> None:
        """The place is the cover or the provenance sheet."""
        if self.place not in ("cover", "provenance"):
            raise _bad(f"{where}.place: expected cover or provenance, found {self.place!r}")


@dataclass(frozen=True)
class CoverBlock:
    """A titled block of text rows on the cover."""

    heading: Text
    columns: tuple[Text, ...]

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
    fields: tuple[CoverField, ...]
    notes: CoverBlock
    extra: CoverBlock
    warnings: CoverBlock
    tool: str = _text("version")
    block_heading: Text = _text("heading", "count")

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

    cover_sheet: Text
    check_sheet: Text
    provenance_sheet: Text
    default_title: Text
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

    unknown_years: Text
    separator: Text
    by_year: Text
    order_pinyin: Text
    merged: Text = _text("count", "years", "versions")
    totals: Text = _text("year", "count", "prefix")
    mixed: Text = _text("version")
    crosswalk: Text = _text("note", "label")
    refused: Text = _text("count", "warnings", "check_sheet")
    order_manifest: Text = _text("manifest")
    same_report: Text = _text("count", "check_sheet")
    conflicts: Text = _text("count", "check_sheet")
    dropped: Text = _text("count", "check_sheet")
    carry_over: Text = _text("count", "check_sheet")


@dataclass(frozen=True)
class Detail:
    """The detail sheets."""

    label_height: float
    column_label_height: float
    label_line_height: float
    column_width: float
    group_separator: str
    ungrouped: Text
    columns: tuple[Column, ...]
    title: Text = _text("sheet")
    group_subtotal: Text = _text("group")
    year_subtotal: Text = _text("year")

    KEYS = ("agency", "year", "format", "source", "status")

    def check_values(self, where: str) -> None:
        """Every column key once."""
        _column_keys(self.columns, self.KEYS, f"{where}.columns")


@dataclass(frozen=True)
class Kinds:
    """The words for a problem's kind: to correct, to verify, for reference."""

    error: Text
    review: Text
    note: Text


@dataclass(frozen=True)
class Checks:
    """The per-report checks sheet: one row per problem of a report, its verdict repeated."""

    columns: tuple[Column, ...]
    kinds: Kinds
    max_problems: int
    cell_separator: Text
    line_height: float
    min_height: float
    more: Text = _text("count")
    same_report: Text = _text("file")
    conflict: Text = _text("file", "count", "cells")
    conflict_cell: Text = _text("where", "this", "other")
    dropped: Text = _text("file", "kept")

    KEYS = ("agency", "year", "format", "source", "status", "kind", "where", "message", "actual", "expected", "code")

    def check_values(self, where: str) -> None:
        """Every column key once."""
        _column_keys(self.columns, self.KEYS, f"{where}.columns")

    def col(self, key: str) -> int:
        """Return the 0-based column of what a key holds."""
        return next(i for i, c in enumerate(self.columns) if c.key == key)


@dataclass(frozen=True)
class Series:
    """A chart data column: the sum of cell keys, or of the requests rows starting with a prefix; charts name it by id."""

    id: str
    name: Text
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
    title: Text
    series: tuple[str, ...]  # the series' ids


@dataclass(frozen=True)
class ChartSheet:
    """The charts sheet."""

    limit: int
    agency_header: Text
    agency_width: float
    title_font: str
    title_size: int
    width: int
    min_height: int
    max_height: int
    agency_height: int
    height_margin: int
    axis_size: int
    legend: str
    series: tuple[Series, ...]
    charts: tuple[Chart, ...]
    title_note: Text = _text("year", "limited")
    limited: Text = _text("limit")

    def check_values(self, where: str) -> None:
        """Charts name known series."""
        names = [s.id for s in self.series]
        for i, chart in enumerate(self.charts):
            unknown = [s for s in chart.series if s not in names]
            if unknown:
                raise _bad(f"{where}.charts[{i}].series: unknown series {', '.join(unknown)}")


@dataclass(frozen=True)
class Compare:
    """The sheet comparing each agency's year with its previous one: 本年新收 and the carry-over."""

    sheet: Text
    key: str
    columns: tuple[Column, ...]
    no_previous: Text
    title: Text = _text("year", "previous")
    problem: Text = _text("where", "message")

    KEYS = ("agency", "previous", "current", "change", "carry", "detail")

    def check_values(self, where: str) -> None:
        """Every column key once."""
        _column_keys(self.columns, self.KEYS, f"{where}.columns")


@dataclass(frozen=True)
class SummaryPrint:
    """How the summary's own sheets print (the standard sheets print as [standard.print] says)."""

    detail: str
    checks: str
    compare: str
    chart: str
    detail_scale: int

    def check_values(self, where: str) -> None:
        """Orientations are portrait or landscape; the scale a percentage Excel accepts."""
        for name in ("detail", "checks", "compare", "chart"):
            _orientation(getattr(self, name), f"{where}.{name}")
        if not 10 <= self.detail_scale <= 100:
            raise _bad(f"{where}.detail_scale: expected a percentage from 10 to 100")


@dataclass(frozen=True)
class SummaryStyles:
    """The formats of the detail, checks and chart sheets."""

    base: Style
    num: Style
    text: Style
    wrap: Style
    title: Style
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

    prefix: Text
    # The detail sheets' names after the prefix: the section sheets' names of format.toml, in every language.
    proactive_sheet: str
    requests_sheet: str
    appeals_sheet: str
    check_sheet: Text
    chart_sheet: Text
    refused: Text
    notes: SummaryNotes
    detail: Detail
    checks: Checks
    compare: Compare
    chart: ChartSheet
    print: SummaryPrint
    styles: SummaryStyles
    proactive_version_sheet: Text = _text("version")
    title: Text = _text("year", "count")
    agency: Text = _text("count")
    source: Text = _text("count")

    @property
    def check_sheet_name(self) -> str:
        """Return the full name of the per-report checks sheet."""
        return self.prefix + self.check_sheet

    @property
    def chart_sheet_name(self) -> str:
        """Return the full name of the charts sheet."""
        return self.prefix + self.chart_sheet

    @property
    def compare_sheet_name(self) -> str:
        """Return the full name of the sheet comparing each agency with its previous year."""
        return self.prefix + self.compare.sheet


@dataclass(frozen=True)
class Annotate:
    """Annotated copies: fills (ARGB) by severity and the comments' author and size in pixels."""

    author: str
    error_fill: str
    warning_fill: str
    comment_width: int
    comment_height: int


# ---------------------------------------------------------------------------------------------
# The 整改通知 (convert/notice.py): a Word document per report, and an overview workbook


@dataclass(frozen=True)
class NoticeOverview:
    """The overview workbook: one row per notice."""

    sheet: Text
    orientation: str
    columns: tuple[Column, ...]
    max_problems: int
    separator: Text
    line_height: float
    min_height: float
    title: Text = _text("count")

    KEYS = ("number", "agency", "year", "source", "status", "errors", "reviews", "problems", "file", "reply")

    def check_values(self, where: str) -> None:
        """Every column key once; the orientation is portrait or landscape."""
        _column_keys(self.columns, self.KEYS, f"{where}.columns")
        _orientation(self.orientation, f"{where}.orientation")


@dataclass(frozen=True)
class Notice:
    """The look of the notices: fonts (as Word names them), sizes in points, margins in centimetres."""

    title_font: str
    body_font: str
    title_size: float
    body_size: float
    small_size: float
    margins: Margins
    overview: NoticeOverview


@dataclass(frozen=True)
class Template:
    """Everything in layout.toml."""

    standard: Standard
    summary: Summary
    annotate: Annotate
    notice: Notice


# ---------------------------------------------------------------------------------------------
# Loading


@cache
def _raw() -> dict[str, Any]:
    path = templates_dir() / LAYOUT_FILE
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FormatDataError("format-data-unreadable", path=str(path), detail=str(exc)) from exc


@cache
def _template(lang: str) -> Template:
    return parse_template(_raw(), LAYOUT_FILE, lang)


def load_template(lang: str | None = None) -> Template:
    """Return the workbook template with its texts in a language (default: the current one), checked once."""
    return _template(lang or language())


def all_templates() -> tuple[Template, ...]:
    """Return the template in every language, the current one first: a workbook reads back whoever wrote it."""
    current = language()
    return tuple(load_template(lang) for lang in sorted(languages(), key=lambda lang: lang != current))


def clear_cache() -> None:
    """Forget the loaded templates (a test that swaps layout.toml)."""
    _raw.cache_clear()
    _template.cache_clear()


def parse_template(raw: dict[str, Any], name: str = LAYOUT_FILE, lang: str | None = None) -> Template:
    """Check the template's data (every key known and present, values of the right type, every text in every
    language) and type it, with its texts in lang (default: the current language)."""
    langs = languages()
    lang = lang or language()
    if lang not in langs:
        raise _bad(f"{name}: no language {lang!r}; the catalogue has {', '.join(langs)}")
    try:
        return _build(Template, raw, "", _Langs(lang, langs))
    except FormatDataError as exc:
        raise _bad(f"{name}: {exc}") from None


@dataclass(frozen=True)
class _Langs:
    """The language a template is built in, and every language a text must have (the catalogue's)."""

    chosen: str
    every: tuple[str, ...]


def _bad(problem: str) -> FormatDataError:
    """The error for a mistake in layout.toml: for whoever edits the file, so in English (see texts.toml)."""
    return FormatDataError("format-data-invalid", problem=problem)


def _is_text(tp: Any) -> bool:
    return get_origin(tp) is Annotated and TEXT in get_args(tp)[1:]


def _build(cls: type, raw: Any, where: str, langs: _Langs) -> Any:
    if not isinstance(raw, dict):
        raise _bad(f"{where or 'the file'}: expected a table")
    hints = get_type_hints(cls, include_extras=True)
    known = {f.name: f for f in fields(cls)}
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
        value = _value(hints[f.name], raw[key], at, langs)
        if "placeholders" in f.metadata:
            # Every language's text, not only the one built: a workbook in another language must not break.
            for text in raw[key].values() if _is_text(hints[f.name]) else (value,):
                _check_placeholders(text, f.metadata["placeholders"], at)
        values[f.name] = value
    obj = cls(**values)
    check = getattr(obj, "check_values", None)
    if check is not None:
        check(where)
    return obj


def _value(tp: Any, raw: Any, where: str, langs: _Langs) -> Any:
    if _is_text(tp):
        return _localised(raw, where, langs)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        if raw is None:
            return None
        options = [a for a in get_args(tp) if a is not type(None)]
        for inner in options[:-1]:
            try:
                return _value(inner, raw, where, langs)
            except FormatDataError:
                continue
        return _value(options[-1], raw, where, langs)
    if isinstance(tp, type) and hasattr(tp, "from_toml"):
        return tp.from_toml(raw, where)
    if is_dataclass(tp):
        return _build(tp, raw, where, langs)  # type: ignore[arg-type]
    if origin is tuple:
        if not isinstance(raw, list):
            raise _bad(f"{where}: expected a list")
        inner = get_args(tp)[0]
        return tuple(_value(inner, item, f"{where}[{i}]", langs) for i, item in enumerate(raw))
    if origin is dict:
        if not isinstance(raw, dict):
            raise _bad(f"{where}: expected a table")
        inner = get_args(tp)[1]
        return {k: _value(inner, v, f"{where}.{k}", langs) for k, v in raw.items()}
    return _scalar(tp, raw, where)


def _localised(raw: Any, where: str, langs: _Langs) -> str:
    """Return a text's words in the chosen language, after checking it has words in every language."""
    example = ", ".join(f'{lang} = "…"' for lang in langs.every)
    if not isinstance(raw, dict):
        raise _bad(f"{where}: expected a text in each language, {{ {example} }}; found {raw!r}")
    missing = [lang for lang in langs.every if lang not in raw]
    if missing:
        raise _bad(f"{where}: missing the {', '.join(missing)} text")
    unknown = [k for k in raw if k not in langs.every]
    if unknown:
        raise _bad(f"{where}: unknown language(s) {', '.join(unknown)}; known: {', '.join(langs.every)}")
    for lang in langs.every:
        _scalar(str, raw[lang], f"{where}.{lang}")
    return str(raw[langs.chosen])


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
    "Column",
    "Notice",
    "Print",
    "Standard",
    "Style",
    "Summary",
    "Template",
    "Text",
    "all_templates",
    "clear_cache",
    "load_template",
    "parse_template",
    "resolve_styles",
]
