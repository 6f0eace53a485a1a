"""link_review: each pair once, its record ids in order, holding its newest decision

A decision was kept in the orientation of the link it was made on, so a decision on the same
pair made on a run of the other list order ([UNHCR, pipeline] after [pipeline, UNHCR]) became
a second row, the pair reversed, and a later run took whichever of the two it read last: an
older decision could win over the latest. The service now keeps a pair once, its ids in order
(`reconcile.repository.review_pair`). This merges the pairs stored twice, keeping the newest
decision (`decided_at`), and turns the rest of the rows round where needed; the unique
constraint `uq_review_pair` (agency, left, right) then holds one row a pair. No schema changes.

Ordered in Python, as the service does, not by the database: PostgreSQL orders text by its
collation. Decisions are made by people, so the table is small enough to read whole.

Downgrade changes nothing: the rows as merged are read as before by the code before, and the
older decisions merged away are not brought back.

Revision ID: c0ffee000015
Revises: c0ffee000014
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

import schemas.types
from alembic import op

revision: str = "c0ffee000015"
down_revision: str | None = "c0ffee000014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 500  # ids a DELETE names at once (within SQLite's bound parameters)

_review = sa.table(
    "link_review",
    sa.column("id", sa.String()),
    sa.column("agency_id", sa.String()),
    sa.column("left_record_id", sa.String()),
    sa.column("right_record_id", sa.String()),
    sa.column("decided_at", schemas.types.UtcDateTime()),
)


def _ordered(record_id: str, other_id: str) -> tuple[str, str]:
    # reconcile.repository.review_pair as of this revision, kept here: a migration must not
    # change with the code after it
    return (record_id, other_id) if record_id <= other_id else (other_id, record_id)


def merged(rows: Sequence[Any]) -> tuple[list[str], dict[str, tuple[str, str]]]:
    """Of link_review's rows (id, agency_id, left_record_id, right_record_id, decided_at): the
    ids of the older decisions on a pair stored more than once, to delete, and the kept rows
    whose ids are not in order, each with its pair in order."""
    newest: dict[tuple[str, str, str], Any] = {}
    for row in sorted(rows, key=lambda r: (r.decided_at, r.id)):  # the newest last, so kept
        newest[(row.agency_id, *_ordered(row.left_record_id, row.right_record_id))] = row
    kept = {row.id for row in newest.values()}
    older = [row.id for row in rows if row.id not in kept]
    turned = {
        row.id: (left, right)
        for (_agency, left, right), row in newest.items()
        if row.left_record_id != left
    }
    return older, turned


def upgrade() -> None:
    bind = op.get_bind()
    older, turned = merged(bind.execute(sa.select(_review)).all())
    # deleted first: a row turned round then takes the place of the older row it merged with
    for start in range(0, len(older), CHUNK):
        bind.execute(sa.delete(_review).where(_review.c.id.in_(older[start : start + CHUNK])))
    if turned:
        bind.execute(
            sa.update(_review)
            .where(_review.c.id == sa.bindparam("row_id"))
            .values(left_record_id=sa.bindparam("left"), right_record_id=sa.bindparam("right")),
            [
                {"row_id": id_, "left": left, "right": right}
                for id_, (left, right) in turned.items()
            ],
        )


def downgrade() -> None:
    pass
