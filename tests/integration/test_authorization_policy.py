"""Walk every route against the one policy table, for every agency kind and every single scope:
no route without an entry, nothing allowed that the table does not allow, no field outside an
agreement in any response, no other agency's unshared record visible."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.route_index import RouteInfo, route_index
from auth.policy import FIELD_CEILING, OPERATIONS, SCOPE_CEILING
from schemas.vocabulary import AgencyKind
from tests.conftest import World
from tests.helpers import GOP_FIELDS, RECORD_METADATA, UNHCR_FIELDS, shared_pipeline

_PARAM = re.compile(r"{(\w+)}")


def _routes(app: FastAPI) -> list[RouteInfo]:
    return list(route_index(app.routes).values())


def test_every_route_has_a_policy_entry_and_every_entry_a_route(app: FastAPI) -> None:
    names = {route.name for route in _routes(app)}
    assert not names - OPERATIONS.keys(), f"routes without policy: {names - OPERATIONS.keys()}"
    assert not OPERATIONS.keys() - names, f"policy without route: {OPERATIONS.keys() - names}"


def _path(template: str, ids: dict[str, str]) -> str:
    return _PARAM.sub(
        lambda m: ids.get(m.group(1), "00000000-0000-0000-0000-000000000000"), template
    )


def _record_items(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return [
            i
            for i in body["items"]
            if isinstance(i, dict) and "record_id" in i and "version" in i and "withdrawn" in i
        ]
    if isinstance(body, dict) and "record_id" in body and "withdrawn" in body:
        return [body]
    return []


@pytest.mark.parametrize("kind", list(AgencyKind))
async def test_no_scope_or_agency_does_more_than_the_table_allows(
    app: FastAPI, client: httpx.AsyncClient, world: World, kind: AgencyKind
) -> None:
    list_id = await shared_pipeline(client, world)
    ids = {"list_id": list_id, "record_id": "R1"}
    allowed_fields = {
        AgencyKind.US_MISSION: None,  # owner: everything
        AgencyKind.UNHCR: set(UNHCR_FIELDS) & FIELD_CEILING[AgencyKind.UNHCR],
        AgencyKind.GOP: set(GOP_FIELDS) & FIELD_CEILING[AgencyKind.GOP],
        AgencyKind.OVERSIGHT: set(),
    }[kind]
    routes = [r for r in _routes(app) if not OPERATIONS[r.name].public]
    for scope in sorted(SCOPE_CEILING[kind]):
        purpose = "audit" if scope == "audit:read" else "protection-verification"
        headers = await world.headers(kind, purpose=purpose, scopes=[scope])
        for route in routes:
            policy = OPERATIONS[route.name]
            for method in sorted(route.methods):
                response = await client.request(
                    method, _path(route.path, ids), headers=headers, json={}
                )
                may = policy.scopes <= {scope} and kind in policy.agencies
                if response.status_code < 400:
                    assert may, (
                        f"{kind} with {scope} got {response.status_code} on {method} {route.path}"
                    )
                if not policy.scopes <= {scope}:
                    assert response.status_code == 403, (kind, scope, route.path, response.text)
                for item in _record_items(response.json()):
                    extra = set(item) - RECORD_METADATA
                    if allowed_fields is not None:
                        assert extra <= allowed_fields, (kind, route.path, extra - allowed_fields)


async def test_requests_without_a_token_are_401_on_every_protected_route(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for route in _routes(app):
        if not OPERATIONS[route.name].public:
            for method in route.methods:
                response = await client.request(method, _path(route.path, {}), json={})
                assert response.status_code == 401, (method, route.path)
                assert response.headers["content-type"].startswith("application/problem+json")


async def test_unshared_list_is_404_for_every_other_agency(
    client: httpx.AsyncClient, world: World
) -> None:
    us = await world.headers("us_mission")
    made = await client.post("/v1/lists", json={"name": "private", "kind": "pipeline"}, headers=us)
    list_id = made.json()["id"]
    for kind in (AgencyKind.UNHCR, AgencyKind.GOP):
        headers = await world.headers(kind, purpose="protection-verification")
        for path in (f"/v1/lists/{list_id}", f"/v1/lists/{list_id}/records",
                     f"/v1/lists/{list_id}/records/R1"):  # fmt: skip
            response = await client.get(path, headers=headers)
            assert response.status_code == 404, (kind, path, response.status_code)
        search = f"/v1/lists/{list_id}/records:search"
        searched = await client.post(search, json={"given_name": "Ahmad"}, headers=headers)
        assert searched.status_code == 404, (kind, searched.status_code)


async def test_recipients_see_exactly_their_agreement_fields(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    for kind, fields, purpose in (
        ("unhcr", UNHCR_FIELDS, "reconciliation"),
        ("gop", GOP_FIELDS, "protection-verification"),
    ):
        headers = await world.headers(kind, purpose=purpose)
        response = await client.get(f"/v1/lists/{list_id}/records", headers=headers)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert len(items) == 4
        present = set().union(*(set(item) for item in items)) - RECORD_METADATA
        assert present == set(fields), (kind, present ^ set(fields))
        for word in ("SIV", "interview", "+92300", "contractor", "Islamabad"):
            assert word not in response.text
    gop = await world.headers("gop", purpose="protection-verification")
    response = await client.get(f"/v1/lists/{list_id}/records/R1", headers=gop)
    assert response.json()["dob"] == "1984"
