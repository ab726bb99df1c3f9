"""Read a standard workbook back into a record and check it as a workbook."""

from __future__ import annotations

import hashlib
import io
import math
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlsxwriter.utility import xl_col_to_name

from convert import safety, xlsx
from convert.checks import ERROR, WARNING, Finding, check_rules
from convert.checks.catalogue import language, languages
from convert.checks.catalogue import severity as usual_severity
from convert.errors import NianbaoError, NotAReportError, UnreadableInputError
from convert.formats import Format, core, known_versions, load_format, normalize
from convert.outputs.layout import (
    CUSTOM_KIND,
    CUSTOM_REVISION,
    SUMMARY,
    SheetLayout,
    defined_name,
    heading_name,
    reported_name,
    section_title,
    sheet_layouts,
    sum_values,
)
from convert.outputs.template import all_templates
from convert.record import TEXT_KEYS, Record, Value, Warning_, loads
from convert.safety import Limits

Pos = tuple[int, int]  # 0-based row, column


def _cell(pos: Pos) -> str:
    return f"{xl_col_to_name(pos[1])}{pos[0] + 1}"


_Sheet = xlsx.Sheet
_Book = xlsx.Book


def _summary_prefixes() -> tuple[str, ...]:
    """Return the prefix of a summary's detail sheets in every language: a summary is one whoever wrote it."""
    return tuple(dict.fromkeys(t.summary.prefix for t in all_templates()))


def _load(path: Path | io.BytesIO, limits: Limits | None = None) -> _Book:
    """Read the standard sheets (formulas and cached results in one pass), names and properties; never writes."""
    try:
        return xlsx.load(path, skip_prefix=_summary_prefixes(), limits=limits)
    except NianbaoError:
        raise
    except Exception as exc:
        # Whatever the parser meets (a missing part, a bad index): say what is wrong and what to do.
        raise UnreadableInputError("workbook-unreadable", kind=type(exc).__name__, detail=str(exc)) from exc


# ---------------------------------------------------------------------------------------------
# Reading


class _Reading:
    """One pass over a workbook: the record and the workbook findings."""

    def __init__(self, book: _Book, path: Path, sha256: str) -> None:
        """Read the record and collect workbook findings."""
        self.book = book
        self.findings: list[Finding] = []
        self.warnings: list[Warning_] = []
        # The texts of every language, the current one first: a workbook reads back whichever language wrote it.
        self.stds = [t.standard for t in all_templates()]
        self.std = self.stds[0]
        self.cover_sheet = next(
            (s.cover_sheet for s in self.stds if s.cover_sheet in book.sheets), self.std.cover_sheet
        )
        self.cover = book.sheets.get(self.cover_sheet)
        if self.cover is None:
            sheet = self.cover_sheet
            self._find("missing-sheet", WARNING, {"case": "cover", "sheet": sheet}, sheet=sheet)
        version = self._version()
        self.fmt: Format = load_format(version)
        self.positions: dict[str, tuple[str, Pos]] = {}
        self.reported_positions: dict[str, tuple[str, Pos]] = {}
        cells = self._cells()
        meta = self._meta()
        text = self._text()
        notes, extra, warnings = self._blocks()
        origin = {"path": meta.get("meta_source_path"), "sha256": meta.get("meta_source_sha256")}
        source: dict[str, Any] = {"path": str(path), "sha256": sha256, "kind": "workbook", "origin": origin}
        revision = self._revision(meta)
        if revision is not None:
            source["revision"] = revision
        # Its property says so; its detail sheets too, should a program drop the properties when saving it.
        if book.custom.get(CUSTOM_KIND) == SUMMARY or book.skipped:
            source[SUMMARY] = True
        self.record = Record(
            format=version,
            cells=cells,
            agency=_text_or_none(meta.get("meta_agency")),
            year=_year(meta.get("meta_year")),
            title=_text_or_none(meta.get("meta_title")),
            source=source,
            notes=notes,
            text=text,
            extra=extra,
            warnings=warnings + self.warnings,
        )

    # -- findings -------------------------------------------------------------------------------

    def _find(self, code: str, severity: str | None, fields: dict[str, Any], **kw: Any) -> None:
        severity = severity or usual_severity(code)
        self.findings.append(Finding(code, severity, fields, source="workbook", **kw))
        if code in ("missing-sheet", "bad-value", "missing-name"):
            self.warnings.append(Warning_(code, fields, f"{kw.get('sheet', '')}!{kw.get('cell', '')}".strip("!")))

    # -- metadata -------------------------------------------------------------------------------

    def _named(self, name: str) -> Any:
        hit = self.book.names.get(name)
        if hit and hit[0] in self.book.sheets:
            return self.book.sheets[hit[0]].values.get(hit[1])
        return _Missing

    def _cover_by_label(self, name: str) -> Any:
        """Return a cover field's value by its label in any language (when its defined name is gone)."""
        if self.cover is None:
            return None
        labels = {normalize(std.cover.label(name)) for std in self.stds}
        for (r, c), v in self.cover.values.items():
            if c == 0 and isinstance(v, str) and normalize(v) in labels:
                return self.cover.values.get((r, 1))
        return None

    def _meta(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in (f.name for f in self.std.cover.fields):
            value = self._named(name)
            out[name] = self._cover_by_label(name) if value is _Missing else value
        return out

    def _version(self) -> str:
        candidates = [
            self._named("meta_format"),
            self.book.custom.get("nianbao_format"),
            self._cover_by_label("meta_format"),
        ]
        for value in candidates:
            if value is _Missing or value is None:
                continue
            text = str(int(value)) if isinstance(value, int | float) else str(value).strip()
            if text in known_versions():
                return text
        raise NotAReportError("workbook-no-version")

    def _revision(self, meta: dict[str, Any]) -> Any:
        for raw in (self.book.custom.get(CUSTOM_REVISION), meta.get("meta_revision")):
            if isinstance(raw, str) and raw.strip():
                try:
                    return loads(raw)
                except ValueError:
                    continue
        return None

    def _blocks(self) -> tuple[dict[str, str], list[dict[str, Any]], list[Warning_]]:
        notes: dict[str, str] = {}
        extra: list[dict[str, Any]] = []
        warnings: list[Warning_] = []
        for row in self._block_rows("meta_notes", [s.cover.notes.heading for s in self.stds]):
            if row[0]:
                notes[row[0]] = row[2]
        for row in self._block_rows("meta_extra", [s.cover.extra.heading for s in self.stds]):
            try:
                item = loads(row[1])
            except ValueError:
                item = {"text": row[1]}
            extra.append(item if isinstance(item, dict) else {"value": item})
        for row in self._block_rows("meta_warnings", [s.cover.warnings.heading for s in self.stds]):
            warnings.append(Warning_.restore(row[0], row[1], row[2]))
        return notes, extra, warnings

    def _block_rows(self, name: str, headings: list[str]) -> list[list[str]]:
        if self.cover is None:
            return []
        start = None
        hit = self.book.names.get(name)
        if hit and hit[0] == self.cover_sheet:
            start = hit[1][0]
        else:
            for (r, c), v in sorted(self.cover.values.items()):
                if c == 0 and isinstance(v, str) and v.startswith(tuple(headings)):
                    start = r
                    break
        if start is None:
            return []
        rows: list[list[str]] = []
        r = start + 2  # below the heading and the column headers
        while True:
            items = [self.cover.values.get((r, c)) for c in range(3)]
            if all(v is None for v in items):
                return rows
            texts = ["" if v is None else str(v) for v in items]
            if items[0] is None and rows:
                # A text longer than a cell holds went on in this row (standard.py _cover_block): join it.
                rows[-1] = [before + more for before, more in zip(rows[-1], texts, strict=True)]
            else:
                rows.append(texts)
            r += 1

    # -- texts ----------------------------------------------------------------------------------

    def _text(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {k: [] for k in TEXT_KEYS}
        for section in self.fmt.sections:
            if section.kind != "text":
                continue
            sheet = self.book.sheets.get(section.sheet)
            if sheet is None:
                self._find("missing-sheet", None, {"case": "text", "sheet": section.sheet}, sheet=section.sheet)
                continue
            keys = ["preface", section.key] if section.key == "overview" else [section.key]
            starts: list[tuple[int, str]] = []
            for key in keys:
                if key == "preface":
                    headings = {normalize(s.text.preface_heading) for s in self.stds}
                else:
                    headings = {normalize(section_title(section))}
                hit = self.book.names.get(heading_name(key))
                if hit and hit[0] == section.sheet:
                    starts.append((hit[1][0], key))
                    continue
                for (r, c), v in sorted(sheet.values.items()):
                    if c == 0 and isinstance(v, str) and normalize(v) in headings:
                        starts.append((r, key))
                        break
            starts.sort()
            last = sheet.max_row()
            continued = {normalize(s.text.continued) for s in self.stds}
            for i, (row, key) in enumerate(starts):
                end = starts[i + 1][0] if i + 1 < len(starts) else last + 1
                joins = False  # the row above was a paragraph this row may go on with
                for r in range(row + 1, end):
                    v = sheet.values.get((r, 0))
                    if v is None:
                        joins = False
                        continue
                    text = v if isinstance(v, str) else _plain_text(v)
                    mark = sheet.values.get((r, 1))
                    if joins and isinstance(mark, str) and normalize(mark) in continued:
                        # A paragraph longer than a cell holds went on in this row (standard.py): join it.
                        out[key][-1] += text
                    else:
                        out[key].append(text)
                    joins = True
        return out

    # -- cells ----------------------------------------------------------------------------------

    def _cells(self) -> dict[str, Value]:
        cells: dict[str, Value] = {}
        self.values: dict[str, Value] = {}
        self.reported_values: dict[str, Value] = {}
        layouts = sheet_layouts(self.fmt)
        # The same layouts with the other languages' texts (a printed total's header): a label of any is no change.
        self.others = [sheet_layouts(self.fmt, lang) for lang in languages() if lang != language()]
        for lay in layouts.values():
            sheet = self.book.sheets.get(lay.section.sheet)
            if sheet is None:
                sheet_name = lay.section.sheet
                self._find("missing-sheet", None, {"case": "table", "sheet": sheet_name}, sheet=sheet_name)
                cells.update({k: None for k in lay.cells})
                continue
            self._locate(lay, sheet)
            for key, (_, pos) in self.positions.items():
                if key in lay.cells:
                    self.values[key] = self._value(lay, sheet, key, pos)
            for key, (_, pos) in self.reported_positions.items():
                if key in lay.reported:
                    self.reported_values[key] = cells[key] = self._value(lay, sheet, key, pos)
            for key in lay.cells:
                if key not in lay.reported:
                    cells[key] = self.values[key]
            self._check_formulas(lay, sheet)
            if not any(f.code == "table-shifted" and f.sheet == lay.section.sheet for f in self.findings):
                self._check_labels(lay, sheet)
        return {k: cells.get(k) for k in self.fmt.cell_keys}

    def _locate(self, lay: SheetLayout, sheet: _Sheet) -> None:
        """Find every value and reported cell: by defined name, else by row label and standard column."""
        name_of = {
            **{k: defined_name(k) for k in lay.cells},
            **{"reported:" + k: reported_name(k) for k in lay.reported},
        }
        standard = {**lay.cells, **{"reported:" + k: p for k, p in lay.reported.items()}}
        label_rows = self._label_rows(lay, sheet)
        moved: list[tuple[str, Pos]] = []
        for item, name in name_of.items():
            hit = self.book.names.get(name)
            std = standard[item]
            if hit and hit[0] == lay.section.sheet:
                pos = hit[1]
            else:
                row_id = lay.row_of.get(item)
                pos = (label_rows.get(row_id, std[0]), std[1]) if row_id else std
                self._find(
                    "missing-name",
                    None,
                    {"name": name},
                    key=item.removeprefix("reported:"),
                    sheet=lay.section.sheet,
                    cell=_cell(pos),
                )
            if pos != std:
                moved.append((item, pos))
            target = self.reported_positions if item.startswith("reported:") else self.positions
            target[item.removeprefix("reported:")] = (lay.section.sheet, pos)
        if moved:
            item, pos = moved[0]
            key = item.removeprefix("reported:")
            fields = {
                "sheet": lay.section.sheet,
                "count": len(moved),
                "key": key,
                "standard": _cell(standard[item]),
                "cell": _cell(pos),
            }
            self._find(
                "table-shifted",
                None,
                fields,
                key=key,
                sheet=lay.section.sheet,
                cell=_cell(pos),
            )

    def _label_rows(self, lay: SheetLayout, sheet: _Sheet) -> dict[str, int]:
        wanted = {
            core(text): row_id
            for one in (lay, *(other[lay.section.key] for other in self.others))
            for row_id, (text, _, _) in one.row_labels.items()
        }
        label_cols = {c for _, _, cols in lay.row_labels.values() for c in cols}
        first_data = min((r for _, r, _ in lay.row_labels.values()), default=0)
        found: dict[str, int] = {}
        for (r, c), v in sorted(sheet.values.items()):
            if c in label_cols and r >= first_data - 3 and isinstance(v, str):
                row_id = wanted.get(core(v))
                if row_id and row_id not in found:
                    found[row_id] = r
        return found

    def _value(self, lay: SheetLayout, sheet: _Sheet, key: str, pos: Pos) -> Value:
        """Return a cell's value as the record holds it: a number or blank; anything else is a bad-value error.

        A total's formula gives its cached result (its formula is checked by _check_formulas); an input cell holds
        no formula but the summary's own total over its detail sheets. What is flagged reads as blank: it never
        reaches the record, the store or a merge.
        """
        raw = sheet.values.get(pos)
        where = {"key": key, "sheet": lay.section.sheet, "cell": _cell(pos)}
        if pos in sheet.cached:  # a formula cell (text that merely starts with "=" has no cached result)
            if key not in self.fmt.formulas() and not _summary_total(raw):
                shown = str(raw)[:40]
                self._find("bad-value", None, {"case": "formula", "formula": shown}, actual=shown, **where)
                return None
            raw = sheet.cached.get(pos)
        if raw is None or (isinstance(raw, str) and not raw.strip() and pos not in sheet.kinds):
            return None
        number_format = sheet.formats.get(pos, "General")
        if sheet.kinds.get(pos) == "e":
            self._find("bad-value", None, {"case": "error", "value": str(raw)[:40]}, actual=str(raw), **where)
            return None
        if sheet.kinds.get(pos) == "d" or (isinstance(raw, int | float) and _is_date_format(number_format)):
            shown = _date_text(raw)
            self._find("bad-value", None, {"case": "date", "value": shown}, actual=shown, **where)
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            self._find("bad-value", None, {"case": "text", "text": str(raw)[:40]}, actual=str(raw), **where)
            return None
        limit = safety.DEFAULT_LIMITS.max_cell_value  # read at call time: --limit may have raised it
        if not math.isfinite(raw) or abs(raw) > limit:
            self._find("bad-value", None, {"case": "too-large", "value": raw, "limit": limit}, actual=raw, **where)
            return None
        kind = self.fmt.cell_type(key)
        value = _to_value(raw, kind, number_format)
        if kind != "signed" and value < 0:
            self._find("bad-value", None, {"case": "negative", "value": raw}, actual=raw, **where)
        elif kind != "money" and value != int(value):
            self._find("bad-value", None, {"case": "fraction", "value": raw}, actual=raw, **where)
        return value

    def computed(self, key: str) -> int | Decimal:
        """Return a computed cell's value recomputed from its parts (blanks as 0)."""
        formulas = self.fmt.formulas()
        return sum_values(self.computed(p) if p in formulas else self.values.get(p) for p in formulas[key])

    def _check_formulas(self, lay: SheetLayout, sheet: _Sheet) -> None:
        formulas = self.fmt.formulas()
        pos_key = {pos: k for k, (_, pos) in self.positions.items() if k in lay.cells}
        for key, parts in formulas.items():
            if key not in lay.cells:
                continue
            pos = self.positions[key][1]
            where = {"key": key, "sheet": lay.section.sheet, "cell": _cell(pos)}
            raw = sheet.values.get(pos)
            expected = self.computed(key)
            if not (isinstance(raw, str) and raw.startswith("=")):
                self._find(
                    "formula-overwritten",
                    None,
                    {"found": raw, "expected": expected},
                    expected=_plain(expected),
                    actual=raw,
                    **where,
                )
                continue
            covered = _sum_cells(raw, lay.section.sheet)
            want = {self.positions[p][1] for p in parts}
            stray = {p for p in covered or () if p not in want and (p in pos_key or sheet.values.get(p) is not None)}
            if covered is None or not want <= covered or stray:
                self._find(
                    "formula-changed",
                    None,
                    {"formula": raw, "cells": [_cell(p) for p in sorted(want, key=lambda x: (x[1], x[0]))]},
                    expected=len(want),
                    actual=raw,
                    **where,
                )
            stored = sheet.cached.get(pos)
            if (
                isinstance(stored, int | float)
                and not isinstance(stored, bool)
                and _to_value(stored, "money", "General") != expected
            ):
                self._find(
                    "stale-value",
                    None,
                    {"stored": stored, "expected": expected},
                    expected=_plain(expected),
                    actual=stored,
                    **where,
                )
        for key, (_, pos) in self.reported_positions.items():
            if key not in lay.reported:
                continue
            reported = self.reported_values.get(key)
            expected = self.computed(key)
            if reported is not None and reported != expected:
                self._find(
                    "reported-total",
                    None,
                    {"reported": reported, "expected": expected},
                    key=key,
                    sheet=lay.section.sheet,
                    cell=_cell(pos),
                    expected=_plain(expected),
                    actual=_plain(reported),
                )

    def _check_labels(self, lay: SheetLayout, sheet: _Sheet) -> None:
        # The layouts of every language place the same boxes in the same order.
        others = [other[lay.section.key].boxes for other in self.others]
        for i, box in enumerate(lay.boxes):
            if box.style in ("title", "note") or not box.text:
                continue
            pos = (box.row, box.col)
            found = sheet.values.get(pos)
            accepted = {normalize(box.text), *(normalize(boxes[i].text) for boxes in others)}
            if not isinstance(found, str) or normalize(found) not in accepted:
                self._find(
                    "label-changed",
                    None,
                    {"expected": box.text, "found": "" if found is None else found},
                    sheet=lay.section.sheet,
                    cell=_cell(pos),
                    expected=box.text,
                    actual=found,
                )


class _MissingType:
    pass


_Missing = _MissingType()

_REF = re.compile(r"^(?:(?:'((?:[^']|'')+)'|([^'!]+))!)?\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")


def _sum_cells(formula: str, sheet: str) -> set[Pos] | None:
    """Return the cells a plain =SUM(...) covers on this sheet; None for anything else."""
    m = re.fullmatch(r"=\s*SUM\((.*)\)\s*", formula.strip(), flags=re.IGNORECASE)
    if not m:
        return None
    out: set[Pos] = set()
    for arg in m.group(1).split(","):
        ref = _REF.match(arg.strip().upper() if "'" not in arg else arg.strip())
        if not ref:
            return None
        other = (ref.group(1) or "").replace("''", "'") or ref.group(2)
        if other and other != sheet:
            return None
        c1, r1 = xlsx.col_index(ref.group(3).upper()), int(ref.group(4)) - 1
        c2 = xlsx.col_index((ref.group(5) or ref.group(3)).upper())
        r2 = int(ref.group(6) or ref.group(4)) - 1
        out.update((r, c) for r in range(min(r1, r2), max(r1, r2) + 1) for c in range(min(c1, c2), max(c1, c2) + 1))
    return out


# The one formula an input cell may hold: a summary's total over a column of its detail sheets, as
# convert/outputs/summary.py writes it (=IF(COUNT(refs)=0,"",SUBTOTAL(9,refs))), however a spreadsheet respaces it.
_RANGE = r"'?{prefix}[^'!]*'?!\$?[A-Z]{{1,3}}\$?\d+(?::\$?[A-Z]{{1,3}}\$?\d+)?"


def _summary_total(formula: Any) -> bool:
    """Tell whether a formula is the summary's own total of detail-sheet ranges (no other function, no link)."""
    if not isinstance(formula, str):
        return False
    text = re.sub(r"\s+", "", formula).upper()
    prefixes = "|".join(re.escape(prefix.upper()) for prefix in _summary_prefixes())
    ranges = _RANGE.format(prefix=f"(?:{prefixes})")
    refs = rf"{ranges}(?:,{ranges})*"
    m = re.fullmatch(rf'=IF\(COUNT\(({refs})\)=0,"",SUBTOTAL\(9,({refs})\)\)', text)
    return m is not None and m.group(1) == m.group(2)


def _is_date_format(number_format: str) -> bool:
    """Tell whether a number format shows a date or a time (a count typed as a date reads 43831)."""
    from openpyxl.styles.numbers import is_date_format

    return bool(is_date_format(number_format))


def _date_text(raw: Any) -> str:
    """Show a date cell as the date it displays (an ISO date cell as its text)."""
    if isinstance(raw, int | float) and not isinstance(raw, bool) and 0 <= raw < 2_958_466:  # up to 9999-12-31
        from openpyxl.utils.datetime import from_excel

        shown = from_excel(raw)
        return shown.isoformat(sep=" ").removesuffix(" 00:00:00") if shown is not None else str(raw)
    return str(raw)[:40]


def _decimals(number_format: str) -> int:
    m = re.search(r"\.([0#]+)", number_format)
    return len(m.group(1)) if m else 0


def _to_value(raw: int | float, kind: str, number_format: str) -> int | Decimal:
    """Return a stored number as the record's value: int for whole counts, exact Decimal for money."""
    if isinstance(raw, float) and raw.is_integer() and abs(raw) < 2**53:
        raw = int(raw)
    if kind != "money":
        return raw if isinstance(raw, int) else Decimal(repr(raw))
    value = Decimal(raw) if isinstance(raw, int) else Decimal(repr(raw))
    places = _decimals(number_format)
    if value.as_tuple().exponent > -places:  # type: ignore[operator]
        # The number format keeps how many decimals the report printed; padding never rounds.
        value = value.quantize(Decimal(1).scaleb(-places))
    return value


def _text_or_none(value: Any) -> str | None:
    if value is None or value is _Missing:
        return None
    text = value if isinstance(value, str) else _plain_text(value)
    return text if text != "" else None


def _plain_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _year(value: Any) -> int | None:
    if value is None or value is _Missing or isinstance(value, bool):
        return None
    try:
        return int(str(value).strip().removesuffix("年").split(".")[0])
    except ValueError:
        return None


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == int(value) else float(value)
    return value


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read(path: str | Path, data: bytes | None = None, limits: Limits | None = None) -> _Reading:
    path = Path(path)
    if data is None:
        safety.inspect_workbook(path, limits)
        sha = _sha256(path)
        return _Reading(_load(path, limits), path, sha)
    # The caller read and vetted these bytes (the workbook input kind): no second pass over the file.
    return _Reading(_load(io.BytesIO(data), limits), path, hashlib.sha256(data).hexdigest())


def is_summary(record: Record) -> bool:
    """Tell whether a record was read from a summary workbook (the totals of many reports, never one report)."""
    return bool(record.source.get(SUMMARY))


def read_workbook(path: str | Path, *, data: bytes | None = None, limits: Limits | None = None) -> Record:
    """Read a standard workbook back into the record it was written from (reported totals as printed).

    data: the file's bytes when the caller already read and vetted them (convert.inputs.workbook); limits: those
    they were vetted with (default: safety.DEFAULT_LIMITS).
    """
    return _read(path, data, limits).record


def check_workbook(path: str | Path, *, data: bytes | None = None) -> tuple[Record | None, list[Finding]]:
    """Return the record and every finding: workbook integrity first, then the rules on the record."""
    try:
        reading = _read(path, data)
    except NotAReportError as exc:
        return None, [Finding("not-a-workbook", ERROR, {"error": str(exc)}, source="workbook")]
    record = reading.record
    fmt = reading.fmt
    first_left = {eq.where: eq.left[0] for eq in fmt.equations()}
    places = {**reading.positions, **reading.reported_positions}
    findings = list(reading.findings)
    for finding in check_rules(record, fmt):
        key = finding.key if finding.key in places else first_left.get(finding.key, "")
        if key in places and not finding.sheet:
            finding.sheet, pos = places[key]
            finding.cell = _cell(pos)
        findings.append(finding)
    return record, findings


__all__ = ["check_workbook", "is_summary", "read_workbook"]
