"""Every route of the app with its name, full path template and methods, however routers nest.

FastAPI ≥ 0.16x keeps included routers as lazy branches, so `app.routes` no longer lists each
endpoint and `scope["route"].path` lacks the prefixes; this index is the one place that knows."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from starlette.routing import BaseRoute, Route, compile_path
from starlette.types import Scope

from audit.context import spell_target


@dataclass(frozen=True, slots=True)
class RouteInfo:
    name: str
    path: str
    methods: frozenset[str]
    is_api_route: bool


def _walk(routes: Sequence[BaseRoute]) -> Iterator[tuple[BaseRoute, str | None]]:
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI flattens included routers into app.routes
        for route in routes:
            yield route, getattr(route, "path", None)
        return
    for context in iter_route_contexts(routes):
        yield context.original_route, context.path


def route_index(routes: Sequence[BaseRoute]) -> dict[str, RouteInfo]:
    from fastapi.routing import APIRoute

    index: dict[str, RouteInfo] = {}
    for route, path in _walk(routes):
        if not isinstance(route, Route) or path is None:
            continue
        if route.name in index:
            raise ValueError(f"route name {route.name!r} is used twice; names key the policy")
        index[route.name] = RouteInfo(
            name=route.name,
            path=path,
            methods=frozenset(route.methods or ()) - {"HEAD"},
            is_api_route=isinstance(route, APIRoute),
        )
    return index


def route_template(scope: Scope) -> str:
    """The full path template of the route that matched this request, or `(unmatched)`."""
    name = getattr(scope.get("route"), "name", None)
    if name is None:
        return "(unmatched)"
    app_state = scope["app"].state
    index = getattr(app_state, "route_index", None)
    if index is None:
        index = app_state.route_index = route_index(scope["app"].routes)
    info = index.get(name)
    return info.path if info else "(unmatched)"


def route_target(scope: Scope) -> str | None:
    """The objects a request named in its path, for its audit event: the route's path
    parameters URL-encoded in the route's order (`list_id=…&record_id=…`), cut to the audit
    column; None when the route takes none (or none matched)."""
    params = scope.get("path_params")
    if not params or scope.get("route") is None:
        return None
    return spell_target(params.items())


def _path_methods(routes: Sequence[BaseRoute]) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    return [
        (compile_path(path)[0], frozenset(route.methods or ()))
        for route, path in _walk(routes)
        if isinstance(route, Route) and path is not None
    ]


def allowed_methods(scope: Scope) -> str:
    """The `Allow` header of a 405: every method of every route whose full path matches the
    request's (the router stops at the first route that matches the path alone). HEAD only
    where a route answers it: FastAPI's routes do not."""
    app_state = scope["app"].state
    table = getattr(app_state, "path_methods", None)
    if table is None:
        table = app_state.path_methods = _path_methods(scope["app"].routes)
    path = scope["path"]
    allowed: set[str] = set()
    for pattern, methods in table:
        if pattern.match(path):
            allowed |= methods
    return ", ".join(sorted(allowed))
