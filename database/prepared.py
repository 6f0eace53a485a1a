"""Prepared statements for the hottest request paths: a SQLAlchemy Core SELECT compiled once per
dialect and run straight on the driver, with SQLAlchemy's own type processors on parameters and
results (values read here equal those the ORM reads); on PostgreSQL also the audit writer's
group-committed inserts.

Why not the async engine: on SQLite every aiosqlite call is two thread hand-offs, and with one
worker thread per pooled connection the hand-offs fight over the GIL (measured: the event loop
idle a third of the time while requests queued); on PostgreSQL the greenlet bridge and the
statement cache lookups cost more than the query. A checkpoint read by index takes tens of
microseconds, so on SQLite it runs on the event loop's own read-only connection; on PostgreSQL
it runs on a pool of asyncpg connections with server-side prepared statements."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import asyncpg
from sqlalchemy import Insert, Select, Table, bindparam, func, insert, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.engine.interfaces import _CoreSingleExecuteParams
from sqlalchemy.ext.asyncio import AsyncEngine

from database.connection_stack import ConnectionStack

Processor = Callable[[Any], Any] | None


class PreparedQuery:
    """One SELECT or INSERT, compiled for one dialect, with its parameter and column
    converters."""

    def __init__(self, statement: Select[Any] | Insert, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self._order: Sequence[str] | None = compiled.positiontup if compiled.positional else None
        self._bind: dict[str, Processor] = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for bind, name in compiled.bind_names.items()
        }
        # literals of the statement (a list kind, the LIMIT) travel as parameters too
        self._fixed = {
            name: bind.effective_value
            for bind, name in compiled.bind_names.items()
            if not bind.required
        }
        selected = statement.selected_columns if isinstance(statement, Select) else ()
        self._columns: list[Processor] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in selected
        ]

    def parameters(self, values: Mapping[str, Any]) -> _CoreSingleExecuteParams | tuple[Any, ...]:
        fixed = self._fixed
        converted = {}
        for name, process in self._bind.items():
            value = values[name] if name in values else fixed[name]
            converted[name] = process(value) if process else value
        if self._order is None:
            return converted
        return tuple(map(converted.__getitem__, self._order))

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        columns = self._columns
        return [
            tuple(
                process(value) if process and value is not None else value
                for process, value in zip(columns, row, strict=True)
            )
            for row in raw
        ]


class DriverChannel(Protocol):
    """Runs prepared reads; one per process, opened in the app's lifespan."""

    def prepare(self, statement: Select[Any]) -> PreparedQuery: ...

    async def fetch(
        self, query: PreparedQuery, values: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]: ...

    async def insert_batches(
        self, batches: Sequence[tuple[Table, Sequence[Mapping[str, Any]]]]
    ) -> None: ...

    async def close(self) -> None: ...


class _Prepares:
    dialect: Dialect
    _prepared: dict[int, PreparedQuery]

    def prepare(self, statement: Select[Any]) -> PreparedQuery:
        # statements are module-level constants: their identity is a stable cache key
        key = id(statement)
        query = self._prepared.get(key)
        if query is None:
            query = self._prepared[key] = PreparedQuery(statement, self.dialect)
        return query


def _open_sqlite(path: str, *, writer: bool) -> sqlite3.Connection:
    connection = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, cached_statements=64
    )
    if writer:  # as database.engine tunes every SQLite connection
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA busy_timeout=30000")
        connection.execute("PRAGMA foreign_keys=ON")
    else:
        connection.execute("PRAGMA query_only=1")
        # a writer mid-checkpoint may hold the WAL index briefly; never block the loop longer
        connection.execute("PRAGMA busy_timeout=200")
    return connection


class SQLiteChannel(_Prepares):
    """A read-only connection used only from the event loop: a read by index blocks it for less
    time than handing the query to a thread would. WAL lets it read while the writer commits."""

    def __init__(self, path: str, dialect: Dialect) -> None:
        self.dialect = dialect
        self._prepared = {}
        self._path = path
        self._connection = _open_sqlite(path, writer=False)
        # group commits of the audit: one thread, its own connection, opened on first use
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._write_connection: sqlite3.Connection | None = None
        self._inserts: dict[tuple[str, tuple[str, ...]], PreparedQuery] = {}

    async def fetch(self, query: PreparedQuery, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        return query.rows(self._connection.execute(query.sql, query.parameters(values)).fetchall())

    async def insert_batches(
        self, batches: Sequence[tuple[Table, Sequence[Mapping[str, Any]]]]
    ) -> None:
        """One transaction on the writer thread's own connection: one hand-off there and back
        per group commit. Through aiosqlite each statement, BEGIN and COMMIT was a hand-off, and
        each hand-off waited for the busy event loop to release the GIL (20 ms a commit)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer, self._write, batches)

    def _write(self, batches: Sequence[tuple[Table, Sequence[Mapping[str, Any]]]]) -> None:
        if self._write_connection is None:
            self._write_connection = _open_sqlite(self._path, writer=True)
        connection = self._write_connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            for table, rows in batches:
                if rows:
                    query = self._insert_query(table, tuple(rows[0]))
                    connection.executemany(query.sql, [query.parameters(row) for row in rows])
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def _insert_query(self, table: Table, keys: tuple[str, ...]) -> PreparedQuery:
        query = self._inserts.get((table.name, keys))
        if query is None:
            values = {key: bindparam(key, type_=table.c[key].type) for key in keys}
            query = PreparedQuery(insert(table).values(values), self.dialect)
            self._inserts[(table.name, keys)] = query
        return query

    async def close(self) -> None:
        self._connection.close()
        connection = self._write_connection
        if connection is not None:
            await asyncio.get_running_loop().run_in_executor(self._writer, connection.close)
        self._writer.shutdown()


class PostgresChannel(_Prepares):
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


def open_driver_channel(engine: AsyncEngine, pool_size: int) -> DriverChannel:
    """The channel for the engine's database; SQLite compiles with the engine's own dialect,
    PostgreSQL with SQLAlchemy's asyncpg dialect, and connects on the first read."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return SQLiteChannel(url.database or ":memory:", engine.dialect)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresChannel(dsn, pool_size)
