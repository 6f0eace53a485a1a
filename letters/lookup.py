"""What verification needs from letters: the answer about a scanned credential. Keeps the
letter-specific parts out of the verification service."""

from __future__ import annotations

import datetime as dt

from i18n import text
from letters.checking import LetterVerdict
from schemas.verification import CredentialResult


def credential_result(verdict: LetterVerdict, language: str | None) -> CredentialResult:
    """Only a genuine credential's contents are echoed back; a forgery gets its status only."""
    status_text = text(f"letter.{verdict.status}", language) if language else None
    claims = verdict.claims
    if not verdict.genuine or claims is None:
        return CredentialResult(status=verdict.status, status_text=status_text)
    return CredentialResult(
        status=verdict.status,
        status_text=status_text,
        letter_id=claims.letter_id,
        name=claims.name,
        name_native=claims.name_native,
        father_name=claims.father_name,
        birth_year=claims.birth_year,
        birth_calendar=claims.birth_calendar,
        expires_at=dt.datetime.fromtimestamp(claims.expires_at, dt.UTC),
    )
