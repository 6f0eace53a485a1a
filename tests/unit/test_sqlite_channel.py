"""The SQLite driver channel's group-commit writes: multi-row statements, commits on the event
loop while the write lock is free, the writer thread when it is not, atomic batches, and a WAL
that restarts under load. A scratch table stands in for the audit tables: this is the driver
mechanism, not the schema (which only migrations make)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine

from database import sqlite_channel
from database.sqlite_channel import SQLiteChannel, multi_row_inserts

_metadata = MetaData()
_NOTE = Table("note", _metadata, Column("id", Integer, primary_key=True), Column("text", String))


@given(rows=st.integers(0, 300), columns=st.integers(1, 40))
def test_multi_row_statements_carry_every_row_once_in_order(rows: int, columns: int) -> None:
    names = ", ".join(f"c{i}" for i in range(columns))
    sql = f"INSERT INTO t ({names}) VALUES ({', '.join('?' * columns)})"
    values = [tuple(range(r * columns, (r + 1) * columns)) for r in range(rows)]
    statements = list(multi_row_inserts(sql, values))
    flat = [value for _, parameters in statements for value in parameters]
    assert flat == [value for row in values for value in row]
    for statement, parameters in statements:
        assert statement.count("?") == len(parameters) <= 999
        assert statement.startswith(sql.rpartition(" VALUES ")[0])
    # powers of two: at most one statement of each size, so few distinct ones are ever cached
    sizes = [len(parameters) // columns for _, parameters in statements]
    assert len(sizes) == len(set(sizes)) or sizes.count(max(sizes, default=0)) > 1
    assert all(size & (size - 1) == 0 for size in sizes)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "channel.db"
    engine = create_engine(f"sqlite:///{path}")
    _metadata.create_all(engine)
    engine.dispose()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
    yield path


def _notes(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as connection:
        return list(connection.execute("SELECT id, text FROM note ORDER BY id"))


def _wal_bytes(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return os.path.getsize(wal) if wal.exists() else 0


def _channel(path: Path) -> SQLiteChannel:
    return SQLiteChannel(str(path), create_engine("sqlite://").dialect)


async def test_a_batch_commits_on_the_loop_when_the_lock_is_free(database: Path) -> None:
    channel = _channel(database)
    rows = [{"id": i, "text": f"n{i}"} for i in range(70)]
    await channel.insert_batches([(_NOTE, rows)])
    assert _notes(database) == [(i, f"n{i}") for i in range(70)]
    assert channel._thread_writes is None  # the writer thread was never needed
    await channel.close()


async def test_a_held_write_lock_sends_the_batch_to_the_writer_thread(database: Path) -> None:
    channel = _channel(database)
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    write = asyncio.ensure_future(channel.insert_batches([(_NOTE, [{"id": 1, "text": "a"}])]))
    ticks = 0
    while ticks < 20:  # the loop keeps running while the batch waits for the lock
        await asyncio.sleep(0.01)
        ticks += 1
    assert not write.done()
    threading.Timer(0.05, holder.commit).start()
    await asyncio.wait_for(write, 5)
    assert _notes(database) == [(1, "a")]
    assert channel._thread_writes is not None
    holder.close()
    await channel.close()


async def test_a_failing_batch_changes_nothing_and_the_next_one_lands(database: Path) -> None:
    channel = _channel(database)
    with sqlite3.connect(database) as connection:
        connection.execute(
            "CREATE TRIGGER no_x BEFORE INSERT ON note WHEN NEW.text = 'x' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    rows = [{"id": 1, "text": "a"}, {"id": 2, "text": "x"}]
    with pytest.raises(sqlite3.IntegrityError):
        await channel.insert_batches([(_NOTE, rows)])
    assert _notes(database) == []
    await channel.insert_batches([(_NOTE, [{"id": 3, "text": "b"}])])
    assert _notes(database) == [(3, "b")]
    await channel.close()


async def test_the_wal_restarts_once_it_grows_past_its_bound(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_channel, "CHECKPOINT_EVERY", 10)
    monkeypatch.setattr(sqlite_channel, "WAL_RESTART_BYTES", 64_000)
    channel = _channel(database)
    # a reader whose snapshot overlaps every write and checkpoint, as the API's readers do
    # under load: passive checkpoints then never finish, and the WAL never starts over
    reader = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    for batch in range(60):
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM note").fetchone()
        rows = [{"id": batch * 10 + i, "text": "z" * 500} for i in range(10)]
        await channel.insert_batches([(_NOTE, rows)])
        await asyncio.sleep(0.01)  # a checkpoint just scheduled starts while the reader reads
        reader.execute("COMMIT")
        if channel._checkpoint is not None:
            await asyncio.wrap_future(channel._checkpoint)
    assert _wal_bytes(database) < 300_000
    assert len(_notes(database)) == 600
    reader.close()
    await channel.close()
