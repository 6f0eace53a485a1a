"""Tables and wire models of encounter reports (a Pakistani official met a person), their links
to pipeline records, and each agency's own status claims about a person, with history."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import ConfigDict, field_validator
from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from schemas.records import PRINTABLE_NOT_BLANK
from schemas.types import ClientDateTime, PortableJSON, UtcDateTime, new_id, utcnow
from schemas.verification import VerificationRequest

EncounterEvent = Literal[
    "detained", "listed_for_deportation", "released", "deported", "exit_permit_issued"
]
LinkMatch = Literal["exact", "candidate"]
# What an agency may state of a person it holds a record of (beside encounters): Pakistan's
# document and deportation statuses, UNHCR's registration, and departure (domain.md). Which
# agency may claim which is in auth/policy.py (CLAIMABLE_STATUSES).
ClaimedStatus = Literal[
    "documented",
    "document_expired",
    "listed_for_deportation",
    "detained",
    "verified",
    "released",
    "deported",
    "exit_permit_issued",
    "registered",
    "registration_expired",
    "departed_third_country",
]


class EncounterReport(SQLModel, table=True):
    __tablename__ = "encounter_report"
    __table_args__ = (Index("ix_encounter_report_agency", "agency_id", "reported_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    agency_id: str = Field(foreign_key="agency.id", max_length=64)
    client_id: str = Field(max_length=64)
    event: str = Field(max_length=32)
    province: str | None = Field(default=None, max_length=100)
    district: str | None = Field(default=None, max_length=100)
    facility: str | None = Field(default=None, max_length=200)
    occurred_at: dt.datetime = Field(sa_type=UtcDateTime)
    reported_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    matched_by: str = Field(max_length=16)
    # the identifying details as the reporting officer gave them: the reporter's own data
    subject: dict[str, object] = Field(sa_column=Column(PortableJSON, nullable=False))


class EncounterLink(SQLModel, table=True):
    """A pipeline record an encounter concerns; `candidate` when a name matched several."""

    __tablename__ = "encounter_link"
    __table_args__ = (Index("ix_encounter_link_record", "record_id"),)

    encounter_id: str = Field(foreign_key="encounter_report.id", primary_key=True, max_length=36)
    record_id: str = Field(foreign_key="record.id", primary_key=True, max_length=36)
    list_id: str = Field(max_length=36)
    match: str = Field(max_length=16)


class StatusClaim(SQLModel, table=True):
    """One agency's statement of a person's status at a time. Claims are only ever added:
    the history is the claims in time order, the current status per agency the newest."""

    __tablename__ = "status_claim"
    __table_args__ = (Index("ix_status_claim_record", "record_id", "effective_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    agency_id: str = Field(foreign_key="agency.id", max_length=64)
    list_id: str = Field(max_length=36)
    record_id: str = Field(foreign_key="record.id", max_length=36)
    status: str = Field(max_length=32)
    effective_at: dt.datetime = Field(sa_type=UtcDateTime)
    recorded_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    encounter_id: str | None = Field(default=None, max_length=36)


class Place(SQLModel):
    """Where an encounter happened, as stored and shown."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    province: str | None = Field(default=None, min_length=1, max_length=100)
    district: str | None = Field(default=None, min_length=1, max_length=100)
    facility: str | None = Field(default=None, min_length=1, max_length=200)


class PlaceReported(Place):
    """Where an encounter happened, as a report gives it: each name printable and not blank
    (what was stored before is still shown as it is)."""

    province: str | None = Field(default=None, max_length=100, schema_extra=PRINTABLE_NOT_BLANK)
    district: str | None = Field(default=None, max_length=100, schema_extra=PRINTABLE_NOT_BLANK)
    facility: str | None = Field(default=None, max_length=200, schema_extra=PRINTABLE_NOT_BLANK)


class EncounterCreate(SQLModel):
    """Who was met (as for a verification: letter, QR credential, document or person), what
    happened, where and when."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    subject: VerificationRequest
    event: EncounterEvent
    place: PlaceReported = Field(default_factory=PlaceReported)
    occurred_at: ClientDateTime

    @field_validator("occurred_at")
    @classmethod
    def _aware_and_not_future(cls, value: dt.datetime) -> dt.datetime:
        return aware_and_not_future(value)


def aware_and_not_future(value: dt.datetime) -> dt.datetime:
    """A time an agency reports something happened at: with its offset, not ahead of now."""
    if value.tzinfo is None:
        raise ValueError("needs a time zone offset")
    if value > utcnow() + dt.timedelta(minutes=5):
        raise ValueError("is in the future")
    return value


class StatusClaimCreate(SQLModel):
    """An agency's statement of the person's status (its own claim; others keep theirs)."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    status: ClaimedStatus
    effective_at: ClientDateTime

    @field_validator("effective_at")
    @classmethod
    def _aware_and_not_future(cls, value: dt.datetime) -> dt.datetime:
        return aware_and_not_future(value)


class EncounterPublic(SQLModel):
    """What the reporting agency learns back: the same as a verification would tell it."""

    encounter_id: str
    event: EncounterEvent
    event_text: str
    place: Place
    occurred_at: dt.datetime
    reported_at: dt.datetime
    in_pipeline: bool
    ambiguous: bool


class StatusClaimPublic(SQLModel):
    agency_id: str
    status: str
    status_text: str
    effective_at: dt.datetime
    recorded_at: dt.datetime
    encounter_id: str | None


class EncounterOnRecord(SQLModel):
    encounter_id: str
    reporting_agency_id: str
    event: str
    event_text: str
    place: Place
    occurred_at: dt.datetime
    reported_at: dt.datetime
    match: LinkMatch


class RecordStatus(SQLModel):
    """Each agency's current claim about the person, the claims' history, and encounters."""

    list_id: str
    record_id: str
    current: list[StatusClaimPublic]
    history: list[StatusClaimPublic]
    encounters: list[EncounterOnRecord]
