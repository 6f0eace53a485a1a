"""The webhook delivery worker run in the app's lifespan: fans feed events out to each
subscription (through the same agreement filter as the feed), then delivers due deliveries,
at least once, with exponential back-off and a dead-letter state after N failed attempts.

A delivery discloses personal data as a response does, so it stops when responses do: nothing
is fanned out or sent while the audit's transparency log is behind, and each delivery is
reviewed for bulk reads before it is leased to be sent."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit.bulk_reads import BulkReadDetector, alert_rows, counts_restart, session_seeder
from audit.context import disclosure_rows, event_row
from audit.writer import insert_audit_rows
from changes import signing
from changes import webhook_repository as repository
from changes.attempt_results import AttemptResults
from changes.delivery_audit import STATUS as AUDITED_STATUS
from changes.delivery_audit import delivery_context
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
SUBSCRIPTION_DISABLED = "withheld: the subscription is disabled"
OVER_LIMIT = "held: the subscriber is over a daily bulk-read limit"


async def _withheld(
    session: AsyncSession,
    due: list[WebhookDelivery],
    subscriptions: dict[str, tuple[WebhookSubscription, str]],
    now: dt.datetime,
) -> dict[str, str]:
    """The due deliveries that must not be sent now, each with the reason: the subscription
    or its client was disabled (a stolen credential may have subscribed its own URL), or the
    subscriber would not see the event in the feed now (its agreement ended or lost the purpose
    since the event was fanned out): a retry or a replay must not disclose what a read would
    not."""
    withheld: dict[str, str] = {}
    disabled = await repository.disabled_clients(
        session, sorted({subscription.client_id for subscription, _ in subscriptions.values()})
    )
    for subscription_id in {d.subscription_id for d in due}:
        subscription, kind = subscriptions[subscription_id]
        mine = [d for d in due if d.subscription_id == subscription_id]
        if subscription.disabled_at is not None:  # ended before it is leased and audited
            withheld.update((d.id, SUBSCRIPTION_DISABLED) for d in mine)
            continue
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
    kind: AgencyKind  # the subscribing agency's


class WebhookDispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: WebhookSettings,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        behind_reason: Callable[[], str | None],
        bulk_reads: BulkReadDetector,
    ) -> None:
        """`behind_reason` says why the transparency log is behind (None while it keeps up,
        `TransparencyLog.behind_reason`); `bulk_reads` is the detector the API's responses are
        reviewed by, so that reads and deliveries count together."""
        self._sessions = sessions
        self.settings = settings
        self._behind_reason = behind_reason
        self._bulk_reads = bulk_reads
        self._paused = False  # by the log being behind, at the last look
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
        if self._log_behind():  # deliveries may be due, but none may leave: just poll
            return self.settings.poll_seconds
        async with self._sessions() as session:
            due = await repository.next_due_at(session, utcnow())
        if due is None:
            return self.settings.poll_seconds
        return max(0.0, min(self.settings.poll_seconds, (due - utcnow()).total_seconds()))

    async def run_once(self) -> int:
        """One pass: fan out new events, start attempts for what is due. Returns how many."""
        await self.fan_out()
        return await self.deliver_due()

    def _log_behind(self) -> bool:
        """Whether the audit's transparency log is behind. The API then serves no personal
        data (an access's audit event would not reach the signed log in time), and neither
        does this worker: it leases nothing, so new events wait unfanned and due deliveries
        (retries and replays too) wait unsent; the first pass after the log caught up sends
        them. Attempts already under way finish, as responses already past the check do."""
        reason = self._behind_reason()
        if (reason is not None) != self._paused:  # say so once, not on every poll
            if reason is not None:
                log.warning("webhooks_paused_audit_log_behind", reason=reason)
            else:
                log.info("webhooks_resumed_audit_log_current")
            self._paused = reason is not None
        return self._paused

    # --- fan-out ----------------------------------------------------------------------------

    async def fan_out(self) -> int:
        if self._log_behind():
            return 0
        async with self._sessions() as session:
            head = await feed_head(session)
            if head == self._seen_head:
                return 0
            subscriptions = await repository.active_subscriptions(session)
        created = 0
        for subscription, kind in subscriptions:
            more = True
            while more:
                if self._log_behind():  # fell behind during this pass: the head is not reached
                    return created
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
            leased = zip(deliveries[:free], events, strict=False)
            jobs = await self._audit(session, [_Job(d, fresh, e, kind) for d, e in leased])
            await session.commit()
        self._start(jobs)
        return len(deliveries), len(events) == FAN_OUT_BATCH

    def _lease_end(self, now: dt.datetime) -> dt.datetime:
        return now + dt.timedelta(seconds=self.settings.lease_seconds)

    async def _audit(self, session: AsyncSession, jobs: list[_Job]) -> list[_Job]:
        """Of the jobs just leased, those to start, their audit events written in the leasing
        transaction (so committed before anything is sent). Each is first reviewed for bulk
        reads as a response is: one taking its subscriber past a daily limit raises the alert
        (an audit event, once per limit and day) and, with blocking on, is held instead,
        unsent and uncounted, until the day's counts restart (a replay requeues it sooner, to
        be reviewed again)."""
        events, disclosures, sent, held = [], [], [], []
        # on this transaction's connection: the pool has none to spare for a worker holding one
        seeder = session_seeder(session)
        for job in jobs:
            ctx = delivery_context(job.delivery, job.subscription, job.kind, job.event)
            verdict = await self._bulk_reads.review(ctx, AUDITED_STATUS, seeder=seeder)
            events += alert_rows(ctx, verdict, AUDITED_STATUS)
            if verdict.blocked:
                held.append(job)
                continue
            sent.append(job)
            events.append(event_row(ctx, AUDITED_STATUS))
            disclosures += disclosure_rows(ctx, AUDITED_STATUS)
        if events:
            await insert_audit_rows(await session.connection(), events, disclosures)
        if held:
            ids = [job.delivery.id for job in held]
            await repository.hold(session, ids, counts_restart(utcnow()), OVER_LIMIT)
            subscriptions = sorted({job.subscription.id for job in held})
            log.warning("webhook_deliveries_held", deliveries=ids, subscriptions=subscriptions)
        return sent

    # --- delivery ---------------------------------------------------------------------------

    async def deliver_due(self) -> int:
        """Start attempts for due deliveries, up to `concurrency` in flight at once."""
        if self._log_behind():
            return 0
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
            jobs = []
            for delivery in due:
                if delivery.id in leased:
                    subscription, kind = subscriptions[delivery.subscription_id]
                    event = events[delivery.change_seq]
                    jobs.append(_Job(delivery, subscription, event, AgencyKind(kind)))
            jobs = await self._audit(session, jobs)
            await session.commit()
        return jobs

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
