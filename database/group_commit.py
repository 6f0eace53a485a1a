"""Group commit: concurrent callers each hand in an item and await the commit of their own;
items that arrive while a commit runs share the next one (one transaction: one durable commit,
one fsync on PostgreSQL and on SQLite at `synchronous=FULL`, which every Sanad connection uses).

A batch the database refuses for a value or a constraint (`refused_for_its_data`) is committed
again item by item, so that one item it cannot store fails alone instead of failing every
caller that happened to share its transaction. Each item still fails if its own commit does:
the audit stays fail-closed. A batch lost to anything else (the connection, a lock that timed
out) fails whole at once: item by item it would fail again, 512 times over. This relies on a
failed commit having written nothing (one transaction per `commit_batch`)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import asyncpg
from sqlalchemy.exc import DataError, IntegrityError

Item = TypeVar("Item")


@dataclass(slots=True)
class _Waiting(Generic[Item]):
    item: Item
    done: asyncio.Future[None]


class GroupCommitter(Generic[Item]):
    """`commit_batch` writes and commits a batch atomically, raising if it could not; the
    batch's items are then committed one by one, and each caller whose item still fails sees
    the exception of its own commit."""

    def __init__(
        self, commit_batch: Callable[[list[Item]], Awaitable[None]], max_batch: int | None = None
    ) -> None:
        self._commit_batch = commit_batch
        self._max_batch = max_batch
        self._pending: list[_Waiting[Item]] = []
        self._flushing = False
        # the running flush, held so the event loop's weak reference is not the only one
        self._flush_task: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> None:
        """Returns once `item` is committed; raises what the batch's commit raised."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._pending.append(_Waiting(item, done))
        if not self._flushing:
            self._flushing = True
            self._flush_task = loop.create_task(self._flush())
        await done

    async def _flush(self) -> None:
        try:
            while self._pending:
                size = self._max_batch or len(self._pending)
                batch = self._pending[:size]
                del self._pending[:size]
                await self._commit(batch)
        finally:
            self._flushing = False

    async def _commit(self, batch: list[_Waiting[Item]]) -> None:
        outcome = await self._attempt([waiting.item for waiting in batch])
        if outcome is None or len(batch) == 1 or not refused_for_its_data(outcome):
            for waiting in batch:
                _settle(waiting, outcome)
            return
        # One after another: on SQLite the commits queue for one write lock anyway. An item
        # whose waiter was cancelled is written too, as it would have been in the batch.
        for waiting in batch:
            _settle(waiting, await self._attempt([waiting.item]))

    async def _attempt(self, items: list[Item]) -> Exception | None:
        try:
            await self._commit_batch(items)
        except Exception as exc:
            return exc
        return None


# what the drivers and SQLAlchemy raise when a row's own values are refused
_DATA_ERRORS = (
    sqlite3.IntegrityError,
    sqlite3.DataError,
    asyncpg.exceptions.DataError,
    asyncpg.exceptions.IntegrityConstraintViolationError,
    IntegrityError,
    DataError,
)


def refused_for_its_data(exc: BaseException) -> bool:
    """Whether the database refused what was written (a value it cannot store, a constraint),
    so that another batch without the offending item may succeed."""
    return isinstance(exc, _DATA_ERRORS)


def _settle(waiting: _Waiting[Item], outcome: Exception | None) -> None:
    # a caller cancelled while waiting has nobody to tell
    if waiting.done.done():
        return
    if outcome is None:
        waiting.done.set_result(None)
    else:
        waiting.done.set_exception(outcome)
