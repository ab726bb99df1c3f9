"""Shared fixtures: paths to the committed samples and golden data."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SAMPLES = ROOT / "samples"


@pytest.fixture
def samples() -> Path:
    """Return the folder of real sample reports."""
    return SAMPLES


@pytest.fixture
def data() -> Path:
    """Return the folder of golden test data."""
    return DATA
