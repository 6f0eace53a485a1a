"""Fail-closed, group-committed audit writes: each request awaits the commit of its own event,
and events of concurrent requests share one transaction, made durable by one fsync before any
of them returns (PostgreSQL: `synchronous_commit` on; SQLite: `synchronous=FULL` on every writing
connection, `database/engine.py`, `database/sqlite_channel.py`), to keep throughput. Writes
commit their own event with the change (`commit_with_audit`), after the bulk-read review."""

from __future__ import annotations

import structlog
from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from audit.bulk_reads import REQUEST_DETECTOR, alert_rows, session_seeder
from audit.context import AuditContext, disclosure_rows, event_row
from database.group_commit import GroupCommitter
from database.last_writes import run_last_writes
from database.prepared import DriverChannel
from problems import ProblemError
from schemas.audit import AuditDisclosure, AuditEvent

log = structlog.get_logger(__name__)


class AuditWriteError(Exception):
    """The audit entry is not committed: the response must not carry data."""


_EVENT_TABLE: Table = AuditEvent.__table__  # type: ignore[attr-defined]
_DISCLOSURE_TABLE: Table = AuditDisclosure.__table__  # type: ignore[attr-defined]
# one request's audit rows: its event and the disclosures it made
_AuditRows = tuple[dict[str, object], list[dict[str, object]]]


async def insert_audit_rows(
    conn: AsyncConnection,
    events: list[dict[str, object]],
    disclosures: list[dict[str, object]],
) -> None:
    await conn.execute(insert(AuditEvent.__table__), events)  # type: ignore[attr-defined]
    if disclosures:
        await conn.execute(insert(AuditDisclosure.__table__), disclosures)  # type: ignore[attr-defined]


class AuditWriter:
    """Batches go through the driver channel (`database/sqlite_channel.py`,
    `database/postgres_channel.py`), not the async engine: there each group commit took
    20-30 ms under load (a thread hand-off or a round trip per statement, each waiting on the
    busy event loop), which capped the checkpoint path. On SQLite the inserts run on the event
    loop and only the COMMIT (the fsync) on the channel's commit thread."""

    def __init__(self, driver: DriverChannel, max_batch: int = 512) -> None:
        self._driver = driver
        self._committer = GroupCommitter(self._commit, max_batch)

    async def write(self, ctx: AuditContext, status: int) -> None:
        """Returns once the event is committed; raises `AuditWriteError` otherwise."""
        try:
            await self._committer.submit((event_row(ctx, status), disclosure_rows(ctx, status)))
        except Exception as exc:
            raise AuditWriteError(type(exc).__name__) from exc

    async def _commit(self, batch: list[_AuditRows]) -> None:
        events = [event for event, _ in batch]
        disclosures = [row for _, rows in batch for row in rows]
        try:
            await self._driver.insert_batches(
                [(_EVENT_TABLE, events), (_DISCLOSURE_TABLE, disclosures)]
            )
        except Exception as exc:
            log.error("audit_write_failed", batch=len(batch), error=type(exc).__name__)
            raise


async def commit_with_audit(session: AsyncSession, ctx: AuditContext, status: int) -> None:
    """Commit a change together with its audit event: both land, or neither does. The
    transaction's last writes (the change feed's events) go after the audit rows. The records
    the change discloses (an encounter report, a status claim, a correction) count towards the
    bulk-read limits as a read's do; an alert it raises is committed with it."""
    alerts = await _review_bulk_reads(session, ctx, status)
    conn = await session.connection()
    await insert_audit_rows(conn, [event_row(ctx, status), *alerts], disclosure_rows(ctx, status))
    await run_last_writes(session)
    await session.commit()
    ctx.written_with_status = status


async def _review_bulk_reads(
    session: AsyncSession, ctx: AuditContext, status: int
) -> list[dict[str, object]]:
    """The alert events to commit with the change. Reviewed here rather than by the middleware
    after the response, as a read is: by then the change is committed and cannot be refused.
    A change a limit refuses (blocking on) is rolled back, its alert committed alone, and the
    request answered with the 429 problem a read gets; the middleware then audits the refusal."""
    detector = REQUEST_DETECTOR.get()
    if detector is None:  # not within a request the audit middleware handles
        return []
    verdict = await detector.review(ctx, status, seeder=session_seeder(session))
    alerts = alert_rows(ctx, verdict, status)
    if not verdict.blocked:
        return alerts
    await session.rollback()  # nothing of the change is written
    if alerts:
        await insert_audit_rows(await session.connection(), alerts, [])
        await session.commit()
    ctx.reason = "bulk-read-limit"
    raise ProblemError("bulk-read-limit", "the change was not made")
