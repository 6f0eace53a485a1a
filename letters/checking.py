"""Check a letter credential against the published keys, its dates and the revocation list:
what online verification and encounter reports use. Works on a bare connection (the
verification path runs without an ORM session)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from letters import keys, repository
from letters.credential import LetterClaims, parse, verify

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


def credential_checker(engine: AsyncEngine) -> Callable[[str], Awaitable[LetterVerdict]]:
    """Checks on a connection of its own, taken only when a credential is actually scanned."""

    async def check(text: str) -> LetterVerdict:
        async with engine.connect() as connection:
            return await check_credential(connection, text)

    return check
