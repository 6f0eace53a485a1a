"""A decision on a pair is one decision whichever list order the run that showed it had: made
on a run of [pipeline, UNHCR] and on one of [UNHCR, pipeline], the latest holds in later runs
(`link_review` keeps each pair once, in one orientation), and the migration that brought that
in merges the pairs stored twice before, keeping the newest decision."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from alembic import command
from reconcile.repository import review_pair
from schemas.reconciliation import LinkReview
from schemas.types import UtcDateTime
from tests.conftest import World
from tests.helpers import shared_pipeline
from tests.integration.test_migrations import empty_database_url  # noqa: F401  (a fixture)
from tests.integration.test_reconciliations import UNHCR_CSV, _links, _run, _unhcr_list
from tests.migration_helpers import T0, database_at, record_row, record_table

PAIR = {"R2", "U2"}
# confirm and reject alternately on a run of each list order, ending with `latest`
SEQUENCES = {
    "reject": ("reject", "confirm", "confirm", "reject"),
    "confirm": ("confirm", "reject", "reject", "confirm"),
}
DECIDED = {"reject": "rejected", "confirm": "confirmed"}


def _r2_u2(links: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The run's link of R2 and U2, whichever list is its left."""
    return next(
        (x for x in links if {x["left"]["record_id"], x["right"]["record_id"]} == PAIR), None
    )


async def _decide(
    client: httpx.AsyncClient, headers: dict[str, str], run_id: str, decision: str
) -> None:
    link = _r2_u2(await _links(client, headers, run_id))
    assert link is not None, "the run shows no link of R2 and U2 to decide"
    decided = await client.post(
        f"/v1/links/{link['link_id']}/decisions", json={"decision": decision}, headers=headers
    )
    assert decided.status_code == 200, decided.text


def _reviews_of(sync_session: Callable[[], Session], agency_id: str) -> list[LinkReview]:
    with sync_session() as session:
        query = select(LinkReview).where(LinkReview.agency_id == agency_id)
        return list(session.exec(query).all())


async def _assert_a_new_run_keeps(
    client: httpx.AsyncClient, world: World, list_ids: list[str], decision: str
) -> None:
    later, headers = await _run(client, world, list_ids)
    link = _r2_u2(await _links(client, headers, later))
    if decision == "confirm":
        assert link is not None and link["decision"] == "confirmed", link
    else:
        assert link is None, link  # a rejected pair is never linked again


@pytest.mark.parametrize("latest", sorted(SEQUENCES))
async def test_the_latest_decision_on_a_pair_holds_whichever_list_order_it_was_made_in(
    client: httpx.AsyncClient,
    world: World,
    sync_session: Callable[[], Session],
    latest: str,
) -> None:
    """The reviewer's report: decided on runs [P, U] and [U, P] alternately, a new run kept an
    older decision (or dropped a confirmed link), as the pair was stored once each way."""
    pipeline = await shared_pipeline(client, world)
    registrations = await _unhcr_list(client, world, UNHCR_CSV)
    first, headers = await _run(client, world, [pipeline, registrations])
    second, _ = await _run(client, world, [registrations, pipeline])
    decisions = SEQUENCES[latest]
    for run_id, decision in zip((first, second, first, second), decisions, strict=True):
        await _decide(client, headers, run_id, decision)
    await _assert_a_new_run_keeps(client, world, [pipeline, registrations], latest)
    # The third decision again, on the first run: the latest is now the other orientation's.
    # The two rows were read in the unique index's order, by record id, so whatever ids the
    # records got, one of these two new runs read the older decision last.
    await _decide(client, headers, first, decisions[2])
    await _assert_a_new_run_keeps(client, world, [pipeline, registrations], decisions[2])
    # one row for the pair, holding the latest decision
    reviews = await asyncio.to_thread(_reviews_of, sync_session, world.unhcr)
    assert [r.decision for r in reviews] == [DECIDED[decisions[2]]]


# Rows as a database held them before c0ffee000015, written by name: the tables as of
# c0ffee000014, which later models may no longer describe
_RECORD = record_table()
_REVIEW = sa.table(
    "link_review",
    sa.column("id", sa.String()),
    sa.column("agency_id", sa.String()),
    sa.column("left_record_id", sa.String()),
    sa.column("right_record_id", sa.String()),
    sa.column("decision", sa.String()),
    sa.column("decided_by_client_id", sa.String()),
    sa.column("decided_at", UtcDateTime()),
)
# (id, agency, left, right, decision, hours after T0); "a" < "b" < "c"
_STORED_BEFORE = [
    ("1", "unhcr", "b", "a", "confirmed", 1),
    ("2", "unhcr", "a", "b", "rejected", 3),  # the newest of a and b: kept as it is
    ("3", "unhcr", "c", "a", "rejected", 2),  # once, reversed: turned round
    ("4", "gop", "a", "b", "rejected", 2),
    ("5", "gop", "b", "a", "confirmed", 4),  # the newest, reversed: kept and turned round
    ("6", "gop", "b", "c", "confirmed", 1),  # once, in order: as it was
]


def test_the_migration_keeps_each_pair_once_with_its_newest_decision(
    empty_database_url: str,  # noqa: F811  (the fixture imported above)
) -> None:
    """Pairs stored both ways round by the code before are merged into their newest decision,
    and every pair is turned into the order the service now keeps it in."""
    with database_at(empty_database_url, "c0ffee000014") as (config, engine):
        with engine.begin() as conn:
            conn.execute(sa.insert(_RECORD), [record_row(r) for r in ("a", "b", "c")])
            conn.execute(
                sa.insert(_REVIEW),
                [
                    {
                        "id": id_,
                        "agency_id": agency,
                        "left_record_id": left,
                        "right_record_id": right,
                        "decision": decision,
                        "decided_by_client_id": "reviewer",
                        "decided_at": T0 + dt.timedelta(hours=hours),
                    }
                    for id_, agency, left, right, decision, hours in _STORED_BEFORE
                ],
            )
        command.upgrade(config, "head")
        with engine.connect() as conn:
            rows = conn.execute(sa.select(_REVIEW).order_by(_REVIEW.c.id)).all()
    assert [(r.id, r.agency_id, r.left_record_id, r.right_record_id, r.decision) for r in rows] == [
        ("2", "unhcr", "a", "b", "rejected"),
        ("3", "unhcr", "a", "c", "rejected"),
        ("5", "gop", "a", "b", "confirmed"),
        ("6", "gop", "b", "c", "confirmed"),
    ]
    # in the order the service keeps a pair in
    assert all(
        review_pair(r.left_record_id, r.right_record_id) == (r.left_record_id, r.right_record_id)
        for r in rows
    )
