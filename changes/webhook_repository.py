"""All SQL of webhook delivery: subscriptions, deliveries (claimed by lease), attempts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from database.first_write import changed, update_unless_set
from schemas.changes import ChangeEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription
from schemas.identity import Agency, OAuthClient

_sub = WebhookSubscription.__table__.c  # type: ignore[attr-defined]
_delivery = WebhookDelivery.__table__.c  # type: ignore[attr-defined]
_attempt = WebhookAttempt.__table__.c  # type: ignore[attr-defined]
_event = ChangeEvent.__table__.c  # type: ignore[attr-defined]
_agency = Agency.__table__.c  # type: ignore[attr-defined]
_client = OAuthClient.__table__.c  # type: ignore[attr-defined]


def add(session: AsyncSession, row: WebhookSubscription | WebhookAttempt) -> None:
    session.add(row)


async def get_subscription(
    session: AsyncSession, subscription_id: str
) -> WebhookSubscription | None:
    return await session.get(WebhookSubscription, subscription_id)


async def mark_subscription_disabled(
    session: AsyncSession, subscription_id: str, at: dt.datetime
) -> bool:
    """Disable a subscription still enabled; False if it was disabled already (two at once:
    one wins)."""
    disable = update_unless_set(_sub.id, subscription_id, _sub.disabled_at, disabled_at=at)
    return changed(await session.execute(disable))


async def subscriptions_of(
    session: AsyncSession, agency_id: str
) -> list[tuple[WebhookSubscription, dt.datetime | None]]:
    """The agency's subscriptions, each with when its client was disabled (if it was)."""
    query = (
        select(WebhookSubscription, _client.disabled_at)
        .outerjoin(OAuthClient, _client.id == _sub.client_id)
        .where(_sub.agency_id == agency_id)
        .order_by(_sub.created_at, _sub.id)
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def active_subscriptions(session: AsyncSession) -> list[tuple[WebhookSubscription, str]]:
    """Active subscriptions of enabled clients, with their agency's kind."""
    query = (
        select(WebhookSubscription, _agency.kind)
        .join(Agency, _agency.id == _sub.agency_id)
        .join(OAuthClient, _client.id == _sub.client_id)
        .where(_sub.disabled_at.is_(None), _client.disabled_at.is_(None))
        .order_by(_sub.id)
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def disabled_clients(session: AsyncSession, client_ids: Sequence[str]) -> set[str]:
    """Of these clients, the disabled ones (and any no longer registered)."""
    query = select(_client.id).where(
        _client.id.in_(list(client_ids)), _client.disabled_at.is_(None)
    )
    return set(client_ids) - set((await session.execute(query)).scalars().all())


async def advance_cursor(
    session: AsyncSession, subscription_id: str, expected: int, cursor: int
) -> bool:
    """Compare-and-set, so two dispatchers never fan out the same events twice."""
    result = await session.execute(
        update(WebhookSubscription)
        .where(_sub.id == subscription_id, _sub.feed_cursor == expected)
        .values(feed_cursor=cursor)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def insert_deliveries(session: AsyncSession, rows: Sequence[dict[str, object]]) -> None:
    if rows:
        await session.execute(insert(WebhookDelivery), list(rows))


async def due_deliveries(
    session: AsyncSession, now: dt.datetime, limit: int
) -> list[WebhookDelivery]:
    query = (
        select(WebhookDelivery)
        .where(
            _delivery.status == "pending",
            _delivery.next_attempt_at <= now,
            or_(_delivery.lease_until.is_(None), _delivery.lease_until < now),
        )
        .order_by(_delivery.next_attempt_at, _delivery.change_seq)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars().all())


async def next_due_at(session: AsyncSession, now: dt.datetime) -> dt.datetime | None:
    """When the next unleased pending delivery falls due (leased ones are in flight)."""
    query = select(func.min(_delivery.next_attempt_at)).where(
        _delivery.status == "pending",
        or_(_delivery.lease_until.is_(None), _delivery.lease_until < now),
    )
    value = (await session.execute(query)).scalar_one_or_none()
    if isinstance(value, str):  # SQLite returns aggregate datetimes as text
        value = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    return value


async def claim(
    session: AsyncSession, delivery_ids: Sequence[str], now: dt.datetime, lease_until: dt.datetime
) -> set[str]:
    """Lease those of the deliveries still pending and unleased; returns the ids leased."""
    if not delivery_ids:
        return set()
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            _delivery.id.in_(list(delivery_ids)),
            _delivery.status == "pending",
            or_(_delivery.lease_until.is_(None), _delivery.lease_until < now),
        )
        .values(lease_until=lease_until)
        .returning(_delivery.id)
    )
    return {row[0] for row in result.all()}


async def withhold(
    session: AsyncSession, delivery_ids: Sequence[str], now: dt.datetime, reason: str
) -> None:
    """End, unsent, those of the deliveries still pending and unleased (dead, with `reason`:
    a replay may requeue them, and they are checked again then)."""
    await session.execute(
        update(WebhookDelivery)
        .where(
            _delivery.id.in_(list(delivery_ids)),
            _delivery.status == "pending",
            or_(_delivery.lease_until.is_(None), _delivery.lease_until < now),
        )
        .values(status="dead", last_error=reason)
    )


async def hold(
    session: AsyncSession, delivery_ids: Sequence[str], until: dt.datetime, reason: str
) -> None:
    """Give back, unsent, deliveries this transaction leased: pending and due again at
    `until`, with `reason` in the delivery log. No attempt is counted: none was made."""
    await session.execute(
        update(WebhookDelivery)
        .where(_delivery.id.in_(list(delivery_ids)))
        .values(lease_until=None, next_attempt_at=until, last_error=reason)
    )


# Written by every attempt; the due state only while the delivery is as it was leased.
_OUTCOME_COLUMNS = ("attempts", "lease_until", "last_status_code", "last_error")
_DUE_STATE_COLUMNS = ("status", "delivered_at", "next_attempt_at")


async def finish_attempts(
    session: AsyncSession, results: Sequence[tuple[str, int, dict[str, object], WebhookAttempt]]
) -> None:
    """Each delivery's new state and its attempt row, in two statements for the whole batch.
    A result is (delivery id, its `retry_base` when leased, every column of _OUTCOME_COLUMNS
    and _DUE_STATE_COLUMNS, the attempt). A delivery replayed while its attempt ran
    (`retry_base` moved, see `requeue`) keeps the due state the replay gave it: only the
    attempt's count and outcome are written and its lease is freed, so the replay's attempt
    follows this one."""
    as_leased = _delivery.retry_base == bindparam("_base")
    due_state = {
        name: case((as_leased, bindparam(name, type_=_delivery[name].type)), else_=_delivery[name])
        for name in _DUE_STATE_COLUMNS
    }
    statement = (
        update(WebhookDelivery)
        .where(_delivery.id == bindparam("_id"))
        .values({**{name: bindparam(name) for name in _OUTCOME_COLUMNS}, **due_state})
    )
    conn = await session.connection()
    await conn.execute(
        statement, [{"_id": d, "_base": base, **values} for d, base, values, _ in results]
    )
    await session.execute(insert(WebhookAttempt), [a.model_dump() for *_, a in results])


async def events_by_seq(session: AsyncSession, seqs: Sequence[int]) -> dict[int, ChangeEvent]:
    if not seqs:
        return {}
    query = select(ChangeEvent).where(_event.seq.in_(list(seqs)))
    return {e.seq: e for e in (await session.execute(query)).scalars().all()}


async def subscriptions_by_id(
    session: AsyncSession, ids: Sequence[str]
) -> dict[str, tuple[WebhookSubscription, str]]:
    if not ids:
        return {}
    query = (
        select(WebhookSubscription, _agency.kind)
        .join(Agency, _agency.id == _sub.agency_id)
        .where(_sub.id.in_(list(ids)))
    )
    return {row[0].id: (row[0], row[1]) for row in (await session.execute(query)).all()}


async def deliveries_of(
    session: AsyncSession, subscription_id: str, status: str | None, limit: int
) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).where(_delivery.subscription_id == subscription_id)
    if status is not None:
        query = query.where(_delivery.status == status)
    query = query.order_by(_delivery.change_seq.desc()).limit(limit)
    return list((await session.execute(query)).scalars().all())


async def attempts_of(
    session: AsyncSession, delivery_ids: Sequence[str]
) -> dict[str, list[WebhookAttempt]]:
    found: dict[str, list[WebhookAttempt]] = {d: [] for d in delivery_ids}
    if delivery_ids:
        query = (
            select(WebhookAttempt)
            .where(_attempt.delivery_id.in_(list(delivery_ids)))
            .order_by(_attempt.delivery_id, _attempt.attempt)
        )
        for attempt in (await session.execute(query)).scalars().all():
            found[attempt.delivery_id].append(attempt)
    return found


async def requeue(
    session: AsyncSession, subscription_id: str, after_seq: int, only_dead: bool, now: dt.datetime
) -> int:
    """Make the subscription's deliveries after `after_seq` (only dead ones, if asked) due now,
    each keeping its webhook-id; returns how many. One being sent keeps its lease, so that no
    second attempt starts alongside it under the same attempt number, and its `retry_base`
    counts that attempt: which tells `finish_attempts` to leave it due."""
    condition = and_(_delivery.subscription_id == subscription_id, _delivery.change_seq > after_seq)
    if only_dead:
        condition = and_(condition, _delivery.status == "dead")
    due_now = {"status": "pending", "next_attempt_at": now, "delivered_at": None}
    idle = or_(_delivery.lease_until.is_(None), _delivery.lease_until < now)
    requeued = 0
    for leased, values in (
        (idle, {**due_now, "lease_until": None, "retry_base": _delivery.attempts}),
        (_delivery.lease_until >= now, {**due_now, "retry_base": _delivery.attempts + 1}),
    ):
        result = await session.execute(
            update(WebhookDelivery).where(condition, leased).values(values)
        )
        requeued += int(result.rowcount)  # type: ignore[attr-defined]
    return requeued
