"""reconciliation.feed_seq: the change feed's head when a run read its lists

The incremental linker used to ask which records had an `updated_at` after the run finished
(then after its last poll). Timestamps are set when a change is written, not when it commits:
a bulk import that commits a minute after it began, or a correction committed while a run was
linking, fell before the watermark and was never relinked. The change feed numbers events in
commit order with no gaps, so a position in it is exact; each run keeps the head it saw before
reading its lists.

Revision ID: c0ffee000007
Revises: fa498436b611
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0ffee000007"
down_revision: str | None = "fa498436b611"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reconciliation") as batch_op:
        batch_op.add_column(
            sa.Column(
                "feed_seq",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("reconciliation") as batch_op:
        batch_op.drop_column("feed_seq")
