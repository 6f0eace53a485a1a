"""The driver channel's connection stack: never more than its size open, connections reused
after statements the server refused, replaced after anything else, no lost wake-ups."""

from __future__ import annotations

import asyncio
import itertools

import asyncpg
import pytest

from database.connection_stack import ConnectionStack


class FakeConnection:
    ids = itertools.count()

    def __init__(self) -> None:
        self.id = next(self.ids)
        self.terminated = False
        self.closed = False

    def is_closed(self) -> bool:
        return self.terminated or self.closed

    def terminate(self) -> None:
        self.terminated = True

    async def close(self) -> None:
        self.closed = True


class Opener:
    def __init__(self, fail_first: int = 0) -> None:
        self.opened: list[FakeConnection] = []
        self.fail_first = fail_first

    async def __call__(self) -> FakeConnection:
        await asyncio.sleep(0)
        if self.fail_first:
            self.fail_first -= 1
            raise OSError("connection refused")
        connection = FakeConnection()
        self.opened.append(connection)
        return connection


async def test_never_more_than_size_in_use_and_every_task_served() -> None:
    opener = Opener()
    stack = ConnectionStack(opener, 3)  # type: ignore[arg-type]
    in_use = peak = 0

    async def use(n: int) -> int:
        nonlocal in_use, peak
        async with stack.connection():
            in_use += 1
            peak = max(peak, in_use)
            await asyncio.sleep(0.001 * (n % 3))
            in_use -= 1
        return n

    done = await asyncio.gather(*(use(n) for n in range(60)))
    assert done == list(range(60))
    assert peak == 3 and len(opener.opened) == 3 and stack.open_count == 3
    await stack.close()
    assert all(connection.closed for connection in opener.opened)


async def test_a_refused_statement_keeps_the_connection_anything_else_replaces_it() -> None:
    opener = Opener()
    stack = ConnectionStack(opener, 1)  # type: ignore[arg-type]
    with pytest.raises(asyncpg.exceptions.UniqueViolationError):
        async with stack.connection():
            raise asyncpg.exceptions.UniqueViolationError("duplicate key")
    async with stack.connection() as connection:
        assert connection is opener.opened[0]
    with pytest.raises(ConnectionResetError):
        async with stack.connection():
            raise ConnectionResetError
    assert opener.opened[0].terminated and stack.open_count == 0
    async with stack.connection() as connection:
        assert connection is opener.opened[1]


async def test_a_cancelled_statement_discards_its_connection_and_wakes_a_waiter() -> None:
    opener = Opener()
    stack = ConnectionStack(opener, 1)  # type: ignore[arg-type]
    started = asyncio.Event()

    async def hang() -> None:
        async with stack.connection():
            started.set()
            await asyncio.sleep(60)

    hanging = asyncio.create_task(hang())
    await started.wait()
    waiter = asyncio.create_task(_take_and_return(stack))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    hanging.cancel()
    assert await asyncio.wait_for(waiter, 1) is opener.opened[1]
    assert opener.opened[0].terminated


async def test_a_cancelled_waiter_passes_its_wake_up_on() -> None:
    stack = ConnectionStack(Opener(), 1)  # type: ignore[arg-type]
    holder_may_leave = asyncio.Event()

    async def hold() -> None:
        async with stack.connection():
            await holder_may_leave.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0.01)
    first = asyncio.create_task(_take_and_return(stack))
    second = asyncio.create_task(_take_and_return(stack))
    await asyncio.sleep(0.01)
    holder_may_leave.set()
    await holder
    first.cancel()  # woken, but cancelled before it ran
    assert await asyncio.wait_for(second, 1) is not None


async def test_a_failed_connect_frees_its_slot() -> None:
    opener = Opener(fail_first=1)
    stack = ConnectionStack(opener, 1)  # type: ignore[arg-type]
    with pytest.raises(OSError, match="refused"):
        async with stack.connection():
            pass
    assert stack.open_count == 0
    assert await _take_and_return(stack) is opener.opened[0]


async def _take_and_return(stack: ConnectionStack) -> object:
    async with stack.connection() as connection:
        return connection
