"""Word inputs through the commands: .docx, .doc and .wps read as the record they were made from, bad ones refused.

.doc and .wps go through LibreOffice, once per command for all of them; these tests count its starts with a
wrapper script on PATH, and take it off PATH to see what a machine without LibreOffice is told.
"""

from __future__ import annotations

import http.server
import io
import json
import os
import shutil
import struct
import sys
import threading
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.generate import make_record
from convert.cli import app
from convert.errors import UnreadableInputError
from convert.inputs import identify, libreoffice, load
from convert.reader import read_report
from convert.record import Record
from tests.docgen import DocxOptions, convert_documents, render_docx
from tests.lo import needs_libreoffice
from tests.test_docx_rows import make_docx, p, r

# The messages these tests pin are the English ones (NIANBAO_LANG=en); the Chinese are tested in test_language.py.
pytestmark = pytest.mark.usefixtures("english")

runner = CliRunner()
REAL_SOFFICE = shutil.which("soffice")
SLEEP = shutil.which("sleep") or "/bin/sleep"


def with_libreoffice(test: Callable[..., None]) -> Callable[..., None]:
    """Mark a test as needing LibreOffice (skipped without soffice)."""
    for mark in needs_libreoffice:
        test = mark(test)
    return test


# -- documents ------------------------------------------------------------------------------------------------------------
def compound_file(streams: dict[str, bytes], storages: tuple[str, ...] = ()) -> bytes:
    """A small, valid OLE2 compound file (512-byte sectors) holding the streams and (empty) storages, flat."""
    size, free, end, fat_mark, none = 512, 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    data, fat, starts = b"", [], {}
    for name, content in streams.items():
        content = content.ljust(4096, b"\x00")  # at the mini-stream cutoff: in ordinary sectors
        n = -(-len(content) // size)
        starts[name] = len(fat)
        fat += [len(fat) + i + 1 for i in range(n - 1)] + [end]
        data += content.ljust(n * size, b"\x00")
    names = ["Root Entry", *streams, *storages]
    entries = b""
    for i, name in enumerate(names):
        kind = 5 if i == 0 else (2 if name in streams else 1)
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        left, right, child = (
            none,
            (i + 1 if 0 < i < len(names) - 1 else none),
            (1 if i == 0 and len(names) > 1 else none),
        )
        start = starts.get(name, end)
        length = max(len(streams[name]), 4096) if name in streams else 0
        entries += (
            encoded.ljust(64, b"\x00")
            + struct.pack("<HBBIII", len(encoded), kind, 1, left, right, child)
            + bytes(16 + 4 + 16)
            + struct.pack("<IQ", start, length)
        )
    entries = entries.ljust(-(-len(entries) // size) * size, b"\x00")
    first_dir = len(fat)
    n_dir = len(entries) // size
    fat += [first_dir + i + 1 for i in range(n_dir - 1)] + [end]
    fat_sector = len(fat)
    fat += [fat_mark]
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat).ljust(size, b"\xff")
    difat = struct.pack("<I", fat_sector) + struct.pack("<I", free) * 108
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(16)
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<IIIIIIIII", 0, 1, first_dir, 0, 4096, end, 0, end, 0)
        + difat
    )
    return header + data + entries + fat_bytes


def word_document(flags: int = 0) -> bytes:
    """The start of a WordDocument stream: its FIB's magic, version and flags (0x0100: encrypted)."""
    return struct.pack("<HHHHHH", 0xA5EC, 0x00C1, 0, 0x0804, 0, flags)


def doc_file(*, flags: int = 0, streams: dict[str, bytes] | None = None, storages: tuple[str, ...] = ()) -> bytes:
    """A Word 97 file's compound structure (no text in it: enough to be told and refused, not to be read)."""
    return compound_file({"WordDocument": word_document(flags), "1Table": b"", **(streams or {})}, storages)


def word_bomb() -> bytes:
    """A .docx whose word/document.xml inflates to 1 GB of zeros from 1 MB (built in a second: one block repeated)."""
    block = bytes(1 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    once = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    stream = once + again * 1023 + packer.flush()
    crc = 0
    for _ in range(1024):
        crc = zlib.crc32(block, crc)
    good = zipfile.ZipFile(io.BytesIO(make_docx(p(r("x")))))
    members = [(i.filename, good.read(i)) for i in good.infolist() if i.filename != "word/document.xml"]
    out, central = io.BytesIO(), b""
    for name, raw, size, check in [
        *((n, _deflate(c), len(c), zlib.crc32(c)) for n, c in members),
        ("word/document.xml", stream, 1 << 30, crc),
    ]:
        encoded = name.encode()
        offset = out.tell()
        fields = struct.pack("<HHHHHIIIH", 20, 0, 8, 0, 0, check, len(raw), size, len(encoded))
        out.write(b"PK\x03\x04" + fields + b"\x00\x00" + encoded + raw)
        central += b"PK\x01\x02" + struct.pack("<H", 20) + fields + struct.pack("<HHHHII", 0, 0, 0, 0, 0, offset)
        central += encoded
    start = out.tell()
    out.write(central + b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 4, 4, len(central), start, 0))
    return out.getvalue()


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def with_wps_mark(docx: bytes) -> bytes:
    """The document with the property WPS Office writes into every file it saves (LibreOffice keeps it in a .doc)."""
    src = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/docProps/custom.xml" '
                    b'ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>',
                )
            elif info.filename == "_rels/.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdWps" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    b'relationships/custom-properties" Target="docProps/custom.xml"/></Relationships>',
                )
            dst.writestr(info, data)
        dst.writestr(
            "docProps/custom.xml",
            '<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/'
            '2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
            '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="KSOProductBuildVer">'
            "<vt:lpwstr>2052-11.1.0.11664</vt:lpwstr></property></Properties>",
        )
    return out.getvalue()


def counting_soffice(folder: Path, count: Path, target: str | None = REAL_SOFFICE) -> None:
    """Put a soffice on PATH that notes each start in count, then runs target (the real one) or sleeps."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "soffice"
    run = f'exec "{target}" "$@"' if target else f'echo $$ > "$0.pid"; exec "{SLEEP}" 600'
    script.write_text(f'#!/bin/sh\necho start >> "{count}"\n{run}\n', encoding="utf-8")
    script.chmod(0o755)


def starts(count: Path) -> int:
    """How many times the counting soffice was started."""
    return len(count.read_text().splitlines()) if count.exists() else 0


def records_of(stdout: str) -> dict[str, Record]:
    """The records `nianbao read` printed, by input file name."""
    out = {}
    for line in stdout.splitlines():
        if line.startswith("{"):
            record = Record.from_json(json.loads(line))
            out[Path(record.source["path"]).name] = record
    return out


# -- .docx ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["2019", "2021"])
def test_convert_a_docx_to_its_workbook(tmp_path: Path, version: str) -> None:
    record = make_record(version, 21)
    source = tmp_path / "城关镇.docx"
    render_docx(record, source, DocxOptions(phantom=True, seed=4))
    result = runner.invoke(app, ["convert", str(source), "-o", str(tmp_path / "out"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    back = read_report(tmp_path / "out" / "城关镇.xlsx")
    assert back.cells == record.cells
    assert (back.agency, back.year, back.format) == (record.agency, record.year, record.format)


def test_a_word_template_is_read_like_a_document(tmp_path: Path) -> None:
    record = make_record("2021", 22)
    src = zipfile.ZipFile(io.BytesIO(render_docx(record)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            part = src.read(info)
            if info.filename == "[Content_Types].xml":
                part = part.replace(b"document.main+xml", b"template.main+xml")
                assert b"template.main+xml" in part
            dst.writestr(info, part)
    path = tmp_path / "form.dotx"
    path.write_bytes(out.getvalue())
    assert read_report(path).cells == record.cells


# -- .doc and .wps through LibreOffice ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def old_word(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Four old Word files made by LibreOffice: .doc of both versions, a WPS-signed .wps and a .doc renamed .wps."""
    root = tmp_path_factory.mktemp("old-word")
    records = {"a": make_record("2019", 31), "b": make_record("2021", 32), "c": make_record("2021", 33)}
    records["d"] = make_record("2019", 34)
    for name, record in records.items():
        data = render_docx(record, options=DocxOptions(phantom=name == "b", seed=1))
        (root / f"{name}.docx").write_bytes(with_wps_mark(data) if name == "c" else data)
    made = convert_documents([root / f"{n}.docx" for n in records], "doc:MS Word 97", root / "made")
    files = {}
    for name, doc in zip(records, made, strict=True):
        files[name] = root / "in" / f"{name}.{'wps' if name in 'cd' else 'doc'}"
        files[name].parent.mkdir(exist_ok=True)
        shutil.copyfile(doc, files[name])
    return {"records": records, "files": files, "root": root}


@with_libreoffice
def test_a_batch_of_old_word_files_converts_in_one_libreoffice_start(
    old_word: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for path in old_word["files"].values():
        shutil.copyfile(path, folder / path.name)
    shutil.copyfile(samples / "houhe-2021.txt", folder / "houhe-2021.txt")
    render_docx(make_record("2021", 35), folder / "e.docx")
    count = tmp_path / "starts.txt"
    counting_soffice(tmp_path / "bin", count)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    before = sorted(p.name for p in folder.iterdir())

    result = runner.invoke(app, ["read", str(folder), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert starts(count) == 1  # four old Word files, one LibreOffice start
    got = records_of(result.stdout)
    assert sorted(got) == ["a.doc", "b.doc", "c.wps", "d.wps", "e.docx", "houhe-2021.txt"]
    for name, record in old_word["records"].items():
        assert got[old_word["files"][name].name].cells == record.cells, name
    # WPS is told by the mark it writes, not by the name: a renamed .doc stays a .doc.
    layouts = {name: r.source["layout"] for name, r in got.items()}
    assert layouts == {
        "a.doc": "doc",
        "b.doc": "doc",
        "c.wps": "wps",
        "d.wps": "doc",
        "e.docx": "docx",
        "houhe-2021.txt": "text",
    }
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written beside the inputs

    # Outside a batch, one file converts alone.
    assert read_report(old_word["files"]["a"]).cells == old_word["records"]["a"].cells
    assert starts(count) == 2


def converting_soffice(folder: Path, count: Path, docx: Path) -> None:
    """Put a soffice on PATH that notes each start in count and "converts" every input to a copy of docx."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "soffice"
    script.write_text(
        f"#!{sys.executable}\n"
        "import shutil, sys\n"
        "from pathlib import Path\n"
        f"Path({str(count)!r}).open('a').write('start\\n')\n"
        "args = sys.argv[1:]\n"
        "out = Path(args[args.index('--outdir') + 1])\n"
        "for arg in args:\n"
        "    if arg.endswith('.doc'):\n"
        f"        shutil.copyfile({str(docx)!r}, out / (Path(arg).stem + '.docx'))\n",
        encoding="utf-8",
    )
    script.chmod(0o755)


@pytest.mark.parametrize(("files", "jobs", "expected"), [(4, 2, 1), (17, 1, 1), (17, 2, 2), (40, 2, 2)])
def test_a_batch_starts_libreoffice_once_or_once_a_core_for_many_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: int, jobs: int, expected: int
) -> None:
    record = make_record("2021", 41)
    docx = tmp_path / "made.docx"
    render_docx(record, docx)
    count = tmp_path / "starts.txt"
    converting_soffice(tmp_path / "bin", count, docx)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(files):
        (folder / f"r{i:02d}.doc").write_bytes(doc_file(streams={"Data": i.to_bytes(2, "little")}))
    result = runner.invoke(app, ["read", str(folder), "--jobs", str(jobs)])
    assert result.exit_code == 0, result.output
    assert starts(count) == expected
    got = records_of(result.stdout)
    assert len(got) == files and all(r.cells == record.cells for r in got.values())


@with_libreoffice
def test_an_encrypted_doc_is_refused_before_libreoffice_sees_it(
    old_word: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = bytearray(old_word["files"]["a"].read_bytes())
    # The FIB starts a sector (512 bytes) of the WordDocument stream: magic 0xA5EC; its flags word sits at 0x0A.
    at = next(i for i in range(512, len(data), 512) if data[i : i + 2] == b"\xec\xa5")
    data[at + 0x0B] |= 0x01  # fEncrypted
    path = tmp_path / "secret.doc"
    path.write_bytes(bytes(data))
    count = tmp_path / "starts.txt"
    counting_soffice(tmp_path / "bin", count)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    result = runner.invoke(app, ["read", str(path), "--jobs", "1"])
    assert result.exit_code == 2
    assert f"Error: {path}: document is password-protected: remove the password" in result.stderr
    assert starts(count) == 0


def test_a_workbook_naming_word_in_a_cell_is_no_word_document(tmp_path: Path) -> None:
    path = tmp_path / "book.xls"
    path.write_bytes(compound_file({"Workbook": "见 WordDocument 流".encode("utf-16-le")}))
    assert identify(path).kind.name == "xls"
    path.write_bytes(doc_file())
    assert identify(path).kind.name == "doc"


def test_words_in_a_document_never_pass_for_its_structure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Its text names an encrypted package and a macro project; its directory holds neither.
    path = tmp_path / "report.doc"
    path.write_bytes(doc_file(streams={"Data": "EncryptedPackage EncryptionInfo Macros".encode("utf-16-le")}))
    monkeypatch.setenv("PATH", str(tmp_path))  # no LibreOffice: the file got as far as converting
    with pytest.raises(UnreadableInputError, match="needs LibreOffice"):
        load(path)


def test_without_libreoffice_an_old_word_file_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    (tmp_path / "in").mkdir()
    doc = tmp_path / "in" / "report.doc"
    doc.write_bytes(doc_file())
    shutil.copyfile(samples / "luoqi-2019.txt", tmp_path / "in" / "luoqi-2019.txt")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = runner.invoke(app, ["convert", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--jobs", "1"])
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors == [f"Error: {doc}: {UnreadableInputError('libreoffice-missing')}"]
    assert "apt-get install libreoffice-writer-nogui" in errors[0]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["luoqi-2019.xlsx"]


def test_a_libreoffice_that_hangs_is_killed_at_its_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = tmp_path / "report.doc"
    doc.write_bytes(doc_file())
    count = tmp_path / "starts.txt"
    counting_soffice(tmp_path / "bin", count, target=None)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setattr(libreoffice, "TIMEOUT_START_SECONDS", 1.0)
    monkeypatch.setattr(libreoffice, "TIMEOUT_PER_FILE_SECONDS", 0.0)
    result = runner.invoke(app, ["read", str(doc), "--jobs", "1"])
    assert result.exit_code == 2
    assert "LibreOffice did not finish in 1 s" in result.stderr
    pid = int((tmp_path / "bin" / "soffice.pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@with_libreoffice
def test_a_picture_linked_from_the_web_is_never_fetched(tmp_path: Path) -> None:
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_error(404)

        do_HEAD = do_OPTIONS = do_PROPFIND = do_GET  # what LibreOffice's WebDAV client asks first

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/logo.png"
        page = tmp_path / "page.html"
        page.write_text(
            f'<html><body><p>正文</p><p><img src="{url}" width="40" height="40"></p></body></html>', "utf-8"
        )
        doc = convert_documents([page], "doc:MS Word 97", tmp_path / "doc")[0]  # LibreOffice links the picture
        hits.clear()
        result = runner.invoke(app, ["read", str(doc), "--jobs", "1"])
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 2
    assert f"links to outside content (image → {url}); nothing is ever fetched" in result.stderr
    assert hits == []


# -- bad Word files: one line, exit 2, nothing written, nothing run or fetched ---------------------------------------------
ATTACHED = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate"
BAD_WORD = [
    (
        "encrypted.docx",
        lambda: compound_file({"EncryptionInfo": b"\x04\x00\x04\x00", "EncryptedPackage": b"\x00" * 64}),
        "document is password-protected",
    ),
    ("encrypted.doc", lambda: doc_file(flags=0x0100), "document is password-protected"),
    ("obfuscated.doc", lambda: doc_file(flags=0x8000), "document is password-protected"),
    (
        "macros.docm",
        lambda: make_docx(
            p(r("x")),
            parts={"word/vbaProject.bin": bytes(64)},
            content_type="application/vnd.ms-word.document.macroEnabled.main+xml",
        ),
        "macros are never run",
    ),
    ("macros.doc", lambda: doc_file(storages=("Macros", "VBA")), "macros are never run"),
    (
        "remote-template.docx",
        lambda: make_docx(
            p(r("x")),
            document_rels=f'<Relationship Id="rId7" Type="{ATTACHED}" Target="http://x.example/t.dotm" '
            'TargetMode="External"/>',
        ),
        "links to outside content (attachedTemplate → http://x.example/t.dotm); nothing is ever fetched",
    ),
    (
        "object.docx",
        lambda: make_docx(p(r("x")), parts={"word/embeddings/oleObject1.bin": bytes(16)}),
        "embeds an object",
    ),
    ("object.doc", lambda: doc_file(storages=("ObjectPool", "_1234567890")), "embeds an object"),
    ("bomb.docx", word_bomb, "expands to 1.0 GB"),
]


@pytest.mark.parametrize(("name", "build", "words"), BAD_WORD, ids=[b[0] for b in BAD_WORD])
def test_bad_word_files_are_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, build: Callable[[], bytes], words: str
) -> None:
    path = tmp_path / "in" / name
    path.parent.mkdir()
    path.write_bytes(build())
    # LibreOffice is never started for them: a soffice that would count it.
    count = tmp_path / "starts.txt"
    counting_soffice(tmp_path / "bin", count, target=None)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    out = tmp_path / "out"
    result = runner.invoke(app, ["convert", str(path), "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0].startswith(f"Error: {path}: "), result.stderr
    assert words in errors[0]
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())
    assert starts(count) == 0
