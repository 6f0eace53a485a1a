"""What the offline verifier bundles, read from the database."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from letters import keys, repository
from schemas.types import utcnow


async def verifier_inputs(session: AsyncSession) -> tuple[list[dict[str, object]], list[str]]:
    """Published letter keys, and letters revoked before their expiry (any mission)."""
    jwks = await keys.public_jwks(session)
    return jwks, await repository.revoked_letter_ids(session, None, utcnow())
