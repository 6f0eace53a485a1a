"""index record (list_id, updated_at) for the incremental linker

The incremental linker asks every second which records of a run's lists changed since its
last poll, and what changed in a list it holds prepared since then. Without this index each
question scans the list (1.3 million rows for Pakistan's).

Revision ID: c0ffee000007
Revises: fa498436b611
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c0ffee000007"
down_revision: str | None = "fa498436b611"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_record_list_updated", "record", ["list_id", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_record_list_updated", table_name="record")
