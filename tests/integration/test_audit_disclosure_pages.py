"""`GET /v1/audit/disclosures` reads each page in time order from an index and stops at the page
(migration c0ffee000014): paging by the cursor still gives each auditor exactly the disclosures
it may see, once each, in order, on both databases, and "shown to" names exactly the
recipients it may know of. On SQLite, which keeps no statistics, the plan is pinned: no page
sorts every match (`bench/audit_query_bench.py` measures the cost)."""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from audit import repository
from audit.repository import (
    MAX_LISTS_IN_UNION,
    DisclosureFilter,
    EventFilter,
    ViewerLists,
    disclosures_query,
    events_query,
    find_disclosures,
    find_events,
    recipients_of,
    recipients_query,
    viewer_lists,
)
from database.engine import make_async_engine
from schemas.audit import AuditDisclosure, AuditEvent
from schemas.identity import Agency, OAuthClient
from schemas.lists import ExchangeList
from schemas.vocabulary import AgencyKind, ListKind
from tests.helpers import sqlite_plan

Row = dict[str, object]
START = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Log:
    agencies: list[str]
    owners: dict[str, str]  # list -> owner agency
    disclosures: list[Row]


@pytest.fixture
async def async_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_async_engine(database_url)
    yield engine
    await engine.dispose()


def _log(seed: int) -> Log:
    rng = random.Random(seed)
    tag = uuid.uuid4().hex[:8]
    agencies = [f"{name}-{tag}" for name in ("own", "other", "third")]
    owners = {f"{tag}-list-{n}": agencies[n % 3] for n in range(6)}
    disclosures = []
    for i in range(400):
        list_id = rng.choice(list(owners))
        reader = rng.choice(agencies)
        disclosures.append(
            {
                "id": f"{tag}-{i:04d}",
                "event_id": f"{tag}-event-{i // 2}",
                # some share a moment, so the cursor's tie-break on the id matters
                "occurred_at": START + dt.timedelta(seconds=rng.randrange(150)),
                "list_id": list_id,
                "record_id": f"r{i}",
                "record_key": f"K{rng.randrange(12)}",
                "owner_agency_id": owners[list_id],
                "recipient_agency_id": None if reader == owners[list_id] else reader,
                "client_id": f"client-of-{reader}",
                "_reader": reader,
            }
        )
    return Log(agencies, owners, disclosures)


async def _write(engine: AsyncEngine, log: Log) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(Agency), [{"id": a, "name": a, "kind": AgencyKind.UNHCR} for a in log.agencies]
        )
        lists = [
            {"id": lid, "name": lid, "kind": ListKind.STATUS, "owner_agency_id": owner}
            for lid, owner in log.owners.items()
        ]
        await conn.execute(
            insert(ExchangeList), [{**row, "created_by_client_id": "test"} for row in lists]
        )
        clients = [
            {"id": f"client-of-{a}", "agency_id": a, "name": a, "scopes": ""} for a in log.agencies
        ]
        await conn.execute(insert(OAuthClient), clients)
        await conn.execute(
            insert(AuditDisclosure),
            [{k: v for k, v in row.items() if k != "_reader"} for row in log.disclosures],
        )


def _may_see(row: Row, viewer: str | None) -> bool:
    return viewer is None or viewer in (row["owner_agency_id"], row["recipient_agency_id"])


async def _page_to_the_end(
    session: AsyncSession, viewer: str | None, disclosure_filter: DisclosureFilter
) -> list[str]:
    seen: list[str] = []
    after = None
    lists = await viewer_lists(session, viewer, disclosure_filter)
    while True:
        page = await find_disclosures(session, viewer, disclosure_filter, lists, after, 7)
        seen += [row.id for row in page]
        if len(page) < 7:
            return seen
        after = (page[-1].occurred_at, page[-1].id)


def _filters(log: Log) -> list[DisclosureFilter]:
    a_key = str(log.disclosures[0]["record_key"])
    window = (START + dt.timedelta(seconds=40), START + dt.timedelta(seconds=90))
    filters = [
        DisclosureFilter(list_id=list_id, recipient_agency_id=recipient)
        for list_id in (None, *log.owners)
        for recipient in (None, *log.agencies)
    ]
    filters += [DisclosureFilter(list_id=list_id, record_key=a_key) for list_id in log.owners]
    clients = [f"client-of-{agency}" for agency in log.agencies] + ["client-unknown"]
    filters += [
        DisclosureFilter(list_id=list_id, recipient_agency_id=recipient, client_id=client)
        for list_id in (None, *log.owners)
        for recipient in (None, *log.agencies)
        for client in clients
    ]
    filters += [
        DisclosureFilter(list_id=list_id, recipient_agency_id=recipient, since=since, until=until)
        for list_id in (None, next(iter(log.owners)))
        for recipient in (None, log.agencies[1])
        for since, until in (window, (window[0], None), (None, window[1]))
    ]
    return filters


def _matches(row: Row, f: DisclosureFilter) -> bool:
    moment = row["occurred_at"]
    assert isinstance(moment, dt.datetime)
    return (
        f.list_id in (None, row["list_id"])
        and f.record_key in (None, row["record_key"])
        and f.recipient_agency_id in (None, row["recipient_agency_id"])
        and f.client_id in (None, row["client_id"])
        and (f.since is None or moment >= f.since)
        and (f.until is None or moment < f.until)
    )


@pytest.mark.parametrize(("seed", "lists_in_union"), [(1, 50), (2, 50), (3, 1)])
async def test_each_auditor_pages_through_exactly_the_disclosures_it_may_see(
    async_engine: AsyncEngine, seed: int, lists_in_union: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every filter, alone and combined: a list, a record, the agency shown, a time window;
    with lists_in_union 1, what another agency was shown is read by the auditor's agency."""
    monkeypatch.setattr(repository, "MAX_LISTS_IN_UNION", lists_in_union)
    log = _log(seed)
    await _write(async_engine, log)
    by_time = sorted(log.disclosures, key=lambda row: (row["occurred_at"], row["id"]))
    own, other, _ = log.agencies
    sessions = async_sessionmaker(async_engine)
    async with sessions() as session:
        for viewer in (own, other, None):
            for disclosure_filter in _filters(log):
                f = disclosure_filter
                if viewer is None and not (f.list_id or f.recipient_agency_id or f.client_id):
                    continue  # the whole log of every test: not this test's to count
                expected = [
                    row["id"]
                    for row in by_time
                    if _may_see(row, viewer) and _matches(row, disclosure_filter)
                ]
                seen = await _page_to_the_end(session, viewer, disclosure_filter)
                assert seen == expected, (viewer, disclosure_filter)


@pytest.mark.parametrize("seed", [4, 5])
async def test_shown_to_names_the_recipients_the_auditor_may_know_of(
    async_engine: AsyncEngine, seed: int
) -> None:
    log = _log(seed)
    await _write(async_engine, log)
    a_key = str(log.disclosures[0]["record_key"])
    sessions = async_sessionmaker(async_engine)
    async with sessions() as session:
        for viewer in (*log.agencies, None):
            for list_id in log.owners:
                for record_key in (None, a_key):
                    expected = sorted(
                        {
                            str(row["recipient_agency_id"])
                            for row in log.disclosures
                            if row["list_id"] == list_id
                            and record_key in (None, row["record_key"])
                            and row["recipient_agency_id"] is not None
                            and _may_see(row, viewer)
                        }
                    )
                    owner = log.owners[list_id]
                    found = await recipients_of(session, viewer, list_id, owner, record_key)
                    assert found == expected, (viewer, list_id, record_key)


# name -> (viewer, filter, what the page knows of the lists), and the indexes its page reads
PAGES = {
    "agency auditor": (
        ("unhcr", DisclosureFilter(), ViewerLists()),
        {"ix_audit_disclosure_owner", "ix_audit_disclosure_recipient_time"},
    ),
    "agency auditor, a time window": (
        ("unhcr", DisclosureFilter(since=START, until=START), ViewerLists()),
        {"ix_audit_disclosure_owner", "ix_audit_disclosure_recipient_time"},
    ),
    "agency auditor, its own list": (
        ("unhcr", DisclosureFilter(list_id="l"), ViewerLists(filtered_list_owner="unhcr")),
        {"ix_audit_disclosure_list_time"},
    ),
    "agency auditor, another's list": (
        ("unhcr", DisclosureFilter(list_id="l"), ViewerLists(filtered_list_owner="gop")),
        {"ix_audit_disclosure_recipient"},
    ),
    "agency auditor, shown to it": (
        ("unhcr", DisclosureFilter(recipient_agency_id="unhcr"), ViewerLists()),
        {"ix_audit_disclosure_recipient_time"},
    ),
    "agency auditor, shown to another agency": (
        ("unhcr", DisclosureFilter(recipient_agency_id="gop"), ViewerLists(own=("a", "b"))),
        {"ix_audit_disclosure_recipient"},
    ),
    "agency auditor with many lists, shown to another agency": (
        (
            "unhcr",
            DisclosureFilter(recipient_agency_id="gop"),
            ViewerLists(own=tuple(f"l{n}" for n in range(MAX_LISTS_IN_UNION + 1))),
        ),
        # by owner or by recipient: either is read in time order; SQLite takes this one
        {"ix_audit_disclosure_recipient_time"},
    ),
    "oversight, a list": (
        (None, DisclosureFilter(list_id="l"), ViewerLists(filtered_list_owner="gop")),
        {"ix_audit_disclosure_list_time"},
    ),
    "oversight, shown to an agency": (
        (None, DisclosureFilter(recipient_agency_id="gop"), ViewerLists()),
        {"ix_audit_disclosure_recipient_time"},
    ),
    "agency auditor, a record of another's list": (
        ("unhcr", DisclosureFilter(list_id="l", record_key="k"), ViewerLists(filtered_list_owner="gop")),
        {"ix_audit_disclosure_record_time"},
    ),
    "agency auditor, a record of its list shown to an agency": (
        (
            "unhcr",
            DisclosureFilter(list_id="l", record_key="k", recipient_agency_id="gop"),
            ViewerLists(filtered_list_owner="unhcr"),
        ),
        {"ix_audit_disclosure_record_time"},
    ),
    "oversight, a client": (
        (None, DisclosureFilter(client_id="c"), ViewerLists(client_agency="gop")),
        {"ix_audit_disclosure_client"},
    ),
    "agency auditor, its own client": (
        ("unhcr", DisclosureFilter(client_id="c"), ViewerLists(client_agency="unhcr")),
        {"ix_audit_disclosure_client"},
    ),
    "agency auditor, another agency's client": (
        ("unhcr", DisclosureFilter(client_id="c"), ViewerLists(own=("a", "b"), client_agency="gop")),
        {"ix_audit_disclosure_recipient"},
    ),
    "oversight, a list and a client": (
        (
            None,
            DisclosureFilter(list_id="l", client_id="c"),
            ViewerLists(filtered_list_owner="unhcr", client_agency="gop"),
        ),
        {"ix_audit_disclosure_recipient"},
    ),
    "agency auditor, its list and its own client": (
        (
            "unhcr",
            DisclosureFilter(list_id="l", client_id="c"),
            ViewerLists(filtered_list_owner="unhcr", client_agency="unhcr"),
        ),
        {"ix_audit_disclosure_recipient"},
    ),
    "oversight, a record": (
        (None, DisclosureFilter(list_id="l", record_key="k"), ViewerLists(filtered_list_owner="gop")),
        {"ix_audit_disclosure_record_time"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", PAGES)
def test_no_disclosures_page_sorts_every_match(sync_engine: Engine, case: str) -> None:
    (viewer, disclosure_filter, lists), indexes = PAGES[case]
    query = disclosures_query(viewer, disclosure_filter, lists, None, 50)
    plan = sqlite_plan(sync_engine, query)
    reads = [step for step in plan if re.match(r"(SEARCH|SCAN) audit_disclosure\b", step)]
    by_index = {m.group(1) for step in reads if (m := re.search(r"INDEX (\w+)", step))}
    assert by_index - {"sqlite_autoindex_audit_disclosure_1"} == indexes, plan
    # a full sort only of a union's first pages, found by their ids
    parts = len([step for step in reads if "sqlite_autoindex" not in step])
    assert plan.count("USE TEMP B-TREE FOR ORDER BY") == (1 if parts > 1 else 0), plan
    assert all(step.startswith("SEARCH") for step in reads), plan


@pytest.mark.parametrize(
    ("record_key", "index"),
    [(None, "ix_audit_disclosure_recipient"), ("k", "ix_audit_disclosure_record_time")],
)
def test_shown_to_reads_a_record_by_the_record_and_a_list_by_probes(
    sync_engine: Engine, record_key: str | None, index: str
) -> None:
    query = recipients_query("l", record_key)
    plan = sqlite_plan(sync_engine, query)
    reads = [step for step in plan if "audit_disclosure" in step]
    assert reads and all(f"USING INDEX {index} (list_id=? AND " in step for step in reads), plan


async def test_an_auditor_filtering_by_a_client_sees_exactly_its_events_it_may_see(
    async_engine: AsyncEngine,
) -> None:
    """The events page filtered by a client: of the auditor's own client, every event; of
    another agency's client, those touching the auditor's records, found without the own
    clients' half (`find_events` looks the client's agency up); of an unknown client, both."""
    log = _log(6)
    await _write(async_engine, log)
    own, other, _ = log.agencies
    clients = {f"client-of-{agency}": agency for agency in log.agencies}
    events = {
        str(row["event_id"]): {"id": row["event_id"], "occurred_at": row["occurred_at"],
            "request_id": row["event_id"], "client_id": f"client-of-{row['_reader']}",
            "agency_id": row["_reader"], "method": "GET", "route": "/v1/lists", "status": 200,
            "outcome": "allowed", "reason": "ok"}
        for row in log.disclosures
    }  # fmt: skip
    async with async_engine.begin() as conn:
        await conn.execute(insert(AuditEvent), list(events.values()))
    touches_own = {row["event_id"] for row in log.disclosures if row["owner_agency_id"] == own}
    sessions = async_sessionmaker(async_engine)
    async with sessions() as session:
        for client in (*clients, "client-unknown"):
            expected = sorted(
                (event["occurred_at"], event["id"])
                for event in events.values()
                if event["client_id"] == client
                and (event["agency_id"] == own or event["id"] in touches_own)
            )
            seen, after = [], None
            while True:
                page = await find_events(session, own, EventFilter(client_id=client), after, 7)
                seen += [(event.occurred_at, event.id) for event, _ in page]
                if len(page) < 7:
                    break
                after = seen[-1]
            assert seen == expected, client
    assert other  # the other agency's client is among those checked


def test_another_agencys_client_is_not_looked_for_among_the_auditors_own(
    sync_engine: Engine,
) -> None:
    query = events_query("unhcr", EventFilter(client_id="c"), None, 50, client_agency="gop")
    plan = sqlite_plan(sync_engine, query)
    assert not any(re.search(r"\bagency_id=\?", step) for step in plan), plan
    assert any("ix_audit_event_client (client_id=?)" in step for step in plan), plan
