"""LibreOffice as the real spreadsheet engine of the tests: re-save workbooks with every formula recalculated."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

needs_libreoffice = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(shutil.which("soffice") is None, reason="soffice (LibreOffice) is not on PATH"),
]

# Recalculate every formula on load, so the file LibreOffice writes holds its own results, not ours.
XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def recalculate(paths: list[Path], root: Path) -> list[Path]:
    """Open the workbooks in LibreOffice (fresh profile, recalculation forced) and re-save them; return the copies."""
    dst, profile = root / "lo-out", root / "lo-profile"
    dst.mkdir(parents=True, exist_ok=True)
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(XCU, encoding="utf-8")
    # One soffice start for every file: starting LibreOffice is the slow part.
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(dst),
            *map(str, paths),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return [dst / p.name for p in paths]


def formula_cells(path: Path) -> dict[tuple[str, str], object]:
    """Return every formula cell of a workbook: (sheet, coordinate) → formula text."""
    wb = openpyxl.load_workbook(path)
    return {
        (ws.title, c.coordinate): c.value
        for ws in wb
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=")
    }


def mismatches(ours: Path, theirs: Path) -> list[tuple[str, str, object, object]]:
    """Return the formula cells whose stored result differs from LibreOffice's recalculation."""
    formulas = formula_cells(ours)
    stored = openpyxl.load_workbook(ours, data_only=True)
    recalculated = openpyxl.load_workbook(theirs, data_only=True)
    out = []
    for sheet, cell in formulas:
        mine, lo = stored[sheet][cell].value, recalculated[sheet][cell].value
        # An empty-string result ("" for an all-blank sum) may come back as an empty cell.
        mine, lo = (None if v == "" else v for v in (mine, lo))
        same = mine == lo or (isinstance(mine, int | float) and isinstance(lo, int | float) and abs(mine - lo) < 1e-9)
        if not same:
            out.append((sheet, cell, mine, lo))
    return out
