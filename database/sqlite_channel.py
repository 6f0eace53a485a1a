"""The SQLite driver channel: checkpoint reads on the event loop's own read-only connection, and
the audit's group commits written on the event loop whenever SQLite's write lock is free, each
made durable by a COMMIT on a commit thread before any of its callers returns.

Why on the loop: a group commit of a few audit rows in WAL mode with `synchronous=NORMAL` is
about a hundred microseconds of SQLite's C code. Handed to a writer thread (sessions 2-4), every
statement of it gave up the GIL and then waited up to the loop's switch interval to get it back,
so each commit took milliseconds while the loop sat idle with every connection waiting on it
(measured: the loop busy 0.71 of a core; on the loop: 0.87, and 0.27 → 0.33 of the bare
endpoint). The loop's write connection never waits for the lock: when another writer holds it
(the transparency sequencer, an import), the batch goes to the writer thread, which waits.

The loop's connection never checkpoints the WAL (a checkpoint syncs the database file); the
writer thread does, every `CHECKPOINT_EVERY` loop commits, and restarts the WAL once it is
larger than `WAL_RESTART_BYTES`: with readers and writers always at work, passive checkpoints
alone never let the WAL restart, and under load it grew by ~100 MB every five seconds, slowing
every read.

Durable before data leaves: every writing connection runs `synchronous=FULL`, as the engine's
do (`database.engine._tune_sqlite`), so a COMMIT returns only once the WAL is fsynced. With
NORMAL a commit survived a crash of the process but not of the machine: a response could leave
and a power loss then roll its audit entry back. An fsync takes 0.3-2.4 ms here (NORMAL's
commit ~20-40 µs), and a COMMIT on the loop would leave the loop idle for every one. So the loop
runs BEGIN and the inserts (the statements whose GIL hand-offs made a thread slow) and hands
only the COMMIT to the commit thread: one hand-off per group commit, the fsync without the GIL,
and the loop serving requests as the next batch gathers. Measured against committing on the
loop and against whole batches on the writer thread: docs/performance.md, item 9. The commit
thread is not the writer thread, which may wait up to 30 s for the write lock, or run a
TRUNCATE checkpoint that waits for the writer: the loop's own transaction, whose COMMIT would
be queued behind that checkpoint."""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.engine import Dialect

from database.prepared import PreparedQuery, StatementCache

CHECKPOINT_EVERY = 100
WAL_RESTART_BYTES = 16_000_000
# SQLite's historic limit on parameters per statement (newer builds allow far more)
_MAX_PARAMETERS = 999

Batches = Sequence[tuple[Table, Sequence[Mapping[str, Any]]]]


class _WriteLockHeldError(Exception):
    """Another connection holds SQLite's write lock."""


def _open(path: str, *, writes: bool, waits: bool = True) -> sqlite3.Connection:
    connection = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, cached_statements=64
    )
    if not writes:
        connection.execute("PRAGMA query_only=1")
        # a writer mid-checkpoint may hold the WAL index briefly; never block the loop longer
        connection.execute("PRAGMA busy_timeout=200")
        return connection
    # as database.engine tunes every SQLite connection; FULL: a commit is fsynced before it
    # returns, so an audit entry committed here survives a power loss, not only a crash
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA foreign_keys=ON")
    if waits:
        connection.execute("PRAGMA busy_timeout=30000")
    else:  # the event loop's: it neither waits for the lock nor checkpoints
        connection.execute("PRAGMA busy_timeout=0")
        connection.execute("PRAGMA wal_autocheckpoint=0")
    return connection


def multi_row_inserts(sql: str, rows: Sequence[Sequence[Any]]) -> Iterator[tuple[str, list[Any]]]:
    """`INSERT … VALUES (?, …)` for many rows as a few `VALUES (…), (…), …` statements, in
    chunks of powers of two (few distinct statements, each parsed once and cached). Each
    statement is one step of SQLite's C code; `executemany` steps once per row."""
    head, separator, row = sql.rpartition(" VALUES ")
    largest = max(1, _MAX_PARAMETERS // max(1, row.count("?")))
    start = 0
    size = 1 << (largest.bit_length() - 1)
    while start < len(rows):
        while size > len(rows) - start:
            size >>= 1
        chunk = rows[start : start + size]
        start += size
        yield _values_sql(head + separator, row, size), [value for one in chunk for value in one]


@functools.lru_cache(maxsize=128)
def _values_sql(head: str, row: str, size: int) -> str:
    return head + ", ".join([row] * size)


def _commit(connection: sqlite3.Connection) -> None:
    try:
        connection.execute("COMMIT")
    except BaseException:
        _roll_back(connection)
        raise


def _roll_back(connection: sqlite3.Connection) -> None:
    # a COMMIT refused by a deferred constraint leaves the transaction open; one that failed on
    # I/O may already have rolled it back, and ROLLBACK would then raise over the real error
    if connection.in_transaction:
        connection.execute("ROLLBACK")


class SQLiteChannel(StatementCache):
    def __init__(self, path: str, dialect: Dialect) -> None:
        self.dialect = dialect
        self._prepared = {}
        self._path = path
        self._reads = _open(path, writes=False)
        self._loop_writes: sqlite3.Connection | None = None  # opened on first use
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._thread_writes: sqlite3.Connection | None = None
        self._inserts: dict[tuple[str, tuple[str, ...]], PreparedQuery] = {}
        self._loop_commits = 0
        self._checkpoint: Future[None] | None = None
        self._syncer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-commit")
        # the loop connection's COMMIT in flight: until it ends, the connection is the thread's
        self._loop_commit: asyncio.Future[None] | None = None

    async def fetch(self, query: PreparedQuery, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        return query.rows(self._reads.execute(query.sql, query.parameters(values)).fetchall())

    async def insert_batches(self, batches: Batches) -> None:
        """One transaction, returning once it is durable: written on the loop and committed on
        the commit thread when the write lock is free, else wholly on the writer thread."""
        if self._loop_writes is None:
            self._loop_writes = _open(self._path, writes=True, waits=False)
        connection = self._loop_writes
        loop = asyncio.get_running_loop()
        # Callers come one at a time (the group committer awaits each commit); only one whose
        # wait was cancelled leaves a COMMIT running, which must end before the next BEGIN.
        if self._loop_commit is not None and not self._loop_commit.done():
            await asyncio.wait({self._loop_commit})
        try:
            self._write(connection, batches, commit=False)
        except _WriteLockHeldError:
            await loop.run_in_executor(self._thread, self._write_on_thread, batches)
            return
        self._loop_commit = loop.run_in_executor(self._syncer, _commit, connection)
        # shielded: a cancelled caller must not stop the COMMIT and leave the transaction open
        await asyncio.shield(self._loop_commit)
        self._loop_commits += 1
        if self._loop_commits % CHECKPOINT_EVERY == 0 and (
            self._checkpoint is None or self._checkpoint.done()
        ):
            self._checkpoint = self._thread.submit(self._wal_checkpoint)

    def _thread_connection(self) -> sqlite3.Connection:
        if self._thread_writes is None:
            self._thread_writes = _open(self._path, writes=True)
        return self._thread_writes

    def _write_on_thread(self, batches: Batches) -> None:
        self._write(self._thread_connection(), batches)

    def _wal_checkpoint(self) -> None:
        try:
            large = os.path.getsize(self._path + "-wal") > WAL_RESTART_BYTES
        except OSError:
            large = False
        mode = "TRUNCATE" if large else "PASSIVE"
        self._thread_connection().execute(f"PRAGMA wal_checkpoint({mode})")

    def _write(self, connection: sqlite3.Connection, batches: Batches, commit: bool = True) -> None:
        """BEGIN IMMEDIATE and the batch's inserts, and the COMMIT unless `commit` is False (the
        caller then commits with `_commit`); rolled back if any of it fails."""
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            # the primary code: SQLITE_BUSY_RECOVERY and the like are extended busy codes
            if exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise _WriteLockHeldError from exc
            raise
        try:
            for table, rows in batches:
                if rows:
                    query = self._insert_query(table, tuple(rows[0]))
                    # SQLite's paramstyle is qmark: parameters come as tuples
                    values = cast("list[tuple[Any, ...]]", list(map(query.parameters, rows)))
                    for statement, parameters in multi_row_inserts(query.sql, values):
                        connection.execute(statement, parameters)
            if commit:
                connection.execute("COMMIT")
        except BaseException:
            _roll_back(connection)
            raise

    def _insert_query(self, table: Table, keys: tuple[str, ...]) -> PreparedQuery:
        query = self._inserts.get((table.name, keys))
        if query is None:
            values = {key: bindparam(key, type_=table.c[key].type) for key in keys}
            query = PreparedQuery(insert(table).values(values), self.dialect)
            self._inserts[(table.name, keys)] = query
        return query

    async def close(self) -> None:
        self._reads.close()
        if self._loop_commit is not None and not self._loop_commit.done():
            await asyncio.wait({self._loop_commit})
        self._syncer.shutdown()
        if self._loop_writes is not None:
            self._loop_writes.close()
        connection = self._thread_writes
        if connection is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, connection.close)
        self._thread.shutdown()
