"""Protection letters and their signing keys, encounter reports and status claims, the change
feed with its sequence counter and acknowledgements, and webhook subscriptions and deliveries.

Revision ID: c0ffee000005
Revises: c7d41e0b9a52
Create Date: 2026-11-27 21:58:46.102663
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import schemas.types

revision: str = "c0ffee000005"
down_revision: str | None = "c7d41e0b9a52"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "change_acknowledgement",
        sa.Column("change_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("agency_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("acknowledged_at", schemas.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("change_id", "agency_id"),
    )
    op.create_table(
        "change_counter",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "change_event",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("occurred_at", schemas.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("owner_agency_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("actor_agency_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("audience", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("list_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("record_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("change_event", schema=None) as batch_op:
        batch_op.create_index("ix_change_event_list", ["list_id", "seq"], unique=False)

    op.create_table(
        "encounter_report",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("agency_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("event", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("province", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("district", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("facility", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("occurred_at", schemas.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("reported_at", schemas.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("matched_by", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(
            "subject",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("encounter_report", schema=None) as batch_op:
        batch_op.create_index(
            "ix_encounter_report_agency", ["agency_id", "reported_at"], unique=False
        )

    op.create_table(
        "letter_signing_key",
        sa.Column("kid", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("agency_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("alg", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column(
            "public_jwk",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", schemas.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", schemas.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("publish_until", schemas.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
        ),
        sa.PrimaryKeyConstraint("kid"),
    )
    with op.batch_alter_table("letter_signing_key", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_letter_signing_key_agency_id"), ["agency_id"], unique=False
        )

    op.create_table(
        "status_claim",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("agency_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("list_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("record_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("effective_at", schemas.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", schemas.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("encounter_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["record.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("status_claim", schema=None) as batch_op:
        batch_op.create_index("ix_status_claim_record", ["record_id", "effective_at"], unique=False)

    op.create_table(
        "webhook_subscription",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("agency_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column(
            "event_types",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("feed_cursor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", schemas.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", schemas.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhook_subscription", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_subscription_agency_id"), ["agency_id"], unique=False
        )

    op.create_table(
        "encounter_link",
        sa.Column("encounter_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("record_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("list_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("match", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounter_report.id"],
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["record.id"],
        ),
        sa.PrimaryKeyConstraint("encounter_id", "record_id"),
    )
    with op.batch_alter_table("encounter_link", schema=None) as batch_op:
        batch_op.create_index("ix_encounter_link_record", ["record_id"], unique=False)

    op.create_table(
        "protection_letter",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("agency_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("list_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("record_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("kid", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.Column("issued_at", schemas.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", schemas.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", schemas.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("replaces_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column(
            "issued_by_client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["exchange_list.id"],
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["record.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("protection_letter", schema=None) as batch_op:
        batch_op.create_index("ix_protection_letter_holder", ["list_id", "record_id"], unique=False)

    op.create_table(
        "webhook_delivery",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("subscription_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("change_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retry_base", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", schemas.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", schemas.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", schemas.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", schemas.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscription.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "change_seq", name="uq_webhook_delivery_change"),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_delivery_due", ["status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "protection_letter_member",
        sa.Column("letter_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("record_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("list_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["letter_id"],
            ["protection_letter.id"],
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["record.id"],
        ),
        sa.PrimaryKeyConstraint("letter_id", "record_id"),
    )
    with op.batch_alter_table("protection_letter_member", schema=None) as batch_op:
        batch_op.create_index("ix_protection_letter_member_record", ["record_id"], unique=False)

    op.create_table(
        "webhook_attempt",
        sa.Column("delivery_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("attempt", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("started_at", schemas.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_delivery.id"],
        ),
        sa.PrimaryKeyConstraint("delivery_id", "attempt"),
    )
    # the feed's high-water mark starts at 0: the first event is number 1
    op.execute("INSERT INTO change_counter (name, value) VALUES ('feed', 0)")


def downgrade() -> None:
    op.drop_table("webhook_attempt")
    with op.batch_alter_table("protection_letter_member", schema=None) as batch_op:
        batch_op.drop_index("ix_protection_letter_member_record")

    op.drop_table("protection_letter_member")
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_delivery_due")

    op.drop_table("webhook_delivery")
    with op.batch_alter_table("protection_letter", schema=None) as batch_op:
        batch_op.drop_index("ix_protection_letter_holder")

    op.drop_table("protection_letter")
    with op.batch_alter_table("encounter_link", schema=None) as batch_op:
        batch_op.drop_index("ix_encounter_link_record")

    op.drop_table("encounter_link")
    with op.batch_alter_table("webhook_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_subscription_agency_id"))

    op.drop_table("webhook_subscription")
    with op.batch_alter_table("status_claim", schema=None) as batch_op:
        batch_op.drop_index("ix_status_claim_record")

    op.drop_table("status_claim")
    with op.batch_alter_table("letter_signing_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_letter_signing_key_agency_id"))

    op.drop_table("letter_signing_key")
    with op.batch_alter_table("encounter_report", schema=None) as batch_op:
        batch_op.drop_index("ix_encounter_report_agency")

    op.drop_table("encounter_report")
    with op.batch_alter_table("change_event", schema=None) as batch_op:
        batch_op.drop_index("ix_change_event_list")

    op.drop_table("change_event")
    op.drop_table("change_counter")
    op.drop_table("change_acknowledgement")
