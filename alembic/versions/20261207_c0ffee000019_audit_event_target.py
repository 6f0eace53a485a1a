"""audit_event.target: the objects a request named in its path

An event kept the route's template and not its ids, so an auditor could not tell which
agreement was ended, which client disabled, which letter revoked or which record a refused
request asked for. The column holds the route's path parameters, URL-encoded. It is part of
the event's log entry: an event with a target is a `sanad-audit-event/v2` leaf, one without
(every event before this revision) stays v1 byte for byte (transparency/leaf.py), so the log
verifies across the change.

Revision ID: c0ffee000019
Revises: c0ffee000018
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "c0ffee000019"
down_revision: str | None = "c0ffee000018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("target", sa.String(1000), nullable=True))


def downgrade() -> None:
    # not batch mode: copying the table would drop its append-only triggers (SQLite >= 3.35
    # drops a column in place). Leaves logged with a target no longer re-derive from the rows.
    op.execute("ALTER TABLE audit_event DROP COLUMN target")
