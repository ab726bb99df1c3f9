"""Fuzz the readers: mutated reports, random bytes and edited workbooks end in a record or one of our errors."""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import random
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convert.errors import NianbaoError

SAMPLES = sorted((Path(__file__).resolve().parent.parent / "samples").glob("*.txt"))
SAMPLE_TEXTS = {p.name: p.read_text("utf-8") for p in SAMPLES}

HAVE_READER = importlib.util.find_spec("convert.reader") is not None
HAVE_WORKBOOK = all(importlib.util.find_spec(m) is not None for m in ("convert.outputs.standard", "convert.readback"))
needs_reader = pytest.mark.skipif(not HAVE_READER, reason="convert/reader.py (read_report) is not written yet")
needs_workbook = pytest.mark.skipif(
    not HAVE_WORKBOOK, reason="convert/outputs/standard.py and convert/readback.py are not written yet"
)

# Hypothesis reruns each example in the same process; the whole file is budgeted at well under a minute on 2 cores.
_BASE = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def fuzz(examples: int) -> settings:
    """Settings for one fuzz test: no per-example deadline, a fixed number of examples."""
    return settings(_BASE, max_examples=examples)


@contextmanager
def scratch(name: str, data: bytes) -> Iterator[Path]:
    """A fresh folder holding one input file; fails the test if reading it leaves any other file behind."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        yield path
        left = sorted(p.name for p in Path(tmp).iterdir())
        assert left == [name], f"reading wrote files: {left}"
        assert path.read_bytes() == data, "reading changed the input"


def outcome(call: Callable[[], object]) -> object:
    """Run a reader: a result, or one of our errors with a one-line message; anything else fails the test."""
    try:
        return call()
    except NianbaoError as exc:
        message = str(exc)
        assert message.strip(), f"{type(exc).__name__} without a message"
        return exc


# ---------------------------------------------------------------- mutated sample reports

JUNK = st.sampled_from(
    [b"\x00", b"\xff\xfe", b"\x00\x00\x00", b"\xef\xbb\xbf", b"\r", b"\x1a", b"<", b"|", b"\xa1\xa1", b"\x80", b"\t\t"]
) | st.binary(min_size=1, max_size=16)


@st.composite
def mutated_report(draw: st.DrawFn) -> tuple[str, bytes]:
    """A sample report with lines deleted, duplicated or swapped, junk bytes inserted, and re-encoded."""
    name = draw(st.sampled_from(sorted(SAMPLE_TEXTS)))
    lines = SAMPLE_TEXTS[name].split("\n")
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "blank", "truncate"]))
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(j, lines[i])
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "blank":
            lines[i] = ""
        elif op == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, max(0, len(lines[i]))))]
    text = "\n".join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le", "utf-16-be"]))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    data = bytearray(text.replace("\n", eol).encode(encoding))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(JUNK)
    return name, bytes(data)


@needs_reader
@fuzz(300)
@given(case=mutated_report())
def test_mutated_reports_read_or_refuse(case: tuple[str, bytes]) -> None:
    from convert.reader import read_report

    name, data = case
    with scratch(name, data) as path:
        outcome(lambda: read_report(path))


@needs_reader
@fuzz(200)
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".txt", ".md", ".html", ".xlsx", ""]))
def test_random_bytes_read_or_refuse(data: bytes, suffix: str) -> None:
    from convert.reader import read_report

    with scratch("input" + suffix, data) as path:
        result = outcome(lambda: read_report(path))
    if not data.strip():
        assert isinstance(result, NianbaoError)


# ---------------------------------------------------------------- edited and damaged workbooks


class Books(dict):
    """Workbook bytes by format version, with a short repr so failing examples stay readable."""

    def __repr__(self) -> str:
        return f"<written workbooks {sorted(self)}>"


class Altered(bytes):
    """Workbook bytes that say in their repr how they were altered."""

    how: str = ""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes: {self.how}>"


@pytest.fixture(scope="module")
def written_workbooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Standard workbooks of both format versions, written once, as bytes."""
    if not HAVE_WORKBOOK:
        pytest.skip("convert/outputs/standard.py and convert/readback.py are not written yet")
    from convert.outputs.standard import write_workbook
    from tests.strategies import consistent_record

    folder = tmp_path_factory.mktemp("written")
    books = Books()
    for version in ("2019", "2021"):
        path = write_workbook(consistent_record(version, seed=3), folder / f"{version}.xlsx")
        books[version] = Path(path).read_bytes()
    return books


CELL_VALUES = st.one_of(
    st.none(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30).map(lambda s: "".join(ch for ch in s if ch.isprintable())),
    st.sampled_from(["=1/0", "=SUM(A1:A3)", "=A1", "=#REF!", "合计", "  12 ", "1,234", "12件", "—", "-", "TRUE"]),
    st.booleans(),
    st.dates(dt.date(1900, 3, 1), dt.date(2100, 1, 1)),
)
EDITS = st.lists(
    st.tuples(st.integers(0, 20), st.integers(1, 90), st.integers(1, 16), CELL_VALUES), min_size=1, max_size=6
)


@needs_workbook
@fuzz(40)
@given(version=st.sampled_from(["2019", "2021"]), edits=EDITS, drop_sheet=st.booleans(), rename=st.booleans())
def test_edited_workbook_reads_or_refuses(
    written_workbooks: dict[str, bytes], version: str, edits: list, drop_sheet: bool, rename: bool
) -> None:
    import openpyxl

    from convert.readback import read_workbook

    wb = openpyxl.load_workbook(io.BytesIO(written_workbooks[version]))
    for sheet_index, row, col, value in edits:
        ws = wb.worksheets[sheet_index % len(wb.worksheets)]
        cell = ws.cell(row, col)
        if type(cell).__name__ == "MergedCell":
            continue  # Excel does not let a user type into the hidden part of a merged range either
        cell.value = value
    if drop_sheet and len(wb.worksheets) > 1:
        wb.remove(wb.worksheets[edits[0][0] % len(wb.worksheets)])
    if rename:
        wb.worksheets[0].title = "Sheet1"
    buf = io.BytesIO()
    wb.save(buf)
    with scratch("edited.xlsx", buf.getvalue()) as path:
        outcome(lambda: read_workbook(path))


@needs_workbook
@fuzz(150)
@given(
    version=st.sampled_from(["2019", "2021"]),
    flips=st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 255)), max_size=6),
    cut=st.none() | st.integers(0, 10**7),
    seed=st.integers(0, 2**32 - 1),
)
def test_damaged_workbook_bytes_read_or_refuse(
    written_workbooks: dict[str, bytes], version: str, flips: list, cut: int | None, seed: int
) -> None:
    from convert.readback import read_workbook

    data = bytearray(written_workbooks[version])
    for at, value in flips:
        data[at % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    with scratch("damaged.xlsx", bytes(data)) as path:
        outcome(lambda: read_workbook(path))


@st.composite
def rezipped_workbook(draw: st.DrawFn, books: dict[str, bytes]) -> Altered:
    """A written workbook re-zipped with one XML part altered: text replaced, truncated or a member dropped."""
    version = draw(st.sampled_from(sorted(books)))
    source = zipfile.ZipFile(io.BytesIO(books[version]))
    names = source.namelist()
    target = draw(st.sampled_from(names))
    action = draw(st.sampled_from(["truncate", "drop", "replace", "garble"]))
    how = f"{version} workbook, {action} {target}"
    out = io.BytesIO()
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in names:
            data = source.read(name)
            if name == target:
                if action == "drop":
                    continue
                if action == "truncate":
                    data = data[: rng.randrange(len(data) + 1)]
                elif action == "replace":
                    old = draw(st.sampled_from([b"<v>", b"</v>", b"<f>", b'r="', b"sheet", b't="s"', b"<c "]))
                    data = data.replace(old, draw(st.sampled_from([b"", b"<v>x</v>", b"\xff", b"<!-- -->", b'r="ZZ'])))
                else:
                    at = rng.randrange(len(data) + 1)
                    data = data[:at] + rng.randbytes(rng.randrange(1, 8)) + data[at:]
            zf.writestr(name, data)
    result = Altered(out.getvalue())
    result.how = how
    return result


@needs_workbook
@fuzz(150)
@given(data=st.data())
def test_altered_workbook_parts_read_or_refuse(written_workbooks: dict[str, bytes], data: st.DataObject) -> None:
    from convert.readback import read_workbook

    blob = data.draw(rezipped_workbook(written_workbooks))
    with scratch("altered.xlsx", blob) as path:
        outcome(lambda: read_workbook(path))
