"""Linking two lists in slices of the left list, for lists with more candidate pairs than
PAIRS_PER_SLICE or than would fit in memory at once: the same links `engine.link_tables`
makes, holding one slice's pairs at a time. The first pass stores each slice's pair codes and
log odds on disk (16 bytes a pair); the second reads them back and compares again only the
few pairs it keeps.

Why it can be exact: a left record's candidates depend on the right list only
(`blocking.candidate_pairs(only_left=...)`), and everything the engine reads across a record's
candidates decomposes into per-record sums and maxima that slices add up: competition's summed
odds (`assignment.competed`), and the best and second-best log odds and candidate counts of the
second stage's competition features (`rerank_features.TopTwo`). Each pass keeps per record
those, and of the pairs only the ones that can matter. The first pass keeps the pairs whose
odds could compete to 0.5 (`assignment.least_odds`): its one-to-one links give the family
context. The second, with family context known, keeps the pairs the second stage reads
(above its floor; every pair ranked above a kept one is kept, so ranks stay exact) and any
that could still reach review. The rest of the engine (`engine.settle_links`) then runs on
those. docs/reconciliation.md, "Runs, one at a time, within a memory budget"."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reconcile.assignment import assign_one_to_one, competed, least_odds, odds_of
from reconcile.blocking import candidate_pairs, contains, unique_codes
from reconcile.comparison import PairLevels, compare_pairs
from reconcile.engine import (
    HumanDecisions,
    LinkResult,
    Progress,
    Scored,
    decided_pairs,
    human_marks,
    link_tables,
    no_progress,
    pair_codes,
    settle_links,
)
from reconcile.family import context_levels, group_pairs
from reconcile.memory import BYTES_PER_CANDIDATE, MemoryBudget, resident_mb
from reconcile.parameters import FloatArray, ModelParameters, load_parameters
from reconcile.prepare import PreparedList, RunSpaces, prepare
from reconcile.rerank import MIN_LOG_ODDS, load_reranker
from reconcile.rerank_features import Competition, TopTwo, ranks
from reconcile.scoring import Scorer, family_context_weights
from reconcile.spaces import IntArray
from reconcile.table import RecordTable

Bool = npt.NDArray[np.bool_]
# left records blocked to estimate how many candidate pairs the whole list has
ESTIMATE_SAMPLE = 20_000
# of the memory a run may still take, the share its pairs may: each slice's pairs are freed
# when the next is made, but what the passes keep (the pairs that matter, per-record totals)
# grows with the slices
ROOM_FOR_PAIRS = 0.6
MIN_SLICE = 1_000
# candidate pairs a slice may hold even with memory to spare: linked whole, millions of pairs
# go through every step at once, and slices of about this many are smaller and no slower.
# 25,000 pipeline records against 1.3 million (4.5 million pairs), the benchmark run back to
# back: whole 31.0 to 32.4 s and 2.6 GB, in 5 slices 29.9 to 30.1 s and 1.7 GB, the same
# links (2 million a slice: 31.0 s, 1.9 GB); much smaller slices cost more, each slice's
# blocking reading the whole right list again (10 slices of 0.45 million: +5 s)
PAIRS_PER_SLICE = 1_000_000
# but no more slices than this for speed alone (memory may ask for more): each slice's blocking
# reads the whole right list again, so UNHCR's 1.3 million against Pakistan's in slices of a
# million pairs (about 450) took longer than in the about 30 the memory budget asked for
MOST_SLICES_FOR_SPEED = 8


@dataclass(slots=True)
class _Totals:
    """Per record of each list, over every pair seen so far: summed odds, and the best and
    second-best log odds with the number of pairs."""

    odds: tuple[FloatArray, FloatArray]
    top: tuple[TopTwo, TopTwo]

    @classmethod
    def new(cls, sizes: tuple[int, int]) -> _Totals:
        return cls(
            (np.zeros(sizes[0]), np.zeros(sizes[1])),
            (TopTwo.empty(sizes[0]), TopTwo.empty(sizes[1])),
        )

    def add(
        self, left: IntArray, right: IntArray, odds: FloatArray, log_odds: FloatArray | None
    ) -> None:
        """Count these pairs in; `log_odds` None: their odds only (the first pass's)."""
        sizes = (len(self.odds[0]), len(self.odds[1]))
        self.odds = (
            self.odds[0] + np.bincount(left, weights=odds, minlength=sizes[0]),
            self.odds[1] + np.bincount(right, weights=odds, minlength=sizes[1]),
        )
        if log_odds is not None:
            self.top = (
                self.top[0].merge(TopTwo.of(left, log_odds, sizes[0])),
                self.top[1].merge(TopTwo.of(right, log_odds, sizes[1])),
            )

    def competed(
        self, left: IntArray, right: IntArray, odds: FloatArray, unmatched: float
    ) -> FloatArray:
        return competed(odds, self.odds[0][left], self.odds[1][right], unmatched)

    def competition(self, left: IntArray, right: IntArray, log_odds: FloatArray) -> Competition:
        """The second stage's competition features of these pairs, which hold every pair
        ranked above any of them."""
        rank_left, rank_right = ranks(left, log_odds), ranks(right, log_odds)
        return Competition(
            self.top[0].gap(left, log_odds, rank_left),
            self.top[0].count[left].astype(np.float64),
            rank_left,
            self.top[1].gap(right, log_odds, rank_right),
            self.top[1].count[right].astype(np.float64),
            rank_right,
        )


@dataclass(slots=True)
class _Lists:
    """The two lists prepared in one run's spaces, the scorer and people's decided pairs:
    what each slice is blocked, compared and weighed with."""

    spaces: RunSpaces
    left: PreparedList
    right: PreparedList
    scorer: Scorer
    decided: tuple[IntArray, IntArray, Bool]

    def slice_codes(self, records: IntArray) -> IntArray:
        """The candidate pairs of these left records and the pairs people decided of them,
        sorted: the part of the whole lists' pairs that these records hold."""
        found = candidate_pairs(self.left, self.right, self.spaces, only_left=records)
        codes = pair_codes(found.left, found.right, len(self.right))
        d_left, d_right, _ = self.decided
        mine = contains(records, d_left)
        return unique_codes(
            np.concatenate([codes, pair_codes(d_left[mine], d_right[mine], len(self.right))])
        )

    def compare(self, codes: IntArray) -> tuple[PairLevels, dict[str, FloatArray], FloatArray]:
        size = len(self.right)
        pairs = compare_pairs(self.spaces, self.left, self.right, codes // size, codes % size)
        weights = self.scorer.field_weights(pairs)
        return pairs, weights, self.scorer.total(weights, len(pairs))


Prepared = tuple[RunSpaces, PreparedList, PreparedList]  # spaces, left, right


def link_lists(
    left_table: RecordTable,
    right_table: RecordTable,
    parameters: ModelParameters | None = None,
    *,
    decisions: HumanDecisions | None = None,
    progress: Progress = no_progress,
    budget: MemoryBudget | None = None,
    sample: int = ESTIMATE_SAMPLE,
) -> LinkResult:
    """`engine.link_tables`, or `link_in_slices` where the whole lists' candidate pairs would
    be more than PAIRS_PER_SLICE (then in slices of that many, or MOST_SLICES_FOR_SPEED slices)
    or take more memory than `budget` leaves (then in slices that fit): estimated by blocking
    `sample` left records spread over the list (all of them in a shorter list)."""
    spaces = RunSpaces.new()
    right = prepare(spaces, right_table)
    left = prepare(spaces, left_table)
    size = len(left)
    some = (
        np.unique(np.linspace(0, size - 1, min(size, sample)).astype(np.int64))
        if size
        else np.zeros(0, np.int64)
    )
    found = len(candidate_pairs(left, right, spaces, only_left=some).left)
    estimated = found * size / max(len(some), 1)
    most = max(float(PAIRS_PER_SLICE), estimated / MOST_SLICES_FOR_SPEED)
    if budget is not None:
        room_mb = (budget.limit_mb - resident_mb()) * ROOM_FOR_PAIRS
        most = min(most, max(room_mb, 0.0) * 2**20 / BYTES_PER_CANDIDATE)
    if estimated <= most or size == 0:
        return link_tables(
            left_table,
            right_table,
            parameters,
            decisions=decisions,
            progress=progress,
            prepared_right=(spaces, right),
            prepared_left=left,
            budget=budget,
        )
    slice_size = max(MIN_SLICE, int(size * most / estimated))
    return link_in_slices(
        left_table,
        right_table,
        slice_size,
        parameters,
        decisions=decisions,
        progress=progress,
        budget=budget,
        prepared=(spaces, left, right),
    )


def link_in_slices(
    left_table: RecordTable,
    right_table: RecordTable,
    slice_size: int,
    parameters: ModelParameters | None = None,
    *,
    decisions: HumanDecisions | None = None,
    progress: Progress = no_progress,
    budget: MemoryBudget | None = None,
    prepared: Prepared | None = None,
) -> LinkResult:
    """`engine.link_tables(left_table, right_table, ...)`, `slice_size` left records at a
    time. `budget`: each slice's pairs are weighed against it as a whole linking's are.
    `prepared`: both lists prepared already, in one run's spaces."""
    parameters = parameters or load_parameters()
    reranker = load_reranker()
    if reranker is not None and not reranker.applies(len(left_table), len(right_table)):
        reranker = None
    if prepared is None:
        spaces = RunSpaces.new()
        right = prepare(spaces, right_table)
        left = prepare(spaces, left_table)
    else:
        spaces, left, right = prepared
    scorer = Scorer.build(parameters, spaces, left, right)
    lists = _Lists(
        spaces, left, right, scorer, decided_pairs(left_table, right_table, decisions or {})
    )
    sizes = (len(left), len(right))
    slices = [
        np.arange(start, min(start + slice_size, sizes[0]))
        for start in range(0, sizes[0], slice_size)
    ] or [np.zeros(0, np.int64)]
    review = min(parameters.thresholds.review, reranker.thresholds.review if reranker else 1.0)
    with tempfile.TemporaryDirectory(prefix="sanad-slices-") as kept_dir:
        # each slice's pairs and log odds, kept on disk for the second pass (16 bytes a pair,
        # where comparing them again took a third of the time)
        store = _SliceStore(Path(kept_dir))
        linked, candidates = _first_pass(lists, slices, budget, store, progress)
        both, second, grouped = _second_pass(lists, slices, store, linked, review, progress)
    pairs = both.pairs
    odds = np.where(both.rejected, 0.0, odds_of(scorer.probability(both.log_odds)))
    final = second.competed(pairs.left, pairs.right, odds, parameters.unmatched_odds())
    competition = second.competition(pairs.left, pairs.right, both.log_odds)
    links, _ = settle_links(both, final, competition, (spaces, left, right), scorer, reranker)
    found_by = {"slices": len(slices), "family group": grouped}
    return LinkResult(left, right, spaces, scorer, links, candidates + grouped, found_by)


def _first_pass(
    lists: _Lists,
    slices: list[IntArray],
    budget: MemoryBudget | None,
    store: _SliceStore,
    progress: Progress,
) -> tuple[tuple[IntArray, IntArray], int]:
    """Every slice's pairs compared and stored: the one-to-one links family context is read
    from, and how many pairs there were."""
    scorer, unmatched = lists.scorer, lists.scorer.parameters.unmatched_odds()
    first = _Totals.new((len(lists.left), len(lists.right)))
    strong: list[tuple[IntArray, IntArray, FloatArray]] = []
    candidates = 0
    for n, (_records, codes) in enumerate(_slices(lists, slices, budget)):
        pairs, _weights, log_odds = lists.compare(codes)
        store.put(n, codes, log_odds)
        odds = odds_of(scorer.probability(log_odds))
        first.add(pairs.left, pairs.right, odds, None)
        keep = odds >= least_odds(0.5, unmatched)
        strong.append((pairs.left[keep], pairs.right[keep], odds[keep]))
        candidates += len(codes)
        progress("comparison", 0.5 * (n + 1) / len(slices))
    s_left, s_right, s_odds = (np.concatenate(parts) for parts in zip(*strong, strict=True))
    kept = assign_one_to_one(
        first.competed(s_left, s_right, s_odds, unmatched), s_left, s_right, 0.5
    )
    return (s_left[kept], s_right[kept]), candidates


def _second_pass(
    lists: _Lists,
    slices: list[IntArray],
    store: _SliceStore,
    linked: tuple[IntArray, IntArray],
    review: float,
    progress: Progress,
) -> tuple[Scored, _Totals, int]:
    """With family context: the pairs the rest of the engine reads (candidates, then the
    group-level key's pairs, in the order the whole lists' linking holds them), the totals over
    every pair, and how many pairs the group-level key added."""
    scorer, unmatched = lists.scorer, lists.scorer.parameters.unmatched_odds()
    size = len(lists.right)
    extra_left, extra_right = group_pairs(lists.left, lists.right, *linked)
    extra = unique_codes(pair_codes(extra_left, extra_right, size))
    least = least_odds(review, unmatched)
    second = _Totals.new((len(lists.left), size))
    from_candidates: list[Scored] = []
    from_groups: list[Scored] = []
    grouped = 0
    for n, records in enumerate(slices):
        codes, log_odds = store.get(n)
        mine = extra[contains(records, extra // size)]
        mine = mine[~contains(codes, mine)]
        grouped += len(mine)
        parts = ((from_candidates, codes, log_odds), (from_groups, mine, None))
        for kept_into, part, part_log_odds in parts:
            if part_log_odds is None:
                part_log_odds = lists.compare(part)[2]
            with_family = _with_family(lists, part, part_log_odds, linked)
            plain = odds_of(scorer.probability(with_family.log_odds))
            odds = np.where(with_family.rejected, 0.0, plain)
            second.add(with_family.left, with_family.right, odds, with_family.log_odds)
            wanted = _wanted(lists, with_family, plain, least)
            kept_into.append(_scored(lists, part, with_family, wanted))
        progress("scoring", 0.5 + 0.5 * (n + 1) / len(slices))
    return Scored.concat(from_candidates + from_groups), second, grouped


def _slices(
    lists: _Lists, slices: list[IntArray], budget: MemoryBudget | None
) -> Iterator[tuple[IntArray, IntArray]]:
    for records in slices:
        codes = lists.slice_codes(records)
        if budget is not None:
            budget.check(len(codes))
        yield records, codes


class _SliceStore:
    """Each slice's candidate pair codes and first-pass log odds, in files."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def put(self, n: int, codes: IntArray, log_odds: FloatArray) -> None:
        np.save(self._directory / f"{n}.codes.npy", codes)
        np.save(self._directory / f"{n}.log_odds.npy", log_odds)

    def get(self, n: int) -> tuple[IntArray, FloatArray]:
        return (
            np.load(self._directory / f"{n}.codes.npy"),
            np.load(self._directory / f"{n}.log_odds.npy"),
        )


@dataclass(frozen=True, slots=True)
class _WithFamily:
    """Pairs' log odds with family context, before their fields are compared again for the
    few the rest of the engine reads."""

    left: IntArray
    right: IntArray
    log_odds: FloatArray  # family context included
    family: IntArray
    family_weight: FloatArray
    forced: Bool
    rejected: Bool


def _with_family(
    lists: _Lists, codes: IntArray, log_odds: FloatArray, linked: tuple[IntArray, IntArray]
) -> _WithFamily:
    """These pairs (their first-pass log odds) as the engine weighs them before the last
    competition."""
    size = len(lists.right)
    left, right = codes // size, codes % size
    family = context_levels(lists.spaces, lists.left, lists.right, left, right, *linked)
    weight = family_context_weights(lists.scorer.parameters, family)
    forced, rejected = human_marks(codes, *lists.decided, size)
    return _WithFamily(left, right, log_odds + weight, family, weight, forced, rejected)


def _scored(lists: _Lists, codes: IntArray, pairs: _WithFamily, wanted: Bool) -> Scored:
    """The wanted pairs with their fields compared again: what a whole linking holds of them."""
    levels, weights, _log_odds = lists.compare(codes[wanted])
    weights["family_context"] = pairs.family_weight[wanted]
    return Scored(
        levels,
        weights,
        pairs.log_odds[wanted],
        pairs.family[wanted],
        pairs.forced[wanted],
        pairs.rejected[wanted],
    )


def _wanted(lists: _Lists, pairs: _WithFamily, odds: FloatArray, least: float) -> Bool:
    """The pairs the rest of the engine reads: those the second stage reads (above its floor),
    those whose odds (before a rejection) could compete to review, and every pair of a record
    a person decided a pair of. Both bounds rise with the log odds, so every pair ranked above
    a kept one is kept: the competition features' ranks are those among all pairs."""
    d_left, d_right, _ = lists.decided
    decided = contains(np.unique(d_left), pairs.left) | contains(np.unique(d_right), pairs.right)
    wanted: Bool = (pairs.log_odds > MIN_LOG_ODDS) | (odds >= least) | decided
    return wanted
