"""An audit event names the objects its request named in its path. It kept the route template
only, so an auditor could not tell which agreement was ended, which client disabled or which
record a refused request asked for. The target is part of the event's log entry (a v2 leaf),
and the log still proves it."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import World
from tests.helpers import agreement_body, shared_pipeline
from tests.transparency_helpers import (
    audit_reader,
    decode_hash,
    disclosures_of,
    events_of,
    inclusion_proof,
    leaf_hash_of,
    sequenced_event,
)
from transparency.leaf import LEAF_FORMAT_WITH_TARGET, leaf_entry


async def _event_of(client: httpx.AsyncClient, world: World, request_id: str) -> dict[str, object]:
    [event] = await events_of(client, world, request_id)
    return event


async def test_ending_an_agreement_names_it(client: httpx.AsyncClient, world: World) -> None:
    us = await world.headers("us_mission")
    made = await client.post("/v1/lists", json={"name": "p", "kind": "pipeline"}, headers=us)
    body = agreement_body(made.json()["id"], world.unhcr, ["given_name"], ["reconciliation"])
    agreement_id = (await client.post("/v1/agreements", json=body, headers=us)).json()["id"]
    request_id = uuid.uuid4().hex
    ended = await client.post(
        f"/v1/agreements/{agreement_id}/termination",
        headers={**us, "X-Request-Id": request_id},
    )
    assert ended.status_code == 200, ended.text
    event = await _event_of(client, world, request_id)
    assert event["route"] == "/v1/agreements/{agreement_id}/termination"
    assert event["target"] == f"agreement_id={agreement_id}"


async def test_a_record_request_names_the_record_and_a_refused_one_names_nothing(
    client: httpx.AsyncClient, world: World
) -> None:
    """A refused request's path is whatever its sender typed (here a person's name as a record
    id, unauthenticated perhaps), and the log keeps its entries for ever: it is not stored."""
    list_id = await shared_pipeline(client, world)
    unhcr = await world.headers("unhcr", purpose="reconciliation")
    read_id, missing_id, anonymous_id, listed_id = (uuid.uuid4().hex for _ in range(4))
    read = await client.get(
        f"/v1/lists/{list_id}/records/R1", headers={**unhcr, "X-Request-Id": read_id}
    )
    assert read.status_code == 200
    missing = await client.get(
        f"/v1/lists/{list_id}/records/R 1&2", headers={**unhcr, "X-Request-Id": missing_id}
    )
    assert missing.status_code == 404
    await client.get(
        f"/v1/lists/{list_id}/records/Gul Mohammad Ahmadzai", headers={"X-Request-Id": anonymous_id}
    )
    assert (await _event_of(client, world, read_id))["target"] == f"list_id={list_id}&record_id=R1"
    assert (await _event_of(client, world, missing_id))["target"] is None
    assert (await _event_of(client, world, anonymous_id))["target"] is None
    # a request whose path names nothing names no target (and is logged as before: v1)
    await client.get("/v1/lists", headers={**unhcr, "X-Request-Id": listed_id})
    assert (await _event_of(client, world, listed_id))["target"] is None


async def test_the_log_proves_an_event_with_its_target(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    request_id = uuid.uuid4().hex
    read = await client.get(
        f"/v1/lists/{list_id}/records/R1", headers={**us, "X-Request-Id": request_id}
    )
    assert read.status_code == 200
    event = await sequenced_event(client, world, request_id)
    disclosures = await disclosures_of(client, world, list_id, event)
    entry = leaf_entry({**event, "occurred_at": "2000-01-01T00:00:00Z"}, [])
    assert entry["format"] == LEAF_FORMAT_WITH_TARGET
    _, proof = await inclusion_proof(client, await audit_reader(world), event["leaf_index"])
    assert decode_hash(proof["leaf_hash"]) == leaf_hash_of(event, disclosures)
    # change the target, and the event no longer is what the log holds
    tampered = {**event, "target": f"list_id={list_id}&record_id=R2"}
    assert leaf_hash_of(tampered, disclosures) != leaf_hash_of(event, disclosures)


async def test_a_request_that_creates_an_object_names_it(
    client: httpx.AsyncClient, world: World
) -> None:
    """Its id is in the response, not the path: the event named nothing, so which agreement
    a `POST /v1/agreements` made could only be guessed from times."""
    us = await world.headers("us_mission")
    made_id, agreed_id = uuid.uuid4().hex, uuid.uuid4().hex
    made = await client.post(
        "/v1/lists",
        json={"name": "p", "kind": "pipeline"},
        headers={**us, "X-Request-Id": made_id},
    )
    list_id = made.json()["id"]
    body = agreement_body(list_id, world.unhcr, ["given_name"], ["reconciliation"])
    agreed = await client.post(
        "/v1/agreements", json=body, headers={**us, "X-Request-Id": agreed_id}
    )
    assert (await _event_of(client, world, made_id))["target"] == f"list_id={list_id}"
    agreement_target = f"agreement_id={agreed.json()['id']}"
    assert (await _event_of(client, world, agreed_id))["target"] == agreement_target
    # a refused creation made nothing, and names nothing
    refused_id = uuid.uuid4().hex
    gop = await world.headers("gop", purpose="protection-verification")
    await client.post(
        "/v1/lists",
        json={"name": "p", "kind": "pipeline"},
        headers={**gop, "X-Request-Id": refused_id},
    )
    assert (await _event_of(client, world, refused_id))["target"] is None
