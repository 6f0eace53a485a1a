"""The checkpoint route runs through `LeanRoute` without FastAPI's dependency solving, and
answers every kind of request exactly as FastAPI's own handler would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI

from api.app_factory import create_app
from api.lean_route import LeanRoute, _plan
from api.protocol import ProtocolRoute
from api.v1.verifications import router as verification_router
from config.settings import Settings
from tests.conftest import TEST_ISSUER, World
from tests.helpers import shared_pipeline

JSON = "application/json"
LETTER = b'{"letter_id": "LTR-1"}'
# name → (headers beyond the token, content type, body); "token" False sends no token
CASES: dict[str, tuple[dict[str, str], str | None, bytes, bool]] = {
    "letter": ({}, JSON, LETTER, True),
    "letter in Dari": ({"Accept-Language": "fa-AF"}, JSON, LETTER, True),
    "document": (
        {},
        JSON,
        b'{"document": {"type": "passport", "number": "P1234567"}}',
        True,
    ),
    "person": (
        {},
        JSON,
        b'{"person": {"given_name": "Ahmad", "father_name": "Karim", "dob": "1980"}}',
        True,
    ),
    "no token": ({}, JSON, LETTER, False),
    "malformed JSON": ({}, JSON, b'{"letter_id": ', True),
    "bytes that are not UTF-8": ({}, JSON, b"\xff\xfeH\x081\x07\xbe", True),
    "JSON as text/plain": ({}, "text/plain", LETTER, True),
    "no content type": ({}, None, LETTER, True),
    "+json media type": ({}, "application/vnd.sanad+json", LETTER, True),
    "empty body": ({}, JSON, b"", True),
    "not an object": ({}, JSON, b"[1, 2]", True),
    "unknown field": ({}, JSON, b'{"letter_id": "LTR-1", "ssn": "1"}', True),
    "two keys": ({}, JSON, b'{"letter_id": "LTR-1", "credential": "abcdefghij"}', True),
    "wrong type": ({}, JSON, b'{"letter_id": 5}', True),
    "no purpose": ({"Purpose-Of-Use": ""}, JSON, LETTER, True),
    "purpose not agreed": ({"Purpose-Of-Use": "reconciliation"}, JSON, LETTER, True),
    "JSON as multipart": ({}, "multipart/form-data; boundary=b", LETTER, True),
    "no content type, no body": ({}, None, b"", True),
    "Accept it cannot answer": ({"Accept": "application/xml"}, JSON, LETTER, True),
    "Accept refusing JSON": ({"Accept": "application/json;q=0, */*;q=0.5"}, JSON, LETTER, True),
    "Accept of problems": ({"Accept": "application/problem+json"}, JSON, LETTER, True),
    "unparsable Accept": ({"Accept": "json please"}, JSON, LETTER, True),
    "a query parameter": ({}, JSON, LETTER, True),
    "a query without a token": ({}, JSON, LETTER, False),
}
# the query string a case sends (the route declares no query parameter)
QUERIES = {"a query parameter": "?letter_id=LTR-1", "a query without a token": "?x=1&x=2"}


@asynccontextmanager
async def _serving(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as http:
            yield app, http


async def _send(http: httpx.AsyncClient, world: World, case: str) -> httpx.Response:
    extra, content_type, body, with_token = CASES[case]
    headers = await world.headers("gop", purpose="protection-verification") if with_token else {}
    if not with_token:
        headers["Purpose-Of-Use"] = "protection-verification"
    if content_type:
        headers["Content-Type"] = content_type
    headers.update(extra)
    headers = {name: value for name, value in headers.items() if value}
    path = "/v1/verifications" + QUERIES.get(case, "")
    return await http.post(path, content=body, headers=headers)


def _comparable(response: httpx.Response) -> dict[str, Any]:
    payload = response.json()
    for varying in ("verification_id", "checked_at", "request_id"):
        payload.pop(varying, None)
    return {
        "status": response.status_code,
        "content_type": response.headers["content-type"],
        "body": payload,
    }


def test_the_checkpoint_route_is_planned_lean() -> None:
    route = verification_router.routes[0]
    assert isinstance(route, LeanRoute)
    plan = _plan(route)
    assert plan is not None
    assert plan.headers == {"accept_language": "accept-language"}
    # mounted on the app itself, with its own lean ASGI app rather than FastAPI's wrapper
    app = create_app(Settings(database_url="sqlite://"))
    assert app.router.routes[0] is route
    assert route.app.__qualname__ == "_asgi.<locals>.app"


async def test_lean_route_answers_as_fastapi_does(
    settings: Settings, client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await shared_pipeline(client, world)
    solved: list[object] = []
    original_solve = fastapi.routing.solve_dependencies

    async def counting_solve(*args: Any, **kwargs: Any) -> Any:
        dependant = kwargs.get("dependant")
        if getattr(dependant, "path", None) == "/v1/verifications":
            solved.append(dependant)
        return await original_solve(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting_solve)
    async with _serving(settings) as (_, lean):
        lean_answers = {case: _comparable(await _send(lean, world, case)) for case in CASES}
        assert solved == [], "the checkpoint route went through FastAPI's dependency solving"
        # the same app, but every route built by FastAPI's own handler and wrappers, behind
        # the protocol checks every /v1 route makes
        monkeypatch.setattr(LeanRoute, "get_route_handler", ProtocolRoute.get_route_handler)
        route = verification_router.routes[0]
        standard_app = fastapi.routing.request_response(ProtocolRoute.get_route_handler(route))
        monkeypatch.setattr(route, "app", standard_app)
        async with _serving(settings) as (_, standard):
            for case in CASES:
                assert _comparable(await _send(standard, world, case)) == lean_answers[case], case
    assert solved, "the standard handler did not solve dependencies: nothing was compared"
    assert lean_answers["letter"]["status"] == 200
    assert lean_answers["malformed JSON"]["status"] == 400
    assert lean_answers["no token"]["status"] == 401
    assert lean_answers["JSON as text/plain"]["status"] == 415
    assert lean_answers["Accept it cannot answer"]["status"] == 406
    assert lean_answers["a query parameter"]["status"] == 422
