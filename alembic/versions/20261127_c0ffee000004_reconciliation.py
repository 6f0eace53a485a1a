"""reconciliation: runs, links with their evidence, and people's decisions on pairs

Revision ID: c0ffee000004
Revises: c0ffee000005 (the lead relinks the chain at merge time)
Create Date: 2026-11-27 22:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import schemas.types

revision: str = "c0ffee000004"
down_revision: str | None = "c0ffee000005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "reconciliation",
        sa.Column("id", _text(36), nullable=False),
        sa.Column("owner_agency_id", _text(64), nullable=False),
        sa.Column("created_by_client_id", _text(64), nullable=False),
        sa.Column("list_ids", _JSON, nullable=False),
        sa.Column("status", _text(16), nullable=False),
        sa.Column("stage", _text(32), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("counts", _JSON, nullable=False),
        sa.Column("conflicts", _JSON, nullable=False),
        sa.Column("histogram", _JSON, nullable=False),
        sa.Column("views", _JSON, nullable=False),
        sa.Column("error", _text(200), nullable=True),
        sa.Column("created_at", schemas.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", schemas.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["owner_agency_id"], ["agency.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reconciliation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reconciliation_owner_agency_id"), ["owner_agency_id"], unique=False
        )
    op.create_table(
        "reconciliation_link",
        sa.Column("id", _text(36), nullable=False),
        sa.Column("reconciliation_id", _text(36), nullable=False),
        sa.Column("left_list_id", _text(36), nullable=False),
        sa.Column("left_record_id", _text(36), nullable=False),
        sa.Column("right_list_id", _text(36), nullable=False),
        sa.Column("right_record_id", _text(36), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("decision", _text(16), nullable=False),
        sa.Column("evidence", _JSON, nullable=False),
        sa.Column("incremental", sa.Boolean(), nullable=False),
        sa.Column("created_at", schemas.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["left_record_id"], ["record.id"]),
        sa.ForeignKeyConstraint(["reconciliation_id"], ["reconciliation.id"]),
        sa.ForeignKeyConstraint(["right_record_id"], ["record.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "reconciliation_id", "left_record_id", "right_record_id", name="uq_link_run_pair"
        ),
    )
    with op.batch_alter_table("reconciliation_link", schema=None) as batch_op:
        batch_op.create_index("ix_link_left", ["left_record_id"], unique=False)
        batch_op.create_index("ix_link_right", ["right_record_id"], unique=False)
        batch_op.create_index(
            "ix_link_run_decision", ["reconciliation_id", "decision", "probability"], unique=False
        )
    op.create_table(
        "link_review",
        sa.Column("id", _text(36), nullable=False),
        sa.Column("agency_id", _text(64), nullable=False),
        sa.Column("left_record_id", _text(36), nullable=False),
        sa.Column("right_record_id", _text(36), nullable=False),
        sa.Column("decision", _text(16), nullable=False),
        sa.Column("note", _text(1000), nullable=True),
        sa.Column("decided_by_client_id", _text(64), nullable=False),
        sa.Column("decided_at", schemas.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.ForeignKeyConstraint(["left_record_id"], ["record.id"]),
        sa.ForeignKeyConstraint(["right_record_id"], ["record.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agency_id", "left_record_id", "right_record_id", name="uq_review_pair"),
    )


def downgrade() -> None:
    op.drop_table("link_review")
    with op.batch_alter_table("reconciliation_link", schema=None) as batch_op:
        batch_op.drop_index("ix_link_run_decision")
        batch_op.drop_index("ix_link_right")
        batch_op.drop_index("ix_link_left")
    op.drop_table("reconciliation_link")
    with op.batch_alter_table("reconciliation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reconciliation_owner_agency_id"))
    op.drop_table("reconciliation")
