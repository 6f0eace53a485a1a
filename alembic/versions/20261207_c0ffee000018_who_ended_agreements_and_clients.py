"""sharing_agreement.terminated_by_client_id, oauth_client.disabled_by_client_id

An agreement recorded who made it but not who ended it, and a client neither who made nor who
disabled it in a form its agency's admins could read: an auditor asking who cut Pakistan's
access to a list, or who disabled a partner's system, had only the times to go by. Ending
and disabling now keep the client that did it (the list's owner and the agency's admins see
it); rows ended before this revision hold NULL.

Revision ID: c0ffee000018
Revises: c0ffee000017
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "c0ffee000018"
down_revision: str | None = "c0ffee000017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("sharing_agreement", "terminated_by_client_id"),
    ("oauth_client", "disabled_by_client_id"),
)


def upgrade() -> None:
    for table, column in COLUMNS:
        op.add_column(table, sa.Column(column, sa.String(64), nullable=True))


def downgrade() -> None:
    # not batch mode: SQLite >= 3.35 drops a column in place, without copying the table
    for table, column in COLUMNS:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
