"""Prepared statements for the hottest request paths: a SQLAlchemy Core SELECT or INSERT
compiled once per dialect and run straight on the driver, with SQLAlchemy's own type processors
on parameters and results (values read here equal those the ORM reads), and the protocol of the
driver channels that run them (`database/sqlite_channel.py`, `database/postgres_channel.py`).

Why not the async engine: on SQLite every aiosqlite call is two thread hand-offs, and with one
worker thread per pooled connection the hand-offs fight over the GIL (measured: the event loop
idle a third of the time while requests queued); on PostgreSQL the greenlet bridge and the
statement cache lookups cost more than the query."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import Insert, Select, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import _CoreSingleExecuteParams

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
        processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in selected
        ]
        # only the columns whose values need converting are visited, row by row
        self._converted_columns = [
            (index, process) for index, process in enumerate(processors) if process is not None
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
        converted_columns = self._converted_columns
        if not converted_columns:
            return [tuple(row) for row in raw]
        rows = []
        for row in raw:
            values = list(row)
            for index, process in converted_columns:
                value = values[index]
                if value is not None:
                    values[index] = process(value)
            rows.append(tuple(values))
        return rows


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


class StatementCache:
    """Each statement compiled once for the channel's dialect."""

    dialect: Dialect
    _prepared: dict[int, PreparedQuery]

    def prepare(self, statement: Select[Any]) -> PreparedQuery:
        # statements are module-level constants: their identity is a stable cache key
        key = id(statement)
        query = self._prepared.get(key)
        if query is None:
            query = self._prepared[key] = PreparedQuery(statement, self.dialect)
        return query
