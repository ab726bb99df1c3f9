"""Scanned reports (pictures, PDFs without a text layer) read with OCR: every value right or named in a warning.

The golden scan (tests/data/scans, made by tests/scangen.py) is a generated 2021 report printed, stamped with the
red seal over a table and over the date, signed, fed askew and scanned to PDF at 150 dpi as JPEG. Tests that run
the OCR are marked `ocr` and skipped, saying why, without the extra; the rest run everywhere.
"""

from __future__ import annotations

import json
import pickle
import sys
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bench.generate import make_record
from bench.score import score
from convert.checks.catalogue import text
from convert.cli import app
from convert.formats import load_format
from convert.inputs import select
from convert.inputs.image import PageImages
from convert.inputs.scan import Read
from convert.inputs.text import document
from convert.parse import parse_lines
from convert.readback import read_workbook
from convert.reader import read_report
from convert.record import Record
from convert.render import render_report

SCANS = Path(__file__).parent / "data" / "scans"
OCR_INSTALLED = all(find_spec(m) for m in ("rapidocr", "onnxruntime", "cv2", "PIL", "numpy", "pypdfium2"))
PNG = b"\x89PNG\r\n\x1a\n" + bytes(40)
TIFF = b"II*\x00" + bytes(40)
runner = CliRunner()


def needs_ocr(test: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a test that runs the OCR; without the extra it is skipped, saying so."""
    skip = pytest.mark.skipif(not OCR_INSTALLED, reason="the ocr extra is not installed: pip install 'nianbao[ocr]'")
    return pytest.mark.ocr(skip(test))


def golden() -> Record:
    return Record.from_json(json.loads((SCANS / "scan-pdf-2021.json").read_text(encoding="utf-8")))


def derived(record: Record) -> set[str]:
    """The keys a form leaves to their rows (not printed, so not read)."""
    fmt = load_format(record.format)
    return {f"{t.key}.{r.key}.{c}" for t in fmt.tables.values() for r in t.rows if r.sums for c in r.columns}


# ---------------------------------------------------------------- reading scans (OCR)


@needs_ocr
def test_a_scanned_pdf_is_read_and_no_wrong_value_goes_unnamed() -> None:
    truth = golden()
    got = read_report(SCANS / "scan-pdf-2021.pdf")
    assert (got.agency, got.year, got.format, got.title) == (truth.agency, truth.year, truth.format, truth.title)
    result = score(truth, got)
    assert result.exact >= 0.97 * len(truth.cells), result.wrong
    # A value read wrong is named in a warning of its own cell, not only of its row or table.
    wheres = {w.where for w in got.warnings}
    assert [key for key, _, have in result.wrong if have is not None and key not in wheres] == []
    assert result.silent == []
    # Every value read carries where it was read and how surely.
    assert got.source["layout"] == "scan" and got.source["pages"] == 2
    values = got.source["values"]
    assert {k for k, v in got.cells.items() if v is not None} - derived(got) <= set(values)
    assert all(v["page"] in (1, 2) and 0.0 <= v["confidence"] <= 1.0 for v in values.values())
    assert got.source["ocr"]["dpi"] == [150, 150] and all(0.5 <= abs(a) <= 2 for a in got.source["ocr"]["skew"])
    # The text around the tables is read; the seal and the signature are no text.
    assert got.text["overview"] == truth.text["overview"]
    assert got.text["other"] == truth.text["other"]


def page_images(folder: Path, suffix: str = ".jpg") -> list[Path]:
    """The golden scan's pages as picture files 第1页.jpg, 第2页.jpg (as a phone or a scanner saves them)."""
    import pypdfium2 as pdfium

    folder.mkdir(parents=True, exist_ok=True)
    pdf = pdfium.PdfDocument(str(SCANS / "scan-pdf-2021.pdf"))
    out = []
    for k in range(len(pdf)):
        path = folder / f"第{k + 1}页{suffix}"
        pdf[k].render(scale=150 / 72).to_pil().save(path, quality=90, dpi=(150, 150))
        out.append(path)
    pdf.close()
    return out


@needs_ocr
def test_a_folder_of_page_images_is_one_report_and_its_workbook_shows_what_was_read(tmp_path: Path) -> None:
    folder = tmp_path / "城关镇"
    page_images(folder)
    out = tmp_path / "out"
    # --jobs 2 with one report: its pages are read on both cores.
    result = runner.invoke(app, ["convert", str(tmp_path / "城关镇"), "-o", str(out), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    book = out / "城关镇.xlsx"
    assert result.stdout.strip() == str(book)
    truth = golden()
    back = read_workbook(book)
    assert back.source.get("origin", {}).get("layout", "scan") == "scan"
    assert sum(back.cells[k] == v for k, v in truth.cells.items()) >= 0.97 * len(truth.cells)
    # Each value read from a picture has a comment (its page and confidence); the cover says so once.
    import openpyxl

    wb = openpyxl.load_workbook(book)
    comments = {
        (ws.title, c.coordinate): c.comment.text for ws in wb for row in ws.iter_rows() for c in row if c.comment
    }
    # The cover says it once, on the verdict, and the provenance sheet on the source's path (the cover's other
    # comments are its warnings' source texts).
    from convert.outputs.template import load_template

    std = load_template().standard
    values = {at: t for at, t in comments.items() if at[0] not in (std.cover_sheet, std.provenance_sheet)}
    said = text("ocr-cover-comment", count=len(values))
    for sheet, name in ((std.cover_sheet, "meta_verdict"), (std.provenance_sheet, "meta_source_path")):
        [label] = [c for c in wb[sheet]["A"] if c.value == std.cover.label(name)]
        ocr = [(at, t) for (title, at), t in comments.items() if title == sheet and not t.startswith("原文")]
        assert ocr == [(f"B{label.row}", said)]
    assert len(values) > 180
    assert all("OCR" in t for t in values.values())


# ---------------------------------------------------------------- which pictures make one report (no OCR)


def test_page_images_make_one_report_by_folder_or_by_order_on_the_command_line(tmp_path: Path) -> None:
    pages = tmp_path / "scan"
    pages.mkdir()
    for name in ("page-10.png", "page-2.png", "page-1.png"):
        (pages / name).write_bytes(PNG)
    report = tmp_path / "report.txt"
    report.write_bytes(render_report(make_record("2021", 1)).encode())
    # A folder of page images only is one report, its pages in page order (2 before 10).
    (got,) = select([pages]).inputs()
    assert isinstance(got, PageImages) and got == pages
    assert [p.name for p in got.pages] == ["page-1.png", "page-2.png", "page-10.png"]
    # Pictures named one after the other are one report; one alone is a report of one page.
    a, b, c = (tmp_path / n for n in ("a.png", "b.jpg", "c.png"))
    for p in (a, b, c):
        p.write_bytes(PNG)
    files = select([a, b, report, c]).inputs()
    assert files == [a, report, c]
    assert isinstance(files[0], PageImages) and files[0].pages == (a, b)
    assert not isinstance(files[2], PageImages)
    # The grouping survives the worker processes of --jobs, and selecting again.
    again = pickle.loads(pickle.dumps(files[0]))
    assert isinstance(again, PageImages) and again.pages == (a, b)
    assert select([again]).inputs() == [again] and select([again]).inputs()[0].pages == (a, b)


def test_a_page_image_among_other_files_is_skipped_and_a_tiff_is_a_report(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "zhuzhen-2019.txt").write_bytes(render_report(make_record("2019", 2)).encode())
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(40))
    (folder / "scan.tif").write_bytes(TIFF)
    chosen = select([folder])
    assert chosen.inputs() == [folder / "scan.tif", folder / "zhuzhen-2019.txt"]
    assert [(s.path.name, str(s.reason)) for s in chosen.skipped] == [("photo.jpg", text("image-beside-files"))]


def test_without_the_extra_a_picture_or_a_scanned_pdf_names_it(
    tmp_path: Path, english: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if the ocr extra were not installed
    picture = tmp_path / "page.png"
    picture.write_bytes(PNG)
    result = runner.invoke(app, ["read", str(picture)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {picture}: reading scanned pages (pictures) needs the OCR extra: pip install 'nianbao[ocr]'\n"
    )


# ---------------------------------------------------------------- trust: confirmed by the rules, or named (no OCR)


def scanned_lines(record: Record, read: dict[str, tuple[str, float]]) -> Record:
    """The record read back from lines as a scan gives them: every cell text read by OCR (confidence 0.99),
    except the cells in `read` (key → text, confidence) read otherwise."""
    doc = document(render_report(record), {"path": "scan.pdf"})
    doc.source["layout"] = "scan"
    fmt = load_format(record.format)
    # Find each printed value's cell: the row's label, then its values in column order.
    targets: dict[tuple[int, int], tuple[str, float]] = {}
    for key, (shown, confidence) in read.items():
        table, row, col = key.split(".")
        columns = list(fmt.tables[table].row(row).columns)
        if fmt.tables[table].layout == "wide":  # 四: one printed line of fifteen numbers, row after row
            line = next(ln for ln in doc.lines if len(ln.cells) == 15 and all(c.isdigit() for c in ln.cells))
            rows = [r.key for r in fmt.tables[table].rows]
            start = sum(len(fmt.tables[table].row(r).columns) for r in rows[: rows.index(row)]) - 1
        else:
            label = fmt.tables[table].row(row).label
            line = next(ln for ln in doc.lines if any(label in c for c in ln.cells))
            start = next(i for i, c in enumerate(line.cells) if label in c)
        targets[line.no, start + 1 + columns.index(col)] = (shown, confidence)
    for line in doc.lines:
        line.cells = [
            Read(*targets.get((line.no, i), (c, 0.99)), page=1) if c.strip() else c for i, c in enumerate(line.cells)
        ]
    return parse_lines(doc.lines, doc.source, doc.text)


def test_a_misread_digit_is_named_where_its_row_and_column_fail_and_an_unsure_one_where_no_rule_checks(
    english: None,
) -> None:
    record = make_record("2021", 8)
    misread = record.cells["requests.granted.research"] + 5  # type: ignore[operator]
    surely = str(record.cells["proactive.licensing.decisions"])
    got = scanned_lines(
        record,
        {
            "requests.granted.research": (str(misread), 0.97),  # read wrong, surely: neither row nor column adds up
            "proactive.licensing.decisions": (surely, 0.7),  # read right but unsurely, and no rule checks it
        },
    )
    assert got.cells["requests.granted.research"] == misread  # kept as read, never guessed
    ocr = [(w.code, w.where, w.fields.get("case")) for w in got.warnings if w.code.startswith("ocr-")]
    assert ocr == [
        ("ocr-unsure", "proactive.licensing.decisions", None),
        ("ocr-unconfirmed", "requests.granted.research", "suspect"),
    ]
    assert "neither its row nor its column adds up" in next(
        w.message for w in got.warnings if w.code == "ocr-unconfirmed"
    )
    # Every other value is confirmed: its rules hold (or, in 二, it was read surely).
    values = got.source["values"]
    assert values["requests.granted.research"] == {"page": 1, "confidence": 0.97}
    assert {k for k, v in got.cells.items() if v is not None} - derived(got) <= set(values)


def test_a_failing_rule_that_no_single_value_explains_names_all_its_values(english: None) -> None:
    record = make_record("2019", 9)
    row = "appeals.review"
    got = scanned_lines(record, {f"{row}.upheld": (str(record.cells[f"{row}.upheld"] + 1), 0.99)})
    named = sorted(w.where for w in got.warnings if w.code == "ocr-unconfirmed")
    assert named == sorted(f"{row}.{c}" for c in ("upheld", "corrected", "other", "pending", "total"))
    assert all(w.fields["case"] == "rule" for w in got.warnings if w.code == "ocr-unconfirmed")


def test_a_report_not_read_by_ocr_gets_no_ocr_warning() -> None:
    doc = document(render_report(make_record("2021", 3)), {"path": "r.txt"})
    got = parse_lines(doc.lines, doc.source, doc.text)
    assert not [w for w in got.warnings if w.code.startswith("ocr-")] and "values" not in got.source
