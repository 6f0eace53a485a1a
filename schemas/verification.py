"""Wire models of a checkpoint verification: personal data only in the body, a minimal answer.

Plain pydantic models, not SQLModel: none is a table, and on the checkpoint path (the
service's hottest) SQLModel's own `__init__` and validation hooks cost about 5 % of a request's
interpreter time (docs/performance.md)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.records import IdentityDocument

_FORBID = ConfigDict(extra="forbid")


class PersonClaim(BaseModel):
    model_config = _FORBID

    given_name: str = Field(min_length=1, max_length=200)
    father_name: str = Field(min_length=1, max_length=200)
    dob: str = Field(min_length=4, max_length=10)
    dob_calendar: Literal["gregorian", "solar_hijri"] | None = None
    family_name: str | None = Field(default=None, max_length=200)


class VerificationRequest(BaseModel):
    """Exactly one of: the letter's id, one document, or name + father's name + date of birth."""

    model_config = _FORBID

    letter_id: str | None = Field(default=None, min_length=1, max_length=64)
    document: IdentityDocument | None = None
    person: PersonClaim | None = None
    credential: str | None = Field(
        default=None, min_length=8, max_length=2000, description="the letter's QR content"
    )

    @model_validator(mode="after")
    def _exactly_one_key(self) -> VerificationRequest:
        keys = ("letter_id", "document", "person", "credential")
        given = [name for name in keys if getattr(self, name)]
        if len(given) != 1:
            raise ValueError("give exactly one of letter_id, document, person, credential")
        return self


class LetterReference(BaseModel):
    letter_id: str
    status: Literal["valid", "withdrawn", "expired", "revoked"]


class CredentialResult(BaseModel):
    """The scanned letter itself: genuine or not, and what it says when it is genuine, so the
    officer can compare it with the person in front of them."""

    status: Literal["valid", "invalid", "unknown-key", "expired", "not-yet-valid", "revoked"]
    status_text: str | None = None
    letter_id: str | None = None
    name: str | None = None
    name_native: str | None = None
    father_name: str | None = None
    birth_year: int | None = None
    birth_calendar: str | None = None
    expires_at: dt.datetime | None = None


class VerificationResult(BaseModel):
    """What a checkpoint learns: no program, stage or contact ever travels here."""

    verification_id: str
    checked_at: dt.datetime
    matched_by: Literal["letter_id", "document", "person", "credential"]
    in_pipeline: bool
    ambiguous: bool
    letters: list[LetterReference]
    # present only when asked for (Accept-Language) or when a credential was checked
    status_text: str | None = None
    credential: CredentialResult | None = None
