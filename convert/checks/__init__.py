"""Checks: the 勾稽 rules over a record's cells, as findings with stable codes."""

from convert.checks.rules import (
    ERROR,
    ROW_RULES,
    WARNING,
    Finding,
    check_continuity,
    check_rules,
    check_values,
    has_errors,
    total,
)

__all__ = [
    "ERROR",
    "ROW_RULES",
    "WARNING",
    "Finding",
    "check_continuity",
    "check_rules",
    "check_values",
    "has_errors",
    "total",
]
