"""Publish changes into the feed (inside the writer's transaction), read the feed as one
caller may see it, and record and report acknowledgements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from audit.context import AuditContext
from audit.writer import commit_with_audit
from auth.access import AccessContext
from auth.policy import visible_fields
from changes import repository
from changes.notify import notify_after_commit
from changes.repository import EventTail
from database.last_writes import write_last
from exchange.ids import time_ordered_ids
from problems import ProblemError, invalid_field
from schemas.changes import (
    AcknowledgementPublic,
    ChangeAcknowledgement,
    ChangeEvent,
    ChangePage,
    ChangePublic,
    ChangeStatus,
)
from schemas.letters import ProtectionLetter
from schemas.types import utcnow
from schemas.vocabulary import AgencyKind, Purpose

MAX_PAGE = 1000
DEFAULT_PAGE = 100
_RECORD_TYPES = {
    "created": "record.created",
    "corrected": "record.corrected",
    "withdrawn": "record.withdrawn",
}


@dataclass(frozen=True, slots=True)
class Change:
    type: str
    owner_agency_id: str
    audience: str
    data: dict[str, object] = field(default_factory=dict)
    list_id: str | None = None
    record_id: str | None = None
    actor_agency_id: str | None = None


@dataclass(frozen=True, slots=True)
class Audience:
    """Lists whose events a caller sees as a recipient, for one purpose of use."""

    agency_id: str
    shared: tuple[str, ...]
    letter_shared: tuple[str, ...]


def _event_tail(c: Change) -> EventTail:
    return (
        c.type,
        c.owner_agency_id,
        c.actor_agency_id,
        c.audience,
        c.list_id,
        c.record_id,
        orjson.dumps(c.data).decode(),
    )


def publish(session: AsyncSession, changes: Sequence[Change]) -> None:
    """Add events to the feed in the caller's transaction. They are numbered and written as
    its last writes (`database.last_writes`): numbering holds the feed's sequence lock until
    the commit."""
    _append(session, [_event_tail(change) for change in changes])


def _append(session: AsyncSession, tails: Sequence[EventTail]) -> None:
    if not tails:
        return

    async def number_and_write(session: AsyncSession) -> None:
        ids = time_ordered_ids(len(tails))
        first = await repository.reserve_sequence(session, len(tails))
        await repository.insert_events(session, first, utcnow(), ids, tails)
        notify_after_commit(session)

    write_last(session, number_and_write)


class RecordEvents:
    """Feed events of records of one list, one per record in the order added, built ahead of
    `publish`: a bulk import adds each chunk's records in its worker thread while the database
    stores the previous chunk, so only numbering and writing are left for the end (where the
    feed's sequence lock is held). Rows are built directly, without a `Change` per record (that
    and per-row JSON encoding cost more than writing the events)."""

    def __init__(self, kind: str, list_id: str, owner_agency_id: str) -> None:
        self._type = _RECORD_TYPES[kind]
        self._list_id = list_id
        self._owner = owner_agency_id
        self._prefix = orjson.dumps({"list_id": list_id})[:-1].decode() + ',"record_id":'
        self.tails: list[EventTail] = []

    def add(self, records: Iterable[tuple[str, str, int]]) -> None:
        """`records` holds (record uuid, the agency's record id, new version)."""
        event_type, owner, list_id, prefix = self._type, self._owner, self._list_id, self._prefix
        self.tails.extend(
            (
                event_type,
                owner,
                None,
                "list_recipients",
                list_id,
                record_id,
                f'{prefix}{orjson.dumps(key).decode()},"version":{version:d}}}',
            )
            for record_id, key, version in records
        )

    def publish(self, session: AsyncSession) -> None:
        """Add the events to the caller's transaction, written as its last writes."""
        _append(session, self.tails)


def record_changed(
    session: AsyncSession,
    *,
    kind: str,
    list_id: str,
    owner_agency_id: str,
    records: Iterable[tuple[str, str, int]],
) -> None:
    """Hook for the exchange: `kind` is created / corrected / withdrawn; `records` holds
    (record uuid, the agency's record id, new version). Recipients of the list see it."""
    events = RecordEvents(kind, list_id, owner_agency_id)
    events.add(records)
    events.publish(session)


def letter_changed(
    session: AsyncSession, change_type: str, letter: ProtectionLetter, holder_key: str
) -> None:
    """Letters reach the recipients whose agreement shows them the `letter_id` field."""
    data: dict[str, object] = {
        "letter_id": letter.id,
        "list_id": letter.list_id,
        "record_id": holder_key,
        "expires_at": letter.expires_at.isoformat(),
    }
    if letter.revoked_at is not None:
        data["revoked_at"] = letter.revoked_at.isoformat()
    change = Change(
        change_type, letter.agency_id, "letter_recipients", data, letter.list_id, letter.record_id
    )
    publish(session, [change])


async def audience_of(
    session: AsyncSession,
    agency_id: str,
    agency_kind: AgencyKind,
    purpose: Purpose | str | None,
    now: dt.datetime,
) -> Audience:
    agreements = [
        a
        for a in await repository.recipient_agreements(session, agency_id, now)
        if purpose in a.purposes
    ]
    letter_lists = {
        a.list_id
        for a in agreements
        if "letter_id" in visible_fields(agency_kind, frozenset(a.fields))
    }
    return Audience(
        agency_id, tuple(sorted({a.list_id for a in agreements})), tuple(sorted(letter_lists))
    )


async def seen_now(session: AsyncSession, audience: Audience, seqs: Sequence[int]) -> set[int]:
    """Of the events `seqs`, those `audience` sees now: a webhook delivery discloses its event
    when it is sent, which may be long after the event was fanned out to the subscriber."""
    return await repository.visible_seqs(
        session,
        seqs,
        agency_id=audience.agency_id,
        shared=audience.shared,
        letter_shared=audience.letter_shared,
    )


MAX_CURSOR = 2**63 - 1  # the feed's sequence is a 64-bit integer on both databases


def parse_cursor(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    # ASCII digits only: str.isdigit() also accepts `²`, which int() refuses; and no more than
    # a sequence number holds (SQLite cannot bind a larger integer: it was a 500)
    digits = cursor.isascii() and cursor.isdigit() and len(cursor) <= 19
    if not digits or int(cursor) > MAX_CURSOR:
        raise invalid_field("since", "a cursor this feed returned")
    return int(cursor)


def cursor_within(cursor: str | None, head: int) -> int:
    """A cursor a reader resumes from: past the head it names events not yet numbered, which
    would pass unseen once they are (a reader starts over from a cursor this feed returned)."""
    after = parse_cursor(cursor)
    if after > head:
        raise invalid_field("since", "ahead of this feed: a cursor it returned")
    return after


def public(event: ChangeEvent) -> ChangePublic:
    return ChangePublic(
        id=event.id,
        seq=event.seq,
        type=event.type,
        occurred_at=event.occurred_at,
        owner_agency_id=event.owner_agency_id,
        list_id=event.list_id,
        data=dict(event.data),
    )


async def events_after(
    session: AsyncSession,
    audience: Audience,
    after: int,
    types: Sequence[str] | None,
    limit: int,
    upto: int | None = None,
) -> tuple[list[ChangeEvent], int]:
    """Visible events after `after` and the cursor to resume from. The head is read first
    (`upto`, when the caller has just read it): every event up to it is committed, so the page
    never jumps over a later-committing one."""
    if upto is None:
        upto = await repository.head(session)
    events = await repository.read_events(
        session,
        after=after,
        upto=upto,
        agency_id=audience.agency_id,
        shared=audience.shared,
        letter_shared=audience.letter_shared,
        types=types,
        limit=limit,
    )
    next_cursor = events[-1].seq if len(events) == limit else max(upto, after)
    return events, next_cursor


def disclose_events(audit: AuditContext, events: Iterable[ChangeEvent]) -> None:
    """Events name records (and encounters describe a person's detention): audit each."""
    for event in events:
        if event.list_id and event.record_id:
            audit.disclose(
                list_id=event.list_id,
                record_id=event.record_id,
                record_key=str(event.data.get("record_id", "")),
                owner_agency_id=event.owner_agency_id,
                fields=(event.type,),
            )


async def read_feed(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    since: str | None,
    types: Sequence[str] | None,
    limit: int,
) -> ChangePage:
    principal = access.principal
    audience = await audience_of(
        session, principal.agency_id, principal.agency_kind, access.purpose, utcnow()
    )
    head = await repository.head(session)
    after = cursor_within(since, head)
    events, next_cursor = await events_after(session, audience, after, types, limit, head)
    disclose_events(audit, events)
    return ChangePage(items=[public(e) for e in events], next_cursor=str(next_cursor))


async def _visible_event(
    session: AsyncSession, access: AccessContext, change_id: str
) -> ChangeEvent:
    event = await repository.get_event(session, change_id)
    if event is not None:
        principal = access.principal
        audience = await audience_of(
            session, principal.agency_id, principal.agency_kind, access.purpose, utcnow()
        )
        found, _ = await events_after(session, audience, event.seq - 1, None, 1)
        if found and found[0].seq == event.seq:
            return event
    raise ProblemError("not-found", "no such change is visible to the caller")


async def acknowledge(
    session: AsyncSession, access: AccessContext, audit: AuditContext, change_id: str
) -> AcknowledgementPublic:
    """Idempotent: a second acknowledgement by the same agency returns the first."""
    event = await _visible_event(session, access, change_id)
    agency_id = access.principal.agency_id
    if event.owner_agency_id == agency_id:
        raise ProblemError("conflict", "the owner of a change does not acknowledge it")
    ack = await repository.find_acknowledgement(session, event.id, agency_id)
    if ack is None:
        ack = ChangeAcknowledgement(
            change_id=event.id, agency_id=agency_id, client_id=access.principal.client_id
        )
        if await repository.add_acknowledgement(session, ack):
            await commit_with_audit(session, audit, 200)
        else:  # acknowledged meanwhile by another request of the agency's: the first stands
            first = await repository.find_acknowledgement(session, event.id, agency_id)
            assert first is not None
            ack = first
    return AcknowledgementPublic(agency_id=ack.agency_id, acknowledged_at=ack.acknowledged_at)


async def _recipients(session: AsyncSession, event: ChangeEvent) -> list[str]:
    """Agencies that receive this event now, besides its owner."""
    found: set[str] = {event.actor_agency_id} if event.actor_agency_id else set()
    if event.list_id and event.audience != "owner_only":
        agreements = await repository.list_recipients(session, event.list_id, utcnow())
        kinds = await repository.agency_kinds(
            session, sorted({a.recipient_agency_id for a in agreements})
        )
        for agreement in agreements:
            kind = AgencyKind(kinds[agreement.recipient_agency_id])
            shown = visible_fields(kind, frozenset(agreement.fields))
            if event.audience == "list_recipients" or "letter_id" in shown:
                found.add(agreement.recipient_agency_id)
    found.discard(event.owner_agency_id)
    return sorted(found)


async def change_status(
    session: AsyncSession, access: AccessContext, audit: AuditContext, change_id: str
) -> ChangeStatus:
    """The owner sees every recipient and acknowledgement; a recipient only its own."""
    event = await _visible_event(session, access, change_id)
    disclose_events(audit, [event])
    acks = await repository.acknowledgements(session, event.id)
    agency_id = access.principal.agency_id
    is_owner = event.owner_agency_id == agency_id
    recipients = await _recipients(session, event) if is_owner else [agency_id]
    return ChangeStatus(
        change=public(event),
        recipients=recipients,
        acknowledgements=[
            AcknowledgementPublic(agency_id=a.agency_id, acknowledged_at=a.acknowledged_at)
            for a in acks
            if is_owner or a.agency_id == agency_id
        ],
    )
