"""transparency log: the sequencing queue filled by a trigger on every audit insert, and
triggers that make the audit and log tables append-only

The tlog_* tables themselves are created by the initial migration (regenerated from the
models); this revision adds what autogenerate cannot see.

Revision ID: c7d41e0b9a52
Revises: a1aa4d8d93e7
Create Date: 2026-11-27 21:55:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'c7d41e0b9a52'
down_revision: str | None = 'a1aa4d8d93e7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Rows of these tables are written once and never changed: the audit trail and the log that
# commits to it. UPDATE, DELETE (and on PostgreSQL TRUNCATE) are refused for every role,
# owner included; only a superuser disabling the triggers gets past, which the log detects.
APPEND_ONLY_TABLES = (
    'audit_event',
    'audit_disclosure',
    'tlog_leaf',
    'tlog_node',
    'tlog_checkpoint',
    'tlog_log_key',
    'tlog_witness',
    'tlog_cosignature',
)

_PG_REFUSE_FUNCTION = """
CREATE FUNCTION sanad_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$
"""

# Statement-level with a transition table: one INSERT into the queue per group commit.
_PG_ENQUEUE_FUNCTION = """
CREATE FUNCTION tlog_enqueue_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tlog_pending (event_id, enqueued_at)
    SELECT id, extract(epoch FROM clock_timestamp())::double precision FROM new_events;
    RETURN NULL;
END $$
"""

_SQLITE_ENQUEUE = """
CREATE TRIGGER audit_event_enqueue AFTER INSERT ON audit_event
BEGIN
    INSERT INTO tlog_pending (event_id, enqueued_at)
    VALUES (NEW.id, (julianday('now') - 2440587.5) * 86400.0);
END
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_PG_REFUSE_FUNCTION)
        op.execute(_PG_ENQUEUE_FUNCTION)
        for table in APPEND_ONLY_TABLES:
            op.execute(
                f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE '
                f'ON {table} FOR EACH STATEMENT EXECUTE FUNCTION sanad_refuse_change()'
            )
        op.execute(
            'CREATE TRIGGER audit_event_enqueue AFTER INSERT ON audit_event '
            'REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT '
            'EXECUTE FUNCTION tlog_enqueue_events()'
        )
        return
    for table in APPEND_ONLY_TABLES:
        for action in ('UPDATE', 'DELETE'):
            op.execute(
                f'CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} '
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
            )
    op.execute(_SQLITE_ENQUEUE)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER audit_event_enqueue ON audit_event')
        for table in APPEND_ONLY_TABLES:
            op.execute(f'DROP TRIGGER {table}_append_only ON {table}')
        op.execute('DROP FUNCTION tlog_enqueue_events()')
        op.execute('DROP FUNCTION sanad_refuse_change()')
        return
    op.execute('DROP TRIGGER audit_event_enqueue')
    for table in APPEND_ONLY_TABLES:
        for action in ('update', 'delete'):
            op.execute(f'DROP TRIGGER {table}_no_{action}')
