"""Link two lists: prepare, block, compare, score, weigh family context, assign one-to-one and
decide. Pure computation on RecordTables; the service and the command line both call
`link_tables`."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from reconcile.assignment import assign_one_to_one, compete, decide
from reconcile.blocking import Focus, candidate_pairs, contains, focused_pairs, unique_codes
from reconcile.comparison import PairLevels, compare_pairs
from reconcile.family import context_levels, group_pairs
from reconcile.memory import MemoryBudget
from reconcile.name_counts import NameCounts
from reconcile.parameters import FloatArray, ModelParameters, load_parameters
from reconcile.prepare import PreparedList, RunSpaces, prepare
from reconcile.rerank import MIN_LOG_ODDS, TRAINING_FLOOR, Reranker, load_reranker
from reconcile.rerank_features import Competition, candidate_features, record_features
from reconcile.scoring import Scorer, family_context_weights
from reconcile.spaces import IntArray
from reconcile.table import RecordTable

Progress = Callable[[str, float], None]
# (left record id, right record id) -> True when a person confirmed the pair, False if rejected
HumanDecisions = Mapping[tuple[str, str], bool]


@dataclass(slots=True)
class Links:
    """The kept links, with the evidence behind each."""

    left: IntArray
    right: IntArray
    probability: FloatArray
    decision: npt.NDArray[np.int8]
    levels: dict[str, npt.NDArray[np.int8]]
    weights: dict[str, FloatArray]
    # log2 odds ahead of the best other candidate of either record (rerank_features.Competition)
    lead: FloatArray

    def __len__(self) -> int:
        return len(self.left)

    @classmethod
    def empty(cls) -> Links:
        none = np.zeros(0, np.int64)
        return cls(none, none, np.zeros(0), np.zeros(0, np.int8), {}, {}, np.zeros(0))


@dataclass(slots=True)
class LinkResult:
    left: PreparedList
    right: PreparedList
    spaces: RunSpaces
    scorer: Scorer
    links: Links
    candidates: int
    found_by: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)
    # every candidate pair's log2 odds before calibration (kept on request, for training)
    candidate_pairs: tuple[IntArray, IntArray, FloatArray] | None = None
    # the pairs above the second stage's training floor and their features (kept on request)
    candidate_features: tuple[IntArray, npt.NDArray[np.float64]] | None = None


def no_progress(stage: str, fraction: float) -> None:
    del stage, fraction


class _Clock:
    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def done(self, stage: str, fraction: float) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(now - self._last, 3)
        self._last = now
        self.progress(stage, fraction)


def decided_pairs(
    left: RecordTable, right: RecordTable, decisions: HumanDecisions
) -> tuple[IntArray, IntArray, npt.NDArray[np.bool_]]:
    at_left = {rid: i for i, rid in enumerate(left.record_ids)}
    mine = {(a, b): ok for (a, b), ok in decisions.items() if a in at_left}
    # only the right records decisions name: indexing every record of a large right list
    # would cost a third of a second when a few changed records are linked against it
    wanted = {b for _, b in mine}
    at_right = {rid: i for i, rid in enumerate(right.record_ids) if rid in wanted} if mine else {}
    known = [(at_left[a], at_right[b], ok) for (a, b), ok in mine.items() if b in at_right]
    if not known:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.bool_)
    li, ri, ok = zip(*known, strict=True)
    return np.asarray(li, np.int64), np.asarray(ri, np.int64), np.asarray(ok, np.bool_)


def pair_codes(left: IntArray, right: IntArray, right_size: int) -> IntArray:
    codes: IntArray = left * right_size + right
    return codes


def link_tables(
    left_table: RecordTable,
    right_table: RecordTable,
    parameters: ModelParameters | None = None,
    *,
    decisions: HumanDecisions | None = None,
    progress: Progress = no_progress,
    keep_candidates: bool = False,
    keep_features: bool = False,
    population: tuple[int, int] | None = None,
    rerank: bool = True,
    prepared_right: tuple[RunSpaces, PreparedList] | None = None,
    prepared_left: PreparedList | None = None,
    focus: Focus | None = None,
    u: dict[str, FloatArray] | None = None,
    name_counts: NameCounts | None = None,
    budget: MemoryBudget | None = None,
) -> LinkResult:
    """Links between two lists, best first, each record at most once, above the review
    threshold; confirmed pairs are kept and rejected ones never are. `rerank=False` decides on
    the first stage alone (training it, or measuring the second stage's gain); `keep_features`
    keeps the second stage's inputs down to its training floor (training it). `prepared_right`:
    the right list prepared already in those spaces (an earlier result's `spaces` and `right`),
    so that linking other left records against a large list does not prepare it again;
    `prepared_left`: the left list too, prepared in those spaces (linking it again).
    `focus`: both lists are whole, but only links of these records are wanted (records changed
    after a run): their relatives (groups) join them, and blocking finds their candidates and
    every candidate of those (`blocking.focused_pairs`), so that scores, family context,
    competition and the second stage are the run's; only pairs with a record in focus may
    become links. `u`: an earlier linking's of the same lists (`Scorer.u`), instead of
    sampling random pairs again. `name_counts`: the right records are a preselection of whole
    lists with these names (a verification's candidates): names weigh by their rarity there.
    `budget`: raise memory.RunTooLargeError, before comparing, if the candidate pairs would take
    more memory than it allows."""
    parameters = parameters or load_parameters()
    reranker = load_reranker() if rerank else None
    if reranker is not None and not reranker.applies(len(left_table), len(right_table)):
        reranker = None
    clock = _Clock(progress)
    if prepared_right is None:
        spaces = RunSpaces.new()
        right = prepare(spaces, right_table)
    else:
        spaces, right = prepared_right
        assert right.table is right_table, "prepared_right must be right_table prepared"
    if prepared_left is None:
        left = prepare(spaces, left_table)
    else:
        left = prepared_left
        assert left.table is left_table and prepared_right, (
            "prepared_left: in prepared_right's spaces"
        )
    clock.done("prepare", 0.3)
    if focus is None:
        candidates = candidate_pairs(left, right, spaces)
    else:
        focus = focus.with_relatives(left, right)
        candidates = focused_pairs(left, right, spaces, focus)
    d_left, d_right, d_ok = decided_pairs(left_table, right_table, decisions or {})
    # candidate codes come sorted and distinct; decided pairs join them when there are any
    codes = pair_codes(candidates.left, candidates.right, len(right))
    if len(d_left):
        codes = unique_codes(np.concatenate([codes, pair_codes(d_left, d_right, len(right))]))
    if budget is not None:
        budget.check(len(codes))
    clock.done("blocking", 0.5)
    pairs = compare_pairs(spaces, left, right, codes // len(right), codes % len(right))
    scorer = Scorer.build(
        parameters, spaces, left, right, u=u, population=population, name_counts=name_counts
    )
    clock.done("comparison", 0.8)
    weights = scorer.field_weights(pairs)
    log_odds = scorer.total(weights, len(pairs))
    unmatched = parameters.unmatched_odds()
    first = compete(
        scorer.probability(log_odds), pairs.left, pairs.right, len(left), len(right), unmatched
    )
    kept = assign_one_to_one(first, pairs.left, pairs.right, 0.5)
    linked_left, linked_right = pairs.left[kept], pairs.right[kept]
    # family context, and the group-level key: members of groups that share a link
    extra_left, extra_right = group_pairs(left, right, linked_left, linked_right)
    extra = unique_codes(pair_codes(extra_left, extra_right, len(right)))
    extra = extra[~contains(codes, extra)]
    if len(extra):
        codes = np.concatenate([codes, extra])
        more = compare_pairs(spaces, left, right, extra // len(right), extra % len(right))
        pairs = PairLevels.concat([pairs, more])
        more_weights = scorer.field_weights(more)
        log_odds = np.concatenate([log_odds, scorer.total(more_weights, len(more))])
        weights = {k: np.concatenate([v, more_weights[k]]) for k, v in weights.items()}
    family = context_levels(spaces, left, right, pairs.left, pairs.right, linked_left, linked_right)
    weights["family_context"] = family_context_weights(scorer.parameters, family)
    log_odds = log_odds + weights["family_context"]
    probability = scorer.probability(log_odds)
    forced, rejected = human_marks(codes, d_left, d_right, d_ok, len(right))
    probability[rejected] = 0.0
    final = compete(probability, pairs.left, pairs.right, len(left), len(right), unmatched)
    competition = Competition.of(pairs, log_odds, (len(left), len(right)))
    scored = Scored(pairs, weights, log_odds, family, forced, rejected)
    # of a focus, the other pairs are there for their competition: whether those records
    # would take them depends on candidates this linking did not look at
    linkable = None if focus is None else focus.touches(pairs.left, pairs.right)
    links, features = settle_links(
        scored, final, competition, (spaces, left, right), scorer, reranker, keep_features, linkable
    )
    clock.done("scoring", 1.0)
    result = LinkResult(left, right, spaces, scorer, links, len(codes), candidates.found_by)
    result.timings = clock.timings
    result.found_by["family group"] = len(extra)
    if keep_candidates:
        result.candidate_pairs = (pairs.left, pairs.right, log_odds)
    if keep_features:
        result.candidate_features = features
    return result


@dataclass(slots=True)
class Scored:
    """Candidate pairs as scored before the last competition: their levels, each field's
    weight (family context included), log2 odds, family context level, and whether a person
    confirmed (`forced`) or rejected them."""

    pairs: PairLevels
    weights: dict[str, FloatArray]
    log_odds: FloatArray
    family: IntArray
    forced: npt.NDArray[np.bool_]
    rejected: npt.NDArray[np.bool_]

    def subset(self, keep: npt.NDArray[np.bool_]) -> Scored:
        return Scored(
            self.pairs.subset(keep),
            {k: v[keep] for k, v in self.weights.items()},
            self.log_odds[keep],
            self.family[keep],
            self.forced[keep],
            self.rejected[keep],
        )

    @classmethod
    def concat(cls, parts: Sequence[Scored]) -> Scored:
        """The pairs of every part, in order."""
        return cls(
            PairLevels.concat([part.pairs for part in parts]),
            {k: np.concatenate([part.weights[k] for part in parts]) for k in parts[0].weights},
            np.concatenate([part.log_odds for part in parts]),
            np.concatenate([part.family for part in parts]),
            np.concatenate([part.forced for part in parts]),
            np.concatenate([part.rejected for part in parts]),
        )


def settle_links(
    scored: Scored,
    competed: FloatArray,
    competition: Competition,
    lists: tuple[RunSpaces, PreparedList, PreparedList],
    scorer: Scorer,
    reranker: Reranker | None,
    keep_features: bool = False,
    linkable: npt.NDArray[np.bool_] | None = None,
) -> tuple[Links, tuple[IntArray, npt.NDArray[np.float64]] | None]:
    """From competed probabilities to links: the second stage where it applies, people's
    decisions, one-to-one assignment above the review threshold, and each link's decision and
    evidence; with the second stage's inputs when it ran or `keep_features`. `linkable`: only
    these pairs may become links (unless a person confirmed them)."""
    pairs, weights, log_odds, family = scored.pairs, scored.weights, scored.log_odds, scored.family
    final, thresholds, features = competed.copy(), scorer.parameters.thresholds, None
    if reranker is not None or keep_features:
        spaces, left, right = lists
        records = (
            functools.partial(record_features, spaces, left, scorer.rarity),
            functools.partial(record_features, spaces, right, scorer.rarity),
        )
        floor = TRAINING_FLOOR if keep_features else MIN_LOG_ODDS
        features = candidate_features(
            pairs, weights, log_odds, competed, family, competition, records, floor
        )
    if reranker is not None:
        assert features is not None
        final = reranker.rescore(*features, competed)
        final[scored.rejected] = 0.0
        thresholds = reranker.thresholds
    if linkable is not None:
        final[~linkable] = 0.0
    final[scored.forced] = 1.0
    kept = assign_one_to_one(final, pairs.left, pairs.right, thresholds.review, scored.forced)
    links = Links(
        left=pairs.left[kept],
        right=pairs.right[kept],
        probability=final[kept],
        decision=decide(final[kept], thresholds, scored.forced[kept]),
        levels={
            **{k: v[kept] for k, v in pairs.levels.items()},
            "family_context": family[kept].astype(np.int8),
        },
        weights={k: v[kept] for k, v in weights.items()},
        lead=competition.lead()[kept],
    )
    return links, features


def human_marks(
    codes: IntArray, d_left: IntArray, d_right: IntArray, d_ok: npt.NDArray[np.bool_], size: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    decided = pair_codes(d_left, d_right, size)
    forced = contains(unique_codes(decided[d_ok]), codes)
    rejected = contains(unique_codes(decided[~d_ok]), codes)
    return forced, rejected
