"""The trained model: per field and level the probability of that level among true matches (m)
and among non-matches (u), the weight of family context, the calibration of the summed weights
into a probability, and the decision thresholds. Stored as JSON beside this module; produced by
`python -m reconcile.train` (docs/reconciliation.md says how and on what)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reconcile.comparison import FIELD_LEVELS

MODEL_PATH = Path(__file__).with_name("model.json")
FloatArray = npt.NDArray[np.float64]
# family context (reconcile.family): by groups on both sides, then by an inferred household
FAMILY_LEVELS = (
    "no group",
    "none",
    "one",
    "two or more",
    "household: nothing shared",
    "household: family name",
    "household: district",
    "household: district and family name",
)
# Floors keep a level never seen in training from weighing ±infinity.
MIN_PROBABILITY = 1e-6
MIN_UNMATCHED = 0.05  # a list never holds every record of the other for certain


@dataclass(slots=True)
class FieldModel:
    m: dict[str, float]
    u: dict[str, float]

    def array(self, which: str, levels: tuple[str, ...]) -> FloatArray:
        table = self.m if which == "m" else self.u
        return np.asarray([max(table.get(level, 0.0), MIN_PROBABILITY) for level in levels])


@dataclass(slots=True)
class Thresholds:
    accept: float = 0.9  # at or above: linked without review
    review: float = 0.2  # at or above (and below accept): a person must decide


@dataclass(slots=True)
class ModelParameters:
    fields: dict[str, FieldModel]
    family: FieldModel
    expected_overlap: float = 0.5  # share of the smaller list expected in the larger
    calibration_slope: float = 1.0
    calibration_intercept: float = 0.0
    max_name_bits: float = 24.0  # cap on a name's rarity (a name seen once in a huge list)
    thresholds: Thresholds = field(default_factory=Thresholds)
    trained_on: dict[str, object] = field(default_factory=dict)

    def unmatched_odds(self) -> float:
        """Weight of "no match in the other list" when a record's candidates compete: the share
        of records expected without one (reconcile.assignment.compete)."""
        return max(1.0 - self.expected_overlap, MIN_UNMATCHED)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelParameters:
        data = json.loads(text)
        return cls(
            fields={name: FieldModel(**f) for name, f in data["fields"].items()},
            family=FieldModel(**data["family"]),
            expected_overlap=data["expected_overlap"],
            calibration_slope=data["calibration_slope"],
            calibration_intercept=data["calibration_intercept"],
            max_name_bits=data["max_name_bits"],
            thresholds=Thresholds(**data["thresholds"]),
            trained_on=data.get("trained_on", {}),
        )

    def save(self, path: Path = MODEL_PATH) -> None:
        path.write_text(self.to_json() + "\n", "utf-8")


def untrained() -> ModelParameters:
    """Flat parameters (every level equally likely): the starting point of training."""
    flat = {
        name: FieldModel(
            m={level: 1 / len(levels) for level in levels},
            u={level: 1 / len(levels) for level in levels},
        )
        for name, levels in FIELD_LEVELS.items()
    }
    flat_family = {lv: 1 / len(FAMILY_LEVELS) for lv in FAMILY_LEVELS}
    family = FieldModel(dict(flat_family), dict(flat_family))
    return ModelParameters(fields=flat, family=family)


@lru_cache(maxsize=4)
def _load(path: Path, mtime: float) -> ModelParameters:
    return ModelParameters.from_json(path.read_text("utf-8"))


def load_parameters(path: Path = MODEL_PATH) -> ModelParameters:
    """The trained model (re-read when the file changes)."""
    return _load(path, path.stat().st_mtime)


def log2_prior_odds(parameters: ModelParameters, left_size: int, right_size: int) -> float:
    """log2 odds that a random pair matches: expected links over all pairs."""
    pairs = max(left_size, 1) * max(right_size, 1)
    expected = parameters.expected_overlap * max(min(left_size, right_size), 1)
    share = min(expected / pairs, 0.5)
    return math.log2(share / (1 - share))
