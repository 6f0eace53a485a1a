"""The driver channel's PostgreSQL connections: a stack of idle asyncpg connections, at most
`size` open. asyncpg's own pool spends about 5 % of a checkpoint request's interpreter time on
acquire and release (shielded tasks, timeouts, holders: docs/performance.md); these connections
only ever run one autocommit statement at a time, so taking one and putting it back is a list
operation.

A connection is put back only after its statement ended normally or with an error the server
reported (the session is still sound); after any other failure or a cancellation mid-statement
its protocol state is unknown, so it is closed and the slot opens a new one when needed."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg

Connect = Callable[[], Awaitable[asyncpg.Connection]]


class ConnectionStack:
    def __init__(self, connect: Connect, size: int) -> None:
        self._connect = connect
        self._size = size
        self._idle: list[asyncpg.Connection] = []
        self._open = 0  # connections open or being opened
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._closed = False

    @property
    def open_count(self) -> int:
        return self._open

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        connection = await self._take()
        try:
            yield connection
        except asyncpg.PostgresError:
            self._give(connection)  # the server refused the statement; the session is sound
            raise
        except BaseException:
            self._discard(connection)
            raise
        self._give(connection)

    async def _take(self) -> asyncpg.Connection:
        while True:
            if self._closed:
                raise asyncpg.InterfaceError("the connection stack is closed")
            if self._idle:
                return self._idle.pop()
            if self._open < self._size:
                self._open += 1
                try:
                    return await self._connect()
                except BaseException:
                    self._open -= 1
                    self._wake_one()
                    raise
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                # a wake-up meant for this waiter must not be lost
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()
                raise

    def _wake_one(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _give(self, connection: asyncpg.Connection) -> None:
        if self._closed or connection.is_closed():
            self._discard(connection)
            return
        self._idle.append(connection)
        self._wake_one()

    def _discard(self, connection: asyncpg.Connection) -> None:
        self._open -= 1
        connection.terminate()
        self._wake_one()  # a waiter may open a new connection in the freed slot

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            self._open -= 1
            await connection.close()
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
