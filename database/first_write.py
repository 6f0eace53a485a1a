"""Writes two requests at once may both make, of which the first must win and the other learn
it was too late: a row both add (an acknowledgement, a cosignature), inserted unless present
(INSERT … ON CONFLICT DO NOTHING on either database), and a column both set once (an end, a
revocation, a disabling), updated unless set. Never read-check-write, and not a savepoint:
under pysqlite a SAVEPOINT that opens the transaction commits it at its RELEASE, before the
audit rows that must commit with it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Column, Result, Table, Update, update
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


def update_unless_set(
    key: Column[Any], value: object, unset: Column[Any], **values: object
) -> Update:
    """`UPDATE … SET values WHERE key = value AND unset IS NULL`, for `changed` to judge: of two
    requests at once, the first sets `unset` and the other changes no row."""
    return update(unset.table).where(key == value, unset.is_(None)).values(**values)


def changed(result: Result[Any]) -> bool:
    """Whether `update_unless_set` changed the row (updates report their row count on both
    drivers; a single-row insert's is -1 under psycopg, hence `insert_unless_present`)."""
    # an update's result is a CursorResult, which Result's type does not say
    return bool(result.rowcount)  # type: ignore[attr-defined]
