"""Every connection Sanad writes SQLite through commits durably: `PRAGMA synchronous` is FULL
(2), so a COMMIT returns only once the WAL is fsynced. The audit is fail-closed: no data leaves
before its audit entry is committed; with NORMAL (1) SQLite's own documentation says the last
commits may roll back after a power loss or an OS crash, so a response could leave and its
audit entry vanish. The driver channel's loop writes a group commit and hands only its COMMIT
(the fsync) to the commit thread; these tests hold that COMMIT back to show the caller waits
for it while the loop does not. A scratch table stands in for the audit tables: this is the
driver mechanism, not the schema (which only migrations make)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
)

from api.app_factory import build_services
from api.services import Services
from config.settings import Settings
from database import sqlite_channel
from database.engine import make_async_engine, make_sync_engine
from database.sqlite_channel import SQLiteChannel
from transparency.sequencer import make_sequencer_engine

FULL = 2

_metadata = MetaData()
_NOTE = Table("note", _metadata, Column("id", Integer, primary_key=True), Column("text", String))
_PARENT = Table("parent", _metadata, Column("id", Integer, primary_key=True))
# checked at COMMIT, not at the insert: the COMMIT itself is refused
_CHILD = Table(
    "child",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("parent_id", Integer, ForeignKey("parent.id", deferrable=True, initially="DEFERRED")),
)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "durable.db"
    engine = create_engine(f"sqlite:///{path}")
    _metadata.create_all(engine)
    engine.dispose()
    yield path


@pytest.fixture
async def services(database: Path) -> AsyncIterator[Services]:
    """The objects the app's lifespan builds, over the scratch database (nothing is started)."""
    built = build_services(Settings(database_url=f"sqlite:///{database}", log_level="WARNING"))
    yield built
    await built.driver.close()
    await built.async_engine.dispose()
    built.sync_engine.dispose()


def _synchronous(connection: sqlite3.Connection) -> int:
    value: int = connection.execute("PRAGMA synchronous").fetchone()[0]
    return value


def _notes(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as connection:
        return list(connection.execute("SELECT id, text FROM note ORDER BY id"))


def _channel(path: Path) -> SQLiteChannel:
    return SQLiteChannel(str(path), create_engine("sqlite://").dialect)


async def test_the_apps_engines_commit_durably(services: Services) -> None:
    async with services.async_engine.connect() as conn:
        assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar_one() == FULL
    with services.sync_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == FULL


@pytest.mark.parametrize(
    "make", [make_sync_engine, make_sequencer_engine], ids=["sync", "sequencer"]
)
def test_every_sync_engine_commits_durably(make: Callable[[str], Engine], database: Path) -> None:
    # the CLI, Alembic, the OAuth endpoints and the transparency sequencer (whose checkpoints
    # witnesses cosign) all write through these
    engine = make(f"sqlite:///{database}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == FULL
    engine.dispose()


async def test_the_async_engine_of_imports_commits_durably(database: Path) -> None:
    engine = make_async_engine(f"sqlite:///{database}", pool_size=2)  # as `sanad import`
    async with engine.connect() as conn:
        assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar_one() == FULL
    await engine.dispose()


async def test_the_channels_loop_and_writer_connections_commit_durably(
    services: Services, database: Path
) -> None:
    channel = services.driver
    assert isinstance(channel, SQLiteChannel)
    await channel.insert_batches([(_NOTE, [{"id": 1, "text": "on the loop"}])])
    # another writer holds the lock: the batch goes to the writer thread's connection
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    write = asyncio.ensure_future(channel.insert_batches([(_NOTE, [{"id": 2, "text": "thread"}])]))
    await asyncio.sleep(0.05)
    holder.execute("COMMIT")
    await asyncio.wait_for(write, 5)
    holder.close()
    assert _notes(database) == [(1, "on the loop"), (2, "thread")]
    assert channel._loop_writes is not None and channel._thread_writes is not None
    assert _synchronous(channel._loop_writes) == FULL
    thread_writes = channel._thread_writes
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(channel._thread, _synchronous, thread_writes) == FULL


class _HeldCommits:
    """Stands in for `sqlite_channel._commit`: holds each COMMIT until released, as a slow fsync
    would, and notes the thread it ran on."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.threads: list[str] = []
        self._commit = sqlite_channel._commit

    def __call__(self, connection: sqlite3.Connection) -> None:
        self.threads.append(threading.current_thread().name)
        self.started.set()
        assert self.release.wait(5)
        self._commit(connection)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> _HeldCommits:
    commits = _HeldCommits()
    monkeypatch.setattr(sqlite_channel, "_commit", commits)
    return commits


async def _ticks_until(event: threading.Event) -> int:
    ticks = 0
    while not event.is_set():
        await asyncio.sleep(0.001)
        ticks += 1
    return ticks


async def test_a_caller_returns_once_its_commit_is_synced_while_the_loop_runs_on(
    database: Path, held: _HeldCommits
) -> None:
    channel = _channel(database)
    write = asyncio.ensure_future(channel.insert_batches([(_NOTE, [{"id": 1, "text": "a"}])]))
    await asyncio.wait_for(_ticks_until(held.started), 5)
    ticks = 0
    while ticks < 20:  # the loop keeps serving while the COMMIT syncs
        await asyncio.sleep(0.005)
        ticks += 1
    assert not write.done()
    assert _notes(database) == []  # nothing is committed yet: no response may leave
    held.release.set()
    await asyncio.wait_for(write, 5)
    assert _notes(database) == [(1, "a")]
    assert len(held.threads) == 1 and held.threads[0].startswith("sqlite-commit")
    await channel.close()


async def test_a_cancelled_caller_neither_stops_its_commit_nor_overlaps_the_next(
    database: Path, held: _HeldCommits
) -> None:
    channel = _channel(database)
    first = asyncio.ensure_future(channel.insert_batches([(_NOTE, [{"id": 1, "text": "a"}])]))
    await asyncio.wait_for(_ticks_until(held.started), 5)
    first.cancel()
    # the next batch must not begin on the connection while the first one's COMMIT runs
    second = asyncio.ensure_future(channel.insert_batches([(_NOTE, [{"id": 2, "text": "b"}])]))
    await asyncio.sleep(0.05)
    assert not second.done()
    held.release.set()
    await asyncio.wait_for(second, 5)
    assert first.cancelled()
    assert _notes(database) == [(1, "a"), (2, "b")]
    await channel.close()


async def test_a_refused_commit_rolls_the_batch_back_and_the_next_one_lands(
    database: Path,
) -> None:
    channel = _channel(database)
    with pytest.raises(sqlite3.IntegrityError):  # the deferred foreign key fails the COMMIT
        await channel.insert_batches([(_CHILD, [{"id": 1, "parent_id": 7}])])
    assert channel._loop_writes is not None and not channel._loop_writes.in_transaction
    await channel.insert_batches([(_PARENT, [{"id": 7}]), (_CHILD, [{"id": 2, "parent_id": 7}])])
    with sqlite3.connect(database) as connection:
        assert list(connection.execute("SELECT id, parent_id FROM child")) == [(2, 7)]
    await channel.close()
