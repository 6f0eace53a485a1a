"""reconciliation_link.held_for_conflict: an accepted link a three-way conflict holds for review

A link in a conflict went to review with nothing to say why, so a later change could not tell
it from a link scored uncertain: the worker read conflicts off accepted links only, lost a
conflict as soon as its links were in review (a nearby change rewrote it as another kind), and
never accepted its links again once the conflict was settled. The flag marks such links: they
count as links when conflicts are read again, and are accepted again when none holds them.

Revision ID: c0ffee000009
Revises: c0ffee000008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0ffee000009"
down_revision: str | None = "c0ffee000008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reconciliation_link") as batch_op:
        batch_op.add_column(
            sa.Column(
                "held_for_conflict", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("reconciliation_link") as batch_op:
        batch_op.drop_column("held_for_conflict")
