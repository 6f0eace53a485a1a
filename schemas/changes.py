"""Tables and wire models of the change feed (a gap-free sequence of events), partners'
acknowledgements, and webhook subscriptions with their deliveries and attempts."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import ConfigDict
from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from schemas.types import PortableJSON, UtcDateTime, new_id, utcnow

ChangeType = Literal[
    "record.created",
    "record.corrected",
    "record.withdrawn",
    "letter.issued",
    "letter.revoked",
    "encounter.reported",
    "status.claimed",
]
CHANGE_TYPES: tuple[str, ...] = ChangeType.__args__  # type: ignore[attr-defined]
# Who besides the owner (and the acting agency) sees an event.
Audience = Literal["list_recipients", "letter_recipients", "owner_only"]
DeliveryStatus = Literal["pending", "delivered", "dead"]
_SEQ = BigInteger().with_variant(Integer(), "sqlite")
# An event's data is read whole, never queried inside: plain JSON, which PostgreSQL ingests
# faster than JSONB (a bulk import writes a million events at its end, under the feed's lock).
_EVENT_DATA = JSON()


class ChangeCounter(SQLModel, table=True):
    """The feed's high-water mark. Writers bump it under its row lock inside their own
    transaction, so sequence numbers are contiguous and become visible in order."""

    __tablename__ = "change_counter"

    name: str = Field(primary_key=True, max_length=32)
    value: int = Field(default=0, sa_type=BigInteger)


class ChangeEvent(SQLModel, table=True):
    __tablename__ = "change_event"
    __table_args__ = (Index("ix_change_event_list", "list_id", "seq"),)

    seq: int = Field(primary_key=True, sa_type=_SEQ, sa_column_kwargs={"autoincrement": False})
    id: str = Field(max_length=36, unique=True)
    occurred_at: dt.datetime = Field(sa_type=UtcDateTime)
    type: str = Field(max_length=32)
    owner_agency_id: str = Field(max_length=64)
    actor_agency_id: str | None = Field(default=None, max_length=64)
    audience: str = Field(max_length=32)
    list_id: str | None = Field(default=None, max_length=36)
    record_id: str | None = Field(default=None, max_length=36)
    data: dict[str, object] = Field(sa_column=Column(_EVENT_DATA, nullable=False))


class ChangeAcknowledgement(SQLModel, table=True):
    __tablename__ = "change_acknowledgement"

    change_id: str = Field(primary_key=True, max_length=36)
    agency_id: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(max_length=64)
    acknowledged_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "webhook_subscription"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    agency_id: str = Field(foreign_key="agency.id", index=True, max_length=64)
    client_id: str = Field(max_length=64)
    url: str = Field(max_length=2000)
    event_types: list[str] = Field(sa_column=Column(PortableJSON, nullable=False))
    purpose: str = Field(max_length=64)
    secret: str = Field(sa_column=Column(Text, nullable=False))
    feed_cursor: int = Field(default=0, sa_type=BigInteger)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    disabled_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One change event for one subscription; `id` is the Standard Webhooks `webhook-id`,
    the same on every attempt and replay, so receivers can drop duplicates."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "change_seq", name="uq_webhook_delivery_change"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    subscription_id: str = Field(foreign_key="webhook_subscription.id", max_length=36)
    change_seq: int = Field(sa_type=BigInteger)
    change_id: str = Field(max_length=36)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    # `attempts` when last replayed: back-off and the dead-letter limit count from here
    retry_base: int = 0
    next_attempt_at: dt.datetime = Field(sa_type=UtcDateTime)
    lease_until: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    delivered_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempt"

    delivery_id: str = Field(foreign_key="webhook_delivery.id", primary_key=True, max_length=40)
    attempt: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    started_at: dt.datetime = Field(sa_type=UtcDateTime)
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=200)
    duration_ms: float = 0.0


# --- wire models ---------------------------------------------------------------------------


class ChangePublic(SQLModel):
    id: str
    seq: int
    type: str
    occurred_at: dt.datetime
    owner_agency_id: str
    list_id: str | None
    data: dict[str, object]


class ChangePage(SQLModel):
    items: list[ChangePublic]
    next_cursor: str = Field(description="pass as `since` to resume; never skips an event")


class AcknowledgementPublic(SQLModel):
    agency_id: str
    acknowledged_at: dt.datetime


class ChangeStatus(SQLModel):
    """An event as its owner sees it: which recipients it reached and which acknowledged."""

    change: ChangePublic
    recipients: list[str]
    acknowledgements: list[AcknowledgementPublic]


class SubscriptionCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    url: str = Field(min_length=8, max_length=2000)
    event_types: list[ChangeType] = Field(min_length=1)
    secret: str | None = Field(
        default=None,
        min_length=30,
        max_length=200,
        description="`whsec_` + base64 of 24-64 random bytes; generated when omitted",
    )
    since: str | None = Field(default=None, description="feed cursor to start after; default now")


class SubscriptionPublic(SQLModel):
    id: str
    url: str
    event_types: list[str]
    purpose: str
    client_id: str = Field(description="the client that subscribed")
    created_at: dt.datetime
    disabled_at: dt.datetime | None = Field(
        description="when it stopped sending: disabled, or its client disabled"
    )


class SubscriptionCreated(SubscriptionPublic):
    secret: str | None = Field(
        description="the secret Sanad generated, shown this once; null when you gave your own"
    )


class DeliveryAttemptPublic(SQLModel):
    attempt: int
    started_at: dt.datetime
    status_code: int | None
    error: str | None
    duration_ms: float


class DeliveryPublic(SQLModel):
    id: str
    change_id: str
    change_seq: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: dt.datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    attempt_log: list[DeliveryAttemptPublic]


class DeliveryPage(SQLModel):
    items: list[DeliveryPublic]


class ReplayRequest(SQLModel):
    """Send again every delivery after `since` (a feed cursor), or only dead-lettered ones."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    since: str = Field(default="0", max_length=40)
    only_dead: bool = False


class ReplayResult(SQLModel):
    requeued: int
