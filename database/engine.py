"""Build sync and async SQLAlchemy engines from one `DATABASE_URL`, with per-dialect tuning."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from database import sqlite_writer


def sync_url(database_url: str) -> URL:
    """The URL for synchronous use (Alembic, CLI, the OAuth endpoints)."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite")
    return url


def async_url(database_url: str) -> URL:
    """The URL for the async request path."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    return url


def is_sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed while the audit writer commits; busy_timeout turns
    # writer contention into waiting instead of "database is locked" errors.
    # synchronous=FULL: a commit returns only once the WAL is fsynced. A change commits its
    # audit event in its own transaction (`commit_with_audit`), and the sequencer's checkpoints
    # go to witnesses; with NORMAL either could leave the process and then be rolled back by a
    # power loss or an OS crash (docs/performance.md, item 9).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _logging(echo: bool) -> dict[str, Any]:
    """Bound values are personal data (names, dates of birth): neither the statement log that
    `echo` (`SANAD_SQL_ECHO`) turns on nor an error's message may show them."""
    return {"echo": echo, "hide_parameters": True}


def make_sync_engine(database_url: str, echo: bool = False) -> Engine:
    url = sync_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, **_logging(echo), connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(url, **_logging(echo), pool_size=5, max_overflow=5, pool_pre_ping=True)


def make_async_engine(database_url: str, echo: bool = False, pool_size: int = 20) -> AsyncEngine:
    # No overflow: a connection opened beyond the pool is closed after one use, and opening one
    # (a thread for aiosqlite, a TCP handshake and backend for PostgreSQL) costs more than
    # waiting a moment for a pooled one.
    url = async_url(database_url)
    engine = create_async_engine(url, **_logging(echo), pool_size=pool_size, max_overflow=0)
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        sqlite_writer.install(engine)
    return engine
