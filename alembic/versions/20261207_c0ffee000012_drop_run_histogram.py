"""reconciliation.histogram dropped: the report reads its links per probability band and decision
from reconciliation_link as they stand now (people's decisions and links found after the run
included), so the histogram a run stored when it finished was read by nothing.

Revision ID: c0ffee000012
Revises: c0ffee000011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0ffee000012"
down_revision: str | None = "c0ffee000011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("reconciliation") as batch_op:
        batch_op.drop_column("histogram")


def downgrade() -> None:
    with op.batch_alter_table("reconciliation") as batch_op:
        batch_op.add_column(
            sa.Column("histogram", _JSON, nullable=False, server_default=sa.text("'[]'"))
        )
