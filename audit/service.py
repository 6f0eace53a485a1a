"""The auditor's questions: who accessed what, when, why and with what outcome; who saw a record."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from audit import repository
from audit.cursor import decode_cursor, encode_cursor
from audit.repository import DisclosureFilter, EventFilter
from auth.access import AccessContext
from auth.policy import OVERSIGHT_AGENCIES
from problems.catalogue import invalid_field
from schemas.audit import (
    AuditDisclosurePage,
    AuditDisclosurePublic,
    AuditEventPage,
    AuditEventPublic,
)


def _viewer_scope(access: AccessContext) -> str | None:
    """None means "every agency": joint oversight sees the whole log."""
    principal = access.principal
    return None if principal.agency_kind in OVERSIGHT_AGENCIES else principal.agency_id


def _record_within_its_list(list_id: str | None, record_key: str | None) -> None:
    """A record id is the agency's own, unique only within its list: across lists it would name
    unrelated people, and no index reads the log by it alone."""
    if record_key is not None and list_id is None:
        raise invalid_field(
            "record_id", "a record id names a record only within a list: give list_id"
        )


async def list_events(
    session: AsyncSession,
    access: AccessContext,
    event_filter: EventFilter,
    cursor: str | None,
    limit: int,
) -> AuditEventPage:
    _record_within_its_list(event_filter.list_id, event_filter.record_key)
    after = decode_cursor(cursor) if cursor else None
    rows = await repository.find_events(
        session, _viewer_scope(access), event_filter, after, limit + 1
    )
    page = rows[:limit]
    last = page[-1][0] if page else None
    next_cursor = encode_cursor(last.occurred_at, last.id) if last and len(rows) > limit else None
    items = [
        AuditEventPublic.model_validate(
            {**row.model_dump(), "leaf_index": leaf_index}  # leaf_index: None until sequenced
        )
        for row, leaf_index in page
    ]
    return AuditEventPage(items=items, next_cursor=next_cursor)


async def list_disclosures(
    session: AsyncSession,
    access: AccessContext,
    disclosure_filter: DisclosureFilter,
    cursor: str | None,
    limit: int,
) -> AuditDisclosurePage:
    _record_within_its_list(disclosure_filter.list_id, disclosure_filter.record_key)
    viewer = _viewer_scope(access)
    after = decode_cursor(cursor) if cursor else None
    lists = await repository.viewer_lists(session, viewer, disclosure_filter)
    rows = await repository.find_disclosures(
        session, viewer, disclosure_filter, lists, after, limit + 1
    )
    page = rows[:limit]
    list_id, record_key = disclosure_filter.list_id, disclosure_filter.record_key
    owner = lists.filtered_list_owner
    recipients = (
        await repository.recipients_of(session, viewer, list_id, owner, record_key)
        if list_id
        else []
    )
    next_cursor = encode_cursor(page[-1].occurred_at, page[-1].id) if len(rows) > limit else None
    return AuditDisclosurePage(
        items=[AuditDisclosurePublic.model_validate(row, from_attributes=True) for row in page],
        recipients=recipients,
        next_cursor=next_cursor,
    )
