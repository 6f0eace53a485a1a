"""Encounter reports through HTTP: linked to the pipeline record by letter, QR credential,
document or person; the mission sees each agency's claim with history; others see nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from tests.conftest import World
from tests.helpers import shared_pipeline
from tests.letter_helpers import issue_letter

_PESHAWAR = dt.timezone(dt.timedelta(hours=5))


def _at(minutes_ago: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)).isoformat()


async def report(
    client: httpx.AsyncClient,
    world: World,
    subject: dict[str, Any],
    event: str,
    minutes_ago: int = 5,
) -> httpx.Response:
    headers = await world.headers("gop", purpose="protection-verification")
    headers["Accept-Language"] = "fa-AF"
    body = {
        "subject": subject,
        "event": event,
        "place": {"province": "Sindh", "district": "Karachi East", "facility": "Police station 4"},
        "occurred_at": _at(minutes_ago),
    }
    return await client.post("/v1/encounters", json=body, headers=headers)


async def _status(
    client: httpx.AsyncClient, world: World, list_id: str, record: str
) -> dict[str, Any]:
    us = await world.headers("us_mission")
    response = await client.get(f"/v1/lists/{list_id}/records/{record}/status", headers=us)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_detention_by_letter_reaches_the_record_with_history(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    letter = await issue_letter(client, world, list_id, "R1")
    detained = await report(client, world, {"letter_id": letter["letter_id"]}, "detained", 30)
    assert detained.status_code == 201, detained.text
    assert detained.json()["in_pipeline"] is True
    assert detained.json()["event_text"] == "بازداشت شده"
    released = await report(client, world, {"credential": letter["credential"]}, "released", 2)
    assert released.status_code == 201, released.text

    status = await _status(client, world, list_id, "R1")
    assert [(c["agency_id"], c["status"]) for c in status["current"]] == [(world.gop, "released")]
    assert [c["status"] for c in status["history"]] == ["detained", "released"]
    assert {e["place"]["facility"] for e in status["encounters"]} == {"Police station 4"}
    assert all(e["match"] == "exact" for e in status["encounters"])


async def test_report_by_document_and_by_person(client: httpx.AsyncClient, world: World) -> None:
    list_id = await shared_pipeline(client, world)
    by_document = await report(
        client,
        world,
        {"document": {"type": "acc", "number": "ACC-0099-1122"}},
        "listed_for_deportation",
    )
    assert by_document.status_code == 201 and by_document.json()["in_pipeline"] is True
    person = {"given_name": "Yousuf", "father_name": "Sayed Ahmad", "dob": "1979"}
    by_person = await report(client, world, {"person": person}, "deported")
    assert by_person.status_code == 201 and by_person.json()["in_pipeline"] is True
    status = await _status(client, world, list_id, "R4")
    assert [c["status"] for c in status["history"]] == ["listed_for_deportation", "deported"]


async def test_unknown_person_links_nothing(client: httpx.AsyncClient, world: World) -> None:
    list_id = await shared_pipeline(client, world)
    person = {"given_name": "Nobody", "father_name": "Unknown", "dob": "1990"}
    response = await report(client, world, {"person": person}, "detained")
    assert response.status_code == 201
    assert response.json()["in_pipeline"] is False
    for record in ("R1", "R2", "R3", "R4"):
        assert (await _status(client, world, list_id, record))["encounters"] == []


async def test_only_pakistani_officials_report_and_only_the_owner_reads_status(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    unhcr = await world.headers("unhcr", purpose="protection-verification")
    body = {"subject": {"letter_id": "LTR-1"}, "event": "detained", "occurred_at": _at(1)}
    assert (await client.post("/v1/encounters", json=body, headers=unhcr)).status_code == 403
    gop = await world.headers("gop", purpose="protection-verification")
    response = await client.get(f"/v1/lists/{list_id}/records/R1/status", headers=gop)
    assert response.status_code == 403


async def test_future_encounters_are_refused(client: httpx.AsyncClient, world: World) -> None:
    await shared_pipeline(client, world)
    response = await report(client, world, {"letter_id": "LTR-1"}, "detained", minutes_ago=-60)
    assert response.status_code == 422


async def test_a_blank_place_name_is_refused_naming_it(
    client: httpx.AsyncClient, world: World
) -> None:
    """A place of blanks would be stored and shown to the mission as where someone was held."""
    await shared_pipeline(client, world)
    headers = await world.headers("gop", purpose="protection-verification")
    for field in ("province", "district", "facility"):
        body = {
            "subject": {"letter_id": "LTR-1"},
            "event": "detained",
            "place": {"province": "Sindh", field: "   "},
            "occurred_at": _at(5),
        }
        response = await client.post("/v1/encounters", json=body, headers=headers)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["invalid_params"][0]["name"] == f"body.place.{field}"


async def _claim(
    client: httpx.AsyncClient,
    world: World,
    kind: str,
    list_id: str,
    record: str,
    status: str,
    minutes_ago: int = 5,
) -> httpx.Response:
    headers = await world.headers(kind, purpose="protection-verification")
    at = dt.datetime.fromisoformat(_at(minutes_ago)).astimezone(_PESHAWAR)
    body = {"status": status, "effective_at": at.isoformat()}
    return await client.post(
        f"/v1/lists/{list_id}/records/{record}/status-claims", json=body, headers=headers
    )


async def test_unhcr_and_pakistan_claim_their_own_status_and_the_mission_hears_of_it(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    registered = await _claim(client, world, "unhcr", list_id, "R1", "registered", 60)
    assert registered.status_code == 201, registered.text
    assert registered.json()["status_text"] == "Registered with UNHCR"
    # sent at +05:00, answered in UTC, as the status reads it back
    assert registered.json()["effective_at"].endswith("Z")
    expired = await _claim(client, world, "gop", list_id, "R1", "document_expired", 30)
    assert expired.status_code == 201, expired.text
    lapsed = await _claim(client, world, "unhcr", list_id, "R1", "registration_expired", 10)
    assert lapsed.status_code == 201, lapsed.text

    status = await _status(client, world, list_id, "R1")
    # each agency's newest claim; neither overwrote the other's
    assert {(c["agency_id"], c["status"]) for c in status["current"]} == {
        (world.unhcr, "registration_expired"),
        (world.gop, "document_expired"),
    }
    assert [c["status"] for c in status["history"]] == [
        "registered",
        "document_expired",
        "registration_expired",
    ]
    us = await world.headers("us_mission")
    feed = await client.get("/v1/changes", params={"limit": 1000}, headers=us)
    claimed = [i["data"] for i in feed.json()["items"] if i["type"] == "status.claimed"]
    assert [(c["record_id"], c["claimed_by"], c["status"]) for c in claimed][-3:] == [
        ("R1", world.unhcr, "registered"),
        ("R1", world.gop, "document_expired"),
        ("R1", world.unhcr, "registration_expired"),
    ]
    # the claimant hears nothing back of the owner's feed
    gop = await world.headers("gop", purpose="protection-verification")
    gop_feed = await client.get("/v1/changes", params={"limit": 1000}, headers=gop)
    assert "status.claimed" not in {i["type"] for i in gop_feed.json()["items"]}
    # the mission's auditors see each claim as an access to its record, no field shown
    us_auditor = await world.headers("us_mission", purpose="audit")
    route = "/v1/lists/{list_id}/records/{record_id}/status-claims"
    seen = await client.get(
        "/v1/audit/disclosures", params={"list_id": list_id, "limit": 100}, headers=us_auditor
    )
    assert seen.status_code == 200, seen.text
    claims_seen = [d for d in seen.json()["items"] if d["fields"] == ""]
    assert sorted((d["recipient_agency_id"], d["record_key"]) for d in claims_seen) == sorted(
        [(world.unhcr, "R1"), (world.gop, "R1"), (world.unhcr, "R1")]
    )
    events = await client.get(
        "/v1/audit/events", params={"route": route, "list_id": list_id}, headers=us_auditor
    )
    assert {e["agency_id"] for e in events.json()["items"]} == {world.unhcr, world.gop}


async def test_a_status_claim_is_refused_where_it_is_not_the_agencys_to_make(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    # Pakistan does not state UNHCR's registration, nor UNHCR a detention
    for kind, status in (("gop", "registered"), ("unhcr", "detained")):
        refused = await _claim(client, world, kind, list_id, "R1", status)
        assert refused.status_code == 422, refused.text
        assert [p["name"] for p in refused.json()["invalid_params"]] == ["status"]
    # a record the caller does not see, or no longer: 404, the same as one that never was
    assert (await _claim(client, world, "unhcr", list_id, "NOPE", "registered")).status_code == 404
    us = await world.headers("us_mission")
    withdrawn = await client.post(
        f"/v1/lists/{list_id}/records/R2/withdrawal", json={"reason": "left"}, headers=us
    )
    assert withdrawn.status_code == 200
    assert (await _claim(client, world, "unhcr", list_id, "R2", "registered")).status_code == 404
    private = await client.post("/v1/lists", json={"name": "p", "kind": "pipeline"}, headers=us)
    missing = await _claim(client, world, "unhcr", private.json()["id"], "R1", "registered")
    assert missing.status_code == 404
    # the mission states its own status in the record; a claim is not its to make
    mission = await world.headers("us_mission", purpose="protection-verification")
    own = await client.post(
        f"/v1/lists/{list_id}/records/R1/status-claims",
        json={"status": "departed_third_country", "effective_at": _at(1)},
        headers=mission,
    )
    assert own.status_code == 403, own.text
    future = await _claim(client, world, "gop", list_id, "R1", "detained", -60)
    assert future.status_code == 422
    assert (await _status(client, world, list_id, "R1"))["history"] == []


async def test_a_report_by_a_family_letter_declares_nobody_detained_on_the_others_behalf(
    client: httpx.AsyncClient, world: World
) -> None:
    """R1's letter covers his wife R2; the officer stopped one of them. Both owners' records hear
    of the encounter as candidates; neither gets Pakistan's claim "detained" (it went to both,
    as an exact match). A letter naming one person still makes an exact match with a claim."""
    list_id = await shared_pipeline(client, world)
    family = await issue_letter(client, world, list_id, "R1", covered=["R2"])
    detained = await report(client, world, {"credential": family["credential"]}, "detained", 5)
    assert detained.status_code == 201, detained.text
    assert (detained.json()["in_pipeline"], detained.json()["ambiguous"]) == (True, False)
    for record_id in ("R1", "R2"):
        status = await _status(client, world, list_id, record_id)
        assert [e["match"] for e in status["encounters"]] == ["candidate"], record_id
        assert status["current"] == [] and status["history"] == [], record_id
    alone = await issue_letter(client, world, list_id, "R3")
    assert (
        await report(client, world, {"letter_id": alone["letter_id"]}, "detained", 5)
    ).is_success
    status = await _status(client, world, list_id, "R3")
    assert [e["match"] for e in status["encounters"]] == ["exact"]
    assert [c["status"] for c in status["current"]] == ["detained"]
