"""change_event.data as plain JSON instead of JSONB

PostgreSQL only (SQLite has one JSON type). Nothing queries inside an event's data: the feed,
the change status and webhook deliveries read it whole. JSON keeps the text as sent (JSONB
parses it into a binary tree on the way in), which shortens the serial tail of a bulk import:
its million events are written last, under the feed's sequence lock. As was done for the
record tables in c0ffee000006.

Revision ID: fa498436b611
Revises: c0ffee000006
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "fa498436b611"
down_revision: str | None = "c0ffee000006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _is_postgresql():
        op.alter_column(
            "change_event",
            "data",
            type_=sa.JSON(),
            existing_type=postgresql.JSONB(),
            existing_nullable=False,
            postgresql_using="data::json",
        )


def downgrade() -> None:
    if _is_postgresql():
        op.alter_column(
            "change_event",
            "data",
            type_=postgresql.JSONB(),
            existing_type=sa.JSON(),
            existing_nullable=False,
            postgresql_using="data::jsonb",
        )
