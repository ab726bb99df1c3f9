"""Hypothesis strategies and builders for records of either format version, shared by the test files."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from convert.formats import Format, known_versions, load_format
from convert.record import TEXT_KEYS, Record, Value, Warning_

# Text a report can hold: CJK, ASCII, full-width punctuation, and the characters spreadsheets treat as
# formula starters. No control characters: a report has none and XML cannot carry most of them.
_ALPHABET = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.sampled_from("，。、；：（）“”《》〔〕——…％"),
)
FORMULA_STARTS = ("=", "+", "-", "@")

words = st.text(_ALPHABET, min_size=1, max_size=40).filter(lambda s: s.strip() == s and s != "")
paragraph = st.one_of(
    words,
    st.builds(lambda a, b: a + b, st.sampled_from(FORMULA_STARTS), words),
    st.sampled_from(["=SUM(A1:A3)", "+86 10 1234", "-1", "@agency", "=1+1", "2021", "0012", "TRUE"]),
)
paragraphs = st.lists(paragraph, max_size=4)


def count_values() -> st.SearchStrategy[Value]:
    """Return whole numbers >= 0, or blank."""
    return st.one_of(st.none(), st.integers(0, 50), st.integers(0, 10**7))


def signed_values() -> st.SearchStrategy[Value]:
    """Return whole numbers of either sign, or blank."""
    return st.one_of(st.none(), st.integers(-(10**6), 10**6))


def money_values() -> st.SearchStrategy[Value]:
    """Return exact money in 万元 with 0–4 decimals, or blank."""
    return st.one_of(
        st.none(),
        st.builds(
            lambda units, places: Decimal(units).scaleb(-places),
            st.integers(0, 10**10),
            st.integers(0, 4),
        ),
    )


def _value(fmt: Format, key: str) -> st.SearchStrategy[Value]:
    kind = fmt.cell_type(key)
    return {"count": count_values, "signed": signed_values, "money": money_values}[kind]()


@st.composite
def records(draw: st.DrawFn, version: str | None = None) -> Record:
    """Return a random record: random cells (some blank), metadata, texts, notes, extra rows, warnings."""
    version = version or draw(st.sampled_from(known_versions()))
    fmt = load_format(version)
    cells = {key: draw(_value(fmt, key)) for key in fmt.cell_keys}
    keys = st.sampled_from(fmt.cell_keys)
    notes = draw(st.dictionaries(keys, paragraph, max_size=3))
    extra = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "table": st.sampled_from(["requests", "proactive"]),
                    "label": words,
                    "cells": st.lists(words, max_size=3),
                }
            ),
            max_size=2,
        )
    )
    record = Record(
        format=version,
        cells=cells,
        agency=draw(st.one_of(st.none(), words)),
        year=draw(st.one_of(st.none(), st.integers(2008, 2035))),
        title=draw(st.one_of(st.none(), paragraph)),
        source={"path": "samples/x.txt", "sha256": "0" * 64, "kind": "text"},
        notes=notes,
        text={k: draw(paragraphs) for k in TEXT_KEYS},
        extra=extra,
    )
    for _ in range(draw(st.integers(0, 2))):
        # Warnings kept as written (codes the catalogue does not know, as a file read back may hold).
        code = draw(st.sampled_from(["unmapped-row", "unsure-value"]))
        record.warnings.append(Warning_(code, where=draw(st.sampled_from(["", "line 12"])), text=draw(paragraph)))
    return record


def consistent_record(version: str, seed: int = 0, *, blanks: bool = False) -> Record:
    """Return a record whose every rule holds (totals printed and equal to their parts)."""
    rnd = random.Random(seed)
    fmt = load_format(version)
    cells: dict[str, Value] = {}
    req = fmt.tables["requests"]
    parts = [c.key for c in req.columns if c.key != "total"]
    outcome = [r.key for r in req.rows if r.outcome]
    sums = {r.key: r.sums for r in req.rows if r.sums}  # a total the form leaves to its rows (（六） of 2021)
    for col in parts:
        for row in outcome:
            for leaf in sums.get(row, (row,)):
                cells[f"requests.{leaf}.{col}"] = rnd.choice([0, 0, 1, 2, rnd.randint(0, 40)])
            if row in sums:
                cells[f"requests.{row}.{col}"] = sum(cells[f"requests.{p}.{col}"] for p in sums[row])  # type: ignore[misc]
        total = sum(cells[f"requests.{row}.{col}"] for row in outcome)  # type: ignore[misc]
        forward = rnd.randint(0, 5)
        carried = rnd.randint(0, total + forward)
        cells[f"requests.total.{col}"] = total
        cells[f"requests.carried_forward.{col}"] = forward
        cells[f"requests.carried_over.{col}"] = carried
        cells[f"requests.new_received.{col}"] = total + forward - carried
    for row in req.rows:
        cells[f"requests.{row.key}.total"] = sum(cells[f"requests.{row.key}.{c}"] for c in parts)  # type: ignore[misc]
    for row in fmt.tables["appeals"].rows:
        nums = [rnd.randint(0, 3) for _ in range(4)]
        for col, n in zip(["upheld", "corrected", "other", "pending"], nums, strict=True):
            cells[f"appeals.{row.key}.{col}"] = n
        cells[f"appeals.{row.key}.total"] = sum(nums)
    for key in fmt.tables["proactive"].cell_keys():
        kind = fmt.cell_type(key)
        if blanks and rnd.random() < 0.2:
            cells[key] = None
        elif kind == "money":
            cells[key] = Decimal(rnd.randint(0, 10**6)).scaleb(-rnd.randint(0, 4))
        elif kind == "signed":
            cells[key] = rnd.randint(-20, 20)
        else:
            cells[key] = rnd.randint(0, 300)
    assert set(cells) == set(fmt.cell_keys)
    return Record(
        format=version,
        cells=cells,
        agency="某某县人民政府办公室",
        year=2019 if version == "2019" else 2021,
        title=f"某某县人民政府办公室{2019 if version == '2019' else 2021}年政府信息公开工作年度报告",
        source={"path": f"samples/sample-{version}.txt", "sha256": "ab" * 32, "kind": "text"},
        notes={"requests.granted.natural_person": "含网上申请"},
        text={
            "preface": ["根据《中华人民共和国政府信息公开条例》，编制本报告。"],
            "overview": ["=本年度主动公开信息235条。", "+加强平台建设。", "-完善制度。", "@监督保障。"],
            "problems": ["存在的问题：学习深度不够。"],
            "other": ["本年度未收取信息处理费。"],
        },
        extra=[{"table": "requests", "label": "小计", "cells": ["1", "2"]}],
    )


def record_fields(record: Record) -> dict[str, Any]:
    """Return what a round trip must keep, in comparable form (source and warnings excluded)."""
    return {
        "format": record.format,
        "agency": record.agency,
        "year": record.year,
        "title": record.title,
        "cells": dict(record.cells),
        "notes": dict(record.notes),
        "text": {k: list(record.text.get(k, [])) for k in TEXT_KEYS},
        "extra": record.extra,
    }
