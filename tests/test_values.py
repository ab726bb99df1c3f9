"""One cell's text read as a value: units, notes, placeholders, money in 万元; blank is never zero."""

from __future__ import annotations

from decimal import Decimal

import pytest

from convert.parse.values import chinese_to_int, parse


@pytest.mark.parametrize(
    ("text", "kind", "value", "note"),
    [
        ("0", "count", 0, ""),
        (" 0 ", "count", 0, ""),
        ("\u00a012\u00a0", "count", 12, ""),
        ("１０３", "count", 103, ""),
        ("1,234", "count", 1234, ""),
        ("3件", "count", 3, ""),
        ("22（其中修订16件）", "count", 22, "（其中修订16件）"),
        ("55(含自然失效29件)", "count", 55, "(含自然失效29件)"),
        ("-3", "signed", -3, ""),
        ("减3", "signed", -3, ""),
        ("+1", "signed", 1, ""),
        ("6212.4万元", "money", Decimal("6212.4"), ""),
        ("24万元", "money", Decimal("24"), ""),
        ("251000元", "money", Decimal("25.1"), ""),
    ],
)
def test_numbers(text: str, kind: str, value: object, note: str) -> None:
    p = parse(text, kind)
    assert p.value == value and type(p.value) is type(value)
    assert p.note == note
    assert not p.warnings


def test_blank_is_none_not_zero() -> None:
    assert parse("", "count").value is None
    assert parse("   ", "money").value is None


@pytest.mark.parametrize("text", ["—", "-", "/", "无", "／"])
def test_placeholders_are_blank_with_a_warning(text: str) -> None:
    p = parse(text, "count")
    assert p.value is None and [c for c, _ in p.warnings] == ["placeholder"]


def test_money_without_unit_is_kept_in_wan_yuan_with_a_warning() -> None:
    p = parse("498742.4", "money")
    assert p.value == Decimal("498742.4")
    assert [c for c, _ in p.warnings] == ["money-unit-missing"]
    assert not parse("498742.4", "money", unit_stated=True).warnings


def test_chinese_numerals_warn() -> None:
    p = parse("十二", "count")
    assert p.value == 12 and p.warnings[0][0] == "chinese-numeral"
    assert chinese_to_int("一百零五") == 105 and chinese_to_int("三千二百") == 3200 and chinese_to_int("两万") == 20000


@pytest.mark.parametrize(("text", "code"), [("2.5", "not-whole"), ("-1", "negative"), ("abc", "unreadable-value")])
def test_doubtful_counts_warn(text: str, code: str) -> None:
    assert code in [c for c, _ in parse(text, "count").warnings]


def test_a_label_is_not_a_value() -> None:
    assert not parse("1.属于国家秘密").is_value
