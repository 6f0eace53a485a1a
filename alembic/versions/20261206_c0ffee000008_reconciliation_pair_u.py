"""reconciliation.pair_u: the u each pair of a run's lists was linked with

The incremental linker sampled u again from random pairs of the held lists at its first change
(0.6 s against 1.3 million records), after that change had reordered them: another draw than
the run's, which moved a few records across a threshold (relinked unchanged, 994/1000 records
kept the run's partner; 999/1000 with the run's own u). The run now keeps its u per pair, and
the linker weighs later changes with it until the lists have changed by more than 1 %.

Revision ID: c0ffee000008
Revises: c0ffee000007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c0ffee000008"
down_revision: str | None = "c0ffee000007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reconciliation") as batch_op:
        batch_op.add_column(
            sa.Column(
                "pair_u", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("reconciliation") as batch_op:
        batch_op.drop_column("pair_u")
