"""Edges of the exchange around records found in review (session 24): detention reports on
revoked or forged letters, the reporter's own feed event, webhook URLs the sender cannot use,
feed cursors ahead of the feed, retries of a disabled subscription. Each test failed before
its fix."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from changes.dispatcher import WebhookDispatcher
from schemas.audit import AuditEvent
from schemas.changes import WebhookSubscription
from tests.conftest import World
from tests.helpers import add_namesakes, shared_pipeline
from tests.letter_helpers import issue_letter, revoked_letter, verify_credential
from tests.webhook_receiver import FAST, webhook_receiver


def _at(minutes_ago: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)).isoformat()


async def _report(
    client: httpx.AsyncClient, world: World, subject: dict[str, Any], event: str = "detained"
) -> httpx.Response:
    headers = await world.headers("gop", purpose="protection-verification")
    body = {"subject": subject, "event": event, "occurred_at": _at(5)}
    return await client.post("/v1/encounters", json=body, headers=headers)


async def _own_encounter_events(
    client: httpx.AsyncClient, world: World, encounter_ids: set[str]
) -> dict[str, dict[str, Any]]:
    """The reporter's own feed events of these encounters, by encounter id."""
    gop = await world.headers("gop", purpose="protection-verification")
    feed = await client.get(
        "/v1/changes", params={"type": "encounter.reported", "limit": 1000}, headers=gop
    )
    assert feed.status_code == 200, feed.text
    return {
        item["data"]["encounter_id"]: item["data"]
        for item in feed.json()["items"]
        if item["data"]["encounter_id"] in encounter_ids
    }


async def test_a_report_on_a_revoked_letter_is_answered_as_a_verification_would(
    client: httpx.AsyncClient, world: World
) -> None:
    """A checkpoint scanning a revoked letter's QR code is told by a verification that the
    person is not (provably) in the pipeline; reporting the same person's detention with the
    same credential said `in_pipeline: true`, in the answer and in the reporter's feed."""
    list_id = await shared_pipeline(client, world)
    letter = await revoked_letter(client, world, list_id, "fraud")
    verified = await verify_credential(client, world, letter["credential"])
    assert verified["in_pipeline"] is False

    reported = await _report(client, world, {"credential": letter["credential"]})
    assert reported.status_code == 201, reported.text
    assert reported.json()["in_pipeline"] is False
    encounter_id = reported.json()["encounter_id"]
    own = await _own_encounter_events(client, world, {encounter_id})
    assert own[encounter_id]["in_pipeline"] is False


async def test_a_revoked_letter_s_id_typed_in_answers_as_its_code_scanned(
    client: httpx.AsyncClient, world: World
) -> None:
    """The id printed on a revoked (say stolen) letter, typed in, answered `in_pipeline: true`
    where scanning the same letter's code answers false: a holder would ask to have it typed."""
    list_id = await shared_pipeline(client, world)
    letter = await revoked_letter(client, world, list_id, "stolen")
    gop = await world.headers("gop", purpose="protection-verification")
    typed = await client.post(
        "/v1/verifications", json={"letter_id": letter["letter_id"]}, headers=gop
    )
    assert typed.status_code == 200, typed.text
    assert typed.json()["in_pipeline"] is False
    assert {"letter_id": letter["letter_id"], "status": "revoked"} in typed.json()["letters"]
    reported = await _report(client, world, {"letter_id": letter["letter_id"]})
    assert reported.status_code == 201, reported.text
    assert reported.json()["in_pipeline"] is False
    # a record's own letter id (not one Sanad issued) still vouches as before
    plain = await client.post("/v1/verifications", json={"letter_id": "LTR-1"}, headers=gop)
    assert plain.json()["in_pipeline"] is True, plain.text


async def test_the_reporters_feed_says_no_more_than_its_answer_of_an_ambiguous_name(
    client: httpx.AsyncClient, world: World
) -> None:
    """Namesakes: the report's answer is `ambiguous`, not in the pipeline (verify by letter or
    document), but the reporter's own feed event said `in_pipeline: true`."""
    list_id = await shared_pipeline(client, world)
    await add_namesakes(client, world, list_id)
    person = {"given_name": "Jawad", "father_name": "Qasim", "dob": "1991"}
    reported = await _report(client, world, {"person": person})
    assert reported.status_code == 201, reported.text
    assert (reported.json()["ambiguous"], reported.json()["in_pipeline"]) == (True, False)
    encounter_id = reported.json()["encounter_id"]
    own = await _own_encounter_events(client, world, {encounter_id})
    assert own[encounter_id]["in_pipeline"] is False


@pytest.mark.parametrize("url", ["https://[::1/hooks", "https://" + "a" * 64 + ".example/hooks"])
async def test_a_malformed_webhook_url_is_a_422_naming_it_not_a_500(
    client: httpx.AsyncClient, world: World, url: str
) -> None:
    us = await world.headers("us_mission")
    body = {"url": url, "event_types": ["record.created"]}
    response = await client.post("/v1/subscriptions", json=body, headers=us)
    assert response.status_code == 422, response.text
    assert [p["name"] for p in response.json()["invalid_params"]] == ["url"]


async def test_a_url_the_sender_cannot_use_is_refused_when_subscribing(
    client: httpx.AsyncClient, world: World, dispatcher: WebhookDispatcher
) -> None:
    """The guard reads URLs as `urllib` does, which drops tabs and newlines; the HTTP client
    refuses them (and other control characters) at every attempt."""
    us = await world.headers("us_mission")
    for url in ("http://127.0.0.1:9/ho\tok", "http://127.0.0.1:9/ho\x7fok"):
        body = {"url": url, "event_types": ["record.created"]}
        response = await client.post("/v1/subscriptions", json=body, headers=us)
        assert response.status_code == 422, (url, response.text)
        assert [p["name"] for p in response.json()["invalid_params"]] == ["url"]


async def test_a_stored_url_the_sender_cannot_use_fails_its_attempts_and_ends_dead(
    client: httpx.AsyncClient,
    world: World,
    dispatcher: WebhookDispatcher,
    sync_session: Callable[[], Session],
) -> None:
    """Such a URL (stored before subscriptions refused it) raised out of the attempt: no
    attempt was recorded, the delivery stayed leased, and it was claimed again each time its
    lease ran out, with an audit event of a disclosure every time, never ending dead."""
    await shared_pipeline(client, world)
    with webhook_receiver() as receiver:
        us = await world.headers("us_mission")
        body = {"url": receiver.url, "event_types": ["encounter.reported"]}
        made = await client.post("/v1/subscriptions", json=body, headers=us)
        assert made.status_code == 201, made.text
        sub_id = made.json()["id"]

        def spoil() -> None:
            with sync_session() as session:
                row = session.get(WebhookSubscription, sub_id)
                assert row is not None
                row.url = receiver.url + "\tx"
                session.add(row)
                session.commit()

        await asyncio.to_thread(spoil)
        gop = await world.headers("gop", purpose="protection-verification")
        report = {"subject": {"letter_id": "LTR-1"}, "event": "detained", "occurred_at": _at(1)}
        assert (await client.post("/v1/encounters", json=report, headers=gop)).status_code == 201
        delivery: dict[str, Any] = {}
        for _ in range(100):
            listed = await client.get(f"/v1/subscriptions/{sub_id}/deliveries", headers=us)
            items = listed.json()["items"]
            delivery = items[0] if items else {}
            if delivery.get("status") == "dead":
                break
            await asyncio.sleep(0.05)
        assert delivery.get("status") == "dead", delivery
        assert len(delivery["attempt_log"]) == FAST.max_attempts
        assert all(a["error"].startswith("refused: ") for a in delivery["attempt_log"])
        assert receiver.requests == []


async def test_a_cursor_ahead_of_the_feed_is_refused_not_kept_to_skip_events(
    client: httpx.AsyncClient, world: World, dispatcher: WebhookDispatcher
) -> None:
    """A cursor past the head was echoed back as `next_cursor`: the reader (or a subscription
    started there) then passed over every event numbered up to it, unseen."""
    await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    page = await client.get("/v1/changes", params={"limit": 1000}, headers=us)
    head = int(page.json()["next_cursor"])
    ahead = str(head + 1000)
    response = await client.get("/v1/changes", params={"since": ahead}, headers=us)
    assert response.status_code == 422, response.text
    assert [p["name"] for p in response.json()["invalid_params"]] == ["since"]
    with webhook_receiver() as receiver:
        body = {"url": receiver.url, "event_types": ["record.created"], "since": ahead}
        made = await client.post("/v1/subscriptions", json=body, headers=us)
        assert made.status_code == 422, made.text
        assert [p["name"] for p in made.json()["invalid_params"]] == ["since"]
    at_head = await client.get("/v1/changes", params={"since": str(head)}, headers=us)
    assert at_head.status_code == 200, at_head.text


async def test_a_disabled_subscription_s_retry_is_withheld_unaudited(
    client: httpx.AsyncClient,
    world: World,
    dispatcher: WebhookDispatcher,
    sync_session: Callable[[], Session],
) -> None:
    """A subscription disabled while a retry waits: the retry was leased and audited as a
    disclosure to the subscriber (an audit event of the webhook route, a disclosure of the
    record), then not sent ("subscription disabled"). The audit said it left; it did not."""
    await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    with webhook_receiver() as receiver:
        receiver.script = [500]
        body = {"url": receiver.url, "event_types": ["encounter.reported"]}
        sub = (await client.post("/v1/subscriptions", json=body, headers=us)).json()
        gop = await world.headers("gop", purpose="protection-verification")
        report = {"subject": {"letter_id": "LTR-1"}, "event": "detained", "occurred_at": _at(1)}
        assert (await client.post("/v1/encounters", json=report, headers=gop)).status_code == 201
        await receiver.wait_for(1, within=5)
        gone = await client.delete(f"/v1/subscriptions/{sub['id']}", headers=us)
        assert gone.status_code == 200, gone.text
        delivery: dict[str, Any] = {}
        for _ in range(100):
            listed = await client.get(f"/v1/subscriptions/{sub['id']}/deliveries", headers=us)
            [delivery] = listed.json()["items"]
            if delivery["status"] == "dead":
                break
            await asyncio.sleep(0.05)
        assert delivery["status"] == "dead", delivery
        assert len(receiver.requests) == 1

    def audited() -> int:
        with sync_session() as session:
            query = select(AuditEvent).where(AuditEvent.request_id == delivery["id"])
            return len(session.exec(query).all())

    assert await asyncio.to_thread(audited) == 1  # the one attempt that was sent


async def test_a_report_on_a_forged_credential_is_marked_in_the_audit_as_a_verification_is(
    client: httpx.AsyncClient, world: World
) -> None:
    """A verification of a forged or unknown-key credential is audited with the reason
    `credential-invalid` / `credential-unknown-key`, so auditors find forgery attempts; a
    detention report on the same credential was audited as an ordinary report."""
    list_id = await shared_pipeline(client, world)
    letter = await issue_letter(client, world, list_id)
    credential: str = letter["credential"]
    forged = credential[:-6] + ("A" if credential[-6] != "A" else "B") + credential[-5:]
    reported = await _report(client, world, {"credential": forged})
    assert reported.status_code == 201, reported.text
    assert reported.json()["in_pipeline"] is False
    auditor = await world.headers("gop", purpose="audit")
    events = await client.get(
        "/v1/audit/events", params={"route": "/v1/encounters"}, headers=auditor
    )
    assert events.status_code == 200, events.text
    assert [e["reason"] for e in events.json()["items"]] == ["credential-invalid"]
