"""Run the web page: bind the address, say where it is (with its token), serve until stopped, then clean up."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from convert.errors import UsageError
from convert.web.app import Settings, create_app


def bind(host: str, port: int) -> socket.socket:
    """Open the listening socket (port 0: any free port); a busy port or unknown host is a usage error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise UsageError("web-cannot-listen", host=host, port=port, reason=exc.strerror or str(exc)) from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def address(settings: Settings) -> str:
    """Return the address to open in a browser, with the access token when one is needed."""
    host = settings.host
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    shown = f"[{host}]" if ":" in host else host
    query = f"?token={settings.token}" if settings.token else ""
    return f"http://{shown}:{settings.port}/{query}"


def serve(settings: Settings, announce: Callable[[Settings], Any] | None = None) -> None:
    """Serve until interrupted; the private folder of uploads is removed when the server stops."""
    import uvicorn

    sock = bind(settings.host, settings.port)
    settings.port = sock.getsockname()[1]
    app = None
    try:
        app = create_app(settings)
        if announce is not None:
            announce(settings)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=3)
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # Ctrl+C is how a person stops the page: no error
    finally:
        sock.close()
        if app is not None:
            app.state.ctx.workspace.close()
