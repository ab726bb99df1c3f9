"""Bad inputs never crash, never run anything: each case ends in a document, a vetted workbook or one of our errors."""

from __future__ import annotations

import hashlib
import io
import os
import random
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convert import xlsx
from convert.errors import (
    FormatDataError,
    NianbaoError,
    NotAReportError,
    UnreadableInputError,
    UnsafeInputError,
    UsageError,
)
from convert.inputs import Document, identify, load, workbook
from convert.safety import Limits, ensure_defused, inspect_workbook

# The messages these tests pin are the English ones (NIANBAO_LANG=en); the Chinese are tested in test_language.py.
pytestmark = pytest.mark.usefixtures("english")

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SAMPLE_TEXT = (SAMPLES / "houhe-2021.txt").read_text("utf-8")
# A line with ASCII, CJK, a full-width space and a non-BMP character (4 bytes in GB18030, a pair in UTF-16).
MIXED_TEXT = "一、总体情况\n2021年主动公开信息235条　（含𠮷）\n\n二、表格 a|b|c\n"

CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
WB_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_CT = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
WS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


# ---------------------------------------------------------------- builders


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    """Write bytes to tmp_path/name and return the path."""
    path = tmp_path / name
    path.write_bytes(data)
    return path


def sheet_xml(dimension: str | None = "A1:B2", prolog: str = "") -> str:
    """A tiny worksheet part with two rows of numbers."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}'
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">{dim}<sheetData>'
        '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c></row>'
        '<row r="2"><c r="A2"><v>3</v></c><c r="B2"><v>4</v></c></row>'
        "</sheetData></worksheet>"
    )


def xlsx_members(
    n_sheets: int = 1,
    *,
    dimension: str | None = "A1:B2",
    workbook_prolog: str = "",
    main_ct: str = WB_CT,
) -> dict[str, bytes]:
    """The parts of a minimal, valid .xlsx that openpyxl can load."""
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{WS_CT}"/>' for i in range(1, n_sheets + 1)
    )
    content_types = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="{CT_NS}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{main_ct}"/>{overrides}</Types>'
    )
    root_rels = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PKG_REL_NS}">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    sheets = "".join(f'<sheet name="S{i}" sheetId="{i}" r:id="rId{i}"/>' for i in range(1, n_sheets + 1))
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{workbook_prolog}'
        f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>{sheets}</sheets></workbook>'
    )
    wb_rels = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PKG_REL_NS}">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            f'worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n_sheets + 1)
        )
        + "</Relationships>"
    )
    members = {
        "[Content_Types].xml": content_types.encode(),
        "_rels/.rels": root_rels.encode(),
        "xl/workbook.xml": workbook.encode(),
        "xl/_rels/workbook.xml.rels": wb_rels.encode(),
    }
    for i in range(1, n_sheets + 1):
        members[f"xl/worksheets/sheet{i}.xml"] = sheet_xml(dimension).encode()
    return members


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """Pack members into a deflated ZIP in memory."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def ole_bytes(*stream_names: str) -> bytes:
    """A minimal OLE2-looking file: the compound-file magic plus directory entry names in UTF-16LE."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    entries = b"".join(
        name.encode("utf-16-le").ljust(64, b"\x00") + bytes(64) for name in ("Root Entry", *stream_names)
    )
    return header + entries.ljust(1024, b"\x00")


def zip_bomb(path: Path, megabytes: int = 300) -> Path:
    """Stream megabytes of zeros into a single deflated sheet member (a ~1 MB file)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in xlsx_members().items():
            if name != "xl/worksheets/sheet1.xml":
                zf.writestr(name, data)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = bytes(1024 * 1024)
            for _ in range(megabytes):
                member.write(chunk)
    return path


@pytest.fixture(scope="module")
def bomb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 300 MB-of-zeros bomb shared by the bomb tests (building it takes a moment)."""
    return zip_bomb(tmp_path_factory.mktemp("bomb") / "bomb.xlsx")


def kind_vetted(path: Path, limits: Limits | None = None) -> str:
    """The kind of an input that passed its kind's checks (a workbook's safety checks), short of reading it."""
    probe = identify(path, limits)
    if probe.kind is workbook.KIND:
        workbook.vet(probe)
    return probe.kind.name


def text_of(path: Path, limits: Limits | None = None) -> str:
    """The decoded text of a text input."""
    doc = load(path, limits)
    assert isinstance(doc, Document)
    return doc.text


def encoding_of(path: Path) -> str:
    """The encoding a text input was decoded from."""
    doc = load(path)
    assert isinstance(doc, Document)
    return doc.source["encoding"]


def forbid_member_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any decompression of a member fail loudly, to prove a refusal used the central directory only."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a member was opened: the check decompressed data")

    monkeypatch.setattr(zipfile.ZipFile, "open", refuse)


# ---------------------------------------------------------------- empty and binary


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(NotAReportError, match="file is empty"):
        load(write(tmp_path, "r.txt", b""))


def test_whitespace_only(tmp_path: Path) -> None:
    with pytest.raises(NotAReportError, match="empty"):
        load(write(tmp_path, "r.txt", " \r\n\t\n\u3000 \n".encode()))


def test_whitespace_only_utf16(tmp_path: Path) -> None:
    with pytest.raises(NotAReportError, match="empty"):
        load(write(tmp_path, "r.txt", "\ufeff  \r\n  ".encode("utf-16-le")))


def test_random_binary(tmp_path: Path) -> None:
    data = random.Random(7).randbytes(4096)
    assert b"\x00" in data
    with pytest.raises(UnreadableInputError, match="looks like binary data"):
        load(write(tmp_path, "r.txt", data))


def test_control_characters_are_binary(tmp_path: Path) -> None:
    data = bytes(range(1, 9)) * 50 + "一些文字".encode()
    with pytest.raises(UnreadableInputError, match="binary"):
        load(write(tmp_path, "r.txt", data))


def test_png_named_txt(tmp_path: Path, english: None) -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(50)
    # A picture is read as a scanned page: a broken one is corrupt (or, without the ocr extra, names it).
    with pytest.raises((UnreadableInputError, UsageError), match="picture") as exc:
        load(write(tmp_path, "report.txt", data))
    assert "\n" not in str(exc.value)


def test_jpeg_named_txt(tmp_path: Path, english: None) -> None:
    with pytest.raises((UnreadableInputError, UsageError), match="picture"):
        load(write(tmp_path, "report.txt", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(40)))


def test_gif_named_txt(tmp_path: Path, english: None) -> None:
    with pytest.raises((UnreadableInputError, UsageError), match="picture"):
        load(write(tmp_path, "report.txt", b"GIF89a" + bytes(40)))


def test_pdf_named_txt(tmp_path: Path) -> None:
    data = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    with pytest.raises(UnreadableInputError, match="corrupt PDF"):
        load(write(tmp_path, "report.txt", data))


def test_zip_named_txt(tmp_path: Path) -> None:
    data = zip_bytes({"report.txt": SAMPLE_TEXT.encode(), "readme.md": b"hi"})
    with pytest.raises(UnreadableInputError, match="looks like a ZIP archive"):
        load(write(tmp_path, "report.txt", data))


def test_broken_docx_named_txt(tmp_path: Path) -> None:
    # Word's structure, whatever the name; its main part is not well-formed (the w: prefix is never declared).
    data = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    with pytest.raises(UnreadableInputError, match=r"corrupt \.docx: damaged or truncated.*save it again from Word"):
        load(write(tmp_path, "report.txt", data))


def test_broken_old_word_doc(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInputError, match=r"corrupt \.doc: damaged or truncated"):
        load(write(tmp_path, "report.txt", ole_bytes("WordDocument", "1Table")))


def test_html_page_is_not_a_workbook(tmp_path: Path) -> None:
    path = write(tmp_path, "r.xlsx", "<html><body>年度报告</body></html>".encode())
    with pytest.raises(UnreadableInputError, match=r"not an \.xlsx workbook \(looks like an HTML page\)"):
        inspect_workbook(path)


def test_text_is_not_a_workbook(tmp_path: Path) -> None:
    path = write(tmp_path, "r.xlsx", SAMPLE_TEXT.encode())
    with pytest.raises(UnreadableInputError, match=r"not an \.xlsx workbook \(looks like plain text\)"):
        inspect_workbook(path)


# ---------------------------------------------------------------- missing and odd paths


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInputError, match="cannot open: no such file"):
        load(tmp_path / "nope.txt")
    with pytest.raises(UnreadableInputError, match="cannot open"):
        inspect_workbook(tmp_path / "nope.xlsx")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInputError, match="folder"):
        load(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(UnreadableInputError, match="not a regular file"):
        load(fifo)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read anything")
def test_permission_denied(tmp_path: Path) -> None:
    path = write(tmp_path, "r.txt", b"text")
    path.chmod(0)
    with pytest.raises(UnreadableInputError, match="cannot open"):
        load(path)


def test_too_large_text(tmp_path: Path) -> None:
    path = write(tmp_path, "r.txt", SAMPLE_TEXT.encode())
    with pytest.raises(UnsafeInputError, match="over the"):
        load(path, Limits(max_file_bytes=1000))
    assert text_of(path, Limits(max_file_bytes=10**6)) == SAMPLE_TEXT


def test_text_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "r.txt", SAMPLE_TEXT.encode() * 10)
    with pytest.raises(UnsafeInputError, match="limit for a report"):
        load(path, Limits(max_text_bytes=20_000))
    # The cap is on text only: a workbook of the same size is judged by the workbook limits.
    book = write(tmp_path, "b.xlsx", zip_bytes(xlsx_members()))
    assert kind_vetted(book, Limits(max_text_bytes=10)) == "workbook"


def test_input_is_never_modified(tmp_path: Path) -> None:
    path = write(tmp_path, "r.txt", SAMPLE_TEXT.replace("\n", "\r\n").encode("gbk"))
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    doc = load(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert isinstance(doc, Document)
    assert doc.source["sha256"] == hashlib.sha256(before[0]).hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.txt"]


# ---------------------------------------------------------------- text encodings

ENCODINGS = {
    "utf-8": lambda t: t.encode("utf-8"),
    "utf-8-bom": lambda t: t.encode("utf-8-sig"),
    "gbk": lambda t: t.encode("gbk"),
    "gb18030": lambda t: t.encode("gb18030"),
    "utf-16-le-bom": lambda t: t.encode("utf-16"),  # CPython writes LE with BOM on little-endian hosts
    "utf-16-be-bom": lambda t: b"\xfe\xff" + t.encode("utf-16-be"),
    "utf-16-le": lambda t: t.encode("utf-16-le"),
    "utf-16-be": lambda t: t.encode("utf-16-be"),
    "utf-32-le-bom": lambda t: b"\xff\xfe\x00\x00" + t.encode("utf-32-le"),
    "utf-32-be-bom": lambda t: b"\x00\x00\xfe\xff" + t.encode("utf-32-be"),
    "utf-8-crlf": lambda t: t.replace("\n", "\r\n").encode("utf-8"),
    "utf-8-cr": lambda t: t.replace("\n", "\r").encode("utf-8"),
    "gbk-crlf": lambda t: t.replace("\n", "\r\n").encode("gbk"),
    "utf-16-le-bom-crlf": lambda t: "\ufeff".encode("utf-16-le") + t.replace("\n", "\r\n").encode("utf-16-le"),
}


@pytest.mark.parametrize("label", sorted(ENCODINGS))
def test_sample_report_decodes_the_same(tmp_path: Path, label: str) -> None:
    text = SAMPLE_TEXT
    path = write(tmp_path, "r.txt", ENCODINGS[label](text))
    assert identify(path).kind.name == "text"
    assert text_of(path) == text


@pytest.mark.parametrize("label", sorted(set(ENCODINGS) - {"gbk", "gbk-crlf"}))
def test_mixed_text_decodes_the_same(tmp_path: Path, label: str) -> None:
    # 𠮷 is outside GBK, so only the GB18030 and Unicode encodings can carry this line.
    assert text_of(write(tmp_path, "r.txt", ENCODINGS[label](MIXED_TEXT))) == MIXED_TEXT


@pytest.mark.parametrize(
    ("label", "encoding"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-bom", "utf-8-sig"),
        ("gbk", "gb18030"),
        ("utf-16-le", "utf-16-le"),
        ("utf-16-be", "utf-16-be"),
        ("utf-16-be-bom", "utf-16-be"),
        ("utf-32-be-bom", "utf-32-be"),
    ],
)
def test_encoding_is_reported(tmp_path: Path, label: str, encoding: str) -> None:
    assert encoding_of(write(tmp_path, "r.txt", ENCODINGS[label](SAMPLE_TEXT))) == encoding


def test_every_sample_round_trips_through_gb18030_and_utf16(tmp_path: Path) -> None:
    for sample in sorted(SAMPLES.glob("*.txt")):
        text = sample.read_text("utf-8")
        for encoding in ("gb18030", "utf-16-le", "utf-16-be"):
            got = text_of(write(tmp_path, f"{sample.stem}.{encoding}.txt", text.encode(encoding)))
            assert got == text.replace("\r\n", "\n"), (sample.name, encoding)


def test_document_fields(tmp_path: Path) -> None:
    data = "报告\r\n".encode()
    path = write(tmp_path, "r.md", data)
    doc = load(path)
    assert isinstance(doc, Document)
    assert doc.text == "报告\n"
    sha256 = hashlib.sha256(data).hexdigest()
    assert doc.source == {"path": str(path), "name": "r.md", "sha256": sha256, "encoding": "utf-8", "layout": "text"}


def test_unknown_encoding(tmp_path: Path) -> None:
    # 0xFF and 0x80 are invalid as single bytes in both UTF-8 and GB18030.
    with pytest.raises(UnreadableInputError, match="unknown text encoding"):
        load(write(tmp_path, "r.txt", b"caf\xe9 \xff\x80 ol\xe9 report"))


def test_bad_bom(tmp_path: Path) -> None:
    # A UTF-8 BOM followed by GBK bytes: say so rather than guess.
    with pytest.raises(UnreadableInputError, match="utf-8-sig"):
        load(write(tmp_path, "r.txt", b"\xef\xbb\xbf" + "报告".encode("gbk")))


def test_stray_nul_in_utf8_is_dropped_not_misread_as_utf16(tmp_path: Path) -> None:
    data = ("report 2021 annual text " * 20 + "\x00\n第二行\f第三页\n").encode()
    path = write(tmp_path, "r.txt", data)
    assert encoding_of(path) == "utf-8"
    assert text_of(path) == "report 2021 annual text " * 20 + "\n第二行\n第三页\n"


def test_text_starting_with_weak_magic_is_text(tmp_path: Path) -> None:
    # "BM"/"MZ" are BMP/EXE magics, but a text may begin with them.
    assert text_of(write(tmp_path, "r.md", "BMW 报告\nMZ\n".encode())) == "BMW 报告\nMZ\n"


# ---------------------------------------------------------------- workbooks


def test_minimal_workbook_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "ok.xlsx", zip_bytes(xlsx_members()))
    inspect_workbook(path)
    assert kind_vetted(path) == "workbook"
    # The builder is a real workbook, so the refusals below are about the one thing each test changes.
    assert openpyxl.load_workbook(path).active["B2"].value == 4


def test_openpyxl_and_xlsxwriter_workbooks_are_accepted(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    for r in range(1, 301):
        for c in range(1, 16):
            wb.active.cell(r, c, r * c)
    wb.create_sheet("二")["A1"] = "数据"
    wb.save(tmp_path / "a.xlsx")
    book = xlsxwriter.Workbook(str(tmp_path / "b.xlsx"))
    book.add_worksheet("表").write(0, 0, "政府信息")
    book.close()
    for name in ("a.xlsx", "b.xlsx"):
        inspect_workbook(tmp_path / name)
        assert kind_vetted(tmp_path / name) == "workbook"


def test_workbook_extension_does_not_matter(tmp_path: Path) -> None:
    path = write(tmp_path, "report.txt", zip_bytes(xlsx_members()))
    assert kind_vetted(path) == "workbook"


def test_corrupt_xlsx(tmp_path: Path) -> None:
    data = bytearray(zip_bytes(xlsx_members()))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start, start + info.compress_size):
        data[i] ^= 0x55
    path = write(tmp_path, "bad.xlsx", bytes(data))
    with pytest.raises(UnreadableInputError, match=r"corrupt \.xlsx: .*re-save it from Excel"):
        inspect_workbook(path)
    with pytest.raises(UnreadableInputError, match=r"corrupt \.xlsx"):
        load(path)


def test_truncated_xlsx(tmp_path: Path) -> None:
    data = zip_bytes(xlsx_members())
    path = write(tmp_path, "cut.xlsx", data[: len(data) // 2])
    with pytest.raises(UnreadableInputError, match=r"corrupt \.xlsx: damaged or truncated"):
        inspect_workbook(path)
    with pytest.raises(UnreadableInputError, match=r"corrupt \.xlsx"):
        load(path)


def test_old_xls(tmp_path: Path) -> None:
    path = write(tmp_path, "old.xls", ole_bytes("Workbook", "\x05SummaryInformation"))
    with pytest.raises(UnreadableInputError, match=r"old Excel 97-2003 \.xls is not supported.*save as \.xlsx"):
        inspect_workbook(path)
    with pytest.raises(UnreadableInputError, match=r"\.xls"):
        load(path)


def test_encrypted_workbook(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.xlsx", ole_bytes("EncryptionInfo", "EncryptedPackage"))
    with pytest.raises(UnreadableInputError, match="workbook is password-protected: remove the password"):
        inspect_workbook(path)
    with pytest.raises(UnreadableInputError, match="password-protected"):
        load(path)


def test_xlsm_with_vba_project(tmp_path: Path) -> None:
    members = xlsx_members(main_ct=XLSM_CT)
    members["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0" + bytes(100)
    path = write(tmp_path, "macro.xlsm", zip_bytes(members))
    with pytest.raises(UnsafeInputError, match=r"\.xlsm with macros is refused: macros are never run or kept"):
        inspect_workbook(path)
    with pytest.raises(UnsafeInputError, match="macros"):
        load(path)


def test_macro_enabled_content_type_without_vba(tmp_path: Path) -> None:
    path = write(tmp_path, "macro.xlsx", zip_bytes(xlsx_members(main_ct=XLSM_CT)))
    with pytest.raises(UnsafeInputError, match="macros"):
        inspect_workbook(path)


def test_zip_bomb_ratio(bomb_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert bomb_path.stat().st_size < 5 * 1024 * 1024
    forbid_member_reads(monkeypatch)
    with pytest.raises(UnsafeInputError, match=r"refused: compressed data expands to 300\.0 MB.*possible zip bomb"):
        inspect_workbook(bomb_path)
    with pytest.raises(UnsafeInputError, match="zip bomb"):
        load(bomb_path)


def test_zip_bomb_total_size(bomb_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_member_reads(monkeypatch)
    # With the ratio check out of the way, the total-size ceiling still refuses it.
    with pytest.raises(UnsafeInputError, match=r"over the 200\.0 MB limit \(possible zip bomb\)"):
        inspect_workbook(bomb_path, Limits(max_ratio=10**9, max_uncompressed_bytes=200 * 1024 * 1024))


def test_small_zip_bomb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = zip_bomb(tmp_path / "small.xlsx", megabytes=20)
    forbid_member_reads(monkeypatch)
    with pytest.raises(UnsafeInputError, match="zip bomb"):
        inspect_workbook(path)


def test_too_many_members(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    members = xlsx_members()
    members.update({f"xl/media/image{i}.png": b"" for i in range(30)})
    path = write(tmp_path, "many.xlsx", zip_bytes(members))
    forbid_member_reads(monkeypatch)
    with pytest.raises(UnsafeInputError, match="members"):
        inspect_workbook(path, Limits(max_members=20))


def test_billion_laughs_workbook(tmp_path: Path) -> None:
    laughs = '<!DOCTYPE lolz [<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10)
    )
    path = write(tmp_path, "laughs.xlsx", zip_bytes(xlsx_members(workbook_prolog=laughs + "]>")))
    with pytest.raises(UnsafeInputError, match=r"xl/workbook\.xml declares XML entities"):
        inspect_workbook(path)
    with pytest.raises(UnsafeInputError, match="entit"):
        load(path)


def test_external_entity_in_sheet(tmp_path: Path) -> None:
    members = xlsx_members()
    members["xl/worksheets/sheet1.xml"] = sheet_xml(
        prolog='<!-- c --><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    ).encode()
    path = write(tmp_path, "xxe.xlsx", zip_bytes(members))
    with pytest.raises(UnsafeInputError, match=r"sheet1\.xml declares XML entities"):
        inspect_workbook(path)


def test_endless_prolog(tmp_path: Path) -> None:
    members = xlsx_members()
    members["xl/worksheets/sheet1.xml"] = b"<?xml version='1.0'?>" + b"<!-- padding -->" * 5000 + b"<worksheet/>"
    with pytest.raises(UnsafeInputError, match="no root element"):
        inspect_workbook(write(tmp_path, "pad.xlsx", zip_bytes(members)))


def test_doctype_in_a_comment_is_fine(tmp_path: Path) -> None:
    members = xlsx_members()
    members["xl/worksheets/sheet1.xml"] = sheet_xml(prolog="<!-- <!DOCTYPE not really> -->").encode()
    inspect_workbook(write(tmp_path, "ok.xlsx", zip_bytes(members)))


def test_sixty_sheets(tmp_path: Path) -> None:
    path = write(tmp_path, "wide.xlsx", zip_bytes(xlsx_members(n_sheets=60)))
    with pytest.raises(UnsafeInputError, match="workbook has 60 sheets"):
        inspect_workbook(path)


def test_huge_dimension(tmp_path: Path) -> None:
    path = write(tmp_path, "huge.xlsx", zip_bytes(xlsx_members(dimension="A1:XFD1048576")))
    with pytest.raises(UnsafeInputError, match=r"claims 1048576 rows × 16384 columns"):
        inspect_workbook(path)
    with pytest.raises(UnsafeInputError, match="rows"):
        load(path)


def test_dimension_over_cell_limit_only(tmp_path: Path) -> None:
    # 5000 rows is fine, 5000 × 702 cells is not (against a cell limit of a million).
    path = write(tmp_path, "cells.xlsx", zip_bytes(xlsx_members(dimension="A1:ZZ5000")))
    with pytest.raises(UnsafeInputError, match="cells"):
        inspect_workbook(path, Limits(max_cells=1_000_000))


def test_limits_can_be_raised(tmp_path: Path, bomb_path: Path) -> None:
    wide = write(tmp_path, "wide.xlsx", zip_bytes(xlsx_members(n_sheets=60)))
    huge = write(tmp_path, "huge.xlsx", zip_bytes(xlsx_members(dimension="A1:XFD1048576")))
    inspect_workbook(wide, Limits(max_sheets=100))
    inspect_workbook(huge, Limits(max_rows_per_sheet=2_000_000, max_cells=10**11))
    assert kind_vetted(wide, Limits(max_sheets=60)) == "workbook"
    # The bomb passes the size checks when allowed; its zeros then fail as XML, never as a crash.
    with pytest.raises(UnreadableInputError, match=r"corrupt \.xlsx: .*sheet1\.xml is not XML"):
        inspect_workbook(bomb_path, Limits(max_ratio=10**9, max_uncompressed_bytes=10**9))


def test_external_links_are_allowed(tmp_path: Path) -> None:
    members = xlsx_members()
    members["xl/externalLinks/externalLink1.xml"] = (
        f'<?xml version="1.0"?><externalLink xmlns="{MAIN_NS}"><externalBook r:id="rId1" '
        f'xmlns:r="{REL_NS}"/></externalLink>'
    ).encode()
    members["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
        f'<?xml version="1.0"?><Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" '
        'Target="file:///C:/other.xlsx" TargetMode="External"/></Relationships>'
    ).encode()
    inspect_workbook(write(tmp_path, "links.xlsx", zip_bytes(members)))


def test_missing_workbook_part(tmp_path: Path) -> None:
    members = xlsx_members()
    del members["[Content_Types].xml"]
    path = write(tmp_path, "parts.xlsx", zip_bytes(members))
    with pytest.raises(UnreadableInputError, match=r"not an \.xlsx workbook"):
        inspect_workbook(path)


def test_malformed_workbook_xml(tmp_path: Path) -> None:
    members = xlsx_members()
    members["xl/workbook.xml"] = b"<workbook><sheets></workbook>"
    path = write(tmp_path, "bad.xlsx", zip_bytes(members))
    with pytest.raises(UnreadableInputError, match=r"corrupt \.xlsx: .*workbook\.xml is not well-formed"):
        inspect_workbook(path)


def test_too_large_workbook_file(tmp_path: Path) -> None:
    path = write(tmp_path, "ok.xlsx", zip_bytes(xlsx_members()))
    with pytest.raises(UnsafeInputError, match="over the"):
        inspect_workbook(path, Limits(max_file_bytes=100))


def test_ensure_defused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ensure_defused()
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    with pytest.raises(FormatDataError, match="defusedxml"):
        ensure_defused()
    with pytest.raises(FormatDataError):
        inspect_workbook(write(tmp_path, "ok.xlsx", zip_bytes(xlsx_members())))


# ---------------------------------------------------------------- property: random bytes

_PREFIXES = [
    b"",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xfe\xff",
    b"\xff\xfe\x00\x00",
    b"%PDF",
    "报告".encode("gbk"),
    "报告".encode("utf-16-le"),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(_PREFIXES), body=st.binary(max_size=2048))
def test_random_bytes_only_raise_our_errors(prefix: bytes, body: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.txt"
        path.write_bytes(prefix + body)
        try:
            loaded = load(path)
        except NianbaoError as exc:
            assert str(exc) and "\n" not in str(exc)
            return
        # Random bytes never make a standard workbook, so whatever reads is text.
        assert isinstance(loaded, Document)
        assert loaded.text and loaded.text.strip()
        assert "\r" not in loaded.text
        assert not loaded.text.startswith("\ufeff")


def test_default_limits_accept_a_large_summary(tmp_path: Path) -> None:
    # A summary of 10,000 reports claims 10,004 rows × ~230 columns in its detail sheet: it must read back.
    path = write(tmp_path, "summary.xlsx", zip_bytes(xlsx_members(dimension="A1:HV10004")))
    inspect_workbook(path)


# ---------------------------------------------------------------- counted while streaming, whatever <dimension> says (#18)


def rows_xml(n_rows: int, *, per_row: int = 1, prefix: str = "", dimension: str | None = None) -> bytes:
    """A worksheet of n_rows rows of per_row numbers, with no <dimension> unless given (it is optional)."""
    p = f"{prefix}:" if prefix else ""
    ns = f'xmlns:{prefix}="{MAIN_NS}"' if prefix else f'xmlns="{MAIN_NS}"'
    dim = f'<{p}dimension ref="{dimension}"/>' if dimension else ""
    rows = "".join(
        f'<{p}row r="{r}">'
        + "".join(f'<{p}c r="{chr(65 + c)}{r}"><{p}v>1</{p}v></{p}c>' for c in range(per_row))
        + f"</{p}row>"
        for r in range(1, n_rows + 1)
    )
    return f'<?xml version="1.0"?><{p}worksheet {ns}>{dim}<{p}sheetData>{rows}</{p}sheetData></{p}worksheet>'.encode()


def workbook_with(tmp_path: Path, sheet: bytes, name: str = "S1") -> Path:
    """A minimal workbook whose one sheet (named name) is this XML."""
    members = xlsx_members()
    members["xl/worksheets/sheet1.xml"] = sheet
    members["xl/workbook.xml"] = members["xl/workbook.xml"].replace(b'name="S1"', f'name="{name}"'.encode())
    return write(tmp_path, "book.xlsx", zip_bytes(members))


def refusal(call: Any) -> UnreadableInputError:
    """The error a call raises (an UnreadableInputError or one of its kinds)."""
    with pytest.raises(UnreadableInputError) as caught:
        call()
    return caught.value


def test_rows_are_counted_without_a_dimension(tmp_path: Path) -> None:
    path = workbook_with(tmp_path, rows_xml(1001))
    error = refusal(lambda: inspect_workbook(path, Limits(max_rows_per_sheet=1000)))
    assert isinstance(error, UnsafeInputError) and error.code == "sheet-too-many-rows"
    assert "1000" in str(error) and "max_rows_per_sheet" in str(error)
    inspect_workbook(path, Limits(max_rows_per_sheet=1001))


def test_cells_are_counted_when_the_dimension_lies(tmp_path: Path) -> None:
    path = workbook_with(tmp_path, rows_xml(100, per_row=20, dimension="A1:B2"))
    error = refusal(lambda: inspect_workbook(path, Limits(max_cells=1999)))
    assert isinstance(error, UnsafeInputError) and error.code == "sheet-too-many-cells"
    inspect_workbook(path, Limits(max_cells=2000))


def test_tags_the_quick_count_misses_are_counted_by_the_reader(tmp_path: Path) -> None:
    path = workbook_with(tmp_path, rows_xml(50, per_row=10, prefix="x"))
    inspect_workbook(path, Limits(max_rows_per_sheet=40, max_cells=400))  # prefixed tags pass the byte count
    error = refusal(lambda: xlsx.load(path, limits=Limits(max_rows_per_sheet=40)))
    assert error.code == "sheet-too-many-rows"
    error = refusal(lambda: xlsx.load(path, limits=Limits(max_cells=400)))
    assert error.code == "sheet-too-many-cells"
    assert xlsx.load(path).sheets["S1"].values[(49, 9)] == 1


def test_the_sheets_read_back_have_a_size_limit_a_summarys_detail_sheets_do_not(tmp_path: Path) -> None:
    limits = Limits(max_read_xml_bytes=100_000)
    big = rows_xml(2000, per_row=3)
    assert len(big) > 100_000
    path = workbook_with(tmp_path, big)
    error = refusal(lambda: inspect_workbook(path, limits))
    assert error.code == "workbook-read-too-large" and "xl/worksheets/sheet1.xml" in str(error)
    assert refusal(lambda: xlsx.load(path, limits=limits)).code == "workbook-read-too-large"
    detail = workbook_with(tmp_path, big, name="汇总·三 申请处理")
    inspect_workbook(detail, limits)  # never read cell by cell
    assert xlsx.load(detail, skip_prefix="汇总·", limits=limits).sheets == {}
    assert refusal(lambda: inspect_workbook(detail, limits, read_all=True)).code == "workbook-read-too-large"


def test_shared_formulas_count_as_written_out(tmp_path: Path) -> None:
    master = "+".join(f"$A${i}" for i in range(1, 200))  # ~1,200 characters
    cells = "".join(f'<row r="{r}"><c r="B{r}"><f t="shared" si="0"/><v>1</v></c></row>' for r in range(2, 302))
    sheet = (
        f'<?xml version="1.0"?><worksheet xmlns="{MAIN_NS}"><sheetData><row r="1"><c r="B1">'
        f'<f t="shared" ref="B1:B301" si="0">{master}+A1</f><v>1</v></c></row>{cells}</sheetData></worksheet>'
    ).encode()
    assert len(sheet) < 40_000
    path = workbook_with(tmp_path, sheet)
    inspect_workbook(path, Limits(max_read_xml_bytes=100_000))
    # 300 copies of a 1,200-character formula, each charged for its expansion: far past a 100 KB budget.
    error = refusal(lambda: xlsx.load(path, limits=Limits(max_read_xml_bytes=100_000)))
    assert error.code == "workbook-read-too-large"
    assert xlsx.load(path).sheets["S1"].values[(300, 1)] == f"={master}+A301"


def test_a_cell_beyond_excels_grid_is_corrupt(tmp_path: Path) -> None:
    sheet = f'<?xml version="1.0"?><worksheet xmlns="{MAIN_NS}"><sheetData><row r="1"><c r="A99999999"><v>1</v></c></row></sheetData></worksheet>'
    path = workbook_with(tmp_path, sheet.encode())
    error = refusal(lambda: xlsx.load(path))
    assert error.code == "cell-outside-grid" and "A99999999" in str(error)


def test_annotating_reads_every_sheet_so_every_sheet_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from convert import safety
    from convert.outputs.annotate import OPENPYXL_COST, annotate_workbook

    big = rows_xml(2000, per_row=3)
    monkeypatch.setattr(safety, "DEFAULT_LIMITS", Limits(max_read_xml_bytes=OPENPYXL_COST * (len(big) - 1)))
    detail = workbook_with(tmp_path, big, name="汇总·三 申请处理")
    inspect_workbook(detail)
    error = refusal(lambda: annotate_workbook(detail, [], tmp_path / "annotated.xlsx"))
    assert error.code == "workbook-read-too-large"
    assert not (tmp_path / "annotated.xlsx").exists()
