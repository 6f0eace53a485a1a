"""Alembic environment: the only way Sanad's schema is made, for the service and for tests."""

from __future__ import annotations

from sqlmodel import SQLModel

import schemas.tables  # noqa: F401  (registers every table on the metadata)
from alembic import context
from config.settings import Settings
from database.engine import make_sync_engine

target_metadata = SQLModel.metadata


def _database_url() -> str:
    url = context.config.attributes.get("database_url")
    return str(url) if url else Settings().database_url


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_sync_engine(_database_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
