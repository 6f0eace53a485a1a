"""Background reconciliation runs inside the service process: the job reads the lists as the
caller may see them, links them in a worker thread (the engine is CPU-bound numpy), reports its
progress to the run's row and stores the links. Logs carry run ids and counts, never names."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.statistics import refresh_statistics_after_commit
from exchange.visibility import ListView
from reconcile import repository
from reconcile.memory import MemoryBudget, RunTooLargeError, default_budget_mb
from reconcile.run_records import read_engine_table
from reconcile.runs import ListInput, RunOutput, reconcile_lists
from schemas.types import utcnow

log = structlog.get_logger(__name__)
PROGRESS_EVERY_S = 0.5


def reviews_as_decisions(reviews: Iterable[Any]) -> dict[tuple[str, str], bool]:
    """People's decisions on pairs, in both orientations (lists may be given in any order).
    A later review of a pair overrides an earlier one: give them in the order they were made
    (`repository.reviews_of_agency`)."""
    decisions: dict[tuple[str, str], bool] = {}
    for review in reviews:
        confirmed = review.decision == "confirmed"
        decisions[(review.left_record_id, review.right_record_id)] = confirmed
        decisions[(review.right_record_id, review.left_record_id)] = confirmed
    return decisions


async def decisions_of(session: AsyncSession, agency_id: str) -> dict[tuple[str, str], bool]:
    """The agency's people's decisions on pairs, as they stand now."""
    return reviews_as_decisions(await repository.reviews_of_agency(session, agency_id))


def apply_decisions_made_meanwhile(
    rows: Iterable[dict[str, Any]],
    read: Mapping[tuple[str, str], bool],
    now: Mapping[tuple[str, str], bool],
) -> int:
    """Decisions people made after the run read them (`read`: then, `now`: as it is stored),
    applied to the run's link rows as deciding the link right after the run would apply them:
    the pair's link takes the decision and no conflict holds it. Returns how many changed."""
    changed = 0
    for row in rows:
        pair = (row["left_record_id"], row["right_record_id"])
        if pair in now and read.get(pair) != now[pair]:
            row["decision"] = "confirmed" if now[pair] else "rejected"
            row["held_for_conflict"] = False
            changed += 1
    return changed


class ReconciliationRunner:
    """Runs one reconciliation at a time (the others wait, queued): each holds its lists'
    candidate pairs in memory, and on two cores a second run in parallel would only share
    them. A run that would take more memory than `memory_mb` fails with a clear error."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], memory_mb: int | None = None
    ) -> None:
        self._sessions = sessions
        self._tasks: set[asyncio.Task[None]] = set()
        self._one_at_a_time = asyncio.Semaphore(1)
        self._budget = MemoryBudget(memory_mb if memory_mb is not None else default_budget_mb())

    def submit(self, run_id: str, agency_id: str, views: list[ListView]) -> None:
        task = asyncio.get_running_loop().create_task(self._run(run_id, agency_id, views))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _set(self, run_id: str, **values: Any) -> None:
        async with self._sessions() as session:
            await repository.update_run(session, run_id, values)
            await session.commit()

    async def _inputs(
        self, run_id: str, agency_id: str, views: list[ListView]
    ) -> tuple[list[ListInput], dict[tuple[str, str], bool], int]:
        """The lists as the caller may see them, the agency's decisions, and the change feed's
        head, kept first: the incremental linker relinks whatever changed after it, also while
        this run was linking."""
        async with self._sessions() as session:
            head = await repository.feed_head(session)
            await repository.update_run(session, run_id, {"feed_seq": head})
            await session.commit()
            inputs = [
                ListInput(
                    view.list_id,
                    await read_engine_table(session, view),
                    view.fields - set(view.coarsen),
                )
                for view in views
            ]
            decisions = await decisions_of(session, agency_id)
        return inputs, decisions, head

    async def _run(self, run_id: str, agency_id: str, views: list[ListView]) -> None:
        async with self._one_at_a_time:
            await self._link(run_id, agency_id, views)

    async def _link(self, run_id: str, agency_id: str, views: list[ListView]) -> None:
        try:
            await self._set(run_id, status="running", stage="loading", progress=0.0)
            inputs, decisions, read_at = await self._inputs(run_id, agency_id, views)
            state = {"stage": "prepare", "progress": 0.0}

            def progress(stage: str, fraction: float) -> None:
                state.update(stage=stage, progress=fraction)

            work = asyncio.ensure_future(
                asyncio.to_thread(reconcile_lists, inputs, decisions, None, progress, self._budget)
            )
            while not work.done():
                await asyncio.wait({work}, timeout=PROGRESS_EVERY_S)
                await self._set(
                    run_id, stage=str(state["stage"]), progress=float(str(state["progress"])) * 0.95
                )
            output: RunOutput = work.result()
            await self._store(run_id, agency_id, output, read_at, decisions)
            log.info(
                "reconciliation_completed",
                run_id=run_id,
                links=len(output.links),
                conflicts=len(output.conflicts),
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("reconciliation_failed", run_id=run_id, error=type(exc).__name__)
            # a refusal says what to change; other errors only their kind (a message could
            # quote a record)
            error = str(exc) if isinstance(exc, RunTooLargeError) else type(exc).__name__
            await self._set(
                run_id, status="failed", stage="failed", error=error[:200], finished_at=utcnow()
            )

    async def _store(
        self,
        run_id: str,
        agency_id: str,
        output: RunOutput,
        read_at: int,
        decisions: Mapping[tuple[str, str], bool],
    ) -> None:
        """The run's links and counts, with the decisions people made while it linked."""
        async with self._sessions() as session:
            await repository.lock_decisions(session, agency_id)
            now_decided = await decisions_of(session, agency_id)
            apply_decisions_made_meanwhile(output.links, decisions, now_decided)
            now = utcnow()
            rows = [
                {
                    **row,
                    "reconciliation_id": run_id,
                    "id": _new_id(),
                    "incremental": False,
                    "created_at": now,
                }
                for row in output.links
            ]
            await repository.insert_links(session, rows)
            await repository.update_run(
                session,
                run_id,
                {
                    "status": "completed",
                    "stage": "completed",
                    "progress": 1.0,
                    "counts": output.counts,
                    "conflicts": output.conflicts,
                    # the run's feed_seq moves on as changes are linked; its u stays the
                    # u of the lists as read at `read_at`
                    "pair_u": {"read_at": read_at, "pairs": output.pair_u},
                    "finished_at": now,
                },
            )
            await session.commit()
            await refresh_statistics_after_commit(
                session, (repository.LINK_TABLE,), len(rows), reconciliation_id=run_id
            )


def _new_id() -> str:
    from schemas.types import new_id

    return new_id()
