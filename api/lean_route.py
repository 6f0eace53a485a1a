"""A route class for the hottest endpoint: the same endpoint function, declared like any other
(its OpenAPI entry, policy entry and audit are unchanged), but called without FastAPI's
per-request dependency solving, which measured about a third of the checkpoint path's time.

It handles exactly the parameter shapes the checkpoint route uses — one JSON body model, the
`Access` dependency, the `Request`, and optional string headers — and falls back to FastAPI's
own handler for anything else. It keeps the order and error shapes of FastAPI behind
`ProtocolRoute`: the protocol checks (`Accept`, media type, query parameters) first, then a
malformed JSON body is refused before authentication, the caller is authorised before the body
is validated, and validation errors are `RequestValidationError`s located under `body` or
`header`."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import authorize
from api.protocol import ProtocolRoute, RouteProtocol

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to call the endpoint: which argument gets what."""

    body_name: str
    body_model: type[BaseModel]
    access_name: str
    request_name: str | None
    headers: dict[str, str]  # argument name → header name (lower case)
    status_code: int
    exclude_none: bool


def _plan(route: APIRoute) -> _Plan | None:
    dependant = route.dependant
    if len(dependant.body_params) != 1 or dependant.query_params or dependant.path_params:
        return None
    body = dependant.body_params[0]
    model = body.field_info.annotation
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    if dependant.cookie_params or len(dependant.dependencies) != 1:
        return None
    access = dependant.dependencies[0]
    if access.call is not authorize or access.name is None:
        return None
    headers = {}
    for header in dependant.header_params:
        if header.field_info.annotation != (str | None) or header.field_info.is_required():
            return None
        headers[header.name] = header.alias.lower()
    return _Plan(
        body_name=body.name,
        body_model=model,
        access_name=access.name,
        request_name=dependant.request_param_name,
        headers=headers,
        status_code=route.status_code or 200,
        exclude_none=route.response_model_exclude_none,
    )


def _header_values(request: Request, wanted: frozenset[bytes]) -> dict[bytes, str]:
    """The first value of each wanted header, as Starlette's `Headers.get` answers, in one pass
    over the ASGI header list (each `Headers.get` walks the whole list)."""
    found: dict[bytes, str] = {}
    for name, value in request.scope["headers"]:
        if name in wanted and name not in found:
            found[name] = value.decode("latin-1")
    return found


def _body_errors(error: ValidationError) -> RequestValidationError:
    return RequestValidationError(
        [
            {**detail, "loc": ("body", *detail["loc"])}
            for detail in error.errors(include_url=False, include_context=False)
        ]
    )


def _handler(route: APIRoute, plan: _Plan) -> Handler:
    endpoint = route.endpoint
    protocol = RouteProtocol.of(route)
    header_arguments = [(name, header.encode("latin-1")) for name, header in plan.headers.items()]
    wanted = frozenset(
        (
            b"accept",
            b"content-type",
            b"authorization",
            b"purpose-of-use",
            *(header for _, header in header_arguments),
        )
    )

    async def handle(request: Request) -> Response:
        # `RouteProtocol.check`, in its order, on headers read in one pass
        headers = _header_values(request, wanted)
        protocol.refuse_unacceptable(headers.get(b"accept"))
        raw = await request.body()
        if raw:
            protocol.refuse_media_type(headers.get(b"content-type"))
        protocol.refuse_query(request)
        try:
            document = json.loads(raw) if raw else None
        except json.JSONDecodeError as exc:
            raise RequestValidationError(
                [
                    {
                        "type": "json_invalid",
                        "loc": ("body", exc.pos),
                        "msg": "JSON decode error",
                        "ctx": {"error": exc.msg},
                    }
                ]
            ) from exc
        except (ValueError, RecursionError) as exc:
            # bytes that are not UTF-8, or arrays nested past the parser's depth: FastAPI
            # answers any error but a JSON syntax error this way
            raise HTTPException(400, "There was an error parsing the body") from exc
        access = await authorize(
            request, headers.get(b"authorization"), headers.get(b"purpose-of-use")
        )
        if document is None:
            raise RequestValidationError(
                [{"type": "missing", "loc": ("body",), "msg": "Field required"}]
            )
        try:
            # as FastAPI validates a body: objects by their attributes too (its error texts)
            body = plan.body_model.model_validate(document, from_attributes=True)
        except ValidationError as exc:
            raise _body_errors(exc) from None
        arguments: dict[str, Any] = {plan.body_name: body, plan.access_name: access}
        if plan.request_name:
            arguments[plan.request_name] = request
        for name, header in header_arguments:
            arguments[name] = headers.get(header)
        result: BaseModel = await endpoint(**arguments)
        content = result.model_dump_json(by_alias=True, exclude_none=plan.exclude_none)
        return Response(content, status_code=plan.status_code, media_type="application/json")

    return handle


def _asgi(handle: Handler) -> ASGIApp:
    """The route's ASGI app without FastAPI's per-request exit stacks (they serve dependencies
    with `yield`, which this route has none of) and without Starlette's route-level exception
    wrapper: an exception reaches the app's `ExceptionMiddleware`, whose handlers are the same."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await handle(Request(scope, receive, send))
        await response(scope, receive, send)

    return app


class LeanRoute(ProtocolRoute):
    """Mounted directly on the app (`api.v1.include_v1`), its `app` is the lean one; included
    through a router it still skips dependency solving, but FastAPI wraps it as usual."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        plan = _plan(self)
        # a route with its own body limit keeps FastAPI's wrapper, which enforces it
        if plan is not None and self.max_body_size is None:
            self.app = _asgi(_handler(self, plan))

    def get_route_handler(self) -> Handler:
        plan = _plan(self)
        return super().get_route_handler() if plan is None else _handler(self, plan)
