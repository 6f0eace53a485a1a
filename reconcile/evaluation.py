"""Precision and recall of links against a ground truth (the generator's person ids): the
figures of the benchmark, the training report and the tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reconcile.assignment import ACCEPTED, CONFIRMED
from reconcile.blocking import contains, unique_codes
from reconcile.engine import LinkResult
from reconcile.spaces import IntArray


@dataclass(frozen=True, slots=True)
class Scores:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    linked: int

    def line(self) -> str:
        return f"precision {self.precision:.4f} recall {self.recall:.4f} F1 {self.f1:.4f}"


def true_pairs(
    left_ids: list[str], right_ids: list[str], truth: Mapping[str, int]
) -> tuple[IntArray, IntArray]:
    """Index pairs of records that are the same person."""
    at_right = {truth[rid]: j for j, rid in enumerate(right_ids) if rid in truth}
    pairs = [
        (i, at_right[truth[rid]])
        for i, rid in enumerate(left_ids)
        if rid in truth and truth[rid] in at_right
    ]
    if not pairs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    left, right = zip(*pairs, strict=True)
    return np.asarray(left, np.int64), np.asarray(right, np.int64)


def true_mask(
    left: IntArray, right: IntArray, truth_pairs: tuple[IntArray, IntArray], right_size: int
) -> npt.NDArray[np.bool_]:
    """Per pair (left[i], right[i]): is it one of `truth_pairs` (from `true_pairs`)."""
    t_left, t_right = truth_pairs
    return contains(unique_codes(t_left * right_size + t_right), left * right_size + right)


def scores(found: Iterable[int], correct: Iterable[int], truth_size: int) -> Scores:
    found_set, correct_set = set(found), set(correct)
    hits = len(found_set & correct_set)
    precision = hits / len(found_set) if found_set else 1.0
    recall = hits / truth_size if truth_size else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, truth_size, len(found_set))


def link_scores(
    result: LinkResult, truth: Mapping[str, int], only_left: IntArray | None = None
) -> dict[str, Scores]:
    """Scores of auto-accepted links, and of links found at all (accepted or for review),
    optionally only over the true pairs whose left record is in `only_left`."""
    size = len(result.right)
    t_left, t_right = true_pairs(result.left.table.record_ids, result.right.table.record_ids, truth)
    links = result.links
    accepted = np.isin(links.decision, (ACCEPTED, CONFIRMED))
    restrict_truth = np.ones(len(t_left), bool)
    restrict_links = np.ones(len(links), bool)
    if only_left is not None:
        restrict_truth = np.isin(t_left, only_left)
        restrict_links = np.isin(links.left, only_left)
    correct = (t_left * size + t_right)[restrict_truth].tolist()
    codes = links.left * size + links.right
    return {
        "accepted": scores(codes[accepted & restrict_links].tolist(), correct, len(correct)),
        "found": scores(codes[restrict_links].tolist(), correct, len(correct)),
    }
