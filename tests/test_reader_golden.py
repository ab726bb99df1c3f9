"""Golden pairs: tests/data/reports/<case>.* read into the record described by tests/data/expected/<case>.json."""

from __future__ import annotations

import fnmatch
import json
from decimal import Decimal
from pathlib import Path

import pytest

from convert.formats import load_format
from convert.reader import read_report

DATA = Path(__file__).parent / "data"
CASES = sorted(p for p in (DATA / "reports").iterdir() if (DATA / "expected" / f"{p.stem}.json").exists())


def expected_cells(spec: dict, version: str) -> dict:
    """Expand an expected file (default, patterns, explicit values) into every cell key of the version."""
    keys = load_format(version).cell_keys
    cells = dict.fromkeys(keys, spec.get("cells_default"))
    for pattern, value in spec["cells"].items():
        for key in fnmatch.filter(keys, pattern) if "*" in pattern else [pattern]:
            assert key in cells, f"expected file names an unknown key {key}"
            cells[key] = Decimal(value) if isinstance(value, str) else value
    for pattern in spec.get("blank", []):
        for key in fnmatch.filter(keys, pattern):
            cells[key] = None
    return cells


def test_every_expected_file_has_a_report() -> None:
    stems = {p.stem for p in (DATA / "reports").iterdir()}
    assert {p.stem for p in (DATA / "expected").glob("*.json")} <= stems
    assert len(CASES) >= 8


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_golden_report(path: Path) -> None:
    spec = json.loads((DATA / "expected" / f"{path.stem}.json").read_text(encoding="utf-8"))
    record = read_report(path)
    assert (record.agency, record.year, record.format) == (spec["agency"], spec["year"], spec["format"])
    assert record.title == spec["title"]
    want = expected_cells(spec, spec["format"])
    wrong = {k: (want[k], record.cells.get(k)) for k in want if record.cells.get(k) != want[k]}
    assert not wrong, f"{len(wrong)} wrong cells: {list(wrong.items())[:8]}"
    assert set(record.cells) == set(want)
    for key, value in want.items():
        # Blank is not zero, and money is an exact Decimal.
        if value is None:
            assert record.cells[key] is None
        elif isinstance(value, Decimal):
            assert isinstance(record.cells[key], Decimal)
    assert record.notes == spec.get("notes", {})
    for section, want_text in spec.get("text", {}).items():
        if section.endswith("_first"):
            got = record.text[section.removesuffix("_first")]
            assert got and got[0].startswith(want_text), (section, got[:1])
        elif isinstance(want_text, int):
            assert len(record.text[section]) == want_text, (section, record.text[section])
        else:
            assert record.text[section] == want_text
    codes = {w.code for w in record.warnings}
    assert set(spec.get("warnings_include", [])) <= codes
    assert not set(spec.get("warnings_exclude", [])) & codes, [w for w in record.warnings]
    if "extra_labels" in spec:
        assert [e["label"] for e in record.extra] == spec["extra_labels"]
