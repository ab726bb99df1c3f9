"""Our own .xlsx reader (convert.xlsx) reads what openpyxl reads: values, formulas, cached results, number
formats, defined names and custom properties, on workbooks we write, the same re-saved by openpyxl and by
LibreOffice, and a hand-made workbook with shared formulas (as Excel writes them) and the rarer cell kinds."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.worksheet.formula import ArrayFormula
from typer.testing import CliRunner

from convert import xlsx
from convert.cli import app
from tests.lo import needs_libreoffice, recalculate

Pos = tuple[int, int]

# ------------------------------------------------------------------ a hand-made workbook, as Excel writes one

_MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

CRAFTED_PARTS = {
    "[Content_Types].xml": """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/>
</Types>""",
    "_rels/.rels": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>
<Relationship Id="rId2" Type="{_REL}/custom-properties" Target="docProps/custom.xml"/>
</Relationships>""",
    "xl/_rels/workbook.xml.rels": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{_REL}/worksheet" Target="/xl/worksheets/sheet2.xml"/>
<Relationship Id="rId3" Type="{_REL}/styles" Target="styles.xml"/>
<Relationship Id="rId4" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>""",
    "xl/workbook.xml": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook {_MAIN} {_R}>
<sheets><sheet name="数据" sheetId="1" r:id="rId1"/><sheet name="It's" sheetId="2" r:id="rId2"/></sheets>
<definedNames>
<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">数据!$A$1:$E$5</definedName>
<definedName name="_xlnm.Print_Area" localSheetId="0">数据!$A$1:$E$8</definedName>
<definedName name="apos">'It''s'!$A$1</definedName>
<definedName name="broken">#REF!</definedName>
<definedName name="formula">数据!$A$2*2</definedName>
<definedName name="local" localSheetId="1">'It''s'!$A$2</definedName>
<definedName name="one">数据!$B$2</definedName>
<definedName name="quoted">'数据'!C$7</definedName>
<definedName name="span">数据!$A$2:$A$5</definedName>
</definedNames>
</workbook>""",
    "xl/styles.xml": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet {_MAIN}>
<numFmts count="2"><numFmt numFmtId="164" formatCode="#,##0.0000&quot;万元&quot;"/><numFmt numFmtId="3" formatCode="#,##0;[Red]\\-#,##0"/></numFmts>
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="4">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>""",
    "xl/sharedStrings.xml": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst {_MAIN} count="2" uniqueCount="2">
<si><r><t>竹</t></r><r><rPr><b/></rPr><t>镇镇</t></r><rPh sb="0" eb="1"><t>zhu</t></rPh></si>
<si><t xml:space="preserve"> 合计 </t></si>
</sst>""",
    "xl/worksheets/sheet1.xml": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet {_MAIN}><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>
<row r="2"><c r="A2"><v>1</v></c><c r="B2"><f t="shared" ref="B2:B5" si="0">A2*2+$A$2+A$2</f><v>4</v></c>
<c r="C2"><f t="shared" ref="C2:E2" si="1">SUM(A2:A5)+'It''s'!A1</f><v>1009.5</v></c>
<c r="D2"><f t="shared" si="1"/><v>2027</v></c><c r="E2"><f t="shared" si="1"/><v>1009.5</v></c>
<c r="F2"><f t="array" ref="F2">SUM(A2:A5*2)</f><v>1999</v></c></row>
<row r="3"><c r="A3"><v>2.5</v></c><c r="B3"><f t="shared" si="0"/><v>7</v></c></row>
<row r="4"><c r="A4"><v>1E3</v></c><c r="B4"><f t="shared" si="0"/><v>2002</v></c></row>
<row r="5"><c r="A5"><v>-4</v></c><c r="B5"><f t="shared" si="0"/><v>-6</v></c></row>
<row r="6"><c r="A6" t="inlineStr"><is><t>内联</t></is></c><c r="B6" t="b"><v>1</v></c><c r="C6" t="e"><v>#DIV/0!</v></c>
<c r="D6" t="str"><f>"ab"&amp;"c"</f><v>abc</v></c><c r="E6"><f>A2+1</f></c></row>
<row r="7"><c r="A7" s="1"><v>6212.4</v></c><c r="B7" s="2"><v>0.25</v></c><c r="C7" s="3"><v>251000</v></c></row>
<row r="8"><c r="A8" s="1"/><c r="B8" t="s" s="3"><v>1</v></c></row>
</sheetData></worksheet>""",
    "xl/worksheets/sheet2.xml": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet {_MAIN}><sheetData>
<row r="1"><c r="A1"><v>10</v></c><c r="B1"><v>20</v></c></row>
<row r="2"><c r="A2"><f>数据!B3*2</f><v>14</v></c></row>
</sheetData></worksheet>""",
    "docProps/custom.xml": """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">
<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="revision"><vt:lpwstr>{"revision": 2}</vt:lpwstr></property>
<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="3" name="count"><vt:i4>7</vt:i4></property>
<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="4" name="share"><vt:r8>0.5</vt:r8></property>
<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="5" name="final"><vt:bool>true</vt:bool></property>
</Properties>""",
}


def write_crafted(path: Path) -> Path:
    """Write the hand-made workbook (shared and array formulas, rich text, inline strings, odd names)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in CRAFTED_PARTS.items():
            zf.writestr(name, text.encode("utf-8"))
    return path


# ------------------------------------------------------------------ what openpyxl reads


def openpyxl_view(path: Path) -> dict[str, Any]:
    """Return what openpyxl reads, in the shape of convert.xlsx.Book."""
    wb = openpyxl.load_workbook(path)
    data_only = openpyxl.load_workbook(path, data_only=True)
    sheets: dict[str, dict[str, dict[Pos, Any]]] = {}
    for ws in wb:
        values: dict[Pos, Any] = {}
        cached: dict[Pos, Any] = {}
        formats: dict[Pos, str] = {}
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value.text if isinstance(cell.value, ArrayFormula) else cell.value
                if value is None:
                    continue
                pos = (cell.row - 1, cell.column - 1)
                values[pos] = value
                formats[pos] = cell.number_format
                if isinstance(value, str) and value.startswith("="):
                    cached[pos] = data_only[ws.title].cell(cell.row, cell.column).value
        sheets[ws.title] = {"values": values, "cached": cached, "formats": formats}
    names: dict[str, tuple[str, Pos]] = {}
    scoped = [wb.defined_names.items(), *(ws.defined_names.items() for ws in wb)]
    for items in scoped:
        for name, dn in items:
            tokens = Tokenizer("=" + (dn.attr_text or "")).items
            if len(tokens) != 1 or (tokens[0].type, tokens[0].subtype) != (Token.OPERAND, Token.RANGE):
                continue  # a formula or an error, not a reference (openpyxl's dn.type calls 数据!$A$2*2 a range)
            destinations = list(dn.destinations)
            if len(destinations) != 1 or ":" in destinations[0][1]:
                continue  # ranges are not single cells
            sheet, coordinate = destinations[0]
            sheet = sheet.replace("''", "'")  # openpyxl leaves a quoted sheet name's doubled quote as it is
            letters, row = coordinate_from_string(coordinate.replace("$", ""))
            names.setdefault(name, (sheet, (row - 1, column_index_from_string(letters) - 1)))
    custom = {prop.name: prop.value for prop in wb.custom_doc_props.props}
    return {"sheets": sheets, "names": names, "custom": custom}


def our_view(path: Path) -> dict[str, Any]:
    """Return what convert.xlsx reads, in the same shape."""
    book = xlsx.load(path)
    sheets = {
        name: {"values": sheet.values, "cached": sheet.cached, "formats": sheet.formats}
        for name, sheet in book.sheets.items()
    }
    return {"sheets": sheets, "names": book.names, "custom": book.custom}


def typed(mapping: dict[Pos, Any]) -> dict[Pos, tuple[str, Any]]:
    """Return the values with their types, so 1 and 1.0 and True do not pass for each other."""
    return {pos: (type(v).__name__, v) for pos, v in mapping.items()}


def assert_same_reading(path: Path) -> dict[str, Any]:
    """Assert both readers read path alike, part by part; return our reading."""
    ours, theirs = our_view(path), openpyxl_view(path)
    assert list(ours["sheets"]) == list(theirs["sheets"]), path.name
    for name, sheet in theirs["sheets"].items():
        for part in ("values", "cached", "formats"):
            assert typed(ours["sheets"][name][part]) == typed(sheet[part]), f"{path.name} {name} {part}"
    assert ours["names"] == theirs["names"], path.name
    assert ours["custom"] == theirs["custom"], path.name
    return ours


def openpyxl_resave(paths: list[Path], folder: Path) -> list[Path]:
    """Open and save each workbook with openpyxl, as a user's script would; return the copies."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for path in paths:
        copy = folder / path.name
        openpyxl.load_workbook(path).save(copy)
        out.append(copy)
    return out


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Return our workbooks: the five samples converted, their summary and the hand-made one."""
    root = tmp_path_factory.mktemp("xlsx-ours")
    samples = Path(__file__).resolve().parent.parent / "samples"
    runner = CliRunner()
    result = runner.invoke(app, ["convert", str(samples), "-o", str(root), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["merge", str(samples), "-o", str(root / "summary.xlsx"), "--jobs", "1"])
    assert result.exit_code == 1 and (root / "summary.xlsx").is_file(), result.output  # two samples are 待核
    write_crafted(root / "crafted.xlsx")
    return sorted(root.glob("*.xlsx"))


def ids(paths: list[Path]) -> list[str]:
    """Return test ids: the file names."""
    return [p.stem for p in paths]


# ------------------------------------------------------------------ tests


def test_the_hand_made_workbook_has_what_it_is_for(written: list[Path]) -> None:
    crafted = next(p for p in written if p.name == "crafted.xlsx")
    with zipfile.ZipFile(crafted) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert sheet.count('t="shared"') == 7 and 't="array"' in sheet and 't="inlineStr"' in sheet
    book = xlsx.load(crafted)
    data = book.sheets["数据"]
    # Shared formulas, translated by hand: relative references move, $-anchored ones stay.
    assert data.values[(2, 1)] == "=A3*2+$A$2+A$2"
    assert data.values[(4, 1)] == "=A5*2+$A$2+A$2"
    assert data.values[(1, 3)] == "=SUM(B2:B5)+'It''s'!B1"
    assert data.values[(1, 4)] == "=SUM(C2:C5)+'It''s'!C1"
    assert data.cached[(2, 1)] == 7 and data.cached[(1, 3)] == 2027
    assert data.values[(0, 0)] == "竹镇镇"  # rich-text runs joined, the phonetic reading left out
    assert data.values[(0, 1)] == " 合计 "
    assert data.values[(3, 0)] == 1000.0 and isinstance(data.values[(3, 0)], float)
    assert data.formats[(6, 0)] == '#,##0.0000"万元"' and data.formats[(6, 1)] == "0.00%"
    assert data.formats[(6, 2)] == "#,##0;[Red]\\-#,##0"  # a built-in id the file redefines: the file's own
    assert (7, 0) not in data.values  # a styled blank cell is blank
    assert book.names == {
        "apos": ("It's", (0, 0)),
        "local": ("It's", (1, 0)),
        "one": ("数据", (1, 1)),
        "quoted": ("数据", (6, 2)),
    }
    assert book.custom == {"revision": '{"revision": 2}', "count": 7, "share": 0.5, "final": True}


def test_our_workbooks_read_as_openpyxl_reads_them(written: list[Path]) -> None:
    for path in written:
        ours = assert_same_reading(path)
        formulas = sum(1 for s in ours["sheets"].values() for v in s["values"].values() if str(v).startswith("="))
        assert formulas > 0 and ours["names"], f"{path.name} has no formulas or names: the comparison proves little"


def test_openpyxl_resaved_workbooks_read_as_openpyxl_reads_them(written: list[Path], tmp_path: Path) -> None:
    for path in openpyxl_resave(written, tmp_path / "openpyxl"):
        assert_same_reading(path)


def with_libreoffice(test: Any) -> Any:
    """Mark a test as needing LibreOffice."""
    for mark in needs_libreoffice:
        test = mark(test)
    return test


@with_libreoffice
def test_libreoffice_resaved_workbooks_read_as_openpyxl_reads_them(written: list[Path], tmp_path: Path) -> None:
    copies = recalculate(written, tmp_path)
    for copy in copies:
        assert_same_reading(copy)
    # LibreOffice expands the shared formulas with its own engine: our translation must agree with it.
    original = xlsx.load(next(p for p in written if p.name == "crafted.xlsx")).sheets["数据"]
    resaved = xlsx.load(next(p for p in copies if p.name == "crafted.xlsx")).sheets["数据"]
    for pos in [(r, 1) for r in range(1, 5)] + [(1, c) for c in range(2, 5)]:
        assert resaved.values[pos].replace(" ", "") == original.values[pos], pos
        assert resaved.cached[pos] == pytest.approx(original.cached[pos]), pos
