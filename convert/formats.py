"""The report format as data: load workbook_templates/format.toml into typed objects."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any, NoReturn

from convert.errors import FormatDataError


def templates_dir() -> Path:
    """Return the folder that holds the format data and workbook layouts."""
    here = Path(__file__).resolve().parent
    # Installed wheels carry the data inside the package; a source checkout has it beside it.
    for candidate in (here / "workbook_templates", here.parent / "workbook_templates"):
        if (candidate / "format.toml").is_file():
            return candidate
    raise FormatDataError("format-data-missing")


_NUMBERING = re.compile(
    r"^(?:[（(]?[一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+[、.．]|[（(]?\d{1,2}[)）]|\d{1,2}[、.．](?!\d))\s*"
)
_PARENS = re.compile(r"[（(][^（()）]*[)）]")
_DROP = re.compile(r"[\s\u3000\u00a0“”\"'‘’，,、。.：:；;·\-—_*#|/]+")


def normalize(text: str) -> str:
    """Fold width and drop spaces, so labels compare as printed words."""
    return re.sub(r"[\s\u3000\u00a0]+", "", unicodedata.normalize("NFKC", text))


def strip_numbering(text: str) -> str:
    """Remove leading outline numbers such as 一、 （三） 1. (any number of them)."""
    text = unicodedata.normalize("NFKC", text).strip()
    while True:
        stripped = _NUMBERING.sub("", text, count=1).strip()
        if stripped == text:
            return text
        text = stripped


@lru_cache(maxsize=65536)
def core(text: str) -> str:
    """Reduce a label to the words that identify it: no numbering, notes in brackets, spaces or punctuation."""
    text = strip_numbering(normalize(text))
    without_notes = _PARENS.sub("", text)
    # A label that is only a bracketed note keeps its words.
    text = without_notes if without_notes.strip() else text
    return _DROP.sub("", text)


@lru_cache(maxsize=65536)
def heading_words(line: str) -> str:
    """Reduce a line to the words a section heading is matched on."""
    return _DROP.sub("", strip_numbering(normalize(line)))


@dataclass(frozen=True)
class Column:
    """A column of a table."""

    key: str
    label: str
    type: str = "count"
    group: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    """A group label: a heading over rows or columns that holds no numbers."""

    key: str
    label: str
    parent: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Row:
    """A data row of a table."""

    key: str
    label: str
    columns: tuple[str, ...]
    group: str | None = None
    outcome: bool = False
    aliases: tuple[str, ...] = ()
    # A total the official form does not print (（六）其他处理 of 2021): the sum of these rows, kept when a
    # report prints it instead of them.
    sums: tuple[str, ...] = ()


@dataclass(frozen=True)
class Derived:
    """A derived row or column (小计) some templates print: checked, never stored."""

    key: str
    label: str
    group: str | None = None
    sums: tuple[str, ...] = ()
    name: str = ""  # its group's label and its own, as a finding names it: 法人或其他组织 小计


@dataclass(frozen=True)
class Table:
    """One table of the format, for one version."""

    key: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    groups: tuple[Group, ...] = ()
    derived_columns: tuple[Derived, ...] = ()
    derived_rows: tuple[Derived, ...] = ()
    layout: str = "rows"
    corner: str = ""
    column_header: str = ""

    def column(self, key: str) -> Column:
        """Return the column with this key."""
        return self._by_key[("c", key)]  # type: ignore[return-value]

    def row(self, key: str) -> Row:
        """Return the row with this key."""
        return self._by_key[("r", key)]  # type: ignore[return-value]

    def group(self, key: str) -> Group:
        """Return the group with this key."""
        return self._by_key[("g", key)]  # type: ignore[return-value]

    @cached_property
    def _by_key(self) -> dict[tuple[str, str], Column | Row | Group]:
        # Looked up per cell of every report in a batch: a dict, not a scan.
        out: dict[tuple[str, str], Column | Row | Group] = {("c", c.key): c for c in self.columns}
        out.update({("r", r.key): r for r in self.rows})
        out.update({("g", g.key): g for g in self.groups})
        return out

    @property
    def form_rows(self) -> tuple[Row, ...]:
        """The rows the official form prints: not the totals it leaves to their parts (（六）其他处理 of 2021)."""
        return tuple(r for r in self.rows if not r.sums)

    def cell_keys(self) -> list[str]:
        """Return every cell key of the table, row by row."""
        return [f"{self.key}.{r.key}.{c}" for r in self.rows for c in r.columns]


@dataclass(frozen=True)
class Section:
    """A section of the report (一 … 六)."""

    key: str
    number: str
    heading: str
    kind: str
    sheet: str
    patterns: tuple[re.Pattern[str], ...]

    def matches(self, line: str) -> bool:
        """Tell whether a line is this section's heading."""
        words = heading_words(line)
        return any(p.search(words) for p in self.patterns)


@dataclass(frozen=True)
class Equation:
    """One instance of a rule: sum(left) = sum(right), for one row or column."""

    rule: str
    where: str
    left: tuple[str, ...]
    right: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """A 勾稽 rule over one table."""

    id: str
    table: str
    per: str
    left: tuple[str, ...]
    right: tuple[str, ...]
    formula: bool
    title: str


@dataclass(frozen=True)
class Continuity:
    """A carry-over rule: a row of this year's table equals a row of last year's, column by column."""

    id: str
    table: str
    this_year: str
    last_year: str
    this_name: str
    last_name: str


@dataclass(frozen=True)
class Crosswalk:
    """How a summary of reports of several versions counts a row that only an older version has."""

    table: str
    row: str
    also: tuple[str, ...]
    note: str
    total_key: str
    total_label: str
    total_rows: tuple[str, ...]


@dataclass(frozen=True)
class Format:
    """Everything known about one version of the format."""

    version: str
    name: str
    markers: tuple[str, ...]
    sections: tuple[Section, ...]
    tables: dict[str, Table]
    rules: tuple[Rule, ...]
    cell_keys: tuple[str, ...] = field(default=())
    first_year: int = 0
    continuity: tuple[Continuity, ...] = ()

    def section(self, key: str) -> Section:
        """Return the section with this key."""
        return next(s for s in self.sections if s.key == key)

    def rule(self, rule_id: str) -> Rule:
        """Return the rule with this id."""
        return self._rules[rule_id]

    def cell_type(self, key: str) -> str:
        """Return count, signed or money for a cell key."""
        return self._cell_types[key]

    def equations(self) -> list[Equation]:
        """Expand every rule into its equations over cell keys (computed once per version)."""
        return list(self._equations)

    def formulas(self) -> dict[str, tuple[str, ...]]:
        """Return each computed cell with the cells its SUM covers (first formula rule wins)."""
        return dict(self._formulas)

    # Asked per cell of every report in a batch: computed once per Format.
    @cached_property
    def _rules(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    @cached_property
    def _cell_types(self) -> dict[str, str]:
        return {
            f"{t.key}.{r.key}.{c}": t.column(c).type for t in self.tables.values() for r in t.rows for c in r.columns
        }

    @cached_property
    def _equations(self) -> tuple[Equation, ...]:
        out: list[Equation] = []
        for rule in self.rules:
            table = self.tables[rule.table]
            if rule.per == "row":
                for row in table.rows:
                    cols = set(row.columns)
                    if not set(rule.left) | set(rule.right) <= cols:
                        continue
                    out.append(
                        Equation(
                            rule.id,
                            f"{table.key}.{row.key}",
                            tuple(f"{table.key}.{row.key}.{c}" for c in rule.left),
                            tuple(f"{table.key}.{row.key}.{c}" for c in rule.right),
                        )
                    )
            else:
                right = _expand_rows(table, rule.right)
                left = _expand_rows(table, rule.left)
                for col in table.columns:
                    out.append(
                        Equation(
                            rule.id,
                            f"{table.key}.*.{col.key}",
                            tuple(f"{table.key}.{r}.{col.key}" for r in left),
                            tuple(f"{table.key}.{r}.{col.key}" for r in right),
                        )
                    )
        return tuple(out)

    @cached_property
    def _formulas(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        formula_rules = {r.id for r in self.rules if r.formula}
        for eq in self._equations:
            if eq.rule in formula_rules and len(eq.left) == 1:
                out.setdefault(eq.left[0], eq.right)
        return out


def _expand_rows(table: Table, names: tuple[str, ...]) -> list[str]:
    rows: list[str] = []
    for name in names:
        if name == "@outcome":
            rows.extend(r.key for r in table.rows if r.outcome)
        else:
            rows.append(name)
    return rows


@dataclass(frozen=True)
class FormatData:
    """Every version of the format, as loaded from one format.toml."""

    formats: dict[str, Format]
    crosswalks: tuple[Crosswalk, ...] = ()

    @property
    def versions(self) -> tuple[str, ...]:
        """Return the version names, oldest first."""
        return tuple(self.formats)

    def format(self, version: str) -> Format:
        """Return the format of one version."""
        try:
            return self.formats[version]
        except KeyError:
            known = ", ".join(self.formats)
            raise FormatDataError("format-version-unknown", version=version, known=known) from None

    def version_for_year(self, year: int) -> str:
        """Return the version a report of this year is written in: the latest in force by then, else the oldest."""
        in_force = [v for v, f in self.formats.items() if f.first_year <= year]
        return in_force[-1] if in_force else self.versions[0]

    def also_counted(self, key: str) -> tuple[str, ...]:
        """Return the cells of older versions that a summary of mixed versions counts under this cell.

        A row that sums the crosswalk's row (（六）其他处理 of 2021 sums its 3.其他) counts them too.
        """
        table, row, column = key.split(".")
        under = {row}
        for fmt in self.formats.values():
            rows = fmt.tables[table].rows if table in fmt.tables else ()
            under.update(part for r in rows if r.key == row for part in r.sums)
        return tuple(
            f"{table}.{old}.{column}"
            for cw in self.crosswalks
            if cw.table == table and cw.row in under
            for old in cw.also
        )


def parse_format_data(text: str, name: str = "format.toml") -> FormatData:
    """Build and validate the format from the text of a format.toml; `name` is what errors call it."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormatDataError("format-data-invalid", problem=f"{name}: not valid TOML: {exc}") from exc
    versions = tuple(raw["versions"]) if isinstance(raw.get("versions"), dict) else ()
    ctx = _Context(name, versions)
    _check_shape(raw, _FILE, (), ctx)
    return _build(raw, ctx)


def read_format_data(path: str | Path) -> FormatData:
    """Build and validate the format from a format.toml file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatDataError("format-data-unreadable", path=str(path), detail=str(exc)) from exc
    return parse_format_data(text, path.name)


@cache
def format_data() -> FormatData:
    """Return the format data nianbao ships (workbook_templates/format.toml), loaded once."""
    return read_format_data(templates_dir() / "format.toml")


@cache
def load_format(version: str) -> Format:
    """Return the format of one version ("2019" or "2021")."""
    return format_data().format(version)


def known_versions() -> tuple[str, ...]:
    """Return the names of the format versions, oldest first."""
    return format_data().versions


def version_for_year(year: int) -> str:
    """Return the version a report of this year is written in."""
    return format_data().version_for_year(year)


def crosswalks() -> tuple[Crosswalk, ...]:
    """Return how a summary of mixed versions counts rows that only an older version has."""
    return format_data().crosswalks


def also_counted(key: str) -> tuple[str, ...]:
    """Return the cells of older versions that a summary of mixed versions counts under this cell."""
    return format_data().also_counted(key)


# -- the shape of format.toml ------------------------------------------------------------------
# Each level's keys, declared once: the kind of value, whether it is required, the allowed words.
# Every key of the file is checked against this before anything is built, so a typo is an error.


@dataclass(frozen=True)
class _Key:
    kind: Any  # str, int, bool, or a _ListOf / _MapOf
    required: bool = True
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class _ListOf:
    item: Any  # str, or a schema (dict of _Key) for a list of tables
    noun: str = ""  # how a message names an item: "row granted"
    within: str = ""  # a key of the item that names its container: "table requests, rule row-total"
    empty_ok: bool = False


@dataclass(frozen=True)
class _MapOf:
    item: dict[str, _Key]
    noun: str


def _req(kind: Any, *choices: str) -> _Key:
    return _Key(kind, True, choices)


def _opt(kind: Any, *choices: str) -> _Key:
    return _Key(kind, False, choices)


_WORDS = _ListOf(str)
_ALIASES = _opt(_ListOf(str, empty_ok=True))
_VERSION_NAMES = _ListOf(str)  # checked against the [versions.*] tables
_IN_VERSIONS = _opt(_VERSION_NAMES)  # an item without `versions` belongs to every version

_VERSION = {"name": _req(str), "markers": _req(_WORDS), "first_year": _req(int)}
_SECTION = {
    "key": _req(str),
    "number": _req(str),
    "heading": _req(str),
    "kind": _req(str, "text", "table"),
    "sheet": _req(str),
    "patterns": _req(_WORDS),
}
_COLUMN = {
    "key": _req(str),
    "label": _req(str),
    "type": _opt(str, "count", "signed", "money"),
    "group": _opt(str),
    "aliases": _ALIASES,
}
_GROUP = {"key": _req(str), "label": _req(str), "parent": _opt(str), "aliases": _ALIASES, "versions": _IN_VERSIONS}
_ROW = {
    "key": _req(str),
    "label": _req(str),
    "columns": _opt(_WORDS),
    "group": _opt(str),
    "outcome": _opt(bool),
    "aliases": _ALIASES,
    "versions": _IN_VERSIONS,
    "sums": _opt(_WORDS),
}
_DERIVED_COLUMN = {"key": _req(str), "label": _req(str), "group": _req(str), "sums": _req(_WORDS)}
_DERIVED_ROW = {"key": _req(str), "label": _req(str), "group": _req(str)}
_TABLE = {
    "key": _req(str),
    "versions": _IN_VERSIONS,
    "layout": _opt(str, "rows", "wide"),
    "corner": _opt(str),
    "column_header": _opt(str),
    "columns": _req(_ListOf(_COLUMN, "column")),
    "groups": _opt(_ListOf(_GROUP, "group", empty_ok=True)),
    "rows": _req(_ListOf(_ROW, "row")),
    "derived_columns": _opt(_ListOf(_DERIVED_COLUMN, "derived column", empty_ok=True)),
    "derived_rows": _opt(_ListOf(_DERIVED_ROW, "derived row", empty_ok=True)),
}
_RULE = {
    "id": _req(str),
    "table": _req(str),
    "per": _req(str, "row", "column"),
    "left": _req(_WORDS),
    "right": _req(_WORDS),
    "formula": _opt(bool),
    "title": _req(str),
    "versions": _IN_VERSIONS,
}
_CONTINUITY = {
    "id": _req(str),
    "table": _req(str),
    "this_year": _req(str),
    "last_year": _req(str),
    "this_name": _req(str),
    "last_name": _req(str),
    "versions": _IN_VERSIONS,
}
_CROSSWALK = {
    "table": _req(str),
    "row": _req(str),
    "also": _req(_WORDS),
    "note": _req(str),
    "total_key": _req(str),
    "total_label": _req(str),
    "total_rows": _req(_WORDS),
}
_FILE = {
    "versions": _req(_MapOf(_VERSION, "version")),
    "sections": _req(_ListOf(_SECTION, "section")),
    "tables": _req(_ListOf(_TABLE, "table")),
    "rules": _req(_ListOf(_RULE, "rule", within="table")),
    "continuity": _opt(_ListOf(_CONTINUITY, "continuity rule", within="table", empty_ok=True)),
    "crosswalks": _opt(_ListOf(_CROSSWALK, "crosswalk", within="table", empty_ok=True)),
}
_TYPE_WORDS = {str: "a string", int: "a whole number", bool: "true or false"}


@dataclass(frozen=True)
class _Context:
    source: str
    versions: tuple[str, ...]

    def fail(self, where: tuple[str, ...], message: str) -> NoReturn:
        """Raise the error that names the file, the version, table and item, and what is wrong."""
        problem = ": ".join((self.source, ", ".join(where), message) if where else (self.source, message))
        raise FormatDataError("format-data-invalid", problem=problem)


def _suggest(name: str, known: Any) -> str:
    import difflib  # only on the way to an error

    close = difflib.get_close_matches(name, [k for k in known if isinstance(k, str)], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_shape(raw: Any, schema: dict[str, _Key], where: tuple[str, ...], ctx: _Context) -> None:
    if not isinstance(raw, dict):
        ctx.fail(where, f"must be a table, not {raw!r}")
    for key in raw:
        if key not in schema:
            ctx.fail(where, f"unknown key {key!r}{_suggest(key, schema)}")
    for key, spec in schema.items():
        if key in raw:
            _check_value(raw[key], spec, key, where, ctx)
        elif spec.required:
            ctx.fail(where, f"missing required key {key!r}")


def _check_value(value: Any, spec: _Key, name: str, where: tuple[str, ...], ctx: _Context) -> None:
    kind = spec.kind
    if isinstance(kind, _MapOf):
        if not isinstance(value, dict) or not value:
            ctx.fail(where, f"{name} must be a table of {kind.noun}s")
        for key, item in value.items():
            _check_shape(item, kind.item, (*where, f"{kind.noun} {key}"), ctx)
    elif isinstance(kind, _ListOf):
        if not isinstance(value, list):
            ctx.fail(where, f"{name} must be a list, not {value!r}")
        if not value and not kind.empty_ok:
            ctx.fail(where, f"{name} must not be empty")
        for i, item in enumerate(value):
            if isinstance(kind.item, dict):
                _check_shape(item, kind.item, (*where, _item_name(kind, item, i)), ctx)
            else:
                choices = ctx.versions if kind is _VERSION_NAMES else ()
                _check_value(item, _Key(kind.item, True, choices), f"{name}[{i}]", where, ctx)
    else:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            ctx.fail(where, f"{name} must be {_TYPE_WORDS[kind]}, not {value!r}")
        if spec.choices and value not in spec.choices:
            ctx.fail(where, f"{name} must be one of {', '.join(spec.choices)}, not {value!r}")


def _item_name(kind: _ListOf, item: Any, index: int) -> str:
    """Name a list item in a message by its key, id or row, and the versions it belongs to."""
    if not isinstance(item, dict):
        return f"{kind.noun} #{index + 1}"
    ident = next((item[k] for k in ("key", "id", "row") if isinstance(item.get(k), str)), f"#{index + 1}")
    name = f"{kind.noun} {ident}"
    if isinstance(item.get("versions"), list):
        name += f" ({', '.join(map(str, item['versions']))})"
    if kind.within and isinstance(item.get(kind.within), str):
        name = f"{kind.within} {item[kind.within]}, {name}"
    return name


# -- building, with the checks across items: duplicates and names of things that do not exist --


def _in_version(item: dict, version: str) -> bool:
    return "versions" not in item or version in item["versions"]


def _unique(keys: Any, what: str, where: tuple[str, ...], ctx: _Context) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            ctx.fail(where, f"duplicate {what} {key!r}")
        seen.add(key)


def _known(names: Any, known: Any, what: str, where: tuple[str, ...], ctx: _Context) -> None:
    for name in names:
        if name not in known:
            ctx.fail(where, f"unknown {what} {name!r}{_suggest(name, known)}")


def _build(raw: dict, ctx: _Context) -> FormatData:
    years = [raw["versions"][v]["first_year"] for v in ctx.versions]
    for before, after, year in zip(ctx.versions, ctx.versions[1:], years[1:], strict=False):
        if year <= raw["versions"][before]["first_year"]:
            ctx.fail(
                (f"version {after}",),
                f"first_year {year} must be later than version {before}'s: list versions oldest first",
            )
    _unique((s["key"] for s in raw["sections"]), "section key", (), ctx)
    sections = tuple(_build_section(s, ctx) for s in raw["sections"])
    formats = {v: _build_format(raw, v, sections, ctx) for v in ctx.versions}
    crosswalks = tuple(_build_crosswalk(c, formats, ctx) for c in raw.get("crosswalks", ()))
    _unique(((c.table, c.row) for c in crosswalks), "crosswalk for table and row", (), ctx)
    return FormatData(formats, crosswalks)


def _build_section(s: dict, ctx: _Context) -> Section:
    patterns = []
    for p in s["patterns"]:
        try:
            patterns.append(re.compile(p))
        except re.error as exc:
            ctx.fail((f"section {s['key']}",), f"pattern {p!r} is not a regular expression: {exc}")
    return Section(s["key"], s["number"], s["heading"], s["kind"], s["sheet"], tuple(patterns))


def _build_format(raw: dict, version: str, sections: tuple[Section, ...], ctx: _Context) -> Format:
    at = (f"version {version}",)
    meta = raw["versions"][version]
    raw_tables = [t for t in raw["tables"] if _in_version(t, version)]
    _unique((t["key"] for t in raw_tables), "table key", at, ctx)
    table_sections = {s.key for s in sections if s.kind == "table"}
    for t in raw_tables:
        if t["key"] not in table_sections:
            ctx.fail((*at, f"table {t['key']}"), "no section of kind 'table' has this key")
    tables = {t["key"]: _build_table(t, version, (*at, f"table {t['key']}"), ctx) for t in raw_tables}
    for key in sorted(table_sections - set(tables)):
        ctx.fail((*at, f"section {key}"), "a section of kind 'table' needs a table with its key in every version")
    raw_rules = [r for r in raw["rules"] if _in_version(r, version)]
    _unique((r["id"] for r in raw_rules), "rule id", at, ctx)
    rules = tuple(_build_rule(r, tables, at, ctx) for r in raw_rules)
    raw_continuity = [c for c in raw.get("continuity", ()) if _in_version(c, version)]
    _unique((c["id"] for c in raw_continuity), "continuity rule id", at, ctx)
    continuity = tuple(_build_continuity(c, tables, at, ctx) for c in raw_continuity)
    keys = tuple(k for t in tables.values() for k in t.cell_keys())
    return Format(
        version, meta["name"], tuple(meta["markers"]), sections, tables, rules, keys, meta["first_year"], continuity
    )


def _build_table(raw: dict, version: str, at: tuple[str, ...], ctx: _Context) -> Table:
    all_cols = [c["key"] for c in raw["columns"]]
    _unique(all_cols, "column key", at, ctx)
    raw_groups = [g for g in raw.get("groups", ()) if _in_version(g, version)]
    group_keys = [g["key"] for g in raw_groups]
    _unique(group_keys, "group key", at, ctx)
    group_labels = {g["label"]: g for g in raw_groups}
    raw_rows = [r for r in raw["rows"] if _in_version(r, version)]
    _unique((r["key"] for r in raw_rows), "row key", at, ctx)
    for c in raw["columns"]:
        # A column's group is the label printed over it (法人或其他组织), which a group of the table must have.
        if "group" in c:
            _known([c["group"]], group_labels, "group label", (*at, f"column {c['key']}"), ctx)
    for g in raw_groups:
        _known([g["parent"]] if "parent" in g else [], group_keys, "group", (*at, f"group {g['key']}"), ctx)
    for r in raw_rows:
        _known(r.get("columns", ()), all_cols, "column", (*at, f"row {r['key']}"), ctx)
        _known([r["group"]] if "group" in r else [], group_keys, "group", (*at, f"row {r['key']}"), ctx)
        _known(r.get("sums", ()), [x["key"] for x in raw_rows if x is not r], "row", (*at, f"row {r['key']}"), ctx)
    raw_derived_cols = raw.get("derived_columns", ())
    _unique([*all_cols, *(d["key"] for d in raw_derived_cols)], "column or derived column key", at, ctx)
    for d in raw_derived_cols:
        _known(d["sums"], all_cols, "column", (*at, f"derived column {d['key']}"), ctx)
        _known([d["group"]], group_keys, "group", (*at, f"derived column {d['key']}"), ctx)
    raw_derived_rows = raw.get("derived_rows", ())
    _unique([*(r["key"] for r in raw_rows), *(d["key"] for d in raw_derived_rows)], "row or derived row key", at, ctx)
    # A derived row's group may belong to another version only (（六） is 2019's single row): checked over all.
    every_group = [g["key"] for g in raw.get("groups", ())]
    for d in raw_derived_rows:
        _known([d["group"]], every_group, "group", (*at, f"derived row {d['key']}"), ctx)

    columns = tuple(
        Column(c["key"], c["label"], c.get("type", "count"), c.get("group"), tuple(c.get("aliases", ())))
        for c in raw["columns"]
    )
    rows = tuple(
        Row(
            r["key"],
            r["label"],
            tuple(r.get("columns", all_cols)),
            r.get("group"),
            bool(r.get("outcome", False)),
            tuple(r.get("aliases", ())),
            tuple(r.get("sums", ())),
        )
        for r in raw_rows
    )
    groups = tuple(Group(g["key"], g["label"], g.get("parent"), tuple(g.get("aliases", ()))) for g in raw_groups)
    labels = {g.key: g.label for g in groups}
    derived_cols = tuple(
        Derived(d["key"], d["label"], d["group"], tuple(d["sums"]), f"{labels[d['group']]} {d['label']}")
        for d in raw_derived_cols
    )
    derived_rows = tuple(
        Derived(
            d["key"],
            d["label"],
            d["group"],
            tuple(r.key for r in rows if r.group == d["group"]),
            f"{labels[d['group']]} {d['label']}",
        )
        for d in raw_derived_rows
        if d["group"] in labels
    )
    return Table(
        raw["key"],
        columns,
        rows,
        groups,
        derived_cols,
        derived_rows,
        raw.get("layout", "rows"),
        raw.get("corner", ""),
        raw.get("column_header", ""),
    )


def _build_rule(r: dict, tables: dict[str, Table], at: tuple[str, ...], ctx: _Context) -> Rule:
    where = (*at, f"table {r['table']}", f"rule {r['id']}")
    _known([r["table"]], tables, "table", where, ctx)
    table = tables[r["table"]]
    if r["per"] == "row":
        known, what = [c.key for c in table.columns], "column"
    else:
        known, what = [*(row.key for row in table.rows), "@outcome"], "row"
    _known([*r["left"], *r["right"]], known, what, where, ctx)
    return Rule(r["id"], r["table"], r["per"], tuple(r["left"]), tuple(r["right"]), r.get("formula", False), r["title"])


def _build_continuity(c: dict, tables: dict[str, Table], at: tuple[str, ...], ctx: _Context) -> Continuity:
    where = (*at, f"table {c['table']}", f"continuity rule {c['id']}")
    _known([c["table"]], tables, "table", where, ctx)
    _known([c["this_year"], c["last_year"]], [r.key for r in tables[c["table"]].rows], "row", where, ctx)
    return Continuity(c["id"], c["table"], c["this_year"], c["last_year"], c["this_name"], c["last_name"])


def _build_crosswalk(c: dict, formats: dict[str, Format], ctx: _Context) -> Crosswalk:
    where = (f"table {c['table']}", f"crosswalk {c['row']}")
    tables = [f.tables[c["table"]] for f in formats.values() if c["table"] in f.tables]
    if not tables:
        ctx.fail(where, f"unknown table {c['table']!r}")
    rows = {r.key for t in tables for r in t.rows}
    # The rows may belong to different versions: each must be a row of the table in some version.
    _known([c["row"], *c["also"], *c["total_rows"]], rows, "row", where, ctx)
    if c["total_key"] in rows:
        ctx.fail(where, f"total_key {c['total_key']!r} is already a row of the table")
    return Crosswalk(
        c["table"], c["row"], tuple(c["also"]), c["note"], c["total_key"], c["total_label"], tuple(c["total_rows"])
    )
