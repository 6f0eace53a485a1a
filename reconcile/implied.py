"""Links a three-list run adds through the third list: where A↔B and B↔C are accepted and the
pair A, C has no link for either record, A↔C is implied (three_way.implied_links). It is
accepted when both links are near certain and the two records do not contradict each other on
a card number or birth date, else it waits for review; either way it carries the
direct comparison of A and C, field by field, and the two links it rests on.

Why: a pipeline record without documents can be linked to UNHCR's registration of the same
household, which holds the PoR card number that finds the person in Pakistan's list; the direct
comparison alone may be too weak to link them (docs/reconciliation.md, "Three lists").
Also the three-way conflicts around a few records (`conflicts_around`), as a change needs
them read again, and the links a conflict holds for review (`hold_in_conflict`,
`release_around`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from reconcile.assignment import ACCEPTED, CONFIRMED, DECISIONS, REVIEW
from reconcile.comparison import compare_pairs
from reconcile.engine import LinkResult, Links
from reconcile.explain import field_evidence, through_third_list
from reconcile.levels import DATE, DOC
from reconcile.spaces import IntArray
from reconcile.table import RecordTable
from reconcile.three_way import (
    LIST_PAIRS,
    Conflict,
    ImpliedLink,
    implied_links,
    transitive_conflicts,
)

# Both links' probabilities multiplied: at or above this, the implied link is accepted. On a
# generated three-list world (seed 105, never the benchmark's) every implied link above it
# was right (174 of 174) and 41 of the 68 below it were.
IMPLIED_ACCEPT = 0.99
Row = dict[str, Any]
Pair = tuple[int, int]


def pair_index(list_ids: Sequence[str]) -> dict[tuple[str, str], Pair]:
    """(left list id, right list id) -> the pair's key in LIST_PAIRS."""
    return {(list_ids[i], list_ids[j]): (i, j) for i, j in LIST_PAIRS}


def rows_by_pair(rows: Iterable[Row], list_ids: Sequence[str]) -> dict[Pair, list[Row]]:
    """Link rows of a run of three lists, per pair keyed by LIST_PAIRS, as the steps here read
    them."""
    index = pair_index(list_ids)
    found: dict[Pair, list[Row]] = {pair: [] for pair in LIST_PAIRS}
    for row in rows:
        found[index[(row["left_list_id"], row["right_list_id"])]].append(row)
    return found


def accepted_pairs(rows: Sequence[Row]) -> dict[str, str]:
    """Left record id -> right record id of the accepted and confirmed link rows."""
    kept = (DECISIONS[ACCEPTED], DECISIONS[CONFIRMED])
    return {r["left_record_id"]: r["right_record_id"] for r in rows if r["decision"] in kept}


def is_held(row: Row) -> bool:
    """An accepted link a three-way conflict holds for review (`hold_in_conflict`)."""
    return bool(row.get("held_for_conflict")) and row["decision"] == DECISIONS[REVIEW]


def conflict_pairs(rows: Sequence[Row]) -> dict[str, str]:
    """The links conflicts are read from: accepted and confirmed ones, and those a conflict
    holds for review. Why the held ones: read without them, a conflict vanished at the next
    change near it (its links were all in review), or came back as another kind."""
    return accepted_pairs(rows) | {
        r["left_record_id"]: r["right_record_id"] for r in rows if is_held(r)
    }


@dataclass(frozen=True, slots=True)
class Found:
    """An implied link to add, with its legs' probabilities and whether the pair has a link of
    these two records waiting for review."""

    link: ImpliedLink
    legs: tuple[float, float]
    pending: bool


def find_implied(
    rows: Mapping[Pair, Sequence[Row]],
    reviews: Mapping[tuple[str, str], bool],
    involving: Collection[str] | None = None,
) -> dict[Pair, list[Found]]:
    """Per pair (keyed by LIST_PAIRS), the links the others imply among the pairs' link rows.
    A pair a person rejected is not implied again; a record with a link waiting for review in
    that pair is left to the person, unless that pending link is the implied one. `involving`:
    only links whose records or whose record of the third list are among these (the records a
    change relinked)."""
    if involving is not None:
        rows = _near(rows, set(involving))
    probability = {
        (r["left_record_id"], r["right_record_id"]): float(r["probability"])
        for pair in LIST_PAIRS
        for r in rows[pair]
    }
    # one pass over the links as linked pairwise: a record an implied link joins had no link
    # in that pair, so no implied link can make or unmake another
    implied = list(implied_links({pair: accepted_pairs(rows[pair]) for pair in LIST_PAIRS}))
    wanted = None if involving is None else set(involving)
    found: dict[Pair, list[Found]] = {}
    for pair in LIST_PAIRS:
        pending = {(r["left_record_id"], r["right_record_id"]) for r in rows[pair]}
        busy = {record for link in pending for record in link}
        for link in implied:
            ends = (link.left, link.right)
            if (
                link.pair != pair
                or reviews.get(ends) is False
                or (ends not in pending and bool(set(ends) & busy))
                or (wanted is not None and not {*ends, link.via} & wanted)
            ):
                continue
            legs = (probability[link.legs[0]], probability[link.legs[1]])
            found.setdefault(pair, []).append(Found(link, legs, ends in pending))
    return found


def _near(rows: Mapping[Pair, Sequence[Row]], records: set[str]) -> dict[Pair, list[Row]]:
    """The rows of records within two links of `records`: every link an implied link of theirs
    rests on or competes with (its legs, and its ends' other links in the pair). A change
    relinks a few records of a run that holds hundreds of thousands of links: finding implied
    links among all 220,000 of the three-list benchmark's run takes 1.5 s, around ten records
    0.18 s."""
    near = set(records)
    every = [r for pair in LIST_PAIRS for r in rows[pair]]
    for _ in range(2):
        near |= {
            end
            for r in every
            if r["left_record_id"] in near or r["right_record_id"] in near
            for end in (r["left_record_id"], r["right_record_id"])
        }
    return {
        pair: [r for r in rows[pair] if r["left_record_id"] in near or r["right_record_id"] in near]
        for pair in LIST_PAIRS
    }


def conflicts_around(
    rows: Mapping[Pair, Sequence[Row]], records: Collection[str]
) -> list[Conflict]:
    """The three-way conflicts (three_way) that involve any of `records`, read off the whole
    groups of linked records they are in: after a change, the run's conflicts around it."""
    wanted = set(records)
    found = transitive_conflicts(*_groups_of(rows, wanted).values())
    return [c for c in found if set(c.records) & wanted]


def _groups_of(rows: Mapping[Pair, Sequence[Row]], records: set[str]) -> dict[Pair, dict[str, str]]:
    """Per pair, the links (`conflict_pairs`) of the groups of linked records that hold any of
    `records`, each group whole. Why not the links within two of them (`_near`): a group can
    be a longer chain, and read in part it looks like another conflict or none. Grown by
    passes over the links until a pass adds nothing: groups are short chains (a record has at
    most one link per other list), so a few passes do, where indexing every record's links
    cost twice as much among the three-list benchmark's 220,000 links."""
    links = {pair: conflict_pairs(rows[pair]) for pair in LIST_PAIRS}
    seen = set(records)
    size = -1
    while size != len(seen):
        size = len(seen)
        for pair_links in links.values():
            for left, right in pair_links.items():
                if left in seen or right in seen:
                    seen.add(left)
                    seen.add(right)
    return {
        pair: {left: right for left, right in pair_links.items() if left in seen}
        for pair, pair_links in links.items()
    }


def hold_in_conflict(rows: Iterable[Row], conflicts: Sequence[Conflict]) -> list[Row]:
    """Put the accepted link rows that join a record of one of the conflicts in review, held
    by the conflict, for a person to decide which reading is right; return them."""
    records = {record for conflict in conflicts for record in conflict.records}
    held = [
        row
        for row in rows
        if row["decision"] == DECISIONS[ACCEPTED]
        and {row["left_record_id"], row["right_record_id"]} & records
    ]
    for row in held:
        row["decision"], row["held_for_conflict"] = DECISIONS[REVIEW], True
    return held


def release_around(
    rows: Mapping[Pair, Sequence[Row]], records: Collection[str]
) -> tuple[list[Row], set[str]]:
    """Accept again the held links of the groups of linked records around `records`, so that
    a change reads their conflicts afresh, as a run would (`hold_in_conflict` then holds those
    still in one); return them and the records of those groups."""
    around = {
        record
        for pair_links in _groups_of(rows, set(records)).values()
        for link in pair_links.items()
        for record in link
    }
    released = [
        row
        for pair in LIST_PAIRS
        for row in rows[pair]
        if is_held(row) and row["left_record_id"] in around
    ]
    for row in released:
        row["decision"], row["held_for_conflict"] = DECISIONS[ACCEPTED], False
    return released, around


def add_implied_links(
    results: Mapping[Pair, LinkResult],
    rows: Mapping[Pair, list[Row]],
    list_ids: Sequence[str],
    reviews: Mapping[tuple[str, str], bool],
) -> int:
    """Add to `rows` (each pair's link rows, keyed by LIST_PAIRS) the links implied through the
    third list (`find_implied`), and return how many. A pending link that is implied gains the
    evidence in place."""
    added = 0
    for pair, found in find_implied(rows, reviews).items():
        at = {(r["left_record_id"], r["right_record_id"]): k for k, r in enumerate(rows[pair])}
        for item, row in zip(found, implied_rows(results[pair], list_ids, found), strict=True):
            k = at.get((item.link.left, item.link.right))
            if k is None:
                rows[pair].append(row)
            else:
                row["probability"] = max(row["probability"], rows[pair][k]["probability"])
                rows[pair][k] = row
        added += len(found)
    return added


def implied_rows(result: LinkResult, list_ids: Sequence[str], found: Sequence[Found]) -> list[Row]:
    """Link rows of the implied links of one pair of lists: `result` holds both lists prepared
    (a run's linking of them, or a held pair with a scorer), `list_ids` the run's lists."""
    links_found = [item.link for item in found]
    legs = [item.legs for item in found]
    left = _positions(result.left.table, [link.left for link in links_found])
    right = _positions(result.right.table, [link.right for link in links_found])
    implied = np.asarray([first * second for first, second in legs])
    levels = compare_pairs(result.spaces, result.left, result.right, left, right)
    # the two records themselves disagree on a card number or a birth year: a person decides
    contradicted = (levels.levels["documents"] == DOC["DIFFERENT"]) | (
        levels.levels["dob"] == DATE["DIFFERENT"]
    )
    accept = (implied >= IMPLIED_ACCEPT) & ~contradicted
    decision = np.where(accept, ACCEPTED, REVIEW).astype(np.int8)
    links = Links(
        left=left,
        right=right,
        probability=implied,
        decision=decision,
        levels={**levels.levels, "family_context": np.zeros(len(found), np.int8)},
        weights=result.scorer.field_weights(levels),
        lead=np.zeros(len(found)),
    )
    compared = replace(result, links=links)
    return [
        {
            "left_list_id": list_ids[link.pair[0]],
            "left_record_id": link.left,
            "right_list_id": list_ids[link.pair[1]],
            "right_record_id": link.right,
            "probability": round(float(implied[k]), 6),
            "decision": DECISIONS[int(decision[k])],
            "evidence": [
                item.as_dict()
                for item in [*field_evidence(compared, k), through_third_list(*legs[k])]
            ],
        }
        for k, link in enumerate(links_found)
    ]


def _positions(table: RecordTable, wanted: Sequence[str]) -> IntArray:
    """Where each wanted record is in the table, in the order wanted."""
    found = np.flatnonzero(table.among(wanted))
    at = {table.record_ids[k]: k for k in found.tolist()}
    return np.asarray([at[record_id] for record_id in wanted], np.int64)
