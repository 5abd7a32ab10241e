"""What both HTTP services do at their edge: body limits, security headers, bearer parsing,
rate limits and the metrics listener."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from prometheus_client import start_http_server
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style anywhere: pages take their styles from /static. Frames, plugins,
# <base> rewrites and posts to other origins are refused.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# FastAPI's Swagger UI and ReDoc pages load their assets from a CDN and start with an inline
# script: outside production (where they are off) their two pages get this policy instead.
DOCS_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    "https://fastapi.tiangolo.com https://cdn.redoc.ly; font-src https://fonts.gstatic.com; "
    "connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})


def docs_enabled(env: str) -> bool:
    """Swagger UI and ReDoc are served outside production only (their assets come from a CDN)."""
    return env != "production"


class SecurityHeaders:
    """Adds the security headers to every HTTP response; answers are not cached except static
    assets (API answers, status pages and the dashboard carry personal or case data)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        policy = DOCS_SECURITY_POLICY if path in DOCS_PATHS else CONTENT_SECURITY_POLICY
        cacheable = path.startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                added = [
                    (b"content-security-policy", policy.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    # Status links carry their secret in the path: never send it on.
                    (b"referrer-policy", b"no-referrer"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                if not cacheable:
                    added.append((b"cache-control", b"no-store"))
                headers.extend((k, v) for k, v in added if k not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses a request body larger than its limit with 413, before anything parses it.

    A declared ``Content-Length`` over the limit is refused unread; a body without one
    (chunked) is read and counted chunk by chunk, refused as soon as it passes the limit, and
    otherwise handed on as read: at most ``limit`` bytes are ever held.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit_for: Callable[[str], int],
        on_refused: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.limit_for = limit_for
        self.on_refused = on_refused

    async def _refuse(self, send: Send, limit: int) -> None:
        if self.on_refused is not None:
            self.on_refused()
        body = json.dumps({"detail": f"body larger than {limit} bytes"}).encode()
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > limit:
                await self._refuse(send, limit)
                return
        elif b"chunked" not in headers.get(b"transfer-encoding", b"").lower():
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


# RFC 6750 b64token: what a bearer credential may look like.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class StrictBearer(HTTPBearer):
    """``Authorization: Bearer <token>`` parsing in which a malformed header is 401 (another
    scheme, no token, characters a token cannot hold), never read as an anonymous call."""

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        header = request.headers.get("Authorization")
        if header is None:
            if self.auto_error:
                raise _unauthenticated("a bearer token is required")
            return None
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not _B64TOKEN.fullmatch(token):
            raise _unauthenticated("malformed Authorization header: expected 'Bearer <token>'")
        return HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)


def _unauthenticated(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


class RateLimit:
    """Moving-window limits per client address (``limits`` notation, e.g. ``"10/minute;100/hour"``);
    kept in this process's memory, so each replica counts on its own."""

    def __init__(self, rates: str) -> None:
        self.items: list[RateLimitItem] = parse_many(rates) if rates.strip() else []
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def retry_after(self, key: str) -> int | None:
        """Count one hit for ``key``; None when allowed, else seconds until one would be."""
        refused = [item for item in self.items if not self._limiter.hit(item, key)]
        if not refused:
            return None
        reset = max(self._limiter.get_window_stats(item, key).reset_time for item in refused)
        return max(1, math.ceil(reset - time.time()))

    def check(self, request: Request, *, scope: str) -> None:
        """Raise 429 with ``Retry-After`` when the caller's address is over its limit."""
        address = request.client.host if request.client else "unknown"
        wait = self.retry_after(f"{scope}:{address}")
        if wait is not None:
            raise HTTPException(
                status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                detail="too many requests from this address; retry later",
                headers={"Retry-After": str(wait)},
            )


def serve_metrics(host: str, port: int) -> None:
    """Prometheus metrics on their own listener, apart from the public API (port 0: none)."""
    if port:
        start_http_server(port, addr=host)


class AsciiJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped: a field error echoes the input, and a lone
    surrogate sent as "\\ud800" cannot be written as UTF-8 but can be escaped back."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


async def field_errors(request: Request, exc: Exception) -> Response:
    """422 with the field errors, as FastAPI answers them, whatever text they echo."""
    assert isinstance(exc, RequestValidationError)
    return AsciiJSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)


def install_field_errors(app: FastAPI) -> None:
    """Answer request validation errors with :func:`field_errors`."""
    app.add_exception_handler(RequestValidationError, field_errors)
