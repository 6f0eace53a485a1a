"""The PostgreSQL driver channel: checkpoint reads and the audit's group-committed inserts on
asyncpg connections with server-side prepared statements."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy import Insert, Select, Table, bindparam, func, insert, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url

from database.connection_stack import ConnectionStack
from database.prepared import PreparedQuery, StatementCache


class PostgresChannel(StatementCache):
    """asyncpg connections (its protocol is compiled, and it prepares and caches each statement
    on the server; psycopg's pure-Python async wait loop cost more than the query), kept in a
    `ConnectionStack` rather than asyncpg's heavier pool."""

    def __init__(self, dsn: str, size: int) -> None:
        self.dialect = make_url("postgresql+asyncpg://").get_dialect()()
        self._prepared = {}
        self._dsn = dsn
        self._connections = ConnectionStack(self._connect, size)
        self._inserts: dict[tuple[tuple[str, tuple[str, ...]], ...], PreparedQuery] = {}

    async def _connect(self) -> asyncpg.Connection:
        connection = await asyncpg.connect(self._dsn)
        await _json_codecs(connection)
        return connection

    async def fetch(self, query: PreparedQuery, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        async with self._connections.connection() as connection:
            return query.rows(await connection.fetch(query.sql, *query.parameters(values)))

    async def insert_batches(
        self, batches: Sequence[tuple[Table, Sequence[Mapping[str, Any]]]]
    ) -> None:
        """Insert each batch of rows into its table in ONE statement (data-modifying CTEs over
        `unnest` of one array per column): one round trip, atomic without a transaction block.
        Under load every round trip waits a full event-loop turn; BEGIN, two inserts and COMMIT
        made each group commit take 20-30 ms. Rows of one table share their keys."""
        filled = [(table, rows) for table, rows in batches if rows]
        if not filled:
            return
        tables = [(table, tuple(rows[0])) for table, rows in filled]
        shape = tuple((table.name, keys) for table, keys in tables)
        query = self._inserts.get(shape)
        if query is None:
            query = self._inserts[shape] = PreparedQuery(_unnest_insert(tables), self.dialect)
        values = _array_values(tables, [rows for _, rows in filled])
        async with self._connections.connection() as connection:
            await connection.execute(query.sql, *query.parameters(values))

    async def close(self) -> None:
        await self._connections.close()


def _unnest_insert(tables: Sequence[tuple[Table, tuple[str, ...]]]) -> Insert:
    """`WITH t1 AS (INSERT … SELECT * FROM unnest(:t0_a, …)) INSERT INTO t2 … unnest(…)`, one
    array parameter per column named `t{table}_{column}`, typed so that SQLAlchemy converts
    every element as it would a single value."""
    statements = []
    for index, (table, keys) in enumerate(tables):
        arrays = [bindparam(f"t{index}_{key}", type_=ARRAY(table.c[key].type)) for key in keys]
        unnested: Select[Any] = select(literal_column("*")).select_from(func.unnest(*arrays))
        # every value comes with the rows: no column defaults added to the SELECT
        statements.append(insert(table).from_select(list(keys), unnested, include_defaults=False))
    *first, last = statements
    for index, statement in enumerate(first):
        last = last.add_cte(statement.cte(f"inserted_{index}"))
    return last


def _array_values(
    tables: Sequence[tuple[Table, tuple[str, ...]]], row_sets: Sequence[Sequence[Mapping[str, Any]]]
) -> dict[str, list[Any]]:
    return {
        f"t{index}_{key}": [row[key] for row in rows]
        for index, ((_, keys), rows) in enumerate(zip(tables, row_sets, strict=True))
        for key in keys
    }


async def _json_codecs(connection: asyncpg.Connection) -> None:
    # as SQLAlchemy's asyncpg dialect does on connect: its JSON bind processor already made the
    # JSON text, and JSON columns arrive as Python values
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, schema="pg_catalog", encoder=_as_is, decoder=json.loads, format="text"
        )


def _as_is(text: str) -> str:
    return text
