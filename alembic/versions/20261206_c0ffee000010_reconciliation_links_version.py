"""reconciliation.links_version: raised by every change to a run's links after the run

The incremental linker read all of a run's standing links from the database at each change
(3.3–4.7 s for the 709,512 links of a full-size three-list run on PostgreSQL) and scanned them
in Python. It now holds them between polls, indexed by record, and reads them again only when
another writer (a person's decision, another worker process) changed them: each such
transaction raises this counter in the same transaction as its change.

Revision ID: c0ffee000010
Revises: c0ffee000009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0ffee000010"
down_revision: str | None = "c0ffee000009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reconciliation") as batch_op:
        batch_op.add_column(
            sa.Column(
                "links_version",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=False,
                server_default="0",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("reconciliation") as batch_op:
        batch_op.drop_column("links_version")
