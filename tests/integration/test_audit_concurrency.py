"""8 clients in parallel send 2,000 requests through HTTP while two sequencers (as two API
workers would) race for the lock: every request's audit event exists exactly once, is in the
tree, and leaf indexes run 0..n-1 without a gap or a repeat."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
from sqlalchemy import text

from config.settings import Settings
from tests.conftest import World
from transparency.runtime import LogPolicy, TransparencyLog

CLIENTS = 8
REQUESTS = 2000


async def _client_run(
    client: httpx.AsyncClient, headers: dict[str, str], worker: int
) -> list[tuple[str, int]]:
    """One client's share of the load: reads, a proof endpoint, refusals (401, 404)."""
    sent = []
    for n in range(REQUESTS // CLIENTS):
        request_id = f"conc-{worker}-{n}-{uuid.uuid4().hex[:12]}"
        kind = n % 4
        if kind == 0:
            response = await client.get(
                "/v1/lists", headers={**headers, "X-Request-Id": request_id}
            )
        elif kind == 1:
            response = await client.get(
                "/v1/audit/checkpoints/latest", headers={**headers, "X-Request-Id": request_id}
            )
        elif kind == 2:
            response = await client.get("/v1/lists", headers={"X-Request-Id": request_id})
        else:
            response = await client.get(
                f"/v1/lists/{uuid.uuid4()}", headers={**headers, "X-Request-Id": request_id}
            )
        sent.append((request_id, response.status_code))
    return sent


async def test_every_request_is_logged_once_with_contiguous_leaf_indexes(
    client: httpx.AsyncClient, world: World, settings: Settings, sync_engine
) -> None:  # type: ignore[no-untyped-def]
    second_worker = TransparencyLog(settings.database_url, LogPolicy.from_settings(settings))
    await second_worker.start()
    kinds = ["us_mission", "unhcr", "gop", "oversight"]
    headers = [
        await world.headers(kinds[i % 4], purpose=None, scopes=["lists:read", "audit:read"])
        if kinds[i % 4] != "oversight"
        else await world.headers("oversight", purpose=None, scopes=["audit:read"])
        for i in range(CLIENTS)
    ]
    started = time.perf_counter()
    try:
        results = await asyncio.gather(
            *(_client_run(client, headers[i], i) for i in range(CLIENTS))
        )
        sent = [item for result in results for item in result]
        assert len(sent) == REQUESTS
        assert {status for _, status in sent} <= {200, 401, 403, 404}
        deadline = time.monotonic() + 10
        while True:
            with sync_engine.connect() as conn:
                queued = conn.execute(text("SELECT count(*) FROM tlog_pending")).scalar_one()
            if queued == 0:
                break
            assert time.monotonic() < deadline, f"{queued} events still unsequenced"
            await asyncio.sleep(0.1)
    finally:
        await second_worker.stop()
    elapsed = time.perf_counter() - started

    with sync_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT e.request_id, e.status, l.leaf_index FROM audit_event e "
                "LEFT JOIN tlog_leaf l ON l.event_id = e.id WHERE e.request_id LIKE 'conc-%'"
            )
        ).all()
        count, low, high = conn.execute(
            text("SELECT count(*), min(leaf_index), max(leaf_index) FROM tlog_leaf")
        ).one()
        latest = conn.execute(text("SELECT max(size) FROM tlog_checkpoint")).scalar_one()
    by_request: dict[str, list[tuple[int, int | None]]] = {}
    for request_id, status, leaf_index in rows:
        by_request.setdefault(request_id, []).append((status, leaf_index))
    for request_id, status in sent:
        assert [s for s, _ in by_request.get(request_id, [])] == [status], request_id
        assert by_request[request_id][0][1] is not None, f"{request_id} is not in the tree"
    leaf_indexes = [leaf for entries in by_request.values() for _, leaf in entries]
    assert len(set(leaf_indexes)) == REQUESTS
    assert (low, high) == (0, count - 1), "leaf indexes have a gap or a repeat"
    assert latest == count
    print(f"\n{REQUESTS} requests by {CLIENTS} clients in {elapsed:.1f} s, all logged")
