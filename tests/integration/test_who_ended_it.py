"""Who ended an agreement and who disabled a client. Both kept only the time: an auditor asking
who cut an agency's access, or who shut a partner's system out, had nothing but times to go
by. And two terminations at once both answered 200, the later time overwriting the first."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import World, basic_auth
from tests.helpers import agreement_body


async def _agreement(client: httpx.AsyncClient, world: World) -> tuple[str, dict[str, str]]:
    us = await world.headers("us_mission")
    made = await client.post("/v1/lists", json={"name": "p", "kind": "pipeline"}, headers=us)
    body = agreement_body(made.json()["id"], world.unhcr, ["given_name"], ["reconciliation"])
    agreed = await client.post("/v1/agreements", json=body, headers=us)
    assert agreed.status_code == 201, agreed.text
    return agreed.json()["id"], us


async def test_the_owner_sees_who_made_and_who_ended_an_agreement(
    client: httpx.AsyncClient, world: World
) -> None:
    agreement_id, us = await _agreement(client, world)
    mission_client, _ = world.client_for("us_mission")
    ended = await client.post(f"/v1/agreements/{agreement_id}/termination", headers=us)
    assert ended.status_code == 200, ended.text
    assert ended.json()["terminated_by_client_id"] == mission_client
    listed = (await client.get("/v1/agreements", headers=us)).json()["items"]
    shown = next(a for a in listed if a["id"] == agreement_id)
    assert (shown["created_by_client_id"], shown["terminated_by_client_id"]) == (
        mission_client,
        mission_client,
    )
    # the recipient sees that and when it ended, not which of the owner's systems ended it
    unhcr = await world.headers("unhcr", purpose="reconciliation")
    received = (await client.get("/v1/agreements", headers=unhcr)).json()["items"]
    theirs = next(a for a in received if a["id"] == agreement_id)
    assert theirs["terminated_at"] is not None
    assert theirs["created_by_client_id"] is None
    assert theirs["terminated_by_client_id"] is None


async def test_two_terminations_at_once_end_it_once(
    client: httpx.AsyncClient, world: World
) -> None:
    agreement_id, us = await _agreement(client, world)
    path = f"/v1/agreements/{agreement_id}/termination"
    answers = await asyncio.gather(*(client.post(path, headers=us) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    ended_at = next(a.json()["terminated_at"] for a in answers if a.status_code == 200)
    listed = (await client.get("/v1/agreements", headers=us)).json()["items"]
    assert next(a for a in listed if a["id"] == agreement_id)["terminated_at"] == ended_at


async def test_an_agencys_admins_see_who_disabled_a_client(
    client: httpx.AsyncClient, world: World
) -> None:
    us = await world.headers("us_mission")
    admin, _ = world.client_for("us_mission")
    made = await client.post(
        "/v1/clients", json={"name": "partner", "scopes": ["lists:read"]}, headers=us
    )
    assert made.status_code == 201, made.text
    assert made.json()["created_by_client_id"] == admin
    partner = made.json()["id"]
    disabled = await client.post(f"/v1/clients/{partner}/disable", headers=us)
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["disabled_by_client_id"] == admin
    listed = (await client.get("/v1/clients", headers=us)).json()
    assert next(c for c in listed if c["id"] == partner)["disabled_by_client_id"] == admin


async def _second_admin(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    us = await world.headers("us_mission")
    made = await client.post(
        "/v1/clients", json={"name": "second admin", "scopes": ["admin"]}, headers=us
    )
    assert made.status_code == 201, made.text
    token = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic_auth(made.json()["id"], made.json()["client_secret"])},
    )
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def test_two_admins_disabling_a_client_at_once_keep_the_first(
    client: httpx.AsyncClient, world: World
) -> None:
    """`disable_client` says the first to disable a client is kept; two admins disabling one
    at once both read it enabled, and the later overwrote who and when (as terminations did)."""
    us = await world.headers("us_mission")
    other = await _second_admin(client, world)
    made = await client.post(
        "/v1/clients", json={"name": "partner", "scopes": ["lists:read"]}, headers=us
    )
    partner = made.json()["id"]
    path = f"/v1/clients/{partner}/disable"
    answers = await asyncio.gather(client.post(path, headers=us), client.post(path, headers=other))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    listed = (await client.get("/v1/clients", headers=us)).json()
    stored = next(c for c in listed if c["id"] == partner)
    for answer in answers:
        shown = answer.json()
        assert (shown["disabled_at"], shown["disabled_by_client_id"]) == (
            stored["disabled_at"],
            stored["disabled_by_client_id"],
        )
