"""All SQL of reconciliation: runs, their links, people's reviews of pairs, and the records a
run reads (with the record ids and keys it shows)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from typing import Any, get_args

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    cast,
    delete,
    distinct,
    exists,
    func,
    insert,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer
from sqlmodel import SQLModel

import schemas.tables  # noqa: F401  (registers every table on the metadata)
from changes import repository as changes_repository
from database.paging import ordered_page
from reconcile.assignment import LINKED_DECISIONS
from reconcile.table import LINK_FIELDS
from schemas.reconciliation import LinkDecision, LinkReview, Reconciliation, ReconciliationLink

LINK_TABLE: str = ReconciliationLink.__tablename__  # the planner statistics of runs (jobs)

_tables = SQLModel.metadata.tables
_record = _tables["record"].c
_link = _tables["reconciliation_link"].c
_live_record = _record.withdrawn_at.is_(None)
_review = _tables["link_review"].c
_run = _tables["reconciliation"].c
_event = _tables["change_event"].c
RECORD_EVENT_TYPES = ("record.created", "record.corrected", "record.withdrawn")
Row = dict[str, Any]
CHUNK = 5_000
# The columns a run reads: the exchange fields (personal data, cut to the caller's view later).
RECORD_COLUMNS = ("id", "list_id", "record_key", *LINK_FIELDS, "withdrawn_at", "updated_at")


def add(session: AsyncSession, row: SQLModel) -> None:
    session.add(row)


async def get_run(session: AsyncSession, run_id: str) -> Reconciliation | None:
    return await session.get(Reconciliation, run_id)


async def update_run(session: AsyncSession, run_id: str, values: dict[str, Any]) -> None:
    await session.execute(update(Reconciliation).where(_run.id == run_id).values(**values))


async def pair_u(session: AsyncSession, run_id: str) -> object:
    """Where the run read its lists and the u each pair of them was linked with ({"read_at":
    feed position, "pairs": left id -> right id -> u}), or None."""
    return await session.scalar(select(_run.pair_u).where(_run.id == run_id))


async def completed_runs(session: AsyncSession) -> list[Reconciliation]:
    """Completed runs without their conflicts and u (the incremental worker reads this every
    second)."""
    query = (
        select(Reconciliation)
        .where(_run.status == "completed")
        .options(
            defer(Reconciliation.conflicts),  # type: ignore[arg-type]
            defer(Reconciliation.pair_u),  # type: ignore[arg-type]
        )
    )
    return list((await session.execute(query)).scalars().all())


async def active_record_chunks(
    session: AsyncSession, list_id: str, size: int = CHUNK
) -> AsyncIterator[list[Row]]:
    """A list's active records, streamed in chunks by one statement (a server-side cursor on
    PostgreSQL), so that reading a million of them leaves the event loop free between chunks
    and sees one snapshot of the list."""
    columns = [_record[name] for name in RECORD_COLUMNS]
    query = select(*columns).where(_record.list_id == list_id, _live_record)
    result = await session.stream(query.execution_options(yield_per=size))
    async for chunk in result.mappings().partitions():
        yield [dict(row) for row in chunk]


async def feed_head(session: AsyncSession) -> int:
    """The change feed's head: every change numbered up to it has committed."""
    return await changes_repository.head(session)


async def advance_feed_seq(session: AsyncSession, run_id: str, seen: int | None, head: int) -> bool:
    """Move a run's change feed position from `seen` to `head`; False when it is no longer
    `seen` (another worker process stored those changes first)."""
    was = _run.feed_seq == seen if seen is not None else _run.feed_seq.is_(None)
    query = update(Reconciliation).where(_run.id == run_id, was).values(feed_seq=head)
    result = await session.execute(query)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def changed_record_ids(
    session: AsyncSession, list_ids: Sequence[str], after: int, upto: int
) -> list[str]:
    """Ids of the lists' records created, corrected or withdrawn by changes numbered in
    (after, upto] of the change feed (numbered in commit order, with no gaps)."""
    query = (
        select(_event.record_id)
        .where(
            _event.list_id.in_(list_ids),
            _event.seq > after,
            _event.seq <= upto,
            _event.type.in_(RECORD_EVENT_TYPES),
        )
        .distinct()
    )
    return [str(row[0]) for row in (await session.execute(query)).all() if row[0]]


async def count_changed_records(session: AsyncSession, list_id: str, after: int, upto: int) -> int:
    """How many of the list's records changes numbered in (after, upto] created, corrected or
    withdrawn."""
    query = select(func.count(distinct(_event.record_id))).where(
        _event.list_id == list_id,
        _event.seq > after,
        _event.seq <= upto,
        _event.type.in_(RECORD_EVENT_TYPES),
    )
    return int(await session.scalar(query) or 0)


async def changed_records(
    session: AsyncSession, list_ids: Sequence[str], after: int
) -> tuple[list[Row], int]:
    """The lists' records created, corrected or withdrawn (`withdrawn_at` set) by changes after
    feed position `after`, as they are now, and the head read up to (everything numbered up to
    it has committed, so nothing before it is missed)."""
    head = await feed_head(session)
    if head <= after:
        return [], head
    found = await records_by_ids(session, await changed_record_ids(session, list_ids, after, head))
    lists = set(list_ids)
    return [row for row in found.values() if row["list_id"] in lists], head


async def records_by_ids(session: AsyncSession, ids: Sequence[str]) -> dict[str, Row]:
    found: dict[str, Row] = {}
    columns = [_record[name] for name in RECORD_COLUMNS]
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), CHUNK):
        query = select(*columns).where(_record.id.in_(unique[start : start + CHUNK]))
        found.update({row["id"]: dict(row) for row in (await session.execute(query)).mappings()})
    return found


async def group_sizes(
    session: AsyncSession, groups: Collection[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """How many live records each (list id, group id) holds."""
    by_list: dict[str, list[str]] = {}
    for list_id, group_id in groups:
        by_list.setdefault(list_id, []).append(group_id)
    sizes: dict[tuple[str, str], int] = {}
    for list_id, group_ids in by_list.items():
        for start in range(0, len(group_ids), CHUNK):
            query = (
                select(_record.group_id, func.count())
                .where(
                    _record.list_id == list_id,
                    _record.group_id.in_(group_ids[start : start + CHUNK]),
                    _live_record,
                )
                .group_by(_record.group_id)
            )
            for group_id, count in (await session.execute(query)).all():
                sizes[(list_id, str(group_id))] = int(count)
    return sizes


async def hold_links_for_conflict(
    session: AsyncSession, run_id: str, link_ids: Sequence[str]
) -> None:
    """Accepted links a conflict found after the run puts in a person's hands."""
    await _set_held(session, run_id, link_ids, held=True)


async def release_held_links(session: AsyncSession, run_id: str, link_ids: Sequence[str]) -> None:
    """Links a conflict held for review, accepted again once no conflict holds them (a person's
    decision in between stands)."""
    await _set_held(session, run_id, link_ids, held=False)


async def _set_held(
    session: AsyncSession, run_id: str, link_ids: Sequence[str], held: bool
) -> None:
    was = (
        (_link.decision == "accepted")
        if held
        else (_link.held_for_conflict & (_link.decision == "review"))
    )
    for start in range(0, len(link_ids), CHUNK):
        await session.execute(
            update(ReconciliationLink)
            .where(
                _link.reconciliation_id == run_id,
                was,
                _link.id.in_(link_ids[start : start + CHUNK]),
            )
            .values(decision="review" if held else "accepted", held_for_conflict=held)
        )


async def run_conflicts(session: AsyncSession, run_id: str) -> list[dict[str, Any]]:
    conflicts = await session.scalar(select(_run.conflicts).where(_run.id == run_id))
    return list(conflicts or [])


async def insert_links(session: AsyncSession, rows: Sequence[Row]) -> None:
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(ReconciliationLink), list(rows[start : start + CHUNK]))


async def delete_links_of_records(
    session: AsyncSession, run_id: str, record_ids: Sequence[str]
) -> None:
    """Incremental relinking replaces a changed record's undecided links."""
    for start in range(0, len(record_ids), CHUNK):
        chunk = record_ids[start : start + CHUNK]
        await session.execute(
            delete(ReconciliationLink).where(
                _link.reconciliation_id == run_id,
                _link.decision.in_(("accepted", "review")),
                or_(_link.left_record_id.in_(chunk), _link.right_record_id.in_(chunk)),
            )
        )


_STANDING = (
    _link.id,
    _link.left_list_id,
    _link.left_record_id,
    _link.right_list_id,
    _link.right_record_id,
    _link.decision,
    _link.probability,
    _link.held_for_conflict,
)


async def standing_links(session: AsyncSession, run_id: str) -> list[Row]:
    """The run's links in effect (not rejected): what incremental linking competes against."""
    query = select(*_STANDING).where(
        _link.reconciliation_id == run_id, _link.decision != "rejected"
    )
    return [dict(row) for row in (await session.execute(query)).mappings()]


async def standing_links_of_records(
    session: AsyncSession, run_id: str, record_ids: Sequence[str]
) -> list[Row]:
    """The run's links in effect that join any of the records (each once)."""
    found: dict[str, Row] = {}
    for start in range(0, len(record_ids), CHUNK):
        chunk = record_ids[start : start + CHUNK]
        query = select(*_STANDING).where(
            _link.reconciliation_id == run_id,
            _link.decision != "rejected",
            or_(_link.left_record_id.in_(chunk), _link.right_record_id.in_(chunk)),
        )
        found.update({row["id"]: dict(row) for row in (await session.execute(query)).mappings()})
    return list(found.values())


async def links_version(session: AsyncSession, run_id: str) -> int:
    """How many transactions changed the run's links after it (`raise_links_version`)."""
    return int(await session.scalar(select(_run.links_version).where(_run.id == run_id)) or 0)


async def raise_links_version(session: AsyncSession, run_id: str) -> int:
    """Count one more change to the run's links, in the transaction that makes it; returns the
    new count. One UPDATE, so that concurrent writers each get their own number (a writer that
    finds another's in between knows the links changed under it)."""
    query = (
        update(_tables["reconciliation"])
        .where(_run.id == run_id)
        .values(links_version=_run.links_version + 1)
        .returning(_run.links_version)
    )
    return int((await session.execute(query)).scalar_one())


async def delete_undecided_links(
    session: AsyncSession, run_id: str, link_ids: Sequence[str]
) -> None:
    """Standing links a later record took over (people's decisions are never deleted)."""
    for start in range(0, len(link_ids), CHUNK):
        await session.execute(
            delete(ReconciliationLink).where(
                _link.reconciliation_id == run_id,
                _link.decision.in_(("accepted", "review")),
                _link.id.in_(link_ids[start : start + CHUNK]),
            )
        )


@dataclass(frozen=True, slots=True)
class StatusFilter:
    """Links one of whose live records has `status`, looked for on `sides`: each a list whose
    status the caller sees, and the side of the links it stands on ("left" or "right")."""

    status: str
    sides: tuple[tuple[str, str], ...]

    def parts(self) -> list[ColumnElement[bool]]:
        """One condition per side: as one `OR`, SQLite could not stop the page's ordered scan
        early and sorted every link that matched (1.7 s instead of 3 ms for a page of the
        detained among 175,000 queued links)."""
        return [self._holds(list_id, side) for list_id, side in self.sides]

    def _holds(self, list_id: str, side: str) -> ColumnElement[bool]:
        record_id, on_list = (
            (_link.left_record_id, _link.left_list_id)
            if side == "left"
            else (_link.right_record_id, _link.right_list_id)
        )
        return and_(
            on_list == list_id,
            exists().where(_record.id == record_id, _record.status == self.status, _live_record),
        )


async def links_page(
    session: AsyncSession,
    run_id: str,
    *,
    decision: str | None,
    min_probability: float | None,
    max_probability: float | None,
    after: tuple[float, str] | None,
    limit: int,
    held_for_conflict: bool | None = None,
    status: StatusFilter | None = None,
) -> list[ReconciliationLink]:
    """Links of a run, most probable first, then by id (the cursor is the last pair seen).
    Each decision's links are in probability order in `ix_link_run_decision`, so each decision
    (and status side) is a part of the page (`database.paging.ordered_page`) and no part is read
    beyond it; as one range over every decision, all of a run's links were sorted for each page
    (2.5 s at 700,000 links on SQLite)."""
    conditions = [_link.reconciliation_id == run_id]
    if held_for_conflict is not None:
        conditions.append(_link.held_for_conflict == held_for_conflict)
    if min_probability is not None:
        conditions.append(_link.probability >= min_probability)
    if max_probability is not None:
        conditions.append(_link.probability <= max_probability)
    if after is not None:
        probability, link_id = after
        # the bound alone lets the index scan start at the cursor instead of the top
        conditions.append(_link.probability <= probability)
        conditions.append(or_(_link.probability < probability, _link.id > link_id))
    decisions = [decision] if decision is not None else list(get_args(LinkDecision))
    sides = [[side] for side in status.parts()] if status is not None else [[]]
    parts = [[_link.decision == each, *side] for each in decisions for side in sides]
    order = (_link.probability.desc(), _link.id)
    query = ordered_page(select(ReconciliationLink), _link.id, order, parts, conditions, limit)
    return list((await session.execute(query)).scalars().all())


async def links_among(
    session: AsyncSession, run_id: str, record_ids: Sequence[str]
) -> list[ReconciliationLink]:
    """A run's links whose two records are both among `record_ids` (a page of conflicts),
    most probable first."""
    found: list[ReconciliationLink] = []
    unique = sorted(set(record_ids))
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start : start + CHUNK]
        query = select(ReconciliationLink).where(
            _link.reconciliation_id == run_id,
            _link.left_record_id.in_(chunk),
            _link.right_record_id.in_(unique),
        )
        found.extend((await session.execute(query)).scalars().all())
    return sorted(found, key=lambda link: (-link.probability, link.id))


async def decision_counts(session: AsyncSession, run_id: str) -> dict[str, int]:
    """A run's links per decision, and (`held_for_conflict`) how many of those in review a
    three-way conflict holds there."""
    query = (
        select(_link.decision, _link.held_for_conflict, func.count())
        .where(_link.reconciliation_id == run_id)
        .group_by(_link.decision, _link.held_for_conflict)
    )
    counts: dict[str, int] = {}
    for decision, held, count in (await session.execute(query)).all():
        counts[decision] = counts.get(decision, 0) + count
        if held and decision == "review":
            counts["held_for_conflict"] = count
    return counts


async def records_only_rejected(session: AsyncSession, run_id: str) -> dict[str, int]:
    """Per list id, how many of its records stand on links of a run that people have all
    rejected: no longer matched. It starts from the rejected links, which people make one at a
    time, so it costs what they decided, not the run's size (a scan of 700,000 links for every
    linked record took 23 s on SQLite)."""
    sides = union(
        *(
            select(list_id.label("list_id"), record_id.label("record_id")).where(
                _link.reconciliation_id == run_id, _link.decision == "rejected"
            )
            for list_id, record_id in (
                (_link.left_list_id, _link.left_record_id),
                (_link.right_list_id, _link.right_record_id),
            )
        )
    ).subquery()
    other = _tables["reconciliation_link"].alias("other").c
    # one NOT EXISTS per side, each on its own index, where one OR would read the run's links
    still_linked = [
        exists().where(
            side == sides.c.record_id,
            other.reconciliation_id == run_id,
            other.decision != "rejected",
        )
        for side in (other.left_record_id, other.right_record_id)
    ]
    query = (
        select(sides.c.list_id, func.count())
        .where(*(~linked for linked in still_linked))
        .group_by(sides.c.list_id)
    )
    return {str(list_id): int(count) for list_id, count in (await session.execute(query)).all()}


async def probability_bands(
    session: AsyncSession, run_id: str, bins: int
) -> list[tuple[int, str, int]]:
    """(band, decision, links) of a run's links, the band of [0, 1] cut in `bins` equal ones
    (a probability of 1 falls in the last)."""
    band = cast(_link.probability * bins, Integer)  # truncates: the floor of a probability
    query = (
        select(band, _link.decision, func.count())
        .where(_link.reconciliation_id == run_id)
        .group_by(band, _link.decision)
    )
    rows = (await session.execute(query)).all()
    return [(min(int(b), bins - 1), str(decision), int(n)) for b, decision, n in rows]


async def statuses_linked(
    session: AsyncSession, run_id: str, list_id: str
) -> dict[str, tuple[int, int]]:
    """Per status the list's records (not withdrawn) hold: (records, of them linked in the run,
    accepted or confirmed)."""
    ends = union(
        select(_link.left_record_id.label("record_id")).where(
            _link.reconciliation_id == run_id,
            _link.left_list_id == list_id,
            _link.decision.in_(LINKED_DECISIONS),
        ),
        select(_link.right_record_id.label("record_id")).where(
            _link.reconciliation_id == run_id,
            _link.right_list_id == list_id,
            _link.decision.in_(LINKED_DECISIONS),
        ),
    ).subquery()
    held = (
        select(_record.status, func.count())
        .where(_record.list_id == list_id, _record.status.is_not(None), _live_record)
        .group_by(_record.status)
    )
    linked = (
        select(_record.status, func.count())
        .join(ends, ends.c.record_id == _record.id)
        .where(_record.status.is_not(None), _live_record)
        .group_by(_record.status)
    )
    of_them = {status: n for status, n in (await session.execute(linked)).all()}
    return {
        status: (int(n), int(of_them.get(status, 0)))
        for status, n in (await session.execute(held)).all()
    }


async def get_link(session: AsyncSession, link_id: str) -> ReconciliationLink | None:
    return await session.get(ReconciliationLink, link_id)


async def lock_decisions(session: AsyncSession, agency_id: str) -> None:
    """Serialise the agency's link decisions with the storing of its runs: both begin by
    writing the agency's row (a row lock on PostgreSQL, the database's write lock on SQLite),
    so that a decision made while a run is stored is seen by one or the other, never by
    neither (`decide`, `ReconciliationRunner._store`)."""
    agency = _tables["agency"]
    await session.execute(update(agency).where(agency.c.id == agency_id).values(name=agency.c.name))


async def apply_decision_to_later_runs(
    session: AsyncSession,
    agency_id: str,
    since: dt.datetime,
    pair: tuple[str, str],
    decision: str,
) -> set[str]:
    """A person's decision on a pair, on that pair's links (either orientation) in the agency's
    runs created at or after `since`; returns the runs whose links changed."""
    later = select(_run.id).where(_run.owner_agency_id == agency_id, _run.created_at >= since)
    left, right = pair
    either_way = or_(
        and_(_link.left_record_id == left, _link.right_record_id == right),
        and_(_link.left_record_id == right, _link.right_record_id == left),
    )
    query = (
        update(_tables["reconciliation_link"])
        .where(_link.reconciliation_id.in_(later), either_way)
        .values(decision=decision, held_for_conflict=False)
        .returning(_link.reconciliation_id)
    )
    return {row[0] for row in (await session.execute(query)).all()}


def review_pair(record_id: str, other_id: str) -> tuple[str, str]:
    """The one orientation in which `link_review` keeps a pair: its record ids in order. A run
    may be given its lists either way round, and a decision on the pair is one decision in
    both (kept in the link's orientation, a decision made on a run of the other order became
    a second row). Ordered by Python, not by the database, whose order of text follows its
    collation; migration c0ffee000015 turned the rows stored before the same way."""
    return (record_id, other_id) if record_id <= other_id else (other_id, record_id)


async def reviews_of_agency(session: AsyncSession, agency_id: str) -> list[LinkReview]:
    """The agency's decisions on pairs in the order they were made: should a pair ever be read
    twice, its latest decision comes last and wins (`jobs.reviews_as_decisions`), instead of
    whichever the plan happened to read last (the unique index's order, by record id)."""
    query = (
        select(LinkReview)
        .where(_review.agency_id == agency_id)
        .order_by(_review.decided_at, _review.id)
    )
    return list((await session.execute(query)).scalars().all())


async def find_review(
    session: AsyncSession, agency_id: str, record_id: str, other_id: str
) -> LinkReview | None:
    """The agency's decision on the pair of records, given in either orientation."""
    left, right = review_pair(record_id, other_id)
    query = select(LinkReview).where(
        _review.agency_id == agency_id,
        _review.left_record_id == left,
        _review.right_record_id == right,
    )
    return (await session.execute(query)).scalars().first()
