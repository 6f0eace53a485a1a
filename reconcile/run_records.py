"""A reconciliation run's records as the engine reads them (cut to the run's views), for the
incremental worker (reconcile.worker): both whole lists of a pair with a changed record (the
run's competition is measured over them), each held prepared between polls
(reconcile.held_lists) and brought up to date with only what changed in it."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Hashable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.visibility import ListView
from reconcile import repository
from reconcile.held_lists import HeldList, HeldLists
from reconcile.incremental import Prepared
from reconcile.parameters import FloatArray
from reconcile.prepare import PreparedList
from reconcile.scoring import u_from_json
from reconcile.table import RecordTable
from reconcile.visible import engine_row, spec_fields
from schemas.lists import ExchangeList
from schemas.reconciliation import Reconciliation
from schemas.vocabulary import ListKind

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


async def read_engine_table(session: AsyncSession, view: ListView) -> RecordTable:
    """A whole list's active records as a RecordTable cut to `view`, built chunk by chunk in a
    thread: a million records end up as a few columns, not a million dicts for the garbage
    collector to walk (each full collection would hold up the event loop for a second)."""
    tables = []
    async for chunk in repository.active_record_chunks(session, view.list_id):
        tables.append(await asyncio.to_thread(_table, chunk, view))
    if not tables:
        return RecordTable.from_rows([])
    return await asyncio.to_thread(RecordTable.concat, tables)


def _cut(rows: list[dict[str, Any]], view: ListView) -> list[dict[str, Any]]:
    return [engine_row(row, view) for row in rows]


def _table(rows: list[dict[str, Any]], view: ListView) -> RecordTable:
    return RecordTable.from_rows(_cut(rows, view))


def active(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of records not withdrawn."""
    return [row for row in rows if row["withdrawn_at"] is None]


def withdrawn_ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for row in rows if row["withdrawn_at"] is not None]


def held_key(run: Reconciliation, list_id: str) -> Hashable:
    """A held list is one list as one run's view cuts it."""
    return list_id, json.dumps(run.views.get(list_id, {}), sort_keys=True, default=str)


def _spec_view(list_id: str, spec: dict[str, object]) -> ListView:
    coarsen = spec.get("coarsen", {})
    placeholder = ExchangeList(
        id=list_id, name="-", kind=ListKind.PIPELINE, owner_agency_id="-", created_by_client_id="-"
    )
    return ListView(
        placeholder, False, spec_fields(spec), dict(coarsen) if isinstance(coarsen, dict) else {}
    )


def _run_u(stored: object, left_id: str, right_id: str) -> tuple[dict[str, FloatArray] | None, int]:
    """The run's u of a pair of its lists (stored as {"read_at": …, "pairs": …}), and the feed
    position it read them at."""
    if not isinstance(stored, dict) or not isinstance(read_at := stored.get("read_at"), int):
        return None, 0
    pairs = stored.get("pairs")
    by_right = pairs.get(left_id) if isinstance(pairs, dict) else None
    return (u_from_json(by_right.get(right_id)) if isinstance(by_right, dict) else None), read_at


class RunRecords:
    """A run's records as the engine reads them, loaded on demand (see the module). `holding`:
    lists being held ahead in the background (the worker's); a list among them is waited for
    rather than read a second time."""

    def __init__(
        self,
        session: AsyncSession,
        run: Reconciliation,
        held: HeldLists,
        holding: Mapping[Hashable, asyncio.Task[None]] | None = None,
    ) -> None:
        self._session = session
        self._run_id = run.id
        self._views = {lid: _spec_view(lid, dict(spec)) for lid, spec in run.views.items()}
        self._keys = {lid: held_key(run, lid) for lid in run.views}
        self._held = held
        self._holding = holding or {}

    async def engine(self, list_id: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows cut to the run's view of their list, in a thread (a bulk import's batch can
        hold a million)."""
        if not rows:
            return []
        return await asyncio.to_thread(_cut, rows, self._views[list_id])

    async def prepared(self, list_id: str) -> Prepared:
        """The whole list prepared, brought up to date with what changed since it was held."""
        key = self._keys[list_id]
        task = self._holding.get(key)
        if task is not None:
            await asyncio.wait([task])  # its failure is logged there; read the list here then
        held = self._held.get(key) or await self._hold(list_id, key)
        found, head = await repository.changed_records(self._session, [list_id], held.watermark)
        if found:
            current = await self.engine(list_id, active(found))
            await asyncio.to_thread(self._held.update, key, current, withdrawn_ids(found), head)
        return held.spaces, held.prepared

    async def pair(self, left_id: str, right_id: str) -> tuple[PreparedList, Prepared]:
        """Both whole lists brought up to date as `prepared` does: the right one as held, the
        left one prepared in its spaces, where a change is linked within both."""
        await self.prepared(left_id)
        right = await self.prepared(right_id)
        keys = self._keys[left_id], self._keys[right_id]
        return await asyncio.to_thread(self._held.in_spaces_of, *keys), right

    async def u(self, left_id: str, right_id: str) -> dict[str, FloatArray] | None:
        """The u to link these two held lists with while it holds (`HeldLists.sampled_u`): the
        run's own at first, aged by the records changed since the run read the lists, then what
        a later linking drew; None: draw one. The run's is the draw its links were weighed
        with: another, drawn after a change reordered the lists, moved a few records across a
        threshold."""
        keys = self._keys[left_id], self._keys[right_id]
        if not self._held.has_u(*keys):
            stored = await repository.pair_u(self._session, self._run_id)
            run_u, read_at = _run_u(stored, left_id, right_id)
            lists = [self._held.get(key) for key in keys]
            if run_u is not None and lists[0] is not None and lists[1] is not None:
                count = repository.count_changed_records
                age = (
                    await count(self._session, left_id, read_at, lists[0].watermark),
                    await count(self._session, right_id, read_at, lists[1].watermark),
                )
                self._held.keep_u(*keys, run_u, age)
        return self._held.sampled_u(*keys)

    def keep_u(self, left_id: str, right_id: str, u: dict[str, FloatArray] | None) -> None:
        if u is not None:
            self._held.keep_u(self._keys[left_id], self._keys[right_id], u)

    async def _hold(self, list_id: str, key: Hashable) -> HeldList:
        # the head before the read: changes after it are applied at the next use (again, if
        # the read saw them already: replacing a record by itself changes nothing)
        head = await repository.feed_head(self._session)
        table = await read_engine_table(self._session, self._views[list_id])
        return await asyncio.to_thread(self._held.hold, key, table, head)
