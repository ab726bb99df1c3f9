"""Shared fixtures: paths to the committed samples and golden data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from convert.checks.catalogue import ENV_LANG, set_language

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


def _sqlite_store(tmp_path: Path) -> str:
    """Return a path for a new SQLite store file."""
    return str(tmp_path / "nb.db")


# Every store backend the store tests run on, with how to make a new, empty store of it (issue #17 adds PostgreSQL).
STORE_BACKENDS: dict[str, Callable[[Path], str]] = {"sqlite": _sqlite_store}


@pytest.fixture(params=sorted(STORE_BACKENDS))
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return the location of a new, empty store, once for each backend."""
    return STORE_BACKENDS[request.param](tmp_path)


@pytest.fixture(autouse=True)
def default_language(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Start every test in the default language (Chinese), whatever the shell running the tests says."""
    monkeypatch.delenv(ENV_LANG, raising=False)
    yield
    set_language(None)


@pytest.fixture
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """Render messages in English, as NIANBAO_LANG=en does."""
    monkeypatch.setenv(ENV_LANG, "en")
