"""The verdict of a check: 通过 (every rule computed and holds), 不通过 (any error), 待核 (nothing wrong seen, but unsure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from convert.checks.catalogue import needs_review, text
from convert.checks.rules import ERROR, Finding
from convert.errors import FormatDataError
from convert.formats import Format, load_format
from convert.record import Record

PASS, FAIL, REVIEW = "pass", "fail", "review"
STATES = (PASS, FAIL, REVIEW)
# Worst first: the order a batch lists its reports in.
RANK = {FAIL: 0, REVIEW: 1, PASS: 2}
# A table with more than this share of its input cells blank is 待核 however its rules come out.
MOSTLY_BLANK = 0.5


@dataclass(frozen=True)
class Reason:
    """Why a report is not 通过: a catalogue code and its fields, rendered late."""

    code: str
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """Return the reason in the current language."""
        return text(self.code, **self.fields)


@dataclass(frozen=True)
class Verdict:
    """One report's verdict, with the counts behind it and the reasons it is not 通过."""

    state: str
    errors: int
    unchecked: int
    reasons: tuple[Reason, ...] = ()

    @property
    def label(self) -> str:
        """Return 通过, 不通过 or 待核 (in the current language)."""
        return state_label(self.state)

    @property
    def ok(self) -> bool:
        """Tell whether the report passes."""
        return self.state == PASS

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready dict: the stable state, its label, the counts and the reasons as text."""
        return {
            "state": self.state,
            "label": self.label,
            "errors": self.errors,
            "unchecked": self.unchecked,
            "reasons": [r.message for r in self.reasons],
            "reason_codes": [r.code for r in self.reasons],
        }


def state_label(state: str) -> str:
    """Return a state's word: 通过, 不通过 or 待核 in Chinese."""
    return text(f"verdict-{state}")


def judge(record: Record | None, findings: Iterable[Finding], fmt: Format | None = None) -> Verdict:
    """Decide the verdict of a report from its record and every finding of its check."""
    findings = list(findings)
    errors = sum(f.severity == ERROR for f in findings)
    reasons: list[Reason] = []
    unchecked = 0
    if record is None:
        reasons.append(Reason("verdict-no-record"))
    else:
        fmt = fmt or load_format(record.format)
        cells = record.cells
        blocked = Counter(
            eq.rule for eq in fmt.equations() if any(cells.get(k) is None for k in (*eq.left, *eq.right))
        )
        unchecked = sum(blocked.values())
        titles = {r.id: r.title for r in fmt.rules}
        for rule, count in blocked.items():
            reasons.append(Reason("verdict-unchecked", {"count": count, "rule": titles[rule]}))
        computed = set(fmt.formulas())
        sections = {s.key: s for s in fmt.sections}
        for key, table in fmt.tables.items():
            inputs = [k for k in table.cell_keys() if k not in computed]
            blank = sum(cells.get(k) is None for k in inputs)
            if inputs and blank > MOSTLY_BLANK * len(inputs):
                section = sections.get(key)
                name = f"{section.number}、{section.heading}" if section else key
                case = "empty" if blank == len(inputs) else "mostly"
                reasons.append(
                    Reason("verdict-blank-table", {"case": case, "table": name, "blank": blank, "total": len(inputs)})
                )
    # The reader's doubts: a number set aside, a section not found, a value it could not read.
    doubts = Counter(
        f.code for f in findings if f.severity != ERROR and f.code != "missing" and _needs_review(f.code)
    )
    for code, count in sorted(doubts.items()):
        reasons.append(Reason("verdict-doubt", {"count": count, "code": code}))
    if errors:
        state = FAIL
    elif reasons:
        state = REVIEW
    else:
        state = PASS
    return Verdict(state, errors, unchecked, tuple(reasons))


def _needs_review(code: str) -> bool:
    # A warning read back from a file may carry a code this version no longer knows: count it as unsure.
    try:
        return needs_review(code)
    except FormatDataError:
        return True


def tally(states: Iterable[str]) -> dict[str, int]:
    """Count the states of a batch, every state present (0 when none)."""
    counts = Counter(states)
    return {s: counts.get(s, 0) for s in STATES}
