"""Wire models of a checkpoint verification: personal data only in the body, a minimal answer."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import ConfigDict, model_validator
from sqlmodel import Field, SQLModel

from schemas.records import IdentityDocument

_FORBID = ConfigDict(extra="forbid")


class PersonClaim(SQLModel):
    model_config = _FORBID  # type: ignore[assignment]

    given_name: str = Field(min_length=1, max_length=200)
    father_name: str = Field(min_length=1, max_length=200)
    dob: str = Field(min_length=4, max_length=10)
    dob_calendar: Literal["gregorian", "solar_hijri"] | None = None
    family_name: str | None = Field(default=None, max_length=200)


class VerificationRequest(SQLModel):
    """Exactly one of: the letter's id, one document, or name + father's name + date of birth."""

    model_config = _FORBID  # type: ignore[assignment]

    letter_id: str | None = Field(default=None, min_length=1, max_length=64)
    document: IdentityDocument | None = None
    person: PersonClaim | None = None

    @model_validator(mode="after")
    def _exactly_one_key(self) -> VerificationRequest:
        given = [name for name in ("letter_id", "document", "person") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError("give exactly one of letter_id, document, person")
        return self


class LetterReference(SQLModel):
    letter_id: str
    status: Literal["valid", "withdrawn"]


class VerificationResult(SQLModel):
    """What a checkpoint learns: no program, stage or contact ever travels here."""

    verification_id: str
    checked_at: dt.datetime
    matched_by: Literal["letter_id", "document", "person"]
    in_pipeline: bool
    ambiguous: bool
    letters: list[LetterReference]
