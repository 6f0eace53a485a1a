"""Lists and sharing agreements through HTTP: who sees which list, what an agreement may grant,
and that termination closes the list to the recipient at once."""

from __future__ import annotations

import datetime as dt

import httpx

from tests.conftest import World
from tests.helpers import GOP_FIELDS, UNHCR_FIELDS, agreement_body, shared_pipeline


async def _new_list(client: httpx.AsyncClient, world: World, name: str = "pipeline") -> str:
    us = await world.headers("us_mission")
    made = await client.post("/v1/lists", json={"name": name, "kind": "pipeline"}, headers=us)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["owner_agency_id"] == world.us
    assert body["record_count"] == 0
    list_id: str = body["id"]
    return list_id


def _invalid_names(response: httpx.Response) -> set[str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return {p["name"] for p in response.json().get("invalid_params", [])}


async def test_lists_are_visible_to_owner_and_to_live_recipients_only(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await _new_list(client, world)
    us = await world.headers("us_mission")
    unhcr = await world.headers("unhcr")
    own = await client.get("/v1/lists", headers=us)
    assert list_id in [item["id"] for item in own.json()["items"]]
    assert list_id not in [
        i["id"] for i in (await client.get("/v1/lists", headers=unhcr)).json()["items"]
    ]
    assert (await client.get(f"/v1/lists/{list_id}", headers=unhcr)).status_code == 404

    body = agreement_body(list_id, world.unhcr, UNHCR_FIELDS, ["reconciliation"])
    made = await client.post("/v1/agreements", json=body, headers=us)
    assert made.status_code == 201, made.text
    shared = await client.get("/v1/lists", headers=unhcr)
    assert list_id in [item["id"] for item in shared.json()["items"]]
    got = await client.get(f"/v1/lists/{list_id}", headers=unhcr)
    assert got.status_code == 200
    assert got.json()["owner_agency_id"] == world.us
    gop = await world.headers("gop", purpose="protection-verification")
    assert (await client.get(f"/v1/lists/{list_id}", headers=gop)).status_code == 404


async def test_only_the_owner_gives_agreements(client: httpx.AsyncClient, world: World) -> None:
    list_id = await shared_pipeline(client, world)
    unhcr = await world.headers("unhcr")
    body = agreement_body(list_id, world.gop, ["given_name"], ["protection-verification"])
    refused = await client.post("/v1/agreements", json=body, headers=unhcr)
    assert refused.status_code == 403
    private = await _new_list(client, world, "private")
    body = agreement_body(private, world.gop, ["given_name"], ["protection-verification"])
    hidden = await client.post("/v1/agreements", json=body, headers=unhcr)
    assert hidden.status_code == 404


async def test_agreement_fields_are_checked_against_the_format_and_the_ceiling(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await _new_list(client, world)
    us = await world.headers("us_mission")
    purposes = ["protection-verification"]
    cases = [
        (agreement_body(list_id, world.gop, ["given_name", "program", "stage", "phone"], purposes),
         {"fields.program", "fields.stage", "fields.phone"}),
        (agreement_body(list_id, world.unhcr, ["given_name", "shoe_size"], purposes),
         {"fields.1"}),  # an unknown name is not quoted back: it may be anything
        (agreement_body(list_id, world.unhcr, ["given_name"], purposes, {"x" * 5000: "year_only"}),
         {"coarsen"}),
        (agreement_body(list_id, "no-such-agency", ["given_name"], purposes),
         {"recipient_agency_id"}),
        (agreement_body(list_id, world.us, ["given_name"], purposes), {"recipient_agency_id"}),
        (agreement_body(list_id, world.gop, ["given_name"], purposes, {"given_name": "year_only"}),
         {"coarsen.given_name"}),
        (agreement_body(list_id, world.gop, ["given_name"], purposes, {"dob": "year_only"}),
         {"coarsen.dob"}),
    ]  # fmt: skip
    for body, expected in cases:
        response = await client.post("/v1/agreements", json=body, headers=us)
        assert response.status_code == 422, response.text
        assert _invalid_names(response) == expected
        assert "shoe_size" not in response.text and "x" * 100 not in response.text
    backwards = agreement_body(list_id, world.gop, ["given_name"], purposes)
    backwards["valid_until"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=400)).isoformat()
    assert (await client.post("/v1/agreements", json=backwards, headers=us)).status_code == 422
    listed = await client.get("/v1/agreements", params={"list_id": list_id}, headers=us)
    assert listed.json()["items"] == []


async def test_agreements_are_listed_for_both_sides_only(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    unhcr = await world.headers("unhcr")
    oversight = await world.headers("oversight")
    mine = (await client.get("/v1/agreements", params={"list_id": list_id}, headers=us)).json()
    assert {a["recipient_agency_id"] for a in mine["items"]} == {world.unhcr, world.gop}
    gop_agreement = next(a for a in mine["items"] if a["recipient_agency_id"] == world.gop)
    assert gop_agreement["fields"] == GOP_FIELDS
    assert gop_agreement["coarsen"] == {"dob": "year_only"}
    received = (await client.get("/v1/agreements", headers=unhcr)).json()["items"]
    assert [a["recipient_agency_id"] for a in received] == [world.unhcr]
    assert (await client.get("/v1/agreements", headers=oversight)).status_code == 403


async def test_termination_closes_the_list_at_once(client: httpx.AsyncClient, world: World) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    unhcr = await world.headers("unhcr", purpose="reconciliation")
    agreements = (
        await client.get("/v1/agreements", params={"list_id": list_id}, headers=us)
    ).json()
    unhcr_agreement = next(
        a for a in agreements["items"] if a["recipient_agency_id"] == world.unhcr
    )
    path = f"/v1/agreements/{unhcr_agreement['id']}/termination"
    assert (await client.post(path, headers=unhcr)).status_code == 403
    ended = await client.post(path, headers=us)
    assert ended.status_code == 200, ended.text
    assert ended.json()["terminated_at"] is not None
    assert (await client.post(path, headers=us)).status_code == 409
    assert (await client.get(f"/v1/lists/{list_id}/records", headers=unhcr)).status_code == 404
    assert (await client.get(f"/v1/lists/{list_id}", headers=unhcr)).status_code == 404
    unknown = await client.post(
        "/v1/agreements/00000000-0000-0000-0000-000000000000/termination", headers=us
    )
    assert unknown.status_code == 404


async def test_an_agreement_not_yet_valid_shows_nothing(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await _new_list(client, world)
    us = await world.headers("us_mission")
    body = agreement_body(list_id, world.unhcr, UNHCR_FIELDS, ["reconciliation"])
    body["valid_from"] = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    assert (await client.post("/v1/agreements", json=body, headers=us)).status_code == 201
    unhcr = await world.headers("unhcr", purpose="reconciliation")
    assert (await client.get(f"/v1/lists/{list_id}/records", headers=unhcr)).status_code == 404


async def test_purpose_outside_the_agreement_is_403(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    unhcr = await world.headers("unhcr", purpose="hotline-assistance")
    response = await client.get(f"/v1/lists/{list_id}/records", headers=unhcr)
    assert response.status_code == 403
    assert response.json()["type"].endswith("/purpose-not-allowed")
    gop_owner_purpose = await world.headers("gop", purpose="resettlement-processing")
    gop_list = await client.post(
        "/v1/lists", json={"name": "status", "kind": "status"}, headers=gop_owner_purpose
    )
    assert gop_list.status_code == 201
    own = await client.get(f"/v1/lists/{gop_list.json()['id']}/records", headers=gop_owner_purpose)
    assert own.status_code == 403  # Pakistan's officials use their lists for verification only
