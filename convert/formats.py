"""The report format as data: load workbook_templates/format.toml into typed objects."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from pathlib import Path

from convert.errors import FormatDataError

VERSIONS = ("2019", "2021")


def templates_dir() -> Path:
    """Return the folder that holds the format data and workbook layouts."""
    here = Path(__file__).resolve().parent
    # Installed wheels carry the data inside the package; a source checkout has it beside it.
    for candidate in (here / "workbook_templates", here.parent / "workbook_templates"):
        if (candidate / "format.toml").is_file():
            return candidate
    raise FormatDataError("workbook_templates/format.toml not found: reinstall nianbao")


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


@dataclass(frozen=True)
class Derived:
    """A derived row or column (小计) some templates print: checked, never stored."""

    key: str
    label: str
    group: str | None = None
    sums: tuple[str, ...] = ()


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
class Format:
    """Everything known about one version of the format."""

    version: str
    name: str
    markers: tuple[str, ...]
    sections: tuple[Section, ...]
    tables: dict[str, Table]
    rules: tuple[Rule, ...]
    cell_keys: tuple[str, ...] = field(default=())

    def section(self, key: str) -> Section:
        """Return the section with this key."""
        return next(s for s in self.sections if s.key == key)

    def cell_type(self, key: str) -> str:
        """Return count, signed or money for a cell key."""
        return _cell_types(self.version)[key]

    def equations(self) -> list[Equation]:
        """Expand every rule into its equations over cell keys (computed once per version)."""
        return list(_equations(self.version))

    def _expand_equations(self) -> list[Equation]:
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
        return out

    def formulas(self) -> dict[str, tuple[str, ...]]:
        """Return each computed cell with the cells its SUM covers (first formula rule wins)."""
        return dict(_formulas(self.version))

    def _expand_formulas(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        formula_rules = {r.id for r in self.rules if r.formula}
        for eq in self.equations():
            if eq.rule in formula_rules and len(eq.left) == 1:
                out.setdefault(eq.left[0], eq.right)
        return out


@cache
def _cell_types(version: str) -> dict[str, str]:
    fmt = load_format(version)
    return {f"{t.key}.{r.key}.{c}": t.column(c).type for t in fmt.tables.values() for r in t.rows for c in r.columns}


@cache
def _equations(version: str) -> tuple[Equation, ...]:
    return tuple(load_format(version)._expand_equations())


@cache
def _formulas(version: str) -> dict[str, tuple[str, ...]]:
    return load_format(version)._expand_formulas()


def _expand_rows(table: Table, names: tuple[str, ...]) -> list[str]:
    rows: list[str] = []
    for name in names:
        if name == "@outcome":
            rows.extend(r.key for r in table.rows if r.outcome)
        else:
            rows.append(name)
    return rows


def _in_version(item: dict, version: str) -> bool:
    return version in item.get("versions", VERSIONS)


def _build_table(raw: dict, version: str) -> Table:
    all_cols = [c["key"] for c in raw["columns"]]
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
        )
        for r in raw["rows"]
        if _in_version(r, version)
    )
    groups = tuple(
        Group(g["key"], g["label"], g.get("parent"), tuple(g.get("aliases", ())))
        for g in raw.get("groups", ())
        if _in_version(g, version)
    )
    derived_cols = tuple(
        Derived(d["key"], d["label"], d.get("group"), tuple(d.get("sums", ()))) for d in raw.get("derived_columns", ())
    )
    group_keys = {g.key for g in groups}
    derived_rows = tuple(
        Derived(d["key"], d["label"], d.get("group"), tuple(r.key for r in rows if r.group == d.get("group")))
        for d in raw.get("derived_rows", ())
        if d.get("group") in group_keys
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


@cache
def _raw() -> dict:
    path = templates_dir() / "format.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FormatDataError(f"cannot load {path}: {exc}") from exc


@cache
def load_format(version: str) -> Format:
    """Return the format of one version ("2019" or "2021")."""
    raw = _raw()
    if version not in raw["versions"]:
        raise FormatDataError(f"unknown format version {version!r}; known: {', '.join(VERSIONS)}")
    meta = raw["versions"][version]
    sections = tuple(
        Section(
            s["key"],
            s["number"],
            s["heading"],
            s["kind"],
            s["sheet"],
            tuple(re.compile(p) for p in s["patterns"]),
        )
        for s in raw["sections"]
    )
    tables = {t["key"]: _build_table(t, version) for t in raw["tables"] if _in_version(t, version)}
    rules = tuple(
        Rule(
            r["id"],
            r["table"],
            r["per"],
            tuple(r["left"]),
            tuple(r["right"]),
            bool(r.get("formula", False)),
            r.get("title", ""),
        )
        for r in raw["rules"]
        if _in_version(r, version)
    )
    keys = tuple(k for t in tables.values() for k in t.cell_keys())
    return Format(version, meta["name"], tuple(meta["markers"]), sections, tables, rules, keys)
