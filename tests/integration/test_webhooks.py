"""Webhook delivery to a real local HTTP receiver: Standard Webhooks signatures checked with the
reference library, retries with exponential back-off, dead-letter, the delivery log, replay,
and refusal of private or loopback URLs unless the operator allows them."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlmodel import Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from changes import url_guard
from changes.dispatcher import WebhookDispatcher
from changes.signing import new_secret
from schemas.changes import WebhookSubscription
from sealing.box import new_key
from tests.conftest import World
from tests.helpers import shared_pipeline
from tests.softhsm import seal_in_token
from tests.webhook_receiver import FAST, webhook_receiver


async def _subscribe(
    client: httpx.AsyncClient, world: World, url: str, types: list[str]
) -> dict[str, Any]:
    us = await world.headers("us_mission")
    response = await client.post(
        "/v1/subscriptions", json={"url": url, "event_types": types}, headers=us
    )
    assert response.status_code == 201, response.text
    subscription: dict[str, Any] = response.json()
    return subscription


async def _detain(client: httpx.AsyncClient, world: World, letter_id: str = "LTR-1") -> float:
    gop = await world.headers("gop", purpose="protection-verification")
    body = {"subject": {"letter_id": letter_id}, "event": "detained",
            "occurred_at": dt.datetime.now(dt.UTC).isoformat()}  # fmt: skip
    started = time.time()
    assert (await client.post("/v1/encounters", json=body, headers=gop)).status_code == 201
    return started


async def _deliveries(client: httpx.AsyncClient, world: World, sub_id: str) -> list[dict[str, Any]]:
    us = await world.headers("us_mission")
    response = await client.get(f"/v1/subscriptions/{sub_id}/deliveries", headers=us)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _verified(receiver_request: Any, secret: str) -> dict[str, Any]:
    payload: dict[str, Any] = Webhook(secret).verify(
        receiver_request.body, receiver_request.headers
    )
    return payload


async def test_detention_reaches_the_mission_signed_and_fast(
    client: httpx.AsyncClient, world: World, dispatcher: WebhookDispatcher
) -> None:
    await shared_pipeline(client, world)
    with webhook_receiver() as receiver:
        sub = await _subscribe(client, world, receiver.url, ["encounter.reported"])
        started = await _detain(client, world)
        [request] = await receiver.wait_for(1, within=5)
        assert request.at - started < 2.0
        payload = _verified(request, sub["secret"])
        assert payload["type"] == "encounter.reported"
        assert payload["data"]["record_id"] == "R1" and payload["data"]["event"] == "detained"
        assert request.headers["webhook-id"].startswith("msg_")


async def test_retries_back_off_then_deliver_with_the_same_id(
    client: httpx.AsyncClient, world: World, dispatcher: WebhookDispatcher
) -> None:
    await shared_pipeline(client, world)
    with webhook_receiver() as receiver:
        receiver.script = [500, 503]
        sub = await _subscribe(client, world, receiver.url, ["encounter.reported"])
        await _detain(client, world)
        first, second, third = await receiver.wait_for(3, within=10)
        assert len({r.headers["webhook-id"] for r in (first, second, third)}) == 1
        assert second.at - first.at >= 0.3 * 0.9
        assert third.at - second.at >= 0.6 * 0.9  # doubled
        _verified(third, sub["secret"])
        # the receiver has answered; the dispatcher records the outcome a moment later
        for _ in range(50):
            [delivery] = await _deliveries(client, world, sub["id"])
            if delivery["status"] == "delivered":
                break
            await asyncio.sleep(0.05)
        assert delivery["status"] == "delivered" and delivery["attempts"] == 3
        assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 503, 200]


async def test_dead_letter_after_n_failures_then_replay(
    client: httpx.AsyncClient, world: World, dispatcher: WebhookDispatcher
) -> None:
    await shared_pipeline(client, world)
    with webhook_receiver() as receiver:
        receiver.script = [500, 500, 500]
        sub = await _subscribe(client, world, receiver.url, ["encounter.reported"])
        await _detain(client, world)
        failed = await receiver.wait_for(3, within=10)
        for _ in range(50):
            [delivery] = await _deliveries(client, world, sub["id"])
            if delivery["status"] == "dead":
                break
            await asyncio.sleep(0.05)
        assert delivery["status"] == "dead" and delivery["attempts"] == 3
        us = await world.headers("us_mission")
        replay = await client.post(
            f"/v1/subscriptions/{sub['id']}/replays", json={"only_dead": True}, headers=us
        )
        assert replay.json() == {"requeued": 1}
        requests = await receiver.wait_for(4, within=5)
        assert requests[3].headers["webhook-id"] == failed[0].headers["webhook-id"]
        _verified(requests[3], sub["secret"])


async def test_a_replay_during_an_attempt_sends_again_after_it_not_alongside(
    client: httpx.AsyncClient, world: World, dispatcher: WebhookDispatcher
) -> None:
    """A replay used to free the lease of a delivery being sent, so a second attempt started
    at once under the same attempt number; recording both broke the attempt log's key and
    lost every result committed with them."""
    await shared_pipeline(client, world)
    with webhook_receiver() as receiver:
        receiver.delay = 0.6
        sub = await _subscribe(client, world, receiver.url, ["encounter.reported"])
        await _detain(client, world)
        [first] = await receiver.wait_for(1, within=5)
        us = await world.headers("us_mission")
        replay = await client.post(f"/v1/subscriptions/{sub['id']}/replays", json={}, headers=us)
        assert replay.json() == {"requeued": 1}
        await asyncio.sleep(0.3)  # the first attempt is still being answered
        assert len(receiver.requests) == 1
        first, again = await receiver.wait_for(2, within=5)
        assert again.at - first.at >= 0.6 * 0.9
        assert again.headers["webhook-id"] == first.headers["webhook-id"]
        for _ in range(100):
            [delivery] = await _deliveries(client, world, sub["id"])
            if delivery["status"] == "delivered" and delivery["attempts"] == 2:
                break
            await asyncio.sleep(0.05)
        assert [a["attempt"] for a in delivery["attempt_log"]] == [1, 2]
        assert delivery["status"] == "delivered"


async def test_an_attempt_ends_at_its_timeout_however_the_subscriber_trickles(
    client: httpx.AsyncClient, world: World, dispatcher: WebhookDispatcher
) -> None:
    """httpx bounds each read; a subscriber sending a byte every 0.3 s never trips that, and
    would hold the attempt past its lease (20 bytes: 6 s) but for the attempt's own bound."""
    await shared_pipeline(client, world)
    with webhook_receiver() as receiver:
        receiver.drip = 0.3
        sub = await _subscribe(client, world, receiver.url, ["encounter.reported"])
        await _detain(client, world)
        await receiver.wait_for(1, within=5)
        for _ in range(100):
            [delivery] = await _deliveries(client, world, sub["id"])
            if delivery["attempt_log"]:
                break
            await asyncio.sleep(0.05)
        [first, *_] = delivery["attempt_log"]
        assert first["error"] == "timeout"
        assert FAST.timeout_seconds * 1000 <= first["duration_ms"] < 4000


async def test_events_follow_the_subscribers_agreements(
    client: httpx.AsyncClient, world: World, dispatcher: WebhookDispatcher
) -> None:
    """UNHCR subscribes to everything: it gets record events of the shared list, no letters
    (its agreement lacks letter_id) and no encounters."""
    list_id = await shared_pipeline(client, world)
    unhcr = await world.headers("unhcr", purpose="reconciliation")
    with webhook_receiver() as receiver:
        body = {"url": receiver.url, "event_types": ["record.withdrawn", "letter.issued",
                                                     "encounter.reported"]}  # fmt: skip
        response = await client.post("/v1/subscriptions", json=body, headers=unhcr)
        assert response.status_code == 201, response.text
        us = await world.headers("us_mission")
        issued = await client.post(
            "/v1/letters", json={"list_id": list_id, "record_id": "R1"}, headers=us
        )
        assert issued.status_code == 201
        await _detain(client, world)
        withdrawn = await client.post(
            f"/v1/lists/{list_id}/records/R2/withdrawal", json={"reason": "left"}, headers=us
        )
        assert withdrawn.status_code == 200
        [request] = await receiver.wait_for(1, within=5)
        await asyncio.sleep(0.3)
        assert len(receiver.requests) == 1
        assert json.loads(request.body)["type"] == "record.withdrawn"


async def test_an_event_no_longer_shared_is_sent_neither_on_a_retry_nor_on_a_replay(
    client: httpx.AsyncClient, world: World, dispatcher: WebhookDispatcher
) -> None:
    """A delivery is a disclosure made when it is sent: the list must still be shared with the
    subscriber then, as a read of the feed would require, not only when the event was fanned
    out. UNHCR's agreement ends while the first attempt is answered."""
    list_id = await shared_pipeline(client, world)
    unhcr = await world.headers("unhcr", purpose="reconciliation")
    us = await world.headers("us_mission")
    with webhook_receiver() as receiver:
        receiver.script, receiver.delay = [500], 0.5
        body = {"url": receiver.url, "event_types": ["record.withdrawn"]}
        sub = (await client.post("/v1/subscriptions", json=body, headers=unhcr)).json()
        withdrawn = await client.post(
            f"/v1/lists/{list_id}/records/R2/withdrawal", json={"reason": "left"}, headers=us
        )
        assert withdrawn.status_code == 200
        await receiver.wait_for(1, within=5)
        agreements = (await client.get(f"/v1/agreements?list_id={list_id}", headers=us)).json()
        [to_unhcr] = [a for a in agreements["items"] if a["recipient_agency_id"] == world.unhcr]
        ended = await client.post(f"/v1/agreements/{to_unhcr['id']}/termination", headers=us)
        assert ended.status_code == 200, ended.text
        for _ in range(100):
            deliveries = await client.get(
                f"/v1/subscriptions/{sub['id']}/deliveries", headers=unhcr
            )
            [delivery] = deliveries.json()["items"]
            if delivery["status"] == "dead":
                break
            await asyncio.sleep(0.05)
        assert delivery["status"] == "dead" and "no longer shared" in delivery["last_error"]
        replay = await client.post(f"/v1/subscriptions/{sub['id']}/replays", json={}, headers=unhcr)
        assert replay.json() == {"requeued": 1}
        await asyncio.sleep(1.0)
        assert len(receiver.requests) == 1


async def _new_mission_client(
    client: httpx.AsyncClient, admin: dict[str, str], name: str, scopes: list[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """A system client the mission's admin registers, and headers with a token of it."""
    created: dict[str, Any] = (
        await client.post("/v1/clients", json={"name": name, "scopes": scopes}, headers=admin)
    ).json()
    granted = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(created["id"], created["client_secret"]),
    )
    headers = {
        "Authorization": f"Bearer {granted.json()['access_token']}",
        "Purpose-Of-Use": "resettlement-processing",
    }
    return created, headers


async def test_a_disabled_client_s_subscriptions_send_nothing_more(
    client: httpx.AsyncClient, world: World, dispatcher: WebhookDispatcher
) -> None:
    """A stolen partner credential may have subscribed its own URL: disabling the client ends
    what its subscriptions send, the retry under way and every later event."""
    await shared_pipeline(client, world)
    us = await world.headers("us_mission")
    created, subscriber = await _new_mission_client(
        client, us, "hooks system", ["changes:read", "subscriptions:write"]
    )
    with webhook_receiver() as receiver:
        receiver.script, receiver.delay = [500], 0.5
        body = {"url": receiver.url, "event_types": ["encounter.reported"]}
        sub = (await client.post("/v1/subscriptions", json=body, headers=subscriber)).json()
        await _detain(client, world)
        await receiver.wait_for(1, within=5)
        disabled = await client.post(f"/v1/clients/{created['id']}/disable", headers=us)
        assert disabled.status_code == 200, disabled.text
        for _ in range(100):
            [delivery] = await _deliveries(client, world, sub["id"])
            if delivery["status"] == "dead":
                break
            await asyncio.sleep(0.05)
        assert delivery["status"] == "dead" and "client is disabled" in delivery["last_error"]
        await _detain(client, world)
        await asyncio.sleep(1.0)
        assert len(receiver.requests) == 1
        assert len(await _deliveries(client, world, sub["id"])) == 1
    # the agency's admin sees which client made it, and that it no longer sends
    [listed] = [x for x in (await client.get("/v1/subscriptions", headers=us)).json()
                if x["id"] == sub["id"]]  # fmt: skip
    assert listed["client_id"] == created["id"] and listed["disabled_at"] is not None


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/x", "https://10.0.0.7/x", "http://169.254.169.254/"]
)
async def test_private_and_loopback_urls_are_refused_without_allow_list(
    client: httpx.AsyncClient, world: World, url: str
) -> None:
    us = await world.headers("us_mission")
    response = await client.post(
        "/v1/subscriptions", json={"url": url, "event_types": ["record.created"]}, headers=us
    )
    assert response.status_code == 422
    assert response.json()["invalid_params"][0]["name"] == "url"


async def test_subscription_lifecycle(
    client: httpx.AsyncClient, world: World, dispatcher: WebhookDispatcher
) -> None:
    with webhook_receiver() as receiver:
        sub = await _subscribe(client, world, receiver.url, ["record.created"])
        us = await world.headers("us_mission")
        listed = (await client.get("/v1/subscriptions", headers=us)).json()
        assert [s["id"] for s in listed] == [sub["id"]] and "secret" not in listed[0]
        # the contract names disabled_at on every subscription, null while it is active
        assert sub["disabled_at"] is None and listed[0]["disabled_at"] is None
        gone = await client.delete(f"/v1/subscriptions/{sub['id']}", headers=us)
        assert gone.json()["disabled_at"] is not None
        await shared_pipeline(client, world)
        await asyncio.sleep(0.3)
        assert receiver.requests == []


class _Dns:
    """Answers for one made-up host name, changeable between lookups (a rebinding server)."""

    HOST = "hooks.sanad.test"

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.lookups = 0

    async def resolve(self, host: str, port: int) -> list[url_guard.IpAddress]:
        if host != self.HOST:
            return [ipaddress.ip_address(host)]
        self.lookups += 1
        return [ipaddress.ip_address(self.answer)]


async def test_a_secret_the_subscriber_gave_is_not_echoed(
    client: httpx.AsyncClient, world: World, dispatcher: WebhookDispatcher
) -> None:
    own = new_secret()
    with webhook_receiver() as receiver:
        us = await world.headers("us_mission")
        body = {"url": receiver.url, "event_types": ["record.created"], "secret": own}
        response = await client.post("/v1/subscriptions", json=body, headers=us)
    assert response.status_code == 201, response.text
    assert response.json()["secret"] is None and own not in response.text


async def test_a_delivery_connects_to_the_address_it_checked(
    client: httpx.AsyncClient,
    world: World,
    dispatcher: WebhookDispatcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The name resolves (here) only through the guard: a client that looked it up again
    itself would find nothing, as it could find another address after a rebinding."""
    dns = _Dns("127.0.0.1")
    monkeypatch.setattr(url_guard, "resolve", dns.resolve)
    with webhook_receiver() as receiver:
        port = urlsplit(receiver.url).port
        sub = await _subscribe(client, world, f"http://{dns.HOST}:{port}/hooks", ["record.created"])
        await shared_pipeline(client, world)
        request, *_ = await receiver.wait_for(1, within=5)
        assert request.headers["Host"] == f"{dns.HOST}:{port}"
        assert _verified(request, sub["secret"])["type"] == "record.created"
        assert dns.lookups >= 2  # at subscription, then at each attempt


async def test_a_host_rebound_to_a_private_address_gets_nothing(
    client: httpx.AsyncClient,
    world: World,
    dispatcher: WebhookDispatcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dns = _Dns("127.0.0.1")
    monkeypatch.setattr(url_guard, "resolve", dns.resolve)
    with webhook_receiver() as receiver:
        port = urlsplit(receiver.url).port
        sub = await _subscribe(client, world, f"http://{dns.HOST}:{port}/hooks", ["record.created"])
        dns.answer = "10.0.0.7"  # after the check at subscription
        await shared_pipeline(client, world)
        for _ in range(50):
            deliveries = await _deliveries(client, world, sub["id"])
            if deliveries and deliveries[0]["attempt_log"]:
                break
            await asyncio.sleep(0.05)
        assert receiver.requests == []
        assert deliveries[0]["attempt_log"][0]["error"].startswith("refused: ")


@pytest.mark.parametrize("sealed_in", ["key file", "PKCS#11 token"])
async def test_with_a_key_the_secret_is_sealed_at_rest_and_still_signs(
    client: httpx.AsyncClient,
    world: World,
    dispatcher: WebhookDispatcher,
    sync_session: Callable[[], Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    sealed_in: str,
) -> None:
    """A subscription made before the key keeps its plain secret (until `sanad keys seal`);
    both sign deliveries the receiver verifies with the reference library."""
    with webhook_receiver() as receiver:
        before = await _subscribe(client, world, receiver.url, ["record.created"])
        if sealed_in == "key file":
            key_file = tmp_path / "sealing.key"
            key_file.write_text(new_key())
            monkeypatch.setenv("SANAD_SEALING_KEY_FILE", str(key_file))
        else:
            seal_in_token(monkeypatch, request.getfixturevalue("token_key"))
        after = await _subscribe(client, world, receiver.url, ["record.created"])
        with sync_session() as session:
            plain = session.get(WebhookSubscription, before["id"])
            sealed = session.get(WebhookSubscription, after["id"])
            assert plain is not None and plain.secret == before["secret"]
            prefix = "aesgcm1:" if sealed_in == "key file" else "p11gcm1:"
            assert sealed is not None and sealed.secret.startswith(prefix)
            assert after["secret"] not in sealed.secret
        await shared_pipeline(client, world)
        requests = await receiver.wait_for(8, within=5)
        by_secret = {sub["secret"]: 0 for sub in (before, after)}
        for request in requests:
            for secret in by_secret:
                with contextlib.suppress(WebhookVerificationError):
                    _verified(request, secret)
                    by_secret[secret] += 1
        assert by_secret == {before["secret"]: 4, after["secret"]: 4}


async def test_only_a_client_that_may_read_the_feed_may_have_it_delivered(
    client: httpx.AsyncClient, world: World, dispatcher: WebhookDispatcher
) -> None:
    """A webhook delivers the feed: a client allowed to subscribe but not to read the feed got
    by webhook what `GET /v1/changes` refuses it."""
    us = await world.headers("us_mission")
    _, subscriber = await _new_mission_client(client, us, "subscribe only", ["subscriptions:write"])
    assert (await client.get("/v1/changes", headers=subscriber)).status_code == 403
    with webhook_receiver() as receiver:
        body = {"url": receiver.url, "event_types": ["encounter.reported"]}
        refused = await client.post("/v1/subscriptions", json=body, headers=subscriber)
    assert refused.status_code == 403, refused.text
    assert "changes:read" in refused.json()["detail"]
