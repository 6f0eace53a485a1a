"""A caller that holds a pooled connection (a write in its transaction, the webhook worker)
seeds the bulk-read counts through that connection: the detector must query through the seeder
it is given, never its own (which would wait for another connection of a pool without
overflow)."""

from __future__ import annotations

import datetime as dt

from audit.bulk_reads import TallyKey
from tests.unit.test_bulk_reads import DAY, FakeDatabase, detector, request


async def test_a_caller_s_seeder_is_used_in_place_of_the_detector_s() -> None:
    guard, own, _ = detector(per_client=2, block=True)
    callers = FakeDatabase()
    client = TallyKey("client", ("gop-checkpoint",), DAY.date())
    callers.rows[client] = {("L1", "x"), ("L1", "y")}  # disclosed earlier today
    verdict = await guard.review(request(["a"]), 200, seeder=callers.seed)
    assert own.queries == []
    assert {key.kind for key in callers.queries} == {"client", "agreement"}
    assert verdict.blocked  # the third record of the day, as the caller's query told


async def test_without_one_the_detector_seeds_through_its_own() -> None:
    guard, own, _ = detector()
    await guard.review(request(["a"], at=DAY + dt.timedelta(minutes=1)), 200)
    assert {key.kind for key in own.queries} == {"client", "agreement"}
