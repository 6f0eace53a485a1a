"""The HTTP checks every `/v1` route makes before FastAPI reads its body or solves its
dependencies (so before authentication too: they judge only the request's shape, which the
contract makes public), in this order:

1. `Accept` must admit a media type the route answers with, else 406 `not-acceptable`;
   errors are problem documents whatever the caller accepts.
2. A route that takes a JSON body refuses a body of any other media type (none included,
   as FastAPI does) with 415 `unsupported-media-type`; before, FastAPI validated such a body
   as bytes and answered a misleading 422 "Input should be a valid dictionary".
3. Every query parameter must be one the route declares, and one declared with a single value
   must come once, else 422 `validation-failed` naming each. FastAPI ignores the rest and
   takes the last of a repeated one: a mistyped search filter (`fathername=`) widened the
   search to the whole list, every record of it disclosed and audited. A route may say why a
   name is refused and where it went (`refused_in_query`).

`ProtocolRoute` is the route class of every `/v1` router (`api.v1.include_v1` refuses any
other); the checkpoint's `LeanRoute` makes the same checks in the same order. What a route
declares is read once, when the route is built; a request with no query string, a JSON body
and `Accept: */*` or a recurring Accept value costs a few comparisons."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin

from fastapi import Request, Response, params
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.utils import create_model_field

from api.media_types import JSON, PROBLEM_JSON, accepts, is_json
from api.responses import problem_responses
from problems import ProblemError

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
# a name echoed back in a refusal: a parameter name, not a value sent without its key
_ECHOED_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,64}")
_MANY = (list, set, frozenset, tuple)


Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_REFUSED_IN_QUERY: dict[Callable[..., Any], dict[str, str]] = {}


def refused_in_query(names: Iterable[str], reason: str) -> Callable[[Endpoint], Endpoint]:
    """Mark an endpoint whose route refuses these query parameters with this reason instead of
    "not a parameter of this operation" (for parameters that moved, so a caller learns where)."""

    def mark(endpoint: Endpoint) -> Endpoint:
        _REFUSED_IN_QUERY.setdefault(endpoint, {}).update(dict.fromkeys(names, reason))
        return endpoint

    return mark


def _takes_many(annotation: object) -> bool:
    """Whether a query parameter is declared to take several values (`list[str] | None`)."""
    if get_origin(annotation) in (Union, UnionType):
        return any(_takes_many(arg) for arg in get_args(annotation))
    return get_origin(annotation) in _MANY or annotation in _MANY


def _query_params(dependant: Dependant) -> Iterator[tuple[str, bool]]:
    """(name, takes several values) of each query parameter of the route and its dependencies."""
    for param in dependant.query_params:
        yield param.alias, _takes_many(param.field_info.annotation)
    for dependency in dependant.dependencies:
        yield from _query_params(dependency)


def _offered(route: APIRoute) -> tuple[str, ...]:
    """The media types a route answers with: its response class's, those its success response
    documents, and for JSON the problem type (a caller may ask for that alone)."""
    response_class = route.response_class
    if isinstance(response_class, DefaultPlaceholder):
        response_class = response_class.value
    offered = [response_class.media_type] if response_class.media_type else []
    success = route.responses.get(route.status_code or 200, {})
    offered.extend(success.get("content", {}))
    if JSON in offered:
        offered.append(PROBLEM_JSON)
    return tuple(dict.fromkeys(offered))


@dataclass(frozen=True, slots=True)
class RouteProtocol:
    query: frozenset[str]  # declared query parameters
    single: frozenset[str]  # ... of which one value is expected
    json_body: bool
    offered: tuple[str, ...]
    reasons: Mapping[str, str]  # why an undeclared name is refused, where the route says

    @classmethod
    def of(cls, route: APIRoute) -> RouteProtocol:
        declared = dict(_query_params(route.dependant))
        body = route.body_field
        return cls(
            query=frozenset(declared),
            single=frozenset(name for name, many in declared.items() if not many),
            json_body=body is not None and not isinstance(body.field_info, params.Form),
            offered=_offered(route),
            reasons=_REFUSED_IN_QUERY.get(route.endpoint, {}),
        )

    @property
    def refusals(self) -> tuple[int, ...]:
        """The statuses these checks can answer, for the route's OpenAPI entry."""
        return (406, 413, 415) if self.json_body else (406,)

    def refuse_unacceptable(self, accept: str | None) -> None:
        if not accepts(accept, self.offered):
            raise ProblemError(
                "not-acceptable", "this operation answers " + ", ".join(self.offered)
            )

    def refuse_media_type(self, content_type: str | None) -> None:
        """For a request with a body."""
        if not is_json(content_type):
            raise ProblemError(
                "unsupported-media-type",
                f"send the body as {JSON} (or application/*+json)",
            )

    def refuse_query(self, request: Request) -> None:
        if not request.scope["query_string"]:
            return
        seen: set[str] = set()
        refused: dict[str, str] = {}
        for name, _ in request.query_params.multi_items():
            if name in self.reasons:
                refused.setdefault(f"query.{name}", self.reasons[name])
            elif name not in self.query:
                refused.setdefault(*_unknown(name))
            elif name in seen and name in self.single:
                refused.setdefault(f"query.{name}", "given more than once; it takes one value")
            seen.add(name)
        if refused:
            raise ProblemError(
                "validation-failed",
                "invalid: " + ", ".join(list(refused)[:5]),
                invalid_params=[{"name": name, "reason": why} for name, why in refused.items()],
            )

    async def check(self, request: Request) -> None:
        """The three checks, for a route FastAPI handles (it reads a JSON body later)."""
        headers = request.headers
        self.refuse_unacceptable(headers.get("accept"))
        if self.json_body:
            content_type = headers.get("content-type")
            if not is_json(content_type) and await request.body():
                self.refuse_media_type(content_type)
        self.refuse_query(request)


def _unknown(name: str) -> tuple[str, str]:
    # a key without a value may be the value itself (`?Abdul%20Ghafoor`): never echo that
    if _ECHOED_NAME.fullmatch(name):
        return f"query.{name}", "not a parameter of this operation"
    return "query", "a parameter this operation does not take"


class ProtocolRoute(APIRoute):
    """An `APIRoute` that makes the checks above before FastAPI's handler runs, and documents
    the refusals they can answer."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self._document(RouteProtocol.of(self).refusals)

    def _document(self, statuses: Iterable[int]) -> None:
        """Add the refusals to the route's documented responses, as `APIRoute` itself
        declares a response with a model."""
        wanted = set(statuses)
        for status, response in problem_responses(*wanted).items():
            if status not in wanted or status in self.responses:
                continue
            self.responses = {**self.responses, status: response}
            self.response_fields[status] = create_model_field(
                name=f"Response_{status}_{self.unique_id}",
                type_=response["model"],
                mode="serialization",
            )

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        protocol = RouteProtocol.of(self)

        async def checked(request: Request) -> Response:
            await protocol.check(request)
            return await handler(request)

        return checked
