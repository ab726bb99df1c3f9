"""Checks: the 勾稽 rules over a record's cells, and the catalogue every finding's message comes from."""

from convert.checks.catalogue import language, render, set_language, using_language
from convert.checks.rules import (
    ERROR,
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
    "WARNING",
    "Finding",
    "check_continuity",
    "check_rules",
    "check_values",
    "has_errors",
    "language",
    "render",
    "set_language",
    "total",
    "using_language",
]
