"""How long an auditor waits for the first page of `GET /v1/audit/events` and of
`GET /v1/audit/disclosures` (with its "shown to" line) once the access log is large: N
generated events (default 100,000) with about 1.2 disclosures each, written straight into a
fresh database built by the migrations, then the repository's own query for each kind of
auditor and filter (median of three). SQLite is queried as a deployment finds it (no planner
statistics); PostgreSQL after ANALYZE, as autovacuum leaves it.

    python -m bench.audit_query_bench [--events 100000] [--backends sqlite postgresql]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from audit.repository import (
    DisclosureFilter,
    EventFilter,
    find_disclosures,
    find_events,
    recipients_of,
    viewer_lists,
)
from bench.query_timing import Query, analyse_if_postgresql, time_on_each_backend
from database.engine import make_sync_engine
from schemas.audit import AuditDisclosure, AuditEvent
from schemas.identity import Agency, OAuthClient
from schemas.lists import ExchangeList
from schemas.vocabulary import AgencyKind, ListKind

AGENCIES = {
    "us-mission": AgencyKind.US_MISSION,
    "unhcr": AgencyKind.UNHCR,
    "gop": AgencyKind.GOP,
    "joint-oversight": AgencyKind.OVERSIGHT,
}
DATA_AGENCIES = tuple(AGENCIES)[:3]
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
BATCH = 5_000
Row = dict[str, object]


@dataclass(frozen=True, slots=True)
class World:
    clients: dict[str, str]  # client -> agency
    lists: dict[str, str]  # list -> owner agency
    a_record_key: tuple[str, str]  # (list, record key) some event disclosed


def _world(rng: random.Random) -> World:
    clients = {f"{agency}-client-{i}": agency for agency in AGENCIES for i in range(8)}
    lists = {str(uuid.UUID(int=rng.getrandbits(128))): a for a in DATA_AGENCIES for _ in range(4)}
    return World(clients, lists, ("", ""))


def _rows(world: World, events: int, rng: random.Random) -> Iterator[tuple[Row, list[Row]]]:
    clients, lists = list(world.clients), list(world.lists)
    for i in range(events):
        client = rng.choice(clients)
        agency = world.clients[client]
        occurred = START + dt.timedelta(seconds=i * 2)
        event_id = str(uuid.UUID(int=rng.getrandbits(128)))
        shown = rng.choice((0, 0, 1, 1, 2, 3)) if agency != "joint-oversight" else 0
        disclosures = []
        for _ in range(shown):
            list_id = rng.choice(lists)
            owner = world.lists[list_id]
            disclosures.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "event_id": event_id,
                    "occurred_at": occurred,
                    "list_id": list_id,
                    "record_id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "record_key": f"R{rng.randrange(50_000)}",
                    "owner_agency_id": owner,
                    "recipient_agency_id": None if owner == agency else agency,
                    "client_id": client,
                    "purpose": "protection-verification",
                    "fields": "given_name,dob",
                }
            )
        event = {
            "id": event_id,
            "occurred_at": occurred,
            "request_id": uuid.uuid4().hex,
            "client_id": client,
            "agency_id": agency,
            "purpose": "protection-verification",
            "method": "GET",
            "route": "/v1/lists/{list_id}/records",
            "status": 200,
            "outcome": "allowed",
            "reason": "ok",
            "disclosure_count": shown,
        }
        yield event, disclosures


def load(url: str, events: int, seed: int) -> World:
    rng = random.Random(seed)
    world = _world(rng)
    engine = make_sync_engine(url)
    batch_events: list[Row] = []
    batch_disclosures: list[Row] = []
    key = ("", "")
    with engine.begin() as conn:
        conn.execute(insert(Agency), [{"id": a, "name": a, "kind": k} for a, k in AGENCIES.items()])
        lists = [
            {"id": lid, "name": lid, "kind": ListKind.STATUS, "owner_agency_id": owner}
            for lid, owner in world.lists.items()
        ]
        conn.execute(
            insert(ExchangeList), [{**row, "created_by_client_id": "bench"} for row in lists]
        )
        conn.execute(
            insert(OAuthClient),
            [{"id": c, "agency_id": a, "name": c, "scopes": ""} for c, a in world.clients.items()],
        )
        for event, disclosures in _rows(world, events, rng):
            batch_events.append(event)
            batch_disclosures.extend(disclosures)
            if disclosures:
                key = (str(disclosures[0]["list_id"]), str(disclosures[0]["record_key"]))
            if len(batch_events) >= BATCH:
                conn.execute(insert(AuditEvent), batch_events)
                if batch_disclosures:
                    conn.execute(insert(AuditDisclosure), batch_disclosures)
                batch_events, batch_disclosures = [], []
        if batch_events:
            conn.execute(insert(AuditEvent), batch_events)
        if batch_disclosures:
            conn.execute(insert(AuditDisclosure), batch_disclosures)
    analyse_if_postgresql(engine)
    engine.dispose()
    return World(world.clients, world.lists, key)


def cases(world: World) -> dict[str, tuple[str | None, EventFilter]]:
    """Name -> (the auditor's agency, None for joint oversight; the filter)."""
    unhcr_list = next(lid for lid, owner in world.lists.items() if owner == "unhcr")
    list_id, record_key = world.a_record_key
    return {
        "agency auditor, no filter": ("unhcr", EventFilter()),
        "agency auditor, one client of another agency": (
            "unhcr",
            EventFilter(client_id="gop-client-1"),
        ),
        "oversight, one list": (None, EventFilter(list_id=unhcr_list)),
        # the fuzzer's slow request: a client that never touched the list, so no page fills
        "oversight, one list and a client that never read it": (
            None,
            EventFilter(list_id=unhcr_list, client_id="joint-oversight-client-0"),
        ),
        "agency auditor, one record": (
            "unhcr",
            EventFilter(list_id=list_id, record_key=record_key),
        ),
    }


def disclosure_cases(world: World) -> dict[str, tuple[str | None, DisclosureFilter]]:
    """Name -> (the auditor's agency, the filter) of `GET /v1/audit/disclosures`."""
    unhcr_list = next(lid for lid, owner in world.lists.items() if owner == "unhcr")
    gop_list = next(lid for lid, owner in world.lists.items() if owner == "gop")
    list_id, record_key = world.a_record_key
    a_day = (START + dt.timedelta(days=3), START + dt.timedelta(days=4))
    return {
        "disclosures: agency auditor, no filter": ("unhcr", DisclosureFilter()),
        "disclosures: agency auditor, one list": ("unhcr", DisclosureFilter(list_id=unhcr_list)),
        "disclosures: agency auditor, another agency's list": (
            "unhcr",
            DisclosureFilter(list_id=gop_list),
        ),
        "disclosures: oversight, one list": (None, DisclosureFilter(list_id=unhcr_list)),
        "disclosures: agency auditor, one record": (
            "unhcr",
            DisclosureFilter(list_id=list_id, record_key=record_key),
        ),
        "disclosures: agency auditor, shown to another agency": (
            "unhcr",
            DisclosureFilter(recipient_agency_id="gop"),
        ),
        # none: oversight reads no records, so no page fills
        "disclosures: agency auditor, shown to an agency that never saw its records": (
            "unhcr",
            DisclosureFilter(recipient_agency_id="joint-oversight"),
        ),
        "disclosures: agency auditor, one client of another agency": (
            "unhcr",
            DisclosureFilter(client_id="gop-client-1"),
        ),
        "disclosures: oversight, one client": (None, DisclosureFilter(client_id="gop-client-1")),
        "disclosures: oversight, shown to an agency, one day": (
            None,
            DisclosureFilter(recipient_agency_id="gop", since=a_day[0], until=a_day[1]),
        ),
    }


def queries(world: World) -> dict[str, Query]:
    """Each case's first page of 100, as the service asks for it."""
    pages: dict[str, Query] = {}
    for name, (viewer, event_filter) in cases(world).items():
        pages[name] = functools.partial(
            find_events,
            viewer_agency_id=viewer,
            event_filter=event_filter,
            after=None,
            limit=100,
        )
    for name, (viewer, disclosure_filter) in disclosure_cases(world).items():
        pages[name] = functools.partial(_disclosures_page, viewer, disclosure_filter)
        if disclosure_filter.list_id is not None:  # "shown to", asked with every list's page
            pages[name.replace("disclosures:", "recipients:")] = functools.partial(
                recipients_of,
                viewer_agency_id=viewer,
                list_id=disclosure_filter.list_id,
                owner=world.lists[disclosure_filter.list_id],
                record_key=disclosure_filter.record_key,
            )
    return pages


async def _disclosures_page(
    viewer: str | None, disclosure_filter: DisclosureFilter, session: AsyncSession
) -> list[AuditDisclosure]:
    """A first page as the service reads it: what it needs of the lists, then the page."""
    lists = await viewer_lists(session, viewer, disclosure_filter)
    return await find_disclosures(session, viewer, disclosure_filter, lists, None, 100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--backends", nargs="*", default=["sqlite", "postgresql"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    results = time_on_each_backend(
        args.backends, lambda url: queries(load(url, args.events, args.seed)), args.repeats
    )
    summary = ", ".join(f"{b} {max(figures.values()):.1f} ms" for b, figures in results.items())
    print(f"audit query bench ({args.events:,} events): slowest first page {summary}")


if __name__ == "__main__":
    main()
