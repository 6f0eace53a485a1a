"""Encounter reports through HTTP: linked to the pipeline record by letter, QR credential,
document or person; the mission sees each agency's claim with history; others see nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from tests.conftest import World
from tests.helpers import shared_pipeline
from tests.letter_helpers import issue_letter


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
