"""INSERT … ON CONFLICT DO NOTHING on either database, for a row two requests at once may both
add (an acknowledgement, a cosignature): the key keeps the first, and the other learns it was
too late. Not a savepoint: under pysqlite a SAVEPOINT that opens the transaction commits it at
its RELEASE, before the audit rows that must commit with it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_unless_present(
    session: AsyncSession, table: Table, row: Mapping[str, Any]
) -> bool:
    """Insert `row` unless a row with the same key is there (or being committed by another
    transaction, which this one waits for); True if it was inserted."""
    conn = await session.connection()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .values(**row)
        .on_conflict_do_nothing()
        # the row it returns says whether it inserted: the rowcount of a single-row insert
        # is -1 under psycopg
        .returning(*table.primary_key.columns)
    )
    return (await session.execute(statement)).first() is not None
