"""Incremental linking: a small polling worker that links records added or changed after a
run (a new detention record, a corrected name) against the run's other lists within seconds,
without rerunning everything (reconcile.incremental decides; this module reads and writes).
Links of a changed record that nobody decided on are replaced, and so is an undecided link
whose record a later one took over; confirmed and rejected pairs stay as people left them."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Hashable
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reconcile import repository
from reconcile.grants import still_granted
from reconcile.held_lists import HeldLists
from reconcile.incremental import Relinked
from reconcile.jobs import decisions_of
from reconcile.relinking import freed_partners, relink_changed, resting_on
from reconcile.run_records import EPOCH, RunRecords, active, held_key, withdrawn_ids
from reconcile.standing import StandingLinks, link_ends
from schemas.reconciliation import Reconciliation
from schemas.types import utcnow

log = structlog.get_logger(__name__)
POLL_SECONDS = 1.0
# polls a run's batch may fail before it is linked in halves (`_in_halves`)
MAX_ATTEMPTS = 3
# relinkings of one half in a row that people's decisions made meanwhile may send back
SETTLE_ATTEMPTS = 3


class IncrementalLinker:
    # hold the newest run's lists before a change needs them (tests that count reads turn it off)
    hold_ahead = True

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], poll_seconds: float = POLL_SECONDS
    ) -> None:
        self._sessions = sessions
        self._poll = poll_seconds
        # per run, the change feed position up to which its records are linked
        self._cursors: dict[str, int] = {}
        self._failures: dict[str, int] = {}
        # whole lists a changed record of another list is compared with, kept prepared
        self._held = HeldLists()
        self._holding: dict[Hashable, asyncio.Task[None]] = {}
        self._held_ahead: set[str] = set()  # runs whose lists were held ahead
        self._not_shared: set[str] = set()  # runs whose lists are no longer granted as read
        # per run kept up to date, its standing links as last read or stored
        self._standing: dict[str, StandingLinks] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        for task in [self._task, *self._holding.values()]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._poll)
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("incremental_linking_failed", error=type(exc).__name__)

    async def poll_once(self) -> int:
        """Link every record changed since the last poll; returns how many were linked. A run
        whose batch keeps failing has its records linked in halves after MAX_ATTEMPTS polls,
        so one record that cannot be linked does not hold up the others (or other runs)."""
        async with self._sessions() as session:
            runs = newest_runs(await repository.completed_runs(session))
            granted = [run for run in runs if await still_granted(session, run, utcnow())]
        for old in set(self._standing) - {run.id for run in runs}:
            del self._standing[old]  # a newer run over the same lists is kept up to date instead
        self._note_not_shared(runs, granted)
        if self.hold_ahead and granted:
            self._hold_ahead(max(granted, key=lambda run: run.finished_at or EPOCH))
        total = 0
        for run in granted:
            try:
                total += await self._update(run)
                self._failures.pop(run.id, None)
            except DecidedWhileRelinkingError:
                log.info("incremental_decided_meanwhile", run_id=run.id)  # again next poll
            except Exception as exc:
                attempt = self._failures[run.id] = self._failures.get(run.id, 0) + 1
                log.error(
                    "incremental_linking_failed",
                    run_id=run.id,
                    error=type(exc).__name__,
                    attempt=attempt,
                )
                if attempt >= MAX_ATTEMPTS:
                    total += await self._in_halves(run)
                    self._failures.pop(run.id, None)
        return total

    def _note_not_shared(self, runs: list[Reconciliation], granted: list[Reconciliation]) -> None:
        """When a run stops being kept up to date (`reconcile.grants`): log it once, and let go
        of what was read of its lists under the agreement (held lists, standing links). Its
        changes wait, unread, until an agreement grants them again."""
        granted_ids = {run.id for run in granted}
        paused = [run for run in runs if run.id not in granted_ids]
        for run in paused:
            if run.id in self._not_shared:
                continue
            log.info("incremental_run_not_shared", run_id=run.id)
            for list_id in run.list_ids:
                self._held.forget(held_key(run, list_id))
            self._standing.pop(run.id, None)
            self._held_ahead.discard(run.id)  # held ahead again once it resumes
        self._not_shared = {run.id for run in paused}

    def _hold_ahead(self, run: Reconciliation) -> None:
        """Start holding, in the background, the newest run's lists (a change is linked with
        both whole lists of each pair), so that the first change does not wait for a whole
        list to be read and prepared (about 45 s for 1.3 million records). Once per run: older
        runs' lists are held when a change needs them."""
        if run.id in self._held_ahead:
            return
        self._held_ahead.add(run.id)
        links_task = asyncio.get_running_loop().create_task(self._hold_links(run))
        self._holding[("links", run.id)] = links_task
        links_task.add_done_callback(functools.partial(self._held_now, ("links", run.id)))
        for list_id in run.list_ids:
            key = held_key(run, list_id)
            if key not in self._held and key not in self._holding:
                task = asyncio.get_running_loop().create_task(self._hold(run, list_id))
                self._holding[key] = task
                task.add_done_callback(functools.partial(self._held_now, key))

    def _held_now(self, key: Hashable, _: asyncio.Task[None]) -> None:
        self._holding.pop(key, None)

    async def _hold_links(self, run: Reconciliation) -> None:
        """Read the run's standing links ahead too (3 to 5 s for a full-size three-list run's
        709,512 from PostgreSQL). A change stored meanwhile leaves this copy a version behind:
        the next change reads them again."""
        try:
            async with self._sessions() as session:
                await self._standing_of(session, run.id)
        except Exception as exc:
            log.error("incremental_links_hold_failed", run_id=run.id, error=type(exc).__name__)

    async def _hold(self, run: Reconciliation, list_id: str) -> None:
        try:
            async with self._sessions() as session:
                await RunRecords(session, run, self._held).prepared(list_id)
            log.info("incremental_list_held", run_id=run.id, list_id=list_id)
        except Exception as exc:
            log.error(
                "incremental_list_hold_failed",
                run_id=run.id,
                list_id=list_id,
                error=type(exc).__name__,
            )

    def held_links(self, run_id: str) -> list[dict[str, Any]] | None:
        """The run's standing links as this worker holds them, if it does."""
        held = self._standing.get(run_id)
        return None if held is None else held.rows()

    async def _standing_of(self, session: AsyncSession, run_id: str) -> StandingLinks:
        """The run's standing links, held between polls while no other writer changed them
        (`Reconciliation.links_version`): the version is read before the links, so links
        changed in between are read again at the next change, never missed."""
        version = await repository.links_version(session, run_id)
        held = self._standing.get(run_id)
        if held is None or held.version != version:
            rows = await repository.standing_links(session, run_id)
            # indexing 709,512 links takes 1.6 s: off the event loop, as linking is
            held = await asyncio.to_thread(StandingLinks, version, rows)
            self._standing[run_id] = held
        return held

    async def _changed(self, run: Reconciliation) -> tuple[list[dict[str, Any]], int]:
        """The run's records changed after its cursor (the feed's head when the run read its
        lists, at first: a record changed while the run was linking is relinked after it), as
        they are now (withdrawn ones with `withdrawn_at`), and the head read up to."""
        async with self._sessions() as session:
            # what this process has looked at, or what any process applied (`feed_seq` is read
            # afresh every poll); a run from before feed positions were kept starts now
            known = [c for c in (self._cursors.get(run.id), run.feed_seq) if c is not None]
            if not known:
                known = [await repository.feed_head(session)]
            return await repository.changed_records(session, run.list_ids, max(known))

    async def _update(self, run: Reconciliation) -> int:
        changed, head = await self._changed(run)
        if changed and not await self._granted_now(run):
            return 0  # the agreement ended after this poll began: changes read after it wait
        if changed and not await self._apply(run, changed, (run.feed_seq, head)):
            self._cursors.pop(run.id, None)  # another worker process applied them first
            return 0
        self._cursors[run.id] = head
        return len(changed)

    async def _granted_now(self, run: Reconciliation) -> bool:
        """Asked again once the changes are read: a change made after an agreement ended is
        then never linked, whenever in the poll the agreement ended."""
        async with self._sessions() as session:
            return await still_granted(session, run, utcnow())

    async def _in_halves(self, run: Reconciliation) -> int:
        """The changed records in halves, and those halves in halves, until every record that
        still fails is alone; those are set aside: their ids go to the log and their number to
        the run's counts (`incremental_failed`). Halving finds a few bad records among a bulk
        import's million in a few dozen tries instead of a million."""
        changed, head = await self._changed(run)
        failed = await self._bisect(run, changed)
        self._cursors[run.id] = head
        async with self._sessions() as session:
            await repository.advance_feed_seq(session, run.id, run.feed_seq, head)
            if failed:
                before = int(str(run.counts.get("incremental_failed", 0)))
                run.counts = {**run.counts, "incremental_failed": before + len(failed)}
                await repository.update_run(session, run.id, {"counts": run.counts})
            await session.commit()
        return len(changed) - len(failed)

    async def _bisect(self, run: Reconciliation, rows: list[dict[str, Any]]) -> list[str]:
        """Ids of the rows that fail alone; the others are linked."""
        if not rows:
            return []
        try:
            await self._apply_settled(run, rows)
            return []
        except Exception as exc:
            if len(rows) > 1:
                half = len(rows) // 2
                return await self._bisect(run, rows[:half]) + await self._bisect(run, rows[half:])
            log.error(
                "incremental_record_set_aside",
                run_id=run.id,
                record_id=rows[0]["id"],
                error=type(exc).__name__,
            )
            return [rows[0]["id"]]

    async def _apply_settled(self, run: Reconciliation, rows: list[dict[str, Any]]) -> None:
        """`_apply`, again while people's decisions keep arriving during the relinking."""
        for _ in range(SETTLE_ATTEMPTS - 1):
            with contextlib.suppress(DecidedWhileRelinkingError):
                await self._apply(run, rows)
                return
        await self._apply(run, rows)

    async def _apply(
        self,
        run: Reconciliation,
        changed: list[dict[str, Any]],
        advance: tuple[int | None, int] | None = None,
    ) -> bool:
        """Relink the changed records and store the result in one transaction. Withdrawn ones
        lose their undecided links and are not linked again. `advance`: (the run's feed
        position as read, the head these changes were read up to); the transaction moves the
        run's position to the head, unless another worker process (`sanad serve --workers`)
        moved it first: then nothing is stored and False returned."""
        gone = frozenset(withdrawn_ids(changed))
        if (reading := self._holding.get(("links", run.id))) is not None:
            await asyncio.wait([reading])  # the links read ahead, rather than read twice
        async with self._sessions() as session:
            standing = await self._standing_of(session, run.id)
            ids = {row["id"] for row in changed}
            # relinked too: a withdrawn record's undecided partners, free again, and the records
            # of a link that may rest on a changed one (implied through it)
            near = standing.near(ids, hops=2)
            partners = await repository.records_by_ids(
                session, freed_partners(near, gone) + resting_on(near, ids)
            )
            changed = changed + [r for r in partners.values() if r["id"] not in ids]
            current = active(changed)
            decisions = await decisions_of(session, run.owner_agency_id)
            records = RunRecords(session, run, self._held, self._holding)
            relinked = await relink_changed(run, records, current, standing, decisions, gone)
            await repository.lock_decisions(session, run.owner_agency_id)
            if await decisions_of(session, run.owner_agency_id) != decisions:
                await session.rollback()
                raise DecidedWhileRelinkingError(run.id)
            await repository.delete_links_of_records(session, run.id, [r["id"] for r in changed])
            await repository.delete_undecided_links(session, run.id, relinked.displaced)
            await repository.insert_links(session, relinked.links)
            await repository.hold_links_for_conflict(session, run.id, relinked.to_review)
            await repository.release_held_links(session, run.id, relinked.released)
            if relinked.conflicts is not None:
                await _replace_conflicts(session, run, *relinked.conflicts)
            touched = _touched_records(standing, changed, relinked)
            now_standing = await repository.standing_links_of_records(
                session, run.id, sorted(touched)
            )
            version = await repository.raise_links_version(session, run.id)
            if advance is not None and not await repository.advance_feed_seq(
                session, run.id, *advance
            ):
                await session.rollback()
                self._standing.pop(run.id, None)
                log.info("incremental_links_stored_elsewhere", run_id=run.id)
                return False
            await session.commit()
        if version == standing.version + 1:
            standing.replace_around(touched, now_standing)
            standing.version = version
            self._standing[run.id] = standing  # not a copy read ahead meanwhile, a version behind
        else:  # another writer changed the run's links in between: read them again next time
            self._standing.pop(run.id, None)
        log.info(
            "incremental_links",
            run_id=run.id,
            records=len(current),
            withdrawn=len(gone),
            links=len(relinked.links),
            displaced=len(relinked.displaced),
        )
        return True


class DecidedWhileRelinkingError(Exception):
    """A person decided a pair of the run while its changed records were relinked: nothing was
    stored, and the change is relinked again with the decision (a link kept by a decision made
    meanwhile would collide with the relinked one)."""


def _touched_records(
    standing: StandingLinks, changed: list[dict[str, Any]], relinked: Relinked
) -> set[str]:
    """The records whose links storing a change may alter: the changed ones, and those of every
    link it inserts, takes over, holds for a conflict or releases."""
    touched = {row["id"] for row in changed}
    ids = [*relinked.displaced, *relinked.to_review, *relinked.released]
    for row in [*relinked.links, *(standing.get(link_id) for link_id in ids)]:
        if row is not None:
            touched.update(link_ends(row))
    return touched


async def _replace_conflicts(
    session: AsyncSession, run: Reconciliation, around: set[str], found: list[dict[str, Any]]
) -> None:
    """The run's conflicts that involve the records a change relinked, read again."""
    stored = await repository.run_conflicts(session, run.id)
    kept = [c for c in stored if not set(map(str, c["records"])) & around]
    if kept + found != stored:
        run.counts = {**run.counts, "conflicts": len(kept) + len(found)}
        await repository.update_run(
            session, run.id, {"conflicts": kept + found, "counts": run.counts}
        )


def newest_runs(runs: list[Reconciliation]) -> list[Reconciliation]:
    """The runs kept up to date: the newest completed run of each agency over each set of
    lists. An older run over the same lists is a snapshot of its day; relinking it too would
    cost one more feed query per poll for every run ever made."""
    newest: dict[tuple[str, frozenset[str]], Reconciliation] = {}
    for run in runs:
        scope = (run.owner_agency_id, frozenset(run.list_ids))
        held = newest.get(scope)
        if held is None or (run.finished_at or EPOCH) > (held.finished_at or EPOCH):
            newest[scope] = run
    return list(newest.values())
