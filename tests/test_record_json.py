"""A record's JSON: exact decimals, otherwise the text the standard json module writes, and a lossless round trip."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convert.record import Record, dumps, loads
from tests.strategies import records

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
KEYS = st.text() | st.integers() | st.booleans() | st.none()


def json_values(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Return nested lists, tuples and dicts of the given scalars."""
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(KEYS, inner, max_size=4),
        max_leaves=20,
    )


@given(value=json_values(SCALARS), indent=st.sampled_from([None, 0, 1, 2, 4]))
def test_without_decimals_the_text_is_what_json_writes(value: Any, indent: int | None) -> None:
    assert dumps(value, indent=indent) == json.dumps(value, ensure_ascii=False, indent=indent)


def test_decimals_are_written_digit_for_digit() -> None:
    data = {"a": Decimal("6212.40"), "b": [Decimal("0.0001"), Decimal("1E+2"), Decimal("-0.5")], "c": "竹镇镇"}
    assert dumps(data) == '{"a": 6212.40, "b": [0.0001, 100, -0.5], "c": "竹镇镇"}'
    assert (
        dumps(data, indent=2)
        == '{\n  "a": 6212.40,\n  "b": [\n    0.0001,\n    100,\n    -0.5\n  ],\n  "c": "竹镇镇"\n}'
    )


@given(
    value=json_values(
        SCALARS.filter(lambda x: not isinstance(x, float)) | st.decimals(allow_nan=False, allow_infinity=False)
    )
)
def test_decimals_read_back_as_the_same_numbers(value: Any) -> None:
    back = loads(dumps(value))
    assert back == read_back(value)
    assert "float" not in repr(back)


def read_back(value: Any) -> Any:
    """Return value as JSON gives it back: tuples as lists, keys as strings; numbers compare equal."""
    if isinstance(value, (list, tuple)):
        return [read_back(x) for x in value]
    if isinstance(value, dict):
        return {k if isinstance(k, str) else json.dumps(k): read_back(v) for k, v in value.items()}
    return value


def test_circular_data_is_refused() -> None:
    data: list[Any] = []
    data.append(data)
    with pytest.raises(ValueError, match="Circular"):
        dumps(data)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=records(), indent=st.sampled_from([None, 2]))
def test_record_round_trips_through_json(record: Record, indent: int | None) -> None:
    back = Record.loads(record.dumps(indent=indent))
    assert back == record
