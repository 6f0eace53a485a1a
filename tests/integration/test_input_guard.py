"""A NUL character in a path, query string, JSON body or form body is a 422 naming where it
was, before any route reads it (PostgreSQL can neither store nor compare one: a verification
by letter id carrying one was a 500 there); a data exception the database raises anyway is a
422 too, never echoing the value."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DataError

from api.problems import install_problem_handlers
from tests.conftest import World
from tests.helpers import shared_pipeline


def _refused_naming(response: httpx.Response, name: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [p["name"] for p in response.json()["invalid_params"]] == [name]


async def test_a_nul_anywhere_in_a_request_is_refused_naming_where(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    records = f"/v1/lists/{list_id}/records"
    _refused_naming(await client.get(records, params={"cursor": "Ah\x00mad"}, headers=us), "cursor")
    search = f"{records}:search"
    _refused_naming(await client.post(search, json={"given_name": "Ah\x00mad"}, headers=us), "body")
    _refused_naming(await client.get(f"{records}/R%001", headers=us), "path")
    gop = await world.headers("gop", purpose="protection-verification")
    # the checkpoint's own path (api/lean_route.py) and an ordinary route
    for body in ({"letter_id": "SL-\x00"}, {"person": {"given_name": "A\x00", "dob": "1990"}}):
        _refused_naming(await client.post("/v1/verifications", json=body, headers=gop), "body")
    withdrawal = await client.post(
        f"{records}/R1/withdrawal", json={"reason": "moved\x00"}, headers=us
    )
    _refused_naming(withdrawal, "body")
    token = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": "x\x00"}
    )
    assert token.status_code == 400, token.text  # RFC 6749's form on the OAuth endpoints
    assert token.json()["error"] == "invalid_request"
    assert "client_id" in token.json()["error_description"]
    # and the same requests without it are served
    assert (await client.post(search, json={"given_name": "Ahmad"}, headers=us)).status_code == 200
    verified = await client.post("/v1/verifications", json={"letter_id": "SL-0"}, headers=gop)
    assert verified.status_code == 200, verified.text


@pytest.mark.parametrize("error", [DataError("INSERT …", {"name": "Ahmad"}, Exception("bad"))])
async def test_a_data_exception_from_the_database_is_a_422_without_the_value(
    error: Exception,
) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise error

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/boom")
    assert response.status_code == 422
    assert response.json()["type"].endswith("/validation-failed")
    assert "Ahmad" not in response.text
