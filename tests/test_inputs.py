"""The input kinds: one ordered list decides what a file is, which files of a folder are read, and every refusal."""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convert import inputs
from convert.checks.catalogue import text
from convert.cli import app
from convert.errors import UnreadableInputError, UsageError
from convert.inputs import Document, Kind, Probe, identify, load, select
from convert.inputs.text import document
from convert.reader import read_report

# The messages these tests pin are the English ones (NIANBAO_LANG=en); the Chinese are tested in test_language.py.
pytestmark = pytest.mark.usefixtures("english")

runner = CliRunner()

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(50)
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """Pack members into a ZIP in memory."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def ole(*streams: str) -> bytes:
    """An OLE2-looking file naming the given streams (directory entry names are UTF-16LE)."""
    return OLE + b"".join(name.encode("utf-16-le").ljust(128, b"\x00") for name in ("Root Entry", *streams))


PPTX = zip_bytes({"ppt/presentation.xml": b"<p/>"})

# What each recognised-but-unread kind of file is told, whatever its name: (kind, bytes, the refusal). Pictures are
# read as scanned pages (tests/test_ocr.py).
REFUSED = [
    ("xls", ole("Workbook"), r"old Excel 97-2003 \.xls is not supported"),
    ("xls", ole("EncryptionInfo", "EncryptedPackage"), "workbook is password-protected"),
    ("archive", ole("Something"), r"looks like an old Office file \(\.doc/\.xls\)"),
    ("archive", zip_bytes({"ppt/presentation.xml": b"<p/>"}), r"looks like a PowerPoint \.pptx"),
    ("archive", zip_bytes({"mimetype": b"x", "content.xml": b"<c/>"}), "looks like an OpenDocument file"),
    ("archive", zip_bytes({"report.txt": b"hello"}), "looks like a ZIP archive: unpack it"),
    ("binary", b"\x1f\x8b\x08\x00" + bytes(40), "looks like a gzip archive"),
    ("binary", b"SQLite format 3\x00" + bytes(100), "looks like an SQLite database"),
    ("binary", bytes(range(256)) * 8, "looks like binary data, not a text report"),
    ("data", b'{"source": {"path": "a.txt"}, "cells": {}}\n{"cells": {}}\n', "looks like JSON data, not a report"),
    ("data", b'[\n  {\n    "path": "a.txt",\n    "findings": []\n  }\n]\n', "looks like JSON data"),
]


@pytest.mark.parametrize(("kind", "data", "message"), REFUSED, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(REFUSED)])
def test_each_kind_is_told_by_content_and_refused_alike_by_name_or_in_a_folder(
    tmp_path: Path, kind: str, data: bytes, message: str
) -> None:
    # Named like a report: the content decides.
    path = tmp_path / "folder" / "report.txt"
    path.parent.mkdir()
    path.write_bytes(data)
    assert identify(path).kind.name == kind
    with pytest.raises(UnreadableInputError, match=message) as refused:
        load(path)
    # In a folder the same file is skipped, and the reason is the refusal itself.
    chosen = select([path.parent])
    assert chosen.files == []
    assert [(s.path, str(s.reason)) for s in chosen.skipped] == [(path, str(refused.value))]
    with pytest.raises(UsageError, match="holds no report files"):
        chosen.inputs()


def test_csv_is_told_from_text_by_its_name(tmp_path: Path, samples: Path) -> None:
    dump = tmp_path / "cells.csv"
    dump.write_text("agency,year,format,key,value\n竹镇镇,2019,2019,requests.new_received.total,1\n", encoding="utf-8")
    assert identify(dump).kind.name == "data"
    same_text = tmp_path / "cells.txt"
    same_text.write_bytes(dump.read_bytes())
    assert identify(same_text).kind.name == "text"
    # A report is never taken for data, whatever its name.
    report = tmp_path / "report.csv"
    report.write_bytes((samples / "zhuzhen-2019.txt").read_bytes())
    assert identify(report).kind.name == "text"


def test_a_folder_lists_each_skipped_file_with_its_reason(tmp_path: Path, samples: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "zhuzhen-2019.txt").write_bytes((samples / "zhuzhen-2019.txt").read_bytes())
    (folder / "page.png").write_bytes(PNG)
    (folder / "slides.pptx").write_bytes(PPTX)
    # Our own outputs beside the reports are skipped too, and said so.
    (folder / "records.jsonl").write_text(json.dumps({"source": {}, "cells": {}}) + "\n", encoding="utf-8")
    (folder / ".hidden.txt").write_bytes(PDF)  # hidden files are not looked at

    chosen = select([folder])
    assert chosen.inputs() == [folder / "zhuzhen-2019.txt"]
    reasons = {s.path.name: str(s.reason) for s in chosen.skipped}
    assert sorted(reasons) == ["page.png", "records.jsonl", "slides.pptx"]
    assert reasons["page.png"] == text("image-beside-files")  # a page image among reports is no report
    assert reasons["slides.pptx"].startswith("looks like a PowerPoint .pptx presentation")
    assert reasons["records.jsonl"].startswith("looks like JSON data")

    result = runner.invoke(app, ["read", str(folder), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["agency"] for x in result.stdout.splitlines()] == ["竹镇镇"]
    for name, reason in reasons.items():
        assert f"Skipped: {folder / name}: {reason}\n" in result.stderr
    assert ".hidden" not in result.stderr


def test_files_named_on_the_command_line_are_refused_not_skipped(tmp_path: Path) -> None:
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(PDF)
    result = runner.invoke(app, ["read", str(pdf)])
    assert result.exit_code == 2
    assert f"Error: {pdf}: corrupt PDF" in result.stderr and "Skipped" not in result.stderr


def test_a_folder_with_nothing_to_read_says_why(tmp_path: Path) -> None:
    (tmp_path / "scan.png").write_bytes(PNG)
    result = runner.invoke(app, ["convert", str(tmp_path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "Skipped:" in result.stderr and text("image-beside-files") in result.stderr
    assert f"Error: folder {tmp_path} holds no report files" in result.stderr


def test_content_decides_not_the_extension(tmp_path: Path, samples: Path) -> None:
    (tmp_path / "report.pdf").write_bytes((samples / "luoqi-2019.txt").read_bytes())
    (tmp_path / "scan.txt").write_bytes(PNG)
    chosen = select([tmp_path])
    assert chosen.files == [tmp_path / "report.pdf"]
    assert [s.path.name for s in chosen.skipped] == ["scan.txt"]
    assert read_report(tmp_path / "report.pdf").agency == "洛碛镇"


def test_unreadable_files_in_a_folder_are_taken_so_the_error_shows(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    assert select([tmp_path]).files == [tmp_path / "empty.txt"]


# ---------------------------------------------------------------- a new kind is one list entry

FAKE_MAGIC = b"\x00\x01NIANBAO-FAKE\x00\x00"


def _fake_detect(probe: Probe) -> bool:
    return probe.head.startswith(FAKE_MAGIC)


def _fake_read(probe: Probe) -> Document:
    # A made-up container: the report's text, compressed, after a magic. Any kind yields the same lines of cells.
    text = zlib.decompress(probe.data[len(FAKE_MAGIC) :]).decode("utf-8")
    return document(text, {"path": str(probe.path), "name": probe.path.name, "sha256": probe.sha256})


FAKE = Kind("fake", _fake_detect, _fake_read)


def test_a_new_kind_is_one_entry_in_the_list(tmp_path: Path, samples: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = samples / "zhuzhen-2019.txt"
    folder = tmp_path / "in"
    folder.mkdir()
    packed = folder / "zhuzhen.fake"
    packed.write_bytes(FAKE_MAGIC + zlib.compress(report.read_bytes()))
    (folder / "luoqi-2019.txt").write_bytes((samples / "luoqi-2019.txt").read_bytes())

    # Unknown, it is binary: skipped in a folder, refused by name.
    assert identify(packed).kind.name == "binary"
    assert [s.path for s in select([folder]).skipped] == [packed]

    monkeypatch.setattr(inputs, "KINDS", [FAKE, *inputs.KINDS])
    assert identify(packed).kind is FAKE
    assert select([folder]).inputs() == [folder / "luoqi-2019.txt", packed]
    assert isinstance(load(packed), Document)
    want = read_report(report)
    got = read_report(packed)
    assert (got.agency, got.year, got.cells, got.warnings) == (want.agency, want.year, want.cells, want.warnings)

    result = runner.invoke(app, ["read", str(folder), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    records = [json.loads(x) for x in result.stdout.splitlines()]
    assert [r["agency"] for r in records] == ["洛碛镇", "竹镇镇"]
    assert records[1]["source"]["name"] == "zhuzhen.fake"
    assert "Skipped" not in result.stderr


def test_inputs_whose_workbooks_would_share_a_name_get_distinct_names(tmp_path: Path) -> None:
    from convert.commands import output_paths

    a, b = tmp_path / "x" / "城关镇.docx", tmp_path / "x" / "城关镇.pdf"
    c, d = tmp_path / "y" / "城关镇.txt", tmp_path / "y" / "城关镇.TXT"
    names = [p.name for p in output_paths([a, b, c, d], tmp_path / "out")]
    assert names == ["城关镇.xlsx", "城关镇-pdf.xlsx", "城关镇-txt.xlsx", "y-城关镇.xlsx"]
    assert len({n.lower() for n in names}) == 4
