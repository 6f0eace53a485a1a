"""Render every error as RFC 9457 `application/problem+json` and note its reason for the audit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from asyncpg.exceptions import DataError as DriverDataError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError as StatementDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.route_index import allowed_methods, route_template
from audit.context import AuditContext
from problems import PROBLEM_KINDS, ProblemError

log = structlog.get_logger("sanad.problems")
PROBLEM_MEDIA_TYPE = "application/problem+json"
_STATUS_TO_SLUG = {
    400: "invalid-request",
    401: "unauthenticated",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-failed",
}


def problem_response(
    request: Request,
    slug: str,
    detail: str | None = None,
    invalid_params: list[dict[str, str]] | None = None,
    extensions: dict[str, object] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    kind = PROBLEM_KINDS[slug]
    audit: AuditContext | None = request.scope.get("state", {}).get("audit")
    if audit is not None and audit.reason is None:
        audit.reason = slug
    body: dict[str, Any] = {
        "type": kind.type_uri,
        "title": kind.title,
        "status": kind.status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    if audit is not None:
        body["request_id"] = audit.request_id
    if invalid_params:
        body["invalid_params"] = invalid_params
    if extensions:
        body.update(extensions)
    return JSONResponse(
        body, status_code=kind.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        request, exc.slug, exc.detail, exc.invalid_params, exc.extensions, exc.headers
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _json_syntax_error(errors: Sequence[Any]) -> dict[str, str] | None:
    """A body that is not JSON at all is malformed (400), not a JSON value with invalid
    fields (422): named `body`, with where the parser stopped (FastAPI puts that offset in
    the location, where it read as a field name: `body.8`)."""
    for error in errors:
        location = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid" and location[:1] == ("body",):
            why = str(error.get("ctx", {}).get("error") or "not valid JSON")
            where = f" at position {location[1]}" if len(location) > 1 else ""
            return {"name": "body", "reason": f"not valid JSON: {why}{where}"}
    return None


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    malformed = _json_syntax_error(errors)
    if malformed is not None:
        return problem_response(request, "invalid-request", "the body is not JSON", [malformed])
    # the offending *value* is never echoed: it may be a name or a document number
    params = [
        {"name": _field_name(tuple(err.get("loc", ()))), "reason": str(err.get("msg", "invalid"))}
        for err in errors
    ]
    names = ", ".join(p["name"] for p in params[:5])
    return problem_response(request, "validation-failed", f"invalid: {names}", params)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = _STATUS_TO_SLUG.get(exc.status_code, "invalid-request")
    detail = exc.detail if isinstance(exc.detail, str) else None
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # the router names the methods of the first route it matched; the path may have more
        headers["Allow"] = allowed_methods(request.scope)
    return problem_response(request, slug, detail, headers=headers)


async def _on_unstorable(request: Request, exc: Exception) -> JSONResponse:
    """PostgreSQL's data exceptions (class 22: a character it cannot hold, a number out of
    range) come of a value the caller sent that the input checks let through: a 4xx, not a
    500. The database's message quotes the value, so only its type is logged."""
    log.warning("unstorable_value", error=type(exc).__name__, route=route_template(request.scope))
    detail = "a value could not be stored or compared (a NUL character, a number out of range)"
    return problem_response(request, "validation-failed", detail)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StatementDataError, _on_unstorable)
    app.add_exception_handler(DriverDataError, _on_unstorable)
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
