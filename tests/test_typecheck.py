"""The package type-checks: mypy, with the settings of pyproject.toml, finds no error in convert/."""

from __future__ import annotations

import re
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_errors() -> None:
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), str(ROOT / "convert")])
    assert status in (0, 1), stderr or stdout  # 2: mypy itself failed (bad config, missing stubs)
    errors = [line for line in stdout.splitlines() if re.match(r"^\S+\.py:\d+: error:", line)]
    hint = "(stubs missing: install the dev extra, pip install -e '.[dev]')\n" if "[import-untyped]" in stdout else ""
    assert not errors and status == 0, "type errors:\n" + hint + "\n".join(errors or [stdout])
