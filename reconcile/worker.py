"""Incremental linking: a small polling worker that links records added or changed after a
run (a new detention record, a corrected name) against the run's other lists within seconds,
without rerunning everything (reconcile.incremental decides; this module reads and writes).
Links of a changed record that nobody decided on are replaced, and so is an undecided link
whose record a later one took over; confirmed and rejected pairs stay as people left them."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exchange.visibility import ListView
from reconcile import repository
from reconcile.incremental import Relinked, StandingLink, relink_pair
from reconcile.jobs import reviews_as_decisions
from reconcile.visible import engine_row, spec_fields
from schemas.lists import ExchangeList
from schemas.reconciliation import Reconciliation
from schemas.types import new_id, utcnow
from schemas.vocabulary import ListKind

log = structlog.get_logger(__name__)
POLL_SECONDS = 1.0


def _spec_view(list_id: str, spec: dict[str, object]) -> ListView:
    coarsen = spec.get("coarsen", {})
    placeholder = ExchangeList(
        id=list_id, name="-", kind=ListKind.PIPELINE, owner_agency_id="-", created_by_client_id="-"
    )
    return ListView(
        placeholder, False, spec_fields(spec), dict(coarsen) if isinstance(coarsen, dict) else {}
    )


class IncrementalLinker:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], poll_seconds: float = POLL_SECONDS
    ) -> None:
        self._sessions = sessions
        self._poll = poll_seconds
        self._watermarks: dict[str, dt.datetime] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

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
        """Link every record changed since the last poll; returns how many were linked."""
        async with self._sessions() as session:
            runs = await repository.completed_runs(session)
        total = 0
        for run in runs:
            total += await self._update(run)
        return total

    async def _update(self, run: Reconciliation) -> int:
        since = self._watermarks.get(run.id) or run.finished_at or utcnow()
        views = {lid: _spec_view(lid, dict(spec)) for lid, spec in run.views.items()}
        async with self._sessions() as session:
            changed = await repository.records_changed_since(session, run.list_ids, since)
            if not changed:
                return 0
            everything = {
                lid: await repository.active_records(session, lid) for lid in run.list_ids
            }
            standing = await repository.standing_links(session, run.id)
            decisions = reviews_as_decisions(
                await repository.reviews_of_agency(session, run.owner_agency_id)
            )
            relinked = await asyncio.to_thread(
                _relink, run, views, changed, everything, standing, decisions
            )
            ids = [row["id"] for row in changed]
            await repository.delete_links_of_records(session, run.id, ids)
            await repository.delete_undecided_links(session, run.id, relinked.displaced)
            await repository.insert_links(session, relinked.links)
            await session.commit()
        self._watermarks[run.id] = max(row["updated_at"] for row in changed)
        log.info(
            "incremental_links",
            run_id=run.id,
            records=len(changed),
            links=len(relinked.links),
            displaced=len(relinked.displaced),
        )
        return len(changed)


def _relink(
    run: Reconciliation,
    views: dict[str, ListView],
    changed: list[dict[str, Any]],
    everything: dict[str, list[dict[str, Any]]],
    standing: list[dict[str, Any]],
    decisions: dict[tuple[str, str], bool],
) -> Relinked:
    """Each pair of the run's lists relinked around its changed records (reconcile.incremental),
    with the rows to store."""
    out = Relinked()
    changed_ids = {row["id"] for row in changed}
    rows = {lid: [engine_row(row, views[lid]) for row in everything[lid]] for lid in run.list_ids}
    now = utcnow()
    for i, left in enumerate(run.list_ids):
        for right in run.list_ids[i + 1 :]:
            kept = [
                StandingLink(
                    s["id"], s["left_record_id"], s["right_record_id"], s["decision"] == "confirmed"
                )
                for s in standing
                if (s["left_list_id"], s["right_list_id"]) == (left, right)
                and not {s["left_record_id"], s["right_record_id"]} & changed_ids
            ]
            found = relink_pair(
                rows[left],
                rows[right],
                (left, right),
                (
                    {r["id"] for r in changed if r["list_id"] == left},
                    {r["id"] for r in changed if r["list_id"] == right},
                ),
                kept,
                decisions,
            )
            out.displaced.extend(found.displaced)
            out.links.extend(
                {
                    **row,
                    "id": new_id(),
                    "reconciliation_id": run.id,
                    "incremental": True,
                    "created_at": now,
                }
                for row in found.links
            )
    return out
