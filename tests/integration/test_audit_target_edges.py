"""Edges of the audit event's target and of the letter's record locks: a write refused at its
commit names nothing it would have made, events written outside a request name their objects
as the request's would, a target stays within its column, and a letter holding its records
does not deadlock with an import updating them in another order (PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from audit.bulk_reads import ALERT_ROUTE
from audit.context import AuditContext, event_row
from config.settings import Settings
from exchange import repository as records
from schemas.audit import TARGET_MAX
from tests.conftest import World
from tests.helpers import PIPELINE_CSV, shared_pipeline
from tests.integration.test_cli_import import _sanad_import
from tests.transparency_helpers import events_of, fresh_database, own_app
from tests.webhook_receiver import FAST, subscribe, webhook_receiver

HEADER, R1, R2 = PIPELINE_CSV.splitlines()[:3]


async def test_a_letter_refused_at_its_commit_names_no_letter(settings: Settings) -> None:
    """The mission's client may see one record a day: its second letter (another holder)
    crosses the limit and, blocking on, is rolled back with a 429. Its event named the
    letter id it never made (`AuditContext.names` ran before the commit refused it)."""
    async with own_app(
        settings.database_url, bulk_read_client_daily_limit=1, bulk_read_block=True
    ) as own:
        http, world = own.http, own.world
        list_id = await shared_pipeline(http, world)
        us = await world.headers("us_mission")
        answers = []
        for holder in ("R1", "R3"):
            request_id = uuid.uuid4().hex
            answer = await http.post(
                "/v1/letters",
                json={"list_id": list_id, "record_id": holder},
                headers={**us, "X-Request-Id": request_id},
            )
            events = await events_of(http, world, request_id)
            [event] = [e for e in events if e["route"] != ALERT_ROUTE]
            answers.append((answer, event))
        (made, made_event), (refused, refused_event) = answers
        assert made.status_code == 201, made.text
        assert made_event["target"] == f"letter_id={made.json()['letter_id']}"
        assert refused.status_code == 429, refused.text
        assert refused_event["status"] == 429
        assert refused_event["target"] is None


def test_a_created_object_keeps_the_target_within_its_column() -> None:
    """A long path target was cut to the column, then the created id appended past it: more
    than `audit_event.target` holds (VARCHAR(1000) on PostgreSQL refuses the audit write)."""
    ctx = AuditContext("r" * 8, "POST", "/v1/x/{x_id}", dt.datetime.now(dt.UTC))
    ctx.target = "x_id=" + "a" * (TARGET_MAX - 5)
    ctx.names(letter_id="L")
    assert len(str(event_row(ctx, 201)["target"])) == TARGET_MAX


async def test_a_webhook_delivery_names_its_subscription() -> None:
    """Its event is filed under `/webhooks/{subscription_id}` but named no subscription: an
    agency's several subscriptions (each its own URL) could not be told apart."""
    with fresh_database() as url:
        async with own_app(url) as own:
            http, world = own.http, own.world
            own.app.state.services.webhooks.reconfigure(FAST)
            list_id = await shared_pipeline(http, world)
            unhcr = await world.headers("unhcr", purpose="reconciliation")
            us = await world.headers("us_mission")
            with webhook_receiver() as receiver:
                sub_id = await subscribe(http, unhcr, receiver.url, ["record.withdrawn"])
                withdrawn = await http.post(
                    f"/v1/lists/{list_id}/records/R2/withdrawal",
                    json={"reason": "left"},
                    headers=us,
                )
                assert withdrawn.status_code == 200, withdrawn.text
                await receiver.wait_for(1, within=5)
            page = await http.get(f"/v1/subscriptions/{sub_id}/deliveries", headers=unhcr)
            [delivery] = page.json()["items"]
            [event] = await events_of(http, world, delivery["id"])
            assert event["route"] == "/webhooks/{subscription_id}"
            assert event["target"] == f"subscription_id={sub_id}"


async def test_a_command_line_import_names_its_list(
    client: httpx.AsyncClient, world: World, settings: Settings, tmp_path: Path
) -> None:
    """Audited "as the route audits the same import": the route's event names the list it
    imported into, the command's did not."""
    us = await world.headers("us_mission")
    made = await client.post("/v1/lists", json={"name": "p", "kind": "pipeline"}, headers=us)
    list_id = made.json()["id"]
    members = tmp_path / "members.csv"
    members.write_text(PIPELINE_CSV, "utf-8")
    code, report = await _sanad_import(
        settings, list_id, members, world.client_for("us_mission")[0]
    )
    assert code == 0, report
    [event] = await events_of(client, world, str(report["request_id"]))
    assert event["route"] == "/v1/lists/{list_id}/imports"
    assert event["target"] == f"list_id={list_id}"


@pytest.mark.skipif(
    os.environ.get("SANAD_TEST_DATABASE", "sqlite") != "postgresql",
    reason="row locks are PostgreSQL's: SQLite's one write lock cannot be held in two orders, "
    "and the interleaving this test forces would wait on it instead",
)
@pytest.mark.parametrize("first", ["R1", "R2"])
async def test_a_letter_and_an_import_of_its_records_at_once_do_not_deadlock(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch, first: str
) -> None:
    """An import updates records in its file's order; a letter held R1 and R2 in the order the
    database scanned them. The import updating R2, then R1 while the letter held R1 and waited
    for R2 was a deadlock on PostgreSQL (one of them a 500). Both orders are tried: one of them
    is the letter's opposite."""
    list_id = await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    hold, update = records.hold_live_records, records.update_records
    import_holds = asyncio.Event()

    async def update_one_by_one(session: Any, rows: Any) -> int:
        done = await update(session, rows[:1])
        import_holds.set()
        await asyncio.sleep(0.5)  # the letter meanwhile locks what it can, then waits
        return done + await update(session, rows[1:])

    async def hold_once_the_import_holds_one(*args: Any) -> bool:
        await asyncio.wait_for(import_holds.wait(), 10)
        return await hold(*args)

    monkeypatch.setattr(records, "update_records", update_one_by_one)
    monkeypatch.setattr(records, "hold_live_records", hold_once_the_import_holds_one)
    rows = [R1.replace("US Army contractor", "Driver"), R2 + "Teacher"]
    csv = "\n".join([HEADER, *(rows if first == "R1" else rows[::-1])]) + "\n"
    imported, issued = await asyncio.gather(
        client.post(
            f"/v1/lists/{list_id}/imports",
            content=csv.encode(),
            headers={**us, "Content-Type": "text/csv", "Idempotency-Key": str(uuid.uuid4())},
        ),
        client.post(
            "/v1/letters",
            json={"list_id": list_id, "record_id": "R1", "covered_record_ids": ["R2"]},
            headers=us,
        ),
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["updated"] == 2
    assert issued.status_code == 201, issued.text
