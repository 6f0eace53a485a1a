"""After a bulk import PostgreSQL's planner must know the new rows at once: the import analyses
the record tables when it wrote many rows next to what they held, and leaves it to autovacuum
otherwise. SQLite keeps no statistics, so there is nothing to check there."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import text

from exchange.repository import ANALYSE_FROM
from tests.conftest import World


@contextmanager
def _autovacuum_off(sync_engine) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Only the import may analyse `record` while the test runs."""
    with sync_engine.begin() as conn:
        conn.execute(text("ALTER TABLE record SET (autovacuum_enabled = false)"))
    try:
        yield
    finally:
        with sync_engine.begin() as conn:
            conn.execute(text("ALTER TABLE record RESET (autovacuum_enabled)"))


def _believed_and_actual(sync_engine) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    with sync_engine.connect() as conn:
        believed = conn.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'record'"))
        actual = conn.scalar(text("SELECT count(*) FROM record"))
    return float(believed), int(actual)


async def _import(client: httpx.AsyncClient, world: World, rows: int) -> None:
    us = await world.headers("us_mission")
    made = await client.post("/v1/lists", json={"name": "p", "kind": "pipeline"}, headers=us)
    lines = ["record_id,given_name,father_name,dob"]
    lines += [f"S{i},Given{i},Father{i},1980" for i in range(rows)]
    response = await client.post(
        f"/v1/lists/{made.json()['id']}/imports",
        content=("\n".join(lines) + "\n").encode(),
        headers={**us, "Content-Type": "text/csv", "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.text


async def test_a_large_import_refreshes_the_planner_statistics_and_a_small_one_does_not(
    client: httpx.AsyncClient, world: World, sync_engine
) -> None:  # type: ignore[no-untyped-def]
    if sync_engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    with _autovacuum_off(sync_engine):
        with sync_engine.begin() as conn:
            conn.execute(text("ANALYZE record"))
        _, held = _believed_and_actual(sync_engine)
        await _import(client, world, math.ceil(ANALYSE_FROM * held) + 50)
        believed, held = _believed_and_actual(sync_engine)
        assert believed == held  # a small table is analysed whole: the estimate is exact

        await _import(client, world, 1)
        assert _believed_and_actual(sync_engine) == (believed, held + 1)
