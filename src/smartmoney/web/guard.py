"""The dashboard's gate (plain ASGI, in front of everything): the token, the sizes of the URL and
the headers, no request body, the security headers on every response, and large bodies sent in
pieces.

With a token (required when the server binds anything but loopback), a request must carry it as
`Authorization: Bearer TOKEN`, or as `?token=TOKEN` on a page (the browser then gets it as an
HttpOnly, SameSite=Strict cookie, so the links it follows carry it), compared in constant time
(`hmac.compare_digest`). Only /health and the plotly.js library are open.
"""

from __future__ import annotations

import hmac
import json
import re
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

COOKIE = "smartmoney_token"
OPEN_PATHS = frozenset({"/health", "/static/plotly.js"})
MAX_QUERY = 2048      # bytes of query string
MAX_PATH = 512
MAX_HEADERS = 100     # header lines
MAX_HEADER_BYTES = 16 * 1024
PIECE = 64 * 1024     # an answer's body goes to the server in pieces of this size
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9._~+/=-]{16,256}$")
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy",
     (b"default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
      b"img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
      b"form-action 'self'")),
]


def check_token(token: str) -> str:
    """A usable token: 16 to 256 characters among letters, digits and -._~+/= (no spaces)."""
    if not TOKEN_PATTERN.match(token):
        raise ValueError("the token must be 16 to 256 characters, letters, digits and -._~+/= only")
    return token


class Guard:
    """ASGI middleware: refuse oversized URLs (414), too many or too large headers (431), a request
    body (413: every route is a GET; the connection is then closed, the body unread), and missing or
    wrong tokens (401)."""

    def __init__(self, app, token: str | None = None):
        self.app = app
        self.token = check_token(token).encode() if token is not None else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        query = scope.get("query_string", b"")
        if len(query) > MAX_QUERY or len(scope.get("raw_path") or scope["path"].encode()) > MAX_PATH:
            return await _reply(send, 414, f"the request URL is too long (query at most {MAX_QUERY} bytes)")
        headers = scope.get("headers") or []
        if len(headers) > MAX_HEADERS or sum(len(name) + len(value) for name, value in headers) > MAX_HEADER_BYTES:
            return await _reply(send, 431, f"too many or too large headers (at most {MAX_HEADERS}, "
                                f"{MAX_HEADER_BYTES} bytes)", [(b"connection", b"close")])
        if any(name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"0", b""))
               for name, value in headers):
            return await _reply(send, 413, "the dashboard takes no request body", [(b"connection", b"close")])
        cookie = None
        if self.token is not None and scope["path"] not in OPEN_PATHS:
            given, from_query = self._given(scope, query)
            if given is None or not hmac.compare_digest(given, self.token):
                return await _reply(send, 401, "missing or wrong token: send `Authorization: Bearer TOKEN`",
                                    [(b"www-authenticate", b'Bearer realm="smartmoney"')])
            if from_query:
                cookie = (f"{COOKIE}={self.token.decode()}; HttpOnly; SameSite=Strict; Path=/").encode()

        async def guarded(message):
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), *SECURITY_HEADERS]
                if cookie is not None:
                    headers.append((b"set-cookie", cookie))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and len(message.get("body", b"")) > PIECE:
                # In pieces, so a client reading slowly holds one piece in the server's buffer, not a copy
                # of the whole answer (uvicorn waits for the buffer to drain between pieces).
                body, more = message["body"], message.get("more_body", False)
                for start in range(0, len(body), PIECE):
                    await send({"type": "http.response.body", "body": body[start:start + PIECE],
                                "more_body": more or start + PIECE < len(body)})
                return
            await send(message)

        await self.app(scope, receive, guarded)

    @staticmethod
    def _given(scope, query: bytes) -> tuple[bytes | None, bool]:
        """The token the request carries (header, cookie, then query), and whether from the query."""
        headers = dict(scope.get("headers") or [])
        authorization = headers.get(b"authorization", b"")
        if authorization[:7].lower() == b"bearer ":
            return authorization[7:].strip(), False
        if b"cookie" in headers:
            try:
                jar = SimpleCookie(headers[b"cookie"].decode("latin-1"))
            except CookieError:
                jar = {}
            if COOKIE in jar:
                return jar[COOKIE].value.encode("latin-1", "replace"), False
        values = parse_qs(query.decode("latin-1")).get("token")
        if values:
            return values[0].encode("latin-1", "replace"), True
        return None, False


async def _reply(send, status: int, message: str, headers: list | None = None) -> None:
    body = json.dumps({"detail": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *SECURITY_HEADERS, *(headers or [])]})
    await send({"type": "http.response.body", "body": body})
