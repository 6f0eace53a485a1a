"""tlog_witness: one row per witness key, in canonical spelling, revoked keys included

A witness key was unique only as the string submitted. Its hex key id reads in either case, so
the same key spelled with an upper-case key id was registered again: a revoked key came back
and its cosignatures counted again, and another agency could register a witness's key and make
every checkpoint that witness cosigned fail verification ("ambiguous key"). And the same public
key under another name (another key id) verifies the same cosignatures, since a cosignature
does not sign the key's name. The service now stores the canonical verifier key (lower-case
key id) and the raw public key, and refuses a key whose public key, or name and key id, any
row has (revoked or not, any agency's); the unique indexes `uq_tlog_witness_public_key` and
`uq_tlog_witness_name_key_id` hold it race-free.

This adds `public_key`, spells every stored key canonically, and merges the rows of one key:
the earliest registration is kept, with its revocation. A later row of the same public key
and the same agency that was revoked passes its (earliest) revocation on to the kept row if
that was in force: the agency revoked that key, whichever spelling it used, and a migration
must not bring a revoked key back. A revocation by another agency, which had registered a key
not its own, is not passed on. The merged rows go, with their revocations and cosignatures
(which were refused or ambiguous anyway while two rows answered to one key); each is logged.
The log's tables are append-only: their triggers are held off for this, and only for this.

On SQLite the column is added with a default (an empty blob: SQLite adds no NOT NULL column
without one); the service always sets it, and the unique index refuses a second empty one.

Downgrade drops the column and the indexes; rows merged away are not restored, and keys stay
in canonical spelling, which the code before reads as well.

Revision ID: c0ffee000016
Revises: c0ffee000015
Create Date: 2026-12-07
"""

import base64
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

import schemas.types
from alembic import op

revision: str = "c0ffee000016"
down_revision: str | None = "c0ffee000015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
TABLE = "tlog_witness"
# the append-only tables this rewrites (triggers of migrations c7d41e0b9a52 and c0ffee000011)
APPEND_ONLY = (TABLE, "tlog_cosignature", "tlog_witness_revocation")
INDEXES = {
    "uq_tlog_witness_public_key": ["public_key"],
    "uq_tlog_witness_name_key_id": ["name", "key_id"],
}

_witness = sa.table(
    TABLE,
    sa.column("id", sa.String()),
    sa.column("agency_id", sa.String()),
    sa.column("name", sa.String()),
    sa.column("key_id", sa.String()),
    sa.column("verifier_key", sa.String()),
    sa.column("public_key", sa.LargeBinary()),
    sa.column("created_at", schemas.types.UtcDateTime()),
)
_revocation = sa.table(
    "tlog_witness_revocation",
    sa.column("witness_id", sa.String()),
    sa.column("revoked_at", schemas.types.UtcDateTime()),
    sa.column("revoked_by_client_id", sa.String()),
    sa.column("reason", sa.String()),
)
_cosignature = sa.table("tlog_cosignature", sa.column("witness_id", sa.String()))


@dataclass(frozen=True)
class Key:
    """A stored witness row's key, spelled canonically."""

    id: str
    agency_id: str
    name: str
    key_id: str
    verifier_key: str
    public_key: bytes


def canonical(row: Any) -> Key:
    """`name+hex key id+base64(0x04 || key)` with a lower-case key id. As the registration
    parsed it when it was stored (tlog.checkpoint as of this revision, kept here: a migration
    must not change with the code after it): the name has no '+', the base64 is canonical."""
    name, _, rest = row.verifier_key.partition("+")
    key_id, _, encoded = rest.partition("+")
    key_id = key_id.lower()
    public_key = base64.b64decode(encoded)[1:]
    return Key(row.id, row.agency_id, name, key_id, f"{name}+{key_id}+{encoded}", public_key)


@dataclass
class Plan:
    keys: list[Key]  # every row, canonical
    dropped: dict[str, str]  # id of a merged row -> id of the row kept for its key
    revocations: list[dict[str, Any]]  # passed on to kept rows


def merge(rows: Sequence[Any], revocations: Sequence[Any]) -> Plan:
    """Of tlog_witness's rows (id, agency_id, verifier_key, created_at) and the revocations:
    which rows merge into which, and the revocations the kept rows inherit."""
    ordered = sorted(rows, key=lambda r: (r.created_at, r.id))  # earliest registration first
    keys = [canonical(row) for row in ordered]
    kept_by_identity: dict[object, Key] = {}
    dropped: dict[str, str] = {}
    for key in keys:
        kept = kept_by_identity.get(key.public_key) or kept_by_identity.get((key.name, key.key_id))
        if kept is None:
            kept_by_identity[key.public_key] = kept_by_identity[(key.name, key.key_id)] = key
        else:
            dropped[key.id] = kept.id
    revoked = {r.witness_id: r for r in revocations}
    by_id = {key.id: key for key in keys}
    inherited: dict[str, Any] = {}
    for merged_id, kept_id in dropped.items():
        merged, kept = by_id[merged_id], by_id[kept_id]
        own = merged.agency_id == kept.agency_id and merged.public_key == kept.public_key
        if own and merged_id in revoked and kept_id not in revoked:
            earlier = inherited.get(kept_id)
            if earlier is None or revoked[merged_id].revoked_at < earlier.revoked_at:
                inherited[kept_id] = revoked[merged_id]
    return Plan(
        keys,
        dropped,
        [
            {
                "witness_id": kept_id,
                "revoked_at": r.revoked_at,
                "revoked_by_client_id": r.revoked_by_client_id,
                "reason": r.reason,
            }
            for kept_id, r in inherited.items()
        ],
    )


@contextmanager
def _append_only_held_off(conn: sa.Connection) -> Iterator[None]:
    """The append-only triggers off for this migration's own changes, then on again."""
    if conn.dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        yield
        for table in APPEND_ONLY:
            op.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
        return
    triggers = conn.execute(
        sa.text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN :tables"
        ).bindparams(sa.bindparam("tables", expanding=True)),
        {"tables": list(APPEND_ONLY)},
    ).all()
    for name, _ in triggers:
        op.execute(f'DROP TRIGGER "{name}"')
    yield
    for _, sql in triggers:
        op.execute(sql)


def _apply(conn: sa.Connection, plan: Plan) -> None:
    merged = list(plan.dropped)
    for merged_id, kept_id in plan.dropped.items():
        log.warning("tlog_witness %s merged into %s (the same witness key)", merged_id, kept_id)
    if merged:
        conn.execute(sa.delete(_cosignature).where(_cosignature.c.witness_id.in_(merged)))
        conn.execute(sa.delete(_revocation).where(_revocation.c.witness_id.in_(merged)))
        conn.execute(sa.delete(_witness).where(_witness.c.id.in_(merged)))
    if plan.revocations:
        conn.execute(sa.insert(_revocation), plan.revocations)
    for key in plan.keys:
        if key.id in plan.dropped:
            continue
        conn.execute(
            sa.update(_witness)
            .where(_witness.c.id == key.id)
            .values(key_id=key.key_id, verifier_key=key.verifier_key, public_key=key.public_key)
        )


def upgrade() -> None:
    conn = op.get_bind()
    postgresql = conn.dialect.name == "postgresql"
    # SQLite adds a NOT NULL column only with a default; PostgreSQL gets NOT NULL once filled
    default = None if postgresql else sa.text("x''")
    op.add_column(
        TABLE,
        sa.Column("public_key", sa.LargeBinary(), nullable=postgresql, server_default=default),
    )
    rows = conn.execute(
        sa.select(
            _witness.c.id, _witness.c.agency_id, _witness.c.verifier_key, _witness.c.created_at
        )
    ).all()
    if rows:
        plan = merge(rows, conn.execute(sa.select(_revocation)).all())
        with _append_only_held_off(conn):
            _apply(conn, plan)
    if postgresql:
        op.alter_column(TABLE, "public_key", nullable=False)
    for index, columns in INDEXES.items():
        op.create_index(index, TABLE, columns, unique=True)


def downgrade() -> None:
    for index in INDEXES:
        op.drop_index(index, table_name=TABLE)
    # not batch mode: on SQLite that copies the table, which drops its triggers and trips the
    # foreign keys of its cosignatures and revocations (SQLite >= 3.35 drops a column in place)
    op.execute(f"ALTER TABLE {TABLE} DROP COLUMN public_key")
