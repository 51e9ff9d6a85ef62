"""What every HTTP request passes before a route sees it, and every response on its way out.

An ASGI middleware, outermost in the app (`EdgedApp`):

- **A body limit.** Requests to the Twilio routes, the API and the staff pages may carry at
  most 64 KiB. A `Content-Length` over the limit is refused with 413 before a byte is read;
  a body that streams in without one (chunked) is counted as it arrives and refused the moment
  it passes the limit. What is within the limit is handed on to the app as one message, so no
  route ever parses more than 64 KiB, and nothing is spooled to disk. Twilio's own requests
  are a few kilobytes.
- **The fallback URL is never read.** `/twilio/fallback` answers every request with static
  TwiML; its body is left unread, whatever its size.
- **Security headers on every response:** `X-Content-Type-Options: nosniff`, a
  `Referrer-Policy`, a `Content-Security-Policy` (with `frame-ancestors 'none'`; pages may load
  scripts, styles and images from the service itself only), HSTS in production, and no
  `server` header.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BODY_LIMIT = 64 * 1024
LIMITED_PREFIXES = ("/twilio/", "/api/", "/agent/", "/reports/")
UNREAD_PATHS = frozenset({"/twilio/fallback"})

# HTML may load what the service itself serves (the API docs' scripts and styles); the docs'
# viewer sets inline styles and data: images. Everything else may load nothing at all.
HTML_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000"


def _limited(path: str) -> bool:
    return path.startswith(LIMITED_PREFIXES) and path not in UNREAD_PATHS


class EdgedApp(FastAPI):
    """FastAPI with the edge outside everything, so that even Starlette's own 500 page (from
    its outermost middleware) gets the headers. `edge` wraps the built middleware stack."""

    edge: Callable[[ASGIApp], ASGIApp] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        return self.edge(stack) if self.edge is not None else stack


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        *,
        production: bool,
        body_limit: int = BODY_LIMIT,
        on_too_large: Callable[[str], None] = lambda _path: None,
    ) -> None:
        self.app = app
        self.production = production
        self.body_limit = body_limit
        self.on_too_large = on_too_large

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_headers(send)
        path: str = scope["path"]
        if not _limited(path):
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.body_limit:
            await self._too_large(path, send)
            return
        try:
            body = await self._read(receive)
        except _Disconnected:
            return  # the client left; there is nobody to answer
        if body is None:
            await self._too_large(path, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.body_limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _too_large(self, path: str, send: Send) -> None:
        self.on_too_large(path)
        body = json.dumps(
            {
                "detail": {
                    "error": "body_too_large",
                    "message": f"the request body is over the limit of {self.body_limit} bytes",
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _with_headers(self, send: Send) -> Send:
        production = self.production

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "server" in headers:
                    del headers["server"]
                headers["x-content-type-options"] = "nosniff"
                headers["referrer-policy"] = "no-referrer"
                html = headers.get("content-type", "").startswith("text/html")
                headers.setdefault("content-security-policy", HTML_POLICY if html else OTHER_POLICY)
                headers["x-frame-options"] = "DENY"
                if production:
                    headers["strict-transport-security"] = HSTS
            await send(message)

        return send_with_headers


class _Disconnected(Exception):
    """The client went away before its body was complete."""


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the app the whole body at once, then waits for the disconnect."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
