"""Open the driver channel for the app's database (`database/prepared.py` says why one exists)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from database.postgres_channel import PostgresChannel
from database.prepared import DriverChannel
from database.sqlite_channel import SQLiteChannel


def open_driver_channel(engine: AsyncEngine, pool_size: int) -> DriverChannel:
    """The channel for the engine's database; SQLite compiles with the engine's own dialect,
    PostgreSQL with SQLAlchemy's asyncpg dialect, and connects on the first read."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return SQLiteChannel(url.database or ":memory:", engine.dialect)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresChannel(dsn, pool_size)
