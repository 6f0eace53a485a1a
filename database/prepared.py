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
from typing import Any, Protocol

import asyncpg
from sqlalchemy import Insert, Select, Table, insert
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.engine.interfaces import _CoreSingleExecuteParams
from sqlalchemy.ext.asyncio import AsyncEngine

Processor = Callable[[Any], Any] | None


class PreparedQuery:
    """One SELECT (or INSERT of the given columns), compiled for one dialect, with its
    parameter and column converters."""

    def __init__(
        self,
        statement: Select[Any] | Insert,
        dialect: Dialect,
        column_keys: Sequence[str] | None = None,
    ) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
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
        given = {**self._fixed, **values}
        converted = {
            name: (process(given[name]) if process else given[name])
            for name, process in self._bind.items()
        }
        if self._order is None:
            return converted
        return tuple(converted[name] for name in self._order)

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

    dialect_name: str

    def prepare(self, statement: Select[Any]) -> PreparedQuery: ...

    async def fetch(
        self, query: PreparedQuery, values: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]: ...

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


class SQLiteChannel(_Prepares):
    """A read-only connection used only from the event loop: a read by index blocks it for less
    time than handing the query to a thread would. WAL lets it read while the writer commits."""

    dialect_name = "sqlite"

    def __init__(self, path: str, dialect: Dialect) -> None:
        self.dialect = dialect
        self._prepared = {}
        self._connection = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, cached_statements=64
        )
        self._connection.execute("PRAGMA query_only=1")
        # a writer mid-checkpoint may hold the WAL index briefly; never wait on the loop longer
        self._connection.execute("PRAGMA busy_timeout=200")

    async def fetch(self, query: PreparedQuery, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        return query.rows(self._connection.execute(query.sql, query.parameters(values)).fetchall())

    async def close(self) -> None:
        self._connection.close()


class PostgresChannel(_Prepares):
    """A pool of asyncpg connections: its protocol is compiled, and it prepares and caches each
    statement on the server (psycopg's pure-Python async wait loop cost more than the query)."""

    dialect_name = "postgresql"

    def __init__(self, dsn: str, size: int) -> None:
        self.dialect = make_url("postgresql+asyncpg://").get_dialect()()
        self._prepared = {}
        self._dsn = dsn
        self._size = size
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._inserts: dict[tuple[str, tuple[str, ...]], PreparedQuery] = {}

    async def _open(self) -> asyncpg.Pool:
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=1,
                    max_size=self._size,
                    init=_json_codecs,
                    reset=_keep_session,
                )
        return self._pool

    async def fetch(self, query: PreparedQuery, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        pool = self._pool or await self._open()
        async with pool.acquire() as connection:
            return query.rows(await connection.fetch(query.sql, *query.parameters(values)))

    async def insert_batches(
        self, batches: Sequence[tuple[Table, Sequence[Mapping[str, Any]]]]
    ) -> None:
        """Insert each batch of rows into its table, all in one transaction (one commit).
        Rows of one table share their keys."""
        pool = self._pool or await self._open()
        async with pool.acquire() as connection, connection.transaction():
            for table, rows in batches:
                if not rows:
                    continue
                keys = tuple(rows[0])
                query = self._inserts.get((table.name, keys))
                if query is None:
                    query = PreparedQuery(insert(table), self.dialect, keys)
                    self._inserts[(table.name, keys)] = query
                await connection.executemany(query.sql, [query.parameters(row) for row in rows])

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """These connections run reads in autocommit and inserts in transactions that always end,
    and never change session state, so the pool's default reset (one more round trip per use:
    RESET ALL, UNLISTEN, ...) is skipped."""


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
