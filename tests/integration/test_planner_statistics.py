"""After a bulk write PostgreSQL's planner must know the new rows at once: an import analyses
the record tables, and a reconciliation run its links' table, when it wrote many rows next to
what they held, and leaves it to autovacuum otherwise. SQLite keeps no statistics, so there is
nothing to check there."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import text

from database.statistics import ANALYSE_FROM
from tests.conftest import World
from tests.integration.test_reconciliations import _linked_run


@contextmanager
def _autovacuum_off(sync_engine, table: str) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Only the service may analyse `table` while the test runs."""
    if sync_engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    with sync_engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
    try:
        yield
    finally:
        with sync_engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {table} RESET (autovacuum_enabled)"))


def _believed_and_actual(sync_engine, table: str = "record") -> tuple[float, int]:  # type: ignore[no-untyped-def]
    with sync_engine.connect() as conn:
        believed = conn.scalar(
            text("SELECT reltuples FROM pg_class WHERE relname = :table"), {"table": table}
        )
        actual = conn.scalar(text(f"SELECT count(*) FROM {table}"))
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
    with _autovacuum_off(sync_engine, "record"):
        with sync_engine.begin() as conn:
            conn.execute(text("ANALYZE record"))
        _, held = _believed_and_actual(sync_engine)
        await _import(client, world, math.ceil(ANALYSE_FROM * held) + 50)
        believed, held = _believed_and_actual(sync_engine)
        assert believed == held  # a small table is analysed whole: the estimate is exact

        await _import(client, world, 1)
        assert _believed_and_actual(sync_engine) == (believed, held + 1)


async def test_a_reconciliation_run_refreshes_the_statistics_of_its_links(
    client: httpx.AsyncClient, world: World, sync_engine
) -> None:  # type: ignore[no-untyped-def]
    with _autovacuum_off(sync_engine, "reconciliation_link"):
        with sync_engine.begin() as conn:
            # as in a new database: the planner has never counted the table
            conn.execute(
                text("UPDATE pg_class SET reltuples = -1 WHERE relname = 'reconciliation_link'")
            )
        await _linked_run(client, world)
        believed, held = _believed_and_actual(sync_engine, "reconciliation_link")
        assert held > 0 and believed == held
