"""Webhook subscriptions as their agency manages them: create (URL checked against the
address guard), list, disable, read the delivery log, and replay."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from audit.context import AuditContext
from audit.writer import commit_with_audit
from auth.access import AccessContext
from changes import repository as feed
from changes import webhook_repository as repository
from changes.notify import notify_after_commit
from changes.service import cursor_within, parse_cursor
from changes.signing import new_secret, secret_context, secret_key
from changes.url_guard import IpNetwork, UrlRefusedError, check_url
from problems import ProblemError, invalid_field
from schemas.changes import (
    DeliveryAttemptPublic,
    DeliveryPage,
    DeliveryPublic,
    ReplayRequest,
    ReplayResult,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
    WebhookSubscription,
)
from schemas.types import new_id, utcnow
from sealing import seal


def _public(
    sub: WebhookSubscription, client_disabled_at: dt.datetime | None = None
) -> SubscriptionPublic:
    """`client_disabled_at`: a disabled client's subscriptions send nothing (changes.dispatcher),
    so they show as disabled from then on, whichever came first."""
    stopped = [at for at in (sub.disabled_at, client_disabled_at) if at is not None]
    return SubscriptionPublic(
        id=sub.id,
        url=sub.url,
        event_types=list(sub.event_types),
        purpose=sub.purpose,
        client_id=sub.client_id,
        created_at=sub.created_at,
        disabled_at=min(stopped, default=None),
    )


async def create_subscription(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    body: SubscriptionCreate,
    networks: list[IpNetwork],
) -> SubscriptionCreated:
    """Events are filtered as the feed filters them for the purpose given now; the secret is
    stored sealed where the operator set a key (sealing/)."""
    try:
        await check_url(body.url, networks)
    except UrlRefusedError as exc:
        raise invalid_field("url", str(exc)) from None
    secret = body.secret or new_secret()
    try:
        secret_key(secret)
    except ValueError as exc:
        raise invalid_field("secret", str(exc)) from None
    head = await feed.head(session)
    start = cursor_within(body.since, head) if body.since is not None else head
    assert access.purpose is not None  # the policy entry requires a purpose
    subscription_id = new_id()
    sub = WebhookSubscription(
        id=subscription_id,
        agency_id=access.principal.agency_id,
        client_id=access.principal.client_id,
        url=body.url,
        event_types=list(dict.fromkeys(body.event_types)),
        purpose=access.purpose.value,
        secret=seal(secret, secret_context(subscription_id)),
        feed_cursor=start,
    )
    repository.add(session, sub)
    await session.flush()
    notify_after_commit(session)
    audit.names(subscription_id=subscription_id)
    await commit_with_audit(session, audit, 201)
    generated = secret if body.secret is None else None
    return SubscriptionCreated(**_public(sub).model_dump(), secret=generated)


async def list_subscriptions(
    session: AsyncSession, access: AccessContext
) -> list[SubscriptionPublic]:
    subscriptions = await repository.subscriptions_of(session, access.principal.agency_id)
    return [_public(sub, client_disabled_at) for sub, client_disabled_at in subscriptions]


async def _own(
    session: AsyncSession, access: AccessContext, subscription_id: str
) -> WebhookSubscription:
    sub = await repository.get_subscription(session, subscription_id)
    if sub is None or sub.agency_id != access.principal.agency_id:
        raise ProblemError("not-found", "no such subscription is visible to the caller")
    return sub


async def disable_subscription(
    session: AsyncSession, access: AccessContext, audit: AuditContext, subscription_id: str
) -> SubscriptionPublic:
    sub = await _own(session, access, subscription_id)
    if sub.disabled_at is None:
        # conditional: of two disables at once, the later reads the first's time
        if await repository.mark_subscription_disabled(session, sub.id, utcnow()):
            await commit_with_audit(session, audit, 200)
        await session.refresh(sub)
    return _public(sub)


async def delivery_log(
    session: AsyncSession,
    access: AccessContext,
    subscription_id: str,
    status: str | None,
    limit: int,
) -> DeliveryPage:
    """Newest first, each delivery with every attempt (status code, error, duration)."""
    sub = await _own(session, access, subscription_id)
    deliveries = await repository.deliveries_of(session, sub.id, status, limit)
    attempts = await repository.attempts_of(session, [d.id for d in deliveries])
    return DeliveryPage(
        items=[
            DeliveryPublic(
                id=d.id,
                change_id=d.change_id,
                change_seq=d.change_seq,
                status=d.status,  # type: ignore[arg-type]
                attempts=d.attempts,
                next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
                last_status_code=d.last_status_code,
                last_error=d.last_error,
                created_at=d.created_at,
                delivered_at=d.delivered_at,
                attempt_log=[
                    DeliveryAttemptPublic(
                        attempt=a.attempt,
                        started_at=a.started_at,
                        status_code=a.status_code,
                        error=a.error,
                        duration_ms=a.duration_ms,
                    )
                    for a in attempts[d.id]
                ],
            )
            for d in deliveries
        ]
    )


async def replay(
    session: AsyncSession,
    access: AccessContext,
    audit: AuditContext,
    subscription_id: str,
    body: ReplayRequest,
) -> ReplayResult:
    """Deliveries keep their `webhook-id` when replayed, so receivers can drop duplicates."""
    sub = await _own(session, access, subscription_id)
    if sub.disabled_at is not None:
        raise ProblemError("conflict", "the subscription is disabled")
    count = await repository.requeue(
        session, sub.id, parse_cursor(body.since), body.only_dead, utcnow()
    )
    notify_after_commit(session)
    await commit_with_audit(session, audit, 200)
    return ReplayResult(requeued=count)
