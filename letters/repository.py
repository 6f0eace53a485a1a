"""All SQL of protection letters: signing keys, letters, the records each letter names, and
the issuing agency's name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from database.first_write import changed, update_unless_set
from schemas.identity import Agency
from schemas.letters import LetterSigningKey, ProtectionLetter, ProtectionLetterMember
from schemas.records import Record

_key = LetterSigningKey.__table__.c  # type: ignore[attr-defined]
_letter = ProtectionLetter.__table__.c  # type: ignore[attr-defined]
_member = ProtectionLetterMember.__table__.c  # type: ignore[attr-defined]
_record = Record.__table__.c  # type: ignore[attr-defined]


def add(
    session: AsyncSession, row: LetterSigningKey | ProtectionLetter | ProtectionLetterMember
) -> None:
    session.add(row)


# --- keys ----------------------------------------------------------------------------------


async def active_key(session: AsyncSession, agency_id: str) -> LetterSigningKey | None:
    query = (
        select(LetterSigningKey)
        .where(_key.agency_id == agency_id, _key.retired_at.is_(None))
        .order_by(_key.created_at.desc(), _key.kid)
        .limit(1)
    )
    return (await session.execute(query)).scalars().first()


async def retire_keys(
    session: AsyncSession, agency_id: str, at: dt.datetime, publish_until: dt.datetime
) -> None:
    await session.execute(
        update(LetterSigningKey)
        .where(_key.agency_id == agency_id, _key.retired_at.is_(None))
        .values(retired_at=at, publish_until=publish_until)
    )


async def published_public_jwks(
    db: AsyncConnection | AsyncSession, now: dt.datetime
) -> list[dict[str, object]]:
    query = select(_key.public_jwk).where(or_(_key.retired_at.is_(None), _key.publish_until > now))
    return [dict(row[0]) for row in (await db.execute(query)).all()]


async def published_keys(session: AsyncSession, now: dt.datetime) -> Sequence[LetterSigningKey]:
    query = (
        select(LetterSigningKey)
        .where(or_(_key.retired_at.is_(None), _key.publish_until > now))
        .order_by(_key.agency_id, _key.created_at.desc(), _key.kid)
    )
    return (await session.execute(query)).scalars().all()


# --- letters -------------------------------------------------------------------------------


async def get_letter(session: AsyncSession, letter_id: str) -> ProtectionLetter | None:
    return await session.get(ProtectionLetter, letter_id)


async def is_revoked(db: AsyncConnection | AsyncSession, letter_id: str) -> bool:
    query = select(_letter.revoked_at).where(_letter.id == letter_id)
    row = (await db.execute(query)).first()
    return row is not None and row[0] is not None


async def mark_revoked(session: AsyncSession, letter_id: str, at: dt.datetime, reason: str) -> bool:
    """Revoke a letter not revoked yet; False if it was (two revocations at once: one wins)."""
    revoke = update_unless_set(
        _letter.id, letter_id, _letter.revoked_at, revoked_at=at, revocation_reason=reason
    )
    return changed(await session.execute(revoke))


async def live_letters_naming(
    session: AsyncSession, record_id: str, now: dt.datetime
) -> list[ProtectionLetter]:
    """Letters naming a record (as holder or covered) that are neither revoked nor expired."""
    named = select(_member.letter_id).where(_member.record_id == record_id)
    query = select(ProtectionLetter).where(
        _letter.id.in_(named), _letter.revoked_at.is_(None), _letter.expires_at > now
    )
    return list((await session.execute(query)).scalars().all())


async def member_record_ids(session: AsyncSession, letter_id: str) -> list[tuple[str, str]]:
    """(record uuid, role) of every record a letter names, holder first."""
    query = (
        select(_member.record_id, _member.role)
        .where(_member.letter_id == letter_id)
        .order_by(_member.role.desc(), _member.record_id)
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def member_records(
    session: AsyncSession, letter_id: str, list_ids: Sequence[str]
) -> list[Record]:
    """Records a letter names, within the lists the caller may search."""
    if not list_ids:
        return []
    named = select(_member.record_id).where(_member.letter_id == letter_id)
    query = select(Record).where(_record.id.in_(named), _record.list_id.in_(list_ids))
    return list((await session.execute(query)).scalars().all())


async def record_keys(session: AsyncSession, record_ids: Sequence[str]) -> dict[str, str]:
    if not record_ids:
        return {}
    query = select(_record.id, _record.record_key).where(_record.id.in_(record_ids))
    return {row[0]: row[1] for row in (await session.execute(query)).all()}


async def revoked_letter_ids(
    session: AsyncSession, agency_id: str | None, now: dt.datetime
) -> list[str]:
    """Revoked letters that would otherwise still be valid: what an offline verifier needs."""
    query = select(_letter.id).where(_letter.revoked_at.is_not(None), _letter.expires_at > now)
    if agency_id is not None:
        query = query.where(_letter.agency_id == agency_id)
    return sorted(row[0] for row in (await session.execute(query)).all())


async def agency_name(session: AsyncSession, agency_id: str) -> str:
    agency = await session.get(Agency, agency_id)
    return agency.name if agency is not None else agency_id
