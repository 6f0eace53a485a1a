"""Steps of the data-migration tests: a database migrated up to a revision, holding the
agencies that rows written before the migration need. Rows are written by name (tables as of
that revision), since later models may no longer describe them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from sqlalchemy.engine import Engine

from alembic import command
from database.engine import make_sync_engine
from database.migrations import alembic_config
from schemas.types import UtcDateTime

AGENCY = sa.table(
    "agency",
    sa.column("id", sa.String()),
    sa.column("name", sa.String()),
    sa.column("kind", sa.Enum("US_MISSION", "UNHCR", "GOP", "OVERSIGHT", name="agencykind")),
    sa.column("created_at", UtcDateTime()),
)
T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


@contextmanager
def database_at(
    url: str, revision: str, agencies: tuple[str, ...] = ("unhcr", "gop")
) -> Iterator[tuple[Config, Engine]]:
    """The empty database at `url` migrated to `revision`, with `agencies` (each of the kind of
    its name), and its Alembic config to migrate further."""
    config = alembic_config(url)
    command.upgrade(config, revision)
    engine = make_sync_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(AGENCY),
                [{"id": a, "name": a, "kind": a.upper(), "created_at": T0} for a in agencies],
            )
        yield config, engine
    finally:
        engine.dispose()


def record_table(*columns: sa.ColumnClause[Any]) -> sa.TableClause:
    """`record` as a migration test writes it, by name: the columns every row needs, and
    `columns` besides (the tables of a past revision, which later models may not describe)."""
    return sa.table(
        "record",
        sa.column("id", sa.String()),
        sa.column("list_id", sa.String()),
        sa.column("record_key", sa.String()),
        sa.column("version", sa.Integer()),
        sa.column("documents", sa.JSON()),
        sa.column("attributes", sa.JSON()),
        sa.column("created_at", UtcDateTime()),
        sa.column("updated_at", UtcDateTime()),
        *columns,
    )


def record_row(record_id: str, **values: object) -> dict[str, object]:
    """A `record` row of list "list" holding only `values` besides what every row needs."""
    return {
        "id": record_id,
        "list_id": "list",
        "record_key": record_id,
        "version": 1,
        "documents": [],
        "attributes": {},
        "created_at": T0,
        "updated_at": T0,
        **values,
    }
