"""A limit on the size of every request body, enforced before anything reads one.

Without it an unauthenticated caller could send a 100 MB JSON body to any route: the input
guard read it whole to look for NUL characters and FastAPI parsed it, only to answer 401. Now a
body whose declared `Content-Length` is over the limit is refused unread, and a body without
one (chunked) is counted as it arrives and refused at the first chunk past the limit, so no
more than the limit (and one chunk) is ever held. Either way the answer is 413
`payload-too-large`, audited, or RFC 6749's form on the OAuth endpoints.

The limit, 1 MiB, is set by the largest legitimate JSON body: a record update, at most 50
attributes of 1,000 characters plus its names and 20 documents, about 55 kB, and some 330 kB
if a client escapes every character as `\\uXXXX` (Python's `json.dumps` does, for Dari and
Pashto); next a cosignature note (20,000 characters, 120 kB escaped). Verifications,
agreements, letters and token requests are a few hundred bytes. Imports keep their own limit
(`exchange.import_service.MAX_IMPORT_BYTES`): they are the one route made for large bodies."""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.input_guard import refusal

MAX_BODY_BYTES = 1024 * 1024


class BodyTooLarge(HTTPException):
    """Raised by the counting `receive` when a streamed body passes the limit. An HTTP
    exception, so that FastAPI passes it on while reading a body (any other exception there
    becomes a 400) to the handler below; raised before routing (the input guard reads JSON and
    form bodies), it reaches `BodyLimit` itself."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _detail(limit))
        self.limit = limit


def _detail(limit: int) -> str:
    return f"the request body is limited to {limit} bytes here"


def _too_large(scope: Scope, limit: int) -> Response:
    return refusal(scope, "payload-too-large", _detail(limit))


async def on_body_too_large(request: Request, exc: Exception) -> Response:
    """The exception handler for a body found too large while a route read it."""
    assert isinstance(exc, BodyTooLarge)
    return _too_large(request.scope, exc.limit)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            # h11 and httptools refuse a malformed length before the app sees it
            return int(value) if value.isdigit() else None
    return None


class BodyLimit:
    """Pure ASGI, inside the audit middleware and before the input guard (the first reader)."""

    def __init__(self, app: ASGIApp, limit: int, route_limits: Mapping[str, int]) -> None:
        """`route_limits`: full path templates of the routes with a limit of their own."""
        self.app = app
        self.limit = limit
        # (the template's literal start, its pattern, its limit): the start rules out most
        # paths without running the pattern, on every request
        self._route_limits: tuple[tuple[str, re.Pattern[str], int], ...] = tuple(
            (path.split("{", 1)[0], compile_path(path)[0], route_limit)
            for path, route_limit in route_limits.items()
        )

    def _limit_of(self, path: str) -> int:
        for start, pattern, limit in self._route_limits:
            if path.startswith(start) and pattern.match(path):
                return limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_of(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _too_large(scope, limit)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, counted, send)
        except BodyTooLarge:
            # Only a reader outside the app's exception handling gets here: the input guard,
            # before any route ran, so nothing has been sent. (Raised inside a route, the
            # handler answers; after a response started, Starlette raises a RuntimeError.)
            await _too_large(scope, limit)(scope, receive, send)
