"""Read the parts of an .xlsx that read-back needs, streaming its XML (ten times faster than openpyxl).

Call only after convert.safety.inspect_workbook has vetted the file (size, zip bomb, DTD/entities); the parts
are streamed within the read limits (convert.safety.Limits), so no sheet can take more memory or time than they allow.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lxml import etree

from convert import safety
from convert.errors import UnreadableInputError, UnsafeInputError
from convert.safety import Limits, human_bytes

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "cp": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
    "vt": "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes",
}
_M = "{" + NS["m"] + "}"
# Entities are never expanded, nothing is fetched: the file is data, not instructions.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")

Pos = tuple[int, int]
# Translating a copy of a shared formula costs some 30 times parsing its characters (openpyxl's translator works
# reference by reference): each copy is charged that against the read budget, so crafted copies stop in seconds.
SHARED_FORMULA_COST = 32
# Excel's grid: a reference beyond it is no cell of a real workbook.
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384


@dataclass
class Sheet:
    """One sheet: raw contents (formulas as '=…' text), cached formula results, number formats (0-based).

    kinds marks the cells whose value (or cached result) is an error value ("e": '#DIV/0!') or an ISO 8601 date
    ("d"), both kept as their text in values/cached.
    """

    values: dict[Pos, Any] = field(default_factory=dict)
    cached: dict[Pos, Any] = field(default_factory=dict)
    formats: dict[Pos, str] = field(default_factory=dict)
    kinds: dict[Pos, str] = field(default_factory=dict)

    def max_row(self) -> int:
        """Return the last row holding anything (-1 when empty)."""
        return max((r for r, _ in self.values), default=-1)


@dataclass
class Book:
    """A workbook as read: sheets by name (in order), single-cell defined names, custom properties."""

    sheets: dict[str, Sheet]
    names: dict[str, tuple[str, Pos]]
    custom: dict[str, Any]
    skipped: tuple[str, ...] = ()  # the names of the sheets not read (skip_prefix)


def col_index(letters: str) -> int:
    """Return the 0-based column of column letters (A → 0)."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


class _Reading:
    """What one load may still parse: XML bytes, shared formulas charged for their expansion (SHARED_FORMULA_COST)."""

    def __init__(self, zf: zipfile.ZipFile, limits: Limits) -> None:
        """Start with the whole read budget of these limits."""
        self.zf = zf
        self.limits = limits
        self.left = limits.max_read_xml_bytes

    def take(self, n: int, part: str) -> None:
        """Spend n bytes of the budget; refuse the workbook when it runs out."""
        self.left -= n
        if self.left < 0:
            raise UnsafeInputError(
                "workbook-read-too-large", part=part, limit=human_bytes(self.limits.max_read_xml_bytes)
            )

    def open(self, name: str) -> IO[bytes] | None:
        """Open a part after charging its size (None when the workbook lacks it)."""
        try:
            info = self.zf.getinfo(name)
        except KeyError:
            return None
        # zipfile never yields more than the declared size (it fails the CRC instead): the size is what is parsed.
        self.take(info.file_size, name)
        return self.zf.open(info)

    def xml(self, name: str) -> etree._Element | None:
        """Parse a small part whole (workbook, relationships, styles, properties)."""
        fh = self.open(name)
        if fh is None:
            return None
        with fh:
            return etree.fromstring(fh.read(), _PARSER)

    def items(self, name: str, tags: tuple[str, ...]) -> Iterator[etree._Element]:
        """Stream a part, yielding each element of these tags at its end; the caller clears what it has read."""
        fh = self.open(name)
        if fh is None:
            return
        with fh:
            for _, el in etree.iterparse(
                fh,
                events=("end",),
                tag=tags,
                resolve_entities=False,
                no_network=True,
                huge_tree=False,
                remove_comments=True,
                remove_pis=True,
            ):
                yield el


def _text(el: etree._Element) -> str:
    """Return the text of a string item: plain <t> or rich-text runs, phonetic runs left out."""
    t = el.find(f"{_M}t")
    if t is not None:
        return t.text or ""
    return "".join(r.text or "" for r in el.iterfind(f"{_M}r/{_M}t"))


def load(path: Path | IO[bytes], skip_prefix: str | tuple[str, ...] = "", limits: Limits | None = None) -> Book:
    """Read sheets (all but those whose name starts with skip_prefix, or one of them), names and custom properties.

    Only max_read_xml_bytes of XML is parsed, and no sheet beyond max_rows_per_sheet or max_cells: past them
    UnsafeInputError, before the memory or the time they would take.
    """
    limits = limits or safety.DEFAULT_LIMITS  # read at call time: configure_limits may have replaced it
    with zipfile.ZipFile(path) as zf:
        reading = _Reading(zf, limits)
        workbook = reading.xml("xl/workbook.xml")
        if workbook is None:
            raise KeyError("xl/workbook.xml")
        rels = reading.xml("xl/_rels/workbook.xml.rels")
        targets: dict[str | None, str] = {}
        if rels is not None:
            for rel in rels.iterfind("rel:Relationship", NS):
                target = rel.get("Target", "")
                targets[rel.get("Id")] = (
                    target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
                )
        strings = _shared_strings(reading)
        formats = _cell_formats(reading)
        sheets: dict[str, Sheet] = {}
        sheet_names: list[str] = []
        skipped: list[str] = []
        for sh in workbook.iterfind("m:sheets/m:sheet", NS):
            name = sh.get("name", "")
            sheet_names.append(name)
            if skip_prefix and name.startswith(skip_prefix):
                skipped.append(name)
                continue
            part = targets.get(sh.get(f"{{{NS['r']}}}id"))
            sheets[name] = _sheet(reading, part, name, strings, formats) if part else Sheet()
        names = _defined_names(workbook, sheet_names)
        custom = _custom(reading)
    return Book(sheets, names, custom, tuple(skipped))


def _shared_strings(reading: _Reading) -> list[str]:
    out: list[str] = []
    for si in reading.items("xl/sharedStrings.xml", (f"{_M}si",)):
        out.append(_text(si))
        _forget(si)
    return out


def _forget(el: etree._Element) -> None:
    """Clear an element read to its end and drop the siblings before it: a streamed part keeps no tree."""
    el.clear()
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


def _cell_formats(reading: _Reading) -> list[str]:
    from openpyxl.styles.numbers import BUILTIN_FORMATS

    root = reading.xml("xl/styles.xml")
    if root is None:
        return []
    custom = {
        int(f.get("numFmtId", "0")): f.get("formatCode", "General") for f in root.iterfind("m:numFmts/m:numFmt", NS)
    }
    out = []
    for xf in root.iterfind("m:cellXfs/m:xf", NS):
        fid = int(xf.get("numFmtId", "0"))
        out.append(custom.get(fid) or BUILTIN_FORMATS.get(fid, "General"))
    return out


def _number(text: str) -> int | float:
    # As openpyxl reads numbers: a point or an exponent makes a float.
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


def _name(pos: Pos) -> str:
    """Return the A1 name of a 0-based position."""
    col, letters = pos[1] + 1, ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{pos[0] + 1}"


def _position(ref: str, part: str) -> Pos:
    """Return the 0-based (row, column) of a cell reference, refusing one outside Excel's grid."""
    m = _REF.match(ref)
    if m:
        row, col = int(m.group(2)) - 1, col_index(m.group(1).upper())
        if 0 <= row < MAX_ROWS and 0 <= col < MAX_COLUMNS:
            return row, col
    raise UnreadableInputError("cell-outside-grid", part=part, cell=ref[:20])


def _sheet(reading: _Reading, part: str, name: str, strings: list[str], formats: list[str]) -> Sheet:
    sheet = Sheet()
    limits = reading.limits
    shared: dict[str, tuple[Any, str]] = {}  # si → (translator of the master's formula, its text)
    rows = cells = 0
    row = -1  # the current row (0-based) and the last column read in it, for cells that omit their reference
    col = -1
    c_tag = f"{_M}c"
    for el in reading.items(part, (c_tag, f"{_M}row")):
        if el.tag != c_tag:
            rows += 1
            if rows > limits.max_rows_per_sheet:
                raise UnsafeInputError("sheet-too-many-rows", sheet=name, limit=limits.max_rows_per_sheet)
            r = el.get("r")
            row = int(r) - 1 if r and r.isdigit() else row + 1
            col = -1
            _forget(el)
            continue
        cells += 1
        if cells > limits.max_cells:
            raise UnsafeInputError("sheet-too-many-cells", sheet=name, limit=limits.max_cells)
        ref = el.get("r")
        if ref:
            pos = _position(ref, part)
        else:
            # As openpyxl places them: the row's own number (or the next row), the column after the last one.
            parent = el.getparent()
            r = parent.get("r") if parent is not None else None
            pos = (int(r) - 1 if r and r.isdigit() else row + 1, col + 1)
            if not (0 <= pos[0] < MAX_ROWS and pos[1] < MAX_COLUMNS):
                raise UnreadableInputError("cell-outside-grid", part=part, cell=f"R{pos[0] + 1}C{pos[1] + 1}")
        col = pos[1]
        _cell(el, pos, sheet, strings, formats, shared, reading, part)
        el.clear()
    return sheet


def _cell(
    c: etree._Element,
    pos: Pos,
    sheet: Sheet,
    strings: list[str],
    formats: list[str],
    shared: dict[str, tuple[Any, str]],
    reading: _Reading,
    part: str,
) -> None:
    """Read one <c> into the sheet: its value, its formula and cached result, its number format, its kind."""
    kind = c.get("t", "n")
    v = c.find(f"{_M}v")
    f = c.find(f"{_M}f")
    if kind == "inlineStr":
        node = c.find(f"{_M}is")
        value: Any = _text(node) if node is not None else None
    elif v is None or v.text is None:
        value = None
    elif kind == "s":
        value = strings[int(v.text)]
    elif kind in ("str", "e", "d"):
        value = v.text  # an error value (#DIV/0!) or an ISO 8601 date: text, its kind kept below
    elif kind == "b":
        value = v.text == "1"
    else:
        value = _number(v.text)
    style = int(c.get("s", "0"))
    number_format = formats[style] if style < len(formats) else "General"
    if kind in ("e", "d") and value is not None:
        sheet.kinds[pos] = kind
    if f is not None:
        formula = f.text
        if f.get("t") == "shared":
            si = f.get("si", "")
            if formula:
                from openpyxl.formula.translate import Translator

                # One translator a master: its formula is tokenized once, not once a cell.
                shared[si] = (Translator("=" + formula, _name(pos)), formula)
            elif si in shared:
                translator, _ = shared[si]
                formula = translator.translate_formula(_name(pos))[1:]
                # Compact in the file, long in memory and slow to expand: charged by what expanding them costs.
                reading.take(len(formula) * SHARED_FORMULA_COST, part)
        if formula:
            sheet.values[pos] = "=" + formula
            sheet.cached[pos] = value
            sheet.formats[pos] = number_format
            return
    if value is None:
        return
    sheet.values[pos] = value
    sheet.formats[pos] = number_format


_NAME_REF = re.compile(r"^(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Z]{1,3})\$?(\d+)$")


def _defined_names(workbook: etree._Element, sheet_names: list[str]) -> dict[str, tuple[str, Pos]]:
    """Return single-cell defined names; ranges, formulas and broken (#REF!) names are left out."""
    out: dict[str, tuple[str, Pos]] = {}
    for dn in workbook.iterfind("m:definedNames/m:definedName", NS):
        name, text = dn.get("name"), (dn.text or "").strip()
        m = _NAME_REF.match(text)
        if not name or not m or (dn.get("hidden") == "1" and name.startswith("_xlnm")):
            continue
        sheet = (m.group(1) or "").replace("''", "'") or m.group(2)
        out.setdefault(name, (sheet, (int(m.group(4)) - 1, col_index(m.group(3)))))
    return out


def _custom(reading: _Reading) -> dict[str, Any]:
    root = reading.xml("docProps/custom.xml")
    out: dict[str, Any] = {}
    if root is None:
        return out
    for prop in root.iterfind("cp:property", NS):
        child = next(iter(prop), None)
        if child is None:
            continue
        kind = etree.QName(child).localname
        text = child.text or ""
        if kind in ("i1", "i2", "i4", "i8", "int", "ui1", "ui2", "ui4", "ui8", "uint"):
            value: Any = int(text)
        elif kind in ("r4", "r8", "decimal"):
            value = float(text)
        elif kind == "bool":
            value = text.strip().lower() in ("1", "true")
        else:
            value = text
        out[prop.get("name", "")] = value
    return out
