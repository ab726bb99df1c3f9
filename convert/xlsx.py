"""Read the parts of an .xlsx that read-back needs, straight from its XML (ten times faster than openpyxl).

Call only after convert.safety.inspect_workbook has vetted the file (size, zip bomb, DTD/entities).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lxml import etree

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
_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")

Pos = tuple[int, int]


@dataclass
class Sheet:
    """One sheet: raw contents (formulas as '=…' text), cached formula results, number formats (0-based)."""

    values: dict[Pos, Any] = field(default_factory=dict)
    cached: dict[Pos, Any] = field(default_factory=dict)
    formats: dict[Pos, str] = field(default_factory=dict)

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


def _xml(zf: zipfile.ZipFile, name: str) -> etree._Element | None:
    try:
        data = zf.read(name)
    except KeyError:
        return None
    return etree.fromstring(data, _PARSER)


def _text(el: etree._Element) -> str:
    """Return the text of a string item: plain <t> or rich-text runs, phonetic runs left out."""
    t = el.find(f"{_M}t")
    if t is not None:
        return t.text or ""
    return "".join(r.text or "" for r in el.iterfind(f"{_M}r/{_M}t"))


def load(path: Path | IO[bytes], skip_prefix: str = "") -> Book:
    """Read sheets (all but those whose name starts with skip_prefix), names and custom properties."""
    with zipfile.ZipFile(path) as zf:
        workbook = _xml(zf, "xl/workbook.xml")
        if workbook is None:
            raise KeyError("xl/workbook.xml")
        rels = _xml(zf, "xl/_rels/workbook.xml.rels")
        targets: dict[str | None, str] = {}
        if rels is not None:
            for rel in rels.iterfind("rel:Relationship", NS):
                target = rel.get("Target", "")
                targets[rel.get("Id")] = (
                    target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
                )
        strings = _shared_strings(zf)
        formats = _cell_formats(zf)
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
            root = _xml(zf, part) if part else None
            sheets[name] = _sheet(root, strings, formats) if root is not None else Sheet()
        names = _defined_names(workbook, sheet_names)
        custom = _custom(zf)
    return Book(sheets, names, custom, tuple(skipped))


def _shared_strings(zf: zipfile.ZipFile) -> list[str]:
    root = _xml(zf, "xl/sharedStrings.xml")
    return [] if root is None else [_text(si) for si in root.iterfind("m:si", NS)]


def _cell_formats(zf: zipfile.ZipFile) -> list[str]:
    from openpyxl.styles.numbers import BUILTIN_FORMATS

    root = _xml(zf, "xl/styles.xml")
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


def _sheet(root: etree._Element, strings: list[str], formats: list[str]) -> Sheet:
    sheet = Sheet()
    shared: dict[str, tuple[str, str]] = {}  # si → (formula, origin cell) of a shared formula's master
    for c in root.iter(f"{_M}c"):
        ref = c.get("r")
        m = _REF.match(ref or "")
        if not m:
            continue
        pos = (int(m.group(2)) - 1, col_index(m.group(1)))
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
        elif kind in ("str", "e"):
            value = v.text
        elif kind == "b":
            value = v.text == "1"
        else:
            value = _number(v.text)
        style = int(c.get("s", "0"))
        if f is not None:
            formula = f.text
            if f.get("t") == "shared":
                si = f.get("si", "")
                if formula:
                    shared[si] = (formula, ref or "")
                elif si in shared:
                    from openpyxl.formula.translate import Translator

                    master, origin = shared[si]
                    formula = Translator("=" + master, origin).translate_formula(ref)[1:]
            if formula:
                sheet.values[pos] = "=" + formula
                sheet.cached[pos] = value
                sheet.formats[pos] = formats[style] if style < len(formats) else "General"
                continue
        if value is None:
            continue
        sheet.values[pos] = value
        sheet.formats[pos] = formats[style] if style < len(formats) else "General"
    return sheet


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


def _custom(zf: zipfile.ZipFile) -> dict[str, Any]:
    root = _xml(zf, "docProps/custom.xml")
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
