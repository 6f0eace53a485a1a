"""From pair probabilities to links: competition between a record's candidates, one-to-one
assignment, and the decision for each link."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from reconcile.parameters import FloatArray, Thresholds
from reconcile.spaces import IntArray

ACCEPTED, REVIEW, CONFIRMED = 0, 1, 2
DECISIONS = ("accepted", "review", "confirmed")
# the decisions that make two records one person (a person confirmed, or the engine accepted)
LINKED_DECISIONS = ("accepted", "confirmed")


def compete(
    probability: FloatArray,
    left: IntArray,
    right: IntArray,
    left_size: int,
    right_size: int,
    unmatched: float = 1.0,
) -> FloatArray:
    """Probability that the pair is the match given that each record matches at most one
    record of the other list: odds o over `unmatched` + the odds of every candidate of either
    record. Two namesakes at odds 10 each share it (10/21 each), instead of both looking
    certain. `unmatched` weighs the hypothesis that the record has no match at all: 1 treats
    each pair's odds as independent; the engine uses the share of left records expected
    without a match (1 - expected overlap), which a pair's odds do not already count."""
    odds = odds_of(probability)
    left_total = np.asarray(np.bincount(left, weights=odds, minlength=left_size), np.float64)
    right_total = np.asarray(np.bincount(right, weights=odds, minlength=right_size), np.float64)
    return competed(odds, left_total[left], right_total[right], unmatched)


def odds_of(probability: FloatArray) -> FloatArray:
    odds: FloatArray = probability / np.maximum(1.0 - probability, 1e-12)
    return odds


def competed(
    odds: FloatArray, left_total: FloatArray, right_total: FloatArray, unmatched: float
) -> FloatArray:
    """`compete` of pairs with these odds, given the summed odds of every candidate of each
    pair's left and right record (theirs included): a list linked in slices sums per slice."""
    result: FloatArray = odds / (unmatched + left_total + right_total - odds)
    return result


def least_odds(probability: float, unmatched: float) -> float:
    """The odds below which no pair competes to `probability` (its own odds count in both
    totals, so at best it has o / (unmatched + o))."""
    return unmatched * probability / (1.0 - probability)


def assign_one_to_one(
    probability: FloatArray,
    left: IntArray,
    right: IntArray,
    minimum: float,
    forced: npt.NDArray[np.bool_] | None = None,
) -> IntArray:
    """Indices of pairs kept: best first, each record used once; `forced` pairs (confirmed by a
    person) come first whatever their score. Pairs below `minimum` are never kept."""
    eligible = probability >= minimum
    if forced is not None:
        eligible |= forced
    candidates = np.flatnonzero(eligible)
    rank = probability[candidates] + (2.0 * forced[candidates] if forced is not None else 0.0)
    order = candidates[np.argsort(-rank, kind="stable")]
    used_left: set[int] = set()
    used_right: set[int] = set()
    kept = []
    for index, a, b in zip(
        order.tolist(), left[order].tolist(), right[order].tolist(), strict=True
    ):
        if a in used_left or b in used_right:
            continue
        used_left.add(a)
        used_right.add(b)
        kept.append(index)
    return np.asarray(kept, dtype=np.int64)


def decide(
    probability: FloatArray, thresholds: Thresholds, forced: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int8]:
    decision = np.where(probability >= thresholds.accept, ACCEPTED, REVIEW).astype(np.int8)
    decision[forced] = CONFIRMED
    return decision
