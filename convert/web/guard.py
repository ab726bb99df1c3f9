"""What every request passes: the host and access token, CSRF on every change, a body limit, security headers."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

from convert.checks.catalogue import text

Scope = MutableMapping[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]

# Pages load only what this server sends: no inline script or style, no other site, no frames around them.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]
CHANGES = {"POST", "PUT", "PATCH", "DELETE"}
# A form (the summary's choices of 1,000 reports included) is far below this; files go to the upload routes.
MAX_FORM_BYTES = 2 * 1024 * 1024
UPLOAD_SUFFIXES = ("/files", "/store/reconcile")
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """Tell whether a host name or address is this machine only (127.0.0.0/8, ::1, localhost)."""
    host = host.strip("[]")
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def csrf_value(scope: Scope) -> str:
    """Return the CSRF token of this browser (the pages put it in every form and the script's requests)."""
    return str(scope.get("state", {}).get("csrf", ""))


class _TooLarge(Exception):
    pass


class Guard:
    """ASGI middleware in front of every route."""

    def __init__(self, app: Any, ctx: Any, page: Callable[[int, str], Any]) -> None:
        self.app = app
        self.ctx = ctx
        self.page = page
        port = ctx.settings.port
        self.csrf_cookie = f"nianbao_csrf_{port}"
        self.token_cookie = f"nianbao_token_{port}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.ctx.settings
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        cookies = _cookies(headers.get("cookie", ""))
        set_cookies: list[str] = []

        # A page of another site that reaches this port by a DNS name (rebinding) is no local request.
        if not settings.needs_token and not self._local_host(headers.get("host", "")):
            await self._refuse(scope, receive, send, 403, text("web-bad-host"))
            return
        if settings.needs_token:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            given = query.get("token") or cookies.get(self.token_cookie) or _bearer(headers)
            if not given or not secrets.compare_digest(given.encode(), str(settings.token).encode()):
                await self._refuse(scope, receive, send, 403, text("web-token-needed"))
                return
            if "token" in query:
                # Keep the token in a cookie and take it out of the address bar (and the history).
                del query["token"]
                where = scope["path"] + ("?" + urlencode(query) if query else "")
                cookie = f"{self.token_cookie}={settings.token}; Path=/; HttpOnly; SameSite=Strict"
                await _redirect(send, where, [cookie])
                return
        csrf = cookies.get(self.csrf_cookie, "")
        if len(csrf) < 20:
            csrf = secrets.token_urlsafe(24)
            set_cookies.append(f"{self.csrf_cookie}={csrf}; Path=/; HttpOnly; SameSite=Strict")
        scope.setdefault("state", {})["csrf"] = csrf

        if scope["method"] in CHANGES:
            origin = headers.get("origin")
            if origin is not None and origin != f"{scope.get('scheme', 'http')}://{headers.get('host', '')}":
                await self._refuse(scope, receive, send, 403, text("web-csrf"))
                return
            upload = scope["path"].endswith(UPLOAD_SUFFIXES)
            sent = headers.get("x-csrf-token")
            if sent is None and not upload:
                try:
                    receive, sent = await _form_token(receive, headers)
                except _TooLarge:
                    await self._refuse(scope, receive, send, 413, text("web-form-too-large"))
                    return
            if not sent or not secrets.compare_digest(sent.encode(), csrf.encode()) or len(csrf) < 20:
                await self._refuse(scope, receive, send, 403, text("web-csrf"))
                return
            if not upload:
                receive = _limited(receive, MAX_FORM_BYTES)

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                extra = [*SECURITY_HEADERS, *((b"set-cookie", c.encode("latin-1")) for c in set_cookies)]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except _TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, 413, text("web-form-too-large"))

    def _local_host(self, host: str) -> bool:
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return is_loopback(name)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
        response = self.page(status, message)
        response.headers.update({k.decode(): v.decode() for k, v in SECURITY_HEADERS})
        await response(scope, receive, send)


def _cookies(raw: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed cookie header from another program on the host: no cookies
        return {}
    return {k: m.value for k, m in jar.items()}


def _bearer(headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


async def _redirect(send: Send, where: str, cookies: list[str]) -> None:
    headers = [(b"location", where.encode("utf-8")), *SECURITY_HEADERS]
    headers += [(b"set-cookie", c.encode("latin-1")) for c in cookies]
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def _form_token(receive: Receive, headers: dict[str, str]) -> tuple[Receive, str | None]:
    """Read an urlencoded form's body (up to the limit) for its csrf field; replay the body to the route."""
    if "application/x-www-form-urlencoded" not in headers.get("content-type", ""):
        return receive, None
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        body = message.get("body", b"")
        size += len(body)
        if size > MAX_FORM_BYTES:
            raise _TooLarge
        chunks.append(body)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    token = dict(parse_qsl(body.decode("utf-8", "replace"))).get("csrf")
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay, token


def _limited(receive: Receive, limit: int) -> Receive:
    size = 0

    async def wrapped() -> Message:
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        if size > limit:
            raise _TooLarge
        return message

    return wrapped
