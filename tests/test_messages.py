"""The message catalogue: every code the code emits has a template in both languages, rendered late in the chosen one."""

from __future__ import annotations

import ast
import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from convert.checks import ERROR, Finding, check_rules, render, using_language
from convert.checks.catalogue import catalogue, codes, language, parse_catalogue, set_language
from convert.errors import FormatDataError, UsageError
from convert.formats import known_versions, load_format, templates_dir
from convert.parse import parse_report
from convert.record import Record, Warning_
from tests.strategies import consistent_record

ROOT = Path(__file__).resolve().parent.parent
# Calls whose first argument is a message code: record.warn, Finding, Warning_, readback's _find, render, and an
# interface text (catalogue.text).
CODE_CALLS = {"warn", "Finding", "Warning_", "_find", "render", "check_fields", "text"}
# Errors take a code too, or (not yet converted) a message as written: only a code of the catalogue counts.
ERROR_CALLS = {"UsageError", "UnreadableInputError", "UnsafeInputError", "NotAReportError", "NoTextLayer"}


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def emitted() -> tuple[dict[str, list[str]], set[str]]:
    """Scan convert/ for the codes passed to the calls above and (code, fields) pairs, and for case names."""
    found: dict[str, list[str]] = {}
    cases: set[str] = set()
    for path in sorted((ROOT / "convert").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            code = None
            if isinstance(node, ast.Call) and _name(node.func) in CODE_CALLS | ERROR_CALLS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    if _name(node.func) in CODE_CALLS or first.value in codes():
                        code = first.value
            elif (
                isinstance(node, ast.Tuple)
                and len(node.elts) == 2
                and isinstance(node.elts[0], ast.Constant)
                and isinstance(node.elts[0].value, str)
                and isinstance(node.elts[1], ast.Dict)
            ):
                code = node.elts[0].value  # values.py: (code, fields) pairs
            if code is not None:
                found.setdefault(code, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")  # type: ignore[attr-defined]
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "case" and isinstance(value, ast.Constant):
                        cases.add(value.value)
    return found, cases


def rule_ids() -> set[str]:
    """Return the rule ids of every format version: a failed rule's finding has the rule's id as its code."""
    fmts = [load_format(version) for version in known_versions()]
    return {rule.id for fmt in fmts for rule in fmt.rules} | {rule.id for fmt in fmts for rule in fmt.continuity}


def test_every_code_emitted_in_convert_has_a_template() -> None:
    found, _ = emitted()
    # The scan must see the calls; a scan that finds nothing would pass anything.
    assert {"row-misaligned", "placeholder", "year-guessed", "missing", "formula-overwritten", "refused"} <= set(found)
    unknown = {code: where for code, where in found.items() if code not in codes()}
    assert not unknown, f"codes without a template in messages.toml: {unknown}"


def test_every_rule_of_the_format_has_a_template_as_an_error() -> None:
    messages = catalogue().messages
    assert rule_ids() == {
        "balance",
        "row-total",
        "outcome-total",
        "other-total",
        "appeal-total",
        "carry-over-continuity",
    }
    for rule in rule_ids():
        assert rule in messages and messages[rule].severity == ERROR, rule


def test_every_template_is_used() -> None:
    found, cases = emitted()
    assert not set(codes()) - set(found) - rule_ids(), "messages.toml lists codes nothing emits"
    named = {case for m in catalogue().messages.values() for case in m.templates if case}
    assert cases and cases <= named, f"cases not in messages.toml: {cases - named}"


def test_every_template_has_both_languages_with_the_same_fields() -> None:
    cat = catalogue()
    assert tuple(cat.languages) == ("zh", "en")
    for msg in cat.messages.values():
        for case, by_lang in msg.templates.items():
            assert set(by_lang) == {"zh", "en"}, (msg.code, case)
            fields = {name: "x" for name in msg.fields[case]} | ({"case": case} if case else {})
            assert render(msg.code, fields, "zh") and render(msg.code, fields, "en"), (msg.code, case)


def _raw() -> dict[str, Any]:
    return tomllib.loads((templates_dir() / "messages.toml").read_text(encoding="utf-8"))


def test_fields_that_differ_between_languages_are_refused_on_load() -> None:
    raw = _raw()
    raw["messages"]["year-guessed"]["en"] = "the title has no year; {yaer} is the year the text mentions most"
    with pytest.raises(FormatDataError, match=r"year-guessed.*en template names the fields \['yaer'\]"):
        parse_catalogue(raw)
    raw = _raw()
    raw["messages"]["row-misaligned"]["cases"]["shape"]["zh"] = "行「{row}」有 {count} 个单元格"
    with pytest.raises(FormatDataError, match=r"row-misaligned.*shape"):
        parse_catalogue(raw)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda r: r["messages"]["placeholder"].pop("en"), "missing en"),
        (lambda r: r["messages"]["placeholder"].update(severity="fatal"), "severity must be"),
        (lambda r: r["messages"]["placeholder"].update(fr="x"), "unknown key"),
        (lambda r: r["messages"]["row-total"].update(like="nothing"), "must name a code"),
        (lambda r: r["messages"]["placeholder"].update(en="{text!r} read as blank"), "plain named field"),
        (lambda r: r["messages"]["placeholder"].update(en="{0} read as blank"), "plain named field"),
        (lambda r: r["messages"]["placeholder"].update(en="「{text read as blank"), "expected '}'"),
        (lambda r: r["messages"]["placeholder"].update(cases={}), "give either"),
        (lambda r: r["languages"].pop("zh"), "default language"),
        (lambda r: r.update(extra={}), "unknown key"),
    ],
)
def test_bad_catalogue_data_is_refused_on_load(change: Any, words: str) -> None:
    raw = copy.deepcopy(_raw())
    change(raw)
    with pytest.raises(FormatDataError, match=words):
        parse_catalogue(raw)


def test_an_unknown_code_or_wrong_fields_fail_at_the_call() -> None:
    record = Record(format="2019", cells={})
    with pytest.raises(FormatDataError, match=r"no-such-code.*messages\.toml"):
        record.warn("no-such-code", {}, "year")
    with pytest.raises(FormatDataError, match="year-guessed"):
        record.warn("year-guessed", {"yaer": 2019}, "year")
    with pytest.raises(FormatDataError, match="case 'sideways'"):
        Finding("non-negative", ERROR, {"case": "sideways", "value": 1})
    with pytest.raises(FormatDataError):
        render("balance", {"rule": "x"})
    assert not record.warnings


def _a_report_and_a_failing_rule() -> tuple[Warning_, Finding]:
    text = (ROOT / "samples" / "zhuzhen-2019.txt").read_text(encoding="utf-8")
    warning = next(w for w in parse_report(text).warnings if w.code == "year-guessed")
    record = consistent_record("2019", seed=3)
    record.cells["requests.new_received.total"] += 1  # type: ignore[operator]
    finding = next(f for f in check_rules(record) if f.code == "row-total")
    return warning, finding


def test_messages_are_chinese_by_default() -> None:
    warning, finding = _a_report_and_a_failing_rule()
    assert language() == "zh"
    assert warning.message == "标题中没有年度；2019 是正文中出现最多的年份"
    assert finding.message == ("不符合勾稽关系“总计等于各类申请人之和”（requests.new_received）：267 ≠ 266")
    assert finding.to_json()["message"] == finding.message


def test_nianbao_lang_en_renders_english(monkeypatch: pytest.MonkeyPatch) -> None:
    warning, finding = _a_report_and_a_failing_rule()
    # Rendered late: the same objects speak the language chosen when they are shown.
    monkeypatch.setenv("NIANBAO_LANG", "en")
    assert warning.message == "the title has no year; 2019 is the year the text mentions most"
    assert finding.message == ("breaks the cross-check “总计等于各类申请人之和” (requests.new_received): 267 ≠ 266")
    assert finding.to_json()["fields"]["rule"] == "总计等于各类申请人之和"


def test_a_set_language_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    warning, _ = _a_report_and_a_failing_rule()
    monkeypatch.setenv("NIANBAO_LANG", "en")
    with using_language("zh"):
        assert warning.message.startswith("标题中没有年度")
    assert warning.message.startswith("the title has no year")
    set_language("zh")
    assert language() == "zh"


def test_an_unknown_language_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIANBAO_LANG", "fr")
    with pytest.raises(UsageError, match=r"NIANBAO_LANG='fr'.*zh, en"):
        language()
    with pytest.raises(UsageError):
        set_language("fr")


def test_values_read_the_languages_way(english: None) -> None:
    assert render("missing", {"count": 2, "cells": ["商业企业", "其他"], "rule": "r"}, "zh").startswith(
        "2个单元格未填写（商业企业、其他）"
    )
    assert "(商业企业, 其他)" in render("missing", {"count": 2, "cells": ["商业企业", "其他"], "rule": "r"})
    assert "constant blank" in render("formula-overwritten", {"found": None, "expected": 3})


def test_record_json_keeps_fields_so_another_language_can_render_them(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "samples" / "zhuzhen-2019.txt").read_text(encoding="utf-8")
    data = parse_report(text).to_json()
    guessed = next(w for w in data["warnings"] if w["code"] == "year-guessed")
    assert guessed["fields"] == {"year": 2019} and guessed["message"].startswith("标题中没有年度")
    monkeypatch.setenv("NIANBAO_LANG", "en")
    back = Record.from_json(data)
    assert next(w for w in back.warnings if w.code == "year-guessed").message.startswith("the title has no year")
    # A warning whose code or fields the catalogue does not know is kept as written.
    kept = Warning_.restore("old-code", "写在文件里的话", "line 3", {"x": 1})
    assert (kept.message, kept.to_json()) == (
        "写在文件里的话",
        {"code": "old-code", "message": "写在文件里的话", "where": "line 3"},
    )
