"""The server's private temporary folder: every upload lives in it, under names no user input can lead out of."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

# A path component longer than this (in UTF-8 bytes) is shortened: file systems stop at 255.
MAX_COMPONENT_BYTES = 180
# Folders deeper than this keep only their last levels: a report's own name is what matters.
MAX_DEPTH = 8
# Characters Windows forbids in names, and the control characters: none reach a file name.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')


def new_id() -> str:
    """Return an unguessable id for a batch, an upload or a summary (also its folder's name)."""
    return secrets.token_urlsafe(12)


def safe_parts(name: str) -> list[str]:
    """Split a client's file name (maybe a folder path, with / or \\) into harmless components.

    No component is empty, `.` or `..`, starts with a dot (hidden files are never read) or holds a control
    or reserved character; an absolute path or a drive letter loses its root.
    """
    parts: list[str] = []
    for raw in re.split(r"[\\/]+", name):
        part = _UNSAFE.sub("_", raw).strip()
        if part in ("", ".", ".."):
            continue
        part = "_" + part.lstrip(".") if part.startswith(".") else part
        parts.append(_shorten(part))
    return parts[-MAX_DEPTH:] or ["file"]


def _shorten(part: str) -> str:
    if len(part.encode("utf-8")) <= MAX_COMPONENT_BYTES:
        return part
    stem, dot, suffix = part.rpartition(".")
    if not dot or len(suffix) > 10:
        stem, suffix = part, ""
    while len((stem + ("." + suffix if suffix else "")).encode("utf-8")) > MAX_COMPONENT_BYTES:
        stem = stem[:-1]
    return stem + ("." + suffix if suffix else "")


class Workspace:
    """A private folder (mode 700) made when the server starts and removed with everything in it when it stops."""

    def __init__(self, parent: str | Path | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="nianbao-web-", dir=parent)).resolve()

    def folder(self, *names: str) -> Path:
        """Return (making it) a folder inside the workspace; names are ids we made, never user input."""
        path = self.root.joinpath(*names)
        self.inside(path)
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def inside(self, path: Path) -> Path:
        """Return path if it lies inside the workspace, else raise ValueError."""
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root):
            raise ValueError(f"{path} is outside the workspace")
        return resolved

    def place(self, folder: Path, name: str) -> tuple[Path, str]:
        """Return a new, empty file for a client's file name inside folder, and the name to show for it.

        The name is cleaned by safe_parts; a name taken already gets ` (2)`, ` (3)` … before its extension.
        """
        parts = safe_parts(name)
        target = folder.joinpath(*parts)
        self.inside(target)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        stem, suffix = target.stem, target.suffix
        n = 1
        while True:
            try:
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            except FileExistsError:
                n += 1
                target = target.with_name(f"{stem} ({n}){suffix}")
                continue
            os.close(fd)
            shown = "/".join([*parts[:-1], target.name])
            return target, shown

    def close(self) -> None:
        """Remove the workspace and everything in it."""
        shutil.rmtree(self.root, ignore_errors=True)
