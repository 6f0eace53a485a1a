"""Tables and wire models of protection letters: the mission's letter-signing keys, the letters
with their signed credential, and the pipeline records each letter covers."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import ConfigDict
from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from schemas.types import PortableJSON, UtcDateTime, utcnow

LetterStatus = Literal["valid", "expired", "revoked"]
MAX_COVERED_MEMBERS = 12


class LetterSigningKey(SQLModel, table=True):
    """A mission's P-256 key that signs letter credentials only (never access tokens)."""

    __tablename__ = "letter_signing_key"

    kid: str = Field(primary_key=True, max_length=16)
    agency_id: str = Field(foreign_key="agency.id", index=True, max_length=64)
    alg: str = Field(max_length=16)
    private_pem: str = Field(sa_column=Column(Text, nullable=False))
    public_jwk: dict[str, object] = Field(sa_column=Column(PortableJSON, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    retired_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    # a retired key stays published until every letter it signed has expired
    publish_until: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)


class ProtectionLetter(SQLModel, table=True):
    __tablename__ = "protection_letter"
    __table_args__ = (Index("ix_protection_letter_holder", "list_id", "record_id"),)

    id: str = Field(primary_key=True, max_length=32)
    agency_id: str = Field(foreign_key="agency.id", max_length=64)
    list_id: str = Field(foreign_key="exchange_list.id", max_length=36)
    record_id: str = Field(foreign_key="record.id", max_length=36)
    kid: str = Field(max_length=16)
    credential: str = Field(sa_column=Column(Text, nullable=False))
    issued_at: dt.datetime = Field(sa_type=UtcDateTime)
    expires_at: dt.datetime = Field(sa_type=UtcDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    revocation_reason: str | None = Field(default=None, max_length=500)
    replaces_id: str | None = Field(default=None, max_length=32)
    issued_by_client_id: str = Field(max_length=64)


class ProtectionLetterMember(SQLModel, table=True):
    """A pipeline record a letter names: its holder and each covered family member."""

    __tablename__ = "protection_letter_member"
    __table_args__ = (Index("ix_protection_letter_member_record", "record_id"),)

    letter_id: str = Field(foreign_key="protection_letter.id", primary_key=True, max_length=32)
    record_id: str = Field(foreign_key="record.id", primary_key=True, max_length=36)
    list_id: str = Field(max_length=36)
    role: str = Field(max_length=8)  # "holder" or "covered"


class LetterCreate(SQLModel):
    """Issue a letter for one pipeline record, naming family members of the same case."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    list_id: str = Field(min_length=1, max_length=36)
    record_id: str = Field(min_length=1, max_length=128, description="the agency's record id")
    covered_record_ids: list[str] = Field(default_factory=list, max_length=MAX_COVERED_MEMBERS)
    valid_days: int = Field(default=365, ge=1, le=730)
    replaces: str | None = Field(
        default=None, max_length=32, description="re-issue: the letter this one supersedes"
    )


class LetterRevocation(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    reason: str = Field(min_length=1, max_length=500)


class LetterPublic(SQLModel):
    letter_id: str
    list_id: str
    record_id: str
    covered_record_ids: list[str]
    issued_at: dt.datetime
    expires_at: dt.datetime
    status: LetterStatus
    status_text: str
    kid: str
    credential: str = Field(description="the QR content: `SL1:` + base45(COSE_Sign1)")
    revoked_at: dt.datetime | None = None
    revocation_reason: str | None = None
    replaces: str | None = None
