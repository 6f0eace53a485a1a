"""Incremental linking: a small polling worker that links records added or changed after a
run (a new detention record, a corrected name) against the run's other lists within seconds,
without rerunning everything. Links of a changed record that nobody decided on are replaced;
confirmed and rejected pairs stay as people left them."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exchange.visibility import ListView
from reconcile import repository
from reconcile.engine import link_tables
from reconcile.jobs import reviews_as_decisions
from reconcile.runs import link_rows
from reconcile.table import RecordTable
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
            by_list: dict[str, list[dict[str, Any]]] = {}
            for row in changed:
                by_list.setdefault(row["list_id"], []).append(row)
            everything = {
                lid: await repository.active_records(session, lid) for lid in run.list_ids
            }
            decisions = reviews_as_decisions(
                await repository.reviews_of_agency(session, run.owner_agency_id)
            )
            rows = await asyncio.to_thread(_relink, run, views, by_list, everything, decisions)
            ids = [row["id"] for row in changed]
            await repository.delete_links_of_records(session, run.id, ids)
            await repository.insert_links(session, rows)
            await session.commit()
        self._watermarks[run.id] = max(row["updated_at"] for row in changed)
        log.info("incremental_links", run_id=run.id, records=len(changed), links=len(rows))
        return len(changed)


def _table(rows: list[dict[str, Any]], view: ListView) -> RecordTable:
    return RecordTable.from_rows([engine_row(row, view) for row in rows])


def _relink(
    run: Reconciliation,
    views: dict[str, ListView],
    changed: dict[str, list[dict[str, Any]]],
    everything: dict[str, list[dict[str, Any]]],
    decisions: dict[tuple[str, str], bool],
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    ids = run.list_ids
    now = utcnow()
    for i, left in enumerate(ids):
        for right in ids[i + 1 :]:
            new_left = {row["id"] for row in changed.get(left, [])}
            pairs = []
            if new_left:
                pairs.append((changed[left], everything[right]))
            if changed.get(right):
                pairs.append(
                    ([r for r in everything[left] if r["id"] not in new_left], changed[right])
                )
            for left_rows, right_rows in pairs:
                if not left_rows or not right_rows:
                    continue
                result = link_tables(
                    _table(left_rows, views[left]),
                    _table(right_rows, views[right]),
                    decisions=decisions,
                )
                for row in link_rows(result, left, right):
                    out.append(
                        {
                            **row,
                            "id": new_id(),
                            "reconciliation_id": run.id,
                            "incremental": True,
                            "created_at": now,
                        }
                    )
    return out
