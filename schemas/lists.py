"""Tables and wire models of agency lists and the sharing agreements that open them to others."""

from __future__ import annotations

import datetime as dt

from pydantic import ConfigDict, ValidationInfo, field_validator
from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from schemas.records import PRINTABLE, PRINTABLE_NOT_BLANK
from schemas.types import ClientDateTime, PortableJSON, UtcDateTime, new_id, utcnow
from schemas.vocabulary import (
    COARSENABLE_FIELDS,
    RECORD_FIELDS,
    Coarsening,
    ListKind,
    Purpose,
)

_FORBID = ConfigDict(extra="forbid")


class ExchangeListBase(SQLModel):
    name: str = Field(min_length=1, max_length=200, schema_extra=PRINTABLE)
    kind: ListKind = Field(max_length=32)


class ExchangeList(ExchangeListBase, table=True):
    __tablename__ = "exchange_list"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    owner_agency_id: str = Field(foreign_key="agency.id", index=True, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    created_by_client_id: str = Field(max_length=64)


class ExchangeListCreate(ExchangeListBase):
    model_config = _FORBID  # type: ignore[assignment]

    # a name of blanks names nothing (lists stored before may have one: the others keep PRINTABLE)
    name: str = Field(min_length=1, max_length=200, schema_extra=PRINTABLE_NOT_BLANK)


class ExchangeListPublic(ExchangeListBase):
    id: str
    owner_agency_id: str
    created_at: dt.datetime
    record_count: int | None = None


class ExchangeListPage(SQLModel):
    items: list[ExchangeListPublic]


class SharingAgreementBase(SQLModel):
    list_id: str = Field(max_length=36)
    recipient_agency_id: str = Field(max_length=64)
    fields: list[str] = Field(default_factory=list, sa_column=Column(PortableJSON, nullable=False))
    coarsen: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(PortableJSON, nullable=False)
    )
    purposes: list[Purpose] = Field(sa_column=Column(PortableJSON, nullable=False))
    valid_from: dt.datetime = Field(sa_type=UtcDateTime)
    valid_until: dt.datetime = Field(sa_type=UtcDateTime)


class SharingAgreement(SharingAgreementBase, table=True):
    __tablename__ = "sharing_agreement"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    list_id: str = Field(foreign_key="exchange_list.id", index=True, max_length=36)
    recipient_agency_id: str = Field(foreign_key="agency.id", index=True, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    created_by_client_id: str = Field(max_length=64)
    terminated_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    terminated_by_client_id: str | None = Field(default=None, max_length=64)


class SharingAgreementCreate(SQLModel):
    """Which fields of one list a recipient agency sees, for which purposes, until when."""

    model_config = _FORBID  # type: ignore[assignment]

    list_id: str = Field(min_length=1, max_length=36, schema_extra=PRINTABLE)
    recipient_agency_id: str = Field(min_length=1, max_length=64, schema_extra=PRINTABLE)
    # Checked by the service, which names a wrong field by its name (and knows each kind of
    # agency's ceiling); the schema lists the same vocabulary for clients and fuzzers.
    fields: list[str] = Field(
        default_factory=list,
        max_length=64,
        schema_extra={"json_schema_extra": {"items": {"type": "string", "enum": [*RECORD_FIELDS]}}},
    )
    coarsen: dict[str, str] = Field(
        default_factory=dict,
        schema_extra={
            "json_schema_extra": {
                "propertyNames": {"enum": sorted(COARSENABLE_FIELDS)},
                "additionalProperties": {"type": "string", "enum": sorted(Coarsening)},
            }
        },
    )
    purposes: list[Purpose] = Field(min_length=1)
    valid_from: ClientDateTime
    valid_until: ClientDateTime

    # field validators, not a model validator, so that a 422 names the field (a model's
    # errors are located at `body`)
    @field_validator("valid_from", "valid_until")
    @classmethod
    def _has_offset(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("needs a time zone offset")
        return value

    @field_validator("valid_until")
    @classmethod
    def _after_valid_from(cls, value: dt.datetime, info: ValidationInfo) -> dt.datetime:
        valid_from = info.data.get("valid_from")  # absent when it was itself invalid
        if valid_from is not None and value <= valid_from:
            raise ValueError("must be after valid_from")
        return value


class SharingAgreementPublic(SQLModel):
    id: str
    list_id: str
    owner_agency_id: str
    recipient_agency_id: str
    fields: list[str]
    coarsen: dict[str, str]
    purposes: list[Purpose]
    valid_from: dt.datetime
    valid_until: dt.datetime
    created_at: dt.datetime
    terminated_at: dt.datetime | None
    # who made and who ended it: shown to the list's owner, whose clients they are
    created_by_client_id: str | None = None
    terminated_by_client_id: str | None = None


class SharingAgreementPage(SQLModel):
    items: list[SharingAgreementPublic]
