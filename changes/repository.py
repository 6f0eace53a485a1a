"""All SQL of the change feed: the sequence counter, events, agreements that decide who sees
an event, and acknowledgements."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from database.first_write import insert_unless_present
from exchange.repository import bulk_insert, timestamp_text
from schemas.changes import ChangeAcknowledgement, ChangeCounter, ChangeEvent
from schemas.identity import Agency
from schemas.lists import ExchangeList, SharingAgreement

FEED = "feed"
EVENT_COLUMNS = (
    "seq", "id", "occurred_at", "type", "owner_agency_id", "actor_agency_id", "audience",
    "list_id", "record_id", "data",
)  # fmt: skip
# An event's columns after seq, id and occurred_at: type, owner_agency_id, actor_agency_id,
# audience, list_id, record_id, and data as JSON text.
EventTail = tuple[str, str, str | None, str, str | None, str | None, str]
_BULK_FROM = 200  # below this, one INSERT beats COPY's set-up
_counter = ChangeCounter.__table__.c  # type: ignore[attr-defined]
_event_table = ChangeEvent.__table__  # type: ignore[attr-defined]
_event = _event_table.c
_ack = ChangeAcknowledgement.__table__.c  # type: ignore[attr-defined]
_agreement = SharingAgreement.__table__.c  # type: ignore[attr-defined]
_list = ExchangeList.__table__.c  # type: ignore[attr-defined]
_agency = Agency.__table__.c  # type: ignore[attr-defined]


async def reserve_sequence(session: AsyncSession, count: int) -> int:
    """Bump the counter by `count` and return the first number reserved. The UPDATE takes the
    counter's row lock (PostgreSQL) or the database write lock (SQLite) until this transaction
    ends, so no other writer gets numbers until we commit or roll back: numbers are handed out
    in commit order, and a rollback gives them back. Take it last, just before the commit."""
    result = await session.execute(
        update(ChangeCounter)
        .where(_counter.name == FEED)
        .values(value=_counter.value + count)
        .returning(_counter.value)
    )
    last = result.scalar_one_or_none()
    if last is None:  # a database built without the migration's seed row
        await session.execute(insert(ChangeCounter).values(name=FEED, value=count))
        last = count
    return int(last) - count + 1


async def head(session: AsyncSession) -> int:
    """The highest committed sequence number: every event up to it is visible."""
    query = select(_counter.value).where(_counter.name == FEED)
    return int((await session.execute(query)).scalar_one_or_none() or 0)


async def insert_events(
    session: AsyncSession,
    first: int,
    occurred_at: dt.datetime,
    ids: Sequence[str],
    tails: Sequence[EventTail],
) -> None:
    """Events numbered `first`, `first + 1`, … with these ids, all at `occurred_at`."""
    if len(tails) >= _BULK_FROM:
        # all text, so the bulk path formats each line with one join (no per-value calls)
        stamp = await timestamp_text(session, occurred_at)
        rows = [
            (str(first + offset), event_id, stamp, *tail)
            for offset, (event_id, tail) in enumerate(zip(ids, tails, strict=True))
        ]
        await bulk_insert(session, _event_table, EVENT_COLUMNS, rows)
        return
    values = [
        {
            **dict(zip(EVENT_COLUMNS, (first + offset, event_id, occurred_at, *tail), strict=True)),
            "data": json.loads(tail[-1]),
        }
        for offset, (event_id, tail) in enumerate(zip(ids, tails, strict=True))
    ]
    await session.execute(insert(ChangeEvent), values)


def _live(now: dt.datetime) -> Any:
    return and_(
        _agreement.terminated_at.is_(None),
        _agreement.valid_from <= now,
        _agreement.valid_until > now,
    )


async def recipient_agreements(
    session: AsyncSession, agency_id: str, now: dt.datetime
) -> list[SharingAgreement]:
    """Live agreements that make `agency_id` a recipient of some list."""
    query = select(SharingAgreement).where(_agreement.recipient_agency_id == agency_id, _live(now))
    return list((await session.execute(query)).scalars().all())


async def list_recipients(
    session: AsyncSession, list_id: str, now: dt.datetime
) -> list[SharingAgreement]:
    query = select(SharingAgreement).where(_agreement.list_id == list_id, _live(now))
    return list((await session.execute(query)).scalars().all())


async def agency_kinds(session: AsyncSession, agency_ids: Sequence[str]) -> dict[str, str]:
    if not agency_ids:
        return {}
    query = select(_agency.id, _agency.kind).where(_agency.id.in_(agency_ids))
    return {row[0]: row[1] for row in (await session.execute(query)).all()}


def _visible_to(agency_id: str, shared: Sequence[str], letter_shared: Sequence[str]) -> Any:
    return or_(
        _event.owner_agency_id == agency_id,
        _event.actor_agency_id == agency_id,
        and_(_event.audience == "list_recipients", _event.list_id.in_(list(shared))),
        and_(_event.audience == "letter_recipients", _event.list_id.in_(list(letter_shared))),
    )


async def read_events(
    session: AsyncSession,
    *,
    after: int,
    upto: int,
    agency_id: str,
    shared: Sequence[str],
    letter_shared: Sequence[str],
    types: Sequence[str] | None,
    limit: int,
) -> list[ChangeEvent]:
    query = select(ChangeEvent).where(
        _event.seq > after, _event.seq <= upto, _visible_to(agency_id, shared, letter_shared)
    )
    if types:
        query = query.where(_event.type.in_(list(types)))
    query = query.order_by(_event.seq).limit(limit)
    return list((await session.execute(query)).scalars().all())


async def visible_seqs(
    session: AsyncSession,
    seqs: Sequence[int],
    *,
    agency_id: str,
    shared: Sequence[str],
    letter_shared: Sequence[str],
) -> set[int]:
    """Of the events `seqs`, those the agency sees through `shared` and `letter_shared`."""
    if not seqs:
        return set()
    query = select(_event.seq).where(
        _event.seq.in_(list(seqs)), _visible_to(agency_id, shared, letter_shared)
    )
    return {int(seq) for seq in (await session.execute(query)).scalars().all()}


async def get_event(session: AsyncSession, change_id: str) -> ChangeEvent | None:
    query = select(ChangeEvent).where(_event.id == change_id)
    return (await session.execute(query)).scalars().first()


async def acknowledgements(session: AsyncSession, change_id: str) -> list[ChangeAcknowledgement]:
    query = (
        select(ChangeAcknowledgement)
        .where(_ack.change_id == change_id)
        .order_by(_ack.acknowledged_at, _ack.agency_id)
    )
    return list((await session.execute(query)).scalars().all())


async def find_acknowledgement(
    session: AsyncSession, change_id: str, agency_id: str
) -> ChangeAcknowledgement | None:
    return await session.get(ChangeAcknowledgement, (change_id, agency_id))


async def add_acknowledgement(session: AsyncSession, row: ChangeAcknowledgement) -> bool:
    """Store an acknowledgement; False if the agency's was stored meanwhile (of two at once,
    the primary key keeps the first)."""
    table = ChangeAcknowledgement.__table__  # type: ignore[attr-defined]
    return await insert_unless_present(session, table, row.model_dump())
