"""The message catalogue: every finding and warning code, its severity and its templates, rendered late."""

from __future__ import annotations

import os
import string
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from convert.errors import FormatDataError, Phrase, UsageError
from convert.formats import templates_dir

ENV_LANG = "NIANBAO_LANG"
DEFAULT_LANGUAGE = "zh"
SEVERITIES = ("error", "warning")
TEXT = "text"  # the severity of an entry of texts.toml: a line of the interface, an error, a label
CASE = "case"  # the field that picks one of a code's cases

_chosen: str | None = None


@dataclass(frozen=True)
class Language:
    """How values read in one language: the list separator and the word for a blank."""

    code: str
    name: str
    list_separator: str
    blank: str


@dataclass(frozen=True)
class Message:
    """One code: its severity, and per case ("" when it has one) a template per language and their fields."""

    code: str
    severity: str
    templates: Mapping[str, Mapping[str, str]]
    fields: Mapping[str, frozenset[str]]
    review: bool = False  # a warning of this code leaves a number unsure: its report is 待核 at best

    def case_of(self, fields: Mapping[str, Any]) -> str:
        """Return the case these fields pick; FormatDataError when they do not fit the templates."""
        if "" in self.templates:
            case = ""
        else:
            case = fields.get(CASE)  # type: ignore[assignment]
            if case not in self.templates:
                raise FormatDataError(
                    "message-case-unknown", code=self.code, which=repr(case), known=list(self.templates)
                )
        want = self.fields[case] | ({CASE} if case else set())
        if set(fields) != want:
            raise FormatDataError(
                "message-fields-differ",
                code=self.code + (f" ({case})" if case else ""),
                given=str(sorted(fields)),
                named=str(sorted(want)),
            )
        return case


@dataclass(frozen=True)
class Catalogue:
    """The languages and the messages of workbook_templates/messages.toml."""

    languages: Mapping[str, Language]
    messages: Mapping[str, Message]


def language() -> str:
    """Return the language messages are rendered in: the one set, else $NIANBAO_LANG, else zh."""
    lang = _chosen or os.environ.get(ENV_LANG, "").strip() or DEFAULT_LANGUAGE
    if lang not in catalogue().languages:
        raise UsageError("language-env-unknown", variable=ENV_LANG, name=lang, known=list(languages()))
    return lang


def set_language(lang: str | None) -> None:
    """Render messages in this language from now on (None: back to $NIANBAO_LANG or zh)."""
    global _chosen
    if lang is not None and lang not in catalogue().languages:
        raise UsageError("language-unknown", name=lang, known=list(languages()))
    _chosen = lang


@contextmanager
def using_language(lang: str) -> Iterator[None]:
    """Render messages in this language inside the block."""
    before = _chosen
    set_language(lang)
    try:
        yield
    finally:
        set_language(before)


def languages() -> tuple[str, ...]:
    """Return the languages of the catalogue, the default first."""
    return tuple(catalogue().languages)


def codes() -> tuple[str, ...]:
    """Return every code of the catalogue."""
    return tuple(catalogue().messages)


def message(code: str) -> Message:
    """Return a code's catalogue entry; FormatDataError for a code messages.toml does not know."""
    try:
        return catalogue().messages[code]
    except KeyError:
        raise FormatDataError("message-unknown", code=code) from None


def severity(code: str) -> str:
    """Return a code's usual severity (error or warning)."""
    return message(code).severity


def needs_review(code: str) -> bool:
    """Tell whether a warning of this code makes its report 待核 (messages.toml `review = true`)."""
    return message(code).review


def check_fields(code: str, fields: Mapping[str, Any]) -> None:
    """Raise FormatDataError unless the code is known and the fields are exactly those its template names."""
    message(code).case_of(fields)


def fits(code: str, fields: Mapping[str, Any]) -> bool:
    """Tell whether a code is known and these fields render it (for messages read back from files)."""
    try:
        check_fields(code, fields)
    except FormatDataError:
        return False
    return True


def render(code: str, fields: Mapping[str, Any], lang: str | None = None) -> str:
    """Render a code's message from its fields, in lang or the current language."""
    msg = message(code)
    case = msg.case_of(fields)
    lang = lang or language()
    spoken = catalogue().languages.get(lang)
    if spoken is None:
        raise UsageError("language-unknown", name=lang, known=list(languages()))
    values = {k: _show(v, spoken) for k, v in fields.items() if k != CASE}
    return msg.templates[case][lang].format_map(values)


def _show(value: Any, lang: Language) -> str:
    """Show one field value: exact decimals, lists joined the language's way, blank as a word, phrases rendered."""
    if value is None:
        return lang.blank
    if isinstance(value, Phrase):
        return render(value.code, value.fields, lang.code)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple):
        return lang.list_separator.join(_show(v, lang) for v in value)
    return str(value)


# ---------------------------------------------------------------------------------------------
# Loading and validating messages.toml


@cache
def catalogue() -> Catalogue:
    """Load and validate workbook_templates/messages.toml (once)."""
    raw: dict[str, Any] = {}
    for name in ("messages.toml", "texts.toml"):
        path = templates_dir() / name
        try:
            raw.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise FormatDataError("format-data-unreadable", path=str(path), detail=str(exc)) from exc
    return parse_catalogue(raw)


def text(code: str, /, **fields: Any) -> str:
    """Render an interface text (or any code) of the catalogue in the current language."""
    return render(code, fields)


def known(code: str) -> bool:
    """Tell whether the catalogue has this code."""
    return code in catalogue().messages


def parse_catalogue(raw: Mapping[str, Any]) -> Catalogue:
    """Build the catalogue from the TOML data (messages.toml and texts.toml); FormatDataError names what is wrong."""
    _keys("messages.toml", raw, required={"languages", "messages"}, optional={"texts"})
    langs: dict[str, Language] = {}
    for code, spec in _table("languages", raw["languages"]).items():
        _keys(f"[languages.{code}]", spec, required={"name", "list_separator", "blank"})
        langs[code] = Language(
            code, *(_text(f"[languages.{code}] {k}", spec[k]) for k in ("name", "list_separator", "blank"))
        )
    if DEFAULT_LANGUAGE not in langs:
        raise _bad(f"messages.toml: the default language {DEFAULT_LANGUAGE!r} has no [languages] entry")
    langs = {DEFAULT_LANGUAGE: langs[DEFAULT_LANGUAGE], **langs}
    entries = dict(_table("messages", raw["messages"]))
    texts = _table("texts", raw.get("texts", {}))
    for code, spec in texts.items():
        if code in entries:
            raise _bad(f"[texts.{code}] has the code of a [messages.{code}]; codes must be unique")
        # An interface text is an entry without a severity of its own.
        _keys(f"[texts.{code}]", spec, required=set(), optional={"cases", "like", *langs})
        entries[code] = {"severity": TEXT, **spec}
    messages: dict[str, Message] = {}
    for code, spec in entries.items():
        where = f"[{'texts' if code in texts else 'messages'}.{code}]"
        _keys(where, spec, required={"severity"}, optional={"cases", "like", "review", *langs})
        review = spec.get("review", False)
        if not isinstance(review, bool):
            raise _bad(f"{where}: review must be true or false")
        if spec["severity"] not in (*SEVERITIES, TEXT):
            raise _bad(f"{where}: severity must be one of {', '.join(SEVERITIES)}, not {spec['severity']!r}")
        kinds = [k for k in ("cases", "like") if k in spec] + (["templates"] if set(langs) & set(spec) else [])
        if len(kinds) != 1:
            raise _bad(f"{where}: give either a template per language ({', '.join(langs)}), cases or like")
        if "like" in spec:
            target = entries.get(spec["like"])
            if not isinstance(target, dict) or "like" in target:
                raise _bad(f"{where}: like = {spec['like']!r} must name a code with its own templates")
            spec = {**target, "severity": spec["severity"]}
        if "cases" in spec:
            cases = _table(f"{where} cases", spec["cases"])
            if not cases:
                raise _bad(f"{where}: cases is empty")
            templates = {case: _templates(f"[messages.{code}.cases.{case}]", t, langs) for case, t in cases.items()}
        else:
            templates = {"": _templates(where, {k: v for k, v in spec.items() if k in langs}, langs)}
        fields: dict[str, frozenset[str]] = {}
        for case, by_lang in templates.items():
            named = {lang: _fields(f"{where} {case} {lang}".replace("  ", " "), t) for lang, t in by_lang.items()}
            first = named[DEFAULT_LANGUAGE]
            for lang, names in named.items():
                if names != first:
                    raise _bad(
                        f"{where}{f' case {case!r}' if case else ''}: the {lang} template names the fields "
                        f"{sorted(names)} but the {DEFAULT_LANGUAGE} one names {sorted(first)}; they must be the same"
                    )
            if CASE in first:
                raise _bad(f"{where}: the field {{{CASE}}} is reserved for picking a case")
            fields[case] = frozenset(first)
        messages[code] = Message(code, spec["severity"], templates, fields, review)
    return Catalogue(langs, messages)


def _table(where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(f"messages.toml: {where} must be a table")
    return value


def _keys(where: str, spec: Any, required: set[str], optional: set[str] | frozenset[str] = frozenset()) -> None:
    spec = _table(where, spec)
    missing = required - set(spec)
    unknown = set(spec) - required - set(optional)
    if missing or unknown:
        raise _bad(
            f"messages.toml {where}: "
            + "; ".join(
                part
                for part in (
                    f"missing {', '.join(sorted(missing))}" if missing else "",
                    f"unknown key(s) {', '.join(sorted(unknown))}" if unknown else "",
                )
                if part
            )
        )


def _text(where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _bad(f"messages.toml {where} must be text")
    return value


def _templates(where: str, spec: Any, langs: Mapping[str, Language]) -> dict[str, str]:
    _keys(where, spec, required=set(langs))
    return {lang: _text(f"{where} {lang}", spec[lang]) for lang in langs}


def _fields(where: str, template: str) -> frozenset[str]:
    """Return the named fields of a template; only plain {name} fields are allowed."""
    names: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise _bad(f"messages.toml {where}: {exc} in {template!r}") from exc
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise _bad(f"messages.toml {where}: {{{name}}} must be a plain named field like {{count}}")
        names.add(name)
    return frozenset(names)


def _bad(problem: str) -> FormatDataError:
    """The error for a mistake in messages.toml or texts.toml: for whoever edits them, so in English."""
    return FormatDataError("format-data-invalid", problem=problem)
