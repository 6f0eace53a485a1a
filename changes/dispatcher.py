"""The webhook delivery worker run in the app's lifespan: fans feed events out to each
subscription (through the same agreement filter as the feed), then delivers due deliveries,
at least once, with exponential back-off and a dead-letter state after N failed attempts."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import random
import time
import uuid
from dataclasses import dataclass

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit.writer import insert_audit_rows
from changes import signing
from changes import webhook_repository as repository
from changes.attempt_results import AttemptResults
from changes.delivery_audit import delivery_audit_rows
from changes.notify import NOTIFIER
from changes.pinned_client import PinnedClients
from changes.repository import head as feed_head
from changes.service import audience_of, events_after, seen_now
from changes.url_guard import UrlRefusedError
from changes.webhook_settings import WebhookSettings
from schemas.changes import ChangeEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription
from schemas.types import utcnow
from schemas.vocabulary import AgencyKind
from sealing import SecretUnreadableError, unseal

log = structlog.get_logger("sanad.webhooks")
FAN_OUT_BATCH = 500
# An idle subscription's cursor is moved past events it cannot see only this far behind the
# head: moving it on every change would write once per subscription per change.
CURSOR_SLACK = 1000


def backoff_seconds(failures: int, settings: WebhookSettings, draw: float) -> float:
    """base * 2^(failures-1), capped, shortened by up to `jitter` so retries spread out."""
    growth: float = 2.0 ** (failures - 1)
    delay = min(settings.backoff_max_seconds, settings.backoff_base_seconds * growth)
    return delay * (1.0 - settings.backoff_jitter * draw)


def payload(event: ChangeEvent) -> bytes:
    body = {
        "type": event.type,
        "timestamp": event.occurred_at.isoformat(),
        "data": {
            "change_id": event.id,
            "seq": event.seq,
            "owner_agency_id": event.owner_agency_id,
            **event.data,
        },
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


NO_LONGER_SHARED = "withheld: the event's list is no longer shared with the subscriber"
CLIENT_DISABLED = "withheld: the subscribing client is disabled"


async def _withheld(
    session: AsyncSession,
    due: list[WebhookDelivery],
    subscriptions: dict[str, tuple[WebhookSubscription, str]],
    now: dt.datetime,
) -> dict[str, str]:
    """The due deliveries that must not be sent now, each with the reason: the subscribing
    client was disabled (a stolen credential may have subscribed its own URL), or the subscriber
    would not see the event in the feed now (its agreement ended or lost the purpose since the
    event was fanned out): a retry or a replay must not disclose what a read would not."""
    withheld: dict[str, str] = {}
    disabled = await repository.disabled_clients(
        session, sorted({subscription.client_id for subscription, _ in subscriptions.values()})
    )
    for subscription_id in {d.subscription_id for d in due}:
        subscription, kind = subscriptions[subscription_id]
        mine = [d for d in due if d.subscription_id == subscription_id]
        if subscription.client_id in disabled:
            withheld.update((d.id, CLIENT_DISABLED) for d in mine)
            continue
        audience = await audience_of(
            session, subscription.agency_id, AgencyKind(kind), subscription.purpose, now
        )
        seen = await seen_now(session, audience, [d.change_seq for d in mine])
        withheld.update((d.id, NO_LONGER_SHARED) for d in mine if d.change_seq not in seen)
    return withheld


@dataclass(frozen=True, slots=True)
class _Job:
    delivery: WebhookDelivery
    subscription: WebhookSubscription
    event: ChangeEvent


class WebhookDispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: WebhookSettings,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._sessions = sessions
        self.settings = settings
        self._networks = settings.networks()
        self._clients = PinnedClients(settings.timeout_seconds, transport)
        self._task: asyncio.Task[None] | None = None
        self._busy = False
        # attempts run as tasks of their own, so one slow receiver delays no other delivery
        self._in_flight: set[asyncio.Task[None]] = set()
        self._wakeup: asyncio.Event | None = None
        self._results = AttemptResults(sessions)
        self._seen_head = -1  # the feed head at the last fan-out: unchanged means nothing new
        self._starved = False  # deliveries wait for a free slot: wake when an attempt ends

    # --- lifecycle ------------------------------------------------------------------------

    def reconfigure(self, settings: WebhookSettings) -> None:
        """Apply new operator settings (allow-list, back-off) from the next attempt on."""
        self.settings = settings
        self._networks = settings.networks()
        self._clients.timeout_seconds = settings.timeout_seconds

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._in_flight:  # an interrupted attempt is retried when its lease runs out
            for task in list(self._in_flight):
                task.cancel()
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        await self._clients.aclose()

    async def run(self) -> None:
        wakeup = self._wakeup = NOTIFIER.subscribe()
        try:
            while True:
                wakeup.clear()
                self._busy = True
                try:
                    await self.run_once()
                    pause = await self._pause()
                except Exception as exc:  # keep delivering after a database hiccup
                    log.error("webhook_dispatch_failed", error=type(exc).__name__)
                    pause = self.settings.poll_seconds
                finally:
                    self._busy = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wakeup.wait(), pause)
                    # gather the commits arriving together into one pass (fewer transactions)
                    await asyncio.sleep(self.settings.linger_seconds)
        finally:
            NOTIFIER.unsubscribe(wakeup)

    async def settle(self, within: float = 5.0) -> None:
        """Wait until no pass or attempt is running (tests build their data with blocking
        writes on the same event loop). Polls: there is no event for "nothing running"."""
        deadline = time.monotonic() + within
        while (self._busy or self._in_flight) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    async def _pause(self) -> float:
        async with self._sessions() as session:
            due = await repository.next_due_at(session, utcnow())
        if due is None:
            return self.settings.poll_seconds
        return max(0.0, min(self.settings.poll_seconds, (due - utcnow()).total_seconds()))

    async def run_once(self) -> int:
        """One pass: fan out new events, start attempts for what is due. Returns how many."""
        await self.fan_out()
        return await self.deliver_due()

    # --- fan-out ----------------------------------------------------------------------------

    async def fan_out(self) -> int:
        async with self._sessions() as session:
            head = await feed_head(session)
            if head == self._seen_head:
                return 0
            subscriptions = await repository.active_subscriptions(session)
        created = 0
        for subscription, kind in subscriptions:
            more = True
            while more:
                count, more = await self._fan_out_one(subscription, AgencyKind(kind))
                created += count
        self._seen_head = head  # only once every subscription has caught up to it
        return created

    async def _fan_out_one(
        self, subscription: WebhookSubscription, kind: AgencyKind
    ) -> tuple[int, bool]:
        """Deliveries created for the next batch of events, and whether more may follow."""
        async with self._sessions() as session:
            fresh = await repository.get_subscription(session, subscription.id)
            if fresh is None or fresh.disabled_at is not None:
                return 0, False
            start = fresh.feed_cursor
            audience = await audience_of(session, fresh.agency_id, kind, fresh.purpose, utcnow())
            events, cursor = await events_after(
                session, audience, start, fresh.event_types, FAN_OUT_BATCH
            )
            if not events and cursor - start < CURSOR_SLACK:
                return 0, False
            if not await repository.advance_cursor(session, fresh.id, start, cursor):
                await session.rollback()
                return 0, False
            # the first deliveries are leased at once and started right after the commit:
            # a detention report reaches its subscriber without waiting for another pass
            now = utcnow()
            free = max(0, self.settings.concurrency - len(self._in_flight))
            deliveries = [
                WebhookDelivery(
                    id="msg_" + uuid.uuid4().hex,
                    subscription_id=fresh.id,
                    change_seq=event.seq,
                    change_id=event.id,
                    status="pending",
                    attempts=0,
                    retry_base=0,
                    next_attempt_at=now,
                    created_at=now,
                    lease_until=self._lease_end(now) if index < free else None,
                )
                for index, event in enumerate(events)
            ]
            await repository.insert_deliveries(session, [d.model_dump() for d in deliveries])
            jobs = [_Job(d, fresh, e) for d, e in zip(deliveries[:free], events, strict=False)]
            await self._audit(session, jobs, kind)
            await session.commit()
        self._start(jobs)
        return len(deliveries), len(events) == FAN_OUT_BATCH

    def _lease_end(self, now: dt.datetime) -> dt.datetime:
        return now + dt.timedelta(seconds=self.settings.lease_seconds)

    @staticmethod
    async def _audit(session: AsyncSession, jobs: list[_Job], kind: AgencyKind) -> None:
        """Audit events for the attempts about to start, in the leasing transaction."""
        events, disclosures = [], []
        for job in jobs:
            event, rows = delivery_audit_rows(job.delivery, job.subscription, kind, job.event)
            events.append(event)
            disclosures.extend(rows)
        if events:
            await insert_audit_rows(await session.connection(), events, disclosures)

    # --- delivery ---------------------------------------------------------------------------

    async def deliver_due(self) -> int:
        """Start attempts for due deliveries, up to `concurrency` in flight at once."""
        free = self.settings.concurrency - len(self._in_flight)
        jobs = await self._claim_due(free) if free > 0 else []
        self._start(jobs)
        self._starved = free <= 0 or len(jobs) == free
        return len(jobs)

    def _start(self, jobs: list[_Job]) -> None:
        for job in jobs:
            task = asyncio.get_running_loop().create_task(self._attempt(job))
            self._in_flight.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook_attempt_failed", error=type(task.exception()).__name__)
        if self._starved and self._wakeup is not None:
            self._wakeup.set()  # a slot is free for a waiting delivery

    async def _claim_due(self, limit: int) -> list[_Job]:
        """Lease due deliveries and commit their audit events in the same transaction."""
        now = utcnow()
        async with self._sessions() as session:
            due = await repository.due_deliveries(session, now, limit)
            if not due:
                return []
            subscriptions = await repository.subscriptions_by_id(
                session, sorted({d.subscription_id for d in due})
            )
            events = await repository.events_by_seq(session, [d.change_seq for d in due])
            withheld = await _withheld(session, due, subscriptions, now)
            for reason in set(withheld.values()):
                ids = sorted(d for d, why in withheld.items() if why == reason)
                await repository.withhold(session, ids, now, reason)
            wanted = [d.id for d in due if d.change_seq in events and d.id not in withheld]
            leased = await repository.claim(session, wanted, now, self._lease_end(now))
            by_kind: dict[AgencyKind, list[_Job]] = {}
            for delivery in due:
                if delivery.id in leased:
                    subscription, kind = subscriptions[delivery.subscription_id]
                    job = _Job(delivery, subscription, events[delivery.change_seq])
                    by_kind.setdefault(AgencyKind(kind), []).append(job)
            for kind, group in by_kind.items():
                await self._audit(session, group, kind)
            await session.commit()
        return [job for group in by_kind.values() for job in group]

    async def _send(self, job: _Job) -> tuple[int | None, str | None]:
        subscription = job.subscription
        if subscription.disabled_at is not None:
            return None, "subscription disabled"
        body = payload(job.event)
        try:
            secret = unseal(subscription.secret, signing.secret_context(subscription.id))
        except SecretUnreadableError as exc:
            return None, f"secret unreadable: {exc}"
        headers = signing.headers(secret, job.delivery.id, int(time.time()), body)
        try:
            # httpx's timeout bounds each read, so a subscriber answering a byte at a time
            # could outlast the lease and have the delivery claimed again: bound the whole send
            async with asyncio.timeout(self.settings.timeout_seconds):
                # checked again now (DNS may point elsewhere), and sent where the check found
                response = await self._clients.post(
                    subscription.url,
                    self._networks,
                    content=body,
                    headers=headers,
                )
        except UrlRefusedError as exc:
            return None, f"refused: {exc}"
        except TimeoutError:
            return None, "timeout"
        except httpx.HTTPError as exc:
            return None, type(exc).__name__
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, f"HTTP {response.status_code}"

    async def _attempt(self, job: _Job) -> None:
        started, clock = utcnow(), time.perf_counter()
        status_code, error = await self._send(job)
        duration_ms = round((time.perf_counter() - clock) * 1000, 2)
        delivery = job.delivery
        attempts = delivery.attempts + 1
        failures = attempts - delivery.retry_base
        values: dict[str, object] = {
            "status": "pending",
            "attempts": attempts,
            "lease_until": None,
            "last_status_code": status_code,
            "last_error": error,
            "delivered_at": None,
            "next_attempt_at": delivery.next_attempt_at,
        }
        if error is None:
            values.update(status="delivered", delivered_at=utcnow())
        elif failures >= self.settings.max_attempts or job.subscription.disabled_at is not None:
            values["status"] = "dead"
        else:
            delay = backoff_seconds(failures, self.settings, random.random())  # noqa: S311
            values["next_attempt_at"] = utcnow() + dt.timedelta(seconds=delay)
        attempt = WebhookAttempt(
            delivery_id=delivery.id,
            attempt=attempts,
            started_at=started,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
        )
        await self._results.record(delivery.id, delivery.retry_base, values, attempt)
        if values["status"] == "pending" and self._wakeup is not None:
            self._wakeup.set()  # re-plan the pause around this retry's due time
        log.info(
            "webhook_attempt",
            delivery_id=delivery.id,
            subscription_id=job.subscription.id,
            attempt=attempts,
            status_code=status_code,
            outcome=values["status"],
            duration_ms=duration_ms,
        )
