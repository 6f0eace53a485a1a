"""Tables and wire models of the access audit: events per request, disclosures per record shown."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from schemas.types import UtcDateTime

TARGET_MAX = 1000


class AuditEventBase(SQLModel):
    occurred_at: dt.datetime = Field(sa_type=UtcDateTime)
    request_id: str = Field(max_length=64)
    client_id: str | None = Field(default=None, max_length=64)
    subject: str | None = Field(default=None, max_length=200)
    agency_id: str | None = Field(default=None, max_length=64)
    token_jti: str | None = Field(default=None, max_length=64)
    scopes: str | None = Field(default=None, max_length=1000)
    purpose: str | None = Field(default=None, max_length=64)
    method: str = Field(max_length=8)
    route: str = Field(max_length=200)
    status: int
    outcome: str = Field(max_length=16)
    reason: str = Field(max_length=64)
    disclosure_count: int = 0
    # the objects the request named in its path (`list_id=…&record_id=…`, URL-encoded, in the
    # route's order): which agreement was ended, which client disabled, which record asked for
    target: str | None = Field(default=None, max_length=TARGET_MAX)


class AuditEvent(AuditEventBase, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_time", "occurred_at"),
        Index("ix_audit_event_client", "client_id", "occurred_at"),
        Index("ix_audit_event_agency", "agency_id", "occurred_at"),
    )

    id: str = Field(primary_key=True, max_length=36)


class AuditEventPublic(AuditEventBase):
    id: str
    # position in the transparency log (null until the sequencer integrated the event)
    leaf_index: int | None = None


class AuditEventPage(SQLModel):
    items: list[AuditEventPublic]
    next_cursor: str | None


class AuditDisclosureBase(SQLModel):
    event_id: str = Field(max_length=36)
    occurred_at: dt.datetime = Field(sa_type=UtcDateTime)
    list_id: str = Field(max_length=36)
    record_id: str = Field(max_length=36)
    record_key: str = Field(max_length=128)
    owner_agency_id: str = Field(max_length=64)
    recipient_agency_id: str | None = Field(default=None, max_length=64)
    client_id: str | None = Field(default=None, max_length=64)
    purpose: str | None = Field(default=None, max_length=64)
    fields: str = Field(default="", max_length=1000)


class AuditDisclosure(AuditDisclosureBase, table=True):
    __tablename__ = "audit_disclosure"
    __table_args__ = (
        Index("ix_audit_disclosure_record_time", "list_id", "record_key", "occurred_at"),
        # led by the event, and matching more of each lookup than the owner or list indexes
        # do, so that SQLite, without statistics, finds an event's disclosures by the event
        # (audit.repository.events_query)
        Index("ix_audit_disclosure_event_owner", "event_id", "owner_agency_id"),
        Index("ix_audit_disclosure_event_record", "event_id", "list_id", "record_key"),
        Index("ix_audit_disclosure_owner", "owner_agency_id", "occurred_at"),
        # bulk-read detection counts a client's / an agreement's records of the day
        Index("ix_audit_disclosure_client", "client_id", "occurred_at"),
        Index("ix_audit_disclosure_recipient", "list_id", "recipient_agency_id", "occurred_at"),
        # the disclosures pages, in time order without sorting every match: a list's, and an
        # agency's as recipient (as owner: ix_audit_disclosure_owner)
        Index("ix_audit_disclosure_list_time", "list_id", "occurred_at"),
        Index("ix_audit_disclosure_recipient_time", "recipient_agency_id", "occurred_at"),
    )

    id: str = Field(primary_key=True, max_length=36)


class AuditDisclosurePublic(AuditDisclosureBase):
    id: str


class AuditDisclosurePage(SQLModel):
    items: list[AuditDisclosurePublic]
    recipients: list[str]
    next_cursor: str | None
