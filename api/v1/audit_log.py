"""Auditor routes: the access log and the disclosures of records."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import Access, SessionDep
from api.protocol import ProtocolRoute
from api.responses import problem_responses
from audit import service
from audit.repository import DisclosureFilter, EventFilter
from schemas.audit import AuditDisclosurePage, AuditEventPage
from schemas.types import ClientDateTime

router = APIRouter(prefix="/audit", tags=["audit"], route_class=ProtocolRoute)
Limit = Annotated[int, Query(ge=1, le=1000)]


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    """A time without an offset is read as UTC, the log's own zone."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


@router.get(
    "/events",
    name="list_audit_events",
    response_model=AuditEventPage,
    responses=problem_responses(401, 403, 422),
)
async def list_audit_events(
    access: Access,
    session: SessionDep,
    client_id: str | None = None,
    agency_id: str | None = None,
    purpose: str | None = None,
    outcome: Literal["allowed", "denied", "error"] | None = None,
    route: str | None = None,
    since: ClientDateTime | None = None,
    until: ClientDateTime | None = None,
    list_id: str | None = None,
    record_id: str | None = None,
    request_id: str | None = None,
    cursor: str | None = None,
    limit: Limit = 100,
) -> AuditEventPage:
    """Every request: who (client, agency), what route, why (purpose), when, with what outcome,
    refused ones included. An agency's auditor sees its own clients' events and every access
    to its agency's records; joint oversight sees all. `record_id` needs `list_id`: a record id
    is unique only within its list."""
    event_filter = EventFilter(
        client_id=client_id,
        agency_id=agency_id,
        purpose=purpose,
        outcome=outcome,
        route=route,
        since=_utc(since),
        until=_utc(until),
        list_id=list_id,
        record_key=record_id,
        request_id=request_id,
    )
    return await service.list_events(session, access, event_filter, cursor, limit)


@router.get(
    "/disclosures",
    name="list_audit_disclosures",
    response_model=AuditDisclosurePage,
    responses=problem_responses(401, 403, 422),
)
async def list_audit_disclosures(
    access: Access,
    session: SessionDep,
    list_id: str | None = None,
    record_id: str | None = None,
    recipient_agency_id: str | None = None,
    client_id: str | None = None,
    since: ClientDateTime | None = None,
    until: ClientDateTime | None = None,
    cursor: str | None = None,
    limit: Limit = 100,
) -> AuditDisclosurePage:
    """Which records were shown, with which fields, to which agency and client, when and why.
    An agency's auditor sees what its own lists showed and what was shown to it; joint
    oversight sees every disclosure. Filters combine: a list (and a record in it), the agency
    shown (`recipient_agency_id`), the client that was shown them (`client_id`: what one
    system or person saw), a time window (`since` inclusive, `until` exclusive; a time
    without an offset is UTC). `record_id` needs `list_id`. `recipients` names the
    agencies shown the list or record, as far as the caller may know."""
    disclosure_filter = DisclosureFilter(
        list_id=list_id,
        record_key=record_id,
        recipient_agency_id=recipient_agency_id,
        client_id=client_id,
        since=_utc(since),
        until=_utc(until),
    )
    return await service.list_disclosures(session, access, disclosure_filter, cursor, limit)
