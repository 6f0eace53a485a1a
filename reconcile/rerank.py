"""The second stage of scoring: a boosted-tree classifier that re-reads each plausible candidate
pair's Fellegi-Sunter evidence together with its competition (how far it leads the record's
other candidates, how many there are) and what each record holds (reconcile.rerank_features),
and gives the probability the links are decided on.

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

from reconcile.parameters import FloatArray, Thresholds
from reconcile.rerank_features import FEATURES
from reconcile.spaces import IntArray

RERANK_PATH = Path(__file__).with_name("rerank.json")
# Pairs at or below this first-stage log2 odds keep their first-stage probability (under 0.012
# in the benchmark world; trees fitted from -12 accepted none of them): the trees only re-read
# pairs that could become links, a third of those above -12.
MIN_LOG_ODDS = -8.0
# Training reads from further down: the hard non-matches between -12 and -8 teach the trees
# (fitted from -8 alone, held-out F1 fell from 0.9467 to 0.9455).
TRAINING_FLOOR = -12.0
# Competition features mean what they meant in training only between whole lists of some size
# (incremental linking links whole lists, engine `focus`); a verification's handful of
# candidates, or lists this small, keep the first stage.
MIN_LIST = 200


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
