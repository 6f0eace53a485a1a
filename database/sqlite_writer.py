"""One writing transaction at a time among an async SQLite engine's connections, in arrival
order. SQLite lets one connection write at once anyway; without this, the others find the
database locked and retry on SQLite's busy handler, which sleeps 1, 2, 5, 10 … up to 100 ms
between tries. Under a steady load of writes (the webhook bench's 50 detention reports/s) the
waiters overslept the lock's release, the lock sat idle while work queued, and some runs fell
behind for good (p99 2-8 s in 2 of 8 runs; with this lock p99 140 ms-1.85 s, mostly
under 320 ms, in 10 of 10 runs, session 18).

A connection takes the lock at its transaction's first statement that is not a SELECT or
PRAGMA, and gives it back when the transaction commits or rolls back, or when the pool takes
its driver connection back or invalidates it without either. Writers outside the
engine (the driver channel's audit commits, the transparency sequencer's process, the other
processes of `sanad serve --workers N`) still meet SQLite's own lock."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

# as PRAGMA busy_timeout: past this a writer gives up as SQLite would, rather than wait forever
WAIT_SECONDS = 30.0
_READS = ("SELECT", "PRAGMA")


class SQLiteWriterLock:
    """Installed on one engine (`install`); its lock belongs to the event loop the engine is
    used on. Being a mutex, it tracks its one holder: the connection, and the driver connection
    under it, for when the pool takes that back without a commit or a rollback (invalidated
    after an error, or returned by a cancelled task)."""

    def __init__(self, sync_engine: Engine) -> None:
        self._lock = asyncio.Lock()
        self.wait_seconds = WAIT_SECONDS
        self._holder: Connection | None = None
        self._holder_driver: object = None
        event.listen(sync_engine, "before_cursor_execute", self._before_statement)
        event.listen(sync_engine, "commit", self._transaction_ended)
        event.listen(sync_engine, "rollback", self._transaction_ended)
        event.listen(sync_engine, "checkin", self._driver_returned)
        event.listen(sync_engine, "invalidate", self._driver_returned)

    @property
    def held(self) -> bool:
        return self._lock.locked()

    def _before_statement(self, conn: Connection, *args: Any) -> None:
        statement: str = args[1]
        if conn is self._holder or statement.lstrip()[:6].upper() in _READS:
            return
        try:
            # inside SQLAlchemy's greenlet: the task waits on the loop, the thread does not
            await_only(asyncio.wait_for(self._lock.acquire(), self.wait_seconds))
        except TimeoutError:
            locked = sqlite3.OperationalError("database is locked")
            raise exc.OperationalError(statement, None, locked) from None
        self._holder, self._holder_driver = conn, conn.connection.dbapi_connection

    def _transaction_ended(self, conn: Connection) -> None:
        if conn is self._holder:
            self._release()

    def _driver_returned(self, driver_connection: object, *_: Any) -> None:
        if driver_connection is not None and driver_connection is self._holder_driver:
            self._release()

    def _release(self) -> None:
        self._holder = self._holder_driver = None
        self._lock.release()


_INSTALLED: WeakKeyDictionary[Engine, SQLiteWriterLock] = WeakKeyDictionary()


def install(engine: AsyncEngine) -> SQLiteWriterLock:
    """The engine's writer lock, installed on first call."""
    lock = _INSTALLED.get(engine.sync_engine)
    if lock is None:
        lock = _INSTALLED[engine.sync_engine] = SQLiteWriterLock(engine.sync_engine)
    return lock
