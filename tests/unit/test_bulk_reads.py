"""Bulk-read detection: distinct records per client and per agreement per UTC day, an alert
once per key and day on crossing a limit, optional blocking, and seeding from the database."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Hashable

from audit.bulk_reads import (
    ALERT_ROUTE,
    Alert,
    BulkReadDetector,
    BulkReadLimits,
    TallyKey,
    alert_context,
)
from audit.context import AuditContext
from auth.principal import Principal
from schemas.vocabulary import AgencyKind

DAY = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
GOP = Principal("gop-checkpoint", "gop-checkpoint", "gop", AgencyKind.GOP, frozenset(), "j", "i", 0)
US = Principal("us-system", "us-system", "us", AgencyKind.US_MISSION, frozenset(), "j", "i", 0)


class FakeDatabase:
    """What other workers already disclosed today, and every seeding query made."""

    def __init__(self) -> None:
        self.rows: dict[TallyKey, set[Hashable]] = {}
        self.queries: list[TallyKey] = []

    async def seed(self, key: TallyKey, since: dt.datetime, cap: int) -> set[Hashable]:
        assert since == dt.datetime.combine(key.day, dt.time(), tzinfo=dt.UTC)
        self.queries.append(key)
        return set(list(self.rows.get(key, set()))[:cap])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def request(
    records: list[str],
    principal: Principal = GOP,
    list_id: str = "L1",
    owner: str = "us",
    at: dt.datetime = DAY,
) -> AuditContext:
    ctx = AuditContext(request_id="r", method="GET", route="/v1/x", occurred_at=at)
    ctx.principal = principal
    for key in records:
        ctx.disclose(
            list_id=list_id, record_id=key, record_key=key, owner_agency_id=owner, fields=("dob",)
        )
    return ctx


def detector(
    per_client: int = 5, per_agreement: int = 100, block: bool = False
) -> tuple[BulkReadDetector, FakeDatabase, Clock]:
    database, clock = FakeDatabase(), Clock()
    limits = BulkReadLimits(per_client, per_agreement, block, resync_seconds=60)
    return BulkReadDetector(limits, database.seed, clock), database, clock


async def test_distinct_records_are_counted_and_crossing_alerts_once() -> None:
    guard, _, _ = detector(per_client=5)
    assert (await guard.review(request(["a", "b", "c"]), 200)).alerts == ()
    assert (await guard.review(request(["a", "b", "c"]), 200)).alerts == ()  # same records again
    crossing = await guard.review(request(["d", "e", "f"]), 200)
    assert not crossing.blocked
    [alert] = crossing.alerts
    assert (alert.key.kind, alert.count, alert.limit) == ("client", 6, 5)
    assert alert.reason == "bulk-read-limit-client"
    assert (await guard.review(request(["g"]), 200)).alerts == ()  # once per day


async def test_blocking_refuses_the_request_that_would_cross_and_counts_nothing() -> None:
    guard, _, _ = detector(per_client=3, block=True)
    assert not (await guard.review(request(["a", "b"]), 200)).blocked
    refused = await guard.review(request(["c", "d"]), 200)
    assert refused.blocked and len(refused.alerts) == 1
    # the refused records were never shown, so one more record still fits
    allowed = await guard.review(request(["c"]), 200)
    assert not allowed.blocked and allowed.alerts == ()
    assert (await guard.review(request(["z"]), 200)).blocked


async def test_per_agreement_limit_spans_every_client_of_the_recipient() -> None:
    guard, _, _ = detector(per_client=100, per_agreement=4)
    other_client = Principal("gop-2", "gop-2", "gop", AgencyKind.GOP, frozenset(), "j", "i", 0)
    await guard.review(request(["a", "b", "c"]), 200)
    verdict = await guard.review(request(["d", "e"], principal=other_client), 200)
    [alert] = verdict.alerts
    assert alert.key == TallyKey("agreement", ("L1", "gop"), DAY.date())


async def test_an_agency_reading_its_own_list_has_no_agreement_to_count() -> None:
    guard, database, _ = detector(per_client=100, per_agreement=1)
    verdict = await guard.review(request(["a", "b", "c"], principal=US, owner="us"), 200)
    assert verdict.alerts == ()
    assert {key.kind for key in database.queries} == {"client"}


async def test_refused_and_empty_responses_are_not_counted() -> None:
    guard, database, _ = detector(per_client=1)
    assert (await guard.review(request(["a", "b"]), 404)).alerts == ()
    assert (await guard.review(request([]), 200)).alerts == ()
    assert database.queries == []


async def test_other_workers_disclosures_are_seeded_and_resynced() -> None:
    guard, database, clock = detector(per_client=5)
    client_key = TallyKey("client", ("gop-checkpoint",), DAY.date())
    database.rows[client_key] = {("L1", "x"), ("L1", "y"), ("L1", "z")}
    assert (await guard.review(request(["a"]), 200)).alerts == ()  # 4 of 5
    database.rows[client_key] |= {("L1", "w")}  # another worker showed one more meanwhile
    assert (await guard.review(request(["a"]), 200)).alerts == ()  # not yet resynced
    clock.now += 61
    [alert] = (await guard.review(request(["b"]), 200)).alerts
    assert alert.count == 6
    assert database.queries.count(client_key) == 2


async def test_concurrent_requests_share_one_seeding_query_per_key() -> None:
    guard, database, clock = detector(per_client=50)
    client_key = TallyKey("client", ("gop-checkpoint",), DAY.date())
    database.rows[client_key] = {("L1", "x")}
    release = asyncio.Event()
    plain_seed = database.seed

    async def slow_seed(key: TallyKey, since: dt.datetime, cap: int) -> set[Hashable]:
        await release.wait()  # a database round trip during which more requests arrive
        return await plain_seed(key, since, cap)

    guard._seeder = slow_seed
    reviews = [asyncio.ensure_future(guard.review(request([f"r{i}"]), 200)) for i in range(32)]
    cancelled = asyncio.ensure_future(guard.review(request(["gone"]), 200))
    await asyncio.sleep(0)
    cancelled.cancel()  # a waiter that goes away does not take the others' query with it
    release.set()
    await asyncio.gather(*reviews)
    assert database.queries.count(client_key) == 1
    clock.now += 61  # stale again: one more query, however many requests need it
    await asyncio.gather(*(guard.review(request(["s"]), 200) for _ in range(8)))
    assert database.queries.count(client_key) == 2


async def test_counts_start_afresh_each_utc_day() -> None:
    guard, _, _ = detector(per_client=2)
    await guard.review(request(["a", "b"]), 200)
    tomorrow = DAY + dt.timedelta(days=1)
    assert (await guard.review(request(["c", "d"], at=tomorrow), 200)).alerts == ()


def test_the_alert_is_an_audit_event_of_the_same_caller() -> None:
    ctx = request(["a"])
    ctx.purpose = "protection-verification"
    key = TallyKey("client", ("gop-checkpoint",), DAY.date())
    event = alert_context(ctx, Alert(key, 6, 5))
    assert (event.route, event.reason, event.principal) == (
        ALERT_ROUTE,
        "bulk-read-limit-client",
        GOP,
    )
    assert event.request_id == ctx.request_id and event.event_id != ctx.event_id
    assert event.disclosures == []
