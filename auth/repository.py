"""All SQL of the auth capability: agencies, OAuth clients, signing keys, revocations and used
client assertions. Sync functions serve the token endpoint and the CLI; async ones the verifier
and the `/v1/clients` routes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session

from database.first_write import changed, update_unless_set
from schemas.identity import Agency, OAuthClient, RevokedToken, SigningKey, UsedClientAssertion
from schemas.vocabulary import AgencyKind

# SQLModel declares these as plain attributes; the table objects give typed column access.
_AGENCY = Agency.__table__  # type: ignore[attr-defined]
_CLIENT = OAuthClient.__table__  # type: ignore[attr-defined]
_KEY = SigningKey.__table__  # type: ignore[attr-defined]
_REVOKED = RevokedToken.__table__  # type: ignore[attr-defined]
_ASSERTION = UsedClientAssertion.__table__  # type: ignore[attr-defined]
_Row = TypeVar("_Row", Agency, OAuthClient, SigningKey)


def add(session: Session, row: _Row) -> _Row:
    """Insert a new agency, client or signing key (flushed, so constraint errors surface here)."""
    session.add(row)
    session.flush()
    return row


# --- agencies -----------------------------------------------------------------------------


def get_agency(session: Session, agency_id: str) -> Agency | None:
    return session.get(Agency, agency_id)


async def agency_kind(conn: AsyncConnection, agency_id: str) -> AgencyKind | None:
    row = (await conn.execute(select(_AGENCY.c.kind).where(_AGENCY.c.id == agency_id))).first()
    return AgencyKind(row[0]) if row is not None else None


# --- clients ------------------------------------------------------------------------------


def get_client(session: Session, client_id: str) -> OAuthClient | None:
    return session.get(OAuthClient, client_id)


def mark_client_disabled(
    session: Session, client_id: str, at: dt.datetime, by_client_id: str
) -> bool:
    """Disable an enabled client; False if it was disabled already (two at once: one wins)."""
    disable = update_unless_set(
        _CLIENT.c.id,
        client_id,
        _CLIENT.c.disabled_at,
        disabled_at=at,
        disabled_by_client_id=by_client_id,
    )
    return changed(session.execute(disable))


def clients_of_agency(session: Session, agency_id: str) -> Sequence[OAuthClient]:
    """For the operator CLI (`auth.operator`)."""
    query = select(OAuthClient).where(_CLIENT.c.agency_id == agency_id).order_by(_CLIENT.c.id)
    return session.scalars(query).all()


async def list_clients(session: AsyncSession, agency_id: str) -> Sequence[OAuthClient]:
    result = await session.scalars(
        select(OAuthClient)
        .where(_CLIENT.c.agency_id == agency_id)
        .order_by(_CLIENT.c.created_at, _CLIENT.c.id)
    )
    return result.all()


async def disabled_clients_since(
    conn: AsyncConnection, since: dt.datetime
) -> list[tuple[str, dt.datetime]]:
    rows = await conn.execute(
        select(_CLIENT.c.id, _CLIENT.c.disabled_at).where(_CLIENT.c.disabled_at >= since)
    )
    return [(row[0], row[1]) for row in rows]


# --- signing keys -------------------------------------------------------------------------


def active_signing_keys(session: Session) -> Sequence[SigningKey]:
    """Keys not retired, newest first (normally one; two workers may race to create one)."""
    result = session.scalars(
        select(SigningKey)
        .where(_KEY.c.retired_at.is_(None))
        .order_by(_KEY.c.created_at.desc(), _KEY.c.kid)
    )
    return result.all()


def retire_signing_keys(session: Session, at: dt.datetime) -> None:
    session.execute(update(_KEY).where(_KEY.c.retired_at.is_(None)).values(retired_at=at))


def published_signing_keys(session: Session, retired_after: dt.datetime) -> Sequence[SigningKey]:
    """Active keys and keys retired after `retired_after` (still inside their grace period)."""
    result = session.scalars(
        select(SigningKey)
        .where(_KEY.c.retired_at.is_(None) | (_KEY.c.retired_at > retired_after))
        .order_by(_KEY.c.created_at.desc(), _KEY.c.kid)
    )
    return result.all()


async def published_public_jwks(
    conn: AsyncConnection, retired_after: dt.datetime
) -> list[dict[str, object]]:
    rows = await conn.execute(
        select(_KEY.c.public_jwk).where(
            _KEY.c.retired_at.is_(None) | (_KEY.c.retired_at > retired_after)
        )
    )
    return [dict(row[0]) for row in rows]


# --- revocation ---------------------------------------------------------------------------


def is_revoked(session: Session, jti: str) -> bool:
    return session.get(RevokedToken, jti) is not None


def add_revoked_token(session: Session, revoked: RevokedToken) -> None:
    """Idempotent: revoking a revoked token again is not an error (RFC 7009 §2.2)."""
    try:
        with session.begin_nested():
            session.add(revoked)
    except IntegrityError:
        pass


async def revoked_since(
    conn: AsyncConnection, since: dt.datetime
) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """(jti, expires_at, revoked_at) of tokens revoked at or after `since`."""
    rows = await conn.execute(
        select(_REVOKED.c.jti, _REVOKED.c.expires_at, _REVOKED.c.revoked_at).where(
            _REVOKED.c.revoked_at >= since
        )
    )
    return [(row[0], row[1], row[2]) for row in rows]


def purge_expired_revocations(session: Session, now: dt.datetime) -> int:
    result = session.execute(delete(_REVOKED).where(_REVOKED.c.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)


# --- RFC 7523 client assertions -----------------------------------------------------------


def record_client_assertion(session: Session, used: UsedClientAssertion) -> bool:
    """Stores an assertion's `jti`; False if the client used it before (a replay). The
    primary key makes this race-free across workers."""
    try:
        with session.begin_nested():
            session.add(used)
    except IntegrityError:
        return False
    return True


def purge_expired_assertions(session: Session, now: dt.datetime) -> int:
    result = session.execute(delete(_ASSERTION).where(_ASSERTION.c.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)
