"""Refuse a request that carries a NUL character in its path, query string, JSON body or form
body before any route reads it. No value of this API may contain one, and PostgreSQL can
neither store nor compare one: a verification by letter id or a search carrying one reached
the database and failed there as a 500. Runs inside the audit middleware, so the refusal is
audited like any other 422 (the OAuth endpoints answer 400 `invalid_request`, RFC 6749's
form). CSV and NDJSON imports check every field's characters themselves, row by row; their
bodies are not buffered here."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.media_types import FORM, is_json
from api.problems import problem_response
from problems import PROBLEM_KINDS

NUL = "\x00"
_JSON_NUL = b"\\u0000"  # the only way JSON writes a NUL
_FORM = FORM.encode()
OAUTH_PREFIX = "/oauth/"


def _form_nul(text: str) -> str | None:
    for name, value in parse_qsl(text, keep_blank_values=True, encoding="latin-1"):
        if NUL in name or NUL in value:
            return name.replace(NUL, "") or "query"
    return None


def nul_parameter(scope: Scope) -> str | None:
    """The name of the first parameter holding a NUL (`path` for the path), or None."""
    if NUL in scope.get("path", ""):
        return "path"
    return _form_nul(scope.get("query_string", b"").decode("latin-1"))


def nul_in_body(media_type: bytes, body: bytes) -> str | None:
    """`body` if a JSON body writes a NUL, the field's name if a form's holds one, else None."""
    if _is_json(media_type):
        return "body" if _JSON_NUL in body else None
    if media_type == _FORM:
        return _form_nul(body.decode("latin-1"))
    return None


def _is_json(media_type: bytes) -> bool:
    # every type FastAPI parses as JSON (`application/*+json` too), not only the usual two
    return media_type == b"application/json" or is_json(media_type.decode("latin-1"))


def _media_type(scope: Scope) -> bytes:
    for key, value in scope.get("headers", ()):
        if key == b"content-type":
            return bytes(value.split(b";", 1)[0].strip().lower())
    return b""


class NulGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name = nul_parameter(scope)
        media_type = _media_type(scope)
        if name is None and (media_type == _FORM or _is_json(media_type)):
            # these bodies are read whole by their routes anyway: read them first, then replay
            messages, body = await _read_body(receive)
            name = nul_in_body(media_type, body)
            receive = _replay(messages, receive)
        if name is None:
            await self.app(scope, receive, send)
            return
        invalid = [{"name": name, "reason": "contains a NUL character"}]
        refused = refusal(scope, "validation-failed", f"{name} contains a NUL character", invalid)
        await refused(scope, receive, send)


def refusal(
    scope: Scope, slug: str, detail: str, invalid_params: list[dict[str, str]] | None = None
) -> Response:
    """The answer to a request refused before any route ran: a problem document, or on the
    OAuth endpoints RFC 6749's `invalid_request`, as OAuth clients expect (with the problem's
    status, but 400 where a problem would say 422: RFC 6749 knows no 422)."""
    if scope.get("path", "").startswith(OAUTH_PREFIX):
        status = PROBLEM_KINDS[slug].status
        body = {"error": "invalid_request", "error_description": detail}
        return JSONResponse(body, 400 if status == 422 else status)
    return problem_response(Request(scope), slug, detail, invalid_params)


async def _read_body(receive: Receive) -> tuple[list[Message], bytes]:
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return messages, b"".join(chunks)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
