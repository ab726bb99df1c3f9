"""整改通知: for each report that is not 通过, a short Word document telling its township what to correct.

The problems of a report are put in words here (the printed cell, what the report says, what the rules
make it, what to correct), for the notices and for the summary's checks sheet alike. `write_notices`
checks reports (or reads a summary workbook's checks sheet) and writes one .docx per report that is not
通过 and an overview workbook; the documents themselves are laid out by convert/outputs/notice.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from convert.checks.catalogue import needs_review, text
from convert.checks.positions import row_labels
from convert.checks.rules import ERROR, Finding
from convert.checks.verdict import PASS, Verdict, judge
from convert.errors import FormatDataError, UsageError
from convert.formats import Format, Table, load_format
from convert.merge_model import ERROR as TO_CORRECT
from convert.merge_model import NOTE, REVIEW, MergeRow, Problem
from convert.record import Record

# ---------------------------------------------------------------------------------------------
# Positions as a notice prints them


def printed_cell(key: str, fmt: Format | str) -> str:
    """Return 表三「一、本年新收…」行「自然人」列 for a cell key; a row, a column (t.*.c) or a table alike.

    Anything that is no key of the format (a reader's `line 12`) is returned as it is.
    """
    fmt = load_format(fmt) if isinstance(fmt, str) else fmt
    table_key, _, rest = key.partition(".")
    table = fmt.tables.get(table_key)
    section = next((s for s in fmt.sections if s.key == table_key), None)
    if table is None or section is None:
        return key
    row_key, _, column_key = rest.partition(".")
    row = column = None
    if row_key and row_key != "*":
        row = _row_words(table, row_key)
        if row is None:
            return key
    if column_key and column_key != "*":
        try:
            column = table.column(column_key).label
        except KeyError:
            return key
    number = section.number
    if row is not None and column is not None:
        return text("where-cell", number=number, row=row, column=column)
    if row is not None:
        return text("where-row", number=number, row=row)
    if column is not None:
        return text("where-column", number=number, column=column)
    return text("where-table", number=number)


def _row_words(table: Table, row_key: str) -> str | None:
    words = row_labels(table, row_key)
    return None if words is None else text("where-group-separator").join(words)


# ---------------------------------------------------------------------------------------------
# A report's problems in words

# Findings of a workbook read back whose fix is to restore what the standard workbook had.
_WORKBOOK_CODES = frozenset(
    {
        "formula-overwritten",
        "formula-changed",
        "stale-value",
        "reported-total",
        "bad-value",
        "missing-sheet",
        "label-changed",
        "table-shifted",
        "missing-name",
    }
)
SAME_REPORT_DIFFERS = "same-report-differs"
SAME_REPORT = "same-report"
DROPPED = "dropped-duplicate"
REFUSED = "refused"


def problems_of(
    record: Record | None, findings: Iterable[Finding], fmt: Format | None = None, *, each: bool = True
) -> tuple[list[Problem], Verdict]:
    """Return a report's problems (errors, then what leaves it 待核, then notes) and its verdict.

    each=False gives the summary's short list: every error, the verdict's reasons for 待核 (a rule's blank
    cells counted, not named), and one note per warning code.
    """
    findings = list(findings)
    fmt = fmt or (load_format(record.format) if record is not None else None)
    verdict = judge(record, findings, fmt)
    errors = [_error(f, fmt) for f in findings if f.severity == ERROR]
    if not each:
        return errors + _joined(REVIEW, [(r.code, "", r.message) for r in verdict.reasons], fmt) + _joined(
            NOTE,
            [(f.code, _where(f, fmt), f.message) for f in findings if f.severity != ERROR and not _unsure(f)],
            fmt,
        ), verdict
    reviews: list[Problem] = []
    # The blanks a rule needs are named one rule instance at a time (`missing`); a rule whose cells are
    # all blank has no such finding, so the verdict's own reason says it.
    covered = {f.fields.get("rule") for f in findings if f.code == "missing"}
    for reason in verdict.reasons:
        if reason.code == "verdict-unchecked" and reason.fields.get("rule") in covered:
            continue
        if reason.code == "verdict-doubt":
            continue  # each doubtful number is its own problem below
        reviews.append(Problem(REVIEW, reason.code, "", reason.message))
    notes_: list[Problem] = []
    for f in findings:
        if f.severity == ERROR:
            continue
        where = _where(f, fmt)
        if f.code == "missing" or _review(f.code):
            reviews.append(Problem(REVIEW, f.code, where, f.message))
        else:
            notes_.append(Problem(NOTE, f.code, where, f.message))
    return errors + reviews + notes_, verdict


def _joined(kind: str, items: list[tuple[str, str, str]], fmt: Format | None) -> list[Problem]:
    """Return one problem saying all of these (code, where, message): a message said on several places once."""
    if not items:
        return []
    places: dict[tuple[str, str], list[str]] = {}
    for code, where, message in items:
        places.setdefault((code, message), []).append(where)
    parts = []
    for (_, message), wheres in places.items():
        said = text("problem-at", where=wheres[0], message=message) if wheres[0] else message
        parts.append(said if len(wheres) == 1 else text("problem-more", message=said, count=len(wheres)))
    codes = list(dict.fromkeys(code for code, _, _ in items))
    separator = text("problem-separator")
    return [Problem(kind, separator.join(codes), "", separator.join(parts))]


def _unsure(f: Finding) -> bool:
    return f.code == "missing" or _review(f.code)


def _review(code: str) -> bool:
    try:
        return needs_review(code)
    except FormatDataError:
        return True  # a code read back from a file that this version does not know: unsure


def _where(f: Finding, fmt: Format | None) -> str:
    if f.sheet and f.cell and not f.key:
        return f"{f.sheet}!{f.cell}"
    if not f.key or fmt is None:
        return f.key
    return printed_cell(f.key, fmt)


def _error(f: Finding, fmt: Format | None) -> Problem:
    where = _where(f, fmt)
    fields = f.fields
    if fmt is not None and f.code in {r.id for r in fmt.rules} and {"rule", "left", "right"} <= set(fields):
        if f.key.count(".") == 2 and "*" not in f.key:
            message = text("problem-rule-cell", actual=fields["left"], rule=fields["rule"], expected=fields["right"])
            return Problem(TO_CORRECT, f.code, where, message, fields["left"], fields["right"])
        message = text("problem-rule-sides", rule=fields["rule"], left=fields["left"], right=fields["right"])
        return Problem(TO_CORRECT, f.code, where, message)
    if fmt is not None and f.code in {c.id for c in fmt.continuity}:
        message = text("problem-carry-over", now=fields["now"], before=fields["before"], last_name=fields["last_name"])
        return Problem(TO_CORRECT, f.code, where, message, fields["now"], fields["before"])
    return Problem(TO_CORRECT, f.code, where, f.message, _plain(f.actual), _plain(f.expected))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value if isinstance(value, int | float | str) or value is None else str(value)


def fix_for(problem: Problem) -> str:
    """Return what to correct for a problem (empty for a note), in the current language."""
    code = problem.code
    if problem.kind == NOTE:
        return ""
    if code == SAME_REPORT_DIFFERS:
        return text("fix-same-report")
    if code == REFUSED or code == "verdict-no-record":
        return text("fix-resubmit")
    if problem.kind == REVIEW:
        if code in ("missing", "verdict-unchecked"):
            return text("fix-blank")
        if code == "verdict-blank-table":
            return text("fix-table")
        return text("fix-doubt")
    if "continuity" in code or code.startswith("carry-over"):
        return text("fix-carry-over")
    if code == "non-negative":
        return text("fix-value")
    if code in _WORKBOOK_CODES:
        return text("fix-workbook")
    if problem.actual is not None or problem.where:
        return text("fix-rule")
    return text("fix-other")


# ---------------------------------------------------------------------------------------------
# The notices


@dataclass
class NoticeResult:
    """What `write_notices` wrote: a notice per report that is not 通过, and the overview."""

    folder: Path
    overview: Path
    written: list[tuple[MergeRow, Path]] = field(default_factory=list)
    passed: list[MergeRow] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    @property
    def reports(self) -> int:
        """Return how many reports were looked at."""
        return len(self.written) + len(self.passed)

    @property
    def exit_code(self) -> int:
        """Return 0 when every report is 通过 (no notice needed), else 1, as `check` does."""
        return 1 if self.written or self.refused else 0


def write_notices(
    paths: Sequence[str | Path],
    out: str | Path,
    *,
    previous: Any = None,
    latest: bool = False,
    issuer: str | None = None,
    due: str | None = None,
    today: date | None = None,
    force: bool = False,
    jobs: int | None = None,
    debug: bool = False,
) -> NoticeResult:
    """Check reports (or read a summary workbook's checks sheet) and write a 整改通知 for each that is not 通过.

    previous: last year's reports (paths, or convert.commands.read_previous's result) for the carry-over.
    The same report in two files is one notice naming both; two that differ are the first's problem.
    """
    from convert.batch import expand_inputs, prepared, run_many
    from convert.commands import READERS, Previous, read_previous
    from convert.merge import combine, order_rows
    from convert.outputs.notice import write_notice, write_overview

    files = expand_inputs(paths)
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise UsageError("notice-out-not-folder", path=str(folder))
    before = previous if previous is None or isinstance(previous, Previous) else read_previous(previous, jobs, debug)
    summaries = [f for f in files if is_summary(f)]
    reports = [f for f in files if f not in summaries]
    outcomes = list(
        prepared(
            reports,
            run_many(_notice_row, [(p, before, debug) for p in reports], jobs, label="notice", preload=READERS),
            jobs,
        )
    )
    for path in summaries:
        outcomes.extend(rows_from_summary(path))
    combined = combine(outcomes, latest=latest)
    order_rows(combined.rows, None)
    if not combined.rows and not combined.refused:
        raise UsageError("notice-nothing")
    folder.mkdir(parents=True, exist_ok=True)
    result = NoticeResult(folder, folder / f"{_file_name(text('notice-overview-file'))}.xlsx")
    result.refused = combined.refused
    taken: set[str] = set()
    today = today or date.today()
    for row in combined.rows:
        if row.state == PASS:
            result.passed.append(row)
            continue
        name = _unique(_file_name(text("notice-file", agency=row.agency, year=row.year or "")), taken)
        path = write_notice(folder / f"{name}.docx", row, issuer=issuer, due=due, today=today, force=force)
        result.written.append((row, path))
    write_overview(result.overview, result.written, result.refused, force=force)
    return result


def _notice_row(path: Path, previous: Any, debug: bool) -> Any:
    from convert.batch import guarded

    def work() -> MergeRow:
        from convert.commands import check_path
        from convert.merge import row_from

        record, findings, _ = check_path(path, previous)
        if record is None:
            problems, verdict = problems_of(None, findings)
            return MergeRow(path.stem, None, "", path.name, (), problems, state=verdict.state)
        return row_from(record, findings, path.name, each=True)

    return guarded(path, work, debug)


# Characters a file name cannot hold on Windows (where the notices go), and control characters.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def _file_name(name: str) -> str:
    return _UNSAFE.sub("_", name).strip(" .")[:100] or "_"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate.lower() in taken:
        candidate, n = f"{name}-{n}", n + 1
    taken.add(candidate.lower())
    return candidate


def is_summary(path: Path) -> bool:
    """Tell whether a file is a summary workbook nianbao wrote (its document property says so)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            custom = z.read("docProps/custom.xml")[:100_000]
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    return b'name="nianbao_kind"' in custom and b">summary<" in custom


def rows_from_summary(path: Path) -> list[Any]:
    """Read a summary workbook's checks sheet back into one row per report (its verdict and problems)."""
    import openpyxl

    from convert.batch import Outcome
    from convert.checks.catalogue import languages, render
    from convert.outputs.template import all_templates

    # The summary may have been written in any language: its sheet tells which.
    layouts = all_templates()
    name = layouts[0].summary.check_sheet_name
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a damaged file: openpyxl raises many kinds
        raise UsageError("notice-not-summary", path=str(path), sheet=name) from exc
    try:
        texts = next((t.summary for t in layouts if t.summary.check_sheet_name in wb.sheetnames), None)
        if texts is None:
            raise UsageError("notice-not-summary", path=str(path), sheet=name)
        lines = wb[texts.check_sheet_name].iter_rows(values_only=True)
        header = next(lines, ())
        by_header = {c.header: c.key for c in texts.checks.columns}
        keys = [by_header.get(str(h), "") for h in header]
        states = {
            **{render("verdict-pass", {}, lang): PASS for lang in languages()},
            **{render("verdict-fail", {}, lang): "fail" for lang in languages()},
            **{render("verdict-review", {}, lang): "review" for lang in languages()},
        }
        kinds = {texts.checks.kinds.error: TO_CORRECT, texts.checks.kinds.review: REVIEW, texts.checks.kinds.note: NOTE}
        out: list[Any] = []
        rows: dict[tuple[Any, ...], MergeRow] = {}
        for line in lines:
            cells = {k: v for k, v in zip(keys, line, strict=False) if k}
            source = str(cells.get("source") or "")
            if cells.get("status") == texts.refused:
                out.append(Outcome(Path(source), error=str(cells.get("message") or ""), exit_code=1))
                continue
            if not cells.get("agency"):
                continue
            year = cells.get("year")
            key = (cells["agency"], year, source)
            row = rows.get(key)
            if row is None:
                row = MergeRow(
                    str(cells["agency"]),
                    int(year) if isinstance(year, int | float) else None,
                    str(cells.get("format") or ""),
                    source,
                    (),
                    state=states.get(str(cells.get("status")), "review"),
                )
                rows[key] = row
                out.append(Outcome(Path(source), row))
            if cells.get("message"):
                kind = kinds.get(str(cells.get("kind")), NOTE)
                where, message = str(cells.get("where") or ""), str(cells["message"])
                row.problems.append(
                    Problem(
                        kind, str(cells.get("code") or ""), where, message, cells.get("actual"), cells.get("expected")
                    )
                )
        return out
    finally:
        wb.close()


__all__ = [
    "DROPPED",
    "REFUSED",
    "SAME_REPORT",
    "SAME_REPORT_DIFFERS",
    "NoticeResult",
    "fix_for",
    "is_summary",
    "printed_cell",
    "problems_of",
    "rows_from_summary",
    "write_notices",
]
