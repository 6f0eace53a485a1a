"""Group commit: concurrent callers each hand in an item and await the commit of their own;
items that arrive while a commit runs share the next one (one transaction, one fsync)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")


@dataclass(slots=True)
class _Waiting(Generic[Item]):
    item: Item
    done: asyncio.Future[None]


class GroupCommitter(Generic[Item]):
    """`commit_batch` writes and commits a batch, raising if it could not; every caller whose
    item was in that batch then sees the same exception."""

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
        try:
            await self._commit_batch([waiting.item for waiting in batch])
        except Exception as exc:
            outcome: BaseException | None = exc
        else:
            outcome = None
        for waiting in batch:
            # a caller cancelled while waiting has nobody to tell
            if waiting.done.done():
                continue
            if outcome is None:
                waiting.done.set_result(None)
            else:
                waiting.done.set_exception(outcome)
