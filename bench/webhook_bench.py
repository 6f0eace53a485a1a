"""Webhook latency and feed throughput against a real server (uvicorn, one worker), on SQLite
and PostgreSQL: Pakistan's officials report detentions of pipeline members at 50 reports/s
(`SANAD_BENCH_RATE`) by letter id; the mission's subscriber (a local HTTP receiver on
127.0.0.1) gets each one signed.
Prints the report-to-delivery latency (p50, p99, max) and how fast the mission reads the change
feed (events/s); the last line sums up.

    python -m bench.webhook_bench [sqlite] [postgresql]"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
import uuid
from typing import Any

import httpx
from sqlmodel import Session

from auth.clients import create_agency, register_client
from auth.keys import ensure_signing_key
from bench.servers import fresh_database, uvicorn_server
from database.engine import make_sync_engine
from database.migrations import upgrade_to_head
from schemas.identity import ClientCreate
from schemas.vocabulary import AgencyKind
from tests.webhook_receiver import webhook_receiver

RATE = int(os.environ.get("SANAD_BENCH_RATE", "50"))  # reports per second
SECONDS = 20
MEMBERS = int(
    os.environ.get("SANAD_BENCH_MEMBERS", "20000")
)  # pipeline records; their creation fills the feed
FEED_PAGE = 1000
_AGENCIES = {"us-mission": AgencyKind.US_MISSION, "gop": AgencyKind.GOP}
_SCOPES = {
    "us-mission": ["lists:write", "records:write", "agreements:write", "changes:read",
                   "subscriptions:write"],
    "gop": ["encounters:write"],
}  # fmt: skip


def _clients(url: str) -> dict[str, tuple[str, str]]:
    engine = make_sync_engine(url)
    made: dict[str, tuple[str, str]] = {}
    with Session(engine) as session:
        ensure_signing_key(session)
        for agency_id, kind in _AGENCIES.items():
            create_agency(session, agency_id, agency_id, kind)
        session.flush()
        for agency_id, scopes in _SCOPES.items():
            client, secret = register_client(
                session, agency_id, ClientCreate(name="bench", scopes=scopes)
            )
            assert secret is not None
            made[agency_id] = (client.id, secret)
        session.commit()
    engine.dispose()
    return made


async def _token(http: httpx.AsyncClient, client: tuple[str, str]) -> str:
    response = await http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=client
    )
    token: str = response.json()["access_token"]
    return token


def _members_csv() -> bytes:
    rows = ["record_id,given_name,father_name,dob,group_id,relationship,letter_id"]
    rows += [f"M{i},Member{i},Father{i},1980,CASE-{i},PA,LTR-B-{i}" for i in range(MEMBERS)]
    return ("\n".join(rows) + "\n").encode()


async def _pipeline(http: httpx.AsyncClient, mission: dict[str, str]) -> None:
    made = await http.post("/v1/lists", json={"name": "bench", "kind": "pipeline"}, headers=mission)
    list_id = made.json()["id"]
    imported = await http.post(
        f"/v1/lists/{list_id}/imports",
        content=_members_csv(),
        headers={**mission, "Content-Type": "text/csv", "Idempotency-Key": "bench"},
    )
    assert imported.status_code == 201, imported.text
    now = dt.datetime.now(dt.UTC)
    agreement = {
        "list_id": list_id, "recipient_agency_id": "gop", "fields": ["given_name", "letter_id"],
        "purposes": ["protection-verification"], "valid_from": now.isoformat(),
        "valid_until": (now + dt.timedelta(days=1)).isoformat(),
    }  # fmt: skip
    assert (await http.post("/v1/agreements", json=agreement, headers=mission)).status_code == 201


async def _report_load(
    http: httpx.AsyncClient, gop: dict[str, str]
) -> tuple[dict[str, float], list[float]]:
    """Reports at a steady RATE: encounter id -> time sent, and each request's response time."""
    sent: dict[str, float] = {}
    answered: list[float] = []
    start = time.monotonic()

    async def one(index: int) -> None:
        await asyncio.sleep(max(0.0, start + index / RATE - time.monotonic()))
        body = {
            "subject": {"letter_id": f"LTR-B-{random.randrange(MEMBERS)}"},
            "event": "detained",
            "place": {"province": "Sindh", "district": "Karachi", "facility": "PS 4"},
            "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
        }
        at = time.time()
        response = await http.post("/v1/encounters", json=body, headers=gop)
        assert response.status_code == 201, response.text
        sent[response.json()["encounter_id"]] = at
        answered.append((time.time() - at) * 1000)

    await asyncio.gather(*(one(i) for i in range(RATE * SECONDS)))
    return sent, sorted(answered)


async def _feed_rate(http: httpx.AsyncClient, mission: dict[str, str]) -> tuple[int, float]:
    since, count, started = "0", 0, time.perf_counter()
    while True:
        page = (
            await http.get(
                "/v1/changes", params={"since": since, "limit": FEED_PAGE}, headers=mission
            )
        ).json()
        count += len(page["items"])
        if not page["items"]:
            return count, count / (time.perf_counter() - started)
        since = page["next_cursor"]


async def _run(base: str, clients: dict[str, tuple[str, str]], receiver: Any) -> dict[str, float]:
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        mission = {"Authorization": f"Bearer {await _token(http, clients['us-mission'])}",
                   "Purpose-Of-Use": "resettlement-processing"}  # fmt: skip
        gop = {"Authorization": f"Bearer {await _token(http, clients['gop'])}",
               "Purpose-Of-Use": "protection-verification"}  # fmt: skip
        await _pipeline(http, mission)
        subscription = {"url": receiver.url, "event_types": ["encounter.reported"]}
        made = await http.post("/v1/subscriptions", json=subscription, headers=mission)
        assert made.status_code == 201, made.text
        sent, answered = await _report_load(http, gop)
        await receiver.wait_for(len(sent), within=60)
        arrived = {json.loads(r.body)["data"]["encounter_id"]: r.at for r in receiver.requests}
        latencies = sorted((arrived[e] - sent[e]) * 1000 for e in sent if e in arrived)
        events, rate = await _feed_rate(http, mission)
    return {
        "reports": len(sent),
        "delivered": len(latencies),
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
        "max_ms": latencies[-1],
        "api_p50_ms": statistics.median(answered),
        "api_p99_ms": answered[int(len(answered) * 0.99) - 1],
        "feed_events": events,
        "feed_events_per_s": rate,
    }


def run(backend: str) -> dict[str, float]:
    with fresh_database(backend) as url:
        upgrade_to_head(url)
        clients = _clients(url)
        env = {
            "DATABASE_URL": url,
            "SANAD_LOG_LEVEL": "WARNING",
            "SANAD_WEBHOOK_ALLOWED_NETWORKS": '["127.0.0.1/32"]',
            "SANAD_BENCH_RUN": uuid.uuid4().hex,
        }
        with (
            webhook_receiver() as receiver,
            uvicorn_server("api.main:app", env, "/healthz") as base,
        ):
            return asyncio.run(_run(base, clients, receiver))


def main() -> int:
    summary = []
    for backend in sys.argv[1:] or ("sqlite", "postgresql"):
        r = run(backend)
        print(
            f"{backend}: {r['delivered']:.0f}/{r['reports']:.0f} detention reports delivered at "
            f"{RATE}/s; report->delivery p50 {r['p50_ms']:.1f} ms p99 {r['p99_ms']:.1f} ms "
            f"max {r['max_ms']:.1f} ms (report request itself: p50 {r['api_p50_ms']:.1f} ms "
            f"p99 {r['api_p99_ms']:.1f} ms) | feed read {r['feed_events']:.0f} events at "
            f"{r['feed_events_per_s']:.0f} events/s"
        )
        summary.append(
            f"{backend} p50 {r['p50_ms']:.0f} ms p99 {r['p99_ms']:.0f} ms, "
            f"feed {r['feed_events_per_s']:.0f} ev/s"
        )
    print(f"webhook bench ({RATE} reports/s): " + "; ".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
