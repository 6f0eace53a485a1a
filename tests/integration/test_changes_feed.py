"""The change feed through HTTP: agreement filtering, resumption without gaps or duplicates
under concurrent writes, and acknowledgements of withdrawals seen by the owner."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from typing import Any

import httpx
from fastapi import FastAPI

from changes.service import Audience, Change, events_after, publish
from database.last_writes import run_last_writes
from tests.conftest import World
from tests.helpers import shared_pipeline
from tests.letter_helpers import issue_letter


async def read_all(
    client: httpx.AsyncClient, headers: dict[str, str], since: str = "0", limit: int = 1000
) -> tuple[list[dict[str, Any]], str]:
    items: list[dict[str, Any]] = []
    while True:
        response = await client.get(
            "/v1/changes", params={"since": since, "limit": limit}, headers=headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        if page["next_cursor"] == since or not page["items"]:
            return items, page["next_cursor"]
        since = page["next_cursor"]


async def withdrawn_r4(client: httpx.AsyncClient, world: World) -> tuple[str, dict[str, Any]]:
    """A shared pipeline whose R4 the mission withdrew, and that change in Pakistan's feed."""
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    response = await client.post(
        f"/v1/lists/{list_id}/records/R4/withdrawal", json={"reason": "duplicate"}, headers=us
    )
    assert response.status_code == 200, response.text
    gop = await world.headers("gop", purpose="protection-verification")
    items, _ = await read_all(client, gop)
    return list_id, next(i for i in items if i["type"] == "record.withdrawn")


def _kinds(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(i["type"], str(i["data"].get("record_id"))) for i in items]


async def test_feed_is_filtered_by_agreements(client: httpx.AsyncClient, world: World) -> None:
    list_id = await shared_pipeline(client, world)
    await issue_letter(client, world, list_id, "R1")
    gop_headers = await world.headers("gop", purpose="protection-verification")
    report = {"subject": {"letter_id": "LTR-4"}, "event": "detained",
              "occurred_at": dt.datetime.now(dt.UTC).isoformat()}  # fmt: skip
    assert (
        await client.post("/v1/encounters", json=report, headers=gop_headers)
    ).status_code == 201

    us, _ = await read_all(client, await world.headers("us_mission"))
    gop, _ = await read_all(client, gop_headers)
    unhcr, _ = await read_all(client, await world.headers("unhcr", purpose="reconciliation"))
    created = [("record.created", r) for r in ("R1", "R2", "R3", "R4")]
    assert _kinds(us) == [*created, ("letter.issued", "R1"), ("encounter.reported", "R4")]
    # Pakistan's agreement shows letter_id: it hears of letters; its own report names no record
    assert _kinds(gop) == [*created, ("letter.issued", "R1"), ("encounter.reported", "None")]
    assert "province" in gop[-1]["data"] and gop[-1]["data"]["in_pipeline"] is True
    # UNHCR's agreement has no letter_id; it never sees encounters
    assert _kinds(unhcr) == created
    # a purpose no agreement allows shows the recipient nothing of the list
    hotline = await world.headers("unhcr", purpose="hotline-assistance")
    assert (await read_all(client, hotline))[0] == []


async def test_unshared_lists_stay_out_of_the_feed(client: httpx.AsyncClient, world: World) -> None:
    us = await world.headers("us_mission")
    made = await client.post("/v1/lists", json={"name": "private", "kind": "pipeline"}, headers=us)
    body = "record_id,given_name\nP1,Hidden\n"
    imported = await client.post(
        f"/v1/lists/{made.json()['id']}/imports",
        content=body.encode(),
        headers={**us, "Content-Type": "text/csv", "Idempotency-Key": "k-private"},
    )
    assert imported.status_code == 201, imported.text
    gop, _ = await read_all(client, await world.headers("gop", purpose="protection-verification"))
    assert gop == []


async def test_resumption_under_concurrent_writes_has_no_gaps_or_duplicates(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    gop = await world.headers("gop", purpose="protection-verification")
    seen: list[dict[str, Any]] = []
    done = asyncio.Event()

    async def write(record: str, rounds: int) -> None:
        for version in range(1, rounds + 1):
            response = await client.patch(
                f"/v1/lists/{list_id}/records/{record}",
                json={"district": f"D{version}"},
                headers={**us, "If-Match": f'"v{version}"'},
            )
            assert response.status_code == 200, response.text

    async def report(count: int) -> None:
        for _ in range(count):
            body = {"subject": {"letter_id": "LTR-2"}, "event": "detained",
                    "occurred_at": dt.datetime.now(dt.UTC).isoformat()}  # fmt: skip
            assert (await client.post("/v1/encounters", json=body, headers=gop)).status_code == 201

    async def read() -> None:
        since = "0"
        while True:
            finished = done.is_set()
            response = await client.get(
                "/v1/changes", params={"since": since, "limit": 3}, headers=us
            )
            page = response.json()
            seen.extend(page["items"])
            since = page["next_cursor"]
            if finished and not page["items"]:
                return
            await asyncio.sleep(0)

    reader = asyncio.create_task(read())
    await asyncio.gather(write("R1", 6), write("R3", 6), write("R4", 6), report(6))
    done.set()
    await reader

    everything, _ = await read_all(client, us)
    assert len(everything) == 4 + 18 + 6
    assert [e["id"] for e in seen] == [e["id"] for e in everything]  # same order, none lost
    seqs = [e["seq"] for e in everything]
    assert seqs == sorted(set(seqs))


async def test_withdrawal_propagates_and_owner_sees_acknowledgements(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id, withdrawal = await withdrawn_r4(client, world)
    us = await world.headers("us_mission")
    gop = await world.headers("gop", purpose="protection-verification")
    assert withdrawal["data"] == {"list_id": list_id, "record_id": "R4", "version": 2}

    path = f"/v1/changes/{withdrawal['id']}"
    ack = await client.post(f"{path}/acknowledgements", headers=gop)
    assert ack.status_code == 200, ack.text
    assert (await client.post(f"{path}/acknowledgements", headers=gop)).json() == ack.json()
    assert (await client.post(f"{path}/acknowledgements", headers=us)).status_code == 409

    status = (await client.get(path, headers=us)).json()
    assert status["recipients"] == sorted([world.gop, world.unhcr])
    assert [a["agency_id"] for a in status["acknowledgements"]] == [world.gop]


async def test_a_change_not_visible_cannot_be_acknowledged(
    client: httpx.AsyncClient, world: World
) -> None:
    list_id = await shared_pipeline(client, world)
    await issue_letter(client, world, list_id, "R1")
    us_items, _ = await read_all(client, await world.headers("us_mission"))
    letter_event = next(i for i in us_items if i["type"] == "letter.issued")
    unhcr = await world.headers("unhcr", purpose="reconciliation")
    response = await client.post(
        f"/v1/changes/{letter_event['id']}/acknowledgements", headers=unhcr
    )
    assert response.status_code == 404


async def test_sequence_numbers_become_visible_in_order_under_concurrent_commits(
    app: FastAPI, world: World
) -> None:
    """Writers hold their transaction open for a random while after taking numbers; a reader
    polling all along must still see every event exactly once, in sequence order."""
    sessions = app.state.services.sessions
    audience = Audience(world.us, (), ())
    committed: list[str] = []
    done = asyncio.Event()

    async def writer(index: int) -> None:
        async with sessions() as session:
            publish(session, [Change("record.corrected", world.us, "owner_only", {"i": index})])
            await run_last_writes(session)
            await asyncio.sleep(random.random() * 0.02)
            await session.commit()
            committed.append(str(index))

    async def reader() -> list[Any]:
        seen: list[Any] = []
        after = 0
        while True:
            finished = done.is_set()
            async with sessions() as session:
                events, after = await events_after(session, audience, after, None, 4)
            seen.extend(events)
            if finished and not events:
                return seen
            await asyncio.sleep(0.001)

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(writer(i) for i in range(30)))
    done.set()
    seen = await reading
    assert sorted(str(e.data["i"]) for e in seen) == sorted(committed)
    seqs = [e.seq for e in seen]
    assert seqs == list(range(seqs[0], seqs[0] + 30))


async def test_a_bulk_import_publishes_one_event_per_record_in_order(
    client: httpx.AsyncClient, world: World
) -> None:
    """Above 200 events the feed is written in bulk (COPY on PostgreSQL): every created and
    corrected record still has its own event, numbered contiguously in file order, and keys
    that need escaping in JSON and in COPY text come back as sent."""
    us = await world.headers("us_mission")
    made = await client.post("/v1/lists", json={"name": "bulk", "kind": "pipeline"}, headers=us)
    list_id = made.json()["id"]
    keys = [f"B-{n:04d}" for n in range(300)] + ['Q"uote\\back', "نجیب-7"]

    async def send(rows: list[str], key: str) -> None:
        body = "record_id,given_name\n" + "".join(rows)
        response = await client.post(
            f"/v1/lists/{list_id}/imports",
            content=body.encode(),
            headers={**us, "Content-Type": "text/csv", "Idempotency-Key": key},
        )
        assert response.status_code == 201, response.text

    def cell(key: str) -> str:
        return '"' + key.replace('"', '""') + '"'

    await send([f"{cell(k)},Name\n" for k in keys], "bulk-1")
    before, cursor = await read_all(client, us)
    # a second import corrects 250 records (bulk again) and repeats the rest unchanged
    await send([f"{cell(k)},{'Other' if i < 250 else 'Name'}\n" for i, k in enumerate(keys)], "b2")
    after, _ = await read_all(client, us, since=cursor)

    assert [(e["type"], e["data"]) for e in before] == [
        ("record.created", {"list_id": list_id, "record_id": k, "version": 1}) for k in keys
    ]
    assert [(e["type"], e["data"]) for e in after] == [
        ("record.corrected", {"list_id": list_id, "record_id": k, "version": 2}) for k in keys[:250]
    ]
    seqs = [e["seq"] for e in before + after]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert len({e["id"] for e in before + after}) == len(seqs)
    assert all(e["list_id"] == list_id for e in before + after)


async def test_a_cursor_that_is_not_ascii_digits_is_refused_naming_it(
    client: httpx.AsyncClient, world: World
) -> None:
    us = await world.headers("us_mission")
    # `²` and `٣` pass str.isdigit(); int() refuses the first (schemathesis found a 500 here)
    for cursor in ("²", "٣", "-1", "1" * 20):
        response = await client.get("/v1/changes", params={"since": cursor}, headers=us)
        assert response.status_code == 422, (cursor, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert [p["name"] for p in response.json()["invalid_params"]] == ["since"]
