"""Bulk-read detection (the insider-export scenario): counts the distinct records disclosed per
client and per sharing agreement (list x recipient agency) in a UTC day; crossing a limit writes
an alert audit event once, and may refuse the request that would cross it.

Counts live in memory for speed, seeded from `audit_disclosure` the first time a key is seen
and re-seeded every `resync_seconds`, so what other worker processes disclosed is folded in.

Reviewed are reads (by the audit middleware, before the response leaves), writes that disclose
records (by `commit_with_audit`, before their commit: afterwards they could not be refused) and
webhook deliveries (by the dispatcher, before it sends)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass, field

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit import repository
from audit.context import AuditContext, event_row
from config.settings import Settings

log = structlog.get_logger("sanad.bulk_reads")

ALERT_ROUTE = "(bulk-read-alert)"
ALERT_METHOD = "ALERT"
BLOCKED_STATUS = 429  # what a refused disclosure is answered and audited with


@dataclass(frozen=True, slots=True)
class BulkReadLimits:
    per_client: int
    per_agreement: int
    block: bool = False
    resync_seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> BulkReadLimits:
        return cls(
            per_client=settings.bulk_read_client_daily_limit,
            per_agreement=settings.bulk_read_agreement_daily_limit,
            block=settings.bulk_read_block,
            resync_seconds=settings.bulk_read_resync_seconds,
        )


@dataclass(frozen=True, slots=True)
class TallyKey:
    """Whose reads are counted: ("client", client_id) or ("agreement", list_id, recipient)."""

    kind: str
    parts: tuple[str, ...]
    day: dt.date


# A seeder returns the distinct record identities the database holds for a key since the start
# of its day (at most `cap` of them): (list_id, record_key) for a client, record_key for an
# agreement.
Seeder = Callable[[TallyKey, dt.datetime, int], Awaitable[set[Hashable]]]


@dataclass(slots=True)
class _Tally:
    seen: set[Hashable] = field(default_factory=set)
    synced_at: float = 0.0
    alerted: bool = False


@dataclass(frozen=True, slots=True)
class Alert:
    key: TallyKey
    count: int
    limit: int

    @property
    def reason(self) -> str:
        return f"bulk-read-limit-{self.key.kind}"


@dataclass(frozen=True, slots=True)
class Verdict:
    blocked: bool = False
    alerts: tuple[Alert, ...] = ()


_CLEAR = Verdict()


def _wanted(ctx: AuditContext, day: dt.date) -> dict[TallyKey, set[Hashable]]:
    """The identities this response discloses, under each key that counts them."""
    principal = ctx.principal
    assert principal is not None
    client = TallyKey("client", (principal.client_id,), day)
    wanted: dict[TallyKey, set[Hashable]] = {client: set()}
    for d in ctx.disclosures:
        wanted[client].add((d.list_id, d.record_key))
        if d.owner_agency_id != principal.agency_id:  # an agency reading its own list: no agreement
            key = TallyKey("agreement", (d.list_id, principal.agency_id), day)
            wanted.setdefault(key, set()).add(d.record_key)
    return wanted


class BulkReadDetector:
    def __init__(
        self,
        limits: BulkReadLimits,
        seeder: Seeder,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self._seeder = seeder
        self._clock = clock
        self._tallies: dict[TallyKey, _Tally] = {}
        self._reseeding: dict[TallyKey, asyncio.Future[_Tally]] = {}
        self._day: dt.date | None = None

    def _limit(self, key: TallyKey) -> int:
        return self.limits.per_client if key.kind == "client" else self.limits.per_agreement

    def _fresh(self, key: TallyKey) -> _Tally | None:
        """The tally when it needs no re-seeding: the usual case, answered without an await."""
        tally = self._tallies.get(key)
        if tally is None or not tally.synced_at:
            return None
        if self._clock() - tally.synced_at >= self.limits.resync_seconds:
            return None
        return tally

    async def _reseeded(self, key: TallyKey, seeder: Seeder | None) -> _Tally:
        """The tally with what the database holds folded in (other workers' disclosures).
        Requests that need the same key meanwhile share one query: under load every request
        arriving during the query's round trip also found the tally stale and queried too (a
        first burst of 32 checkpoint requests stalled for a second, and again at every resync).
        A caller with a seeder of its own queries alone, through it (see `review`)."""
        if seeder is not None:
            return await self._reseed(key, seeder)
        running = self._reseeding.get(key)
        if running is None:
            running = self._reseeding[key] = asyncio.ensure_future(self._reseed(key, self._seeder))
            running.add_done_callback(lambda done: self._reseed_done(key, done))
        # shielded: a waiter that is cancelled does not cancel the query the others wait on
        return await asyncio.shield(running)

    def _reseed_done(self, key: TallyKey, done: asyncio.Future[_Tally]) -> None:
        if self._reseeding.get(key) is done:
            del self._reseeding[key]
        if not done.cancelled():
            done.exception()  # retrieved: when every waiter was cancelled, nobody else will

    async def _reseed(self, key: TallyKey, seeder: Seeder) -> _Tally:
        tally = self._tallies.setdefault(key, _Tally())
        now = self._clock()
        day_start = dt.datetime.combine(key.day, dt.time(), tzinfo=dt.UTC)
        tally.seen |= await seeder(key, day_start, self._limit(key) + 1)
        tally.synced_at = now
        return tally

    async def review(
        self, ctx: AuditContext, status: int, *, seeder: Seeder | None = None
    ) -> Verdict:
        """Decide on a response about to leave: count what it discloses, alert once per key
        and day on crossing a limit, and (when blocking) refuse a response that would cross.

        A caller that holds a pooled connection (a write inside its transaction, the webhook
        worker) passes a `seeder` on that connection: waiting for another one could wait for
        ever once every connection of the pool (which has no overflow) is held by such callers,
        each waiting for a query that needs a connection."""
        if status >= 400 or not ctx.disclosures or ctx.principal is None:
            return _CLEAR
        day = ctx.occurred_at.astimezone(dt.UTC).date()
        if day != self._day:  # yesterday's counts are done with
            self._tallies.clear()
            self._day = day
        wanted = _wanted(ctx, day)
        tallies = {key: self._fresh(key) or await self._reseeded(key, seeder) for key in wanted}
        # No await from here on: the decision and the counting are atomic on the event loop.
        # Counted as seen + new rather than a union: a union copies a set of up to `limit`
        # identities on every response of a busy checkpoint.
        counts = {
            key: len(tallies[key].seen) + len(ids - tallies[key].seen)
            for key, ids in wanted.items()
        }
        over = {key: count for key, count in counts.items() if count > self._limit(key)}
        blocked = bool(over) and self.limits.block
        if not blocked:
            for key, ids in wanted.items():
                if len(tallies[key].seen) <= self._limit(key):  # past it, more proves nothing
                    tallies[key].seen.update(ids)
        alerts = []
        for key, count in over.items():
            if not tallies[key].alerted:
                tallies[key].alerted = True
                alerts.append(Alert(key, count, self._limit(key)))
                log.warning(
                    "bulk_read_limit_crossed",
                    kind=key.kind,
                    client_id=ctx.principal.client_id,
                    audit_event_id=ctx.event_id,
                    distinct_records=count,
                    limit=self._limit(key),
                    blocked=blocked,
                )
        return Verdict(blocked, tuple(alerts))


async def _disclosed(
    session: AsyncSession, key: TallyKey, since: dt.datetime, cap: int
) -> set[Hashable]:
    if key.kind == "client":
        (client_id,) = key.parts
        pairs = await repository.records_disclosed_to_client(session, client_id, since, cap)
        return set(pairs)
    list_id, recipient = key.parts
    keys = await repository.records_disclosed_under_agreement(
        session, list_id, recipient, since, cap
    )
    return set(keys)


def database_seeder(sessions: async_sessionmaker[AsyncSession]) -> Seeder:
    """Seeds tallies from the committed disclosures of the day, on a session of its own."""

    async def seed(key: TallyKey, since: dt.datetime, cap: int) -> set[Hashable]:
        async with sessions() as session:
            return await _disclosed(session, key, since, cap)

    return seed


def session_seeder(session: AsyncSession) -> Seeder:
    """Seeds tallies on a session the caller holds (in its transaction), for `review`."""

    async def seed(key: TallyKey, since: dt.datetime, cap: int) -> set[Hashable]:
        return await _disclosed(session, key, since, cap)

    return seed


def alert_context(ctx: AuditContext, alert: Alert) -> AuditContext:
    """The alert as an audit event of its own, by the same caller, in the same request."""
    return AuditContext(
        request_id=ctx.request_id,
        method=ALERT_METHOD,
        route=ALERT_ROUTE,
        occurred_at=ctx.occurred_at,
        principal=ctx.principal,
        purpose=ctx.purpose,
        reason=alert.reason,
    )


def alert_events(
    ctx: AuditContext, verdict: Verdict, status: int
) -> list[tuple[AuditContext, int]]:
    """The verdict's alerts as audit events to write, each with the status it records: the
    refusal's when the disclosure was refused, else the disclosure's own."""
    alert_status = BLOCKED_STATUS if verdict.blocked else status
    return [(alert_context(ctx, alert), alert_status) for alert in verdict.alerts]


def alert_rows(ctx: AuditContext, verdict: Verdict, status: int) -> list[dict[str, object]]:
    """`alert_events` as audit event rows, for a caller inserting them in its own transaction
    (alerts disclose nothing: no disclosure rows)."""
    return [
        event_row(alert, alert_status) for alert, alert_status in alert_events(ctx, verdict, status)
    ]


def counts_restart(at: dt.datetime) -> dt.datetime:
    """When the daily counts that refused a disclosure made at `at` start again (the next UTC
    midnight): a held webhook delivery is due again then."""
    day = at.astimezone(dt.UTC).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


# The detector of the request being handled, set by the audit middleware for the writes the
# request commits: `commit_with_audit` is called by services that hold no reference to it.
REQUEST_DETECTOR: ContextVar[BulkReadDetector | None] = ContextVar(
    "sanad_request_bulk_read_detector", default=None
)
