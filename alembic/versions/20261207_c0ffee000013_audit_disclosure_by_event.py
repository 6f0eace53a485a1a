"""audit_disclosure: the index by event becomes two, led by the event and covering what the
audit events page asks of an event's disclosures (the owning agency; the list and record key)

The page's disclosure conditions are correlated subqueries (an agency auditor's "touches our
records", the list and record filters). With `event_id` alone indexed, SQLite, which keeps no
planner statistics, preferred the indexes led by the owner or the list and read all of that
agency's or list's disclosures once per event: a first page took 0.4-1.3 s at 20,000 events and
grew with the square of the log (bench/audit_query_bench.py). An index that matches more of a
subquery's equalities wins, so each of those lookups now goes by the event.

Revision ID: c0ffee000013
Revises: c0ffee000012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c0ffee000013"
down_revision: str | None = "c0ffee000012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "audit_disclosure"


def upgrade() -> None:
    # plain index operations: a batch operation could rebuild the table on SQLite, and with
    # it the append-only triggers
    op.drop_index("ix_audit_disclosure_event", table_name=TABLE)
    op.create_index("ix_audit_disclosure_event_owner", TABLE, ["event_id", "owner_agency_id"])
    op.create_index(
        "ix_audit_disclosure_event_record", TABLE, ["event_id", "list_id", "record_key"]
    )


def downgrade() -> None:
    op.drop_index("ix_audit_disclosure_event_record", table_name=TABLE)
    op.drop_index("ix_audit_disclosure_event_owner", table_name=TABLE)
    op.create_index("ix_audit_disclosure_event", TABLE, ["event_id"])
