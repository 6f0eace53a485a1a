"""Relinking one reconciliation run around records that changed after it: each pair of its
lists through reconcile.incremental, reading through run_records.RunRecords, then, in a run of
three lists, the links the change implies through the third list (reconcile.implied), with the
link rows to store. The worker (reconcile.worker) decides when, and stores them."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from reconcile.engine import LinkResult, Links
from reconcile.implied import (
    Found,
    conflicts_around,
    find_implied,
    hold_in_conflict,
    implied_rows,
    pair_index,
    release_around,
    rows_by_pair,
)
from reconcile.incremental import (
    PairContext,
    Relinked,
    relink_left,
    relink_right,
    unchanged,
)
from reconcile.parameters import FloatArray, load_parameters
from reconcile.prepare import PreparedList, RunSpaces
from reconcile.run_records import RunRecords
from reconcile.scoring import Scorer
from reconcile.standing import StandingLinks, link_ends
from schemas.reconciliation import Reconciliation
from schemas.types import new_id, utcnow


async def relink_changed(
    run: Reconciliation,
    records: RunRecords,
    changed: list[dict[str, Any]],
    standing: StandingLinks,
    decisions: dict[tuple[str, str], bool],
    gone: frozenset[str] = frozenset(),
) -> Relinked:
    """Each pair of the run's lists relinked around its changed records (reconcile.incremental),
    with the rows to store; the linking itself runs in a thread. The links of `gone` (withdrawn
    records) neither stand nor compete."""
    out = Relinked()
    changed_ids = {row["id"] for row in changed} | gone
    of_changed = standing.of_records(changed_ids)
    for i, left in enumerate(run.list_ids):
        for right in run.list_ids[i + 1 :]:
            mine_left = {r["id"] for r in changed if r["list_id"] == left}
            mine_right = {r["id"] for r in changed if r["list_id"] == right}
            if not (mine_left or mine_right):
                continue
            # both whole lists, held between polls and brought up to date (changes included),
            # the left one also in the right one's spaces, and the u sampled for them before
            whole_left, whole_right = await records.pair(left, right)
            touched = [
                s for s in of_changed if (s["left_list_id"], s["right_list_id"]) == (left, right)
            ]
            context = PairContext(
                (left, right),
                standing.pair((left, right), {s["id"] for s in touched}),
                decisions,
                frozenset(link_ends(s) for s in touched if s["decision"] == "confirmed"),
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
    if len(run.list_ids) == 3:
        await _three_way(run, records, standing, out, (changed_ids, gone), decisions)
    return out


async def _three_way(
    run: Reconciliation,
    records: RunRecords,
    standing: StandingLinks,
    out: Relinked,
    changes: tuple[set[str], frozenset[str]],
    decisions: dict[tuple[str, str], bool],
) -> None:
    """After a change to a run of three lists: the links it implies through the third list,
    then the conflicts around it (reconcile.implied), as a run makes both. Accepted links in
    a conflict go to review, new ones in `out.links`, standing ones in `out.to_review`.
    `changes`: the records relinked (withdrawn ones included), and the withdrawn ones."""
    changed_ids, gone = changes
    # the run's links as the change leaves them: a withdrawn record's go, a changed record's
    # undecided ones were replaced, displaced ones were taken over
    removed = set(out.displaced) | {
        s["id"]
        for s in standing.of_records(changed_ids)
        if s["decision"] != "confirmed" or _ends(s) & gone
    }
    involving = changed_ids | {r for row in out.links for r in _ends(row)}
    # every step below reads only the groups of linked records around the change
    group = standing.group(involving, removed, out.links)
    new_ids = {row["id"] for row in out.links}
    kept = [row for row in group if row["id"] not in new_ids]
    pair_of = pair_index(run.list_ids)
    rows = rows_by_pair(group, run.list_ids)
    # the links conflicts hold around the change count as accepted again until the conflicts
    # are read afresh: what is still in one is held again, what is not stays accepted
    released, around = release_around(rows, involving)
    involving |= around
    for row in await _implied(run, records, rows, involving, decisions):
        rows[pair_of[(row["left_list_id"], row["right_list_id"])]].append(row)
        out.links.append(row)
        involving |= _ends(row)
    conflicts = conflicts_around(rows, involving)
    hold_in_conflict(out.links, conflicts)
    was_held = {s["id"] for s in released}
    out.to_review = [s["id"] for s in hold_in_conflict(kept, conflicts) if s["id"] not in was_held]
    out.released = [s["id"] for s in released if not s["held_for_conflict"]]
    out.conflicts = (involving, [conflict.as_dict() for conflict in conflicts])


def _ends(link: dict[str, Any]) -> set[str]:
    return {link["left_record_id"], link["right_record_id"]}


async def _implied(
    run: Reconciliation,
    records: RunRecords,
    rows: dict[tuple[int, int], list[dict[str, Any]]],
    involving: set[str],
    decisions: dict[tuple[str, str], bool],
) -> list[dict[str, Any]]:
    """The links implied through the third list (reconcile.implied) that the change makes: of
    the records relinked, or through them. Each pair's lists as the worker holds them, scored
    with the u it links that pair with."""
    made = []
    for (i, j), every in find_implied(rows, decisions, involving).items():
        # a link of these two records waiting for review stays the person's to decide
        found = [item for item in every if not item.pending]
        if not found:
            continue
        left, right = run.list_ids[i], run.list_ids[j]
        whole_left, (spaces, whole_right) = await records.pair(left, right)
        u = await records.u(left, right)
        made.extend(
            await asyncio.to_thread(
                _implied_rows, run.list_ids, whole_left, spaces, whole_right, u, found
            )
        )
    return _stored(run, made)


def _implied_rows(
    list_ids: list[str],
    left: PreparedList,
    spaces: RunSpaces,
    right: PreparedList,
    u: dict[str, FloatArray] | None,
    found: list[Found],
) -> list[dict[str, Any]]:
    scorer = Scorer.build(load_parameters(), spaces, left, right, u=u)
    result = LinkResult(left, right, spaces, scorer, Links.empty(), 0, {})
    return implied_rows(result, list_ids, found)


def resting_on(standing: list[dict[str, Any]], changed: set[str]) -> list[str]:
    """The records of undecided links that may rest on a changed record: both ends of a link
    whose two records are each linked to one changed record, as a link implied through it is
    (reconcile.implied). Relinked with the change, such a link is implied again only if the
    changed record still links both; else it goes, instead of standing on links that left."""
    partners: dict[str, set[str]] = {}
    for link in standing:
        left, right = link["left_record_id"], link["right_record_id"]
        if left in changed:
            partners.setdefault(left, set()).add(right)
        if right in changed:
            partners.setdefault(right, set()).add(left)
    through: dict[str, set[str]] = {}
    for via, linked in partners.items():
        for record in linked:
            through.setdefault(record, set()).add(via)
    found: list[str] = []
    for link in standing:
        left, right = link["left_record_id"], link["right_record_id"]
        undecided = link["decision"] in ("accepted", "review")
        if undecided and any(right in partners[via] for via in through.get(left, ())):
            found.extend((left, right))
    return found


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
