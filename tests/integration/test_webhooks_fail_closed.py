"""Webhooks stop with the rest of the personal data when the audit's transparency log falls
behind: the delivery worker neither fans new events out nor sends due deliveries (replays
included) until the log has caught up, then sends them."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from changes.dispatcher import WebhookDispatcher
from tests.conftest import World
from tests.helpers import shared_pipeline
from tests.integration.test_webhooks import FAST
from tests.transparency_helpers import OwnApp, fresh_database, own_app
from tests.webhook_receiver import Receiver, webhook_receiver
from transparency.runtime import TransparencyLog

BOUND = 0.5  # seconds the log may go unchecked or lag before personal data stops


@asynccontextmanager
async def _app_and_receiver() -> AsyncIterator[tuple[OwnApp, str, Receiver]]:
    """An app on a database of its own (no other app's worker sends its deliveries), a shared
    pipeline list, and the mission subscribed to detention reports at a local receiver."""
    with fresh_database() as url:
        async with own_app(
            url,
            transparency_max_backlog_seconds=BOUND,
            transparency_poll_interval_seconds=0.05,
        ) as own:
            own.app.state.services.webhooks.reconfigure(FAST)
            list_id = await shared_pipeline(own.http, own.world)
            with webhook_receiver() as receiver:
                us = await own.world.headers("us_mission")
                body = {"url": receiver.url, "event_types": ["encounter.reported"]}
                made = await own.http.post("/v1/subscriptions", json=body, headers=us)
                assert made.status_code == 201, made.text
                yield own, list_id, receiver


async def _detain(http: httpx.AsyncClient, world: World) -> None:
    gop = await world.headers("gop", purpose="protection-verification")
    body = {"subject": {"letter_id": "LTR-1"}, "event": "detained",
            "occurred_at": dt.datetime.now(dt.UTC).isoformat()}  # fmt: skip
    assert (await http.post("/v1/encounters", json=body, headers=gop)).status_code == 201


async def _fall_behind(own: OwnApp, list_id: str) -> TransparencyLog:
    """Stop checking the log and wait until the API refuses personal data for it."""
    log: TransparencyLog = own.app.state.services.transparency
    await log.stop()
    await asyncio.sleep(BOUND + 0.3)
    us = await own.world.headers("us_mission")
    refused = await own.http.get(f"/v1/lists/{list_id}/records", headers=us)
    assert refused.status_code == 503, refused.text
    assert refused.json()["type"].endswith("/audit-log-behind")
    return log


async def test_a_replay_while_the_log_is_behind_is_sent_only_once_it_has_caught_up() -> None:
    """The reviewer's scenario, with the worker running: a detention report delivered, the
    log stops, the mission replays; the replay is scheduled, and nothing leaves until the
    log is current again."""
    async with _app_and_receiver() as (own, list_id, receiver):
        http, world = own.http, own.world
        await _detain(http, world)
        await receiver.wait_for(1, within=5)
        assert len(receiver.requests) == 1
        log = await _fall_behind(own, list_id)
        us = await world.headers("us_mission")
        [sub] = (await http.get("/v1/subscriptions", headers=us)).json()
        # allowed: it only schedules (a count comes back); what it schedules waits below
        replay = await http.post(f"/v1/subscriptions/{sub['id']}/replays", json={}, headers=us)
        assert replay.status_code == 200, replay.text
        assert replay.json() == {"requeued": 1}
        await asyncio.sleep(1.0)  # twenty of the worker's polls
        assert len(receiver.requests) == 1
        await log.start()  # checked again: current
        await receiver.wait_for(2, within=5)
        assert len(receiver.requests) == 2
        assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1


async def test_new_events_are_not_fanned_out_while_the_log_is_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A detention reported just before the log fell behind: the worker's passes while it is
    behind create and send no delivery; the first pass after it caught up sends it. The
    worker is driven pass by pass (not started), so the report cannot be sent before the log
    falls behind."""
    monkeypatch.setenv("SANAD_WEBHOOK_ENABLED", "false")
    async with _app_and_receiver() as (own, list_id, receiver):
        http, world = own.http, own.world
        hooks: WebhookDispatcher = own.app.state.services.webhooks
        await _detain(http, world)
        log = await _fall_behind(own, list_id)
        assert await hooks.run_once() == 0
        us = await world.headers("us_mission")
        [sub] = (await http.get("/v1/subscriptions", headers=us)).json()
        page = await http.get(f"/v1/subscriptions/{sub['id']}/deliveries", headers=us)
        assert page.json()["items"] == []
        await log.start()
        await hooks.run_once()
        [request] = await receiver.wait_for(1, within=5)
        assert b'"event":"detained"' in request.body
        await hooks.settle()
