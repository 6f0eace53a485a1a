"""The second stage of scoring: a boosted-tree classifier that re-reads each plausible candidate
pair's Fellegi-Sunter evidence together with its competition (how far it leads the record's
other candidates, how many there are) and gives the probability the links are decided on.

Why: the first stage treats fields as independent and competition by one formula; the missed
true pairs are mostly weak pairs (birth year only, no family name, another district) that lead
every rival by a wide margin, which only the interaction of both says. The trees are trained
offline (`python -m reconcile.train_rerank`, scikit-learn) and stored as plain arrays in
`rerank.json`; evaluating them here needs numpy alone. Per-field levels, weights and reasons
stay those of the first stage."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reconcile.comparison import FIELD_LEVELS, PairLevels
from reconcile.parameters import FloatArray, Thresholds
from reconcile.spaces import IntArray

RERANK_PATH = Path(__file__).with_name("rerank.json")
# Pairs at or below this first-stage log2 odds keep their first-stage probability (under 0.012
# in the benchmark world; trees fitted from -12 accepted none of them): the trees only re-read
# pairs that could become links, a third of those above -12.
MIN_LOG_ODDS = -8.0
# Training reads from further down: the hard non-matches between -12 and -8 teach the trees
# (fitted from -8 alone, held-out F1 fell from 0.9467 to 0.9455).
TRAINING_FLOOR = -12.0
# Competition features mean what they meant in training only between whole lists; a new
# record or a verification's handful of candidates keeps the first stage.
MIN_LIST = 200
RANK_CAP = 20
GAP_CAP = 40.0
FEATURES: tuple[str, ...] = (
    "log_odds",
    "competed",
    "gap_left",
    "gap_right",
    "candidates_left",
    "candidates_right",
    "rank_left",
    "rank_right",
    "family_level",
    *(f"level_{name}" for name in FIELD_LEVELS),
    *(f"weight_{name}" for name in FIELD_LEVELS),
)


def _lead(key: IntArray, value: FloatArray, size: int) -> tuple[FloatArray, FloatArray, IntArray]:
    """Per pair: its value minus the best of the key's *other* pairs (GAP_CAP when alone),
    the number of pairs of its key, and its rank among them (0 = best)."""
    if not len(key):  # no candidates at all (a verification that found nobody)
        return np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
    order = np.lexsort((-value, key))
    keys = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(keys)) + 1]
    counts = np.diff(np.r_[starts, len(keys)])
    best = np.full(size, -np.inf)
    second = np.full(size, -np.inf)
    best[keys[starts]] = value[order[starts]]
    several = counts > 1
    second[keys[starts[several]]] = value[order[starts[several] + 1]]
    rank = np.empty(len(key), np.int64)
    rank[order] = np.arange(len(keys)) - np.repeat(starts, counts)
    rival = np.where(rank == 0, second[key], best[key])
    gap = np.clip(np.nan_to_num(value - rival, posinf=GAP_CAP), -GAP_CAP, GAP_CAP)
    per_key = np.zeros(size, np.int64)
    per_key[keys[starts]] = counts
    return gap, per_key[key].astype(np.float64), rank


def candidate_features(
    pairs: PairLevels,
    weights: dict[str, FloatArray],
    log_odds: FloatArray,
    competed: FloatArray,
    family: IntArray,
    sizes: tuple[int, int],
    floor: float = MIN_LOG_ODDS,
) -> tuple[IntArray, npt.NDArray[np.float64]]:
    """The pairs above `floor` log odds and their FEATURES, with competition measured over
    every candidate pair."""
    gap_left, count_left, rank_left = _lead(pairs.left, log_odds, sizes[0])
    gap_right, count_right, rank_right = _lead(pairs.right, log_odds, sizes[1])
    rows = np.flatnonzero(log_odds > floor)
    columns = [
        log_odds,
        competed,
        gap_left,
        gap_right,
        np.log1p(count_left),
        np.log1p(count_right),
        np.minimum(rank_left, RANK_CAP),
        np.minimum(rank_right, RANK_CAP),
        family,
        *(pairs.levels[name] for name in FIELD_LEVELS),
        *(weights[name] for name in FIELD_LEVELS),
    ]
    matrix = np.column_stack([np.asarray(c, np.float64)[rows] for c in columns])
    return rows, matrix


@dataclass(slots=True)
class TreeEnsemble:
    """Additive trees in flat arrays: node i splits on feature[i] (-1 for a leaf) at
    threshold[i], going to left[i] when the value is <= threshold (or missing and
    missing_left[i]), else right[i]; a leaf adds value[i]. Node indexes are global."""

    roots: list[int]
    feature: list[int]
    threshold: list[float]
    left: list[int]
    right: list[int]
    missing_left: list[bool]
    value: list[float]
    baseline: float

    def decision(self, matrix: npt.NDArray[np.float64]) -> FloatArray:
        """Summed leaf values plus the baseline (log-odds, natural log), per row. Tree by tree,
        each row walks down while it has not reached a leaf (rows leave as they arrive)."""
        feature = np.asarray(self.feature, np.int64)
        threshold = np.asarray(self.threshold, np.float64)
        left, right = np.asarray(self.left, np.int64), np.asarray(self.right, np.int64)
        missing_left = np.asarray(self.missing_left, np.bool_)
        value = np.asarray(self.value, np.float64)
        by_feature = np.ascontiguousarray(matrix.T)
        result = np.full(len(matrix), self.baseline)
        for root in self.roots:
            node = np.full(len(matrix), root, np.int64)
            walking = np.arange(len(matrix))
            while len(walking):
                at = node[walking]
                split = feature[at]
                inner = split >= 0
                walking, at, split = walking[inner], at[inner], split[inner]
                x = by_feature[split, walking]
                go_left = np.where(np.isnan(x), missing_left[at], x <= threshold[at])
                node[walking] = np.where(go_left, left[at], right[at])
            result += value[node]
        return result

    def probability(self, matrix: npt.NDArray[np.float64]) -> FloatArray:
        decision = np.clip(self.decision(matrix), -40.0, 40.0)
        probability: FloatArray = 1.0 / (1.0 + np.exp(-decision))
        return probability


@dataclass(slots=True)
class Reranker:
    ensemble: TreeEnsemble
    thresholds: Thresholds
    features: tuple[str, ...] = FEATURES
    trained_on: dict[str, object] = field(default_factory=dict)

    def applies(self, left_size: int, right_size: int) -> bool:
        return self.features == FEATURES and min(left_size, right_size) >= MIN_LIST

    def rescore(
        self, rows: IntArray, matrix: npt.NDArray[np.float64], first_stage: FloatArray
    ) -> FloatArray:
        """Final probabilities: the trees' for pairs above MIN_LOG_ODDS, else the first stage's."""
        probability = first_stage.copy()
        read = matrix[:, FEATURES.index("log_odds")] > MIN_LOG_ODDS
        if read.any():
            probability[rows[read]] = self.ensemble.probability(matrix[read])
        return probability

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Reranker:
        data = json.loads(text)
        return cls(
            ensemble=TreeEnsemble(**data["ensemble"]),
            thresholds=Thresholds(**data["thresholds"]),
            features=tuple(data["features"]),
            trained_on=data.get("trained_on", {}),
        )

    def save(self, path: Path = RERANK_PATH) -> None:
        path.write_text(self.to_json() + "\n", "utf-8")


@lru_cache(maxsize=4)
def _load(path: Path, mtime: float) -> Reranker:
    return Reranker.from_json(path.read_text("utf-8"))


def load_reranker(path: Path = RERANK_PATH) -> Reranker | None:
    """The trained second stage, or None where none has been trained (first stage alone)."""
    if not path.exists():
        return None
    return _load(path, path.stat().st_mtime)
