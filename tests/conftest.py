"""Shared fixtures: paths to the committed samples and golden data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

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


# A PostgreSQL server for the tests of the PostgreSQL store (.ci/run starts a throwaway one and sets it).
ENV_TEST_POSTGRES = "NIANBAO_TEST_POSTGRES"


@contextmanager
def _sqlite_store(tmp_path: Path) -> Iterator[str]:
    """Give a path for a new SQLite store file."""
    yield str(tmp_path / "nb.db")


@contextmanager
def _postgres_store(tmp_path: Path) -> Iterator[str]:
    """Give the URL of a new, empty PostgreSQL database (dropped afterwards) on the test server."""
    server = os.environ.get(ENV_TEST_POSTGRES, "").strip()
    if not server:
        pytest.skip(f"PostgreSQL store: set {ENV_TEST_POSTGRES}=postgresql://… to a test server (.ci/run starts one)")
    psycopg = pytest.importorskip("psycopg", reason="PostgreSQL store: needs pip install -e '.[dev]' (psycopg)")
    name = f"nianbao_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(server, name)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_url(server: str, name: str) -> str:
    """Return the URL of another database on the same server (the path of a postgresql:// URL names it)."""
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


# Every store backend the store tests run on, with how to make a new, empty store of it.
STORE_BACKENDS: dict[str, Callable[[Path], AbstractContextManager[str]]] = {
    "sqlite": _sqlite_store,
    "postgres": _postgres_store,
}


@pytest.fixture(params=sorted(STORE_BACKENDS))
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Give the location of a new, empty store, once for each backend."""
    with STORE_BACKENDS[request.param](tmp_path) as location:
        yield location


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
