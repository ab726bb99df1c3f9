"""Annotate a copy of a workbook: each finding's cell filled by severity and commented; the input is untouched."""

from __future__ import annotations

import zipfile
from pathlib import Path

from convert.atomic import atomic_output, check_output, protecting
from convert.checks import ERROR, WARNING, Finding
from convert.errors import UnreadableInputError, UsageError
from convert.outputs.template import load_template


def annotate_workbook(path: str | Path, findings: list[Finding], out: str | Path, *, force: bool = False) -> Path:
    """Write a copy of the workbook with every finding's cell filled and commented; the input is untouched."""
    path, out = Path(path), Path(out)
    if out.suffix.lower() != ".xlsx":
        raise UsageError("annotate-not-xlsx", path=str(out))
    with protecting([path]):
        check_output(out, force)
        return _annotate(path, findings, out, force)


def _annotate(path: Path, findings: list[Finding], out: Path, force: bool) -> Path:
    """Write the annotated copy (the caller guards the input and checked the output)."""
    # Imported here so this module loads even where the safety checks are being worked on.
    from convert.safety import inspect_workbook

    inspect_workbook(path)
    look = load_template().annotate
    try:
        # openpyxl only here: annotating rewrites a copy, the one job that needs a full workbook model.
        import openpyxl
        from openpyxl.comments import Comment
        from openpyxl.styles import PatternFill

        wb = openpyxl.load_workbook(path)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise UnreadableInputError("workbook-unreadable-at", path=str(path), detail=str(exc)) from exc
    fills = {
        ERROR: PatternFill("solid", start_color=look.error_fill, end_color=look.error_fill),
        WARNING: PatternFill("solid", start_color=look.warning_fill, end_color=look.warning_fill),
    }
    for f in findings:
        if not f.sheet or not f.cell or f.sheet not in wb.sheetnames:
            continue
        ws = wb[f.sheet]
        cell = ws[f.cell]
        for rng in ws.merged_cells.ranges:
            if f.cell in rng:
                cell = ws.cell(rng.min_row, rng.min_col)
                break
        if f.severity == ERROR or cell.fill is None or cell.fill.fgColor.rgb != fills[ERROR].fgColor.rgb:
            cell.fill = fills.get(f.severity, fills[WARNING])
        text = f"[{f.code}] {f.message}"
        if cell.comment is not None and cell.comment.author == look.author:
            text = cell.comment.text + "\n" + text
        comment = Comment(text, look.author)
        comment.width, comment.height = look.comment_width, look.comment_height
        cell.comment = comment
    with atomic_output(out, force=force) as tmp:
        wb.save(tmp)
    return out


__all__ = ["annotate_workbook"]
