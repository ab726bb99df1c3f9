"""Read one table cell's text as a value: numbers, units, notes, placeholders, money in 万元."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from convert.record import Value

PLACEHOLDERS = frozenset(
    {"—", "——", "-", "--", "－", "–", "/", "／", "\\", "无", "空", "…", "……", "—/—", "×", "x", "X"}
)

_UNITS = "万元|元|件|个|项|条|人次|次|宗|份|家|笔|人"
_NUMBER = re.compile(
    r"^(?P<prefix>增|减|增加|减少)?(?P<sign>[+-]?)\s*"
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?\s*"
    rf"(?P<unit>{_UNITS})?\s*(?P<rest>.*)$"
)
_NOTE = re.compile(r"^[(（\[【].*[)）\]】]$")
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_CN_NUMBER = re.compile(rf"^(?P<num>[零〇一二两三四五六七八九十百千万]+)\s*(?P<unit>{_UNITS})?$")


@dataclass
class Parsed:
    """A cell's value, the note it carried, and what we were unsure of (warning codes and their fields)."""

    value: Value = None
    note: str = ""
    is_value: bool = True
    warnings: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def clean(raw: str) -> str:
    """Fold width, drop spaces (also non-breaking) and markup a cell may carry."""
    text = unicodedata.normalize("NFKC", raw).replace("**", "").replace("__", "")
    return re.sub(r"[\s\u00a0\u3000\u200b]+", "", text)


@lru_cache(maxsize=65536)
def parse(raw: str, kind: str = "count", unit_stated: bool = False) -> Parsed:
    """Parse a cell as a count, signed count or money (万元); blank stays None (cached: never mutate the result)."""
    text = clean(raw)
    if not text:
        return Parsed()
    if text in PLACEHOLDERS:
        return Parsed(warnings=[("placeholder", {"case": "cell", "text": raw.strip()})])
    m = _NUMBER.match(text)
    if m and (not m["rest"] or _NOTE.match(m["rest"])):
        return _number(m, raw, kind, unit_stated)
    c = _CN_NUMBER.match(text)
    if c:
        value = chinese_to_int(c["num"])
        if value is not None:
            return Parsed(
                value,
                "",
                True,
                [("chinese-numeral", {"case": "cell", "text": raw.strip(), "value": value})],
            )
    return Parsed(None, "", False, [("unreadable-value", {"case": "cell", "text": raw.strip()})])


def _number(m: re.Match[str], raw: str, kind: str, unit_stated: bool) -> Parsed:
    out = Parsed(note=_note(raw, m["rest"]))
    digits = m["int"].replace(",", "")
    number = Decimal(f"{digits}.{m['frac']}") if m["frac"] else Decimal(digits)
    negative = m["sign"] == "-" or m["prefix"] in ("减", "减少")
    if negative:
        number = -number
    unit = m["unit"] or ""
    if kind == "money":
        if unit == "元":
            number = number / Decimal(10000)
        elif unit != "万元" and not unit_stated and number != 0:
            out.warnings.append(("money-unit-missing", {"text": raw.strip()}))
        out.value = number
        if number < 0:
            out.warnings.append(("negative", {"case": "amount", "text": raw.strip()}))
        return out
    if unit in ("万元", "元"):
        out.warnings.append(("unexpected-unit", {"case": "cell", "text": raw.strip()}))
    if number == number.to_integral_value():
        out.value = int(number)
    else:
        out.value = number
        out.warnings.append(("not-whole", {"case": "cell", "text": raw.strip()}))
    if negative and kind != "signed":
        out.warnings.append(("negative", {"case": "count", "text": raw.strip()}))
    return out


def _note(raw: str, rest_clean: str) -> str:
    if not rest_clean:
        return ""
    stripped = raw.strip()
    # Keep the note as the report wrote it (full-width brackets), not in folded form.
    for start in range(len(stripped)):
        if clean(stripped[start:]) == rest_clean:
            return stripped[start:].strip()
    return rest_clean


def chinese_to_int(text: str) -> int | None:
    """Convert Chinese numerals such as 十二, 一百零五, 三千 to an int."""
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            if unit == 10000:
                total += (section + (digit or 0)) * unit
                section, digit = 0, None
            else:
                section += (1 if digit is None else digit) * unit
                digit = None
        else:
            return None
    return total + section + (digit or 0)
