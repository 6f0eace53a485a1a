"""Fail-closed, group-committed audit writes: each request awaits the commit of its own event,
and events of concurrent requests share one transaction (one fsync) to keep throughput."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from audit.context import AuditContext, disclosure_rows, event_row
from schemas.audit import AuditDisclosure, AuditEvent

log = structlog.get_logger(__name__)


class AuditWriteError(Exception):
    """The audit entry is not committed: the response must not carry data."""


@dataclass(slots=True)
class _Pending:
    event: dict[str, object]
    disclosures: list[dict[str, object]]
    done: asyncio.Future[None]


async def insert_audit_rows(
    conn: AsyncConnection,
    events: list[dict[str, object]],
    disclosures: list[dict[str, object]],
) -> None:
    await conn.execute(insert(AuditEvent.__table__), events)  # type: ignore[attr-defined]
    if disclosures:
        await conn.execute(insert(AuditDisclosure.__table__), disclosures)  # type: ignore[attr-defined]


class AuditWriter:
    def __init__(self, engine: AsyncEngine, max_batch: int = 512) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._pending: list[_Pending] = []
        self._flushing = False

    async def write(self, ctx: AuditContext, status: int) -> None:
        """Returns once the event is committed; raises `AuditWriteError` otherwise."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(event_row(ctx, status), disclosure_rows(ctx, status), done))
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())
        await done

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._commit(batch)
        finally:
            self._flushing = False

    async def _commit(self, batch: list[_Pending]) -> None:
        try:
            async with self._engine.begin() as conn:
                await insert_audit_rows(
                    conn,
                    [p.event for p in batch],
                    [row for p in batch for row in p.disclosures],
                )
        except Exception as exc:
            log.error("audit_write_failed", batch=len(batch), error=type(exc).__name__)
            for p in batch:
                if not p.done.done():
                    p.done.set_exception(AuditWriteError(str(type(exc).__name__)))
            return
        for p in batch:
            if not p.done.done():
                p.done.set_result(None)


async def commit_with_audit(session: AsyncSession, ctx: AuditContext, status: int) -> None:
    """Commit a change together with its audit event: both land, or neither does."""
    conn = await session.connection()
    await insert_audit_rows(conn, [event_row(ctx, status)], disclosure_rows(ctx, status))
    await session.commit()
    ctx.written_with_status = status
