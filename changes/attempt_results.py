"""Group-committed results of delivery attempts: concurrent attempts finishing together share
one transaction, so a busy subscriber costs one commit per batch, not per webhook. A batch the
database refuses is written again one result at a time, so that one result it cannot take
(a delivery claimed twice after its lease ran out mid-attempt) does not lose the others."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from changes import webhook_repository as repository
from database.group_commit import GroupCommitter
from schemas.changes import WebhookAttempt

log = structlog.get_logger("sanad.webhooks")


@dataclass(frozen=True, slots=True)
class _Result:
    delivery_id: str
    leased_base: int  # the delivery's retry_base when its attempt was leased
    values: dict[str, object]
    attempt: WebhookAttempt


class AttemptResults:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._committer = GroupCommitter(self._commit)

    async def record(
        self,
        delivery_id: str,
        leased_base: int,
        values: dict[str, object],
        attempt: WebhookAttempt,
    ) -> None:
        """Returns once the result is committed (raises if the commit failed)."""
        await self._committer.submit(_Result(delivery_id, leased_base, values, attempt))

    async def _commit(self, batch: list[_Result]) -> None:
        try:
            await self._write(batch)
        except Exception:
            if len(batch) == 1:
                raise
            await self._write_each(batch)

    async def _write_each(self, batch: list[_Result]) -> None:
        """A refused result is logged, not raised: its delivery stays leased, and is attempted
        again once the lease runs out."""
        for result in batch:
            try:
                await self._write([result])
            except Exception as exc:
                log.error(
                    "webhook_attempt_unrecorded",
                    delivery_id=result.delivery_id,
                    attempt=result.attempt.attempt,
                    error=type(exc).__name__,
                )

    async def _write(self, batch: list[_Result]) -> None:
        async with self._sessions() as session:
            await repository.finish_attempts(
                session, [(r.delivery_id, r.leased_base, r.values, r.attempt) for r in batch]
            )
            await session.commit()
