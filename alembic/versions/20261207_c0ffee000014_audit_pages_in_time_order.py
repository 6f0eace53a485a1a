"""audit_disclosure: indexes that give the disclosures pages in time order, so that a page
stops at its limit instead of sorting every match

`GET /v1/audit/disclosures` sorted every disclosure of the list or agency on each page: linear
in the log (25-36 ms at 360,000 disclosures, bench/audit_query_bench.py). A list's disclosures
and an agency's as recipient now have an index by time (an agency's as owner had one). A
record's index gains the time as well (`ix_audit_disclosure_record_time`), so that a record's
page needs no sort either and SQLite, which keeps no statistics, takes it over the
list-and-recipient index.

Revision ID: c0ffee000014
Revises: c0ffee000013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c0ffee000014"
down_revision: str | None = "c0ffee000013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name -> (table, columns); plain index operations, since a batch operation could rebuild a
# table on SQLite and with it the append-only triggers
INDEXES = {
    "ix_audit_disclosure_record_time": (
        "audit_disclosure",
        ["list_id", "record_key", "occurred_at"],
    ),
    "ix_audit_disclosure_list_time": ("audit_disclosure", ["list_id", "occurred_at"]),
    "ix_audit_disclosure_recipient_time": (
        "audit_disclosure",
        ["recipient_agency_id", "occurred_at"],
    ),
}


def upgrade() -> None:
    op.drop_index("ix_audit_disclosure_record", table_name="audit_disclosure")
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
    op.create_index("ix_audit_disclosure_record", "audit_disclosure", ["list_id", "record_key"])
