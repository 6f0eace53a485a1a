"""Tables and wire models of records in a list: current state, documents, versions, imports."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import ConfigDict
from sqlalchemy import JSON, Column, Index, String, UniqueConstraint
from sqlalchemy.types import TypeEngine
from sqlmodel import Field, SQLModel

from schemas.types import UtcDateTime, new_id, utcnow
from schemas.vocabulary import DocumentType, Relationship, Sex

# Text without control characters (a NUL cannot even be stored in PostgreSQL text).
PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
PRINTABLE: dict[str, object] = {"pattern": PRINTABLE_PATTERN}  # SQLModel Field(schema_extra=...)
# ... with something in it besides blanks: a reason or a place of blanks says nothing
PRINTABLE_NOT_BLANK: dict[str, object] = {
    "pattern": r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
}
RECORD_PAGE_DEFAULT = 50
RECORD_PAGE_MAX = 500


class IdentityDocument(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    type: DocumentType
    number: str = Field(min_length=1, max_length=64)


class RecordFields(SQLModel):
    """The exchange-format fields of `domain.md`, all optional: real lists are sparse."""

    given_name: str | None = Field(default=None, max_length=200)
    family_name: str | None = Field(default=None, max_length=200)
    father_name: str | None = Field(default=None, max_length=200)
    name_native: str | None = Field(default=None, max_length=200)
    dob: str | None = Field(default=None, max_length=10)
    dob_calendar: str | None = Field(default=None, max_length=16)
    sex: Sex | None = Field(default=None, max_length=1)
    nationality: str | None = Field(default=None, max_length=3)
    group_id: str | None = Field(default=None, max_length=64)
    relationship: Relationship | None = Field(default=None, max_length=2)
    province: str | None = Field(default=None, max_length=100)
    district: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    program: str | None = Field(default=None, max_length=8)
    stage: str | None = Field(default=None, max_length=64)
    letter_id: str | None = Field(default=None, max_length=64)
    status: str | None = Field(default=None, max_length=64)


# No foreign keys on record, record_document and record_version: PostgreSQL checks a foreign
# key row by row, which made a million-record import take minutes (measured: 3x the COPY
# itself). Only exchange/repository.py writes these tables, always for a list it has just
# read inside the same transaction, and lists are never deleted.


def _key_text(length: int) -> TypeEngine[str]:
    """Ids and search keys need equality and a stable order, not language rules: on
    PostgreSQL they compare byte-wise (COLLATE "C"), which cut index upkeep during a bulk
    import by about a fifth (measured on 200,000 records)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


# Stored as given and never queried inside (search uses record_document): plain JSON, which
# PostgreSQL ingests about a quarter faster than JSONB.
_STORED_JSON = JSON()


class Record(RecordFields, table=True):
    __tablename__ = "record"
    __table_args__ = (
        UniqueConstraint("list_id", "record_key", name="uq_record_list_key"),
        Index("ix_record_list_letter", "list_id", "letter_id"),
        Index("ix_record_list_group", "list_id", "group_id"),
        Index("ix_record_list_given_key", "list_id", "given_name_key"),
        Index("ix_record_list_family_key", "list_id", "family_name_key"),
        Index("ix_record_list_father_key", "list_id", "father_name_key"),
        Index("ix_record_list_native_key", "list_id", "name_native_key"),
        Index("ix_record_list_dob", "list_id", "dob_earliest"),
        # verification looks across every list the caller can reach, without a list id
        Index("ix_record_letter", "letter_id"),
        Index("ix_record_given_father", "given_name_key", "father_name_key"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, sa_type=_key_text(36))
    list_id: str = Field(sa_type=_key_text(36))
    record_key: str = Field(sa_type=_key_text(128))
    version: int = 1
    group_id: str | None = Field(default=None, max_length=64, sa_type=_key_text(64))
    letter_id: str | None = Field(default=None, max_length=64, sa_type=_key_text(64))
    documents: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(_STORED_JSON, nullable=False)
    )
    attributes: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(_STORED_JSON, nullable=False)
    )
    dob_earliest: dt.date | None = None
    dob_latest: dt.date | None = None
    # the whole year of the recorded date, in its own calendar: searched for year-only views
    dob_year_earliest: dt.date | None = None
    dob_year_latest: dt.date | None = None
    given_name_key: str | None = Field(default=None, sa_type=_key_text(200))
    family_name_key: str | None = Field(default=None, sa_type=_key_text(200))
    father_name_key: str | None = Field(default=None, sa_type=_key_text(200))
    name_native_key: str | None = Field(default=None, sa_type=_key_text(200))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    withdrawn_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    withdrawal_reason: str | None = Field(default=None, max_length=500)


class RecordDocument(SQLModel, table=True):
    """One normalised document number of a record, for search and verification by document."""

    __tablename__ = "record_document"
    __table_args__ = (Index("ix_record_document_number", "number", "doc_type"),)

    id: int | None = Field(default=None, primary_key=True)
    record_id: str = Field(index=True, sa_type=_key_text(36))
    list_id: str = Field(sa_type=_key_text(36))
    doc_type: str = Field(sa_type=_key_text(16))
    number: str = Field(sa_type=_key_text(64))


class RecordVersion(SQLModel, table=True):
    __tablename__ = "record_version"

    record_id: str = Field(primary_key=True, sa_type=_key_text(36))
    version: int = Field(primary_key=True)
    change: str = Field(max_length=16)
    data: dict[str, object] = Field(sa_column=Column(_STORED_JSON, nullable=False))
    changed_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    changed_by_client_id: str = Field(max_length=64)


class RecordUpdate(RecordFields):
    """A correction: only the fields present change. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    documents: list[IdentityDocument] | None = None
    attributes: dict[str, str] | None = None


class RecordWithdrawal(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    reason: str = Field(min_length=1, max_length=500, schema_extra=PRINTABLE_NOT_BLANK)


class RecordPublic(RecordFields):
    """A record as one caller may see it: personal fields absent unless its agreement allows.
    `withdrawn_at` and `withdrawal_reason` are shown to the owning agency only."""

    record_id: str
    list_id: str
    version: int
    withdrawn: bool
    documents: list[IdentityDocument] | None = None
    attributes: dict[str, str] | None = None
    withdrawn_at: dt.datetime | None = None
    withdrawal_reason: str | None = None


def _filter(max_length: int, description: str | None = None) -> Any:
    return Field(
        default=None, max_length=max_length, description=description, schema_extra=PRINTABLE
    )


class RecordSearch(SQLModel):
    """A search of one list's records. It travels as a body so that names, birth dates and
    document numbers stay out of URLs, which proxies and load balancers log. Every filter
    given must match; one on a field the caller may not see is refused."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    document: str | None = _filter(64)
    document_type: DocumentType | None = Field(
        default=None,
        description="with `document`, that document's type; alone, records holding one of it",
    )
    given_name: str | None = _filter(200)
    family_name: str | None = _filter(200)
    father_name: str | None = _filter(200)
    name_native: str | None = _filter(
        200, "the name in its own script; Arabic and Persian letter forms and marks agree"
    )
    name: str | None = _filter(200, "any name field the caller may see")
    dob: str | None = _filter(10, "YYYY, YYYY-MM or YYYY-MM-DD")
    dob_calendar: Literal["gregorian", "solar_hijri"] | None = Field(
        default=None, description="the calendar of `dob` (only with it)"
    )
    group_id: str | None = _filter(64)
    letter_id: str | None = _filter(64)
    include_withdrawn: bool = False
    cursor: str | None = _filter(1000, "next_cursor of the previous page of this search")
    limit: int = Field(default=RECORD_PAGE_DEFAULT, ge=1, le=RECORD_PAGE_MAX)


class RecordPage(SQLModel):
    items: list[RecordPublic]
    next_cursor: str | None


class RecordVersionPublic(SQLModel):
    """One version; recipients see `data` cut to their agreement and no `changed_by_client_id`."""

    version: int
    change: str
    changed_at: dt.datetime
    changed_by_client_id: str | None = None
    data: dict[str, object]


class RecordHistory(SQLModel):
    record_id: str
    items: list[RecordVersionPublic]


class ImportBatch(SQLModel, table=True):
    __tablename__ = "import_batch"
    __table_args__ = (UniqueConstraint("list_id", "idempotency_key", name="uq_import_idem"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    list_id: str = Field(foreign_key="exchange_list.id", max_length=36)
    idempotency_key: str = Field(max_length=200)
    request_sha256: str = Field(max_length=64)
    client_id: str = Field(max_length=64)
    received_count: int = 0
    created_count: int = 0
    updated_count: int = 0
    unchanged_count: int = 0
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class RejectedRow(SQLModel):
    row: int
    field: str | None
    reason: str


class ImportReport(SQLModel):
    import_id: str | None
    list_id: str
    status: str
    received: int
    created: int
    updated: int
    unchanged: int = 0
    rejected: list[RejectedRow]
    replayed: bool = False
