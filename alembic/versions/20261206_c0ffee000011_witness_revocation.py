"""tlog_witness_revocation: an agency revokes a witness key whose private key it lost

Before, a registered witness key cosigned for its agency for good: a leaked key let whoever
held it cosign a forked view of the audit log in that agency's name. A revocation is written
once (append-only like the rest of the log's tables), and from then on the key's cosignatures
count nowhere: not accepted, not served in checkpoint notes, not in exports or verification.

Revision ID: c0ffee000011
Revises: c0ffee000010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import schemas.types

revision: str = "c0ffee000011"
down_revision: str | None = "c0ffee000010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "tlog_witness_revocation"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("witness_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("revoked_at", schemas.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "revoked_by_client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(["witness_id"], ["tlog_witness.id"]),
        sa.PrimaryKeyConstraint("witness_id"),
    )
    # append-only, as the log's other tables (migration c7d41e0b9a52)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
            f"ON {TABLE} FOR EACH STATEMENT EXECUTE FUNCTION sanad_refuse_change()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_{action.lower()} BEFORE {action} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: {action} refused'); END"
        )


def downgrade() -> None:
    op.drop_table(TABLE)
