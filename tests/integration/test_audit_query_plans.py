"""The audit events page finds each event's disclosures by the event, for every kind of auditor
and filter, and a record's events by the record, once. SQLite keeps no planner statistics, and with an index on `event_id` alone it
looked disclosures up by the agency or the list instead, once per event: a page then read
events x disclosures rows (the contract fuzzer's oversight auditor timed out on a list and
client filter; `bench/audit_query_bench.py` measures it). PostgreSQL plans on statistics;
`bench/audit_query_bench.py` measures it there."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
import uuid

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from audit.repository import EventFilter, events_query
from schemas.audit import AuditDisclosure, AuditEvent
from tests.helpers import sqlite_plan

CASES = {
    "agency auditor": ("unhcr", EventFilter()),
    "agency auditor, a client": ("unhcr", EventFilter(client_id="c")),
    "oversight, a list": (None, EventFilter(list_id="l")),
    "oversight, a list and a client": (None, EventFilter(list_id="l", client_id="c")),
    "oversight, a record": (None, EventFilter(list_id="l", record_key="k")),
    "agency auditor, a record": ("unhcr", EventFilter(list_id="l", record_key="k")),
}


@pytest.mark.parametrize("case", CASES)
def test_every_disclosure_lookup_of_the_events_page_goes_by_the_event(
    sync_engine: Engine, case: str
) -> None:
    viewer, event_filter = CASES[case]
    plan = sqlite_plan(sync_engine, events_query(viewer, event_filter, None, 50))
    correlated = [
        step
        for before, step in itertools.pairwise(plan)
        if before.startswith("CORRELATED") and "audit_disclosure" in step
    ]
    for step in correlated:  # run once per event: must find that event's rows by the event
        constraint = re.search(r"\((.*)\)", step)
        assert constraint is not None and constraint.group(1).startswith("event_id=?"), plan
    if event_filter.record_key is not None:  # a record's events are found once, first
        assert any(step.startswith("LIST SUBQUERY") for step in plan), plan
        events_read = [step for step in plan if " audit_event " in f"{step} "]
        assert all(step.endswith("(id=?)") for step in events_read), plan
    else:
        assert correlated, plan


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_agency_auditor_pages_through_exactly_the_events_it_may_see(
    sync_engine: Engine, seed: int
) -> None:
    """The page is assembled from each kind's first page: paging to the end by the cursor
    gives every event of the agency's clients or touching its records, once, in order."""
    rng = random.Random(seed)
    tag = uuid.uuid4().hex[:8]
    agencies = [f"{name}-{tag}" for name in ("own", "other", "third")]
    start = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    events, disclosures, visible = [], [], []
    for i in range(300):
        agency = rng.choice(agencies)
        event_id = f"{tag}-{i:04d}"
        # some share a moment, so the cursor's tie-break on the id matters
        occurred = start + dt.timedelta(seconds=rng.randrange(120))
        owners = [rng.choice(agencies) for _ in range(rng.choice((0, 0, 1, 2)))]
        events.append(_event(event_id, occurred, agency))
        disclosures += [
            _disclosure(event_id, occurred, owner, agency, n) for n, owner in enumerate(owners)
        ]
        if agency == agencies[0] or agencies[0] in owners:
            visible.append((occurred, event_id))
    with sync_engine.begin() as conn:
        conn.execute(insert(AuditEvent), events)
        conn.execute(insert(AuditDisclosure), disclosures)
    seen: list[tuple[dt.datetime, str]] = []
    after = None
    with Session(sync_engine) as session:
        while True:
            page = session.execute(events_query(agencies[0], EventFilter(), after, 7)).all()
            seen += [(event.occurred_at, event.id) for event, _ in page]
            if len(page) < 7:
                break
            after = (page[-1][0].occurred_at, page[-1][0].id)
    assert seen == sorted(visible)


def _event(event_id: str, occurred: dt.datetime, agency: str) -> dict[str, object]:
    return {
        "id": event_id, "occurred_at": occurred, "request_id": event_id,
        "client_id": f"client-of-{agency}", "agency_id": agency, "method": "GET",
        "route": "/v1/lists", "status": 200, "outcome": "allowed", "reason": "ok",
    }  # fmt: skip


def _disclosure(
    event_id: str, occurred: dt.datetime, owner: str, agency: str, n: int
) -> dict[str, object]:
    return {
        "id": f"{event_id}-{n}", "event_id": event_id, "occurred_at": occurred,
        "list_id": f"list-of-{owner}", "record_id": f"r{n}", "record_key": f"K{n}",
        "owner_agency_id": owner, "recipient_agency_id": None if owner == agency else agency,
    }  # fmt: skip
