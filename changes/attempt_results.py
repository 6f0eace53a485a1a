"""Group-committed results of delivery attempts: concurrent attempts finishing together share
one transaction, so a busy subscriber costs one commit per batch, not per webhook."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from changes import webhook_repository as repository
from database.group_commit import GroupCommitter
from schemas.changes import WebhookAttempt


@dataclass(frozen=True, slots=True)
class _Result:
    delivery_id: str
    values: dict[str, object]
    attempt: WebhookAttempt


class AttemptResults:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._committer = GroupCommitter(self._commit)

    async def record(
        self, delivery_id: str, values: dict[str, object], attempt: WebhookAttempt
    ) -> None:
        """Returns once the result is committed (raises if the commit failed)."""
        await self._committer.submit(_Result(delivery_id, values, attempt))

    async def _commit(self, batch: list[_Result]) -> None:
        async with self._sessions() as session:
            await repository.finish_attempts(
                session, [(r.delivery_id, r.values, r.attempt) for r in batch]
            )
            await session.commit()
