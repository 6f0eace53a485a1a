"""The SQLite engine's writer lock: writes queue on the event loop in arrival order, reads never
wait for it, a commit or a rollback gives it back, and a writer waits no longer than SQLite's
own busy timeout would let it. A scratch table stands in for the schema: this is the driver
mechanism, not the schema (which only migrations make)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from database import sqlite_writer
from database.engine import make_async_engine
from database.sqlite_writer import SQLiteWriterLock


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    made = make_async_engine(f"sqlite:///{tmp_path / 'scratch.db'}")
    async with made.begin() as conn:
        await conn.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, who TEXT)"))
    yield made
    await made.dispose()


def _lock_of(engine: AsyncEngine) -> SQLiteWriterLock:
    """The lock `make_async_engine` installed."""
    return sqlite_writer.install(engine)


async def _write(engine: AsyncEngine, who: str, order: list[str]) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO note (who) VALUES (:who)"), {"who": who})
        order.append(who)


async def test_writers_queue_in_arrival_order_and_a_commit_lets_the_next_one_go(
    engine: AsyncEngine,
) -> None:
    lock = _lock_of(engine)
    order: list[str] = []
    async with engine.begin() as first:
        await first.execute(text("INSERT INTO note (who) VALUES ('first')"))
        assert lock.held
        waiting = []
        for name in ("b", "c", "d", "e", "f"):
            waiting.append(asyncio.create_task(_write(engine, name, order)))
            await asyncio.sleep(0.01)
        assert order == []  # all wait on the loop, none inside SQLite's busy handler
        order.append("first")
    await asyncio.gather(*waiting)
    assert order == ["first", "b", "c", "d", "e", "f"]
    assert not lock.held


async def test_reads_do_not_wait_and_a_rollback_gives_the_lock_back(engine: AsyncEngine) -> None:
    lock = _lock_of(engine)
    async with engine.connect() as writer:
        await writer.execute(text("INSERT INTO note (who) VALUES ('rolled back')"))
        assert lock.held
        async with engine.connect() as reader:
            count = await asyncio.wait_for(reader.scalar(text("SELECT count(*) FROM note")), 5)
        assert count == 0
        await writer.rollback()
    assert not lock.held


async def test_a_writer_gives_up_after_the_wait_as_sqlite_would(engine: AsyncEngine) -> None:
    _lock_of(engine).wait_seconds = 0.2
    async with engine.begin() as holder:
        await holder.execute(text("INSERT INTO note (who) VALUES ('holder')"))
        with pytest.raises(OperationalError, match="database is locked"):
            # without the bound it would wait on SQLite's busy timeout, 30 s
            await asyncio.wait_for(_write(engine, "late", []), 5)


async def test_the_lock_comes_back_when_the_pool_takes_a_connection_back_unfinished(
    engine: AsyncEngine,
) -> None:
    """No commit or rollback ends these transactions: an invalidated connection (after a
    driver error) and a task cancelled mid-transaction. A lock kept here would stop every
    writer of the process."""
    lock = _lock_of(engine)
    conn = await engine.connect()
    await conn.execute(text("INSERT INTO note (who) VALUES ('invalidated')"))
    await conn.invalidate()
    assert not lock.held
    await conn.close()

    async def hold() -> None:
        async with engine.begin() as holder:
            await holder.execute(text("INSERT INTO note (who) VALUES ('cancelled')"))
            await asyncio.sleep(10)

    task = asyncio.create_task(hold())
    await asyncio.sleep(0.1)
    assert lock.held
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not lock.held
    await asyncio.wait_for(_write(engine, "next", []), 5)
