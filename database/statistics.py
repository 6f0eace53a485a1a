"""PostgreSQL's planner statistics after a bulk write. A bulk import or a reconciliation run
can multiply what a table holds; until the statistics know it (autovacuum analyses up to a
minute later, after its naptime), the planner plans on the old figures. After 20,000 records
went into an empty list, a checkpoint's letter lookup read every record of the list (19 ms
instead of 0.3 ms) and the webhook bench's 50 detention reports/s kept PostgreSQL's core busy
(session 18). So the writer analyses the tables itself, after its commit, when it wrote many
rows next to what the planner believes they hold. SQLite keeps no statistics unless asked and
plans on its indexes."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

log = structlog.get_logger(__name__)

ANALYSE_FROM = 0.1  # share of the rows the planner believes a table holds, as autovacuum's


async def refresh_statistics(session: AsyncSession, tables: Sequence[str], rows: int) -> bool:
    """ANALYZE `tables` (PostgreSQL) when `rows` written is large next to what the planner
    believes the first of them holds, in a transaction of its own. Returns whether it did."""
    conn = await session.connection()
    if conn.dialect.name != "postgresql":
        return False
    believed = await session.scalar(
        text("SELECT reltuples FROM pg_class WHERE oid = CAST(:name AS regclass)"),
        {"name": tables[0]},
    )
    if believed is not None and believed >= 0 and rows < ANALYSE_FROM * believed:
        return False
    await session.execute(text(f"ANALYZE {', '.join(tables)}"))
    await session.commit()
    return True


async def refresh_statistics_after_commit(
    session: AsyncSession, tables: Sequence[str], rows: int, **ids: str
) -> None:
    """As `refresh_statistics`, for a writer whose work is committed: a failure (say, a role
    that does not own the tables) is logged with `ids`, not raised, or a client would retry
    work that is done."""
    try:
        await refresh_statistics(session, tables, rows)
    except SQLAlchemyError as exc:
        await session.rollback()
        log.warning(
            "statistics_not_refreshed", tables=list(tables), error=type(exc).__name__, **ids
        )
