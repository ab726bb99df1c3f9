"""Web pages: HTML (Word-exported markup included) into lines of cells, with the site's metadata kept apart.

Tables are placed on their grid (colspan, rowspan). Word cuts every real column of a table into narrow grid
columns when its rows' cell edges differ a little, so cells cannot be counted: the cells of a table's header rows
define its real columns, and every cell goes to the header column it overlaps most (by the widths the markup
gives, else by grid columns). A row then has one cell per real column however Word cut the grid.

The metadata table a government site puts before a report (索引号, 发布机构, 标题, 发布日期 …) is no part of the
report: it is returned as the page's metadata, never as lines. Grids are bounded, so spans cannot blow them up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from convert.errors import UnsafeInputError
from convert.inputs.base import Line
from convert.parse.values import parse

# A report's table is a few dozen rows of at most ~100 grid columns, Word's narrow columns included.
MAX_GRID_COLUMNS = 1000
MAX_GRID_CELLS = 200_000  # grid positions (rows × columns) of all a page's tables together
MAX_COLSPAN = 1000  # HTML's own caps
MAX_ROWSPAN = 65534

# Elements that start a line of their own; everything else flows inline.
_BLOCKS = frozenset(
    "address article aside blockquote body caption center dd div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section tbody td tfoot th thead tr ul".split()
)
# Elements whose text is never shown (Word's <xml> islands are in conditional comments, but not always).
_HIDDEN = frozenset({"script", "style", "head", "title", "noscript", "template", "xml"})
_BR = "\u2028"  # a <br> (or a block's edge inside a cell) while text is collected; never left in a line

_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
# A line break between two Chinese characters in the source is no space (Word wraps long lines anywhere).
_CJK_BREAK = re.compile(rf"(?<=[{_CJK}])[ \t\r\f]*\n[ \t\r\n\f]*(?=[{_CJK}])")
_SPACES = re.compile(r"[ \t\r\n\f]+")

# Labels of the metadata table government sites put above a report. Strong labels never start a report's line.
_STRONG_META = (
    "索引号",
    "发布机构",
    "发文机关",
    "发文机构",
    "发布单位",
    "信息来源",
    "发布日期",
    "发布时间",
    "成文日期",
    "生成日期",
    "公开日期",
    "主题分类",
    "信息分类",
    "体裁分类",
    "组配分类",
    "服务对象分类",
    "发文字号",
    "文号",
    "主题词",
    "公开方式",
    "公开范围",
    "公开形式",
    "公开时限",
    "有效性",
    "生效日期",
    "废止日期",
    "所属机构",
    "内容分类",
    "统一编号",
    "发文日期",
    "成文时间",
    "印发日期",
    "发文单位",
)
_META_LABELS = (*_STRONG_META, "标题", "名称", "来源", "关键词", "浏览次数", "访问次数", "点击数", "字号", "时效")


def _spaced(words: tuple[str, ...]) -> str:
    """An alternation of labels that sites print with spaces inside (索 引 号, 标　　题), longest first."""
    return "|".join(r"\s*".join(map(re.escape, w)) for w in sorted(words, key=len, reverse=True))


_META_CELL = re.compile(rf"^({_spaced(_META_LABELS)})(?:\s*[:：](.*))?$", re.DOTALL)
_META_LINE_START = re.compile(rf"^(?:{_spaced((*_STRONG_META, '标题'))})\s*[:：]")
_META_IN_LINE = re.compile(rf"({_spaced(_META_LABELS)})\s*[:：]")


@dataclass
class Page:
    """What a web page holds for the reader: its lines of cells, and the site's metadata (label → value)."""

    lines: list[Line]
    meta: dict[str, str] = field(default_factory=dict)


def read_page(text: str) -> Page:
    """Parse an HTML page into lines of cells (a table row is one line) and the site's metadata."""
    import lxml.etree

    # libxml2 refuses a str that declares its encoding (XHTML's <?xml … encoding=…?>): it is decoded already.
    text = _XML_DECLARATION.sub("", text, count=1)
    try:
        root = lxml.etree.fromstring(text, lxml.etree.HTMLParser())
    except (ValueError, lxml.etree.ParserError):
        root = None
    if root is None:
        from convert.inputs.text import strip_markup

        return Page([Line(i, [strip_markup(t).strip()]) for i, t in enumerate(text.split("\n"), start=1)])
    return _Walker(root).page()


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


# ---------------------------------------------------------------- text


def _collapse(text: str) -> str:
    """Collapse whitespace as a browser shows it; a break between Chinese characters is nothing."""
    return _SPACES.sub(" ", _CJK_BREAK.sub("", text))


def _inline(el: Any, buf: list[str]) -> None:
    """Append an inline element's shown text (with _BR for <br> and for blocks inside it) to buf."""
    tag = el.tag
    if not isinstance(tag, str) or tag in _HIDDEN:
        return  # a comment's text (Word's <!--[if …]--> blocks) is never shown
    if tag == "br":
        buf.append(_BR)
        return
    block = tag in _BLOCKS
    if block:
        buf.append(_BR)
    if el.text:
        buf.append(el.text)
    for child in el:
        _inline(child, buf)
        if child.tail:
            buf.append(child.tail)
    if block:
        buf.append(_BR)


_PLAIN_NEEDS_WORK = re.compile(r"[\s\u00a0\u200b\[*_~#]")


def cell_text(el: Any, plain: bool = False) -> str:
    """A table cell's words: spans joined, <br> and paragraphs joined (a label broken over lines is one word).

    plain: the caller knows the cell holds no hidden element (script, style), so all its text is shown.
    """
    from convert.inputs.text import strip_markup

    if not len(el):
        raw = el.text or ""
        if not _PLAIN_NEEDS_WORK.search(raw):
            return raw  # most cells: a number or a word, nothing to collapse or strip
    elif plain or next(el.iterdescendants(*_HIDDEN), None) is None:
        raw = "".join(el.itertext())  # comments' text is left out; <br> and <p> edges join with nothing
    else:
        buf: list[str] = [el.text or ""]
        for child in el:
            _inline(child, buf)
            buf.append(child.tail or "")
        raw = "".join(buf).replace(_BR, "")
    return _SPACES.sub(" ", strip_markup(_collapse(raw))).strip()


def _has_block(el: Any) -> bool:
    """Tell whether an inline element holds a block or a table (a <table> inside a <span>): it is walked."""
    return next(el.iterdescendants(*_BLOCKS, "table"), None) is not None


# ---------------------------------------------------------------- the walk


class _Walker:
    """Walk a parsed page in document order, emitting lines; tables become rows of cells aligned to columns."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.lines: list[Line] = []
        self.meta: dict[str, str] = {}
        self.budget = MAX_GRID_CELLS

    def page(self) -> Page:
        body = self.root.find("body")
        self.walk(body if body is not None else self.root)
        self._head_metadata()
        return Page(self.lines, self.meta)

    def emit(self, cells: list[str], is_row: bool = False) -> None:
        self.lines.append(Line(len(self.lines) + 1, cells, is_row=is_row))

    def flush(self, buf: list[str], blank: bool) -> None:
        """Emit collected inline text as lines (one per <br>); a whitespace-only run is nothing unless blank."""
        from convert.inputs.text import strip_markup

        text = _collapse("".join(buf))
        buf.clear()
        if not text.strip(" " + _BR) and not blank:
            return
        for part in text.split(_BR):
            self.emit([strip_markup(part).strip()])

    def walk(self, el: Any) -> None:
        tag = el.tag
        if not isinstance(tag, str) or tag in _HIDDEN:
            return
        if tag == "table" and next(el.iterdescendants("table"), None) is None:
            self.table(el)
            return
        if tag == "pre":
            for part in "".join(_pre_text(el)).split("\n"):
                self.emit([part.strip()])
            return
        buf: list[str] = []
        if el.text:
            buf.append(el.text)
        for child in el:
            ctag = child.tag
            if isinstance(ctag, str) and (ctag in _BLOCKS or ctag == "table" or _has_block(child)):
                self.flush(buf, False)
                self.walk(child)
            else:
                _inline(child, buf)
            if child.tail:
                buf.append(child.tail)
        # A paragraph of its own (no blocks inside) is a line even when empty, as a blank line between paragraphs.
        self.flush(buf, tag in _BLOCKS and not _has_block(el))

    def table(self, el: Any) -> None:
        rows = [[td for td in tr if td.tag in ("td", "th")] for tr in el.iter("tr")]
        plain = next(el.iterdescendants(*_HIDDEN), None) is None
        meta = None
        if len(rows) <= 40 and sum(len(tds) for tds in rows) <= 200:
            meta = _metadata_table([[cell_text(td, plain) for td in tds] for tds in rows])
        if meta is not None:
            for label, value in meta.items():
                self.meta.setdefault(label, value)
            return
        caption = el.find("caption")
        if caption is not None and cell_text(caption):
            self.emit([cell_text(caption)])
        grid = _Grid(rows, plain, self.budget)
        self.budget -= grid.size
        for cells in grid.lines():
            self.emit(cells, True)
        self.emit([""])

    def _head_metadata(self) -> None:
        """Take the site's label lines (发布机构：… 发布日期：…) before the first table out of the report's lines."""
        first_row = next((i for i, line in enumerate(self.lines) if line.is_row), len(self.lines))
        keep: list[Line] = []
        for i, line in enumerate(self.lines):
            text = line.text
            if i < first_row and not line.is_row and _META_LINE_START.match(text):
                marks = list(_META_IN_LINE.finditer(text))
                for k, m in enumerate(marks):
                    end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
                    self.meta.setdefault(_label(m.group(1)), text[m.end() : end].strip())
                continue
            keep.append(line)
        self.lines = keep


def _label(raw: str) -> str:
    """A metadata label without the spaces sites put inside it."""
    return re.sub(r"\s+", "", raw)


def _pre_text(el: Any) -> list[str]:
    out = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str) and child.tag not in _HIDDEN:
            out += ["\n"] if child.tag == "br" else _pre_text(child)
        out.append(child.tail or "")
    return out


def _metadata_table(rows: list[list[str]]) -> dict[str, str] | None:
    """The label → value pairs of a site's metadata table, or None when the table is not one."""
    meta: dict[str, str] = {}
    labels = 0
    for cells in rows:
        k = 0
        while k < len(cells):
            m = _META_CELL.match(cells[k].strip())
            if not m:
                k += 1
                continue
            labels += 1
            value = (m.group(2) or "").strip()
            if not value and k + 1 < len(cells) and not _META_CELL.match(cells[k + 1].strip()):
                value = cells[k + 1].strip()
                k += 1
            meta.setdefault(_label(m.group(1)), value)
            k += 1
    # Two labels at least, one of them a strong one (a report's table never has 索引号 or 发布机构 cells).
    return meta if labels >= 2 and any(label in _STRONG_META for label in meta) else None


# ---------------------------------------------------------------- the grid


class _Cell:
    """One <td>: its words, whether they are a value, and the width the markup gives it (px), if any."""

    __slots__ = ("text", "value", "width")

    def __init__(self, text: str, width: float | None) -> None:
        self.text = text
        self.width = width
        # A number or a placeholder (—, 无); a blank cell is none.
        parsed = parse(text) if text else None
        self.value = parsed is not None and parsed.is_value and (parsed.value is not None or bool(parsed.warnings))


@dataclass
class _Slot:
    """Where a cell sits in one row of the grid: columns [c0, c1); own=False for a rowspan from a row above."""

    c0: int
    c1: int
    cell: _Cell
    own: bool


class _Grid:
    """A table placed on its grid (bounded), then read as rows of cells aligned to its header's columns."""

    def __init__(self, rows: list[list[Any]], plain: bool, budget: int) -> None:
        self.rows: list[list[_Slot]] = []
        self.width = 0
        self.size = 0
        active: list[tuple[int, int, int, _Cell]] = []  # rowspans alive: (c0, c1, last row, cell)
        n = len(rows)
        for r, tds in enumerate(rows):
            if active:
                active = [a for a in active if a[2] >= r]
            covered = sorted(active, key=lambda a: a[0])
            slots = [_Slot(c0, c1, cell, False) for c0, c1, _, cell in covered]
            col, k = 0, 0
            for td in tds:
                while k < len(covered) and covered[k][0] <= col:
                    col = max(col, covered[k][1])
                    k += 1
                span = _span(td.get("colspan"), MAX_COLSPAN)
                down = _span(td.get("rowspan"), MAX_ROWSPAN, zero=n - r)
                end = col + span
                if end > MAX_GRID_COLUMNS:
                    raise UnsafeInputError("html-table-too-wide", columns=MAX_GRID_COLUMNS)
                cell = _Cell(cell_text(td, plain), _width(td))
                slots.append(_Slot(col, end, cell, True))
                if down > 1:
                    active.append((col, end, min(n - 1, r + down - 1), cell))
                col = end
            slots.sort(key=lambda s: s.c0)
            extent = max((s.c1 for s in slots), default=0)
            self.width = max(self.width, extent)
            self.size += max(1, extent)
            if self.size > budget:
                raise UnsafeInputError("html-table-too-many-cells", cells=f"{MAX_GRID_CELLS:,}")
            self.rows.append(slots)

    # -- column widths --------------------------------------------------------------------------------------
    def _weights(self) -> tuple[list[float], int | None]:
        """Each grid column's width (px) and Word's sizing row, if the table has one; 1 a column if unknown."""
        w = self.width
        for r in range(len(self.rows) - 1, -1, -1):
            slots = self.rows[r]
            if (
                len(slots) == w
                and all(s.own and s.c1 - s.c0 == 1 and not s.cell.text and s.cell.width for s in slots)
                and [s.c0 for s in slots] == list(range(w))
            ):
                # Word writes a last row <tr height=0> of empty cells, one per grid column, with its width.
                return [max(0.5, float(s.cell.width or 0)) for s in slots], r
        known: list[float | None] = [None] * w
        spans = [(s.c0, s.c1, s.cell.width) for row in self.rows for s in row if s.own and s.cell.width]
        for c0, c1, width in spans:
            if c1 - c0 == 1 and known[c0] is None:
                known[c0] = width
        for _ in range(3):
            changed = False
            for c0, c1, width in spans:
                unknown = [x for x in range(c0, c1) if known[x] is None]
                if len(unknown) == 1:
                    rest = sum(known[x] or 0.0 for x in range(c0, c1) if x != unknown[0])
                    known[unknown[0]] = max(0.5, (width or 0.0) - rest)
                    changed = True
            if not changed:
                break
        seen = [k for k in known if k is not None]
        if len(seen) < w // 2:
            return [1.0] * w, None  # too little to go on: count grid columns
        fill = sum(seen) / len(seen)
        return [k if k is not None else fill for k in known], None

    # -- rows of cells -----------------------------------------------------------------------------------------
    def lines(self) -> list[list[str]]:
        """The table's rows as lines of cells, one cell per real column (several where a row splits a column)."""
        weights, sizing = self._weights()
        self.edge = [0.0]
        for wt in weights:
            self.edge.append(self.edge[-1] + wt)
        grid = self._columns([(x, x + 1) for x in range(self.width)])
        rows: list[tuple[list[_Slot], _Columns]] = []
        columns: _Columns | None = None
        pending: list[int] = []  # header rows waiting for the rows they head
        value_from: int | None = None  # the first grid column a value was seen in

        def flush() -> None:
            nonlocal columns
            if pending:
                columns = self._columns(self._leaves(pending))
                rows.extend((self.rows[p], columns) for p in pending)
                pending.clear()

        for r, slots in enumerate(self.rows):
            if r == sizing:
                continue
            values = [s for s in slots if s.own and s.cell.value]
            if values:
                flush()
                start = min(s.c0 for s in values)
                value_from = start if value_from is None else min(value_from, start)
                rows.append((slots, columns or grid))  # no header: the grid's own columns
                columns = columns or grid
            elif columns is None or pending or self._heads(slots, value_from):
                pending.append(r)
            else:
                # A row of labels and blank cells: a data row with nothing filled in, not a new header.
                rows.append((slots, columns))
        flush()
        aligned = [(self._align(slots, cols), cols) for slots, cols in rows]
        _tally(aligned)
        # A table whose every value sits exactly in its header's column (no narrow columns to undo) is read on its
        # grid, one cell per grid column, the empty cells of merged labels included, as it always was.
        ordinary = [c for c in {id(c): c for _, c in aligned}.values() if c is not grid and c.exact]
        if ordinary:
            aligned = [
                (self._align(slots, grid), grid) if cols in ordinary else (b, cols)
                for (slots, cols), (b, _) in zip(rows, aligned, strict=True)
            ]
            grid.reset()
            _tally(aligned)
        out: list[list[str]] = []
        for buckets, cols in aligned:
            cells: list[str] = []
            for i, bucket in enumerate(buckets):
                cells.extend(s.cell.text if s.own else "" for s in bucket)
                # Where rows split a label column differently (三、本年度办理结果 | （三）不予公开 | 1.属于国家秘密
                # beside one label over all three), the shorter ones are padded: the numbers start at one cell.
                last = i == len(buckets) - 1
                target = 1 if cols.holds_values[i] or last else max(1, cols.most[i])
                cells.extend([""] * (target - len(bucket)))
            out.append(cells)
        return out

    def _weight(self, c0: int, c1: int) -> float:
        return self.edge[min(c1, self.width)] - self.edge[min(c0, self.width)]

    def _heads(self, slots: list[_Slot], value_from: int | None) -> bool:
        """Tell whether a row without values is a header: a word of it stands mostly over the value columns."""
        if value_from is None:
            return True
        for s in slots:
            if s.own and s.cell.text and self._weight(max(s.c0, value_from), s.c1) * 2 > self._weight(s.c0, s.c1):
                return True
        return False

    def _leaves(self, header: list[int]) -> list[tuple[int, int]]:
        """The real columns: per grid column, the lowest header cell over it; a run of one cell is one column."""
        owner: list[_Cell | None] = [None] * self.width
        for r in header:
            for s in self.rows[r]:
                for x in range(s.c0, min(s.c1, self.width)):
                    owner[x] = s.cell
        leaves: list[tuple[int, int]] = []
        start = 0
        for x in range(1, self.width + 1):
            if x == self.width or owner[x] is None or owner[x] is not owner[start]:
                leaves.append((start, x))
                start = x
        return leaves

    def _columns(self, leaves: list[tuple[int, int]]) -> _Columns:
        at = [0] * self.width
        for i, (a, b) in enumerate(leaves):
            for x in range(a, b):
                at[x] = i
        return _Columns(leaves, at, [self._weight(a, b) for a, b in leaves])

    def _align(self, slots: list[_Slot], columns: _Columns) -> list[list[_Slot]]:
        """A row's cells per column: each in the column it overlaps most (a spanning one in its first)."""
        leaves, at = columns.leaves, columns.at
        if not leaves:
            return []
        buckets: list[list[_Slot]] = [[] for _ in leaves]
        for s in slots:
            if s.c0 >= self.width:
                continue
            first, last = at[s.c0], at[min(s.c1, self.width) - 1]
            if first == last:
                buckets[first].append(s)
                continue
            # Columns the cell covers whole: every one between its first and last, and those two if it starts
            # (ends) with them.
            first_whole = s.c0 <= leaves[first][0]
            whole = last - first - 1 + first_whole + (s.c1 >= leaves[last][1])
            if whole >= 2:
                # A cell over several columns (申请人情况) stands in the first, as a merged cell does.
                buckets[first if first_whole else first + 1].append(s)
                continue
            overlaps = [
                (self._weight(max(s.c0, leaves[i][0]), min(s.c1, leaves[i][1])), -i) for i in range(first, last + 1)
            ]
            buckets[-max(overlaps)[1]].append(s)
        # Two cells in one column beside an empty one it also touches: the second belongs there (narrow grids).
        for i, bucket in enumerate(buckets):
            if len(bucket) < 2:
                continue
            if i + 1 < len(buckets) and not buckets[i + 1] and bucket[-1].c1 > leaves[i + 1][0]:
                buckets[i + 1].append(bucket.pop())
            elif i > 0 and not buckets[i - 1] and bucket[0].c0 < leaves[i - 1][1]:
                buckets[i - 1].append(bucket.pop(0))
        # As far as the row reaches (a merged cell at its end leaves empty columns, as Word copies show them).
        reach = min(self.width, max((s.c1 for s in slots), default=0))
        used = max([at[reach - 1] if reach else -1, *(i for i, b in enumerate(buckets) if b)])
        return buckets[: used + 1]


@dataclass(eq=False)
class _Columns:
    """A table's real columns: their grid ranges, the column of each grid column, their widths."""

    leaves: list[tuple[int, int]]
    at: list[int]
    weights: list[float]
    # Per column, the most cells a row puts in it, and whether any row puts a value in it (a label column if not).
    most: list[int] = field(default_factory=list)
    holds_values: list[bool] = field(default_factory=list)
    exact: bool = True  # every value a row puts in a column spans exactly that column

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget what the rows put in each column."""
        self.most = [0] * len(self.leaves)
        self.holds_values = [False] * len(self.leaves)
        self.exact = True


def _tally(aligned: list[tuple[list[list[_Slot]], _Columns]]) -> None:
    """Note per column the most cells a row puts in it, whether any row puts a value in it, and whether exactly."""
    for buckets, cols in aligned:
        for i, bucket in enumerate(buckets):
            cols.most[i] = max(cols.most[i], len(bucket))
            for s in bucket:
                if s.own and s.cell.value:
                    cols.holds_values[i] = True
                    if (s.c0, s.c1) != cols.leaves[i]:
                        cols.exact = False


_DIGITS = re.compile(r"\s*(\d+)")


def _span(raw: str | None, cap: int, zero: int = 1) -> int:
    """A colspan/rowspan as HTML reads it: digits at the start, 1 when absent or bad, 0 (rowspan) to the end."""
    if raw is None:
        return 1
    m = _DIGITS.match(raw)
    if not m:
        return 1
    n = int(m.group(1)[:9])
    if n == 0:
        return max(1, zero)
    return min(n, cap)


_LENGTH = re.compile(r"(?:^|;)\s*width\s*:\s*([\d.]+)\s*(pt|px|cm|mm|in)?", re.IGNORECASE)
_PLAIN_LENGTH = re.compile(r"\s*([\d.]+)\s*(?:px)?\s*$")
_PX = {"pt": 4 / 3, "px": 1.0, "cm": 96 / 2.54, "mm": 96 / 25.4, "in": 96.0, None: 1.0}


def _width(td: Any) -> float | None:
    """The width a cell's markup gives (width attribute or style), in px; None when it gives none or a %."""
    raw = td.get("width")
    if raw:
        m = _PLAIN_LENGTH.match(raw)
        if m:
            try:
                return float(m.group(1))
            except ValueError:
                return None
    style = td.get("style") or ""
    m = _LENGTH.search(style)
    if m:
        try:
            return float(m.group(1)) * _PX[m.group(2).lower() if m.group(2) else None]
        except ValueError:
            return None
    return None
