"""Group-committed results of delivery attempts: concurrent attempts finishing together share
one transaction, so a busy subscriber costs one commit per batch, not per webhook."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from changes import webhook_repository as repository
from schemas.changes import WebhookAttempt


@dataclass(slots=True)
class _Result:
    delivery_id: str
    values: dict[str, object]
    attempt: WebhookAttempt
    done: asyncio.Future[None]


class AttemptResults:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._pending: list[_Result] = []
        self._flushing = False

    async def record(
        self, delivery_id: str, values: dict[str, object], attempt: WebhookAttempt
    ) -> None:
        """Returns once the result is committed (raises if the commit failed)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(_Result(delivery_id, values, attempt, done))
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())
        await done

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    async with self._sessions() as session:
                        await repository.finish_attempts(
                            session, [(r.delivery_id, r.values, r.attempt) for r in batch]
                        )
                        await session.commit()
                except Exception as exc:
                    for result in batch:
                        result.done.set_exception(exc)
                    continue
                for result in batch:
                    result.done.set_result(None)
        finally:
            self._flushing = False
