"""The records store: every revision of every report, append-only, behind one interface (Store).

open_store() picks the backend from where the store is: a file path is an SQLite store; a URL's scheme
names its backend in BACKENDS. Each backend is one module with a `connect(location, *, create)` that
returns an open Store; all its SQL lives in that module.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from convert.errors import Phrase, UsageError
from convert.store.base import (
    AddResult,
    CellChange,
    HistoryEntry,
    ReportSummary,
    RevisionInfo,
    Store,
    add_files,
    content,
    default_author,
    local_time,
    neutralise,
    now_utc,
    value_text,
)
from convert.store.dump import DUMP_COLUMNS, DUMP_FORMATS

DEFAULT_NAME = "nianbao.db"
ENV_STORE = "NIANBAO_STORE"


@dataclass(frozen=True)
class Backend:
    """Where a kind of store is implemented, and what to install when its driver is missing."""

    module: str
    name: str
    extra: str | None = None


FILE = "file"
# URL scheme → backend; a location without a known scheme is a file path. A backend whose module this
# version does not ship is refused in one line naming its extra, so adding one is its module plus a line here.
BACKENDS: dict[str, Backend] = {
    FILE: Backend("convert.store.sqlite", "SQLite"),
    "postgresql": Backend("convert.store.postgres", "PostgreSQL", "postgres"),
    "postgres": Backend("convert.store.postgres", "PostgreSQL", "postgres"),
}
# "name:/" (one slash too: a Path made of a URL keeps only one); two letters or more, so C:/ is a path.
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):/")

__all__ = [
    "BACKENDS",
    "DEFAULT_NAME",
    "DUMP_COLUMNS",
    "DUMP_FORMATS",
    "ENV_STORE",
    "AddResult",
    "Backend",
    "CellChange",
    "HistoryEntry",
    "ReportSummary",
    "RevisionInfo",
    "Store",
    "add_files",
    "content",
    "default_author",
    "local_time",
    "neutralise",
    "now_utc",
    "open_store",
    "store_location",
    "value_text",
]


def store_location(explicit: str | Path | None = None) -> str:
    """Return the store to use, as text: the explicit location, else $NIANBAO_STORE, else nianbao.db here."""
    if explicit:
        return str(explicit)
    return os.environ.get(ENV_STORE, "").strip() or str(Path.cwd() / DEFAULT_NAME)


def backend_for(location: str) -> Backend:
    """Return the backend that serves a location: its URL scheme's, else the file backend."""
    match = _SCHEME.match(location)
    scheme = match.group(1).lower() if match else FILE
    return BACKENDS.get(scheme, BACKENDS[FILE])


@contextmanager
def open_store(location: str | Path | None = None, *, create: bool = True) -> Iterator[Store]:
    """Open (creating and migrating if needed, when create) the store at location; close it when the block ends."""
    where = store_location(location)
    backend = backend_for(where)
    try:
        module = importlib.import_module(backend.module)
    except ImportError as exc:
        install = Phrase("install-extra", extra=backend.extra) if backend.extra else Phrase("install-full")
        missing = Phrase("not-in-this-version") if exc.name == backend.module else ""
        raise UsageError("store-backend-missing", name=backend.name, install=install, missing=missing) from exc
    store: Store = module.connect(where, create=create)
    try:
        yield store
    finally:
        store.close()
