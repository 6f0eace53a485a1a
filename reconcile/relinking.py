"""Relinking one reconciliation run around records that changed after it: each pair of its
lists through reconcile.incremental, reading through run_records.RunRecords, with the link
rows to store. The worker (reconcile.worker) decides when, and stores them."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from reconcile.incremental import (
    PairContext,
    Relinked,
    StandingLink,
    relink_left,
    relink_right,
    unchanged,
)
from reconcile.run_records import RunRecords
from schemas.reconciliation import Reconciliation
from schemas.types import new_id, utcnow


async def relink_changed(
    run: Reconciliation,
    records: RunRecords,
    changed: list[dict[str, Any]],
    standing: list[dict[str, Any]],
    decisions: dict[tuple[str, str], bool],
    gone: frozenset[str] = frozenset(),
) -> Relinked:
    """Each pair of the run's lists relinked around its changed records (reconcile.incremental),
    with the rows to store; the linking itself runs in a thread. The links of `gone` (withdrawn
    records) neither stand nor compete."""
    out = Relinked()
    changed_ids = {row["id"] for row in changed} | gone
    for i, left in enumerate(run.list_ids):
        for right in run.list_ids[i + 1 :]:
            links = [
                StandingLink(
                    s["id"], s["left_record_id"], s["right_record_id"], s["decision"] == "confirmed"
                )
                for s in standing
                if (s["left_list_id"], s["right_list_id"]) == (left, right)
            ]
            mine_left = {r["id"] for r in changed if r["list_id"] == left}
            mine_right = {r["id"] for r in changed if r["list_id"] == right}
            if not (mine_left or mine_right):
                continue
            # both whole lists, held between polls and brought up to date (changes included),
            # the left one also in the right one's spaces, and the u sampled for them before
            whole_left, whole_right = await records.pair(left, right)
            touched = [s for s in links if {s.left_record_id, s.right_record_id} & changed_ids]
            context = PairContext(
                (left, right),
                [s for s in links if s not in touched],
                decisions,
                frozenset((s.left_record_id, s.right_record_id) for s in touched if s.decided),
                await records.u(left, right),
            )
            parts = [
                await asyncio.to_thread(relink_left, context, whole_left, mine_left, whole_right)
            ]
            records.keep_u(left, right, parts[0].u)
            if mine_right:
                rest = unchanged(whole_left, mine_left)
                # the u the left records were just linked with (kept by now), if they were
                u = context.u if parts[0].u is None else parts[0].u
                context = dataclasses.replace(context, u=u)
                parts.append(
                    await asyncio.to_thread(relink_right, context, rest, whole_right, mine_right)
                )
                records.keep_u(left, right, parts[1].u)
            for part in parts:
                out.displaced.extend(part.displaced)
                out.links.extend(_stored(run, part.links))
    return out


def freed_partners(standing: list[dict[str, Any]], gone: frozenset[str]) -> list[str]:
    """The records whose undecided links are with a withdrawn record."""
    found = []
    for link in standing:
        if link["decision"] in ("accepted", "review"):
            pair = (link["left_record_id"], link["right_record_id"])
            if pair[0] in gone:
                found.append(pair[1])
            elif pair[1] in gone:
                found.append(pair[0])
    return found


def _stored(run: Reconciliation, links: list[dict[str, Any]]) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {**row, "id": new_id(), "reconciliation_id": run.id, "incremental": True, "created_at": now}
        for row in links
    ]
