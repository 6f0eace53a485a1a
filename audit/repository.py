"""All SQL of the audit domain's read side (the write side is `audit.writer`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Column, ColumnCollection, Select, and_, exists, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from database.paging import Page, ordered_page
from schemas.audit import AuditDisclosure, AuditEvent
from schemas.identity import Agency, OAuthClient
from schemas.lists import ExchangeList
from schemas.transparency import TlogLeaf

_event = AuditEvent.__table__.c  # type: ignore[attr-defined]
_disclosure = AuditDisclosure.__table__.c  # type: ignore[attr-defined]
_list = ExchangeList.__table__.c  # type: ignore[attr-defined]
_agency = Agency.__table__.c  # type: ignore[attr-defined]
_client = OAuthClient.__table__.c  # type: ignore[attr-defined]
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
    client_agency = None
    if viewer_agency_id is not None and event_filter.client_id is not None:
        client_agency = await _client_agency(session, event_filter.client_id)
    query = events_query(viewer_agency_id, event_filter, after, limit, client_agency)
    return [(event, leaf_index) for event, leaf_index in (await session.execute(query)).all()]


def events_query(
    viewer_agency_id: str | None,
    event_filter: EventFilter,
    after: tuple[dt.datetime, str] | None,
    limit: int,
    client_agency: str | None = None,
) -> Select[AuditEvent, int | None]:
    """The page's query. An agency's auditor sees its own clients' events and every access to
    its own records, each kind a part of the page (`_ordered_page`); as one condition,
    `a OR EXISTS …`, PostgreSQL hashed every disclosure of the agency on every page. A client
    never changes agency, so filtered by another agency's client (`client_agency`) only the
    second kind can match; PostgreSQL otherwise scanned that client's events for the first. A
    record filter instead finds the record's few events first. Disclosure conditions are
    correlated subqueries that find an event's disclosures by `event_id` (indexes led by it,
    migration c0ffee000013); SQLite, which keeps no statistics, otherwise read every disclosure
    of the agency or list once per event (`tests/integration/test_audit_query_plans.py`,
    `bench/audit_query_bench.py`)."""
    conditions = _event_conditions(event_filter) + _after_cursor(_event, after)
    query = select(AuditEvent, _leaf.leaf_index).outerjoin(LEAF, _leaf.event_id == _event.id)
    if viewer_agency_id is None:
        return _ordered_page(query, _event, [[]], conditions, limit)
    kinds: tuple[ColumnElement[bool], ...] = (
        _event.agency_id == viewer_agency_id,
        exists().where(
            _disclosure.event_id == _event.id, _disclosure.owner_agency_id == viewer_agency_id
        ),
    )
    if client_agency not in (None, viewer_agency_id):
        kinds = kinds[1:]
    if event_filter.record_key is not None:  # the record's few events first
        return _ordered_page(query, _event, [[or_(*kinds)]], conditions, limit)
    return _ordered_page(query, _event, [[kind] for kind in kinds], conditions, limit)


def _after_cursor(
    columns: ColumnCollection[str, Column[object]], after: tuple[dt.datetime, str] | None
) -> list[ColumnElement[bool]]:
    """The rows after the cursor's (time, id), in the pages' order."""
    if after is None:
        return []
    stamp, row_id = after
    at, row = columns.occurred_at, columns.id
    return [or_(at > stamp, and_(at == stamp, row > row_id))]


def _ordered_page(
    query: Page,
    columns: ColumnCollection[str, Column[object]],
    parts: list[list[ColumnElement[bool]]],
    conditions: list[ColumnElement[bool]],
    limit: int,
) -> Page:
    """The first `limit` rows in time order of the union of `parts` under `conditions`
    (`database.paging.ordered_page`): as one `OR`, a scan would pass over every row of one part
    to find the other's."""
    return ordered_page(
        query, columns.id, (columns.occurred_at, columns.id), parts, conditions, limit
    )


@dataclass(frozen=True, slots=True)
class DisclosureFilter:
    list_id: str | None = None
    record_key: str | None = None
    recipient_agency_id: str | None = None
    client_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


# Beyond this many lists of its own, an agency's page of what another agency was shown scans
# its own disclosures by time instead of one first page per list: SQLite allows 500 terms in a
# compound SELECT, and so many parts would cost more than they save.
MAX_LISTS_IN_UNION = 50


@dataclass(frozen=True, slots=True)
class ViewerLists:
    """What the disclosures page needs to know of the lists to plan the viewer's page."""

    filtered_list_owner: str | None = None  # the owner of the list filtered by, if any
    own: tuple[str, ...] = ()  # the viewer's own lists, when it asks for another's recipient
    client_agency: str | None = None  # the agency of the client filtered by, if known


async def viewer_lists(
    session: AsyncSession, viewer_agency_id: str | None, f: DisclosureFilter
) -> ViewerLists:
    """What the disclosures page and its "shown to" line need to know of the lists, read once
    per request."""
    owner = await list_owner(session, f.list_id) if f.list_id is not None else None
    client_agency = await _client_agency(session, f.client_id) if f.client_id else None
    own: tuple[str, ...] = ()
    shown_to = _shown_to(f, client_agency)
    if viewer_agency_id is not None and f.list_id is None and shown_to != viewer_agency_id:
        mine = select(_list.id).where(_list.owner_agency_id == viewer_agency_id)
        own = tuple((await session.execute(mine)).scalars().all())
    return ViewerLists(owner, own, client_agency)


async def find_disclosures(
    session: AsyncSession,
    viewer_agency_id: str | None,
    disclosure_filter: DisclosureFilter,
    lists: ViewerLists,
    after: tuple[dt.datetime, str] | None,
    limit: int,
) -> list[AuditDisclosure]:
    query = disclosures_query(viewer_agency_id, disclosure_filter, lists, after, limit)
    return list((await session.execute(query)).scalars().all())


def _shown_to(f: DisclosureFilter, client_agency: str | None) -> str | None:
    """The agency the filter asks about as recipient: named, or the filtered client's."""
    return f.recipient_agency_id or client_agency


async def _client_agency(session: AsyncSession, client_id: str) -> str | None:
    query = select(_client.agency_id).where(_client.id == client_id)
    return (await session.execute(query)).scalar_one_or_none()


async def list_owner(session: AsyncSession, list_id: str) -> str | None:
    query = select(_list.owner_agency_id).where(_list.id == list_id)
    return (await session.execute(query)).scalar_one_or_none()


def _visible_parts(
    viewer_agency_id: str | None, f: DisclosureFilter, lists: ViewerLists
) -> list[list[ColumnElement[bool]]]:
    """The viewer's share of the log as parts that each one index reads in time order: what its
    own records showed and what was shown to it. A list never changes hands, so all of a list's
    disclosures carry its owner: for one list the viewer sees either all of them or those shown
    to it. As `owner OR recipient`, a scan would pass over another agency's disclosures to find
    the viewer's few. A client's disclosures were shown to its agency, or to nobody else where
    the list is its agency's own, so a client filter names the recipient too."""
    viewer = viewer_agency_id
    by_client = lists.client_agency
    recipient = _disclosure.recipient_agency_id
    if f.list_id is not None:
        owner = lists.filtered_list_owner
        if viewer not in (None, owner) and not {f.recipient_agency_id, by_client} <= {None, viewer}:
            return []  # another's list, shown to someone else: not the viewer's to see
        if by_client is None:
            return [[]] if viewer in (None, owner) else [[recipient == viewer]]
        if by_client == owner:  # the owner's own reads are shown to no other agency
            return [[recipient.is_(None)]] if f.recipient_agency_id is None else []
        return [[recipient == by_client]] if f.recipient_agency_id in (None, by_client) else []
    if by_client is not None and f.recipient_agency_id not in (None, by_client):
        return []  # a client's disclosures were shown to its own agency only
    if viewer is None:
        return [[]]
    shown_to = _shown_to(f, by_client)
    if shown_to == viewer:
        return [[]] if by_client == viewer else [[recipient == viewer]]
    if shown_to is not None:  # shown to another agency: from the viewer's lists
        if len(lists.own) > MAX_LISTS_IN_UNION:
            return [[_disclosure.owner_agency_id == viewer, recipient == shown_to]]
        return [[_disclosure.list_id == list_id, recipient == shown_to] for list_id in lists.own]
    return [[_disclosure.owner_agency_id == viewer], [recipient == viewer]]


def disclosures_query(
    viewer_agency_id: str | None,
    disclosure_filter: DisclosureFilter,
    lists: ViewerLists,
    after: tuple[dt.datetime, str] | None,
    limit: int,
) -> Select[AuditDisclosure]:
    """The page's query. Each part of the viewer's share (`_visible_parts`) is an ordered index
    scan that stops at `limit` (`ix_audit_disclosure_list_time`, `_owner`, `_recipient_time`,
    `_recipient`, `_record_time`; migration c0ffee000014; `_ordered_page`): sorting every
    match made each page linear in the log."""
    f = disclosure_filter
    equal_to = {
        "list_id": f.list_id,
        "record_key": f.record_key,
        "recipient_agency_id": f.recipient_agency_id,
        "client_id": f.client_id,
    }
    conditions = [
        _disclosure[name] == value for name, value in equal_to.items() if value is not None
    ]
    if f.since is not None:
        conditions.append(_disclosure.occurred_at >= f.since)
    if f.until is not None:
        conditions.append(_disclosure.occurred_at < f.until)
    query = select(AuditDisclosure)
    parts = _visible_parts(viewer_agency_id, f, lists)
    if not parts:
        return query.where(false()).limit(limit)
    conditions += _after_cursor(_disclosure, after)
    return _ordered_page(query, _disclosure, parts, conditions, limit)


async def recipients_of(
    session: AsyncSession,
    viewer_agency_id: str | None,
    list_id: str,
    owner: str | None,
    record_key: str | None,
) -> list[str]:
    """Which agencies have been shown the record(s), as far as the viewer may know: the owner
    (`list_owner`) knows them all, another agency only itself."""
    only = viewer_agency_id if viewer_agency_id not in (None, owner) else None
    query = recipients_query(list_id, record_key)
    found = {agency for agency in (await session.execute(query)).scalars().all() if agency}
    return sorted(found if only is None else found & {only})


def recipients_query(list_id: str, record_key: str | None) -> Select[str | None]:
    """A record's disclosures are few and read whole, without `DISTINCT`, for which SQLite
    would read the list's by recipient. A list's are not: each agency is one indexed probe
    (`ix_audit_disclosure_recipient`) instead of a `DISTINCT` over all of them."""
    if record_key is not None:
        return select(_disclosure.recipient_agency_id).where(
            _disclosure.list_id == list_id, _disclosure.record_key == record_key
        )
    shown = exists().where(
        _disclosure.list_id == list_id, _disclosure.recipient_agency_id == _agency.id
    )
    return select(_agency.id).where(shown)


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
