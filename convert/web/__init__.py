"""The web page (`nianbao serve`): a second thin layer over the library for people who do not use a terminal.

Everything a page does calls the functions the commands call (convert/commands.py, merge.py, reconcile.py,
store/); this package only receives uploads, runs the long work off the request and draws the results.
"""

from __future__ import annotations

import importlib.util

from convert.errors import UsageError

# The optional extra `nianbao[web]`: Starlette, Jinja2, uvicorn and python-multipart (its import name).
REQUIRED = ("starlette", "jinja2", "uvicorn", "multipart")


def require() -> None:
    """Refuse in one line, naming the extra to install, when the web extra is missing."""
    missing = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError("web-extra-missing", missing=missing)
