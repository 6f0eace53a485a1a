"""Check a letter credential against the published keys, its dates and the revocation list:
what online verification and encounter reports use. Works on a bare connection (the
verification path runs without an ORM session)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from letters import keys, repository
from letters.credential import LetterClaims, parse, verify
from letters.service import letter_status
from schemas.types import utcnow

VerdictStatus = Literal["valid", "invalid", "unknown-key", "expired", "not-yet-valid", "revoked"]
_GENUINE = frozenset({"valid", "expired", "not-yet-valid", "revoked"})


@dataclass(frozen=True, slots=True)
class LetterVerdict:
    status: VerdictStatus
    claims: LetterClaims | None = None

    @property
    def genuine(self) -> bool:
        """Signed by one of our missions' keys, whatever its dates or revocation."""
        return self.status in _GENUINE and self.claims is not None

    @property
    def letter_id(self) -> str | None:
        return self.claims.letter_id if self.genuine and self.claims else None


def _kid_of(text: str) -> str | None:
    try:
        return parse(text).kid
    except ValueError:
        return None


async def check_credential(db: AsyncConnection | AsyncSession, text: str) -> LetterVerdict:
    known = await keys.KEY_CACHE.get(db, _kid_of(text))
    check = verify(text, known, int(time.time()))
    if check.claims is None:
        return LetterVerdict(check.outcome)
    if await repository.is_revoked(db, check.claims.letter_id):
        return LetterVerdict("revoked", check.claims)
    return LetterVerdict(check.outcome, check.claims)


async def issued_letter_status(db: AsyncConnection | AsyncSession, letter_id: str) -> str | None:
    """Status of a letter Sanad issued (None for letters it knows only as a record field)."""
    letter = await repository.letter_dates(db, letter_id)
    if letter is None:
        return None
    return letter_status(letter, utcnow())
