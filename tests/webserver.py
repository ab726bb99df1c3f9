"""Run the web page in this process on a free port (uvicorn in a thread), and a small HTTP client for it."""

from __future__ import annotations

import http.client
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote


@dataclass
class Running:
    """A server running in a thread: its address, settings and private folder."""

    url: str
    port: int
    settings: Any
    workspace: Path


@contextmanager
def running(tmp: Path, **options: Any) -> Iterator[Running]:
    """Serve the page on 127.0.0.1 (any free port) until the block ends; options go to Settings."""
    import uvicorn

    from convert.web.app import Settings, create_app
    from convert.web.server import bind
    from convert.web.workspace import Workspace

    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    settings = Settings(port=port, **{"store": str(tmp / "web.db"), "jobs": 2, **options})
    workspace = Workspace(tmp)
    app = create_app(settings, workspace)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.02)
    try:
        yield Running(f"http://127.0.0.1:{port}", port, settings, workspace.root)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class Answer:
    """One HTTP answer."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        """Return the body as text."""
        return self.body.decode("utf-8", "replace")


@dataclass
class Client:
    """Talk to the server as a browser would: keep its cookies, send the page's CSRF token."""

    port: int
    host: str = ""
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        """Send one request; remember the cookies it sets."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {"Host": self.host or f"127.0.0.1:{self.port}", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        answer = Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        for value in response.headers.get_all("set-cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        conn.close()
        found = re.search(r'<meta name="csrf-token" content="([^"]+)"', answer.text)
        if found:
            self.csrf = found.group(1)
        return answer

    def get(self, path: str, **headers: str) -> Answer:
        """GET a path."""
        return self.request("GET", path, headers=headers)

    def post_form(self, path: str, fields: dict[str, str]) -> Answer:
        """POST a form with the CSRF token, as the pages' forms do."""
        body = "&".join(f"{quote(k)}={quote(v)}" for k, v in {"csrf": self.csrf, **fields}.items()).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def post(self, path: str, body: bytes = b"", **headers: str) -> Answer:
        """POST raw bytes with the CSRF header, as the page's script does."""
        return self.request("POST", path, body, {"X-CSRF-Token": self.csrf, **headers})

    def upload(self, path: str, name: str, data: bytes) -> Answer:
        """Send one file as the upload script does."""
        return self.post(path, data, **{"X-File-Name": quote(name), "Content-Type": "application/octet-stream"})
