"""Bulk-read limits count what writes and webhook deliveries disclose, not only reads: an
encounter report or a status claim names a record, and a delivery sends an event naming one.
Crossing a limit raises the alert; with blocking on, a write is refused before anything is
written (the 429 a read gets) and a delivery is held unsent."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest

from audit.bulk_reads import ALERT_ROUTE
from config.settings import Settings
from tests.conftest import World
from tests.helpers import shared_pipeline
from tests.transparency_helpers import events_of, fresh_database, own_app
from tests.webhook_receiver import FAST, subscribe, webhook_receiver


def _alerts(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["route"] == ALERT_ROUTE]


def _rid() -> str:
    return uuid.uuid4().hex


async def _report(http: httpx.AsyncClient, world: World, letter_id: str) -> httpx.Response:
    gop = await world.headers("gop", purpose="protection-verification")
    body = {
        "subject": {"letter_id": letter_id},
        "event": "detained",
        "place": {"province": "Sindh", "district": "Karachi East", "facility": "PS 4"},
        "occurred_at": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat(),
    }
    return await http.post("/v1/encounters", json=body, headers={**gop, "X-Request-Id": _rid()})


async def _claim(
    http: httpx.AsyncClient, world: World, list_id: str, record_id: str
) -> httpx.Response:
    unhcr = await world.headers("unhcr", purpose="protection-verification")
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    return await http.post(
        f"/v1/lists/{list_id}/records/{record_id}/status-claims",
        json={"status": "registered", "effective_at": at},
        headers={**unhcr, "X-Request-Id": _rid()},
    )


async def _status(
    http: httpx.AsyncClient, world: World, list_id: str, record_id: str
) -> dict[str, Any]:
    us = await world.headers("us_mission")
    response = await http.get(f"/v1/lists/{list_id}/records/{record_id}/status", headers=us)
    assert response.status_code == 200, response.text
    status: dict[str, Any] = response.json()
    return status


@pytest.mark.parametrize("block", [False, True])
async def test_writes_that_disclose_records_count_towards_the_limits(
    settings: Settings, block: bool
) -> None:
    """Pakistan's client may see one record a day: its second detention report, naming another
    person (R2), crosses the limit; so does UNHCR's second status claim (R2 again). Without
    blocking both are made and raise the alert; with blocking both are refused with the read
    path's 429 problem, and nothing of them is stored."""
    async with own_app(
        settings.database_url, bulk_read_client_daily_limit=1, bulk_read_block=block
    ) as own:
        http, world = own.http, own.world
        list_id = await shared_pipeline(http, world)
        for first, second in (
            (await _report(http, world, "LTR-1"), await _report(http, world, "LTR-2")),
            (
                await _claim(http, world, list_id, "R3"),
                await _claim(http, world, list_id, "R2"),
            ),
        ):
            assert first.status_code == 201, first.text
            events = await events_of(http, world, first.request.headers["X-Request-Id"])
            assert _alerts(events) == []
            assert second.status_code == (429 if block else 201), second.text
            events = await events_of(http, world, second.request.headers["X-Request-Id"])
            [alert] = _alerts(events)
            assert alert["reason"] == "bulk-read-limit-client"
            assert alert["status"] == second.status_code
            [made] = [e for e in events if e["route"] != ALERT_ROUTE]
            assert made["status"] == second.status_code
            assert made["disclosure_count"] == (0 if block else 1)
            if block:
                problem = second.json()
                assert problem["type"].endswith("/bulk-read-limit")
                assert problem["status"] == 429
                assert made["reason"] == "bulk-read-limit"
        # what a refused write would have stored is not there (one read: the mission's client
        # is under the same limit)
        status = await _status(http, world, list_id, "R2")
        assert len(status["encounters"]) == (0 if block else 1)
        claimants = {c["agency_id"] for c in status["history"]}
        assert claimants == (set() if block else {world.gop, world.unhcr})


async def test_a_webhook_subscriber_over_its_limit_raises_the_alert_and_is_held() -> None:
    """UNHCR's agreement may disclose one record a day. Its subscription gets the withdrawal of
    R2; the withdrawal of R3 would be the second record: the alert is raised and, with
    blocking on, that delivery is held, unsent and unaudited as a send, until the day's counts
    restart."""
    with fresh_database() as url:
        async with own_app(url, bulk_read_agreement_daily_limit=1, bulk_read_block=True) as own:
            http, world = own.http, own.world
            own.app.state.services.webhooks.reconfigure(FAST)
            list_id = await shared_pipeline(http, world)
            unhcr = await world.headers("unhcr", purpose="reconciliation")
            us = await world.headers("us_mission")
            with webhook_receiver() as receiver:
                sub_id = await subscribe(http, unhcr, receiver.url, ["record.withdrawn"])
                for record_id in ("R2", "R3"):
                    withdrawn = await http.post(
                        f"/v1/lists/{list_id}/records/{record_id}/withdrawal",
                        json={"reason": "left"},
                        headers=us,
                    )
                    assert withdrawn.status_code == 200, withdrawn.text
                    await receiver.wait_for(1, within=5)
                await asyncio.sleep(1.0)  # room for a second delivery, which must not come
                [sent] = receiver.requests
                assert b'"record_id":"R2"' in sent.body
                page = await http.get(f"/v1/subscriptions/{sub_id}/deliveries", headers=unhcr)
                held, delivered = page.json()["items"]  # newest first
            assert delivered["status"] == "delivered"
            assert held["status"] == "pending" and held["attempts"] == 0
            assert "bulk-read limit" in held["last_error"]
            tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
            assert dt.datetime.fromisoformat(held["next_attempt_at"]).date() == tomorrow
            # audited is the alert alone: the held delivery was not sent
            [alert] = await events_of(http, world, held["id"])
            assert alert["route"] == ALERT_ROUTE and alert["status"] == 429
            assert alert["reason"] == "bulk-read-limit-agreement"
            assert alert["client_id"] == world.client_for("unhcr")[0]
