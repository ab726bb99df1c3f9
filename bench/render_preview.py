"""Render the 三 sheet of a generated workbook to PNG (LibreOffice → PDF → pdftoppm) for the README."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from strategies import consistent_record  # noqa: E402

from convert.outputs.standard import write_workbook  # noqa: E402

XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def render(version: str, sheet: str, out: Path, dpi: int = 80) -> Path:
    """Write a sample record's workbook, keep one sheet, print it to PDF and save page 1 as PNG."""
    if not shutil.which("soffice") or not shutil.which("pdftoppm"):
        raise SystemExit("needs soffice and pdftoppm on PATH")
    with tempfile.TemporaryDirectory(prefix="nianbao-preview-") as tmp_name:
        tmp = Path(tmp_name)
        full = write_workbook(consistent_record(version, seed=7), tmp / "full.xlsx")
        wb = openpyxl.load_workbook(full)
        for ws in list(wb.worksheets):
            if ws.title != sheet:
                wb.remove(ws)
        # Names pointing at removed sheets would only confuse the PDF export.
        for name in list(wb.defined_names):
            del wb.defined_names[name]
        one = tmp / "sheet.xlsx"
        wb.save(one)
        profile = tmp / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(XCU, encoding="utf-8")
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(tmp),
                str(one),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                str(dpi),
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(tmp / "sheet.pdf"),
                str(tmp / "page"),
            ],
            check=True,
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp / "page.png", out)
    return out


def main() -> None:
    """Parse arguments and render."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--version", default="2019")
    parser.add_argument("--sheet", default="三 申请处理")
    parser.add_argument("--dpi", type=int, default=80)
    parser.add_argument("--out", type=Path, default=ROOT / "workbook_templates" / "preview" / "requests-2019.png")
    args = parser.parse_args()
    print(render(args.version, args.sheet, args.out, args.dpi))


if __name__ == "__main__":
    main()
