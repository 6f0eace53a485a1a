"""All SQL of the audit domain's read side (the write side is `audit.writer`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, and_, exists, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from schemas.audit import AuditDisclosure, AuditEvent
from schemas.transparency import TlogLeaf

_event = AuditEvent.__table__.c  # type: ignore[attr-defined]
_disclosure = AuditDisclosure.__table__.c  # type: ignore[attr-defined]
LEAF = TlogLeaf.__table__  # type: ignore[attr-defined]
_leaf = LEAF.c


@dataclass(frozen=True, slots=True)
class EventFilter:
    client_id: str | None = None
    agency_id: str | None = None
    purpose: str | None = None
    outcome: str | None = None
    route: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    list_id: str | None = None
    record_key: str | None = None
    request_id: str | None = None


def _event_conditions(f: EventFilter) -> list[ColumnElement[bool]]:
    equal_to = {
        "client_id": f.client_id,
        "agency_id": f.agency_id,
        "purpose": f.purpose,
        "outcome": f.outcome,
        "route": f.route,
        "request_id": f.request_id,
    }
    conditions = [_event[name] == value for name, value in equal_to.items() if value is not None]
    if f.since is not None:
        conditions.append(_event.occurred_at >= f.since)
    if f.until is not None:
        conditions.append(_event.occurred_at < f.until)
    about = []
    if f.list_id is not None:
        about.append(_disclosure.list_id == f.list_id)
    if f.record_key is not None:
        about.append(_disclosure.record_key == f.record_key)
        # a record is disclosed by few events: find them first, once, by the record
        conditions.append(_event.id.in_(select(_disclosure.event_id).where(*about)))
    elif about:
        conditions.append(exists().where(_disclosure.event_id == _event.id, *about))
    return conditions


async def find_events(
    session: AsyncSession,
    viewer_agency_id: str | None,
    event_filter: EventFilter,
    after: tuple[dt.datetime, str] | None,
    limit: int,
) -> list[tuple[AuditEvent, int | None]]:
    """Events with their transparency-log leaf index (None until sequenced)."""
    query = events_query(viewer_agency_id, event_filter, after, limit)
    return [(event, leaf_index) for event, leaf_index in (await session.execute(query)).all()]


def events_query(
    viewer_agency_id: str | None,
    event_filter: EventFilter,
    after: tuple[dt.datetime, str] | None,
    limit: int,
) -> Select[AuditEvent, int | None]:
    """The page's query. An agency's auditor sees its own clients' events and every access to
    its own records. Its page is the first `limit` of the union of each kind's first `limit`, so
    that neither kind is searched beyond its page; as one condition, `a OR EXISTS …`,
    PostgreSQL hashed every disclosure of the agency on every page. A record filter instead
    finds the record's few events first. Disclosure conditions are correlated subqueries that
    find an event's disclosures by `event_id` (indexes led by it, migration c0ffee000013);
    SQLite, which keeps no statistics, otherwise read every disclosure of the agency or list
    once per event (`tests/integration/test_audit_query_plans.py`,
    `bench/audit_query_bench.py`)."""
    conditions = _event_conditions(event_filter)
    if after is not None:
        stamp, row_id = after
        conditions.append(
            or_(_event.occurred_at > stamp, and_(_event.occurred_at == stamp, _event.id > row_id))
        )
    order = (_event.occurred_at, _event.id)
    query = select(AuditEvent, _leaf.leaf_index).outerjoin(LEAF, _leaf.event_id == _event.id)
    if viewer_agency_id is None:
        return query.where(*conditions).order_by(*order).limit(limit)
    kinds = (
        _event.agency_id == viewer_agency_id,
        exists().where(
            _disclosure.event_id == _event.id, _disclosure.owner_agency_id == viewer_agency_id
        ),
    )
    if event_filter.record_key is not None:  # the record's few events come first
        return query.where(or_(*kinds), *conditions).order_by(*order).limit(limit)
    firsts = [
        select(_event.id).where(kind, *conditions).order_by(*order).limit(limit).subquery()
        for kind in kinds
    ]
    page = union(*(select(first.c.id) for first in firsts)).subquery()
    return query.where(_event.id.in_(select(page.c.id))).order_by(*order).limit(limit)


async def find_disclosures(
    session: AsyncSession,
    viewer_agency_id: str | None,
    list_id: str | None,
    record_key: str | None,
    after: tuple[dt.datetime, str] | None,
    limit: int,
) -> list[AuditDisclosure]:
    conditions: list[ColumnElement[bool]] = []
    if viewer_agency_id is not None:
        conditions.append(
            or_(
                _disclosure.owner_agency_id == viewer_agency_id,
                _disclosure.recipient_agency_id == viewer_agency_id,
            )
        )
    if list_id is not None:
        conditions.append(_disclosure.list_id == list_id)
    if record_key is not None:
        conditions.append(_disclosure.record_key == record_key)
    if after is not None:
        stamp, row_id = after
        conditions.append(
            or_(
                _disclosure.occurred_at > stamp,
                and_(_disclosure.occurred_at == stamp, _disclosure.id > row_id),
            )
        )
    query = (
        select(AuditDisclosure)
        .where(*conditions)
        .order_by(_disclosure.occurred_at, _disclosure.id)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars().all())


async def recipients_of(
    session: AsyncSession, viewer_agency_id: str | None, list_id: str, record_key: str | None
) -> list[str]:
    """Which agencies have been shown the record(s), as far as the viewer may know."""
    conditions = [_disclosure.list_id == list_id, _disclosure.recipient_agency_id.is_not(None)]
    if record_key is not None:
        conditions.append(_disclosure.record_key == record_key)
    if viewer_agency_id is not None:
        conditions.append(
            or_(
                _disclosure.owner_agency_id == viewer_agency_id,
                _disclosure.recipient_agency_id == viewer_agency_id,
            )
        )
    query = select(_disclosure.recipient_agency_id).where(*conditions).distinct()
    return sorted(str(agency) for agency in (await session.execute(query)).scalars().all())


async def records_disclosed_to_client(
    session: AsyncSession, client_id: str, since: dt.datetime, cap: int
) -> list[tuple[str, str]]:
    """Distinct (list_id, record_key) shown to a client since a moment, at most `cap`."""
    query = (
        select(_disclosure.list_id, _disclosure.record_key)
        .where(_disclosure.client_id == client_id, _disclosure.occurred_at >= since)
        .distinct()
        .limit(cap)
    )
    return [(str(a), str(b)) for a, b in (await session.execute(query)).all()]


async def records_disclosed_under_agreement(
    session: AsyncSession, list_id: str, recipient_agency_id: str, since: dt.datetime, cap: int
) -> list[str]:
    """Distinct record keys of a list shown to an agency since a moment, at most `cap`."""
    query = (
        select(_disclosure.record_key)
        .where(
            _disclosure.list_id == list_id,
            _disclosure.recipient_agency_id == recipient_agency_id,
            _disclosure.occurred_at >= since,
        )
        .distinct()
        .limit(cap)
    )
    return [str(key) for key in (await session.execute(query)).scalars().all()]
