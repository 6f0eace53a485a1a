"""HTTP itself, on every route: a body past its size limit is 413 before it is read; malformed
JSON is 400; an unknown or repeated query parameter is 422 (a mistyped filter must never widen
what a search discloses); a JSON route refuses other media types with 415 and an `Accept` it
cannot satisfy with 406; a 405 names every method of the path; and the OAuth endpoints refuse
what RFC 6749 calls `invalid_request`. Each refusal is a problem document (RFC 6749's form on
the OAuth endpoints), audited like any other."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from api.app_factory import create_app
from api.body_limit import MAX_BODY_BYTES
from api.v1 import lists
from config.settings import Settings
from exchange.import_service import MAX_IMPORT_BYTES
from schemas.audit import AuditDisclosure, AuditEvent
from tests.conftest import World, basic_auth
from tests.helpers import shared_pipeline

PROBLEM = "application/problem+json"
CHUNK = 64 * 1024
LETTER = {"letter_id": "LTR-1"}
GOP = "protection-verification"


def _problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    problem: dict[str, Any] = response.json()
    assert problem["type"] == f"https://sanad.dev/problems/{slug}"
    assert problem["status"] == status
    return problem


def _params(problem: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["reason"] for p in problem.get("invalid_params", [])}


class _Stream:
    """A request body sent chunk by chunk (chunked, unless a Content-Length is given), counting
    how much of it the server asked for."""

    def __init__(self, total: int, chunk: bytes = b" " * CHUNK) -> None:
        self.total, self.chunk, self.sent = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            piece = self.chunk[: self.total - self.sent]
            self.sent += len(piece)
            yield piece


def _event(sync_session: Any, request_id: str) -> AuditEvent:
    with sync_session() as session:
        event: AuditEvent = session.scalars(
            select(AuditEvent).where(AuditEvent.request_id == request_id)  # type: ignore[arg-type]
        ).one()
        return event


# --- 1. body size -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/verifications", "/v1/lists"])
async def test_a_declared_oversized_body_is_refused_unread(
    client: httpx.AsyncClient, sync_session: Any, path: str
) -> None:
    stream = _Stream(100 * 1024 * 1024)
    request_id = uuid.uuid4().hex
    headers = {
        "Content-Type": "application/json",
        "Content-Length": str(stream.total),
        "X-Request-Id": request_id,
    }
    response = await client.post(path, content=stream, headers=headers)
    problem = _problem(response, 413, "payload-too-large")
    assert str(MAX_BODY_BYTES) in problem["detail"]
    assert stream.sent == 0, "the body was read although its declared length was over the limit"
    event = _event(sync_session, request_id)
    assert (event.status, event.reason) == (413, "payload-too-large")


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/v1/verifications", "application/json"),  # read by the input guard, then the route
        ("/v1/lists", "application/json"),
        ("/v1/lists", "text/plain"),  # read by no guard: by the route's own checks
    ],
)
async def test_a_streamed_oversized_body_is_refused_at_the_limit(
    client: httpx.AsyncClient, path: str, content_type: str
) -> None:
    stream = _Stream(100 * 1024 * 1024)  # chunked: no length is declared
    response = await client.post(path, content=stream, headers={"Content-Type": content_type})
    _problem(response, 413, "payload-too-large")
    assert stream.sent <= MAX_BODY_BYTES + CHUNK, "more than the limit was read"


async def test_a_body_at_the_limit_is_served(client: httpx.AsyncClient, world: World) -> None:
    us = await world.headers("us_mission")
    document = b'{"name": "padded", "kind": "pipeline"}'
    padded = document + b" " * (MAX_BODY_BYTES - len(document))
    made = await client.post(
        "/v1/lists", content=padded, headers={**us, "Content-Type": "application/json"}
    )
    assert made.status_code == 201, made.text
    over = await client.post(
        "/v1/lists", content=padded + b" ", headers={**us, "Content-Type": "application/json"}
    )
    _problem(over, 413, "payload-too-large")


async def test_the_token_endpoint_has_the_limit_in_rfc_6749_form(
    client: httpx.AsyncClient, world: World
) -> None:
    client_id, secret = world.client_for("gop")
    form = b"grant_type=client_credentials&scope=" + b"a" * MAX_BODY_BYTES
    response = await client.post(
        "/oauth/token",
        content=form,
        headers={
            "Authorization": basic_auth(client_id, secret),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == "invalid_request"


async def test_imports_keep_their_own_larger_limit(client: httpx.AsyncClient, world: World) -> None:
    path = f"/v1/lists/{uuid.uuid4()}/imports"
    csv = {"Content-Type": "text/csv", "Idempotency-Key": "k"}
    # past the general limit: refused for the missing token, not for its size
    bigger = b"x" * (2 * MAX_BODY_BYTES)
    assert (await client.post(path, content=bigger, headers=csv)).status_code == 401
    stream = _Stream(MAX_IMPORT_BYTES + 1)
    declared = {**csv, "Content-Length": str(stream.total)}
    response = await client.post(path, content=stream, headers=declared)
    _problem(response, 413, "payload-too-large")
    assert stream.sent == 0


# --- 2. malformed JSON --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/verifications", "/v1/lists"])
async def test_malformed_json_is_an_invalid_request_naming_the_body(
    client: httpx.AsyncClient, world: World, path: str
) -> None:
    headers = {**await world.headers("gop", purpose=GOP), "Content-Type": "application/json"}
    response = await client.post(path, content=b'{"letter_id": ', headers=headers)
    problem = _problem(response, 400, "invalid-request")
    reasons = _params(problem)
    assert list(reasons) == ["body"]
    assert "position 14" in reasons["body"]


# --- 3. query parameters ------------------------------------------------------------------------


async def test_a_mistyped_filter_is_refused_and_nothing_is_disclosed(
    client: httpx.AsyncClient, world: World, sync_session: Any
) -> None:
    list_id = await shared_pipeline(client, world)
    unhcr = await world.headers("unhcr", purpose=GOP)
    records = f"/v1/lists/{list_id}/records"
    request_id = uuid.uuid4().hex
    response = await client.get(
        records,
        params={"fathername": "Abdul Ghafoor"},
        headers={**unhcr, "X-Request-Id": request_id},
    )
    problem = _problem(response, 422, "validation-failed")
    assert _params(problem) == {"query.fathername": "not a parameter of this operation"}
    assert "Abdul" not in response.text
    event = _event(sync_session, request_id)
    assert (event.outcome, event.reason, event.disclosure_count) == (
        "denied",
        "validation-failed",
        0,
    )
    with sync_session() as session:
        shown = session.scalar(
            select(func.count()).where(AuditDisclosure.event_id == event.id)  # type: ignore[arg-type]
        )
    assert shown == 0
    # the filter spelt right is served, and narrows
    search = f"{records}:search"
    found = await client.post(search, json={"father_name": "Abdul Ghafoor"}, headers=unhcr)
    assert found.status_code == 200, found.text
    assert [r["record_id"] for r in found.json()["items"]] == ["R1"]


async def test_a_repeated_scalar_parameter_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    unhcr = await world.headers("unhcr", purpose=GOP)
    response = await client.get(f"/v1/lists/{list_id}/records?limit=5&limit=500", headers=unhcr)
    problem = _problem(response, 422, "validation-failed")
    assert list(_params(problem)) == ["query.limit"]
    # a parameter declared as a list may be repeated
    us = await world.headers("us_mission")
    feed = await client.get("/v1/changes?type=record.created&type=record.corrected", headers=us)
    assert feed.status_code == 200, feed.text


async def test_unknown_parameters_are_refused_on_every_route(
    client: httpx.AsyncClient, world: World
) -> None:
    auditor = await world.headers("oversight", purpose="audit")
    events = await client.get("/v1/audit/events?outcom=denied&limit=5", headers=auditor)
    assert _params(_problem(events, 422, "validation-failed")) == {
        "query.outcom": "not a parameter of this operation"
    }
    # on the checkpoint's lean route too, and before authentication (it is the request's shape)
    lean = await client.post("/v1/verifications?letter_id=LTR-1", json=LETTER)
    assert list(_params(_problem(lean, 422, "validation-failed"))) == ["query.letter_id"]
    # a name that is no parameter name (a value sent without its key) is not echoed
    odd = await client.get("/v1/lists?Abdul%20Ghafoor")
    assert _params(_problem(odd, 422, "validation-failed")) == {
        "query": "a parameter this operation does not take"
    }
    assert "Abdul" not in odd.text


def test_every_v1_route_makes_the_protocol_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    stray = APIRoute("/stray", lambda: None)
    monkeypatch.setattr(lists.router, "routes", [*lists.router.routes, stray])
    with pytest.raises(TypeError, match="not a ProtocolRoute"):
        create_app(Settings(database_url="sqlite://"))


# --- 4. request media type ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/verifications", "/v1/lists"])
@pytest.mark.parametrize("content_type", ["text/plain", None, "multipart/form-data; boundary=x"])
async def test_a_json_route_refuses_other_media_types(
    client: httpx.AsyncClient, world: World, path: str, content_type: str | None
) -> None:
    headers = await world.headers("us_mission")
    if content_type:
        headers["Content-Type"] = content_type
    response = await client.post(
        path, content=b'{"name": "x", "kind": "pipeline"}', headers=headers
    )
    problem = _problem(response, 415, "unsupported-media-type")
    assert "application/json" in problem["detail"]


async def test_json_media_types_are_served(client: httpx.AsyncClient, world: World) -> None:
    us = await world.headers("us_mission")
    for content_type in ("application/json; charset=utf-8", "application/vnd.sanad+json"):
        response = await client.post(
            "/v1/lists",
            content=b'{"name": "typed", "kind": "pipeline"}',
            headers={**us, "Content-Type": content_type},
        )
        assert response.status_code == 201, (content_type, response.text)


# --- 5. Accept ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "accept"),
    [
        ("GET", "/v1/lists", "application/xml"),
        ("GET", "/v1/lists", "application/json;q=0, text/html"),
        ("GET", "/v1/lists", "text/*"),
        ("POST", "/v1/verifications", "application/xml"),
        ("GET", "/v1/letters/LTR-1/pdf", "application/json"),
        ("GET", "/v1/reconciliations/x/report", "application/json"),
    ],
)
async def test_an_unsatisfiable_accept_is_not_acceptable(
    client: httpx.AsyncClient, method: str, path: str, accept: str
) -> None:
    response = await client.request(method, path, headers={"Accept": accept}, json=LETTER)
    problem = _problem(response, 406, "not-acceptable")
    assert "application/" in problem["detail"] or "text/" in problem["detail"]


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/v1/lists", "application/json"),
        ("/v1/lists", "application/*"),
        ("/v1/lists", "text/html, */*;q=0.1"),
        ("/v1/lists", "application/problem+json"),
        ("/v1/lists", "not a media type"),  # unparsable: read as */*
        ("/v1/letters/LTR-1/pdf", "application/pdf"),
        ("/v1/reconciliations/x/report", "text/html,application/xhtml+xml,*/*;q=0.8"),
        ("/v1/audit/checkpoints/latest", "text/plain"),
    ],
)
async def test_a_satisfiable_accept_reaches_the_route(
    client: httpx.AsyncClient, path: str, accept: str
) -> None:
    response = await client.get(path, headers={"Accept": accept})
    _problem(response, 401, "unauthenticated")  # negotiated, then refused for the token


# --- 6. 405 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/lists", "GET, POST"),
        ("HEAD", "/v1/lists", "GET, POST"),
        ("PUT", "/v1/lists/x/records/R1", "GET, PATCH"),
        ("GET", "/v1/verifications", "POST"),
        ("DELETE", "/v1/subscriptions", "GET, POST"),
    ],
)
async def test_405_allows_every_method_of_the_path(
    client: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    if method != "HEAD":
        _problem(response, 405, "method-not-allowed")


# --- 7. OAuth -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_options",
    [
        {"data": {}},  # no grant_type
        {"data": {"scope": "verify"}},
        {"json": {"grant_type": "client_credentials"}},
        {"files": {"grant_type": (None, "client_credentials")}},  # multipart/form-data
        {"content": b"grant_type=client_credentials", "headers": {"Content-Type": "text/plain"}},
    ],
)
async def test_token_requests_that_are_not_well_formed_forms_are_invalid_requests(
    client: httpx.AsyncClient, world: World, request_options: dict[str, Any]
) -> None:
    client_id, secret = world.client_for("gop")
    headers = {"Authorization": basic_auth(client_id, secret), **request_options.pop("headers", {})}
    response = await client.post("/oauth/token", headers=headers, **request_options)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == "invalid_request"


async def test_multipart_is_refused_by_introspection_and_revocation_too(
    client: httpx.AsyncClient, world: World
) -> None:
    client_id, secret = world.client_for("gop")
    token = await world.token("gop")
    for path in ("/oauth/introspect", "/oauth/revoke"):
        response = await client.post(
            path,
            files={"token": (None, token)},
            headers={"Authorization": basic_auth(client_id, secret)},
        )
        assert response.status_code == 400, (path, response.text)
        assert response.json()["error"] == "invalid_request"
    # the token was not revoked by the refused request
    assert (
        await client.get("/v1/lists", headers={"Authorization": f"Bearer {token}"})
    ).status_code != 401
