"""Links a three-list run adds through the third list: where A↔B and B↔C are accepted and the
pair A, C has no link for either record, A↔C is implied (three_way.implied_links). It is
accepted when both links are near certain and the two records do not contradict each other on
a card number or birth date, else it waits for review; either way it carries the
direct comparison of A and C, field by field, and the two links it rests on.

Why: a pipeline record without documents can be linked to UNHCR's registration of the same
household, which holds the PoR card number that finds the person in Pakistan's list; the direct
comparison alone may be too weak to link them (docs/reconciliation.md, "Three lists")."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from reconcile.assignment import ACCEPTED, CONFIRMED, DECISIONS, REVIEW
from reconcile.comparison import compare_pairs
from reconcile.engine import LinkResult, Links
from reconcile.explain import field_evidence, through_third_list
from reconcile.levels import DATE, DOC
from reconcile.spaces import IntArray
from reconcile.three_way import LIST_PAIRS, ImpliedLink, implied_links

# Both links' probabilities multiplied: at or above this, the implied link is accepted. On a
# generated three-list world (seed 105, never the benchmark's) every implied link above it
# was right (174 of 174) and 41 of the 68 below it were.
IMPLIED_ACCEPT = 0.99
Row = dict[str, Any]
Pair = tuple[int, int]


def _accepted(rows: Sequence[Row]) -> dict[str, str]:
    kept = (DECISIONS[ACCEPTED], DECISIONS[CONFIRMED])
    return {r["left_record_id"]: r["right_record_id"] for r in rows if r["decision"] in kept}


def add_implied_links(
    results: Mapping[Pair, LinkResult],
    rows: Mapping[Pair, list[Row]],
    list_ids: Sequence[str],
    reviews: Mapping[tuple[str, str], bool],
) -> int:
    """Add to `rows` (each pair's link rows, keyed by LIST_PAIRS) the links implied through the
    third list, and return how many. A pair a person rejected is not implied again; a record
    with a link waiting for review in that pair is left to the person, unless that pending
    link is the implied one, which then gains the evidence."""
    probability = {
        (r["left_record_id"], r["right_record_id"]): float(r["probability"])
        for pair in LIST_PAIRS
        for r in rows[pair]
    }
    # one pass over the links as linked pairwise: a record an implied link joins had no link
    # in that pair, so no implied link can make or unmake another
    implied = list(implied_links({pair: _accepted(rows[pair]) for pair in LIST_PAIRS}))
    added = 0
    for pair in LIST_PAIRS:
        pending = {(r["left_record_id"], r["right_record_id"]): k for k, r in enumerate(rows[pair])}
        busy = {record for link in pending for record in link}
        found = [
            link
            for link in implied
            if link.pair == pair
            and reviews.get((link.left, link.right)) is not False
            and ((link.left, link.right) in pending or not {link.left, link.right} & busy)
        ]
        if not found:
            continue
        legs = [(probability[link.legs[0]], probability[link.legs[1]]) for link in found]
        for link, row in zip(found, _rows(results[pair], list_ids, found, legs), strict=True):
            at = pending.get((link.left, link.right))
            if at is None:
                rows[pair].append(row)
            else:  # the pending link itself, which gains the evidence
                row["probability"] = max(row["probability"], rows[pair][at]["probability"])
                rows[pair][at] = row
        added += len(found)
    return added


def _rows(
    result: LinkResult,
    list_ids: Sequence[str],
    found: Sequence[ImpliedLink],
    legs: Sequence[tuple[float, float]],
) -> list[Row]:
    left = _positions(result.left.table.record_ids, [link.left for link in found])
    right = _positions(result.right.table.record_ids, [link.right for link in found])
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
    compared = dataclasses.replace(result, links=links)
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
        for k, link in enumerate(found)
    ]


def _positions(record_ids: Sequence[str], wanted: Sequence[str]) -> IntArray:
    index = dict.fromkeys(wanted, -1)
    for position, record_id in enumerate(record_ids):
        if record_id in index:
            index[record_id] = position
    return np.asarray([index[record_id] for record_id in wanted], np.int64)
