"""record.name_native_key: a search key for the name in its own script

Record search and its `name` filter compared the Latin name fields only, so a record whose only
name is in Arabic script (a common case in Pakistani and UNHCR lists) could not be found by its
name at all. This adds the key column beside the other three, its index, and fills it for every
stored record.

The key is computed by `exchange.keys.native_name_key`, imported rather than copied: the column
is a cache of that function, and a database upgraded past this revision must hold the keys the
code it runs computes. A later change to the function needs a migration that computes them
again, as this one does. A stored name whose key would not fit the column (NFKC expands a few
ligatures) is left without a key and its record id logged: before this revision imports did
not check that length for `name_native`.

Revision ID: c0ffee000017
Revises: c0ffee000016
Create Date: 2026-12-07
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from exchange.keys import native_name_key

revision: str = "c0ffee000017"
down_revision: str | None = "c0ffee000016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
KEY_LENGTH = 200
BATCH = 10_000
INDEX = "ix_record_list_native_key"

_record = sa.table(
    "record",
    sa.column("id", sa.String()),
    sa.column("name_native", sa.String()),
    sa.column("name_native_key", sa.String()),
)


def _key_type() -> sa.types.TypeEngine[str]:
    # as the other keys: compared byte-wise on PostgreSQL (migration c0ffee000006)
    return sa.String(KEY_LENGTH).with_variant(sa.String(KEY_LENGTH, collation="C"), "postgresql")


def _fill(conn: sa.Connection) -> None:
    """Key every record with a native name, a batch at a time in id order."""
    after = ""
    while True:
        rows = conn.execute(
            sa.select(_record.c.id, _record.c.name_native)
            .where(_record.c.name_native.is_not(None), _record.c.id > after)
            .order_by(_record.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        keys = []
        for record_id, name in rows:
            key = native_name_key(name) if name else None
            if key is not None and len(key) > KEY_LENGTH:
                log.warning("record %s: native name too long once normalised; no key", record_id)
                key = None
            keys.append({"record_id": record_id, "key": key})
        conn.execute(
            sa.update(_record)
            .where(_record.c.id == sa.bindparam("record_id"))
            .values(name_native_key=sa.bindparam("key")),
            keys,
        )
        after = rows[-1].id


def upgrade() -> None:
    op.add_column("record", sa.Column("name_native_key", _key_type(), nullable=True))
    _fill(op.get_bind())
    op.create_index(INDEX, "record", ["list_id", "name_native_key"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="record")
    # not batch mode: SQLite >= 3.35 drops a column in place, without copying the table
    op.execute("ALTER TABLE record DROP COLUMN name_native_key")
